//! `ferromq broker`: run the embedded broker until SIGINT or SIGTERM, with a
//! log line for every connect, disconnect and refusal.

use std::sync::Arc;
use std::time::SystemTime;

use ferromq::broker::config_file::{self, FileConfig};
use ferromq::broker::server::{Hooks, Server};
use ferromq::broker::{DisconnectCause, Hooks as HookSet};
use ferromq::protocol::codec::ProtocolVersion;

const DEFAULT_LISTEN: &str = "127.0.0.1:1883";

fn usage() -> String {
    "usage: ferromq broker [--listen HOST:PORT]... [--config FILE] [--sys-interval SECONDS] \
     [--metrics-listener ADDRESS:PORT]"
        .to_string()
}

fn log(line: std::fmt::Arguments<'_>) {
    let t = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    eprintln!("{t:.3} {line}");
}

/// Log lines for the broker's notices.
struct LogHooks;

impl Hooks for LogHooks {
    fn wants(&self) -> HookSet {
        HookSet {
            notices: true,
            ..HookSet::default()
        }
    }

    fn on_connected(
        &self,
        client_id: &str,
        version: ProtocolVersion,
        peer: Option<std::net::SocketAddr>,
    ) {
        let v = match version {
            ProtocolVersion::V31 => "3.1",
            ProtocolVersion::V311 => "3.1.1",
            ProtocolVersion::V5 => "5.0",
        };
        match peer {
            Some(p) => log(format_args!(
                "connect: client '{client_id}' from {p} (MQTT {v})"
            )),
            None => log(format_args!("connect: client '{client_id}' (MQTT {v})")),
        }
    }

    fn on_disconnect(&self, client_id: &str, cause: DisconnectCause) {
        match cause {
            DisconnectCause::Refused(code) => log(format_args!(
                "refused: client '{client_id}' (reason 0x{:02x})",
                code.0
            )),
            other => log(format_args!("disconnect: client '{client_id}' ({other:?})")),
        }
    }
}

/// Parse arguments, run until a signal, stop cleanly.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut fc = FileConfig::default();
    let mut cli_listen = Vec::new();
    let (mut sys_interval, mut metrics) = (None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--listen" | "-l" => cli_listen.push(it.next().ok_or_else(usage)?.clone()),
            "--config" | "-c" => {
                let path = it.next().ok_or_else(usage)?;
                let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
                fc = config_file::parse(&text).map_err(|e| format!("{path}: {e}"))?;
            }
            "--sys-interval" => {
                let v = it.next().ok_or_else(usage)?;
                let secs: u64 = v
                    .parse()
                    .map_err(|_| format!("--sys-interval takes seconds, not '{v}'"))?;
                sys_interval = Some((secs != 0).then(|| std::time::Duration::from_secs(secs)));
            }
            "--metrics-listener" => {
                let v = it.next().ok_or_else(usage)?;
                let addr = v
                    .parse::<std::net::SocketAddr>()
                    .map_err(|_| format!("--metrics-listener takes ADDRESS:PORT, not '{v}'"))?;
                metrics = Some(addr);
            }
            _ => return Err(usage()),
        }
    }
    // Command-line options override the file's.
    if let Some(s) = sys_interval {
        fc.config.sys_interval = s;
    }
    if metrics.is_some() {
        fc.config.metrics_listener = metrics;
    }
    let mut listen = fc.listen;
    listen.extend(cli_listen);
    if listen.is_empty() {
        listen.push(DEFAULT_LISTEN.to_string());
    }
    let fc_sys_interval = fc.config.sys_interval;
    let signals = block_signals()?;
    let hooks: Arc<dyn Hooks> = Arc::new(LogHooks);
    let mut server =
        Server::new(fc.config, listen.clone(), Some(hooks)).map_err(|e| format!("broker: {e}"))?;
    server
        .start()
        .map_err(|e| format!("broker: cannot listen: {e}"))?;
    for (l, p) in listen.iter().zip(server.ports()) {
        let host = l.rsplit_once(':').map_or(l.as_str(), |(h, _)| h);
        log(format_args!("listening on {host}:{p}"));
    }
    if let Some(addr) = server.metrics_addr() {
        log(format_args!("metrics on http://{addr}/metrics"));
    }
    if let Some(every) = fc_sys_interval {
        log(format_args!("$SYS every {} s", every.as_secs()));
    }
    let sig = wait_signal(&signals);
    log(format_args!("signal {sig}: shutting down"));
    server.stop().map_err(|e| format!("broker: {e}"))?;
    let s = server.stats();
    log(format_args!(
        "stopped: {} messages in, {} out, {} dropped",
        s.messages_in, s.messages_out, s.dropped
    ));
    Ok(())
}

/// Block SIGINT/SIGTERM in this thread (and so in every thread started
/// after), so that `wait_signal` can take them synchronously.
fn block_signals() -> Result<libc::sigset_t, String> {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it before use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, exclusively borrowed sigset_t; the signal
    // numbers are valid; pthread_sigmask only reads `set`.
    let rc = unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut())
    };
    if rc != 0 {
        return Err("broker: cannot block signals".to_string());
    }
    Ok(set)
}

/// Wait for one of the blocked signals.
fn wait_signal(set: &libc::sigset_t) -> i32 {
    loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: `set` is an initialised sigset_t and `sig` a valid out slot.
        let rc = unsafe { libc::sigwait(set, &mut sig) };
        if rc == 0 {
            return sig;
        }
    }
}
