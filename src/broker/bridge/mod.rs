//! Bridges: mosquitto-style `connection` blocks. A bridge is a client of our
//! own engine (src/client) talking to a remote broker, plus an internal
//! session inside the local broker; see `local.rs` and `link.rs`.

pub mod config;
#[cfg(test)]
mod config_tests;

pub use config::{BridgeConf, Direction, Restart, StartType, TopicRule};
