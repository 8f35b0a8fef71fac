//! The DataFrame tutorial, against a private server (built with the examples' `polars`
//! feature, which the test script turns on).

use std::process::Command;

#[test]
fn dataframe_tutorial_writes_reads_and_drops() {
    let server = influx_testserver::shared();
    let out = Command::new(env!("CARGO_BIN_EXE_dataframe_tutorial"))
        .env("INFLUXDB_URL", server.url())
        .output()
        .expect("tutorial starts");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "Write DataFrame\n  30 points in 1 request(s)",
        "Write DataFrame with Tags\n  30 points in 1 request(s)",
        "shape: (60, 4)",
        "60 rows, 30 of them tagged",
        "Delete database: demo",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    let client = influx_series::Client::new(&server.url()).unwrap();
    assert!(
        !client
            .list_databases()
            .unwrap()
            .contains(&"demo".to_string())
    );
}
