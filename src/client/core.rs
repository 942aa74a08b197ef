//! The state one client shares between its API threads, the resolver, the
//! dispatcher and the reactor: the session and its parts behind one lock,
//! a condition variable for waiters, and the reactor's view of a connection.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::connect::{self, Engine};
use super::dispatch::{Dispatch, Dispatcher, Registry};
use super::error::ClientError;
use super::pending::Requests;
use super::persistence::ClientStore;
use super::route::{self, Effects};
use super::sync::{AckResult, ConnectResult, Message};
use super::trace::{self, trace};
use crate::protocol::codec::Publish;
use crate::protocol::session::client::ClientSession;
use crate::reactor::{ClientDrive, ClientEndpoint, Command, Reactor};

/// Where the client's connection stands. One field, one owner: the engine
/// (`connect.rs`) moves it; everything else only reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// No connection and no attempt.
    #[default]
    Idle,
    /// A connect attempt is under way (resolve, TCP, CONNACK).
    Connecting,
    Connected,
    /// Our DISCONNECT is being prepared or sent: no connectionLost for it.
    Disconnecting,
}

/// The synchronous API's results, taken by the waiting call.
#[derive(Default)]
pub struct SyncResults {
    /// SUBACK/UNSUBACK results by packet id.
    pub acks: HashMap<u16, AckResult>,
    /// Outgoing QoS 1/2 publishes not yet complete, by packet id.
    pub pending: Vec<u16>,
    /// Receive mode: messages waiting for `receive`.
    pub inbox: VecDeque<(String, Message)>,
    /// The outcome of the last connect attempt, by attempt id.
    pub connect: Option<(u64, Result<ConnectResult, ClientError>)>,
    /// Disconnect requests completed, by request id.
    pub disconnected: Option<u64>,
    /// TLS failures of the connect under way, for its `ssl_error_cb`.
    pub tls_errors: Vec<String>,
}

/// Everything behind the client's one lock, in parts with one owner each:
/// the link to the reactor (`conn_id`, `timeout`, `input_paused`: private,
/// moved only by `Shared` and the reactor's `Link` here), the protocol
/// session, the connect engine's state (`engine`: `connect.rs`), and the
/// APIs' own tables (`requests`, `sync`, `dispatcher`, `async_mode`: the
/// sync and async front ends, read by routing).
pub struct Core {
    /// Id of the current connection in the reactor (0: none). Owned by
    /// `Shared::start_connect`/`close_connection` and the Closed event.
    conn_id: u64,
    pub session: Option<ClientSession>,
    /// The connect engine's state (owned by `connect.rs`).
    pub engine: Engine,
    /// The synchronous API's results (made on first use: an MQTTAsync
    /// client never needs them).
    sync: Option<Box<SyncResults>>,
    /// MQTTAsync semantics: completions by callback, publishes via `requests`.
    pub async_mode: bool,
    pub requests: Requests,
    pub dispatcher: Option<Dispatcher>,
    /// The session's next timer (for the reactor).
    timeout: Option<Instant>,
    /// Input from the socket is held back until the consumer catches up.
    input_paused: bool,
    /// The client's persistence (DEFAULT or USER), if any.
    pub store: Option<Box<ClientStore>>,
}

impl Core {
    pub(crate) fn new() -> Core {
        Core {
            conn_id: 0,
            session: None,
            engine: Engine::default(),
            sync: None,
            async_mode: false,
            requests: Requests::default(),
            dispatcher: None,
            timeout: None,
            input_paused: false,
            store: None,
        }
    }

    /// Id of the current connection in the reactor (0: none).
    pub fn conn_id(&self) -> u64 {
        self.conn_id
    }

    /// Give back the memory of empty request tables (many idle clients).
    pub fn release_idle(&mut self) {
        let r = &mut self.requests;
        r.waiting.release_if_empty();
        if r.buffer.is_empty() && r.buffer.capacity() > 0 {
            r.buffer = VecDeque::new();
        }
        if let Some(s) = self.sync.as_mut() {
            if s.acks.is_empty() && s.acks.capacity() > 0 {
                s.acks = HashMap::new();
            }
            if s.pending.is_empty() && s.pending.capacity() > 0 {
                s.pending = Vec::new();
            }
        }
    }

    /// The synchronous API's results, made on first use.
    pub fn sync(&mut self) -> &mut SyncResults {
        self.sync.get_or_insert_with(Default::default)
    }

    /// The synchronous API's results, if any were ever made.
    pub fn sync_ref(&self) -> Option<&SyncResults> {
        self.sync.as_deref()
    }

    /// Queue a callback on this client's serial queue (if it has one).
    /// Returns false when the queue is past its high-water mark.
    pub fn dispatch(&self, d: Dispatch) -> bool {
        match self.dispatcher.as_ref() {
            Some(q) => q.push(d),
            None => true,
        }
    }
}

/// Shared by the handle, its waiters, the dispatcher, the resolver and the
/// reactor.
pub struct Shared {
    core: Mutex<Core>,
    pub cond: Condvar,
    pub callbacks: Arc<Registry>,
    pub reactor: Arc<Reactor>,
    flush_pending: AtomicBool,
    /// The fork generation the handle was made in (see `crate::fork`).
    pub generation: u64,
}

static NEXT_CONN_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh connection (or attempt, or request) id.
pub fn next_conn_id() -> u64 {
    NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed)
}

impl Shared {
    pub fn new(reactor: Arc<Reactor>) -> Arc<Shared> {
        Arc::new(Shared {
            core: Mutex::new(Core::new()),
            cond: Condvar::new(),
            callbacks: Arc::new(Registry::default()),
            reactor,
            flush_pending: AtomicBool::new(false),
            generation: crate::fork::generation(),
        })
    }

    /// Lock the core (a poisoned lock is still usable: no invariant spans a panic).
    pub fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// False when the handle cannot be used here: it was made before a
    /// fork() (this is the child), or the reactor died.
    pub fn usable(&self) -> bool {
        self.generation == crate::fork::generation() && self.reactor.is_alive()
    }

    /// Wait on the condition variable until `done` holds or `deadline` passes.
    /// Returns the guard and whether `done` held.
    pub fn wait_until<'a>(
        &'a self,
        mut guard: MutexGuard<'a, Core>,
        deadline: Instant,
        mut done: impl FnMut(&mut Core) -> bool,
    ) -> (MutexGuard<'a, Core>, bool) {
        loop {
            if done(&mut guard) {
                return (guard, true);
            }
            let now = Instant::now();
            if now >= deadline || !self.reactor.is_alive() {
                return (guard, false);
            }
            // Bounded slices: a reactor that dies wakes nobody.
            let slice = (deadline - now).min(Duration::from_millis(500));
            guard = match self.cond.wait_timeout(guard, slice) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }

    /// Ask the reactor to transmit what the session queued. Coalesced: one
    /// wake-up serves every command queued before the reactor gets to it.
    pub fn request_flush(&self, conn_id: u64) {
        if conn_id != 0 && !self.flush_pending.swap(true, Ordering::AcqRel) {
            self.reactor.send(Command::ClientFlush { id: conn_id });
        }
    }

    /// Start a TCP connection to `addr` for the session already in `core`.
    pub fn start_connect(
        self: &Arc<Self>,
        core: &mut Core,
        dest: crate::reactor::client_socket::Dest,
        transport: Option<Box<crate::reactor::transport::Transport>>,
    ) -> u64 {
        let id = next_conn_id();
        core.conn_id = id;
        core.input_paused = false;
        let endpoint = Arc::new(Link {
            shared: self.clone(),
            id,
        });
        if !self.reactor.send(Command::ClientConnect {
            id,
            dest,
            endpoint,
            transport,
        }) {
            core.conn_id = 0;
        }
        id
    }

    /// Close the current connection (if any) without waiting.
    pub fn close_connection(&self, core: &mut Core) {
        if core.conn_id != 0 {
            self.reactor.send(Command::ClientClose { id: core.conn_id });
            core.conn_id = 0;
        }
        core.timeout = None;
    }

    /// The consumer (dispatcher queue or receive inbox) drained: let the
    /// reactor read this client's socket again.
    pub fn resume_input(&self, core: &mut Core) {
        if core.input_paused {
            core.input_paused = false;
            if core.conn_id != 0 {
                self.reactor
                    .send(Command::ClientResume { id: core.conn_id });
            }
        }
    }
}

/// The reactor's view of one connection of a client.
struct Link {
    shared: Arc<Shared>,
    id: u64,
}

impl ClientEndpoint for Link {
    fn drive(&self, now: Instant, f: &mut dyn FnMut(&mut ClientSession)) -> ClientDrive {
        let shared = &self.shared;
        let mut core = shared.lock();
        if core.conn_id != self.id {
            return ClientDrive {
                closed: true,
                timeout: None,
                pause: false,
            };
        }
        shared.flush_pending.store(false, Ordering::Release);
        let Some(session) = core.session.as_mut() else {
            return ClientDrive {
                closed: true,
                timeout: None,
                pause: false,
            };
        };
        f(session);
        let mut events = Vec::new();
        while let Some(ev) = session.poll_event() {
            events.push(ev);
        }
        session.release_idle_buffers();
        core.timeout = core.session.as_ref().and_then(|s| s.poll_timeout());
        let has = route::Installed::of(&shared.callbacks);
        let mut fx = Effects::default();
        for ev in events {
            route::route(&mut core, &has, ev, &mut fx);
        }
        let pause = apply(shared, &mut core, fx, now);
        let timeout = core.timeout;
        let closed = core.conn_id != self.id;
        drop(core);
        ClientDrive {
            closed,
            timeout,
            pause,
        }
    }

    fn transport_failed(&self, error: &io::Error) {
        let mut core = self.shared.lock();
        if core.conn_id == self.id {
            trace!(trace::ERROR, "connect failed: {error}");
            core.conn_id = 0;
            core.timeout = None;
            connect::connection_failed(&self.shared, &mut core, ClientError::Failure);
            drop(core);
            self.shared.cond.notify_all();
        }
    }

    fn transport_error(&self, reason: &str) {
        let mut core = self.shared.lock();
        if core.conn_id == self.id {
            let tls = core.engine.options().and_then(|o| o.tls.clone());
            super::tls::report(&mut core, tls.as_deref(), reason);
        }
    }

    fn released(&self) {
        let mut core = self.shared.lock();
        if connect::released(&mut core, self.id) {
            drop(core);
            self.shared.cond.notify_all();
        }
    }

    fn reactor_died(&self) {
        let mut core = self.shared.lock();
        if core.conn_id == self.id {
            core.conn_id = 0;
            core.timeout = None;
            connect::reactor_died(&mut core);
            for (token, cb, res) in core.requests.fail_all() {
                core.dispatch(Dispatch::Run(Box::new(move || cb(token, res))));
            }
        }
        drop(core);
        self.shared.cond.notify_all();
    }
}

/// Carry out what routing decided (under the lock). Returns whether the
/// reactor should stop reading this connection.
fn apply(shared: &Arc<Shared>, core: &mut Core, fx: Effects, now: Instant) -> bool {
    // The connection these events came from (a refused CONNACK moves the
    // engine on to a new one, and then the old one's close is no news).
    let conn = core.conn_id;
    let mut full = false;
    for d in fx.dispatch {
        full |= !core.dispatch(d);
    }
    if fx.inbox_full {
        full = true;
    }
    if let Some(outcome) = fx.connect {
        connect::connect_outcome(shared, core, outcome);
    }
    if let Some(reason) = fx.closed
        && core.conn_id == conn
    {
        core.conn_id = 0;
        core.timeout = None;
        connect::closed(shared, core, reason, fx.was_connected, now);
    }
    // A waiting disconnect may go now (checked on every batch: incoming
    // QoS 2 flows end with no event of their own; cheap with none waiting).
    connect::after_ack(shared, core);
    if fx.more && core.conn_id != 0 {
        // Buffered publishes went into the session after an ack freed the
        // window: have the reactor transmit them.
        shared.request_flush(core.conn_id);
    }
    if fx.notify {
        shared.cond.notify_all();
    }
    core.release_idle();
    if full && core.conn_id != 0 {
        // The queue's resume hook (see `resume_hook`) or `receive` undoes
        // this once the application has caught up.
        core.input_paused = true;
        return true;
    }
    false
}

/// What a client's callback queue calls when it has drained after passing
/// its high-water mark: let the reactor read the socket again. Installed
/// once, when the queue is made, so that no drain can come before it.
pub fn resume_hook(shared: &Arc<Shared>) -> Box<dyn Fn() + Send + Sync> {
    let weak = Arc::downgrade(shared);
    Box::new(move || {
        if let Some(s) = weak.upgrade() {
            let mut core = s.lock();
            s.resume_input(&mut core);
        }
    })
}

/// A PUBLISH as the API's (topic, message).
pub fn to_message(p: Publish) -> (String, Message) {
    (
        p.topic,
        Message {
            payload: p.payload,
            qos: p.qos,
            retained: p.retain,
            dup: p.dup,
            msgid: p.packet_id,
            properties: p.properties,
            receipt: None,
        },
    )
}

/// A deadline `d` from now, saturating far in the future.
pub fn deadline(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or(now + Duration::from_secs(86400 * 365))
}
