//! Paho's `q-<seqno>` records (MQTT 5: `q5-<seqno>`): a received message
//! queued for the application. Paho C writes one when a message arrives
//! (after its PUBACK, or for QoS 2 its PUBREC, may have gone out) and
//! removes it once messageArrived returned true or MQTTClient_receive
//! handed it over; a process killed in between leaves it behind, and the
//! next create reads it back to deliver it.
//!
//! Layout, host byte order: payloadlen (int32), payload, qos, retained,
//! dup, msgid (int32 each), the topic with its NUL, topicLen (int32); a
//! `q5-` record then holds the MQTT 5 property list (length prefix first).
//! Debian's Paho C 1.3.12 writes `q-` records only: its MQTT 5 write path
//! gives up before storing anything.
//!
//! Our client writes none: it acknowledges a message only once the
//! application has it (see `client/receipt.rs`). It reads Paho's back,
//! delivers them first after connect and removes each once handed over.

use bytes::Bytes;

use super::{Store, StoreError};
use crate::client::core::Core;
use crate::client::trace::{self, trace};
use crate::protocol::codec::{Properties, Publish, QoS, decode_publish_properties};

/// Key prefix of a received message queued for the application (MQTT 3.x).
pub const QUEUE: &str = "q-";
/// Key prefix of a received message queued for the application (MQTT 5).
pub const QUEUE_V5: &str = "q5-";

/// One record read back: its key and its message.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub key: String,
    pub publish: Publish,
}

/// The sequence number and version of a queue record key.
fn classify(key: &str) -> Option<(bool, Option<u32>)> {
    let (v5, rest) = if let Some(r) = key.strip_prefix(QUEUE_V5) {
        (true, r)
    } else {
        (false, key.strip_prefix(QUEUE)?)
    };
    Some((v5, rest.parse::<u32>().ok()))
}

/// Reads host-order fields off the front of a record.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn int(&mut self) -> Option<i32> {
        let b = self.take(4)?;
        Some(i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn flag(&mut self) -> Option<bool> {
        match self.int()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

/// The message a record holds, or None when it is damaged (cut short,
/// a field out of range, bytes left over).
pub fn decode_entry(bytes: &[u8], v5: bool) -> Option<Publish> {
    let mut f = Fields(bytes);
    let len = usize::try_from(f.int()?).ok()?;
    let payload = Bytes::copy_from_slice(f.take(len)?);
    let qos = match f.int()? {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        2 => QoS::ExactlyOnce,
        _ => return None,
    };
    let retain = f.flag()?;
    let dup = f.flag()?;
    let packet_id = u16::try_from(f.int()?).ok()?;
    let nul = f.0.iter().position(|&b| b == 0)?;
    let topic = std::str::from_utf8(f.take(nul)?).ok()?.to_owned();
    f.take(1)?;
    let topic_len = usize::try_from(f.int()?).ok()?;
    if topic.is_empty() || topic_len < topic.len() {
        return None;
    }
    let properties = if v5 {
        decode_publish_properties(Bytes::copy_from_slice(f.0)).ok()?
    } else if f.0.is_empty() {
        Properties::default()
    } else {
        return None;
    };
    Some(Publish {
        topic,
        payload,
        qos,
        retain,
        dup,
        packet_id,
        properties,
    })
}

/// A record in Paho's layout (for tests, and for stores we write for Paho).
pub fn encode_entry(p: &Publish, v5: bool) -> Result<Vec<u8>, StoreError> {
    let int = |v: usize| {
        i32::try_from(v)
            .map(i32::to_ne_bytes)
            .map_err(|_| StoreError::new("queued message too large"))
    };
    let mut out = Vec::with_capacity(p.payload.len() + p.topic.len() + 32);
    out.extend_from_slice(&int(p.payload.len())?);
    out.extend_from_slice(&p.payload);
    out.extend_from_slice(&(p.qos as i32).to_ne_bytes());
    out.extend_from_slice(&i32::from(p.retain).to_ne_bytes());
    out.extend_from_slice(&i32::from(p.dup).to_ne_bytes());
    out.extend_from_slice(&i32::from(p.packet_id).to_ne_bytes());
    out.extend_from_slice(p.topic.as_bytes());
    out.push(0);
    out.extend_from_slice(&int(p.topic.len())?);
    if v5 {
        let mut props = bytes::BytesMut::new();
        crate::protocol::codec::encode_publish_properties(&p.properties, &mut props)
            .map_err(|e| StoreError::new(format!("cannot encode properties: {e:?}")))?;
        out.extend_from_slice(&props);
    }
    Ok(out)
}

/// Every queue record of `store` in sequence order, and the keys of the
/// damaged ones, which are skipped with a trace line and removed.
/// Fails only when the store cannot be listed.
pub fn restore(store: &mut dyn Store) -> Result<(Vec<Queued>, Vec<String>), StoreError> {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for key in store.keys()? {
        let Some((v5, seqno)) = classify(&key) else {
            continue;
        };
        let data = match store.get(&key) {
            Ok(d) => d,
            Err(e) => {
                trace!(trace::ERROR, "persistence: cannot read {key}: {e}");
                continue;
            }
        };
        match (seqno, decode_entry(&data, v5)) {
            (Some(seqno), Some(publish)) => found.push((seqno, Queued { key, publish })),
            _ => {
                trace!(
                    trace::ERROR,
                    "persistence: skipping damaged record {key} ({} bytes)",
                    data.len()
                );
                let _ = store.remove(&key);
                skipped.push(key);
            }
        }
    }
    found.sort_by_key(|(seqno, _)| *seqno);
    Ok((found.into_iter().map(|(_, q)| q).collect(), skipped))
}

impl Core {
    /// Connected: the messages an earlier run had received but not handed
    /// to the application, in their order, with their record keys. Each
    /// record goes once the application has its message.
    pub fn take_restored_queue(&mut self) -> Vec<(String, Publish)> {
        let Some(cs) = self.store.as_mut() else {
            return Vec::new();
        };
        std::mem::take(&mut cs.restored_queue)
            .into_iter()
            .map(|q| (q.key, q.publish))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::file::FileStore;
    use super::*;
    use crate::protocol::codec::{PropertyId, PropertyValue};

    fn message(payload: &str, qos: QoS, id: u16) -> Publish {
        Publish {
            topic: "t/q".into(),
            payload: Bytes::copy_from_slice(payload.as_bytes()),
            qos,
            packet_id: id,
            ..Publish::default()
        }
    }

    #[test]
    fn the_record_paho_c_1_3_12_left_is_read() {
        // q-1.msg as Debian's libpaho-mqtt3c left it when killed inside
        // messageArrived (tests/c/persist_queue.c, MQTT 3.1.1, QoS 1).
        let paho: &[u8] = b"\x06\x00\x00\x00hello4\x01\x00\x00\x00\x00\x00\x00\x00\
            \x00\x00\x00\x00\x01\x00\x00\x00t/q\x00\x03\x00\x00\x00";
        let want = message("hello4", QoS::AtLeastOnce, 1);
        assert_eq!(decode_entry(paho, false), Some(want.clone()));
        assert_eq!(encode_entry(&want, false).unwrap(), paho);
    }

    #[test]
    fn mqtt5_records_keep_their_properties() {
        let mut p = message("five", QoS::ExactlyOnce, 9);
        p.properties.push(
            PropertyId::USER_PROPERTY,
            PropertyValue::Pair("k".into(), "v".into()),
        );
        let rec = encode_entry(&p, true).unwrap();
        assert_eq!(decode_entry(&rec, true), Some(p));
        assert_eq!(decode_entry(&rec, false), None, "properties left over");
    }

    #[test]
    fn damaged_records_are_refused() {
        let good = encode_entry(&message("x", QoS::AtLeastOnce, 1), false).unwrap();
        for cut in 0..good.len() {
            assert_eq!(decode_entry(&good[..cut], false), None, "cut at {cut}");
        }
        let mut bad_qos = good.clone();
        bad_qos[5] = 3;
        assert_eq!(decode_entry(&bad_qos, false), None);
        let mut huge = good.clone();
        huge[..4].copy_from_slice(&(-1i32).to_ne_bytes());
        assert_eq!(decode_entry(&huge, false), None);
    }

    #[test]
    fn restore_orders_by_seqno_and_skips_damage() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = FileStore::open(Some(dir.path()), "c", "h:1").unwrap();
        let rec = |p: &str| encode_entry(&message(p, QoS::AtLeastOnce, 1), false).unwrap();
        s.put("q-10", &[&rec("ten")]).unwrap();
        s.put("q-9", &[&rec("nine")]).unwrap();
        s.put("q-11", &[b""]).unwrap(); // empty: a crash mid-write
        s.put("q-x", &[&rec("bad key")]).unwrap();
        s.put("s-1", &[b"not a queue record"]).unwrap();
        let (got, skipped) = restore(&mut s).unwrap();
        let payloads: Vec<_> = got.iter().map(|q| q.publish.payload.clone()).collect();
        assert_eq!(payloads, vec![&b"nine"[..], &b"ten"[..]]);
        assert_eq!(skipped.len(), 2);
        let mut keys = s.keys().unwrap();
        keys.sort();
        assert_eq!(keys, vec!["q-10", "q-9", "s-1"]);
    }
}
