//! Deadlines: connect timeout and keepalive per connection, delayed wills
//! and session expiry per session, the `$SYS` publication, kept in one lazy min-heap (stale entries
//! are checked against the current state when they come due).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::connection::Phase;
use super::{Broker, ConnId, DisconnectCause};
use crate::protocol::codec::ReasonCode;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// Connect timeout or keepalive of a connection.
    Conn(ConnId),
    /// A delayed will of an offline session.
    Will(Arc<str>),
    /// Expiry of an offline session.
    Expiry(Arc<str>),
    /// The next `$SYS` publication.
    Sys,
    /// The slow-consumer deadline of a full online session.
    SlowConsumer(Arc<str>),
}

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, Timer)>>,
}

impl Timers {
    pub fn push(&mut self, at: Instant, timer: Timer) {
        self.heap.push(Reverse((at, timer)));
    }

    fn pop_due(&mut self, now: Instant) -> Option<(Instant, Timer)> {
        if self.heap.peek().is_some_and(|Reverse((at, _))| *at <= now) {
            self.heap.pop().map(|Reverse(e)| e)
        } else {
            None
        }
    }

    fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }
}

impl Broker {
    /// The earliest instant `handle_timeout` has something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Runs every deadline that is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, timer)) = self.timers.pop_due(now) {
            match timer {
                Timer::Conn(id) => self.conn_timer(id, at, now),
                Timer::Will(cid) => {
                    let due = self
                        .sessions
                        .get(&cid)
                        .is_some_and(|s| s.conn.is_none() && s.will_at.is_some_and(|t| t <= now));
                    if due {
                        self.publish_session_will(&cid, now);
                    }
                }
                Timer::Sys => self.sys_update(now),
                Timer::SlowConsumer(cid) => self.slow_consumer_due(&cid, now),
                Timer::Expiry(cid) => {
                    let due = self.sessions.get(&cid).is_some_and(|s| {
                        s.conn.is_none() && s.expires_at.is_some_and(|t| t <= now)
                    });
                    if due {
                        self.end_session(&cid, now);
                    }
                }
            }
        }
        self.settle(now);
    }

    /// Schedules the connection's timer entry at `at`.
    pub(super) fn schedule_conn(&mut self, conn: ConnId, at: Instant) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.timer_at = Some(at);
            self.timers.push(at, Timer::Conn(conn));
        }
    }

    fn conn_timer(&mut self, conn: ConnId, at: Instant, now: Instant) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if c.timer_at != Some(at) || c.is_closed() {
            return;
        }
        let deadline = match c.phase {
            Phase::AwaitConnect | Phase::Authenticating { host: false, .. } => {
                Some(c.last_rx + self.config.limits.connect_timeout)
            }
            Phase::AwaitDecision { .. } | Phase::Authenticating { .. } | Phase::Closed => None,
            Phase::Connected if c.keep_alive == 0 => None,
            // Not read while paused by flow control: its silence is ours.
            Phase::Connected if c.flow_on.is_some() => {
                Some(now + Duration::from_secs(u64::from(c.keep_alive)))
            }
            Phase::Connected => {
                let ms = u64::from(c.keep_alive)
                    * u64::from(self.config.limits.keepalive_factor_pct)
                    * 10;
                Some(c.last_rx + Duration::from_millis(ms))
            }
        };
        match deadline {
            Some(d) if d <= now => self.close_conn(
                conn,
                DisconnectCause::KeepAliveTimeout,
                Some(ReasonCode::KEEP_ALIVE_TIMEOUT),
                now,
            ),
            Some(d) => self.schedule_conn(conn, d),
            None => {}
        }
    }
}
