//! Decoded queries ask for MessagePack answers (`ClientBuilder::msgpack`, on by default), as
//! influxdb-python does. Against a real influxd, through both clients, with and without gzip:
//! the same queries asked for in MessagePack and in JSON decode to the same result sets, typed
//! rows, serde rows and streams, statement errors included, times without an epoch as the same
//! RFC 3339 text. The one difference is the point of it: a whole float (`f=2`) is a float in
//! MessagePack and an integer in JSON (which writes it `2`).
//!
//! A server that answers in JSON anyway (an older influxd, or a proxy) cannot be made of
//! the real one: a **fake HTTP server** plays it, and shows the header asked with.

mod support {
    pub mod api;
}

use influx_series::chrono::{DateTime, Utc};
use influx_series::{
    Client, ClientConfig, Error, Precision, QueryOptions, ResultSet, Series, Value, WriteOptions,
};
use influx_testserver::fake::{FakeServer, respond};
use serde::Deserialize;
use support::api::Api;

/// Every kind of cell: whole and fractional floats, the integers at their ends, strings with
/// escapes and wide characters, booleans, absent fields and tags, times with and without a
/// fraction of a second, two measurements, names that need escaping.
const CORPUS: &str = "\
m,host=a,dc=x f=0.5,i=3i,s=\"x y\",b=true 1
m,host=b f=2,i=-9223372036854775808i,s=\"é😀 \\\"q\\\" \\\\\",b=false 2
m,host=c,dc=y f=1e300,i=9223372036854775807i 1500000000123456789
m,host=a f=-7,s=\"\" 1500000001000000000
m,host=b b=true 1500000002000000000
m2,host=a v=1i 3
m\\ space,t\\=k=v\\,w f=-0.25 4
";

#[derive(Series, Debug, Clone, PartialEq)]
#[series(name = "m")]
struct Cell {
    #[series(tag)]
    host: String,
    #[series(tag)]
    dc: Option<String>,
    f: Option<f64>,
    i: Option<i64>,
    s: Option<String>,
    b: Option<bool>,
    #[series(time)]
    time: DateTime<Utc>,
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
struct CellRow {
    time: serde_json::Value,
    host: String,
    dc: Option<String>,
    f: Option<f64>,
    i: Option<i64>,
    s: Option<String>,
    b: Option<bool>,
}

/// A database with the corpus in it, and a client of each kind on it (`msgpack` on, off).
fn clients<C: Api>(gzip: bool) -> (C, C, String) {
    let server = influx_testserver::shared();
    let db = server.unique_db("msgpack");
    let config = |msgpack: bool| -> ClientConfig {
        Client::builder()
            .port(server.http_port())
            .database(db.as_str())
            .gzip(gzip)
            .msgpack(msgpack)
            .into_config()
    };
    let pack = C::connect(config(true)).unwrap();
    assert!(pack.config().msgpack());
    let json = C::connect(config(false)).unwrap();
    pack.create_database(&db).unwrap();
    pack.write_raw(CORPUS, &WriteOptions::default()).unwrap();
    (pack, json, db)
}

/// Checks that `pack` and `json` hold the same answer; returns how many cells were whole floats
/// in MessagePack and integers in JSON (all others are equal).
fn same_sets(pack: &[ResultSet], json: &[ResultSet], query: &str) -> usize {
    assert_eq!(pack.len(), json.len(), "{query}");
    let mut whole_floats = 0;
    for (p, j) in pack.iter().zip(json) {
        assert_eq!(p.statement_id(), j.statement_id(), "{query}");
        assert_eq!(p.error(), j.error(), "{query}");
        assert_eq!(p.messages(), j.messages(), "{query}");
        assert_eq!(p.series().len(), j.series().len(), "{query}");
        for (ps, js) in p.series().iter().zip(j.series()) {
            assert_eq!(ps.name(), js.name(), "{query}");
            assert_eq!(ps.tags(), js.tags(), "{query}");
            assert_eq!(ps.columns(), js.columns(), "{query}");
            assert_eq!(ps.len(), js.len(), "{query}");
            for (pr, jr) in ps.rows().zip(js.rows()) {
                for (pc, jc) in pr.values().zip(jr.values()) {
                    match (&pc, &jc) {
                        (Value::Float(f), Value::Integer(i)) if *f == *i as f64 => {
                            whole_floats += 1
                        }
                        _ => assert_eq!(pc, jc, "{query}: {pr:?} / {jr:?}"),
                    }
                }
            }
        }
    }
    whole_floats
}

fn every_read_path_decodes_alike_in_msgpack_and_json<C: Api>(gzip: bool) {
    let (pack, json, db) = clients::<C>(gzip);
    let ns = QueryOptions::new().epoch(Precision::Nanoseconds);
    let rfc = QueryOptions::new();
    let queries: Vec<(String, QueryOptions)> = vec![
        ("SELECT * FROM m".into(), ns.clone()),
        ("SELECT * FROM m".into(), rfc.clone()),
        ("SELECT * FROM m GROUP BY *".into(), rfc.clone().chunked(1)),
        ("SELECT * FROM m GROUP BY host".into(), ns.clone().chunked(2)),
        ("SELECT * FROM /.*/".into(), ns.clone()),
        (
            "SELECT mean(f), count(i), max(i) FROM m WHERE time < 10ns GROUP BY time(1ns) fill(null)"
                .into(),
            rfc.clone(),
        ),
        (
            format!("SELECT * FROM m; SELECT * FROM \"{db}\".\"nope\".m; SELECT * FROM m2"),
            ns.clone().raise_errors(false),
        ),
        ("SHOW DATABASES".into(), rfc.clone()),
        ("SHOW MEASUREMENTS; SHOW FIELD KEYS; SHOW TAG KEYS".into(), rfc.clone()),
        (format!("SHOW RETENTION POLICIES ON \"{db}\""), rfc.clone()),
        ("SHOW SERIES".into(), rfc.clone()),
    ];
    let mut whole_floats = 0;
    for (query, options) in &queries {
        let p = pack.query_with(query, options).unwrap();
        let j = json.query_with(query, options).unwrap();
        whole_floats += same_sets(&p, &j, query);
        let p: Vec<ResultSet> = pack
            .query_stream(query, &options.clone().chunked(1))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let j: Vec<ResultSet> = json
            .query_stream(query, &options.clone().chunked(1))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        same_sets(&p, &j, query);
    }
    // `f=2` and `f=-7` in each of the six answers with `SELECT * FROM m` in them (`/.*/` and the
    // three statements included), and `mean(f)` of `f=2`: only MessagePack keeps them floats,
    // which shows the answers were MessagePack.
    assert_eq!(whole_floats, 13);

    // Typed rows, serde rows and typed streams, with times as epochs and as text.
    for options in [&ns, &rfc] {
        let p: Vec<Cell> = pack.query_as_with("SELECT * FROM m", options).unwrap();
        let j: Vec<Cell> = json.query_as_with("SELECT * FROM m", options).unwrap();
        assert_eq!(p.len(), 5);
        assert_eq!(p, j);
        let p: Vec<CellRow> = pack.query_deserialize("SELECT * FROM m", options).unwrap();
        let j: Vec<CellRow> = json.query_deserialize("SELECT * FROM m", options).unwrap();
        assert_eq!(p, j);
        let p: Vec<Cell> = pack
            .query_as_stream::<Cell>("SELECT * FROM m", &options.clone().chunked(2))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let j: Vec<Cell> = json
            .query_as_stream::<Cell>("SELECT * FROM m", &options.clone().chunked(2))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(p, j);
    }
    let rows: Vec<CellRow> = pack.query_deserialize("SELECT * FROM m", &rfc).unwrap();
    assert_eq!(rows[2].time, "2017-07-14T02:40:00.123456789Z");
    assert_eq!(rows[3].time, "2017-07-14T02:40:01Z");

    // A statement's error and a refused query read alike.
    let failing = format!("SELECT * FROM m; SELECT * FROM \"{db}\".\"nope\".m");
    for client in [&pack, &json] {
        match client.query_with(&failing, &ns) {
            Err(Error::Statement { index: 1, message }) => {
                assert_eq!(message, "retention policy not found: nope")
            }
            other => panic!("{other:?}"),
        }
        match client.query("SELEC * FROM m") {
            Err(Error::Client {
                status: 400,
                message,
            }) => assert!(message.starts_with("error parsing query"), "{message}"),
            other => panic!("{other:?}"),
        }
    }
    // query_raw hands its bytes over: JSON, whatever the client decodes.
    let raw = pack.query_raw("SELECT * FROM m2", &ns).unwrap();
    assert!(raw.starts_with(br#"{"results":[{"statement_id":0,"series":[{"name":"m2""#));
}

fn every_read_path_decodes_alike<C: Api>() {
    every_read_path_decodes_alike_in_msgpack_and_json::<C>(false);
}

fn every_read_path_decodes_alike_gzipped<C: Api>() {
    every_read_path_decodes_alike_in_msgpack_and_json::<C>(true);
}

/// A fake HTTP server: influxd answers in MessagePack when asked; one that answers in JSON all
/// the same is read as JSON.
fn a_json_answer_to_a_msgpack_request_is_read_as_json<C: Api>() {
    let fake = FakeServer::start(|_, stream| {
        let body = br#"{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","f"],"values":[[1,2]]}]}]}"#;
        respond(
            stream,
            "200 OK",
            &[("Content-Type", "application/json")],
            body,
        );
    });
    let client = C::connect(Client::builder().port(fake.port()).into_config()).unwrap();
    let sets = client.query("SELECT * FROM m").unwrap();
    assert_eq!(
        sets[0].rows().next().unwrap().get("f"),
        Some(Value::Integer(2))
    );
    let requests = fake.requests();
    assert_eq!(requests[0].header("accept"), Some("application/x-msgpack"));
    // Asked for JSON, the request says so by saying nothing.
    let json = C::connect(
        Client::builder()
            .port(fake.port())
            .msgpack(false)
            .into_config(),
    )
    .unwrap();
    json.query("SELECT * FROM m").unwrap();
    let requests = fake.requests();
    assert_ne!(requests[1].header("accept"), Some("application/x-msgpack"));
}

both_clients!(
    every_read_path_decodes_alike,
    every_read_path_decodes_alike_gzipped,
    a_json_answer_to_a_msgpack_request_is_read_as_json,
);
