//! The session's timers: one small enum indexing a fixed table of deadlines.
//! `next()` is what `poll_timeout` reports.

use std::time::Instant;

/// Every timer a client session can arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// CONNACK must arrive before this.
    ConnectTimeout = 0,
    /// Nothing sent for keep_alive: send PINGREQ.
    KeepAlive = 1,
    /// A PINGREQ is outstanding: the server must answer before this.
    PingDeadline = 2,
    /// Resend unacknowledged packets (3.x retry_interval).
    Retry = 3,
}

impl Timer {
    /// Every timer, in table order.
    pub const ALL: [Timer; 4] = [
        Timer::ConnectTimeout,
        Timer::KeepAlive,
        Timer::PingDeadline,
        Timer::Retry,
    ];
}

/// The deadline table.
#[derive(Debug, Default, Clone)]
pub struct Timers {
    deadlines: [Option<Instant>; 4],
}

impl Timers {
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer as usize] = Some(at);
    }

    pub fn clear(&mut self, timer: Timer) {
        self.deadlines[timer as usize] = None;
    }

    pub fn clear_all(&mut self) {
        self.deadlines = [None; 4];
    }

    pub fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer as usize]
    }

    /// True if `timer` is armed and its deadline is at or before `now`.
    pub fn expired(&self, timer: Timer, now: Instant) -> bool {
        self.get(timer).is_some_and(|at| at <= now)
    }

    /// The earliest armed deadline.
    pub fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn next_is_the_minimum_of_armed_timers() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        assert_eq!(t.next(), None);
        t.set(Timer::KeepAlive, t0 + Duration::from_secs(5));
        t.set(Timer::Retry, t0 + Duration::from_secs(2));
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(2)));
        t.clear(Timer::Retry);
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(5)));
        assert!(!t.expired(Timer::KeepAlive, t0));
        assert!(t.expired(Timer::KeepAlive, t0 + Duration::from_secs(5)));
        t.clear_all();
        assert_eq!(t.next(), None);
    }
}
