//! The `ferromq` command: `broker` (the default), and later pub/sub/bench.

fn main() {
    eprintln!("ferromq: the broker command arrives with the broker");
    std::process::exit(2);
}
