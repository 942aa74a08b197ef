//! `ferromq broker` against Python paho-mqtt as the client: Debian's 1.6
//! (python3-paho-mqtt) and PyPI's 2.x (installed by .ci/run into a target
//! directory), each running tests/python/broker_peer.py against a fresh broker.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::FerroBroker;

const PYTHON: &str = "/usr/bin/python3";

/// Where .ci/run installs paho-mqtt 2.x (`pip install --target`); the
/// FERROMQ_PAHO2_DIR environment variable overrides it.
fn paho2_dir() -> PathBuf {
    std::env::var_os("FERROMQ_PAHO2_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::manifest_dir().join("target/python-paho2"))
}

/// The paho-mqtt major version importable with this PYTHONPATH, if any.
fn paho_major(pythonpath: Option<&Path>) -> Option<u32> {
    let mut cmd = Command::new(PYTHON);
    cmd.args(["-c", "import paho.mqtt; print(paho.mqtt.__version__)"]);
    if let Some(p) = pythonpath {
        cmd.env("PYTHONPATH", p);
    }
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .split('.')
        .next()?
        .parse()
        .ok()
}

fn run_peer(pythonpath: Option<&Path>) {
    let b = FerroBroker::start(env!("CARGO_BIN_EXE_ferromq"), "");
    let script = support::manifest_dir().join("tests/python/broker_peer.py");
    let mut cmd = Command::new(PYTHON);
    cmd.arg(&script).arg(b.port.to_string());
    cmd.env_remove("PYTHONPATH");
    if let Some(p) = pythonpath {
        cmd.env("PYTHONPATH", p);
    }
    let out = support::run_with_timeout(cmd, 120);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("ALL OK"),
        "broker_peer.py failed\nstdout:\n{stdout}\nstderr:\n{}\nbroker log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        b.log().text()
    );
    print!("{stdout}");
}

#[test]
fn debian_paho_mqtt_1_6() {
    if !Path::new(PYTHON).exists() {
        return support::skip("no /usr/bin/python3");
    }
    match paho_major(None) {
        Some(1) => run_peer(None),
        other => support::skip(&format!(
            "Debian's python3-paho-mqtt 1.x not importable (found major {other:?})"
        )),
    }
}

#[test]
fn pypi_paho_mqtt_2() {
    if !Path::new(PYTHON).exists() {
        return support::skip("no /usr/bin/python3");
    }
    let dir = paho2_dir();
    match paho_major(Some(&dir)) {
        Some(v) if v >= 2 => run_peer(Some(&dir)),
        other => support::skip(&format!(
            "paho-mqtt>=2 not importable from {} (found major {other:?}); \
             install with: python3 -m pip install --target {} 'paho-mqtt>=2'",
            dir.display(),
            dir.display()
        )),
    }
}
