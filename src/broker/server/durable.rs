//! Group commit with persistence on: each reactor turn's staged changes go
//! to the store's thread as one batch and the turn's output is held until
//! that batch is durable. QoS 1/2 output is bounded by the publishers'
//! windows, QoS 0 is not: past `HELD_LIMIT` bytes held the broker stops
//! reading input (TCP pushes back) until the store catches up.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;

use super::Shared;
use crate::broker::bridge::local::is_internal;
use crate::broker::store::Store;
use crate::broker::{Broker, BrokerEvent};

/// Output held for the store beyond which no input is read.
pub const HELD_LIMIT: usize = 16 * 1024 * 1024;

/// One turn's output held for the store: the batch id it waits for, the
/// chunks to write and the connections to close after them.
type Held = (u64, Vec<(u64, Bytes)>, Vec<u64>);

/// The store and the turns' output waiting for it, oldest first.
pub(super) struct Durable {
    pub store: Store,
    held: VecDeque<Held>,
    /// Bytes of the chunks in `held`.
    bytes: usize,
}

/// What input readers need to know without the store's lock: whether held
/// output is past its limit, and the most it reached.
#[derive(Debug)]
pub(super) struct HeldGauge {
    over: AtomicBool,
    peak: AtomicUsize,
    limit: AtomicUsize,
}

impl Default for HeldGauge {
    fn default() -> Self {
        HeldGauge {
            over: AtomicBool::new(false),
            peak: AtomicUsize::new(0),
            limit: AtomicUsize::new(HELD_LIMIT),
        }
    }
}

impl HeldGauge {
    /// Held output is past the limit: read no input.
    pub fn over(&self) -> bool {
        self.over.load(Ordering::Relaxed)
    }

    fn set(&self, bytes: usize) {
        self.peak.fetch_max(bytes, Ordering::Relaxed);
        let limit = self.limit.load(Ordering::Relaxed);
        self.over.store(bytes > limit, Ordering::Relaxed);
    }

    /// The most output held at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    pub fn set_limit(&self, limit: usize) {
        self.limit.store(limit, Ordering::Relaxed);
    }
}

impl Durable {
    pub fn new(store: Store) -> Durable {
        Durable {
            store,
            held: VecDeque::new(),
            bytes: 0,
        }
    }

    /// Hand out the output of every turn whose batch is durable now.
    pub fn release(&mut self, out: &mut Vec<(u64, Bytes)>, close: &mut Vec<u64>, g: &HeldGauge) {
        let done = self.store.committed();
        while self.held.front().is_some_and(|h| h.0 <= done) {
            if let Some((_, o, c)) = self.held.pop_front() {
                self.bytes -= o.iter().map(|(_, b)| b.len()).sum::<usize>();
                out.extend(o);
                close.extend(c);
            }
        }
        g.set(self.bytes);
    }
}

impl Shared {
    /// Group commit: the broker's staged changes go to the store's thread
    /// as one batch, and its pending output is held until that batch is
    /// durable. The batch id; None when the store failed (the broker is
    /// then halted: nothing more is acknowledged, every connection closes).
    pub(super) fn hold(&self, b: &mut Broker, d: &mut Durable) -> Option<u64> {
        if self.halted.load(Ordering::Relaxed) {
            return None;
        }
        match d.store.submit(b, Instant::now()) {
            Ok(id) => {
                let (mut turn, mut closes, mut chunks) = (Vec::new(), Vec::new(), Vec::new());
                while let Some(conn) = b.poll_transmit_bytes(&mut chunks) {
                    // A bridge's internal session is not held: it is not
                    // a socket, and its acknowledgements go through the
                    // store like any client's.
                    if is_internal(conn) {
                        b.bridge_output(conn, &mut chunks, Instant::now());
                        continue;
                    }
                    d.bytes += chunks.iter().map(Bytes::len).sum::<usize>();
                    turn.extend(chunks.drain(..).map(|c| (conn as u64, c)));
                }
                while let Some(conn) = b.poll_close() {
                    if is_internal(conn) {
                        b.handle_closed(conn, Instant::now());
                        continue;
                    }
                    closes.push(conn as u64);
                }
                if !turn.is_empty() || !closes.is_empty() {
                    d.held.push_back((id, turn, closes));
                }
                self.held.set(d.bytes);
                Some(id)
            }
            Err(e) => {
                self.halted.store(true, Ordering::Relaxed);
                d.held.clear();
                d.bytes = 0;
                self.held.set(0);
                b.shutdown(Instant::now());
                b.push_event(BrokerEvent::StoreFailed {
                    error: e.to_string(),
                });
                None
            }
        }
    }
}

impl super::Server {
    /// The most output (bytes) ever held at once waiting for the store.
    pub fn held_peak(&self) -> usize {
        self.shared.held.peak()
    }

    /// Bytes of output held for the store past which input pauses
    /// (default `HELD_LIMIT`).
    pub fn set_held_limit(&self, bytes: usize) {
        self.shared.held.set_limit(bytes);
    }

    /// A test seam: stall (true) or let go (false) the store's commits, as a
    /// slow disk would (a stall lets go by itself after a minute). No-op
    /// with persistence off.
    pub fn stall_store(&self, on: bool) {
        if let Some(d) = &self.shared.store {
            let d = d.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(p) = d.store.progress() {
                p.set_stalled(on);
            }
        }
    }
}
