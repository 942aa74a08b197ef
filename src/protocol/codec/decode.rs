//! The strict decoder: fixed header (size limit checked before the body is
//! awaited), then one function per packet type over a zero-copy `Bytes`
//! body. Every rule the spec states for received packets is checked here.

use bytes::{Buf, BytesMut};

use super::error::DecodeError;
use super::packet::*;
use super::properties::{Properties, PropertyContext, PropertyId};
use super::reason::ReasonCode;
use super::topic::{TopicError, is_shared, validate_topic_filter, validate_topic_name};
use super::varint::{MAX_VARINT, is_minimal, read_varint};
use super::wire::{Reader, read_properties};

/// The largest packet the protocol allows: a 5-byte fixed header plus the
/// largest remaining length.
pub const PROTOCOL_MAX_PACKET_SIZE: u32 = MAX_VARINT + 5;

/// Most bytes `decode` reserves ahead for a packet still arriving.
const RESERVE_AHEAD_MAX: usize = 64 * 1024;

/// Decode one packet from the front of `buf` if it holds a whole one.
/// `Ok(None)` means more bytes are needed (and nothing was consumed).
/// CONNECT carries its own version; every other packet is decoded as
/// `version`. A packet whose total size exceeds `max_packet_size` (0 = the
/// protocol maximum) is an error as soon as its fixed header is complete.
pub fn decode(
    buf: &mut BytesMut,
    version: ProtocolVersion,
    max_packet_size: u32,
) -> Result<Option<Packet>, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let packet_type = check_fixed_flags(first, version)?;
    let Some((remaining, len_bytes)) = read_varint(&buf[1..])? else {
        return Ok(None);
    };
    let total = 1 + len_bytes + remaining as usize;
    let max = if max_packet_size == 0 {
        PROTOCOL_MAX_PACKET_SIZE
    } else {
        max_packet_size
    };
    if total > max as usize {
        return Err(DecodeError::PacketTooLarge {
            size: total as u32,
            max,
        });
    }
    let minimal = is_minimal(remaining, len_bytes);
    if version.is_v5() && packet_type != PacketType::Connect && !minimal {
        return Err(DecodeError::NonMinimalVarInt);
    }
    if buf.len() < total {
        // Make room for the rest, but never let a peer's header alone make
        // us allocate a large buffer before its bytes arrive.
        buf.reserve((total - buf.len()).min(RESERVE_AHEAD_MAX));
        return Ok(None);
    }
    let mut body = buf.split_to(total).freeze();
    body.advance(1 + len_bytes);
    let v5 = version.is_v5();
    let r = Reader::new(body, v5);
    let flags = first & 0x0F;
    let packet = match packet_type {
        PacketType::Connect => Packet::Connect(Box::new(connect(r, minimal)?)),
        PacketType::ConnAck => Packet::ConnAck(connack(r, remaining, v5)?),
        PacketType::Publish => Packet::Publish(publish(r, flags, v5)?),
        PacketType::PubAck => Packet::PubAck(pub_resp(r, remaining, packet_type, v5)?),
        PacketType::PubRec => Packet::PubRec(pub_resp(r, remaining, packet_type, v5)?),
        PacketType::PubRel => Packet::PubRel(pub_resp(r, remaining, packet_type, v5)?),
        PacketType::PubComp => Packet::PubComp(pub_resp(r, remaining, packet_type, v5)?),
        PacketType::Subscribe => Packet::Subscribe(subscribe(r, v5)?),
        PacketType::SubAck => Packet::SubAck(suback(r, v5)?),
        PacketType::Unsubscribe => Packet::Unsubscribe(unsubscribe(r, v5)?),
        PacketType::UnsubAck => Packet::UnsubAck(unsuback(r, remaining, v5)?),
        PacketType::PingReq | PacketType::PingResp => {
            if remaining != 0 {
                return Err(DecodeError::BadRemainingLength {
                    packet_type,
                    len: remaining,
                });
            }
            if packet_type == PacketType::PingReq {
                Packet::PingReq
            } else {
                Packet::PingResp
            }
        }
        PacketType::Disconnect => {
            let (reason, properties) = reason_tail(r, remaining, packet_type, v5)?;
            Packet::Disconnect(Disconnect { reason, properties })
        }
        PacketType::Auth => {
            let (reason, properties) = reason_tail(r, remaining, packet_type, v5)?;
            Packet::Auth(Auth { reason, properties })
        }
    };
    Ok(Some(packet))
}

/// The packet type for the high nibble, checking the flags the low nibble
/// must hold (PUBLISH: QoS 3 and DUP on QoS 0 are rejected here).
fn check_fixed_flags(first: u8, version: ProtocolVersion) -> Result<PacketType, DecodeError> {
    let flags = first & 0x0F;
    let packet_type = match first >> 4 {
        1 => PacketType::Connect,
        2 => PacketType::ConnAck,
        3 => PacketType::Publish,
        4 => PacketType::PubAck,
        5 => PacketType::PubRec,
        6 => PacketType::PubRel,
        7 => PacketType::PubComp,
        8 => PacketType::Subscribe,
        9 => PacketType::SubAck,
        10 => PacketType::Unsubscribe,
        11 => PacketType::UnsubAck,
        12 => PacketType::PingReq,
        13 => PacketType::PingResp,
        14 => PacketType::Disconnect,
        15 if version.is_v5() => PacketType::Auth,
        other => return Err(DecodeError::InvalidPacketType(other)),
    };
    let expected = match packet_type {
        PacketType::Publish => {
            let qos = (flags >> 1) & 0x03;
            if qos == 3 {
                return Err(DecodeError::InvalidQos);
            }
            if qos == 0 && flags & 0x08 != 0 {
                return Err(DecodeError::DupWithQos0);
            }
            return Ok(packet_type);
        }
        PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => 0x02,
        _ => 0x00,
    };
    if flags != expected {
        return Err(DecodeError::ReservedFlags { packet_type });
    }
    Ok(packet_type)
}

fn topic_name_error(e: TopicError) -> DecodeError {
    match e {
        TopicError::Empty => DecodeError::EmptyTopic,
        TopicError::NullCharacter => DecodeError::NullCharacter,
        _ => DecodeError::TopicContainsWildcard,
    }
}

fn nonzero_id(r: &mut Reader) -> Result<u16, DecodeError> {
    match r.u16()? {
        0 => Err(DecodeError::ZeroPacketId),
        id => Ok(id),
    }
}

fn check_code(code: u8, packet_type: PacketType, v5: bool) -> Result<ReasonCode, DecodeError> {
    let rc = ReasonCode(code);
    if rc.is_valid_for(packet_type, v5) {
        Ok(rc)
    } else {
        Err(DecodeError::InvalidReasonCode { packet_type, code })
    }
}

fn connect(mut r: Reader, remaining_minimal: bool) -> Result<Connect, DecodeError> {
    let name = r.binary()?;
    let raw_level = r.u8()?;
    // mosquitto's try_private: a bridge sets the top bit of the level.
    let (level, bridge) = (raw_level & 0x7F, raw_level & 0x80 != 0);
    let protocol = match (&name[..], level) {
        (b"MQTT", 4) => ProtocolVersion::V311,
        (b"MQTT", 5) => ProtocolVersion::V5,
        (b"MQIsdp", 3) => ProtocolVersion::V31,
        (b"MQTT" | b"MQIsdp", _) => {
            return Err(DecodeError::UnsupportedProtocolLevel(raw_level));
        }
        _ => return Err(DecodeError::BadProtocolName),
    };
    let v5 = protocol.is_v5();
    if v5 && !remaining_minimal {
        return Err(DecodeError::NonMinimalVarInt);
    }
    r.set_v5(v5);
    let flags = r.u8()?;
    // MQTT 3.1 did not require bit 0 to be zero, nor the will QoS and retain
    // bits to be zero without a will: 3.1 clients that set them are
    // accepted (as mosquitto does) and the unused bits ignored.
    let v31 = protocol == ProtocolVersion::V31;
    if flags & 0x01 != 0 && !v31 {
        return Err(DecodeError::ReservedConnectFlag);
    }
    let will_flag = flags & 0x04 != 0;
    let will_qos = (flags >> 3) & 0x03;
    let will_retain = flags & 0x20 != 0;
    let has_password = flags & 0x40 != 0;
    let has_username = flags & 0x80 != 0;
    if !will_flag && (will_qos != 0 || will_retain) && !v31 {
        return Err(DecodeError::WillFlagsWithoutWill);
    }
    let will_qos = QoS::from_u8(will_qos).ok_or(DecodeError::InvalidQos)?;
    if protocol == ProtocolVersion::V311 && has_password && !has_username {
        return Err(DecodeError::PasswordWithoutUsername);
    }
    let keep_alive = r.u16()?;
    let properties = if v5 {
        read_properties(&mut r, PropertyContext::Connect)?
    } else {
        Properties::new()
    };
    let client_id = r.string()?;
    let will = if will_flag {
        let properties = if v5 {
            read_properties(&mut r, PropertyContext::Will)?
        } else {
            Properties::new()
        };
        let topic = r.string()?;
        validate_topic_name(&topic).map_err(topic_name_error)?;
        let payload = r.binary()?;
        Some(Will {
            topic,
            payload,
            qos: will_qos,
            retain: will_retain,
            properties,
        })
    } else {
        None
    };
    let username = if has_username {
        Some(r.string()?)
    } else {
        None
    };
    let password = if has_password {
        Some(r.binary()?)
    } else {
        None
    };
    r.finish()?;
    Ok(Connect {
        protocol,
        clean_start: flags & 0x02 != 0,
        keep_alive,
        client_id,
        will,
        username,
        password,
        properties,
        bridge,
    })
}

/// CONNACK. An MQTT 5 CONNACK of exactly two bytes (no property length) is
/// accepted with either a 5.0 or a 3.x code: that is what a 3.x-only server
/// answers to an MQTT 5 CONNECT.
fn connack(mut r: Reader, remaining: u32, v5: bool) -> Result<ConnAck, DecodeError> {
    if !v5 && remaining != 2 {
        return Err(DecodeError::BadRemainingLength {
            packet_type: PacketType::ConnAck,
            len: remaining,
        });
    }
    let flags = r.u8()?;
    if flags & 0xFE != 0 {
        return Err(DecodeError::ReservedConnAckFlags);
    }
    let raw = r.u8()?;
    let short = v5 && r.is_empty();
    let code = if short && ReasonCode(raw).is_valid_for(PacketType::ConnAck, false) {
        ReasonCode(raw)
    } else {
        check_code(raw, PacketType::ConnAck, v5)?
    };
    let session_present = flags & 0x01 != 0;
    if session_present && raw != 0 {
        return Err(DecodeError::SessionPresentOnError);
    }
    let properties = if v5 && !short {
        read_properties(&mut r, PropertyContext::ConnAck)?
    } else {
        Properties::new()
    };
    r.finish()?;
    Ok(ConnAck {
        session_present,
        code,
        properties,
    })
}

fn publish(mut r: Reader, flags: u8, v5: bool) -> Result<Publish, DecodeError> {
    // QoS 3 was rejected with the fixed header.
    let qos = QoS::from_u8((flags >> 1) & 0x03).ok_or(DecodeError::InvalidQos)?;
    let topic = r.string()?;
    let packet_id = if qos == QoS::AtMostOnce {
        0
    } else {
        nonzero_id(&mut r)?
    };
    let properties = if v5 {
        read_properties(&mut r, PropertyContext::Publish)?
    } else {
        Properties::new()
    };
    if topic.is_empty() {
        if !(v5 && properties.get(PropertyId::TOPIC_ALIAS).is_some()) {
            return Err(DecodeError::EmptyTopic);
        }
    } else {
        validate_topic_name(&topic).map_err(topic_name_error)?;
    }
    Ok(Publish {
        dup: flags & 0x08 != 0,
        qos,
        retain: flags & 0x01 != 0,
        topic,
        packet_id,
        properties,
        payload: r.rest(),
    })
}

fn ack_context(packet_type: PacketType) -> PropertyContext {
    match packet_type {
        PacketType::PubAck => PropertyContext::PubAck,
        PacketType::PubRec => PropertyContext::PubRec,
        PacketType::PubRel => PropertyContext::PubRel,
        PacketType::PubComp => PropertyContext::PubComp,
        PacketType::Disconnect => PropertyContext::Disconnect,
        _ => PropertyContext::Auth,
    }
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP. MQTT 5 short forms: remaining length 2
/// means reason 0 and no properties; 3 means no properties.
fn pub_resp(
    mut r: Reader,
    remaining: u32,
    packet_type: PacketType,
    v5: bool,
) -> Result<PubResp, DecodeError> {
    if (!v5 && remaining != 2) || remaining < 2 {
        return Err(DecodeError::BadRemainingLength {
            packet_type,
            len: remaining,
        });
    }
    let packet_id = nonzero_id(&mut r)?;
    let (reason, properties) = if v5 && !r.is_empty() {
        let reason = check_code(r.u8()?, packet_type, true)?;
        let properties = if r.is_empty() {
            Properties::new()
        } else {
            read_properties(&mut r, ack_context(packet_type))?
        };
        (reason, properties)
    } else {
        (ReasonCode::SUCCESS, Properties::new())
    };
    r.finish()?;
    Ok(PubResp {
        packet_id,
        reason,
        properties,
    })
}

fn subscribe(mut r: Reader, v5: bool) -> Result<Subscribe, DecodeError> {
    let packet_id = nonzero_id(&mut r)?;
    let properties = if v5 {
        read_properties(&mut r, PropertyContext::Subscribe)?
    } else {
        Properties::new()
    };
    if r.is_empty() {
        return Err(DecodeError::EmptySubscribe);
    }
    let mut filters = Vec::new();
    while !r.is_empty() {
        let filter = r.string()?;
        validate_topic_filter(&filter).map_err(|_| DecodeError::InvalidTopicFilter)?;
        let opts = r.u8()?;
        let reserved = if v5 { 0xC0 } else { 0xFC };
        if opts & reserved != 0 {
            return Err(DecodeError::InvalidSubscriptionOptions);
        }
        let qos = QoS::from_u8(opts & 0x03).ok_or(DecodeError::InvalidQos)?;
        let retain_handling = (opts >> 4) & 0x03;
        if retain_handling == 3 {
            return Err(DecodeError::InvalidSubscriptionOptions);
        }
        let no_local = opts & 0x04 != 0;
        if no_local && is_shared(&filter) {
            return Err(DecodeError::NoLocalOnSharedSubscription);
        }
        let options = SubscriptionOptions {
            qos,
            no_local,
            retain_as_published: opts & 0x08 != 0,
            retain_handling,
        };
        filters.push((filter, options));
    }
    Ok(Subscribe {
        packet_id,
        properties,
        filters,
    })
}

fn suback(mut r: Reader, v5: bool) -> Result<SubAck, DecodeError> {
    let packet_id = nonzero_id(&mut r)?;
    let properties = if v5 {
        read_properties(&mut r, PropertyContext::SubAck)?
    } else {
        Properties::new()
    };
    let codes = reason_list(r, PacketType::SubAck, v5)?;
    Ok(SubAck {
        packet_id,
        properties,
        codes,
    })
}

fn reason_list(
    mut r: Reader,
    packet_type: PacketType,
    v5: bool,
) -> Result<Vec<ReasonCode>, DecodeError> {
    let raw = r.rest();
    if raw.is_empty() {
        return Err(DecodeError::MissingReasonCodes { packet_type });
    }
    raw.iter()
        .map(|&c| check_code(c, packet_type, v5))
        .collect()
}

fn unsubscribe(mut r: Reader, v5: bool) -> Result<Unsubscribe, DecodeError> {
    let packet_id = nonzero_id(&mut r)?;
    let properties = if v5 {
        read_properties(&mut r, PropertyContext::Unsubscribe)?
    } else {
        Properties::new()
    };
    if r.is_empty() {
        return Err(DecodeError::EmptyUnsubscribe);
    }
    let mut filters = Vec::new();
    while !r.is_empty() {
        let filter = r.string()?;
        validate_topic_filter(&filter).map_err(|_| DecodeError::InvalidTopicFilter)?;
        filters.push(filter);
    }
    Ok(Unsubscribe {
        packet_id,
        properties,
        filters,
    })
}

fn unsuback(mut r: Reader, remaining: u32, v5: bool) -> Result<UnsubAck, DecodeError> {
    if !v5 {
        if remaining != 2 {
            return Err(DecodeError::BadRemainingLength {
                packet_type: PacketType::UnsubAck,
                len: remaining,
            });
        }
        return Ok(UnsubAck {
            packet_id: nonzero_id(&mut r)?,
            ..UnsubAck::default()
        });
    }
    let packet_id = nonzero_id(&mut r)?;
    let properties = read_properties(&mut r, PropertyContext::UnsubAck)?;
    let codes = reason_list(r, PacketType::UnsubAck, true)?;
    Ok(UnsubAck {
        packet_id,
        properties,
        codes,
    })
}

/// DISCONNECT and AUTH bodies: optional reason code, then optional
/// properties (MQTT 5); empty in 3.x.
fn reason_tail(
    mut r: Reader,
    remaining: u32,
    packet_type: PacketType,
    v5: bool,
) -> Result<(ReasonCode, Properties), DecodeError> {
    if !v5 {
        if remaining != 0 {
            return Err(DecodeError::BadRemainingLength {
                packet_type,
                len: remaining,
            });
        }
        return Ok((ReasonCode::SUCCESS, Properties::new()));
    }
    if r.is_empty() {
        return Ok((ReasonCode::SUCCESS, Properties::new()));
    }
    let reason = check_code(r.u8()?, packet_type, true)?;
    let properties = if r.is_empty() {
        Properties::new()
    } else {
        read_properties(&mut r, ack_context(packet_type))?
    };
    r.finish()?;
    Ok((reason, properties))
}
