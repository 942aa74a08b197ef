//! Sans-IO protocol: the codec (bytes ⇄ packets) and the session state
//! machines that turn bytes, time and commands into bytes and events.

pub mod codec;
pub mod session;
