//! A small Paho C++ program (tests/cpp/pubsub.cpp, built against Debian's
//! libpaho-mqttpp-dev) publishing and subscribing at QoS 0/1/2 with MQTT
//! 3.1.1 and 5: `debian_paho::*` on Paho C's own libpaho-mqtt3as, and
//! `on_ferromq::*` with libpaho-mqttpp3 loading our library in its place.

mod support;

use std::path::Path;
use std::process::Command;

use support::{Mosquitto, Running};

const PAHO_CPP_HEADER: &str = "/usr/include/mqtt/async_client.h";

/// Build the program with the C++ compiler cargo would use; false if the
/// Paho C++ development files are missing.
fn build(exe: &Path) -> bool {
    if !Path::new(PAHO_CPP_HEADER).exists() {
        support::skip("Paho C++ is not installed (libpaho-mqttpp-dev)");
        return false;
    }
    let default = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let target = std::env::var("TARGET").unwrap_or_else(|_| default.clone());
    let host = std::env::var("HOST").unwrap_or(default);
    let mut cmd = cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .cpp(true)
        .opt_level(1)
        .debug(false)
        .target(&target)
        .host(&host)
        .get_compiler()
        .to_command();
    cmd.args(["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pthread"])
        .arg(support::manifest_dir().join("tests/cpp/pubsub.cpp"))
        .arg("-o")
        .arg(exe)
        .args(["-lpaho-mqttpp3", "-lpaho-mqtt3as"]);
    let out = cmd.output().expect("run the C++ compiler");
    assert!(
        out.status.success(),
        "C++ build failed: {cmd:?}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

fn run(version: &str, on_ferromq: bool) {
    if !Mosquitto::available() {
        support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let exe = work.path().join("pubsub");
    if !build(&exe) {
        return;
    }
    let names = on_ferromq.then(|| {
        assert!(support::ferromq_lib().exists(), "libferromq.so is missing");
        support::paho_names_dir()
    });
    let broker = Mosquitto::start();
    let mut cmd = Command::new(&exe);
    cmd.args(["127.0.0.1", &broker.port.to_string(), version]);
    cmd.env_remove("LD_LIBRARY_PATH");
    if let Some(dir) = &names {
        cmd.env("LD_LIBRARY_PATH", dir.path());
    }
    let (status, stdout, stderr) = Running::spawn(cmd, 60).finish();
    assert!(
        status.success(),
        "Paho C++ program (MQTT {version}, on_ferromq={on_ferromq}) failed: {status}\n\
         --- stdout\n{stdout}\n--- stderr\n{stderr}\n--- mosquitto log\n{}",
        broker.log().text()
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
    let protocol = if version == "5" { "(p5," } else { "(p2," };
    assert!(
        broker.log().text().contains(protocol),
        "the program did not connect with MQTT {version}"
    );
}

/// Reference: Paho C++ on Debian's Paho C.
mod debian_paho {
    #[test]
    fn mqtt311() {
        super::run("311", false);
    }
    #[test]
    fn mqtt5() {
        super::run("5", false);
    }
}

/// Paho C++ on our library (loaded under libpaho-mqtt3as.so.1).
mod on_ferromq {
    #[test]
    fn mqtt311() {
        super::run("311", true);
    }
    #[test]
    fn mqtt5() {
        super::run("5", true);
    }
}
