//! MQTTClient semantics: a handle whose calls block until the reactor reports
//! completion, with optional callbacks on a dispatcher thread.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::connect::{self, Attempt, Finish, Target};
use super::core::{Core, Shared, deadline};
use super::dispatch::{Dispatcher, LOW_WATER, Slots};
use super::error::ClientError;
use super::trace::{self, trace};
use super::uri::{self, Scheme};
use crate::protocol::codec::{Properties, QoS, ReasonCode, SubscriptionOptions, Will};
use crate::protocol::session::client::{ClientSession, SessionError};
use crate::reactor::ReactorRef;

/// What MQTTClient_createWithOptions adds to create.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// MQTTVERSION_DEFAULT (0), 3, 4 or 5. 5 is required for the `*5` calls.
    pub mqtt_version: i32,
}

/// MQTTClient_connectOptions, converted and checked.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub keep_alive: Duration,
    /// cleansession (3.x).
    pub clean_session: bool,
    /// cleanstart (5).
    pub clean_start: bool,
    /// Boxed: most connects have none, and a copy is kept per client.
    pub will: Option<Box<Will>>,
    pub username: Option<String>,
    pub password: Option<Bytes>,
    pub connect_timeout: Duration,
    pub retry_interval: Duration,
    /// MQTTVERSION_DEFAULT (0: 3.1.1 then 3.1), 3, 4 or 5.
    pub mqtt_version: i32,
    /// Tried in turn; empty means the URI given at create.
    pub server_uris: Vec<String>,
    pub max_inflight: u16,
    /// CONNECT properties (MQTT 5).
    pub properties: Properties,
    /// MQTTClient_SSLOptions, when given.
    pub tls: Option<Arc<super::tls::TlsOptions>>,
    /// httpHeaders (version 7+): extra headers of a WebSocket upgrade.
    pub http_headers: Vec<(String, String)>,
    /// httpProxy / httpsProxy (version 8+); when unset, the `http_proxy` /
    /// `https_proxy` environment variables (with `no_proxy`).
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    /// Connect as a bridge (mosquitto's try_private; not in Paho's API).
    pub bridge: bool,
}

/// `returned` of the connect options, plus the MQTT 5 response.
#[derive(Debug, Clone, Default)]
pub struct ConnectResult {
    pub server_uri: String,
    pub mqtt_version: i32,
    pub session_present: bool,
    pub reason: ReasonCode,
    pub properties: Properties,
}

/// An application message as the API sees it.
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub payload: Bytes,
    pub qos: QoS,
    pub retained: bool,
    pub dup: bool,
    pub msgid: u16,
    pub properties: Properties,
    /// What acknowledges it once the application has it (a client with a
    /// store; see `receipt.rs`).
    pub(crate) receipt: Option<super::receipt::Receipt>,
}

/// Result of a publish: the delivery token and the MQTT 5 response.
#[derive(Debug, Clone, Default)]
pub struct PublishResult {
    pub token: i32,
    pub reason: ReasonCode,
    pub properties: Properties,
}

/// SUBACK/UNSUBACK codes (one per filter) and properties.
#[derive(Debug, Clone, Default)]
pub struct AckResult {
    pub codes: Vec<ReasonCode>,
    pub properties: Properties,
}

/// The callbacks of MQTTClient_setCallbacks. They run on the client's
/// dispatcher thread, never on the reactor, with no client lock held.
pub trait Callbacks: Send + Sync {
    /// The connection was lost (not called for a disconnect we asked for).
    fn connection_lost(&self, cause: Option<&str>);
    /// A message arrived. Return true when it was taken; false asks for the
    /// same message to be offered again later (Paho semantics).
    fn message_arrived(&self, topic: &str, message: &Message) -> bool;
    /// A QoS 1/2 publish with this token completed.
    fn delivery_complete(&self, token: i32);
}

/// MQTTClient_setDisconnected: the server sent DISCONNECT (MQTT 5).
pub type DisconnectedFn = Box<dyn Fn(&Properties, ReasonCode) + Send + Sync>;
/// MQTTClient_setPublished: (token, packet type, properties, reason code).
pub type PublishedFn = Box<dyn Fn(i32, i32, &Properties, ReasonCode) + Send + Sync>;

/// A synchronous client handle.
pub struct Client {
    pub(super) shared: Arc<Shared>,
    /// The URI given at create and the client id, shared with every
    /// attempt that uses them.
    create_target: Target,
    create_version: i32,
    command_timeout: std::sync::Mutex<Duration>,
    // Dropped last: keeps the reactor alive while the client exists.
    _reactor: ReactorRef,
}

/// Paho's default for MQTTClient_setCommandTimeout.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

fn session_error(e: SessionError) -> ClientError {
    match e {
        SessionError::NotConnected => ClientError::Disconnected,
        SessionError::InflightFull => ClientError::MaxInflight,
        SessionError::NoPacketId => ClientError::MaxInflight,
        SessionError::Invalid(_) => ClientError::Failure,
    }
}

impl Client {
    /// MQTTClient_create(WithOptions) with persistence NONE: validates the
    /// URI (scheme tcp://, mqtt://, ws://, ssl://, mqtts://, wss:// or none).
    pub fn new(
        server_uri: &str,
        client_id: &str,
        options: CreateOptions,
    ) -> Result<Client, ClientError> {
        let uri = uri::parse(server_uri)?;
        if !matches!(options.mqtt_version, 0 | 3 | 4 | 5) {
            return Err(ClientError::BadMqttVersion);
        }
        trace::init_from_env();
        let reactor = ReactorRef::acquire().map_err(|_| ClientError::Failure)?;
        let shared = Shared::new(Arc::clone(&reactor_arc(&reactor)));
        trace!(trace::MINIMUM, "create client {client_id} for {server_uri}");
        Ok(Client {
            shared,
            create_target: Target {
                uris: Arc::from([(uri, server_uri.to_string())]),
                client_id: Arc::from(client_id),
            },
            create_version: options.mqtt_version,
            command_timeout: std::sync::Mutex::new(DEFAULT_COMMAND_TIMEOUT),
            _reactor: reactor,
        })
    }

    /// Give the client its persistence and read the store back (at create).
    pub fn attach_store(
        &self,
        store: Box<dyn super::persistence::Store>,
    ) -> Result<(), ClientError> {
        self.shared.attach_store(store, None)
    }

    /// The MQTT version given at create (0 = default).
    pub fn create_version(&self) -> i32 {
        self.create_version
    }

    pub(super) fn ensure_dispatcher(&self) -> Result<(), ClientError> {
        let mut core = self.shared.lock();
        if core.dispatcher.is_none() {
            let d = Dispatcher::start(self.shared.callbacks.clone())
                .map_err(|_| ClientError::Failure)?;
            d.on_resume(super::core::resume_hook(&self.shared));
            self.shared
                .callbacks
                .set_settle(super::receipt::settle_hook(&self.shared));
            core.dispatcher = Some(d);
        }
        Ok(())
    }

    /// Put `cb` in a callback slot; a callback needs the dispatcher running.
    fn install(&self, has: bool, set: impl FnOnce(&mut Slots)) -> Result<(), ClientError> {
        self.shared.callbacks.set(set);
        if has {
            self.ensure_dispatcher()
        } else {
            Ok(())
        }
    }

    /// Install (or with `None` remove) callbacks; fails while connected.
    pub fn set_callbacks(&self, callbacks: Option<Box<dyn Callbacks>>) -> Result<(), ClientError> {
        if self.shared.lock().engine.connected() {
            return Err(ClientError::Failure);
        }
        self.install(callbacks.is_some(), |s| s.main = callbacks.map(Arc::from))
    }

    /// MQTTClient_setDisconnected.
    pub fn set_disconnected(&self, cb: Option<DisconnectedFn>) -> Result<(), ClientError> {
        self.install(cb.is_some(), |s| s.disconnected = cb.map(Arc::new))
    }

    /// MQTTClient_setPublished.
    pub fn set_published(&self, cb: Option<PublishedFn>) -> Result<(), ClientError> {
        self.install(cb.is_some(), |s| s.published = cb.map(Arc::new))
    }

    /// Where a connect with `options` goes: its serverURIs, else the
    /// URI given at create.
    pub(super) fn target(&self, options: &ConnectOptions) -> Result<Target, ClientError> {
        // As Paho: a client created for a TLS URI needs SSL options.
        let create_uri = &self.create_target.uris[0].0;
        if matches!(create_uri.scheme, Scheme::Tls | Scheme::WebSocketTls) && options.tls.is_none()
        {
            return Err(ClientError::NullParameter);
        }
        if options.server_uris.is_empty() {
            return Ok(self.create_target.clone());
        }
        let mut uris = Vec::with_capacity(options.server_uris.len());
        for u in &options.server_uris {
            uris.push((uri::parse(u)?, u.clone()));
        }
        Ok(Target {
            uris: uris.into(),
            client_id: self.create_target.client_id.clone(),
        })
    }

    /// Fail at once when this handle cannot be used (made before a fork()
    /// in a parent process, or its reactor died).
    pub(super) fn check(&self) -> Result<(), ClientError> {
        if self.shared.usable() {
            Ok(())
        } else {
            Err(ClientError::Failure)
        }
    }

    /// True when the handle was made in another process (before a fork()).
    pub fn is_stale(&self) -> bool {
        self.shared.generation != crate::fork::generation()
    }

    /// Connect and wait for CONNACK (or failure). The attempt runs on the
    /// connect engine (resolver, reactor); this thread only waits.
    pub fn connect(&self, options: ConnectOptions) -> Result<ConnectResult, ClientError> {
        self.check()?;
        let target = self.target(&options)?;
        let tries = target.uris.len() * connect::versions(options.mqtt_version)?.len();
        let per_try = if options.connect_timeout.is_zero() {
            Duration::from_secs(30)
        } else {
            options.connect_timeout
        };
        let limit = per_try
            .saturating_mul(u32::try_from(tries).unwrap_or(u32::MAX))
            .saturating_add(Duration::from_secs(5));
        let on_tls_error = options.tls.as_ref().and_then(|t| t.error_cb.clone());
        let attempt = Attempt::new(target, Arc::new(options), Finish::Sync)?;
        let id = attempt.id;
        let mut core = self.shared.lock();
        if core.engine.destroyed() {
            return Err(ClientError::Failure);
        }
        // A connect on a connected client starts over.
        connect::stop(&self.shared, &mut core);
        core.sync().connect = None;
        connect::begin(&self.shared, &mut core, attempt);
        let (mut core, _) = self.shared.wait_until(core, deadline(limit), |c| {
            c.sync().connect.as_ref().is_some_and(|(i, _)| *i == id)
        });
        let r = match core.sync().connect.take() {
            Some((i, r)) if i == id => r,
            _ => {
                // Gave up waiting: stop the attempt.
                connect::stop(&self.shared, &mut core);
                Err(ClientError::Failure)
            }
        };
        // ssl_error_cb runs here, on the caller's thread before connect
        // returns (as Paho's does), with no lock held.
        let tls_errors = std::mem::take(&mut core.sync().tls_errors);
        drop(core);
        if let Some(cb) = on_tls_error {
            for reason in &tls_errors {
                cb(reason);
            }
        }
        r
    }

    /// Disconnect, letting in-flight work finish for up to `timeout`.
    pub fn disconnect(
        &self,
        timeout: Duration,
        reason: ReasonCode,
        properties: Properties,
    ) -> Result<(), ClientError> {
        self.check()?;
        let mut core = self.shared.lock();
        if !core.engine.connected() {
            connect::stop(&self.shared, &mut core);
            return Err(ClientError::Disconnected);
        }
        let id =
            connect::start_disconnect(&self.shared, &mut core, timeout, reason, properties, None);
        let until = deadline(timeout.saturating_add(Duration::from_secs(3)));
        let (mut core, _) = self
            .shared
            .wait_until(core, until, |c| c.sync().disconnected == Some(id));
        let done = core.sync().disconnected == Some(id);
        connect::disconnect_waited(&self.shared, &mut core, done);
        Ok(())
    }

    pub fn is_connected(&self) -> bool {
        self.shared.usable() && self.shared.lock().engine.connected()
    }

    /// Queue a publish; the token completes on PUBACK/PUBCOMP (QoS 0: once written).
    pub fn publish(
        &self,
        topic: &str,
        payload: Bytes,
        qos: QoS,
        retained: bool,
        properties: Properties,
    ) -> Result<PublishResult, ClientError> {
        self.check()?;
        let mut core = self.shared.lock();
        // As Paho: a full in-flight window blocks the publisher until an
        // acknowledgement frees a slot (or the connection goes).
        let pid = loop {
            if !core.engine.connected() {
                return Err(ClientError::Disconnected);
            }
            let Some(s) = core.session.as_mut() else {
                return Err(ClientError::Disconnected);
            };
            let r = s.publish(
                topic.to_string(),
                payload.clone(),
                qos,
                retained,
                properties.clone(),
                Instant::now(),
            );
            match r {
                Ok(pid) => break pid,
                Err(SessionError::InflightFull) => {
                    if !self.shared.reactor.is_alive() {
                        return Err(ClientError::Disconnected);
                    }
                    core = match self
                        .shared
                        .cond
                        .wait_timeout(core, Duration::from_millis(500))
                    {
                        Ok((g, _)) => g,
                        Err(e) => e.into_inner().0,
                    };
                }
                Err(e) => return Err(session_error(e)),
            }
        };
        let id = core.conn_id();
        if qos != QoS::AtMostOnce {
            core.persist_sent(pid);
            core.sync().pending.push(pid);
        }
        drop(core);
        self.shared.request_flush(id);
        Ok(PublishResult {
            token: i32::from(pid),
            reason: ReasonCode::SUCCESS,
            properties: Properties::default(),
        })
    }

    fn request(
        &self,
        f: impl FnOnce(&mut ClientSession, Instant) -> Result<u16, SessionError>,
    ) -> Result<AckResult, ClientError> {
        self.check()?;
        let mut core = self.shared.lock();
        if !core.engine.connected() {
            return Err(ClientError::Disconnected);
        }
        let id = core.conn_id();
        let s = core.session.as_mut().ok_or(ClientError::Disconnected)?;
        let pid = f(s, Instant::now()).map_err(session_error)?;
        drop(core);
        self.shared.request_flush(id);
        let timeout = *self
            .command_timeout
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let core = self.shared.lock();
        let (mut core, _) = self
            .shared
            .wait_until(core, deadline(timeout), |c: &mut Core| {
                c.sync().acks.contains_key(&pid) || c.conn_id() != id
            });
        core.sync().acks.remove(&pid).ok_or(ClientError::Failure)
    }

    /// Subscribe and wait for SUBACK.
    pub fn subscribe_many(
        &self,
        filters: Vec<(String, SubscriptionOptions)>,
        properties: Properties,
    ) -> Result<AckResult, ClientError> {
        self.request(|s, now| s.subscribe(filters, properties, now))
    }

    /// Unsubscribe and wait for UNSUBACK.
    pub fn unsubscribe_many(
        &self,
        filters: Vec<String>,
        properties: Properties,
    ) -> Result<AckResult, ClientError> {
        self.request(|s, now| s.unsubscribe(filters, properties, now))
    }

    /// Wait until the publish with `token` completes, or fail after `timeout`.
    pub fn wait_for_completion(&self, token: i32, timeout: Duration) -> Result<(), ClientError> {
        let Ok(pid) = u16::try_from(token) else {
            return Ok(());
        };
        self.check()?;
        let core = self.shared.lock();
        let (mut core, done) = self.shared.wait_until(core, deadline(timeout), |c| {
            !c.sync().pending.contains(&pid) || !c.engine.connected()
        });
        if done && !core.sync().pending.contains(&pid) {
            Ok(())
        } else if !core.engine.connected() {
            Err(ClientError::Disconnected)
        } else {
            Err(ClientError::Failure)
        }
    }

    /// Tokens of publishes not yet complete.
    pub fn pending_tokens(&self) -> Vec<i32> {
        if self.is_stale() {
            return Vec::new();
        }
        self.shared
            .lock()
            .sync()
            .pending
            .iter()
            .map(|&p| i32::from(p))
            .collect()
    }

    /// Receive mode: the next message within `timeout` (Ok(None) on timeout).
    pub fn receive(&self, timeout: Duration) -> Result<Option<(String, Message)>, ClientError> {
        self.check()?;
        let core = self.shared.lock();
        let (mut core, _) = self.shared.wait_until(core, deadline(timeout), |c| {
            !c.sync().inbox.is_empty() || !c.engine.connected()
        });
        if let Some(m) = core.sync().inbox.pop_front() {
            if core.sync().inbox.len() <= LOW_WATER {
                self.shared.resume_input(&mut core);
            }
            // Handed over: acknowledge it now.
            self.shared.settle_in(&mut core, &m.0, &m.1);
            return Ok(Some(m));
        }
        if !core.engine.connected() {
            return Err(ClientError::Disconnected);
        }
        Ok(None)
    }

    /// Messages received and not yet taken: waiting for `receive`, or for
    /// the client's callbacks. Bounded: past a high-water mark the client
    /// stops reading its socket until the application catches up.
    pub fn queued_messages(&self) -> usize {
        if self.is_stale() {
            return 0;
        }
        let mut core = self.shared.lock();
        let inbox = core.sync().inbox.len();
        inbox + core.dispatcher.as_ref().map_or(0, |d| d.len())
    }

    /// MQTTClient_yield: the reactor does all I/O, so there is nothing to
    /// drive; give other threads a turn.
    pub fn yield_now(&self) {
        std::thread::yield_now();
    }

    /// MQTTClient_setCommandTimeout.
    pub fn set_command_timeout(&self, timeout: Duration) {
        *self
            .command_timeout
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = timeout;
    }
}

impl Drop for Client {
    /// Destroy is total: the connection is closed and, when this returns, no
    /// callback of this client runs or will run.
    fn drop(&mut self) {
        if self.is_stale() {
            // Made before a fork(), dropped in the child: the parent's
            // threads may hold this client's locks and own its sockets.
            // Touch nothing.
            return;
        }
        self.shared
            .callbacks
            .stopping
            .store(true, Ordering::Release);
        let dispatcher = {
            let mut core = self.shared.lock();
            connect::destroy(&self.shared, &mut core);
            core.session = None;
            core.dispatcher.take()
        };
        self.shared.cond.notify_all();
        if let Some(d) = dispatcher {
            d.stop();
        }
        self.shared.detach_store();
    }
}

fn reactor_arc(r: &ReactorRef) -> Arc<crate::reactor::Reactor> {
    r.handle()
}
