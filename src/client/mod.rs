//! Client handles: API calls become commands for the connect engine and the
//! reactor, synchronous calls wait for completion, and user callbacks run on
//! the shared dispatcher (a serial queue per client over a small pool).

pub mod r#async;
mod async_support;
mod connect;
mod core;
pub mod dispatch;
pub mod error;
pub mod pending;
pub mod persistence;
mod receipt;
pub mod resolver;
mod route;
pub mod sync;
pub mod tls;
pub mod trace;
mod transports;
pub mod uri;
