//! Against a real influxd: every random point the encoder accepts is stored exactly, and raw
//! line protocol the parser rejects is never sent.

mod support {
    pub mod r#gen;
}

use std::collections::{BTreeMap, BTreeSet};

use influx_series::influxql::quote_ident;
use influx_series::{Client, Error, Field, LineBuf, Point, Precision, QueryOptions, WriteOptions};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use support::r#gen::raw_point;

fn client() -> Client {
    Client::new(&influx_testserver::shared().url()).expect("client")
}

fn query(client: &Client, db: &str, q: &str) -> Value {
    let body = client
        .query_raw(
            q,
            &QueryOptions::new()
                .database(db)
                .epoch(Precision::Nanoseconds),
        )
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    serde_json::from_slice(&body).expect("JSON")
}

fn create_db(client: &Client, prefix: &str) -> String {
    let db = influx_testserver::shared().unique_db(prefix);
    client.create_database(&db).expect("create database");
    db
}

/// A few hundred random points the encoder accepts, one per measurement, so each can be
/// read back on its own; field keys distinct from tag keys so `SELECT *` is unambiguous.
fn accepted_points(count: usize) -> Vec<Point> {
    let mut runner = TestRunner::new(Config::default());
    let strategy = raw_point();
    let mut seen = BTreeSet::new();
    let mut points = Vec::new();
    let mut tries = 0;
    while points.len() < count {
        tries += 1;
        assert!(tries < count * 50, "the generator accepts too few points");
        let raw = strategy.new_tree(&mut runner).expect("generate").current();
        let Ok(point) = raw.builder().build() else {
            continue;
        };
        let tag_keys: BTreeSet<&str> = point.tags().map(|(k, _)| k).collect();
        if point.fields().any(|(k, _)| tag_keys.contains(k)) {
            continue;
        }
        if seen.insert(point.measurement().to_owned()) {
            points.push(point);
        }
    }
    points
}

fn field_matches(expected: &Field, field_type: &str, got: &Value) -> bool {
    match (expected, field_type) {
        // JSON drops the `.0` of whole floats, so compare as numbers.
        (Field::Float(v), "float") => got.as_f64() == Some(*v),
        (Field::Integer(v), "integer") => got.as_i64() == Some(*v),
        (Field::Boolean(v), "boolean") => got.as_bool() == Some(*v),
        (Field::String(v), "string") => got.as_str() == Some(v.as_str()),
        _ => false,
    }
}

/// Reads one measurement back and lists every difference from `point`.
fn differences(client: &Client, db: &str, point: &Point) -> Vec<String> {
    let m = quote_ident(point.measurement());
    let answer = query(
        client,
        db,
        &format!("SELECT * FROM {m} GROUP BY *; SHOW FIELD KEYS FROM {m}"),
    );
    let mut diffs = Vec::new();
    let results = &answer["results"];
    let series = &results[0]["series"];
    let Some([series]) = series.as_array().map(Vec::as_slice) else {
        return vec![format!("expected one series, got {series}")];
    };
    if series["name"].as_str() != Some(point.measurement()) {
        diffs.push(format!("measurement came back as {}", series["name"]));
    }
    let tags: BTreeMap<String, String> = series["tags"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(_, v)| v.as_str() != Some(""))
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let want: BTreeMap<String, String> = point
        .tags()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    if tags != want {
        diffs.push(format!("tags came back as {tags:?}"));
    }
    let types: BTreeMap<String, String> = results[1]["series"][0]["values"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            (
                row[0].as_str().unwrap_or_default().to_owned(),
                row[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let columns: Vec<&str> = series["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let Some([row]) = series["values"].as_array().map(Vec::as_slice) else {
        return vec![format!("expected one row, got {}", series["values"])];
    };
    let got: BTreeMap<&str, &Value> = columns
        .iter()
        .copied()
        .zip(row.as_array().into_iter().flatten())
        .collect();
    if let Some(nanos) = point.timestamp_nanos()
        && got.get("time").and_then(|v| v.as_i64()) != Some(nanos)
    {
        diffs.push(format!("time came back as {:?}", got.get("time")));
    }
    let field_names: BTreeSet<&str> = got.keys().copied().filter(|k| *k != "time").collect();
    let want_names: BTreeSet<&str> = point.fields().map(|(k, _)| k).collect();
    if field_names != want_names {
        diffs.push(format!("field keys came back as {field_names:?}"));
    }
    for (key, value) in point.fields() {
        let field_type = types.get(key).map(String::as_str).unwrap_or("missing");
        match got.get(key) {
            Some(v) if field_matches(value, field_type, v) => {}
            other => diffs.push(format!(
                "field {key:?}: sent {value:?}, got {other:?} ({field_type})"
            )),
        }
    }
    diffs
}

#[test]
fn random_accepted_points_are_stored_exactly() {
    let client = client();
    let db = create_db(&client, "roundtrip");
    let points = accepted_points(300);
    let mut lines = LineBuf::new();
    for p in &points {
        lines.push_point(p, Precision::Nanoseconds);
    }
    client
        .write_lines(&lines, &WriteOptions::new(db.as_str()))
        .unwrap_or_else(|e| panic!("write failed: {e}\n{}", lines.as_str()));

    let answer = query(&client, &db, "SHOW MEASUREMENTS LIMIT 100000");
    let stored: BTreeSet<&str> = answer["results"][0]["series"][0]["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| row[0].as_str())
        .collect();
    let sent: BTreeSet<&str> = points.iter().map(Point::measurement).collect();
    assert_eq!(stored, sent, "measurement names differ");

    let mut mismatches = Vec::new();
    for point in &points {
        let diffs = differences(&client, &db, point);
        if !diffs.is_empty() {
            mismatches.push(format!(
                "{:?}\n  {}",
                point.to_line(Precision::Nanoseconds),
                diffs.join("\n  ")
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} points differ:\n{}",
        mismatches.len(),
        points.len(),
        mismatches.join("\n")
    );
}

#[test]
fn rejected_raw_lines_are_never_sent() {
    let client = client();
    let db = create_db(&client, "rawcheck");
    let opts = WriteOptions::new(db.as_str());
    // A good line first: if anything were sent, it would be stored.
    for bad in [
        "good v=1i\nm a\\=\"b=1i",     // the field key that crashed a 1.6 server
        "good v=1i\ntest,t=C:\\ v=1i", // trailing backslash in a tag value
        "good v=1i\n#cpu v=1i\nm time=1i",
        "good v=1i\nm v=NaN",
        "good v=1i\nm",
    ] {
        match client.write_raw(bad, &opts) {
            Err(Error::Parse(_)) => {}
            other => panic!("{bad:?}: expected a parse error, got {other:?}"),
        }
    }
    let answer = query(&client, &db, "SHOW MEASUREMENTS");
    assert_eq!(
        answer["results"][0].get("series"),
        None,
        "something was stored: {answer}"
    );
    assert!(client.ping().is_ok());

    client
        .write_raw("good v=1i\n", &opts)
        .expect("a good line is written");
    let answer = query(&client, &db, "SELECT v FROM good");
    assert_eq!(answer["results"][0]["series"][0]["values"][0][1], 1);
}

#[test]
fn ping_reports_the_version() {
    let version = client().ping().expect("ping");
    assert!(version.starts_with("1."), "{version}");
}

#[test]
fn missing_database_is_a_client_error_and_wrong_port_a_transport_error() {
    let client = client();
    let lines = {
        let mut b = LineBuf::new();
        b.push_line("m v=1i").unwrap();
        b
    };
    match client.write_lines(&lines, &WriteOptions::new("no_such_db")) {
        Err(Error::Client {
            status: 404,
            message,
        }) => {
            assert!(message.contains("database not found"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let nowhere = Client::new(&format!("http://{closed}")).unwrap();
    assert!(matches!(nowhere.ping(), Err(Error::Transport(_))));
}
