//! MQTTBroker_createOptions → the broker's configuration: the defaults the
//! C initializer holds, the range of every limit, and the listener list.

use std::ffi::c_int;
use std::path::Path;
use std::time::Duration;

use super::guard::{FfiResult, c_str, checked_version, opt_c_str, read_field};
use super::types::{
    MQTTBROKER_BAD_LISTENER, MQTTBROKER_BAD_OPTION, MQTTBROKER_PROTOCOL_MQTT,
    MQTTBROKER_PROTOCOL_WEBSOCKETS, MQTTBROKER_TLS_ERROR, MQTTBroker_createOptions,
    MQTTBroker_listenerOptions,
};
use crate::broker::config::listener_keys::{ListenerProtocol, ListenerSpec, TlsServerSettings};
use crate::broker::config::mosquitto::DEFAULT_PERSISTENCE_FILE;
use crate::broker::listener::ListenerTransport;
use crate::broker::server::parse_listen;
use crate::broker::{BrokerConfig, DropPolicy, Limits};

/// The listener used when the options name none.
pub(crate) const DEFAULT_LISTENER: &str = "127.0.0.1:1883";

/// Largest packet MQTT can express (a 4-byte remaining length plus header).
const MQTT_MAX_PACKET: c_int = 268_435_460;

/// What a broker handle is created from.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub config: BrokerConfig,
    pub listen: Vec<String>,
    /// Per listener: its protocol and TLS settings.
    pub specs: Vec<ListenerSpec>,
}

/// The values of MQTTBroker_createOptions_initializer (kept equal to the
/// macro in cbindgen/MQTTBroker.h.in; a unit test checks them against
/// `Limits::default`).
pub(crate) fn initializer() -> MQTTBroker_createOptions {
    MQTTBroker_createOptions {
        struct_id: [b'M', b'Q', b'B', b'O'].map(|b| b as _),
        struct_version: 2,
        listeners: std::ptr::null(),
        listenerCount: 0,
        maxConnections: 100_000,
        maxPacketSize: 16 * 1024 * 1024,
        maxInflight: 32,
        maxQueued: 1000,
        dropOldest: 0,
        maxTopicLength: 65_535,
        maxTopicLevels: 128,
        keepAliveFactorPercent: 150,
        connectTimeout: 10,
        maxKeepAlive: 0,
        topicAliasMaximum: 16,
        topicAliasOutMaximum: 16,
        receiveMaximum: 1024,
        maxInflightBytes: 0,
        maxQueuedBytes: crate::broker::config::DEFAULT_MAX_QUEUED_BYTES as c_int,
        slowConsumerTimeout: crate::broker::config::DEFAULT_SLOW_CONSUMER_TIMEOUT.as_secs()
            as c_int,
        listenerOptions: std::ptr::null(),
        persistenceLocation: std::ptr::null(),
    }
}

/// `v` if it lies in `lo..=hi`, else MQTTBROKER_BAD_OPTION.
fn ranged(v: c_int, lo: c_int, hi: c_int) -> FfiResult<c_int> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(MQTTBROKER_BAD_OPTION)
    }
}

/// The same value as a u16, checked against `lo..=u16::MAX`.
fn ranged_u16(v: c_int, lo: c_int) -> FfiResult<u16> {
    let v = ranged(v, lo, c_int::from(u16::MAX))?;
    u16::try_from(v).map_err(|_| MQTTBROKER_BAD_OPTION)
}

/// Any non-negative count as usize.
fn count(v: c_int, lo: c_int) -> FfiResult<usize> {
    let v = ranged(v, lo, c_int::MAX)?;
    usize::try_from(v).map_err(|_| MQTTBROKER_BAD_OPTION)
}

/// The limits of a checked options struct. Limits the C struct does not
/// carry (including ones added later) keep their defaults.
#[allow(clippy::needless_update)]
fn limits(o: &MQTTBroker_createOptions) -> FfiResult<Limits> {
    let max_keep_alive = ranged_u16(o.maxKeepAlive, 0)?;
    Ok(Limits {
        max_connections: count(o.maxConnections, 1)?,
        max_packet_size: count(ranged(o.maxPacketSize, 2, MQTT_MAX_PACKET)?, 2)? as u32,
        max_inflight: ranged_u16(o.maxInflight, 1)?,
        max_queued: count(o.maxQueued, 0)?,
        drop_policy: if o.dropOldest != 0 {
            DropPolicy::DropOldest
        } else {
            DropPolicy::DropNewest
        },
        max_topic_len: count(ranged(o.maxTopicLength, 1, 65_535)?, 1)?,
        max_topic_levels: count(o.maxTopicLevels, 1)?,
        keepalive_factor_pct: count(o.keepAliveFactorPercent, 100)? as u32,
        connect_timeout: Duration::from_secs(count(o.connectTimeout, 1)? as u64),
        max_keep_alive: (max_keep_alive > 0).then_some(max_keep_alive),
        topic_alias_max: ranged_u16(o.topicAliasMaximum, 0)?,
        topic_alias_out_max: ranged_u16(o.topicAliasOutMaximum, 0)?,
        receive_maximum: ranged_u16(o.receiveMaximum, 1)?,
        max_inflight_bytes: Some(count(o.maxInflightBytes, 0)?).filter(|&n| n > 0),
        max_queued_bytes: Some(count(o.maxQueuedBytes, 0)?).filter(|&n| n > 0),
        slow_consumer_timeout: Some(count(o.slowConsumerTimeout, 0)?)
            .filter(|&n| n > 0)
            .map(|n| Duration::from_secs(n as u64)),
        ..Limits::default()
    })
}

/// The listeners of a checked options struct (the default when none).
///
/// # Safety
/// `o.listeners` NULL or `o.listenerCount` readable string pointers.
unsafe fn listeners(o: &MQTTBroker_createOptions) -> FfiResult<Vec<String>> {
    let n = usize::try_from(o.listenerCount).map_err(|_| MQTTBROKER_BAD_LISTENER)?;
    if n == 0 {
        return Ok(vec![DEFAULT_LISTENER.to_owned()]);
    }
    if o.listeners.is_null() {
        return Err(super::types::MQTTBROKER_NULL_PARAMETER);
    }
    (0..n)
        .map(|i| {
            // SAFETY: `i < listenerCount` entries are readable per the contract.
            let p = unsafe { o.listeners.add(i).read() };
            // SAFETY: each entry is NULL or a NUL-terminated string.
            let s = unsafe { c_str(p) }?;
            parse_listen(s).map_err(|_| MQTTBROKER_BAD_LISTENER)?;
            Ok(s.to_owned())
        })
        .collect()
}

/// Check and convert creation options; NULL means the initializer's values.
///
/// # Safety
/// `opts` NULL or a readable MQTTBroker_createOptions whose listener array
/// holds `listenerCount` string pointers, and whose `persistenceLocation`
/// (version 2) is NULL or a NUL-terminated string.
pub(crate) unsafe fn settings(opts: *const MQTTBroker_createOptions) -> FfiResult<Settings> {
    let o = if opts.is_null() {
        initializer()
    } else {
        let version = checked_version!(opts, b"MQBO", 2)?;
        // Read field by field, only those of the caller's version (a version
        // 0 struct is shorter), so an unaligned caller's struct is never
        // referenced and nothing past its end is read.
        let mut o = MQTTBroker_createOptions {
            struct_id: read_field!(opts, struct_id),
            struct_version: read_field!(opts, struct_version),
            listeners: read_field!(opts, listeners),
            listenerCount: read_field!(opts, listenerCount),
            maxConnections: read_field!(opts, maxConnections),
            maxPacketSize: read_field!(opts, maxPacketSize),
            maxInflight: read_field!(opts, maxInflight),
            maxQueued: read_field!(opts, maxQueued),
            dropOldest: read_field!(opts, dropOldest),
            maxTopicLength: read_field!(opts, maxTopicLength),
            maxTopicLevels: read_field!(opts, maxTopicLevels),
            keepAliveFactorPercent: read_field!(opts, keepAliveFactorPercent),
            connectTimeout: read_field!(opts, connectTimeout),
            maxKeepAlive: read_field!(opts, maxKeepAlive),
            topicAliasMaximum: read_field!(opts, topicAliasMaximum),
            topicAliasOutMaximum: read_field!(opts, topicAliasOutMaximum),
            receiveMaximum: read_field!(opts, receiveMaximum),
            ..initializer()
        };
        if version >= 1 {
            o.maxInflightBytes = read_field!(opts, maxInflightBytes);
            o.maxQueuedBytes = read_field!(opts, maxQueuedBytes);
            o.slowConsumerTimeout = read_field!(opts, slowConsumerTimeout);
        }
        if version >= 2 {
            o.listenerOptions = read_field!(opts, listenerOptions);
            o.persistenceLocation = read_field!(opts, persistenceLocation);
        }
        o
    };
    let limits = limits(&o)?;
    // SAFETY: forwarded contract.
    let listen = unsafe { listeners(&o) }?;
    let specs = if o.listenerOptions.is_null() || o.listenerCount == 0 {
        Vec::new()
    } else {
        (0..listen.len())
            .map(|i| {
                // SAFETY: `listenerCount` readable entries per the contract.
                unsafe { listener_spec(o.listenerOptions.add(i)) }
            })
            .collect::<FfiResult<Vec<_>>>()?
    };
    let persistence = match o.persistenceLocation.is_null() {
        true => None,
        // SAFETY: a non-NULL NUL-terminated string per the contract.
        false => {
            Some(Path::new(unsafe { c_str(o.persistenceLocation) }?).join(DEFAULT_PERSISTENCE_FILE))
        }
    };
    Ok(Settings {
        config: BrokerConfig {
            limits,
            persistence,
            ..BrokerConfig::default()
        },
        listen,
        specs,
    })
}

/// One listener's options, checked (its certificate files read once, so
/// that a bad one fails MQTTBroker_create rather than the start).
///
/// # Safety
/// `p` NULL or a readable MQTTBroker_listenerOptions whose strings are NULL
/// or NUL-terminated.
unsafe fn listener_spec(p: *const MQTTBroker_listenerOptions) -> FfiResult<ListenerSpec> {
    checked_version!(p, b"MQBL", 0)?;
    let path = |s: *const std::ffi::c_char| -> FfiResult<Option<std::path::PathBuf>> {
        // SAFETY: NULL or NUL-terminated per the contract.
        Ok(unsafe { opt_c_str(s) }?.map(std::path::PathBuf::from))
    };
    let text = |s: *const std::ffi::c_char| -> FfiResult<Option<String>> {
        // SAFETY: as above.
        Ok(unsafe { opt_c_str(s) }?.map(str::to_owned))
    };
    let protocol = match read_field!(p, protocol) {
        MQTTBROKER_PROTOCOL_MQTT => ListenerProtocol::Mqtt,
        MQTTBROKER_PROTOCOL_WEBSOCKETS => ListenerProtocol::WebSockets,
        _ => return Err(MQTTBROKER_BAD_OPTION),
    };
    let tls = TlsServerSettings {
        certfile: path(read_field!(p, certfile))?,
        keyfile: path(read_field!(p, keyfile))?,
        cafile: path(read_field!(p, cafile))?,
        capath: path(read_field!(p, capath))?,
        require_certificate: read_field!(p, requireCertificate) != 0,
        use_identity_as_username: read_field!(p, useIdentityAsUsername) != 0,
        tls_version: text(read_field!(p, tlsVersion))?,
        ciphers: text(read_field!(p, ciphers))?,
    };
    let spec = ListenerSpec { protocol, tls };
    ListenerTransport::new(&spec).map_err(|e| {
        crate::client::trace::emit(
            crate::client::trace::ERROR,
            &format!("MQTTBroker listener TLS: {e}"),
        );
        MQTTBROKER_TLS_ERROR
    })?;
    Ok(spec)
}
