//! WebSocket frames (RFC 6455 section 5), shared by the client and server
//! layers: parse one whole frame (unmasking it), write one frame (masked by
//! a client, plain from a server).

use bytes::{Buf, BytesMut};

use super::TransportError;

/// A frame longer than this is refused (MQTT's own limit is 256 MiB).
pub const MAX_FRAME: u64 = 512 * 1024 * 1024;

pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// One whole frame taken from the buffer.
pub struct Frame {
    pub opcode: u8,
    pub masked: bool,
    /// Unmasked.
    pub payload: BytesMut,
}

/// Take the first frame of `buf` when it is whole (`None`: more bytes are
/// needed; nothing is taken then).
pub fn next_frame(buf: &mut BytesMut) -> Result<Option<Frame>, TransportError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    if b0 & 0x70 != 0 {
        return Err(TransportError::new(
            "WebSocket frame with reserved bits set",
        ));
    }
    let opcode = b0 & 0x0F;
    let masked = b1 & 0x80 != 0;
    let (len, mut head) = match b1 & 0x7F {
        126 if buf.len() >= 4 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 if buf.len() >= 10 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(b), 10)
        }
        126 | 127 => return Ok(None),
        n => (u64::from(n), 2),
    };
    if len > MAX_FRAME {
        return Err(TransportError::new(format!(
            "WebSocket frame of {len} bytes is too long"
        )));
    }
    let mask = if masked {
        if buf.len() < head + 4 {
            return Ok(None);
        }
        let m = [buf[head], buf[head + 1], buf[head + 2], buf[head + 3]];
        head += 4;
        Some(m)
    } else {
        None
    };
    let len = len as usize;
    if buf.len() < head + len {
        return Ok(None);
    }
    buf.advance(head);
    let mut payload = buf.split_to(len);
    if let Some(m) = mask {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= m[i & 3];
        }
    }
    Ok(Some(Frame {
        opcode,
        masked,
        payload,
    }))
}

/// Append one final frame, masked with `mask` when given.
pub fn write_frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>, down: &mut BytesMut) {
    let bit = if mask.is_some() { 0x80 } else { 0 };
    down.reserve(payload.len() + 14);
    down.extend_from_slice(&[0x80 | opcode]);
    let n = payload.len();
    if n < 126 {
        down.extend_from_slice(&[bit | n as u8]);
    } else if let Ok(n16) = u16::try_from(n) {
        down.extend_from_slice(&[bit | 126]);
        down.extend_from_slice(&n16.to_be_bytes());
    } else {
        down.extend_from_slice(&[bit | 127]);
        down.extend_from_slice(&(n as u64).to_be_bytes());
    }
    match mask {
        Some(mask) => {
            down.extend_from_slice(&mask);
            let start = down.len();
            down.extend_from_slice(payload);
            for (i, b) in down[start..].iter_mut().enumerate() {
                *b ^= mask[i & 3];
            }
        }
        None => down.extend_from_slice(payload),
    }
}
