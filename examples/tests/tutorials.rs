//! Every tutorial the demo runs also runs here, against a private server, and must succeed.

use std::process::Command;

fn run(exe: &str) -> String {
    let server = influx_testserver::shared();
    let out = Command::new(exe)
        .env("INFLUXDB_URL", server.url())
        .output()
        .expect("tutorial starts");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{exe} failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn quickstart_reads_back_every_point() {
    let out = run(env!("CARGO_BIN_EXE_quickstart"));
    assert!(out.contains("-> 1000"), "{out}");
}
