//! Connection lifecycle: CONNECT checks and CONNACK per version, client id
//! rules and takeover, session attach/resume, DISCONNECT, closing with or
//! without the will, delayed wills and the end of a session.

use foldhash::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::auth::{Action, ClientRef};
use super::connection::{Pending, Phase};
use super::enhanced_auth::{auth_data, auth_method, auth_properties};
use super::message::{Message, prop, prop_u32};
use super::session::{Identity, NEVER, Session};
use super::timers::{Stamp, Timer};
use super::topics::has_control;
use super::{Broker, BrokerEvent, ConnId, DisconnectCause, valid_topic_name};
use crate::protocol::codec::{
    ConnAck, Connect, Disconnect, Packet, Properties, Property, PropertyId, PropertyValue,
    ProtocolVersion, ReasonCode,
};

/// The 3.x CONNACK return code nearest to an MQTT 5 reason code; `None`
/// when 3.x has none (the connection is closed without CONNACK).
fn v3_connack_code(code: ReasonCode) -> Option<ReasonCode> {
    match code.0 {
        0x84 => Some(ReasonCode::V3_UNACCEPTABLE_PROTOCOL_VERSION),
        0x85 => Some(ReasonCode::V3_IDENTIFIER_REJECTED),
        0x80 | 0x83 | 0x88 | 0x89 | 0x8B | 0x97 | 0x9F => Some(ReasonCode::V3_SERVER_UNAVAILABLE),
        0x86 => Some(ReasonCode::V3_BAD_USER_NAME_OR_PASSWORD),
        0x81 | 0x82 => None,
        _ => Some(ReasonCode::V3_NOT_AUTHORIZED),
    }
}

fn push_prop(props: &mut Properties, id: PropertyId, value: PropertyValue) {
    props.list.push(Property { id, value });
}

/// A fresh client identifier no session uses.
fn assign_client_id(counter: &mut u64, sessions: &HashMap<Arc<str>, Box<Session>>) -> String {
    loop {
        *counter += 1;
        let id = format!("ferromq-{:016x}", *counter);
        if !sessions.contains_key(id.as_str()) {
            return id;
        }
    }
}

impl Broker {
    pub(super) fn handle_connect(&mut self, conn: ConnId, mut connect: Connect, now: Instant) {
        let limits = &self.config.limits;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.version = connect.protocol;
        // use_identity_as_username: the certificate names the user and
        // vouches for it (no password is checked, as in mosquitto); ACLs
        // still apply to that user.
        let by_certificate = c.cert_identity.is_some();
        if let Some(identity) = &c.cert_identity {
            match identity.as_ref() {
                Some(name) => {
                    connect.username = Some(name.to_string());
                    connect.password = None;
                }
                None => {
                    return self.refuse_connect(
                        conn,
                        &connect.client_id,
                        ReasonCode::NOT_AUTHORIZED,
                        now,
                    );
                }
            }
        }
        c.bridge = connect.bridge;
        // Control characters in the client id, user name or will topic:
        // closed without CONNACK, as mosquitto treats them (malformed UTF-8).
        let will_topic = connect.will.as_ref().map(|w| w.topic.as_str());
        if has_control(&connect.client_id)
            || connect.username.as_deref().is_some_and(has_control)
            || will_topic.is_some_and(has_control)
        {
            self.close_conn(
                conn,
                DisconnectCause::ProtocolError(ReasonCode::MALFORMED_PACKET),
                None,
                now,
            );
            if self.config.hooks.notices {
                let client = self.record(conn, &connect.client_id);
                self.events.push_back(BrokerEvent::Disconnected {
                    conn,
                    client,
                    cause: DisconnectCause::Refused(ReasonCode::MALFORMED_PACKET),
                });
            }
            return;
        }
        let v5 = connect.protocol.is_v5();
        let props = &connect.properties;
        if v5 {
            c.problem_info = prop_u32(props, PropertyId::REQUEST_PROBLEM_INFORMATION) != Some(0);
            let receive_max = prop_u32(props, PropertyId::RECEIVE_MAXIMUM).unwrap_or(65_535);
            let max_packet = prop_u32(props, PropertyId::MAXIMUM_PACKET_SIZE).unwrap_or(u32::MAX);
            if receive_max == 0 || max_packet == 0 {
                return self.refuse_connect(
                    conn,
                    &connect.client_id,
                    ReasonCode::PROTOCOL_ERROR,
                    now,
                );
            }
            c.window = limits.max_inflight.min(receive_max as u16).max(1);
            c.max_packet_out = max_packet;
            let alias_max = prop_u32(props, PropertyId::TOPIC_ALIAS_MAXIMUM).unwrap_or(0);
            c.alias_out_max = limits.topic_alias_out_max.min(alias_max as u16);
            if prop(props, PropertyId::AUTHENTICATION_METHOD).is_some() && !self.config.hooks.auth {
                return self.refuse_connect(
                    conn,
                    &connect.client_id,
                    ReasonCode::BAD_AUTHENTICATION_METHOD,
                    now,
                );
            }
        } else {
            c.window = limits.max_inflight.max(1);
        }
        if let Some(will) = &connect.will
            && !valid_topic_name(&will.topic, limits)
        {
            return self.refuse_connect(
                conn,
                &connect.client_id,
                ReasonCode::TOPIC_NAME_INVALID,
                now,
            );
        }
        if connect.will.as_ref().is_some_and(|w| w.retain) && !limits.retain_available {
            return self.refuse_connect(
                conn,
                &connect.client_id,
                ReasonCode::RETAIN_NOT_SUPPORTED,
                now,
            );
        }
        let mut assigned = false;
        if connect.client_id.is_empty() {
            let allowed = match connect.protocol {
                ProtocolVersion::V31 => false,
                ProtocolVersion::V311 => connect.clean_start,
                ProtocolVersion::V5 => true,
            };
            if !allowed {
                return self.refuse_connect(
                    conn,
                    &connect.client_id,
                    ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
                    now,
                );
            }
            connect.client_id = assign_client_id(&mut self.next_assigned, &self.sessions);
            assigned = true;
        }
        if let Some(auth) = self.config.auth.as_ref().filter(|_| !by_certificate) {
            let client = ClientRef {
                listener: usize::from(c.listener),
                client_id: &connect.client_id,
                username: connect.username.as_deref(),
            };
            let code = auth.authenticate(&client, connect.password.as_deref());
            if !code.is_success() {
                return self.refuse_connect(conn, &connect.client_id, code, now);
            }
        }
        if self.config.hooks.auth && v5 && auth_method(&connect.properties).is_some() {
            self.remember(conn, &connect.client_id, connect.username.as_deref());
            let data = auth_data(&connect.properties);
            return self.ask_auth(conn, Box::new(connect), assigned, 0, data);
        }
        self.connect_authenticated(conn, connect, assigned, now);
    }

    /// A CONNECT that passed every check and any enhanced authentication:
    /// the host's connect hook decides, or it is accepted.
    pub(super) fn connect_authenticated(
        &mut self,
        conn: ConnId,
        connect: Connect,
        assigned: bool,
        now: Instant,
    ) {
        let record = self.remember(conn, &connect.client_id, connect.username.as_deref());
        if let (true, Some(client)) = (self.config.hooks.connect, record) {
            self.events.push_back(BrokerEvent::ConnectRequest {
                conn,
                client,
                password: connect.password.clone(),
            });
            if let Some(c) = self.conns.get_mut(&conn) {
                c.phase = Phase::AwaitDecision;
                c.pending = Some(Box::new(Pending::Connect(Box::new(connect), assigned)));
            }
            return;
        }
        self.accept_connect(conn, connect, assigned, now);
    }

    /// CONNACK with a failure code (3.x: the nearest return code), then close.
    /// With notices on, the host hears of it as `Disconnected{Refused(code)}`
    /// for `client_id` (as the CONNECT gave it; empty when none was read).
    pub(super) fn refuse_connect(
        &mut self,
        conn: ConnId,
        client_id: &str,
        code: ReasonCode,
        now: Instant,
    ) {
        let Some(c) = self.conns.get(&conn).filter(|c| !c.is_closed()) else {
            return;
        };
        let wire = if c.version.is_v5() {
            Some(code)
        } else {
            v3_connack_code(code)
        };
        if let Some(code) = wire {
            self.send(
                conn,
                Packet::ConnAck(ConnAck {
                    session_present: false,
                    code,
                    properties: Properties::default(),
                }),
            );
        }
        self.close_conn(conn, DisconnectCause::Refused(code), None, now);
        // close_conn reports only connections that were accepted.
        if self.config.hooks.notices {
            let client = self.record(conn, client_id);
            self.events.push_back(BrokerEvent::Disconnected {
                conn,
                client,
                cause: DisconnectCause::Refused(code),
            });
        }
    }

    /// Attaches the session (taking over any other connection), sends
    /// CONNACK, then resends in-flight messages and drains the queue.
    pub(super) fn accept_connect(
        &mut self,
        conn: ConnId,
        mut connect: Connect,
        assigned: bool,
        now: Instant,
    ) {
        let cid: Arc<str> = connect.client_id.as_str().into();
        self.stage_session(&cid);
        let v5 = connect.protocol.is_v5();
        let identity = match (&self.config.auth, self.conns.get(&conn)) {
            (Some(_), Some(c)) => Some(Box::new(Identity {
                listener: usize::from(c.listener),
                username: connect.username.clone(),
            })),
            _ => None,
        };
        if let Some(s) = self.sessions.get_mut(&cid)
            && let Some(old) = s.conn
            && old != conn
        {
            // As mosquitto: the old connection's will goes out only when the
            // session does not continue (either side clean, or it expires
            // with its connection); otherwise the takeover cancels it.
            if !connect.clean_start && s.expiry != 0 {
                s.will = None;
            }
            self.close_conn(
                old,
                DisconnectCause::TakenOver,
                Some(ReasonCode::SESSION_TAKEN_OVER),
                now,
            );
        }
        if connect.clean_start && self.sessions.contains_key(&cid) {
            self.end_session(&cid, now);
        }
        // MQTT 3.1's CONNACK has no session-present flag: its byte is reserved.
        let session_present =
            self.sessions.contains_key(&cid) && connect.protocol != ProtocolVersion::V31;
        let session = self
            .sessions
            .entry(cid.clone())
            .or_insert_with(|| Box::new(Session::new(cid.clone())));
        // One Arc per client id for the session's whole life: the router
        // groups a client's matches by pointer.
        let cid = session.client_id.clone();
        session.conn = Some(conn);
        if let Some(f) = session.flow.as_mut() {
            f.dropping = false;
        }
        session.tidy_flow();
        session.expires_at = None;
        session.will_at = None;
        session.will = connect.will.take().map(Box::new);
        session.identity = identity;
        session.expiry = if v5 {
            prop_u32(&connect.properties, PropertyId::SESSION_EXPIRY_INTERVAL).unwrap_or(0)
        } else if connect.clean_start {
            0
        } else {
            NEVER
        };

        let limits = &self.config.limits;
        let mut props = Properties::default();
        let mut keep_alive = connect.keep_alive;
        if let Some(max) = limits.max_keep_alive
            && v5
            && (keep_alive == 0 || keep_alive > max)
        {
            keep_alive = max;
            push_prop(
                &mut props,
                PropertyId::SERVER_KEEP_ALIVE,
                PropertyValue::U16(max),
            );
        }
        if v5 {
            if assigned {
                push_prop(
                    &mut props,
                    PropertyId::ASSIGNED_CLIENT_IDENTIFIER,
                    PropertyValue::String(connect.client_id.clone()),
                );
            }
            push_prop(
                &mut props,
                PropertyId::RECEIVE_MAXIMUM,
                PropertyValue::U16(limits.receive_maximum),
            );
            push_prop(
                &mut props,
                PropertyId::MAXIMUM_PACKET_SIZE,
                PropertyValue::U32(limits.max_packet_size),
            );
            push_prop(
                &mut props,
                PropertyId::TOPIC_ALIAS_MAXIMUM,
                PropertyValue::U16(limits.topic_alias_max),
            );
            auth_properties(&connect, &mut props);
            if !limits.retain_available {
                push_prop(
                    &mut props,
                    PropertyId::RETAIN_AVAILABLE,
                    PropertyValue::Byte(0),
                );
            }
        }
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.phase = Phase::Connected;
        c.client_id = Some(cid.clone());
        self.stats.connects += 1;
        self.stats.clients_connected += 1;
        self.stats.clients_maximum = self.stats.clients_maximum.max(self.stats.clients_connected);
        c.keep_alive = keep_alive;
        c.last_rx = Stamp::from_instant(now);
        self.send(
            conn,
            Packet::ConnAck(ConnAck {
                session_present,
                code: ReasonCode::SUCCESS,
                properties: props,
            }),
        );
        if self.config.hooks.notices {
            let client = self.record(conn, &cid);
            self.events
                .push_back(BrokerEvent::Connected { conn, client });
        }
        if keep_alive > 0 {
            self.schedule_conn(conn, now + Duration::from_secs(u64::from(keep_alive)));
        }
        self.resend_inflight(&cid, now);
        self.pump(&cid, now);
    }

    pub(super) fn handle_disconnect(&mut self, conn: ConnId, d: Disconnect, now: Instant) {
        let cid = self.conns.get(&conn).and_then(|c| c.client_id.clone());
        if let Some(s) = cid.and_then(|cid| self.sessions.get_mut(&cid))
            && let Some(expiry) = prop_u32(&d.properties, PropertyId::SESSION_EXPIRY_INTERVAL)
        {
            if s.expiry == 0 && expiry != 0 {
                return self.protocol_error(conn, ReasonCode::PROTOCOL_ERROR, now);
            }
            s.expiry = expiry;
        }
        self.close_conn(conn, DisconnectCause::Normal(d.reason), None, now);
    }

    /// The client broke a rule: MQTT 5 clients get DISCONNECT with `code`.
    pub(super) fn protocol_error(&mut self, conn: ConnId, code: ReasonCode, now: Instant) {
        self.close_conn(conn, DisconnectCause::ProtocolError(code), Some(code), now);
    }

    /// Ends a connection: optional DISCONNECT (MQTT 5, when connected), queued
    /// for closing, session detached; the will goes out (now or delayed)
    /// unless the client disconnected normally without asking for it.
    pub(super) fn close_conn(
        &mut self,
        conn: ConnId,
        cause: DisconnectCause,
        disconnect: Option<ReasonCode>,
        now: Instant,
    ) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.is_closed() {
            return;
        }
        let send_disconnect = c.version.is_v5() && c.is_connected();
        if c.is_connected() {
            self.stats.clients_connected -= 1;
        }
        c.phase = Phase::Closed;
        c.pending = None;
        c.backlog = None;
        let cid = c.client_id.take();
        if let (Some(code), true) = (disconnect, send_disconnect) {
            self.send(
                conn,
                Packet::Disconnect(Disconnect {
                    reason: code,
                    properties: Properties::default(),
                }),
            );
        }
        self.closing.push_back(conn);
        let Some(cid) = cid else {
            return;
        };
        self.stage_session(&cid);
        if self.config.hooks.notices {
            let client = self.record(conn, &cid);
            self.events.push_back(BrokerEvent::Disconnected {
                conn,
                client,
                cause,
            });
        }
        let Some(s) = self.sessions.get_mut(&cid) else {
            return;
        };
        if s.conn != Some(conn) {
            return;
        }
        s.conn = None;
        // Offline, it no longer holds anyone back: its publishers go on.
        self.flow_release(&cid, true);
        let Some(s) = self.sessions.get_mut(&cid) else {
            return;
        };
        let will_wanted = match cause {
            DisconnectCause::Normal(code) => code == ReasonCode::DISCONNECT_WITH_WILL_MESSAGE,
            _ => true,
        };
        if !will_wanted {
            s.will = None;
        }
        if let Some(will) = &s.will {
            let delay = prop_u32(&will.properties, PropertyId::WILL_DELAY_INTERVAL).unwrap_or(0);
            let delay = delay.min(s.expiry);
            if delay > 0 {
                let at = now + Duration::from_secs(u64::from(delay));
                s.will_at = Some(at.into());
                self.timers.push(at, Timer::Will(cid.clone()));
            } else {
                self.publish_session_will(&cid, now);
            }
        }
        let Some(s) = self.sessions.get_mut(&cid) else {
            return;
        };
        let expiry = match (s.expiry, self.config.limits.persistent_client_expiration) {
            (NEVER, Some(d)) => Some(d),
            (NEVER, None) => None,
            (secs, _) => Some(Duration::from_secs(u64::from(secs))),
        };
        match expiry {
            Some(d) if d.is_zero() => self.end_session(&cid, now),
            None => {}
            Some(d) => {
                let at = now + d;
                s.expires_at = Some(at.into());
                self.timers.push(at, Timer::Expiry(cid));
            }
        }
    }

    /// Publishes (and forgets) the session's will.
    pub(super) fn publish_session_will(&mut self, cid: &Arc<str>, now: Instant) {
        self.stage_session(cid);
        let Some(s) = self.sessions.get_mut(cid) else {
            return;
        };
        s.will_at = None;
        let Some(will) = s.will.take() else {
            return;
        };
        if let (Some(auth), Some(id)) = (&self.config.auth, &s.identity) {
            let client = ClientRef {
                listener: id.listener,
                client_id: cid,
                username: id.username.as_deref(),
            };
            if !auth.authorize(&client, Action::Publish, &will.topic) {
                self.stats.dropped += 1;
                return;
            }
        }
        let msg = Message::new(
            will.topic,
            will.payload,
            will.qos,
            will.retain,
            &will.properties,
            Some(cid.clone()),
            now,
        );
        self.route(msg, now);
    }

    /// The session is over: a pending will goes out, subscriptions go.
    pub(super) fn end_session(&mut self, cid: &Arc<str>, now: Instant) {
        self.stage_session(cid);
        if self.sessions.get(cid).is_some_and(|s| s.will_at.is_some()) {
            self.publish_session_will(cid, now);
        }
        let Some(s) = self.sessions.remove(cid) else {
            return;
        };
        self.stats.subscriptions -= s.subs.len();
        for filter in s.subs.keys() {
            self.unsubscribe_trie(filter, cid);
        }
    }
}
