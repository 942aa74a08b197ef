//! Bridges: mosquitto-style `connection` blocks. A bridge is a client of our
//! own engine (src/client) talking to a remote broker, plus an internal
//! session inside the local broker; see `local.rs` and `link.rs`.

mod client_opts;
pub mod config;
#[cfg(test)]
mod config_tests;
mod failover;
mod link;
pub(crate) mod local;
pub mod queue;

pub use config::{BridgeConf, Direction, Restart, StartType, TopicRule};
pub use link::Bridge;

use std::sync::atomic::AtomicU64;
use std::time::Instant;

use crate::broker::Broker;

/// The local broker a bridge belongs to.
pub(crate) trait Host: Send + Sync {
    /// Run `f` on the broker, then have the reactor write what it produced.
    fn with_broker(&self, f: &mut dyn FnMut(&mut Broker, Instant));
    /// A log line about the bridge (`warning` or notice).
    fn log(&self, warning: bool, line: &str);
}

/// A bridge's counters.
#[derive(Debug, Default)]
pub struct BridgeStats {
    /// Connection attempts (each CONNECT tried, whatever the outcome).
    pub attempts: AtomicU64,
    /// Attempts that ended connected.
    pub connects: AtomicU64,
    /// Messages handed to the remote.
    pub sent: AtomicU64,
    /// Messages from the remote routed locally.
    pub received: AtomicU64,
}
