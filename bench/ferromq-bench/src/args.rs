//! Command-line options of `ferromq bench`: parsing and validation only, so
//! the rest of the instrument works on a checked [`Options`] value.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use ferromq::protocol::codec::QoS;

/// Which traffic pattern a run produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// N publishers → 1 subscriber, one topic.
    FanIn,
    /// 1 publisher → N subscribers, one topic.
    FanOut,
    /// N publisher/subscriber pairs, one topic per pair.
    P2p,
    /// Hold N idle connections until stdin closes.
    Idle,
    /// Store `--messages` retained messages, then time a `#` subscribe and
    /// an exact-topic subscribe receiving them.
    Retained,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::FanIn => "fanin",
            Mode::FanOut => "fanout",
            Mode::P2p => "p2p",
            Mode::Idle => "idle",
            Mode::Retained => "retained",
        }
    }
}

/// One checked run description.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub addr: SocketAddr,
    /// Where subscribers connect when not `addr` (`--sub-port`: through a
    /// bridge from the publishers' broker).
    pub sub_addr: Option<SocketAddr>,
    pub mode: Mode,
    pub qos: QoS,
    /// Messages per publisher.
    pub messages: u64,
    /// Payload bytes (at least the header of [`super::payload`]).
    pub payload: usize,
    pub publishers: usize,
    pub subscribers: usize,
    /// Idle mode: how many connections.
    pub connections: usize,
    /// Idle mode: one subscription per connection.
    pub subscribe: bool,
    /// Unacknowledged QoS 1/2 publishes per publisher.
    pub window: u16,
    /// Total publish rate in messages/s (0 = as fast as possible).
    pub rate: u64,
    pub json: Option<PathBuf>,
    /// Fail on QoS 0 losses too.
    pub strict: bool,
    /// Seconds without a delivery after which the rest counts as lost.
    pub drain_secs: u64,
    /// Connect over TLS, trusting this CA file.
    pub tls: Option<PathBuf>,
    /// Subscribers keep a durable session (clean session 0), so a broker
    /// with persistence stores what it owes them.
    pub durable: bool,
}

pub fn usage() -> String {
    "usage: ferromq bench [--host 127.0.0.1] --port P [--sub-port P] [--mode fanin|fanout|p2p|idle|retained]\n\
     \x20   [--qos 0|1|2] [--messages N per publisher] [--payload BYTES] [--publishers N]\n\
     \x20   [--subscribers N] [--connections N] [--subscribe] [--window N] [--rate MSGS/S]\n\
     \x20   [--json FILE] [--strict] [--drain SECS] [--durable]"
        .to_string()
}

fn number(flag: &str, value: Option<&String>) -> Result<u64, String> {
    let v = value.ok_or_else(|| format!("{flag} needs a value\n{}", usage()))?;
    v.parse::<u64>()
        .map_err(|_| format!("{flag}: '{v}' is not a non-negative integer"))
}

/// Parse the arguments after `bench`.
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut host = "127.0.0.1".to_string();
    let mut port: Option<u64> = None;
    let mut sub_port: Option<u64> = None;
    let mut o = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 1883)),
        sub_addr: None,
        mode: Mode::FanIn,
        qos: QoS::AtMostOnce,
        messages: 100_000,
        payload: 64,
        publishers: 4,
        subscribers: 1,
        connections: 1000,
        subscribe: false,
        window: 64,
        rate: 0,
        json: None,
        strict: false,
        drain_secs: 3,
        tls: None,
        durable: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--host" => host = it.next().cloned().ok_or("--host needs a value")?,
            "--port" => port = Some(number(flag, it.next())?),
            "--sub-port" => sub_port = Some(number(flag, it.next())?),
            "--mode" => {
                o.mode = match it.next().map(String::as_str) {
                    Some("fanin") => Mode::FanIn,
                    Some("fanout") => Mode::FanOut,
                    Some("p2p") => Mode::P2p,
                    Some("idle") => Mode::Idle,
                    Some("retained") => Mode::Retained,
                    other => return Err(format!("--mode: unknown {other:?}\n{}", usage())),
                }
            }
            "--qos" => {
                let q = number(flag, it.next())?;
                o.qos = u8::try_from(q)
                    .ok()
                    .and_then(QoS::from_u8)
                    .ok_or_else(|| format!("--qos: {q} is not 0, 1 or 2"))?;
            }
            "--messages" => o.messages = number(flag, it.next())?,
            "--payload" => o.payload = to_usize(flag, number(flag, it.next())?)?,
            "--publishers" => o.publishers = to_usize(flag, number(flag, it.next())?)?,
            "--subscribers" => o.subscribers = to_usize(flag, number(flag, it.next())?)?,
            "--connections" => o.connections = to_usize(flag, number(flag, it.next())?)?,
            "--subscribe" => o.subscribe = true,
            "--window" => {
                let w = number(flag, it.next())?;
                o.window = u16::try_from(w)
                    .ok()
                    .filter(|w| *w > 0)
                    .ok_or_else(|| format!("--window: {w} is not in 1..=65535"))?;
            }
            "--rate" => o.rate = number(flag, it.next())?,
            "--json" => o.json = Some(it.next().ok_or("--json needs a file")?.into()),
            "--strict" => o.strict = true,
            "--durable" => o.durable = true,
            "--drain" => o.drain_secs = number(flag, it.next())?.max(1),
            "--tls" => o.tls = Some(it.next().ok_or("--tls needs a CA file")?.into()),
            "-h" | "--help" => return Err(usage()),
            other => return Err(format!("unknown option '{other}'\n{}", usage())),
        }
    }
    let port = port.ok_or_else(|| format!("--port is required\n{}", usage()))?;
    let port = u16::try_from(port).map_err(|_| format!("--port: {port} is out of range"))?;
    o.addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("--host {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("--host {host}: no address"))?;
    if let Some(p) = sub_port {
        let p = u16::try_from(p).map_err(|_| format!("--sub-port: {p} is out of range"))?;
        o.sub_addr = Some(SocketAddr::new(o.addr.ip(), p));
    }
    if o.payload < super::payload::HEADER_LEN {
        return Err(format!(
            "--payload: at least {} bytes (timestamp, publisher, sequence)",
            super::payload::HEADER_LEN
        ));
    }
    match o.mode {
        Mode::FanIn => o.subscribers = 1,
        Mode::FanOut => o.publishers = 1,
        Mode::P2p => o.subscribers = o.publishers,
        Mode::Idle => {}
        Mode::Retained => (o.publishers, o.subscribers) = (1, 1),
    }
    if o.mode != Mode::Idle && (o.publishers == 0 || o.subscribers == 0 || o.messages == 0) {
        return Err("--publishers, --subscribers and --messages must be at least 1".into());
    }
    if o.publishers > u32::MAX as usize {
        return Err("--publishers: too many".into());
    }
    Ok(o)
}

fn to_usize(flag: &str, v: u64) -> Result<usize, String> {
    usize::try_from(v).map_err(|_| format!("{flag}: {v} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn full_command_line() {
        let o = parse(&args(
            "--host 127.0.0.1 --port 1884 --mode fanout --qos 2 --messages 500 --payload 100 \
             --subscribers 50 --window 20 --rate 10000 --json out.json --strict --durable",
        ))
        .unwrap();
        assert!(o.durable);
        assert_eq!(o.addr, "127.0.0.1:1884".parse().unwrap());
        assert_eq!(o.mode, Mode::FanOut);
        assert_eq!(o.qos, QoS::ExactlyOnce);
        assert_eq!((o.messages, o.payload, o.subscribers), (500, 100, 50));
        assert_eq!(o.publishers, 1, "fan-out has one publisher");
        assert_eq!((o.window, o.rate, o.strict), (20, 10_000, true));
        assert_eq!(o.json.as_deref(), Some(std::path::Path::new("out.json")));
    }

    #[test]
    fn topology_fixes_the_other_side() {
        let o = parse(&args(
            "--port 1 --mode fanin --publishers 4 --subscribers 9",
        ))
        .unwrap();
        assert_eq!((o.publishers, o.subscribers), (4, 1));
        let o = parse(&args("--port 1 --mode p2p --publishers 3")).unwrap();
        assert_eq!((o.publishers, o.subscribers), (3, 3));
    }

    #[test]
    fn idle_mode_options() {
        let o = parse(&args(
            "--port 1 --mode idle --connections 10000 --subscribe",
        ))
        .unwrap();
        assert_eq!(
            (o.mode, o.connections, o.subscribe),
            (Mode::Idle, 10_000, true)
        );
        let o = parse(&args("--port 1 --mode idle --tls ca.pem")).unwrap();
        assert_eq!(o.tls.as_deref(), Some(std::path::Path::new("ca.pem")));
        assert!(parse(&args("--port 1 --tls")).is_err());
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "--port 70000",
            "--port 1 --qos 3",
            "--port 1 --window 0",
            "--port 1 --window 65536",
            "--port 1 --payload 4",
            "--port 1 --mode star",
            "--port 1 --messages",
            "--port 1 --messages -5",
            "--port 1 --bogus",
            "--port 1 --messages 0",
        ] {
            assert!(parse(&args(bad)).is_err(), "accepted '{bad}'");
        }
    }
}
