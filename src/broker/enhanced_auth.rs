//! MQTT 5 enhanced authentication (§4.12): a CONNECT naming an
//! Authentication Method is handed to the host step by step (AUTH 0x18
//! back and forth) until it answers success (CONNACK carries the method
//! and its last data) or failure (CONNACK with its reason code). Without
//! the host's auth hook such a CONNECT is refused with 0x8C. A client so
//! authenticated may re-authenticate (AUTH 0x19) while connected: the same
//! steps, ending in AUTH 0x00 or DISCONNECT with the host's code.

use std::time::Instant;

use bytes::Bytes;

use super::connection::{Pending, Phase};
use super::message::prop;
use super::{AuthAnswer, Broker, BrokerEvent, ConnId};
use crate::protocol::codec::{
    Auth, Connect, Packet, Properties, Property, PropertyId, PropertyValue, ReasonCode,
};

/// The Authentication Method of a property list.
pub(super) fn auth_method(props: &Properties) -> Option<&str> {
    match prop(props, PropertyId::AUTHENTICATION_METHOD)? {
        PropertyValue::String(m) => Some(m),
        _ => None,
    }
}

/// The Authentication Data of a property list.
pub(super) fn auth_data(props: &Properties) -> Option<Bytes> {
    match prop(props, PropertyId::AUTHENTICATION_DATA)? {
        PropertyValue::Binary(d) => Some(d.clone()),
        _ => None,
    }
}

/// `props` with its Authentication Data replaced by `data` (removed if none).
fn set_auth_data(props: &mut Properties, data: Option<Bytes>) {
    props
        .list
        .retain(|p| p.id != PropertyId::AUTHENTICATION_DATA);
    if let Some(d) = data {
        props.list.push(Property {
            id: PropertyId::AUTHENTICATION_DATA,
            value: PropertyValue::Binary(d),
        });
    }
}

/// The method and data properties a CONNACK or AUTH carries back.
pub(super) fn auth_properties(connect: &Connect, out: &mut Properties) {
    let Some(method) = auth_method(&connect.properties) else {
        return;
    };
    out.list.push(Property {
        id: PropertyId::AUTHENTICATION_METHOD,
        value: PropertyValue::String(method.to_string()),
    });
    if let Some(d) = auth_data(&connect.properties) {
        out.list.push(Property {
            id: PropertyId::AUTHENTICATION_DATA,
            value: PropertyValue::Binary(d),
        });
    }
}

impl Broker {
    /// Asks the host about step `step` of `connect`'s authentication
    /// (`data`: the CONNECT's or the client AUTH's) and waits for it.
    pub(super) fn ask_auth(
        &mut self,
        conn: ConnId,
        connect: Box<Connect>,
        assigned: bool,
        step: u32,
        data: Option<Bytes>,
    ) {
        let method = auth_method(&connect.properties)
            .unwrap_or_default()
            .to_string();
        let client = self.record(conn, &connect.client_id);
        self.events.push_back(BrokerEvent::AuthRequest {
            conn,
            client,
            method,
            data,
            step,
            reauth: false,
        });
        if let Some(c) = self.conns.get_mut(&conn) {
            c.phase = Phase::Authenticating {
                step: u16::try_from(step).unwrap_or(u16::MAX),
                host: true,
            };
            c.pending = Some(Box::new(Pending::Connect(connect, assigned)));
        }
    }

    /// The parked CONNECT of a connection in enhanced authentication, if
    /// its phase is `Authenticating` with `host` as given; its step.
    fn take_authenticating(
        &mut self,
        conn: ConnId,
        host: bool,
    ) -> Option<(Box<Connect>, bool, u32)> {
        let c = self.conns.get_mut(&conn)?;
        let step = match c.phase {
            Phase::Authenticating { step, host: h } if h == host => u32::from(step),
            _ => return None,
        };
        match c.take_pending(|p| matches!(p, Pending::Connect(..))) {
            Some(Pending::Connect(connect, assigned)) => {
                c.phase = Phase::AwaitConnect;
                Some((connect, assigned, step))
            }
            _ => None,
        }
    }

    /// A client AUTH while its CONNECT is being authenticated.
    pub(super) fn handle_auth(&mut self, conn: ConnId, auth: Auth, now: Instant) {
        let Some((connect, assigned, step)) = self.take_authenticating(conn, false) else {
            return self.protocol_error(conn, ReasonCode::PROTOCOL_ERROR, now);
        };
        let same_method = auth_method(&auth.properties) == auth_method(&connect.properties);
        if auth.reason != ReasonCode::CONTINUE_AUTHENTICATION || !same_method {
            let id = connect.client_id.clone();
            return self.refuse_connect(conn, &id, ReasonCode::PROTOCOL_ERROR, now);
        }
        let data = auth_data(&auth.properties);
        self.ask_auth(conn, connect, assigned, step.saturating_add(1), data);
    }

    /// The host's answer to an authentication step.
    pub(super) fn auth_decision(&mut self, conn: ConnId, answer: AuthAnswer, now: Instant) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.is_connected() {
            return self.reauth_decision(conn, answer, now);
        }
        let Some((mut connect, assigned, step)) = self.take_authenticating(conn, true) else {
            return;
        };
        match answer {
            AuthAnswer::Fail(code) => {
                let code = if code.0 < 0x80 {
                    ReasonCode::NOT_AUTHORIZED
                } else {
                    code
                };
                let id = connect.client_id.clone();
                self.refuse_connect(conn, &id, code, now);
            }
            AuthAnswer::Continue(data) => {
                let mut properties = Properties::default();
                set_auth_data(&mut connect.properties, data);
                auth_properties(&connect, &mut properties);
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.phase = Phase::Authenticating {
                        step: u16::try_from(step).unwrap_or(u16::MAX),
                        host: false,
                    };
                    c.pending = Some(Box::new(Pending::Connect(connect, assigned)));
                }
                self.send(
                    conn,
                    Packet::Auth(Auth {
                        reason: ReasonCode::CONTINUE_AUTHENTICATION,
                        properties,
                    }),
                );
            }
            AuthAnswer::Success(data) => {
                // The CONNACK echoes the method with the host's last data.
                set_auth_data(&mut connect.properties, data);
                if let Some(m) = auth_method(&connect.properties) {
                    let method = (m.into(), 0);
                    let records = self.records.get_or_insert_with(Box::default);
                    records.methods.insert(conn, method);
                }
                self.connect_authenticated(conn, *connect, assigned, now);
            }
        }
    }

    /// A connected client's AUTH: 0x19 starts a re-authentication, 0x18
    /// continues one. Anything else, or a client that did not authenticate
    /// with a method (or another method), is a protocol error.
    pub(super) fn handle_reauth(&mut self, conn: ConnId, auth: Auth, now: Instant) {
        let method = auth_method(&auth.properties)
            .unwrap_or_default()
            .to_string();
        let state = self
            .records
            .as_mut()
            .and_then(|r| r.methods.get_mut(&conn))
            .filter(|(m, _)| **m == *method);
        let step = match (state, auth.reason) {
            (Some(s), ReasonCode::RE_AUTHENTICATE) if self.config.hooks.auth => {
                s.1 = 0;
                0
            }
            (Some(s), ReasonCode::CONTINUE_AUTHENTICATION) if s.1 > 0 => s.1,
            _ => return self.protocol_error(conn, ReasonCode::PROTOCOL_ERROR, now),
        };
        let cid = self.conns.get(&conn).and_then(|c| c.client_id.clone());
        let client = self.record(conn, cid.as_deref().unwrap_or_default());
        self.events.push_back(BrokerEvent::AuthRequest {
            conn,
            client,
            method,
            data: auth_data(&auth.properties),
            step,
            reauth: true,
        });
        if let Some(c) = self.conns.get_mut(&conn) {
            c.pending = Some(Box::new(Pending::Reauth));
        }
    }

    /// The host's answer to a re-authentication step.
    pub(super) fn reauth_decision(&mut self, conn: ConnId, answer: AuthAnswer, now: Instant) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if !matches!(c.pending.as_deref(), Some(Pending::Reauth)) {
            return;
        }
        c.pending = None;
        let Some((method, step)) = self.records.as_mut().and_then(|r| r.methods.get_mut(&conn))
        else {
            return;
        };
        let (reason, data) = match answer {
            AuthAnswer::Continue(data) => {
                *step += 1;
                (ReasonCode::CONTINUE_AUTHENTICATION, data)
            }
            AuthAnswer::Success(data) => {
                *step = 0;
                (ReasonCode::SUCCESS, data)
            }
            AuthAnswer::Fail(code) => {
                let code = if code.0 < 0x80 {
                    ReasonCode::NOT_AUTHORIZED
                } else {
                    code
                };
                let cause = super::DisconnectCause::ByHost(code);
                return self.close_conn(conn, cause, Some(code), now);
            }
        };
        let mut properties = Properties::default();
        properties.list.push(Property {
            id: PropertyId::AUTHENTICATION_METHOD,
            value: PropertyValue::String(method.to_string()),
        });
        set_auth_data(&mut properties, data);
        self.send(conn, Packet::Auth(Auth { reason, properties }));
    }
}
