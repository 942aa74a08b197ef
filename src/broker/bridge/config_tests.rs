//! Unit tests of the `connection` block parser and the topic mapping.

use std::time::Duration;

use super::config::*;
use crate::broker::config::mosquitto::parse_str;
use crate::protocol::codec::{ProtocolVersion, QoS};

fn bridges(text: &str) -> Result<Vec<BridgeConf>, String> {
    parse_str(text, "", false).map(|c| c.bridges)
}

#[test]
fn a_full_connection_block() {
    let b = bridges(
        "listener 1883\nconnection hub\naddress 10.0.0.1:1884 hub.example 10.0.0.3\n\
         round_robin true\ntopic # both 2 edge/ hub/edge1/\ntopic a/+ in 1\n\
         topic \"\" out 1 local/state remote/state\n\
         bridge_protocol_version mqttv50\ncleansession true\nlocal_clientid loc\n\
         remote_clientid rem\nremote_username u\nremote_password p w\n\
         try_private false\nnotifications false\nnotification_topic st/hub\n\
         keepalive_interval 30\nrestart_timeout 2 20\nstart_type lazy\nthreshold 5\n\
         idle_timeout 9\nbridge_max_queued 77\nbridge_cafile /ca dir/ca.pem\n\
         bridge_certfile /c.pem\nbridge_keyfile /k.pem\nbridge_insecure true\n\
         bridge_alpn mqtt\nmax_queued 4\n",
    );
    // remote_password takes one word.
    assert!(
        b.unwrap_err()
            .contains("line 13: too many values for 'remote_password'")
    );
    let c = parse_str(
        "connection hub\naddress 10.0.0.1:1884 hub.example 10.0.0.3\n\
         round_robin true\ntopic # both 2 edge/ hub/edge1/\ntopic a/+ in 1\n\
         topic \"\" out 1 local/state remote/state\n\
         bridge_protocol_version mqttv50\ncleansession true\nlocal_clientid loc\n\
         remote_clientid rem\nremote_username u\nremote_password pw\n\
         try_private false\nnotifications false\nnotification_topic st/hub\n\
         keepalive_interval 30\nrestart_timeout 2 20\nstart_type lazy\nthreshold 5\n\
         idle_timeout 9\nbridge_max_queued 77\nbridge_cafile /ca dir/ca.pem\n\
         bridge_certfile /c.pem\nbridge_keyfile /k.pem\nbridge_insecure true\n\
         bridge_alpn mqtt\nmax_queued 4\n",
        "",
        false,
    )
    .unwrap();
    // A general option after the block is still general.
    assert_eq!(c.config.limits.max_queued, 4);
    let b = &c.bridges[0];
    assert_eq!(b.name, "hub");
    assert_eq!(
        b.addresses,
        ["10.0.0.1:1884", "hub.example:1883", "10.0.0.3:1883"]
    );
    assert!(b.round_robin && b.cleansession && b.insecure);
    assert!(!b.try_private && !b.notifications);
    assert_eq!(b.protocol, ProtocolVersion::V5);
    assert_eq!((b.local_id(), b.remote_id()), ("loc".into(), "rem".into()));
    assert_eq!(b.remote_username.as_deref(), Some("u"));
    assert_eq!(b.remote_password.as_deref(), Some("pw"));
    assert_eq!(b.state_topic(), "st/hub");
    assert_eq!(b.keepalive, 30);
    assert_eq!(
        b.restart,
        Restart {
            base: Duration::from_secs(2),
            cap: Some(Duration::from_secs(20))
        }
    );
    assert_eq!(b.start_type, StartType::Lazy);
    assert_eq!((b.threshold, b.idle_timeout), (5, Duration::from_secs(9)));
    assert_eq!(b.max_queued, 77);
    assert_eq!(b.cafile.as_deref(), Some("/ca dir/ca.pem".as_ref()));
    assert!(b.uses_tls() && b.alpn.as_deref() == Some("mqtt"));
    assert_eq!(b.topics.len(), 3);
    let t = &b.topics[0];
    assert_eq!(
        (t.pattern.as_str(), t.direction, t.qos),
        ("#", Direction::Both, QoS::ExactlyOnce)
    );
    assert_eq!(
        (t.local_filter(), t.remote_filter()),
        ("edge/#".into(), "hub/edge1/#".into())
    );
    assert_eq!(t.to_remote("edge/a/b").as_deref(), Some("hub/edge1/a/b"));
    assert_eq!(t.to_local("hub/edge1/x").as_deref(), Some("edge/x"));
    assert_eq!(t.to_remote("other/a"), None);
    let t = &b.topics[1];
    assert_eq!((t.direction, t.qos), (Direction::In, QoS::AtLeastOnce));
    assert_eq!(t.to_local("a/b").as_deref(), Some("a/b"));
    assert_eq!(t.to_local("a/b/c"), None);
    let t = &b.topics[2];
    assert_eq!(
        (t.local_filter(), t.remote_filter()),
        ("local/state".into(), "remote/state".into())
    );
    assert_eq!(t.to_remote("local/state").as_deref(), Some("remote/state"));
    assert_eq!(t.to_remote("local/state/x"), None);
}

#[test]
fn mosquitto_defaults() {
    let b = &bridges("connection edge-1\naddress 127.0.0.1\ntopic sensors/#\n").unwrap()[0];
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host = host.trim();
    if !host.is_empty() {
        assert_eq!(b.remote_id(), format!("edge-1.{host}"));
    }
    assert_eq!(b.local_id(), format!("local.{}", b.remote_id()));
    assert_eq!(
        b.state_topic(),
        format!("$SYS/broker/connection/{}/state", b.remote_id())
    );
    assert_eq!(b.protocol, ProtocolVersion::V311);
    assert!(!b.cleansession && b.try_private && b.notifications && !b.round_robin);
    assert_eq!(b.keepalive, 60);
    assert_eq!(b.restart.base, Duration::from_secs(5));
    assert_eq!(b.restart.cap, Some(Duration::from_secs(30)));
    assert_eq!(b.start_type, StartType::Automatic);
    let t = &b.topics[0];
    assert_eq!((t.direction, t.qos), (Direction::Out, QoS::AtMostOnce));
    assert_eq!(t.local_filter(), "sensors/#");
    // A constant restart timeout.
    let b = &bridges("connection a\naddress h\ntopic t\nrestart_timeout 20\n").unwrap()[0];
    assert_eq!(b.restart.cap, None);
    // `#` in a topic line is the wildcard, not a comment.
    let b = &bridges("connection a\naddress h:1\ntopic # in\n").unwrap()[0];
    assert_eq!(b.topics[0].pattern, "#");
}

#[test]
fn several_blocks_and_the_placeholders() {
    let bs = bridges(
        "connection a\naddress h1\ntopic x out 0 \"\" \"\"\nconnection b\naddress [::1]:1885\n\
         topic y in 1 \"\" r/\n",
    )
    .unwrap();
    assert_eq!(bs.len(), 2);
    assert_eq!(bs[1].addresses, ["[::1]:1885"]);
    let t = &bs[1].topics[0];
    assert_eq!(
        (t.local_filter(), t.remote_filter()),
        ("y".into(), "r/y".into())
    );
}

#[test]
fn bad_blocks_name_the_line_and_option() {
    for (text, needle) in [
        (
            "topic #\n",
            "line 1: 'topic' belongs in a 'connection' block",
        ),
        ("connection\n", "line 1: 'connection' takes one NAME"),
        (
            "connection a\nconnection a\n",
            "line 2: a bridge named 'a' already exists",
        ),
        ("connection a\ntopic #\n", "bridge 'a' has no address"),
        ("connection a\naddress h\n", "bridge 'a' has no topic"),
        (
            "connection a\naddress h:99999\n",
            "line 2: 'address' takes HOST[:PORT]",
        ),
        ("connection a\naddress ::1\n", "line 2: 'address'"),
        (
            "connection a\naddress h\ntopic # sideways\n",
            "line 3: topic direction",
        ),
        (
            "connection a\naddress h\ntopic # in 3\n",
            "line 3: topic QoS",
        ),
        (
            "connection a\naddress h\ntopic # in 1 l/\n",
            "line 3: 'topic' takes",
        ),
        (
            "connection a\naddress h\ntopic a/#/b\n",
            "line 3: bad topic pattern",
        ),
        (
            "connection a\naddress h\ntopic # in 1 l/+ r/\n",
            "line 3: a topic prefix",
        ),
        (
            "connection a\naddress h\ntopic \"\" in 1 l \"\"\n",
            "line 3: an empty topic pattern",
        ),
        (
            "connection a\naddress h\ntopic #\nbridge_protocol_version 6\n",
            "line 4: 'bridge_protocol_version'",
        ),
        (
            "connection a\naddress h\ntopic #\nrestart_timeout 9 3\n",
            "line 4: 'restart_timeout'",
        ),
        (
            "connection a\naddress h\ntopic #\nrestart_timeout 0\n",
            "line 4: 'restart_timeout'",
        ),
        (
            "connection a\naddress h\ntopic #\nstart_type manual\n",
            "line 4: 'start_type'",
        ),
        (
            "connection a\naddress h\ntopic #\nkeepalive_interval 1\n",
            "line 4: 'keepalive_interval'",
        ),
        (
            "connection a\naddress h\ntopic #\ncleansession maybe\n",
            "line 4: 'cleansession'",
        ),
        (
            "connection a\naddress h\ntopic #\nnotification_topic a/#\n",
            "line 4: 'notification_topic'",
        ),
        (
            "connection a\naddress h\ntopic #\nlocal_clientid x\nremote_clientid x\n",
            "must differ",
        ),
        (
            "connection a\naddress h\ntopic #\nbridge_certfile /c\nbridge_keyfile /k\n",
            "need bridge_cafile",
        ),
        (
            "connection a\naddress h\ntopic #\nbridge_cafile /ca\nbridge_certfile /c\n",
            "go together",
        ),
        (
            "connection a\naddress h\ntopic #\nbridge_psk 00\n",
            "line 4: option 'bridge_psk' is not supported yet",
        ),
    ] {
        let e = bridges(text).unwrap_err();
        assert!(e.contains(needle), "{text:?}: {e}");
    }
}

#[test]
fn filter_matching() {
    assert!(matches_filter("a/+/c", "a/b/c", false));
    assert!(matches_filter("a/#", "a", false));
    assert!(matches_filter("#", "a/b", false));
    assert!(!matches_filter("#", "$SYS/x", false));
    assert!(!matches_filter("a/+", "a/b/c", false));
    assert!(matches_filter("", "", true));
    assert!(!matches_filter("", "x", true));
}
