//! MQTTAsync semantics: every request returns at once with a token and its
//! completion runs on the client's serial queue of the shared dispatcher;
//! connect, automatic reconnect (exponential backoff) and disconnect run on
//! the connect engine; an offline buffer of publishes is sent in order later.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::connect::{self, Attempt, AutoReconnect, Finish};
use super::core::deadline;
use super::error::ClientError;
use super::pending::{Buffered, OnComplete, Waiting};
use super::persistence::CommandOptions;
use super::route::{Effects, drain_requests};
use super::sync::{Callbacks, Client, ConnectOptions, CreateOptions, DisconnectedFn};
use crate::protocol::codec::{Properties, QoS, ReasonCode, SubscriptionOptions};
use crate::protocol::session::client::SessionError;

/// MQTTAsync_createOptions, checked.
#[derive(Debug, Clone)]
pub struct AsyncCreateOptions {
    pub mqtt_version: i32,
    /// Buffer publishes while disconnected (after the first connect).
    pub send_while_disconnected: bool,
    /// Also buffer before the first connect.
    pub allow_disconnected_send_at_any_time: bool,
    pub max_buffered: usize,
    /// When the buffer is full, drop its oldest entry instead of refusing.
    pub delete_oldest: bool,
    /// Put the buffered publishes persisted by an earlier run back in the
    /// buffer at create (restoreMessages).
    pub restore_messages: bool,
    /// Persist buffered QoS 0 publishes too (persistQoS0).
    pub persist_qos0: bool,
}

impl Default for AsyncCreateOptions {
    fn default() -> Self {
        AsyncCreateOptions {
            mqtt_version: 0,
            send_while_disconnected: false,
            allow_disconnected_send_at_any_time: false,
            max_buffered: 100,
            delete_oldest: false,
            restore_messages: true,
            persist_qos0: true,
        }
    }
}

/// MQTTAsync_connectOptions, checked: the common options plus reconnect.
#[derive(Debug, Clone)]
pub struct AsyncConnectOptions {
    pub base: ConnectOptions,
    pub automatic_reconnect: bool,
    pub min_retry_interval: Duration,
    pub max_retry_interval: Duration,
}

/// MQTTAsync_setConnected: called with a cause after every connect.
pub type ConnectedFn = Box<dyn Fn(&str) + Send + Sync>;

/// MQTTAsync_setUpdateConnectOptions: may change the user name and password
/// before each automatic reconnect attempt (the change is kept).
pub type UpdateConnectFn = Box<dyn Fn(&mut Option<String>, &mut Option<Bytes>) + Send + Sync>;

/// An asynchronous client handle.
pub struct AsyncClient {
    inner: Client,
    options: AsyncCreateOptions,
}

impl AsyncClient {
    /// MQTTAsync_create(WithOptions) with persistence NONE.
    pub fn new(
        server_uri: &str,
        client_id: &str,
        options: AsyncCreateOptions,
    ) -> Result<AsyncClient, ClientError> {
        let inner = Client::new(
            server_uri,
            client_id,
            CreateOptions {
                mqtt_version: options.mqtt_version,
            },
        )?;
        inner.enable_async()?;
        Ok(AsyncClient { inner, options })
    }

    /// Give the client its persistence (read back at the first connect).
    pub fn attach_store(
        &self,
        store: Box<dyn super::persistence::Store>,
    ) -> Result<(), ClientError> {
        let o = CommandOptions {
            v5: self.options.mqtt_version == 5,
            persist_qos0: self.options.persist_qos0,
            restore: self.options.restore_messages,
        };
        self.inner.shared().attach_store(store, Some(o))
    }

    /// MQTTAsync_setBeforePersistenceWrite: the transform every record
    /// goes through before it is stored. False without persistence.
    pub fn set_before_write(&self, f: Option<super::persistence::BeforeWrite>) -> bool {
        self.inner.shared().set_before_write(f)
    }

    /// MQTTAsync_setAfterPersistenceRead: the transform every record read
    /// back goes through (the store is read at the first connect). False
    /// without persistence.
    pub fn set_after_read(&self, f: Option<super::persistence::AfterRead>) -> bool {
        self.inner.shared().set_after_read(f)
    }

    /// The MQTT version given at create (0 = default).
    pub fn create_version(&self) -> i32 {
        self.inner.create_version()
    }

    /// connectionLost, messageArrived and deliveryComplete. Unlike
    /// MQTTClient, MQTTAsync allows this while connected (Paho C++'s
    /// stop_consuming relies on it); only a connect in progress refuses it.
    pub fn set_callbacks(&self, callbacks: Option<Box<dyn Callbacks>>) -> Result<(), ClientError> {
        if self.inner.is_connecting() {
            return Err(ClientError::Failure);
        }
        self.inner
            .shared()
            .callbacks
            .set(|s| s.main = callbacks.map(Arc::from));
        Ok(())
    }

    /// MQTTAsync_setConnected.
    pub fn set_connected(&self, cb: Option<ConnectedFn>) {
        self.inner
            .shared()
            .callbacks
            .set(|s| s.connected = cb.map(Arc::new));
    }

    /// MQTTAsync_setUpdateConnectOptions.
    pub fn set_update_connect(&self, cb: Option<UpdateConnectFn>) {
        self.inner
            .shared()
            .callbacks
            .set(|s| s.update = cb.map(Arc::new));
    }

    /// MQTTAsync_setDisconnected.
    pub fn set_disconnected(&self, cb: Option<DisconnectedFn>) -> Result<(), ClientError> {
        self.inner.set_disconnected(cb)
    }

    /// Start connecting; `on_complete` runs once with the outcome. The
    /// attempt runs on the connect engine: no thread waits for it.
    pub fn connect(
        &self,
        options: AsyncConnectOptions,
        on_complete: Option<OnComplete>,
    ) -> Result<(), ClientError> {
        self.inner.check()?;
        let target = self.inner.target(&options.base)?;
        let base = Arc::new(options.base);
        let attempt = Attempt::new(
            target.clone(),
            base.clone(),
            Finish::Async {
                on_complete,
                cause: "connect onSuccess called",
            },
        )?;
        let shared = self.inner.shared();
        let mut core = shared.lock();
        core.engine.set_should_be_connected(true);
        let min = options.min_retry_interval;
        let auto = AutoReconnect {
            target,
            options: base,
            enabled: options.automatic_reconnect,
            min,
            max: options.max_retry_interval,
            interval: min,
            generation: 0,
        };
        connect::begin_async(shared, &mut core, attempt, auto)
    }

    /// MQTTAsync_reconnect: reconnect now with the last connect options,
    /// whether or not automatic reconnect was asked for (as Paho).
    pub fn reconnect(&self) -> Result<(), ClientError> {
        self.inner.check()?;
        let shared = self.inner.shared();
        let mut core = shared.lock();
        connect::reconnect(shared, &mut core)
    }

    /// Disconnect after in-flight work finishes (at most `timeout`), on the
    /// reactor: `on_complete` hears when the connection is closed.
    pub fn disconnect(
        &self,
        timeout: Duration,
        reason: ReasonCode,
        properties: Properties,
        on_complete: Option<OnComplete>,
    ) -> Result<(), ClientError> {
        self.inner.check()?;
        let shared = self.inner.shared();
        let mut core = shared.lock();
        // As Paho: no more offline sending, even when this call fails.
        core.engine.set_should_be_connected(false);
        if !connect::end_reconnects(shared, &mut core) {
            return Err(ClientError::Disconnected);
        }
        connect::start_disconnect(shared, &mut core, timeout, reason, properties, on_complete);
        Ok(())
    }

    pub fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }

    /// Queue a publish; returns its token. While disconnected it is
    /// buffered when the create options allow it.
    pub fn send(
        &self,
        topic: &str,
        payload: Bytes,
        qos: QoS,
        retained: bool,
        properties: Properties,
        on_complete: Option<OnComplete>,
    ) -> Result<i32, ClientError> {
        self.inner.check()?;
        let shared = self.inner.shared();
        let mut core = shared.lock();
        let connected = core.engine.connected();
        if !connected {
            let allowed = self.options.send_while_disconnected
                && (self.options.allow_disconnected_send_at_any_time
                    || core.engine.should_be_connected());
            if !allowed {
                return Err(ClientError::Disconnected);
            }
            if core.requests.buffer.len() >= self.options.max_buffered {
                if !self.options.delete_oldest || core.requests.buffer.is_empty() {
                    return Err(ClientError::MaxBufferedMessages);
                }
                if let Some(old) = core.requests.buffer.pop_front() {
                    core.persist_unbuffered(old.seqno);
                }
            }
        }
        let token = core.requests.next_token();
        if token == 0 {
            return Err(ClientError::NoMoreMsgIds);
        }
        if core.requests.buffer.capacity() == 0 {
            core.requests.buffer.reserve_exact(1);
        }
        core.requests.buffer.push_back(Buffered {
            token,
            topic: topic.to_string(),
            payload,
            qos,
            retained,
            properties,
            on_complete,
            seqno: 0,
        });
        if connected {
            let id = core.conn_id();
            let mut fx = Effects::default();
            drain_requests(&mut core, &mut fx);
            for d in fx.dispatch {
                core.dispatch(d);
            }
            persist_if_buffered(&mut core, token);
            drop(core);
            shared.request_flush(id);
        } else {
            persist_if_buffered(&mut core, token);
        }
        Ok(token)
    }

    fn ack_request(
        &self,
        on_complete: Option<OnComplete>,
        f: impl FnOnce(
            &mut crate::protocol::session::client::ClientSession,
            Instant,
        ) -> Result<u16, SessionError>,
    ) -> Result<i32, ClientError> {
        self.inner.check()?;
        let shared = self.inner.shared();
        let mut core = shared.lock();
        if !core.engine.connected() {
            return Err(ClientError::Disconnected);
        }
        let id = core.conn_id();
        let token = core.requests.next_token();
        let s = core.session.as_mut().ok_or(ClientError::Disconnected)?;
        let pid = f(s, Instant::now()).map_err(|e| match e {
            SessionError::NoPacketId => ClientError::NoMoreMsgIds,
            SessionError::NotConnected => ClientError::Disconnected,
            _ => ClientError::Failure,
        })?;
        core.requests.waiting.insert(
            pid,
            Waiting {
                token,
                on_complete,
                publish: None,
            },
        );
        drop(core);
        shared.request_flush(id);
        Ok(token)
    }

    /// SUBSCRIBE; `on_complete` gets the granted codes.
    pub fn subscribe_many(
        &self,
        filters: Vec<(String, SubscriptionOptions)>,
        properties: Properties,
        on_complete: Option<OnComplete>,
    ) -> Result<i32, ClientError> {
        self.ack_request(on_complete, |s, now| s.subscribe(filters, properties, now))
    }

    /// UNSUBSCRIBE.
    pub fn unsubscribe_many(
        &self,
        filters: Vec<String>,
        properties: Properties,
        on_complete: Option<OnComplete>,
    ) -> Result<i32, ClientError> {
        self.ack_request(on_complete, |s, now| {
            s.unsubscribe(filters, properties, now)
        })
    }

    /// True once the request with `token` has completed (or never existed).
    pub fn is_complete(&self, token: i32) -> bool {
        self.inner.is_stale() || !self.inner.shared().lock().requests.is_pending(token)
    }

    /// Wait for `token` to complete, at most `timeout`.
    pub fn wait_for_completion(&self, token: i32, timeout: Duration) -> Result<(), ClientError> {
        self.inner.check()?;
        let shared = self.inner.shared();
        let core = shared.lock();
        let (_core, done) =
            shared.wait_until(core, deadline(timeout), |c| !c.requests.is_pending(token));
        if done {
            Ok(())
        } else {
            Err(ClientError::Failure)
        }
    }

    /// Tokens of publishes not yet complete.
    pub fn pending_tokens(&self) -> Vec<i32> {
        if self.inner.is_stale() {
            return Vec::new();
        }
        self.inner.shared().lock().requests.pending_tokens()
    }

    /// True when the handle was made in another process (before a fork()).
    pub fn is_stale(&self) -> bool {
        self.inner.is_stale()
    }
}

/// A publish still waiting in the offline buffer (not connected, or the
/// window full) is kept in the store as a command record.
fn persist_if_buffered(core: &mut super::core::Core, token: i32) {
    if core.store.is_none() {
        return;
    }
    let Some(i) = core.requests.buffer.iter().rposition(|b| b.token == token) else {
        return;
    };
    if let Some(mut b) = core.requests.buffer.remove(i) {
        b.seqno = core.persist_buffered(&b);
        core.requests.buffer.insert(i, b);
    }
}
