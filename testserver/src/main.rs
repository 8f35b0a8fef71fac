//! `influx-testserver run -- <command> [args...]`: runs a command against a private influxd.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitCode};

use influx_testserver::Server;

const USAGE: &str = "\
Usage: influx-testserver run -- <command> [args...]
       influx-testserver --help

Starts a private influxd on free loopback ports with its data in a temporary
directory, runs <command> with INFLUXDB_URL (http://127.0.0.1:PORT) and
INFLUXDB_UDP_PORT (its UDP listener writes into database \"udp\") set, then stops
the server, deletes its data and exits with the command's exit code.

influxd is $INFLUXD if set, else the first influxd on PATH.";

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match args.first().and_then(|a| a.to_str()) {
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("run") => {
            let command = match args.get(1).and_then(|a| a.to_str()) {
                Some("--") => &args[2..],
                _ => &args[1..],
            };
            if command.is_empty() {
                usage_error("run needs a command")
            } else {
                run(command)
            }
        }
        Some(other) => usage_error(&format!("unknown command {other:?}")),
        None => usage_error("missing command"),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("influx-testserver: {message}\n\n{USAGE}");
    ExitCode::from(2)
}

/// Runs `command` against a fresh server. If this process is killed meanwhile, the
/// server's watchdog still stops influxd and removes the directory.
fn run(command: &[OsString]) -> ExitCode {
    let server = match Server::try_start() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("influx-testserver: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "influx-testserver: private influxd at {} (data in {})",
        server.url(),
        server.data_dir().display()
    );
    let status = Command::new(&command[0])
        .args(&command[1..])
        .env("INFLUXDB_URL", server.url())
        .env("INFLUXDB_UDP_PORT", server.udp_port().to_string())
        .status();
    drop(server);
    match status {
        // Exit codes are 0..=255 on Unix; a signal becomes 128 + its number, as in shells.
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => ExitCode::from(code as u8),
            (None, Some(signal)) => ExitCode::from((128 + signal) as u8),
            (None, None) => ExitCode::FAILURE,
        },
        Err(e) => {
            eprintln!("influx-testserver: cannot run {:?}: {e}", command[0]);
            ExitCode::from(127)
        }
    }
}
