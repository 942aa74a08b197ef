//! Between connections to the remote: the restart delay (constant, or
//! decorrelated jitter) and, as in mosquitto with `round_robin false`, the
//! periodic check whether the primary address is back while the bridge is
//! connected to a secondary one.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::config::Restart;

/// How often a bridge on a secondary address checks the primary.
pub(super) const PRIMARY_PROBE: Duration = Duration::from_secs(5);

/// True when a TCP connection to `address` (`HOST:PORT`) opens within
/// `timeout` (closed again at once). Runs on the bridge's own thread.
pub(super) fn reachable(address: &str, timeout: Duration) -> bool {
    let Ok(addrs) = address.to_socket_addrs() else {
        return false;
    };
    addrs
        .into_iter()
        .any(|a| TcpStream::connect_timeout(&a, timeout).is_ok())
}

/// The restart delays of one bridge.
pub(super) struct Backoff {
    restart: Restart,
    /// The last delay (decorrelated jitter grows it).
    sleep: Duration,
    seed: u64,
}

impl Backoff {
    pub(super) fn new(restart: Restart) -> Backoff {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Backoff {
            restart,
            sleep: restart.base,
            seed: t | 1,
        }
    }

    /// Connected: the next failure starts from the base delay again.
    pub(super) fn reset(&mut self) {
        self.sleep = self.restart.base;
    }

    /// The next delay: constant, or decorrelated jitter between base and
    /// cap (sleep = min(cap, random(base, 3 × sleep))).
    pub(super) fn next(&mut self) -> Duration {
        let r = self.restart;
        let Some(cap) = r.cap else { return r.base };
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let lo = r.base.as_millis() as u64;
        let hi = (self.sleep.as_millis() as u64 * 3).max(lo + 1);
        let pick = lo + self.seed % (hi - lo);
        self.sleep = Duration::from_millis(pick).min(cap);
        self.sleep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_between_base_and_cap_and_resets() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(2);
        let mut b = Backoff::new(Restart {
            base,
            cap: Some(cap),
        });
        for _ in 0..200 {
            let d = b.next();
            assert!(d >= base && d <= cap, "{d:?}");
        }
        b.reset();
        assert_eq!(b.sleep, base);
        let mut c = Backoff::new(Restart { base, cap: None });
        assert_eq!(c.next(), base);
    }

    #[test]
    fn reachable_tells_an_open_port_from_a_closed_one() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = l.local_addr().unwrap().to_string();
        assert!(reachable(&open, Duration::from_secs(2)));
        drop(l);
        assert!(!reachable(&open, Duration::from_secs(2)));
        assert!(!reachable("not an address", Duration::from_secs(2)));
    }
}
