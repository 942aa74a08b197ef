//! The client record the host hooks see: who a connection is (client id,
//! user name, address, certificate subject, protocol, bridge), kept per
//! connection id in a side table that exists only while hooks are on, so a
//! broker without hooks pays nothing per connection.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{Broker, ConnId};
use crate::protocol::codec::ProtocolVersion;

/// One connection's client as the host sees it (the password is given to
/// the connect hook only, beside the record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// The broker's connection id (the reactor's key for it).
    pub conn: ConnId,
    /// The client identifier in use (assigned by the broker when the
    /// CONNECT had none; as sent when refused before that).
    pub client_id: String,
    /// The user name it is judged by: the CONNECT's, or the certificate's
    /// common name on a `use_identity_as_username` listener.
    pub username: Option<String>,
    pub peer: SocketAddr,
    /// The common name of the client's TLS certificate, on a listener that
    /// asks for one.
    pub cert_subject: Option<String>,
    pub version: ProtocolVersion,
    /// Connected as a bridge (try_private, protocol level | 0x80).
    pub bridge: bool,
}

/// What the host hooks need kept per connection, only while they are on.
#[derive(Debug, Default)]
pub(crate) struct Records {
    /// The records of connections whose CONNECT got that far.
    by_conn: foldhash::HashMap<ConnId, Arc<ClientRecord>>,
    /// Certificate names of TLS connections whose listener does not make
    /// them the user name (until the record is made).
    subjects: foldhash::HashMap<ConnId, Box<str>>,
    /// The Authentication Method of connections that used enhanced
    /// authentication, and the step a re-authentication is at.
    pub(super) methods: foldhash::HashMap<ConnId, (Box<str>, u32)>,
}

impl Broker {
    /// Whether any host hook needs client records.
    pub(super) fn keeps_records(&self) -> bool {
        let h = &self.config.hooks;
        h.connect
            || h.publish
            || h.subscribe
            || h.unsubscribe
            || (h.notices && !h.lean_notices)
            || h.auth
            || h.deliver
    }

    /// Remembers what `conn` is (hooks on only), replacing what was known.
    pub(super) fn remember(
        &mut self,
        conn: ConnId,
        client_id: &str,
        username: Option<&str>,
    ) -> Option<Arc<ClientRecord>> {
        if !self.keeps_records() {
            return None;
        }
        let c = self.conns.get(&conn)?;
        let record = Arc::new(ClientRecord {
            conn,
            client_id: client_id.to_string(),
            username: username.map(str::to_string),
            peer: c.peer,
            cert_subject: self.cert_subject(conn),
            version: c.version,
            bridge: c.bridge,
        });
        self.records
            .get_or_insert_with(Box::default)
            .by_conn
            .insert(conn, record.clone());
        Some(record)
    }

    /// The record of `conn`: the one remembered, or (before its CONNECT was
    /// accepted that far) what the connection itself knows, under `client_id`.
    pub(super) fn record(&self, conn: ConnId, client_id: &str) -> Arc<ClientRecord> {
        if let Some(r) = self.records.as_ref().and_then(|r| r.by_conn.get(&conn)) {
            return r.clone();
        }
        let c = self.conns.get(&conn);
        Arc::new(ClientRecord {
            conn,
            client_id: client_id.to_string(),
            username: None,
            peer: c.map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.peer),
            cert_subject: self.cert_subject(conn),
            version: c.map_or(ProtocolVersion::V311, |c| c.version),
            bridge: c.is_some_and(|c| c.bridge),
        })
    }

    /// The certificate name of `conn`: the one made its user name, or
    /// the one reported for the hooks.
    fn cert_subject(&self, conn: ConnId) -> Option<String> {
        let as_username = self
            .conns
            .get(&conn)?
            .cert_identity
            .clone()
            .and_then(|b| *b);
        as_username.map(String::from).or_else(|| {
            let r = self.records.as_ref()?;
            r.subjects.get(&conn).map(|s| s.to_string())
        })
    }

    /// The TLS handshake of `conn` is done on a listener that does not make
    /// its certificate's name the user name: `name` goes into its record
    /// (hooks on only).
    pub fn handle_cert_subject(&mut self, conn: ConnId, name: Option<String>) {
        if let (true, Some(name)) = (self.keeps_records(), name) {
            self.records
                .get_or_insert_with(Box::default)
                .subjects
                .insert(conn, name.into_boxed_str());
        }
    }

    /// Forgets `conn`'s record (the table goes with the last one).
    pub(super) fn forget_record(&mut self, conn: ConnId) {
        if let Some(r) = self.records.as_mut() {
            r.by_conn.remove(&conn);
            r.subjects.remove(&conn);
            r.methods.remove(&conn);
            if r.by_conn.is_empty() && r.subjects.is_empty() && r.methods.is_empty() {
                self.records = None;
            }
        }
    }
}
