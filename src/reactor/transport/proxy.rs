//! The HTTP CONNECT layer: the first layer over a socket opened to an HTTP
//! proxy. It asks the proxy for a tunnel to the broker (with Basic
//! credentials when the proxy setting carries them), waits for a 2xx
//! answer, then passes bytes through untouched.

use base64::Engine;
use bytes::{Buf, BytesMut};

use super::{Layer, TransportError};

/// A proxy response head longer than this is refused.
const MAX_HEAD: usize = 16 * 1024;

/// A proxy from Paho's httpProxy/httpsProxy or the environment:
/// `[http://|https://][user:password@]host[:port][/]`, port 8080 by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySetting {
    pub host: String,
    pub port: u16,
    /// `user:password`, %XX escapes decoded.
    pub credentials: Option<String>,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl ProxySetting {
    /// Parse a proxy setting; None when it names no host.
    pub fn parse(text: &str) -> Option<ProxySetting> {
        let t = text.trim();
        let t = t
            .strip_prefix("http://")
            .or_else(|| t.strip_prefix("https://"))
            .unwrap_or(t);
        let t = t.split('/').next().unwrap_or("");
        let (credentials, hostport) = match t.rsplit_once('@') {
            Some((c, h)) => (Some(percent_decode(c)), h),
            None => (None, t),
        };
        let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
            let (h, after) = rest.split_once(']')?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        let port = match port {
            Some(p) => p.parse().ok()?,
            None => 8080,
        };
        if host.is_empty() {
            return None;
        }
        Some(ProxySetting {
            host: host.to_string(),
            port,
            credentials,
        })
    }
}

/// Does `no_proxy` (comma- or space-separated names, `.domain` suffixes,
/// `*` for all; ports are ignored) exempt `host`?
pub fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    no_proxy
        .split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.trim_start_matches('[');
            let entry = match entry.split_once(']') {
                Some((h, _)) => h,
                None if entry.matches(':').count() == 1 => entry.split(':').next().unwrap_or(""),
                None => entry,
            };
            let entry = entry.to_ascii_lowercase();
            let bare = entry.trim_start_matches('.');
            host == bare || host.ends_with(&format!(".{bare}"))
        })
}

pub struct ProxyLayer {
    request: Option<Vec<u8>>,
    head: BytesMut,
    /// Bytes from above (a TLS ClientHello) held until the tunnel is open.
    held: BytesMut,
    open: bool,
}

impl ProxyLayer {
    /// A tunnel to `host:port` through `proxy`.
    pub fn new(proxy: &ProxySetting, host: &str, port: u16) -> ProxyLayer {
        let target = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(c) = &proxy.credentials {
            let encoded = base64::engine::general_purpose::STANDARD.encode(c);
            request.push_str(&format!("Proxy-Authorization: Basic {encoded}\r\n"));
        }
        request.push_str("\r\n");
        ProxyLayer {
            request: Some(request.into_bytes()),
            head: BytesMut::new(),
            held: BytesMut::new(),
            open: false,
        }
    }
}

impl Layer for ProxyLayer {
    fn input(&mut self, wire: &[u8], up: &mut BytesMut) -> Result<(), TransportError> {
        if self.open {
            up.extend_from_slice(wire);
            return Ok(());
        }
        self.head.extend_from_slice(wire);
        let Some(end) = self.head.windows(4).position(|w| w == b"\r\n\r\n") else {
            if self.head.len() > MAX_HEAD {
                return Err(TransportError::new("HTTP proxy answer too long"));
            }
            return Ok(());
        };
        let status = String::from_utf8_lossy(&self.head[..end])
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        let ok = status.starts_with("HTTP/")
            && status
                .split_whitespace()
                .nth(1)
                .is_some_and(|c| c.len() == 3 && c.starts_with('2'));
        if !ok {
            return Err(TransportError::new(format!(
                "HTTP proxy refused the tunnel: {status}"
            )));
        }
        self.head.advance(end + 4);
        up.extend_from_slice(&self.head);
        self.head = BytesMut::new();
        self.open = true;
        Ok(())
    }

    fn output(&mut self, data: &[u8], down: &mut BytesMut) -> Result<(), TransportError> {
        if let Some(r) = self.request.take() {
            down.extend_from_slice(&r);
        }
        if !self.open {
            self.held.extend_from_slice(data);
            return Ok(());
        }
        if !self.held.is_empty() {
            down.extend_from_slice(&self.held);
            self.held = BytesMut::new();
        }
        down.extend_from_slice(data);
        Ok(())
    }

    fn ready(&self) -> bool {
        self.open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings() {
        let p = ProxySetting::parse("http://us%40er:p%3Ass@proxy.test:3128/").unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.credentials.as_deref()),
            ("proxy.test", 3128, Some("us@er:p:ss"))
        );
        let p = ProxySetting::parse("proxy.test").unwrap();
        assert_eq!((p.port, p.credentials), (8080, None));
        let p = ProxySetting::parse("https://[::1]:99").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("::1", 99));
        assert!(ProxySetting::parse("http://:99").is_none());
        assert!(ProxySetting::parse("http://h:notaport").is_none());
    }

    #[test]
    fn no_proxy_lists() {
        assert!(no_proxy_matches("localhost,127.0.0.1", "127.0.0.1"));
        assert!(no_proxy_matches("example.com", "mqtt.example.com"));
        assert!(no_proxy_matches(".example.com", "mqtt.example.com"));
        assert!(!no_proxy_matches("example.com", "badexample.com"));
        assert!(no_proxy_matches("*", "anything"));
        assert!(no_proxy_matches("host.test:1883", "host.test"));
        assert!(no_proxy_matches("[::1]", "::1"));
        assert!(!no_proxy_matches("", "h"));
    }

    #[test]
    fn tunnel() {
        let p = ProxySetting::parse("u:p@proxy:1").unwrap();
        let mut l = ProxyLayer::new(&p, "broker.test", 8883);
        let mut down = BytesMut::new();
        l.output(b"hello", &mut down).unwrap();
        let text = String::from_utf8_lossy(&down).into_owned();
        assert!(
            text.starts_with("CONNECT broker.test:8883 HTTP/1.1\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Proxy-Authorization: Basic dTpw\r\n"),
            "{text}"
        );
        assert!(text.ends_with("\r\n\r\n"), "held until the tunnel opens");
        let mut up = BytesMut::new();
        l.input(b"HTTP/1.1 200 Connection established\r\n", &mut up)
            .unwrap();
        assert!(!l.ready());
        l.input(b"\r\nabc", &mut up).unwrap();
        assert!(l.ready());
        assert_eq!(&up[..], b"abc");
        let mut down = BytesMut::new();
        l.output(b"!", &mut down).unwrap();
        assert_eq!(&down[..], b"hello!");
        let mut l = ProxyLayer::new(&p, "b", 1);
        let e = l
            .input(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
                &mut up,
            )
            .unwrap_err();
        assert!(e.reason.contains("407"));
    }
}
