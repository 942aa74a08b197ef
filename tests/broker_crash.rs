//! kill -9 of `ferromq broker` with persistence on, at random points of a
//! QoS 1 and a QoS 2 publisher stream with a durable subscriber (online in
//! some rounds, offline in others): after each restart on the same store and
//! port, every message whose PUBACK (QoS 1) or PUBCOMP (QoS 2) its publisher
//! got reaches the subscriber, every QoS 2 message exactly once, and the
//! retained message is still there.
//!
//! `FERROMQ_CRASH_ITERATIONS` (default 3; `make crashtest` runs 50) kills;
//! `FERROMQ_CRASH_SEED` replays a run (the seed is printed). What is
//! asserted does not depend on where the kills land.

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use ferromq::protocol::codec::{
    Connect, Packet, ProtocolVersion, PubResp, Publish, QoS, ReasonCode, Subscribe,
    SubscriptionOptions, decode, encode,
};
use support::FerroBroker;

const V: ProtocolVersion = ProtocolVersion::V311;
/// Publishes each publisher keeps unacknowledged.
const WINDOW: usize = 16;
const RETAINED: &str = "crash/retained";

/// What the clients saw, shared with the test thread.
#[derive(Default)]
struct State {
    /// Sequence numbers acknowledged to each publisher (index: QoS - 1).
    acked: [Vec<u64>; 2],
    /// Payloads the subscriber took delivery of, and how often.
    received: HashMap<String, u32>,
    acks_total: u64,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    cv: Condvar,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap());
        self.cv.notify_all();
    }

    /// Waits until `pred` holds; false at `deadline`.
    fn wait(&self, deadline: Instant, pred: impl Fn(&State) -> bool) -> bool {
        let mut s = self.state.lock().unwrap();
        loop {
            if pred(&s) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = self.cv.wait_timeout(s, left).unwrap().0;
        }
    }
}

/// A minimal MQTT connection whose errors are values (the broker dies
/// under it on purpose).
struct Conn {
    s: TcpStream,
    buf: BytesMut,
}

enum Got {
    Packet(Packet),
    Idle,
    Closed,
}

impl Conn {
    fn connect(port: u16, id: &str, clean: bool) -> Option<(Conn, bool)> {
        let s = TcpStream::connect(("127.0.0.1", port)).ok()?;
        s.set_nodelay(true).ok()?;
        let mut c = Conn {
            s,
            buf: BytesMut::new(),
        };
        c.send(&Packet::Connect(Box::new(Connect {
            protocol: V,
            client_id: id.into(),
            clean_start: clean,
            keep_alive: 60,
            ..Connect::default()
        })))
        .then_some(())?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match c.next() {
                Got::Packet(Packet::ConnAck(a)) if a.code == ReasonCode::SUCCESS => {
                    return Some((c, a.session_present));
                }
                Got::Idle => {}
                _ => return None,
            }
        }
        None
    }

    fn send(&mut self, p: &Packet) -> bool {
        let mut out = BytesMut::new();
        encode(p, V, &mut out).expect("encode");
        self.s.write_all(&out).is_ok()
    }

    /// The next packet, or Idle after 100 ms without one, or Closed.
    fn next(&mut self) -> Got {
        loop {
            match decode(&mut self.buf, V, 0) {
                Ok(Some(p)) => return Got::Packet(p),
                Ok(None) => {}
                Err(e) => panic!("malformed packet from the broker: {e:?}"),
            }
            self.s
                .set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            let mut tmp = [0u8; 8192];
            match self.s.read(&mut tmp) {
                Ok(0) => return Got::Closed,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Got::Idle;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Got::Closed,
            }
        }
    }
}

fn resp(packet_id: u16) -> PubResp {
    PubResp {
        packet_id,
        ..PubResp::default()
    }
}

fn publish(topic: &str, payload: String, qos: QoS, packet_id: u16, dup: bool) -> Packet {
    Packet::Publish(Publish {
        dup,
        qos,
        topic: topic.into(),
        packet_id,
        payload: Bytes::from(payload),
        ..Publish::default()
    })
}

/// A publisher's state across broker lives (as a durable client keeps it).
struct Publisher {
    qos: QoS,
    next_seq: u64,
    next_pid: u16,
    /// Unfinished publishes: packet id → (sequence number, PUBREC seen).
    outstanding: BTreeMap<u16, (u64, bool)>,
}

impl Publisher {
    fn topic(&self) -> String {
        format!("crash/{}", self.qos as u8)
    }

    /// One connection's worth: resend what is unfinished, then stream
    /// until the broker dies, or (with `stop`) until all is finished.
    fn run(&mut self, port: u16, shared: &Shared, stop: &AtomicBool) {
        let id = format!("pub{}", self.qos as u8);
        let Some((mut c, _)) = Conn::connect(port, &id, false) else {
            return;
        };
        let topic = self.topic();
        for (&pid, &(seq, rel)) in &self.outstanding {
            let p = match rel {
                true => Packet::PubRel(resp(pid)),
                false => publish(
                    &topic,
                    format!("{}:{seq}", self.qos as u8),
                    self.qos,
                    pid,
                    true,
                ),
            };
            if !c.send(&p) {
                return;
            }
        }
        loop {
            let stopping = stop.load(Ordering::Relaxed);
            while !stopping && self.outstanding.len() < WINDOW {
                let (seq, pid) = (self.next_seq, self.next_pid);
                self.next_seq += 1;
                self.next_pid = if pid == u16::MAX { 1 } else { pid + 1 };
                self.outstanding.insert(pid, (seq, false));
                let payload = format!("{}:{seq}", self.qos as u8);
                if !c.send(&publish(&topic, payload, self.qos, pid, false)) {
                    return;
                }
            }
            if stopping && self.outstanding.is_empty() {
                let _ = c.send(&Packet::Disconnect(Default::default()));
                return;
            }
            let (pid, done) = match c.next() {
                Got::Closed => return,
                Got::Idle => continue,
                Got::Packet(Packet::PubAck(r)) => (r.packet_id, true),
                Got::Packet(Packet::PubComp(r)) => (r.packet_id, true),
                Got::Packet(Packet::PubRec(r)) => (r.packet_id, false),
                Got::Packet(p) => panic!("publisher got {p:?}"),
            };
            if done {
                let Some((seq, _)) = self.outstanding.remove(&pid) else {
                    panic!("ack for unknown packet id {pid}");
                };
                let i = self.qos as usize - 1;
                shared.update(|s| {
                    s.acked[i].push(seq);
                    s.acks_total += 1;
                });
            } else {
                if let Some(o) = self.outstanding.get_mut(&pid) {
                    o.1 = true;
                }
                if !c.send(&Packet::PubRel(resp(pid))) {
                    return;
                }
            }
        }
    }
}

/// The durable subscriber's state across broker lives: QoS 2 ids whose
/// PUBREL it waits for (a PUBLISH with one of them is a duplicate).
#[derive(Default)]
struct Subscriber {
    subscribed: bool,
    awaiting_rel: HashSet<u16>,
}

impl Subscriber {
    fn run(&mut self, port: u16, shared: &Shared, stop: &AtomicBool) {
        let Some((mut c, present)) = Conn::connect(port, "sub", false) else {
            return;
        };
        if self.subscribed {
            assert!(present, "the durable session was lost");
        } else {
            let filters = [("crash/1", QoS::AtLeastOnce), ("crash/2", QoS::ExactlyOnce)]
                .iter()
                .map(|(f, qos)| {
                    let opts = SubscriptionOptions {
                        qos: *qos,
                        ..Default::default()
                    };
                    (f.to_string(), opts)
                })
                .collect();
            let sub = Subscribe {
                packet_id: 1,
                filters,
                ..Subscribe::default()
            };
            if !c.send(&Packet::Subscribe(sub)) {
                return;
            }
        }
        loop {
            let reply = match c.next() {
                Got::Closed => return,
                Got::Idle if stop.load(Ordering::Relaxed) => return,
                Got::Idle => continue,
                Got::Packet(Packet::SubAck(a)) => {
                    assert_eq!(a.codes, [ReasonCode(1), ReasonCode(2)]);
                    self.subscribed = true;
                    continue;
                }
                Got::Packet(Packet::Publish(p)) => {
                    let text = String::from_utf8_lossy(&p.payload).into_owned();
                    match p.qos {
                        QoS::AtMostOnce => panic!("QoS 0 delivery of {text}"),
                        QoS::AtLeastOnce => {
                            shared.update(|s| *s.received.entry(text).or_default() += 1);
                            Packet::PubAck(resp(p.packet_id))
                        }
                        QoS::ExactlyOnce => {
                            if self.awaiting_rel.insert(p.packet_id) {
                                shared.update(|s| *s.received.entry(text).or_default() += 1);
                            }
                            Packet::PubRec(resp(p.packet_id))
                        }
                    }
                }
                Got::Packet(Packet::PubRel(r)) => {
                    self.awaiting_rel.remove(&r.packet_id);
                    Packet::PubComp(resp(r.packet_id))
                }
                Got::Packet(p) => panic!("subscriber got {p:?}"),
            };
            if !c.send(&reply) {
                return;
            }
        }
    }
}

/// `ferromq broker` on the store in `dir`, on 127.0.0.1:`port` (0: any).
fn start(dir: &Path, port: u16) -> FerroBroker {
    let conf = dir.join("ferromq.conf");
    let text = format!(
        "persistence true\npersistence_location {}\nmax_queued_messages 1000000\n\
         max_queued_bytes 0\nconnection_messages false\n",
        dir.display()
    );
    std::fs::write(&conf, text).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferromq"));
    cmd.arg("broker")
        .arg("--config")
        .arg(&conf)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"));
    let mut b = FerroBroker::spawn(cmd, port, tempfile::tempdir().unwrap());
    const NEEDLE: &str = "listening on 127.0.0.1:";
    let Some(i) = b.log().wait_for_from(0, NEEDLE, Duration::from_secs(30)) else {
        let text = b.log().text();
        b.kill();
        panic!("ferromq broker did not start on the store; log:\n{text}");
    };
    let line = b.log().line(i).unwrap_or_default();
    b.port = line
        .rsplit_once(NEEDLE)
        .and_then(|(_, p)| p.trim().parse().ok())
        .expect("port in the log line");
    b
}

/// xorshift64*: enough randomness to pick kill points, replayable by seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// Runs the clients against one broker life; returns them when they are done.
fn round(
    port: u16,
    clients: (Publisher, Publisher, Option<Subscriber>),
    shared: &Arc<Shared>,
    stop: &Arc<AtomicBool>,
    sub_stop: &Arc<AtomicBool>,
) -> Vec<thread::JoinHandle<Client>> {
    let (p1, p2, sub) = clients;
    let mut handles = Vec::new();
    for mut p in [p1, p2] {
        let (shared, stop) = (shared.clone(), stop.clone());
        handles.push(thread::spawn(move || {
            p.run(port, &shared, &stop);
            Client::Pub(p)
        }));
    }
    if let Some(mut s) = sub {
        let (shared, stop) = (shared.clone(), sub_stop.clone());
        handles.push(thread::spawn(move || {
            s.run(port, &shared, &stop);
            Client::Sub(s)
        }));
    }
    handles
}

enum Client {
    Pub(Publisher),
    Sub(Subscriber),
}

#[test]
fn kill_9_loses_no_acknowledged_message() {
    let iterations: u64 = std::env::var("FERROMQ_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("FERROMQ_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("FERROMQ_CRASH_SEED={seed} FERROMQ_CRASH_ITERATIONS={iterations}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let shared = Arc::new(Shared::default());
    let mut broker = start(dir.path(), 0);
    let port = broker.port;

    // A retained message, acknowledged before the first kill.
    let (mut c, _) = Conn::connect(port, "retainer", true).expect("connect");
    let mut keep = publish(RETAINED, "keep".into(), QoS::AtLeastOnce, 1, false);
    if let Packet::Publish(p) = &mut keep {
        p.retain = true;
    }
    assert!(c.send(&keep));
    assert!(matches!(c.next(), Got::Packet(Packet::PubAck(_))));
    drop(c);

    let new_pub = |qos| Publisher {
        qos,
        next_seq: 0,
        next_pid: 1,
        outstanding: BTreeMap::new(),
    };
    let mut p1 = Some(new_pub(QoS::AtLeastOnce));
    let mut p2 = Some(new_pub(QoS::ExactlyOnce));
    // The durable subscription exists before anything is published.
    let mut sub = Subscriber::default();
    let never = Arc::new(AtomicBool::new(false));
    let once = Arc::new(AtomicBool::new(true));
    sub.run(port, &shared, &once);
    assert!(sub.subscribed, "SUBACK; log:\n{}", broker.log().text());
    for i in 0..iterations {
        let stop = Arc::new(AtomicBool::new(false));
        // The subscriber is offline in about one round of three.
        let online = rng.below(3) != 0;
        let sub_now = online.then(|| std::mem::take(&mut sub));
        let before = shared.state.lock().unwrap().acks_total;
        let target = before + 1 + rng.below(400);
        let pubs = (p1.take().unwrap(), p2.take().unwrap());
        let handles = round(port, (pubs.0, pubs.1, sub_now), &shared, &stop, &never);
        let reached = shared.wait(Instant::now() + Duration::from_secs(30), |s| {
            s.acks_total >= target
        });
        broker.kill();
        assert!(
            reached,
            "round {i}: the stream stalled; log:\n{}",
            broker.log().text()
        );
        for h in handles {
            match h.join().expect("client thread") {
                Client::Pub(p) if p.qos == QoS::AtLeastOnce => p1 = Some(p),
                Client::Pub(p) => p2 = Some(p),
                Client::Sub(s) => sub = s,
            }
        }
        broker = start(dir.path(), port);
        assert_eq!(broker.port, port, "restarted on the same port");
    }

    // Last life: everything unfinished completes and the subscriber drains.
    let stop = Arc::new(AtomicBool::new(true));
    let sub_stop = Arc::new(AtomicBool::new(false));
    let pubs = (p1.take().unwrap(), p2.take().unwrap());
    let handles = round(port, (pubs.0, pubs.1, Some(sub)), &shared, &stop, &sub_stop);
    let mut pubs_done = handles;
    let sub_handle = pubs_done.pop().unwrap();
    for h in pubs_done {
        h.join().expect("publisher thread");
    }
    let all_arrived = shared.wait(Instant::now() + Duration::from_secs(60), |s| {
        s.acked.iter().enumerate().all(|(i, seqs)| {
            seqs.iter()
                .all(|q| s.received.contains_key(&format!("{}:{q}", i + 1)))
        })
    });
    let log = broker.log().text();
    let state = shared.state.lock().unwrap();
    let missing: Vec<String> = state
        .acked
        .iter()
        .enumerate()
        .flat_map(|(i, seqs)| seqs.iter().map(move |q| format!("{}:{q}", i + 1)))
        .filter(|m| !state.received.contains_key(m))
        .take(20)
        .collect();
    assert!(
        all_arrived && missing.is_empty(),
        "acknowledged but never delivered (first 20): {missing:?}; seed {seed}; log:\n{log}"
    );
    let twice: Vec<_> = state
        .received
        .iter()
        .filter(|(m, n)| m.starts_with("2:") && **n > 1)
        .collect();
    assert!(
        twice.is_empty(),
        "QoS 2 delivered more than once: {twice:?}; seed {seed}"
    );
    assert!(state.acked[0].len() + state.acked[1].len() > iterations as usize);
    println!(
        "{} QoS 1 and {} QoS 2 messages acknowledged over {iterations} kills, all delivered",
        state.acked[0].len(),
        state.acked[1].len()
    );
    drop(state);
    sub_stop.store(true, Ordering::Relaxed);
    sub_handle.join().expect("subscriber thread");

    // The retained message outlived every kill.
    let (mut c, _) = Conn::connect(port, "late", true).expect("connect");
    let sub = Subscribe {
        packet_id: 1,
        filters: vec![(RETAINED.into(), SubscriptionOptions::default())],
        ..Subscribe::default()
    };
    assert!(c.send(&Packet::Subscribe(sub)));
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = None;
    while got.is_none() && Instant::now() < deadline {
        match c.next() {
            Got::Packet(Packet::Publish(p)) => got = Some(p),
            Got::Closed => break,
            _ => {}
        }
    }
    let p = got.expect("the retained message after the kills");
    assert!(p.retain && &p.payload[..] == b"keep", "{p:?}");
}

/// A store that is not one stops `ferromq broker` with an error naming the
/// file, which is left as it was.
#[test]
fn a_damaged_store_stops_the_broker_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ferromq.redb");
    std::fs::write(&file, vec![0x42u8; 8192]).unwrap();
    let conf = dir.path().join("ferromq.conf");
    let text = format!(
        "persistence true\npersistence_location {}\n",
        dir.path().display()
    );
    std::fs::write(&conf, text).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferromq"));
    cmd.arg("broker")
        .arg("--config")
        .arg(&conf)
        .arg("--listen")
        .arg("127.0.0.1:0");
    let out = support::run_with_timeout(cmd, 30);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "started on a damaged store: {stderr}"
    );
    assert!(
        stderr.contains(&file.display().to_string()),
        "the error names the file: {stderr}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), vec![0x42u8; 8192]);
}
