//! A panic on the reactor thread is contained: the process survives, every
//! client's waits end with an error code, later calls fail at once instead
//! of hanging, the trace says why, and a client made afterwards gets a new
//! reactor and works. (Its own process: the panic is process-wide.)

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferromq::client::r#async::{AsyncClient, AsyncConnectOptions, AsyncCreateOptions};
use ferromq::client::error::ClientError;
use ferromq::client::sync::{Client, ConnectOptions, CreateOptions};
use ferromq::client::trace;
use ferromq::protocol::codec::{Properties, QoS, SubscriptionOptions};
use support::FerroBroker;

fn opts() -> ConnectOptions {
    support::connect_options(4)
}

#[test]
fn a_reactor_panic_fails_everything_cleanly() {
    // The broker runs in its own process: it must outlive our reactor.
    let broker = FerroBroker::start(env!("CARGO_BIN_EXE_ferromq"), "");
    let uri = format!("tcp://127.0.0.1:{}", broker.port);
    let (trace_tx, trace_rx) = mpsc::channel::<String>();
    let trace_tx = Mutex::new(trace_tx);
    trace::set_callback(Some(Box::new(move |_level, line| {
        let _ = trace_tx.lock().unwrap().send(line.to_string());
    })));
    trace::set_level(trace::ERROR);

    let sub = Arc::new(Client::new(&uri, "panic-sub", CreateOptions::default()).unwrap());
    sub.connect(opts()).unwrap();
    let filter = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    sub.subscribe_many(vec![("panic/t".into(), filter)], Properties::default())
        .unwrap();
    let a = AsyncClient::new(&uri, "panic-async", AsyncCreateOptions::default()).unwrap();
    let (conn_tx, conn_rx) = mpsc::channel();
    a.connect(
        AsyncConnectOptions {
            base: opts(),
            automatic_reconnect: true,
            min_retry_interval: Duration::from_millis(100),
            max_retry_interval: Duration::from_millis(200),
        },
        Some(Box::new(move |_, r| {
            let _ = conn_tx.send(r.is_ok());
        })),
    )
    .unwrap();
    assert_eq!(conn_rx.recv_timeout(Duration::from_secs(10)), Ok(true));

    // A thread blocked in receive when the reactor goes.
    let s2 = sub.clone();
    let waiter = std::thread::spawn(move || {
        let started = Instant::now();
        let r = s2.receive(Duration::from_secs(30));
        (r.map(|m| m.is_some()), started.elapsed())
    });

    assert!(ferromq::reactor::after(Duration::ZERO, || {
        panic!("injected by the test")
    }));

    let (r, waited) = waiter.join().unwrap();
    assert_eq!(
        r,
        Err(ClientError::Disconnected),
        "the wait ends with an error"
    );
    assert!(
        waited < Duration::from_secs(10),
        "and promptly ({waited:?})"
    );
    assert!(!sub.is_connected());
    assert!(!a.is_connected());
    let t = Instant::now();
    assert!(
        sub.publish(
            "panic/t",
            Bytes::from_static(b"x"),
            QoS::AtLeastOnce,
            false,
            Properties::default()
        )
        .is_err()
    );
    assert!(
        a.send(
            "panic/t",
            Bytes::from_static(b"x"),
            QoS::AtLeastOnce,
            false,
            Properties::default(),
            None
        )
        .is_err()
    );
    assert!(sub.connect(opts()).is_err());
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "later calls fail at once"
    );
    let why = trace_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a trace line");
    assert!(why.contains("reactor thread panicked"), "{why}");
    assert!(why.contains("injected by the test"), "{why}");

    // A client made now gets a new reactor.
    let fresh = Client::new(&uri, "after-panic", CreateOptions::default()).unwrap();
    fresh.connect(opts()).expect("a new client connects");
    fresh
        .disconnect(
            Duration::from_secs(1),
            Default::default(),
            Properties::default(),
        )
        .unwrap();
    trace::set_callback(None);
}
