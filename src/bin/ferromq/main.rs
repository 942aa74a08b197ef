//! The `ferromq` command: `broker` (the default with no arguments), `passwd`
//! (a mosquitto password file), `bench` (a load generator for measuring
//! brokers side by side) and `bench-chart`. The last two are the
//! `ferromq-bench` binary (bench/ferromq-bench), built next to this one, so
//! their dependencies stay out of the library.

mod broker_cmd;
mod log;
mod passwd;

/// The load generator's options are its own (`ferromq bench --help`).
const BENCH_USAGE: &str = "usage: ferromq bench --port P [--mode fanin|fanout|p2p|idle] [OPTIONS]\n\
     \x20 (ferromq bench --help lists every option)";

fn help() -> String {
    format!(
        "usage: ferromq [COMMAND] [OPTIONS]\n\n\
         commands:\n\
         \x20 broker       run the MQTT broker (the default)\n\
         \x20 passwd       manage a password file as mosquitto_passwd does\n\
         \x20 bench        load generator: measure a broker\n\
         \x20 bench-chart  draw a bench results file as a PNG\n\
         \x20 help         this text\n\n{}\n\n{}\n\n{}\n\n\
         usage: ferromq bench-chart RESULTS.json OUT.png",
        broker_cmd::usage(),
        passwd::usage(),
        BENCH_USAGE
    )
}

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.first().map(String::as_str) {
        None => ("broker", &args[..]),
        Some("-h" | "--help") => ("help", &args[..]),
        Some(c) if c.starts_with('-') => ("broker", &args[..]),
        Some(c) => (c, &args[1..]),
    };
    let result = match cmd {
        "bench" => exec_bench(None, rest),
        "bench-chart" => exec_bench(Some("chart"), rest),
        "broker" => broker_cmd::run(rest),
        "passwd" => passwd::run(rest),
        "help" => {
            println!("{}", help());
            Ok(())
        }
        other => Err(format!(
            "ferromq: unknown command '{other}' (try 'ferromq help')"
        )),
    };
    if let Err(e) = result {
        eprintln!("{e}");
        std::process::exit(2);
    }
}

/// `ferromq-bench` in the directory this executable is in.
fn bench_path() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("ferromq: own path: {e}"))?;
    Ok(exe.with_file_name("ferromq-bench"))
}

/// Replace this process with `ferromq-bench [sub] ARGS` (same pid, CPU
/// affinity, stdio and exit status, which bench/run_all.py relies on).
/// Returns only if the exec failed.
fn exec_bench(sub: Option<&str>, rest: &[String]) -> Result<(), String> {
    let path = bench_path()?;
    let err = Command::new(&path).args(sub).args(rest).exec();
    Err(format!(
        "ferromq: cannot run {}: {err}\n(the load generator is built from \
         bench/ferromq-bench by `cargo build --release` at the repository root)",
        path.display()
    ))
}
