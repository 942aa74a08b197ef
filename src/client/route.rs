//! Packet routing: what one session event means for the client. A function
//! of the client's state and the event that updates the state and returns
//! effects (callbacks to queue, waiters to wake, the connect engine's input)
//! without doing any of them, so it is unit-tested without threads.

use super::core::{Core, to_message};
use super::dispatch::{Dispatch, HIGH_WATER, Registry};
use super::pending::{Failure, Success};
use super::receipt::Receipt;
use super::sync::AckResult;
use super::trace::{self, trace};
use crate::protocol::codec::{ConnAck, Publish};
use crate::protocol::session::client::{CloseReason, Event};

/// Which callbacks are installed (read once per batch of events).
#[derive(Debug, Clone, Copy, Default)]
pub struct Installed {
    pub main: bool,
    pub disconnected: bool,
    pub published: bool,
}

impl Installed {
    pub fn of(r: &Registry) -> Installed {
        Installed {
            main: r.has_main(),
            disconnected: r.has_disconnected(),
            published: r.has_published(),
        }
    }
}

/// What the connect engine hears from a session.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectOutcome {
    Accepted(ConnAck),
    Refused(ConnAck),
}

/// What routing asks the caller to do.
#[derive(Default)]
pub struct Effects {
    /// Callbacks to queue, in order.
    pub dispatch: Vec<Dispatch>,
    /// Wake threads waiting on the client.
    pub notify: bool,
    /// Buffered publishes entered the session: flush.
    pub more: bool,
    /// CONNACK arrived.
    pub connect: Option<ConnectOutcome>,
    /// The connection closed, and why.
    pub closed: Option<CloseReason>,
    /// The connection was up (CONNACK accepted) when it closed.
    pub was_connected: bool,
    /// The receive inbox is past its high-water mark.
    pub inbox_full: bool,
}

/// Hand a received message to the application: its messageArrived
/// callback, else the receive inbox. A deferred acknowledgement travels
/// with the message (see `receipt.rs`).
fn deliver(core: &mut Core, has: &Installed, p: Publish, fx: &mut Effects) {
    let receipt = core.receipt_for(&p);
    deliver_with(core, has, p, receipt, fx);
}

fn deliver_with(
    core: &mut Core,
    has: &Installed,
    p: Publish,
    receipt: Option<Receipt>,
    fx: &mut Effects,
) {
    let (topic, mut msg) = to_message(p);
    msg.receipt = receipt;
    if has.main {
        fx.dispatch.push(Dispatch::Message(topic, msg));
    } else if !core.async_mode {
        core.sync().inbox.push_back((topic, msg));
        fx.inbox_full |= core.sync().inbox.len() > HIGH_WATER;
        fx.notify = true;
    } else {
        // MQTTAsync has no receive call: with no messageArrived
        // callback a message has nowhere to go (Paho drops it too), so
        // there is nothing to wait for.
        fx.more |= core.settle(&topic, &msg);
    }
}

/// Route one session event.
pub fn route(core: &mut Core, has: &Installed, ev: Event, fx: &mut Effects) {
    match ev {
        Event::Connected(ack) => {
            trace!(
                trace::PROTOCOL,
                "CONNACK session_present={} rc={}", ack.session_present, ack.code.0
            );
            if !ack.session_present && !core.session_v31() {
                // The server kept nothing, so the session dropped its flows.
                core.persist_drop_flows();
            }
            // Messages an earlier run received but never handed over go
            // to the application ahead of anything this connection brings.
            for (key, p) in core.take_restored_queue() {
                deliver_with(core, has, p, Some(Receipt::Record(key)), fx);
            }
            fx.connect = Some(ConnectOutcome::Accepted(ack));
            fx.notify = true;
        }
        Event::ConnectRefused(ack) => {
            trace!(trace::PROTOCOL, "CONNACK refused rc={}", ack.code.0);
            fx.connect = Some(ConnectOutcome::Refused(ack));
            fx.notify = true;
        }
        Event::Message(p) => {
            trace!(
                trace::PROTOCOL,
                "PUBLISH in topic={} qos={} len={}",
                p.topic,
                p.qos as u8,
                p.payload.len()
            );
            deliver(core, has, p, fx);
        }
        Event::PublishComplete {
            packet_id,
            reason,
            properties,
        } => {
            fx.notify = true;
            core.persist_completed(packet_id);
            if core.async_mode {
                let Some(w) = core.requests.waiting.remove(&packet_id) else {
                    return;
                };
                if has.main {
                    fx.dispatch.push(Dispatch::DeliveryComplete(w.token));
                }
                if let Some(cb) = w.on_complete {
                    let (topic, message) = w.publish.map(|b| *b).unwrap_or_default();
                    let res = if reason.is_success() {
                        Ok(Success::Publish {
                            topic,
                            message,
                            reason,
                            properties,
                        })
                    } else {
                        Err(Failure::refused(
                            reason,
                            properties,
                            "publish refused by the server",
                        ))
                    };
                    let token = w.token;
                    fx.dispatch
                        .push(Dispatch::Run(Box::new(move || cb(token, res))));
                }
                drain_requests(core, fx);
                return;
            }
            core.sync().pending.retain(|&id| id != packet_id);
            if has.main {
                fx.dispatch
                    .push(Dispatch::DeliveryComplete(i32::from(packet_id)));
            }
            if has.published {
                fx.dispatch.push(Dispatch::Published(
                    i32::from(packet_id),
                    0,
                    properties,
                    reason,
                ));
            }
        }
        Event::SubAck(s) => {
            fx.notify = true;
            ack(core, s.packet_id, s.codes, s.properties, fx);
        }
        Event::UnsubAck(u) => {
            fx.notify = true;
            ack(core, u.packet_id, u.codes, u.properties, fx);
        }
        Event::ServerDisconnect(d) => {
            trace!(trace::PROTOCOL, "DISCONNECT from server rc={}", d.reason.0);
            if has.disconnected {
                fx.dispatch
                    .push(Dispatch::Disconnected(d.properties, d.reason));
            }
        }
        Event::PublishReleased { packet_id } => core.persist_released(packet_id),
        Event::Qos2Received(p) => core.persist_received(&p),
        Event::Qos2Released { packet_id } => core.persist_received_done(packet_id),
        Event::Auth(_) => {}
        Event::Closed(reason) => {
            trace!(trace::MINIMUM, "connection closed: {reason:?}");
            fx.notify = true;
            let was_connected = core.engine.connected();
            let asked = core.engine.disconnect_asked() || reason == CloseReason::ClientDisconnect;
            if core.async_mode {
                for (token, cb, res) in core.requests.fail_acks() {
                    fx.dispatch
                        .push(Dispatch::Run(Box::new(move || cb(token, res))));
                }
            }
            // As Paho: a server's DISCONNECT goes to the disconnected
            // callback when there is one, not also to connectionLost.
            let told = reason == CloseReason::ServerDisconnect && has.disconnected;
            if was_connected && !asked && !told && has.main {
                let cause = match &reason {
                    CloseReason::KeepAliveTimeout => Some("keepalive timeout".to_string()),
                    CloseReason::ProtocolError(t) => Some(t.clone()),
                    _ => None,
                };
                fx.dispatch.push(Dispatch::ConnectionLost(cause));
            }
            fx.was_connected = was_connected && !asked;
            fx.closed = Some(reason);
        }
    }
}

/// A SUBACK/UNSUBACK: the async request's completion, or the sync waiter's result.
fn ack(
    core: &mut Core,
    packet_id: u16,
    codes: Vec<crate::protocol::codec::ReasonCode>,
    properties: crate::protocol::codec::Properties,
    fx: &mut Effects,
) {
    if let Some(w) = core.requests.waiting.remove(&packet_id) {
        if let Some(cb) = w.on_complete {
            let token = w.token;
            let res = Ok(Success::Ack(AckResult { codes, properties }));
            fx.dispatch
                .push(Dispatch::Run(Box::new(move || cb(token, res))));
        }
        return;
    }
    core.sync()
        .acks
        .insert(packet_id, AckResult { codes, properties });
}

/// Give buffered publishes to the session while its window has room and
/// queue the completions of those already done.
pub fn drain_requests(core: &mut Core, fx: &mut Effects) {
    let Some(session) = core.session.as_mut() else {
        return;
    };
    let before = core.requests.buffer.len();
    let mut sent = Vec::new();
    let track = core.store.is_some().then_some(&mut sent);
    let done = core
        .requests
        .drain(session, std::time::Instant::now(), track);
    for (id, seqno) in sent {
        if id != 0 {
            core.persist_sent(id);
        }
        core.persist_unbuffered(seqno);
    }
    fx.more |= core.requests.buffer.len() != before;
    for (token, cb, res) in done {
        fx.dispatch
            .push(Dispatch::Run(Box::new(move || cb(token, res))));
    }
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;
