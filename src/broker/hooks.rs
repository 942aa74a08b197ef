//! The host program's hooks ([`Hooks`]): what a running [`super::server::Server`]
//! asks and tells it, the dispatcher thread that asks them (so a slow
//! decision holds up only the session that waits), and the inline delivery
//! check built on them.

use std::sync::{Arc, Weak};

use bytes::Bytes;
use crossbeam_channel::Receiver;

use super::{AuthAnswer, BrokerEvent, ClientRecord, Decision, Delivery, DeliveryCheck};
use super::{DisconnectCause, Hooks as Wants};
use crate::protocol::codec::{Properties, QoS, ReasonCode};

/// A CONNECT as the host sees it.
#[derive(Debug, Clone)]
pub struct ConnectInfo {
    pub client: Arc<ClientRecord>,
    pub password: Option<Bytes>,
}

/// A client PUBLISH as the host sees it.
#[derive(Debug, Clone)]
pub struct PublishInfo {
    pub client: Arc<ClientRecord>,
    pub topic: String,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
    pub properties: Properties,
}

/// One step of MQTT 5 enhanced authentication as the host sees it.
#[derive(Debug, Clone)]
pub struct AuthInfo {
    /// The CONNECT's Authentication Method.
    pub method: String,
    /// The Authentication Data of the CONNECT (step 0) or of the client's
    /// AUTH (later steps).
    pub data: Option<Bytes>,
    /// 0 for the CONNECT (or the AUTH 0x19 starting a re-authentication),
    /// then 1, 2, ... for each client AUTH 0x18.
    pub step: u32,
    /// A connected client re-authenticates.
    pub reauth: bool,
}

/// What the host program wants to hear and decide. Every method has the
/// permissive default; `wants` says which ones the broker must ask. All
/// but `on_deliver` run on the broker's hook thread.
pub trait Hooks: Send + Sync + 'static {
    /// Which hooks to call (the rest are not even asked).
    fn wants(&self) -> Wants;
    /// Accept (`SUCCESS`) or refuse a CONNECT with a CONNACK reason code.
    fn on_connect(&self, info: &ConnectInfo) -> ReasonCode {
        let _ = info;
        ReasonCode::SUCCESS
    }
    /// One enhanced authentication step (MQTT 5 CONNECT with an
    /// Authentication Method, then each client AUTH).
    fn on_auth(&self, client: &ClientRecord, info: &AuthInfo) -> AuthAnswer {
        let _ = (client, info);
        AuthAnswer::Fail(ReasonCode::BAD_AUTHENTICATION_METHOD)
    }
    /// Accept (`SUCCESS`) or refuse a client's PUBLISH.
    fn on_publish(&self, info: &PublishInfo) -> ReasonCode {
        let _ = info;
        ReasonCode::SUCCESS
    }
    /// The granted QoS (as a reason code 0..=2) or a refusal for one filter.
    fn on_subscribe(&self, client: &ClientRecord, filter: &str, qos: QoS) -> ReasonCode {
        let _ = (client, filter);
        ReasonCode(qos as u8)
    }
    /// A client unsubscribed from `filter` (it may not have held it).
    fn on_unsubscribe(&self, client: &ClientRecord, filter: &str) {
        let _ = (client, filter);
    }
    /// May this message go to this subscriber? Asked inline on the thread
    /// routing it, with the broker locked: answer quickly and do not call
    /// the broker from here.
    fn on_deliver(&self, client: &ClientRecord, message: &Delivery<'_>) -> bool {
        let _ = (client, message);
        true
    }
    /// A client is connected.
    fn on_connected(&self, client: &ClientRecord) {
        let _ = client;
    }
    /// A connection from `peer` failed below MQTT (TLS handshake, WebSocket
    /// upgrade, garbage) and was closed.
    fn on_transport_error(&self, peer: std::net::SocketAddr, reason: &str) {
        let _ = (peer, reason);
    }
    /// A client's connection ended.
    fn on_disconnect(&self, client: &ClientRecord, cause: DisconnectCause) {
        let _ = (client, cause);
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

/// `Hooks::on_deliver` as the broker core's inline delivery check.
pub(crate) struct DeliverHook(pub Arc<dyn Hooks>);

impl std::fmt::Debug for DeliverHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeliverHook")
    }
}

impl DeliveryCheck for DeliverHook {
    fn may_deliver(&self, client: &ClientRecord, message: &Delivery<'_>) -> bool {
        self.0.on_deliver(client, message)
    }
}

/// Where the dispatcher hands decisions back.
pub(crate) trait DecisionSink: Send + Sync {
    fn decide(&self, conn: super::ConnId, decision: Decision);
}

/// The hook thread: asks `hooks` about each event, in order, and hands
/// each decision to the broker (while it lives).
pub(crate) fn dispatch<S: DecisionSink>(
    hooks: Arc<dyn Hooks>,
    rx: Receiver<BrokerEvent>,
    sink: Weak<S>,
) {
    while let Ok(ev) = rx.recv() {
        let decision = match ev {
            BrokerEvent::ConnectRequest {
                conn,
                client,
                password,
            } => {
                let info = ConnectInfo { client, password };
                Some((conn, Decision::Connect(hooks.on_connect(&info))))
            }
            BrokerEvent::AuthRequest {
                conn,
                client,
                method,
                data,
                step,
                reauth,
            } => {
                let info = AuthInfo {
                    method,
                    data,
                    step,
                    reauth,
                };
                Some((conn, Decision::Auth(hooks.on_auth(&client, &info))))
            }
            BrokerEvent::PublishRequest {
                conn,
                client,
                topic,
                payload,
                qos,
                retain,
                properties,
            } => {
                let info = PublishInfo {
                    client,
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
                client,
                filters,
            } => {
                let codes = filters
                    .iter()
                    .map(|(f, q)| {
                        let code = hooks.on_subscribe(&client, f, *q);
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
            BrokerEvent::Unsubscribed {
                client, filters, ..
            } => {
                for f in &filters {
                    hooks.on_unsubscribe(&client, f);
                }
                None
            }
            BrokerEvent::Connected { client, .. } => {
                hooks.on_connected(&client);
                None
            }
            BrokerEvent::Disconnected { client, cause, .. } => {
                hooks.on_disconnect(&client, cause);
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
            let Some(s) = sink.upgrade() else { return };
            s.decide(conn, d);
        }
    }
}
