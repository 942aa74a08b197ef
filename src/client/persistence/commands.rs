//! MQTTAsync's persisted commands: a publish waiting in the offline buffer
//! is kept as `c-<seqno>` (MQTT 5 clients: `c5-<seqno>`), laid out as Paho C
//! writes it, in the machine's own byte order: int type (3, PUBLISH), int
//! token, the topic with its NUL, int payload length, the payload, int QoS,
//! int retained, and for MQTT 5 the property list (length prefix first).
//!
//! Paho also writes a SUBSCRIBE (type 8: int count, then per filter the
//! filter with its NUL, int QoS and for MQTT 5 its 12-byte
//! MQTTSubscribe_options) or UNSUBSCRIBE (type 10: int count, the filters
//! with their NULs) for the moment between the call and its sending, and
//! replays one it finds at create. Ours hands those to the session inside
//! the call, so it writes none, but reads and replays Paho's.

use bytes::{Bytes, BytesMut};

use super::{Store, StoreError};
use crate::client::trace::{self, trace};
use crate::protocol::codec::{
    Properties, QoS, SubscriptionOptions, decode_publish_properties, encode_publish_properties,
};

/// Key prefix of a persisted command (MQTT 3.x clients).
pub const COMMAND: &str = "c-";
/// Key prefix of a persisted command (MQTT 5 clients).
pub const COMMAND_V5: &str = "c5-";
/// Paho's command type of a publish (the MQTT packet type).
const PUBLISH_COMMAND: i32 = 3;
/// Paho's command types of a subscribe and an unsubscribe.
const SUBSCRIBE_COMMAND: i32 = 8;
const UNSUBSCRIBE_COMMAND: i32 = 10;
/// sizeof(MQTTSubscribe_options): struct_id[4], int struct_version, three
/// unsigned chars (noLocal, retainAsPublished, retainHandling), padding.
const SUBSCRIBE_OPTIONS_SIZE: usize = 12;

/// A persisted command of any kind Paho writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Publish(CommandPublish),
    Subscribe {
        token: i32,
        filters: Vec<(String, SubscriptionOptions)>,
        properties: Properties,
    },
    Unsubscribe {
        token: i32,
        filters: Vec<String>,
        properties: Properties,
    },
}

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

impl Cursor<'_> {
    /// A NUL-terminated UTF-8 string.
    fn string(&mut self) -> Result<String, NotReplayed> {
        let nul = self
            .buf
            .iter()
            .position(|&b| b == 0)
            .ok_or(NotReplayed::Damaged)?;
        let s = std::str::from_utf8(self.take(nul).ok_or(NotReplayed::Damaged)?)
            .map_err(|_| NotReplayed::Damaged)?
            .to_string();
        self.take(1);
        Ok(s)
    }

    /// A count of filters (at least one; bounded by what is left).
    fn count(&mut self) -> Result<usize, NotReplayed> {
        let n = usize::try_from(self.int().ok_or(NotReplayed::Damaged)?)
            .map_err(|_| NotReplayed::Damaged)?;
        if n == 0 || n > self.buf.len() {
            return Err(NotReplayed::Damaged);
        }
        Ok(n)
    }

    /// MQTT 5: the property list that ends a record; else nothing may follow.
    fn properties(&mut self, v5: bool) -> Result<Properties, NotReplayed> {
        if v5 {
            decode_publish_properties(Bytes::copy_from_slice(self.buf))
                .map_err(|_| NotReplayed::Damaged)
        } else if self.buf.is_empty() {
            Ok(Properties::default())
        } else {
            Err(NotReplayed::Damaged)
        }
    }
}

/// A command record Paho writes (publish, subscribe, unsubscribe), or why
/// it is not one.
pub fn decode_any(buf: &[u8], v5: bool) -> Result<Command, NotReplayed> {
    let mut c = Cursor { buf };
    let kind = c.int().ok_or(NotReplayed::Damaged)?;
    let token = c.int().ok_or(NotReplayed::Damaged)?;
    match kind {
        PUBLISH_COMMAND => decode_command(buf, v5).map(Command::Publish),
        SUBSCRIBE_COMMAND => {
            let n = c.count()?;
            let mut filters = Vec::with_capacity(n);
            for _ in 0..n {
                let filter = c.string()?;
                let mut o = SubscriptionOptions {
                    qos: u8::try_from(c.int().ok_or(NotReplayed::Damaged)?)
                        .ok()
                        .and_then(QoS::from_u8)
                        .ok_or(NotReplayed::Damaged)?,
                    ..SubscriptionOptions::default()
                };
                if v5 {
                    let opts = c.take(SUBSCRIBE_OPTIONS_SIZE).ok_or(NotReplayed::Damaged)?;
                    o.no_local = opts[8] != 0;
                    o.retain_as_published = opts[9] != 0;
                    o.retain_handling = opts[10].min(2);
                }
                filters.push((filter, o));
            }
            let properties = c.properties(v5)?;
            Ok(Command::Subscribe {
                token,
                filters,
                properties,
            })
        }
        UNSUBSCRIBE_COMMAND => {
            let n = c.count()?;
            let filters = (0..n).map(|_| c.string()).collect::<Result<Vec<_>, _>>()?;
            let properties = c.properties(v5)?;
            Ok(Command::Unsubscribe {
                token,
                filters,
                properties,
            })
        }
        other => Err(NotReplayed::OtherCommand(other)),
    }
}

/// A publish command record, or why it is not one.
pub fn decode_command(buf: &[u8], v5: bool) -> Result<CommandPublish, NotReplayed> {
    let mut c = Cursor { buf };
    let kind = c.int().ok_or(NotReplayed::Damaged)?;
    let token = c.int().ok_or(NotReplayed::Damaged)?;
    if kind != PUBLISH_COMMAND {
        return Err(NotReplayed::OtherCommand(kind));
    }
    let topic = c.string()?;
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
    let properties = c.properties(v5)?;
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

/// The commands of a store, in sequence order, with their sequence numbers
/// and keys. Records that cannot be replayed are removed with a trace line.
pub fn restore_commands(store: &mut dyn Store) -> Result<Vec<(u32, String, Command)>, StoreError> {
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
            (Ok(seq), Ok(bytes)) => decode_any(&bytes, v5).map(|c| (seq, c)),
            (Ok(_), Err(e)) => {
                // Unreadable (or an afterRead callback refused it): left alone.
                trace!(trace::ERROR, "persistence: cannot read {key}: {e}");
                continue;
            }
            _ => Err(NotReplayed::Damaged),
        };
        match decoded {
            Ok((seq, c)) => out.push((seq, key, c)),
            Err(why) => {
                trace!(trace::ERROR, "persistence: skipping command {key}: {why:?}");
                let _ = store.remove(&key);
            }
        }
    }
    out.sort_by_key(|(seq, _, _)| *seq);
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

    #[test]
    fn subscribe_and_unsubscribe_records_as_paho_writes_them() {
        let i = |v: i32| v.to_ne_bytes();
        // MQTT 5: per filter its QoS then MQTTSubscribe_options ("MQSO",
        // version, noLocal, retainAsPublished, retainHandling, padding),
        // then the property list (empty: one zero byte).
        let mut v5 = [i(8), i(7), i(1)].concat();
        v5.extend_from_slice(b"a/+\0");
        v5.extend_from_slice(&i(2));
        v5.extend_from_slice(b"MQSO");
        v5.extend_from_slice(&i(0));
        v5.extend_from_slice(&[1, 1, 2, 0, 0]);
        let opts = SubscriptionOptions {
            qos: QoS::ExactlyOnce,
            no_local: true,
            retain_as_published: true,
            retain_handling: 2,
        };
        assert_eq!(
            decode_any(&v5, true),
            Ok(Command::Subscribe {
                token: 7,
                filters: vec![("a/+".into(), opts)],
                properties: Properties::default(),
            })
        );
        let mut un = [i(10), i(9), i(2)].concat();
        un.extend_from_slice(b"x\0y/#\0");
        assert_eq!(
            decode_any(&un, false),
            Ok(Command::Unsubscribe {
                token: 9,
                filters: vec!["x".into(), "y/#".into()],
                properties: Properties::default(),
            })
        );
        for cut in [8, 12, 14, un.len() - 1] {
            assert_eq!(
                decode_any(&un[..cut], false),
                Err(NotReplayed::Damaged),
                "{cut}"
            );
        }
        let mut huge = [i(10), i(9), i(1_000_000)].concat();
        huge.extend_from_slice(b"x\0");
        assert_eq!(decode_any(&huge, false), Err(NotReplayed::Damaged));
        assert_eq!(
            decode_any(&[i(14), i(1)].concat(), false),
            Err(NotReplayed::OtherCommand(14))
        );
    }
}
