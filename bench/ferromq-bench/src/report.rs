//! What a run reports: the progress line on stderr once per second, the
//! summary table on stdout, the JSON document, and the exit verdict.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::args::Mode;
use super::tally::LatencySummary;

/// The outcome of one throughput/latency run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    pub mode: Mode,
    pub qos: u8,
    pub publishers: usize,
    pub subscribers: usize,
    pub payload: usize,
    pub window: u16,
    pub rate: u64,
    pub sent: u64,
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub foreign: u64,
    pub failed_acks: u64,
    /// First publish to last delivery.
    pub seconds: f64,
    /// First publish to the last publish completed (acknowledged for QoS 1/2).
    pub publish_seconds: f64,
    pub latency: LatencySummary,
    /// CPU seconds (user + system) this generator process used in the run;
    /// near `seconds` means the generator, not the broker, set the pace.
    pub generator_cpu: f64,
}

/// CPU time (user + system) of this process so far, in seconds.
pub fn process_cpu_secs() -> f64 {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a complete `rusage` into the pointer it is
    // given, which points to writable memory of exactly that type.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr()) };
    if rc != 0 {
        return 0.0;
    }
    // SAFETY: zero-initialised and, on success, filled in by getrusage.
    let ru = unsafe { ru.assume_init() };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

impl RunResult {
    /// Deliveries per second (the throughput figure).
    pub fn msgs_per_sec(&self) -> f64 {
        if self.seconds > 0.0 {
            self.delivered as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Why the run failed, if it did: duplicates, foreign messages and
    /// refused publishes always; losses at QoS 1/2 always, at QoS 0 only
    /// when `strict`.
    pub fn verdict(&self, strict: bool) -> Result<(), String> {
        let mut why = Vec::new();
        if self.duplicates > 0 {
            why.push(format!("{} duplicated", self.duplicates));
        }
        if self.lost > 0 && (self.qos > 0 || strict) {
            why.push(format!("{} lost", self.lost));
        }
        if self.foreign > 0 {
            why.push(format!("{} not from this run", self.foreign));
        }
        if self.failed_acks > 0 {
            why.push(format!("{} refused by the broker", self.failed_acks));
        }
        if why.is_empty() {
            Ok(())
        } else {
            Err(format!("FAILED: {}", why.join(", ")))
        }
    }

    pub fn to_json(&self) -> Value {
        let l = &self.latency;
        json!({
            "mode": self.mode.name(),
            "qos": self.qos,
            "publishers": self.publishers,
            "subscribers": self.subscribers,
            "payload": self.payload,
            "window": self.window,
            "rate": self.rate,
            "sent": self.sent,
            "expected": self.expected,
            "delivered": self.delivered,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "foreign": self.foreign,
            "failed_acks": self.failed_acks,
            "seconds": self.seconds,
            "publish_seconds": self.publish_seconds,
            "msgs_per_sec": self.msgs_per_sec(),
            "generator_cpu_seconds": self.generator_cpu,
            "latency_us": {
                "count": l.count, "p50": l.p50, "p90": l.p90, "p99": l.p99,
                "max": l.max, "mean": l.mean,
            },
        })
    }

    /// The human-readable summary.
    pub fn table(&self) -> String {
        let l = &self.latency;
        let rate = if self.rate == 0 {
            "max".to_string()
        } else {
            format!("{}/s", self.rate)
        };
        let rows = [
            (
                "run",
                format!(
                    "{} qos={} {}->{} payload={}B window={} rate={}",
                    self.mode.name(),
                    self.qos,
                    self.publishers,
                    self.subscribers,
                    self.payload,
                    self.window,
                    rate
                ),
            ),
            ("published", self.sent.to_string()),
            (
                "delivered",
                format!("{} of {} expected", self.delivered, self.expected),
            ),
            (
                "lost / duplicated",
                format!("{} / {}", self.lost, self.duplicates),
            ),
            ("seconds", format!("{:.3}", self.seconds)),
            ("deliveries/s", format!("{:.0}", self.msgs_per_sec())),
            (
                "generator CPU",
                format!(
                    "{:.3}s ({:.0}% of the run)",
                    self.generator_cpu,
                    100.0 * self.generator_cpu / self.seconds.max(1e-9)
                ),
            ),
            (
                "latency us",
                format!(
                    "p50 {} p90 {} p99 {} max {} (mean {:.0})",
                    l.p50, l.p90, l.p99, l.max, l.mean
                ),
            ),
        ];
        let mut s = String::new();
        for (k, v) in rows {
            s.push_str(&format!("{k:<18} {v}\n"));
        }
        s
    }
}

/// The once-per-second progress line on stderr.
pub struct Progress {
    started: Instant,
    last: Instant,
    last_sent: u64,
    last_delivered: u64,
    printed: bool,
}

impl Progress {
    pub fn new(now: Instant) -> Progress {
        Progress {
            started: now,
            last: now,
            last_sent: 0,
            last_delivered: 0,
            printed: false,
        }
    }

    pub fn tick(&mut self, now: Instant, sent: u64, delivered: u64) {
        let dt = now.duration_since(self.last);
        if dt < Duration::from_secs(1) {
            return;
        }
        let secs = dt.as_secs_f64();
        eprintln!(
            "[{:>4.0}s] sent {sent} ({:.0}/s)  delivered {delivered} ({:.0}/s)",
            now.duration_since(self.started).as_secs_f64(),
            sent.saturating_sub(self.last_sent) as f64 / secs,
            delivered.saturating_sub(self.last_delivered) as f64 / secs,
        );
        self.printed = true;
        (self.last, self.last_sent, self.last_delivered) = (now, sent, delivered);
    }

    pub fn finish(&self) {
        if self.printed {
            let _ = std::io::stderr().flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(qos: u8, lost: u64, duplicates: u64) -> RunResult {
        RunResult {
            mode: Mode::FanIn,
            qos,
            publishers: 4,
            subscribers: 1,
            payload: 64,
            window: 64,
            rate: 0,
            sent: 1000,
            expected: 1000,
            delivered: 1000 - lost,
            lost,
            duplicates,
            foreign: 0,
            failed_acks: 0,
            seconds: 0.5,
            publish_seconds: 0.4,
            latency: LatencySummary::default(),
            generator_cpu: 0.1,
        }
    }

    #[test]
    fn verdict_rules() {
        assert!(result(0, 0, 0).verdict(false).is_ok());
        assert!(
            result(0, 5, 0).verdict(false).is_ok(),
            "QoS 0 loss is reported only"
        );
        assert!(
            result(0, 5, 0).verdict(true).is_err(),
            "--strict fails QoS 0 loss"
        );
        assert!(result(1, 1, 0).verdict(false).is_err());
        assert!(result(2, 0, 1).verdict(false).is_err());
        assert!(
            result(0, 0, 1).verdict(false).is_err(),
            "duplicates always fail"
        );
    }

    #[test]
    fn rate_and_json_agree() {
        let r = result(1, 0, 0);
        assert_eq!(r.msgs_per_sec(), 2000.0);
        let j = r.to_json();
        assert_eq!(j["msgs_per_sec"], 2000.0);
        assert_eq!(j["mode"], "fanin");
        assert_eq!(j["latency_us"]["p99"], 0);
        assert!(r.table().contains("deliveries/s       2000"));
    }
}
