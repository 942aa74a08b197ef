//! `ferromq bench`: a load generator on the crate's own sans-IO client core,
//! all connections on one mio loop. Fan-in, fan-out, point-to-point and idle.

mod args;
pub use args::usage;
pub mod chart;
mod conn;
mod idle;
mod payload;
mod report;
mod tally;
mod throughput;

use args::Mode;

/// Parse the arguments after `bench` and run.
pub fn main(argv: &[String]) -> Result<(), String> {
    let o = args::parse(argv)?;
    if o.mode == Mode::Idle {
        return idle::run(&o);
    }
    let r = throughput::run(&o)?;
    print!("{}", r.table());
    if let Some(path) = &o.json {
        let text = serde_json::to_string_pretty(&r.to_json()).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    r.verdict(o.strict)
}
