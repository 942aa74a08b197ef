//! `--mode retained`: one publisher stores `--messages` retained messages
//! (QoS `--qos`, `--window` unacknowledged at a time, topics spread over
//! 1,000 branches), then a fresh subscriber subscribes to the whole tree with
//! `#` and is timed until every message has arrived, then another subscribes
//! to exact topics one after another, each timed until its one message
//! arrives (the median of 25 is reported). Prints the
//! figures (and writes them with `--json`); a missing message fails the run.

use std::io;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferromq::protocol::codec::{Properties, SubscriptionOptions};
use ferromq::protocol::session::client::{Event, SessionError};
use mio::{Events, Poll, Token};

use super::args::Options;
use super::conn::{Conn, WRITE_HIGH_WATER, config};

/// Give up when nothing progresses for this long.
const STALL: Duration = Duration::from_secs(60);

/// Topic of message `i` under `root`.
fn topic(root: &str, i: u64) -> String {
    format!("{root}/{}/{}", i % 1000, i / 1000)
}

/// One connection driven on its own poll until `step` says it is done.
struct Driver {
    poll: Poll,
    conn: Conn,
    scratch: Vec<u8>,
}

impl Driver {
    fn open(o: &Options, id: String) -> Result<Driver, String> {
        let poll = Poll::new().map_err(|e| format!("poll: {e}"))?;
        let conn = Conn::open(
            poll.registry(),
            Token(0),
            o.addr,
            config(id, o.window),
            Instant::now(),
        )
        .map_err(|e| format!("connect to {}: {e}", o.addr))?;
        Ok(Driver {
            poll,
            conn,
            scratch: vec![0; 256 * 1024],
        })
    }

    /// Runs until `step(conn, event, now)` returns true; `idle(conn, now)` is
    /// called every turn (to send more). Events are None on idle turns.
    fn run(
        &mut self,
        mut step: impl FnMut(&mut Conn, Option<Event>, Instant) -> Result<bool, String>,
    ) -> Result<(), String> {
        let mut events = Events::with_capacity(64);
        let mut last_progress = Instant::now();
        loop {
            match self
                .poll
                .poll(&mut events, Some(Duration::from_millis(100)))
            {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("poll: {e}")),
            }
            let now = Instant::now();
            for ev in events.iter() {
                if ev.is_writable() || ev.is_error() {
                    let up = self
                        .conn
                        .check_connected()
                        .map_err(|e| format!("connect: {e}"))?;
                    if up {
                        self.conn.flush(now).map_err(|e| format!("write: {e}"))?;
                    }
                }
                if ev.is_readable() || ev.is_read_closed() {
                    self.conn.read_all(&mut self.scratch, now);
                }
            }
            self.conn.tick(now);
            while let Some(ev) = self.conn.next_event() {
                last_progress = now;
                match ev {
                    Event::ConnectRefused(a) => {
                        return Err(format!("CONNECT refused: {:?}", a.code));
                    }
                    Event::Closed(why) => return Err(format!("connection closed: {why:?}")),
                    ev => {
                        if step(&mut self.conn, Some(ev), now)? {
                            return self.finish(now);
                        }
                    }
                }
            }
            if step(&mut self.conn, None, now)? {
                return self.finish(now);
            }
            if self.conn.tcp_up && !self.conn.blocked {
                self.conn.flush(now).map_err(|e| format!("write: {e}"))?;
            }
            if now.duration_since(last_progress) > STALL {
                return Err(format!("no progress for {}s", STALL.as_secs()));
            }
        }
    }

    fn finish(&mut self, now: Instant) -> Result<(), String> {
        self.conn.flush(now).map_err(|e| format!("write: {e}"))
    }

    /// Subscribes to `filter` once connected; returns the seconds from the
    /// SUBSCRIBE to the `want`-th message.
    fn time_subscribe(
        &mut self,
        o: &Options,
        filter: &str,
        want: u64,
    ) -> Result<(f64, u64), String> {
        let mut sent_at = None;
        let mut got = 0u64;
        let mut done_at = None;
        let qos = o.qos;
        self.run(|conn, ev, now| {
            match ev {
                Some(Event::Connected(_)) => {
                    let opts = SubscriptionOptions {
                        qos,
                        ..Default::default()
                    };
                    conn.session
                        .subscribe(vec![(filter.to_string(), opts)], Properties::default(), now)
                        .map_err(|e| format!("subscribe: {e:?}"))?;
                    sent_at = Some(now);
                }
                Some(Event::Message(m)) if m.retain => {
                    got += 1;
                    if got == want {
                        done_at = Some(now);
                    }
                }
                _ => {}
            }
            Ok(done_at.is_some())
        })?;
        let (Some(a), Some(b)) = (sent_at, done_at) else {
            return Err("subscription never completed".into());
        };
        Ok((b.duration_since(a).as_secs_f64(), got))
    }
}

/// Exact-topic subscriptions timed one after another on one connection.
const EXACT_SAMPLES: u64 = 25;

impl Driver {
    /// Subscribes to each of `topics` in turn (the next once the previous
    /// one's retained message arrived); returns each SUBSCRIBE-to-message
    /// time in seconds. One round trip of about 0.1 ms is mostly noise, so
    /// the caller reports the median of many.
    fn time_each(&mut self, o: &Options, topics: &[String]) -> Result<Vec<f64>, String> {
        let mut times = Vec::with_capacity(topics.len());
        let mut sent_at: Option<Instant> = None;
        let qos = o.qos;
        let subscribe = |conn: &mut Conn, t: &str, now| {
            let opts = SubscriptionOptions {
                qos,
                ..Default::default()
            };
            conn.session
                .subscribe(vec![(t.to_string(), opts)], Properties::default(), now)
                .map(|_| ())
                .map_err(|e| format!("subscribe: {e:?}"))
        };
        self.run(|conn, ev, now| {
            match ev {
                Some(Event::Connected(_)) => {
                    subscribe(conn, &topics[0], now)?;
                    sent_at = Some(now);
                }
                Some(Event::Message(m)) if m.retain => {
                    if let Some(a) = sent_at.take() {
                        times.push(now.duration_since(a).as_secs_f64());
                        if let Some(next) = topics.get(times.len()) {
                            subscribe(conn, next, now)?;
                            sent_at = Some(now);
                        }
                    }
                }
                _ => {}
            }
            Ok(times.len() == topics.len())
        })?;
        Ok(times)
    }
}

/// Stores the messages, then times both subscriptions.
pub fn run(o: &Options) -> Result<(), String> {
    let pid = std::process::id();
    let root = format!("bench/{pid}/retained");
    let n = o.messages;
    let body = Bytes::from(vec![b'r'; o.payload.max(1)]);
    let stored_at = Instant::now();
    let mut publisher = Driver::open(o, format!("bench-{pid}-retainer"))?;
    let (mut connected, mut sent, mut acked) = (false, 0u64, 0u64);
    publisher.run(|conn, ev, now| {
        match ev {
            Some(Event::Connected(_)) => connected = true,
            Some(Event::PublishComplete { .. }) => acked += 1,
            _ => {}
        }
        while connected && sent < n && conn.pending_output() < WRITE_HIGH_WATER {
            let t = topic(&root, sent);
            match conn
                .session
                .publish(t, body.clone(), o.qos, true, Properties::default(), now)
            {
                Ok(_) => sent += 1,
                Err(SessionError::InflightFull) => break,
                Err(e) => return Err(format!("publish: {e:?}")),
            }
        }
        let qos0 = o.qos == ferromq::protocol::codec::QoS::AtMostOnce;
        Ok(sent == n && (qos0 || acked == n))
    })?;
    let store_s = stored_at.elapsed().as_secs_f64();
    let mut wild = Driver::open(o, format!("bench-{pid}-wildcard"))?;
    let (wildcard_s, delivered) = wild.time_subscribe(o, &format!("{root}/#"), n)?;
    let mut exact = Driver::open(o, format!("bench-{pid}-exact"))?;
    let samples = EXACT_SAMPLES.min(n);
    let topics: Vec<String> = (0..samples)
        .map(|k| topic(&root, (n / 2 + k * 7919) % n))
        .collect();
    let mut times = exact.time_each(o, &topics)?;
    times.sort_by(f64::total_cmp);
    let exact_s = times[times.len() / 2];
    println!("retained           {n}");
    println!("store seconds      {store_s:.3}");
    println!("wildcard seconds   {wildcard_s:.3} ({delivered} delivered)");
    println!("exact ms           {:.3}", exact_s * 1000.0);
    if let Some(path) = &o.json {
        let j = serde_json::json!({
            "mode": "retained",
            "retained": n,
            "qos": o.qos as u8,
            "store_seconds": store_s,
            "wildcard_seconds": wildcard_s,
            "wildcard_delivered": delivered,
            "exact_seconds": exact_s,
        });
        let text = serde_json::to_string_pretty(&j).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
