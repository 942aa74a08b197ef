//! The publish/subscribe runs (fan-in, fan-out, point-to-point): every
//! connection on one mio loop; publishers paced by the window, the socket
//! and optionally a rate; subscribers account every arrival.

use std::io;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use ferromq::protocol::codec::{Properties, QoS, SubscriptionOptions};
use ferromq::protocol::session::client::{ClientConfig, Event, SessionError};
use hdrhistogram::Histogram;
use mio::{Events, Poll, Token};

use super::args::{Mode, Options};
use super::conn::{Conn, WRITE_HIGH_WATER, config};
use super::payload::{self, Stamp};
use super::report::RunResult;
use super::tally::{self, Tally};

/// At most this many messages per publisher per loop turn, so one fast
/// publisher cannot starve the subscribers' reads.
const BATCH: u64 = 512;
/// Give up when nothing at all progresses for this long.
const STALL: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Sub(usize),
    Pub(usize),
}

struct Publisher {
    conn: usize,
    topic: String,
    sent: u64,
    acked: u64,
    failed_acks: u64,
}

struct Run<'a> {
    o: &'a Options,
    poll: Poll,
    conns: Vec<Conn>,
    roles: Vec<Role>,
    pubs: Vec<Publisher>,
    sub_topics: Vec<String>,
    subs_ready: usize,
    pubs_ready: usize,
    epoch: Instant,
    start: Option<Instant>,
    /// Process CPU seconds when publishing started.
    cpu_at_start: f64,
    pubs_done_at: Option<Instant>,
    last_delivery: Option<Instant>,
    last_progress: Instant,
    tally: Tally,
    hist: Histogram<u64>,
    chunk: BytesMut,
    scratch: Vec<u8>,
}

/// Run one throughput/latency measurement.
pub fn run(o: &Options) -> Result<RunResult, String> {
    let pid = std::process::id();
    let (topics_pub, routes, sub_topics): (Vec<String>, Vec<Vec<usize>>, Vec<String>) = match o.mode
    {
        Mode::P2p => {
            let t: Vec<String> = (0..o.publishers)
                .map(|i| format!("bench/{pid}/p2p/{i}"))
                .collect();
            (t.clone(), (0..o.publishers).map(|i| vec![i]).collect(), t)
        }
        _ => {
            let t = format!("bench/{pid}/{}", o.mode.name());
            (
                vec![t.clone(); o.publishers],
                vec![(0..o.publishers).collect(); o.subscribers],
                vec![t; o.subscribers],
            )
        }
    };
    let now = Instant::now();
    let mut r = Run {
        o,
        poll: Poll::new().map_err(|e| format!("poll: {e}"))?,
        conns: Vec::new(),
        roles: Vec::new(),
        pubs: Vec::new(),
        sub_topics,
        subs_ready: 0,
        pubs_ready: 0,
        epoch: now,
        start: None,
        cpu_at_start: 0.0,
        pubs_done_at: None,
        last_delivery: None,
        last_progress: now,
        tally: Tally::new(&routes, o.publishers, o.messages),
        hist: tally::new_histogram(),
        chunk: BytesMut::new(),
        scratch: vec![0; 256 * 1024],
    };
    for i in 0..o.subscribers {
        r.open(format!("bench-{pid}-sub-{i}"), Role::Sub(i))?;
    }
    r.pubs = topics_pub
        .into_iter()
        .map(|topic| Publisher {
            conn: usize::MAX,
            topic,
            sent: 0,
            acked: 0,
            failed_acks: 0,
        })
        .collect();
    r.event_loop()?;
    Ok(r.result())
}

impl Run<'_> {
    fn open(&mut self, id: String, role: Role) -> Result<(), String> {
        let idx = self.conns.len();
        let addr = match role {
            Role::Sub(_) => self.o.sub_addr.unwrap_or(self.o.addr),
            _ => self.o.addr,
        };
        let conn = Conn::open(
            self.poll.registry(),
            Token(idx),
            addr,
            ClientConfig {
                clean_start: !(self.o.durable && matches!(role, Role::Sub(_))),
                ..config(id, self.o.window)
            },
            Instant::now(),
        )
        .map_err(|e| format!("connect to {addr}: {e}"))?;
        self.conns.push(conn);
        self.roles.push(role);
        if let Role::Pub(p) = role {
            self.pubs[p].conn = idx;
        }
        Ok(())
    }

    fn event_loop(&mut self) -> Result<(), String> {
        let mut events = Events::with_capacity(1024);
        let mut progress = super::report::Progress::new(Instant::now());
        loop {
            let timeout = self.poll_timeout();
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("poll: {e}")),
            }
            let now = Instant::now();
            for ev in events.iter() {
                let i = ev.token().0;
                let Some(conn) = self.conns.get_mut(i) else {
                    continue;
                };
                if ev.is_writable() || ev.is_error() {
                    let up = conn
                        .check_connected()
                        .map_err(|e| format!("connect to {}: {e}", self.o.addr))?;
                    if up {
                        conn.flush(now).map_err(|e| format!("write: {e}"))?;
                    }
                }
                if ev.is_readable() || ev.is_read_closed() {
                    conn.read_all(&mut self.scratch, now);
                }
                self.handle_events(i, now)?;
            }
            for i in 0..self.conns.len() {
                self.conns[i].tick(now);
                self.handle_events(i, now)?;
            }
            if self.start.is_none() && self.subs_ready == self.o.subscribers {
                self.begin_publishing(now)?;
            }
            if self.start.is_some() {
                self.publish_turn(now)?;
            }
            let delivered = self.tally.delivered;
            let sent = self.pubs.iter().map(|p| p.sent).sum::<u64>();
            progress.tick(now, sent, delivered);
            if self.finished(now)? {
                break;
            }
        }
        progress.finish();
        let now = Instant::now();
        for c in &mut self.conns {
            c.session
                .disconnect(Default::default(), Properties::default(), now);
            let _ = c.flush(now);
        }
        Ok(())
    }

    /// Zero while a publisher can make progress; the next paced send in rate
    /// mode; otherwise a short tick for drain/stall checks and progress.
    fn poll_timeout(&self) -> Option<Duration> {
        let tick = Duration::from_millis(100);
        let Some(start) = self.start else {
            return Some(tick);
        };
        let now = Instant::now();
        let mut wait = tick;
        for p in &self.pubs {
            let conn = &self.conns[p.conn];
            if p.sent >= self.o.messages || conn.blocked || !self.window_open(p) {
                continue;
            }
            match self.allowed_by_rate(p, start, now) {
                Some(0) => {
                    let per_pub = self.o.rate as f64 / self.o.pubs_f64();
                    let due = start + Duration::from_secs_f64((p.sent as f64 + 1.0) / per_pub);
                    wait = wait.min(due.saturating_duration_since(now));
                }
                _ => return Some(Duration::ZERO),
            }
        }
        Some(wait)
    }

    fn window_open(&self, p: &Publisher) -> bool {
        self.o.qos == QoS::AtMostOnce || p.sent.saturating_sub(p.acked) < u64::from(self.o.window)
    }

    /// How many more messages the rate allows now (`None` = no rate limit).
    fn allowed_by_rate(&self, p: &Publisher, start: Instant, now: Instant) -> Option<u64> {
        if self.o.rate == 0 {
            return None;
        }
        let per_pub = self.o.rate as f64 / self.o.pubs_f64();
        let due = (now.duration_since(start).as_secs_f64() * per_pub) as u64 + 1;
        Some(due.saturating_sub(p.sent))
    }

    fn handle_events(&mut self, i: usize, now: Instant) -> Result<(), String> {
        while let Some(ev) = self.conns[i].next_event() {
            match (ev, self.roles[i]) {
                (Event::Connected(_), Role::Sub(s)) => {
                    let opts = SubscriptionOptions {
                        qos: self.o.qos,
                        ..Default::default()
                    };
                    let topic = self.sub_topics[s].clone();
                    self.conns[i]
                        .session
                        .subscribe(vec![(topic, opts)], Properties::default(), now)
                        .map_err(|e| format!("subscribe: {e:?}"))?;
                }
                (Event::Connected(_), Role::Pub(_)) => self.pubs_ready += 1,
                (Event::SubAck(ack), Role::Sub(_)) => {
                    if ack.codes.iter().any(|c| c.0 >= 0x80) {
                        return Err(format!("subscription refused: {:?}", ack.codes));
                    }
                    self.subs_ready += 1;
                }
                (Event::Message(m), Role::Sub(s)) => self.on_message(s, &m.payload, now),
                (Event::PublishComplete { reason, .. }, Role::Pub(p)) => {
                    self.pubs[p].acked += 1;
                    if reason.0 >= 0x80 {
                        self.pubs[p].failed_acks += 1;
                    }
                    self.last_progress = now;
                }
                (Event::ConnectRefused(a), _) => {
                    return Err(format!("CONNECT refused: {:?}", a.code));
                }
                (Event::Closed(why), _) => {
                    return Err(format!("connection {i} closed: {why:?}"));
                }
                _ => {}
            }
        }
        let conn = &mut self.conns[i];
        if conn.tcp_up && !conn.blocked {
            conn.flush(now).map_err(|e| format!("write: {e}"))?;
        }
        Ok(())
    }

    fn on_message(&mut self, sub: usize, body: &[u8], now: Instant) {
        self.last_delivery = Some(now);
        self.last_progress = now;
        let Some(stamp) = payload::decode(body) else {
            self.tally.foreign += 1;
            return;
        };
        if self.tally.record(sub, stamp.publisher, stamp.seq) {
            let now_ns = now.duration_since(self.epoch).as_nanos() as u64;
            let us = now_ns.saturating_sub(stamp.sent_ns) / 1000;
            tally::record_latency(&mut self.hist, us);
        }
    }

    fn begin_publishing(&mut self, now: Instant) -> Result<(), String> {
        if self.pubs.iter().all(|p| p.conn != usize::MAX) {
            if self.pubs_ready == self.pubs.len() {
                self.start = Some(now);
                self.cpu_at_start = super::report::process_cpu_secs();
                self.last_progress = now;
            }
            return Ok(());
        }
        let pid = std::process::id();
        for p in 0..self.pubs.len() {
            self.open(format!("bench-{pid}-pub-{p}"), Role::Pub(p))?;
        }
        Ok(())
    }

    fn publish_turn(&mut self, now: Instant) -> Result<(), String> {
        let Some(start) = self.start else {
            return Ok(());
        };
        for p in 0..self.pubs.len() {
            let mut budget = BATCH.min(self.o.messages.saturating_sub(self.pubs[p].sent));
            if let Some(n) = self.allowed_by_rate(&self.pubs[p], start, now) {
                budget = budget.min(n);
            }
            let ci = self.pubs[p].conn;
            if self.conns[ci].blocked {
                continue;
            }
            let mut sent_any = false;
            while budget > 0
                && self.window_open(&self.pubs[p])
                && self.conns[ci].pending_output() < WRITE_HIGH_WATER
            {
                let body = self.payload(p as u32, self.pubs[p].sent, now);
                let topic = self.pubs[p].topic.clone();
                let session = &mut self.conns[ci].session;
                match session.publish(topic, body, self.o.qos, false, Properties::default(), now) {
                    Ok(_) => {}
                    Err(SessionError::InflightFull) => break,
                    Err(e) => return Err(format!("publish: {e:?}")),
                }
                self.pubs[p].sent += 1;
                budget -= 1;
                sent_any = true;
            }
            if sent_any {
                self.conns[ci]
                    .flush(now)
                    .map_err(|e| format!("write: {e}"))?;
                self.last_progress = now;
            }
        }
        if self.pubs_done_at.is_none()
            && self.pubs.iter().all(|p| {
                p.sent == self.o.messages && (p.acked >= p.sent || self.o.qos == QoS::AtMostOnce)
            })
        {
            self.pubs_done_at = Some(now);
        }
        Ok(())
    }

    fn payload(&mut self, publisher: u32, seq: u64, now: Instant) -> bytes::Bytes {
        let len = self.o.payload;
        if self.chunk.len() < len {
            self.chunk = BytesMut::zeroed((1 << 20).max(len));
        }
        let mut body = self.chunk.split_to(len);
        let stamp = Stamp {
            sent_ns: now.duration_since(self.epoch).as_nanos() as u64,
            publisher,
            seq,
        };
        payload::encode(stamp, &mut body);
        body.freeze()
    }

    fn finished(&self, now: Instant) -> Result<bool, String> {
        if now.duration_since(self.last_progress) > STALL {
            return Err(format!(
                "no progress for {}s (connected subscribers {}/{}, publishers {}/{})",
                STALL.as_secs(),
                self.subs_ready,
                self.o.subscribers,
                self.pubs_ready,
                self.pubs.len()
            ));
        }
        let Some(done) = self.pubs_done_at else {
            return Ok(false);
        };
        if self.tally.delivered >= self.tally.expected() {
            return Ok(true);
        }
        let quiet_since = self.last_delivery.map_or(done, |d| d.max(done));
        Ok(now.duration_since(quiet_since) > Duration::from_secs(self.o.drain_secs))
    }

    fn result(&self) -> RunResult {
        let start = self.start.unwrap_or(self.epoch);
        let end = self.last_delivery.unwrap_or(start);
        let pub_end = self.pubs_done_at.unwrap_or(end);
        let sent = self.pubs.iter().map(|p| p.sent).sum();
        RunResult {
            mode: self.o.mode,
            qos: self.o.qos as u8,
            publishers: self.pubs.len(),
            subscribers: self.o.subscribers,
            payload: self.o.payload,
            window: self.o.window,
            rate: self.o.rate,
            sent,
            expected: self.tally.expected(),
            delivered: self.tally.delivered,
            lost: self.tally.lost(),
            duplicates: self.tally.duplicates,
            foreign: self.tally.foreign,
            failed_acks: self.pubs.iter().map(|p| p.failed_acks).sum(),
            seconds: end.duration_since(start).as_secs_f64(),
            publish_seconds: pub_end.duration_since(start).as_secs_f64(),
            latency: tally::summarize(&self.hist),
            generator_cpu: super::report::process_cpu_secs() - self.cpu_at_start,
        }
    }
}

impl Options {
    fn pubs_f64(&self) -> f64 {
        self.publishers.max(1) as f64
    }
}
