//! The Rust asynchronous client (the layer under MQTTAsync): completions on
//! the dispatcher thread, API calls from inside callbacks, automatic
//! reconnect with the offline buffer across a broker restart.

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ferromq::broker::BrokerConfig;
use ferromq::broker::server::Server;
use ferromq::client::r#async::{AsyncClient, AsyncConnectOptions, AsyncCreateOptions};
use ferromq::client::error::ClientError;
use ferromq::client::pending::Success;
use ferromq::client::sync::{Callbacks, ConnectOptions, Message};
use ferromq::protocol::codec::{Properties, QoS, ReasonCode, SubscriptionOptions};

fn connect_opts(clean: bool, auto: bool) -> AsyncConnectOptions {
    AsyncConnectOptions {
        base: ConnectOptions {
            keep_alive: Duration::from_secs(20),
            clean_session: clean,
            clean_start: clean,
            max_inflight: 10,
            ..support::connect_options(4)
        },
        automatic_reconnect: auto,
        min_retry_interval: Duration::from_millis(100),
        max_retry_interval: Duration::from_millis(400),
    }
}

/// Forwards arrived messages to a channel.
struct Collect(Mutex<mpsc::Sender<(String, Vec<u8>)>>);

impl Callbacks for Collect {
    fn connection_lost(&self, _cause: Option<&str>) {}
    fn message_arrived(&self, topic: &str, m: &Message) -> bool {
        let _ = self
            .0
            .lock()
            .unwrap()
            .send((topic.to_string(), m.payload.to_vec()));
        true
    }
    fn delivery_complete(&self, _token: i32) {}
}

/// Signals connection loss on a channel.
struct Lost(Mutex<mpsc::Sender<()>>);

impl Callbacks for Lost {
    fn connection_lost(&self, _cause: Option<&str>) {
        let _ = self.0.lock().unwrap().send(());
    }
    fn message_arrived(&self, _topic: &str, _m: &Message) -> bool {
        true
    }
    fn delivery_complete(&self, _token: i32) {}
}

fn sub_opts(qos: QoS) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        ..Default::default()
    }
}

#[test]
fn subscribe_from_on_connect_and_receive_in_order() {
    let mut broker =
        Server::new(BrokerConfig::default(), vec!["127.0.0.1:0".into()], None).unwrap();
    broker.start().unwrap();
    let uri = format!("tcp://127.0.0.1:{}", broker.ports()[0]);

    let client =
        Arc::new(AsyncClient::new(&uri, "async-sub", AsyncCreateOptions::default()).unwrap());
    let (tx, rx) = mpsc::channel();
    client
        .set_callbacks(Some(Box::new(Collect(Mutex::new(tx)))))
        .unwrap();
    let (subscribed_tx, subscribed_rx) = mpsc::channel();
    let c2 = client.clone();
    client
        .connect(
            connect_opts(true, false),
            Some(Box::new(move |_tok, res| {
                assert!(matches!(res, Ok(Success::Connect { .. })));
                // An API call from inside a completion callback.
                let tx = subscribed_tx.clone();
                c2.subscribe_many(
                    vec![("async/order".into(), sub_opts(QoS::AtLeastOnce))],
                    Properties::default(),
                    Some(Box::new(move |_t, r| {
                        let _ = tx.send(r.map(|s| match s {
                            Success::Ack(a) => a.codes,
                            _ => vec![],
                        }));
                    })),
                )
                .unwrap();
            })),
        )
        .unwrap();
    let granted = subscribed_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("subscribe completion")
        .unwrap();
    assert_eq!(granted, vec![ReasonCode(1)]);

    let publisher = AsyncClient::new(&uri, "async-pub", AsyncCreateOptions::default()).unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    publisher
        .connect(
            connect_opts(true, false),
            Some(Box::new(move |_, r| done_tx.send(r.is_ok()).unwrap())),
        )
        .unwrap();
    assert!(done_rx.recv_timeout(Duration::from_secs(5)).unwrap());
    // More than the in-flight window (10): the rest queue and go in order.
    let mut last = 0;
    for i in 0..100u32 {
        last = publisher
            .send(
                "async/order",
                Bytes::from(i.to_be_bytes().to_vec()),
                QoS::AtLeastOnce,
                false,
                Properties::default(),
                None,
            )
            .unwrap();
    }
    publisher
        .wait_for_completion(last, Duration::from_secs(10))
        .unwrap();
    assert!(publisher.pending_tokens().is_empty());
    for i in 0..100u32 {
        let (t, p) = rx.recv_timeout(Duration::from_secs(5)).expect("message");
        assert_eq!(t, "async/order");
        assert_eq!(p, i.to_be_bytes().to_vec(), "message {i} out of order");
    }
}

#[test]
fn offline_buffer_survives_broker_restart() {
    let port = support::free_port();
    let listen = vec![format!("127.0.0.1:{port}")];
    let mut broker = Server::new(BrokerConfig::default(), listen, None).unwrap();
    broker.start().unwrap();
    let uri = format!("tcp://127.0.0.1:{port}");

    // A persistent subscriber: its session (and queued QoS 1) survives.
    let sub = AsyncClient::new(&uri, "restart-sub", AsyncCreateOptions::default()).unwrap();
    let (tx, rx) = mpsc::channel();
    sub.set_callbacks(Some(Box::new(Collect(Mutex::new(tx)))))
        .unwrap();
    let (ok_tx, ok_rx) = mpsc::channel();
    sub.connect(
        connect_opts(false, true),
        Some(Box::new(move |_, r| ok_tx.send(r.is_ok()).unwrap())),
    )
    .unwrap();
    assert!(ok_rx.recv_timeout(Duration::from_secs(5)).unwrap());
    let (s_tx, s_rx) = mpsc::channel();
    sub.subscribe_many(
        vec![("restart/q".into(), sub_opts(QoS::AtLeastOnce))],
        Properties::default(),
        Some(Box::new(move |_, r| s_tx.send(r.is_ok()).unwrap())),
    )
    .unwrap();
    assert!(s_rx.recv_timeout(Duration::from_secs(5)).unwrap());

    let opts = AsyncCreateOptions {
        send_while_disconnected: true,
        max_buffered: 1000,
        ..Default::default()
    };
    let publ = AsyncClient::new(&uri, "restart-pub", opts).unwrap();
    let (reconn_tx, reconn_rx) = mpsc::channel();
    publ.set_connected(Some(Box::new(move |cause| {
        let _ = reconn_tx.send(cause.to_string());
    })));
    let (lost_tx, lost_rx) = mpsc::channel();
    publ.set_callbacks(Some(Box::new(Lost(Mutex::new(lost_tx)))))
        .unwrap();
    publ.connect(connect_opts(true, true), None).unwrap();
    assert_eq!(
        reconn_rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        "connect onSuccess called"
    );

    let send = |i: u32| {
        publ.send(
            "restart/q",
            Bytes::from(i.to_be_bytes().to_vec()),
            QoS::AtLeastOnce,
            false,
            Properties::default(),
            None,
        )
    };
    for i in 0..50 {
        send(i).unwrap();
    }
    broker.stop().unwrap();
    lost_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("connection loss noticed");
    assert!(!publ.is_connected());
    for i in 50..150 {
        send(i).unwrap();
    }
    broker.start().unwrap();
    assert_eq!(
        reconn_rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        "automatic reconnect"
    );
    // QoS 1 is at least once: messages in flight when the broker stopped
    // may come again after the restart. Every message must come, and the
    // first arrival of each must be in publish order.
    let mut seen = std::collections::HashSet::new();
    let mut first_arrivals = Vec::new();
    while first_arrivals.len() < 150 {
        let (_, p) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("every message arrives");
        let n = u32::from_be_bytes(p.try_into().unwrap());
        if seen.insert(n) {
            first_arrivals.push(n);
        }
    }
    assert_eq!(
        first_arrivals,
        (0..150).collect::<Vec<_>>(),
        "nothing lost, order kept"
    );
}

/// A QoS 1 publish of nothing to "t".
fn send_empty(c: &AsyncClient) -> Result<i32, ClientError> {
    c.send(
        "t",
        Bytes::new(),
        QoS::AtLeastOnce,
        false,
        Properties::default(),
        None,
    )
}

#[test]
fn buffer_limit_and_disconnected_errors() {
    let port = support::free_port();
    let uri = format!("tcp://127.0.0.1:{port}");
    let plain = AsyncClient::new(&uri, "nobuf", AsyncCreateOptions::default()).unwrap();
    assert_eq!(send_empty(&plain).err(), Some(ClientError::Disconnected));
    let opts = AsyncCreateOptions {
        send_while_disconnected: true,
        allow_disconnected_send_at_any_time: true,
        max_buffered: 2,
        ..Default::default()
    };
    let c = AsyncClient::new(&uri, "buf", opts.clone()).unwrap();
    let a = send_empty(&c).unwrap();
    let b = send_empty(&c).unwrap();
    assert_ne!(a, b);
    assert_eq!(c.pending_tokens(), vec![a, b]);
    assert_eq!(send_empty(&c).err(), Some(ClientError::MaxBufferedMessages));
    let del = AsyncCreateOptions {
        delete_oldest: true,
        ..opts
    };
    let d = AsyncClient::new(&uri, "buf-del", del).unwrap();
    let first = send_empty(&d).unwrap();
    send_empty(&d).unwrap();
    send_empty(&d).unwrap();
    assert_eq!(d.pending_tokens().len(), 2);
    assert!(d.is_complete(first), "the oldest was deleted");
}

/// A messageArrived that blocks (until the test lets it go) delays only its
/// own client: the shared dispatcher adds a worker when every worker is
/// stuck, so another client's callbacks still run.
#[test]
fn a_blocking_callback_delays_only_its_own_client() {
    struct Blocker(Mutex<mpsc::Receiver<()>>, Mutex<mpsc::Sender<()>>);
    impl Callbacks for Blocker {
        fn connection_lost(&self, _cause: Option<&str>) {}
        fn message_arrived(&self, _topic: &str, _m: &Message) -> bool {
            let _ = self.1.lock().unwrap().send(());
            let _ = self.0.lock().unwrap().recv_timeout(Duration::from_secs(30));
            true
        }
        fn delivery_complete(&self, _token: i32) {}
    }
    let mut broker =
        Server::new(BrokerConfig::default(), vec!["127.0.0.1:0".into()], None).unwrap();
    broker.start().unwrap();
    let uri = format!("tcp://127.0.0.1:{}", broker.ports()[0]);
    let connect = |c: &AsyncClient, filter: &str| {
        let (tx, rx) = mpsc::channel();
        let filter = filter.to_string();
        c.connect(
            connect_opts(true, false),
            Some(Box::new(move |_, r| tx.send(r.is_ok()).unwrap())),
        )
        .unwrap();
        assert!(rx.recv_timeout(Duration::from_secs(5)).unwrap());
        let (tx, rx) = mpsc::channel();
        c.subscribe_many(
            vec![(filter, sub_opts(QoS::AtLeastOnce))],
            Properties::default(),
            Some(Box::new(move |_, r| tx.send(r.is_ok()).unwrap())),
        )
        .unwrap();
        assert!(rx.recv_timeout(Duration::from_secs(5)).unwrap());
    };
    let (release_tx, release_rx) = mpsc::channel();
    let (entered_tx, entered_rx) = mpsc::channel();
    let stuck = AsyncClient::new(&uri, "stuck", AsyncCreateOptions::default()).unwrap();
    stuck
        .set_callbacks(Some(Box::new(Blocker(
            Mutex::new(release_rx),
            Mutex::new(entered_tx),
        ))))
        .unwrap();
    connect(&stuck, "block/stuck");
    let (tx, rx) = mpsc::channel();
    let free = AsyncClient::new(&uri, "free", AsyncCreateOptions::default()).unwrap();
    free.set_callbacks(Some(Box::new(Collect(Mutex::new(tx)))))
        .unwrap();
    connect(&free, "block/free");

    let send = |topic: &str| {
        stuck
            .send(
                topic,
                Bytes::from_static(b"x"),
                QoS::AtLeastOnce,
                false,
                Properties::default(),
                None,
            )
            .unwrap()
    };
    send("block/stuck");
    entered_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the blocking callback runs");
    // Every message to the free client arrives while the other is stuck.
    for _ in 0..5 {
        send("block/free");
        let (t, _) = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the free client's callback runs while another blocks");
        assert_eq!(t, "block/free");
    }
    assert!(ferromq::client::dispatch::worker_count() >= 2);
    release_tx.send(()).unwrap();
}

/// MQTTAsync_reconnect works without automaticReconnect (as Paho's), and
/// getPendingTokens lists what was buffered while disconnected, QoS 0 too.
#[test]
fn reconnect_without_automatic_reconnect_and_pending_tokens() {
    let port = support::free_port();
    let listen = vec![format!("127.0.0.1:{port}")];
    let mut broker = Server::new(BrokerConfig::default(), listen.clone(), None).unwrap();
    broker.start().unwrap();
    let uri = format!("tcp://127.0.0.1:{port}");
    let c = AsyncClient::new(
        &uri,
        "manual-reconnect",
        AsyncCreateOptions {
            send_while_disconnected: true,
            ..Default::default()
        },
    )
    .unwrap();
    let (lost_tx, lost_rx) = mpsc::channel();
    c.set_callbacks(Some(Box::new(Lost(Mutex::new(lost_tx)))))
        .unwrap();
    let (conn_tx, conn_rx) = mpsc::channel::<String>();
    let conn_tx = Mutex::new(conn_tx);
    c.set_connected(Some(Box::new(move |cause| {
        let _ = conn_tx.lock().unwrap().send(cause.to_string());
    })));
    assert_eq!(
        c.reconnect(),
        Err(ClientError::Failure),
        "nothing to reconnect to yet"
    );
    c.connect(connect_opts(true, false), None).unwrap();
    conn_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("connected");

    broker.stop().unwrap();
    lost_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("connection lost");
    let t0 = c
        .send(
            "manual/t",
            Bytes::from_static(b"0"),
            QoS::AtMostOnce,
            false,
            Properties::default(),
            None,
        )
        .unwrap();
    let t1 = c
        .send(
            "manual/t",
            Bytes::from_static(b"1"),
            QoS::AtLeastOnce,
            false,
            Properties::default(),
            None,
        )
        .unwrap();
    assert_eq!(c.pending_tokens(), vec![t0, t1], "buffered, QoS 0 included");
    // No automatic reconnect: nothing happens until the application asks.
    assert!(conn_rx.recv_timeout(Duration::from_millis(300)).is_err());

    let mut broker = Server::new(BrokerConfig::default(), listen, None).unwrap();
    broker.start().unwrap();
    c.reconnect().unwrap();
    conn_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("reconnected");
    c.wait_for_completion(t1, Duration::from_secs(5)).unwrap();
    assert!(c.pending_tokens().is_empty());
    broker.stop().unwrap();
}
