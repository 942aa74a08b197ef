//! The broker command's log: lines with a readable timestamp (strftime
//! format, local time) to stderr, stdout, files and syslog, filtered by
//! type, as mosquitto's `log_dest`, `log_type`, `log_timestamp` and
//! `log_timestamp_format` say. Settings can be replaced live (SIGHUP).

use std::ffi::CString;
use std::fs::File;
use std::io::Write;
use std::sync::Mutex;
use std::time::SystemTime;

use ferromq::broker::config::mosquitto::{LogConf, LogDest, log_type};

pub use log_type::{ERROR, INFORMATION, NOTICE, WARNING};

struct State {
    conf: LogConf,
    files: Vec<File>,
    syslog_open: bool,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

unsafe extern "C" {
    /// POSIX: load the TZ setting (the libc crate does not declare it).
    fn tzset();
}

/// Use `conf` from now on (files are opened for appending). Errors name the
/// file that cannot be opened; the settings in force then stay.
pub fn configure(conf: &LogConf) -> Result<(), String> {
    let mut files = Vec::new();
    for d in &conf.dests {
        if let LogDest::File(p) = d {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| format!("log_dest file {}: {e}", p.display()))?;
            files.push(f);
        }
    }
    // SAFETY: tzset only reads the TZ environment variable into libc's
    // time zone state; localtime_r below relies on it being set.
    unsafe { tzset() };
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let syslog_open = state.as_ref().is_some_and(|s| s.syslog_open);
    *state = Some(State {
        conf: conf.clone(),
        files,
        syslog_open,
    });
    Ok(())
}

/// Whether connect and disconnect lines are wanted.
pub fn connection_messages() -> bool {
    let state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    state.as_ref().is_none_or(|s| s.conf.connection_messages)
}

/// Log one line of type `kind` (one of the `log_type` bits).
pub fn log(kind: u8, line: std::fmt::Arguments<'_>) {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let state = guard.get_or_insert_with(|| State {
        conf: LogConf::default(),
        files: Vec::new(),
        syslog_open: false,
    });
    if state.conf.types & kind == 0 {
        return;
    }
    let text = if state.conf.timestamp {
        format!(
            "{} {line}",
            timestamp(state.conf.timestamp_format.as_deref(), SystemTime::now())
        )
    } else {
        line.to_string()
    };
    let mut file = 0;
    for d in &state.conf.dests {
        match d {
            LogDest::Stderr => eprintln!("{text}"),
            LogDest::Stdout => println!("{text}"),
            LogDest::File(_) => {
                if let Some(f) = state.files.get_mut(file) {
                    let _ = writeln!(f, "{text}");
                }
                file += 1;
            }
            LogDest::Syslog => {
                if !state.syslog_open {
                    // SAFETY: the ident is a 'static C string; openlog keeps
                    // the pointer, which stays valid for the whole process.
                    unsafe { libc::openlog(c"ferromq".as_ptr(), libc::LOG_PID, libc::LOG_DAEMON) };
                    state.syslog_open = true;
                }
                let priority = match kind {
                    ERROR => libc::LOG_ERR,
                    WARNING => libc::LOG_WARNING,
                    NOTICE => libc::LOG_NOTICE,
                    INFORMATION => libc::LOG_INFO,
                    _ => libc::LOG_DEBUG,
                };
                let msg = CString::new(line.to_string().replace('\0', " ")).unwrap_or_default();
                // SAFETY: "%s" with one NUL-terminated string argument that
                // lives until the call returns.
                unsafe { libc::syslog(priority, c"%s".as_ptr(), msg.as_ptr()) };
            }
        }
    }
}

/// `at` in local time as `format` (strftime) says; without a format,
/// `YYYY-MM-DDTHH:MM:SS.mmm`.
pub fn timestamp(format: Option<&str>, at: SystemTime) -> String {
    let since = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    match format {
        Some(f) => strftime(f, since.as_secs() as i64),
        None => format!(
            "{}.{:03}",
            strftime("%Y-%m-%dT%H:%M:%S", since.as_secs() as i64),
            since.subsec_millis()
        ),
    }
}

fn strftime(format: &str, secs: i64) -> String {
    let Ok(cformat) = CString::new(format) else {
        return secs.to_string();
    };
    let t = secs as libc::time_t;
    // SAFETY: `tm` is plain data that localtime_r fills in completely.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to valid, exclusively borrowed locals.
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return secs.to_string();
    }
    let mut buf = [0u8; 512];
    // SAFETY: strftime writes at most `buf.len()` bytes into `buf` and reads
    // the NUL-terminated format and the initialised `tm`.
    let n = unsafe {
        libc::strftime(
            buf.as_mut_ptr().cast::<libc::c_char>(),
            buf.len(),
            cformat.as_ptr(),
            &tm,
        )
    };
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_readable() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let s = timestamp(None, at);
        assert_eq!(s.len(), "2023-11-14T22:13:20.123".len(), "{s}");
        assert!(s.ends_with(".123") && s.starts_with("2023-11-1"), "{s}");
        assert_eq!(timestamp(Some("%Y"), at), "2023");
        assert_eq!(timestamp(Some("%s"), at), "1700000000");
    }
}
