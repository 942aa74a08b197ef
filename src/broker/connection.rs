//! Per-connection protocol state: phase, negotiated limits, inbound topic
//! aliases, the output queue and the input held back while the host decides.

use bytes::{Bytes, BytesMut};
use foldhash::HashMap;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use super::timers::Stamp;
use crate::protocol::codec::{Connect, Packet, ProtocolVersion, Publish, ReasonCode, Subscribe};

/// Where a connection stands.
#[derive(Debug)]
pub(crate) enum Phase {
    /// Accepted; the first packet must be CONNECT.
    AwaitConnect,
    /// CONNECT is valid; the host decides (the CONNECT waits in
    /// `Conn::pending`, so that a phase is at most 4 bytes).
    AwaitDecision,
    /// MQTT 5 enhanced authentication of a valid CONNECT (which waits in
    /// `Conn::pending`): waiting for the host's answer (`host`) or for the
    /// client's next AUTH.
    Authenticating { step: u16, host: bool },
    /// CONNACK sent, session attached.
    Connected,
    /// Done; waiting for the reactor to flush and close it.
    Closed,
}

/// A request waiting for the host's decision.
#[derive(Debug)]
pub(crate) enum Pending {
    /// The CONNECT (`true`: the client id was assigned by us), parked
    /// while the host decides or its enhanced authentication runs; whether
    /// input waits is the phase's to say.
    Connect(Box<Connect>, bool),
    Publish(Publish),
    /// The SUBSCRIBE and the code already decided per filter (invalid ones).
    Subscribe(Subscribe, Vec<Option<ReasonCode>>),
    /// A step of a connected client's re-authentication.
    Reauth,
}

/// One item of a connection's output: a packet still to be encoded, or
/// bytes already on the wire format (a PUBLISH header encoded once per
/// message and patched per subscriber, or a shared payload).
#[derive(Debug)]
pub(crate) enum Out {
    /// Boxed so that the far more frequent wire chunks stay small to move.
    Packet(Box<Packet>),
    Wire(Bytes),
}

/// The topic aliases of one connection (MQTT 5).
#[derive(Debug, Default)]
pub(crate) struct Aliases {
    /// Inbound: alias -> topic.
    pub inbound: HashMap<u16, String>,
    /// Outbound: topic -> alias assigned on this connection.
    pub outbound: HashMap<String, u16>,
}

#[derive(Debug)]
pub(crate) struct Conn {
    pub peer: SocketAddr,
    pub phase: Phase,
    pub version: ProtocolVersion,
    pub client_id: Option<Arc<str>>,
    /// Effective keepalive in seconds (0 = none).
    pub keep_alive: u16,
    /// When the last whole packet arrived; until CONNECT is handled that is
    /// the accept time (partial bytes do not move it, so a client trickling
    /// its CONNECT still meets the connect timeout).
    pub last_rx: Stamp,
    /// The instant of this connection's scheduled timer entry.
    pub timer_at: Option<Stamp>,
    pub out: Vec<Out>,
    /// Small PUBLISHes encoded back to back (header and payload together):
    /// one contiguous run per connection writes faster than many iovecs.
    /// Moved into `out` before any other item and at each flush.
    pub buf: BytesMut,
    /// True while the id sits in the broker's dirty list.
    pub dirty: bool,
    /// Boxed: rare, and a connection should stay small while idle.
    pub pending: Option<Box<Pending>>,
    /// Packets that arrived while a host decision was pending (boxed:
    /// rare, and 32 bytes on every connection otherwise).
    // The box is deliberate: 8 bytes on every connection instead of 32.
    #[allow(clippy::box_collection)]
    pub backlog: Option<Box<VecDeque<Packet>>>,
    /// Sessions whose full queue holds this connection's input (flow.rs);
    /// `None` rather than empty, so an unpaused connection stays small.
    // The box is deliberate: 8 bytes on every connection instead of a Vec's 24.
    #[allow(clippy::box_collection)]
    pub flow_on: Option<Box<Vec<Arc<str>>>>,
    /// The host says its written output piles up: QoS 0 is queued too.
    pub congested: bool,
    /// Topic aliases (MQTT 5), once the first is used: most connections
    /// never use one, and two empty maps cost 96 bytes each.
    pub aliases: Option<Box<Aliases>>,
    /// How many outbound aliases may be assigned.
    pub alias_out_max: u16,
    /// Client's Maximum Packet Size (MQTT 5), `u32::MAX` when absent.
    pub max_packet_out: u32,
    /// Client's Request Problem Information (reason strings allowed).
    /// Connected as a bridge (try_private): its subscriptions never get
    /// its own messages back and keep the retain flag.
    pub bridge: bool,
    pub problem_info: bool,
    /// Outgoing in-flight window.
    pub window: u16,
    /// Index of the listener it came in on.
    pub listener: u16,
    /// Set on a listener with `use_identity_as_username`: the common name
    /// of the client's TLS certificate (inner `None`: it showed none),
    /// which replaces the CONNECT's user name.
    /// Boxed: one pointer on connections of other listeners.
    #[allow(clippy::option_option)]
    pub cert_identity: Option<Box<Option<Box<str>>>>,
}

impl Conn {
    /// Move the contiguous buffer into the output queue (keeps order).
    pub fn flush_buf(&mut self) {
        if !self.buf.is_empty() {
            self.out.push(Out::Wire(self.buf.split().freeze()));
        }
    }

    pub fn new(peer: SocketAddr, now: Instant) -> Self {
        Conn {
            peer,
            phase: Phase::AwaitConnect,
            version: ProtocolVersion::V311,
            client_id: None,
            keep_alive: 0,
            last_rx: Stamp::from_instant(now),
            timer_at: None,
            out: Vec::new(),
            buf: BytesMut::new(),
            dirty: false,
            pending: None,
            backlog: None,
            flow_on: None,
            congested: false,
            aliases: None,
            alias_out_max: 0,
            max_packet_out: u32::MAX,
            problem_info: true,
            bridge: false,
            window: 1,
            listener: 0,
            cert_identity: None,
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// The pending request if `wanted` says it is the one answered; any
    /// other stays pending.
    pub fn take_pending(&mut self, wanted: impl Fn(&Pending) -> bool) -> Option<Pending> {
        if self.pending.as_deref().is_some_and(wanted) {
            self.pending.take().map(|b| *b)
        } else {
            None
        }
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.phase, Phase::Connected)
    }

    /// True while input must wait: for a host decision, or for a full
    /// subscriber queue to drain.
    pub fn is_blocked(&self) -> bool {
        self.pending
            .as_deref()
            .is_some_and(|p| !matches!(p, Pending::Connect(..)))
            || matches!(
                self.phase,
                Phase::AwaitDecision | Phase::Authenticating { host: true, .. }
            )
            || self.flow_on.is_some()
    }
}

#[cfg(test)]
mod size_tests {
    /// Every idle connection holds one `Conn` and one `Session`: their sizes
    /// are most of the broker's idle footprint, measured against mosquitto's
    /// in `make bench`. Growing them needs a reason (and a new bound here).
    #[test]
    fn connection_and_session_stay_small() {
        assert!(std::mem::size_of::<super::Phase>() <= 4);
        assert!(std::mem::size_of::<super::Conn>() <= 184);
        assert!(std::mem::size_of::<super::super::session::Session>() <= 184);
    }
}
