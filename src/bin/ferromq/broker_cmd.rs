//! `ferromq broker`: run the embedded broker until SIGINT or SIGTERM, with a
//! log line for every connect, disconnect and refusal. The configuration
//! file is mosquitto.conf syntax (FerroMQ's own keys too); SIGHUP reads it
//! again and applies the password file, the ACLs, the limits, the log
//! settings and the listeners' TLS certificates without dropping a
//! connection.

use std::path::PathBuf;
use std::sync::Arc;

use ferromq::broker::auth::{Auth, FileAuth};
use ferromq::broker::config::mosquitto::{self, Conf};
use ferromq::broker::server::{Hooks, Server};
use ferromq::broker::{BrokerConfig, ClientRecord, DisconnectCause, Hooks as HookSet};
use ferromq::protocol::codec::ProtocolVersion;

use crate::log::{self, ERROR, INFORMATION, NOTICE, WARNING};

const DEFAULT_LISTEN: &str = "127.0.0.1:1883";

pub fn usage() -> String {
    "usage: ferromq broker [-c|--config FILE] [--lenient] [-l|--listen HOST:PORT]... [-p PORT] [-v]\n\
     \x20 -c, --config FILE     mosquitto.conf syntax (and FerroMQ's own keys); SIGHUP re-reads it\n\
     \x20     --lenient         options not supported yet are warnings, not errors\n\
     \x20 -l, --listen H:P      listen there too (repeatable; port 0 picks a free port);\n\
     \x20                       default 127.0.0.1:1883 when nothing else is given\n\
     \x20 -p, --port PORT       as mosquitto's -p: listen on 127.0.0.1:PORT (local only)\n\
     \x20 -v, --verbose         log every type (overrides log_type, also after SIGHUP)\n\
     \x20     --sys-interval S  publish $SYS every S seconds (0: off; overrides the file)\n\
     \x20     --metrics-listener ADDRESS:PORT\n\
     \x20                       serve Prometheus metrics there (overrides the file)"
        .to_string()
}

/// Log lines for the broker's notices.
struct LogHooks;

impl Hooks for LogHooks {
    fn wants(&self) -> HookSet {
        HookSet {
            notices: true,
            // The log lines name client, address and protocol only.
            lean_notices: true,
            ..HookSet::default()
        }
    }

    fn on_connected(&self, client: &ClientRecord) {
        if !log::connection_messages() {
            return;
        }
        let v = match client.version {
            ProtocolVersion::V31 => "3.1",
            ProtocolVersion::V311 => "3.1.1",
            ProtocolVersion::V5 => "5.0",
        };
        log::log(
            NOTICE,
            format_args!(
                "connect: client '{}' from {} (MQTT {v})",
                client.client_id, client.peer
            ),
        );
    }

    fn on_disconnect(&self, client: &ClientRecord, cause: DisconnectCause) {
        if !log::connection_messages() {
            return;
        }
        let client_id = &client.client_id;
        match cause {
            DisconnectCause::Refused(code) => log::log(
                NOTICE,
                format_args!("refused: client '{client_id}' (reason 0x{:02x})", code.0),
            ),
            other => log::log(
                NOTICE,
                format_args!("disconnect: client '{client_id}' ({other:?})"),
            ),
        }
    }

    fn on_transport_error(&self, peer: std::net::SocketAddr, reason: &str) {
        if log::connection_messages() {
            log::log(
                NOTICE,
                format_args!("closed: connection from {peer}: {reason}"),
            );
        }
    }

    fn on_bridge_log(&self, warning: bool, line: &str) {
        log::log(
            if warning { WARNING } else { NOTICE },
            format_args!("{line}"),
        );
    }

    fn on_queue_full(&self, client_id: &str) {
        log::log(
            WARNING,
            format_args!(
                "queue full: client '{client_id}' is offline; its messages are dropped by \
                 drop_policy until it reconnects or its queue has room"
            ),
        );
    }

    fn on_store_failure(&self, error: &str) {
        // Nothing more can be acknowledged: stop, so a supervisor restarts
        // the broker on what the store last committed.
        log::log(ERROR, format_args!("{error}: stopping"));
        std::process::exit(1);
    }
}

/// The command line.
struct Args {
    config: Option<PathBuf>,
    lenient: bool,
    listen: Vec<String>,
    /// `--sys-interval` (Some(None): off), overriding the file.
    sys_interval: Option<Option<std::time::Duration>>,
    /// `--metrics-listener`, overriding the file.
    metrics: Option<std::net::SocketAddr>,
    /// `-v`: every log type, overriding the file's `log_type`.
    verbose: bool,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        config: None,
        lenient: false,
        listen: Vec::new(),
        sys_interval: None,
        metrics: None,
        verbose: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--listen" | "-l" => a.listen.push(it.next().ok_or_else(usage)?.clone()),
            "--config" | "-c" => a.config = Some(it.next().ok_or_else(usage)?.into()),
            "--lenient" => a.lenient = true,
            "--port" | "-p" => {
                let v = it.next().ok_or_else(usage)?;
                let port: u16 = v
                    .parse()
                    .map_err(|_| format!("-p takes a port number, not '{v}'"))?;
                a.listen.push(format!("127.0.0.1:{port}"));
            }
            "--verbose" | "-v" => a.verbose = true,
            "--sys-interval" => {
                let v = it.next().ok_or_else(usage)?;
                let secs: u64 = v
                    .parse()
                    .map_err(|_| format!("--sys-interval takes seconds, not '{v}'"))?;
                a.sys_interval = Some((secs != 0).then(|| std::time::Duration::from_secs(secs)));
            }
            "--metrics-listener" => {
                let v = it.next().ok_or_else(usage)?;
                let addr = v
                    .parse::<std::net::SocketAddr>()
                    .map_err(|_| format!("--metrics-listener takes ADDRESS:PORT, not '{v}'"))?;
                a.metrics = Some(addr);
            }
            "-h" | "--help" => return Err(usage()),
            _ => return Err(usage()),
        }
    }
    Ok(a)
}

/// Read the configuration file (or the defaults without one).
fn load(args: &Args) -> Result<Conf, String> {
    let mut conf = match &args.config {
        Some(path) => mosquitto::parse_file(path, args.lenient)?,
        None => Conf::default(),
    };
    if args.verbose {
        conf.log.types = mosquitto::log_type::ALL;
    }
    Ok(conf)
}

/// The broker configuration for `conf` with its auth files read now.
fn broker_config(args: &Args, conf: &Conf, listeners: usize) -> Result<BrokerConfig, String> {
    let mut config = conf.config.clone();
    config.auth = FileAuth::from_conf(conf, listeners)?.map(|a| Arc::new(a) as Arc<dyn Auth>);
    // Command-line options override the file's.
    if let Some(s) = args.sys_interval {
        config.sys_interval = s;
    }
    if args.metrics.is_some() {
        config.metrics_listener = args.metrics;
    }
    Ok(config)
}

/// Parse arguments, run until a signal, stop cleanly.
pub fn run(args: &[String]) -> Result<(), String> {
    let args = parse_args(args)?;
    let conf = load(&args)?;
    log::configure(&conf.log)?;
    for w in &conf.warnings {
        log::log(WARNING, format_args!("warning: {w} (ignored: --lenient)"));
    }
    let mut listen: Vec<String> = conf.listeners.iter().map(|l| l.address.clone()).collect();
    listen.extend(args.listen.iter().cloned());
    if listen.is_empty() {
        listen.push(DEFAULT_LISTEN.to_string());
    }
    let config = broker_config(&args, &conf, listen.len())?;
    let sys_interval = config.sys_interval;
    let signals = block_signals()?;
    let hooks: Arc<dyn Hooks> = Arc::new(LogHooks);
    let mut server =
        Server::new(config, listen.clone(), Some(hooks)).map_err(|e| format!("broker: {e}"))?;
    for (i, l) in conf.listeners.iter().enumerate() {
        server
            .set_listener(i, &l.spec)
            .map_err(|e| format!("broker: listener {}: {e}", l.address))?;
    }
    for b in &conf.bridges {
        server
            .add_bridge(b.clone())
            .map_err(|e| format!("broker: {e}"))?;
    }
    server
        .start()
        .map_err(|e| format!("broker: cannot listen: {e}"))?;
    let pid_file = conf.pid_file.clone();
    if let Some(p) = &pid_file {
        std::fs::write(p, format!("{}\n", std::process::id()))
            .map_err(|e| format!("pid_file {}: {e}", p.display()))?;
    }
    for (i, (l, p)) in listen.iter().zip(server.ports()).enumerate() {
        let host = l.rsplit_once(':').map_or(l.as_str(), |(h, _)| h);
        match conf.listeners.get(i).map(|l| l.spec.scheme()) {
            Some(scheme) if scheme != "mqtt" => {
                log::log(NOTICE, format_args!("listening on {host}:{p} ({scheme})"))
            }
            _ => log::log(NOTICE, format_args!("listening on {host}:{p}")),
        }
    }
    if let Some(addr) = server.metrics_addr() {
        log::log(NOTICE, format_args!("metrics on http://{addr}/metrics"));
    }
    if let Some(every) = sys_interval {
        log::log(NOTICE, format_args!("$SYS every {} s", every.as_secs()));
    }
    let sig = loop {
        let sig = wait_signal(&signals);
        if sig != libc::SIGHUP {
            break sig;
        }
        reload(&args, &listen, &server);
    };
    log::log(NOTICE, format_args!("signal {sig}: shutting down"));
    server.stop().map_err(|e| format!("broker: {e}"))?;
    if let Some(p) = &pid_file {
        let _ = std::fs::remove_file(p);
    }
    let s = server.stats();
    log::log(
        INFORMATION,
        format_args!(
            "stopped: {} messages in, {} out, {} dropped ({} QoS 0 under overload, {} for \
             offline sessions), {} publisher pauses, {} slow consumers disconnected",
            s.messages_in,
            s.messages_out,
            s.dropped,
            s.dropped_qos0,
            s.dropped_offline,
            s.flow_pauses,
            s.slow_consumers
        ),
    );
    Ok(())
}

/// SIGHUP: read the configuration again and apply what can change live
/// (password file, ACLs, limits, logging, TLS certificates: new
/// connections get them, open ones keep theirs). Listener addresses stay
/// as they are. On any error the settings in force stay and the error is
/// logged.
fn reload(args: &Args, listen: &[String], server: &Server) {
    let Some(path) = &args.config else {
        log::log(NOTICE, format_args!("reload: no configuration file"));
        return;
    };
    let applied = load(args).and_then(|conf| {
        let config = broker_config(args, &conf, listen.len())?;
        log::configure(&conf.log)?;
        Ok((conf, config))
    });
    match applied {
        Ok((conf, config)) => {
            for w in &conf.warnings {
                log::log(WARNING, format_args!("warning: {w} (ignored: --lenient)"));
            }
            let now: Vec<String> = conf.listeners.iter().map(|l| l.address.clone()).collect();
            if !listen.starts_with(&now) {
                log::log(
                    WARNING,
                    format_args!("reload: listeners changed; they change on restart only"),
                );
            }
            let running: Vec<_> = server.bridges().iter().map(|b| b.conf().clone()).collect();
            if conf.bridges != running {
                log::log(
                    WARNING,
                    format_args!("reload: bridges changed; they change on restart only"),
                );
            }
            server.reconfigure(config);
            for (i, l) in conf.listeners.iter().enumerate().take(listen.len()) {
                if let Err(e) = server.set_listener(i, &l.spec) {
                    log::log(
                        ERROR,
                        format_args!(
                            "reload: listener {}: {e}; it keeps its previous TLS settings",
                            l.address
                        ),
                    );
                }
            }
            log::log(
                NOTICE,
                format_args!("reloaded configuration from {}", path.display()),
            );
        }
        Err(e) => log::log(
            ERROR,
            format_args!("reload failed, settings unchanged: {e}"),
        ),
    }
}

/// Block SIGINT, SIGTERM and SIGHUP in this thread (and so in every thread
/// started after), so that `wait_signal` can take them synchronously.
fn block_signals() -> Result<libc::sigset_t, String> {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it before use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, exclusively borrowed sigset_t; the signal
    // numbers are valid; pthread_sigmask only reads `set`.
    let rc = unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGHUP);
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
