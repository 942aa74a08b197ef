//! Transports under a connection (TLS, WebSocket), each a sans-IO layer with
//! one face: wire bytes in → application bytes out, application bytes in →
//! wire bytes out. A connection holds a `Transport` (a stack of layers) or,
//! for plain TCP, none; sessions never know which is underneath.

mod legacy_key;
pub mod proxy;
pub mod tls;
pub mod tls_config;
pub mod tls_server;
pub mod ws;
pub mod ws_frame;
pub mod ws_server;

use bytes::BytesMut;

/// Why a transport gave up: a readable reason (for traces and Paho's
/// `ssl_error_cb`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub reason: String,
    /// The peer closed in order (TLS close_notify, WebSocket close): the
    /// end of the stream, not a failure to report.
    pub closed: bool,
}

impl TransportError {
    pub fn new(reason: impl Into<String>) -> TransportError {
        TransportError {
            reason: reason.into(),
            closed: false,
        }
    }

    /// An orderly close by the peer.
    pub fn closed(reason: impl Into<String>) -> TransportError {
        TransportError {
            reason: reason.into(),
            closed: true,
        }
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// One layer of a transport (TLS, WebSocket). Layers buffer what they must
/// (a handshake in progress) and never do I/O themselves.
pub trait Layer: Send {
    /// Bytes from below arrived (all are taken); decoded bytes for the
    /// layer above are appended to `up`.
    fn input(&mut self, wire: &[u8], up: &mut BytesMut) -> Result<(), TransportError>;
    /// Encode `data` from above (all taken) and append everything this
    /// layer has to send (handshake, control frames, records) to `down`.
    fn output(&mut self, data: &[u8], down: &mut BytesMut) -> Result<(), TransportError>;
    /// The handshake is complete: data from above may flow.
    fn ready(&self) -> bool;
    /// Begin an orderly close (e.g. TLS close_notify); the bytes follow
    /// through the next `output`.
    fn close(&mut self) {}
    /// The common name of the certificate the peer presented (TLS).
    fn peer_identity(&self) -> Option<String> {
        None
    }
}

/// A stack of layers, the first next to the socket, and the wire bytes
/// they produced that wait for the socket.
pub struct Transport {
    layers: Vec<Box<dyn Layer>>,
    pub wire: BytesMut,
}

impl Transport {
    pub fn new(layers: Vec<Box<dyn Layer>>) -> Transport {
        Transport {
            layers,
            wire: BytesMut::new(),
        }
    }

    /// Every handshake is complete: application bytes may be sent.
    pub fn ready(&self) -> bool {
        self.layers.last().is_none_or(|l| l.ready())
    }

    /// Wire bytes from the socket; application bytes are appended to `app`.
    pub fn receive(&mut self, wire: &[u8], app: &mut BytesMut) -> Result<(), TransportError> {
        let n = self.layers.len();
        let mut data = BytesMut::new();
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let input: &[u8] = if i == 0 { wire } else { &data };
            if i + 1 == n {
                layer.input(input, app)?;
            } else {
                let mut up = BytesMut::new();
                layer.input(input, &mut up)?;
                data = up;
            }
        }
        Ok(())
    }

    /// Take the application bytes in `app` (once ready; before, they wait
    /// there) and append what must go on the wire to `self.wire`.
    pub fn send(&mut self, app: &mut BytesMut) -> Result<(), TransportError> {
        let mut data = if self.ready() {
            app.split()
        } else {
            BytesMut::new()
        };
        for layer in self.layers.iter_mut().rev() {
            let mut down = BytesMut::new();
            layer.output(&data, &mut down)?;
            data = down;
        }
        if self.wire.is_empty() {
            self.wire = data;
        } else {
            self.wire.extend_from_slice(&data);
        }
        Ok(())
    }

    /// The common name of the peer's certificate, when a layer has one.
    pub fn peer_identity(&self) -> Option<String> {
        self.layers.iter().find_map(|l| l.peer_identity())
    }

    /// Begin an orderly close of every layer, the top first.
    pub fn close(&mut self) {
        for layer in self.layers.iter_mut().rev() {
            layer.close();
        }
    }
}
