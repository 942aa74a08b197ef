//! What the asynchronous client needs from the shared client core beyond
//! the synchronous API: completion dispatch, request resumption after a
//! reconnect, and interruptible waits for the reconnect loop.

use std::time::Duration;

use super::core::{Phase, Shared, deadline};
use super::error::ClientError;
use super::sync::Client;
use std::sync::Arc;

/// Hooks for the asynchronous client, which is built on this one.
impl Client {
    /// Switch to MQTTAsync semantics (completions by callback) and start
    /// the dispatcher, which every asynchronous client needs.
    pub(crate) fn enable_async(&self) -> Result<(), ClientError> {
        self.shared.lock().async_mode = true;
        self.ensure_dispatcher()
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn is_connecting(&self) -> bool {
        self.shared.lock().phase == Phase::Connecting
    }

    /// Queue a callback on the dispatcher thread.
    pub(crate) fn dispatch(&self, d: super::dispatch::Dispatch) {
        if let Some(disp) = self.shared.lock().dispatcher.as_ref() {
            let _ = disp.tx.send(d);
        }
    }

    /// Queue a request's completion on the dispatcher thread.
    pub(crate) fn dispatch_completion(
        &self,
        token: i32,
        cb: super::pending::OnComplete,
        res: Result<super::pending::Success, super::pending::Failure>,
    ) {
        self.dispatch(super::dispatch::Dispatch::Run(Box::new(move || {
            cb(token, res)
        })));
    }

    /// After a (re)connect: requests the session no longer carries go back
    /// to the buffer, and the buffer is sent in order.
    pub(crate) fn resume_requests(&self) {
        let mut core = self.shared.lock();
        core.lost = false;
        let kept = core
            .session
            .as_ref()
            .map(|s| s.pending_packet_ids())
            .unwrap_or_default();
        core.requests.requeue_dropped(&kept);
        super::core::drain_requests(&mut core);
        let id = core.conn_id;
        drop(core);
        self.shared.request_flush(id);
        self.shared.cond.notify_all();
    }

    pub(crate) fn wake_all(&self) {
        let _g = self.shared.lock();
        self.shared.cond.notify_all();
    }

    /// Destroy under way: cut every wait short and refuse new attempts.
    pub(crate) fn abort_waits(&self) {
        let mut core = self.shared.lock();
        core.destroyed = true;
        self.shared.close_connection(&mut core);
        drop(core);
        self.shared.cond.notify_all();
    }

    /// Wait until the connection is lost (true) or `stop()` holds (false).
    pub(crate) fn wait_lost(&self, stop: impl Fn() -> bool) -> bool {
        let mut core = self.shared.lock();
        loop {
            if stop() || core.destroyed {
                return false;
            }
            if core.lost {
                core.lost = false;
                return true;
            }
            core = match self.shared.cond.wait_timeout(core, Duration::from_secs(1)) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }

    /// Wait `d` unless `stop()` comes true first (then false).
    pub(crate) fn pause(&self, d: Duration, stop: impl Fn() -> bool) -> bool {
        let core = self.shared.lock();
        let (core, stopped) = self
            .shared
            .wait_until(core, deadline(d), |c| stop() || c.destroyed);
        drop(core);
        !stopped
    }
}
