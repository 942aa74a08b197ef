//! mosquitto.conf options FerroMQ does not implement yet, and what they
//! belong to. Using one is an error naming the line and the option (a
//! warning with `--lenient`); nothing is silently ignored.

/// Why `key` cannot be used yet, when it is a mosquitto option we know of.
pub(super) fn unsupported(key: &str) -> Option<&'static str> {
    const TLS: &[&str] = &[
        "crlfile",
        "ciphers_tls1.3",
        "dhparamfile",
        "tls_engine",
        "tls_engine_kpass_sha1",
        "tls_keyform",
        "use_subject_as_username",
        "psk_hint",
        "psk_file",
    ];
    const WEBSOCKETS: &[&str] = &[
        "http_dir",
        "websockets_log_level",
        "websockets_headers_size",
    ];
    // Bridge options FerroMQ does not implement (the rest are in
    // bridge/config.rs).
    const BRIDGE: &[&str] = &[
        "bridge_attempt_unsubscribe",
        "bridge_bind_address",
        "bridge_identity",
        "bridge_max_packet_size",
        "bridge_outgoing_retain",
        "bridge_psk",
        "bridge_require_ocsp",
        "bridge_tls_version",
        "local_cleansession",
        "local_password",
        "local_username",
        "notifications_local_only",
    ];
    const OTHER: &[&str] = &[
        "allow_duplicate_messages",
        "allow_zero_length_clientid",
        "auth_plugin",
        "auth_plugin_deny_special_chars",
        "auto_id_prefix",
        "bind_interface",
        "check_retain_source",
        "clientid_prefixes",
        "global_plugin",
        "log_facility",
        "max_qos",
        "memory_limit",
        "mount_point",
        "plugin",
        "queue_qos0_messages",
        "retry_interval",
        "set_tcp_nodelay",
        "socket_domain",
        "store_clean_interval",
        "upgrade_outgoing_qos",
        "use_username_as_clientid",
        "user",
        "accept_protocol_versions",
        "enable_control_api",
    ];
    if TLS.contains(&key) {
        Some("FerroMQ's TLS (rustls) does not implement it")
    } else if WEBSOCKETS.contains(&key) {
        Some("FerroMQ's WebSocket listeners do not implement it")
    } else if BRIDGE.contains(&key) {
        Some("this bridge option is not implemented")
    } else if OTHER.contains(&key) || key.starts_with("auth_opt_") || key.starts_with("plugin_opt_")
    {
        Some("FerroMQ does not implement it")
    } else {
        None
    }
}
