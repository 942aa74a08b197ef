//! Flow control for online subscribers: a session whose queue is full pauses
//! the connections publishing into it (their input is held, and the reactor
//! stops reading them, so TCP pushes back) until the queue drains to half.
//! Pausing never closes a cycle: a connection is not paused on a session
//! that only it, directly or through other paused connections, can drain
//! (a client feeding itself, two clients feeding each other); there the
//! queue grows past its mark instead (QoS 0 is dropped and counted). A queue
//! that stays full longer than `slow_consumer_timeout` ends its connection.

use foldhash::HashSet;
use std::sync::Arc;
use std::time::Instant;

use super::timers::Timer;
use super::{Broker, ConnId, DisconnectCause};
use crate::protocol::codec::ReasonCode;

impl Broker {
    /// After a message published by client `origin` was handed to the
    /// online session `cid`: if its queue is full, starts the slow-consumer
    /// clock and pauses the publisher's connection. False when the queue is
    /// full and that could not be done (no connection: the host, a will; or
    /// pausing it could deadlock).
    pub(super) fn flow_check(
        &mut self,
        cid: &Arc<str>,
        origin: Option<&Arc<str>>,
        now: Instant,
    ) -> bool {
        let limits = &self.config.limits;
        let Some(s) = self.sessions.get_mut(cid) else {
            return false;
        };
        if !s.is_full(limits) {
            return true;
        }
        let Some(sub) = s.conn else {
            return false;
        };
        if s.full_since().is_none() {
            s.flow_mut().full_since = Some(now);
            if let Some(t) = limits.slow_consumer_timeout {
                self.timers.push(now + t, Timer::SlowConsumer(cid.clone()));
            }
        }
        let Some(from) = origin
            .and_then(|o| self.sessions.get(o))
            .and_then(|s| s.conn)
        else {
            self.cap(cid, now);
            return false;
        };
        if self.waits_on(sub, from) {
            self.cap(cid, now);
            return false;
        }
        let (Some(s), Some(c)) = (self.sessions.get_mut(cid), self.conns.get_mut(&from)) else {
            return false;
        };
        let waits = c.flow_on.get_or_insert_with(Box::default);
        if !waits.iter().any(|t| Arc::ptr_eq(t, cid)) {
            waits.push(cid.clone());
            s.flow_mut().blocked_pubs.push(from);
            self.stats.flow_pauses += 1;
        }
        true
    }

    /// A queue no publisher can be paused for still has a bound: past
    /// `HARD_CAP` times its limits, the slow-consumer check runs now.
    fn cap(&mut self, cid: &Arc<str>, now: Instant) {
        let limits = &self.config.limits;
        let Some(s) = self.sessions.get_mut(cid) else {
            return;
        };
        if s.is_over_cap(limits) && !s.flow.as_ref().is_some_and(|f| f.capped) {
            s.flow_mut().capped = true;
            self.timers.push(now, Timer::SlowConsumer(cid.clone()));
        }
    }

    /// True when `conn` is `target`, or is paused on a session whose
    /// connection is (transitively) paused on one `target` must drain.
    fn waits_on(&self, conn: ConnId, target: ConnId) -> bool {
        let mut stack = vec![conn];
        let mut seen = HashSet::default();
        while let Some(c) = stack.pop() {
            if c == target {
                return true;
            }
            if !seen.insert(c) {
                continue;
            }
            let Some(cc) = self.conns.get(&c) else {
                continue;
            };
            for t in cc.flow_on.iter().flat_map(|v| v.iter()) {
                if let Some(next) = self.sessions.get(t).and_then(|s| s.conn) {
                    stack.push(next);
                }
            }
        }
        false
    }

    /// Lets the publishers paused on `cid` go once its queue has drained to
    /// half (or at once with `force`: the subscriber went offline).
    pub(super) fn flow_release(&mut self, cid: &Arc<str>, force: bool) {
        let Some(s) = self.sessions.get_mut(cid) else {
            return;
        };
        let Some(f) = s.flow.as_mut() else {
            return;
        };
        if f.full_since.is_none() && f.blocked_pubs.is_empty() {
            return;
        }
        if !force && !s.is_drained(&self.config.limits) {
            return;
        }
        let f = s.flow_mut();
        f.full_since = None;
        f.capped = false;
        let pubs = std::mem::take(&mut f.blocked_pubs);
        s.tidy_flow();
        for pubc in pubs {
            let Some(c) = self.conns.get_mut(&pubc) else {
                continue;
            };
            if let Some(waits) = c.flow_on.as_mut() {
                waits.retain(|t| !Arc::ptr_eq(t, cid));
                if waits.is_empty() {
                    c.flow_on = None;
                    self.unblocked.push(pubc);
                }
            }
        }
    }

    /// Feeds the held-back input of connections released since the last
    /// call (in release order). Every input entry point ends with it.
    pub(super) fn settle(&mut self, now: Instant) {
        while !self.unblocked.is_empty() {
            for conn in std::mem::take(&mut self.unblocked) {
                self.resume(conn, now);
                self.mark_dirty(conn);
            }
        }
    }

    /// The host's word on whether `conn`'s written output piles up. While it
    /// does, nothing more moves from its session's queue to it and QoS 0 is
    /// queued (so the queue limits and the pauses above apply to it too).
    pub fn handle_congestion(&mut self, conn: ConnId, congested: bool, now: Instant) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.congested = congested;
        if !congested && let Some(cid) = c.client_id.clone() {
            self.pump(&cid, now);
            self.mark_dirty(conn);
        }
        self.settle(now);
    }

    /// The slow-consumer deadline of `cid` came: still full since then?
    pub(super) fn slow_consumer_due(&mut self, cid: &Arc<str>, now: Instant) {
        let t = self
            .config
            .limits
            .slow_consumer_timeout
            .unwrap_or(std::time::Duration::MAX);
        let Some(s) = self.sessions.get(cid) else {
            return;
        };
        let (Some(conn), Some(since)) = (s.conn, s.full_since()) else {
            return;
        };
        let capped = s.flow.as_ref().is_some_and(|f| f.capped);
        if since.checked_add(t).is_some_and(|due| due > now) && !capped {
            return;
        }
        // A bridge's internal session is as slow as its remote: never cut.
        if super::bridge::local::is_internal(conn) {
            return;
        }
        self.stats.slow_consumers += 1;
        self.close_conn(
            conn,
            DisconnectCause::SlowConsumer,
            Some(ReasonCode::QUOTA_EXCEEDED),
            now,
        );
    }
}
