//! Unit tests of the mosquitto.conf parser: every key, errors naming the line
//! and the option, include_dir order, per_listener_settings.

use super::*;

fn parse(text: &str) -> Result<Conf, String> {
    parse_str(text, "", false)
}

#[test]
fn reads_every_mosquitto_key() {
    let c = parse(
        "# comment\nper_listener_settings false\nallow_anonymous false\n\
         password_file /etc/mosquitto/passwd\nacl_file /etc/mosquitto/acl file\n\
         max_connections -1\nmax_packet_size 2000\nmessage_size_limit 1000\n\
         max_inflight_messages 5\nmax_inflight_bytes 4096\nmax_queued_messages 7\n\
         max_queued_bytes 8192\nmax_keepalive 60\npersistent_client_expiration 2d\n\
         retain_available false\nsys_interval 15\nmetrics_listener 127.0.0.1:9100\n\
         log_dest stdout\nlog_dest file /var/log/m q.log\nlog_type error\nlog_type notice\n\
         log_timestamp false\nlog_timestamp_format %Y-%m-%d %H:%M:%S\n\
         connection_messages false\npid_file /run/m.pid\npersistence false\n\
         listener 1884 127.0.0.1\nmax_connections 3\nprotocol mqtt\nlistener 1885 ::1\n",
    )
    .unwrap();
    let l = &c.config.limits;
    assert_eq!(c.security.allow_anonymous, Some(false));
    assert_eq!(
        c.security.password_file.as_deref(),
        Some(Path::new("/etc/mosquitto/passwd"))
    );
    assert_eq!(
        c.security.acl_file.as_deref(),
        Some(Path::new("/etc/mosquitto/acl file"))
    );
    assert_eq!(l.max_connections, usize::MAX);
    assert_eq!((l.max_packet_size, l.max_payload_size), (2000, Some(1000)));
    assert_eq!((l.max_inflight, l.max_inflight_bytes), (5, Some(4096)));
    assert_eq!((l.max_queued, l.max_queued_bytes), (7, Some(8192)));
    assert_eq!(l.max_keep_alive, Some(60));
    assert_eq!(
        l.persistent_client_expiration,
        Some(Duration::from_secs(2 * 86_400))
    );
    assert!(!l.retain_available);
    assert_eq!(c.config.sys_interval, Some(Duration::from_secs(15)));
    assert_eq!(
        c.config.metrics_listener,
        Some("127.0.0.1:9100".parse().unwrap())
    );
    assert_eq!(
        c.log.dests,
        vec![
            LogDest::Stdout,
            LogDest::File(PathBuf::from("/var/log/m q.log"))
        ]
    );
    assert_eq!(c.log.types, log_type::ERROR | log_type::NOTICE);
    assert!(!c.log.timestamp && !c.log.connection_messages);
    assert_eq!(c.log.timestamp_format.as_deref(), Some("%Y-%m-%d %H:%M:%S"));
    assert_eq!(c.pid_file.as_deref(), Some(Path::new("/run/m.pid")));
    let addrs: Vec<&str> = c.listeners.iter().map(|l| l.address.as_str()).collect();
    assert_eq!(addrs, ["127.0.0.1:1884", "[::1]:1885"]);
    assert_eq!(c.listeners[0].max_connections, Some(3));
    assert_eq!(l.listener_max_connections, vec![Some(3), None]);
    assert!(c.mosquitto_style);
}

#[test]
fn zero_means_unlimited_as_in_mosquitto() {
    let c = parse(
        "max_inflight_messages 0\nmax_queued_messages 0\nmessage_size_limit 0\n\
         max_inflight_bytes 0\nmax_queued_bytes 0\nsys_interval 0\nmax_packet_size 0\n",
    )
    .unwrap();
    let l = &c.config.limits;
    assert_eq!((l.max_inflight, l.max_queued), (65_535, usize::MAX));
    assert_eq!(
        (l.max_payload_size, l.max_inflight_bytes, l.max_queued_bytes),
        (None, None, None)
    );
    assert_eq!(c.config.sys_interval, None);
    assert_eq!(l.max_packet_size, 268_435_460);
}

#[test]
fn slow_consumer_timeout_in_seconds() {
    let c = parse("slow_consumer_timeout 5\n").unwrap();
    assert_eq!(
        c.config.limits.slow_consumer_timeout,
        Some(Duration::from_secs(5))
    );
    let c = parse("slow_consumer_timeout 0\n").unwrap();
    assert_eq!(c.config.limits.slow_consumer_timeout, None, "0 = never");
}

#[test]
fn expiration_units() {
    for (v, secs) in [
        ("1h", 3600),
        ("3d", 3 * 86_400),
        ("1w", 7 * 86_400),
        ("2m", 60 * 86_400),
        ("1y", 365 * 86_400),
    ] {
        let c = parse(&format!("persistent_client_expiration {v}")).unwrap();
        assert_eq!(
            c.config.limits.persistent_client_expiration,
            Some(Duration::from_secs(secs))
        );
    }
    // Found by fuzzing (fuzz/, target conf): a multi-byte last character
    // made the parser slice inside it and panic.
    for v in ["5\u{e9}", "\u{fffd}", "h\u{fffd}\u{fffd}"] {
        let e = parse(&format!("persistent_client_expiration {v}")).unwrap_err();
        assert!(e.contains("persistent_client_expiration"), "{e}");
    }
    let e = parse("persistent_client_expiration 5s").unwrap_err();
    assert!(e.contains("line 1") && e.contains("persistent_client_expiration"));
}

#[test]
fn listeners_port_and_bind_address() {
    let c =
        parse("port 1999\nbind_address 127.0.0.2\nlisten 127.0.0.1:0\nlistener 2000\n").unwrap();
    let addrs: Vec<&str> = c.listeners.iter().map(|l| l.address.as_str()).collect();
    assert_eq!(addrs, ["127.0.0.2:1999", "127.0.0.1:0", "0.0.0.0:2000"]);
    assert!(parse("listener").unwrap_err().contains("PORT"));
    assert!(parse("listener x").unwrap_err().contains("port"));
}

#[test]
fn per_listener_settings_put_security_in_blocks() {
    let text = "per_listener_settings true\nallow_anonymous true\nport 1000\n\
                listener 1001\npassword_file /a\nallow_anonymous false\n\
                listener 1002\nacl_file /b\n";
    let c = parse(text).unwrap();
    // Before any listener: the global (default listener) settings.
    assert_eq!(c.security_for(0).allow_anonymous, Some(true));
    let s1 = c.security_for(1);
    assert_eq!(s1.password_file.as_deref(), Some(Path::new("/a")));
    assert_eq!(s1.allow_anonymous, Some(false));
    let s2 = c.security_for(2);
    assert_eq!(s2.acl_file.as_deref(), Some(Path::new("/b")));
    assert_eq!(s2.password_file, None);
    // A mosquitto-style file refuses anonymous clients unless told otherwise.
    assert_eq!(s2.allow_anonymous, Some(false));
    assert_eq!(c.security_for(9).allow_anonymous, Some(true));

    // Without per_listener_settings the same lines are global.
    let c = parse(&text.replace("true\nallow", "false\nallow")).unwrap();
    for i in 0..3 {
        let s = c.security_for(i);
        assert_eq!(s.password_file.as_deref(), Some(Path::new("/a")));
        assert_eq!(s.acl_file.as_deref(), Some(Path::new("/b")));
        assert_eq!(s.allow_anonymous, Some(false));
    }
}

#[test]
fn per_listener_settings_must_come_first() {
    let e = parse("listener 1000\nper_listener_settings true\n").unwrap_err();
    assert!(
        e.contains("line 2") && e.contains("per_listener_settings"),
        "{e}"
    );
    let e = parse("allow_anonymous true\nper_listener_settings true\n").unwrap_err();
    assert!(e.contains("line 2"), "{e}");
}

#[test]
fn ferromq_files_allow_anonymous_clients() {
    let c = parse("listen 127.0.0.1:0\npassword_file /p\n").unwrap();
    assert!(!c.mosquitto_style);
    assert_eq!(c.security_for(0).allow_anonymous, Some(true));
}

#[test]
fn unsupported_and_unknown_options_are_errors_naming_line_and_option() {
    for (key, why) in [
        ("crlfile /x.pem", "rustls"),
        ("http_dir /www", "WebSocket"),
        ("bridge_psk 00ff", "bridge option is not implemented"),
        ("local_username u", "bridge option is not implemented"),
        ("auth_opt_x 1", "not implement"),
        ("user mosquitto", "not implement"),
        ("log_dest topic", "not supported yet"),
        ("log_type subscribe", "not supported yet"),
    ] {
        let e = parse(&format!("# c\n{key}\n")).unwrap_err();
        let name = key.split(' ').next().unwrap();
        assert!(
            e.contains("line 2") && e.contains(name) && e.contains(why),
            "{key}: {e}"
        );
        assert!(e.contains("not supported yet"), "{key}: {e}");
    }
    let e = parse("\n\nbogus 1").unwrap_err();
    assert!(e.contains("line 3: unknown setting 'bogus'"), "{e}");
}

#[test]
fn lenient_turns_those_errors_into_warnings() {
    let c = parse_str(
        "crlfile /x\nbogus 1\nbridge_bind_address 10.0.0.1\nmax_queued 4\n",
        "f",
        true,
    )
    .unwrap();
    assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("f: line 1") && c.warnings[0].contains("crlfile"));
    assert!(c.warnings[1].contains("bogus"));
    assert_eq!(c.config.limits.max_queued, 4);
    // Bad values stay errors.
    assert!(parse_str("max_queued lots", "f", true).is_err());
}

#[test]
fn bad_values_name_the_line_and_option() {
    for text in [
        "allow_anonymous yes",
        "max_packet_size 300000000",
        "max_keepalive -1",
        "log_type loud",
        "log_dest pigeon",
        "metrics_listener nowhere",
        "password_file",
        "max_inflight_messages 1 2",
    ] {
        let e = parse(&format!("\n{text}")).unwrap_err();
        let key = text.split(' ').next().unwrap();
        assert!(e.contains("line 2") && e.contains(key), "{text}: {e}");
    }
}

#[test]
fn log_settings_accumulate_and_reset() {
    let c = parse("log_dest none\n").unwrap();
    assert!(c.log.dests.is_empty());
    let c = parse("log_type all\n").unwrap();
    assert_eq!(c.log.types, log_type::ALL);
    let c = parse("log_type none\n").unwrap();
    assert_eq!(c.log.types, 0);
    let c = parse("log_dest stderr\nlog_dest syslog\n").unwrap();
    assert_eq!(c.log.dests, vec![LogDest::Stderr, LogDest::Syslog]);
    assert_eq!(parse("").unwrap().log, LogConf::default());
}

#[test]
fn trailing_comments_only_after_whitespace() {
    let c = parse("max_queued 9 # nine\nlog_timestamp_format %H#%M\n").unwrap();
    assert_eq!(c.config.limits.max_queued, 9);
    assert_eq!(c.log.timestamp_format.as_deref(), Some("%H#%M"));
}

#[test]
fn include_dir_reads_conf_files_in_name_order_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let inc = dir.path().join("conf.d");
    std::fs::create_dir(&inc).unwrap();
    std::fs::write(inc.join("b.conf"), "max_queued 2\n").unwrap();
    std::fs::write(inc.join("a.conf"), "max_queued 1\nmax_inflight 7\n").unwrap();
    std::fs::write(inc.join("B.conf"), "max_queued 0\nmax_connections 5\n").unwrap();
    std::fs::write(inc.join("c.txt"), "bogus\n").unwrap();
    let main = dir.path().join("main.conf");
    std::fs::write(
        &main,
        format!("max_inflight 3\ninclude_dir {}\n", inc.display()),
    )
    .unwrap();
    let c = parse_file(&main, false).unwrap();
    // B.conf, a.conf, b.conf: the last word is b.conf's.
    assert_eq!(c.config.limits.max_queued, 2);
    assert_eq!(c.config.limits.max_inflight, 7);
    assert_eq!(c.config.limits.max_connections, 5);
    // Later lines of the main file come after the included ones.
    std::fs::write(
        &main,
        format!("include_dir {}\nmax_queued 9\n", inc.display()),
    )
    .unwrap();
    assert_eq!(
        parse_file(&main, false).unwrap().config.limits.max_queued,
        9
    );
    // Errors in included files name that file and line.
    std::fs::write(inc.join("b.conf"), "\nnope 1\n").unwrap();
    let e = parse_file(&main, false).unwrap_err();
    assert!(e.contains("b.conf: line 2") && e.contains("nope"), "{e}");
    // Only from the main file.
    std::fs::write(
        inc.join("b.conf"),
        format!("include_dir {}\n", inc.display()),
    )
    .unwrap();
    let e = parse_file(&main, false).unwrap_err();
    assert!(e.contains("only allowed in the main"), "{e}");
    let e = parse("include_dir /does/not/exist").unwrap_err();
    assert!(e.contains("line 1") && e.contains("include_dir"), "{e}");
}

#[test]
fn persistence_keys_name_the_store_file() {
    let c = parse("persistence false\npersistence_location /var/lib/m/\n").unwrap();
    assert_eq!(c.config.persistence, None);
    let c = parse(
        "persistence true\npersistence_location /var/lib/m/\nautosave_interval 1800\n\
         autosave_on_changes false\n",
    )
    .unwrap();
    assert_eq!(
        c.config.persistence.as_deref(),
        Some(std::path::Path::new("/var/lib/m/ferromq.redb"))
    );
    let c = parse("persistence_file b.db\npersistence true\npersistence_location /d\n").unwrap();
    assert_eq!(
        c.config.persistence.as_deref(),
        Some(std::path::Path::new("/d/b.db"))
    );
    let c = parse("persistence true\n").unwrap();
    assert_eq!(
        c.config.persistence.as_deref(),
        Some(std::path::Path::new("ferromq.redb"))
    );
    let e = parse("persistence_file a/b.db\n").unwrap_err();
    assert!(
        e.contains("line 1") && e.contains("persistence_file"),
        "{e}"
    );
    let e = parse("autosave_interval soon\n").unwrap_err();
    assert!(e.contains("autosave_interval"), "{e}");
}
