//! Per-client session state that outlives connections: subscriptions, the
//! outgoing in-flight window and queue, inbound QoS 2 ids, expiry and will.

use foldhash::HashSet;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use super::ConnId;
use super::config::{DropPolicy, Limits};
use super::message::Outgoing;
use super::small_map::SmallMap;
use super::timers::Stamp;
use super::trie::SubEntry;
use crate::protocol::codec::Will;

/// Inbound QoS 2 packet ids not yet released. Most sessions never hold
/// one, so nothing (not even an empty table, 40 bytes) exists until the
/// first, and the table goes again when the last is released.
#[derive(Debug, Default, Clone)]
pub(crate) struct Qos2Ids(Option<Box<HashSet<u16>>>);

impl Qos2Ids {
    pub fn contains(&self, id: &u16) -> bool {
        self.0.as_ref().is_some_and(|s| s.contains(id))
    }

    /// Add `id`; false if it was present.
    pub fn insert(&mut self, id: u16) -> bool {
        self.0.get_or_insert_with(Box::default).insert(id)
    }

    /// Remove `id`; false if it was absent.
    pub fn remove(&mut self, id: &u16) -> bool {
        let Some(set) = self.0.as_mut() else {
            return false;
        };
        let removed = set.remove(id);
        if set.is_empty() {
            self.0 = None;
        }
        removed
    }

    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |s| s.len())
    }

    pub fn iter(&self) -> impl Iterator<Item = &u16> {
        self.0.iter().flat_map(|s| s.iter())
    }
}

impl FromIterator<u16> for Qos2Ids {
    fn from_iter<I: IntoIterator<Item = u16>>(ids: I) -> Self {
        let set: HashSet<u16> = ids.into_iter().collect();
        Qos2Ids((!set.is_empty()).then(|| Box::new(set)))
    }
}

/// Where an outgoing QoS 1/2 message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flight {
    /// QoS 1 PUBLISH sent, PUBACK awaited.
    Ack,
    /// QoS 2 PUBLISH sent, PUBREC awaited.
    Rec,
    /// PUBREL sent, PUBCOMP awaited.
    Comp,
}

/// One unacknowledged outgoing message.
#[derive(Debug, Clone)]
pub(crate) struct Inflight {
    pub packet_id: u16,
    pub out: Outgoing,
    pub state: Flight,
}

/// A session's flow-control state (see flow.rs).
#[derive(Debug, Default)]
pub(crate) struct SessionFlow {
    /// Retained messages matched by a SUBSCRIBE, sent before the queue as
    /// the window allows (flow-controlled, not bounded by the queue limits).
    pub retained: VecDeque<Outgoing>,
    /// Publishers whose input is paused until the queue drains.
    pub blocked_pubs: Vec<ConnId>,
    /// Since when the queue has been over its limits while online (cleared
    /// when it drains to half); the slow-consumer deadline runs from here.
    pub full_since: Option<Instant>,
    /// Offline and dropping by the drop policy (the notice went out).
    pub dropping: bool,
    /// Over `HARD_CAP` times its limits where no publisher could be paused:
    /// the slow-consumer check is due now, not at the timeout.
    pub capped: bool,
}

impl SessionFlow {
    fn is_idle(&self) -> bool {
        self.retained.is_empty()
            && self.blocked_pubs.is_empty()
            && self.full_since.is_none()
            && !self.dropping
            && !self.capped
    }
}

/// How far past its limits an online queue may grow where pausing its
/// publishers could deadlock, before its connection is ended as a slow
/// consumer (its session, if durable, keeps the messages under the offline
/// limits).
pub(crate) const HARD_CAP: usize = 4;

/// Session expiry meaning "never" (3.x cleansession=0).
pub(crate) const NEVER: u32 = u32::MAX;

#[derive(Debug)]
pub(crate) struct Session {
    pub client_id: Arc<str>,
    /// The connection currently attached, if online.
    pub conn: Option<ConnId>,
    /// Full filters (with any `$share/g/` prefix) and their options.
    pub subs: SmallMap<String, SubEntry>,
    /// Sent, unacknowledged messages in sending order.
    pub inflight: VecDeque<Inflight>,
    /// Messages waiting for the window (or for the client to come back);
    /// change it only through `push_queued`/`pop_queued` (byte count).
    queue: VecDeque<Outgoing>,
    /// Payload bytes in `queue`.
    queued_bytes: usize,
    /// Flow-control state, only while there is some (most sessions never
    /// need it: an idle session stays small).
    pub flow: Option<Box<SessionFlow>>,
    /// Inbound QoS 2 packet ids received and not yet released.
    pub incoming_qos2: Qos2Ids,
    next_pid: u16,
    /// Seconds the session outlives its connection ([`NEVER`] = forever).
    pub expiry: u32,
    pub expires_at: Option<Stamp>,
    /// The will of the current (or last) connection.
    pub will: Option<Box<Will>>,
    /// When a delayed will is due (the will is in `will`).
    pub will_at: Option<Stamp>,
    /// Who the client is, for the `Auth` checks (only when auth is on).
    pub identity: Option<Box<Identity>>,
}

/// What the `Auth` checks of deliveries and wills need to know of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub listener: usize,
    pub username: Option<String>,
}

impl Session {
    pub fn new(client_id: Arc<str>) -> Self {
        Session {
            client_id,
            conn: None,
            subs: SmallMap::default(),
            inflight: VecDeque::new(),
            queue: VecDeque::new(),
            queued_bytes: 0,
            flow: None,
            incoming_qos2: Qos2Ids::default(),
            next_pid: 1,
            expiry: 0,
            expires_at: None,
            will: None,
            will_at: None,
            identity: None,
        }
    }

    /// A packet id not used by any in-flight message (free-slot search over
    /// 1..=65535 starting after the last one handed out).
    pub fn alloc_packet_id(&mut self) -> u16 {
        let mut id = self.next_pid;
        for _ in 0..=u16::MAX {
            if id == 0 {
                id = 1;
            }
            if !self.inflight.iter().any(|f| f.packet_id == id) {
                break;
            }
            id = id.wrapping_add(1);
        }
        self.next_pid = id.wrapping_add(1);
        id
    }

    /// Queues `out` for an offline session within the limits and the drop
    /// policy; returns how many messages were dropped.
    pub fn enqueue(&mut self, out: Outgoing, limits: &Limits) -> u64 {
        if let Some(max) = limits.max_queued_bytes
            && !self.queue.is_empty()
            && self.queued_bytes + out.msg.payload.len() > max
        {
            return 1;
        }
        if self.queue.len() < limits.max_queued {
            self.push_queued(out);
            return 0;
        }
        match limits.drop_policy {
            DropPolicy::DropNewest => 1,
            DropPolicy::DropOldest => {
                self.pop_queued();
                if limits.max_queued == 0 {
                    return 1;
                }
                self.push_queued(out);
                1
            }
        }
    }

    /// The flow-control state, created on first use.
    pub fn flow_mut(&mut self) -> &mut SessionFlow {
        self.flow.get_or_insert_with(Box::default)
    }

    /// Frees the flow-control state once there is none left.
    pub fn tidy_flow(&mut self) {
        if self.flow.as_ref().is_some_and(|f| f.is_idle()) {
            self.flow = None;
        }
    }

    pub fn full_since(&self) -> Option<Instant> {
        self.flow.as_ref().and_then(|f| f.full_since)
    }

    pub fn has_retained_pending(&self) -> bool {
        self.flow.as_ref().is_some_and(|f| !f.retained.is_empty())
    }

    /// Appends to the queue (no limit check: flow control bounds it).
    pub fn push_queued(&mut self, out: Outgoing) {
        self.queued_bytes += out.msg.payload.len();
        self.queue.push_back(out);
    }

    /// Takes the oldest queued message.
    pub fn pop_queued(&mut self) -> Option<Outgoing> {
        let out = self.queue.pop_front()?;
        self.queued_bytes -= out.msg.payload.len();
        Some(out)
    }

    /// The oldest queued message.
    pub fn front_queued(&self) -> Option<&Outgoing> {
        self.queue.front()
    }

    /// The newest queued message.
    pub fn back_queued(&self) -> Option<&Outgoing> {
        self.queue.back()
    }

    /// The queued messages, oldest first (the store numbers them).
    pub fn queued_mut(&mut self) -> impl Iterator<Item = &mut Outgoing> {
        self.queue.iter_mut()
    }

    pub fn queue_is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// True when the queue is at or over its message or byte limit.
    pub fn is_full(&self, limits: &Limits) -> bool {
        self.queue.len() >= limits.max_queued
            || limits
                .max_queued_bytes
                .is_some_and(|max| self.queued_bytes >= max)
    }

    /// True when the queue is `HARD_CAP` times over its limits: only a queue
    /// no publisher could be paused for (a client feeding itself, a cycle,
    /// the host) gets there.
    pub fn is_over_cap(&self, limits: &Limits) -> bool {
        self.queue.len() >= limits.max_queued.saturating_mul(HARD_CAP)
            || limits
                .max_queued_bytes
                .is_some_and(|max| self.queued_bytes >= max.saturating_mul(HARD_CAP))
    }

    /// True when the queue is down to half its limits: paused publishers
    /// may go on (the gap keeps them from pausing at every message).
    pub fn is_drained(&self, limits: &Limits) -> bool {
        self.queue.len() <= limits.max_queued / 2
            && limits
                .max_queued_bytes
                .is_none_or(|max| self.queued_bytes <= max / 2)
    }

    /// True when the in-flight payload bytes leave room for `next` (one
    /// message always goes when nothing is in flight).
    pub fn inflight_bytes_allow(&self, next: usize, limits: &Limits) -> bool {
        let Some(max) = limits.max_inflight_bytes else {
            return true;
        };
        let used: usize = self.inflight.iter().map(|f| f.out.msg.payload.len()).sum();
        self.inflight.is_empty() || used + next <= max
    }

    /// Index of the in-flight entry with `packet_id` in `state`.
    pub fn find_inflight(&self, packet_id: u16, state: Flight) -> Option<usize> {
        self.inflight
            .iter()
            .position(|f| f.packet_id == packet_id && f.state == state)
    }
}
