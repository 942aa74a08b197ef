//! Disconnect with a timeout, on the reactor: DISCONNECT goes once the
//! in-flight publishes finish or the timeout passes; a bounded guard closes
//! the socket when the server never closes it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::super::core::{Core, Phase, Shared, next_conn_id};
use super::super::dispatch::Dispatch;
use super::super::pending::{OnComplete, Success};
use super::super::trace::{self, trace};
use crate::protocol::codec::{Properties, ReasonCode};

/// A disconnect waiting for in-flight publishes (at most until `until`).
pub struct DisconnectReq {
    pub id: u64,
    pub reason: ReasonCode,
    pub properties: Properties,
    pub on_complete: Option<OnComplete>,
    /// DISCONNECT has been handed to the session.
    pub sent: bool,
    /// The connection it was handed to (0: none): the request completes
    /// when the reactor has released that connection, i.e. after the
    /// DISCONNECT was written, so a program that exits on completion
    /// does not cut it off.
    pub conn: u64,
}

/// A flow finished: a waiting disconnect may go now.
pub fn after_ack(shared: &Arc<Shared>, core: &mut Core) {
    let ready = core
        .engine
        .disconnect
        .as_ref()
        .is_some_and(|d| !d.sent && in_flight(core) == 0);
    if ready {
        send_disconnect(shared, core);
    }
}

/// QoS 1/2 flows a disconnect waits for: outgoing publishes not complete
/// and, for the synchronous API (as Paho's MQTTClient_disconnect), incoming
/// QoS 2 flows waiting for their PUBREL.
pub fn in_flight(core: &Core) -> usize {
    if core.async_mode {
        core.requests
            .waiting
            .values()
            .filter(|w| w.publish.is_some())
            .count()
    } else {
        let incoming = core.session.as_ref().map_or(0, |s| s.incoming_in_flight());
        core.sync_ref().map_or(0, |s| s.pending.len()) + incoming
    }
}

/// Begin a disconnect: DISCONNECT goes once in-flight publishes finish or
/// `timeout` passes, whichever is first; `on_complete` (or a sync waiter
/// through `sync.disconnected`) hears when the connection is closed.
pub fn start_disconnect(
    shared: &Arc<Shared>,
    core: &mut Core,
    timeout: Duration,
    reason: ReasonCode,
    properties: Properties,
    on_complete: Option<OnComplete>,
) -> u64 {
    let id = next_conn_id();
    core.engine.phase = Phase::Disconnecting;
    if let Some(auto) = core.engine.auto.as_mut() {
        auto.generation += 1;
    }
    core.engine.disconnect = Some(Box::new(DisconnectReq {
        id,
        reason,
        properties,
        on_complete,
        sent: false,
        conn: 0,
    }));
    if in_flight(core) == 0 {
        send_disconnect(shared, core);
    } else {
        let weak = Arc::downgrade(shared);
        shared.reactor.after(timeout, move || {
            let Some(shared) = weak.upgrade() else { return };
            let mut core = shared.lock();
            if core
                .engine
                .disconnect
                .as_ref()
                .is_some_and(|d| d.id == id && !d.sent)
            {
                send_disconnect(&shared, &mut core);
            }
        });
    }
    id
}

/// Hand DISCONNECT to the session and flush; the connection's release by
/// the reactor (after its last write) completes the request. A bounded
/// guard closes the socket if that never comes.
fn send_disconnect(shared: &Arc<Shared>, core: &mut Core) {
    let conn = core.conn_id();
    let Some(d) = core.engine.disconnect.as_mut() else {
        return;
    };
    d.sent = true;
    let id = d.id;
    let (reason, properties) = (d.reason, std::mem::take(&mut d.properties));
    if conn != 0 && core.session.is_some() {
        d.conn = conn;
    }
    match core.session.as_mut() {
        Some(s) if conn != 0 => {
            s.disconnect(reason, properties, Instant::now());
            shared.request_flush(conn);
            let weak = Arc::downgrade(shared);
            shared.reactor.after(Duration::from_secs(2), move || {
                let Some(shared) = weak.upgrade() else { return };
                let mut core = shared.lock();
                if core.engine.disconnect.as_ref().is_some_and(|d| d.id == id) {
                    shared.close_connection(&mut core);
                    core.engine.phase = Phase::Idle;
                    if let Some(d) = core.engine.disconnect.take() {
                        complete_disconnect(&mut core, *d);
                    }
                    drop(core);
                    shared.cond.notify_all();
                }
            });
        }
        _ => {
            shared.close_connection(core);
            core.engine.phase = Phase::Idle;
            if let Some(d) = core.engine.disconnect.take() {
                complete_disconnect(core, *d);
            }
        }
    }
}

/// The reactor released connection `conn`: a disconnect sent on it is
/// done. Returns whether one was.
pub fn released(core: &mut Core, conn: u64) -> bool {
    if !core
        .engine
        .disconnect
        .as_ref()
        .is_some_and(|d| d.sent && d.conn == conn)
    {
        return false;
    }
    core.engine.phase = Phase::Idle;
    if let Some(d) = core.engine.disconnect.take() {
        complete_disconnect(core, *d);
    }
    true
}

pub(super) fn complete_disconnect(core: &mut Core, d: DisconnectReq) {
    trace!(trace::MINIMUM, "disconnected");
    if !core.async_mode {
        core.sync().disconnected = Some(d.id);
    }
    if let Some(cb) = d.on_complete {
        core.dispatch(Dispatch::Run(Box::new(move || {
            cb(0, Ok(Success::Disconnect))
        })));
    }
}
