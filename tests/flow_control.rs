//! A client whose application stops consuming does not grow without bound:
//! past a high-water mark it stops reading its socket (TCP pushes back),
//! and once the application catches up every message arrives, in order.
//! Receive mode (MQTTClient_receive) and callbacks (the dispatcher queue).

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferromq::broker::BrokerConfig;
use ferromq::broker::server::Server;
use ferromq::client::sync::{Callbacks, Client, ConnectOptions, CreateOptions, Message};
use ferromq::protocol::codec::{Properties, QoS, SubscriptionOptions};

/// Messages published; far more than the client may hold (1,024 waiting,
/// plus what one socket read brings in).
const COUNT: usize = 30_000;
/// The most the client may hold: the high-water mark plus one 64 KiB read
/// of these small messages.
const BOUND: usize = 1024 + 64 * 1024 / 20;

fn opts() -> ConnectOptions {
    support::connect_options(4)
}

fn broker() -> (Server, String) {
    let mut config = BrokerConfig::default();
    // The broker holds what the client does not read yet (its own flow
    // control is another issue's): make room for all of it.
    config.limits.max_queued = 1_000_000;
    let mut b = Server::new(config, vec!["127.0.0.1:0".into()], None).unwrap();
    b.start().unwrap();
    let uri = format!("tcp://127.0.0.1:{}", b.ports()[0]);
    (b, uri)
}

fn publish_all(uri: &str, topic: &str) {
    let p = Client::new(uri, &format!("{topic}-pub"), CreateOptions::default()).unwrap();
    p.connect(opts()).unwrap();
    for i in 0..COUNT {
        p.publish(
            topic,
            Bytes::from(format!("{i}")),
            QoS::AtLeastOnce,
            false,
            Properties::default(),
        )
        .unwrap();
    }
    p.disconnect(
        Duration::from_secs(30),
        Default::default(),
        Properties::default(),
    )
    .unwrap();
}

/// Watch how many messages the client holds: wait (at most 30 s) until it
/// holds at least `n`, then keep watching for half a second, in which an
/// unbounded client would read the rest of the 30,000 (it reads well over
/// 100,000 a second here). Returns the most it held. This watches for
/// growth that must not happen; no result depends on the timing.
fn most_queued(c: &Client, n: usize) -> usize {
    let until = Instant::now() + Duration::from_secs(30);
    let mut most = c.queued_messages();
    while most < n && Instant::now() < until {
        std::thread::park_timeout(Duration::from_millis(5));
        most = most.max(c.queued_messages());
    }
    let watch = Instant::now() + Duration::from_millis(500);
    while Instant::now() < watch {
        std::thread::park_timeout(Duration::from_millis(5));
        most = most.max(c.queued_messages());
    }
    most
}

#[test]
fn receive_mode_inbox_is_bounded() {
    let (_broker, uri) = broker();
    let c = Client::new(&uri, "slow-receiver", CreateOptions::default()).unwrap();
    c.connect(opts()).unwrap();
    let sub = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    c.subscribe_many(vec![("flow/receive".into(), sub)], Properties::default())
        .unwrap();
    publish_all(&uri, "flow/receive");
    // Everything is published and acknowledged; the receiver has taken
    // nothing. It holds what it read before it paused, no more.
    let held = most_queued(&c, 1024);
    assert!(held >= 1024, "the client read only {held} messages");
    assert!(
        held <= BOUND,
        "the client holds {held} messages (bound {BOUND})"
    );
    for i in 0..COUNT {
        let (topic, m) = c
            .receive(Duration::from_secs(10))
            .unwrap()
            .unwrap_or_else(|| panic!("message {i} did not arrive"));
        assert_eq!(topic, "flow/receive");
        assert_eq!(m.payload, Bytes::from(format!("{i}")), "in order");
        assert!(c.queued_messages() <= BOUND);
    }
}

/// A messageArrived that blocks until the test lets it go.
struct Gate {
    open: Arc<Mutex<mpsc::Receiver<()>>>,
    got: Mutex<mpsc::Sender<String>>,
}

impl Callbacks for Gate {
    fn connection_lost(&self, _cause: Option<&str>) {}
    fn message_arrived(&self, _topic: &str, m: &Message) -> bool {
        let text = String::from_utf8_lossy(&m.payload).to_string();
        if text == "0" {
            // The first message waits for the test's go.
            let _ = self
                .open
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(60));
        }
        let _ = self.got.lock().unwrap().send(text);
        true
    }
    fn delivery_complete(&self, _token: i32) {}
}

#[test]
fn callback_queue_is_bounded() {
    let (_broker, uri) = broker();
    let c = Client::new(&uri, "slow-callback", CreateOptions::default()).unwrap();
    let (go_tx, go_rx) = mpsc::channel();
    let (got_tx, got_rx) = mpsc::channel();
    c.set_callbacks(Some(Box::new(Gate {
        open: Arc::new(Mutex::new(go_rx)),
        got: Mutex::new(got_tx),
    })))
    .unwrap();
    c.connect(opts()).unwrap();
    let sub = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    c.subscribe_many(vec![("flow/callback".into(), sub)], Properties::default())
        .unwrap();
    publish_all(&uri, "flow/callback");
    let held = most_queued(&c, 1024);
    assert!(held >= 1024, "the client read only {held} messages");
    assert!(
        held <= BOUND,
        "the client holds {held} messages (bound {BOUND})"
    );
    go_tx.send(()).unwrap();
    for i in 0..COUNT {
        let text = got_rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("message {i} did not arrive"));
        assert_eq!(text, format!("{i}"), "in order");
    }
    assert!(c.queued_messages() <= BOUND);
}

/// A messageArrived that, at each of `GATES`, waits until the reader has
/// filled the queue past the high-water mark (so reading pauses), then goes
/// on; it notes how many times the queue went past the high-water mark and
/// came back under the low one.
struct Slow {
    client: Arc<std::sync::OnceLock<std::sync::Weak<Client>>>,
    next: Mutex<usize>,
    state: Mutex<(bool, usize)>,
    done: Mutex<mpsc::Sender<Result<usize, String>>>,
}

/// Messages at which the callback holds until the client has paused.
const GATES: [usize; 5] = [0, 5_000, 10_000, 15_000, 20_000];

impl Slow {
    fn fail(&self, why: String) {
        let _ = self.done.lock().unwrap().send(Err(why));
    }
}

impl Callbacks for Slow {
    fn connection_lost(&self, _cause: Option<&str>) {}
    fn message_arrived(&self, _topic: &str, m: &Message) -> bool {
        let text = String::from_utf8_lossy(&m.payload).to_string();
        let mut next = self.next.lock().unwrap();
        if text != next.to_string() {
            self.fail(format!("got {text}, expected {next}"));
            return true;
        }
        let Some(c) = self.client.get().and_then(|w| w.upgrade()) else {
            return true;
        };
        // At a gate, unless reading is already paused (the queue passed the
        // high-water mark and has not yet drained to the low one), wait
        // (bounded) for the reader to fill the queue: it does so within
        // milliseconds, everything being published or already waiting.
        if GATES.contains(&*next) && !self.state.lock().unwrap().0 {
            let until = Instant::now() + Duration::from_secs(20);
            while c.queued_messages() <= 1024 {
                if Instant::now() > until {
                    self.fail(format!("the queue never filled at message {next}"));
                    return true;
                }
                std::thread::park_timeout(Duration::from_millis(1));
            }
        }
        *next += 1;
        let held = c.queued_messages();
        {
            let mut st = self.state.lock().unwrap();
            // The callback sees the length after taking one message, so a
            // queue that paused at 1,025 reads 1,024 here.
            if held >= 1024 {
                st.0 = true;
            } else if held <= 256 && st.0 {
                st.0 = false;
                st.1 += 1;
            }
        }
        if *next == COUNT {
            let cycles = self.state.lock().unwrap().1;
            let _ = self.done.lock().unwrap().send(Ok(cycles));
        }
        true
    }
    fn delivery_complete(&self, _token: i32) {}
}

/// Pausing and resuming many times while callbacks run loses nothing and
/// never stalls: the resume comes from the worker that drained the queue
/// while the reactor may be queueing more for the same client.
#[test]
fn repeated_pause_and_resume_completes() {
    let (_broker, uri) = broker();
    let c = Arc::new(Client::new(&uri, "bouncing", CreateOptions::default()).unwrap());
    let slot = Arc::new(std::sync::OnceLock::new());
    slot.set(Arc::downgrade(&c)).unwrap();
    let (tx, rx) = mpsc::channel();
    c.set_callbacks(Some(Box::new(Slow {
        client: slot,
        next: Mutex::new(0),
        state: Mutex::new((false, 0)),
        done: Mutex::new(tx),
    })))
    .unwrap();
    c.connect(opts()).unwrap();
    let sub = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        ..Default::default()
    };
    c.subscribe_many(vec![("flow/bounce".into(), sub)], Properties::default())
        .unwrap();
    let publisher = {
        let uri = uri.clone();
        std::thread::spawn(move || publish_all(&uri, "flow/bounce"))
    };
    let cycles = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("not every message arrived within 60 s: reading stalled")
        .unwrap_or_else(|e| panic!("{e}"));
    publisher.join().unwrap();
    // Each gate filled the queue; each time it drained to the low-water
    // mark before reading resumed (while paused, nothing refills it).
    assert!(
        cycles >= GATES.len(),
        "the queue filled and drained only {cycles} times for {} gates",
        GATES.len()
    );
}
