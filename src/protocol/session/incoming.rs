//! How a client session reacts to each packet from the server: CONNACK
//! negotiation, the QoS 1/2 acknowledgement flows in both directions (and
//! putting back flows read from a client store), and protocol violations.

use super::push_small;
use std::time::{Duration, Instant};

use super::client::{Acked, ClientSession, CloseReason, Connected, Event, State, Tracked};
use super::inflight::OutState;
use super::timers::Timer;
use crate::protocol::codec::{
    ConnAck, Disconnect, Packet, Properties, PropertyId, ProtocolVersion, PubResp, Publish, QoS,
    ReasonCode,
};

impl ClientSession {
    /// One decoded packet from the server (what `handle_bytes` feeds in).
    pub fn handle_packet(&mut self, packet: Packet, now: Instant) {
        match &mut self.state {
            State::AwaitConnack(_) => match packet {
                Packet::ConnAck(ack) => self.on_connack(ack, now),
                Packet::Auth(auth) if self.config.version.is_v5() => {
                    push_small(&mut self.events, Event::Auth(auth));
                }
                Packet::Disconnect(d) if self.config.version.is_v5() => self.on_disconnect(d),
                other => self.unexpected(&other, "before CONNACK"),
            },
            State::Connected(conn) => {
                // Any packet proves the server alive: the ping is answered.
                if conn.ping_outstanding {
                    conn.ping_outstanding = false;
                    let ka = conn.keep_alive;
                    self.timers.clear(Timer::PingDeadline);
                    self.timers.set(Timer::KeepAlive, self.last_sent + ka);
                }
                self.on_connected_packet(packet, now);
            }
            State::Disconnecting(_) | State::Closed(_) => {}
        }
    }

    fn on_connected_packet(&mut self, packet: Packet, now: Instant) {
        let v5 = self.config.version.is_v5();
        match packet {
            Packet::Publish(p) => self.on_publish(p),
            Packet::PubAck(ack) => self.on_puback(ack),
            Packet::PubRec(rec) => self.on_pubrec(rec, now),
            Packet::PubRel(rel) => self.on_pubrel(rel),
            Packet::PubComp(comp) => self.on_pubcomp(comp),
            Packet::SubAck(ack) => {
                if self.pending_subs.remove(&ack.packet_id) {
                    self.ids.release(ack.packet_id);
                    push_small(&mut self.events, Event::SubAck(ack));
                }
            }
            Packet::UnsubAck(ack) => {
                if self.pending_unsubs.remove(&ack.packet_id) {
                    self.ids.release(ack.packet_id);
                    push_small(&mut self.events, Event::UnsubAck(ack));
                }
            }
            Packet::PingResp => {}
            Packet::Disconnect(d) if v5 => self.on_disconnect(d),
            Packet::Auth(auth) if v5 => push_small(&mut self.events, Event::Auth(auth)),
            other => self.unexpected(&other, "from a server"),
        }
    }

    fn on_connack(&mut self, ack: ConnAck, now: Instant) {
        let version = self.config.version;
        let accepted = if version.is_v5() {
            ack.code.is_success()
        } else {
            ack.code == ReasonCode::SUCCESS
        };
        self.timers.clear(Timer::ConnectTimeout);
        if !accepted {
            self.connack = Some(ack.clone());
            push_small(&mut self.events, Event::ConnectRefused(ack));
            // The server closes the connection after a refusal.
            self.close(CloseReason::ServerDisconnect);
            return;
        }
        let mut keep_alive = self.config.keep_alive;
        let mut receive_max = u16::MAX;
        let mut max_send_size = 0;
        let mut max_qos = QoS::ExactlyOnce;
        let mut retain_available = true;
        if version.is_v5() {
            let props = &ack.properties;
            if let Some(secs) = props.get_u32(PropertyId::SERVER_KEEP_ALIVE) {
                keep_alive = Duration::from_secs(u64::from(secs));
            }
            if let Some(max) = props.get_u32(PropertyId::RECEIVE_MAXIMUM) {
                receive_max = u16::try_from(max).unwrap_or(u16::MAX).max(1);
            }
            max_send_size = props.get_u32(PropertyId::MAXIMUM_PACKET_SIZE).unwrap_or(0);
            if let Some(q) = props.get_u32(PropertyId::MAXIMUM_QOS) {
                max_qos = u8::try_from(q)
                    .ok()
                    .and_then(QoS::from_u8)
                    .unwrap_or(QoS::ExactlyOnce);
            }
            retain_available = props.get_u32(PropertyId::RETAIN_AVAILABLE) != Some(0);
            if let Some(id) = props.get_str(PropertyId::ASSIGNED_CLIENT_IDENTIFIER) {
                self.assigned_client_id = Some(id.to_owned());
            }
        }
        // max_inflight 0 means "no limit of our own".
        let ours = if self.config.max_inflight == 0 {
            u16::MAX
        } else {
            self.config.max_inflight
        };
        // 3.1 has no session-present flag: the session is assumed kept.
        let kept =
            !self.config.clean_start && (version == ProtocolVersion::V31 || ack.session_present);
        if !kept {
            self.drop_session_state();
        }
        self.state = State::Connected(Connected {
            keep_alive,
            send_window: ours.min(receive_max),
            max_send_size,
            max_qos,
            retain_available,
            ping_outstanding: false,
        });
        if !keep_alive.is_zero() {
            self.timers
                .set(Timer::KeepAlive, self.last_sent + keep_alive);
        }
        self.connack = Some(ack.clone());
        push_small(&mut self.events, Event::Connected(ack));
        if kept {
            self.resend_all(now);
        }
    }

    fn on_publish(&mut self, mut publish: Publish) {
        if self.config.version.is_v5()
            && let Err(why) = self.resolve_topic_alias(&mut publish)
        {
            self.protocol_error(why.into(), ReasonCode::TOPIC_ALIAS_INVALID);
            return;
        }
        let id = publish.packet_id;
        let deferred = self.config.ack_on_delivery;
        match publish.qos {
            QoS::AtMostOnce => push_small(&mut self.events, Event::Message(publish)),
            QoS::AtLeastOnce => {
                push_small(&mut self.events, Event::Message(publish));
                if !deferred {
                    self.queue_resp(Packet::PubAck, id);
                }
            }
            QoS::ExactlyOnce => {
                if self.unacked(id) {
                    // A resend while the application still has the first
                    // copy: its PUBREC goes when the owner acknowledges.
                    return;
                }
                // Delivered on the first PUBLISH only; a resend before PUBREL
                // is acknowledged again but not delivered again.
                if self.incoming_qos2.insert(id) && self.first_qos2(publish) {
                    // Delivered now, acknowledged when the owner says so.
                    return;
                }
                self.queue_resp(Packet::PubRec, id);
            }
        }
    }

    /// Queue a PUBACK/PUBREC/PUBCOMP with success for `id`.
    fn queue_resp(&mut self, kind: fn(PubResp) -> Packet, id: u16) {
        push_small(
            &mut self.out,
            kind(PubResp {
                packet_id: id,
                ..PubResp::default()
            }),
        );
    }

    /// Incoming QoS 2 `id` is with the owner, not acknowledged yet.
    fn unacked(&self, id: u16) -> bool {
        self.tracked
            .as_ref()
            .is_some_and(|t| t.unacked.contains(&id))
    }

    fn tracked_mut(&mut self) -> &mut Tracked {
        self.tracked.get_or_insert_with(Default::default)
    }

    /// Whether QoS 2 messages are delivered on PUBREL (kept as `r-` records
    /// until then, as Paho does in MQTT 3.x) rather than on PUBLISH.
    fn delivered_on_pubrel(&self) -> bool {
        self.config.track_incoming_qos2 && !self.config.version.is_v5()
    }

    /// The owner has handed incoming message `id` (of `qos`) to the
    /// application (`ack_on_delivery`): queue its acknowledgement. A QoS 1
    /// ack needs the connection the message came on, which only the owner
    /// knows; it calls this only then. QoS 2 flows carry over connections:
    /// the answer says what the owner records, connected or not.
    pub fn acknowledge(&mut self, id: u16, qos: QoS) -> Acked {
        let connected = matches!(self.state, State::Connected(_));
        match qos {
            QoS::AtMostOnce => Acked::Nothing,
            QoS::AtLeastOnce if connected => {
                self.queue_resp(Packet::PubAck, id);
                Acked::PubAck
            }
            QoS::AtLeastOnce => Acked::Nothing,
            QoS::ExactlyOnce => {
                let Some(t) = self.tracked.as_mut() else {
                    return Acked::Nothing;
                };
                if !t.unacked.remove(&id) {
                    return Acked::Nothing;
                }
                if self.delivered_on_pubrel() {
                    self.incoming_qos2.remove(&id);
                    if connected {
                        self.queue_resp(Packet::PubComp, id);
                    }
                    Acked::PubComp
                } else {
                    if connected {
                        self.queue_resp(Packet::PubRec, id);
                    }
                    Acked::PubRec
                }
            }
        }
    }

    /// MQTT 5 incoming topic alias: record it with a topic, fill the topic in
    /// without one. The alias property stays on the message.
    fn resolve_topic_alias(&mut self, publish: &mut Publish) -> Result<(), &'static str> {
        let Some(alias) = publish.properties.get_u32(PropertyId::TOPIC_ALIAS) else {
            return if publish.topic.is_empty() {
                Err("PUBLISH with an empty topic and no topic alias")
            } else {
                Ok(())
            };
        };
        let max = self
            .config
            .properties
            .get_u32(PropertyId::TOPIC_ALIAS_MAXIMUM);
        let alias = u16::try_from(alias).unwrap_or(0);
        if alias == 0 || u32::from(alias) > max.unwrap_or(0) {
            return Err("topic alias outside our Topic Alias Maximum");
        }
        if publish.topic.is_empty() {
            match self.topic_aliases.as_ref().and_then(|m| m.get(&alias)) {
                Some(topic) => publish.topic.clone_from(topic),
                None => return Err("topic alias used before it was set"),
            }
        } else {
            self.topic_aliases
                .get_or_insert_with(Default::default)
                .insert(alias, publish.topic.clone());
        }
        Ok(())
    }

    fn on_puback(&mut self, ack: PubResp) {
        let known = self
            .inflight
            .get(ack.packet_id)
            .is_some_and(|e| e.state == OutState::AwaitPubAck);
        if known {
            self.complete(ack);
        }
    }

    fn on_pubrec(&mut self, rec: PubResp, now: Instant) {
        let Some(entry) = self.inflight.get_mut(rec.packet_id) else {
            return;
        };
        match entry.state {
            OutState::AwaitPubRec if !rec.reason.is_success() => self.complete(rec),
            OutState::AwaitPubRec | OutState::AwaitPubComp => {
                // A duplicate PUBREC gets the PUBREL again.
                if entry.state == OutState::AwaitPubRec {
                    push_small(
                        &mut self.events,
                        Event::PublishReleased {
                            packet_id: rec.packet_id,
                        },
                    );
                }
                entry.state = OutState::AwaitPubComp;
                entry.sent_at = now;
                push_small(
                    &mut self.out,
                    Packet::PubRel(PubResp {
                        packet_id: rec.packet_id,
                        ..PubResp::default()
                    }),
                );
            }
            OutState::AwaitPubAck => {}
        }
    }

    /// The first arrival of incoming QoS 2 message: delivered now, or with
    /// `track_incoming_qos2` reported for the store and, in MQTT 3.x, held
    /// until its PUBREL. True when it was delivered now and its PUBREC
    /// waits for the owner (`ack_on_delivery`).
    fn first_qos2(&mut self, publish: Publish) -> bool {
        if self.delivered_on_pubrel() {
            push_small(&mut self.events, Event::Qos2Received(publish.clone()));
            self.tracked_mut().held.push(publish);
            return false;
        }
        if self.config.ack_on_delivery {
            // The record (if any) is written when the owner acknowledges:
            // an MQTT 5 `r5-` record says "delivered".
            self.tracked_mut().unacked.insert(publish.packet_id);
            push_small(&mut self.events, Event::Message(publish));
            return true;
        }
        if self.config.track_incoming_qos2 {
            push_small(&mut self.events, Event::Qos2Received(publish.clone()));
        }
        push_small(&mut self.events, Event::Message(publish));
        false
    }

    /// Put back an outgoing QoS 1/2 flow read from a store, before CONNECT
    /// goes out: its id is taken, and after a CONNACK that keeps the session
    /// it is resent at its phase (PUBLISH with DUP, or PUBREL). False when
    /// the flow is QoS 0 or its id is already in use.
    pub fn restore(&mut self, publish: Publish, state: OutState, now: Instant) -> bool {
        let id = publish.packet_id;
        if publish.qos == QoS::AtMostOnce || !self.ids.reserve(id) {
            return false;
        }
        self.inflight.insert(publish, state, now)
    }

    /// The PUBLISH of an outgoing flow still in flight.
    pub fn inflight_publish(&self, id: u16) -> Option<&Publish> {
        self.inflight.get(id).map(|e| &e.publish)
    }

    /// Put back an incoming QoS 2 flow read from a store: its PUBREL will be
    /// answered with success and a resent PUBLISH not delivered again. With
    /// `held`, the message was not delivered yet: it is, on the PUBREL.
    pub fn restore_incoming(&mut self, id: u16, held: Option<Publish>) {
        if id != 0
            && self.incoming_qos2.insert(id)
            && let Some(p) = held
        {
            self.tracked_mut().held.push(p);
        }
    }

    fn on_pubrel(&mut self, rel: PubResp) {
        let id = rel.packet_id;
        if self.unacked(id) {
            // Delivered on the first PUBREL and still with the application:
            // the PUBCOMP goes when the owner acknowledges.
            return;
        }
        let held = self.tracked.as_mut().and_then(|t| {
            let i = t.held.iter().position(|p| p.packet_id == id)?;
            Some(t.held.swap_remove(i))
        });
        if let Some(publish) = held {
            push_small(&mut self.events, Event::Message(publish));
            if self.config.ack_on_delivery {
                self.tracked_mut().unacked.insert(id);
                return;
            }
        }
        let known = self.incoming_qos2.remove(&id);
        if known && self.config.track_incoming_qos2 {
            push_small(&mut self.events, Event::Qos2Released { packet_id: id });
        }
        let reason = if known || !self.config.version.is_v5() {
            ReasonCode::SUCCESS
        } else {
            ReasonCode::PACKET_IDENTIFIER_NOT_FOUND
        };
        push_small(
            &mut self.out,
            Packet::PubComp(PubResp {
                packet_id: id,
                reason,
                properties: Properties::default(),
            }),
        );
    }

    fn on_pubcomp(&mut self, comp: PubResp) {
        let known = self
            .inflight
            .get(comp.packet_id)
            .is_some_and(|e| e.state == OutState::AwaitPubComp);
        if known {
            self.complete(comp);
        }
    }

    /// An outgoing publish is finished: free its slot and id, report it.
    fn complete(&mut self, resp: PubResp) {
        if self.inflight.remove(resp.packet_id).is_some() {
            self.ids.release(resp.packet_id);
            push_small(
                &mut self.events,
                Event::PublishComplete {
                    packet_id: resp.packet_id,
                    reason: resp.reason,
                    properties: resp.properties,
                },
            );
        }
    }

    fn on_disconnect(&mut self, d: Disconnect) {
        push_small(&mut self.events, Event::ServerDisconnect(d));
        self.close(CloseReason::ServerDisconnect);
    }

    fn unexpected(&mut self, packet: &Packet, when: &str) {
        let text = format!("unexpected {:?} packet {when}", packet.packet_type());
        self.protocol_error(text, ReasonCode::PROTOCOL_ERROR);
    }

    /// The server broke the protocol: in MQTT 5 say why with DISCONNECT,
    /// then close with `ProtocolError(text)`.
    pub(super) fn protocol_error(&mut self, text: String, reason: ReasonCode) {
        let then = CloseReason::ProtocolError(text);
        if self.config.version.is_v5() {
            self.begin_disconnect(reason, Properties::default(), then);
        } else {
            self.close(then);
        }
    }

    /// After a CONNACK that kept the session: every unacknowledged PUBLISH
    /// (DUP set) and PUBREL again, in their original order.
    pub(super) fn resend_all(&mut self, now: Instant) {
        for id in self.inflight.ids_in_order() {
            self.resend(id, now);
        }
        self.arm_retry(now);
    }

    /// 3.x retry_interval: resend what has waited that long, then re-arm.
    pub(super) fn retry(&mut self, now: Instant) {
        if self.config.version.is_v5() || self.config.retry_interval.is_zero() {
            return;
        }
        let interval = self.config.retry_interval;
        for id in self.inflight.ids_in_order() {
            let due = self
                .inflight
                .get(id)
                .is_some_and(|e| e.sent_at + interval <= now);
            if due {
                self.resend(id, now);
            }
        }
        self.arm_retry(now);
    }

    fn resend(&mut self, id: u16, now: Instant) {
        let Some(entry) = self.inflight.get_mut(id) else {
            return;
        };
        entry.sent_at = now;
        let packet = match entry.state {
            OutState::AwaitPubAck | OutState::AwaitPubRec => {
                entry.publish.dup = true;
                Packet::Publish(entry.publish.clone())
            }
            OutState::AwaitPubComp => Packet::PubRel(PubResp {
                packet_id: id,
                ..PubResp::default()
            }),
        };
        push_small(&mut self.out, packet);
    }

    /// Arm the retry timer for the oldest in-flight entry (3.x with a
    /// retry_interval only). The timer may fire early after acks; that is
    /// harmless because `retry` checks each entry's own age.
    pub(super) fn arm_retry(&mut self, _now: Instant) {
        let interval = self.config.retry_interval;
        if self.config.version.is_v5()
            || interval.is_zero()
            || self.timers.get(Timer::Retry).is_some()
            || !matches!(self.state, State::Connected(_))
        {
            return;
        }
        if let Some(oldest) = self.inflight.oldest_sent_at() {
            self.timers.set(Timer::Retry, oldest + interval);
        }
    }
}
