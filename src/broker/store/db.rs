//! The store file: redb (pure Rust, ACID, crash-safe through its own
//! copy-on-write commit protocol: a commit is durable when `commit` returns,
//! a torn one is rolled back on open). Three tables: retained messages by
//! topic, sessions by client id, deliveries by (client id, sequence number).
//! A mirror of what each session has on disk lets a commit write only the
//! deliveries that appeared or moved, and delete those that are gone.

use foldhash::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use redb::{Database, TableDefinition};

use super::super::Broker;
use super::super::message::Outgoing;
use super::super::session::Session;
use super::record::{self, Clock, SessionRecord, Stage, StoredWill};
use crate::protocol::codec::{Properties, PropertyId, QoS};

pub(super) const RETAINED: TableDefinition<&str, &[u8]> = TableDefinition::new("retained");
pub(super) const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
pub(super) const DELIVERIES: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("deliveries");

/// A store that cannot be opened, read or written; it names the file.
#[derive(Debug)]
pub struct StoreError {
    pub path: PathBuf,
    pub what: String,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broker store {}: {}", self.path.display(), self.what)
    }
}

impl std::error::Error for StoreError {}

impl From<StoreError> for io::Error {
    fn from(e: StoreError) -> io::Error {
        io::Error::other(e)
    }
}

/// What one session has on disk.
#[derive(Debug, Default)]
pub(super) struct Mirror {
    /// The session record as last written.
    pub meta: Vec<u8>,
    /// The next delivery sequence number.
    pub next_seq: u64,
    /// Stored deliveries: stage as written, and the commit that last saw it
    /// (0: read back at start).
    pub rows: HashMap<u64, (Stage, u64)>,
}

/// The open store file.
pub struct Store {
    pub(super) db: Database,
    pub(super) path: PathBuf,
    pub(super) mirror: HashMap<Arc<str>, Mirror>,
    /// Commits so far (marks the deliveries each one saw).
    generation: u64,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (or creates) the store file at `path`. A file that is not a
    /// store, or is damaged, is an error naming it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Database::create(path).map_err(|e| StoreError {
            path: path.to_path_buf(),
            what: format!("cannot open: {e}"),
        })?;
        Ok(Store {
            db,
            path: path.to_path_buf(),
            mirror: HashMap::default(),
            generation: 0,
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn err(&self, what: impl fmt::Display) -> StoreError {
        StoreError {
            path: self.path.clone(),
            what: what.to_string(),
        }
    }

    /// Writes what `broker` staged since the last commit in one durable
    /// transaction. Nothing staged: nothing written, no sync.
    pub fn commit(&mut self, broker: &mut Broker, now: Instant) -> Result<(), StoreError> {
        if !broker.has_staged() {
            return Ok(());
        }
        let Some(staged) = broker.staged.as_mut() else {
            return Ok(());
        };
        let sessions = std::mem::take(&mut staged.sessions);
        let retained = std::mem::take(&mut staged.retained);
        let clock = Clock::new(now);
        self.generation += 1;
        let generation = self.generation;
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut rt = txn.open_table(RETAINED).map_err(|e| self.err(e))?;
            for topic in &retained {
                let r = match broker.retained.get(topic) {
                    Some(m) => rt.insert(topic.as_str(), &record::retained(m, clock)[..]),
                    None => rt.remove(topic.as_str()),
                };
                r.map_err(|e| self.err(e))?;
            }
            let mut st = txn.open_table(SESSIONS).map_err(|e| self.err(e))?;
            let mut dt = txn.open_table(DELIVERIES).map_err(|e| self.err(e))?;
            for cid in &sessions {
                let session = broker
                    .sessions
                    .get_mut(cid)
                    .filter(|s| s.expiry != 0)
                    .map(|b| &mut **b);
                let Some(s) = session else {
                    // Gone or not durable: nothing of it may stay on disk.
                    if let Some(m) = self.mirror.remove(cid) {
                        st.remove(&**cid).map_err(|e| self.err(e))?;
                        for seq in m.rows.keys() {
                            dt.remove((&**cid, *seq)).map_err(|e| self.err(e))?;
                        }
                    }
                    continue;
                };
                let m = self.mirror.entry(cid.clone()).or_default();
                let meta = record::session(&session_record(s), clock);
                if meta != m.meta {
                    st.insert(&**cid, &meta[..])
                        .map_err(|e| err(&self.path, e))?;
                    m.meta = meta;
                }
                let mut put = |out: &mut Outgoing, stage: Stage| -> Result<(), redb::Error> {
                    if out.qos == QoS::AtMostOnce {
                        return Ok(());
                    }
                    if out.seq == 0 {
                        m.next_seq += 1;
                        out.seq = m.next_seq;
                    }
                    if m.rows.get(&out.seq).map(|r| r.0) != Some(stage) {
                        let v = record::delivery(stage, out, clock);
                        dt.insert((&**cid, out.seq), &v[..])?;
                    }
                    m.rows.insert(out.seq, (stage, generation));
                    Ok(())
                };
                for f in s.inflight.iter_mut() {
                    put(&mut f.out, Stage::Inflight(f.state, f.packet_id))
                        .map_err(|e| err(&self.path, e))?;
                }
                for out in s.queued_mut() {
                    put(out, Stage::Queued).map_err(|e| err(&self.path, e))?;
                }
                let mut gone = Vec::new();
                m.rows.retain(|seq, (_, g)| {
                    let keep = *g == generation;
                    if !keep {
                        gone.push(*seq);
                    }
                    keep
                });
                for seq in gone {
                    dt.remove((&**cid, seq)).map_err(|e| err(&self.path, e))?;
                }
            }
        }
        txn.commit().map_err(|e| self.err(e))
    }
}

fn err(path: &Path, e: impl fmt::Display) -> StoreError {
    StoreError {
        path: path.to_path_buf(),
        what: e.to_string(),
    }
}

/// A session's own state as the store keeps it.
fn session_record(s: &Session) -> SessionRecord {
    let will = s.will.as_ref().map(|w| {
        let mut properties = Properties::default();
        let mut delay = 0;
        for p in &w.properties.list {
            if p.id == PropertyId::WILL_DELAY_INTERVAL {
                if let crate::protocol::codec::PropertyValue::U32(d) = p.value {
                    delay = d;
                }
            } else {
                properties.list.push(p.clone());
            }
        }
        StoredWill {
            msg: super::super::message::Message {
                topic: w.topic.clone(),
                payload: w.payload.clone(),
                qos: w.qos,
                retain: w.retain,
                properties,
                expires_at: None,
                origin: None,
            },
            delay,
        }
    });
    let mut incoming_qos2: Vec<u16> = s.incoming_qos2.iter().copied().collect();
    incoming_qos2.sort_unstable();
    let mut subs: Vec<_> = s.subs.iter().map(|(f, e)| (f.clone(), *e)).collect();
    subs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    SessionRecord {
        expiry: s.expiry,
        expires_at: s.expires_at,
        will_at: s.will_at,
        will,
        incoming_qos2,
        subs,
    }
}
