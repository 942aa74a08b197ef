//! The crash-safe broker store (`persistence true`): retained messages and
//! durable sessions kept in one redb file. The broker core stays sans-IO: it
//! only stages what changed (session ids, retained topics); once per reactor
//! turn the host turns the staged changes into one batch for the store's
//! thread, which commits it durably (batches that queue up meanwhile go in
//! one transaction: group commit), and holds that turn's output until then,
//! so no PUBACK/PUBREC leaves before the message it acknowledges is on disk
//! and the reactor never waits for the disk.

mod db;
mod record;
mod restore;
mod writer;

use foldhash::HashSet;
use std::sync::Arc;

pub use db::{Store, StoreError};
pub use restore::Restored;

use super::{Broker, ConnId};

/// What changed since the last commit (only while persistence is on).
#[derive(Debug, Default)]
pub(crate) struct Staging {
    /// Sessions whose state, queue or in-flight window may have changed.
    pub sessions: HashSet<Arc<str>>,
    /// Topics whose retained message was set or cleared.
    pub retained: HashSet<String>,
}

impl Broker {
    /// Notes that `cid`'s session may have changed (no-op without a store).
    #[inline]
    pub(super) fn stage_session(&mut self, cid: &Arc<str>) {
        if let Some(st) = self.staged.as_mut() {
            st.sessions.insert(cid.clone());
        }
    }

    /// Notes that the session attached to `conn` may have changed.
    #[inline]
    pub(super) fn stage_conn(&mut self, conn: ConnId) {
        if let Some(st) = self.staged.as_mut()
            && let Some(cid) = self.conns.get(&conn).and_then(|c| c.client_id.as_ref())
        {
            st.sessions.insert(cid.clone());
        }
    }

    /// Notes that the retained message of `topic` was set or cleared.
    #[inline]
    pub(super) fn stage_retained(&mut self, topic: &str) {
        if let Some(st) = self.staged.as_mut() {
            st.retained.insert(topic.to_string());
        }
    }

    /// True when a store is attached and has changes to commit.
    pub fn has_staged(&self) -> bool {
        self.staged
            .as_ref()
            .is_some_and(|s| !s.sessions.is_empty() || !s.retained.is_empty())
    }
}
