//! MQTT 5 enhanced authentication (§4.12): a CONNECT naming an
//! Authentication Method is handed to the host step by step (AUTH 0x18
//! back and forth) until it answers success (CONNACK carries the method
//! and its last data) or failure (CONNACK with its reason code). Without
//! the host's auth hook such a CONNECT is refused with 0x8C.

use std::time::Instant;

use bytes::Bytes;

use super::connection::Phase;
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
        });
        if let Some(c) = self.conns.get_mut(&conn) {
            c.phase = Phase::Authenticating {
                connect,
                assigned,
                step,
                host: true,
            };
        }
    }

    /// A client AUTH while its CONNECT is being authenticated.
    pub(super) fn handle_auth(&mut self, conn: ConnId, auth: Auth, now: Instant) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let phase = std::mem::replace(&mut c.phase, Phase::AwaitConnect);
        let Phase::Authenticating {
            connect,
            assigned,
            step,
            host: false,
        } = phase
        else {
            c.phase = phase;
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
        let phase = std::mem::replace(&mut c.phase, Phase::AwaitConnect);
        let Phase::Authenticating {
            mut connect,
            assigned,
            step,
            host: true,
        } = phase
        else {
            c.phase = phase;
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
                c.phase = Phase::Authenticating {
                    connect,
                    assigned,
                    step,
                    host: false,
                };
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
                self.connect_authenticated(conn, *connect, assigned, now);
            }
        }
    }
}
