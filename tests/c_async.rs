//! Builds every MQTTAsync C test program (tests/c/async_*.c) three ways, as
//! tests/c_client.rs does for MQTTClient: `paho::*` on Debian's
//! libpaho-mqtt3a (the reference), `paho_binary_on_ferromq::*` the same
//! binary on our library, `ferromq::*` against our headers (-DFERROMQ),
//! run under valgrind, which fails it on any leak or invalid access.
//! `async_restart` restarts its broker (mosquitto with persistence, on the
//! same port) in the middle of a QoS 1 stream.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::c_programs::Variant;
use support::{CBuild, FerroBroker, LineLog, Mosquitto, Running};

/// Seconds a test program may run before it is killed and the test fails.
const PROGRAM_TIMEOUT_SECS: u64 = 120;

/// Build tests/c/`name`.c for `variant` into `exe`; false when skipped.
fn build(name: &str, variant: Variant, exe: &Path) -> bool {
    let paho_headers = Path::new("/usr/include/MQTTAsync.h").exists();
    if variant != Variant::Ferromq && !paho_headers {
        support::skip("Paho C headers are not installed (libpaho-mqtt-dev)");
        return false;
    }
    let c_dir = support::manifest_dir().join("tests").join("c");
    let mut build = CBuild {
        sources: vec![c_dir.join(format!("{name}.c"))],
        include_dirs: vec![c_dir],
        ..CBuild::default()
    };
    match variant {
        Variant::Paho | Variant::PahoBinaryOnFerromq => build.libs.push("paho-mqtt3a".into()),
        Variant::Ferromq => {
            let include = support::manifest_dir().join("include");
            assert!(
                include.join("MQTTAsync.h").exists(),
                "include/MQTTAsync.h missing"
            );
            build.include_dirs.insert(0, include);
            build.defines.push("FERROMQ".into());
            build.lib_dirs.push(support::ferromq_lib_dir());
            build.libs.push("ferromq".into());
        }
    }
    if variant != Variant::Paho {
        assert!(support::ferromq_lib().exists(), "libferromq.so is missing");
    }
    build.build(exe);
    true
}

/// The command for a built program: Debian's library only for the
/// reference, ours under Paho's names for the swapped run, and the FerroMQ
/// build under valgrind.
fn command(exe: &Path, variant: Variant, names: &Option<tempfile::TempDir>, port: u16) -> Command {
    let mut cmd = if variant == Variant::Ferromq {
        support::valgrind::command(exe)
    } else {
        Command::new(exe)
    };
    cmd.arg("127.0.0.1").arg(port.to_string());
    cmd.env_remove("LD_LIBRARY_PATH");
    if variant == Variant::PahoBinaryOnFerromq
        && let Some(dir) = names
    {
        cmd.env("LD_LIBRARY_PATH", dir.path());
    }
    cmd
}

fn run_program(name: &str, variant: Variant) {
    if !Mosquitto::available() {
        support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let exe = work.path().join(name);
    if !build(name, variant, &exe) {
        return;
    }
    let names = (variant == Variant::PahoBinaryOnFerromq).then(support::paho_names_dir);
    if name == "async_restart" {
        return run_restart(&exe, variant, &names, work.path());
    }
    if name == "async_callbacks" {
        // mosquitto closes a taken-over session without an MQTT 5
        // DISCONNECT; our broker sends one (Session taken over).
        let mut broker = FerroBroker::start(env!("CARGO_BIN_EXE_ferromq"), "");
        let running = Running::spawn(
            command(&exe, variant, &names, broker.port),
            PROGRAM_TIMEOUT_SECS,
        );
        let (status, stdout, stderr) = running.finish();
        if variant == Variant::Ferromq {
            support::valgrind::check(name, &status, &stderr);
        }
        broker.kill();
        assert!(
            status.success(),
            "{name} ({variant:?}) failed: {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n\
             --- broker log\n{}",
            broker.log().text()
        );
        print!("{stdout}");
        return;
    }
    let broker = Mosquitto::start();
    let running = Running::spawn(
        command(&exe, variant, &names, broker.port),
        PROGRAM_TIMEOUT_SECS,
    );
    let (status, stdout, stderr) = running.finish();
    if variant == Variant::Ferromq {
        support::valgrind::check(name, &status, &stderr);
    }
    assert!(
        status.success(),
        "{name} ({variant:?}) failed: {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n\
         --- mosquitto log\n{}",
        broker.log().text()
    );
    print!("{stdout}");
}

/// mosquitto on a fixed port with a persistence file, so that it can be
/// stopped (SIGTERM: it saves its sessions) and started again in between.
struct PersistentBroker {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
    log: Option<LineLog>,
    logs: String,
}

impl PersistentBroker {
    fn new(dir: &Path) -> PersistentBroker {
        // mosquitto started as root writes its database as user mosquitto.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777))
            .expect("make the broker's directory writable");
        PersistentBroker {
            port: support::free_port(),
            dir: dir.to_path_buf(),
            child: None,
            log: None,
            logs: String::new(),
        }
    }

    fn start(&mut self) {
        let conf = self.dir.join("mosquitto.conf");
        let text = format!(
            "listener {} 127.0.0.1\nallow_anonymous true\npersistence true\n\
             persistence_location {}/\nautosave_interval 0\nlog_dest stderr\nlog_type all\n\
             max_queued_messages 10000\n",
            self.port,
            self.dir.display()
        );
        std::fs::write(&conf, text).expect("write mosquitto.conf");
        let mut child = Command::new(support::MOSQUITTO)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mosquitto");
        let log = LineLog::spawn_reader(child.stderr.take().expect("stderr"));
        self.child = Some(child);
        let up = log.wait_for(" running", Duration::from_secs(15));
        let text = log.text();
        self.log = Some(log);
        assert!(up, "mosquitto did not start on port {}:\n{text}", self.port);
    }

    /// SIGTERM (mosquitto saves its database on the way out), then reap.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) on a child we spawned and have not reaped.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            let _ = child.wait();
        }
        if let Some(log) = self.log.take() {
            log.wait_for_from(usize::MAX, "\u{0}", Duration::from_secs(2));
            self.logs.push_str(&log.text());
        }
    }
}

impl Drop for PersistentBroker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The program streams QoS 1 messages; when it prints STOP_BROKER the
/// broker goes away, when it prints START_BROKER it comes back on the same
/// port. The program itself checks that nothing was lost and order held.
fn run_restart(exe: &Path, variant: Variant, names: &Option<tempfile::TempDir>, work: &Path) {
    let mut broker = PersistentBroker::new(work);
    broker.start();
    let mut running = Running::spawn(
        command(exe, variant, names, broker.port),
        PROGRAM_TIMEOUT_SECS,
    );
    running.expect_line("STOP_BROKER");
    broker.stop();
    running.expect_line("START_BROKER");
    broker.start();
    let (status, stdout, stderr) = running.finish();
    if variant == Variant::Ferromq {
        support::valgrind::check("async_restart", &status, &stderr);
    }
    broker.stop();
    assert!(
        status.success(),
        "async_restart ({variant:?}) failed: {status}\n--- stdout\n{stdout}\n--- stderr\n\
         {stderr}\n--- mosquitto log\n{}",
        broker.logs
    );
    // The user name set by the updateConnectOptions callback was used.
    assert!(
        broker.logs.contains("u'after-restart'"),
        "the reconnect did not use the updated user name:\n{}",
        broker.logs
    );
    print!("{stdout}");
}

c_program_tests!(
    async_pubsub,
    async_mqtt5,
    async_errors,
    async_restart,
    async_offline,
    async_callbacks,
);

/// The c-examples/async_*.c programs, built as `make examples` builds them
/// (against our headers and library, -Wall -Wextra -Werror) and run.
mod examples {
    use super::support::{self, CBuild, Mosquitto, Running};
    use std::path::Path;
    use std::process::Command;

    fn build(name: &str, dir: &Path) -> std::path::PathBuf {
        let exe = dir.join(name);
        CBuild {
            sources: vec![
                support::manifest_dir()
                    .join("c-examples")
                    .join(format!("{name}.c")),
            ],
            include_dirs: vec![support::manifest_dir().join("include")],
            lib_dirs: vec![support::ferromq_lib_dir()],
            libs: vec!["ferromq".into()],
            ..CBuild::default()
        }
        .build(&exe);
        exe
    }

    fn command(exe: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(exe);
        cmd.args(args).env_remove("LD_LIBRARY_PATH");
        cmd
    }

    #[test]
    fn publisher_and_subscriber() {
        if !Mosquitto::available() {
            support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
            return;
        }
        let work = tempfile::tempdir().expect("tempdir");
        let (publisher, subscriber) = (
            build("async_publish", work.path()),
            build("async_subscribe", work.path()),
        );
        let broker = Mosquitto::start();
        let uri = broker.uri();
        let mut sub = Running::spawn(command(&subscriber, &[&uri, "examples/#", "3"]), 60);
        sub.expect_line("subscribed to examples/#");
        let publish = Running::spawn(command(&publisher, &[&uri, "examples/a", "3"]), 60);
        let (status, stdout, stderr) = publish.finish();
        assert!(
            status.success(),
            "async_publish: {status}\n{stdout}\n{stderr}"
        );
        assert!(
            stdout.contains("message 3 delivered to examples/a"),
            "{stdout}"
        );
        let (status, stdout, stderr) = sub.finish();
        assert!(
            status.success(),
            "async_subscribe: {status}\n{stdout}\n{stderr}"
        );
        for i in 1..=3 {
            assert!(stdout.contains(&format!("message {i} of 3")), "{stdout}");
        }
    }

    #[test]
    fn mqtt5_client() {
        if !Mosquitto::available() {
            support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
            return;
        }
        let work = tempfile::tempdir().expect("tempdir");
        let exe = build("async_mqtt5", work.path());
        let broker = Mosquitto::start();
        let (status, stdout, stderr) =
            Running::spawn(command(&exe, &[&broker.uri(), "examples/v5"]), 60).finish();
        assert!(
            status.success(),
            "async_mqtt5: {status}\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("connected with MQTT 5"), "{stdout}");
        assert!(
            stdout.contains("USER_PROPERTY: origin=async_mqtt5"),
            "{stdout}"
        );
        assert!(stdout.contains("disconnected"), "{stdout}");
    }

    #[test]
    fn reconnecting_publisher_survives_a_broker_restart() {
        if !Mosquitto::available() {
            support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
            return;
        }
        let work = tempfile::tempdir().expect("tempdir");
        let exe = build("async_reconnect", work.path());
        let broker_dir = tempfile::tempdir().expect("tempdir");
        let mut broker = super::PersistentBroker::new(broker_dir.path());
        broker.start();
        let uri = format!("tcp://127.0.0.1:{}", broker.port);
        let mut run = Running::spawn(command(&exe, &[&uri, "examples/ticks", "8"]), 90);
        run.expect_line("delivered: tick 2");
        broker.stop();
        run.expect_line("buffered: tick");
        broker.start();
        let (status, stdout, stderr) = run.finish();
        broker.stop();
        assert!(
            status.success(),
            "async_reconnect: {status}\n{stdout}\n{stderr}"
        );
        assert!(
            stdout.contains("connected (automatic reconnect)"),
            "{stdout}"
        );
        assert!(stdout.contains("8 delivered, 0 failed"), "{stdout}");
    }
}
