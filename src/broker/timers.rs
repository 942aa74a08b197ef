//! Deadlines: connect timeout and keepalive per connection, delayed wills
//! and session expiry per session, the `$SYS` publication, kept in one lazy min-heap (stale entries
//! are checked against the current state when they come due).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::num::NonZeroI64;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::connection::Phase;
use super::{Broker, ConnId, DisconnectCause};
use crate::protocol::codec::ReasonCode;

/// An instant in 8 bytes instead of `Instant`'s 16 (and `Option<Stamp>`
/// in 8 instead of 24): nanoseconds from a process-wide origin taken at
/// first use, earlier instants negative, exact for any instant within 292
/// years of it. Every connection keeps two and has a timer entry, every
/// session two, so the bytes saved count per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Stamp(NonZeroI64);

fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

impl Stamp {
    pub fn from_instant(at: Instant) -> Stamp {
        let o = origin();
        // Offsets > 0 are kept, offsets <= 0 shifted down by one, so that
        // zero (the niche of Option<Stamp>) is never used.
        let v = match at.checked_duration_since(o) {
            Some(after) if !after.is_zero() => nanos(after),
            Some(_) => -1,
            None => (-nanos(o - at)).saturating_sub(1),
        };
        Stamp(NonZeroI64::new(v).unwrap_or(NonZeroI64::MIN))
    }

    pub fn instant(self) -> Instant {
        let v = self.0.get();
        let o = origin();
        if v > 0 {
            o + Duration::from_nanos(v.unsigned_abs())
        } else {
            o - Duration::from_nanos((v + 1).unsigned_abs())
        }
    }
}

impl From<Instant> for Stamp {
    fn from(at: Instant) -> Stamp {
        Stamp::from_instant(at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// A delayed will of an offline session.
    Will(Arc<str>),
    /// Expiry of an offline session.
    Expiry(Arc<str>),
    /// The next `$SYS` publication.
    Sys,
    /// The slow-consumer deadline of a full online session.
    SlowConsumer(Arc<str>),
}

/// What came due.
enum Due {
    /// Connect timeout or keepalive of a connection, at the stamp it was
    /// scheduled for.
    Conn(ConnId, Stamp),
    Other(Timer),
}

/// Two heaps: every connection has an entry in the first (16 bytes each),
/// the rarer session and broker deadlines sit in the second.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    conns: BinaryHeap<Reverse<(Stamp, ConnId)>>,
    heap: BinaryHeap<Reverse<(Instant, Timer)>>,
}

impl Timers {
    pub fn push(&mut self, at: Instant, timer: Timer) {
        self.heap.push(Reverse((at, timer)));
    }

    fn push_conn(&mut self, at: Stamp, conn: ConnId) {
        self.conns.push(Reverse((at, conn)));
    }

    fn pop_due(&mut self, now: Instant) -> Option<Due> {
        let conn = self.conns.peek().map(|Reverse((at, _))| at.instant());
        let other = self.heap.peek().map(|Reverse((at, _))| *at);
        match (conn, other) {
            (Some(c), o) if c <= now && o.is_none_or(|o| c <= o) => {
                self.conns.pop().map(|Reverse((at, id))| Due::Conn(id, at))
            }
            (_, Some(o)) if o <= now => self.heap.pop().map(|Reverse((_, t))| Due::Other(t)),
            _ => None,
        }
    }

    fn next(&self) -> Option<Instant> {
        let conn = self.conns.peek().map(|Reverse((at, _))| at.instant());
        let other = self.heap.peek().map(|Reverse((at, _))| *at);
        match (conn, other) {
            (Some(c), Some(o)) => Some(c.min(o)),
            (c, o) => c.or(o),
        }
    }
}

impl Broker {
    /// The earliest instant `handle_timeout` has something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Runs every deadline that is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(due) = self.timers.pop_due(now) {
            let timer = match due {
                Due::Conn(id, at) => {
                    self.conn_timer(id, at, now);
                    continue;
                }
                Due::Other(timer) => timer,
            };
            match timer {
                Timer::Will(cid) => {
                    let due = self.sessions.get(&cid).is_some_and(|s| {
                        s.conn.is_none() && s.will_at.is_some_and(|t| t.instant() <= now)
                    });
                    if due {
                        self.publish_session_will(&cid, now);
                    }
                }
                Timer::Sys => self.sys_update(now),
                Timer::SlowConsumer(cid) => self.slow_consumer_due(&cid, now),
                Timer::Expiry(cid) => {
                    let due = self.sessions.get(&cid).is_some_and(|s| {
                        s.conn.is_none() && s.expires_at.is_some_and(|t| t.instant() <= now)
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
            let at = Stamp::from_instant(at);
            c.timer_at = Some(at);
            self.timers.push_conn(at, conn);
        }
    }

    fn conn_timer(&mut self, conn: ConnId, at: Stamp, now: Instant) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if c.timer_at != Some(at) || c.is_closed() {
            return;
        }
        let last_rx = c.last_rx.instant();
        let deadline = match c.phase {
            Phase::AwaitConnect | Phase::Authenticating { host: false, .. } => {
                Some(last_rx + self.config.limits.connect_timeout)
            }
            Phase::AwaitDecision | Phase::Authenticating { .. } | Phase::Closed => None,
            Phase::Connected if c.keep_alive == 0 => None,
            // Not read while paused by flow control: its silence is ours.
            Phase::Connected if c.flow_on.is_some() => {
                Some(now + Duration::from_secs(u64::from(c.keep_alive)))
            }
            Phase::Connected => {
                let ms = u64::from(c.keep_alive)
                    * u64::from(self.config.limits.keepalive_factor_pct)
                    * 10;
                Some(last_rx + Duration::from_millis(ms))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_before_and_after_the_origin() {
        let now = Instant::now();
        let o = origin();
        for at in [
            now,
            o,
            o + Duration::from_nanos(1),
            now + Duration::from_secs(86_400 * 365),
        ] {
            assert_eq!(Stamp::from_instant(at).instant(), at);
        }
        if let Some(before) = o.checked_sub(Duration::from_millis(1500)) {
            let s = Stamp::from_instant(before);
            assert!(s < Stamp::from_instant(o));
            assert_eq!(s.instant(), before);
        }
        assert_eq!(std::mem::size_of::<Option<Stamp>>(), 8);
    }

    #[test]
    fn connection_and_other_deadlines_come_due_in_order() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        t.push(t0 + Duration::from_secs(2), Timer::Sys);
        t.push_conn(Stamp::from_instant(t0 + Duration::from_secs(1)), 7);
        t.push_conn(Stamp::from_instant(t0 + Duration::from_secs(3)), 8);
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(1)));
        assert!(t.pop_due(t0).is_none());
        let late = t0 + Duration::from_secs(5);
        assert!(matches!(t.pop_due(late), Some(Due::Conn(7, _))));
        assert!(matches!(t.pop_due(late), Some(Due::Other(Timer::Sys))));
        assert!(matches!(t.pop_due(late), Some(Due::Conn(8, _))));
        assert!(t.pop_due(late).is_none());
        assert_eq!(t.next(), None);
    }
}
