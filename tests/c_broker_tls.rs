//! tests/c/broker_tls.c: the broker's TLS and WebSocket listener options
//! from C (MQTTBroker_listenerOptions, MQTTBroker_reloadCertificates),
//! served to our MQTTClient over ssl:// and wss://, under valgrind. As in
//! tests/c_tls.rs, uninitialised-value tracking is off: ring's assembly
//! makes memcheck report its digests and records as undefined; leaks and
//! invalid accesses still fail the test.

mod support;

use support::{CBuild, Running};

#[test]
fn broker_tls_from_c() {
    let root = support::manifest_dir();
    let certs = support::tls::make_certs();
    let build = CBuild {
        sources: vec![root.join("tests/c/broker_tls.c")],
        include_dirs: vec![root.join("include"), root.join("tests/c")],
        defines: vec!["FERROMQ".into()],
        lib_dirs: vec![support::ferromq_lib_dir()],
        libs: vec!["ferromq".into()],
    };
    let work = tempfile::tempdir().expect("tempdir");
    let exe = work.path().join("broker_tls");
    build.build(&exe);
    let mut cmd = if support::valgrind::available() {
        let mut cmd = std::process::Command::new("valgrind");
        cmd.args([
            "--tool=memcheck",
            "--quiet",
            "--undef-value-errors=no",
            &format!("--error-exitcode={}", support::valgrind::ERROR_EXIT_CODE),
            "--leak-check=full",
            "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect",
        ])
        .arg(format!(
            "--suppressions={}",
            support::valgrind::suppressions().display()
        ))
        .arg(&exe);
        cmd
    } else {
        support::valgrind::command(&exe)
    };
    cmd.env_remove("LD_LIBRARY_PATH")
        .env("FERROMQ_CERTS", certs.dir.path());
    let (status, stdout, stderr) = Running::spawn(cmd, 120).finish();
    support::valgrind::check("broker_tls", &status, &stderr);
    assert!(
        status.success(),
        "broker_tls failed: {status}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    for line in [
        "bad listener options refused",
        "round trip over ssl://",
        "round trip over wss://",
        "broker_tls done",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}
