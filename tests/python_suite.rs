//! Runs the Python package's pytest suite (python/tests) on the library this
//! `cargo test` built, so the README's single test command covers it. The
//! interpreter is `$FERROMQ_PYTHON` or `python3`; it needs pytest (CI installs it).

mod support;

use std::process::Command;

use support::Running;

/// Seconds the whole pytest run may take before it is killed and the test fails.
const SUITE_TIMEOUT_SECS: u64 = 900;

fn python() -> String {
    std::env::var("FERROMQ_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// True when `python -c "import pytest"` works.
fn has_pytest(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import pytest"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn pytest_suite_passes_on_our_library() {
    let python = python();
    if !has_pytest(&python) {
        support::skip(&format!(
            "{python} has no pytest (pip install pytest 'paho-mqtt>=2', or set FERROMQ_PYTHON)"
        ));
        return;
    }
    let lib = support::ferromq_lib();
    assert!(
        lib.exists(),
        "{} was not built (`cargo build` first; `make test` does)",
        lib.display()
    );
    let dir = support::manifest_dir().join("python");
    let mut cmd = Command::new(&python);
    cmd.args([
        "-m",
        "pytest",
        "-q",
        "-rs",
        "-p",
        "no:cacheprovider",
        "tests",
    ])
    .current_dir(&dir)
    .env("FERROMQ_LIB", &lib)
    .env("PYTHONDONTWRITEBYTECODE", "1")
    .env_remove("FERROMQ_BROKER_LIB");
    let run = Running::spawn(cmd, SUITE_TIMEOUT_SECS);
    let (status, stdout, stderr) = run.finish();
    println!("{stdout}");
    eprintln!("{stderr}");
    // pytest exits 5 when it collected nothing: that is a failure here too.
    assert!(status.success(), "pytest failed ({status})");
    assert!(
        stdout.contains(" passed"),
        "pytest ran no passing test:\n{stdout}"
    );
}
