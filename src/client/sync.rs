//! MQTTClient semantics: a handle whose calls block until the reactor reports
//! completion, with optional callbacks on a dispatcher thread.

use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::core::{Core, Phase, Shared, deadline};
use super::dispatch::Dispatcher;
use super::error::ClientError;
use super::trace::{self, trace};
use super::uri::{self, Scheme, ServerUri};
use crate::protocol::codec::{
    Properties, ProtocolVersion, QoS, ReasonCode, SubscriptionOptions, Will,
};
use crate::protocol::session::client::{ClientConfig, ClientSession, SessionError};
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
    pub will: Option<Will>,
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
    uri: ServerUri,
    uri_text: String,
    client_id: String,
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

fn version_of(v: i32) -> Result<ProtocolVersion, ClientError> {
    match v {
        3 => Ok(ProtocolVersion::V31),
        4 => Ok(ProtocolVersion::V311),
        5 => Ok(ProtocolVersion::V5),
        _ => Err(ClientError::BadMqttVersion),
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
        if matches!(uri.scheme, Scheme::Tls | Scheme::WebSocketTls) {
            return Err(ClientError::SslNotSupported);
        }
        if !matches!(options.mqtt_version, 0 | 3 | 4 | 5) {
            return Err(ClientError::BadMqttVersion);
        }
        let reactor = ReactorRef::acquire().map_err(|_| ClientError::Failure)?;
        let shared = Shared::new(Arc::clone(&reactor_arc(&reactor)));
        trace!(trace::MINIMUM, "create client {client_id} for {server_uri}");
        Ok(Client {
            shared,
            uri,
            uri_text: server_uri.to_string(),
            client_id: client_id.to_string(),
            create_version: options.mqtt_version,
            command_timeout: std::sync::Mutex::new(DEFAULT_COMMAND_TIMEOUT),
            _reactor: reactor,
        })
    }

    /// The MQTT version given at create (0 = default).
    pub fn create_version(&self) -> i32 {
        self.create_version
    }

    pub(super) fn ensure_dispatcher(&self) -> Result<(), ClientError> {
        let mut core = self.shared.lock();
        if core.dispatcher.is_none() {
            core.dispatcher = Some(
                Dispatcher::start(self.shared.callbacks.clone())
                    .map_err(|_| ClientError::Failure)?,
            );
        }
        Ok(())
    }

    /// Put `cb` in a callback slot; a callback needs the dispatcher running.
    fn install<T: ?Sized>(
        &self,
        slot: &std::sync::RwLock<Option<Arc<T>>>,
        cb: Option<Arc<T>>,
    ) -> Result<(), ClientError> {
        let has = cb.is_some();
        *slot.write().unwrap_or_else(|e| e.into_inner()) = cb;
        if has {
            self.ensure_dispatcher()
        } else {
            Ok(())
        }
    }

    /// Install (or with `None` remove) callbacks; fails while connected.
    pub fn set_callbacks(&self, callbacks: Option<Box<dyn Callbacks>>) -> Result<(), ClientError> {
        if self.shared.lock().phase == Phase::Connected {
            return Err(ClientError::Failure);
        }
        self.install(&self.shared.callbacks.main, callbacks.map(Arc::from))
    }

    /// MQTTClient_setDisconnected.
    pub fn set_disconnected(&self, cb: Option<DisconnectedFn>) -> Result<(), ClientError> {
        self.install(&self.shared.callbacks.disconnected, cb.map(Arc::new))
    }

    /// MQTTClient_setPublished.
    pub fn set_published(&self, cb: Option<PublishedFn>) -> Result<(), ClientError> {
        self.install(&self.shared.callbacks.published, cb.map(Arc::new))
    }

    /// Connect and wait for CONNACK (or failure) within the connect timeout.
    pub fn connect(&self, options: ConnectOptions) -> Result<ConnectResult, ClientError> {
        let uris: Vec<(ServerUri, String)> = if options.server_uris.is_empty() {
            vec![(self.uri.clone(), self.uri_text.clone())]
        } else {
            let mut v = Vec::with_capacity(options.server_uris.len());
            for u in &options.server_uris {
                v.push((uri::parse(u)?, u.clone()));
            }
            v
        };
        let versions: &[i32] = match options.mqtt_version {
            0 => &[4, 3],
            3 => &[3],
            4 => &[4],
            5 => &[5],
            _ => return Err(ClientError::BadMqttVersion),
        };
        {
            // A connect on a connected client starts over.
            let mut core = self.shared.lock();
            self.shared.close_connection(&mut core);
            core.disconnecting = false;
        }
        let mut last = ClientError::Failure;
        for (uri, text) in &uris {
            if matches!(uri.scheme, Scheme::Tls | Scheme::WebSocketTls) {
                last = ClientError::SslNotSupported;
                continue;
            }
            if uri.scheme == Scheme::WebSocket {
                // No WebSocket transport yet: never speak raw MQTT to a
                // WebSocket endpoint.
                last = ClientError::BadProtocol;
                continue;
            }
            for (i, &v) in versions.iter().enumerate() {
                match self.try_connect(uri, text, v, &options) {
                    Ok(r) => return Ok(r),
                    // Paho's MQTTVERSION_DEFAULT: 3.1.1 refused for its version → try 3.1.
                    Err(ClientError::Refused(1)) if i + 1 < versions.len() => continue,
                    Err(e @ ClientError::Refused(_)) => return Err(e),
                    Err(e) => {
                        last = e;
                        if i + 1 < versions.len() {
                            continue;
                        }
                    }
                }
            }
        }
        Err(last)
    }

    fn config(&self, v: i32, o: &ConnectOptions) -> Result<ClientConfig, ClientError> {
        let version = version_of(v)?;
        Ok(ClientConfig {
            version,
            client_id: self.client_id.clone(),
            clean_start: if version.is_v5() {
                o.clean_start
            } else {
                o.clean_session
            },
            keep_alive: o.keep_alive,
            will: o.will.clone(),
            username: o.username.clone(),
            password: o.password.clone(),
            properties: if version.is_v5() {
                o.properties.clone()
            } else {
                Properties::default()
            },
            max_inflight: o.max_inflight.max(1),
            retry_interval: o.retry_interval,
            connect_timeout: o.connect_timeout,
            max_packet_size: 0,
        })
    }

    fn try_connect(
        &self,
        uri: &ServerUri,
        text: &str,
        v: i32,
        o: &ConnectOptions,
    ) -> Result<ConnectResult, ClientError> {
        let config = self.config(v, o)?;
        let clean = config.clean_start;
        let until = deadline(if o.connect_timeout.is_zero() {
            Duration::from_secs(30)
        } else {
            o.connect_timeout
        });
        // Name resolution happens here, on the caller's thread, never on the reactor.
        let addrs: Vec<_> = match (uri.host.as_str(), uri.port).to_socket_addrs() {
            Ok(a) => a.collect(),
            Err(e) => {
                trace!(trace::ERROR, "cannot resolve {}: {e}", uri.host);
                return Err(ClientError::Failure);
            }
        };
        trace!(trace::MINIMUM, "connecting to {text} with MQTT level {v}");
        let mut last = ClientError::Failure;
        for addr in addrs {
            if Instant::now() >= until {
                break;
            }
            let mut core = self.shared.lock();
            if core.destroyed {
                return Err(ClientError::Failure);
            }
            let now = Instant::now();
            match core.session.as_mut() {
                Some(s) if !clean => s.reconnect(config.clone(), now),
                _ => core.session = Some(ClientSession::new(config.clone(), now)),
            }
            core.pending.clear();
            if let Some(s) = core.session.as_ref() {
                core.pending = s.pending_packet_ids();
            }
            let id = self.shared.start_connect(&mut core, addr);
            let (mut core, _) = self.shared.wait_until(core, until, |c| {
                c.conn_id != id || c.phase != Phase::Connecting
            });
            match core.phase.clone() {
                Phase::Connected if core.conn_id == id => {
                    let ack = core.connack.clone().unwrap_or_default();
                    return Ok(ConnectResult {
                        server_uri: text.to_string(),
                        mqtt_version: v,
                        session_present: ack.session_present,
                        reason: ack.code,
                        properties: ack.properties,
                    });
                }
                Phase::Refused(ack) => {
                    self.shared.close_connection(&mut core);
                    core.phase = Phase::Idle;
                    return Err(ClientError::Refused(i32::from(ack.code.0)));
                }
                _ => {
                    // Failed or timed out: drop this attempt and try the next address.
                    self.shared.close_connection(&mut core);
                    core.phase = Phase::Idle;
                    last = ClientError::Failure;
                }
            }
        }
        Err(last)
    }

    /// Disconnect, letting in-flight work finish for up to `timeout`.
    pub fn disconnect(
        &self,
        timeout: Duration,
        reason: ReasonCode,
        properties: Properties,
    ) -> Result<(), ClientError> {
        let mut core = self.shared.lock();
        if core.phase != Phase::Connected {
            self.shared.close_connection(&mut core);
            return Err(ClientError::Disconnected);
        }
        core.disconnecting = true;
        let until = deadline(timeout);
        let (mut core, _) = self.shared.wait_until(core, until, |c| {
            c.pending.is_empty() || c.phase != Phase::Connected
        });
        if core.phase == Phase::Connected {
            let id = core.conn_id;
            if let Some(s) = core.session.as_mut() {
                s.disconnect(reason, properties, Instant::now());
            }
            drop(core);
            self.shared.request_flush(id);
            core = self.shared.lock();
            // Bounded: the reactor closes the socket once DISCONNECT is written.
            let (c, _) = self
                .shared
                .wait_until(core, deadline(Duration::from_secs(2)), |c| c.conn_id != id);
            core = c;
        }
        self.shared.close_connection(&mut core);
        core.phase = Phase::Idle;
        core.disconnecting = false;
        trace!(trace::MINIMUM, "disconnected");
        Ok(())
    }

    pub fn is_connected(&self) -> bool {
        self.shared.lock().phase == Phase::Connected
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
        let mut core = self.shared.lock();
        // As Paho: a full in-flight window blocks the publisher until an
        // acknowledgement frees a slot (or the connection goes).
        let pid = loop {
            if core.phase != Phase::Connected {
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
                    core = match self.shared.cond.wait(core) {
                        Ok(g) => g,
                        Err(e) => e.into_inner(),
                    };
                }
                Err(e) => return Err(session_error(e)),
            }
        };
        let id = core.conn_id;
        if qos != QoS::AtMostOnce {
            core.pending.push(pid);
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
        let mut core = self.shared.lock();
        if core.phase != Phase::Connected {
            return Err(ClientError::Disconnected);
        }
        let id = core.conn_id;
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
                c.acks.contains_key(&pid) || c.conn_id != id
            });
        core.acks.remove(&pid).ok_or(ClientError::Failure)
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
        let core = self.shared.lock();
        let (core, done) = self.shared.wait_until(core, deadline(timeout), |c| {
            !c.pending.contains(&pid) || c.phase != Phase::Connected
        });
        if done && !core.pending.contains(&pid) {
            Ok(())
        } else if core.phase != Phase::Connected {
            Err(ClientError::Disconnected)
        } else {
            Err(ClientError::Failure)
        }
    }

    /// Tokens of publishes not yet complete.
    pub fn pending_tokens(&self) -> Vec<i32> {
        self.shared
            .lock()
            .pending
            .iter()
            .map(|&p| i32::from(p))
            .collect()
    }

    /// Receive mode: the next message within `timeout` (Ok(None) on timeout).
    pub fn receive(&self, timeout: Duration) -> Result<Option<(String, Message)>, ClientError> {
        let core = self.shared.lock();
        let (mut core, _) = self.shared.wait_until(core, deadline(timeout), |c| {
            !c.inbox.is_empty() || c.phase != Phase::Connected
        });
        if let Some(m) = core.inbox.pop_front() {
            return Ok(Some(m));
        }
        if core.phase != Phase::Connected {
            return Err(ClientError::Disconnected);
        }
        Ok(None)
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
        self.shared
            .callbacks
            .stopping
            .store(true, Ordering::Release);
        let dispatcher = {
            let mut core = self.shared.lock();
            self.shared.close_connection(&mut core);
            core.session = None;
            core.dispatcher.take()
        };
        self.shared.cond.notify_all();
        if let Some(d) = dispatcher {
            d.stop();
        }
    }
}

fn reactor_arc(r: &ReactorRef) -> Arc<crate::reactor::Reactor> {
    r.handle()
}
