//! Builds every C test program in tests/c/ (MQTTClient API only) three ways and
//! runs each against its own mosquitto: `paho::*` is the reference (Debian's
//! Paho C), `paho_binary_on_ferromq::*` runs that same binary on our library,
//! `ferromq::*` compiles against our headers and links libferromq (-DFERROMQ).

mod support;

use std::path::PathBuf;
use std::process::Command;

use support::{CBuild, Mosquitto, Running};

/// How a test program is built and run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    /// Paho headers, linked to and run on Debian's libpaho-mqtt3c.
    Paho,
    /// The Paho-built binary run on our library via LD_LIBRARY_PATH.
    PahoBinaryOnFerromq,
    /// Our headers, linked to libferromq, with -DFERROMQ.
    Ferromq,
}

/// Seconds a test program may run before it is killed and the test fails.
const PROGRAM_TIMEOUT_SECS: u64 = 90;

/// Our generated headers, or None when they are not there yet.
fn ferromq_include_dir() -> Option<PathBuf> {
    let dir = support::manifest_dir().join("include");
    dir.join("MQTTClient.h").exists().then_some(dir)
}

fn run_program(name: &str, variant: Variant) {
    if !Mosquitto::available() {
        support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return;
    }
    let paho_headers = std::path::Path::new(support::PAHO_HEADER).exists();
    if variant != Variant::Ferromq && !paho_headers {
        support::skip("Paho C headers are not installed (libpaho-mqtt-dev)");
        return;
    }

    let c_dir = support::manifest_dir().join("tests").join("c");
    let mut build = CBuild {
        sources: vec![c_dir.join(format!("{name}.c"))],
        include_dirs: vec![c_dir],
        ..CBuild::default()
    };
    match variant {
        Variant::Paho | Variant::PahoBinaryOnFerromq => {
            build.libs.push("paho-mqtt3c".into());
        }
        Variant::Ferromq => {
            match ferromq_include_dir() {
                Some(dir) => build.include_dirs.insert(0, dir),
                None if paho_headers => {
                    println!("note: include/MQTTClient.h not generated yet; using Paho's headers")
                }
                None => {
                    support::skip("neither include/MQTTClient.h nor Paho's headers exist");
                    return;
                }
            }
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

    let mut broker = Mosquitto::start();
    let mut cmd = Command::new(&exe);
    cmd.arg("127.0.0.1").arg(broker.port.to_string());
    // Kept alive until the program has finished.
    // cargo puts target/<profile> on LD_LIBRARY_PATH; the reference run must
    // load Debian's library only, the swapped run ours only.
    cmd.env_remove("LD_LIBRARY_PATH");
    let names_dir = (variant == Variant::PahoBinaryOnFerromq).then(support::paho_names_dir);
    if let Some(dir) = &names_dir {
        cmd.env("LD_LIBRARY_PATH", dir.path());
    }
    let mut running = Running::spawn(cmd, PROGRAM_TIMEOUT_SECS);
    if name == "conn_lost" {
        // The program says when it is connected; then the broker goes away.
        running.expect_line("KILL_BROKER");
        broker.kill();
    }
    let (status, stdout, stderr) = running.finish();
    assert!(
        status.success(),
        "{name} ({variant:?}) failed: {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n\
         --- mosquitto log\n{}",
        broker.log().text()
    );
    print!("{stdout}");
}

macro_rules! c_tests {
    ($($name:ident),* $(,)?) => {
        /// Reference: Paho headers and Debian's Paho library.
        mod paho {
            $(#[test]
            fn $name() {
                super::run_program(stringify!($name), super::Variant::Paho);
            })*
        }
        /// The Paho-built binaries, run on our library under Paho's names.
        mod paho_binary_on_ferromq {
            $(#[test]
            fn $name() {
                super::run_program(stringify!($name), super::Variant::PahoBinaryOnFerromq);
            })*
        }
        /// Built against our headers and library, FerroMQ-only checks on.
        mod ferromq {
            $(#[test]
            fn $name() {
                super::run_program(stringify!($name), super::Variant::Ferromq);
            })*
        }
    };
}

c_tests!(
    pubsub_receive,
    pubsub_callback,
    retained,
    will,
    errors,
    mqtt5,
    conn_lost,
);
