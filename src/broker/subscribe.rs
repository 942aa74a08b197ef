//! SUBSCRIBE and UNSUBSCRIBE: filter checks, the host's grants, trie and
//! session updates, SUBACK/UNSUBACK codes per version, and retained messages
//! sent on subscribe (retain handling 0/1/2; never for shared subscriptions).

use std::sync::Arc;
use std::time::Instant;

use super::auth::{Action, ClientRef};
use super::connection::Pending;
use super::message::{Outgoing, prop_u32};
use super::topics::{has_control, split_shared, valid_topic_filter};
use super::trie::SubEntry;
use super::{Broker, BrokerEvent, ConnId};
use crate::protocol::codec::{
    Packet, Properties, Property, PropertyId, PropertyValue, QoS, ReasonCode, SubAck, Subscribe,
    UnsubAck, Unsubscribe,
};

fn granted_code(qos: QoS) -> ReasonCode {
    ReasonCode(qos as u8)
}

impl Broker {
    pub(super) fn handle_subscribe(&mut self, conn: ConnId, s: Subscribe, now: Instant) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let v5 = c.version.is_v5();
        if prop_u32(&s.properties, PropertyId::SUBSCRIPTION_IDENTIFIER) == Some(0)
            || s.filters.is_empty()
        {
            return self.protocol_error(conn, ReasonCode::PROTOCOL_ERROR, now);
        }
        let invalid = if v5 {
            ReasonCode::TOPIC_FILTER_INVALID
        } else {
            ReasonCode::V3_SUBACK_FAILURE
        };
        if s.filters.iter().any(|(f, _)| has_control(f)) {
            return self.protocol_error(conn, ReasonCode::MALFORMED_PACKET, now);
        }
        let mut pre = Vec::with_capacity(s.filters.len());
        for (filter, opts) in &s.filters {
            if v5 && opts.no_local && split_shared(filter).0.is_some() {
                return self.protocol_error(conn, ReasonCode::PROTOCOL_ERROR, now);
            }
            let mut code = (!valid_topic_filter(filter, &self.config.limits)).then_some(invalid);
            if let (None, Some(auth)) = (code, &self.config.auth) {
                let cid = c.client_id.as_deref().unwrap_or_default();
                let identity = c.client_id.as_ref().and_then(|id| self.sessions.get(id));
                let client = ClientRef {
                    listener: usize::from(c.listener),
                    client_id: cid,
                    username: identity
                        .and_then(|s| s.identity.as_ref())
                        .and_then(|i| i.username.as_deref()),
                };
                let (_, inner) = split_shared(filter);
                if !auth.authorize(&client, Action::Subscribe, inner) {
                    code = Some(if v5 {
                        ReasonCode::NOT_AUTHORIZED
                    } else {
                        ReasonCode::V3_SUBACK_FAILURE
                    });
                }
            }
            pre.push(code);
        }
        if self.config.hooks.subscribe {
            let filters = s
                .filters
                .iter()
                .zip(&pre)
                .filter(|(_, code)| code.is_none())
                .map(|((f, o), _)| (f.clone(), o.qos))
                .collect();
            let client_id = c.client_id.as_deref().unwrap_or_default().to_string();
            let client = self.record(conn, &client_id);
            self.events.push_back(BrokerEvent::SubscribeRequest {
                conn,
                client,
                filters,
            });
            if let Some(c) = self.conns.get_mut(&conn) {
                c.pending = Some(Box::new(Pending::Subscribe(s, pre)));
            }
            return;
        }
        self.finish_subscribe(conn, s, pre, None, now);
    }

    /// Applies the granted filters, sends SUBACK, then matching retained messages.
    pub(super) fn finish_subscribe(
        &mut self,
        conn: ConnId,
        s: Subscribe,
        pre: Vec<Option<ReasonCode>>,
        decided: Option<Vec<ReasonCode>>,
        now: Instant,
    ) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (v5, problem_info, bridge) = (c.version.is_v5(), c.problem_info, c.bridge);
        let Some(cid) = c.client_id.clone() else {
            return;
        };
        let sub_id = prop_u32(&s.properties, PropertyId::SUBSCRIPTION_IDENTIFIER);
        let mut decided = decided.unwrap_or_default().into_iter();
        let mut codes = Vec::with_capacity(s.filters.len());
        let mut retained: Vec<Outgoing> = Vec::new();
        for ((filter, opts), pre) in s.filters.iter().zip(pre) {
            let code = match pre {
                Some(code) => code,
                None if self.config.hooks.subscribe => {
                    decided.next().unwrap_or(ReasonCode::UNSPECIFIED_ERROR)
                }
                None => granted_code(opts.qos),
            };
            let code = match QoS::from_u8(code.0) {
                Some(q) => granted_code(q.min(opts.qos)),
                None if v5 => code,
                None => ReasonCode::V3_SUBACK_FAILURE,
            };
            codes.push(code);
            let Some(qos) = QoS::from_u8(code.0) else {
                continue;
            };
            let mut opts = *opts;
            opts.qos = qos;
            if !v5 {
                opts.no_local = false;
                opts.retain_as_published = false;
                opts.retain_handling = 0;
            }
            // A bridge (try_private) never gets its own messages back and
            // sees the retain flag as published, as mosquitto does.
            if bridge && split_shared(filter).0.is_none() {
                opts.no_local = true;
                opts.retain_as_published = true;
            }
            let entry = SubEntry {
                opts,
                sub_id: sub_id.filter(|_| v5),
            };
            let (group, inner) = split_shared(filter);
            let new = self.trie.insert(inner, group, &cid, entry);
            if let Some(session) = self.sessions.get_mut(&cid)
                && session.subs.insert(filter.clone(), entry).is_none()
            {
                self.stats.subscriptions += 1;
            }
            let wants_retained = group.is_none()
                && (opts.retain_handling == 0 || (opts.retain_handling == 1 && new));
            if wants_retained {
                for msg in self.retained.matching(inner, now) {
                    retained.push(Outgoing {
                        qos: msg.qos.min(qos),
                        msg,
                        retain: true,
                        sub_ids: entry.sub_id.into_iter().collect(),
                        seq: 0,
                    });
                }
            }
        }
        let mut properties = Properties::default();
        if v5 && problem_info && codes.iter().any(|c| !c.is_success()) {
            properties.list.push(Property {
                id: PropertyId::REASON_STRING,
                value: PropertyValue::String("subscription refused".into()),
            });
        }
        self.send(
            conn,
            Packet::SubAck(SubAck {
                packet_id: s.packet_id,
                properties,
                codes,
            }),
        );
        if retained.is_empty() {
            return;
        }
        let auth = self.config.auth.clone();
        let Some(session) = self.sessions.get_mut(&cid) else {
            return;
        };
        if let (Some(auth), Some(id)) = (auth, &session.identity) {
            let client = ClientRef {
                listener: id.listener,
                client_id: &cid,
                username: id.username.as_deref(),
            };
            retained.retain(|out| auth.authorize(&client, Action::Read, &out.msg.topic));
        }
        // Sent ahead of the queue as the window allows: every match goes,
        // however many there are (no queue limit applies to them).
        session.flow_mut().retained.extend(retained);
        self.pump(&cid, now);
    }

    pub(super) fn handle_unsubscribe(&mut self, conn: ConnId, u: Unsubscribe, now: Instant) {
        if u.filters.iter().any(|f| has_control(f)) {
            return self.protocol_error(conn, ReasonCode::MALFORMED_PACKET, now);
        }
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let v5 = c.version.is_v5();
        let Some(cid) = c.client_id.clone() else {
            return;
        };
        let mut codes = Vec::with_capacity(u.filters.len());
        for filter in &u.filters {
            let existed = self
                .sessions
                .get_mut(&cid)
                .is_some_and(|s| s.subs.remove(filter).is_some());
            if existed {
                self.stats.subscriptions -= 1;
                self.unsubscribe_trie(filter, &cid);
            }
            codes.push(if existed {
                ReasonCode::SUCCESS
            } else {
                ReasonCode::NO_SUBSCRIPTION_FOUND
            });
        }
        if !v5 {
            codes.clear();
        }
        if self.config.hooks.unsubscribe {
            let client = self.record(conn, &cid);
            self.events.push_back(BrokerEvent::Unsubscribed {
                conn,
                client,
                filters: u.filters.clone(),
            });
        }
        self.send(
            conn,
            Packet::UnsubAck(UnsubAck {
                packet_id: u.packet_id,
                properties: Properties::default(),
                codes,
            }),
        );
    }

    /// Removes `client`'s subscription `filter` (full, maybe `$share/`) from the trie.
    pub(super) fn unsubscribe_trie(&mut self, filter: &str, client: &Arc<str>) {
        let (group, inner) = split_shared(filter);
        self.trie.remove(inner, group, client);
    }
}
