//! Field-level wire primitives shared by the encoder and decoder: a bounds-
//! checked reader over one packet's `Bytes`, string/binary writers, and the
//! MQTT 5 property list (length pass, write, strict read).

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::error::{DecodeError, EncodeError};
use super::properties::PropertyValue;
use super::properties::{Properties, Property, PropertyContext, PropertyId, PropertyType};
use super::topic::validate_topic_name;
use super::varint::{MAX_VARINT, is_minimal, read_varint, varint_len, write_varint};

/// Reads fields from the body of one packet. Every read checks bounds and
/// returns [`DecodeError::Truncated`] instead of panicking.
pub(crate) struct Reader {
    buf: Bytes,
    /// MQTT 5 rules apply (minimal variable byte integers).
    v5: bool,
}

impl Reader {
    pub(crate) fn new(buf: Bytes, v5: bool) -> Self {
        Reader { buf, v5 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn set_v5(&mut self, v5: bool) {
        self.v5 = v5;
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        if self.buf.is_empty() {
            return Err(DecodeError::Truncated);
        }
        Ok(self.buf.get_u8())
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        if self.buf.len() < 2 {
            return Err(DecodeError::Truncated);
        }
        Ok(self.buf.get_u16())
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        if self.buf.len() < 4 {
            return Err(DecodeError::Truncated);
        }
        Ok(self.buf.get_u32())
    }

    pub(crate) fn varint(&mut self) -> Result<u32, DecodeError> {
        match read_varint(&self.buf)? {
            None => Err(DecodeError::Truncated),
            Some((v, len)) => {
                if self.v5 && !is_minimal(v, len) {
                    return Err(DecodeError::NonMinimalVarInt);
                }
                self.buf.advance(len);
                Ok(v)
            }
        }
    }

    /// `n` bytes as a zero-copy slice.
    pub(crate) fn take(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated);
        }
        Ok(self.buf.split_to(n))
    }

    /// Everything left, zero-copy.
    pub(crate) fn rest(&mut self) -> Bytes {
        std::mem::take(&mut self.buf)
    }

    /// Two-byte length followed by that many bytes, zero-copy.
    pub(crate) fn binary(&mut self) -> Result<Bytes, DecodeError> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }

    /// Two-byte length followed by that many bytes of strict UTF-8
    /// (well-formed, no U+0000).
    pub(crate) fn string(&mut self) -> Result<String, DecodeError> {
        let n = usize::from(self.u16()?);
        if self.buf.len() < n {
            return Err(DecodeError::Truncated);
        }
        let s = check_utf8(&self.buf[..n])?.to_owned();
        self.buf.advance(n);
        Ok(s)
    }

    /// Fail with [`DecodeError::TrailingBytes`] unless everything was read.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

/// Validate an MQTT UTF-8 string: well-formed (so no surrogates) and no U+0000.
pub(crate) fn check_utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    let s = std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)?;
    if bytes.contains(&0) {
        return Err(DecodeError::NullCharacter);
    }
    Ok(s)
}

/// Wire length of a string field, checking the 65,535-byte limit.
#[inline]
pub(crate) fn str_len(s: &str) -> Result<usize, EncodeError> {
    if s.len() > usize::from(u16::MAX) {
        return Err(EncodeError::StringTooLong(s.len()));
    }
    Ok(2 + s.len())
}

/// Wire length of a binary field, checking the 65,535-byte limit.
#[inline]
pub(crate) fn bin_len(b: &[u8]) -> Result<usize, EncodeError> {
    if b.len() > usize::from(u16::MAX) {
        return Err(EncodeError::BinaryTooLong(b.len()));
    }
    Ok(2 + b.len())
}

/// Write a length-prefixed string or binary field (length already checked).
#[inline]
pub(crate) fn put_bytes(out: &mut BytesMut, b: &[u8]) {
    out.put_u16(b.len() as u16);
    out.extend_from_slice(b);
}

/// Length of a property list's content (without its length prefix), after
/// checking that every value matches its identifier and fits the wire.
pub(crate) fn properties_len(props: &Properties) -> Result<usize, EncodeError> {
    let mut total = 0usize;
    for p in &props.list {
        let Some(ty) = p.id.property_type() else {
            return Err(EncodeError::UnknownProperty(p.id.0));
        };
        if ty != p.value.property_type() {
            return Err(EncodeError::PropertyTypeMismatch(p.id.0));
        }
        total += 1 + match &p.value {
            PropertyValue::VarInt(v) if *v > MAX_VARINT => {
                return Err(EncodeError::VarIntTooLarge(*v));
            }
            PropertyValue::Binary(b) => bin_len(b)?,
            PropertyValue::String(s) => str_len(s)?,
            PropertyValue::Pair(k, v) => str_len(k)? + str_len(v)?,
            other => other.encoded_len(),
        };
    }
    if total > MAX_VARINT as usize {
        return Err(EncodeError::PacketTooLarge(total));
    }
    Ok(total)
}

/// Length of the property list including its length prefix.
pub(crate) fn properties_wire_len(props: &Properties) -> Result<usize, EncodeError> {
    let n = properties_len(props)?;
    Ok(varint_len(n as u32) + n)
}

/// Write the property length and the list. `len` is [`properties_len`]'s result.
pub(crate) fn write_properties(props: &Properties, len: usize, out: &mut BytesMut) {
    write_varint(len as u32, out);
    for p in &props.list {
        out.put_u8(p.id.0);
        match &p.value {
            PropertyValue::Byte(v) => out.put_u8(*v),
            PropertyValue::U16(v) => out.put_u16(*v),
            PropertyValue::U32(v) => out.put_u32(*v),
            PropertyValue::VarInt(v) => write_varint(*v, out),
            PropertyValue::Binary(b) => put_bytes(out, b),
            PropertyValue::String(s) => put_bytes(out, s.as_bytes()),
            PropertyValue::Pair(k, v) => {
                put_bytes(out, k.as_bytes());
                put_bytes(out, v.as_bytes());
            }
        }
    }
}

/// Read a property list (length prefix first) for `ctx`, enforcing which
/// identifiers are allowed, which may repeat, and value ranges.
pub(crate) fn read_properties(
    r: &mut Reader,
    ctx: PropertyContext,
) -> Result<Properties, DecodeError> {
    let len = r.varint()? as usize;
    if len == 0 {
        return Ok(Properties::new());
    }
    let mut pr = Reader::new(r.take(len)?, true);
    let mut list = Vec::new();
    let mut seen: u64 = 0;
    while !pr.is_empty() {
        let raw = pr.u8()?;
        let id = PropertyId(raw);
        let Some(ty) = id.property_type() else {
            return Err(DecodeError::UnknownProperty(raw));
        };
        if !id.allowed_in(ctx) {
            return Err(DecodeError::PropertyNotAllowed {
                id: raw,
                packet: ctx,
            });
        }
        // Known ids are all below 64.
        let bit = 1u64 << (raw & 63);
        if seen & bit != 0 && !id.may_repeat(ctx) {
            return Err(DecodeError::DuplicateProperty(raw));
        }
        seen |= bit;
        let value = match ty {
            PropertyType::Byte => PropertyValue::Byte(pr.u8()?),
            PropertyType::TwoByteInteger => PropertyValue::U16(pr.u16()?),
            PropertyType::FourByteInteger => PropertyValue::U32(pr.u32()?),
            PropertyType::VariableByteInteger => PropertyValue::VarInt(pr.varint()?),
            PropertyType::BinaryData => PropertyValue::Binary(pr.binary()?),
            PropertyType::Utf8String => PropertyValue::String(pr.string()?),
            PropertyType::Utf8StringPair => {
                let k = pr.string()?;
                PropertyValue::Pair(k, pr.string()?)
            }
        };
        check_value(id, &value)?;
        list.push(Property { id, value });
    }
    let data = 1u64 << PropertyId::AUTHENTICATION_DATA.0;
    let method = 1u64 << PropertyId::AUTHENTICATION_METHOD.0;
    if seen & data != 0 && seen & method == 0 {
        return Err(DecodeError::AuthDataWithoutMethod);
    }
    Ok(Properties { list })
}

/// Range rules the spec gives for individual property values.
fn check_value(id: PropertyId, value: &PropertyValue) -> Result<(), DecodeError> {
    let ok = match (id, value) {
        (
            PropertyId::PAYLOAD_FORMAT_INDICATOR
            | PropertyId::REQUEST_PROBLEM_INFORMATION
            | PropertyId::REQUEST_RESPONSE_INFORMATION
            | PropertyId::MAXIMUM_QOS
            | PropertyId::RETAIN_AVAILABLE
            | PropertyId::WILDCARD_SUBSCRIPTION_AVAILABLE
            | PropertyId::SUBSCRIPTION_IDENTIFIERS_AVAILABLE
            | PropertyId::SHARED_SUBSCRIPTION_AVAILABLE,
            PropertyValue::Byte(v),
        ) => *v <= 1,
        (PropertyId::RECEIVE_MAXIMUM | PropertyId::TOPIC_ALIAS, PropertyValue::U16(v)) => *v != 0,
        (PropertyId::MAXIMUM_PACKET_SIZE, PropertyValue::U32(v)) => *v != 0,
        (PropertyId::SUBSCRIPTION_IDENTIFIER, PropertyValue::VarInt(v)) => *v != 0,
        (PropertyId::RESPONSE_TOPIC, PropertyValue::String(s)) => validate_topic_name(s).is_ok(),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(DecodeError::InvalidPropertyValue(id.0))
    }
}
