//! `influx-bench`: programs that measure this project against the server's own ceiling and
//! against its peers, on a private influxd (`influxd` must be installed; influxdb-python comes
//! from `scripts/ensure-python-peers`).
//!
//! `cargo run --release -p influx-series-benches -- compare` runs the comparison of issue 17
//! (see [`compare`]); with no arguments the program prints its usage.

mod compare;

use std::process::ExitCode;

const USAGE: &str = "\
usage: influx-bench compare [--full | --smoke] [--rounds N] [--seed N] [--in-order]
                            [--writes | --cpu]

  compare      this project against the server's ceiling, the influxdb crate 0.8 and
               influxdb-python 5.3 on a private influxd: 100 000 points or rows per
               variant, interleaved rounds in a new order each (the async client against
               the blocking one too), then the peak memory of 1 000 000-row reads; first,
               with no server, encoding and record() on the CPU alone. Prints a Markdown
               report and writes it into docs/benchmarks.md (between its `compare`
               markers) with a chart, docs/compare.svg. This is the quick mode.
  --full       the full mode, what docs/benchmarks.md holds: all of the above, then the
               reads of 1 000 000 rows and of `GROUP BY host` over 10 000 series, each in
               interleaved rounds of their own (888 s on 2 cores, the build apart)
  --smoke      a check that it runs: 1 round of 10 000 (CPU batches of 20 000), no
               memory part; the report and chart go to a temporary directory
  --rounds N   interleaved rounds of the main part (default 15)
  --seed N     the rounds' orders of an earlier run (the report prints its seed)
  --in-order   every round in the same order
  --writes     only the ceiling and this project's writes, printed
  --cpu        only the part without a server, printed

Run it as `cargo run --release -p influx-series-benches -- compare`.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("compare") => {
            let outcome = compare::Options::parse(&args[1..]).and_then(|o| compare::run(&o));
            match outcome {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("compare: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(compare::memory::CHILD_COMMAND) => compare::memory::child(&args[1..]),
        Some(other) => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
