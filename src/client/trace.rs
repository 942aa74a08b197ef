//! Trace output: a process-wide level and callback, as Paho's
//! MQTTClient_setTraceCallback/setTraceLevel, and Paho's environment
//! variables MQTT_C_CLIENT_TRACE (ON for stdout, or a file name) and
//! MQTT_C_CLIENT_TRACE_LEVEL. Lines are queued and delivered on the shared
//! dispatcher, so the callback never runs on the reactor thread or under a
//! client's lock, and a slow callback costs dropped lines, not memory.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once, RwLock};

use super::dispatch::{Dispatch, Dispatcher, Registry};

/// Paho trace levels (MQTTCLIENT_TRACE_MAXIMUM = 1 … MQTTCLIENT_TRACE_FATAL = 7).
pub type TraceLevel = i32;

/// MQTTCLIENT_TRACE_MAXIMUM.
pub const MAXIMUM: TraceLevel = 1;
/// MQTTCLIENT_TRACE_MEDIUM.
pub const MEDIUM: TraceLevel = 2;
/// MQTTCLIENT_TRACE_MINIMUM.
pub const MINIMUM: TraceLevel = 3;
/// MQTTCLIENT_TRACE_PROTOCOL.
pub const PROTOCOL: TraceLevel = 4;
/// MQTTCLIENT_TRACE_ERROR.
pub const ERROR: TraceLevel = 5;
/// MQTTCLIENT_TRACE_SEVERE.
pub const SEVERE: TraceLevel = 6;
/// MQTTCLIENT_TRACE_FATAL.
pub const FATAL: TraceLevel = 7;

/// The callback receives a level and one line of text.
pub type TraceFn = Box<dyn Fn(TraceLevel, &str) + Send + Sync>;

static LEVEL: AtomicI32 = AtomicI32::new(PROTOCOL);
static CALLBACK: RwLock<Option<Arc<TraceFn>>> = RwLock::new(None);
static HAS_CALLBACK: AtomicBool = AtomicBool::new(false);
/// `MQTT_C_CLIENT_TRACE`: ON (stdout) or a file name.
static SINK: Mutex<Option<Box<dyn Write + Send>>> = Mutex::new(None);
static HAS_SINK: AtomicBool = AtomicBool::new(false);
/// Lines dropped because delivery fell behind.
static DROPPED: AtomicU64 = AtomicU64::new(0);
static ENV: Once = Once::new();

/// Lines waiting beyond this are dropped (and counted), so a slow trace
/// callback never makes the library grow.
const MAX_WAITING: usize = 4096;

/// The serial queue that delivers trace lines (on the shared dispatcher:
/// never on the reactor thread, never under a client's lock). Made anew in
/// a forked child.
static QUEUE: Mutex<Option<(u32, Dispatcher)>> = Mutex::new(None);

/// Read `MQTT_C_CLIENT_TRACE` and `MQTT_C_CLIENT_TRACE_LEVEL` once, as Paho
/// does when its first client is created.
pub fn init_from_env() {
    ENV.call_once(|| {
        if let Ok(level) = std::env::var("MQTT_C_CLIENT_TRACE_LEVEL")
            && let Some(l) = level_named(&level)
        {
            set_level(l);
        }
        let Ok(dest) = std::env::var("MQTT_C_CLIENT_TRACE") else {
            return;
        };
        let sink: Option<Box<dyn Write + Send>> = if dest.eq_ignore_ascii_case("ON") {
            Some(Box::new(std::io::stdout()))
        } else if dest.is_empty() {
            None
        } else {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&dest)
                .ok()
                .map(|f| Box::new(f) as Box<dyn Write + Send>)
        };
        if let Some(s) = sink {
            *SINK.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
            HAS_SINK.store(true, Ordering::Release);
            if std::env::var("MQTT_C_CLIENT_TRACE_LEVEL").is_err() {
                // Paho traces at MINIMUM when only the destination is set.
                set_level(MINIMUM);
            }
        }
    });
}

/// Paho's level names (as MQTT_C_CLIENT_TRACE_LEVEL takes them).
pub fn level_named(name: &str) -> Option<TraceLevel> {
    Some(match name.trim().to_ascii_uppercase().as_str() {
        "MAXIMUM" | "TRACE_MAXIMUM" => MAXIMUM,
        "MEDIUM" | "TRACE_MEDIUM" => MEDIUM,
        "MINIMUM" | "TRACE_MINIMUM" => MINIMUM,
        "PROTOCOL" | "TRACE_PROTOCOL" => PROTOCOL,
        "ERROR" | "LOG_ERROR" => ERROR,
        "SEVERE" | "LOG_SEVERE" => SEVERE,
        "FATAL" | "LOG_FATAL" => FATAL,
        _ => return None,
    })
}

/// Set the level at or above which lines are delivered.
pub fn set_level(level: TraceLevel) {
    LEVEL.store(level, Ordering::Relaxed);
}

/// Set (or clear with `None`) the trace callback.
pub fn set_callback(cb: Option<TraceFn>) {
    let mut slot = CALLBACK.write().unwrap_or_else(|e| e.into_inner());
    HAS_CALLBACK.store(cb.is_some(), Ordering::Release);
    *slot = cb.map(Arc::new);
}

/// True when a line at `level` would be delivered (cheap; check before formatting).
pub fn enabled(level: TraceLevel) -> bool {
    (HAS_CALLBACK.load(Ordering::Acquire) || HAS_SINK.load(Ordering::Acquire))
        && level >= LEVEL.load(Ordering::Relaxed)
}

/// Lines dropped so far because delivery fell behind.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Queue one line at `level` for delivery, if enabled.
pub fn emit(level: TraceLevel, line: &str) {
    if !enabled(level) {
        return;
    }
    let stamped = format!("{} {line}", timestamp());
    let mut q = QUEUE.lock().unwrap_or_else(|e| e.into_inner());
    let pid = std::process::id();
    if q.as_ref().is_none_or(|(p, _)| *p != pid) {
        if let Some(old) = q.take() {
            // The parent's queue (after fork): never touch it again.
            std::mem::forget(old);
        }
        match Dispatcher::start(Arc::new(Registry::default())) {
            Ok(d) => *q = Some((pid, d)),
            Err(_) => return,
        }
    }
    let Some((_, d)) = q.as_ref() else { return };
    if d.len() >= MAX_WAITING {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    d.push(Dispatch::Run(Box::new(move || deliver(level, &stamped))));
}

/// On the trace queue's worker: the file or stdout, then the callback.
fn deliver(level: TraceLevel, line: &str) {
    if HAS_SINK.load(Ordering::Acquire) {
        let mut sink = SINK.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = sink.as_mut() {
            let _ = writeln!(w, "{line}");
            let _ = w.flush();
        }
    }
    let cb = CALLBACK
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .cloned();
    if let Some(cb) = cb {
        cb(level, line);
    }
}

/// UTC wall-clock time as Paho prints it: YYYYMMDD HHMMSS.mmm.
fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86400, secs % 86400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}{m:02}{d:02} {:02}{:02}{:02}.{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `trace!(LEVEL, "fmt", args)`: format only when the line will be delivered.
macro_rules! trace {
    ($level:expr, $($arg:tt)*) => {
        if $crate::client::trace::enabled($level) {
            $crate::client::trace::emit($level, &format!($($arg)*));
        }
    };
}
pub(crate) use trace;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_and_dates() {
        assert_eq!(level_named("maximum"), Some(MAXIMUM));
        assert_eq!(level_named("PROTOCOL"), Some(PROTOCOL));
        assert_eq!(level_named("nonsense"), None);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_794), (2026, 12, 7));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
