//! Codec tests: spec byte vectors, every malformed-input rule, encoder
//! errors, and proptest round trips / no-panic fuzzing.

mod encode_errors;
mod malformed;
mod proptests;
mod strategies;
mod vectors;

use bytes::BytesMut;

use super::*;

pub(super) const V31: ProtocolVersion = ProtocolVersion::V31;
pub(super) const V311: ProtocolVersion = ProtocolVersion::V311;
pub(super) const V5: ProtocolVersion = ProtocolVersion::V5;

/// Encode to a plain byte vector, panicking on error (tests only).
pub(super) fn enc(p: &Packet, v: ProtocolVersion) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(p, v, &mut out).expect("encode");
    out.to_vec()
}

/// Decode a complete packet from `bytes`, asserting it consumed everything.
pub(super) fn dec(bytes: &[u8], v: ProtocolVersion) -> Result<Packet, DecodeError> {
    let mut buf = BytesMut::from(bytes);
    let p = decode(&mut buf, v, 0)?.expect("complete packet");
    assert!(buf.is_empty(), "decode left {} bytes", buf.len());
    Ok(p)
}

/// Decode expecting an error.
pub(super) fn dec_err(bytes: &[u8], v: ProtocolVersion) -> DecodeError {
    let mut buf = BytesMut::from(bytes);
    match decode(&mut buf, v, 0) {
        Err(e) => e,
        Ok(p) => panic!("expected an error, got {p:?}"),
    }
}

/// Every strict prefix of `bytes` must ask for more input and consume nothing.
pub(super) fn assert_prefixes_incomplete(bytes: &[u8], v: ProtocolVersion) {
    for n in 0..bytes.len() {
        let mut buf = BytesMut::from(&bytes[..n]);
        assert_eq!(decode(&mut buf, v, 0), Ok(None), "prefix of {n} bytes");
        assert_eq!(buf.len(), n, "prefix of {n} bytes was consumed");
    }
}
