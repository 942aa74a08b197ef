//! Delivery accounting of a run: which (subscriber, publisher, sequence)
//! arrived, so losses and duplicates are exact, plus the latency histogram
//! and its summary.

use hdrhistogram::Histogram;

/// Arrivals of one subscriber from one publisher: a bit per sequence number.
#[derive(Debug, Clone)]
struct Stream {
    seen: Vec<u64>,
}

/// Exact delivery bookkeeping for every (subscriber, publisher) stream.
#[derive(Debug)]
pub struct Tally {
    /// `streams[sub][publisher]`; `None` where that publisher is not routed to
    /// that subscriber (point-to-point).
    streams: Vec<Vec<Option<Stream>>>,
    per_publisher: u64,
    pub delivered: u64,
    pub duplicates: u64,
    /// Messages that were not ours (bad header, unknown publisher, sequence
    /// out of range): counted, never trusted.
    pub foreign: u64,
}

impl Tally {
    /// `routes[sub]` lists the publishers whose messages `sub` must get; each
    /// publisher sends `per_publisher` messages numbered 0..per_publisher.
    pub fn new(routes: &[Vec<usize>], publishers: usize, per_publisher: u64) -> Tally {
        let words = usize::try_from(per_publisher.div_ceil(64)).unwrap_or(0);
        let streams = routes
            .iter()
            .map(|pubs| {
                let mut row = vec![None; publishers];
                for p in pubs {
                    if let Some(slot) = row.get_mut(*p) {
                        *slot = Some(Stream {
                            seen: vec![0; words],
                        });
                    }
                }
                row
            })
            .collect();
        Tally {
            streams,
            per_publisher,
            delivered: 0,
            duplicates: 0,
            foreign: 0,
        }
    }

    /// Record one arrival. Returns false for a duplicate or a foreign message.
    pub fn record(&mut self, sub: usize, publisher: u32, seq: u64) -> bool {
        let stream = self
            .streams
            .get_mut(sub)
            .and_then(|row| row.get_mut(publisher as usize))
            .and_then(Option::as_mut);
        let Some(stream) = stream.filter(|_| seq < self.per_publisher) else {
            self.foreign += 1;
            return false;
        };
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        let Some(w) = stream.seen.get_mut(word) else {
            self.foreign += 1;
            return false;
        };
        if *w & bit != 0 {
            self.duplicates += 1;
            return false;
        }
        *w |= bit;
        self.delivered += 1;
        true
    }

    /// Deliveries the run should produce.
    pub fn expected(&self) -> u64 {
        let routed = self.streams.iter().flatten().flatten().count() as u64;
        routed * self.per_publisher
    }

    /// Expected deliveries that never arrived.
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.delivered)
    }
}

/// p50/p90/p99/max/mean of a latency histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
    pub mean: f64,
}

/// A histogram of latencies in microseconds, 1 µs to 1 hour, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    // Constant, valid bounds: construction cannot fail. Should the crate ever
    // disagree, an auto-resizing histogram will do.
    Histogram::new_with_bounds(1, 3_600_000_000, 3)
        .or_else(|_| Histogram::new(3))
        .unwrap_or_else(|_| std::process::abort())
}

/// Record `us`, clamped into the histogram's range.
pub fn record_latency(h: &mut Histogram<u64>, us: u64) {
    let _ = h.record(us.clamp(1, h.high()));
}

/// The summary a report prints.
pub fn summarize(h: &Histogram<u64>) -> LatencySummary {
    if h.is_empty() {
        return LatencySummary::default();
    }
    LatencySummary {
        count: h.len(),
        p50: h.value_at_quantile(0.50),
        p90: h.value_at_quantile(0.90),
        p99: h.value_at_quantile(0.99),
        max: h.max(),
        mean: h.mean(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_losses_and_duplicates_per_stream() {
        // Fan-in: subscriber 0 gets publishers 0 and 1, 100 messages each.
        let mut t = Tally::new(&[vec![0, 1]], 2, 100);
        assert_eq!(t.expected(), 200);
        for seq in 0..100 {
            assert!(t.record(0, 0, seq));
        }
        for seq in 0..90 {
            assert!(t.record(0, 1, seq));
        }
        assert!(!t.record(0, 1, 5), "second copy is a duplicate");
        assert_eq!((t.delivered, t.duplicates, t.lost()), (190, 1, 10));
    }

    #[test]
    fn same_sequence_from_another_publisher_is_not_a_duplicate() {
        let mut t = Tally::new(&[vec![0, 1]], 2, 10);
        assert!(t.record(0, 0, 3));
        assert!(t.record(0, 1, 3));
        assert_eq!(t.duplicates, 0);
    }

    #[test]
    fn unrouted_or_out_of_range_is_foreign() {
        // Point-to-point: subscriber i gets only publisher i.
        let mut t = Tally::new(&[vec![0], vec![1]], 2, 10);
        assert_eq!(t.expected(), 20);
        assert!(!t.record(0, 1, 0), "publisher 1 is not routed to sub 0");
        assert!(!t.record(1, 1, 10), "sequence past the end");
        assert!(!t.record(5, 0, 0), "no such subscriber");
        assert!(!t.record(0, 9, 0), "no such publisher");
        assert_eq!((t.foreign, t.delivered, t.lost()), (4, 0, 20));
    }

    #[test]
    fn histogram_summary_quantiles() {
        let mut h = new_histogram();
        assert_eq!(summarize(&h), LatencySummary::default());
        for us in 1..=1000 {
            record_latency(&mut h, us);
        }
        record_latency(&mut h, 0); // clamped to 1 µs, not dropped
        let s = summarize(&h);
        assert_eq!(s.count, 1001);
        assert!((499..=501).contains(&s.p50), "p50 {}", s.p50);
        assert!((899..=901).contains(&s.p90), "p90 {}", s.p90);
        assert!((989..=991).contains(&s.p99), "p99 {}", s.p99);
        assert!((1000..=1001).contains(&s.max), "max {}", s.max);
        assert!((s.mean - 500.0).abs() < 2.0, "mean {}", s.mean);
    }
}
