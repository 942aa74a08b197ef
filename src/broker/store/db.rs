//! The store file: redb (pure Rust, ACID, crash-safe through its own
//! copy-on-write commit protocol: a commit is durable when `commit` returns,
//! a torn one is rolled back on open). Three tables: retained messages by
//! topic, sessions by client id, deliveries by (client id, sequence number).
//! A mirror of what each session has on disk lets a batch write only the
//! deliveries that appeared or moved, and delete those that are gone. The
//! batches are prepared on the reactor (they read the broker) and written by
//! the store's thread (writer.rs).

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
use super::super::timers::Stamp;
use super::record::{self, Clock, SessionRecord, Stage, StoredWill};
use super::writer::{self, Op};
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
    /// The file, until `start` hands it to the store's thread.
    pub(super) db: Option<Database>,
    pub(super) path: PathBuf,
    pub(super) mirror: HashMap<Arc<str>, Mirror>,
    /// Batches prepared so far (marks the deliveries each one saw).
    generation: u64,
    /// Batch ids handed to the store's thread so far.
    submitted: u64,
    writer: Option<writer::Writer>,
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
            db: Some(db),
            path: path.to_path_buf(),
            mirror: HashMap::default(),
            generation: 0,
            submitted: 0,
            writer: None,
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
    /// transaction, on this thread (before `start`; tests and tools).
    /// Nothing staged: nothing written, no sync.
    pub fn commit(&mut self, broker: &mut Broker, now: Instant) -> Result<(), StoreError> {
        let ops = self.prepare(broker, now);
        if ops.is_empty() {
            return Ok(());
        }
        let Some(db) = self.db.as_ref() else {
            return Err(self.err("the store's thread owns the file"));
        };
        writer::apply(db, &[ops]).map_err(|e| self.err(e))
    }

    /// Hands the file to the store's own thread; `notify` runs after each
    /// of its commits. From here on changes go through `submit`.
    pub fn start(&mut self, notify: Box<dyn Fn() + Send>) -> Result<(), StoreError> {
        let Some(db) = self.db.take() else {
            return Ok(());
        };
        self.writer = Some(writer::Writer::start(db, notify).map_err(|e| self.err(e))?);
        Ok(())
    }

    /// Queues what `broker` staged as the next batch for the store's
    /// thread; its id (output produced now must wait until `committed()`
    /// reaches it), or the last id handed out when nothing was staged.
    pub fn submit(&mut self, broker: &mut Broker, now: Instant) -> Result<u64, StoreError> {
        if let Some(e) = self.failure() {
            return Err(self.err(e));
        }
        let ops = self.prepare(broker, now);
        if ops.is_empty() {
            return Ok(self.submitted);
        }
        let tx = self.writer.as_ref().and_then(|w| w.tx.as_ref());
        let sent = tx.is_some_and(|tx| tx.send((self.submitted + 1, ops)).is_ok());
        if !sent {
            return Err(self.err("the store's thread has stopped"));
        }
        self.submitted += 1;
        Ok(self.submitted)
    }

    /// The last batch id the store's thread has made durable.
    pub fn committed(&self) -> u64 {
        self.writer
            .as_ref()
            .map_or(self.submitted, |w| w.progress.lock().committed)
    }

    /// What to wait on for a batch to be durable (after `start`).
    pub fn progress(&self) -> Option<Arc<writer::Shared>> {
        self.writer.as_ref().map(|w| w.progress.clone())
    }

    /// Why the store's thread stopped, if it did.
    pub fn failure(&self) -> Option<String> {
        self.writer.as_ref()?.progress.lock().error.clone()
    }

    /// The operations that bring the file up to what `broker` staged.
    fn prepare(&mut self, broker: &mut Broker, now: Instant) -> Vec<Op> {
        let mut ops = Vec::new();
        if !broker.has_staged() {
            return ops;
        }
        let Some(staged) = broker.staged.as_mut() else {
            return ops;
        };
        let sessions = std::mem::take(&mut staged.sessions);
        let retained = std::mem::take(&mut staged.retained);
        let clock = Clock::new(now);
        self.generation += 1;
        let generation = self.generation;
        for topic in retained {
            match broker.retained.get(&topic) {
                Some(m) => {
                    let v = record::retained(m, clock);
                    ops.push(Op::PutRetained(topic, v));
                }
                None => ops.push(Op::DelRetained(topic)),
            }
        }
        for cid in &sessions {
            let session = broker
                .sessions
                .get_mut(cid)
                .filter(|s| s.expiry != 0)
                .map(|b| &mut **b);
            let Some(s) = session else {
                // Gone or not durable: nothing of it may stay on disk.
                if let Some(m) = self.mirror.remove(cid) {
                    ops.push(Op::DelSession(cid.to_string()));
                    for seq in m.rows.keys() {
                        ops.push(Op::DelDelivery(cid.to_string(), *seq));
                    }
                }
                continue;
            };
            let m = self.mirror.entry(cid.clone()).or_default();
            let meta = record::session(&session_record(s), clock);
            if meta != m.meta {
                ops.push(Op::PutSession(cid.to_string(), meta.clone()));
                m.meta = meta;
            }
            let mut put = |out: &mut Outgoing, stage: Stage| {
                if out.qos == QoS::AtMostOnce {
                    return;
                }
                if out.seq == 0 {
                    m.next_seq += 1;
                    out.seq = m.next_seq;
                }
                if m.rows.get(&out.seq).map(|r| r.0) != Some(stage) {
                    let v = record::delivery(stage, out, clock);
                    ops.push(Op::PutDelivery(cid.to_string(), out.seq, v));
                }
                m.rows.insert(out.seq, (stage, generation));
            };
            for f in s.inflight.iter_mut() {
                put(&mut f.out, Stage::Inflight(f.state, f.packet_id));
            }
            for out in s.queued_mut() {
                put(out, Stage::Queued);
            }
            m.rows.retain(|seq, (_, g)| {
                let keep = *g == generation;
                if !keep {
                    ops.push(Op::DelDelivery(cid.to_string(), *seq));
                }
                keep
            });
        }
        ops
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
        expires_at: s.expires_at.map(Stamp::instant),
        will_at: s.will_at.map(Stamp::instant),
        will,
        incoming_qos2,
        subs,
    }
}
