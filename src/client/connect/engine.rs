//! The connect engine's state and the transitions the APIs ask for. Its
//! fields are visible to the engine (`connect` and its modules) only.

use std::sync::Arc;

use super::super::core::{Core, Phase, Shared};
use super::super::error::ClientError;
use super::super::sync::ConnectOptions;
use super::{Attempt, AutoReconnect, DisconnectReq, Finish, begin, reconnect_now};

/// Where the client's connection stands and what the engine is doing about
/// it. Its fields are written by the engine only (`connect` and its
/// modules); the APIs read them through the methods below and change them
/// through this module's functions.
#[derive(Default)]
pub struct Engine {
    pub(super) phase: Phase,
    /// The connect attempt under way, if any.
    pub(super) attempt: Option<Box<Attempt>>,
    /// The last connect and automatic reconnect (MQTTAsync).
    pub(super) auto: Option<Box<AutoReconnect>>,
    /// A disconnect waiting for in-flight work to finish.
    pub(super) disconnect: Option<Box<DisconnectReq>>,
    /// MQTTAsync_connect was called and MQTTAsync_disconnect not since
    /// (Paho's shouldBeConnected): sendWhileDisconnected buffers then,
    /// even before a first connection succeeded.
    pub(super) should_be_connected: bool,
    /// The handle is being destroyed: nothing new starts.
    pub(super) destroyed: bool,
}

impl Engine {
    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn connected(&self) -> bool {
        self.phase == Phase::Connected
    }

    pub fn set_should_be_connected(&mut self, on: bool) {
        self.should_be_connected = on;
    }

    pub fn should_be_connected(&self) -> bool {
        self.should_be_connected
    }

    pub fn destroyed(&self) -> bool {
        self.destroyed
    }

    /// The connect options in use: the attempt's, else the last connect's.
    pub fn options(&self) -> Option<&ConnectOptions> {
        self.attempt
            .as_ref()
            .map(|a| a.options())
            .or_else(|| self.auto.as_ref().map(|a| &*a.options))
    }

    /// The application asked for the connection to end.
    pub fn disconnect_asked(&self) -> bool {
        self.phase == Phase::Disconnecting || self.disconnect.is_some()
    }

    /// For routing tests: an engine already in `phase`.
    #[cfg(test)]
    pub fn in_phase(phase: Phase) -> Engine {
        Engine {
            phase,
            should_be_connected: phase == Phase::Connected,
            ..Engine::default()
        }
    }
}

/// Drop the connection and whatever the engine was doing (a synchronous
/// connect starting over or giving up, a disconnect of a client that is
/// not connected, a disconnect whose server never closed).
pub fn stop(shared: &Arc<Shared>, core: &mut Core) {
    shared.close_connection(core);
    core.engine.attempt = None;
    core.engine.disconnect = None;
    core.engine.phase = Phase::Idle;
}

/// The handle is going away: nothing starts again.
pub fn destroy(shared: &Arc<Shared>, core: &mut Core) {
    core.engine.destroyed = true;
    core.engine.auto = None;
    stop(shared, core);
}

/// The reactor is gone: no attempt or retry can go on.
pub fn reactor_died(core: &mut Core) {
    core.engine.phase = Phase::Idle;
    core.engine.attempt = None;
    core.engine.auto = None;
}

/// MQTTAsync_connect: remember the connect for reconnects (`auto`, whose
/// generation this sets) and begin the attempt.
pub fn begin_async(
    shared: &Arc<Shared>,
    core: &mut Core,
    attempt: Attempt,
    mut auto: AutoReconnect,
) -> Result<(), ClientError> {
    if core.engine.destroyed || matches!(core.engine.phase, Phase::Connected | Phase::Connecting) {
        return Err(ClientError::Failure);
    }
    auto.generation = core.engine.auto.as_ref().map_or(0, |a| a.generation) + 1;
    core.engine.auto = Some(Box::new(auto));
    begin(shared, core, attempt);
    Ok(())
}

/// MQTTAsync_reconnect: reconnect now with the last connect options,
/// whether or not automatic reconnect was asked for (as Paho).
pub fn reconnect(shared: &Arc<Shared>, core: &mut Core) -> Result<(), ClientError> {
    match core.engine.phase {
        Phase::Connected | Phase::Connecting => return Ok(()),
        Phase::Disconnecting => return Err(ClientError::Failure),
        Phase::Idle => {}
    }
    if core.engine.destroyed {
        return Err(ClientError::Failure);
    }
    let finish = match core.engine.auto.as_mut() {
        None => return Err(ClientError::Failure),
        Some(a) => {
            // Cancel a scheduled retry: this attempt replaces it.
            a.generation += 1;
            if a.enabled {
                Finish::Reconnect
            } else {
                Finish::Async {
                    on_complete: None,
                    cause: "automatic reconnect",
                }
            }
        }
    };
    if reconnect_now(shared, core, finish) {
        Ok(())
    } else {
        Err(ClientError::Failure)
    }
}

/// MQTTAsync_disconnect asked: no more automatic reconnects. Returns false
/// (after abandoning any attempt) when there is no connection to close.
pub fn end_reconnects(shared: &Arc<Shared>, core: &mut Core) -> bool {
    if let Some(a) = core.engine.auto.as_mut() {
        a.enabled = false;
        a.generation += 1;
    }
    if core.engine.phase != Phase::Connected {
        if core.engine.attempt.take().is_some() {
            shared.close_connection(core);
            core.engine.phase = Phase::Idle;
        }
        return false;
    }
    true
}

/// A synchronous disconnect's wait ended: `done` when the request
/// completed; otherwise the connection is dropped.
pub fn disconnect_waited(shared: &Arc<Shared>, core: &mut Core, done: bool) {
    if !done {
        shared.close_connection(core);
        core.engine.disconnect = None;
    }
    core.engine.phase = Phase::Idle;
}
