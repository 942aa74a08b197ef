//! What the asynchronous client needs from the shared client core beyond
//! the synchronous API.

use std::sync::Arc;

use super::core::{Phase, Shared};
use super::error::ClientError;
use super::sync::Client;

impl Client {
    /// Switch to MQTTAsync semantics (completions by callback) and give the
    /// client its serial queue, which every asynchronous client needs.
    pub(crate) fn enable_async(&self) -> Result<(), ClientError> {
        self.shared.lock().async_mode = true;
        self.ensure_dispatcher()
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn is_connecting(&self) -> bool {
        self.shared.lock().engine.phase() == Phase::Connecting
    }
}
