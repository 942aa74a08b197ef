//! Checks the session applies to what it sends: topic name/filter rules, the
//! wire size of a PUBLISH (against the server's Maximum Packet Size), and
//! reading the CONNACK properties that limit us.

use crate::protocol::codec::{Properties, PropertyId, PropertyValue, ProtocolVersion, Publish};

/// The largest remaining length the fixed header can express.
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// A PUBLISH topic: non-empty, no wildcards, no NUL, at most 65535 bytes.
pub fn check_topic_name(topic: &str) -> Result<(), &'static str> {
    if topic.is_empty() {
        return Err("topic name is empty");
    }
    check_common(topic)?;
    if topic.contains(['+', '#']) {
        return Err("topic name contains a wildcard");
    }
    Ok(())
}

/// A SUBSCRIBE/UNSUBSCRIBE filter: non-empty; `+` fills a whole level and `#`
/// a whole last level.
pub fn check_topic_filter(filter: &str) -> Result<(), &'static str> {
    if filter.is_empty() {
        return Err("topic filter is empty");
    }
    check_common(filter)?;
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        if level.contains('#') && (level != "#" || levels.peek().is_some()) {
            return Err("'#' must be the whole last level of a topic filter");
        }
        if level.contains('+') && level != "+" {
            return Err("'+' must be a whole level of a topic filter");
        }
    }
    Ok(())
}

fn check_common(s: &str) -> Result<(), &'static str> {
    if s.len() > usize::from(u16::MAX) {
        return Err("topic longer than 65535 bytes");
    }
    if s.contains('\0') {
        return Err("topic contains U+0000");
    }
    Ok(())
}

/// Bytes of a Variable Byte Integer encoding `v`.
pub fn varint_len(v: usize) -> usize {
    match v {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Bytes of a property list's body (without its length prefix).
pub fn properties_len(props: &Properties) -> usize {
    props
        .list
        .iter()
        .map(|p| {
            1 + match &p.value {
                PropertyValue::Byte(_) => 1,
                PropertyValue::U16(_) => 2,
                PropertyValue::U32(_) => 4,
                PropertyValue::VarInt(v) => varint_len(*v as usize),
                PropertyValue::Binary(b) => 2 + b.len(),
                PropertyValue::String(s) => 2 + s.len(),
                PropertyValue::Pair(k, v) => 4 + k.len() + v.len(),
            }
        })
        .sum()
}

/// The whole encoded size of `publish` for `version`: fixed header included.
pub fn publish_len(publish: &Publish, version: ProtocolVersion) -> usize {
    let mut remaining = 2 + publish.topic.len() + publish.payload.len();
    if publish.qos as u8 > 0 {
        remaining += 2;
    }
    if version.is_v5() {
        let props = properties_len(&publish.properties);
        remaining += varint_len(props) + props;
    }
    1 + varint_len(remaining) + remaining
}

/// The first property `id` as an integer (byte, two- or four-byte, varint).
pub fn int_property(props: &Properties, id: PropertyId) -> Option<u32> {
    props
        .list
        .iter()
        .find(|p| p.id == id)
        .and_then(|p| match p.value {
            PropertyValue::Byte(v) => Some(u32::from(v)),
            PropertyValue::U16(v) => Some(u32::from(v)),
            PropertyValue::U32(v) | PropertyValue::VarInt(v) => Some(v),
            _ => None,
        })
}

/// The first property `id` as a string.
pub fn string_property(props: &Properties, id: PropertyId) -> Option<&str> {
    props
        .list
        .iter()
        .find(|p| p.id == id)
        .and_then(|p| match &p.value {
            PropertyValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codec::{Property, QoS};
    use bytes::Bytes;

    #[test]
    fn topic_names() {
        assert!(check_topic_name("a/b").is_ok());
        assert!(check_topic_name("").is_err());
        assert!(check_topic_name("a/+").is_err());
        assert!(check_topic_name("a/#").is_err());
        assert!(check_topic_name("a\0b").is_err());
        assert!(check_topic_name(&"x".repeat(65536)).is_err());
    }

    #[test]
    fn topic_filters() {
        for ok in ["#", "+", "a/+/b", "a/#", "+/+", "/"] {
            assert!(check_topic_filter(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a#", "a/#/b", "a+/b", "#/", "a/b+"] {
            assert!(check_topic_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn publish_sizes() {
        let mut p = Publish {
            topic: "ab".into(),
            payload: Bytes::from_static(b"xyz"),
            ..Publish::default()
        };
        // 1 + 1 + (2 + 2 + 3)
        assert_eq!(publish_len(&p, ProtocolVersion::V311), 9);
        // + empty property length byte
        assert_eq!(publish_len(&p, ProtocolVersion::V5), 10);
        p.qos = QoS::AtLeastOnce;
        p.properties.list.push(Property {
            id: PropertyId::CONTENT_TYPE,
            value: PropertyValue::String("json".into()),
        });
        // remaining = 2+2 + 2 (id) + 1 + (1 + 2 + 4) + 3 = 17
        assert_eq!(publish_len(&p, ProtocolVersion::V5), 19);
        p.payload = Bytes::from(vec![0u8; 200]);
        // remaining = 214 → two length bytes
        assert_eq!(publish_len(&p, ProtocolVersion::V5), 217);
    }

    #[test]
    fn property_readers() {
        let mut props = Properties::default();
        props.list.push(Property {
            id: PropertyId::RECEIVE_MAXIMUM,
            value: PropertyValue::U16(5),
        });
        props.list.push(Property {
            id: PropertyId::ASSIGNED_CLIENT_IDENTIFIER,
            value: PropertyValue::String("auto-1".into()),
        });
        assert_eq!(int_property(&props, PropertyId::RECEIVE_MAXIMUM), Some(5));
        assert_eq!(int_property(&props, PropertyId::SERVER_KEEP_ALIVE), None);
        assert_eq!(
            string_property(&props, PropertyId::ASSIGNED_CLIENT_IDENTIFIER),
            Some("auto-1")
        );
    }
}
