//! Running a C test program under valgrind's memcheck, so that a leak or an
//! invalid access in libferromq fails the test that exercised it.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

/// The exit code valgrind gives when it found an error (chosen so that it
/// cannot be confused with a test program's own exit codes, 0-2).
pub const ERROR_EXIT_CODE: i32 = 97;

/// tests/valgrind.supp: suppressions for what lies outside our library.
pub fn suppressions() -> PathBuf {
    super::manifest_dir().join("tests").join("valgrind.supp")
}

/// True when `valgrind --version` runs.
pub fn available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A command running `exe` under memcheck: any invalid read or write, use
/// of uninitialised memory, bad free, or a block definitely or indirectly
/// lost at exit makes it exit with [`ERROR_EXIT_CODE`]. Blocks still
/// reachable or only possibly lost (Rust's thread handles and thread-locals
/// of threads still running at exit) are not errors. Valgrind writes its
/// report to stderr; the program's stdout is untouched.
///
/// Without valgrind the program runs alone, after a SKIP line for the
/// memory check (a failure under `CI=true`, see [`super::skip`]).
pub fn command(exe: &Path) -> Command {
    if !available() {
        super::skip(&format!(
            "valgrind is not installed: {} runs without the memory check (apt-get install valgrind)",
            exe.display()
        ));
        return Command::new(exe);
    }
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--tool=memcheck",
        "--quiet",
        &format!("--error-exitcode={ERROR_EXIT_CODE}"),
        "--leak-check=full",
        "--show-leak-kinds=definite,indirect",
        "--errors-for-leak-kinds=definite,indirect",
        "--num-callers=40",
    ])
    .arg(format!("--suppressions={}", suppressions().display()))
    .arg(exe);
    cmd
}

/// Fail with valgrind's report when `status` is valgrind's error exit.
/// Call before checking the program's own result, so that the failure
/// says what it is.
pub fn check(name: &str, status: &ExitStatus, stderr: &str) {
    assert_ne!(
        status.code(),
        Some(ERROR_EXIT_CODE),
        "valgrind found memory errors or leaks running {name}:\n{stderr}"
    );
}
