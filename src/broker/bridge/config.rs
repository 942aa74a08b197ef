//! The options of one bridge ([`BridgeConf`]) and mosquitto.conf's
//! `connection NAME` block syntax for them: every option after `connection`
//! that is a bridge option belongs to that bridge, as in mosquitto.

use std::path::PathBuf;
use std::time::Duration;

use crate::protocol::codec::{ProtocolVersion, QoS};

/// Which way a topic rule carries messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Remote to local.
    In,
    /// Local to remote (mosquitto's default).
    Out,
    Both,
}

impl Direction {
    pub fn is_in(self) -> bool {
        matches!(self, Direction::In | Direction::Both)
    }
    pub fn is_out(self) -> bool {
        matches!(self, Direction::Out | Direction::Both)
    }
}

/// `topic PATTERN [[[out|in|both] QOS] LOCAL_PREFIX REMOTE_PREFIX]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRule {
    /// The pattern; empty (`""`) maps one local topic to one remote topic.
    pub pattern: String,
    pub direction: Direction,
    pub qos: QoS,
    pub local_prefix: String,
    pub remote_prefix: String,
}

impl TopicRule {
    /// What the bridge subscribes to on the local broker (`out`).
    pub fn local_filter(&self) -> String {
        format!("{}{}", self.local_prefix, self.pattern)
    }

    /// What the bridge subscribes to on the remote broker (`in`).
    pub fn remote_filter(&self) -> String {
        format!("{}{}", self.remote_prefix, self.pattern)
    }

    /// A local topic this rule carries out, as the remote sees it.
    pub fn to_remote(&self, local: &str) -> Option<String> {
        let rest = local.strip_prefix(self.local_prefix.as_str())?;
        matches_filter(&self.pattern, rest, self.pattern.is_empty())
            .then(|| format!("{}{rest}", self.remote_prefix))
    }

    /// A remote topic this rule carries in, as the local broker sees it.
    pub fn to_local(&self, remote: &str) -> Option<String> {
        let rest = remote.strip_prefix(self.remote_prefix.as_str())?;
        matches_filter(&self.pattern, rest, self.pattern.is_empty())
            .then(|| format!("{}{rest}", self.local_prefix))
    }
}

/// Whether `topic` matches `filter` (`+`/`#`; `$` topics never match a
/// leading wildcard). With `exact_empty`, only an empty topic matches.
pub fn matches_filter(filter: &str, topic: &str, exact_empty: bool) -> bool {
    if exact_empty {
        return topic.is_empty();
    }
    crate::protocol::codec::topic_matches(filter, topic)
}

/// When the bridge connects (mosquitto's `start_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartType {
    /// At start, and again after every loss (after `restart_timeout`).
    Automatic,
    /// When `threshold` messages wait; stopped after `idle_timeout` idle.
    Lazy,
    /// At start; not again after a loss.
    Once,
}

/// `restart_timeout`: a constant delay, or mosquitto's "decorrelated jitter"
/// backoff between `base` and `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restart {
    pub base: Duration,
    pub cap: Option<Duration>,
}

/// One bridge: a `connection` block, or `MQTTBroker_addBridge`'s options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeConf {
    pub name: String,
    /// `host:port`, tried in order (failover).
    pub addresses: Vec<String>,
    pub round_robin: bool,
    pub topics: Vec<TopicRule>,
    pub protocol: ProtocolVersion,
    /// cleansession (remote side); false keeps the remote session.
    pub cleansession: bool,
    /// Default `local.<remote client id>`.
    pub local_clientid: Option<String>,
    /// Default `<name>.<hostname>`.
    pub remote_clientid: Option<String>,
    pub remote_username: Option<String>,
    pub remote_password: Option<String>,
    pub try_private: bool,
    pub notifications: bool,
    /// Default `$SYS/broker/connection/<remote client id>/state`.
    pub notification_topic: Option<String>,
    pub keepalive: u16,
    pub restart: Restart,
    pub start_type: StartType,
    /// Lazy start: messages waiting that start the bridge.
    pub threshold: usize,
    /// Lazy start: idle time that stops the bridge.
    pub idle_timeout: Duration,
    /// Outgoing messages held while the remote cannot take them; more are
    /// dropped and counted.
    pub max_queued: usize,
    pub cafile: Option<PathBuf>,
    pub capath: Option<PathBuf>,
    pub certfile: Option<PathBuf>,
    pub keyfile: Option<PathBuf>,
    pub insecure: bool,
    pub alpn: Option<String>,
}

impl BridgeConf {
    /// mosquitto's defaults for a bridge called `name`.
    pub fn new(name: &str) -> BridgeConf {
        BridgeConf {
            name: name.to_string(),
            addresses: Vec::new(),
            round_robin: false,
            topics: Vec::new(),
            protocol: ProtocolVersion::V311,
            cleansession: false,
            local_clientid: None,
            remote_clientid: None,
            remote_username: None,
            remote_password: None,
            try_private: true,
            notifications: true,
            notification_topic: None,
            keepalive: 60,
            restart: Restart {
                base: Duration::from_secs(5),
                cap: Some(Duration::from_secs(30)),
            },
            start_type: StartType::Automatic,
            threshold: 10,
            idle_timeout: Duration::from_secs(60),
            max_queued: 1000,
            cafile: None,
            capath: None,
            certfile: None,
            keyfile: None,
            insecure: false,
            alpn: None,
        }
    }

    /// The client id on the remote broker.
    pub fn remote_id(&self) -> String {
        self.remote_clientid
            .clone()
            .unwrap_or_else(|| format!("{}.{}", self.name, hostname()))
    }

    /// The client id of the bridge's session in the local broker.
    pub fn local_id(&self) -> String {
        self.local_clientid
            .clone()
            .unwrap_or_else(|| format!("local.{}", self.remote_id()))
    }

    /// Where the connection state ("1"/"0", retained) is published.
    pub fn state_topic(&self) -> String {
        self.notification_topic
            .clone()
            .unwrap_or_else(|| format!("$SYS/broker/connection/{}/state", self.remote_id()))
    }

    /// TLS is on when a CA is given (as mosquitto).
    pub fn uses_tls(&self) -> bool {
        self.cafile.is_some() || self.capath.is_some()
    }

    /// Checks what a finished block must have.
    pub fn check(&self) -> Result<(), String> {
        if self.addresses.is_empty() {
            return Err(format!("bridge '{}' has no address", self.name));
        }
        if self.topics.is_empty() {
            return Err(format!("bridge '{}' has no topic", self.name));
        }
        if self.local_id() == self.remote_id() {
            return Err(format!(
                "bridge '{}': local_clientid and remote_clientid must differ",
                self.name
            ));
        }
        if (self.certfile.is_some() || self.keyfile.is_some()) && !self.uses_tls() {
            return Err(format!(
                "bridge '{}': bridge_certfile/bridge_keyfile need bridge_cafile or bridge_capath",
                self.name
            ));
        }
        if self.certfile.is_some() != self.keyfile.is_some() {
            return Err(format!(
                "bridge '{}': bridge_certfile and bridge_keyfile go together",
                self.name
            ));
        }
        Ok(())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The options that belong to a `connection` block.
pub fn is_bridge_key(key: &str) -> bool {
    matches!(
        key,
        "address"
            | "addresses"
            | "topic"
            | "bridge_protocol_version"
            | "cleansession"
            | "local_clientid"
            | "remote_clientid"
            | "clientid"
            | "remote_username"
            | "username"
            | "remote_password"
            | "password"
            | "try_private"
            | "notifications"
            | "notification_topic"
            | "keepalive_interval"
            | "restart_timeout"
            | "start_type"
            | "threshold"
            | "idle_timeout"
            | "bridge_max_queued"
            | "round_robin"
            | "bridge_cafile"
            | "bridge_capath"
            | "bridge_certfile"
            | "bridge_keyfile"
            | "bridge_insecure"
            | "bridge_alpn"
    )
}

/// One line of a configuration file that belongs to bridges: `connection
/// NAME` starts one; a bridge option goes to the last one. `at` names the
/// line in errors.
pub fn connection_line(
    bridges: &mut Vec<BridgeConf>,
    key: &str,
    rest: &str,
    at: &str,
) -> Result<(), String> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    if key == "connection" {
        let [name] = words[..] else {
            return Err(format!("{at}: 'connection' takes one NAME"));
        };
        if bridges.iter().any(|b| b.name == name) {
            return Err(format!("{at}: a bridge named '{name}' already exists"));
        }
        bridges.push(BridgeConf::new(name));
        return Ok(());
    }
    let Some(b) = bridges.last_mut() else {
        return Err(format!("{at}: '{key}' belongs in a 'connection' block"));
    };
    apply(b, key, &words, rest).map_err(|e| format!("{at}: {e}"))
}

/// Applies one bridge option (`words` split on whitespace, `raw` the rest
/// of the line for paths) to `b`. Errors name the option; the caller adds
/// the line.
pub fn apply(b: &mut BridgeConf, key: &str, words: &[&str], raw: &str) -> Result<(), String> {
    let one = || -> Result<&str, String> {
        match words {
            [w] => Ok(w),
            [] => Err(format!("'{key}' needs a value")),
            _ => Err(format!("too many values for '{key}'")),
        }
    };
    let boolean = || -> Result<bool, String> {
        match one()? {
            "true" => Ok(true),
            "false" => Ok(false),
            v => Err(format!("'{key}' takes true or false, not '{v}'")),
        }
    };
    let secs = || -> Result<u64, String> {
        let v = one()?;
        v.parse::<u64>()
            .map_err(|_| format!("'{key}' takes a whole number of seconds, not '{v}'"))
    };
    let path = || -> Result<Option<PathBuf>, String> {
        if raw.is_empty() {
            return Err(format!("'{key}' needs a value"));
        }
        Ok(Some(PathBuf::from(raw)))
    };
    match key {
        "address" | "addresses" => {
            if words.is_empty() {
                return Err(format!("'{key}' needs HOST[:PORT]"));
            }
            for w in words {
                b.addresses.push(parse_address(w)?);
            }
        }
        "topic" => b.topics.push(parse_topic(words)?),
        "bridge_protocol_version" => {
            b.protocol = match one()? {
                "mqttv31" => ProtocolVersion::V31,
                "mqttv311" => ProtocolVersion::V311,
                "mqttv50" => ProtocolVersion::V5,
                v => {
                    return Err(format!(
                        "'{key}' is mqttv31, mqttv311 or mqttv50, not '{v}'"
                    ));
                }
            }
        }
        "cleansession" => b.cleansession = boolean()?,
        "local_clientid" => b.local_clientid = Some(one()?.to_string()),
        "remote_clientid" | "clientid" => b.remote_clientid = Some(one()?.to_string()),
        "remote_username" | "username" => b.remote_username = Some(one()?.to_string()),
        "remote_password" | "password" => b.remote_password = Some(one()?.to_string()),
        "try_private" => b.try_private = boolean()?,
        "notifications" => b.notifications = boolean()?,
        "notification_topic" => {
            let t = one()?;
            if t.contains(['+', '#']) {
                return Err(format!("'{key}' must not hold wildcards"));
            }
            b.notification_topic = Some(t.to_string());
        }
        "keepalive_interval" => {
            let v = secs()?;
            if !(5..=65_535).contains(&v) {
                return Err(format!("'{key}' is 5 to 65535 seconds"));
            }
            b.keepalive = v as u16;
        }
        "restart_timeout" => {
            let n = |v: &str| {
                v.parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(Duration::from_secs)
                    .ok_or_else(|| format!("'{key}' takes seconds above 0, not '{v}'"))
            };
            b.restart = match words {
                [c] => Restart {
                    base: n(c)?,
                    cap: None,
                },
                [base, cap] => {
                    let (base, cap) = (n(base)?, n(cap)?);
                    if cap < base {
                        return Err(format!("'{key}': the cap is below the base"));
                    }
                    Restart {
                        base,
                        cap: Some(cap),
                    }
                }
                _ => return Err(format!("'{key}' takes SECONDS or BASE CAP")),
            }
        }
        "start_type" => {
            b.start_type = match one()? {
                "automatic" => StartType::Automatic,
                "lazy" => StartType::Lazy,
                "once" => StartType::Once,
                v => {
                    return Err(format!("'{key}' is automatic, lazy or once, not '{v}'"));
                }
            }
        }
        "threshold" => b.threshold = secs()?.max(1) as usize,
        "idle_timeout" => b.idle_timeout = Duration::from_secs(secs()?.max(1)),
        "bridge_max_queued" => b.max_queued = secs()?.max(1) as usize,
        "round_robin" => b.round_robin = boolean()?,
        "bridge_cafile" => b.cafile = path()?,
        "bridge_capath" => b.capath = path()?,
        "bridge_certfile" => b.certfile = path()?,
        "bridge_keyfile" => b.keyfile = path()?,
        "bridge_insecure" => b.insecure = boolean()?,
        "bridge_alpn" => b.alpn = Some(one()?.to_string()),
        _ => return Err(format!("'{key}' is not a bridge option")),
    }
    Ok(())
}

/// `host`, `host:port`, `[v6]:port` → `host:port` (port 1883 by default;
/// a bare IPv6 address needs a port, as in mosquitto).
pub fn parse_address(w: &str) -> Result<String, String> {
    let bad = || format!("'address' takes HOST[:PORT], not '{w}'");
    if let Some(rest) = w.strip_prefix('[') {
        let (host, port) = rest.split_once("]:").ok_or_else(bad)?;
        port.parse::<u16>().map_err(|_| bad())?;
        return Ok(format!("[{host}]:{port}"));
    }
    match w.split_once(':') {
        None if !w.is_empty() => Ok(format!("{w}:1883")),
        Some((host, port)) if !host.is_empty() && !port.contains(':') => {
            port.parse::<u16>().map_err(|_| bad())?;
            Ok(w.to_string())
        }
        _ => Err(bad()),
    }
}

fn placeholder(w: &str) -> &str {
    if w == "\"\"" { "" } else { w }
}

/// The words of a `topic` line.
pub fn parse_topic(words: &[&str]) -> Result<TopicRule, String> {
    let form = "'topic' takes PATTERN [[[out|in|both] QOS] LOCAL_PREFIX REMOTE_PREFIX]";
    if words.is_empty() || words.len() == 4 || words.len() > 5 {
        return Err(form.into());
    }
    let pattern = placeholder(words[0]).to_string();
    let direction = match words.get(1).copied() {
        None | Some("out") => Direction::Out,
        Some("in") => Direction::In,
        Some("both") => Direction::Both,
        Some(d) => return Err(format!("topic direction is out, in or both, not '{d}'")),
    };
    let qos = match words.get(2) {
        None => QoS::AtMostOnce,
        Some(q) => q
            .parse::<u8>()
            .ok()
            .and_then(QoS::from_u8)
            .ok_or_else(|| format!("topic QoS is 0, 1 or 2, not '{q}'"))?,
    };
    let local_prefix = words.get(3).map_or("", |w| placeholder(w)).to_string();
    let remote_prefix = words.get(4).map_or("", |w| placeholder(w)).to_string();
    for p in [&local_prefix, &remote_prefix] {
        if p.contains(['+', '#']) {
            return Err(format!("a topic prefix must not hold wildcards: '{p}'"));
        }
    }
    if pattern.is_empty() && (local_prefix.is_empty() || remote_prefix.is_empty()) {
        return Err("an empty topic pattern needs both a local and a remote prefix".into());
    }
    if pattern.is_empty() && !valid_filter(&format!("{local_prefix}{remote_prefix}")) {
        return Err(format!(
            "bad topic mapping '{local_prefix}' -> '{remote_prefix}'"
        ));
    }
    if !pattern.is_empty() && !valid_filter(&pattern) {
        return Err(format!("bad topic pattern '{pattern}'"));
    }
    Ok(TopicRule {
        pattern,
        direction,
        qos,
        local_prefix,
        remote_prefix,
    })
}

/// `#` only last and alone in its level, `+` alone in its level.
fn valid_filter(f: &str) -> bool {
    let levels: Vec<&str> = f.split('/').collect();
    levels.iter().enumerate().all(|(i, l)| match *l {
        "#" => i == levels.len() - 1,
        "+" => true,
        l => !l.contains(['+', '#']),
    })
}
