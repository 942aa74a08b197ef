//! proptest strategies that generate only packets valid for a given
//! version (no properties or reason codes in 3.x, allowed ids and values
//! only, spec-listed reason codes).

use bytes::Bytes;
use proptest::prelude::*;
use proptest::sample::select;

use super::*;

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _é€-]{0,8}"
}

pub(super) fn topic_name() -> impl Strategy<Value = String> {
    "[a-z0-9$/]{0,6}[a-z0-9]{1,6}(/[a-z0-9]{0,4}){0,3}"
}

pub(super) fn topic_filter() -> BoxedStrategy<String> {
    let level = prop_oneof![
        3 => "[a-z0-9]{0,4}".boxed(),
        1 => Just("+".to_string()).boxed(),
    ];
    let plain = (prop::collection::vec(level, 1..4), any::<bool>()).prop_map(|(levels, hash)| {
        let mut f = levels.join("/");
        if hash {
            f.push_str(if f.is_empty() { "#" } else { "/#" });
        }
        if f.is_empty() {
            f.push('a');
        }
        f
    });
    prop_oneof![
        4 => plain.clone(),
        1 => ("[a-z0-9]{1,4}", plain).prop_map(|(g, f)| format!("$share/{g}/{f}")),
    ]
    .boxed()
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn value_for(id: PropertyId) -> BoxedStrategy<PropertyValue> {
    match (id, id.property_type()) {
        (PropertyId::RESPONSE_TOPIC, _) => topic_name().prop_map(PropertyValue::String).boxed(),
        (_, Some(PropertyType::Byte)) => (0u8..=1).prop_map(PropertyValue::Byte).boxed(),
        (_, Some(PropertyType::TwoByteInteger)) => {
            (1u16..=u16::MAX).prop_map(PropertyValue::U16).boxed()
        }
        (_, Some(PropertyType::FourByteInteger)) => {
            (1u32..=u32::MAX).prop_map(PropertyValue::U32).boxed()
        }
        (_, Some(PropertyType::VariableByteInteger)) => (1u32..=varint::MAX_VARINT)
            .prop_map(PropertyValue::VarInt)
            .boxed(),
        (_, Some(PropertyType::BinaryData)) => bytes(6).prop_map(PropertyValue::Binary).boxed(),
        (_, Some(PropertyType::Utf8String)) => text().prop_map(PropertyValue::String).boxed(),
        _ => (text(), text())
            .prop_map(|(k, v)| PropertyValue::Pair(k, v))
            .boxed(),
    }
}

/// A valid property list for `ctx`.
pub(super) fn properties(ctx: PropertyContext) -> BoxedStrategy<Properties> {
    let ids: Vec<PropertyId> = PropertyId::ALL
        .into_iter()
        .filter(|id| id.allowed_in(ctx))
        .collect();
    let one =
        select(ids).prop_flat_map(|id| value_for(id).prop_map(move |value| Property { id, value }));
    prop::collection::vec(one, 0..5)
        .prop_map(move |list| {
            let mut out = Properties::new();
            for p in list {
                let dup = out.get(p.id).is_some();
                if !dup || p.id.may_repeat(ctx) {
                    out.list.push(p);
                }
            }
            if out.get(PropertyId::AUTHENTICATION_DATA).is_some()
                && out.get(PropertyId::AUTHENTICATION_METHOD).is_none()
            {
                out.remove(PropertyId::AUTHENTICATION_DATA);
            }
            out
        })
        .boxed()
}

fn props_if(v: ProtocolVersion, ctx: PropertyContext) -> BoxedStrategy<Properties> {
    if v.is_v5() {
        properties(ctx)
    } else {
        Just(Properties::new()).boxed()
    }
}

fn qos() -> impl Strategy<Value = QoS> {
    (0u8..=2).prop_map(|q| QoS::from_u8(q).unwrap_or_default())
}

fn code_for(packet: PacketType, v: ProtocolVersion) -> BoxedStrategy<ReasonCode> {
    let codes: Vec<ReasonCode> = (0..=255u8)
        .map(ReasonCode)
        .filter(|c| c.is_valid_for(packet, v.is_v5()))
        .collect();
    select(codes).boxed()
}

fn connect(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let will = (
        topic_name(),
        bytes(8),
        qos(),
        any::<bool>(),
        props_if(v, PropertyContext::Will),
    )
        .prop_map(|(topic, payload, qos, retain, properties)| Will {
            topic,
            payload,
            qos,
            retain,
            properties,
        });
    (
        any::<bool>(),
        any::<u16>(),
        text(),
        prop::option::of(will),
        prop::option::of(text()),
        prop::option::of(bytes(8)),
        props_if(v, PropertyContext::Connect),
    )
        .prop_map(
            move |(
                clean_start,
                keep_alive,
                client_id,
                will,
                mut username,
                password,
                properties,
            )| {
                if v == ProtocolVersion::V311 && password.is_some() && username.is_none() {
                    username = Some(String::new());
                }
                Packet::Connect(Box::new(Connect {
                    protocol: v,
                    clean_start,
                    keep_alive,
                    client_id,
                    will,
                    username,
                    password,
                    properties,
                    bridge: keep_alive % 3 == 0,
                }))
            },
        )
        .boxed()
}

fn connack(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    (
        any::<bool>(),
        code_for(PacketType::ConnAck, v),
        props_if(v, PropertyContext::ConnAck),
    )
        .prop_map(|(sp, code, properties)| {
            Packet::ConnAck(ConnAck {
                session_present: sp && code.0 == 0,
                code,
                properties,
            })
        })
        .boxed()
}

pub(super) fn publish(v: ProtocolVersion) -> BoxedStrategy<Publish> {
    (
        any::<bool>(),
        qos(),
        any::<bool>(),
        topic_name(),
        1u16..,
        props_if(v, PropertyContext::Publish),
        bytes(40),
        any::<bool>(),
    )
        .prop_map(
            |(dup, qos, retain, topic, id, properties, payload, drop_topic)| {
                let aliased = properties.get(PropertyId::TOPIC_ALIAS).is_some();
                Publish {
                    dup: dup && qos != QoS::AtMostOnce,
                    qos,
                    retain,
                    topic: if aliased && drop_topic {
                        String::new()
                    } else {
                        topic
                    },
                    packet_id: if qos == QoS::AtMostOnce { 0 } else { id },
                    properties,
                    payload,
                }
            },
        )
        .boxed()
}

fn pub_resp(v: ProtocolVersion, ty: PacketType, ctx: PropertyContext) -> BoxedStrategy<PubResp> {
    let reason = if v.is_v5() {
        code_for(ty, v)
    } else {
        Just(ReasonCode::SUCCESS).boxed()
    };
    (1u16.., reason, props_if(v, ctx))
        .prop_map(|(packet_id, reason, properties)| PubResp {
            packet_id,
            reason,
            properties,
        })
        .boxed()
}

fn subscribe(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let opts = (qos(), any::<bool>(), any::<bool>(), 0u8..=2);
    let entry = (topic_filter(), opts).prop_map(move |(f, (qos, nl, rap, rh))| {
        let o = if v.is_v5() {
            SubscriptionOptions {
                qos,
                no_local: nl && !topic::is_shared(&f),
                retain_as_published: rap,
                retain_handling: rh,
            }
        } else {
            SubscriptionOptions {
                qos,
                ..SubscriptionOptions::default()
            }
        };
        (f, o)
    });
    (
        1u16..,
        props_if(v, PropertyContext::Subscribe),
        prop::collection::vec(entry, 1..4),
    )
        .prop_map(|(packet_id, properties, filters)| {
            Packet::Subscribe(Subscribe {
                packet_id,
                properties,
                filters,
            })
        })
        .boxed()
}

fn acks(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let suback = (
        1u16..,
        props_if(v, PropertyContext::SubAck),
        prop::collection::vec(code_for(PacketType::SubAck, v), 1..4),
    )
        .prop_map(|(packet_id, properties, codes)| {
            Packet::SubAck(SubAck {
                packet_id,
                properties,
                codes,
            })
        });
    let unsub = (
        1u16..,
        props_if(v, PropertyContext::Unsubscribe),
        prop::collection::vec(topic_filter(), 1..4),
    )
        .prop_map(|(packet_id, properties, filters)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                properties,
                filters,
            })
        });
    let n_codes = if v.is_v5() { 1..4 } else { 0..1 };
    let unsuback = (
        1u16..,
        props_if(v, PropertyContext::UnsubAck),
        prop::collection::vec(code_for(PacketType::UnsubAck, ProtocolVersion::V5), n_codes),
    )
        .prop_map(|(packet_id, properties, codes)| {
            Packet::UnsubAck(UnsubAck {
                packet_id,
                properties,
                codes,
            })
        });
    prop_oneof![suback, unsub, unsuback].boxed()
}

fn tails(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    if !v.is_v5() {
        return prop_oneof![
            Just(Packet::PingReq),
            Just(Packet::PingResp),
            Just(Packet::Disconnect(Disconnect::default())),
        ]
        .boxed();
    }
    let disconnect = (
        code_for(PacketType::Disconnect, v),
        properties(PropertyContext::Disconnect),
    )
        .prop_map(|(reason, properties)| Packet::Disconnect(Disconnect { reason, properties }));
    let auth = (
        code_for(PacketType::Auth, v),
        properties(PropertyContext::Auth),
    )
        .prop_map(|(reason, properties)| Packet::Auth(Auth { reason, properties }));
    prop_oneof![
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        disconnect,
        auth
    ]
    .boxed()
}

/// Any packet valid for `v`.
pub(super) fn packet(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    use PropertyContext as C;
    prop_oneof![
        connect(v),
        connack(v),
        publish(v).prop_map(Packet::Publish),
        pub_resp(v, PacketType::PubAck, C::PubAck).prop_map(Packet::PubAck),
        pub_resp(v, PacketType::PubRec, C::PubRec).prop_map(Packet::PubRec),
        pub_resp(v, PacketType::PubRel, C::PubRel).prop_map(Packet::PubRel),
        pub_resp(v, PacketType::PubComp, C::PubComp).prop_map(Packet::PubComp),
        subscribe(v),
        acks(v),
        tails(v),
    ]
    .boxed()
}

/// A version together with a packet valid for it.
pub(super) fn versioned_packet() -> BoxedStrategy<(ProtocolVersion, Packet)> {
    select(vec![V31, V311, V5])
        .prop_flat_map(|v| packet(v).prop_map(move |p| (v, p)))
        .boxed()
}
