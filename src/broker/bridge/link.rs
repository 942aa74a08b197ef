//! A running bridge: the remote side is an [`AsyncClient`] of our own
//! engine (same reactor), the local side an internal session (local.rs).
//! One supervisor thread per bridge connects, retries with backoff, and
//! moves the outgoing queue to the client; messages from the remote are
//! routed locally from the client's callbacks, before they are acknowledged.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::{Receiver, Sender, select};

use super::client_opts::{connect_options, new_client};
use super::config::{BridgeConf, StartType};
use super::failover::{Backoff, PRIMARY_PROBE, reachable};
use super::local::{Attached, internal_conn_id};
use super::queue::{MemQueue, OutQueue, Outgoing, Owed};
use super::{BridgeStats, Host};
use crate::broker::ConnId;
use crate::client::r#async::AsyncClient;
use crate::client::error::ClientError;
use crate::client::pending::{Failure, Success};
use crate::client::sync::{Callbacks, Message};
use crate::protocol::codec::{Properties, ProtocolVersion, QoS, ReasonCode, SubscriptionOptions};

/// What the supervisor hears (rare: unbounded is bounded by the protocol).
enum Ctl {
    Connected(String),
    /// Why; whether the server refused the protocol version.
    Failed(String, bool),
    Lost(String),
    Stop,
}

/// Publishes handed to the client and not yet acknowledged: the most the
/// supervisor keeps there, so the rest wait in the (store-backable) queue.
pub(super) const HANDED_MAX: u64 = 256;

/// A bridge between the local broker and one remote broker.
pub struct Bridge {
    conf: BridgeConf,
    conn: ConnId,
    ctl: Sender<Ctl>,
    thread: Option<JoinHandle<()>>,
    queue: Arc<dyn OutQueue>,
    stats: Arc<BridgeStats>,
    host: Arc<dyn Host>,
}

impl Bridge {
    /// Attach the internal session and start the supervisor.
    pub(crate) fn start(conf: BridgeConf, host: Arc<dyn Host>) -> std::io::Result<Bridge> {
        conf.check()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let conn = internal_conn_id();
        let queue: Arc<dyn OutQueue> = Arc::new(MemQueue::new(conf.max_queued));
        let (wake_tx, wake_rx) = crossbeam_channel::bounded(1);
        let (ctl_tx, ctl_rx) = crossbeam_channel::unbounded();
        let stats = Arc::new(BridgeStats::default());
        let local_id = conf.local_id();
        let up = Arc::new(AtomicBool::new(false));
        let owed = Arc::new(Owed::default());
        host.with_broker(&mut |b, now| {
            let a = Attached::new(&conf.topics, queue.clone(), wake_tx.clone(), up.clone())
                .with_counters(&conf.name, stats.clone())
                .may_park(conf.start_type != StartType::Lazy)
                .with_owed(owed.clone());
            b.bridge_attach(conn, &local_id, a, now)
        });
        let client = new_client(&conf).inspect_err(|_| {
            host.with_broker(&mut |b, now| b.bridge_detach(conn, now));
        })?;
        let handed = Arc::new(AtomicU64::new(0));
        let cb = Arc::new(Link {
            conf: conf.clone(),
            conn,
            host: host.clone(),
            ctl: ctl_tx.clone(),
            wake: wake_tx,
            handed: handed.clone(),
            stats: stats.clone(),
            up,
            owed,
        });
        let _ = client.set_callbacks(Some(Box::new(CallbackRef(cb.clone()))));
        let sup = Supervisor {
            client,
            link: cb,
            queue: queue.clone(),
            ctl: ctl_rx,
            wake: wake_rx,
            handed,
            next_address: 0,
            connected_to: 0,
            backoff: Backoff::new(conf.restart),
            private_refused: false,
        };
        let thread = std::thread::Builder::new()
            .name(format!("ferromq-bridge-{}", conf.name))
            .spawn(move || sup.run());
        let thread = match thread {
            Ok(t) => t,
            Err(e) => {
                host.with_broker(&mut |b, now| b.bridge_detach(conn, now));
                return Err(e);
            }
        };
        Ok(Bridge {
            conf,
            conn,
            ctl: ctl_tx,
            thread: Some(thread),
            queue,
            stats,
            host,
        })
    }

    pub fn name(&self) -> &str {
        &self.conf.name
    }

    /// The options it runs with.
    pub fn conf(&self) -> &BridgeConf {
        &self.conf
    }

    pub fn stats(&self) -> &BridgeStats {
        &self.stats
    }

    /// Outgoing messages waiting for the remote.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Outgoing messages dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped()
    }

    /// Disconnect from the remote and end the internal session.
    pub fn stop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = self.ctl.send(Ctl::Stop);
            let _ = t.join();
            let conn = self.conn;
            self.host
                .with_broker(&mut |b, now| b.bridge_detach(conn, now));
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.stop();
    }
}

/// State shared by the supervisor and the client's callbacks.
struct Link {
    conf: BridgeConf,
    conn: ConnId,
    host: Arc<dyn Host>,
    ctl: Sender<Ctl>,
    wake: Sender<()>,
    handed: Arc<AtomicU64>,
    stats: Arc<BridgeStats>,
    /// Shared with the internal session (see local.rs).
    up: Arc<AtomicBool>,
    owed: Arc<Owed>,
}

impl Link {
    fn log(&self, warning: bool, what: std::fmt::Arguments<'_>) {
        self.host
            .log(warning, &format!("bridge {}: {what}", self.conf.name));
    }

    /// Say whether the link is up, to the internal session (under the
    /// broker's lock, so no output of the session sees one without the
    /// other): a durable session goes online or offline with the link.
    fn set_up(&self, up: bool) {
        let conn = self.conn;
        self.host.with_broker(&mut |b, now| {
            self.up.store(up, Ordering::Release);
            if up {
                b.bridge_resume(conn, now);
            } else {
                b.bridge_park(conn, now);
                if self.conf.cleansession {
                    self.owed.forget();
                }
            }
        });
    }

    /// Route a message locally as the bridge's internal session.
    fn inject(&self, topic: &str, payload: Bytes, qos: QoS, retain: bool, props: &Properties) {
        let conn = self.conn;
        self.host.with_broker(&mut |b, now| {
            b.bridge_inject(conn, topic, payload.clone(), qos, retain, props, now);
        });
    }

    fn notify_local(&self, up: bool) {
        if self.conf.notifications {
            let payload = Bytes::from_static(if up { b"1" } else { b"0" });
            let topic = self.conf.state_topic();
            self.inject(
                &topic,
                payload,
                QoS::AtLeastOnce,
                true,
                &Properties::default(),
            );
        }
    }
}

/// The client's callbacks (they run on the shared dispatcher).
struct CallbackRef(Arc<Link>);

impl Callbacks for CallbackRef {
    fn connection_lost(&self, cause: Option<&str>) {
        let _ = self
            .0
            .ctl
            .send(Ctl::Lost(cause.unwrap_or("connection lost").to_string()));
    }

    fn message_arrived(&self, topic: &str, m: &Message) -> bool {
        let l = &self.0;
        let local = l
            .conf
            .topics
            .iter()
            .filter(|r| r.direction.is_in())
            .find_map(|r| r.to_local(topic));
        if let Some(local) = local {
            l.inject(&local, m.payload.clone(), m.qos, m.retained, &m.properties);
            l.stats.received.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    fn delivery_complete(&self, token: i32) {
        let l = &self.0;
        if l.owed.is_on() {
            l.owed.complete(token);
        }
        let before = l
            .handed
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        // The sender waits for room only with a full window: wake it once
        // half of it is free (a batch's worth), not per acknowledgement,
        // and when the last one is in (a lazy bridge's idle timer).
        if matches!(before, Ok(n) if n == HANDED_MAX / 2 || n == 1) {
            let _ = l.wake.try_send(());
        }
    }
}

struct Supervisor {
    client: AsyncClient,
    link: Arc<Link>,
    queue: Arc<dyn OutQueue>,
    ctl: Receiver<Ctl>,
    wake: Receiver<()>,
    handed: Arc<AtomicU64>,
    next_address: usize,
    /// The index in `addresses` of the one connected to.
    connected_to: usize,
    backoff: Backoff,
    /// The remote refused a try_private CONNECT: connect plainly.
    private_refused: bool,
}

enum Ended {
    Stop,
    Lost,
    /// The primary address is back: reconnect to it now.
    Primary,
}

impl Supervisor {
    fn run(mut self) {
        let conf = self.link.conf.clone();
        if conf.start_type == StartType::Lazy && !self.wait_threshold() {
            return;
        }
        loop {
            match self.connect() {
                Err(Ended::Stop) => return,
                Err(Ended::Lost | Ended::Primary) => {
                    if conf.start_type == StartType::Once {
                        self.link
                            .log(true, format_args!("start_type once: not retrying"));
                        return;
                    }
                }
                Ok(()) => {
                    self.backoff.reset();
                    self.link.set_up(true);
                    let ended = self.forward();
                    self.link.set_up(false);
                    self.link.notify_local(false);
                    match ended {
                        Ended::Stop => {
                            let _ = self.client.disconnect(
                                Duration::from_secs(2),
                                ReasonCode::SUCCESS,
                                Properties::default(),
                                None,
                            );
                            return;
                        }
                        Ended::Lost if conf.start_type == StartType::Once => {
                            self.link
                                .log(true, format_args!("start_type once: not reconnecting"));
                            return;
                        }
                        Ended::Lost if conf.start_type == StartType::Lazy => {
                            if !self.wait_threshold() {
                                return;
                            }
                            continue;
                        }
                        Ended::Lost => {}
                        Ended::Primary => continue,
                    }
                }
            }
            let delay = self.backoff.next();
            self.link.log(
                false,
                format_args!("reconnecting in {} ms", delay.as_millis()),
            );
            // The whole delay, whatever else arrives: never a busy loop.
            let until = Instant::now() + delay;
            loop {
                match self.ctl.recv_deadline(until) {
                    Ok(Ctl::Stop) | Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                        return;
                    }
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => break,
                    Ok(_) => {}
                }
            }
        }
    }

    /// Lazy start: wait until `threshold` messages are queued.
    fn wait_threshold(&mut self) -> bool {
        while self.queue.len() < self.link.conf.threshold {
            select! {
                recv(self.ctl) -> c => if matches!(c, Ok(Ctl::Stop) | Err(_)) { return false },
                recv(self.wake) -> _ => {}
            }
        }
        true
    }

    /// One connection attempt over the address list.
    fn connect(&mut self) -> Result<(), Ended> {
        let conf = &self.link.conf;
        let n = conf.addresses.len();
        let first = if conf.round_robin {
            self.next_address % n
        } else {
            0
        };
        let scheme = if conf.uses_tls() { "ssl" } else { "tcp" };
        let uris: Vec<String> = (0..n)
            .map(|i| format!("{scheme}://{}", conf.addresses[(first + i) % n]))
            .collect();
        let opts = connect_options(conf, uris.clone(), self.private_refused);
        self.link.stats.attempts.fetch_add(1, Ordering::Relaxed);
        let ctl = self.link.ctl.clone();
        let done = Box::new(move |_token, r: Result<Success, Failure>| {
            let ev = match r {
                Ok(Success::Connect { server_uri, .. }) => Ctl::Connected(server_uri),
                Ok(_) => Ctl::Connected(String::new()),
                Err(f) => {
                    let why = f
                        .message
                        .clone()
                        .unwrap_or_else(|| format!("{:?} (reason 0x{:02x})", f.error, f.reason.0));
                    Ctl::Failed(why, matches!(f.error, ClientError::Refused(1 | 0x84)))
                }
            };
            let _ = ctl.send(ev);
        });
        if let Err(e) = self.client.connect(opts, Some(done)) {
            self.link
                .log(true, format_args!("cannot start connecting: {e:?}"));
            return Err(Ended::Lost);
        }
        loop {
            match self.ctl.recv() {
                Ok(Ctl::Connected(uri)) => {
                    if let Some(i) = uris.iter().position(|u| *u == uri) {
                        self.next_address = first + i;
                        self.connected_to = (first + i) % n;
                    }
                    self.link.stats.connects.fetch_add(1, Ordering::Relaxed);
                    // What the client still holds from before (resent on a
                    // kept session, dropped on a clean one).
                    let pending = self.client.pending_tokens().len() as u64;
                    self.handed.store(pending, Ordering::Release);
                    self.link.log(false, format_args!("connected to {uri}"));
                    self.on_connected();
                    return Ok(());
                }
                Ok(Ctl::Failed(why, version_refused)) => {
                    self.next_address = first + 1;
                    if version_refused && conf.try_private && !self.private_refused {
                        // As mosquitto: a server that does not know bridges
                        // gets a plain CONNECT from now on.
                        self.private_refused = true;
                        self.link
                            .log(true, format_args!("try_private refused: trying without"));
                    }
                    self.link.log(
                        true,
                        format_args!("connecting to {} failed: {why}", uris.join(" ")),
                    );
                    return Err(Ended::Lost);
                }
                Ok(Ctl::Lost(_)) => {}
                Ok(Ctl::Stop) | Err(_) => return Err(Ended::Stop),
            }
        }
    }

    /// Subscribe to the `in` topics and say the link is up.
    fn on_connected(&mut self) {
        let conf = &self.link.conf;
        let v5 = conf.protocol == ProtocolVersion::V5;
        let filters: Vec<(String, SubscriptionOptions)> = conf
            .topics
            .iter()
            .filter(|r| r.direction.is_in())
            .map(|r| {
                let opts = SubscriptionOptions {
                    qos: r.qos,
                    no_local: v5,
                    retain_as_published: v5,
                    retain_handling: 0,
                };
                (r.remote_filter(), opts)
            })
            .collect();
        if !filters.is_empty() {
            let _ = self
                .client
                .subscribe_many(filters, Properties::default(), None);
        }
        if conf.notifications {
            let _ = self.client.send(
                &conf.state_topic(),
                Bytes::from_static(b"1"),
                QoS::AtLeastOnce,
                true,
                Properties::default(),
                None,
            );
        }
        self.link.notify_local(true);
    }

    /// Move queued messages to the client until the link ends.
    fn forward(&mut self) -> Ended {
        let idle = self.link.conf.idle_timeout;
        let lazy = self.link.conf.start_type == StartType::Lazy;
        let mut last_activity = Instant::now();
        // On a secondary address without round_robin: check the primary.
        let probing = !self.link.conf.round_robin && self.connected_to != 0;
        let mut probe_at = Instant::now() + PRIMARY_PROBE;
        let mut batch = Vec::new();
        let mut released = Vec::new();
        loop {
            // All that the window has room for, one queue lock and one
            // broker lock per batch.
            let handed = self.handed.load(Ordering::Acquire);
            if handed < HANDED_MAX {
                self.queue.take((HANDED_MAX - handed) as usize, &mut batch);
            }
            // Durable: acknowledged locally when the remote has them.
            let owed = self.link.owed.clone();
            let mut owing = owed.is_on().then(|| owed.lock());
            let mut rest = batch.drain(..);
            for m in rest.by_ref() {
                let local = (m.local_id, m.qos);
                match self.send(m) {
                    Ok(token) => match owing.as_mut() {
                        Some(map) if local.1 != QoS::AtMostOnce => {
                            map.insert(token, local);
                        }
                        _ => released.push(local),
                    },
                    Err(m) => {
                        let mut back = vec![m];
                        back.extend(rest);
                        self.queue.give_back(back);
                        break;
                    }
                }
                last_activity = Instant::now();
            }
            drop(owing);
            owed.take_done(&mut released);
            if !released.is_empty() {
                let conn = self.link.conn;
                self.link
                    .host
                    .with_broker(&mut |b, now| b.bridge_release(conn, &released, now));
                released.clear();
            }
            let mut timeout = if lazy && self.handed.load(Ordering::Acquire) == 0 {
                idle.saturating_sub(last_activity.elapsed())
            } else {
                // The last acknowledgement wakes it (see delivery_complete).
                Duration::from_secs(3600)
            };
            if probing {
                timeout = timeout.min(probe_at.saturating_duration_since(Instant::now()));
            }
            select! {
                recv(self.ctl) -> c => match c {
                    Ok(Ctl::Lost(why)) => {
                        self.link.log(true, format_args!("connection lost: {why}"));
                        return Ended::Lost;
                    }
                    Ok(Ctl::Stop) | Err(_) => return Ended::Stop,
                    Ok(_) => {}
                },
                recv(self.wake) -> _ => {}
                default(timeout) => {
                    if probing && Instant::now() >= probe_at {
                        probe_at = Instant::now() + PRIMARY_PROBE;
                        let primary = &self.link.conf.addresses[0];
                        if reachable(primary, Duration::from_secs(2)) {
                            self.link.log(false, format_args!(
                                "primary address {primary} is back: reconnecting to it"
                            ));
                            let _ = self.client.disconnect(
                                Duration::from_secs(2),
                                ReasonCode::SUCCESS,
                                Properties::default(),
                                None,
                            );
                            return Ended::Primary;
                        }
                    }
                    if lazy && last_activity.elapsed() >= idle && self.handed.load(Ordering::Acquire) == 0 {
                        self.link.log(false, format_args!("idle: stopping (lazy start)"));
                        let _ = self.client.disconnect(
                            Duration::from_secs(2),
                            ReasonCode::SUCCESS,
                            Properties::default(),
                            None,
                        );
                        return Ended::Lost;
                    }
                }
            }
        }
    }

    /// Hand one message to the client; the message back when it cannot
    /// take it now.
    fn send(&mut self, m: Outgoing) -> Result<i32, Outgoing> {
        let counted = m.qos != QoS::AtMostOnce;
        if counted {
            self.handed.fetch_add(1, Ordering::AcqRel);
        }
        let r = self.client.send(
            &m.topic,
            m.payload.clone(),
            m.qos,
            m.retain,
            m.properties.clone(),
            None,
        );
        match r {
            Ok(token) => {
                self.link.stats.sent.fetch_add(1, Ordering::Relaxed);
                Ok(token)
            }
            Err(_) => {
                if counted {
                    self.handed.fetch_sub(1, Ordering::AcqRel);
                }
                Err(m)
            }
        }
    }
}
