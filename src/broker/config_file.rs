//! FerroMQ's own `ferromq broker --config FILE` keys: one `key value`
//! setting per line, `#` starts a comment, `listen` may repeat. Unknown keys
//! are errors. The one parser is `config::mosquitto`, which reads these keys
//! and mosquitto.conf's alike.
//!
//! ```text
//! listen 127.0.0.1:1883        # host:port, repeatable; port 0 = any free port
//! max_connections 100000
//! max_packet_size 16777216     # bytes
//! max_inflight 32              # outgoing QoS 1/2 messages per session
//! max_queued 1000              # queued messages per session (online: pauses publishers)
//! max_queued_bytes 16777216    # queued payload bytes per session; 0 = no limit
//! drop_policy newest           # newest | oldest: what goes when an offline queue is full
//! slow_consumer_timeout 30     # seconds a queue may stay full online; 0 = never
//! max_topic_length 65535
//! max_topic_levels 128
//! keepalive_factor_percent 150
//! connect_timeout 10           # seconds to wait for CONNECT
//! max_keepalive 0              # seconds; 0 = accept what clients ask
//! topic_alias_maximum 16
//! receive_maximum 1024
//! sys_interval 10              # seconds between $SYS publications; 0 = off (the default)
//! metrics_listener 127.0.0.1:9100   # Prometheus text format on GET /metrics
//! ```

use super::BrokerConfig;
use super::config::mosquitto;

/// Settings read from a file: the broker configuration and the listeners.
#[derive(Debug, Clone, Default)]
pub struct FileConfig {
    pub config: BrokerConfig,
    pub listen: Vec<String>,
}

/// Parse the text of a configuration file (mosquitto.conf syntax is read
/// too: see [`mosquitto`]). Errors name the line.
pub fn parse(text: &str) -> Result<FileConfig, String> {
    let conf = mosquitto::parse_str(text, "", false)?;
    Ok(FileConfig {
        config: conf.config,
        listen: conf.listeners.into_iter().map(|l| l.address).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::DropPolicy;
    use std::time::Duration;

    #[test]
    fn reads_every_setting() {
        let fc = parse(
            "# a comment\nlisten 127.0.0.1:0\nlisten 127.0.0.1:1884 # second\nmax_connections 7\n\
             max_packet_size 1000\nmax_inflight 3\nmax_queued 9\ndrop_policy oldest\n\
             max_topic_length 100\nmax_topic_levels 4\nkeepalive_factor_percent 200\n\
             connect_timeout 3\nmax_keepalive 30\ntopic_alias_maximum 2\nreceive_maximum 5\n",
        )
        .unwrap();
        let l = &fc.config.limits;
        assert_eq!(fc.listen, vec!["127.0.0.1:0", "127.0.0.1:1884"]);
        assert_eq!(
            (
                l.max_connections,
                l.max_packet_size,
                l.max_inflight,
                l.max_queued
            ),
            (7, 1000, 3, 9)
        );
        assert_eq!(l.drop_policy, DropPolicy::DropOldest);
        assert_eq!(
            (l.max_topic_len, l.max_topic_levels, l.keepalive_factor_pct),
            (100, 4, 200)
        );
        assert_eq!(l.connect_timeout, Duration::from_secs(3));
        assert_eq!(l.max_keep_alive, Some(30));
        assert_eq!((l.topic_alias_max, l.receive_maximum), (2, 5));
        assert_eq!(fc.config.sys_interval, None, "off unless configured");
        assert_eq!(fc.config.metrics_listener, None);
    }

    #[test]
    fn reads_sys_interval_and_metrics_listener() {
        let fc = parse("sys_interval 10\nmetrics_listener 127.0.0.1:9100\n").unwrap();
        assert_eq!(fc.config.sys_interval, Some(Duration::from_secs(10)));
        assert_eq!(
            fc.config.metrics_listener,
            Some("127.0.0.1:9100".parse().unwrap())
        );
        assert_eq!(parse("sys_interval 0").unwrap().config.sys_interval, None);
        let e = parse("metrics_listener 127.0.0.1").unwrap_err();
        assert!(
            e.contains("line 1") && e.contains("metrics_listener") && e.contains("ADDRESS:PORT"),
            "{e}"
        );
        assert!(parse("sys_interval soon").unwrap_err().contains("line 1"));
    }

    #[test]
    fn errors_name_the_line() {
        assert!(parse("max_queued lots").unwrap_err().contains("line 1"));
        assert!(
            parse("\nbogus 1")
                .unwrap_err()
                .contains("line 2: unknown setting 'bogus'")
        );
        assert!(parse("listen").unwrap_err().contains("needs a value"));
        assert!(
            parse("drop_policy sideways")
                .unwrap_err()
                .contains("drop_policy")
        );
        assert!(parse("max_inflight 70000").unwrap_err().contains("at most"));
        assert!(parse("listen a b").unwrap_err().contains("too many"));
    }
}
