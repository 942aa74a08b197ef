//! MQTTAsync semantics: every request returns at once with a token and its
//! completion runs on the dispatcher thread; automatic reconnect with
//! exponential backoff; an offline buffer of publishes sent in order later.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::core::{Phase, deadline};
use super::dispatch::Dispatch;
use super::error::ClientError;
use super::pending::{Buffered, Failure, OnComplete, Success, Waiting};
use super::sync::{Callbacks, Client, ConnectOptions, CreateOptions, DisconnectedFn};
use super::trace::{self, trace};
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
}

impl Default for AsyncCreateOptions {
    fn default() -> Self {
        AsyncCreateOptions {
            mqtt_version: 0,
            send_while_disconnected: false,
            allow_disconnected_send_at_any_time: false,
            max_buffered: 100,
            delete_oldest: false,
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

struct State {
    connect: Mutex<Option<AsyncConnectOptions>>,
    connected_cb: RwLock<Option<Arc<ConnectedFn>>>,
    update_cb: RwLock<Option<Arc<UpdateConnectFn>>>,
    /// Automatic reconnect wanted (set by connect, cleared by disconnect).
    auto: AtomicBool,
    stopping: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Ever connected (for sendWhileDisconnected without "at any time").
    was_connected: AtomicBool,
}

/// An asynchronous client handle.
pub struct AsyncClient {
    inner: Arc<Client>,
    options: AsyncCreateOptions,
    state: Arc<State>,
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
        Ok(AsyncClient {
            inner: Arc::new(inner),
            options,
            state: Arc::new(State {
                connect: Mutex::new(None),
                connected_cb: RwLock::new(None),
                update_cb: RwLock::new(None),
                auto: AtomicBool::new(false),
                stopping: AtomicBool::new(false),
                threads: Mutex::new(Vec::new()),
                was_connected: AtomicBool::new(false),
            }),
        })
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
        *self
            .inner
            .shared()
            .callbacks
            .main
            .write()
            .unwrap_or_else(|e| e.into_inner()) = callbacks.map(Arc::from);
        Ok(())
    }

    /// MQTTAsync_setConnected.
    pub fn set_connected(&self, cb: Option<ConnectedFn>) {
        *self
            .state
            .connected_cb
            .write()
            .unwrap_or_else(|e| e.into_inner()) = cb.map(Arc::new);
    }

    /// MQTTAsync_setUpdateConnectOptions.
    pub fn set_update_connect(&self, cb: Option<UpdateConnectFn>) {
        *self
            .state
            .update_cb
            .write()
            .unwrap_or_else(|e| e.into_inner()) = cb.map(Arc::new);
    }

    /// MQTTAsync_setDisconnected.
    pub fn set_disconnected(&self, cb: Option<DisconnectedFn>) -> Result<(), ClientError> {
        self.inner.set_disconnected(cb)
    }

    fn spawn(&self, name: &str, f: impl FnOnce() + Send + 'static) -> Result<(), ClientError> {
        let t = std::thread::Builder::new()
            .name(name.into())
            .spawn(f)
            .map_err(|_| ClientError::Failure)?;
        let mut threads = self.state.threads.lock().unwrap_or_else(|e| e.into_inner());
        threads.retain(|t| !t.is_finished());
        threads.push(t);
        Ok(())
    }

    /// Start connecting; `on_complete` runs once with the outcome.
    pub fn connect(
        &self,
        options: AsyncConnectOptions,
        on_complete: Option<OnComplete>,
    ) -> Result<(), ClientError> {
        if self.inner.is_connected() || self.inner.is_connecting() {
            return Err(ClientError::Failure);
        }
        *self.state.connect.lock().unwrap_or_else(|e| e.into_inner()) = Some(options.clone());
        self.state
            .auto
            .store(options.automatic_reconnect, Ordering::Release);
        let (inner, state) = (self.inner.clone(), self.state.clone());
        self.spawn("ferromq-connect", move || {
            let r = inner.connect(options.base.clone());
            finish_connect(&inner, &state, r, on_complete, "connect onSuccess called");
            if options.automatic_reconnect {
                reconnect_loop(&inner, &state);
            }
        })
    }

    /// MQTTAsync_reconnect: reconnect now with the last connect options
    /// (only when automatic reconnect was asked for, as Paho).
    pub fn reconnect(&self) -> Result<(), ClientError> {
        let opts = self
            .state
            .connect
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match opts {
            Some(o) if o.automatic_reconnect && !self.inner.is_connected() => {
                let (inner, state) = (self.inner.clone(), self.state.clone());
                self.spawn("ferromq-connect", move || {
                    let r = inner.connect(o.base.clone());
                    finish_connect(&inner, &state, r, None, "automatic reconnect");
                })
            }
            _ => Err(ClientError::Failure),
        }
    }

    /// Disconnect after in-flight work finishes (at most `timeout`).
    pub fn disconnect(
        &self,
        timeout: Duration,
        reason: ReasonCode,
        properties: Properties,
        on_complete: Option<OnComplete>,
    ) -> Result<(), ClientError> {
        self.state.auto.store(false, Ordering::Release);
        self.inner.wake_all();
        if !self.inner.is_connected() {
            return Err(ClientError::Disconnected);
        }
        let inner = self.inner.clone();
        self.spawn("ferromq-disconnect", move || {
            let r = inner.disconnect(timeout, reason, properties);
            if let Some(cb) = on_complete {
                let res = match r {
                    Ok(()) => Ok(Success::Disconnect),
                    Err(e) => Err(Failure::from_error(&e, "disconnect failed")),
                };
                inner.dispatch_completion(0, cb, res);
            }
        })
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
        let shared = self.inner.shared();
        let mut core = shared.lock();
        let connected = core.phase == Phase::Connected;
        if !connected {
            let allowed = self.options.send_while_disconnected
                && (self.options.allow_disconnected_send_at_any_time
                    || self.state.was_connected.load(Ordering::Acquire));
            if !allowed {
                return Err(ClientError::Disconnected);
            }
            if core.requests.buffer.len() >= self.options.max_buffered {
                if !self.options.delete_oldest || core.requests.buffer.is_empty() {
                    return Err(ClientError::MaxBufferedMessages);
                }
                core.requests.buffer.pop_front();
            }
        }
        let token = core.requests.next_token();
        if token == 0 {
            return Err(ClientError::NoMoreMsgIds);
        }
        core.requests.buffer.push_back(Buffered {
            token,
            topic: topic.to_string(),
            payload,
            qos,
            retained,
            properties,
            on_complete,
        });
        if connected {
            let id = core.conn_id;
            super::core::drain_requests(&mut core);
            drop(core);
            shared.request_flush(id);
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
        let shared = self.inner.shared();
        let mut core = shared.lock();
        if core.phase != Phase::Connected {
            return Err(ClientError::Disconnected);
        }
        let id = core.conn_id;
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
        !self.inner.shared().lock().requests.is_pending(token)
    }

    /// Wait for `token` to complete, at most `timeout`.
    pub fn wait_for_completion(&self, token: i32, timeout: Duration) -> Result<(), ClientError> {
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
        self.inner.shared().lock().requests.pending_tokens()
    }
}

impl Drop for AsyncClient {
    /// Destroy is total: background threads are stopped and joined, then the
    /// inner client closes its connection and dispatcher.
    fn drop(&mut self) {
        self.state.stopping.store(true, Ordering::Release);
        self.state.auto.store(false, Ordering::Release);
        self.inner.abort_waits();
        let threads: Vec<_> =
            std::mem::take(&mut *self.state.threads.lock().unwrap_or_else(|e| e.into_inner()));
        let me = std::thread::current().id();
        for t in threads {
            if t.thread().id() != me {
                let _ = t.join();
            }
        }
    }
}

/// After a connect attempt: move requests the session dropped back to the
/// buffer, send the buffer, report the outcome and the connected callback.
fn finish_connect(
    inner: &Arc<Client>,
    state: &Arc<State>,
    r: Result<super::sync::ConnectResult, ClientError>,
    on_complete: Option<OnComplete>,
    cause: &str,
) {
    match r {
        Ok(res) => {
            state.was_connected.store(true, Ordering::Release);
            inner.resume_requests();
            if let Some(cb) = on_complete {
                let s = Success::Connect {
                    server_uri: res.server_uri.clone(),
                    mqtt_version: res.mqtt_version,
                    session_present: res.session_present,
                    properties: res.properties.clone(),
                };
                inner.dispatch_completion(0, cb, Ok(s));
            }
            let cb = state.connected_cb.read().ok().and_then(|g| g.clone());
            if let Some(cb) = cb {
                let cause = cause.to_string();
                inner.dispatch(Dispatch::Run(Box::new(move || cb(&cause))));
            }
        }
        Err(e) => {
            trace!(trace::ERROR, "connect failed: {e:?}");
            if let Some(cb) = on_complete {
                let f = match &e {
                    ClientError::Refused(rc) => Failure {
                        code: *rc,
                        reason: ReasonCode(u8::try_from(*rc).unwrap_or(0x80)),
                        properties: Properties::default(),
                        message: Some("CONNACK return code".into()),
                    },
                    other => Failure::from_error(other, "TCP/TLS connect failure"),
                };
                inner.dispatch_completion(0, cb, Err(f));
            }
        }
    }
}

/// Let the updateConnectOptions callback change the credentials; a change
/// is kept for later attempts.
fn update_credentials(state: &Arc<State>, mut opts: AsyncConnectOptions) -> AsyncConnectOptions {
    let cb = state.update_cb.read().ok().and_then(|g| g.clone());
    if let Some(cb) = cb {
        cb(&mut opts.base.username, &mut opts.base.password);
        *state.connect.lock().unwrap_or_else(|e| e.into_inner()) = Some(opts.clone());
    }
    opts
}

/// While automatic reconnect is wanted: wait for the connection to drop,
/// then retry with exponential backoff between min and max interval.
fn reconnect_loop(inner: &Arc<Client>, state: &Arc<State>) {
    loop {
        if !inner.wait_lost(|| {
            state.stopping.load(Ordering::Acquire) || !state.auto.load(Ordering::Acquire)
        }) {
            return;
        }
        let Some(mut opts) = state
            .connect
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        else {
            return;
        };
        let mut interval = opts.min_retry_interval.max(Duration::from_millis(100));
        loop {
            // Interruptible wait: destroy and disconnect wake it at once.
            if !inner.pause(interval, || {
                state.stopping.load(Ordering::Acquire) || !state.auto.load(Ordering::Acquire)
            }) {
                return;
            }
            trace!(trace::MINIMUM, "automatic reconnect attempt");
            opts = update_credentials(state, opts);
            let r = inner.connect(opts.base.clone());
            let ok = r.is_ok();
            finish_connect(inner, state, r, None, "automatic reconnect");
            if ok {
                break;
            }
            interval = (interval * 2).min(opts.max_retry_interval.max(opts.min_retry_interval));
        }
    }
}
