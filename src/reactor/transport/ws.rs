//! The WebSocket layer of a client (RFC 6455): the HTTP upgrade with the
//! `mqtt` subprotocol, then MQTT bytes in masked binary frames. Incoming
//! data frames are a byte stream for the session, so an MQTT packet may
//! span frames and a frame may hold several packets. Pings are answered.

use base64::Engine;
use bytes::{Buf, BytesMut};
use ring::rand::SecureRandom;

use super::ws_frame::{
    OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, next_frame, write_frame,
};
use super::{Layer, TransportError};

/// The GUID of RFC 6455 section 1.3.
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// A response head longer than this is refused.
const MAX_RESPONSE_HEAD: usize = 16 * 1024;

enum State {
    /// The upgrade request is queued (or sent) and the response awaited.
    Upgrading {
        sent: bool,
        response: BytesMut,
    },
    Open,
}

pub struct WsLayer {
    state: State,
    request: Vec<u8>,
    accept: String,
    /// Incoming bytes not yet a whole frame.
    frames: BytesMut,
    /// Control frames (pong, close) waiting to go out.
    control: BytesMut,
    closing: bool,
    close_sent: bool,
    rng: ring::rand::SystemRandom,
}

fn random<const N: usize>(rng: &ring::rand::SystemRandom) -> Result<[u8; N], TransportError> {
    let mut b = [0u8; N];
    rng.fill(&mut b)
        .map_err(|_| TransportError::new("no random bytes for the WebSocket key or mask"))?;
    Ok(b)
}

/// The Sec-WebSocket-Accept value for `key`.
pub fn accept_for(key: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{key}{ACCEPT_GUID}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

impl WsLayer {
    /// A client upgrading `path` on `host:port`, with `headers` added to the
    /// request (Paho's httpHeaders).
    pub fn client(
        host: &str,
        port: u16,
        path: &str,
        headers: &[(String, String)],
    ) -> Result<WsLayer, TransportError> {
        let rng = ring::rand::SystemRandom::new();
        let key = base64::engine::general_purpose::STANDARD.encode(random::<16>(&rng)?);
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: mqtt\r\n"
        );
        for (name, value) in headers {
            if name.contains(['\r', '\n', ':']) || value.contains(['\r', '\n']) {
                return Err(TransportError::new(format!(
                    "HTTP header {name:?} cannot be sent (line break or colon in it)"
                )));
            }
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        Ok(WsLayer {
            state: State::Upgrading {
                sent: false,
                response: BytesMut::new(),
            },
            request: request.into_bytes(),
            accept: accept_for(&key),
            frames: BytesMut::new(),
            control: BytesMut::new(),
            closing: false,
            close_sent: false,
            rng,
        })
    }

    /// Check the response head; true when it is complete and good. Bytes
    /// after it are frames.
    fn upgrade_response(&mut self, response: &mut BytesMut) -> Result<bool, TransportError> {
        let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
            if response.len() > MAX_RESPONSE_HEAD {
                return Err(TransportError::new(
                    "WebSocket upgrade failed: response head too long",
                ));
            }
            return Ok(false);
        };
        let head = String::from_utf8_lossy(&response[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap_or("");
        if status.split_whitespace().nth(1) != Some("101") {
            return Err(TransportError::new(format!(
                "WebSocket upgrade refused: {status}"
            )));
        }
        let mut accept = None;
        let mut protocol = None;
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                let value = value.trim();
                if name.trim().eq_ignore_ascii_case("sec-websocket-accept") {
                    accept = Some(value.to_string());
                } else if name.trim().eq_ignore_ascii_case("sec-websocket-protocol") {
                    protocol = Some(value.to_string());
                }
            }
        }
        if accept.as_deref() != Some(self.accept.as_str()) {
            return Err(TransportError::new(
                "WebSocket upgrade failed: wrong or missing Sec-WebSocket-Accept",
            ));
        }
        if let Some(p) = protocol.filter(|p| !p.eq_ignore_ascii_case("mqtt")) {
            return Err(TransportError::new(format!(
                "WebSocket upgrade failed: the server chose subprotocol {p:?}, not mqtt"
            )));
        }
        response.advance(end + 4);
        Ok(true)
    }

    /// Append one masked frame.
    fn frame(&self, opcode: u8, payload: &[u8], down: &mut BytesMut) -> Result<(), TransportError> {
        write_frame(opcode, payload, Some(random::<4>(&self.rng)?), down);
        Ok(())
    }

    /// Take whole frames from `self.frames`: data to `up`, pings answered.
    fn read_frames(&mut self, up: &mut BytesMut) -> Result<(), TransportError> {
        while let Some(frame) = next_frame(&mut self.frames)? {
            let payload = frame.payload;
            match frame.opcode {
                OP_CONTINUATION | OP_TEXT | OP_BINARY => up.extend_from_slice(&payload),
                OP_PING => {
                    let mut pong = BytesMut::new();
                    self.frame(OP_PONG, &payload, &mut pong)?;
                    self.control.extend_from_slice(&pong);
                }
                OP_PONG => {}
                OP_CLOSE => {
                    if !self.close_sent {
                        self.close_sent = true;
                        let mut close = BytesMut::new();
                        self.frame(OP_CLOSE, &payload[..payload.len().min(2)], &mut close)?;
                        self.control.extend_from_slice(&close);
                    }
                    let code =
                        (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                    return Err(TransportError::closed(match code {
                        Some(c) => format!("the server closed the WebSocket (code {c})"),
                        None => "the server closed the WebSocket".to_string(),
                    }));
                }
                other => {
                    return Err(TransportError::new(format!(
                        "WebSocket frame with unknown opcode {other}"
                    )));
                }
            }
        }
        Ok(())
    }
}

impl Layer for WsLayer {
    fn input(&mut self, wire: &[u8], up: &mut BytesMut) -> Result<(), TransportError> {
        if let State::Upgrading { response, .. } = &mut self.state {
            response.extend_from_slice(wire);
            let mut response = std::mem::take(response);
            if !self.upgrade_response(&mut response)? {
                if let State::Upgrading { response: r, .. } = &mut self.state {
                    *r = response;
                }
                return Ok(());
            }
            self.state = State::Open;
            self.frames = response;
        } else {
            self.frames.extend_from_slice(wire);
        }
        self.read_frames(up)
    }

    fn output(&mut self, data: &[u8], down: &mut BytesMut) -> Result<(), TransportError> {
        if let State::Upgrading { sent, .. } = &mut self.state {
            if !*sent {
                *sent = true;
                down.extend_from_slice(&self.request);
            }
            return Ok(());
        }
        if !self.control.is_empty() {
            down.extend_from_slice(&self.control);
            self.control.clear();
        }
        if !data.is_empty() {
            self.frame(OP_BINARY, data, down)?;
        }
        if self.closing && !self.close_sent {
            self.close_sent = true;
            self.frame(OP_CLOSE, &1000u16.to_be_bytes(), down)?;
        }
        Ok(())
    }

    fn ready(&self) -> bool {
        matches!(self.state, State::Open)
    }

    fn close(&mut self) {
        self.closing = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unmasked server frame.
    fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x80 | opcode];
        if payload.len() < 126 {
            f.push(payload.len() as u8);
        } else {
            f.push(126);
            f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        f.extend_from_slice(payload);
        f
    }

    fn open() -> WsLayer {
        let mut ws =
            WsLayer::client("127.0.0.1", 9001, "/mqtt", &[("X-Test".into(), "1".into())]).unwrap();
        let mut down = BytesMut::new();
        ws.output(&[], &mut down).unwrap();
        let req = String::from_utf8(down.to_vec()).unwrap();
        assert!(req.starts_with("GET /mqtt HTTP/1.1\r\n"), "{req}");
        assert!(req.contains("Sec-WebSocket-Protocol: mqtt\r\n"));
        assert!(req.contains("X-Test: 1\r\n"));
        let key = req
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        let resp = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
            accept_for(key)
        );
        let mut up = BytesMut::new();
        // The response in two pieces, a frame right behind it.
        let mut bytes = resp.into_bytes();
        bytes.extend(server_frame(OP_BINARY, b"\x20\x02"));
        ws.input(&bytes[..10], &mut up).unwrap();
        assert!(!ws.ready());
        ws.input(&bytes[10..], &mut up).unwrap();
        assert!(ws.ready());
        assert_eq!(&up[..], b"\x20\x02");
        ws
    }

    #[test]
    fn rfc_accept_example() {
        assert_eq!(
            accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn frames_split_and_joined() {
        let mut ws = open();
        let mut wire = server_frame(OP_BINARY, b"abc");
        wire.extend(server_frame(OP_CONTINUATION, b"def"));
        wire.extend(server_frame(OP_BINARY, &[7u8; 300]));
        let mut up = BytesMut::new();
        for chunk in wire.chunks(5) {
            ws.input(chunk, &mut up).unwrap();
        }
        assert_eq!(&up[..6], b"abcdef");
        assert_eq!(up.len(), 306);
    }

    #[test]
    fn client_frames_are_masked_and_pings_answered() {
        let mut ws = open();
        let mut down = BytesMut::new();
        ws.output(b"hello", &mut down).unwrap();
        assert_eq!(down[0], 0x82);
        assert_eq!(down[1], 0x80 | 5);
        let mask = [down[2], down[3], down[4], down[5]];
        let plain: Vec<u8> = down[6..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i & 3])
            .collect();
        assert_eq!(plain, b"hello");
        let mut up = BytesMut::new();
        ws.input(&server_frame(OP_PING, b"p"), &mut up).unwrap();
        let mut down = BytesMut::new();
        ws.output(&[], &mut down).unwrap();
        assert_eq!(down[0], 0x80 | OP_PONG);
        let e = ws
            .input(&server_frame(OP_CLOSE, &1001u16.to_be_bytes()), &mut up)
            .unwrap_err();
        assert!(e.closed && e.reason.contains("1001"), "{e:?}");
    }

    #[test]
    fn refused_upgrades() {
        let mut ws = WsLayer::client("h", 1, "/", &[]).unwrap();
        let mut up = BytesMut::new();
        let e = ws
            .input(b"HTTP/1.1 404 Not Found\r\n\r\n", &mut up)
            .unwrap_err();
        assert!(e.reason.contains("404"), "{e}");
        let mut ws = WsLayer::client("h", 1, "/", &[]).unwrap();
        let e = ws
            .input(
                b"HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: nope\r\n\r\n",
                &mut up,
            )
            .unwrap_err();
        assert!(e.reason.contains("Accept"), "{e}");
        assert!(WsLayer::client("h", 1, "/", &[("a\r\nb".into(), "c".into())]).is_err());
    }
}
