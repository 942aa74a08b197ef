//! The records Paho C keeps for QoS 1/2 flows, and reading a store back.
//! `s-<id>` (MQTT 5: `s5-<id>`) holds an outgoing PUBLISH as it went on the
//! wire (DUP clear); `sc-<id>` (`sc5-<id>`) holds its PUBREL, written when
//! the PUBREC arrives; both go when the flow completes. `r-<id>` (`r5-<id>`)
//! holds an incoming QoS 2 PUBLISH, written before its PUBREC goes out and
//! removed on its PUBREL.

use std::collections::BTreeMap;

use bytes::BytesMut;

use super::{
    PUBLISH_RECEIVED, PUBLISH_RECEIVED_V5, PUBLISH_SENT, PUBLISH_SENT_V5, PUBREL, PUBREL_V5, Store,
    StoreError,
};
use crate::client::trace::{self, trace};
use crate::protocol::codec::{Packet, ProtocolVersion, PubResp, Publish, QoS, decode, encode};
use crate::protocol::session::inflight::OutState;

/// The key of the PUBLISH record of `id`.
pub fn publish_key(v5: bool, id: u16) -> String {
    let prefix = if v5 { PUBLISH_SENT_V5 } else { PUBLISH_SENT };
    format!("{prefix}{id}")
}

/// The key of the record of incoming QoS 2 PUBLISH `id`.
pub fn received_key(v5: bool, id: u16) -> String {
    let prefix = if v5 {
        PUBLISH_RECEIVED_V5
    } else {
        PUBLISH_RECEIVED
    };
    format!("{prefix}{id}")
}

/// The key of the PUBREL record of `id`.
pub fn pubrel_key(v5: bool, id: u16) -> String {
    let prefix = if v5 { PUBREL_V5 } else { PUBREL };
    format!("{prefix}{id}")
}

fn wire_version(v5: bool) -> ProtocolVersion {
    if v5 {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V311
    }
}

/// The PUBLISH record: the packet as first sent (DUP clear).
pub fn encode_publish(publish: &Publish, v5: bool) -> Result<Vec<u8>, StoreError> {
    let mut p = publish.clone();
    p.dup = false;
    let mut out = BytesMut::new();
    encode(&Packet::Publish(p), wire_version(v5), &mut out)
        .map_err(|e| StoreError::new(format!("cannot encode PUBLISH: {e:?}")))?;
    Ok(out.to_vec())
}

/// The PUBREL record of `id`.
pub fn encode_pubrel(id: u16, v5: bool) -> Result<Vec<u8>, StoreError> {
    let mut out = BytesMut::new();
    let rel = PubResp {
        packet_id: id,
        ..PubResp::default()
    };
    encode(&Packet::PubRel(rel), wire_version(v5), &mut out)
        .map_err(|e| StoreError::new(format!("cannot encode PUBREL: {e:?}")))?;
    Ok(out.to_vec())
}

/// Flows read back from a store, in packet id order.
#[derive(Debug, Default)]
pub struct Restored {
    pub entries: Vec<(Publish, OutState)>,
    /// Incoming QoS 2 flows: the id, and the message when it is still to
    /// be delivered (an MQTT 3.x `r-` record).
    pub incoming: Vec<(u16, Option<Publish>)>,
    /// Keys of damaged records that were skipped (and removed).
    pub skipped: Vec<String>,
}

/// One packet that fills `bytes` exactly, else None.
fn whole_packet(bytes: &[u8], v5: bool) -> Option<Packet> {
    let mut buf = BytesMut::from(bytes);
    match decode(&mut buf, wire_version(v5), 0) {
        Ok(Some(p)) if buf.is_empty() => Some(p),
        _ => None,
    }
}

/// What a record key names.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Publish,
    Pubrel,
    Received,
}

/// What kind of record a key names: (kind, is MQTT 5, packet id).
fn classify(key: &str) -> Option<(Kind, bool, Result<u16, ()>)> {
    let kinds = [
        (PUBREL_V5, Kind::Pubrel, true),
        (PUBREL, Kind::Pubrel, false),
        (PUBLISH_SENT_V5, Kind::Publish, true),
        (PUBLISH_SENT, Kind::Publish, false),
        (PUBLISH_RECEIVED_V5, Kind::Received, true),
        (PUBLISH_RECEIVED, Kind::Received, false),
    ];
    kinds.iter().find_map(|&(prefix, kind, v5)| {
        let id = key.strip_prefix(prefix)?;
        let id = id.parse::<u16>().ok().filter(|&i| i != 0).ok_or(());
        Some((kind, v5, id))
    })
}

/// Read every flow record of `store`. A damaged record (empty, cut short,
/// not the packet its key names, a bad id) is skipped with a trace line and
/// removed; other keys (Paho's command records) are left alone. Fails only
/// when the store cannot be listed.
pub fn restore(store: &mut dyn Store) -> Result<Restored, StoreError> {
    let mut publishes: BTreeMap<u16, Publish> = BTreeMap::new();
    let mut pubrels: BTreeMap<u16, ()> = BTreeMap::new();
    let mut received: BTreeMap<u16, Option<Publish>> = BTreeMap::new();
    let mut out = Restored::default();
    for key in store.keys()? {
        let Some((kind, v5, id)) = classify(&key) else {
            trace!(trace::MEDIUM, "persistence: {key} is not a flow record");
            continue;
        };
        let data = store.get(&key);
        if let Err(e) = &data {
            // Unreadable (or an afterRead callback refused it): left alone.
            trace!(trace::ERROR, "persistence: cannot read {key}: {e}");
            continue;
        }
        let good = match (&data, id) {
            (Ok(bytes), Ok(id)) => match whole_packet(bytes, v5) {
                Some(Packet::Publish(p))
                    if kind == Kind::Publish && p.packet_id == id && p.qos != QoS::AtMostOnce =>
                {
                    publishes.insert(id, p);
                    true
                }
                Some(Packet::Publish(p))
                    if kind == Kind::Received && p.packet_id == id && p.qos == QoS::ExactlyOnce =>
                {
                    received.insert(id, (!v5).then_some(p));
                    true
                }
                Some(Packet::PubRel(r)) if kind == Kind::Pubrel && r.packet_id == id => {
                    pubrels.insert(id, ());
                    true
                }
                _ => false,
            },
            _ => false,
        };
        if !good {
            let len = data.as_ref().map(|d| d.len()).unwrap_or(0);
            trace!(
                trace::ERROR,
                "persistence: skipping damaged record {key} ({len} bytes)"
            );
            let _ = store.remove(&key);
            out.skipped.push(key);
        }
    }
    let ids: std::collections::BTreeSet<u16> =
        publishes.keys().chain(pubrels.keys()).copied().collect();
    for id in ids {
        let released = pubrels.contains_key(&id);
        let entry = match publishes.remove(&id) {
            Some(p) if released && p.qos == QoS::ExactlyOnce => (p, OutState::AwaitPubComp),
            Some(p) if p.qos == QoS::AtLeastOnce => (p, OutState::AwaitPubAck),
            Some(p) => (p, OutState::AwaitPubRec),
            None => {
                // The PUBLISH record is gone but the PUBREL is not: the
                // flow only needs its PUBREL resent.
                let p = Publish {
                    qos: QoS::ExactlyOnce,
                    packet_id: id,
                    ..Publish::default()
                };
                (p, OutState::AwaitPubComp)
            }
        };
        out.entries.push(entry);
    }
    out.incoming = received.into_iter().collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::file::FileStore;
    use super::*;
    use bytes::Bytes;

    fn publish(id: u16, qos: QoS) -> Publish {
        Publish {
            qos,
            topic: "a/b".into(),
            packet_id: id,
            payload: Bytes::from_static(b"msg0"),
            ..Publish::default()
        }
    }

    #[test]
    fn records_are_the_bytes_paho_writes() {
        // As Debian's libpaho-mqtt3c writes them (see the persistence tests).
        let p = publish(1, QoS::AtLeastOnce);
        assert_eq!(
            encode_publish(&p, false).unwrap(),
            b"\x32\x0b\x00\x03a/b\x00\x01msg0"
        );
        assert_eq!(encode_pubrel(2, false).unwrap(), b"\x62\x02\x00\x02");
        assert_eq!(encode_pubrel(2, true).unwrap(), b"\x62\x02\x00\x02");
        assert_eq!(publish_key(false, 7), "s-7");
        assert_eq!(pubrel_key(true, 7), "sc5-7");
    }

    #[test]
    fn restore_resumes_each_flow_at_its_phase_and_skips_damage() {
        let t = tempfile::tempdir().unwrap();
        let mut s = FileStore::open(Some(t.path()), "id", "h:1").unwrap();
        let put = |s: &mut FileStore, k: &str, d: &[u8]| s.put(k, &[d]).unwrap();
        put(
            &mut s,
            "s-1",
            &encode_publish(&publish(1, QoS::AtLeastOnce), false).unwrap(),
        );
        put(
            &mut s,
            "s-2",
            &encode_publish(&publish(2, QoS::ExactlyOnce), false).unwrap(),
        );
        put(&mut s, "sc-2", &encode_pubrel(2, false).unwrap());
        put(
            &mut s,
            "s5-3",
            &encode_publish(&publish(3, QoS::ExactlyOnce), true).unwrap(),
        );
        put(&mut s, "sc-4", &encode_pubrel(4, false).unwrap());
        let good = encode_publish(&publish(5, QoS::AtLeastOnce), false).unwrap();
        put(&mut s, "s-5", &good[..good.len() - 2]); // torn
        put(&mut s, "s-6", b""); // empty
        put(&mut s, "s-7", b"\xff\xff\xff garbage");
        put(&mut s, "s-8", &good); // wrong id inside
        put(&mut s, "s-x", &good);
        put(&mut s, "c-1", b"a command");
        let r = restore(&mut s).unwrap();
        let got: Vec<(u16, OutState)> =
            r.entries.iter().map(|(p, st)| (p.packet_id, *st)).collect();
        assert_eq!(
            got,
            vec![
                (1, OutState::AwaitPubAck),
                (2, OutState::AwaitPubComp),
                (3, OutState::AwaitPubRec),
                (4, OutState::AwaitPubComp),
            ]
        );
        assert_eq!(r.entries[0].0.payload, Bytes::from_static(b"msg0"));
        assert_eq!(r.skipped, vec!["s-5", "s-6", "s-7", "s-8", "s-x"]);
        assert_eq!(
            s.keys().unwrap(),
            vec!["c-1", "s-1", "s-2", "s5-3", "sc-2", "sc-4"]
        );
    }

    #[test]
    fn incoming_records_are_read_back_and_damaged_ones_skipped() {
        let t = tempfile::tempdir().unwrap();
        let mut s = FileStore::open(Some(t.path()), "id", "h:1").unwrap();
        let q2 = |id| encode_publish(&publish(id, QoS::ExactlyOnce), false).unwrap();
        s.put(&received_key(false, 3), &[&q2(3)]).unwrap();
        let v5 = encode_publish(&publish(4, QoS::ExactlyOnce), true).unwrap();
        s.put(&received_key(true, 4), &[&v5]).unwrap();
        s.put("r-5", &[&q2(5)[..4]]).unwrap(); // torn
        let q1 = encode_publish(&publish(6, QoS::AtLeastOnce), false).unwrap();
        s.put("r-6", &[&q1]).unwrap(); // not QoS 2
        s.put("r-7", &[&q2(3)]).unwrap(); // wrong id inside
        let r = restore(&mut s).unwrap();
        let got: Vec<(u16, bool)> = r.incoming.iter().map(|(i, p)| (*i, p.is_some())).collect();
        // r- (MQTT 3) keeps its message: Paho delivers it on PUBREL.
        assert_eq!(got, vec![(3, true), (4, false)]);
        assert_eq!(r.incoming[0].1.as_ref().unwrap().payload, "msg0");
        assert_eq!(r.skipped, vec!["r-5", "r-6", "r-7"]);
        assert!(r.entries.is_empty());
        assert_eq!(s.keys().unwrap(), vec!["r-3", "r5-4"]);
    }
}
