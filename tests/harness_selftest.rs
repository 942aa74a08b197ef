//! Checks of the shared test helpers themselves: the timeout really kills a
//! hung child, the mosquitto guard really starts and stops a broker, a skip
//! fails the test under `CI=true`, and valgrind fails a leak.

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

/// Build `source` (a C program) in `dir` and run it the way the C test
/// programs on our library run: under valgrind. None when valgrind is
/// missing (after a SKIP line, which fails the test under CI=true).
fn run_c_under_valgrind(dir: &std::path::Path, source: &str) -> Option<std::process::Output> {
    if !support::valgrind::available() {
        support::skip("valgrind is not installed (apt-get install valgrind)");
        return None;
    }
    let src = dir.join("probe.c");
    std::fs::write(&src, source).expect("write probe.c");
    let exe = dir.join("probe");
    support::CBuild {
        sources: vec![src],
        ..support::CBuild::default()
    }
    .build(&exe);
    Some(support::run_with_timeout(
        support::valgrind::command(&exe),
        60,
    ))
}

/// The memcheck wiring really fails a leak and an invalid read, and passes a
/// clean program (so the C tests' clean runs mean something).
#[test]
fn valgrind_fails_a_leak_and_a_bad_read_and_passes_a_clean_program() {
    let dir = tempfile::tempdir().expect("tempdir");
    let leak = r#"
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    char *volatile p = malloc(64);
    p[0] = 'x';
    printf("%c\n", p[0]);
    p = NULL;
    return 0;
}
"#;
    let Some(out) = run_c_under_valgrind(dir.path(), leak) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(support::valgrind::ERROR_EXIT_CODE),
        "a definite leak passed:\n{stderr}"
    );
    assert!(stderr.contains("definitely lost"), "{stderr}");

    let bad_read = r#"
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    (void)argv;
    char *p = malloc(8);
    p[0] = 'y';
    int i = 7 + argc; /* one past the end: argc is 1 */
    printf("%d\n", p[i] == 'y');
    free(p);
    return 0;
}
"#;
    let out = run_c_under_valgrind(dir.path(), bad_read).expect("valgrind ran above");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(support::valgrind::ERROR_EXIT_CODE),
        "an invalid read passed:\n{stderr}"
    );
    assert!(stderr.contains("Invalid read"), "{stderr}");

    let clean = r#"
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    char *p = malloc(16);
    p[0] = 'z';
    printf("%c\n", p[0]);
    free(p);
    return 0;
}
"#;
    let out = run_c_under_valgrind(dir.path(), clean).expect("valgrind ran above");
    assert!(
        out.status.success(),
        "a clean program failed under valgrind:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "z");
}
