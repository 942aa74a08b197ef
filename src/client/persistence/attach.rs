//! Giving a client its store and reading the store back. MQTTClient reads
//! it at create. MQTTAsync reads it at its first connect, so that the
//! application's MQTTAsync_setAfterPersistenceRead (which can only be set
//! after create) sees every record read back: a store written through an
//! encrypting beforeWrite resumes. Paho reads at create, before that
//! callback can exist, and so cannot resume such a store.

use std::sync::Arc;

use super::commands::{COMMAND, COMMAND_V5, Command, restore_commands};
use super::{ClientStore, CommandOptions, Store, StoreError, queue, records};
use crate::client::core::{Core, Shared};
use crate::client::error::ClientError;
use crate::client::pending::{Buffered, Waiting};
use crate::client::trace::{self, trace};

/// MQTTAsync_setBeforePersistenceWrite: turns a record into what is stored
/// (e.g. encrypts it).
pub type BeforeWrite = Box<dyn Fn(Vec<u8>) -> Result<Vec<u8>, StoreError> + Send>;

/// MQTTAsync_setAfterPersistenceRead: turns what was stored back into the
/// record (e.g. decrypts it).
pub type AfterRead = Box<dyn Fn(Vec<u8>) -> Result<Vec<u8>, StoreError> + Send>;

fn report(r: Result<(), StoreError>, what: &str) {
    if let Err(e) = r {
        trace!(trace::ERROR, "persistence: {what}: {e}");
    }
}

fn is_command(key: &str) -> bool {
    key.starts_with(COMMAND) || key.starts_with(COMMAND_V5)
}

/// The sequence number of a command key.
fn command_seqno(key: &str) -> Option<u32> {
    key.strip_prefix(COMMAND_V5)
        .or_else(|| key.strip_prefix(COMMAND))?
        .parse()
        .ok()
}

impl ClientStore {
    /// `store` with nothing read back yet, no transforms, the MQTT 3.x
    /// record layout, QoS 0 not persisted.
    pub fn new(store: Box<dyn Store>) -> ClientStore {
        ClientStore {
            store,
            restored: Vec::new(),
            restored_incoming: Vec::new(),
            restored_queue: Vec::new(),
            restored_requests: Vec::new(),
            resumed: Vec::new(),
            command_seqno: 0,
            commands_v5: false,
            persist_qos0: false,
            before_write: None,
            after_read: None,
            unread: None,
        }
    }

    /// Store `record` under `key`, through the before-write transform.
    pub(super) fn put(&mut self, key: &str, record: Vec<u8>) -> Result<(), StoreError> {
        let record = match &self.before_write {
            Some(f) => f(record)?,
            None => record,
        };
        self.store.put(key, &[&record])
    }
}

/// The store as the read-back sees it: every record through the after-read
/// transform.
struct ReadThrough<'a> {
    store: &'a mut dyn Store,
    after_read: Option<AfterRead>,
}

impl Store for ReadThrough<'_> {
    fn put(&mut self, key: &str, parts: &[&[u8]]) -> Result<(), StoreError> {
        self.store.put(key, parts)
    }
    fn get(&mut self, key: &str) -> Result<Vec<u8>, StoreError> {
        let stored = self.store.get(key)?;
        match &self.after_read {
            Some(f) => f(stored),
            None => Ok(stored),
        }
    }
    fn remove(&mut self, key: &str) -> Result<(), StoreError> {
        self.store.remove(key)
    }
    fn keys(&mut self) -> Result<Vec<String>, StoreError> {
        self.store.keys()
    }
    fn clear(&mut self) -> Result<(), StoreError> {
        self.store.clear()
    }
    fn contains_key(&mut self, key: &str) -> bool {
        self.store.contains_key(key)
    }
    fn close(&mut self) -> Result<(), StoreError> {
        self.store.close()
    }
}

impl Core {
    /// Read the store back if that is still to do: the flows wait for the
    /// first connect that keeps the session, buffered publishes of an
    /// earlier run go ahead of those buffered since create. Fails only when
    /// the store cannot be listed.
    pub fn read_back_store(&mut self) -> Result<(), StoreError> {
        let Some(cs) = self.store.as_mut() else {
            return Ok(());
        };
        let Some(replay_commands) = cs.unread.take() else {
            return Ok(());
        };
        let mut store = ReadThrough {
            store: cs.store.as_mut(),
            after_read: cs.after_read.take(),
        };
        let read = records::restore(&mut store).and_then(|restored| {
            let (queued, _) = queue::restore(&mut store)?;
            let replay = if replay_commands {
                restore_commands(&mut store)?
            } else {
                Vec::new()
            };
            Ok((restored, queued, replay))
        });
        cs.after_read = store.after_read;
        let (restored, queued, replay) = read?;
        let any = !restored.entries.is_empty() || !restored.incoming.is_empty();
        if any || !queued.is_empty() || !replay.is_empty() {
            trace!(
                trace::MINIMUM,
                "persistence: {} outgoing and {} incoming flows to resume, {} queued messages, {} buffered publishes",
                restored.entries.len(),
                restored.incoming.len(),
                queued.len(),
                replay.len()
            );
        }
        cs.restored = restored.entries;
        cs.restored_incoming = restored.incoming;
        cs.restored_queue = queued;
        let mut publishes = Vec::new();
        for (seq, key, c) in replay {
            match c {
                Command::Publish(p) => publishes.push((seq, p)),
                other => cs.restored_requests.push((key, other)),
            }
        }
        if !publishes.is_empty() {
            self.requests.adopted_tokens();
        }
        for (seq, c) in publishes.into_iter().rev() {
            self.requests.buffer.push_front(Buffered {
                token: c.token,
                topic: c.topic,
                payload: c.payload,
                qos: c.qos,
                retained: c.retained,
                properties: c.properties,
                on_complete: None,
                seqno: seq,
            });
        }
        Ok(())
    }
}

impl Core {
    /// Connected: the SUBSCRIBE/UNSUBSCRIBE commands read back (Paho's,
    /// written between a call and its sending) go to the server with their
    /// tokens, as Paho replays them, ahead of the buffered publishes; their
    /// records go once they are handed to the session.
    pub fn replay_restored_requests(&mut self) {
        let Some(cs) = self.store.as_mut() else {
            return;
        };
        let requests = std::mem::take(&mut cs.restored_requests);
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let now = std::time::Instant::now();
        for (key, c) in requests {
            let (token, r) = match c {
                Command::Subscribe {
                    token,
                    filters,
                    properties,
                } => (token, session.subscribe(filters, properties, now)),
                Command::Unsubscribe {
                    token,
                    filters,
                    properties,
                } => (token, session.unsubscribe(filters, properties, now)),
                Command::Publish(_) => continue,
            };
            match r {
                Ok(pid) => {
                    trace!(
                        trace::MINIMUM,
                        "persistence: {key} replayed (token {token})"
                    );
                    self.requests.adopted_tokens();
                    self.requests.waiting.insert(
                        pid,
                        Waiting {
                            token,
                            on_complete: None,
                            publish: None,
                        },
                    );
                }
                Err(e) => trace!(trace::ERROR, "persistence: {key} not replayed: {e:?}"),
            }
            if let Some(cs) = self.store.as_mut() {
                report(cs.store.remove(&key), "remove");
            }
        }
    }
}

impl Shared {
    /// Give the client its store (at create). Without `commands`
    /// (MQTTClient) it is read back at once; with them (MQTTAsync) at the
    /// first connect, buffered publishes are persisted, and those of an
    /// earlier run are put back in the offline buffer (or, with
    /// restoreMessages 0, dropped now, as Paho does). Fails when the store
    /// cannot be listed.
    pub fn attach_store(
        &self,
        mut store: Box<dyn Store>,
        commands: Option<CommandOptions>,
    ) -> Result<(), ClientError> {
        let failed = |e: StoreError| {
            trace!(trace::ERROR, "persistence: {e}");
            ClientError::Persistence
        };
        let keys = store.keys().map_err(failed)?;
        let o = commands.unwrap_or(CommandOptions {
            v5: false,
            persist_qos0: false,
            restore: false,
        });
        let mut seqno = 0;
        for key in keys.iter().filter(|k| is_command(k)) {
            if commands.is_some() && !o.restore {
                report(store.remove(key), "remove");
            } else if let Some(s) = command_seqno(key) {
                // New commands must not take the keys of old ones.
                seqno = seqno.max(s);
            }
        }
        let mut core = self.lock();
        core.store = Some(Box::new(ClientStore {
            command_seqno: seqno,
            commands_v5: o.v5,
            persist_qos0: o.persist_qos0,
            unread: Some(commands.is_some() && o.restore),
            ..ClientStore::new(store)
        }));
        if commands.is_none() {
            core.read_back_store().map_err(failed)?;
        }
        Ok(())
    }

    /// Close the store (at destroy), outside the client's lock.
    pub fn detach_store(self: &Arc<Self>) {
        let store = self.lock().store.take();
        if let Some(mut cs) = store {
            report(cs.store.close(), "close");
        }
    }

    /// Install (or with None remove) the before-write transform. False when
    /// the client has no persistence.
    pub fn set_before_write(&self, f: Option<BeforeWrite>) -> bool {
        match self.lock().store.as_mut() {
            Some(cs) => {
                cs.before_write = f;
                true
            }
            None => false,
        }
    }

    /// Install (or with None remove) the after-read transform. False when
    /// the client has no persistence.
    pub fn set_after_read(&self, f: Option<AfterRead>) -> bool {
        match self.lock().store.as_mut() {
            Some(cs) => {
                cs.after_read = f;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::super::commands::{CommandPublish, command_key, encode_command};
    use super::super::file::FileStore;
    use super::*;
    use crate::protocol::codec::QoS;

    fn xor(b: &[u8]) -> Vec<u8> {
        b.iter().map(|x| x ^ 0x5A).collect()
    }

    #[test]
    fn read_back_goes_through_after_read_once_and_keeps_refused_records() {
        let t = tempfile::tempdir().unwrap();
        let mut store = FileStore::open(Some(t.path()), "id", "h:1").unwrap();
        for (seq, topic) in [(1, "a"), (2, "b")] {
            let c = CommandPublish {
                token: seq as i32,
                topic: topic.into(),
                qos: QoS::AtLeastOnce,
                ..CommandPublish::default()
            };
            let rec = xor(&encode_command(&c, false).unwrap());
            store.put(&command_key(false, seq), &[&rec]).unwrap();
        }
        let calls = std::sync::Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let mut core = Core::new();
        core.store = Some(Box::new(ClientStore {
            command_seqno: 2,
            // The second record read is refused.
            after_read: Some(Box::new(move |b: Vec<u8>| {
                match seen.fetch_add(1, Ordering::Relaxed) {
                    1 => Err(StoreError::new("refused")),
                    _ => Ok(xor(&b)),
                }
            })),
            unread: Some(true),
            ..ClientStore::new(Box::new(store))
        }));
        core.read_back_store().unwrap();
        core.read_back_store().unwrap();
        assert_eq!(calls.load(Ordering::Relaxed), 2, "read back once");
        let topics: Vec<&str> = core
            .requests
            .buffer
            .iter()
            .map(|b| b.topic.as_str())
            .collect();
        assert_eq!(topics, vec!["a"]);
        let dir = t.path().join("id-h-1");
        assert!(dir.join("c-1.msg").exists() && dir.join("c-2.msg").exists());
    }
}
