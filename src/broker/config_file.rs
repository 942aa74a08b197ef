//! The `ferromq broker --config FILE` format: one `key value` setting per
//! line, `#` starts a comment, `listen` may repeat. Unknown keys are errors.
//!
//! ```text
//! listen 127.0.0.1:1883        # host:port, repeatable; port 0 = any free port
//! max_connections 100000
//! max_packet_size 16777216     # bytes
//! max_inflight 32              # outgoing QoS 1/2 messages per session
//! max_queued 1000              # queued messages per session
//! drop_policy newest           # newest | oldest: what goes when the queue is full
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

use std::time::Duration;

use super::{BrokerConfig, DropPolicy};

/// Settings read from a file: the broker configuration and the listeners.
#[derive(Debug, Clone, Default)]
pub struct FileConfig {
    pub config: BrokerConfig,
    pub listen: Vec<String>,
}

/// Parse the text of a configuration file. Errors name the line.
pub fn parse(text: &str) -> Result<FileConfig, String> {
    let mut fc = FileConfig::default();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        let key = parts.next().unwrap_or("");
        let value = parts
            .next()
            .ok_or_else(|| format!("line {}: '{key}' needs a value", n + 1))?;
        if parts.next().is_some() {
            return Err(format!("line {}: too many values for '{key}'", n + 1));
        }
        let num = |v: &str| -> Result<u64, String> {
            v.parse::<u64>()
                .map_err(|_| format!("line {}: '{key}' takes a whole number, not '{v}'", n + 1))
        };
        let small = |v: &str, max: u64| -> Result<u64, String> {
            let x = num(v)?;
            if x > max {
                return Err(format!("line {}: '{key}' is at most {max}", n + 1));
            }
            Ok(x)
        };
        let l = &mut fc.config.limits;
        match key {
            "listen" => fc.listen.push(value.to_string()),
            "max_connections" => l.max_connections = num(value)? as usize,
            "max_packet_size" => l.max_packet_size = small(value, 268_435_460)? as u32,
            "max_inflight" => l.max_inflight = small(value, 65_535)?.max(1) as u16,
            "max_queued" => l.max_queued = num(value)? as usize,
            "drop_policy" => {
                l.drop_policy = match value {
                    "newest" => DropPolicy::DropNewest,
                    "oldest" => DropPolicy::DropOldest,
                    _ => {
                        return Err(format!(
                            "line {}: drop_policy is 'newest' or 'oldest'",
                            n + 1
                        ));
                    }
                }
            }
            "max_topic_length" => l.max_topic_len = small(value, 65_535)? as usize,
            "max_topic_levels" => l.max_topic_levels = num(value)?.max(1) as usize,
            "keepalive_factor_percent" => {
                l.keepalive_factor_pct = small(value, 10_000)?.max(100) as u32
            }
            "connect_timeout" => l.connect_timeout = Duration::from_secs(num(value)?.max(1)),
            "max_keepalive" => {
                let v = small(value, 65_535)? as u16;
                l.max_keep_alive = (v != 0).then_some(v);
            }
            "topic_alias_maximum" => l.topic_alias_max = small(value, 65_535)? as u16,
            "receive_maximum" => l.receive_maximum = small(value, 65_535)?.max(1) as u16,
            "sys_interval" => {
                let secs = small(value, 86_400)?;
                fc.config.sys_interval = (secs != 0).then(|| Duration::from_secs(secs));
            }
            "metrics_listener" => {
                let addr = value.parse::<std::net::SocketAddr>().map_err(|_| {
                    format!(
                        "line {}: metrics_listener takes ADDRESS:PORT, not '{value}'",
                        n + 1
                    )
                })?;
                fc.config.metrics_listener = Some(addr);
            }
            _ => return Err(format!("line {}: unknown setting '{key}'", n + 1)),
        }
    }
    Ok(fc)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(
            parse("metrics_listener localhost")
                .unwrap_err()
                .contains("line 1: metrics_listener takes ADDRESS:PORT")
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
