//! Tests of the `influx-testserver` binary.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_influx-testserver");

#[test]
fn run_passes_env_and_exit_code() {
    let output = Command::new(BIN)
        .args(["run", "--", "sh", "-c"])
        .arg(r#"printf '%s %s' "$INFLUXDB_URL" "$INFLUXDB_UDP_PORT"; exit 7"#)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(7));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let (url, udp_port) = stdout.split_once(' ').unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{stdout}");
    udp_port.parse::<u16>().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "influx-testserver: private influxd at {url} (data in "
        )),
        "{stderr}"
    );
}

#[test]
fn missing_influxd_gives_install_hint() {
    let output = Command::new(BIN)
        .args(["run", "--", "true"])
        .env("INFLUXD", "/nonexistent")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("influxd not found"), "{stderr}");
    assert!(stderr.contains("apt-get install -y influxdb"), "{stderr}");
}

#[test]
fn help_and_usage_errors() {
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8(help.stdout).unwrap().contains("run --"));
    let bad = Command::new(BIN).arg("run").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// SIGKILL gives the binary no chance to clean up; the watchdog must.
#[test]
fn influxd_dies_with_a_killed_parent() {
    let mut parent = Command::new(BIN)
        // Blocks until the test closes the binary's stdin (inherited by `sh`).
        .args(["run", "--", "sh", "-c", "read x"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(parent.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "influx-testserver: private influxd at http://127.0.0.1:PORT (data in DIR)"
    let rest = line.split_once("127.0.0.1:").expect(&line).1;
    let (port, rest) = rest.split_once(' ').unwrap();
    let port: u16 = port.parse().unwrap();
    let dir = PathBuf::from(
        rest.trim()
            .trim_start_matches("(data in ")
            .trim_end_matches(')'),
    );
    assert!(dir.is_dir(), "{line}");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());

    parent.kill().unwrap(); // SIGKILL
    parent.wait().unwrap();
    drop(parent.stdin.take()); // lets `sh -c 'read x'` finish

    let deadline = Instant::now() + Duration::from_secs(15);
    while (dir.exists() || TcpStream::connect(("127.0.0.1", port)).is_ok())
        && Instant::now() < deadline
    {
        sleep(Duration::from_millis(50));
    }
    assert!(!dir.exists(), "{} still exists", dir.display());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}
