//! What an accepted connection of a listener is wrapped in: nothing (plain
//! MQTT), TLS, WebSocket, or WebSocket over TLS. Built once from the
//! listener's settings (certificates read then); a reload builds a new one,
//! which new connections get while existing ones keep theirs.

use std::sync::Arc;

use super::config::listener_keys::{ListenerProtocol, ListenerSpec};
use crate::reactor::transport::tls::TlsLayer;
use crate::reactor::transport::tls_server::server_config;
use crate::reactor::transport::ws_server::WsServerLayer;
use crate::reactor::transport::{Layer, Transport, TransportError};

#[derive(Debug)]
pub struct ListenerTransport {
    protocol: ListenerProtocol,
    tls: Option<Arc<rustls::ServerConfig>>,
    /// The client certificate's name is the user name (use_identity_as_username).
    identity: bool,
    /// Report the client certificate's name for the host hooks' client
    /// record (a TLS listener of a broker with hooks).
    subject: bool,
}

impl ListenerTransport {
    /// Read the certificates `spec` names and check its settings.
    pub fn new(spec: &ListenerSpec) -> Result<ListenerTransport, String> {
        let tls = match spec.tls.is_set() {
            true => Some(server_config(&spec.tls).map_err(|e| e.to_string())?),
            false => None,
        };
        Ok(ListenerTransport {
            protocol: spec.protocol,
            identity: tls.is_some() && spec.tls.use_identity_as_username,
            subject: false,
            tls,
        })
    }

    /// Also report the certificate's name when it is not the user name
    /// (for the hooks' client record).
    pub fn reporting_subject(mut self, on: bool) -> ListenerTransport {
        self.subject = on && self.tls.is_some();
        self
    }

    /// Whether the certificate's name is the user name.
    pub fn identity_as_username(&self) -> bool {
        self.identity
    }

    /// The layers for one new connection (`None`: plain MQTT over TCP) and
    /// whether its certificate name is wanted.
    pub fn make(&self) -> Result<Option<(Transport, bool)>, TransportError> {
        let mut layers: Vec<Box<dyn Layer>> = Vec::new();
        if let Some(config) = &self.tls {
            layers.push(Box::new(TlsLayer::server(config.clone())?));
        }
        if self.protocol == ListenerProtocol::WebSockets {
            layers.push(Box::new(WsServerLayer::new()));
        }
        let report = self.identity || self.subject;
        Ok((!layers.is_empty()).then(|| (Transport::new(layers), report)))
    }
}
