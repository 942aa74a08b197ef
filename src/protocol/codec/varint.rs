//! MQTT variable byte integers: 1–4 bytes, 7 bits per byte, little-endian
//! groups, high bit = "more follows". Maximum value 268,435,455.

use bytes::BufMut;

use super::error::DecodeError;

/// The largest value a variable byte integer can hold.
pub const MAX_VARINT: u32 = 268_435_455;

/// Number of bytes `value` takes on the wire (values above the maximum
/// report 5, which no encoder accepts).
#[inline]
pub fn varint_len(value: u32) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        2_097_152..=MAX_VARINT => 4,
        _ => 5,
    }
}

/// Append `value` (must be at most [`MAX_VARINT`]; larger values are
/// truncated to 28 bits, callers check first).
#[inline]
pub fn write_varint(value: u32, out: &mut impl BufMut) {
    let mut v = value & MAX_VARINT;
    loop {
        let mut byte = (v & 0x7F) as u8;
        v >>= 7;
        if v != 0 {
            byte |= 0x80;
        }
        out.put_u8(byte);
        if v == 0 {
            break;
        }
    }
}

/// Read a variable byte integer from the front of `bytes`.
///
/// Returns `Ok(None)` when `bytes` ends before the integer does,
/// `Ok(Some((value, len)))` when complete, and
/// [`DecodeError::VarIntTooLong`] when a fifth byte would be needed.
#[inline]
pub fn read_varint(bytes: &[u8]) -> Result<Option<(u32, usize)>, DecodeError> {
    let mut value: u32 = 0;
    for (i, &b) in bytes.iter().enumerate().take(4) {
        value |= u32::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    if bytes.len() >= 4 {
        Err(DecodeError::VarIntTooLong)
    } else {
        Ok(None)
    }
}

/// True when `len` is the shortest encoding of `value` (MQTT 5 requires it).
#[inline]
pub fn is_minimal(value: u32, len: usize) -> bool {
    varint_len(value) == len
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    fn enc(v: u32) -> Vec<u8> {
        let mut b = BytesMut::new();
        write_varint(v, &mut b);
        b.to_vec()
    }

    #[test]
    fn spec_boundaries_encode() {
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(127), [0x7F]);
        assert_eq!(enc(128), [0x80, 0x01]);
        assert_eq!(enc(16_383), [0xFF, 0x7F]);
        assert_eq!(enc(16_384), [0x80, 0x80, 0x01]);
        assert_eq!(enc(2_097_151), [0xFF, 0xFF, 0x7F]);
        assert_eq!(enc(2_097_152), [0x80, 0x80, 0x80, 0x01]);
        assert_eq!(enc(MAX_VARINT), [0xFF, 0xFF, 0xFF, 0x7F]);
    }

    #[test]
    fn round_trip_and_len() {
        for v in [
            0, 1, 127, 128, 300, 16_383, 16_384, 2_097_151, 2_097_152, MAX_VARINT,
        ] {
            let e = enc(v);
            assert_eq!(e.len(), varint_len(v));
            assert_eq!(read_varint(&e).unwrap(), Some((v, e.len())));
            assert!(is_minimal(v, e.len()));
        }
        assert_eq!(varint_len(MAX_VARINT + 1), 5);
    }

    #[test]
    fn incomplete_and_too_long() {
        assert_eq!(read_varint(&[]).unwrap(), None);
        assert_eq!(read_varint(&[0x80]).unwrap(), None);
        assert_eq!(read_varint(&[0x80, 0x80, 0x80]).unwrap(), None);
        assert_eq!(
            read_varint(&[0x80, 0x80, 0x80, 0x80]),
            Err(DecodeError::VarIntTooLong)
        );
        assert_eq!(
            read_varint(&[0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            Err(DecodeError::VarIntTooLong)
        );
    }

    #[test]
    fn non_minimal_detected() {
        // 0 encoded in two bytes.
        let (v, len) = read_varint(&[0x80, 0x00]).unwrap().unwrap();
        assert_eq!((v, len), (0, 2));
        assert!(!is_minimal(v, len));
    }
}
