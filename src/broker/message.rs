//! Application messages inside the broker: the shared [`Message`] (payload
//! and properties stored once, `Arc`-shared by every subscriber), the
//! per-subscriber [`Outgoing`] copy of its header fields, and PUBLISH sizing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::protocol::codec::{Properties, Property, PropertyId, PropertyValue, Publish, QoS};

/// A routed application message. Forwarded properties are kept without
/// Message Expiry (recomputed on sending), Topic Alias and subscription ids.
#[derive(Debug)]
pub(crate) struct Message {
    pub topic: String,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
    pub properties: Properties,
    pub expires_at: Option<Instant>,
    /// The publishing client (for no-local), `None` for host injections.
    pub origin: Option<Arc<str>>,
}

impl Message {
    /// Builds a message from a client/host PUBLISH's parts.
    pub fn new(
        topic: String,
        payload: Bytes,
        qos: QoS,
        retain: bool,
        props: &Properties,
        origin: Option<Arc<str>>,
        now: Instant,
    ) -> Self {
        let mut properties = Properties::default();
        let mut expires_at = None;
        for p in &props.list {
            match (p.id, &p.value) {
                (PropertyId::MESSAGE_EXPIRY_INTERVAL, PropertyValue::U32(secs)) => {
                    expires_at = now.checked_add(Duration::from_secs(u64::from(*secs)));
                }
                (
                    PropertyId::PAYLOAD_FORMAT_INDICATOR
                    | PropertyId::CONTENT_TYPE
                    | PropertyId::RESPONSE_TOPIC
                    | PropertyId::CORRELATION_DATA
                    | PropertyId::USER_PROPERTY,
                    _,
                ) => properties.list.push(p.clone()),
                _ => {}
            }
        }
        Message {
            topic,
            payload,
            qos,
            retain,
            properties,
            expires_at,
            origin,
        }
    }

    /// True when the message's expiry interval has run out.
    pub fn expired(&self, now: Instant) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

/// One message on its way to one subscriber.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub msg: Arc<Message>,
    pub qos: QoS,
    pub retain: bool,
    pub sub_ids: Vec<u32>,
    /// Its key in the broker store (0 = not stored yet; see store/).
    pub seq: u64,
}

impl Outgoing {
    /// The PUBLISH for this delivery, `None` when the message has expired.
    pub fn to_publish(&self, packet_id: u16, dup: bool, now: Instant) -> Option<Publish> {
        let mut properties = self.msg.properties.clone();
        if let Some(at) = self.msg.expires_at {
            let left = at.checked_duration_since(now).filter(|d| !d.is_zero())?;
            let secs = u32::try_from(left.as_secs() + u64::from(left.subsec_nanos() > 0))
                .unwrap_or(u32::MAX);
            properties.list.push(Property {
                id: PropertyId::MESSAGE_EXPIRY_INTERVAL,
                value: PropertyValue::U32(secs),
            });
        }
        for id in &self.sub_ids {
            properties.list.push(Property {
                id: PropertyId::SUBSCRIPTION_IDENTIFIER,
                value: PropertyValue::VarInt(*id),
            });
        }
        Some(Publish {
            dup,
            qos: self.qos,
            retain: self.retain,
            topic: self.msg.topic.clone(),
            packet_id: if self.qos == QoS::AtMostOnce {
                0
            } else {
                packet_id
            },
            properties,
            payload: self.msg.payload.clone(),
        })
    }
}

/// The first value of property `id` in `props`.
pub(crate) fn prop(props: &Properties, id: PropertyId) -> Option<&PropertyValue> {
    props.list.iter().find(|p| p.id == id).map(|p| &p.value)
}

/// Property `id` as an integer of any width.
pub(crate) fn prop_u32(props: &Properties, id: PropertyId) -> Option<u32> {
    match prop(props, id)? {
        PropertyValue::Byte(v) => Some(u32::from(*v)),
        PropertyValue::U16(v) => Some(u32::from(*v)),
        PropertyValue::U32(v) | PropertyValue::VarInt(v) => Some(*v),
        _ => None,
    }
}
