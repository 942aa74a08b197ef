//! Builds every C test program in tests/c/ (MQTTClient API only) three ways and
//! runs each against its own mosquitto: `paho::*` is the reference (Debian's
//! Paho C), `paho_binary_on_ferromq::*` runs that same binary on our library,
//! `ferromq::*` compiles against our headers and links libferromq (-DFERROMQ)
//! and runs under valgrind, failing on any leak or invalid access.
//! `ferromq_broker::*` runs the `ferromq` build against our own broker
//! (`ferromq broker`) instead of mosquitto.
//! `examples::*` builds the c-examples the same three ways and runs them.

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::c_programs::Variant;
use support::{CBuild, FerroBroker, LineLog, Mosquitto, Running};

/// The broker a test program talks to.
enum Broker {
    Mosquitto(Mosquitto),
    Ferromq(FerroBroker),
}

impl Broker {
    fn start(ours: bool) -> Broker {
        if ours {
            Broker::Ferromq(FerroBroker::start(env!("CARGO_BIN_EXE_ferromq"), ""))
        } else {
            Broker::Mosquitto(Mosquitto::start())
        }
    }

    fn port(&self) -> u16 {
        match self {
            Broker::Mosquitto(m) => m.port,
            Broker::Ferromq(f) => f.port,
        }
    }

    fn log(&self) -> &LineLog {
        match self {
            Broker::Mosquitto(m) => m.log(),
            Broker::Ferromq(f) => f.log(),
        }
    }

    fn kill(&mut self) {
        match self {
            Broker::Mosquitto(m) => m.kill(),
            Broker::Ferromq(f) => f.kill(),
        }
    }
}

/// Seconds a test program may run before it is killed and the test fails.
const PROGRAM_TIMEOUT_SECS: u64 = 90;

/// Our generated headers.
fn ferromq_include_dir() -> PathBuf {
    support::manifest_dir().join("include")
}

/// A C program built for one variant, with what it needs to run.
struct Built {
    exe: PathBuf,
    variant: Variant,
    /// Paho's library names → ours, for `PahoBinaryOnFerromq`.
    names_dir: Option<tempfile::TempDir>,
    /// Run under valgrind's memcheck (see [`support::valgrind`]).
    valgrind: bool,
    _work: tempfile::TempDir,
}

impl Built {
    /// A command running this program with the library the variant asks for.
    fn command(&self) -> Command {
        let mut cmd = if self.valgrind {
            support::valgrind::command(&self.exe)
        } else {
            Command::new(&self.exe)
        };
        // cargo puts target/<profile> on LD_LIBRARY_PATH; the reference run
        // must load Debian's library only, the swapped run ours only (and
        // the FerroMQ build finds libferromq through its run path).
        cmd.env_remove("LD_LIBRARY_PATH");
        if let Some(dir) = &self.names_dir {
            cmd.env("LD_LIBRARY_PATH", dir.path());
        }
        cmd
    }
}

/// Build `sources` (plus tests/c/ on the include path) for `variant`, or
/// None (after printing SKIP) when a peer it needs is not installed.
fn build_for(name: &str, sources: Vec<PathBuf>, variant: Variant) -> Option<Built> {
    if !Mosquitto::available() {
        support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return None;
    }
    let paho_headers = std::path::Path::new(support::PAHO_HEADER).exists();
    if variant != Variant::Ferromq && !paho_headers {
        support::skip("Paho C headers are not installed (libpaho-mqtt-dev)");
        return None;
    }
    let mut build = CBuild {
        sources,
        include_dirs: vec![support::manifest_dir().join("tests").join("c")],
        ..CBuild::default()
    };
    match variant {
        Variant::Paho | Variant::PahoBinaryOnFerromq => {
            build.libs.push("paho-mqtt3c".into());
        }
        Variant::Ferromq => {
            // include/ is committed: a FerroMQ build never falls back to
            // Paho's headers, which would test their layouts, not ours.
            let include = ferromq_include_dir();
            assert!(
                include.join("MQTTClient.h").exists(),
                "include/MQTTClient.h missing"
            );
            build.include_dirs.insert(0, include);
            build.defines.push("FERROMQ".into());
            build.lib_dirs.push(support::ferromq_lib_dir());
            build.libs.push("ferromq".into());
        }
    }
    if variant != Variant::Paho {
        let lib = support::ferromq_lib();
        assert!(
            lib.exists(),
            "{} is missing (cargo builds it)",
            lib.display()
        );
    }
    let work = tempfile::tempdir().expect("tempdir");
    let exe = work.path().join(name);
    build.build(&exe);
    let names_dir = (variant == Variant::PahoBinaryOnFerromq).then(support::paho_names_dir);
    Some(Built {
        exe,
        variant,
        names_dir,
        valgrind: false,
        _work: work,
    })
}

/// Wait for a program and fail the test, with all the output, unless it
/// exited 0. Returns its stdout.
fn expect_success(name: &str, built: &Built, running: Running, broker: &Broker) -> String {
    let (status, stdout, stderr) = running.finish();
    if built.valgrind {
        support::valgrind::check(name, &status, &stderr);
    }
    assert!(
        status.success(),
        "{name} ({:?}) failed: {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n\
         --- broker log\n{}",
        built.variant,
        broker.log().text()
    );
    stdout
}

/// Build tests/c/NAME.c and run it against its own mosquitto.
fn run_program(name: &str, variant: Variant) {
    run_program_on(name, variant, false);
}

/// Build tests/c/NAME.c and run it against its own broker: ours when
/// `our_broker`, else mosquitto. The FerroMQ build against mosquitto runs
/// under valgrind (once per program is enough: the run against our broker
/// exercises the same client code).
fn run_program_on(name: &str, variant: Variant, our_broker: bool) {
    let source = support::manifest_dir()
        .join("tests")
        .join("c")
        .join(format!("{name}.c"));
    let Some(mut built) = build_for(name, vec![source], variant) else {
        return;
    };
    // Not fork_after_connect: its children deliberately never free what
    // they inherited from the parent (the parent's reactor thread, whose
    // stack held those pointers, does not exist in a child), which memcheck
    // reports as lost in every child. It runs natively on both brokers.
    built.valgrind = variant == Variant::Ferromq && !our_broker && name != "fork_after_connect";
    let mut broker = Broker::start(our_broker);
    let mut cmd = built.command();
    cmd.arg("127.0.0.1").arg(broker.port().to_string());
    let mut running = Running::spawn(cmd, PROGRAM_TIMEOUT_SECS);
    if name == "conn_lost" {
        // The program says when it is connected; then the broker goes away.
        running.expect_line("KILL_BROKER");
        broker.kill();
    }
    let stdout = expect_success(name, &built, running, &broker);
    print!("{stdout}");
}

/// The c-examples work as their comments say: sub_receive gets what
/// pub_sync, pub5_properties and callback_client publish.
fn run_examples(variant: Variant) {
    let dir = support::manifest_dir().join("c-examples");
    let mut built = Vec::new();
    for name in [
        "sub_receive",
        "pub_sync",
        "pub5_properties",
        "callback_client",
    ] {
        match build_for(name, vec![dir.join(format!("{name}.c"))], variant) {
            Some(b) => built.push((name, b)),
            None => return,
        }
    }
    let broker = Broker::start(false);
    let uri = format!("tcp://127.0.0.1:{}", broker.port());
    let (sub_name, sub_built) = &built[0];
    let mut sub_cmd = sub_built.command();
    sub_cmd.args([uri.as_str(), "ferromq/#", "3"]);
    let mut sub = Running::spawn(sub_cmd, PROGRAM_TIMEOUT_SECS);
    sub.expect_line("subscribed to ferromq/#");
    for (name, b) in &built[1..] {
        let mut cmd = b.command();
        cmd.arg(&uri);
        let running = Running::spawn(cmd, PROGRAM_TIMEOUT_SECS);
        expect_success(name, b, running, &broker);
    }
    let out = expect_success(sub_name, sub_built, sub, &broker);
    let want = [
        "ferromq/example: hello from pub_sync",
        "ferromq/v5: {\"temperature\": 21.5}",
        "ferromq/callback: ping!",
    ];
    let got: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(got, want, "sub_receive output:\n{out}");
}

mod examples {
    use super::{Variant, run_examples};

    #[test]
    fn on_paho() {
        run_examples(Variant::Paho);
    }

    #[test]
    fn paho_binaries_on_ferromq() {
        run_examples(Variant::PahoBinaryOnFerromq);
    }

    #[test]
    fn on_ferromq() {
        run_examples(Variant::Ferromq);
    }
}

c_program_tests!(
    ferromq_broker;
    pubsub_receive,
    pubsub_callback,
    retained,
    will,
    errors,
    mqtt5,
    conn_lost,
    persist_user,
);

/// fork() after connecting (FerroMQ only: Paho's child shares the parent's
/// socket): a child's inherited handle fails cleanly, its own client
/// publishes at QoS 1, another child vanishes with a will, and the parent
/// receives both on its untouched connection.
mod fork {
    use super::{Variant, run_program_on};

    #[test]
    fn fork_after_connect_on_ferromq_broker() {
        run_program_on("fork_after_connect", Variant::Ferromq, true);
    }

    #[test]
    fn fork_after_connect_on_mosquitto() {
        run_program_on("fork_after_connect", Variant::Ferromq, false);
    }
}
