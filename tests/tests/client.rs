//! Both clients against a real influxd: writes, queries, result sets, typed errors. Each test
//! body runs once per client (`blocking::` and `asynchronous::`).

mod support {
    pub mod api;
}

use std::io::{Read, Write};
use std::net::TcpListener;

use chrono::{DateTime, TimeZone, Utc};
use influx_series::{
    Client, Error, Field, PartialWriteKind, Point, Precision, QueryOptions, SharedTags, Value,
    WriteOptions,
};
use support::api::Api;

fn client<C: Api>() -> C {
    C::connect_url(&influx_testserver::shared().url()).expect("client")
}

/// A fresh database on the shared server, and a client whose default it is.
fn fresh<C: Api>(prefix: &str) -> (C, String) {
    let db = influx_testserver::shared().unique_db(prefix);
    let mut client = client::<C>();
    client.create_database(&db).expect("create database");
    client.switch_database(db.clone());
    (client, db)
}

fn count(client: &impl Api, q: &str) -> i64 {
    let results = client.query(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    results[0]
        .rows()
        .next()
        .and_then(|r| r.value(1).and_then(|v| v.as_i64()))
        .unwrap_or(0)
}

fn every_field_type_at_every_precision_reads_back_equal<C: Api>() {
    let (client, _db) = fresh::<C>("types");
    let t = Utc.with_ymd_and_hms(2009, 11, 10, 23, 0, 0).unwrap()
        + chrono::Duration::nanoseconds(123_456_789);
    for (i, precision) in Precision::ALL.into_iter().enumerate() {
        let measurement = format!("types_{}", precision.as_str());
        let point = Point::builder(measurement.clone())
            .tag("host", "server01")
            .field("f", 0.1 + i as f64)
            .field("i", -42i64 * i as i64)
            .field("b", i % 2 == 0)
            .field("s", format!("text \"{i}\"\nsecond line"))
            .timestamp(t)
            .build()
            .unwrap();
        client
            .write_points(&[point], &WriteOptions::default().precision(precision))
            .unwrap();
        let results = client
            .query_with(
                &format!("SELECT * FROM {measurement}"),
                &QueryOptions::new().epoch(precision),
            )
            .unwrap();
        let rows: Vec<_> = results[0].rows().collect();
        assert_eq!(rows.len(), 1, "{precision}");
        let row = rows[0];
        assert_eq!(
            row.get("time").and_then(|v| v.as_i64()),
            Some(precision.timestamp(&t).unwrap()),
            "{precision}"
        );
        assert_eq!(row.get("f").and_then(|v| v.as_f64()), Some(0.1 + i as f64));
        assert_eq!(row.get("i").and_then(|v| v.as_i64()), Some(-42 * i as i64));
        assert_eq!(row.get("b").and_then(|v| v.as_bool()), Some(i % 2 == 0));
        assert_eq!(
            row.get_str("s"),
            Some(format!("text \"{i}\"\nsecond line").as_str())
        );
        assert_eq!(row.get_str("host"), Some("server01"));
    }
}

fn multi_statement_queries_and_statement_errors<C: Api>() {
    let (client, db) = fresh::<C>("multi");
    client
        .write_raw("a v=1i 1\nb v=2i 2\nb v=3i 3\n", &WriteOptions::default())
        .unwrap();
    let results = client.query("SELECT * FROM a; SELECT * FROM b").unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].len(), 1);
    assert_eq!(results[1].len(), 2);
    assert_eq!(results[1].statement_id(), 1);

    let on_missing = QueryOptions::new().database("no_such_database");
    match client.query_with("SELECT * FROM a", &on_missing) {
        Err(Error::Statement { index: 0, message }) => {
            assert_eq!(message, "database not found: no_such_database")
        }
        other => panic!("{other:?}"),
    }
    let kept = client
        .query_with("SELECT * FROM a", &on_missing.raise_errors(false))
        .unwrap();
    assert_eq!(
        kept[0].error(),
        Some("database not found: no_such_database")
    );

    // The second statement fails: the error names index 1.
    match client.query_with(
        &format!("SELECT * FROM a; SELECT * FROM \"{db}\".\"nope\".b"),
        &QueryOptions::new(),
    ) {
        Err(Error::Statement { index: 1, message }) => {
            assert!(message.contains("retention policy not found"), "{message}")
        }
        other => panic!("{other:?}"),
    }

    match client.query("SELEC * FROM a") {
        Err(Error::Client {
            status: 400,
            message,
        }) => {
            assert!(message.starts_with("error parsing query"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

fn conflict_batch() -> Vec<Point> {
    let t = |s| Utc.timestamp_opt(s, 0).unwrap();
    vec![
        Point::builder("m")
            .field("v", 2.5)
            .timestamp(t(2))
            .build()
            .unwrap(),
        Point::builder("m")
            .field("v", "text")
            .timestamp(t(3))
            .build()
            .unwrap(),
        Point::builder("m")
            .field("v", 3.5)
            .timestamp(t(4))
            .build()
            .unwrap(),
    ]
}

fn type_conflict_is_a_partial_write_when_the_shard_knows_the_field<C: Api>() {
    let (client, _) = fresh::<C>("partial");
    let first = Point::builder("m")
        .field("v", 1.5)
        .timestamp(Utc.timestamp_opt(1, 0).unwrap())
        .build()
        .unwrap();
    client
        .write_points(&[first], &WriteOptions::default())
        .unwrap();
    match client.write_points(conflict_batch(), &WriteOptions::default()) {
        Err(Error::PartialWrite {
            dropped: 1,
            kind: PartialWriteKind::TypeConflict,
            message,
            written_before: 0,
        }) => assert!(
            message.contains("already exists as type float"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(count(&client, "SELECT count(v) FROM m"), 3);
}

fn type_conflict_in_a_fresh_shard_rejects_the_whole_batch<C: Api>() {
    let (client, _) = fresh::<C>("rejected");
    match client.write_points(conflict_batch(), &WriteOptions::default()) {
        Err(e @ Error::BatchRejected { .. }) => {
            assert_eq!(
                e.to_string(),
                "write rejected, nothing stored: field type conflict"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(count(&client, "SELECT count(v) FROM m"), 0);
}

fn a_failed_batch_reports_how_many_points_were_stored_before_it<C: Api>() {
    let (client, _) = fresh::<C>("resume");
    let t = |s| Utc.timestamp_opt(s, 0).unwrap();
    let mut points: Vec<Point> = (0..6)
        .map(|i| {
            Point::builder("m")
                .field("v", i as f64)
                .timestamp(t(i))
                .build()
                .unwrap()
        })
        .collect();
    points.push(
        Point::builder("m")
            .field("v", "x")
            .timestamp(t(9))
            .build()
            .unwrap(),
    );
    let err = client
        .write_points(&points, &WriteOptions::default().batch_size(2))
        .unwrap_err();
    // Two requests in flight (the default): the points are dealt to them by time, so the bad
    // point's request holds a good one too, and the points not known to be stored are
    // scattered. Every point is either stored or listed, and the bad one is listed. Unless
    // the other request's points were all answered first: then what is not known to be
    // stored is a tail, reported as a partial write after the points stored before it
    // (which request finishes first is the scheduler's choice; in_flight.rs pins both cases
    // with a fake server).
    if let Error::PartialWrite {
        dropped: 1,
        written_before,
        ..
    } = &err
    {
        let stored = count(&client, "SELECT count(v) FROM m");
        assert!(*written_before < 7, "{err:?}");
        assert!(
            (*written_before as i64..=6).contains(&stored),
            "{stored} stored: {err:?}"
        );
        return;
    }
    let Error::Unwritten {
        written,
        unwritten,
        reached,
        source,
    } = &err
    else {
        panic!("{err:?}")
    };
    let missing: usize = unwritten.iter().map(ExactSizeIterator::len).sum();
    assert_eq!((*written + missing, *reached), (7, 7), "{err}");
    assert!(unwritten.iter().any(|r| r.contains(&6)), "{err}");
    assert_eq!(err.written_before(), *written);
    assert!(
        matches!(**source, Error::PartialWrite { dropped: 1, .. }),
        "{err:?}"
    );
}

fn hundred_thousand_points_in_batches_and_one_query<C: Api>() {
    let (client, _) = fresh::<C>("bulk");
    let start = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    let points: Vec<Point> = (0..100_000i64)
        .map(|i| {
            Point::builder("bulk")
                .tag("host", format!("server{:02}", i % 50))
                .field("v", i)
                .timestamp(start + chrono::Duration::milliseconds(i))
                .build()
                .unwrap()
        })
        .collect();
    client
        .write_points(&points, &WriteOptions::default().batch_size(5_000))
        .unwrap();
    let results = client.query("SELECT v FROM bulk").unwrap();
    let series = &results[0].series()[0];
    assert_eq!(series.len(), 100_000);
    // Read in chunks of 10 000 rows and joined again: whole, so not partial.
    assert!(!series.partial());
    // 1.6 marks a complete series of more than 10 000 rows as partial in an answer without
    // chunks.
    let whole = client
        .query_raw("SELECT v FROM bulk", &influx_series::QueryOptions::new())
        .unwrap();
    let unchunked = influx_series::decode_response(&whole, true).unwrap();
    assert_eq!(unchunked[0].series()[0].len(), 100_000);
    assert!(unchunked[0].series()[0].partial());
    let sum: i64 = series
        .rows()
        .map(|r| r.get("v").and_then(|v| v.as_i64()).unwrap())
        .sum();
    assert_eq!(sum, (0..100_000i64).sum::<i64>());
}

fn shared_tags_merge_and_group_by_filters<C: Api>() {
    let (client, _) = fresh::<C>("tags");
    let t = Utc.timestamp_opt(100, 0).unwrap();
    let points = vec![
        Point::builder("cpu")
            .tag("host", "a")
            .field("v", 1i64)
            .timestamp(t)
            .build()
            .unwrap(),
        Point::builder("cpu")
            .tag("host", "b")
            .tag("region", "eu")
            .field("v", 2i64)
            .timestamp(t)
            .build()
            .unwrap(),
    ];
    let shared = SharedTags::new([("region", "us"), ("dc", "one")]).unwrap();
    client
        .write_points(&points, &WriteOptions::default().tags(shared))
        .unwrap();
    let results = client.query("SELECT v FROM cpu GROUP BY *").unwrap();
    let rs = &results[0];
    let keys: Vec<_> = rs
        .keys()
        .into_iter()
        .map(|(name, tags)| (name.unwrap().to_owned(), tags.clone()))
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].1["region"], "us");
    assert_eq!(keys[1].1["region"], "eu", "the point's own tag wins");
    assert_eq!(keys[1].1["dc"], "one");

    let b: Vec<i64> = rs
        .get_points(Some("cpu"), &[("host", "b")])
        .map(|r| r.get("v").and_then(|v| v.as_i64()).unwrap())
        .collect();
    assert_eq!(b, [2]);
    assert_eq!(rs.get_points(None, &[("dc", "one")]).count(), 2);
    assert_eq!(rs.get_points(Some("mem"), &[]).count(), 0);
    assert_eq!(
        rs.get_points(None, &[("region", "us"), ("host", "b")])
            .count(),
        0
    );
}

fn bind_parameters_and_select_into_by_post<C: Api>() {
    let (client, _) = fresh::<C>("bind");
    client
        .write_raw(
            "m,host=a v=1i 1\nm,host=b v=2i 2\n",
            &WriteOptions::default(),
        )
        .unwrap();
    let opts = QueryOptions::new().bind("host", "b' OR host = 'a");
    assert_eq!(
        client
            .query_with("SELECT v FROM m WHERE host = $host", &opts)
            .unwrap()[0]
            .len(),
        0,
        "a bound value is a value, never InfluxQL"
    );
    let opts = QueryOptions::new().bind("host", "b");
    let results = client
        .query_with("SELECT v FROM m WHERE host = $host", &opts)
        .unwrap();
    assert_eq!(
        results[0].rows().next().unwrap().get("v"),
        Some(Value::Integer(2))
    );

    client
        .query("SELECT * INTO copy FROM m GROUP BY *")
        .unwrap();
    assert_eq!(count(&client, "SELECT count(v) FROM copy"), 2);
}

fn databases_are_created_listed_and_dropped<C: Api>() {
    let client = client::<C>();
    let name = influx_testserver::shared().unique_db("admin \"quoted\"");
    let name = format!("{name} with \"quotes\" and spaces");
    client.create_database(&name).unwrap();
    assert!(client.list_databases().unwrap().contains(&name));
    client.drop_database(&name).unwrap();
    assert!(!client.list_databases().unwrap().contains(&name));
}

fn gzip_both_ways<C: Api>() {
    let server = influx_testserver::shared();
    let db = server.unique_db("gzip");
    let client = C::connect(
        Client::builder()
            .host("127.0.0.1")
            .port(server.http_port())
            .gzip(true)
            .database(db.clone())
            .into_config(),
    )
    .unwrap();
    client.create_database(&db).unwrap();
    let points: Vec<Point> = (0..2000i64)
        .map(|i| {
            Point::builder("z")
                .field("v", i)
                .timestamp_in(i, Precision::Seconds)
                .build()
                .unwrap()
        })
        .collect();
    client
        .write_points(&points, &WriteOptions::default())
        .unwrap();
    assert_eq!(count(&client, "SELECT count(v) FROM z"), 2000);
    assert_eq!(client.query("SELECT v FROM z").unwrap()[0].len(), 2000);
}

fn missing_database_and_wrong_port<C: Api>() {
    let client = client::<C>();
    let p = Point::builder("m").field("v", 1i64).build().unwrap();
    match client.write_points(&[p], &WriteOptions::new("no_such_db")) {
        Err(Error::Client {
            status: 404,
            message,
        }) => {
            assert_eq!(message, "database not found: \"no_such_db\"")
        }
        other => panic!("{other:?}"),
    }
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let nowhere = C::connect_url(&format!("http://{closed}")).unwrap();
    let err = nowhere.ping().unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(!err.to_string().contains('\n'));
}

fn time_strings_decode_as_rfc3339<C: Api>() {
    let (client, _) = fresh::<C>("rfc");
    client
        .write_raw("m v=1i 1257894000123456789\n", &WriteOptions::default())
        .unwrap();
    let results = client.query("SELECT v FROM m").unwrap();
    let time = results[0]
        .rows()
        .next()
        .unwrap()
        .get("time")
        .unwrap()
        .clone();
    let parsed: DateTime<Utc> = time.as_str().unwrap().parse().unwrap();
    assert_eq!(
        parsed.timestamp_nanos_opt(),
        Some(1_257_894_000_123_456_789)
    );
}

/// A fake HTTP server (a real influxd cannot show us the raw request it received): it records
/// one request and answers 204.
fn capture_one_request() -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(
                b"HTTP/1.1 204 No Content\r\nX-Influxdb-Version: fake\r\nContent-Length: 0\r\n\r\n",
            )
            .unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    (url, handle)
}

fn the_password_travels_only_in_the_authorization_header<C: Api>() {
    let (url, handle) = capture_one_request();
    let with_creds = url.replace("http://", "http://alice:s3cr%3At@");
    let client = C::connect_url(&with_creds).unwrap();
    assert_eq!(client.ping().unwrap(), "fake");
    let request = handle.join().unwrap();
    let request_line = request.lines().next().unwrap();
    assert_eq!(request_line, "GET /ping HTTP/1.1");
    assert!(
        request
            .lines()
            .any(|l| l.eq_ignore_ascii_case("authorization: Basic YWxpY2U6czNjcjp0")),
        "{request}"
    );
    assert!(!request.contains("s3cr"), "{request}");
    for shown in [
        format!("{client:?}"),
        format!("{:?}", client.config()),
        client.config().base_url(),
    ] {
        assert!(!shown.contains("s3cr"), "{shown}");
    }
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = C::connect_url(&format!("http://alice:s3cr%3At@{closed}"))
        .unwrap()
        .ping()
        .unwrap_err();
    assert!(!err.to_string().contains("s3cr"), "{err}");
    assert!(!format!("{err:?}").contains("s3cr"), "{err:?}");
}

fn unsigned_and_float_values_keep_their_types<C: Api>() {
    let (client, _) = fresh::<C>("numeric");
    let p = Point::builder("n")
        .field("whole_float", 1.0)
        .field("big", i64::MAX as u64)
        .field("small", 0.1f32)
        .timestamp_in(5, Precision::Seconds)
        .build()
        .unwrap();
    assert_eq!(p.field("small"), Some(&Field::Float(0.1)));
    client.write_points(&[p], &WriteOptions::default()).unwrap();
    let types = client.query("SHOW FIELD KEYS FROM n").unwrap();
    let types: Vec<(String, String)> = types[0]
        .rows()
        .map(|r| {
            (
                r.get("fieldKey").unwrap().as_str().unwrap().to_owned(),
                r.get("fieldType").unwrap().as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        types.contains(&("whole_float".into(), "float".into())),
        "{types:?}"
    );
    assert!(
        types.contains(&("big".into(), "integer".into())),
        "{types:?}"
    );
    let row = client.query("SELECT * FROM n").unwrap();
    let row = row[0].rows().next().unwrap();
    assert_eq!(row.get("big"), Some(Value::Integer(i64::MAX)));
    assert_eq!(row.get("small").and_then(|v| v.as_f64()), Some(0.1));
}

fn chunked_answers_merge_into_one_result<C: Api>() {
    let (client, _) = fresh::<C>("chunked");
    let points: Vec<Point> = (0..50i64)
        .map(|i| {
            Point::builder("c")
                .tag("host", if i % 2 == 0 { "a" } else { "b" })
                .field("v", i)
                .timestamp_in(i, Precision::Seconds)
                .build()
                .unwrap()
        })
        .collect();
    client
        .write_points(&points, &WriteOptions::default())
        .unwrap();
    let opts = QueryOptions::new().chunked(7);
    let body = client
        .query_raw("SELECT v FROM c GROUP BY host", &opts)
        .unwrap();
    assert!(
        body.iter().filter(|b| **b == b'\n').count() > 1,
        "the server sent chunks"
    );
    let results = client
        .query_with("SELECT v FROM c GROUP BY host", &opts)
        .unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].series().len(), 2);
    assert_eq!(results[0].len(), 50);
    assert_eq!(results[0].get_points(None, &[("host", "b")]).count(), 25);
    #[derive(serde::Deserialize)]
    struct Row {
        v: i64,
        host: String,
    }
    let rows: Vec<Row> = client
        .query_deserialize("SELECT v FROM c GROUP BY host", &opts)
        .unwrap();
    assert_eq!(rows.len(), 50);
    assert_eq!(
        rows.iter()
            .filter(|r| r.host == "a")
            .map(|r| r.v)
            .sum::<i64>(),
        (0..50).step_by(2).sum::<i64>()
    );
}

fn points_without_a_timestamp_are_stamped_apart<C: Api>() {
    let (client, _db) = fresh::<C>("untimed");
    let points: Vec<Point> = (0..3)
        .map(|i| {
            Point::builder("untimed")
                .tag("host", "a")
                .field("v", i)
                .build()
                .unwrap()
        })
        .collect();
    let done = client
        .write_points(&points, &WriteOptions::default())
        .unwrap();
    assert_eq!((done.written, done.requests), (3, 1));
    assert_eq!(count(&client, "SELECT count(v) FROM untimed"), 3);
    // Left to the server's clock, influxd stamps the request once: the three collapse.
    let done = client
        .write_points(&points, &WriteOptions::default().server_time(true))
        .unwrap();
    assert_eq!(done.written, 3);
    assert_eq!(count(&client, "SELECT count(v) FROM untimed"), 4);
}

fn points_are_written_from_any_iterator<C: Api>() {
    let (client, _db) = fresh::<C>("iterators");
    let point = |i: i64| {
        Point::builder("gen")
            .tag("host", format!("h{}", i % 7))
            .field("v", i)
            .timestamp_in(i, Precision::Seconds)
            .build()
            .unwrap()
    };
    // A generator, never collected: one request's worth at a time.
    let done = client
        .write_points(
            (0..5000).map(point),
            &WriteOptions::default().batch_size(1000),
        )
        .unwrap();
    assert_eq!(done.written, 5000);
    // Five requests of 1 000 one at a time; with two in flight (the default), points are dealt
    // to them by series and time, so a round's second request holds a little under 1 000.
    assert!((5..=6).contains(&done.requests), "{}", done.requests);
    // Borrowed from a slice, owned from an array.
    let owned = [point(5000), point(5001)];
    let done = client
        .write_points(owned.iter(), &WriteOptions::default())
        .unwrap();
    assert_eq!(done.written, 2);
    client
        .write_points(owned, &WriteOptions::default())
        .unwrap();
    assert_eq!(count(&client, "SELECT count(v) FROM gen"), 5002);
}

both_clients!(
    every_field_type_at_every_precision_reads_back_equal,
    multi_statement_queries_and_statement_errors,
    type_conflict_is_a_partial_write_when_the_shard_knows_the_field,
    type_conflict_in_a_fresh_shard_rejects_the_whole_batch,
    a_failed_batch_reports_how_many_points_were_stored_before_it,
    hundred_thousand_points_in_batches_and_one_query,
    shared_tags_merge_and_group_by_filters,
    bind_parameters_and_select_into_by_post,
    databases_are_created_listed_and_dropped,
    gzip_both_ways,
    missing_database_and_wrong_port,
    time_strings_decode_as_rfc3339,
    the_password_travels_only_in_the_authorization_header,
    unsigned_and_float_values_keep_their_types,
    chunked_answers_merge_into_one_result,
    points_without_a_timestamp_are_stamped_apart,
    points_are_written_from_any_iterator;
    gzip:
    every_field_type_at_every_precision_reads_back_equal,
    multi_statement_queries_and_statement_errors,
    type_conflict_is_a_partial_write_when_the_shard_knows_the_field,
    a_failed_batch_reports_how_many_points_were_stored_before_it,
    shared_tags_merge_and_group_by_filters,
    unsigned_and_float_values_keep_their_types,
    chunked_answers_merge_into_one_result,
    points_are_written_from_any_iterator,
);
