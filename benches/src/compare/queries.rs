//! The read variants of `SELECT * FROM cpu`: the answer's bytes fetched raw (chunked and in
//! one piece, not decoded), and this project's `query`, `query_as` and streams. Each checks
//! that it read every row.

use influx_series::{Client, Precision, QueryOptions};

use super::data::{Cpu, QUERY};
use super::http::{Connection, encode_component};
use super::load::Stopwatch;
use super::setup::Setup;
use super::text::at_most;
use super::variant::{Key, Kind, Variant};

/// The options of every query of ours: times as nanosecond integers, as the raw fetch asks.
pub(crate) fn options(db: &str) -> QueryOptions {
    QueryOptions::new()
        .database(db)
        .epoch(Precision::Nanoseconds)
}

/// `/query?...` for [`QUERY`] in `db`, chunked (in the server's default chunks of 10 000
/// rows, as our client asks) or not.
pub(crate) fn raw_target(db: &str, chunked: bool) -> String {
    format!(
        "/query?db={}&q={}&epoch=ns{}",
        encode_component(db),
        encode_component(QUERY),
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
pub(crate) fn raw<'a>(setup: &'a Setup, db: &'a str) -> Vec<Variant<'a>> {
    [(Key::RawChunked, true), (Key::RawWhole, false)]
        .into_iter()
        .map(|(key, chunked)| {
            let target = raw_target(db, chunked);
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

/// `query`, `query_as::<Cpu>`, `query_stream` and `query_as_stream::<Cpu>`.
pub(crate) fn ours<'a>(setup: &'a Setup, db: &'a str, rows: usize) -> Vec<Variant<'a>> {
    let client: &Client = &setup.admin;
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
            Box::new(move || query_rows(client, db)),
        ),
        variant(
            Key::QueryAs,
            "query_as::<Cpu>",
            Box::new(move || collect(client, db).map(|cpus| cpus.len())),
        ),
        variant(
            Key::QueryStream,
            "query_stream (chunked), rows counted",
            Box::new(move || count_sets(client, db)),
        ),
        variant(
            Key::QueryAsStream,
            "query_as_stream::<Cpu> (chunked), rows counted",
            Box::new(move || count_rows(client, db)),
        ),
    ]
}

/// Rows of [`QUERY`] through `query_stream`, each chunk dropped once counted.
pub(crate) fn count_sets(client: &Client, db: &str) -> Result<usize, String> {
    let mut rows = 0;
    let stream = client
        .query_stream(QUERY, &options(db))
        .map_err(|e| format!("query_stream: {e}"))?;
    for set in stream {
        rows += set.map_err(|e| format!("query_stream: {e}"))?.len();
    }
    Ok(rows)
}

/// Rows of [`QUERY`] through `query_as_stream::<Cpu>`, each row dropped once counted.
pub(crate) fn count_rows(client: &Client, db: &str) -> Result<usize, String> {
    let mut rows = 0;
    let stream = client
        .query_as_stream::<Cpu>(QUERY, &options(db))
        .map_err(|e| format!("query_as_stream: {e}"))?;
    for cpu in stream {
        cpu.map_err(|e| format!("query_as_stream: {e}"))?;
        rows += 1;
    }
    Ok(rows)
}

/// `query_as::<Cpu>` of [`QUERY`], for the memory part.
pub(crate) fn collect(client: &Client, db: &str) -> Result<Vec<Cpu>, String> {
    client
        .query_as_with(QUERY, &options(db))
        .map_err(|e| format!("query_as: {e}"))
}

/// `query` of [`QUERY`], for the memory part; returns the rows.
pub(crate) fn query_rows(client: &Client, db: &str) -> Result<usize, String> {
    let sets = client
        .query_with(QUERY, &options(db))
        .map_err(|e| format!("query: {e}"))?;
    Ok(sets.iter().map(|set| set.len()).sum())
}
