//! The client side of a bridge: the async client it uses and the connect
//! options a `BridgeConf` means (versions, will, TLS, session, try_private).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::config::BridgeConf;
use crate::client::r#async::{AsyncClient, AsyncConnectOptions, AsyncCreateOptions};
use crate::client::sync::ConnectOptions;
use crate::client::tls::TlsOptions;
use crate::protocol::codec::{
    Properties, Property, PropertyId, PropertyValue, ProtocolVersion, QoS, Will,
};
use crate::reactor::transport::tls_config::TlsSettings;

pub(super) fn new_client(conf: &BridgeConf) -> std::io::Result<AsyncClient> {
    let scheme = if conf.uses_tls() { "ssl" } else { "tcp" };
    let uri = format!("{scheme}://{}", conf.addresses[0]);
    let version = match conf.protocol {
        ProtocolVersion::V31 => 3,
        ProtocolVersion::V311 => 4,
        ProtocolVersion::V5 => 5,
    };
    let opts = AsyncCreateOptions {
        mqtt_version: version,
        send_while_disconnected: true,
        allow_disconnected_send_at_any_time: true,
        max_buffered: super::link::HANDED_MAX as usize + 16,
        ..AsyncCreateOptions::default()
    };
    AsyncClient::new(&uri, &conf.remote_id(), opts).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("bridge {}: {e:?}", conf.name),
        )
    })
}

pub(super) fn connect_options(
    conf: &BridgeConf,
    uris: Vec<String>,
    private_refused: bool,
) -> AsyncConnectOptions {
    let v5 = conf.protocol == ProtocolVersion::V5;
    let mut properties = Properties::default();
    if v5 && !conf.cleansession {
        // A persistent session outlives the link (as mosquitto's bridge).
        properties.list.push(Property {
            id: PropertyId::SESSION_EXPIRY_INTERVAL,
            value: PropertyValue::U32(u32::MAX),
        });
    }
    let will = conf.notifications.then(|| Will {
        topic: conf.state_topic(),
        payload: Bytes::from_static(b"0"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Properties::default(),
    });
    let tls = conf.uses_tls().then(|| {
        Arc::new(TlsOptions::new(
            TlsSettings {
                trust_store: conf.cafile.clone(),
                ca_path: conf.capath.clone(),
                default_trust_store: false,
                key_store: conf.certfile.clone(),
                private_key: conf.keyfile.clone(),
                verify_server: true,
                verify_host: !conf.insecure,
                alpn: conf.alpn.iter().map(|a| a.as_bytes().to_vec()).collect(),
                ..TlsSettings::default()
            },
            None,
        ))
    });
    let version = match conf.protocol {
        ProtocolVersion::V31 => 3,
        ProtocolVersion::V311 => 4,
        ProtocolVersion::V5 => 5,
    };
    let base = ConnectOptions {
        keep_alive: Duration::from_secs(u64::from(conf.keepalive)),
        clean_session: conf.cleansession,
        clean_start: conf.cleansession,
        will: will.map(Box::new),
        username: conf.remote_username.clone(),
        password: conf
            .remote_password
            .as_ref()
            .filter(|_| conf.remote_username.is_some())
            .map(|p| Bytes::from(p.clone().into_bytes())),
        connect_timeout: Duration::from_secs(10),
        retry_interval: Duration::ZERO,
        mqtt_version: version,
        server_uris: uris,
        // A 3.x server cannot say how many QoS 2 flows it takes at once and
        // mosquitto refuses those past its max_inflight_messages (20)
        // silently: stay within it. MQTT 5 servers say (Receive Maximum).
        max_inflight: if v5 { 100 } else { 20 },
        properties,
        tls,
        http_headers: Vec::new(),
        http_proxy: None,
        https_proxy: None,
        // MQTT 5 has no-local instead (mosquitto refuses level 0x85).
        bridge: conf.try_private && !private_refused && !v5,
    };
    AsyncConnectOptions {
        base,
        automatic_reconnect: false,
        min_retry_interval: conf.restart.base,
        max_retry_interval: conf.restart.cap.unwrap_or(conf.restart.base),
    }
}
