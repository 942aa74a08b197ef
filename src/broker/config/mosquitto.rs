//! mosquitto.conf syntax, plus FerroMQ's own keys, into a typed [`Conf`].
//!
//! One `option value` per line; a line starting with `#` is a comment and
//! so is the rest of a line after a whitespace-preceded `#` for options
//! taking a number, a word or an address (paths and formats take the rest of
//! the line as it is). `listener PORT [ADDRESS]` starts a listener block;
//! `per_listener_settings true` (before any security option or listener)
//! makes `allow_anonymous`, `password_file` and `acl_file` belong to the
//! block they are in. `include_dir DIR` reads `DIR/*.conf` in byte order of
//! the names, right there (only from the main file). An option FerroMQ does
//! not implement, or does not know, is an error naming the line and the
//! option; `lenient` turns those (not bad values) into warnings.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::listener_keys::{self, ListenerSpec};
use super::mosquitto_keys::unsupported;
use super::{BrokerConfig, DropPolicy};
use crate::broker::bridge::config::{BridgeConf, connection_line, is_bridge_key};

/// Security settings of the whole broker or of one listener.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Security {
    pub allow_anonymous: Option<bool>,
    pub password_file: Option<PathBuf>,
    pub acl_file: Option<PathBuf>,
}

/// One listener: where, and its own settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerConf {
    /// `host:port` (IPv6 hosts in brackets).
    pub address: String,
    pub max_connections: Option<usize>,
    /// Its block's security settings (used with `per_listener_settings`).
    pub security: Security,
    /// Declared with `listener` (not `port`/`listen`): it has a block.
    pub has_block: bool,
    /// Its protocol and TLS settings.
    pub spec: ListenerSpec,
}

/// Where log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDest {
    Stderr,
    Stdout,
    Syslog,
    File(PathBuf),
}

/// Log line categories (mosquitto's `log_type`), as bits.
pub mod log_type {
    pub const ERROR: u8 = 1;
    pub const WARNING: u8 = 2;
    pub const NOTICE: u8 = 4;
    pub const INFORMATION: u8 = 8;
    pub const DEBUG: u8 = 16;
    pub const ALL: u8 = 31;
    /// mosquitto's default: error, warning, notice, information.
    pub const DEFAULT: u8 = ERROR | WARNING | NOTICE | INFORMATION;
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConf {
    /// Destinations; empty = nowhere (`log_dest none`). Default: stderr.
    pub dests: Vec<LogDest>,
    /// `log_type` bits.
    pub types: u8,
    pub timestamp: bool,
    /// strftime format; `None` = `%Y-%m-%dT%H:%M:%S` with milliseconds.
    pub timestamp_format: Option<String>,
    /// Log connects and disconnects.
    pub connection_messages: bool,
}

impl Default for LogConf {
    fn default() -> Self {
        LogConf {
            dests: vec![LogDest::Stderr],
            types: log_type::DEFAULT,
            timestamp: true,
            timestamp_format: None,
            connection_messages: true,
        }
    }
}

/// Everything a configuration file says.
#[derive(Debug, Clone, Default)]
pub struct Conf {
    /// Limits and the other broker settings (`auth` is built separately).
    pub config: BrokerConfig,
    pub listeners: Vec<ListenerConf>,
    pub per_listener_settings: bool,
    /// Security settings outside listener blocks.
    pub security: Security,
    /// A mosquitto-style file (it has `listener` or `port`): anonymous
    /// clients are refused unless `allow_anonymous true`, as in mosquitto 2.
    pub mosquitto_style: bool,
    pub log: LogConf,
    pub pid_file: Option<PathBuf>,
    /// `connection` blocks, in file order.
    pub bridges: Vec<BridgeConf>,
    /// What `lenient` turned from errors into warnings.
    pub warnings: Vec<String>,
}

impl Conf {
    /// The security settings in force on listener `index` (any index past
    /// the file's listeners, e.g. a `--listen` one, gets the global ones),
    /// with `allow_anonymous` resolved to its default.
    pub fn security_for(&self, index: usize) -> Security {
        let mut s = match self.listeners.get(index) {
            Some(l) if self.per_listener_settings && l.has_block => l.security.clone(),
            _ => self.security.clone(),
        };
        s.allow_anonymous = Some(s.allow_anonymous.unwrap_or(!self.mosquitto_style));
        s
    }
}

/// Read `path` (and what it includes).
pub fn parse_file(path: &Path, lenient: bool) -> Result<Conf, String> {
    let mut p = Parser::new(lenient);
    p.file(path, 0)?;
    p.finish()
}

/// Parse a file's text (`origin` names it in errors; `include_dir` works).
pub fn parse_str(text: &str, origin: &str, lenient: bool) -> Result<Conf, String> {
    let mut p = Parser::new(lenient);
    p.text(text, origin, 0)?;
    p.finish()
}

struct Parser {
    conf: Conf,
    lenient: bool,
    /// Index of the listener whose block we are in.
    current: Option<usize>,
    /// Index of the `port` listener.
    default_listener: Option<usize>,
    bind_address: Option<String>,
    /// A security option or listener was seen (per_listener_settings must
    /// come first).
    security_seen: bool,
    log_dest_seen: bool,
    log_type_seen: bool,
    /// Listener keys outside any block: the default listener's.
    default_spec: ListenerSpec,
    /// `persistence`, `persistence_location`, `persistence_file`.
    persistence: bool,
    persistence_location: Option<PathBuf>,
    persistence_file: Option<String>,
}

/// The store file's name when `persistence_file` is not given (not
/// mosquitto's `mosquitto.db`: the format is not mosquitto's).
pub const DEFAULT_PERSISTENCE_FILE: &str = "ferromq.redb";

impl Parser {
    fn new(lenient: bool) -> Parser {
        Parser {
            conf: Conf::default(),
            lenient,
            current: None,
            default_listener: None,
            bind_address: None,
            security_seen: false,
            log_dest_seen: false,
            log_type_seen: false,
            default_spec: ListenerSpec::default(),
            persistence: false,
            persistence_location: None,
            persistence_file: None,
        }
    }

    fn finish(self) -> Result<Conf, String> {
        let mut conf = self.conf;
        listener_keys::finish(
            &mut conf.listeners,
            self.default_listener,
            self.default_spec,
        )?;
        conf.config.limits.listener_max_connections =
            conf.listeners.iter().map(|l| l.max_connections).collect();
        if self.persistence {
            // As mosquitto: the location defaults to the working directory.
            let dir = self.persistence_location.unwrap_or_default();
            let file = self
                .persistence_file
                .unwrap_or_else(|| DEFAULT_PERSISTENCE_FILE.to_string());
            conf.config.persistence = Some(dir.join(file));
        }
        for b in &conf.bridges {
            b.check()?;
        }
        Ok(conf)
    }

    fn file(&mut self, path: &Path, depth: usize) -> Result<(), String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.text(&text, &path.display().to_string(), depth)
    }

    fn text(&mut self, text: &str, origin: &str, depth: usize) -> Result<(), String> {
        for (n, raw) in text.lines().enumerate() {
            let at = if origin.is_empty() {
                format!("line {}", n + 1)
            } else {
                format!("{origin}: line {}", n + 1)
            };
            self.line(raw, &at, depth)?;
        }
        Ok(())
    }

    /// Not implemented or unknown: an error, or a warning when lenient.
    fn refuse(&mut self, msg: String) -> Result<(), String> {
        if self.lenient {
            self.conf.warnings.push(msg);
            Ok(())
        } else {
            Err(msg)
        }
    }

    fn line(&mut self, raw: &str, at: &str, depth: usize) -> Result<(), String> {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let (key, rest) = line
            .split_once(char::is_whitespace)
            .map_or((line, ""), |(k, r)| (k, r.trim()));
        // Bridge options: `#` is a topic wildcard there, not a comment.
        if key == "connection" || is_bridge_key(key) {
            return connection_line(&mut self.conf.bridges, key, rest, at);
        }
        // Paths and formats: the rest of the line as it is.
        let raw_value = rest;
        // Everything else: up to a whitespace-preceded '#'.
        let value = strip_comment(rest);
        let words: Vec<&str> = value.split_whitespace().collect();
        let need = |n: usize| -> Result<(), String> {
            if words.is_empty() {
                Err(format!("{at}: '{key}' needs a value"))
            } else if words.len() > n {
                Err(format!("{at}: too many values for '{key}'"))
            } else {
                Ok(())
            }
        };
        let bad = |what: &str| format!("{at}: '{key}' takes {what}, not '{value}'");
        let num = || -> Result<u64, String> {
            need(1)?;
            words[0].parse::<u64>().map_err(|_| bad("a whole number"))
        };
        let int = || -> Result<i64, String> {
            need(1)?;
            words[0].parse::<i64>().map_err(|_| bad("a whole number"))
        };
        let at_most = |v: u64, max: u64| -> Result<u64, String> {
            if v > max {
                Err(format!("{at}: '{key}' is at most {max}"))
            } else {
                Ok(v)
            }
        };
        let boolean = || -> Result<bool, String> {
            need(1)?;
            match words[0] {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(bad("true or false")),
            }
        };
        let path = || -> Result<PathBuf, String> {
            if raw_value.is_empty() {
                return Err(format!("{at}: '{key}' needs a value"));
            }
            Ok(PathBuf::from(raw_value))
        };
        let l = &mut self.conf.config.limits;
        match key {
            // Listeners.
            "listener" => {
                if words.is_empty() || words.len() > 2 {
                    return Err(format!("{at}: 'listener' takes PORT [ADDRESS]"));
                }
                let port = words[0].parse::<u16>().map_err(|_| bad("a port number"))?;
                if words.get(1).is_some_and(|a| a.starts_with('/')) {
                    return self.refuse(format!(
                        "{at}: option 'listener' with a Unix socket is not supported yet"
                    ));
                }
                let host = words.get(1).copied().unwrap_or("0.0.0.0");
                self.conf.listeners.push(ListenerConf {
                    address: join_host_port(host, port),
                    max_connections: None,
                    security: Security::default(),
                    has_block: true,
                    spec: ListenerSpec::default(),
                });
                self.current = Some(self.conf.listeners.len() - 1);
                self.conf.mosquitto_style = true;
                self.security_seen = true;
            }
            "port" => {
                let port = at_most(num()?, 65_535)? as u16;
                let host = self.bind_address.clone().unwrap_or("0.0.0.0".into());
                self.set_default_listener(join_host_port(&host, port));
            }
            "bind_address" => {
                need(1)?;
                self.bind_address = Some(words[0].to_string());
                if let Some(i) = self.default_listener {
                    let port = self.conf.listeners[i].address.rsplit_once(':');
                    let port = port
                        .and_then(|(_, p)| p.parse::<u16>().ok())
                        .unwrap_or(1883);
                    self.conf.listeners[i].address = join_host_port(words[0], port);
                }
            }
            "listen" => {
                need(1)?;
                self.conf.listeners.push(ListenerConf {
                    address: words[0].to_string(),
                    max_connections: None,
                    security: Security::default(),
                    has_block: false,
                    spec: ListenerSpec::default(),
                });
                self.current = None;
            }
            _ if listener_keys::is_listener_key(key) => {
                let spec = match self.current {
                    Some(i) => &mut self.conf.listeners[i].spec,
                    None => &mut self.default_spec,
                };
                listener_keys::apply(spec, key, &words, raw_value, at)?;
            }
            "per_listener_settings" => {
                let v = boolean()?;
                if self.security_seen && v != self.conf.per_listener_settings {
                    return Err(format!(
                        "{at}: 'per_listener_settings' must come before any listener and security option"
                    ));
                }
                self.conf.per_listener_settings = v;
            }
            // Security.
            "allow_anonymous" => {
                let v = boolean()?;
                self.security().allow_anonymous = Some(v);
            }
            "password_file" => {
                let v = path()?;
                self.security().password_file = Some(v);
            }
            "acl_file" => {
                let v = path()?;
                self.security().acl_file = Some(v);
            }
            // Limits.
            "max_connections" => {
                let v = int()?;
                let v = if v < 0 { usize::MAX } else { v as usize };
                match self.current {
                    Some(i) => self.conf.listeners[i].max_connections = Some(v),
                    None => l.max_connections = v,
                }
            }
            "max_packet_size" => {
                let v = at_most(num()?, 268_435_460)? as u32;
                l.max_packet_size = if v == 0 { 268_435_460 } else { v };
            }
            "message_size_limit" => {
                let v = at_most(num()?, 268_435_455)? as u32;
                l.max_payload_size = (v != 0).then_some(v);
            }
            "max_inflight_messages" => {
                let v = num()?;
                l.max_inflight = if v == 0 { 65_535 } else { v.min(65_535) as u16 };
            }
            "max_inflight" => l.max_inflight = at_most(num()?, 65_535)?.max(1) as u16,
            "max_inflight_bytes" => {
                let v = num()? as usize;
                l.max_inflight_bytes = (v != 0).then_some(v);
            }
            "max_queued_messages" => {
                let v = num()? as usize;
                l.max_queued = if v == 0 { usize::MAX } else { v };
            }
            "max_queued" => l.max_queued = num()? as usize,
            "max_queued_bytes" => {
                let v = num()? as usize;
                l.max_queued_bytes = (v != 0).then_some(v);
            }
            "max_keepalive" => {
                let v = at_most(num()?, 65_535)? as u16;
                l.max_keep_alive = (v != 0).then_some(v);
            }
            "persistent_client_expiration" => {
                need(1)?;
                let d = parse_expiration(words[0]).ok_or_else(|| {
                    bad("a number followed by h, d, w, m or y (hours, days, weeks, months, years)")
                })?;
                l.persistent_client_expiration = Some(d);
            }
            "retain_available" => l.retain_available = boolean()?,
            "drop_policy" => {
                need(1)?;
                l.drop_policy = match words[0] {
                    "newest" => DropPolicy::DropNewest,
                    "oldest" => DropPolicy::DropOldest,
                    _ => return Err(format!("{at}: drop_policy is 'newest' or 'oldest'")),
                }
            }
            "max_topic_length" => l.max_topic_len = at_most(num()?, 65_535)? as usize,
            "max_topic_levels" => l.max_topic_levels = num()?.max(1) as usize,
            "keepalive_factor_percent" => {
                l.keepalive_factor_pct = at_most(num()?, 10_000)?.max(100) as u32
            }
            "connect_timeout" => l.connect_timeout = Duration::from_secs(num()?.max(1)),
            "slow_consumer_timeout" => {
                let v = num()?;
                l.slow_consumer_timeout = (v != 0).then(|| Duration::from_secs(v));
            }
            "topic_alias_maximum" => l.topic_alias_max = at_most(num()?, 65_535)? as u16,
            "receive_maximum" => l.receive_maximum = at_most(num()?, 65_535)?.max(1) as u16,
            "sys_interval" => {
                let v = num()?;
                self.conf.config.sys_interval = (v != 0).then(|| Duration::from_secs(v));
            }
            "metrics_listener" => {
                need(1)?;
                let addr = resolve(words[0]).ok_or_else(|| bad("ADDRESS:PORT"))?;
                self.conf.config.metrics_listener = Some(addr);
            }
            // Logging and process.
            "log_dest" => {
                if words.is_empty() {
                    need(1)?;
                }
                if !self.log_dest_seen {
                    self.conf.log.dests.clear();
                    self.log_dest_seen = true;
                }
                let dest = match words[0] {
                    "stderr" => LogDest::Stderr,
                    "stdout" => LogDest::Stdout,
                    "syslog" => LogDest::Syslog,
                    "none" => {
                        self.conf.log.dests.clear();
                        return Ok(());
                    }
                    "file" => {
                        let p = rest["file".len()..].trim();
                        if p.is_empty() {
                            return Err(format!("{at}: 'log_dest file' needs a path"));
                        }
                        LogDest::File(PathBuf::from(p))
                    }
                    "topic" | "dlt" => {
                        return self.refuse(format!(
                            "{at}: option 'log_dest {}' is not supported yet",
                            words[0]
                        ));
                    }
                    _ => return Err(bad("stderr, stdout, syslog, file PATH or none")),
                };
                if words.len() > 1 && words[0] != "file" {
                    return Err(format!("{at}: too many values for '{key}'"));
                }
                self.conf.log.dests.push(dest);
            }
            "log_type" => {
                need(1)?;
                if !self.log_type_seen {
                    self.conf.log.types = 0;
                    self.log_type_seen = true;
                }
                use log_type::*;
                let bit = match words[0] {
                    "error" => ERROR,
                    "warning" => WARNING,
                    "notice" => NOTICE,
                    "information" => INFORMATION,
                    "debug" => DEBUG,
                    "all" => ALL,
                    "none" => {
                        self.conf.log.types = 0;
                        return Ok(());
                    }
                    "subscribe" | "unsubscribe" | "websockets" => {
                        return self.refuse(format!(
                            "{at}: option 'log_type {}' is not supported yet",
                            words[0]
                        ));
                    }
                    _ => return Err(bad("a log type")),
                };
                self.conf.log.types |= bit;
            }
            "log_timestamp" => self.conf.log.timestamp = boolean()?,
            "log_timestamp_format" => {
                if raw_value.is_empty() {
                    return Err(format!("{at}: '{key}' needs a value"));
                }
                self.conf.log.timestamp_format = Some(raw_value.to_string());
            }
            "connection_messages" => self.conf.log.connection_messages = boolean()?,
            "pid_file" => self.conf.pid_file = Some(path()?),
            "include_dir" => {
                let dir = path()?;
                if depth > 0 {
                    return Err(format!(
                        "{at}: 'include_dir' is only allowed in the main configuration file"
                    ));
                }
                for file in conf_files(&dir).map_err(|e| format!("{at}: include_dir: {e}"))? {
                    self.file(&file, depth + 1)?;
                }
            }
            "persistence" => self.persistence = boolean()?,
            "persistence_location" => self.persistence_location = Some(path()?),
            "persistence_file" => {
                let name = path()?.to_string_lossy().into_owned();
                if name.contains('/') {
                    return Err(format!(
                        "{at}: 'persistence_file' is a file name inside persistence_location, not '{name}'"
                    ));
                }
                self.persistence_file = Some(name);
            }
            // Every acknowledged message is durable when it is acknowledged
            // (group commit per reactor turn): there is no snapshot to time.
            "autosave_interval" => {
                num()?;
            }
            "autosave_on_changes" => {
                boolean()?;
            }
            _ => {
                return match unsupported(key) {
                    Some(why) => {
                        self.refuse(format!("{at}: option '{key}' is not supported yet ({why})"))
                    }
                    None => self.refuse(format!("{at}: unknown setting '{key}'")),
                };
            }
        }
        Ok(())
    }

    /// Where a security option goes: the current listener's block with
    /// `per_listener_settings true`, else the global settings.
    fn security(&mut self) -> &mut Security {
        self.security_seen = true;
        match self.current {
            Some(i) if self.conf.per_listener_settings => &mut self.conf.listeners[i].security,
            _ => &mut self.conf.security,
        }
    }

    fn set_default_listener(&mut self, address: String) {
        self.conf.mosquitto_style = true;
        match self.default_listener {
            Some(i) => self.conf.listeners[i].address = address,
            None => {
                self.conf.listeners.push(ListenerConf {
                    address,
                    max_connections: None,
                    security: Security::default(),
                    has_block: false,
                    spec: ListenerSpec::default(),
                });
                self.default_listener = Some(self.conf.listeners.len() - 1);
            }
        }
    }
}

/// The value without a trailing ` # comment`.
fn strip_comment(v: &str) -> &str {
    let b = v.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            return v[..i].trim_end();
        }
    }
    v
}

fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn resolve(s: &str) -> Option<SocketAddr> {
    s.parse().ok().or_else(|| s.to_socket_addrs().ok()?.next())
}

/// mosquitto's expiration: a number and h, d, w, m (30 days) or y (365 days).
fn parse_expiration(s: &str) -> Option<Duration> {
    // The unit is the last character, which need not be one byte.
    let last = s.chars().next_back()?;
    let (n, unit) = s.split_at(s.len() - last.len_utf8());
    let n: u64 = n.parse().ok()?;
    let secs = match unit {
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "m" => 30 * 86_400,
        "y" => 365 * 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(n.checked_mul(secs)?))
}

/// `dir/*.conf`, sorted by name bytes (capitals first), as mosquitto does.
fn conf_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf") && p.is_file())
        .collect();
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

#[cfg(test)]
#[path = "mosquitto_tests.rs"]
mod tests;
