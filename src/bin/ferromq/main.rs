//! The `ferromq` command: `broker` (the default with no arguments), `passwd`
//! (a mosquitto password file), `bench` (a load generator for measuring
//! brokers side by side) and `bench-chart`.

mod bench;
mod broker_cmd;
mod log;
mod passwd;

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
        bench::usage()
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.first().map(String::as_str) {
        None => ("broker", &args[..]),
        Some("-h" | "--help") => ("help", &args[..]),
        Some(c) if c.starts_with('-') => ("broker", &args[..]),
        Some(c) => (c, &args[1..]),
    };
    let result = match cmd {
        "bench" => bench::main(rest),
        "bench-chart" => bench::chart::main(rest),
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
