//! Trace output: a process-wide level and callback, as Paho's
//! MQTTClient_setTraceCallback/setTraceLevel.

/// Paho trace levels (MQTTCLIENT_TRACE_MAXIMUM = 1 … MQTTCLIENT_TRACE_FATAL = 7).
pub type TraceLevel = i32;

/// The callback receives a level and one line of text.
pub type TraceFn = Box<dyn Fn(TraceLevel, &str) + Send + Sync>;

/// Set the level at or above which lines are delivered.
pub fn set_level(level: TraceLevel) {
    let _ = level;
    todo!("client")
}

/// Set (or clear with `None`) the trace callback.
pub fn set_callback(cb: Option<TraceFn>) {
    let _ = cb;
    todo!("client")
}
