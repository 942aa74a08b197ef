//! The records Paho C keeps for outgoing QoS 1/2 publishes, and reading a
//! store back. `s-<id>` (MQTT 5: `s5-<id>`) holds the PUBLISH as it went on
//! the wire (DUP clear); `sc-<id>` (`sc5-<id>`) holds the PUBREL, written when
//! the PUBREC arrives; both go when the flow completes.

use std::collections::BTreeMap;

use bytes::BytesMut;

use super::{PUBLISH_SENT, PUBLISH_SENT_V5, PUBREL, PUBREL_V5, Store, StoreError};
use crate::client::trace::{self, trace};
use crate::protocol::codec::{Packet, ProtocolVersion, PubResp, Publish, QoS, decode, encode};
use crate::protocol::session::inflight::OutState;

/// The key of the PUBLISH record of `id`.
pub fn publish_key(v5: bool, id: u16) -> String {
    let prefix = if v5 { PUBLISH_SENT_V5 } else { PUBLISH_SENT };
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

/// Outgoing flows read back from a store, in packet id order.
#[derive(Debug, Default)]
pub struct Restored {
    pub entries: Vec<(Publish, OutState)>,
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

/// What kind of record a key names: (is PUBLISH, is MQTT 5, packet id).
fn classify(key: &str) -> Option<(bool, bool, Result<u16, ()>)> {
    let kinds = [
        (PUBREL_V5, false, true),
        (PUBREL, false, false),
        (PUBLISH_SENT_V5, true, true),
        (PUBLISH_SENT, true, false),
    ];
    kinds.iter().find_map(|&(prefix, publish, v5)| {
        let id = key.strip_prefix(prefix)?;
        let id = id.parse::<u16>().ok().filter(|&i| i != 0).ok_or(());
        Some((publish, v5, id))
    })
}

/// Read every outgoing-flow record of `store`. A damaged record (empty, cut
/// short, not the packet its key names, a bad id) is skipped with a trace
/// line and removed; other keys (Paho's command and inbound records) are
/// left alone. Fails only when the store cannot be listed.
pub fn restore(store: &mut dyn Store) -> Result<Restored, StoreError> {
    let mut publishes: BTreeMap<u16, Publish> = BTreeMap::new();
    let mut pubrels: BTreeMap<u16, ()> = BTreeMap::new();
    let mut out = Restored::default();
    for key in store.keys()? {
        let Some((is_publish, v5, id)) = classify(&key) else {
            trace!(trace::MEDIUM, "persistence: record {key} is not resumed");
            continue;
        };
        let data = store.get(&key);
        let good = match (&data, id) {
            (Ok(bytes), Ok(id)) => match whole_packet(bytes, v5) {
                Some(Packet::Publish(p))
                    if is_publish && p.packet_id == id && p.qos != QoS::AtMostOnce =>
                {
                    publishes.insert(id, p);
                    true
                }
                Some(Packet::PubRel(r)) if !is_publish && r.packet_id == id => {
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
}
