//! Writing to the store file: a batch of operations applied in one durable
//! redb transaction, and the store's own thread that does it so that the
//! reactor never waits for the disk. Batches queued while one commits are
//! committed together (group commit); completion is counted, and the host
//! is told through `notify` so it releases the output that waited for it.

use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redb::Database;

use super::db::{DELIVERIES, RETAINED, SESSIONS};

/// One change to the file.
#[derive(Debug)]
pub(super) enum Op {
    PutRetained(String, Vec<u8>),
    DelRetained(String),
    PutSession(String, Vec<u8>),
    DelSession(String),
    PutDelivery(String, u64, Vec<u8>),
    DelDelivery(String, u64),
}

/// Applies `batches` in order in one transaction and commits it durably.
pub(super) fn apply(db: &Database, batches: &[Vec<Op>]) -> Result<(), redb::Error> {
    let txn = db.begin_write()?;
    {
        let mut rt = txn.open_table(RETAINED)?;
        let mut st = txn.open_table(SESSIONS)?;
        let mut dt = txn.open_table(DELIVERIES)?;
        for op in batches.iter().flatten() {
            match op {
                Op::PutRetained(k, v) => drop(rt.insert(k.as_str(), &v[..])?),
                Op::DelRetained(k) => drop(rt.remove(k.as_str())?),
                Op::PutSession(k, v) => drop(st.insert(k.as_str(), &v[..])?),
                Op::DelSession(k) => drop(st.remove(k.as_str())?),
                Op::PutDelivery(k, seq, v) => drop(dt.insert((k.as_str(), *seq), &v[..])?),
                Op::DelDelivery(k, seq) => drop(dt.remove((k.as_str(), *seq))?),
            }
        }
    }
    txn.commit()?;
    Ok(())
}

/// How far the thread got: the last batch id committed, or the error that
/// stopped it.
#[derive(Debug, Default)]
pub(super) struct Progress {
    pub committed: u64,
    pub error: Option<String>,
}

/// [`Progress`] with a condition variable signalled at each change.
#[derive(Debug, Default)]
pub struct Shared {
    state: Mutex<Progress>,
    changed: Condvar,
    /// A test seam: while set, the thread waits before each commit, as it
    /// would on a stalled disk.
    stalled: Mutex<bool>,
    unstalled: Condvar,
}

/// The longest a stall (the test seam) holds a commit back.
const STALL_MAX: Duration = Duration::from_secs(60);

impl Shared {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stall (or let go) the commits: a test seam standing for a slow disk.
    pub fn set_stalled(&self, on: bool) {
        *self.stalled.lock().unwrap_or_else(|e| e.into_inner()) = on;
        self.unstalled.notify_all();
    }

    /// Waits while the commits are stalled (at most `STALL_MAX`).
    fn wait_unstalled(&self) {
        let stalled = self.stalled.lock().unwrap_or_else(|e| e.into_inner());
        let _unused = self
            .unstalled
            .wait_timeout_while(stalled, STALL_MAX, |s| *s)
            .unwrap_or_else(|e| e.into_inner());
    }

    /// Waits until batch `id` is durable (true) or the thread failed or
    /// `timeout` passed (false).
    pub fn wait_committed(&self, id: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut p = self.lock();
        loop {
            if p.committed >= id {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if p.error.is_some() || left.is_zero() {
                return false;
            }
            p = self
                .changed
                .wait_timeout(p, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// The store's thread and the way to it.
pub(super) struct Writer {
    pub tx: Option<Sender<(u64, Vec<Op>)>>,
    pub progress: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread that owns `db`; `notify` runs after each commit
    /// (and after a failure).
    pub fn start(db: Database, notify: Box<dyn Fn() + Send>) -> std::io::Result<Writer> {
        let (tx, rx) = std::sync::mpsc::channel();
        let progress = Arc::new(Shared::default());
        let p = progress.clone();
        let thread = std::thread::Builder::new()
            .name("ferromq-store".into())
            .spawn(move || run(db, rx, p, notify))?;
        Ok(Writer {
            tx: Some(tx),
            progress,
            thread: Some(thread),
        })
    }
}

impl Drop for Writer {
    /// Lets the thread finish what was sent, then closes the file (a new
    /// broker may open it as soon as this returns).
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(
    db: Database,
    rx: Receiver<(u64, Vec<Op>)>,
    progress: Arc<Shared>,
    notify: Box<dyn Fn() + Send>,
) {
    while let Ok(first) = rx.recv() {
        // Everything queued while the last commit synced goes in this one.
        let mut last = first.0;
        let mut batches = vec![first.1];
        while let Ok((id, ops)) = rx.try_recv() {
            last = id;
            batches.push(ops);
        }
        progress.wait_unstalled();
        let result = apply(&db, &batches);
        let failed = {
            let mut p = progress.lock();
            match result {
                Ok(()) => p.committed = last,
                Err(e) => p.error = Some(e.to_string()),
            }
            p.error.is_some()
        };
        progress.changed.notify_all();
        notify();
        if failed {
            return;
        }
    }
}
