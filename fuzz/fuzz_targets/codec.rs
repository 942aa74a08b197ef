//! The codec: arbitrary bytes decoded as a stream of packets at one protocol
//! version (the first byte picks 3.1, 3.1.1 or 5.0; CONNECT carries its
//! own). Nothing panics, and every packet that decodes re-encodes to bytes
//! that decode to the same packet, consuming exactly those bytes. One
//! exception by design: an MQTT 5 client accepts a 2-byte CONNACK with a
//! 3.x return code (a 3.1.1 server refusing the version), which has no MQTT
//! 5 encoding, so it is not round-tripped.
#![no_main]

use bytes::BytesMut;
use ferromq::protocol::codec::{Packet, PacketType, ProtocolVersion};
use ferromq::protocol::codec::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let version = match pick % 3 {
        0 => ProtocolVersion::V31,
        1 => ProtocolVersion::V311,
        _ => ProtocolVersion::V5,
    };
    // The second pick bit exercises a small packet size limit as well.
    let max = if pick & 0x80 != 0 { 64 } else { 0 };
    let mut buf = BytesMut::from(rest);
    while let Ok(Some(packet)) = decode(&mut buf, version, max) {
        round_trip(&packet, version);
    }
});

fn round_trip(packet: &Packet, version: ProtocolVersion) {
    if let Packet::ConnAck(ack) = packet
        && version.is_v5()
        && !ack.code.is_valid_for(PacketType::ConnAck, true)
    {
        return;
    }
    let mut wire = BytesMut::new();
    if let Err(e) = encode(packet, version, &mut wire) {
        panic!("decoded but does not encode: {e:?}\n{packet:?}");
    }
    let len = wire.len();
    match decode(&mut wire, version, 0) {
        Ok(Some(again)) => {
            assert_eq!(&again, packet, "re-decoded packet differs");
            assert!(wire.is_empty(), "{} of {len} bytes left over", wire.len());
        }
        other => panic!("re-encoding does not decode: {other:?}\n{packet:?}"),
    }
}
