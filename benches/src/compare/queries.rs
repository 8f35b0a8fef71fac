//! The read variants of a query ([`Read`]: `SELECT * FROM cpu` of 100 000 or 1 000 000 rows,
//! or with `GROUP BY host` over 10 000 series): the answer's bytes fetched raw (chunked and in
//! one piece, not decoded), and this project's `query`, `query_as` and streams. Each checks
//! that it read every row.

use std::time::Duration;

use influx_series::{Client, Precision, QueryOptions};

use super::data::{Cpu, CpuRow, QUERY};
use super::http::{Connection, encode_component};
use super::load::{Stopwatch, Timed};
use super::setup::Setup;
use super::text::at_most;
use super::variant::{Key, Kind, RunResult, Variant};

/// What a read variant reads: `query` in `db`, which answers `rows` rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Read<'a> {
    pub(crate) db: &'a str,
    pub(crate) query: &'a str,
    pub(crate) rows: usize,
}

impl<'a> Read<'a> {
    /// [`QUERY`] in `db`, which holds `rows` rows.
    pub(crate) fn all(db: &'a str, rows: usize) -> Read<'a> {
        Read {
            db,
            query: QUERY,
            rows,
        }
    }
}

/// The options of every query of ours: times as nanosecond integers, as the raw fetch asks.
pub(crate) fn options(db: &str) -> QueryOptions {
    QueryOptions::new()
        .database(db)
        .epoch(Precision::Nanoseconds)
}

/// `/query?...` for `query` in `db`, chunked (in the server's default chunks of 10 000
/// rows, as our client asks) or not.
pub(crate) fn raw_target(db: &str, query: &str, chunked: bool) -> String {
    format!(
        "/query?db={}&q={}&epoch=ns{}",
        encode_component(db),
        encode_component(query),
        if chunked { "&chunked=true" } else { "" }
    )
}

/// Fetches the answer's bytes over `connection` (opened first if need be); returns how many.
pub(crate) fn fetch(
    setup: &Setup,
    connection: &mut Option<Connection>,
    target: &str,
) -> Result<usize, String> {
    if connection.is_none() {
        let opened = Connection::open(setup.address)
            .map_err(|e| format!("connecting to {}: {e}", setup.address))?;
        *connection = Some(opened);
    }
    let answer = connection
        .as_mut()
        .ok_or("no connection")?
        .get(target)
        .map_err(|e| format!("GET {target}: {e}"));
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => {
            *connection = None;
            return Err(e);
        }
    };
    if answer.status != 200 {
        return Err(format!(
            "GET {target}: status {}: {}",
            answer.status,
            at_most(&answer.error_text, 200)
        ));
    }
    Ok(answer.body_bytes)
}

/// The raw fetches, chunked and in one piece.
pub(crate) fn raw<'a>(setup: &'a Setup, read: Read<'a>) -> Vec<Variant<'a>> {
    [(Key::RawChunked, true), (Key::RawWhole, false)]
        .into_iter()
        .map(|(key, chunked)| {
            let target = raw_target(read.db, read.query, chunked);
            let mut connection = None;
            Variant {
                key,
                label: format!(
                    "raw fetch, {}: bytes only, not decoded",
                    if chunked { "chunked" } else { "not chunked" }
                ),
                kind: Kind::Read,
                run: Box::new(move || {
                    let started = Stopwatch::start();
                    fetch(setup, &mut connection, &target)?;
                    Ok(started.stop())
                }),
            }
        })
        .collect()
}

/// The other chunked fetches of the answer's bytes: curl (one process a run; its own
/// `time_total`, which leaves out the process's start, is the run's time) and this project's
/// `query_raw`. Together with the raw chunked fetch they are the references of the reads:
/// the fastest of the three in a round.
pub(crate) fn fetches<'a>(setup: &'a Setup, read: Read<'a>) -> Vec<Variant<'a>> {
    let url = format!("{}{}", setup.url, raw_target(read.db, read.query, true));
    let msgpack_url = url.clone();
    let options = options(read.db).chunked(10_000);
    vec![
        Variant {
            key: Key::Curl,
            label: "curl, chunked: bytes only, not decoded".into(),
            kind: Kind::Read,
            run: Box::new(move || curl(&url, &[])),
        },
        Variant {
            key: Key::CurlMsgpack,
            label: "curl, chunked, MessagePack (as this project's decoding queries ask): bytes \
                    only, not decoded"
                .into(),
            kind: Kind::Read,
            run: Box::new(move || {
                curl(&msgpack_url, &["--header", "Accept: application/x-msgpack"])
            }),
        },
        Variant {
            key: Key::QueryRaw,
            label: "query_raw, chunked: bytes only, not decoded".into(),
            kind: Kind::Read,
            run: Box::new(move || {
                let started = Stopwatch::start();
                let bytes = setup
                    .admin
                    .query_raw(read.query, &options)
                    .map_err(|e| format!("query_raw: {e}"))?;
                let took = started.stop();
                if bytes.is_empty() {
                    return Err("query_raw: an empty answer".into());
                }
                Ok(took)
            }),
        },
    ]
}

/// Fetches `url` with curl (and `extra` arguments); its own measure of the transfer
/// (`time_total`).
fn curl(url: &str, extra: &[&str]) -> RunResult {
    let out = std::process::Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail",
            "--output",
            "/dev/null",
        ])
        .args(extra)
        .args(["--write-out", "%{time_total} %{size_download}", url])
        .output()
        .map_err(|e| format!("curl (is it installed?): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "curl: {} {}",
            out.status,
            at_most(String::from_utf8_lossy(&out.stderr).trim(), 200)
        ));
    }
    let mut words = text.split_whitespace();
    let seconds: f64 = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| format!("curl: no time in {text:?}"))?;
    if words
        .next()
        .and_then(|w| w.parse::<u64>().ok())
        .unwrap_or(0)
        == 0
    {
        return Err(format!("curl: an empty answer ({text:?})"));
    }
    Ok(Timed::wall_only(Duration::from_secs_f64(seconds)))
}

/// `query`, `query_as::<Cpu>`, `query_deserialize::<CpuRow>`, `query_stream` and
/// `query_as_stream::<Cpu>`, and `query` and `query_as` asking for JSON answers.
pub(crate) fn ours<'a>(setup: &'a Setup, read: Read<'a>) -> Vec<Variant<'a>> {
    let client: &Client = &setup.admin;
    let json: &Client = &setup.json;
    let rows = read.rows;
    let variant =
        |key, label: &str, mut read: Box<dyn FnMut() -> Result<usize, String> + 'a>| Variant {
            key,
            label: label.into(),
            kind: Kind::Read,
            run: Box::new(move || {
                let started = Stopwatch::start();
                let read_rows = read()?;
                let took = started.stop();
                if read_rows == rows {
                    Ok(took)
                } else {
                    Err(format!("read {read_rows} rows, not {rows}"))
                }
            }),
        };
    vec![
        variant(
            Key::Query,
            "query (ResultSet)",
            Box::new(move || query_rows(client, read)),
        ),
        variant(
            Key::QueryAs,
            "query_as::<Cpu>",
            Box::new(move || collect(client, read).map(|cpus| cpus.len())),
        ),
        variant(
            Key::QueryDeserialize,
            "query_deserialize::<CpuRow> (serde)",
            Box::new(move || deserialize(client, read)),
        ),
        variant(
            Key::QueryStream,
            "query_stream (chunked), rows counted",
            Box::new(move || count_sets(client, read)),
        ),
        variant(
            Key::QueryAsStream,
            "query_as_stream::<Cpu> (chunked), rows counted",
            Box::new(move || count_rows(client, read)),
        ),
        variant(
            Key::QueryJson,
            "query (ResultSet), JSON answers (msgpack(false))",
            Box::new(move || query_rows(json, read)),
        ),
        variant(
            Key::QueryAsJson,
            "query_as::<Cpu>, JSON answers (msgpack(false))",
            Box::new(move || collect(json, read).map(|cpus| cpus.len())),
        ),
    ]
}

/// Rows of `read` through `query_stream`, each chunk dropped once counted.
pub(crate) fn count_sets(client: &Client, read: Read<'_>) -> Result<usize, String> {
    let mut rows = 0;
    let stream = client
        .query_stream(read.query, &options(read.db))
        .map_err(|e| format!("query_stream: {e}"))?;
    for set in stream {
        rows += set.map_err(|e| format!("query_stream: {e}"))?.len();
    }
    Ok(rows)
}

/// Rows of `read` through `query_as_stream::<Cpu>`, each row dropped once counted.
pub(crate) fn count_rows(client: &Client, read: Read<'_>) -> Result<usize, String> {
    let mut rows = 0;
    let stream = client
        .query_as_stream::<Cpu>(read.query, &options(read.db))
        .map_err(|e| format!("query_as_stream: {e}"))?;
    for cpu in stream {
        cpu.map_err(|e| format!("query_as_stream: {e}"))?;
        rows += 1;
    }
    Ok(rows)
}

/// `query_as::<Cpu>` of `read` (the memory part's too).
pub(crate) fn collect(client: &Client, read: Read<'_>) -> Result<Vec<Cpu>, String> {
    client
        .query_as_with(read.query, &options(read.db))
        .map_err(|e| format!("query_as: {e}"))
}

/// `query_deserialize::<CpuRow>` of `read`; returns the rows.
fn deserialize(client: &Client, read: Read<'_>) -> Result<usize, String> {
    client
        .query_deserialize::<CpuRow>(read.query, &options(read.db))
        .map(|rows| rows.len())
        .map_err(|e| format!("query_deserialize: {e}"))
}

/// `query` of `read` (the memory part's too); returns the rows.
pub(crate) fn query_rows(client: &Client, read: Read<'_>) -> Result<usize, String> {
    let sets = client
        .query_with(read.query, &options(read.db))
        .map_err(|e| format!("query: {e}"))?;
    Ok(sets.iter().map(|set| set.len()).sum())
}
