//! Property tests: decode∘encode is the identity for every valid packet of
//! every version, prefixes are incomplete, and decode never panics.

use bytes::BytesMut;
use proptest::prelude::*;

use super::strategies::{publish, topic_filter, topic_name, versioned_packet};
use super::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn round_trip((v, p) in versioned_packet()) {
        let mut out = BytesMut::new();
        encode(&p, v, &mut out).unwrap();
        prop_assert_eq!(encoded_len(&p, v), Ok(out.len()));
        let bytes = out.to_vec();
        let decoded = decode(&mut out, v, 0).unwrap();
        prop_assert_eq!(decoded.as_ref(), Some(&p));
        prop_assert!(out.is_empty());
        // Exactly big enough is accepted; one byte less is too large.
        let mut again = BytesMut::from(&bytes[..]);
        prop_assert!(decode(&mut again, v, bytes.len() as u32).unwrap().is_some());
        let mut again = BytesMut::from(&bytes[..]);
        let too_large = matches!(
            decode(&mut again, v, bytes.len() as u32 - 1),
            Err(DecodeError::PacketTooLarge { .. })
        );
        prop_assert!(too_large);
    }

    #[test]
    fn prefixes_are_incomplete((v, p) in versioned_packet()) {
        let bytes = enc(&p, v);
        for n in 0..bytes.len() {
            let mut buf = BytesMut::from(&bytes[..n]);
            prop_assert_eq!(decode(&mut buf, v, 0), Ok(None));
            prop_assert_eq!(buf.len(), n);
        }
    }

    #[test]
    fn publish_header_then_payload_is_encode(p in publish(V5), v5 in any::<bool>()) {
        let v = if v5 { V5 } else { V311 };
        let mut p = p;
        if !v5 {
            p.properties = Properties::new();
            if p.topic.is_empty() {
                p.topic.push('t');
            }
        }
        let mut header = BytesMut::new();
        encode_publish_header(&p, v, &mut header).unwrap();
        header.extend_from_slice(&p.payload);
        let whole = enc(&Packet::Publish(p.clone()), v);
        prop_assert_eq!(publish_len(&p, v), whole.len());
        prop_assert_eq!(header.to_vec(), whole);
    }

    #[test]
    fn decode_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        v in prop::sample::select(vec![V31, V311, V5]),
        max in prop::sample::select(vec![0u32, 3, 64]),
    ) {
        let mut buf = BytesMut::from(&bytes[..]);
        // Keep decoding until an error or a need for more input.
        while let Ok(Some(_)) = decode(&mut buf, v, max) {}
    }

    #[test]
    fn decode_never_panics_after_valid_header(
        ty in 1u8..=15,
        flags in prop::sample::select(vec![0u8, 2, 0x0B]),
        body in prop::collection::vec(any::<u8>(), 0..80),
        v in prop::sample::select(vec![V31, V311, V5]),
    ) {
        let mut bytes = vec![(ty << 4) | if ty == 3 { flags } else if matches!(ty, 6 | 8 | 10) { 2 } else { 0 }];
        let mut len = BytesMut::new();
        varint::write_varint(body.len() as u32, &mut len);
        bytes.extend_from_slice(&len);
        bytes.extend_from_slice(&body);
        let mut buf = BytesMut::from(&bytes[..]);
        if let Ok(Some(_)) = decode(&mut buf, v, 0) {
            prop_assert!(buf.is_empty());
        }
    }

    #[test]
    fn mutated_packets_never_panic(
        (v, p) in versioned_packet(),
        idx in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut bytes = enc(&p, v);
        let i = idx.index(bytes.len());
        bytes[i] = byte;
        let mut buf = BytesMut::from(&bytes[..]);
        let _ = decode(&mut buf, v, 0);
    }

    #[test]
    fn generated_topics_are_valid(name in topic_name(), filter in topic_filter()) {
        prop_assert_eq!(validate_topic_name(&name), Ok(()));
        prop_assert_eq!(validate_topic_filter(&filter), Ok(()));
        // A name always matches itself used as a filter, and "#" matches
        // every name that does not start with '$'.
        prop_assert!(topic_matches(&name, &name));
        prop_assert_eq!(topic_matches("#", &name), !name.starts_with('$'));
    }
}

/// The generators must actually reach every packet type of every version
/// and produce properties in MQTT 5, or the round trip proves little.
#[test]
fn strategies_cover_every_packet_type() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::collections::HashSet;

    let mut runner = TestRunner::deterministic();
    let strategy = versioned_packet();
    let mut seen = HashSet::new();
    let mut v5_props = 0;
    for _ in 0..4000 {
        let (v, p) = strategy.new_tree(&mut runner).unwrap().current();
        seen.insert((v, p.packet_type() as u8));
        if let Packet::Publish(pb) = &p
            && v.is_v5()
            && !pb.properties.is_empty()
        {
            v5_props += 1;
        }
    }
    for v in [V31, V311, V5] {
        let last = if v.is_v5() { 15 } else { 14 };
        for t in 1..=last {
            assert!(seen.contains(&(v, t)), "{v:?} never produced type {t}");
        }
    }
    assert!(v5_props > 10);
}
