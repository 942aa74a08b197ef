//! Client handles: API calls become reactor commands, synchronous calls wait
//! for completion, and user callbacks run on a per-client dispatcher thread.

pub mod r#async;
mod async_support;
mod core;
mod dispatch;
pub mod error;
pub mod pending;
pub mod sync;
pub mod trace;
pub mod uri;
