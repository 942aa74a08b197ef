//! The state one client shares between its API threads and the reactor: the
//! session behind one lock, a condition variable for waiters, and the routing
//! of session events to waiters, the receive queue and the dispatcher.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::dispatch::{Dispatch, Dispatcher, Registry};
use super::pending::{Failure, Requests, Success};
use super::sync::{AckResult, Message};
use super::trace::{self, trace};
use crate::protocol::codec::{ConnAck, Publish};
use crate::protocol::session::client::{ClientSession, CloseReason, Event};
use crate::reactor::{ClientDrive, ClientEndpoint, Command, Reactor};

/// Where the current connection attempt or connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// No connection.
    Idle,
    /// TCP connect or CONNACK outstanding.
    Connecting,
    Connected,
    /// CONNACK refused the connection with this code.
    Refused(ConnAck),
    /// The attempt failed (transport error, timeout, protocol error).
    Failed(String),
}

/// Everything behind the client's one lock.
pub struct Core {
    /// Id of the current connection in the reactor (0: none).
    pub conn_id: u64,
    pub session: Option<ClientSession>,
    pub phase: Phase,
    pub connack: Option<ConnAck>,
    /// SUBACK/UNSUBACK results by packet id, taken by the waiting call.
    pub acks: HashMap<u16, AckResult>,
    /// Outgoing QoS 1/2 publishes not yet complete, by packet id.
    pub pending: Vec<u16>,
    /// Receive mode: messages waiting for `receive`.
    pub inbox: VecDeque<(String, Message)>,
    pub dispatcher: Option<Dispatcher>,
    /// Our own DISCONNECT is under way: no connectionLost for it.
    pub disconnecting: bool,
    /// The session's next timer (for the reactor).
    pub timeout: Option<Instant>,
    /// MQTTAsync semantics: completions by callback, publishes via `requests`.
    pub async_mode: bool,
    pub requests: Requests,
    /// The connection dropped without our asking (automatic reconnect cue).
    pub lost: bool,
    /// The handle is being destroyed: connect attempts stop.
    pub destroyed: bool,
}

/// Shared by the handle, its waiters, the dispatcher and the reactor.
pub struct Shared {
    core: Mutex<Core>,
    pub cond: Condvar,
    pub callbacks: Arc<Registry>,
    pub reactor: Arc<Reactor>,
    flush_pending: AtomicBool,
}

static NEXT_CONN_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh connection id.
pub fn next_conn_id() -> u64 {
    NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed)
}

impl Shared {
    pub fn new(reactor: Arc<Reactor>) -> Arc<Shared> {
        Arc::new(Shared {
            core: Mutex::new(Core {
                conn_id: 0,
                session: None,
                phase: Phase::Idle,
                connack: None,
                acks: HashMap::new(),
                pending: Vec::new(),
                inbox: VecDeque::new(),
                dispatcher: None,
                disconnecting: false,
                timeout: None,
                async_mode: false,
                requests: Requests::default(),
                lost: false,
                destroyed: false,
            }),
            cond: Condvar::new(),
            callbacks: Arc::new(Registry::default()),
            reactor,
            flush_pending: AtomicBool::new(false),
        })
    }

    /// Lock the core (a poisoned lock is still usable: no invariant spans a panic).
    pub fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
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
            if now >= deadline {
                return (guard, false);
            }
            guard = match self.cond.wait_timeout(guard, deadline - now) {
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

    /// Start a connection attempt to `addr` for the session already in `core`.
    pub fn start_connect(self: &Arc<Self>, core: &mut Core, addr: std::net::SocketAddr) -> u64 {
        let id = next_conn_id();
        core.conn_id = id;
        core.phase = Phase::Connecting;
        core.connack = None;
        let endpoint = Arc::new(Link {
            shared: self.clone(),
            id,
        });
        self.reactor
            .send(Command::ClientConnect { id, addr, endpoint });
        id
    }

    /// Close the current connection (if any) without waiting.
    pub fn close_connection(&self, core: &mut Core) {
        if core.conn_id != 0 {
            self.reactor.send(Command::ClientClose { id: core.conn_id });
            core.conn_id = 0;
        }
        if matches!(core.phase, Phase::Connecting | Phase::Connected) {
            core.phase = Phase::Idle;
        }
        core.timeout = None;
    }
}

/// The reactor's view of one connection of a client.
struct Link {
    shared: Arc<Shared>,
    id: u64,
}

impl ClientEndpoint for Link {
    fn drive(&self, _now: Instant, f: &mut dyn FnMut(&mut ClientSession)) -> ClientDrive {
        let shared = &self.shared;
        let mut core = shared.lock();
        if core.conn_id != self.id {
            return ClientDrive {
                closed: true,
                timeout: None,
            };
        }
        shared.flush_pending.store(false, Ordering::Release);
        let Some(session) = core.session.as_mut() else {
            return ClientDrive {
                closed: true,
                timeout: None,
            };
        };
        f(session);
        let mut events = Vec::new();
        while let Some(ev) = session.poll_event() {
            events.push(ev);
        }
        let timeout = session.poll_timeout();
        core.timeout = timeout;
        let mut closed = false;
        let mut notify = false;
        let mut more = false;
        for ev in events {
            notify |= route(shared, &mut core, ev, &mut closed, &mut more);
        }
        let id = core.conn_id;
        drop(core);
        if more && !closed {
            // Buffered publishes went into the session after an ack freed
            // the window: have the reactor transmit them.
            shared.request_flush(id);
        }
        if notify {
            shared.cond.notify_all();
        }
        ClientDrive { closed, timeout }
    }

    fn transport_failed(&self, error: &io::Error) {
        let mut core = self.shared.lock();
        if core.conn_id == self.id && core.phase == Phase::Connecting {
            trace!(trace::ERROR, "connect failed: {error}");
            core.phase = Phase::Failed(error.to_string());
            drop(core);
            self.shared.cond.notify_all();
        }
    }
}

/// Route one session event. Returns true when waiters must be woken.
fn route(shared: &Shared, core: &mut Core, ev: Event, closed: &mut bool, more: &mut bool) -> bool {
    let dispatch = |core: &Core, d: Dispatch| {
        if let Some(disp) = core.dispatcher.as_ref() {
            let _ = disp.tx.send(d);
        }
    };
    match ev {
        Event::Connected(ack) => {
            trace!(
                trace::PROTOCOL,
                "CONNACK session_present={} rc={}", ack.session_present, ack.code.0
            );
            core.phase = Phase::Connected;
            core.connack = Some(ack);
            true
        }
        Event::ConnectRefused(ack) => {
            trace!(trace::PROTOCOL, "CONNACK refused rc={}", ack.code.0);
            core.phase = Phase::Refused(ack);
            true
        }
        Event::Message(p) => {
            trace!(
                trace::PROTOCOL,
                "PUBLISH in topic={} qos={} len={}",
                p.topic,
                p.qos as u8,
                p.payload.len()
            );
            let (topic, msg) = to_message(p);
            if shared.callbacks.has_main() {
                dispatch(core, Dispatch::Message(topic, msg));
                false
            } else if core.async_mode {
                // MQTTAsync has no receive call: with no messageArrived
                // callback a message has nowhere to go (Paho drops it too).
                false
            } else {
                core.inbox.push_back((topic, msg));
                true
            }
        }
        Event::PublishComplete {
            packet_id,
            reason,
            properties,
        } => {
            if core.async_mode {
                let Some(w) = core.requests.waiting.remove(&packet_id) else {
                    return true;
                };
                if shared.callbacks.has_main() {
                    dispatch(core, Dispatch::DeliveryComplete(w.token));
                }
                if let Some(cb) = w.on_complete {
                    let (topic, message) = w.publish.unwrap_or_default();
                    let res = if reason.is_success() {
                        Ok(Success::Publish {
                            topic,
                            message,
                            reason,
                            properties,
                        })
                    } else {
                        Err(Failure {
                            code: -1,
                            reason,
                            properties,
                            message: Some("publish refused by the server".into()),
                        })
                    };
                    let token = w.token;
                    dispatch(core, Dispatch::Run(Box::new(move || cb(token, res))));
                }
                *more |= drain_requests(core);
                return true;
            }
            core.pending.retain(|&id| id != packet_id);
            if shared.callbacks.has_main() {
                dispatch(core, Dispatch::DeliveryComplete(i32::from(packet_id)));
            }
            if shared.callbacks.has_published() {
                dispatch(
                    core,
                    Dispatch::Published(i32::from(packet_id), 0, properties, reason),
                );
            }
            true
        }
        Event::SubAck(s) => {
            if let Some(w) = core.requests.waiting.remove(&s.packet_id) {
                complete_ack(core, w, s.codes, s.properties);
                return true;
            }
            core.acks.insert(
                s.packet_id,
                AckResult {
                    codes: s.codes,
                    properties: s.properties,
                },
            );
            true
        }
        Event::UnsubAck(u) => {
            if let Some(w) = core.requests.waiting.remove(&u.packet_id) {
                complete_ack(core, w, u.codes, u.properties);
                return true;
            }
            core.acks.insert(
                u.packet_id,
                AckResult {
                    codes: u.codes,
                    properties: u.properties,
                },
            );
            true
        }
        Event::ServerDisconnect(d) => {
            trace!(trace::PROTOCOL, "DISCONNECT from server rc={}", d.reason.0);
            if shared.callbacks.has_disconnected() {
                dispatch(core, Dispatch::Disconnected(d.properties, d.reason));
            }
            false
        }
        Event::Auth(_) => false,
        Event::Closed(reason) => {
            *closed = true;
            trace!(trace::MINIMUM, "connection closed: {reason:?}");
            let was_connected = core.phase == Phase::Connected;
            match &core.phase {
                Phase::Connecting => core.phase = Phase::Failed(format!("{reason:?}")),
                Phase::Refused(_) => {}
                _ => core.phase = Phase::Idle,
            }
            core.conn_id = 0;
            core.timeout = None;
            let asked = core.disconnecting || reason == CloseReason::ClientDisconnect;
            if core.async_mode {
                for (token, cb, res) in core.requests.fail_acks() {
                    dispatch(core, Dispatch::Run(Box::new(move || cb(token, res))));
                }
            }
            if was_connected && !asked {
                core.lost = true;
            }
            // As Paho: a server's DISCONNECT goes to the disconnected
            // callback when there is one, not also to connectionLost.
            let told =
                reason == CloseReason::ServerDisconnect && shared.callbacks.has_disconnected();
            if was_connected && !asked && !told && shared.callbacks.has_main() {
                let cause = match reason {
                    CloseReason::KeepAliveTimeout => Some("keepalive timeout".to_string()),
                    CloseReason::ProtocolError(t) => Some(t),
                    _ => None,
                };
                dispatch(core, Dispatch::ConnectionLost(cause));
            }
            true
        }
    }
}

/// Run a SUBACK/UNSUBACK completion on the dispatcher.
fn complete_ack(
    core: &Core,
    w: super::pending::Waiting,
    codes: Vec<crate::protocol::codec::ReasonCode>,
    properties: crate::protocol::codec::Properties,
) {
    if let Some(cb) = w.on_complete {
        let token = w.token;
        let res = Ok(Success::Ack(AckResult { codes, properties }));
        if let Some(d) = core.dispatcher.as_ref() {
            let _ = d.tx.send(Dispatch::Run(Box::new(move || cb(token, res))));
        }
    }
}

/// Give buffered publishes to the session while its window has room and
/// queue the completions of those already done. True if any was sent.
pub fn drain_requests(core: &mut Core) -> bool {
    let Some(session) = core.session.as_mut() else {
        return false;
    };
    let before = core.requests.buffer.len();
    let done = core.requests.drain(session, Instant::now());
    let sent = core.requests.buffer.len() != before;
    for (token, cb, res) in done {
        if let Some(d) = core.dispatcher.as_ref() {
            let _ = d.tx.send(Dispatch::Run(Box::new(move || cb(token, res))));
        }
    }
    sent
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
        },
    )
}

/// A deadline `d` from now, saturating far in the future.
pub fn deadline(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or(now + Duration::from_secs(86400 * 365))
}
