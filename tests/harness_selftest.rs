//! Checks of the shared test helpers themselves: the timeout really kills a
//! hung child, and the mosquitto guard really starts and stops a broker.

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
