//! Checks of the shared test helpers themselves: the timeout really kills a
//! hung child, the mosquitto guard really starts and stops a broker, and a
//! skip fails the test under `CI=true`.

mod support;

use std::net::TcpStream;
use std::process::Command;

#[test]
fn run_with_timeout_returns_the_output_of_a_finished_child() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
    let out = support::run_with_timeout(cmd, 10);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err");
}

#[test]
#[should_panic(expected = "timed out")]
fn run_with_timeout_kills_a_hung_child() {
    let mut cmd = Command::new("sleep");
    cmd.arg("60");
    support::run_with_timeout(cmd, 1);
}

#[test]
fn mosquitto_guard_listens_then_stops_on_drop() {
    if !support::Mosquitto::available() {
        support::skip("mosquitto is not installed");
        return;
    }
    let broker = support::Mosquitto::start();
    let addr = ("127.0.0.1", broker.port);
    TcpStream::connect(addr).expect("mosquitto accepts connections");
    drop(broker);
    assert!(
        TcpStream::connect(addr).is_err(),
        "the port still accepts connections after the guard was dropped"
    );
}

#[test]
fn paho_names_point_at_our_library() {
    let dir = support::paho_names_dir();
    for name in support::PAHO_LIB_NAMES {
        let target = std::fs::read_link(dir.path().join(name)).expect("symlink");
        assert_eq!(target, support::ferromq_lib());
    }
}

/// Not a check by itself: the body of `skip_fails_under_ci_and_only_there`,
/// which runs this test binary again with only this test selected. Does
/// nothing unless that child run asks for it.
#[test]
fn skip_probe() {
    if std::env::var_os("FERROMQ_SKIP_PROBE").is_some() {
        support::skip("probe peer is not installed");
        println!("returned after skip");
    }
}

/// This binary again, running only `skip_probe`, with `CI` set to `ci`
/// (removed when None).
fn run_skip_probe(ci: Option<&str>) -> std::process::Output {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", "skip_probe", "--nocapture", "--test-threads=1"])
        .env("FERROMQ_SKIP_PROBE", "1");
    match ci {
        Some(v) => cmd.env("CI", v),
        None => cmd.env_remove("CI"),
    };
    support::run_with_timeout(cmd, 60)
}

#[test]
fn skip_fails_under_ci_and_only_there() {
    let out = run_skip_probe(Some("true"));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        !out.status.success(),
        "a skip passed under CI=true\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains("SKIP under CI=true is a failure: probe peer is not installed"),
        "the failure does not give the reason\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(!stdout.contains("returned after skip"), "{stdout}");

    let out = run_skip_probe(None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "a skip failed outside CI\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("SKIP: probe peer is not installed"),
        "{stdout}"
    );
    assert!(stdout.contains("returned after skip"), "{stdout}");
    assert!(
        stdout.contains("1 passed"),
        "the probe did not run:\n{stdout}"
    );
}

#[test]
fn ci_values_that_turn_ci_mode_on() {
    for on in ["true", "TRUE", "True", "1", "yes", " true\n"] {
        assert!(support::ci_value_is_on(on), "{on:?}");
    }
    for off in ["", "false", "0", "no", "ture"] {
        assert!(!support::ci_value_is_on(off), "{off:?}");
    }
}
