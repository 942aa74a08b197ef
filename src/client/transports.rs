//! The layers between socket and session that a server URI asks for:
//! TLS for ssl://, mqtts:// and wss://, a WebSocket for ws:// and wss://.

use std::sync::Arc;

use super::error::ClientError;
use super::sync::ConnectOptions;
use super::tls::TlsOptions;
use super::uri::{Scheme, ServerUri};
use crate::reactor::transport::tls::TlsLayer;
use crate::reactor::transport::ws::WsLayer;
use crate::reactor::transport::{Layer, Transport, TransportError};

/// The TLS options a TLS URI uses: the connect's, else (a TLS URI among
/// the serverURIs of a connect without SSL options) Paho's defaults.
pub fn tls_for(options: &ConnectOptions) -> Arc<TlsOptions> {
    static DEFAULT: std::sync::OnceLock<Arc<TlsOptions>> = std::sync::OnceLock::new();
    options.tls.clone().unwrap_or_else(|| {
        DEFAULT
            .get_or_init(|| Arc::new(TlsOptions::paho_default()))
            .clone()
    })
}

/// The layers between the socket and the session for `uri`.
pub fn transport_for(
    uri: &ServerUri,
    options: &ConnectOptions,
) -> Result<Option<Box<Transport>>, (ClientError, String)> {
    let host = uri.host.trim_start_matches('[').trim_end_matches(']');
    let failed = |e: TransportError| (ClientError::Failure, e.reason);
    let mut layers: Vec<Box<dyn Layer>> = Vec::new();
    if matches!(uri.scheme, Scheme::Tls | Scheme::WebSocketTls) {
        let config = tls_for(options).config()?;
        layers.push(Box::new(TlsLayer::client(config, host).map_err(failed)?));
    }
    if matches!(uri.scheme, Scheme::WebSocket | Scheme::WebSocketTls) {
        let ws = WsLayer::client(host, uri.port, &uri.path, &options.http_headers);
        layers.push(Box::new(ws.map_err(failed)?));
    }
    if layers.is_empty() {
        return Ok(None);
    }
    Ok(Some(Box::new(Transport::new(layers))))
}
