//! Builds the broker's C API tests (tests/c/broker_*.c) against our headers
//! and libferromq and runs each: they embed the broker, exercise every
//! callback (with refusals) through the MQTTClient API, and check bad input;
//! c-examples/broker_embed.c is built and run the same way. Every program
//! runs under valgrind, which fails it on any leak or invalid access.

mod support;

use support::{CBuild, Running};

/// Seconds a test program may run before it is killed and the test fails.
const PROGRAM_TIMEOUT_SECS: u64 = 90;

/// Build `dir/name.c` against include/ and libferromq, run it under
/// valgrind, and return its stdout once it has exited successfully.
fn run_program_in(dir: &str, name: &str) -> String {
    let root = support::manifest_dir();
    let c_dir = root.join("tests").join("c");
    let src_dir = root.join(dir);
    let lib = support::ferromq_lib();
    assert!(
        lib.exists(),
        "{} is missing (cargo builds it)",
        lib.display()
    );
    let build = CBuild {
        sources: vec![src_dir.join(format!("{name}.c"))],
        include_dirs: vec![root.join("include"), c_dir],
        defines: vec!["FERROMQ".into()],
        lib_dirs: vec![support::ferromq_lib_dir()],
        libs: vec!["ferromq".into()],
    };
    let work = tempfile::tempdir().expect("tempdir");
    let exe = work.path().join(name);
    build.build(&exe);
    let mut cmd = support::valgrind::command(&exe);
    cmd.env_remove("LD_LIBRARY_PATH");
    let (status, stdout, stderr) = Running::spawn(cmd, PROGRAM_TIMEOUT_SECS).finish();
    support::valgrind::check(name, &status, &stderr);
    assert!(
        status.success(),
        "{name} failed: {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    print!("{stdout}");
    stdout
}

fn run_program(name: &str) {
    run_program_in("tests/c", name);
}

/// Every callback, its refusals, injection, stop and restart.
#[test]
fn broker_callbacks() {
    run_program("broker_callbacks");
}

/// The version 1 callbacks (unsubscribe, delivery check, enhanced
/// authentication), the version 1 client info and MQTTBroker_disconnectClient.
#[test]
fn broker_hooks() {
    run_program("broker_hooks");
}

/// Bad input and wrong-state calls get their MQTTBROKER_* codes.
#[test]
fn broker_errors() {
    run_program("broker_errors");
}

/// The example does what its comments say: one refused client, one refused
/// subscription, one refused publish, and both messages delivered.
#[test]
fn broker_embed_example() {
    let out = run_program_in("c-examples", "broker_embed");
    for line in [
        "[client] intruder-1: MQTTClient_connect returned 5",
        "[client] app: MQTTClient_connect returned 0",
        "[client] subscribe secret/#: 128",
        "[broker] publish from \"app\": readonly/config = \"bad\" (qos 1)",
        "[client] received sensors/temperature = \"21.5\"",
        "[client] received sensors/status = \"hello from the host program\"",
        "example done",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(line)),
            "missing {line:?} in:\n{out}"
        );
    }
    let refused = out.lines().filter(|l| l.contains("refused")).count();
    assert_eq!(refused, 4, "three refusals and the 0x80 note:\n{out}");
}
