//! Acknowledging a received message once the application has it. A client
//! with a store (which keeps its session) does not acknowledge a QoS 1/2
//! message on arrival: its PUBACK (QoS 2: the PUBREC, or the PUBCOMP of a
//! message delivered on its PUBREL) goes when messageArrived returned true
//! or `receive` handed the message over. A process killed in between has
//! acknowledged nothing, so the server still has the message and sends it
//! again to the next run on the same store. Paho C acknowledges on arrival
//! and keeps the message as a `q-` record instead, written per message;
//! this way costs no write at all for QoS 1.
//!
//! A message carries a [`Receipt`] from routing to the point where the
//! application has it; there [`Core::settle`] turns it into the ack (or,
//! for a message an earlier Paho run left as a `q-` record, removes that
//! record).

use std::sync::Arc;

use super::core::{Core, Shared};
use super::dispatch::SettleFn;
use super::sync::Message;
use super::trace::{self, trace};
use crate::protocol::codec::{Publish, QoS};
use crate::protocol::session::client::Acked;

/// What settles a received message once the application has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// A QoS 1/2 flow whose acknowledgement waits: the connection it came
    /// on (a QoS 1 ack is only valid there), its id and QoS.
    Wire { conn: u64, id: u16, qos: QoS },
    /// A message an earlier run left in the store (its record's key).
    Record(String),
}

impl Core {
    /// The receipt of a message routed now, when its ack is deferred.
    pub fn receipt_for(&self, publish: &Publish) -> Option<Receipt> {
        let deferred = self
            .session
            .as_ref()
            .is_some_and(|s| s.config().ack_on_delivery);
        (deferred && publish.qos != QoS::AtMostOnce).then_some(Receipt::Wire {
            conn: self.conn_id(),
            id: publish.packet_id,
            qos: publish.qos,
        })
    }

    /// The application has `(topic, msg)`: acknowledge it. Returns true
    /// when a packet was queued for the connection (flush it).
    pub fn settle(&mut self, topic: &str, msg: &Message) -> bool {
        let Some(receipt) = &msg.receipt else {
            return false;
        };
        let (conn, id, qos) = match receipt {
            Receipt::Record(key) => {
                if let Some(cs) = self.store.as_mut()
                    && let Err(e) = cs.store.remove(key)
                {
                    trace!(trace::ERROR, "persistence: remove {key}: {e}");
                }
                return false;
            }
            Receipt::Wire { conn, id, qos } => (*conn, *id, *qos),
        };
        if qos == QoS::AtLeastOnce && conn != self.conn_id() {
            // That connection is gone: the server sends the message again
            // on the next one that keeps the session.
            return false;
        }
        let Some(session) = self.session.as_mut() else {
            return false;
        };
        match session.acknowledge(id, qos) {
            Acked::Nothing => false,
            Acked::PubAck => true,
            Acked::PubComp => {
                // The `r-` record goes before the PUBCOMP can be written
                // (the reactor writes only under this lock, afterwards).
                self.persist_received_done(id);
                true
            }
            Acked::PubRec => {
                // Delivered: an MQTT 5 `r5-` record says so, and a resent
                // PUBLISH is then not delivered again after a restart.
                let publish = Publish {
                    topic: topic.to_owned(),
                    payload: msg.payload.clone(),
                    qos,
                    retain: msg.retained,
                    dup: false,
                    packet_id: id,
                    properties: msg.properties.clone(),
                };
                self.persist_received(&publish);
                true
            }
        }
    }
}

/// What the dispatcher calls once messageArrived returned true for a
/// message with a receipt. Holds the client weakly (the dispatcher lives in
/// the client).
pub fn settle_hook(shared: &Arc<Shared>) -> SettleFn {
    let weak = Arc::downgrade(shared);
    Box::new(move |topic, msg| {
        if let Some(s) = weak.upgrade() {
            s.settle(topic, msg);
        }
    })
}

impl Shared {
    /// Settle `(topic, msg)` and have the reactor send what that queued.
    pub fn settle(&self, topic: &str, msg: &Message) {
        self.settle_in(&mut self.lock(), topic, msg);
    }

    /// As `settle`, with the client already locked.
    pub fn settle_in(&self, core: &mut Core, topic: &str, msg: &Message) {
        if core.settle(topic, msg) {
            self.request_flush(core.conn_id());
        }
    }
}
