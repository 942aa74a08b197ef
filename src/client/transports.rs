//! The layers between socket and session that a server URI asks for:
//! TLS for ssl://, mqtts:// and wss://, a WebSocket for ws:// and wss://.

use std::sync::Arc;

use super::error::ClientError;
use super::sync::ConnectOptions;
use super::tls::TlsOptions;
use super::uri::{Scheme, ServerUri};
use crate::reactor::transport::proxy::{ProxyLayer, ProxySetting, no_proxy_matches};
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
    if let Some(p) = proxy_for(uri, options)? {
        layers.push(Box::new(ProxyLayer::new(&p, host, uri.port)));
    }
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

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .or_else(|_| std::env::var(name.to_ascii_uppercase()))
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// The HTTP proxy for `uri`, as Paho 1.3 chooses it: for TLS URIs
/// httpsProxy, else the `https_proxy` variable; for the others httpProxy,
/// else `http_proxy`. A proxy from the environment is skipped for hosts
/// that `no_proxy` lists.
pub fn proxy_for(
    uri: &ServerUri,
    options: &ConnectOptions,
) -> Result<Option<ProxySetting>, (ClientError, String)> {
    if uri.scheme == Scheme::Unix {
        return Ok(None);
    }
    let secure = matches!(uri.scheme, Scheme::Tls | Scheme::WebSocketTls);
    let (option, var) = if secure {
        (&options.https_proxy, "https_proxy")
    } else {
        (&options.http_proxy, "http_proxy")
    };
    let text = match option {
        Some(t) => t.clone(),
        None => match env(var) {
            Some(t) if !env("no_proxy").is_some_and(|n| no_proxy_matches(&n, &uri.host)) => t,
            _ => return Ok(None),
        },
    };
    ProxySetting::parse(&text).map(Some).ok_or_else(|| {
        (
            ClientError::Failure,
            format!("unusable HTTP proxy setting {text:?}"),
        )
    })
}
