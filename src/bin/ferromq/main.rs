//! The `ferromq` command: `broker` (the default with no arguments), `bench`
//! (a load generator for measuring brokers side by side) and `bench-chart`.

mod bench;
mod broker_cmd;
mod log;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.first().map(String::as_str) {
        None => ("broker", &args[..]),
        Some(c) if c.starts_with('-') => ("broker", &args[..]),
        Some(c) => (c, &args[1..]),
    };
    let result = match cmd {
        "bench" => bench::main(rest),
        "bench-chart" => bench::chart::main(rest),
        "broker" => broker_cmd::run(rest),
        "help" | "--help" | "-h" => {
            println!(
                "usage: ferromq [broker] [--listen HOST:PORT]... [--config FILE]\n       ferromq bench --port P --mode fanin|fanout|p2p|idle ...\n       ferromq bench-chart RESULTS.json OUT.png"
            );
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
