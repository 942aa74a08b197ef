//! Server URIs as Paho accepts them: `tcp://`, `mqtt://`, `ssl://`, `mqtts://`,
//! `ws://`, `wss://`, `unix://PATH` (as Paho 1.3.13 does) or a bare `host:port`.

use super::error::ClientError;

/// The transport a URI asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Tcp,
    Tls,
    WebSocket,
    WebSocketTls,
    /// A Unix domain socket; its path is `ServerUri::path`.
    Unix,
}

/// A parsed server URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUri {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
    /// The path of a WebSocket URI ("/mqtt" when none is given, as Paho).
    pub path: String,
}

/// Parse a server URI. Unknown schemes are `BadProtocol`.
pub fn parse(uri: &str) -> Result<ServerUri, ClientError> {
    if let Some(path) = uri.strip_prefix("unix://") {
        if path.is_empty() {
            return Err(ClientError::BadProtocol);
        }
        return Ok(ServerUri {
            scheme: Scheme::Unix,
            host: "localhost".into(),
            port: 0,
            path: path.to_string(),
        });
    }
    let (scheme, rest) = match uri.split_once("://") {
        Some((s, rest)) => {
            let scheme = match s.to_ascii_lowercase().as_str() {
                "tcp" | "mqtt" => Scheme::Tcp,
                "ssl" | "mqtts" => Scheme::Tls,
                "ws" => Scheme::WebSocket,
                "wss" => Scheme::WebSocketTls,
                _ => return Err(ClientError::BadProtocol),
            };
            (scheme, rest)
        }
        None => (Scheme::Tcp, uri),
    };
    let default_port = match scheme {
        Scheme::Tcp => 1883,
        Scheme::Tls => 8883,
        Scheme::WebSocket => 80,
        Scheme::WebSocketTls => 443,
        Scheme::Unix => 0,
    };
    // A websocket URI may carry a path; the host part ends at the first '/'.
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = if path.is_empty() { "/mqtt" } else { path }.to_string();
    let (host, port) = if let Some(stripped) = authority.strip_prefix('[') {
        let (h, after) = stripped.split_once(']').ok_or(ClientError::BadProtocol)?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| ClientError::BadProtocol)?,
            None => default_port,
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse().map_err(|_| ClientError::BadProtocol)?,
            ),
            None => (authority.to_string(), default_port),
        }
    };
    if host.is_empty() {
        return Err(ClientError::BadProtocol);
    }
    Ok(ServerUri {
        scheme,
        host,
        port,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_ports() {
        let u = parse("tcp://127.0.0.1:1884").unwrap();
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port),
            (Scheme::Tcp, "127.0.0.1", 1884)
        );
        let u = parse("mqtt://localhost").unwrap();
        assert_eq!((u.scheme, u.port), (Scheme::Tcp, 1883));
        assert_eq!(parse("127.0.0.1:99").unwrap().port, 99);
        assert_eq!(parse("ssl://h").unwrap().scheme, Scheme::Tls);
        assert_eq!(parse("wss://h:1/mqtt").unwrap().port, 1);
        assert_eq!(parse("ws://h:1/a/b?c=d").unwrap().path, "/a/b?c=d");
        assert_eq!(parse("ws://h:1").unwrap().path, "/mqtt");
        let u = parse("unix:///run/mosquitto.sock").unwrap();
        assert_eq!(
            (u.scheme, u.path.as_str()),
            (Scheme::Unix, "/run/mosquitto.sock")
        );
        assert_eq!(parse("unix://"), Err(ClientError::BadProtocol));
        let u = parse("tcp://[::1]:7").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 7));
    }

    #[test]
    fn bad_uris() {
        assert_eq!(parse("gopher://h:1"), Err(ClientError::BadProtocol));
        assert_eq!(parse("tcp://h:notaport"), Err(ClientError::BadProtocol));
        assert_eq!(parse("tcp://:1883"), Err(ClientError::BadProtocol));
        assert_eq!(parse("tcp://[::1"), Err(ClientError::BadProtocol));
    }
}
