//! Asynchronous request bookkeeping: tokens, completion callbacks waiting for
//! their acknowledgement, and the queue of publishes not yet handed to the
//! session (offline buffer, or in-flight window full).

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use super::error::ClientError;
use super::sync::{AckResult, Message};
use crate::protocol::codec::{Properties, QoS, ReasonCode};
use crate::protocol::session::client::{ClientSession, SessionError};

/// What a finished request reports.
#[derive(Debug, Clone)]
pub enum Success {
    /// CONNACK accepted.
    Connect {
        server_uri: String,
        mqtt_version: i32,
        session_present: bool,
        properties: Properties,
    },
    /// A publish was acknowledged (QoS 0: handed to the connection).
    Publish {
        topic: String,
        message: Message,
        reason: ReasonCode,
        properties: Properties,
    },
    /// SUBACK or UNSUBACK: one code per filter.
    Ack(AckResult),
    /// DISCONNECT sent.
    Disconnect,
}

/// Why a request failed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What failed; src/ffi turns it into Paho's code (a refused CONNACK
    /// keeps its return or reason code in `ClientError::Refused`).
    pub error: ClientError,
    /// MQTT 5 reason code from the server, if one came.
    pub reason: ReasonCode,
    pub properties: Properties,
    pub message: Option<String>,
}

impl Failure {
    /// The server refused a request with an MQTT 5 reason code.
    pub fn refused(reason: ReasonCode, properties: Properties, message: &str) -> Failure {
        Failure {
            error: ClientError::Failure,
            reason,
            properties,
            message: Some(message.to_string()),
        }
    }

    /// CONNACK refused the connection with return/reason code `rc`.
    pub fn connack(rc: i32) -> Failure {
        Failure {
            error: ClientError::Refused(rc),
            reason: ReasonCode(u8::try_from(rc).unwrap_or(0x80)),
            properties: Properties::default(),
            message: Some("CONNACK return code".into()),
        }
    }

    pub fn from_error(e: &ClientError, message: &str) -> Failure {
        Failure {
            error: e.clone(),
            reason: ReasonCode::SUCCESS,
            properties: Properties::default(),
            message: Some(message.to_string()),
        }
    }
}

/// The callback of one request; runs once, on the dispatcher thread.
pub type OnComplete = Box<dyn FnOnce(i32, Result<Success, Failure>) + Send>;

/// A request waiting for its acknowledgement.
pub struct Waiting {
    pub token: i32,
    pub on_complete: Option<OnComplete>,
    /// For publishes: what was sent (reported back on success).
    /// Boxed: a table entry per request stays small.
    pub publish: Option<Box<(String, Message)>>,
}

/// A publish not yet given to the session.
pub struct Buffered {
    pub token: i32,
    pub topic: String,
    pub payload: Bytes,
    pub qos: QoS,
    pub retained: bool,
    pub properties: Properties,
    pub on_complete: Option<OnComplete>,
    /// Its command record's sequence number (0: not persisted).
    pub seqno: u32,
}

/// Requests waiting for their acknowledgement, by packet id, in the order
/// they were sent. Acknowledgements come in that order nearly always, so a
/// lookup from the front finds its entry at once, and one request in
/// flight costs one entry rather than a hash table (thousands of clients
/// per process).
#[derive(Default)]
pub struct WaitingList {
    entries: VecDeque<(u16, Waiting)>,
}

impl WaitingList {
    pub fn insert(&mut self, id: u16, w: Waiting) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.0 == id) {
            e.1 = w;
            return;
        }
        if self.entries.capacity() == 0 {
            self.entries.reserve_exact(1);
        }
        self.entries.push_back((id, w));
    }

    pub fn remove(&mut self, id: &u16) -> Option<Waiting> {
        let i = self.entries.iter().position(|e| e.0 == *id)?;
        self.entries.remove(i).map(|e| e.1)
    }

    pub fn values(&self) -> impl Iterator<Item = &Waiting> {
        self.entries.iter().map(|e| &e.1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&u16, &Waiting)> {
        self.entries.iter().map(|e| (&e.0, &e.1))
    }

    pub fn keys(&self) -> impl Iterator<Item = &u16> {
        self.entries.iter().map(|e| &e.0)
    }

    pub fn drain(&mut self) -> impl Iterator<Item = (u16, Waiting)> + '_ {
        self.entries.drain(..)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// With nothing waiting, give the memory back.
    pub fn release_if_empty(&mut self) {
        if self.entries.is_empty() && self.entries.capacity() > 0 {
            self.entries = VecDeque::new();
        }
    }
}

/// All of one asynchronous client's request state.
#[derive(Default)]
pub struct Requests {
    /// By packet id.
    pub waiting: WaitingList,
    pub buffer: VecDeque<Buffered>,
    next_token: u16,
    /// A token may be taken already: the counter wrapped, or requests with
    /// tokens of their own (read back from a store) were adopted. Until
    /// then every token above the last one is free, with no need to look
    /// (a large offline buffer made each send a scan of it).
    maybe_taken: bool,
}

impl Requests {
    /// Requests with tokens not from `next_token` are pending now.
    pub fn adopted_tokens(&mut self) {
        self.maybe_taken = true;
    }

    /// A token not in use by any pending request (1..=65535, cycling).
    pub fn next_token(&mut self) -> i32 {
        for _ in 0..=u16::MAX as u32 {
            self.next_token = match self.next_token.checked_add(1) {
                Some(t) => t,
                None => {
                    self.maybe_taken = true;
                    1
                }
            };
            let t = i32::from(self.next_token);
            if !self.maybe_taken {
                return t;
            }
            let busy = self.waiting.values().any(|w| w.token == t)
                || self.buffer.iter().any(|b| b.token == t);
            if !busy {
                return t;
            }
        }
        0
    }

    /// Tokens of publishes not yet complete, oldest first.
    pub fn pending_tokens(&self) -> Vec<i32> {
        let mut v: Vec<i32> = self
            .waiting
            .values()
            .filter(|w| w.publish.is_some())
            .map(|w| w.token)
            .collect();
        v.sort_unstable();
        v.extend(self.buffer.iter().map(|b| b.token));
        v
    }

    pub fn is_pending(&self, token: i32) -> bool {
        self.waiting.values().any(|w| w.token == token)
            || self.buffer.iter().any(|b| b.token == token)
    }

    /// Hand buffered publishes to the session in order while its window has
    /// room. Returns completions to run (QoS 0 publishes are done once queued).
    /// With persistence, what left the buffer is pushed on `sent`: (packet
    /// id, 0 for QoS 0 or a refused publish; command sequence number).
    pub fn drain(
        &mut self,
        session: &mut ClientSession,
        now: Instant,
        mut sent: Option<&mut Vec<(u16, u32)>>,
    ) -> Vec<(i32, OnComplete, Result<Success, Failure>)> {
        let mut done = Vec::new();
        while let Some(b) = self.buffer.pop_front() {
            let r = session.publish(
                b.topic.clone(),
                b.payload.clone(),
                b.qos,
                b.retained,
                b.properties.clone(),
                now,
            );
            match r {
                Err(
                    SessionError::InflightFull
                    | SessionError::NoPacketId
                    | SessionError::NotConnected,
                ) => {
                    // No room yet: it stays first in line.
                    self.buffer.push_front(b);
                    break;
                }
                Err(SessionError::Invalid(why)) => {
                    if let Some(s) = sent.as_deref_mut() {
                        s.push((0, b.seqno));
                    }
                    if let Some(cb) = b.on_complete {
                        done.push((
                            b.token,
                            cb,
                            Err(Failure::from_error(&ClientError::Failure, why)),
                        ));
                    }
                }
                Ok(pid) => {
                    if let Some(s) = sent.as_deref_mut() {
                        s.push((pid, b.seqno));
                    }
                    let message = Message {
                        payload: b.payload,
                        qos: b.qos,
                        retained: b.retained,
                        dup: false,
                        msgid: pid,
                        properties: b.properties,
                        receipt: None,
                    };
                    if b.qos == QoS::AtMostOnce {
                        if let Some(cb) = b.on_complete {
                            let s = Success::Publish {
                                topic: b.topic,
                                message,
                                reason: ReasonCode::SUCCESS,
                                properties: Properties::default(),
                            };
                            done.push((b.token, cb, Ok(s)));
                        }
                    } else {
                        self.waiting.insert(
                            pid,
                            Waiting {
                                token: b.token,
                                on_complete: b.on_complete,
                                publish: Some(Box::new((b.topic, message))),
                            },
                        );
                    }
                }
            }
        }
        done
    }

    /// The connection is gone: SUBSCRIBE/UNSUBSCRIBE requests fail now;
    /// publishes stay for redelivery when the session is kept.
    pub fn fail_acks(&mut self) -> Vec<(i32, OnComplete, Result<Success, Failure>)> {
        let ids: Vec<u16> = self
            .waiting
            .iter()
            .filter(|(_, w)| w.publish.is_none())
            .map(|(&k, _)| k)
            .collect();
        let mut done = Vec::new();
        for id in ids {
            if let Some(w) = self.waiting.remove(&id)
                && let Some(cb) = w.on_complete
            {
                done.push((
                    w.token,
                    cb,
                    Err(Failure::from_error(
                        &ClientError::Disconnected,
                        "connection lost",
                    )),
                ));
            }
        }
        done
    }

    /// Everything fails (the reactor died): acknowledgement waits and the
    /// buffer alike.
    pub fn fail_all(&mut self) -> Vec<(i32, OnComplete, Result<Success, Failure>)> {
        let mut done = Vec::new();
        let waiting: Vec<Waiting> = self.waiting.drain().map(|(_, w)| w).collect();
        let buffered = self.buffer.drain(..).map(|b| (b.token, b.on_complete));
        for (token, cb) in waiting
            .into_iter()
            .map(|w| (w.token, w.on_complete))
            .chain(buffered)
        {
            if let Some(cb) = cb {
                done.push((
                    token,
                    cb,
                    Err(Failure::from_error(
                        &ClientError::Failure,
                        "reactor stopped",
                    )),
                ));
            }
        }
        done
    }

    /// After a reconnect: publishes the session no longer carries (clean
    /// session) go back to the front of the buffer, in token order, so they
    /// are sent again rather than lost.
    pub fn requeue_dropped(&mut self, kept: &[u16]) {
        let mut dropped: Vec<(u16, Waiting)> = Vec::new();
        let ids: Vec<u16> = self
            .waiting
            .keys()
            .copied()
            .filter(|k| !kept.contains(k))
            .collect();
        for id in ids {
            if let Some(w) = self.waiting.remove(&id) {
                dropped.push((id, w));
            }
        }
        dropped.sort_by_key(|(_, w)| w.token);
        for (_, w) in dropped.into_iter().rev() {
            match w.publish.map(|b| *b) {
                Some((topic, m)) => self.buffer.push_front(Buffered {
                    token: w.token,
                    topic,
                    payload: m.payload,
                    qos: m.qos,
                    retained: m.retained,
                    properties: m.properties,
                    on_complete: w.on_complete,
                    seqno: 0,
                }),
                None => {
                    // A SUBSCRIBE/UNSUBSCRIBE lost with its connection was
                    // failed by `fail_acks` already.
                }
            }
        }
    }
}

#[cfg(test)]
mod token_tests {
    use super::*;

    fn buffered(token: i32) -> Buffered {
        Buffered {
            token,
            topic: "t".into(),
            payload: Bytes::new(),
            qos: QoS::AtLeastOnce,
            retained: false,
            properties: Properties::default(),
            on_complete: None,
            seqno: 0,
        }
    }

    #[test]
    fn tokens_skip_those_in_use_once_they_may_be() {
        let mut r = Requests::default();
        assert_eq!((r.next_token(), r.next_token()), (1, 2));
        // A token read back from a store: from now on, in-use ones are skipped.
        r.buffer.push_back(buffered(3));
        r.adopted_tokens();
        assert_eq!(r.next_token(), 4);

        // After the counter wraps, tokens still pending are skipped too.
        let mut r = Requests::default();
        r.buffer.push_back(buffered(1));
        for want in 1..=u16::MAX {
            assert_eq!(r.next_token(), i32::from(want));
        }
        assert_eq!(r.next_token(), 2, "1 is still pending");
    }
}
