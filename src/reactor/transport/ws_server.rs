//! The WebSocket layer of a broker connection (RFC 6455, server side): read
//! the HTTP upgrade request, which must ask for the `mqtt` subprotocol and
//! fit in `MAX_REQUEST_HEAD` bytes, answer 101, then carry MQTT bytes in
//! binary frames (masked from the client, plain to it). A bad or oversized
//! request is an error, so that connection alone is closed.

use bytes::BytesMut;

use super::ws::accept_for;
use super::ws_frame::{
    OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, next_frame, write_frame,
};
use super::{Layer, TransportError};

/// An upgrade request head longer than this is refused (mosquitto's
/// `websockets_headers_size` default is 4 KiB; browsers send well under).
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

enum State {
    /// Reading the request head.
    Upgrading(BytesMut),
    Open,
}

pub struct WsServerLayer {
    state: State,
    /// Incoming bytes not yet a whole frame.
    frames: BytesMut,
    /// The 101 response and control frames (pong, close) waiting to go out.
    control: BytesMut,
    closing: bool,
    close_sent: bool,
}

impl Default for WsServerLayer {
    fn default() -> Self {
        WsServerLayer::new()
    }
}

fn refuse(why: impl std::fmt::Display) -> TransportError {
    TransportError::new(format!("WebSocket upgrade refused: {why}"))
}

/// The 101 response for a complete request head (without the blank line).
fn answer(head: &str) -> Result<String, TransportError> {
    let mut lines = head.split("\r\n");
    let request = lines.next().unwrap_or("");
    let mut words = request.split_whitespace();
    if words.next() != Some("GET") || !words.nth(1).is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err(refuse(format!("not an HTTP GET request: {request:?}")));
    }
    let (mut upgrade, mut connection, mut key, mut version, mut protocols) =
        (false, false, None, None, Vec::new());
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(refuse(format!("bad header line {line:?}")));
        };
        let (name, value) = (name.trim(), value.trim());
        let has = |word: &str| {
            value
                .split(',')
                .any(|v| v.trim().eq_ignore_ascii_case(word))
        };
        match name.to_ascii_lowercase().as_str() {
            "upgrade" => upgrade = has("websocket"),
            "connection" => connection = has("upgrade"),
            "sec-websocket-key" => key = Some(value.to_string()),
            "sec-websocket-version" => version = Some(value.to_string()),
            "sec-websocket-protocol" => {
                protocols.extend(value.split(',').map(|p| p.trim().to_string()))
            }
            _ => {}
        }
    }
    if !upgrade || !connection {
        return Err(refuse("no 'Upgrade: websocket' / 'Connection: Upgrade'"));
    }
    let key = key.ok_or_else(|| refuse("no Sec-WebSocket-Key"))?;
    if version.as_deref() != Some("13") {
        return Err(refuse("Sec-WebSocket-Version is not 13"));
    }
    // MQTT 6.0: the subprotocol is "mqtt" (older clients say "mqttv3.1").
    let Some(protocol) = protocols
        .iter()
        .find(|p| p.eq_ignore_ascii_case("mqtt") || p.eq_ignore_ascii_case("mqttv3.1"))
    else {
        return Err(refuse(format!(
            "the client did not offer the mqtt subprotocol (offered {protocols:?})"
        )));
    };
    Ok(format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n",
        accept_for(&key)
    ))
}

impl WsServerLayer {
    pub fn new() -> WsServerLayer {
        WsServerLayer {
            state: State::Upgrading(BytesMut::new()),
            frames: BytesMut::new(),
            control: BytesMut::new(),
            closing: false,
            close_sent: false,
        }
    }

    /// Take whole frames from `self.frames`: data to `up`, pings answered.
    fn read_frames(&mut self, up: &mut BytesMut) -> Result<(), TransportError> {
        while let Some(frame) = next_frame(&mut self.frames)? {
            if !frame.masked {
                return Err(TransportError::new(
                    "unmasked WebSocket frame from a client",
                ));
            }
            let payload = frame.payload;
            match frame.opcode {
                OP_CONTINUATION | OP_BINARY => up.extend_from_slice(&payload),
                OP_TEXT => {
                    return Err(TransportError::new(
                        "WebSocket text frame: MQTT travels in binary frames",
                    ));
                }
                OP_PING => write_frame(OP_PONG, &payload, None, &mut self.control),
                OP_PONG => {}
                OP_CLOSE => {
                    if !self.close_sent {
                        self.close_sent = true;
                        let code = &payload[..payload.len().min(2)];
                        write_frame(OP_CLOSE, code, None, &mut self.control);
                    }
                    return Err(TransportError::closed("the client closed the WebSocket"));
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

impl Layer for WsServerLayer {
    fn input(&mut self, wire: &[u8], up: &mut BytesMut) -> Result<(), TransportError> {
        if let State::Upgrading(head) = &mut self.state {
            // Look for the end of the head from a little before the new bytes.
            let from = head.len().saturating_sub(3);
            head.extend_from_slice(wire);
            let Some(end) = head[from..]
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|p| from + p)
            else {
                if head.len() > MAX_REQUEST_HEAD {
                    return Err(refuse(format!(
                        "request head longer than {MAX_REQUEST_HEAD} bytes"
                    )));
                }
                return Ok(());
            };
            if end > MAX_REQUEST_HEAD {
                return Err(refuse(format!(
                    "request head longer than {MAX_REQUEST_HEAD} bytes"
                )));
            }
            let text = std::str::from_utf8(&head[..end])
                .map_err(|_| refuse("request head is not UTF-8"))?;
            let response = answer(text)?;
            self.control.extend_from_slice(response.as_bytes());
            let rest = head.split_off(end + 4);
            self.state = State::Open;
            self.frames = rest;
        } else {
            self.frames.extend_from_slice(wire);
        }
        self.read_frames(up)
    }

    fn output(&mut self, data: &[u8], down: &mut BytesMut) -> Result<(), TransportError> {
        if !self.control.is_empty() {
            down.extend_from_slice(&self.control);
            self.control.clear();
        }
        if matches!(self.state, State::Upgrading(_)) {
            return Ok(());
        }
        if !data.is_empty() {
            write_frame(OP_BINARY, data, None, down);
        }
        if self.closing && !self.close_sent {
            self.close_sent = true;
            write_frame(OP_CLOSE, &1000u16.to_be_bytes(), None, down);
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
    use crate::reactor::transport::ws::WsLayer;

    fn pump(client: &mut WsLayer, server: &mut WsServerLayer, data: &[u8]) -> BytesMut {
        let mut wire = BytesMut::new();
        client.output(data, &mut wire).unwrap();
        let mut up = BytesMut::new();
        server.input(&wire, &mut up).unwrap();
        let mut back = BytesMut::new();
        server.output(&[], &mut back).unwrap();
        let mut ignored = BytesMut::new();
        client.input(&back, &mut ignored).unwrap();
        up
    }

    #[test]
    fn our_client_and_server_talk() {
        let mut c = WsLayer::client("127.0.0.1", 1, "/mqtt", &[]).unwrap();
        let mut s = WsServerLayer::new();
        assert!(pump(&mut c, &mut s, &[]).is_empty());
        assert!(c.ready() && s.ready());
        assert_eq!(&pump(&mut c, &mut s, b"\x10\x00")[..], b"\x10\x00");
        let mut down = BytesMut::new();
        s.output(b"\x20\x02\x00\x00", &mut down).unwrap();
        // Plain (unmasked) server frame.
        assert_eq!(&down[..], b"\x82\x04\x20\x02\x00\x00");
    }

    #[test]
    fn bad_upgrades_are_errors() {
        let req = |proto: &str| {
            format!(
                "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
                 {proto}\r\n"
            )
        };
        let mut up = BytesMut::new();
        let ok = req("Sec-WebSocket-Protocol: chat, mqtt\r\n");
        WsServerLayer::new().input(ok.as_bytes(), &mut up).unwrap();
        let e = WsServerLayer::new()
            .input(req("Sec-WebSocket-Protocol: chat\r\n").as_bytes(), &mut up)
            .unwrap_err();
        assert!(e.reason.contains("mqtt"), "{e}");
        let e = WsServerLayer::new()
            .input(req("").as_bytes(), &mut up)
            .unwrap_err();
        assert!(e.reason.contains("mqtt"), "{e}");
        let big = format!("X-Pad: {}\r\n", "a".repeat(MAX_REQUEST_HEAD));
        let e = WsServerLayer::new()
            .input(req(&big).as_bytes(), &mut up)
            .unwrap_err();
        assert!(e.reason.contains("longer"), "{e}");
        let mut s = WsServerLayer::new();
        let e = (0..MAX_REQUEST_HEAD / 100 + 2)
            .find_map(|_| s.input(&[b'a'; 100], &mut up).err())
            .expect("an endless head is refused");
        assert!(e.reason.contains("longer"), "{e}");
        assert!(
            WsServerLayer::new()
                .input(b"\x16\x03\x01\x00\x05hello\r\n\r\n", &mut up)
                .is_err()
        );
    }

    #[test]
    fn unmasked_and_text_frames_are_refused() {
        let mut c = WsLayer::client("127.0.0.1", 1, "/", &[]).unwrap();
        let mut s = WsServerLayer::new();
        pump(&mut c, &mut s, &[]);
        let mut up = BytesMut::new();
        let mut f = BytesMut::new();
        write_frame(OP_BINARY, b"x", None, &mut f);
        assert!(s.input(&f, &mut up).is_err());
        let mut s2 = WsServerLayer::new();
        let mut c2 = WsLayer::client("127.0.0.1", 1, "/", &[]).unwrap();
        pump(&mut c2, &mut s2, &[]);
        let mut f = BytesMut::new();
        write_frame(OP_TEXT, b"x", Some([1, 2, 3, 4]), &mut f);
        assert!(s2.input(&f, &mut up).is_err());
    }
}
