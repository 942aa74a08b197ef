//! MQTTAsync's persisted commands: a publish waiting in the offline buffer
//! is kept as `c-<seqno>` (MQTT 5 clients: `c5-<seqno>`), laid out as Paho C
//! writes it, in the machine's own byte order: int type (3, PUBLISH), int
//! token, the topic with its NUL, int payload length, the payload, int QoS,
//! int retained, and for MQTT 5 the property list (length prefix first).

use bytes::{Bytes, BytesMut};

use super::{Store, StoreError};
use crate::client::trace::{self, trace};
use crate::protocol::codec::{
    Properties, QoS, decode_publish_properties, encode_publish_properties,
};

/// Key prefix of a persisted command (MQTT 3.x clients).
pub const COMMAND: &str = "c-";
/// Key prefix of a persisted command (MQTT 5 clients).
pub const COMMAND_V5: &str = "c5-";
/// Paho's command type of a publish (the MQTT packet type).
const PUBLISH_COMMAND: i32 = 3;

/// A buffered publish as a command record holds it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommandPublish {
    pub token: i32,
    pub topic: String,
    pub payload: Bytes,
    pub qos: QoS,
    pub retained: bool,
    pub properties: Properties,
}

/// The key of command `seqno`.
pub fn command_key(v5: bool, seqno: u32) -> String {
    let prefix = if v5 { COMMAND_V5 } else { COMMAND };
    format!("{prefix}{seqno}")
}

fn int(v: i32) -> [u8; 4] {
    v.to_ne_bytes()
}

/// The record of a buffered publish.
pub fn encode_command(c: &CommandPublish, v5: bool) -> Result<Vec<u8>, StoreError> {
    let len = i32::try_from(c.payload.len()).map_err(|_| StoreError::new("payload too large"))?;
    let mut out = Vec::with_capacity(24 + c.topic.len() + c.payload.len());
    out.extend_from_slice(&int(PUBLISH_COMMAND));
    out.extend_from_slice(&int(c.token));
    out.extend_from_slice(c.topic.as_bytes());
    out.push(0);
    out.extend_from_slice(&int(len));
    out.extend_from_slice(&c.payload);
    out.extend_from_slice(&int(c.qos as i32));
    out.extend_from_slice(&int(i32::from(c.retained)));
    if v5 {
        let mut props = BytesMut::new();
        encode_publish_properties(&c.properties, &mut props)
            .map_err(|e| StoreError::new(format!("cannot encode properties: {e:?}")))?;
        out.extend_from_slice(&props);
    }
    Ok(out)
}

/// Reads a command record front to back.
struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Some(a)
    }

    fn int(&mut self) -> Option<i32> {
        Some(i32::from_ne_bytes(self.take(4)?.try_into().ok()?))
    }
}

/// Why a command record is not replayed.
#[derive(Debug, PartialEq)]
pub enum NotReplayed {
    /// Cut short, out of range, or garbage.
    Damaged,
    /// A command other than a publish (Paho also keeps subscribe and
    /// unsubscribe requests).
    OtherCommand(i32),
}

/// A publish command record, or why it is not one.
pub fn decode_command(buf: &[u8], v5: bool) -> Result<CommandPublish, NotReplayed> {
    let mut c = Cursor { buf };
    let kind = c.int().ok_or(NotReplayed::Damaged)?;
    let token = c.int().ok_or(NotReplayed::Damaged)?;
    if kind != PUBLISH_COMMAND {
        return Err(NotReplayed::OtherCommand(kind));
    }
    let nul = c
        .buf
        .iter()
        .position(|&b| b == 0)
        .ok_or(NotReplayed::Damaged)?;
    let topic = std::str::from_utf8(c.take(nul).ok_or(NotReplayed::Damaged)?)
        .map_err(|_| NotReplayed::Damaged)?
        .to_string();
    c.take(1);
    let len =
        usize::try_from(c.int().ok_or(NotReplayed::Damaged)?).map_err(|_| NotReplayed::Damaged)?;
    let payload = Bytes::copy_from_slice(c.take(len).ok_or(NotReplayed::Damaged)?);
    let qos = u8::try_from(c.int().ok_or(NotReplayed::Damaged)?)
        .ok()
        .and_then(QoS::from_u8)
        .ok_or(NotReplayed::Damaged)?;
    let retained = match c.int().ok_or(NotReplayed::Damaged)? {
        0 => false,
        1 => true,
        _ => return Err(NotReplayed::Damaged),
    };
    let properties = if v5 {
        decode_publish_properties(Bytes::copy_from_slice(c.buf))
            .map_err(|_| NotReplayed::Damaged)?
    } else if c.buf.is_empty() {
        Properties::default()
    } else {
        return Err(NotReplayed::Damaged);
    };
    if topic.is_empty() {
        return Err(NotReplayed::Damaged);
    }
    Ok(CommandPublish {
        token,
        topic,
        payload,
        qos,
        retained,
        properties,
    })
}

/// The buffered publishes of a store, in sequence order, with their
/// sequence numbers. Records that cannot be replayed are removed with a
/// trace line.
pub fn restore_commands(store: &mut dyn Store) -> Result<Vec<(u32, CommandPublish)>, StoreError> {
    let mut out = Vec::new();
    for key in store.keys()? {
        let (v5, seq) = if let Some(s) = key.strip_prefix(COMMAND_V5) {
            (true, s)
        } else if let Some(s) = key.strip_prefix(COMMAND) {
            (false, s)
        } else {
            continue;
        };
        let decoded = match (seq.parse::<u32>(), store.get(&key)) {
            (Ok(seq), Ok(bytes)) => decode_command(&bytes, v5).map(|c| (seq, c)),
            (Ok(_), Err(e)) => {
                // Unreadable (or an afterRead callback refused it): left alone.
                trace!(trace::ERROR, "persistence: cannot read {key}: {e}");
                continue;
            }
            _ => Err(NotReplayed::Damaged),
        };
        match decoded {
            Ok(c) => out.push(c),
            Err(why) => {
                trace!(trace::ERROR, "persistence: skipping command {key}: {why:?}");
                let _ = store.remove(&key);
            }
        }
    }
    out.sort_by_key(|(seq, _)| *seq);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codec::{Property, PropertyId, PropertyValue};

    fn command(qos: QoS) -> CommandPublish {
        CommandPublish {
            token: 1,
            topic: "off/t".into(),
            payload: Bytes::from_static(b"off1"),
            qos,
            retained: true,
            properties: Properties::default(),
        }
    }

    #[test]
    fn records_are_the_bytes_paho_writes() {
        // As Debian's libpaho-mqtt3a 1.3 writes them on x86_64.
        let paho = b"\x03\0\0\0\x01\0\0\0off/t\0\x04\0\0\0off1\x01\0\0\0\x01\0\0\0";
        if cfg!(target_endian = "little") {
            assert_eq!(
                encode_command(&command(QoS::AtLeastOnce), false).unwrap(),
                paho
            );
        }
        let mut c = command(QoS::AtLeastOnce);
        c.properties.list.push(Property {
            id: PropertyId::USER_PROPERTY,
            value: PropertyValue::Pair("k".into(), "v".into()),
        });
        let v5 = encode_command(&c, true).unwrap();
        assert!(v5.ends_with(b"\x07\x26\x00\x01k\x00\x01v"));
        assert_eq!(decode_command(&v5, true), Ok(c));
        assert_eq!(command_key(true, 3), "c5-3");
    }

    #[test]
    fn damaged_and_other_commands_are_not_replayed() {
        let good = encode_command(&command(QoS::ExactlyOnce), false).unwrap();
        assert_eq!(decode_command(&good, false), Ok(command(QoS::ExactlyOnce)));
        for cut in [0, 3, 9, 15, good.len() - 1] {
            assert_eq!(
                decode_command(&good[..cut], false),
                Err(NotReplayed::Damaged),
                "{cut}"
            );
        }
        let mut trailing = good.clone();
        trailing.push(7);
        assert_eq!(decode_command(&trailing, false), Err(NotReplayed::Damaged));
        let mut sub = good.clone();
        sub[..4].copy_from_slice(&8i32.to_ne_bytes());
        assert_eq!(
            decode_command(&sub, false),
            Err(NotReplayed::OtherCommand(8))
        );
    }
}
