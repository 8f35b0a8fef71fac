//! One answer, every read path: `query_as`, `query_deserialize` and `query_as_stream`, through
//! both clients, give the same rows and the same verdict. A tag a series does not have (a
//! `null` cell, or the empty value influxd gives under `GROUP BY`) is `None` for an `Option`
//! member; a row that does not fit its type is `Error::Decode`, naming where; a row with more
//! or fewer values than its columns is `Error::Protocol` everywhere.
//!
//! Against a real influxd, but for the ragged row, which influxd never sends: a **fake HTTP
//! server** answers it.

mod support {
    pub mod api;
}

use influx_series::{Error, QueryOptions, ResultSet, Series, WriteOptions};
use influx_testserver::fake::{FakeServer, respond};
use serde::Deserialize;
use support::api::Api;

#[derive(Series, Debug, Clone, PartialEq)]
#[series(name = "paths")]
struct Reading {
    #[series(tag)]
    host: String,
    #[series(tag)]
    dc: Option<String>,
    v: i64,
    #[series(time)]
    time: i64,
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
struct ReadingRow {
    time: i64,
    host: String,
    dc: Option<String>,
    v: i64,
}

type Row = (i64, String, Option<String>, i64);

fn write_readings<C: Api>(client: &C) {
    client
        .write_raw(
            "paths,host=a,dc=x v=1i 1\npaths,host=b v=2i 2\npaths,host=c,dc=y v=3i 3",
            &WriteOptions::default(),
        )
        .unwrap();
}

fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort();
    rows
}

fn every_typed_path_gives_the_same_rows_and_none_for_an_absent_tag<C: Api>() {
    let client: C = support::api::fresh("read_paths");
    write_readings(&client);
    let expected = vec![
        (1, "a".to_owned(), Some("x".to_owned()), 1),
        (2, "b".to_owned(), None, 2),
        (3, "c".to_owned(), Some("y".to_owned()), 3),
    ];
    let options = QueryOptions::new().epoch(influx_series::Precision::Nanoseconds);
    for query in [
        "SELECT * FROM paths",
        "SELECT * FROM paths GROUP BY *",
        "SELECT v FROM paths GROUP BY host, dc",
    ] {
        let typed: Vec<Reading> = client.query_as_with(query, &options).unwrap();
        let typed: Vec<Row> = typed
            .into_iter()
            .map(|r| (r.time, r.host, r.dc, r.v))
            .collect();
        assert_eq!(sorted(typed), expected, "query_as: {query}");
        let streamed: Vec<Reading> = client
            .query_as_stream::<Reading>(query, &options.clone().chunked(1))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let streamed: Vec<Row> = streamed
            .into_iter()
            .map(|r| (r.time, r.host, r.dc, r.v))
            .collect();
        assert_eq!(sorted(streamed), expected, "query_as_stream: {query}");
        let rows: Vec<ReadingRow> = client.query_deserialize(query, &options).unwrap();
        let rows: Vec<Row> = rows
            .into_iter()
            .map(|r| (r.time, r.host, r.dc, r.v))
            .collect();
        assert_eq!(sorted(rows), expected, "query_deserialize: {query}");
    }
    // A `ResultSet` keeps the server's own text: an empty tag, as influxdb-python does.
    let sets = client
        .query_with("SELECT v FROM paths GROUP BY dc", &options)
        .unwrap();
    let empty = sets[0]
        .series()
        .iter()
        .find(|s| s.tags().get("dc").map(String::as_str) == Some(""));
    assert!(empty.is_some(), "{:?}", sets[0].series());
}

#[derive(Series, Debug)]
#[series(name = "misfits")]
struct NeedsW {
    w: i64,
    #[series(time)]
    time: i64,
}

#[derive(Series, Debug)]
#[series(name = "misfits")]
struct WrongType {
    w: Option<bool>,
    #[series(time)]
    time: i64,
}

#[derive(Series, Debug)]
#[series(name = "misfits")]
struct NeedsDc {
    #[series(tag)]
    dc: String,
    w: Option<i64>,
}

#[track_caller]
fn assert_decode<T: std::fmt::Debug>(result: Result<T, Error>, says: &[&str]) {
    match result {
        Err(Error::Decode(cause)) => {
            let message = cause.to_string();
            for part in says {
                assert!(message.contains(part), "{message:?} lacks {part:?}");
            }
        }
        other => panic!("expected Error::Decode, got {other:?}"),
    }
}

fn rows_that_do_not_fit_are_decode_errors_on_every_path<C: Api>() {
    let client: C = support::api::fresh("misfits");
    client
        .write_raw(
            "misfits,dc=x w=1i 1\nmisfits x=1i 2",
            &WriteOptions::default(),
        )
        .unwrap();
    let q = "SELECT w, x FROM misfits";
    let null = [
        "statement 0",
        "series `misfits`",
        "row 1",
        "column `w`",
        "null",
    ];
    assert_decode(client.query_as::<NeedsW>(q), &null);
    let first = client
        .query_as_stream::<NeedsW>(q, &QueryOptions::new())
        .unwrap()
        .find_map(Result::err);
    assert_decode(first.map_or(Ok(()), Err), &null);
    let wrong = ["row 0", "column `w`", "expected", "found an integer 1"];
    assert_decode(client.query_as::<WrongType>(q), &wrong);
    // A tag the series does not have, for a member that is not an `Option`.
    assert_decode(
        client.query_as::<NeedsDc>("SELECT * FROM misfits"),
        &["row 1", "`dc`", "null"],
    );
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)] // read only by its Debug
    struct WRow {
        w: i64,
    }
    assert_decode(
        client.query_deserialize::<WRow>(q, &QueryOptions::new()),
        &["row 1"],
    );
}

both_clients!(
    every_typed_path_gives_the_same_rows_and_none_for_an_absent_tag,
    rows_that_do_not_fit_are_decode_errors_on_every_path,
);

#[track_caller]
fn assert_protocol<T: std::fmt::Debug>(result: Result<T, Error>) {
    assert!(matches!(result, Err(Error::Protocol(_))), "{result:?}");
}

fn a_ragged_row_is_a_protocol_error_on_every_path<C: Api>() {
    // A fake HTTP server: one value for two columns.
    let fake = FakeServer::start(|_, stream| {
        respond(
            stream,
            "200 OK",
            &[("Content-Type", "application/json")],
            br#"{"results":[{"statement_id":0,"series":[{"name":"paths","columns":["time","v"],"values":[[1,1],[2]]}]}]}"#,
        );
    });
    let client = C::connect_url(fake.url()).unwrap();
    #[derive(Series, Debug)]
    #[series(name = "paths")]
    struct V {
        v: Option<i64>,
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)] // read only by its Debug
    struct VRow {
        v: Option<i64>,
    }
    let q = "SELECT v FROM paths";
    assert_protocol(client.query(q));
    assert_protocol(client.query_as::<V>(q));
    assert_protocol(client.query_deserialize::<VRow>(q, &QueryOptions::new()));
    let streamed: Result<Vec<V>, Error> = client
        .query_as_stream::<V>(q, &QueryOptions::new())
        .and_then(|items| items.collect());
    assert_protocol(streamed);
    let sets: Result<Vec<ResultSet>, Error> = client
        .query_stream(q, &QueryOptions::new())
        .and_then(|items| items.collect());
    assert_protocol(sets);
}

mod fake {
    use super::*;
    both_clients!(a_ragged_row_is_a_protocol_error_on_every_path);
}
