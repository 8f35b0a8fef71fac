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

#[test]
fn tutorial_prints_the_point_it_wrote() {
    let out = run(env!("CARGO_BIN_EXE_tutorial"));
    assert!(
        out.contains(
            "Result: ResultSet({('cpu_load_short', {}): [{'time': \"2009-11-10T23:00:00Z\", \
             'Float_value': 0.64, 'Int_value': 3, 'String_value': \"Text\", 'Bool_value': true}]})"
        ),
        "{out}"
    );
}
