//! Fan-out without re-encoding: a PUBLISH header is encoded once per message
//! and wire shape (3.x or 5, with or without a packet id), then copied and
//! patched (flags, packet id) for each subscriber. The payload is never
//! copied: it goes out as the publisher's shared `Bytes`.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::message::Outgoing;
use crate::protocol::codec::varint::read_varint;
use crate::protocol::codec::{Properties, ProtocolVersion, Publish, QoS, encode_publish_header};

/// Headers of the message routed last (a message's deliveries are made one
/// after another, so one message's worth of cache catches fan-out).
#[derive(Debug, Default)]
pub(crate) struct HeaderCache {
    /// Held so the pointer identity stays valid while cached.
    msg: Option<Arc<super::message::Message>>,
    /// Indexed by [MQTT 5][has packet id].
    slots: [[Option<Bytes>; 2]; 2],
}

/// Payloads up to this size are copied next to their header (one contiguous
/// run per connection writes faster than many small iovecs); larger ones go
/// out as the publisher's shared buffer.
pub(crate) const COPY_MAX: usize = 1024;

/// True when every subscriber of this shape gets the same header bytes
/// (no per-delivery properties: expiry countdown, subscription ids).
pub(crate) fn cacheable(out: &Outgoing, v5: bool) -> bool {
    !v5 || (out.msg.expires_at.is_none() && out.sub_ids.is_empty())
}

/// Offset of the packet id in a PUBLISH header: after the fixed header's
/// first byte and remaining length, and the length-prefixed topic.
fn packet_id_offset(header: &[u8]) -> usize {
    // The header is the encoder's output, so its remaining length is whole.
    let length_bytes = header
        .get(1..)
        .and_then(|rest| read_varint(rest).ok().flatten())
        .map_or(1, |(_, n)| n);
    let i = 1 + length_bytes;
    let topic_len = header
        .get(i..i + 2)
        .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
    i + 2 + topic_len
}

impl HeaderCache {
    /// Append the header of `out` for one subscriber to `buf`; `None` if it
    /// cannot be encoded (the caller drops the delivery).
    pub fn write_header(
        &mut self,
        out: &Outgoing,
        v5: bool,
        packet_id: u16,
        dup: bool,
        buf: &mut BytesMut,
    ) -> Option<()> {
        if !self.msg.as_ref().is_some_and(|m| Arc::ptr_eq(m, &out.msg)) {
            self.msg = Some(out.msg.clone());
            self.slots = Default::default();
        }
        let has_id = out.qos != QoS::AtMostOnce;
        let slot = &mut self.slots[usize::from(v5)][usize::from(has_id)];
        if slot.is_none() {
            let template = Publish {
                dup: false,
                qos: if has_id {
                    QoS::AtLeastOnce
                } else {
                    QoS::AtMostOnce
                },
                retain: false,
                topic: out.msg.topic.clone(),
                packet_id: u16::from(has_id),
                properties: if v5 {
                    out.msg.properties.clone()
                } else {
                    Properties::default()
                },
                payload: out.msg.payload.clone(),
            };
            let version = if v5 {
                ProtocolVersion::V5
            } else {
                ProtocolVersion::V311
            };
            let mut b = BytesMut::new();
            encode_publish_header(&template, version, &mut b).ok()?;
            *slot = Some(b.freeze());
        }
        let template = slot.as_ref()?;
        let start = buf.len();
        buf.extend_from_slice(template);
        buf[start] = 0x30 | (u8::from(dup) << 3) | ((out.qos as u8) << 1) | u8::from(out.retain);
        if has_id {
            let at = start + packet_id_offset(template);
            buf[at..at + 2].copy_from_slice(&packet_id.to_be_bytes());
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::message::Message;
    use crate::protocol::codec::{Packet, PropertyId, PropertyValue, decode};
    use std::time::Instant;

    fn outgoing(qos: QoS, retain: bool) -> Outgoing {
        let mut props = Properties::default();
        props.list.push(crate::protocol::codec::Property {
            id: PropertyId::CONTENT_TYPE,
            value: PropertyValue::String("text/plain".into()),
        });
        let msg = Message::new(
            "a/topic".into(),
            Bytes::from_static(b"payload"),
            qos,
            retain,
            &props,
            None,
            Instant::now(),
        );
        Outgoing {
            msg: Arc::new(msg),
            qos,
            retain,
            sub_ids: Vec::new(),
            seq: 0,
        }
    }

    /// The patched header plus payload decodes to exactly the PUBLISH the
    /// slow path would have built, for every shape.
    #[test]
    fn patched_headers_decode_to_the_right_publish() {
        let mut cache = HeaderCache::default();
        for (v5, version) in [(false, ProtocolVersion::V311), (true, ProtocolVersion::V5)] {
            for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
                for (retain, dup, pid) in [(false, false, 7u16), (true, true, 65535)] {
                    let out = outgoing(qos, retain);
                    let dup = dup && qos != QoS::AtMostOnce;
                    let mut buf = BytesMut::new();
                    cache.write_header(&out, v5, pid, dup, &mut buf).unwrap();
                    buf.extend_from_slice(&out.msg.payload);
                    let Ok(Some(Packet::Publish(p))) = decode(&mut buf, version, 0) else {
                        panic!("undecodable header for v5={v5} {qos:?}");
                    };
                    let want = out.to_publish(pid, dup, Instant::now()).unwrap();
                    let want = Publish {
                        properties: if v5 {
                            want.properties
                        } else {
                            Properties::default()
                        },
                        ..want
                    };
                    assert_eq!(p, want);
                }
            }
        }
    }

    #[test]
    fn packet_id_offset_skips_a_multi_byte_remaining_length() {
        for payload_len in [0usize, 127, 300, 20_000] {
            let p = Publish {
                qos: QoS::AtLeastOnce,
                topic: "a/topic".into(),
                packet_id: 0x1234,
                payload: Bytes::from(vec![0u8; payload_len]),
                ..Publish::default()
            };
            let mut header = BytesMut::new();
            encode_publish_header(&p, ProtocolVersion::V311, &mut header).unwrap();
            let at = packet_id_offset(&header);
            assert_eq!(&header[at..at + 2], &[0x12, 0x34], "payload {payload_len}");
        }
    }

    #[test]
    fn only_per_delivery_properties_defeat_the_cache() {
        let mut out = outgoing(QoS::AtLeastOnce, false);
        assert!(cacheable(&out, true) && cacheable(&out, false));
        out.sub_ids.push(3);
        assert!(!cacheable(&out, true));
        assert!(cacheable(&out, false), "3.x carries no properties");
    }
}
