//! Trace output: a process-wide level and callback, as Paho's
//! MQTTClient_setTraceCallback/setTraceLevel.

use std::sync::RwLock;
use std::sync::atomic::{AtomicI32, Ordering};

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
static CALLBACK: RwLock<Option<TraceFn>> = RwLock::new(None);
static HAS_CALLBACK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Set the level at or above which lines are delivered.
pub fn set_level(level: TraceLevel) {
    LEVEL.store(level, Ordering::Relaxed);
}

/// Set (or clear with `None`) the trace callback.
pub fn set_callback(cb: Option<TraceFn>) {
    let mut slot = CALLBACK.write().unwrap_or_else(|e| e.into_inner());
    HAS_CALLBACK.store(cb.is_some(), Ordering::Release);
    *slot = cb;
}

/// True when a line at `level` would be delivered (cheap; check before formatting).
pub fn enabled(level: TraceLevel) -> bool {
    HAS_CALLBACK.load(Ordering::Acquire) && level >= LEVEL.load(Ordering::Relaxed)
}

/// Deliver one line at `level` if enabled.
pub fn emit(level: TraceLevel, line: &str) {
    if !enabled(level) {
        return;
    }
    let slot = CALLBACK.read().unwrap_or_else(|e| e.into_inner());
    if let Some(cb) = slot.as_ref() {
        cb(level, line);
    }
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
