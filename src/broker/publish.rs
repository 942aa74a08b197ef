//! PUBLISH in both directions: inbound checks (topic alias, topic rules,
//! QoS 2 duplicates, receive maximum, host hook) and acks; routing through
//! the trie with per-client merging; delivery through the in-flight window
//! and queue, in order; the outbound QoS 1/2 handshakes.

use std::sync::Arc;
use std::time::Instant;

use super::auth::{Action, ClientRef};
use super::connection::{Conn, Pending};
use super::message::{Message, Outgoing, prop_u32};
use super::session::{Flight, Inflight};
use super::topics::check_topic_name;
use super::trie::Match;
use super::{Broker, BrokerEvent, ConnId};
use crate::protocol::codec::{
    Packet, Properties, Property, PropertyId, PropertyValue, PubResp, Publish, QoS, ReasonCode,
    encoded_len,
};

fn resp(packet_id: u16, reason: ReasonCode) -> PubResp {
    PubResp {
        packet_id,
        reason,
        properties: Properties::default(),
    }
}

/// Uses an outbound topic alias when the client allows them: a known topic
/// goes as alias only; a new one gets the next free alias, returned so the
/// caller registers it once the packet is really sent.
fn outbound_alias(c: &Conn, p: &mut Publish) -> Option<u16> {
    if c.alias_out_max == 0 {
        return None;
    }
    let assigned = c.aliases.as_ref().map_or(0, |a| a.outbound.len());
    let known = c.aliases.as_ref().and_then(|a| a.outbound.get(&p.topic));
    let (alias, new) = match known {
        Some(&a) => (a, false),
        None if assigned < usize::from(c.alias_out_max) => (assigned as u16 + 1, true),
        None => return None,
    };
    if !new {
        p.topic.clear();
    }
    p.properties.list.push(Property {
        id: PropertyId::TOPIC_ALIAS,
        value: PropertyValue::U16(alias),
    });
    new.then_some(alias)
}

impl Broker {
    pub(super) fn handle_publish(&mut self, conn: ConnId, mut p: Publish, now: Instant) {
        let limits = &self.config.limits;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.version.is_v5()
            && let Some(alias) = prop_u32(&p.properties, PropertyId::TOPIC_ALIAS)
        {
            if alias == 0 || alias > u32::from(limits.topic_alias_max) {
                return self.protocol_error(conn, ReasonCode::TOPIC_ALIAS_INVALID, now);
            }
            let alias = alias as u16;
            if p.topic.is_empty() {
                match c.aliases.as_ref().and_then(|a| a.inbound.get(&alias)) {
                    Some(t) => p.topic = t.clone(),
                    None => return self.protocol_error(conn, ReasonCode::PROTOCOL_ERROR, now),
                }
            } else {
                let aliases = c.aliases.get_or_insert_with(Box::default);
                aliases.inbound.insert(alias, p.topic.clone());
            }
        }
        if let Err(code) = check_topic_name(&p.topic, limits) {
            return self.protocol_error(conn, code, now);
        }
        if p.qos != QoS::AtMostOnce && p.packet_id == 0 {
            return self.protocol_error(conn, ReasonCode::PROTOCOL_ERROR, now);
        }
        if p.retain && !limits.retain_available {
            // As mosquitto: the connection ends, whatever the version.
            return self.protocol_error(conn, ReasonCode::RETAIN_NOT_SUPPORTED, now);
        }
        let Some(s) = c.client_id.as_ref().and_then(|cid| self.sessions.get(cid)) else {
            return;
        };
        if p.qos == QoS::ExactlyOnce {
            if s.incoming_qos2.contains(&p.packet_id) {
                return self.send(conn, Packet::PubRec(resp(p.packet_id, ReasonCode::SUCCESS)));
            }
            if s.incoming_qos2.len() >= usize::from(limits.receive_maximum) {
                return self.protocol_error(conn, ReasonCode::RECEIVE_MAXIMUM_EXCEEDED, now);
            }
        }
        let too_large = limits
            .max_payload_size
            .is_some_and(|max| p.payload.len() > max as usize);
        if too_large {
            return self.finish_publish(conn, p, ReasonCode::IMPLEMENTATION_SPECIFIC_ERROR, now);
        }
        if let Some(auth) = &self.config.auth {
            let client = ClientRef {
                listener: usize::from(c.listener),
                client_id: &s.client_id,
                username: s.identity.as_ref().and_then(|i| i.username.as_deref()),
            };
            if !auth.authorize(&client, Action::Publish, &p.topic) {
                return self.finish_publish(conn, p, ReasonCode::NOT_AUTHORIZED, now);
            }
        }
        if self.config.hooks.publish {
            let cid = s.client_id.clone();
            let client = self.record(conn, &cid);
            self.events.push_back(BrokerEvent::PublishRequest {
                conn,
                client,
                topic: p.topic.clone(),
                payload: p.payload.clone(),
                qos: p.qos,
                retain: p.retain,
                properties: p.properties.clone(),
            });
            if let Some(c) = self.conns.get_mut(&conn) {
                c.pending = Some(Box::new(Pending::Publish(p)));
            }
            return;
        }
        self.finish_publish(conn, p, ReasonCode::SUCCESS, now);
    }

    /// Routes an accepted PUBLISH and acknowledges it (with `code` when refused).
    pub(super) fn finish_publish(
        &mut self,
        conn: ConnId,
        p: Publish,
        code: ReasonCode,
        now: Instant,
    ) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (v5, problem_info) = (c.version.is_v5(), c.problem_info);
        let Some(cid) = c.client_id.clone() else {
            return;
        };
        let (qos, packet_id) = (p.qos, p.packet_id);
        let mut code = code;
        if code.is_success() {
            let msg = Message::new(
                p.topic,
                p.payload,
                p.qos,
                p.retain,
                &p.properties,
                Some(cid.clone()),
                now,
            );
            if self.route(msg, now) == 0 && code == ReasonCode::SUCCESS {
                code = ReasonCode::NO_MATCHING_SUBSCRIBERS;
            }
        } else {
            self.stats.dropped += 1;
        }
        let code = if v5 { code } else { ReasonCode::SUCCESS };
        let mut ack = resp(packet_id, code);
        if !code.is_success() && problem_info {
            ack.properties.list.push(Property {
                id: PropertyId::REASON_STRING,
                value: PropertyValue::String("publish refused".into()),
            });
        }
        match qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => self.send(conn, Packet::PubAck(ack)),
            QoS::ExactlyOnce => {
                if code.is_success()
                    && let Some(s) = self.sessions.get_mut(&cid)
                {
                    s.incoming_qos2.insert(packet_id);
                }
                self.send(conn, Packet::PubRec(ack));
            }
        }
    }

    pub(super) fn handle_pubrel(&mut self, conn: ConnId, packet_id: u16) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let v5 = c.version.is_v5();
        let known = c
            .client_id
            .as_ref()
            .and_then(|cid| self.sessions.get_mut(cid))
            .is_some_and(|s| s.incoming_qos2.remove(&packet_id));
        let code = if known || !v5 {
            ReasonCode::SUCCESS
        } else {
            ReasonCode::PACKET_IDENTIFIER_NOT_FOUND
        };
        self.send(conn, Packet::PubComp(resp(packet_id, code)));
    }

    fn conn_session(&self, conn: ConnId) -> Option<Arc<str>> {
        self.conns.get(&conn).and_then(|c| c.client_id.clone())
    }

    /// Removes the in-flight entry `packet_id` in `state`; true if found.
    fn complete(&mut self, cid: &Arc<str>, packet_id: u16, state: Flight) -> bool {
        let Some(s) = self.sessions.get_mut(cid) else {
            return false;
        };
        match s.find_inflight(packet_id, state) {
            Some(i) => {
                s.inflight.remove(i);
                true
            }
            None => false,
        }
    }

    /// True when `packet_id` is in flight in a state other than `state`:
    /// the client answered with the wrong acknowledgement for the message's
    /// QoS (or skipped a step), a protocol error as mosquitto treats it.
    /// Ids not in flight at all are ignored (late or duplicate acks).
    fn wrong_ack(&self, cid: &Arc<str>, packet_id: u16, state: Flight) -> bool {
        self.sessions.get(cid).is_some_and(|s| {
            s.inflight
                .iter()
                .any(|f| f.packet_id == packet_id && f.state != state)
        })
    }

    pub(super) fn handle_puback(&mut self, conn: ConnId, packet_id: u16, now: Instant) {
        let Some(cid) = self.conn_session(conn) else {
            return;
        };
        if self.complete(&cid, packet_id, Flight::Ack) {
            self.pump(&cid, now);
        } else if self.wrong_ack(&cid, packet_id, Flight::Ack) {
            self.protocol_error(conn, ReasonCode::PROTOCOL_ERROR, now);
        }
    }

    pub(super) fn handle_pubcomp(&mut self, conn: ConnId, packet_id: u16, now: Instant) {
        let Some(cid) = self.conn_session(conn) else {
            return;
        };
        if self.complete(&cid, packet_id, Flight::Comp) {
            self.pump(&cid, now);
        } else if self.wrong_ack(&cid, packet_id, Flight::Comp) {
            self.protocol_error(conn, ReasonCode::PROTOCOL_ERROR, now);
        }
    }

    pub(super) fn handle_pubrec(&mut self, conn: ConnId, r: PubResp, now: Instant) {
        let Some(cid) = self.conn_session(conn) else {
            return;
        };
        let qos1 = self.sessions.get(&cid).is_some_and(|s| {
            s.inflight
                .iter()
                .any(|f| f.packet_id == r.packet_id && f.state == Flight::Ack)
        });
        if qos1 {
            return self.protocol_error(conn, ReasonCode::PROTOCOL_ERROR, now);
        }
        if !r.reason.is_success() {
            if self.complete(&cid, r.packet_id, Flight::Rec) {
                self.pump(&cid, now);
            }
            return;
        }
        let Some(s) = self.sessions.get_mut(&cid) else {
            return;
        };
        let found = match s.find_inflight(r.packet_id, Flight::Rec) {
            Some(i) => {
                s.inflight[i].state = Flight::Comp;
                true
            }
            None => s.find_inflight(r.packet_id, Flight::Comp).is_some(),
        };
        let code = if found {
            ReasonCode::SUCCESS
        } else {
            ReasonCode::PACKET_IDENTIFIER_NOT_FOUND
        };
        self.send(conn, Packet::PubRel(resp(r.packet_id, code)));
    }

    /// Sends `msg` to every matching subscription (retaining it first).
    /// Delivers `msg` to every matching subscription; returns how many
    /// subscribers matched (MQTT 5 acks say 0x10 when none did).
    pub(super) fn route(&mut self, msg: Message, now: Instant) -> usize {
        self.stats.messages_in += 1;
        self.route_uncounted(msg, now)
    }

    /// `route` without counting the message as received (the broker's own
    /// `$SYS` messages).
    pub(super) fn route_uncounted(&mut self, msg: Message, now: Instant) -> usize {
        let msg = Arc::new(msg);
        if msg.retain {
            self.retained.store(&msg);
            self.stage_retained(&msg.topic);
        }
        let mut matches: Vec<Match> = Vec::new();
        let sessions = &self.sessions;
        let online = |c: &str| sessions.get(c).is_some_and(|s| s.conn.is_some());
        self.trie.matches(&msg.topic, &online, &mut matches);
        matches.retain(|m| {
            !(m.entry.opts.no_local && !m.shared && msg.origin.as_deref() == Some(&*m.client))
        });
        // Group each client's matches (overlapping subscriptions deliver
        // once). Every match of a client carries its session's one Arc, so
        // the pointer is the key: no string comparisons per message.
        matches.sort_unstable_by_key(|m| (m.shared, Arc::as_ptr(&m.client).cast::<u8>() as usize));
        let matched = matches.len();
        let mut i = 0;
        while i < matches.len() {
            let first = &matches[i];
            let mut out = Outgoing {
                msg: msg.clone(),
                qos: msg.qos.min(first.entry.opts.qos),
                retain: msg.retain && first.entry.opts.retain_as_published,
                sub_ids: first.entry.sub_id.into_iter().collect(),
                seq: 0,
            };
            let client = first.client.clone();
            let mut j = i + 1;
            if !first.shared {
                while j < matches.len()
                    && !matches[j].shared
                    && Arc::ptr_eq(&matches[j].client, &client)
                {
                    let e = &matches[j].entry;
                    out.qos = out.qos.max(msg.qos.min(e.opts.qos));
                    out.retain |= msg.retain && e.opts.retain_as_published;
                    out.sub_ids.extend(e.sub_id);
                    j += 1;
                }
            }
            i = j;
            self.deliver(&client, out, now);
        }
        matched
    }

    /// Hands one message to a session: sent now, queued (pausing the
    /// connection of its publisher when an online session's queue is full;
    /// see flow.rs), or dropped.
    pub(super) fn deliver(&mut self, cid: &Arc<str>, out: Outgoing, now: Instant) {
        self.stage_session(cid);
        let Some(s) = self.sessions.get_mut(cid) else {
            return;
        };
        if let (Some(auth), Some(id)) = (&self.config.auth, &s.identity) {
            let client = ClientRef {
                listener: id.listener,
                client_id: cid,
                username: id.username.as_deref(),
            };
            if !auth.authorize(&client, Action::Read, &out.msg.topic) {
                self.stats.delivery_denied += 1;
                return;
            }
        }
        if s.conn.is_none() {
            if out.qos == QoS::AtMostOnce {
                return;
            }
            let dropped = s.enqueue(out, &self.config.limits);
            self.stats.dropped += dropped;
            self.stats.dropped_offline += dropped;
            let was = s.flow.as_ref().is_some_and(|f| f.dropping);
            let newly = dropped > 0 && !was;
            if dropped > 0 || was {
                s.flow_mut().dropping = dropped > 0;
                s.tidy_flow();
            }
            if newly && self.config.hooks.notices {
                self.events.push_back(BrokerEvent::QueueFull {
                    client_id: cid.to_string(),
                });
            }
            return;
        }
        if out.qos == QoS::AtMostOnce
            && s.queue_is_empty()
            && !s.has_retained_pending()
            && !s
                .conn
                .and_then(|c| self.conns.get(&c))
                .is_some_and(|c| c.congested)
        {
            return self.transmit(cid, out, now);
        }
        if out.qos == QoS::AtMostOnce && s.is_full(&self.config.limits) {
            // Overload: QoS 0 waits only if its publisher can be paused.
            if !self.flow_check(cid, out.msg.origin.as_ref(), now) {
                self.stats.dropped += 1;
                self.stats.dropped_qos0 += 1;
                return;
            }
        }
        let Some(s) = self.sessions.get_mut(cid) else {
            return;
        };
        s.push_queued(out);
        if self.pump(cid, now) {
            // Still full: the message is the last one queued (the window
            // takes from the front); pause its publisher.
            let origin = self
                .sessions
                .get(cid)
                .and_then(|s| s.back_queued())
                .and_then(|o| o.msg.origin.clone());
            self.flow_check(cid, origin.as_ref(), now);
        }
    }

    /// Moves retained, then queued messages out while the in-flight window
    /// has room; lets paused publishers go once the queue has drained.
    /// Returns whether the (online) session's queue is still full.
    pub(super) fn pump(&mut self, cid: &Arc<str>, now: Instant) -> bool {
        self.stage_session(cid);
        let (flow, full) = loop {
            let limits = &self.config.limits;
            let Some(s) = self.sessions.get_mut(cid) else {
                return false;
            };
            let Some(c) = s.conn.and_then(|c| self.conns.get(&c)) else {
                return false;
            };
            let done = (s.flow.is_some(), s.is_full(limits));
            if c.congested {
                break done;
            }
            let window = c.window;
            let retained = s.has_retained_pending();
            let front = match (retained, s.flow.as_ref()) {
                (true, Some(f)) => f.retained.front(),
                _ => s.front_queued(),
            };
            let Some(front) = front else {
                break done;
            };
            if front.qos != QoS::AtMostOnce
                && (s.inflight.len() >= usize::from(window)
                    || !s.inflight_bytes_allow(front.msg.payload.len(), limits))
            {
                break done;
            }
            let out = match (retained, s.flow.as_mut()) {
                (true, Some(f)) => f.retained.pop_front(),
                _ => s.pop_queued(),
            };
            let Some(out) = out else {
                break done;
            };
            self.transmit(cid, out, now);
        };
        // Only a session with flow state has anything to release or free.
        if flow {
            if let Some(s) = self.sessions.get_mut(cid) {
                s.tidy_flow();
            }
            self.flow_release(cid, false);
        }
        full
    }

    /// Sends one message to the session's connection (registering QoS 1/2
    /// in flight). Expired or too-large messages are dropped and counted.
    fn transmit(&mut self, cid: &Arc<str>, out: Outgoing, now: Instant) {
        if self.config.hooks.deliver && !self.host_allows_delivery(cid, &out) {
            self.stats.delivery_denied += 1;
            return;
        }
        let Some(s) = self.sessions.get_mut(cid) else {
            return;
        };
        let Some(conn) = s.conn else {
            return;
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let packet_id = if out.qos == QoS::AtMostOnce {
            0
        } else {
            s.alloc_packet_id()
        };
        let v5 = c.version.is_v5();
        if (!v5 || c.alias_out_max == 0) && super::fastpath::cacheable(&out, v5) {
            // Fast path: the header is encoded once per message and patched.
            let payload = &out.msg.payload;
            let start = c.buf.len();
            if self
                .headers
                .write_header(&out, v5, packet_id, false, &mut c.buf)
                .is_none()
            {
                self.stats.dropped += 1;
                return;
            }
            if c.buf.len() - start + payload.len() > c.max_packet_out as usize {
                c.buf.truncate(start);
                self.stats.dropped += 1;
                return;
            }
            if payload.len() <= super::fastpath::COPY_MAX {
                c.buf.extend_from_slice(payload);
            } else {
                c.flush_buf();
                c.out.push(super::connection::Out::Wire(payload.clone()));
            }
            if !c.dirty {
                c.dirty = true;
                self.dirty.push_back(conn);
            }
            if out.qos != QoS::AtMostOnce {
                let state = if out.qos == QoS::AtLeastOnce {
                    Flight::Ack
                } else {
                    Flight::Rec
                };
                s.inflight.push_back(Inflight {
                    packet_id,
                    out,
                    state,
                });
            }
            self.stats.messages_out += 1;
            self.stats.packets_out += 1;
            return;
        }
        let Some(mut p) = out.to_publish(packet_id, false, now) else {
            self.stats.expired += 1;
            return;
        };
        let alias = outbound_alias(c, &mut p);
        let packet = Packet::Publish(p);
        match encoded_len(&packet, c.version) {
            Ok(size) if size <= c.max_packet_out as usize => {}
            _ => {
                self.stats.dropped += 1;
                return;
            }
        }
        if let Some(alias) = alias {
            let aliases = c.aliases.get_or_insert_with(Box::default);
            aliases.outbound.insert(out.msg.topic.clone(), alias);
        }
        if out.qos != QoS::AtMostOnce {
            let state = if out.qos == QoS::AtLeastOnce {
                Flight::Ack
            } else {
                Flight::Rec
            };
            s.inflight.push_back(Inflight {
                packet_id,
                out,
                state,
            });
        }
        self.stats.messages_out += 1;
        self.send(conn, packet);
    }

    /// The host's delivery check for one message to `cid`'s connection.
    fn host_allows_delivery(&self, cid: &Arc<str>, out: &Outgoing) -> bool {
        let (Some(check), Some(conn)) = (
            &self.config.delivery_check,
            self.sessions.get(cid).and_then(|s| s.conn),
        ) else {
            return true;
        };
        let client = self.record(conn, cid);
        let delivery = super::Delivery {
            topic: &out.msg.topic,
            payload: &out.msg.payload,
            qos: out.qos,
            retain: out.retain,
            properties: &out.msg.properties,
        };
        check.may_deliver(&client, &delivery)
    }

    /// On reconnect: resends unacknowledged PUBLISH (DUP) and PUBREL in order.
    pub(super) fn resend_inflight(&mut self, cid: &Arc<str>, now: Instant) {
        let Some(s) = self.sessions.get_mut(cid) else {
            return;
        };
        let Some(conn) = s.conn else {
            return;
        };
        let mut packets = Vec::with_capacity(s.inflight.len());
        for f in &s.inflight {
            match f.state {
                Flight::Comp => {
                    packets.push(Packet::PubRel(resp(f.packet_id, ReasonCode::SUCCESS)));
                }
                _ => {
                    // An expired message still goes out once it is in flight:
                    // the client may already hold it.
                    let out = &f.out;
                    let p = out
                        .to_publish(f.packet_id, true, now)
                        .unwrap_or_else(|| Publish {
                            dup: true,
                            qos: out.qos,
                            retain: out.retain,
                            topic: out.msg.topic.clone(),
                            packet_id: f.packet_id,
                            properties: out.msg.properties.clone(),
                            payload: out.msg.payload.clone(),
                        });
                    packets.push(Packet::Publish(p));
                }
            }
        }
        for p in packets {
            self.send(conn, p);
        }
    }
}
