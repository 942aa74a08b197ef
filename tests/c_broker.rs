//! Builds the broker's C API tests (tests/c/broker_*.c) against our headers
//! and libferromq and runs each: they embed the broker, exercise every
//! callback (with refusals) through the MQTTClient API, and check bad input.

mod support;

use std::process::Command;

use support::{CBuild, Running};

/// Seconds a test program may run before it is killed and the test fails.
const PROGRAM_TIMEOUT_SECS: u64 = 90;

fn run_program(name: &str) {
    let root = support::manifest_dir();
    let c_dir = root.join("tests").join("c");
    let lib = support::ferromq_lib();
    assert!(
        lib.exists(),
        "{} is missing (cargo builds it)",
        lib.display()
    );
    let build = CBuild {
        sources: vec![c_dir.join(format!("{name}.c"))],
        include_dirs: vec![root.join("include"), c_dir],
        defines: vec!["FERROMQ".into()],
        lib_dirs: vec![support::ferromq_lib_dir()],
        libs: vec!["ferromq".into()],
    };
    let work = tempfile::tempdir().expect("tempdir");
    let exe = work.path().join(name);
    build.build(&exe);
    let mut cmd = Command::new(&exe);
    cmd.env_remove("LD_LIBRARY_PATH");
    let (status, stdout, stderr) = Running::spawn(cmd, PROGRAM_TIMEOUT_SECS).finish();
    assert!(
        status.success(),
        "{name} failed: {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    print!("{stdout}");
}

/// Every callback, its refusals, injection, stop and restart.
#[test]
fn broker_callbacks() {
    run_program("broker_callbacks");
}

/// Bad input and wrong-state calls get their MQTTBROKER_* codes.
#[test]
fn broker_errors() {
    run_program("broker_errors");
}
