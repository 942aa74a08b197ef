//! Shared helpers for the integration tests: free ports, a mosquitto guard,
//! locating our built library (also under Paho's file names), building C test
//! programs with the `cc` crate's compiler, and running children with a deadline.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Where Debian installs the broker.
pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";
/// Debian's Paho C header, the reference API.
pub const PAHO_HEADER: &str = "/usr/include/MQTTClient.h";

/// True when the environment says this is a CI run (`CI=true`, as GitHub,
/// GitLab and `.ci/run` set it; `1` and `yes` count too).
pub fn ci_mode() -> bool {
    std::env::var("CI").is_ok_and(|v| ci_value_is_on(&v))
}

/// Whether a value of the `CI` variable turns CI mode on.
pub fn ci_value_is_on(value: &str) -> bool {
    ["true", "1", "yes"]
        .iter()
        .any(|on| value.trim().eq_ignore_ascii_case(on))
}

/// Print why a test does not run and let the caller return early. Under
/// `CI=true` a missing peer is a gap CI must not hide: panic with the reason
/// instead, so the test fails.
pub fn skip(reason: &str) {
    if ci_mode() {
        panic!("SKIP under CI=true is a failure: {reason}");
    }
    println!("SKIP: {reason}");
    eprintln!("SKIP: {reason}");
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it back).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// Lines a child printed, shared between the reader thread and the test.
#[derive(Clone, Default)]
pub struct LineLog {
    inner: Arc<(Mutex<LogState>, Condvar)>,
}

#[derive(Default)]
struct LogState {
    lines: Vec<String>,
    closed: bool,
}

impl LineLog {
    /// Start a thread that appends every line read from `src` to a new log.
    pub fn spawn_reader<R: Read + Send + 'static>(src: R) -> LineLog {
        let log = LineLog::default();
        let writer = log.clone();
        thread::spawn(move || {
            let reader = BufReader::new(src);
            for line in reader.lines() {
                let Ok(line) = line else { break };
                let (lock, cv) = &*writer.inner;
                lock.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .lines
                    .push(line);
                cv.notify_all();
            }
            let (lock, cv) = &*writer.inner;
            lock.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
            cv.notify_all();
        });
        log
    }

    /// Wait until some line (at index >= `from`) contains `needle`; returns its
    /// index, or None when the deadline passes or the stream ends first.
    pub fn wait_for_from(&self, from: usize, needle: &str, timeout: Duration) -> Option<usize> {
        self.wait_match(from, |l| l.contains(needle), timeout)
    }

    /// Wait until some line (at index >= `from`) satisfies `pred`; returns its
    /// index, or None when the deadline passes or the stream ends first.
    pub fn wait_match(
        &self,
        from: usize,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Option<usize> {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &*self.inner;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(i) = state.lines.iter().skip(from).position(|l| pred(l)) {
                return Some(from + i);
            }
            let now = Instant::now();
            if state.closed || now >= deadline {
                return None;
            }
            state = cv
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Append a line of our own (e.g. a marker that another process exited,
    /// so that a wait on this log can end early).
    pub fn push(&self, line: impl Into<String>) {
        let (lock, cv) = &*self.inner;
        lock.lock()
            .unwrap_or_else(|e| e.into_inner())
            .lines
            .push(line.into());
        cv.notify_all();
    }

    /// The line at `index`, if there is one yet.
    pub fn line(&self, index: usize) -> Option<String> {
        let (lock, _) = &*self.inner;
        lock.lock()
            .unwrap_or_else(|e| e.into_inner())
            .lines
            .get(index)
            .cloned()
    }

    /// Wait until the stream has ended (the writer closed it), at most
    /// `timeout`; returns whether it ended.
    pub fn wait_closed(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &*self.inner;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        while !state.closed {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = cv
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Wait until some line contains `needle`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        self.wait_for_from(0, needle, timeout).is_some()
    }

    /// Number of lines read so far.
    pub fn len(&self) -> usize {
        let (lock, _) = &*self.inner;
        lock.lock().unwrap_or_else(|e| e.into_inner()).lines.len()
    }

    /// Everything read so far, one line per line.
    pub fn text(&self) -> String {
        let (lock, _) = &*self.inner;
        lock.lock()
            .unwrap_or_else(|e| e.into_inner())
            .lines
            .join("\n")
    }
}

/// A broker process on 127.0.0.1:`port` whose stderr is collected as its
/// log, killed and reaped on drop. `K` says which broker it is: see
/// [`Mosquitto`] and [`FerroBroker`].
pub struct BrokerGuard<K> {
    pub port: u16,
    child: Option<Child>,
    log: LineLog,
    _dir: tempfile::TempDir,
    _kind: PhantomData<K>,
}

impl<K> BrokerGuard<K> {
    /// Spawn `cmd` (stdin and stdout closed, stderr read into the log);
    /// `dir` holds its configuration and lives as long as the guard.
    pub fn spawn(mut cmd: Command, port: u16, dir: tempfile::TempDir) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        let log = LineLog::spawn_reader(child.stderr.take().expect("stderr"));
        BrokerGuard {
            port,
            child: Some(child),
            log,
            _dir: dir,
            _kind: PhantomData,
        }
    }

    /// The broker's log so far (for failure messages and event-driven waits).
    pub fn log(&self) -> &LineLog {
        &self.log
    }

    /// `tcp://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// The broker's process id while it runs (to signal it).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kill the broker now (SIGKILL) and reap it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl<K> Drop for BrokerGuard<K> {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Marks a [`BrokerGuard`] running mosquitto.
pub enum MosquittoKind {}

/// A mosquitto broker on 127.0.0.1:`port`, killed and reaped on drop.
pub type Mosquitto = BrokerGuard<MosquittoKind>;

impl BrokerGuard<MosquittoKind> {
    /// True when the broker binary is installed.
    pub fn available() -> bool {
        Path::new(MOSQUITTO).exists()
    }

    /// Start mosquitto on a free port and wait (bounded, by reading its log)
    /// until it listens. Retries on another port if the chosen one was taken.
    pub fn start() -> Mosquitto {
        let mut last_log = String::new();
        for _ in 0..5 {
            match Self::try_start(free_port()) {
                Ok(m) => return m,
                Err(log) => last_log = log,
            }
        }
        panic!("mosquitto did not start; last log:\n{last_log}");
    }

    fn try_start(port: u16) -> Result<Mosquitto, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("mosquitto.conf");
        let text = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
             log_dest stderr\nlog_type all\nconnection_messages true\n"
        );
        std::fs::write(&conf, text).expect("write mosquitto.conf");
        let mut cmd = Command::new(MOSQUITTO);
        cmd.arg("-c").arg(&conf).arg("-v");
        let mut m = Mosquitto::spawn(cmd, port, dir);
        if m.log.wait_for(" running", Duration::from_secs(10)) {
            Ok(m)
        } else {
            let text = m.log.text();
            m.kill();
            Err(text)
        }
    }
}

/// target/<profile>: the directory holding libferromq.so, derived from the
/// running test binary (target/<profile>/deps/<test>-<hash>).
pub fn ferromq_lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("exe dir");
    deps.parent().expect("profile dir").to_path_buf()
}

/// Our shared library.
pub fn ferromq_lib() -> PathBuf {
    ferromq_lib_dir().join("libferromq.so")
}

/// The crate root (for include/ and tests/c/).
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Paho's library file names, all of which our library stands in for.
pub const PAHO_LIB_NAMES: &[&str] = &[
    "libpaho-mqtt3c.so.1",
    "libpaho-mqtt3c.so",
    "libpaho-mqtt3cs.so.1",
    "libpaho-mqtt3cs.so",
    "libpaho-mqtt3a.so.1",
    "libpaho-mqtt3a.so",
    "libpaho-mqtt3as.so.1",
    "libpaho-mqtt3as.so",
];

/// A temp dir with symlinks under Paho's names to our libferromq.so; put it
/// on LD_LIBRARY_PATH to run Paho-built binaries on our library.
pub fn paho_names_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = ferromq_lib();
    for name in PAHO_LIB_NAMES {
        std::os::unix::fs::symlink(&target, dir.path().join(name)).expect("symlink");
    }
    dir
}

/// The C compiler cargo would use for this target, with the `cc` crate's
/// default flags for it.
pub fn c_compiler() -> cc::Tool {
    let default = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let target = std::env::var("TARGET").unwrap_or_else(|_| default.clone());
    let host = std::env::var("HOST").unwrap_or(default);
    cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .opt_level(1)
        .debug(false)
        .target(&target)
        .host(&host)
        .get_compiler()
}

/// How to build one C program.
#[derive(Default)]
pub struct CBuild {
    pub sources: Vec<PathBuf>,
    pub include_dirs: Vec<PathBuf>,
    pub defines: Vec<String>,
    /// `-L` directories; each is also put in the executable's run path.
    pub lib_dirs: Vec<PathBuf>,
    pub libs: Vec<String>,
}

impl CBuild {
    /// Compile and link into `out` with -Wall -Wextra -Werror; panic with the
    /// compiler's output if it fails.
    pub fn build(&self, out: &Path) {
        let mut cmd = c_compiler().to_command();
        cmd.args(["-Wall", "-Wextra", "-Werror", "-std=gnu11", "-pthread"]);
        for dir in &self.include_dirs {
            cmd.arg("-I").arg(dir);
        }
        for def in &self.defines {
            cmd.arg(format!("-D{def}"));
        }
        cmd.args(&self.sources);
        cmd.arg("-o").arg(out);
        for dir in &self.lib_dirs {
            cmd.arg("-L").arg(dir);
            cmd.arg(format!("-Wl,-rpath,{}", dir.display()));
        }
        for lib in &self.libs {
            cmd.arg(format!("-l{lib}"));
        }
        let output = cmd.output().expect("run the C compiler");
        let shown: Vec<_> = std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(
            output.status.success(),
            "C build failed: {}\n{}{}",
            shown.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// A running child whose stdout/stderr lines are collected by threads.
pub struct Running {
    child: Child,
    pub stdout: LineLog,
    pub stderr: LineLog,
    deadline: Instant,
    what: String,
}

impl Running {
    /// Spawn `cmd` (stdin closed, output piped); it must finish within `secs`.
    pub fn spawn(mut cmd: Command, secs: u64) -> Running {
        let what = format!("{cmd:?}");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        let stdout = LineLog::spawn_reader(child.stdout.take().expect("stdout"));
        let stderr = LineLog::spawn_reader(child.stderr.take().expect("stderr"));
        Running {
            child,
            stdout,
            stderr,
            deadline: Instant::now() + Duration::from_secs(secs),
            what,
        }
    }

    /// Like `spawn`, with `input` written to the child's stdin (then closed).
    pub fn spawn_with_input(mut cmd: Command, input: &[u8], secs: u64) -> Running {
        let what = format!("{cmd:?}");
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&input);
        });
        let stdout = LineLog::spawn_reader(child.stdout.take().expect("stdout"));
        let stderr = LineLog::spawn_reader(child.stderr.take().expect("stderr"));
        Running {
            child,
            stdout,
            stderr,
            deadline: Instant::now() + Duration::from_secs(secs),
            what,
        }
    }

    /// Time left before this child's deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Wait until a stdout line contains `needle` (bounded by the deadline);
    /// on failure kill the child and panic with its output.
    pub fn expect_line(&mut self, needle: &str) {
        if !self.stdout.wait_for(needle, self.remaining()) {
            self.kill();
            panic!(
                "{} never printed {needle:?}\nstdout:\n{}\nstderr:\n{}",
                self.what,
                self.stdout.text(),
                self.stderr.text()
            );
        }
    }

    /// Kill (SIGKILL) and reap the child.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Wait for the child to exit before the deadline; kill it and panic if it
    /// does not. Returns its exit status and the collected output.
    pub fn finish(mut self) -> (std::process::ExitStatus, String, String) {
        // The stdout reader ends when the child closes its stdout (normally at
        // exit), so waiting for that is an event-driven bound on the exit.
        self.stdout.wait_closed(self.remaining());
        let status = match self.child.try_wait() {
            Ok(Some(status)) => Some(status),
            // stdout closed (or the deadline passed) but the process lingers:
            // block on it with a watchdog that kills it at the deadline.
            Ok(None) => {
                let left = self.remaining();
                wait_with_watchdog(&mut self.child, left)
            }
            Err(_) => None,
        };
        let Some(status) = status else {
            self.kill();
            panic!(
                "{} timed out\nstdout:\n{}\nstderr:\n{}",
                self.what,
                self.stdout.text(),
                self.stderr.text()
            );
        };
        // Let the stderr reader drain what is left.
        self.stderr.wait_closed(Duration::from_secs(2));
        (status, self.stdout.text(), self.stderr.text())
    }
}

impl Drop for Running {
    /// A child still running when its guard goes (a test that failed or
    /// never waited for it) is killed and reaped, so none outlives its test.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

/// Block on `child.wait()`, killing the child if it outlives `timeout`.
/// Returns None when it had to be killed.
fn wait_with_watchdog(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let pid = child.id() as libc::pid_t;
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        if done_rx.recv_timeout(timeout).is_err() {
            // SAFETY: kill(2) touches no memory of ours. The pid is our child,
            // not yet reaped unless wait() returned in the instant before it
            // could tell this thread so.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            return true;
        }
        false
    });
    let status = child.wait().ok();
    let _ = done_tx.send(());
    let killed = watchdog.join().unwrap_or(true);
    if killed { None } else { status }
}

/// Run `cmd` to completion within `secs`; kill it and fail the test on
/// timeout. Returns its output (status, stdout, stderr).
pub fn run_with_timeout(cmd: Command, secs: u64) -> Output {
    let running = Running::spawn(cmd, secs);
    let (status, stdout, stderr) = running.finish();
    Output {
        status,
        stdout: stdout.into_bytes(),
        stderr: stderr.into_bytes(),
    }
}

/// Marks a [`BrokerGuard`] running our `ferromq broker`.
pub enum FerromqKind {}

/// Our `ferromq broker` command on 127.0.0.1 with port 0, killed and reaped
/// on drop. The port is read from its "listening on" log line.
pub type FerroBroker = BrokerGuard<FerromqKind>;

impl BrokerGuard<FerromqKind> {
    /// Start the broker binary `exe` (pass `env!("CARGO_BIN_EXE_ferromq")`)
    /// with `config` as its `--config` file text (may be empty).
    pub fn start(exe: &str, config: &str) -> FerroBroker {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("ferromq.conf");
        std::fs::write(&conf, config).expect("write ferromq.conf");
        let mut cmd = Command::new(exe);
        cmd.arg("broker")
            .arg("--config")
            .arg(&conf)
            .arg("--listen")
            .arg("127.0.0.1:0");
        let mut b = FerroBroker::spawn(cmd, 0, dir);
        const NEEDLE: &str = "listening on 127.0.0.1:";
        let Some(i) = b.log.wait_for_from(0, NEEDLE, Duration::from_secs(20)) else {
            let text = b.log.text();
            b.kill();
            panic!("ferromq broker did not start; log:\n{text}");
        };
        let line = b.log.line(i).unwrap_or_default();
        let port = line
            .rsplit_once(NEEDLE)
            .and_then(|(_, p)| p.trim().parse::<u16>().ok());
        match port {
            Some(p) => b.port = p,
            None => {
                b.kill();
                panic!("cannot read the port from {line:?}");
            }
        }
        b
    }
}

impl BrokerGuard<FerromqKind> {
    /// Our broker (binary `exe`, empty configuration) for a test that runs
    /// the client programs at `programs`; None, after printing SKIP with
    /// `missing`, when any of them is not installed.
    pub fn start_for(exe: &str, programs: &[&str], missing: &str) -> Option<FerroBroker> {
        if !programs.iter().all(|p| Path::new(p).exists()) {
            skip(missing);
            return None;
        }
        Some(FerroBroker::start(exe, ""))
    }
}

impl LineLog {
    /// Lines from index `from` on.
    pub fn lines_from(&self, from: usize) -> Vec<String> {
        let (lock, _) = &*self.inner;
        let state = lock.lock().unwrap_or_else(|e| e.into_inner());
        state.lines.iter().skip(from).cloned().collect()
    }

    /// Wait until at least `n` lines have been read; false on timeout or EOF.
    pub fn wait_lines(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &*self.inner;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if state.lines.len() >= n {
                return true;
            }
            let now = Instant::now();
            if state.closed || now >= deadline {
                return false;
            }
            state = cv
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

pub mod c_programs;
pub mod paho_programs;
pub mod proxy;
pub mod raw;
pub mod remote;
pub mod tls;
pub mod valgrind;

/// Connect options for the Rust client API (the layer under MQTTClient):
/// MQTT `version` (0 = 3.1.1 then 3.1), clean session, keepalive 60 s,
/// connect timeout 5 s, 100 publishes in flight, no will or credentials.
pub fn connect_options(version: i32) -> ferromq::client::sync::ConnectOptions {
    ferromq::client::sync::ConnectOptions {
        keep_alive: Duration::from_secs(60),
        clean_session: true,
        clean_start: true,
        will: None,
        username: None,
        password: None,
        connect_timeout: Duration::from_secs(5),
        retry_interval: Duration::ZERO,
        mqtt_version: version,
        server_uris: Vec::new(),
        max_inflight: 100,
        properties: ferromq::protocol::codec::Properties::default(),
        tls: None,
        http_headers: Vec::new(),
        http_proxy: None,
        https_proxy: None,
        bridge: false,
    }
}
