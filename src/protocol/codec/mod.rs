//! Sans-IO MQTT codec: bytes ⇄ [`Packet`] for MQTT 3.1, 3.1.1 and 5.0.
//! Decoding is strict (every malformed input is a typed [`DecodeError`]) and
//! zero-copy for payloads and binary properties.

mod decode;
mod encode;
pub mod error;
pub mod packet;
pub mod properties;
pub mod reason;
pub mod topic;
pub mod varint;
mod wire;

#[cfg(test)]
mod tests;

pub use decode::{PROTOCOL_MAX_PACKET_SIZE, decode};
pub use encode::{encode, encode_publish_header, encoded_len, publish_len};
pub use error::{DecodeError, EncodeError};
pub use packet::*;
pub use properties::{
    Properties, Property, PropertyContext, PropertyId, PropertyType, PropertyValue,
};
pub use reason::ReasonCode;
pub use topic::{
    TopicError, is_shared, parse_shared, topic_matches, validate_topic_filter, validate_topic_name,
};

/// A PUBLISH's MQTT 5 property list on its own (length prefix first), as
/// Paho's persisted commands hold it.
pub fn encode_publish_properties(
    props: &Properties,
    out: &mut bytes::BytesMut,
) -> Result<(), EncodeError> {
    let n = wire::properties_len(props)?;
    wire::write_properties(props, n, out);
    Ok(())
}

/// Read a PUBLISH's property list that fills `buf` exactly.
pub fn decode_publish_properties(buf: bytes::Bytes) -> Result<Properties, DecodeError> {
    let mut r = wire::Reader::new(buf, true);
    let p = wire::read_properties(&mut r, PropertyContext::Publish)?;
    r.finish()?;
    Ok(p)
}
