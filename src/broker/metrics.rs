//! Prometheus text-format metrics (`GET /metrics`, plain HTTP/1.1) on a
//! tiny listener thread of its own: it copies the broker's counters under
//! the broker's lock (no per-message cost, a few microseconds per scrape)
//! and does all its socket work outside it, so a slow scraper never holds
//! up the reactor. One request per connection; slow peers time out.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::Stats;

/// How long one scrape may take to send its request or read the answer.
const PEER_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest request head read.
const MAX_REQUEST: usize = 8 * 1024;

/// The counters and the uptime, as the endpoint serves them.
pub fn render(s: &Stats, uptime: Duration) -> String {
    let mut out = String::with_capacity(2048);
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = write!(
            out,
            "# HELP ferromq_{name} {help}\n# TYPE ferromq_{name} {kind}\nferromq_{name} {value}\n"
        );
    };
    let gauge = "gauge";
    let counter = "counter";
    metric(
        "uptime_seconds",
        gauge,
        "Seconds since the broker started.",
        uptime.as_secs(),
    );
    metric(
        "connections",
        gauge,
        "Open network connections.",
        s.connections as u64,
    );
    metric(
        "clients_connected",
        gauge,
        "Clients connected now.",
        s.clients_connected as u64,
    );
    metric(
        "clients_disconnected",
        gauge,
        "Sessions held for clients that are not connected.",
        s.sessions.saturating_sub(s.clients_connected) as u64,
    );
    metric(
        "clients_maximum",
        gauge,
        "Most clients connected at once.",
        s.clients_maximum as u64,
    );
    metric(
        "sessions",
        gauge,
        "Sessions held, online and offline.",
        s.sessions as u64,
    );
    metric(
        "subscriptions",
        gauge,
        "Subscriptions held by all sessions.",
        s.subscriptions as u64,
    );
    metric(
        "retained_messages",
        gauge,
        "Retained messages held.",
        s.retained as u64,
    );
    metric(
        "packets_received_total",
        counter,
        "MQTT packets received.",
        s.packets_in,
    );
    metric(
        "packets_sent_total",
        counter,
        "MQTT packets sent.",
        s.packets_out,
    );
    metric(
        "bytes_received_total",
        counter,
        "Bytes received from clients.",
        s.bytes_in,
    );
    metric(
        "bytes_sent_total",
        counter,
        "Bytes sent to clients.",
        s.bytes_out,
    );
    metric(
        "publish_messages_received_total",
        counter,
        "Application messages received (client publishes, wills, injections).",
        s.messages_in,
    );
    metric(
        "publish_messages_sent_total",
        counter,
        "PUBLISH packets sent to clients.",
        s.messages_out,
    );
    metric(
        "publish_messages_dropped_total",
        counter,
        "Messages dropped: queue full, too large for the client, refused.",
        s.dropped,
    );
    metric(
        "publish_messages_dropped_qos0_total",
        counter,
        "Of the dropped: QoS 0 for a full online subscriber whose publisher could not wait.",
        s.dropped_qos0,
    );
    metric(
        "publish_messages_dropped_offline_total",
        counter,
        "Of the dropped: messages for offline sessions whose queue was full.",
        s.dropped_offline,
    );
    metric(
        "flow_pauses_total",
        counter,
        "Times a publisher was paused for a full subscriber queue.",
        s.flow_pauses,
    );
    metric(
        "slow_consumers_total",
        counter,
        "Subscribers disconnected after staying full for slow_consumer_timeout.",
        s.slow_consumers,
    );
    metric(
        "publish_messages_expired_total",
        counter,
        "Messages whose expiry interval ran out while queued.",
        s.expired,
    );
    metric("connects_total", counter, "CONNECTs accepted.", s.connects);
    metric(
        "sockets_accepted_total",
        counter,
        "Network connections accepted.",
        s.sockets_accepted,
    );
    metric(
        "connections_refused_total",
        counter,
        "Connections refused because of max_connections.",
        s.refused_connections,
    );
    out
}

/// The running endpoint; stopped (and its thread joined) on `stop` or drop.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `addr` (port 0 = any free port) and serves `snapshot()` (None:
    /// the broker is gone, answered 503) until stopped.
    pub fn start(
        addr: SocketAddr,
        snapshot: impl Fn() -> Option<String> + Send + 'static,
    ) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("ferromq-metrics".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if flag.load(Ordering::Acquire) {
                        break;
                    }
                    if let Ok(mut s) = stream {
                        let _ = serve(&mut s, &snapshot);
                    }
                }
            })?;
        Ok(MetricsServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and joins the thread (a scrape in progress finishes
    /// within its timeouts first).
    pub fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.stop.store(true, Ordering::Release);
        // Wake the blocking accept with a connection of our own.
        let mut wake = self.addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        let _ = TcpStream::connect_timeout(&wake, PEER_TIMEOUT);
        let _ = thread.join();
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads one request head and answers it.
fn serve(s: &mut TcpStream, snapshot: &impl Fn() -> Option<String>) -> io::Result<()> {
    s.set_read_timeout(Some(PEER_TIMEOUT))?;
    s.set_write_timeout(Some(PEER_TIMEOUT))?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_REQUEST {
            return respond(s, "431 Request Header Fields Too Large", "");
        }
    }
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/metrics") => match snapshot() {
            Some(body) => respond(s, "200 OK", &body),
            None => respond(s, "503 Service Unavailable", ""),
        },
        ("GET", _) => respond(s, "404 Not Found", "try /metrics\n"),
        _ => respond(s, "405 Method Not Allowed", ""),
    }
}

fn respond(s: &mut TcpStream, status: &str, body: &str) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body.as_bytes())?;
    s.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_counter_with_help_and_type() {
        let s = Stats {
            sessions: 5,
            clients_connected: 3,
            bytes_in: 1234,
            ..Stats::default()
        };
        let text = render(&s, Duration::from_secs(7));
        assert!(text.contains("# TYPE ferromq_uptime_seconds gauge\nferromq_uptime_seconds 7\n"));
        assert!(text.contains("ferromq_clients_disconnected 2\n"));
        assert!(text.contains(
            "# TYPE ferromq_bytes_received_total counter\nferromq_bytes_received_total 1234\n"
        ));
        let samples = text.lines().filter(|l| !l.starts_with('#')).count();
        let types = text.lines().filter(|l| l.starts_with("# TYPE")).count();
        assert_eq!(samples, types);
    }

    #[test]
    fn serves_metrics_404_and_405_and_stops() {
        let mut m = MetricsServer::start("127.0.0.1:0".parse().unwrap(), || {
            Some("ferromq_x 1\n".to_string())
        })
        .unwrap();
        let get = |req: &str| {
            let mut s = TcpStream::connect(m.addr()).unwrap();
            s.write_all(req.as_bytes()).unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        };
        let ok = get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.ends_with("\r\n\r\nferromq_x 1\n"), "{ok}");
        assert!(get("GET /other HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
        assert!(get("POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
        let addr = m.addr();
        m.stop();
        assert!(TcpStream::connect(addr).is_err(), "listener closed");
    }
}
