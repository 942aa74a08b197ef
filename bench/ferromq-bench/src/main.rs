//! `ferromq-bench`: the load generator behind `ferromq bench`, on FerroMQ's
//! own sans-IO client core, all connections on one mio loop. Fan-in,
//! fan-out, point-to-point, idle and retained; `ferromq-bench chart` (run by
//! `ferromq bench-chart`) draws run_all.py's ratio table.

mod args;
mod chart;
mod conn;
mod idle;
mod payload;
mod report;
mod retained;
mod tally;
mod throughput;

use args::Mode;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("chart") => chart::main(&args[1..]),
        _ => bench(&args),
    };
    if let Err(e) = result {
        eprintln!("{e}");
        std::process::exit(2);
    }
}

/// Parse the bench arguments and run.
fn bench(argv: &[String]) -> Result<(), String> {
    let o = args::parse(argv)?;
    if let Some(ca) = &o.tls {
        conn::use_tls(ca)?;
    }
    if o.mode == Mode::Idle {
        return idle::run(&o);
    }
    if o.mode == Mode::Retained {
        return retained::run(&o);
    }
    let r = throughput::run(&o)?;
    print!("{}", r.table());
    if let Some(path) = &o.json {
        let text = serde_json::to_string_pretty(&r.to_json()).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    r.verdict(o.strict)
}
