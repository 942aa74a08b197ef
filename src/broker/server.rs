//! A running broker: the sans-IO [`Broker`] behind one lock, served by the
//! process's reactor, with host hooks answered on a dispatcher thread so a
//! slow decision holds up only the session that waits for it.

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use crossbeam_channel::{Receiver, Sender};

use super::bridge::local::is_internal;
use super::bridge::{Bridge, BridgeConf, Host};
use super::config::listener_keys::ListenerSpec;
use super::listener::ListenerTransport;
use super::metrics::MetricsServer;
use super::store::Store;
use super::{Broker, BrokerConfig, BrokerEvent, ConnId, Decision, DisconnectCause, Stats};
use crate::protocol::codec::{Properties, ProtocolVersion, QoS, ReasonCode};
use crate::reactor::transport::{Transport, TransportError};
use crate::reactor::{BrokerEndpoint, Command, Reactor, ReactorRef};

/// A CONNECT as the host sees it.
#[derive(Debug, Clone)]
pub struct ConnectInfo {
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<Bytes>,
    pub peer: SocketAddr,
    pub version: ProtocolVersion,
}

/// A client PUBLISH as the host sees it.
#[derive(Debug, Clone)]
pub struct PublishInfo {
    pub client_id: String,
    pub topic: String,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
    pub properties: Properties,
}

/// What the host program wants to hear and decide. Every method has the
/// permissive default; `wants` says which ones the broker must ask.
pub trait Hooks: Send + Sync + 'static {
    /// Which hooks to call (the rest are not even asked).
    fn wants(&self) -> super::Hooks;
    /// Accept (`SUCCESS`) or refuse a CONNECT with a CONNACK reason code.
    fn on_connect(&self, info: &ConnectInfo) -> ReasonCode {
        let _ = info;
        ReasonCode::SUCCESS
    }
    /// Accept (`SUCCESS`) or refuse a client's PUBLISH.
    fn on_publish(&self, info: &PublishInfo) -> ReasonCode {
        let _ = info;
        ReasonCode::SUCCESS
    }
    /// The granted QoS (as a reason code 0..=2) or a refusal for one filter.
    fn on_subscribe(&self, client_id: &str, filter: &str, qos: QoS) -> ReasonCode {
        let _ = (client_id, filter);
        ReasonCode(qos as u8)
    }
    /// A client is connected.
    fn on_connected(&self, client_id: &str, version: ProtocolVersion, peer: Option<SocketAddr>) {
        let _ = (client_id, version, peer);
    }
    /// A connection from `peer` failed below MQTT (TLS handshake, WebSocket
    /// upgrade, garbage) and was closed.
    fn on_transport_error(&self, peer: SocketAddr, reason: &str) {
        let _ = (peer, reason);
    }
    /// A client's connection ended.
    fn on_disconnect(&self, client_id: &str, cause: DisconnectCause) {
        let _ = (client_id, cause);
    }
    /// An offline client's queue is full: its messages are being dropped
    /// by the drop policy (said once until it has room or reconnects).
    fn on_queue_full(&self, client_id: &str) {
        let _ = client_id;
    }
    /// The store could not be written (persistence on): the broker has
    /// stopped serving; `error` names the file.
    fn on_store_failure(&self, error: &str) {
        let _ = error;
    }

    /// A bridge's log line (connected, lost, a failed attempt and when the
    /// next one is; `warning` for failures). Called from the bridge's thread.
    fn on_bridge_log(&self, warning: bool, line: &str) {
        let _ = (warning, line);
    }
}

/// One turn's output held for the store: the batch id it waits for, the
/// chunks to write and the connections to close after them.
type Held = (u64, Vec<(u64, Bytes)>, Vec<u64>);

/// The store and the turns' output waiting for it, oldest first.
struct Durable {
    store: Store,
    held: VecDeque<Held>,
}

struct Shared {
    broker: Mutex<Broker>,
    /// The store (persistence on) and the output waiting for it.
    store: Option<Mutex<Durable>>,
    /// The store failed: nothing is read, acknowledged or accepted any more.
    halted: AtomicBool,
    events: Mutex<Option<Sender<BrokerEvent>>>,
    reactor: Arc<Reactor>,
    id: u64,
    /// Per listener index: its TLS/WebSocket layers (`None`: plain TCP).
    transports: Mutex<Vec<Option<Arc<ListenerTransport>>>>,
    /// For bridges' log lines.
    hooks: Option<Arc<dyn Hooks>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Broker> {
        self.broker.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hand the broker's events to the dispatcher (dropped when no hooks).
    fn drain_events(&self, broker: &mut Broker) {
        let tx = self.events.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(ev) = broker.poll_event() {
            if let Some(tx) = tx.as_ref() {
                let _ = tx.send(ev);
            }
        }
    }

    /// Run `f` on the broker from outside the reactor, then have the reactor
    /// write what it produced.
    fn with_broker<R>(&self, f: impl FnOnce(&mut Broker, Instant) -> R) -> R {
        let r = {
            let mut b = self.lock();
            let r = f(&mut b, Instant::now());
            self.drain_events(&mut b);
            r
        };
        self.reactor.send(Command::BrokerFlush { id: self.id });
        r
    }
}

impl Shared {
    /// Group commit: the broker's staged changes go to the store's thread
    /// as one batch, and its pending output is held until that batch is
    /// durable. The batch id; None when the store failed (the broker is
    /// then halted: nothing more is acknowledged, every connection closes).
    fn hold(&self, b: &mut Broker, d: &mut Durable) -> Option<u64> {
        if self.halted.load(Ordering::Relaxed) {
            return None;
        }
        match d.store.submit(b, Instant::now()) {
            Ok(id) => {
                let (mut turn, mut closes, mut chunks) = (Vec::new(), Vec::new(), Vec::new());
                while let Some(conn) = b.poll_transmit_bytes(&mut chunks) {
                    // A bridge's internal session is not held: it is not
                    // a socket, and its acknowledgements go through the
                    // store like any client's.
                    if is_internal(conn) {
                        b.bridge_output(conn, &mut chunks, Instant::now());
                        continue;
                    }
                    turn.extend(chunks.drain(..).map(|c| (conn as u64, c)));
                }
                while let Some(conn) = b.poll_close() {
                    if is_internal(conn) {
                        b.handle_closed(conn, Instant::now());
                        continue;
                    }
                    closes.push(conn as u64);
                }
                if !turn.is_empty() || !closes.is_empty() {
                    d.held.push_back((id, turn, closes));
                }
                Some(id)
            }
            Err(e) => {
                self.halted.store(true, Ordering::Relaxed);
                d.held.clear();
                b.shutdown(Instant::now());
                b.push_event(BrokerEvent::StoreFailed {
                    error: e.to_string(),
                });
                None
            }
        }
    }

    /// Commits what the broker staged now (from an API thread) and waits,
    /// at most `timeout`, until it is durable, so that what it released can
    /// still be written (the DISCONNECTs of a stop).
    fn settle_store(&self, timeout: Duration) {
        let Some(d) = &self.store else {
            return;
        };
        let (id, progress) = {
            let mut b = self.lock();
            let mut d = d.lock().unwrap_or_else(|e| e.into_inner());
            (self.hold(&mut b, &mut d), d.store.progress())
        };
        if let (Some(id), Some(p)) = (id, progress) {
            p.wait_committed(id, timeout);
        }
    }
}

impl BrokerEndpoint for Shared {
    fn accept(&self, conn: u64, listener: usize, peer: SocketAddr, now: Instant) -> bool {
        if self.halted.load(Ordering::Relaxed) {
            return false;
        }
        let mut b = self.lock();
        let ok = b.handle_accept_on(conn as ConnId, peer, listener, now);
        self.drain_events(&mut b);
        ok
    }

    fn input(&self, conn: u64, data: &mut BytesMut, now: Instant) -> bool {
        if self.halted.load(Ordering::Relaxed) {
            data.clear();
            return false;
        }
        let mut b = self.lock();
        b.handle_bytes(conn as ConnId, data, now);
        self.drain_events(&mut b);
        b.wants_input(conn as ConnId)
    }

    fn wants_input(&self, conn: u64) -> bool {
        self.lock().wants_input(conn as ConnId)
    }

    fn closed(&self, conn: u64, now: Instant) {
        let mut b = self.lock();
        b.handle_closed(conn as ConnId, now);
        self.drain_events(&mut b);
    }

    fn congested(&self, conn: u64, congested: bool, now: Instant) {
        let mut b = self.lock();
        b.handle_congestion(conn as ConnId, congested, now);
        self.drain_events(&mut b);
    }

    fn transport(&self, listener: usize) -> Result<Option<(Transport, bool)>, TransportError> {
        let t = self
            .transports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(listener)
            .cloned()
            .flatten();
        match t {
            Some(t) => t.make(),
            None => Ok(None),
        }
    }

    fn identity(&self, conn: u64, name: Option<String>) {
        self.lock().handle_identity(conn as ConnId, name);
    }

    fn transport_error(&self, conn: u64, reason: &str) {
        let Some(peer) = self.lock().peer_of(conn as ConnId) else {
            return;
        };
        let tx = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = tx.as_ref() {
            let _ = tx.send(BrokerEvent::TransportFailed {
                peer,
                reason: reason.to_string(),
            });
        }
    }

    fn timeout(&self, now: Instant) {
        let mut b = self.lock();
        b.handle_timeout(now);
        self.drain_events(&mut b);
    }

    fn output(&self, out: &mut Vec<(u64, Bytes)>, close: &mut Vec<u64>) -> Option<Instant> {
        let mut b = self.lock();
        let mut chunks = Vec::new();
        if let Some(d) = &self.store {
            let mut d = d.lock().unwrap_or_else(|e| e.into_inner());
            if self.hold(&mut b, &mut d).is_some() {
                let done = d.store.committed();
                while d.held.front().is_some_and(|h| h.0 <= done) {
                    if let Some((_, o, c)) = d.held.pop_front() {
                        out.extend(o);
                        close.extend(c);
                    }
                }
            }
            if self.halted.load(Ordering::Relaxed) {
                while b.poll_transmit_bytes(&mut chunks).is_some() {
                    chunks.clear();
                }
            }
        }
        while let Some(conn) = b.poll_transmit_bytes(&mut chunks) {
            if is_internal(conn) {
                b.bridge_output(conn, &mut chunks, Instant::now());
                continue;
            }
            out.extend(chunks.drain(..).map(|c| (conn as u64, c)));
        }
        while let Some(conn) = b.poll_close() {
            if is_internal(conn) {
                b.handle_closed(conn, Instant::now());
                continue;
            }
            close.push(conn as u64);
        }
        self.drain_events(&mut b);
        b.poll_timeout()
    }
}

impl Host for Shared {
    fn with_broker(&self, f: &mut dyn FnMut(&mut Broker, Instant)) {
        Shared::with_broker(self, |b, now| f(b, now));
    }

    fn log(&self, warning: bool, line: &str) {
        if let Some(h) = &self.hooks {
            h.on_bridge_log(warning, line);
        }
    }
}

/// An embedded broker: configured at creation, serving between `start` and
/// `stop`.
pub struct Server {
    shared: Arc<Shared>,
    listen: Vec<String>,
    ports: Vec<u16>,
    running: bool,
    /// The Prometheus endpoint while running, when configured.
    metrics: Option<MetricsServer>,
    dispatcher: Option<JoinHandle<()>>,
    /// Bridges to run while serving, and those running.
    bridge_confs: Vec<BridgeConf>,
    bridges: Vec<Bridge>,
    reactor: ReactorRef,
}

static NEXT_BROKER_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Server {
    /// A broker listening (once started) on each `host:port` of `listen`
    /// (port 0 picks a free port). `hooks` are asked on a dispatcher thread.
    pub fn new(
        mut config: BrokerConfig,
        listen: Vec<String>,
        hooks: Option<Arc<dyn Hooks>>,
    ) -> io::Result<Server> {
        if listen.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "no listener"));
        }
        for l in &listen {
            parse_listen(l)?;
        }
        config.hooks = hooks.as_ref().map(|h| h.wants()).unwrap_or_default();
        let reactor = ReactorRef::acquire()?;
        let (tx, rx) = match hooks.is_some() {
            true => {
                let (tx, rx) = crossbeam_channel::unbounded();
                (Some(tx), Some(rx))
            }
            false => (None, None),
        };
        let id = NEXT_BROKER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut broker = Broker::new(config);
        let store = match broker.config().persistence.clone() {
            Some(path) => {
                let mut store = Store::open(&path)?;
                store.restore(&mut broker, Instant::now())?;
                // After each commit the reactor collects what it released.
                let r = reactor.handle();
                store.start(Box::new(move || {
                    r.send(Command::BrokerFlush { id });
                }))?;
                Some(Mutex::new(Durable {
                    store,
                    held: VecDeque::new(),
                }))
            }
            None => None,
        };
        let shared = Arc::new(Shared {
            broker: Mutex::new(broker),
            store,
            halted: AtomicBool::new(false),
            events: Mutex::new(tx),
            reactor: reactor.handle(),
            id,
            transports: Mutex::new(Vec::new()),
            hooks: hooks.clone(),
        });
        let dispatcher = match (hooks, rx) {
            (Some(h), Some(rx)) => {
                let s = Arc::downgrade(&shared);
                Some(
                    std::thread::Builder::new()
                        .name("ferromq-broker-hooks".into())
                        .spawn(move || dispatch(h, rx, s))?,
                )
            }
            _ => None,
        };
        Ok(Server {
            shared,
            listen,
            ports: Vec::new(),
            running: false,
            metrics: None,
            dispatcher,
            bridge_confs: Vec::new(),
            bridges: Vec::new(),
            reactor,
        })
    }

    /// Bind every listener and start serving. Fails if one cannot be bound.
    pub fn start(&mut self) -> io::Result<()> {
        if self.running {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "already started",
            ));
        }
        let mut listeners = Vec::new();
        let mut ports = Vec::new();
        for l in &self.listen {
            let addr = parse_listen(l)?;
            let socket = TcpListener::bind(addr)?;
            ports.push(socket.local_addr()?.port());
            listeners.push(socket);
        }
        let metrics_addr = self.shared.lock().config().metrics_listener;
        if let Some(addr) = metrics_addr {
            let shared = Arc::downgrade(&self.shared);
            let started = Instant::now();
            let snapshot = move || {
                let stats = shared.upgrade()?.lock().stats();
                Some(super::metrics::render(&stats, started.elapsed()))
            };
            self.metrics = Some(MetricsServer::start(addr, snapshot)?);
        }
        let endpoint: Arc<dyn BrokerEndpoint> = self.shared.clone();
        self.reactor.send(Command::BrokerAdd {
            id: self.shared.id,
            endpoint,
            listeners,
        });
        self.ports = ports;
        self.running = true;
        self.shared.with_broker(|b, now| b.handle_start(now));
        for conf in self.bridge_confs.clone() {
            self.bridges.push(Bridge::start(conf, self.shared.clone())?);
        }
        Ok(())
    }

    /// Add a bridge: it runs while the broker serves (from now on, if it
    /// is serving). Its name must be new and its options complete.
    pub fn add_bridge(&mut self, conf: BridgeConf) -> io::Result<()> {
        conf.check()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        if self.bridge_confs.iter().any(|b| b.name == conf.name) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("a bridge named '{}' already exists", conf.name),
            ));
        }
        if self.running {
            self.bridges
                .push(Bridge::start(conf.clone(), self.shared.clone())?);
        }
        self.bridge_confs.push(conf);
        Ok(())
    }

    /// The running bridges.
    pub fn bridges(&self) -> &[Bridge] {
        &self.bridges
    }

    /// Where the Prometheus endpoint listens (after `start`, when configured).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|m| m.addr())
    }

    /// The ports actually bound, in listener order (after `start`).
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Close every connection (MQTT 5 clients get DISCONNECT 0x8B) and every
    /// listener; returns once the reactor has let go of them.
    pub fn stop(&mut self) -> io::Result<()> {
        if !self.running {
            return Err(io::Error::new(io::ErrorKind::NotConnected, "not started"));
        }
        self.bridges.clear();
        self.shared.with_broker(|b, now| b.shutdown(now));
        // With a store, the shutdown's output waits for its commit: let it
        // be durable before the reactor lets go of the sockets.
        self.shared.settle_store(Duration::from_secs(5));
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.reactor.send(Command::BrokerRemove {
            id: self.shared.id,
            done: tx,
        });
        let _ = rx.recv_timeout(Duration::from_secs(10));
        if let Some(mut m) = self.metrics.take() {
            m.stop();
        }
        self.running = false;
        self.ports.clear();
        Ok(())
    }

    /// Inject a message as if a client had published it.
    pub fn publish(
        &self,
        topic: &str,
        payload: Bytes,
        qos: QoS,
        retain: bool,
        properties: &Properties,
    ) -> Result<(), ReasonCode> {
        self.shared
            .with_broker(|b, now| b.publish(topic, payload, qos, retain, properties, now))
    }

    /// Replaces the configuration of a running broker (a reload): limits
    /// and `auth` apply from the next packet on; connections and sessions
    /// stay; the host hooks stay as they are.
    pub fn reconfigure(&self, config: BrokerConfig) {
        self.shared.with_broker(|b, _| b.reconfigure(config));
    }

    /// Make listener `index` speak TLS and/or WebSocket as `spec` says,
    /// reading its certificates now. On a running broker this is a reload:
    /// new connections get the new settings, open ones keep theirs. On
    /// error the listener keeps what it had.
    pub fn set_listener(&self, index: usize, spec: &ListenerSpec) -> Result<(), String> {
        if index >= self.listen.len() {
            return Err(format!("no listener {index}"));
        }
        let t = match *spec == ListenerSpec::default() {
            true => None,
            false => Some(Arc::new(ListenerTransport::new(spec)?)),
        };
        let mut all = self
            .shared
            .transports
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if all.len() <= index {
            all.resize(index + 1, None);
        }
        all[index] = t;
        Ok(())
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.running {
            let _ = self.stop();
        }
        // The dispatcher holds only a weak reference and the one sender of
        // its channel lives here: dropping it ends the dispatcher's loop.
        let dispatcher = self.dispatcher.take();
        drop(
            self.shared
                .events
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        if let Some(d) = dispatcher
            && d.thread().id() != std::thread::current().id()
        {
            let _ = d.join();
        }
    }
}

/// `host:port` → a socket address (resolved on the caller's thread).
pub fn parse_listen(s: &str) -> io::Result<SocketAddr> {
    s.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad listen address '{s}'"),
        )
    })
}

fn dispatch(hooks: Arc<dyn Hooks>, rx: Receiver<BrokerEvent>, shared: std::sync::Weak<Shared>) {
    let mut peers = std::collections::HashMap::new();
    while let Ok(ev) = rx.recv() {
        let decision = match ev {
            BrokerEvent::ConnectRequest {
                conn,
                client_id,
                username,
                password,
                peer,
                version,
            } => {
                peers.insert(conn, peer);
                let info = ConnectInfo {
                    client_id,
                    username,
                    password,
                    peer,
                    version,
                };
                Some((conn, Decision::Connect(hooks.on_connect(&info))))
            }
            BrokerEvent::PublishRequest {
                conn,
                client_id,
                topic,
                payload,
                qos,
                retain,
                properties,
            } => {
                let info = PublishInfo {
                    client_id,
                    topic,
                    payload,
                    qos,
                    retain,
                    properties,
                };
                Some((conn, Decision::Publish(hooks.on_publish(&info))))
            }
            BrokerEvent::SubscribeRequest {
                conn,
                client_id,
                filters,
            } => {
                let codes = filters
                    .iter()
                    .map(|(f, q)| {
                        let code = hooks.on_subscribe(&client_id, f, *q);
                        // Never grant more than was asked for.
                        if code.is_success() && code.0 > *q as u8 {
                            ReasonCode(*q as u8)
                        } else {
                            code
                        }
                    })
                    .collect();
                Some((conn, Decision::Subscribe(codes)))
            }
            BrokerEvent::Connected {
                conn,
                client_id,
                version,
            } => {
                hooks.on_connected(&client_id, version, peers.get(&conn).copied());
                None
            }
            BrokerEvent::Disconnected {
                conn,
                client_id,
                cause,
            } => {
                peers.remove(&conn);
                hooks.on_disconnect(&client_id, cause);
                None
            }
            BrokerEvent::QueueFull { client_id } => {
                hooks.on_queue_full(&client_id);
                None
            }
            BrokerEvent::TransportFailed { peer, reason } => {
                hooks.on_transport_error(peer, &reason);
                None
            }
            BrokerEvent::StoreFailed { error } => {
                hooks.on_store_failure(&error);
                None
            }
        };
        if let Some((conn, d)) = decision {
            let Some(s) = shared.upgrade() else { return };
            s.with_broker(|b, now| b.handle_decision(conn, d, now));
        }
    }
}
