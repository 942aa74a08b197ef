//! The connect engine: a connection attempt is a state machine advanced by
//! whoever has news for it — the resolver with addresses, the reactor with a
//! transport failure, a CONNACK or a timer — never a thread waiting for it.
//! Order of trial, as Paho: each server URI in turn; on each, the MQTT
//! versions asked for (MQTTVERSION_DEFAULT: 3.1.1, then 3.1); on each, the
//! resolved addresses in turn, within the connect timeout. Automatic
//! reconnect and disconnect-with-timeout run on reactor timers too.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::core::{Core, Phase, Shared, next_conn_id};
use super::dispatch::Dispatch;
use super::error::ClientError;
use super::pending::{Failure, OnComplete, Success};
use super::route::{ConnectOutcome, Effects, drain_requests};
use super::sync::{ConnectOptions, ConnectResult};
use super::tls as client_tls;
use super::trace::{self, trace};
use super::transports::{proxy_for, tls_for, transport_for};
use super::uri::{Scheme, ServerUri};
use crate::protocol::codec::{Properties, ProtocolVersion};
use crate::protocol::session::client::{ClientConfig, ClientSession, CloseReason};
use crate::reactor::client_socket::Dest;

mod disconnect;
mod engine;
use disconnect::{DisconnectReq, complete_disconnect};
pub use disconnect::{after_ack, released, start_disconnect};
pub use engine::{
    Engine, begin_async, destroy, disconnect_waited, end_reconnects, reactor_died, reconnect, stop,
};

/// Who hears the outcome of an attempt.
pub enum Finish {
    /// A synchronous caller waits on the condition variable for
    /// `sync.connect` with this attempt's id.
    Sync,
    /// MQTTAsync: the request's completion, then the connected callback
    /// with `cause`.
    Async {
        on_complete: Option<OnComplete>,
        cause: &'static str,
    },
    /// An automatic reconnect: on failure, the next one is scheduled.
    Reconnect,
}

/// One connection attempt over the URIs × versions × addresses.
pub struct Attempt {
    pub id: u64,
    /// Shared with the client and its automatic reconnect (no copy per
    /// attempt: thousands of clients connect at once).
    target: Target,
    versions: &'static [i32],
    ui: usize,
    vi: usize,
    addrs: Vec<SocketAddr>,
    ai: usize,
    /// Deadline of the current (URI, version) try.
    until: Instant,
    options: Arc<ConnectOptions>,
    last: ClientError,
    finish: Option<Finish>,
}

/// The last connect (for MQTTAsync_reconnect) and, when `enabled`,
/// automatic reconnect with its backoff state.
pub struct AutoReconnect {
    pub target: Target,
    /// Shared with the attempts made from it (no copy per attempt).
    pub options: Arc<ConnectOptions>,
    /// automaticReconnect was set.
    pub enabled: bool,
    pub min: Duration,
    pub max: Duration,
    /// The wait before the next attempt.
    pub interval: Duration,
    /// Bumped whenever a retry is scheduled or cancelled.
    pub generation: u64,
}

/// The versions to try for an `MQTTVersion` option.
pub fn versions(v: i32) -> Result<&'static [i32], ClientError> {
    match v {
        0 => Ok(&[4, 3]),
        3 => Ok(&[3]),
        4 => Ok(&[4]),
        5 => Ok(&[5]),
        _ => Err(ClientError::BadMqttVersion),
    }
}

fn version_of(v: i32) -> Result<ProtocolVersion, ClientError> {
    match v {
        3 => Ok(ProtocolVersion::V31),
        4 => Ok(ProtocolVersion::V311),
        5 => Ok(ProtocolVersion::V5),
        _ => Err(ClientError::BadMqttVersion),
    }
}

fn effective_timeout(o: &ConnectOptions) -> Duration {
    if o.connect_timeout.is_zero() {
        Duration::from_secs(30)
    } else {
        o.connect_timeout
    }
}

/// The session configuration for version `v`.
pub fn config(client_id: &str, v: i32, o: &ConnectOptions) -> Result<ClientConfig, ClientError> {
    let version = version_of(v)?;
    Ok(ClientConfig {
        version,
        client_id: client_id.to_string(),
        clean_start: if version.is_v5() {
            o.clean_start
        } else {
            o.clean_session
        },
        keep_alive: o.keep_alive,
        will: o.will.clone(),
        username: o.username.clone(),
        password: o.password.clone(),
        properties: if version.is_v5() {
            o.properties.clone()
        } else {
            Properties::default()
        },
        max_inflight: o.max_inflight.max(1),
        retry_interval: o.retry_interval,
        connect_timeout: effective_timeout(o),
        max_packet_size: 0,
        bridge: o.bridge,
        track_incoming_qos2: false,
        ack_on_delivery: false,
    })
}

impl Attempt {
    /// The connect options this attempt uses.
    pub fn options(&self) -> &ConnectOptions {
        &self.options
    }

    pub fn new(
        target: Target,
        options: Arc<ConnectOptions>,
        finish: Finish,
    ) -> Result<Attempt, ClientError> {
        let versions = versions(options.mqtt_version)?;
        Ok(Attempt {
            id: next_conn_id(),
            target,
            versions,
            ui: 0,
            vi: 0,
            addrs: Vec::new(),
            ai: 0,
            until: Instant::now(),
            options,
            last: ClientError::Failure,
            finish: Some(finish),
        })
    }
}

/// Start `attempt` (the client must have no connection and no attempt).
pub fn begin(shared: &Arc<Shared>, core: &mut Core, attempt: Attempt) {
    core.engine.phase = Phase::Connecting;
    core.engine.attempt = Some(Box::new(attempt));
    next_uri(shared, core, false);
}

/// Go to the URI at `ui` (after `advance`, the next one) and resolve it.
fn next_uri(shared: &Arc<Shared>, core: &mut Core, advance: bool) {
    loop {
        let Some(a) = core.engine.attempt.as_mut() else {
            return;
        };
        if advance {
            a.ui += 1;
        }
        let Some((uri, text)) = a.target.uris.get(a.ui).cloned() else {
            let e = a.last.clone();
            finish(shared, core, Err(e));
            return;
        };
        match uri.scheme {
            Scheme::Tls | Scheme::WebSocketTls => {
                // Made once (files read, suites chosen); a bad setting
                // fails this URI as Paho's context setup does.
                let tls = tls_for(&a.options);
                if let Err((e, reason)) = tls.config() {
                    a.last = e;
                    a.ui += 1;
                    client_tls::report(core, Some(&tls), &reason);
                    continue;
                }
            }
            Scheme::Tcp | Scheme::WebSocket => {}
            Scheme::Unix => {
                // No name to resolve: one "address", the path.
                a.vi = 0;
                a.addrs = vec![SocketAddr::from(([0, 0, 0, 0], 0))];
                trace!(trace::MINIMUM, "connecting to {text}");
                start_version(shared, core);
                return;
            }
        }
        a.vi = 0;
        a.addrs.clear();
        trace!(trace::MINIMUM, "connecting to {text}");
        // Through an HTTP proxy, the socket goes to the proxy.
        let (name, port) = match proxy_for(&uri, &a.options) {
            Ok(Some(p)) => {
                trace!(trace::MINIMUM, "through HTTP proxy {}:{}", p.host, p.port);
                (p.host, p.port)
            }
            Ok(None) => (uri.host.clone(), uri.port),
            Err((e, reason)) => {
                trace!(trace::ERROR, "{reason}");
                a.last = e;
                a.ui += 1;
                continue;
            }
        };
        let host = name.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            a.addrs = vec![SocketAddr::new(ip, port)];
            start_version(shared, core);
            return;
        }
        // A name: ask the shared resolver; its answer comes back here.
        let id = a.id;
        let ui = a.ui;
        let weak = Arc::downgrade(shared);
        let lookup = name.clone();
        super::resolver::resolve(
            &lookup,
            port,
            Box::new(move |r| {
                let Some(shared) = weak.upgrade() else { return };
                let mut core = shared.lock();
                let current = core
                    .engine
                    .attempt
                    .as_ref()
                    .is_some_and(|a| a.id == id && a.ui == ui);
                if !current {
                    return;
                }
                match r {
                    Ok(addrs) if !addrs.is_empty() => {
                        if let Some(a) = core.engine.attempt.as_mut() {
                            a.addrs = addrs;
                        }
                        start_version(&shared, &mut core);
                    }
                    other => {
                        if let Err(e) = other {
                            trace!(trace::ERROR, "cannot resolve {name}: {e}");
                        }
                        if let Some(a) = core.engine.attempt.as_mut() {
                            a.last = ClientError::Failure;
                        }
                        next_uri(&shared, &mut core, true);
                    }
                }
                drop(core);
                shared.cond.notify_all();
            }),
        );
        return;
    }
}

/// Try the current version on the current URI, from its first address.
fn start_version(shared: &Arc<Shared>, core: &mut Core) {
    if let Some(a) = core.engine.attempt.as_mut() {
        a.ai = 0;
        a.until = super::core::deadline(effective_timeout(&a.options));
    }
    try_addr(shared, core);
}

/// Connect to the current address, or move on when there is none left.
fn try_addr(shared: &Arc<Shared>, core: &mut Core) {
    let Some(a) = core.engine.attempt.as_mut() else {
        return;
    };
    if core.engine.destroyed {
        finish(shared, core, Err(ClientError::Failure));
        return;
    }
    let now = Instant::now();
    let Some(&addr) = a.addrs.get(a.ai).filter(|_| now < a.until) else {
        next_version(shared, core);
        return;
    };
    let v = a.versions[a.vi];
    let cfg = match config(&a.target.client_id, v, &a.options) {
        Ok(c) => c,
        Err(e) => {
            finish(shared, core, Err(e));
            return;
        }
    };
    // The connect timeout spans the whole try of this version.
    let mut cfg = cfg;
    cfg.connect_timeout = a
        .until
        .saturating_duration_since(now)
        .max(Duration::from_millis(1));
    cfg.track_incoming_qos2 = core.store.is_some();
    cfg.ack_on_delivery = core.store.is_some();
    let transport = match a
        .target
        .uris
        .get(a.ui)
        .map(|u| transport_for(&u.0, &a.options))
    {
        Some(Ok(t)) => t,
        Some(Err((e, reason))) => {
            let tls = a.options.tls.clone();
            client_tls::report(core, tls.as_deref(), &reason);
            finish(shared, core, Err(e));
            return;
        }
        None => None,
    };
    let dest = match a.target.uris.get(a.ui) {
        Some((u, _)) if u.scheme == Scheme::Unix => Dest::Unix(u.path.clone().into()),
        _ => Dest::Tcp(addr),
    };
    trace!(trace::MINIMUM, "connecting to {dest:?} with MQTT level {v}");
    if let Err(e) = core.read_back_store() {
        trace!(trace::ERROR, "persistence: {e}");
        finish(shared, core, Err(ClientError::Persistence));
        return;
    }
    let clean = cfg.clean_start;
    if clean {
        core.persist_clear();
    }
    match core.session.as_mut() {
        Some(s) if !clean => s.reconnect(cfg, now),
        _ => {
            let mut s = ClientSession::new(cfg, now);
            core.resume_restored(&mut s, now);
            core.session = Some(s);
        }
    }
    if !core.async_mode {
        core.sync().pending = core
            .session
            .as_ref()
            .map(|s| s.pending_packet_ids())
            .unwrap_or_default();
    }
    shared.start_connect(core, dest, transport);
    if core.conn_id() == 0 {
        // The reactor is gone.
        finish(shared, core, Err(ClientError::Failure));
    }
}

/// The current version failed on this URI: the next version, else the next URI.
fn next_version(shared: &Arc<Shared>, core: &mut Core) {
    let Some(a) = core.engine.attempt.as_mut() else {
        return;
    };
    if a.vi + 1 < a.versions.len() {
        a.vi += 1;
        start_version(shared, core);
    } else {
        next_uri(shared, core, true);
    }
}

/// The transport failed or closed before CONNACK.
pub fn connection_failed(shared: &Arc<Shared>, core: &mut Core, e: ClientError) {
    let Some(a) = core.engine.attempt.as_mut() else {
        return;
    };
    a.last = e;
    a.ai += 1;
    try_addr(shared, core);
}

/// CONNACK arrived for the attempt's connection.
pub fn connect_outcome(shared: &Arc<Shared>, core: &mut Core, outcome: ConnectOutcome) {
    let Some(a) = core.engine.attempt.as_mut() else {
        return;
    };
    match outcome {
        ConnectOutcome::Accepted(ack) => {
            let text = a
                .target
                .uris
                .get(a.ui)
                .map(|u| u.1.clone())
                .unwrap_or_default();
            let v = a.versions[a.vi];
            let r = ConnectResult {
                server_uri: text,
                mqtt_version: v,
                session_present: ack.session_present,
                reason: ack.code,
                properties: ack.properties,
            };
            core.engine.phase = Phase::Connected;
            finish(shared, core, Ok(r));
        }
        ConnectOutcome::Refused(ack) => {
            // The session closes the connection after a refusal; that close
            // must not count as another failure.
            shared.close_connection(core);
            let Some(a) = core.engine.attempt.as_mut() else {
                return;
            };
            // MQTTVERSION_DEFAULT: 3.1.1 refused for its version → try 3.1.
            if ack.code.0 == 1 && a.vi + 1 < a.versions.len() {
                a.vi += 1;
                start_version(shared, core);
            } else {
                finish(
                    shared,
                    core,
                    Err(ClientError::Refused(i32::from(ack.code.0))),
                );
            }
        }
    }
}

/// The attempt is over: tell whoever waits.
fn finish(shared: &Arc<Shared>, core: &mut Core, r: Result<ConnectResult, ClientError>) {
    let Some(mut a) = core.engine.attempt.take() else {
        return;
    };
    if r.is_err() {
        shared.close_connection(core);
        if core.engine.phase == Phase::Connecting {
            core.engine.phase = Phase::Idle;
        }
    }
    match a.finish.take() {
        Some(Finish::Sync) | None => {
            core.sync().connect = Some((a.id, r));
        }
        Some(Finish::Async { on_complete, cause }) => {
            finish_async(shared, core, r, on_complete, cause);
        }
        Some(Finish::Reconnect) => {
            let failed = r.is_err();
            finish_async(shared, core, r, None, "automatic reconnect");
            if failed {
                schedule_reconnect(shared, core, true);
            }
        }
    }
    shared.cond.notify_all();
}

/// The MQTTAsync side of a finished attempt: requests the session dropped
/// go back to the buffer and the buffer is sent; the completion and the
/// connected callback are queued.
fn finish_async(
    shared: &Arc<Shared>,
    core: &mut Core,
    r: Result<ConnectResult, ClientError>,
    on_complete: Option<OnComplete>,
    cause: &'static str,
) {
    match r {
        Ok(res) => {
            if let Some(auto) = core.engine.auto.as_mut() {
                auto.interval = auto.min;
            }
            let kept = core
                .session
                .as_ref()
                .map(|s| s.pending_packet_ids())
                .unwrap_or_default();
            core.requests.requeue_dropped(&kept);
            if let Some(cb) = on_complete {
                let s = Success::Connect {
                    server_uri: res.server_uri.clone(),
                    mqtt_version: res.mqtt_version,
                    session_present: res.session_present,
                    properties: res.properties.clone(),
                };
                core.dispatch(Dispatch::Run(Box::new(move || cb(0, Ok(s)))));
            }
            let connected = shared.callbacks.get(|s| &s.connected);
            if let Some(cb) = connected {
                core.dispatch(Dispatch::Run(Box::new(move || cb(cause))));
            }
            core.replay_restored_requests();
            let mut fx = Effects::default();
            drain_requests(core, &mut fx);
            for d in fx.dispatch {
                core.dispatch(d);
            }
            let id = core.conn_id();
            shared.request_flush(id);
        }
        Err(e) => {
            trace!(trace::ERROR, "connect failed: {e:?}");
            if let Some(cb) = on_complete {
                let f = match &e {
                    ClientError::Refused(rc) => Failure::connack(*rc),
                    other => Failure::from_error(other, "TCP/TLS connect failure"),
                };
                core.dispatch(Dispatch::Run(Box::new(move || cb(0, Err(f)))));
            }
        }
    }
}

/// The connection closed (after CONNACK, or before it during an attempt).
pub fn closed(
    shared: &Arc<Shared>,
    core: &mut Core,
    reason: CloseReason,
    lost: bool,
    _now: Instant,
) {
    if core.engine.attempt.is_some() && core.engine.phase == Phase::Connecting {
        let e = ClientError::Failure;
        trace!(trace::MINIMUM, "connection attempt failed: {reason:?}");
        connection_failed(shared, core, e);
        return;
    }
    core.engine.phase = Phase::Idle;
    if core
        .engine
        .disconnect
        .as_ref()
        .is_some_and(|d| d.sent && d.conn != 0)
    {
        // Done when the reactor has written the DISCONNECT and released
        // the connection (`released`), or at the request's guard.
        return;
    }
    if let Some(d) = core.engine.disconnect.take() {
        complete_disconnect(core, *d);
        return;
    }
    if lost {
        schedule_reconnect(shared, core, false);
    }
}

/// After a lost connection (or a failed retry): try again after the
/// backoff interval, doubling it up to the maximum.
pub fn schedule_reconnect(shared: &Arc<Shared>, core: &mut Core, backoff: bool) {
    if core.engine.destroyed {
        return;
    }
    let Some(auto) = core.engine.auto.as_mut().filter(|a| a.enabled) else {
        return;
    };
    let wait = auto.interval.max(Duration::from_millis(100));
    if backoff {
        auto.interval = (auto.interval * 2).min(auto.max.max(auto.min));
    }
    auto.generation += 1;
    let generation = auto.generation;
    let weak = Arc::downgrade(shared);
    trace!(trace::MINIMUM, "automatic reconnect in {wait:?}");
    shared.reactor.after(wait, move || {
        let Some(shared) = weak.upgrade() else { return };
        retry(&shared, generation);
    });
}

/// A reconnect timer fired: reconnect unless the client moved on meanwhile.
fn retry(shared: &Arc<Shared>, generation: u64) {
    let has_update = shared.callbacks.get(|s| &s.update).is_some();
    let mut core = shared.lock();
    if !retry_wanted(&core, generation) {
        return;
    }
    if has_update {
        // The updateConnectOptions callback is user code: it runs on the
        // client's serial queue, which then starts the attempt.
        let weak = Arc::downgrade(shared);
        core.dispatch(Dispatch::Run(Box::new(move || {
            let Some(shared) = weak.upgrade() else { return };
            let cb = shared.callbacks.get(|s| &s.update);
            let mut creds = {
                let core = shared.lock();
                core.engine
                    .auto
                    .as_ref()
                    .map(|a| (a.options.username.clone(), a.options.password.clone()))
            };
            if let (Some(cb), Some((user, pass))) = (cb, creds.as_mut()) {
                cb(user, pass);
            }
            let mut core = shared.lock();
            if let (Some(a), Some((user, pass))) = (core.engine.auto.as_mut(), creds) {
                let o = Arc::make_mut(&mut a.options);
                o.username = user;
                o.password = pass;
            }
            start_reconnect(&shared, &mut core, generation);
        })));
        return;
    }
    start_reconnect(shared, &mut core, generation);
}

/// A retry scheduled as `generation` is still wanted: nothing cancelled
/// or replaced it, and the client is idle.
fn retry_wanted(core: &Core, generation: u64) -> bool {
    core.engine
        .auto
        .as_ref()
        .is_some_and(|a| a.generation == generation)
        && !core.engine.destroyed
        && core.engine.phase == Phase::Idle
        && core.engine.attempt.is_none()
}

fn start_reconnect(shared: &Arc<Shared>, core: &mut Core, generation: u64) {
    if !retry_wanted(core, generation) {
        return;
    }
    trace!(trace::MINIMUM, "automatic reconnect attempt");
    reconnect_now(shared, core, Finish::Reconnect);
}

/// Start an attempt with the last connect options (automatic reconnect,
/// or MQTTAsync_reconnect). False when there are none.
pub fn reconnect_now(shared: &Arc<Shared>, core: &mut Core, finish: Finish) -> bool {
    let Some((target, options)) = core
        .engine
        .auto
        .as_ref()
        .map(|a| (a.target.clone(), a.options.clone()))
    else {
        return false;
    };
    match Attempt::new(target, options, finish) {
        Ok(a) => {
            begin(shared, core, a);
            true
        }
        Err(_) => false,
    }
}

/// Where an attempt goes: the URIs (from the options or the create URI)
/// and the client id.
#[derive(Clone)]
pub struct Target {
    pub uris: Arc<[(ServerUri, String)]>,
    pub client_id: Arc<str>,
}
