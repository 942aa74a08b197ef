//! Reading the store back into a new broker at start: retained messages,
//! then each durable session with its subscriptions, in-flight window (with
//! packet ids and QoS 2 phase), queue (in order), inbound QoS 2 ids and
//! will. Every session comes back offline, as after a lost connection: its
//! will is due (after its delay) and its expiry runs from now.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redb::ReadableTable;

use super::super::Broker;
use super::super::message::Outgoing;
use super::super::session::{Inflight, NEVER, Session};
use super::super::timers::Timer;
use super::super::topics::split_shared;
use super::db::{DELIVERIES, Mirror, RETAINED, SESSIONS, Store, StoreError};
use super::record::{self, Clock, Stage};
use crate::protocol::codec::{Property, PropertyId, PropertyValue, Will};

/// What was read back.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    pub retained: usize,
    pub sessions: usize,
    pub messages: usize,
}

impl Store {
    /// Loads the store into `broker` (which must be new) and turns staging
    /// on. A value that does not decode stops here with an error naming the
    /// file and the key: nothing is skipped silently.
    pub fn restore(&mut self, broker: &mut Broker, now: Instant) -> Result<Restored, StoreError> {
        let clock = Clock::new(now);
        let mut done = Restored::default();
        let Some(db) = self.db.as_ref() else {
            return Err(self.err("the store was already read"));
        };
        let txn = db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut rt = txn.open_table(RETAINED).map_err(|e| self.err(e))?;
            let mut expired = Vec::new();
            for row in rt.iter().map_err(|e| self.err(e))? {
                let (k, v) = row.map_err(|e| self.err(e))?;
                let msg = record::read_retained(v.value(), clock).map_err(|e| {
                    self.err(format!(
                        "retained message '{}' is damaged: {}",
                        k.value(),
                        e.0
                    ))
                })?;
                if msg.expired(now) {
                    expired.push(k.value().to_string());
                    continue;
                }
                broker.retained.store(&Arc::new(msg));
                done.retained += 1;
            }
            for topic in expired {
                rt.remove(topic.as_str()).map_err(|e| self.err(e))?;
            }
            let st = txn.open_table(SESSIONS).map_err(|e| self.err(e))?;
            let dt = txn.open_table(DELIVERIES).map_err(|e| self.err(e))?;
            for row in st.iter().map_err(|e| self.err(e))? {
                let (k, v) = row.map_err(|e| self.err(e))?;
                let cid = k.value();
                let damaged = |what: &str| self.err(format!("session '{cid}' is damaged: {what}"));
                let rec = record::read_session(v.value(), clock).map_err(|e| damaged(e.0))?;
                let mut mirror = Mirror {
                    meta: v.value().to_vec(),
                    ..Mirror::default()
                };
                let mut deliveries: Vec<(u64, Stage, Outgoing)> = Vec::new();
                for row in dt
                    .range((cid, 0)..=(cid, u64::MAX))
                    .map_err(|e| self.err(e))?
                {
                    let (k, v) = row.map_err(|e| self.err(e))?;
                    let seq = k.value().1;
                    let (stage, mut out) =
                        record::read_delivery(v.value(), clock).map_err(|e| damaged(e.0))?;
                    out.seq = seq;
                    mirror.next_seq = mirror.next_seq.max(seq);
                    mirror.rows.insert(seq, (stage, 0));
                    deliveries.push((seq, stage, out));
                }
                done.messages += deliveries.len();
                done.sessions += 1;
                let cid: Arc<str> = cid.into();
                install(broker, &cid, rec, deliveries, now);
                self.mirror.insert(cid, mirror);
            }
        }
        txn.commit().map_err(|e| self.err(e))?;
        broker.staged = Some(Box::default());
        Ok(done)
    }
}

/// Puts one stored session into the broker, offline.
fn install(
    broker: &mut Broker,
    cid: &Arc<str>,
    rec: record::SessionRecord,
    mut deliveries: Vec<(u64, Stage, Outgoing)>,
    now: Instant,
) {
    let mut s = Box::new(Session::new(cid.clone()));
    s.expiry = rec.expiry;
    s.incoming_qos2 = rec.incoming_qos2.into_iter().collect();
    for (filter, entry) in rec.subs {
        let (group, inner) = split_shared(&filter);
        broker.trie.insert(inner, group, cid, entry);
        broker.stats.subscriptions += 1;
        s.subs.insert(filter, entry);
    }
    deliveries.sort_unstable_by_key(|d| d.0);
    for (_, stage, out) in deliveries {
        match stage {
            Stage::Queued => s.push_queued(out),
            Stage::Inflight(state, packet_id) => s.inflight.push_back(Inflight {
                packet_id,
                out,
                state,
            }),
        }
    }
    if let Some(w) = rec.will {
        let mut properties = w.msg.properties;
        if w.delay > 0 {
            properties.list.push(Property {
                id: PropertyId::WILL_DELAY_INTERVAL,
                value: PropertyValue::U32(w.delay),
            });
        }
        let at = rec
            .will_at
            .unwrap_or_else(|| now + Duration::from_secs(u64::from(w.delay.min(rec.expiry))));
        s.will = Some(Box::new(Will {
            topic: w.msg.topic,
            payload: w.msg.payload,
            qos: w.msg.qos,
            retain: w.msg.retain,
            properties,
        }));
        s.will_at = Some(at.into());
        broker.timers.push(at, Timer::Will(cid.clone()));
    }
    let expiry = match (s.expiry, broker.config.limits.persistent_client_expiration) {
        (NEVER, Some(d)) => Some(d),
        (NEVER, None) => None,
        (secs, _) => Some(Duration::from_secs(u64::from(secs))),
    };
    let at = rec.expires_at.or_else(|| expiry.map(|d| now + d));
    if let Some(at) = at {
        s.expires_at = Some(at.into());
        broker.timers.push(at, Timer::Expiry(cid.clone()));
    }
    broker.sessions.insert(cid.clone(), s);
}
