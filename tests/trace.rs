//! Tracing as Paho users know it: MQTT_C_CLIENT_TRACE (a file name here)
//! and MQTT_C_CLIENT_TRACE_LEVEL, read when the first client is created,
//! and the trace callback, which never runs on the reactor thread, so it may
//! call the client API. One test in its own process: tracing is global.

mod support;

use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ferromq::broker::BrokerConfig;
use ferromq::broker::server::Server;
use ferromq::client::sync::{Client, CreateOptions};
use ferromq::client::trace;
use ferromq::protocol::codec::Properties;

#[derive(Default)]
struct Seen {
    lines: Mutex<Vec<(i32, String, String, bool)>>,
    cond: Condvar,
}

impl Seen {
    fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        let mut g = self.lines.lock().unwrap();
        loop {
            if g.iter().any(|l| l.1.contains(needle)) {
                return true;
            }
            let now = Instant::now();
            if now >= until {
                return false;
            }
            g = self.cond.wait_timeout(g, until - now).unwrap().0;
        }
    }
}

#[test]
fn trace_file_level_and_callback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("trace.log");
    // SAFETY: set before any other thread of this test process reads the
    // environment (this binary holds this one test).
    unsafe {
        std::env::set_var("MQTT_C_CLIENT_TRACE", &file);
        std::env::set_var("MQTT_C_CLIENT_TRACE_LEVEL", "PROTOCOL");
    }
    let mut broker =
        Server::new(BrokerConfig::default(), vec!["127.0.0.1:0".into()], None).unwrap();
    broker.start().unwrap();
    let uri = format!("tcp://127.0.0.1:{}", broker.ports()[0]);

    let seen = Arc::new(Seen::default());
    let client: Arc<OnceLock<Arc<Client>>> = Arc::new(OnceLock::new());
    let (s, c) = (seen.clone(), client.clone());
    trace::set_callback(Some(Box::new(move |level, line| {
        let thread = std::thread::current().name().unwrap_or("").to_string();
        // Any API call is allowed here: no client lock is held.
        let connected = c.get().map(|c| c.is_connected()).unwrap_or(false);
        s.lines
            .lock()
            .unwrap()
            .push((level, line.to_string(), thread, connected));
        s.cond.notify_all();
    })));

    let c = Arc::new(Client::new(&uri, "tracer", CreateOptions::default()).unwrap());
    let _ = client.set(c.clone());
    let opts = support::connect_options(4);
    c.connect(opts).expect("connect");
    assert!(
        seen.wait_for("CONNACK", Duration::from_secs(10)),
        "no CONNACK trace line"
    );
    c.disconnect(
        Duration::from_secs(1),
        Default::default(),
        Properties::default(),
    )
    .unwrap();
    trace::set_callback(None);

    let lines = seen.lines.lock().unwrap().clone();
    assert!(lines.iter().all(|l| l.0 >= trace::PROTOCOL), "{lines:?}");
    assert!(
        lines.iter().all(|l| l.2 != "ferromq-reactor"),
        "a trace line was delivered on the reactor thread: {lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.1.contains("CONNACK") && l.3),
        "the callback saw the client connected through the API: {lines:?}"
    );
    // The file named by MQTT_C_CLIENT_TRACE has the same lines (each line
    // is written there before the callback sees it).
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(text.contains("CONNACK"), "trace file:\n{text}");
    let first = text.lines().next().unwrap_or("");
    assert!(
        first.len() > 20 && first.as_bytes()[..8].iter().all(u8::is_ascii_digit),
        "lines start with a YYYYMMDD timestamp: {first:?}"
    );
    broker.stop().expect("stop broker");
}
