//! Runs the Python package's pytest suite (python/tests) on the library this
//! `cargo test` built, so the README's single test command covers it. The
//! interpreter is `$FERROMQ_PYTHON` or `python3`; pytest and paho-mqtt 2.x come
//! from its site-packages or from the directories .ci/run installs them into.

mod support;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use support::Running;

/// Seconds the whole pytest run may take before it is killed and the test fails.
const SUITE_TIMEOUT_SECS: u64 = 900;

fn python() -> String {
    std::env::var("FERROMQ_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// A directory from `var`, or `default` under the crate root, if it exists.
fn pip_target(var: &str, default: &str) -> Option<PathBuf> {
    let dir = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| support::manifest_dir().join(default));
    dir.is_dir().then_some(dir)
}

/// PYTHONPATH: .ci/run's `pip install --target` directories (pytest; PyPI's
/// paho-mqtt 2.x, shared with tests/broker_python.rs), then the caller's.
fn pythonpath() -> OsString {
    let mut parts: Vec<PathBuf> = [
        pip_target("FERROMQ_PYTEST_DIR", "target/python-pytest"),
        pip_target("FERROMQ_PAHO2_DIR", "target/python-paho2"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let Some(old) = std::env::var_os("PYTHONPATH") {
        parts.extend(std::env::split_paths(&old));
    }
    std::env::join_paths(parts).unwrap_or_default()
}

/// True when `python -c "import pytest"` works.
fn has_pytest(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import pytest"])
        .env("PYTHONPATH", pythonpath())
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
    .env("PYTHONPATH", pythonpath())
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
    // python/tests/conftest.py already turns skips into failures under
    // CI=true; this also catches a skip that bypassed it.
    if support::ci_mode() {
        let skipped = summary_count(&stdout, "skipped");
        assert_eq!(
            skipped, 0,
            "pytest skipped {skipped} test(s) under CI=true:\n{stdout}"
        );
    }
}

/// The number pytest's summary gives before `word` ("3 skipped" -> 3), 0 when
/// the summary does not mention it.
fn summary_count(stdout: &str, word: &str) -> u64 {
    stdout
        .lines()
        .flat_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            (1..words.len())
                .filter(|&i| words[i].trim_end_matches(',').starts_with(word))
                .filter_map(|i| words[i - 1].parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

#[test]
fn summary_count_reads_pytest_summaries() {
    let out = "....s.\nSKIPPED [2] tests/x.py:3: no peer\n5 passed, 2 skipped in 1.00s\n";
    assert_eq!(summary_count(out, "skipped"), 2);
    assert_eq!(summary_count(out, "passed"), 5);
    assert_eq!(summary_count("7 passed in 3.1s", "skipped"), 0);
    assert_eq!(
        summary_count("== 1 failed, 3 passed, 1 skipped in 2s ==", "skipped"),
        1
    );
}
