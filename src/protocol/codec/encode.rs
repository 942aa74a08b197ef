//! The encoder: a validating length pass (string/binary limits, property
//! types, remaining length) followed by one reservation and an infallible
//! write. PUBLISH headers can be written apart from the payload for writev.

use bytes::{BufMut, BytesMut};

use super::error::EncodeError;
use super::packet::*;
use super::properties::Properties;
use super::varint::{MAX_VARINT, varint_len, write_varint};
use super::wire::{
    bin_len, properties_len, properties_wire_len, put_bytes, str_len, write_properties,
};

/// Encode `packet` for `version`, appending to `out`. CONNECT is encoded for
/// its own `protocol` field; v5-only fields are left out for 3.x.
pub fn encode(
    packet: &Packet,
    version: ProtocolVersion,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    if let Packet::Publish(p) = packet {
        publish_header(p, version, p.payload.len(), out)?;
        out.extend_from_slice(&p.payload);
        return Ok(());
    }
    let remaining = remaining_len(packet, version)?;
    out.reserve(1 + varint_len(remaining) + remaining as usize);
    out.put_u8(first_byte(packet));
    write_varint(remaining, out);
    write_body(packet, version, out);
    Ok(())
}

/// Total bytes `encode` would append for `packet`.
pub fn encoded_len(packet: &Packet, version: ProtocolVersion) -> Result<usize, EncodeError> {
    let remaining = remaining_len(packet, version)?;
    Ok(1 + varint_len(remaining) + remaining as usize)
}

/// Bytes a PUBLISH takes on the wire for `version`, fixed header included,
/// without validating it: a QoS 1/2 publish counts its packet id even while
/// that is still 0, and v5 properties count whatever their values hold. For
/// a publish [`encode`] accepts this equals [`encoded_len`]. Lengths beyond
/// the largest remaining length are reported as they are (callers compare).
pub fn publish_len(publish: &Publish, version: ProtocolVersion) -> usize {
    let mut remaining = 2 + publish.topic.len() + publish.payload.len();
    if publish.qos != QoS::AtMostOnce {
        remaining += 2;
    }
    if version.is_v5() {
        remaining += publish.properties.wire_len();
    }
    1 + varint_len(u32::try_from(remaining).unwrap_or(u32::MAX)) + remaining
}

/// Write a PUBLISH's fixed and variable header — everything but the payload
/// (the remaining length does count the payload). Writing these bytes and
/// then `publish.payload` gives exactly what [`encode`] produces.
pub fn encode_publish_header(
    publish: &Publish,
    version: ProtocolVersion,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    publish_header(publish, version, 0, out)
}

fn publish_header(
    p: &Publish,
    version: ProtocolVersion,
    reserve_extra: usize,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    if p.qos != QoS::AtMostOnce && p.packet_id == 0 {
        return Err(EncodeError::ZeroPacketId);
    }
    let v5 = version.is_v5();
    let props = if v5 {
        properties_len(&p.properties)?
    } else {
        0
    };
    let mut header = str_len(&p.topic)?;
    if p.qos != QoS::AtMostOnce {
        header += 2;
    }
    if v5 {
        header += varint_len(props as u32) + props;
    }
    let remaining = check_remaining(header + p.payload.len())?;
    out.reserve(1 + varint_len(remaining) + header + reserve_extra);
    let mut first = 0x30 | ((p.qos as u8) << 1);
    if p.dup {
        first |= 0x08;
    }
    if p.retain {
        first |= 0x01;
    }
    out.put_u8(first);
    write_varint(remaining, out);
    put_bytes(out, p.topic.as_bytes());
    if p.qos != QoS::AtMostOnce {
        out.put_u16(p.packet_id);
    }
    if v5 {
        write_properties(&p.properties, props, out);
    }
    Ok(())
}

fn check_remaining(n: usize) -> Result<u32, EncodeError> {
    if n > MAX_VARINT as usize {
        Err(EncodeError::PacketTooLarge(n))
    } else {
        Ok(n as u32)
    }
}

fn first_byte(packet: &Packet) -> u8 {
    let ty = packet.packet_type() as u8;
    let flags = match packet {
        Packet::PubRel(_) | Packet::Subscribe(_) | Packet::Unsubscribe(_) => 0x02,
        _ => 0x00,
    };
    (ty << 4) | flags
}

fn nonzero(id: u16) -> Result<usize, EncodeError> {
    if id == 0 {
        Err(EncodeError::ZeroPacketId)
    } else {
        Ok(2)
    }
}

/// MQTT 5 length of an ack body after the packet id / before nothing:
/// reason code and properties, using the short forms when possible.
fn reason_tail_len(
    reason: u8,
    props: &Properties,
    omit_reason_if_success: bool,
) -> Result<usize, EncodeError> {
    if props.is_empty() {
        if reason == 0 && omit_reason_if_success {
            return Ok(0);
        }
        return Ok(1);
    }
    Ok(1 + properties_wire_len(props)?)
}

/// Validating length pass: the remaining length of `packet`.
fn remaining_len(packet: &Packet, version: ProtocolVersion) -> Result<u32, EncodeError> {
    let v5 = version.is_v5();
    let opt_props = |p: &Properties| -> Result<usize, EncodeError> {
        if v5 { properties_wire_len(p) } else { Ok(0) }
    };
    let n = match packet {
        Packet::Connect(c) => connect_len(c)?,
        Packet::ConnAck(c) => 2 + opt_props(&c.properties)?,
        Packet::Publish(p) => {
            let mut n = str_len(&p.topic)? + opt_props(&p.properties)? + p.payload.len();
            if p.qos != QoS::AtMostOnce {
                n += nonzero(p.packet_id)?;
            }
            n
        }
        Packet::PubAck(r) | Packet::PubRec(r) | Packet::PubRel(r) | Packet::PubComp(r) => {
            nonzero(r.packet_id)?
                + if v5 {
                    reason_tail_len(r.reason.0, &r.properties, true)?
                } else {
                    0
                }
        }
        Packet::Subscribe(s) => {
            if s.filters.is_empty() {
                return Err(EncodeError::NoTopicFilters);
            }
            let mut n = nonzero(s.packet_id)? + opt_props(&s.properties)?;
            for (f, o) in &s.filters {
                if o.retain_handling > 2 {
                    return Err(EncodeError::InvalidRetainHandling(o.retain_handling));
                }
                n += str_len(f)? + 1;
            }
            n
        }
        Packet::SubAck(s) => nonzero(s.packet_id)? + opt_props(&s.properties)? + s.codes.len(),
        Packet::Unsubscribe(u) => {
            if u.filters.is_empty() {
                return Err(EncodeError::NoTopicFilters);
            }
            let mut n = nonzero(u.packet_id)? + opt_props(&u.properties)?;
            for f in &u.filters {
                n += str_len(f)?;
            }
            n
        }
        Packet::UnsubAck(u) => {
            nonzero(u.packet_id)?
                + if v5 {
                    properties_wire_len(&u.properties)? + u.codes.len()
                } else {
                    0
                }
        }
        Packet::PingReq | Packet::PingResp => 0,
        Packet::Disconnect(d) => {
            if v5 {
                reason_tail_len(d.reason.0, &d.properties, true)?
            } else {
                0
            }
        }
        Packet::Auth(a) => {
            if !v5 {
                return Err(EncodeError::NotInVersion(PacketType::Auth));
            }
            if a.reason.0 == 0 && a.properties.is_empty() {
                0
            } else {
                1 + properties_wire_len(&a.properties)?
            }
        }
    };
    check_remaining(n)
}

fn connect_len(c: &Connect) -> Result<usize, EncodeError> {
    let v5 = c.protocol.is_v5();
    let name_len = if c.protocol == ProtocolVersion::V31 {
        6
    } else {
        4
    };
    let mut n = 2 + name_len + 1 + 1 + 2 + str_len(&c.client_id)?;
    if v5 {
        n += properties_wire_len(&c.properties)?;
    }
    if let Some(w) = &c.will {
        if v5 {
            n += properties_wire_len(&w.properties)?;
        }
        n += str_len(&w.topic)? + bin_len(&w.payload)?;
    }
    if let Some(u) = &c.username {
        n += str_len(u)?;
    }
    if let Some(p) = &c.password {
        n += bin_len(p)?;
    }
    Ok(n)
}

/// Infallible write pass; `remaining_len` has validated everything.
fn write_body(packet: &Packet, version: ProtocolVersion, out: &mut BytesMut) {
    let v5 = version.is_v5();
    let props = |p: &Properties, out: &mut BytesMut| {
        if v5 {
            write_properties(p, p.encoded_len(), out);
        }
    };
    match packet {
        Packet::Connect(c) => write_connect(c, out),
        Packet::ConnAck(c) => {
            out.put_u8(u8::from(c.session_present));
            out.put_u8(c.code.0);
            props(&c.properties, out);
        }
        // PUBLISH is written by `publish_header` + payload.
        Packet::Publish(_) => {}
        Packet::PubAck(r) | Packet::PubRec(r) | Packet::PubRel(r) | Packet::PubComp(r) => {
            out.put_u16(r.packet_id);
            if v5 {
                write_reason_tail(r.reason.0, &r.properties, out);
            }
        }
        Packet::Subscribe(s) => {
            out.put_u16(s.packet_id);
            props(&s.properties, out);
            for (f, o) in &s.filters {
                put_bytes(out, f.as_bytes());
                let mut b = o.qos as u8;
                if v5 {
                    b |= u8::from(o.no_local) << 2
                        | u8::from(o.retain_as_published) << 3
                        | (o.retain_handling & 0x03) << 4;
                }
                out.put_u8(b);
            }
        }
        Packet::SubAck(s) => {
            out.put_u16(s.packet_id);
            props(&s.properties, out);
            out.extend(s.codes.iter().map(|c| c.0));
        }
        Packet::Unsubscribe(u) => {
            out.put_u16(u.packet_id);
            props(&u.properties, out);
            for f in &u.filters {
                put_bytes(out, f.as_bytes());
            }
        }
        Packet::UnsubAck(u) => {
            out.put_u16(u.packet_id);
            if v5 {
                props(&u.properties, out);
                out.extend(u.codes.iter().map(|c| c.0));
            }
        }
        Packet::PingReq | Packet::PingResp => {}
        Packet::Disconnect(d) => {
            if v5 {
                write_reason_tail(d.reason.0, &d.properties, out);
            }
        }
        Packet::Auth(a) => {
            if a.reason.0 != 0 || !a.properties.is_empty() {
                out.put_u8(a.reason.0);
                write_properties(&a.properties, a.properties.encoded_len(), out);
            }
        }
    }
}

fn write_reason_tail(reason: u8, props: &Properties, out: &mut BytesMut) {
    if props.is_empty() {
        if reason != 0 {
            out.put_u8(reason);
        }
    } else {
        out.put_u8(reason);
        write_properties(props, props.encoded_len(), out);
    }
}

fn write_connect(c: &Connect, out: &mut BytesMut) {
    let v5 = c.protocol.is_v5();
    let name: &[u8] = if c.protocol == ProtocolVersion::V31 {
        b"MQIsdp"
    } else {
        b"MQTT"
    };
    put_bytes(out, name);
    out.put_u8(c.protocol.level() | if c.bridge { 0x80 } else { 0 });
    let mut flags = 0u8;
    if c.clean_start {
        flags |= 0x02;
    }
    if let Some(w) = &c.will {
        flags |= 0x04 | ((w.qos as u8) << 3);
        if w.retain {
            flags |= 0x20;
        }
    }
    if c.password.is_some() {
        flags |= 0x40;
    }
    if c.username.is_some() {
        flags |= 0x80;
    }
    out.put_u8(flags);
    out.put_u16(c.keep_alive);
    if v5 {
        write_properties(&c.properties, c.properties.encoded_len(), out);
    }
    put_bytes(out, c.client_id.as_bytes());
    if let Some(w) = &c.will {
        if v5 {
            write_properties(&w.properties, w.properties.encoded_len(), out);
        }
        put_bytes(out, w.topic.as_bytes());
        put_bytes(out, &w.payload);
    }
    if let Some(u) = &c.username {
        put_bytes(out, u.as_bytes());
    }
    if let Some(p) = &c.password {
        put_bytes(out, p);
    }
}
