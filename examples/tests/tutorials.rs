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

#[test]
fn series_helper_writes_at_the_fifth_record() {
    let out = run(env!("CARGO_BIN_EXE_series_helper"));
    let expected = [
        "record #1: 1 pending, 0 stored",
        "record #2: 2 pending, 0 stored",
        "record #3: 3 pending, 0 stored",
        "record #4: 4 pending, 0 stored",
        "record #5: 0 pending, 5 stored",
        "pending lines:\nevents.stats.us.west-2,server_name=us.west-2 some_stat=154i,other_stat=60i ",
        "commit: 1 point(s) in 1 request(s); 6 stored",
    ];
    for line in expected {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn read_back_returns_what_was_written() {
    let out = run(env!("CARGO_BIN_EXE_read_back"));
    assert!(out.contains("Read back 4 points:"), "{out}");
    assert!(out.contains("Read back equals what was written."), "{out}");
}
