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
pub(crate) use link::Host;
pub use link::{Bridge, BridgeStats};
