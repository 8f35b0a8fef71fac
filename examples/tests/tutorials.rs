//! Every tutorial the demo runs also runs here, against a private server, and must succeed.

use std::process::Command;

/// Runs a tutorial against a server of its own: the tutorials use the names of the documents
/// they follow (influxdb-python's tutorial and sprockets' README both write into `example`,
/// and drop it), so two of them at once on one server would drop each other's database.
fn run(exe: &str) -> String {
    let server = influx_testserver::Server::start();
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
    // The steps the Python tutorial has besides: a retention policy, a user, a bound parameter.
    assert!(
        out.contains("Retention policy: awesome_policy (duration 72h0m0s, default false)"),
        "{out}"
    );
    assert!(out.contains("Switch user: smly"), "{out}");
    assert!(
        out.contains("Result: ResultSet({('cpu_load_short', {}): [{'time': \"2009-11-10T23:00:00Z\", 'Int_value': 3}]})"),
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

#[test]
fn schema_provisions_once_and_reports_the_conflicting_type() {
    let out = run(env!("CARGO_BIN_EXE_schema"));
    let expected = [
        "== At start-up, on a fresh server:\n\
         created database \"schema_demo\"\n\
         created retention policy \"one_week\" on \"schema_demo\"\n\
         created continuous query \"cpu_hourly\" on \"schema_demo\"\n\
         the server is as declared\n",
        "== Again (nothing to do):\nnothing to create or change\nthe server is as declared\n",
        "conflict: \"legacy_cpu\" in \"schema_demo\": field \"usage\" is stored as integer, \
         LegacyCpu declares it float: every write of LegacyCpu into an existing shard of \
         \"legacy_cpu\" will fail\n",
        "== provision refuses to start:\nthe server conflicts with the schema (1 conflict):\n",
    ];
    for part in expected {
        assert!(out.contains(part), "missing {part:?} in:\n{out}");
    }
}

/// The README's server examples are the code of `src/bin/readme.rs`, line for line, and run
/// against a fresh server as written.
#[test]
fn the_readme_examples_run_as_written() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/../README.md")).unwrap();
    let source = std::fs::read_to_string(format!("{root}/src/bin/readme.rs")).unwrap();
    for part in ["points", "derive", "writer"] {
        let start = format!("// README: {part}\n");
        let from = source.find(&start).expect("marker") + start.len();
        let to = from
            + source[from..]
                .find("    // README: end")
                .expect("end marker");
        // The example is indented by four spaces in the binary.
        let code: String = source[from..to]
            .lines()
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(
            readme.contains(&code),
            "README.md does not show the `{part}` example of src/bin/readme.rs as it is:\n{code}"
        );
    }
    // On a server of its own, fresh: the writer's example creates its database.
    let server = influx_testserver::Server::start();
    let out = Command::new(env!("CARGO_BIN_EXE_readme"))
        .env("INFLUXDB_URL", server.url())
        .output()
        .expect("the README's examples start");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 point(s) written"), "{stdout}");
    assert!(stdout.contains("server_name: \"us.east-1\""), "{stdout}");
    assert!(
        stdout.contains("buffered InfluxDB writer: 1 recorded, 1 written, 0 left over\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("dropped"), "{stdout}");
}

#[test]
fn buffered_writer_writes_the_measurement_at_shutdown() {
    let out = run(env!("CARGO_BIN_EXE_buffered_writer"));
    assert!(out.contains("record: Enqueued"), "{out}");
    assert!(
        out.contains("shutdown: complete true, 1 written, 0 left over"),
        "{out}"
    );
    assert!(out.contains("\"baz\": 1.05"), "{out}");
    assert!(out.contains("\"foo\": \"bar\""), "{out}");
    assert!(out.contains("\"hostname\": \"demo-host\""), "{out}");
}

#[test]
fn request_timing_records_each_request_with_its_duration() {
    let out = run(env!("CARGO_BIN_EXE_request_timing"));
    assert!(out.contains("recorded 20, written 20"), "{out}");
    for line in [
        "/: 5 requests",
        "/items: 5 requests",
        "/items/42: 5 requests",
        "/missing: 5 requests",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn web_service_demo_records_each_request() {
    let server = influx_testserver::shared();
    let out = Command::new(env!("CARGO_BIN_EXE_web_service"))
        .arg("--demo")
        .env("INFLUXDB_URL", server.url())
        .env("INFLUXDB_INTERVAL", "50")
        .output()
        .expect("the demo starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("shutdown: complete true, 6 written, 0 left over"),
        "{stdout}"
    );
    for line in [
        "/items/{id}: status 200, 24 bytes",
        "/items/{id}: status 500, 9 bytes",
        "/items/{id}: status 500, 16 bytes",
        "/stream/{n}: status 200, 33 bytes",
        "unmatched: status 404, 0 bytes",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
}
