//! The byte boundary: decoding a connection's input with the codec (a
//! malformed packet closes that connection with the codec's reason code) and
//! encoding output as chunks, PUBLISH payloads kept as their shared `Bytes`.

use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::connection::{Out, Phase};
use super::{Broker, ConnId};
use crate::protocol::codec::varint::read_varint;
use crate::protocol::codec::{
    DecodeError, Packet, PacketType, ProtocolVersion, ReasonCode, decode, encode,
    encode_publish_header,
};

/// The protocol level byte of a CONNECT at the front of `buf`, if readable.
fn peek_connect_level(buf: &[u8]) -> Option<u8> {
    if buf.first()? >> 4 != 1 {
        return None;
    }
    // `i`: the last byte of the remaining length.
    let (_, i) = read_varint(buf.get(1..)?).ok()??;
    let name_len = usize::from(u16::from_be_bytes([*buf.get(i + 1)?, *buf.get(i + 2)?]));
    buf.get(i + 3 + name_len).copied()
}

impl Broker {
    /// Decodes and handles every whole packet at the front of `data`
    /// (consumed); a partial packet stays for the next call. Input after a
    /// fatal error is discarded.
    pub fn handle_bytes(&mut self, conn: ConnId, data: &mut BytesMut, now: Instant) {
        let before = data.len();
        self.decode_input(conn, data, now);
        self.stats.bytes_in += (before - data.len()) as u64;
    }

    fn decode_input(&mut self, conn: ConnId, data: &mut BytesMut, now: Instant) {
        loop {
            let Some(c) = self.conns.get(&conn) else {
                data.clear();
                return;
            };
            if c.is_closed() {
                data.clear();
                return;
            }
            let awaiting_connect = matches!(c.phase, Phase::AwaitConnect);
            let level = if awaiting_connect {
                peek_connect_level(data)
            } else {
                None
            };
            let max = self.config.limits.max_packet_size;
            match decode(data, c.version, max) {
                Ok(Some(packet)) => self.handle_packet(conn, packet, now),
                Ok(None) => return,
                Err(e) => {
                    data.clear();
                    self.malformed(conn, &e, awaiting_connect, level, now);
                    self.mark_dirty(conn);
                    return;
                }
            }
        }
    }

    /// False while a host decision is pending for `conn`, or while a full
    /// subscriber queue it feeds holds it (flow.rs): the reactor stops
    /// reading it until then (input already read is held meanwhile).
    pub fn wants_input(&self, conn: ConnId) -> bool {
        self.conns
            .get(&conn)
            .is_some_and(|c| !c.is_blocked() && !c.is_closed())
    }

    fn malformed(
        &mut self,
        conn: ConnId,
        e: &DecodeError,
        awaiting_connect: bool,
        level: Option<u8>,
        now: Instant,
    ) {
        let code = e.reason_code();
        if !awaiting_connect {
            // A CONNECT-only code (0x84 for a second CONNECT naming a bad
            // level) is no DISCONNECT reason: a second CONNECT is a
            // protocol error whatever it says.
            let code = if code.is_valid_for(PacketType::Disconnect, true) {
                code
            } else {
                ReasonCode::PROTOCOL_ERROR
            };
            return self.protocol_error(conn, code, now);
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.version = match level.and_then(ProtocolVersion::from_level) {
                Some(v) => v,
                None => ProtocolVersion::V311,
            };
        }
        let answer = matches!(e, DecodeError::UnsupportedProtocolLevel(_))
            || level == Some(ProtocolVersion::V5.level());
        if answer {
            self.refuse_connect(conn, "", code, now);
        } else {
            self.close_conn(conn, super::DisconnectCause::ProtocolError(code), None, now);
        }
    }

    /// The next connection with output, encoded into `out` as chunks in
    /// order: control packets and PUBLISH headers are copied into fresh
    /// buffers, PUBLISH payloads are the shared `Bytes` (no copy).
    pub fn poll_transmit_bytes(&mut self, out: &mut Vec<Bytes>) -> Option<ConnId> {
        let mut items = Vec::new();
        let conn = self.poll_output(&mut items)?;
        let version = self
            .conns
            .get(&conn)
            .map_or(ProtocolVersion::V311, |c| c.version);
        let first = out.len();
        let mut buf = BytesMut::new();
        for item in &items {
            let ok = match item {
                Out::Wire(b) => {
                    if !buf.is_empty() {
                        out.push(buf.split().freeze());
                    }
                    out.push(b.clone());
                    true
                }
                Out::Packet(p) => match &**p {
                    Packet::Publish(publish) => {
                        let r = encode_publish_header(publish, version, &mut buf);
                        if r.is_ok() && !publish.payload.is_empty() {
                            out.push(buf.split().freeze());
                            out.push(publish.payload.clone());
                        }
                        r.is_ok()
                    }
                    other => encode(other, version, &mut buf).is_ok(),
                },
            };
            if !ok {
                self.stats.dropped += 1;
            }
        }
        if !buf.is_empty() {
            out.push(buf.freeze());
        }
        self.stats.bytes_out += out[first..].iter().map(|b| b.len() as u64).sum::<u64>();
        Some(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codec::Connect;
    use bytes::BytesMut;

    fn connect_bytes(version: ProtocolVersion, client_id_len: usize) -> Vec<u8> {
        let connect = Packet::Connect(Box::new(Connect {
            protocol: version,
            client_id: "c".repeat(client_id_len),
            ..Connect::default()
        }));
        let mut out = BytesMut::new();
        encode(&connect, version, &mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn connect_level_is_read_past_any_remaining_length() {
        for (version, level) in [(ProtocolVersion::V311, 4), (ProtocolVersion::V5, 5)] {
            // Remaining lengths of one, two and three bytes.
            for id_len in [1, 200, 20_000] {
                let bytes = connect_bytes(version, id_len);
                assert_eq!(peek_connect_level(&bytes), Some(level), "{id_len}");
            }
        }
    }

    #[test]
    fn connect_level_needs_a_whole_valid_header() {
        let bytes = connect_bytes(ProtocolVersion::V5, 200);
        assert_eq!(peek_connect_level(&bytes[..2]), None, "length unfinished");
        assert_eq!(
            peek_connect_level(&[0x10, 0x80, 0x80, 0x80, 0x80, 0x01]),
            None
        );
        assert_eq!(peek_connect_level(&[0x30, 0x00]), None, "not a CONNECT");
    }
}
