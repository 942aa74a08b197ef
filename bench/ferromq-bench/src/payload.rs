//! The bench payload: a fixed header (send time, publisher id, sequence
//! number) followed by filler up to the requested size.

/// Bytes of the header: 8 (nanoseconds since the run's epoch) + 4 (publisher)
/// + 8 (sequence), all big-endian.
pub const HEADER_LEN: usize = 20;

/// What a received payload says about its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Nanoseconds since the run's epoch when the message was published.
    pub sent_ns: u64,
    pub publisher: u32,
    pub seq: u64,
}

/// Write `stamp` into the first [`HEADER_LEN`] bytes of `buf` (which the
/// caller sized to the payload length, at least `HEADER_LEN`).
pub fn encode(stamp: Stamp, buf: &mut [u8]) -> bool {
    let Some(head) = buf.get_mut(..HEADER_LEN) else {
        return false;
    };
    head[..8].copy_from_slice(&stamp.sent_ns.to_be_bytes());
    head[8..12].copy_from_slice(&stamp.publisher.to_be_bytes());
    head[12..20].copy_from_slice(&stamp.seq.to_be_bytes());
    true
}

/// Read the header back; `None` when the payload is too short to be ours.
pub fn decode(buf: &[u8]) -> Option<Stamp> {
    let head = buf.get(..HEADER_LEN)?;
    Some(Stamp {
        sent_ns: u64::from_be_bytes(head[..8].try_into().ok()?),
        publisher: u32::from_be_bytes(head[8..12].try_into().ok()?),
        seq: u64::from_be_bytes(head[12..20].try_into().ok()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_every_field_and_the_filler() {
        let stamp = Stamp {
            sent_ns: 0x0102_0304_0506_0708,
            publisher: 0xdead_beef,
            seq: u64::MAX - 1,
        };
        let mut buf = vec![0x5a; 64];
        assert!(encode(stamp, &mut buf));
        assert_eq!(decode(&buf), Some(stamp));
        assert!(buf[HEADER_LEN..].iter().all(|b| *b == 0x5a));
        assert_eq!(&buf[..8], &[1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn short_buffers_are_refused() {
        let mut small = [0u8; HEADER_LEN - 1];
        let stamp = Stamp {
            sent_ns: 1,
            publisher: 2,
            seq: 3,
        };
        assert!(!encode(stamp, &mut small));
        assert_eq!(decode(&small), None);
        assert_eq!(decode(&[]), None);
    }
}
