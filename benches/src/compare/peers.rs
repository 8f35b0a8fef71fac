//! The `influxdb` crate (0.8), the Rust peer: its async client on a current-thread tokio
//! runtime, awaited one call at a time as an application without concurrency would.

use influxdb::{InfluxDbWriteable, ReadQuery, WriteQuery};
use tokio::runtime::Runtime;

use super::data::{BATCH, MEASUREMENT, PeerCpu, PeerRow, QUERY};
use super::load::Stopwatch;
use super::setup::Setup;
use super::variant::{Key, Kind, RunResult, Variant, in_fresh_database};

/// A runtime for the peer's futures.
pub(crate) fn runtime() -> Result<Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting a tokio runtime: {e}"))
}

/// Its write (batches of 5 000 through its derive) and its query.
pub(crate) fn variants<'a>(
    setup: &'a Setup,
    points: &'a [PeerCpu],
    query_db: &'a str,
    rows: usize,
) -> Vec<Variant<'a>> {
    let write_runtime = runtime();
    let query_runtime = runtime();
    vec![
        Variant {
            key: Key::CrateWrite,
            label: "influxdb crate 0.8: query(Vec<WriteQuery>), batches of 5000".into(),
            kind: Kind::Write,
            run: Box::new(move || {
                let runtime = write_runtime.as_ref().map_err(Clone::clone)?;
                in_fresh_database(setup, "influxdb_crate", points.len(), |db| {
                    write(runtime, &setup.url, db, points)
                })
            }),
        },
        Variant {
            key: Key::CrateQuery,
            label: "influxdb crate 0.8: json_query + deserialize_next".into(),
            kind: Kind::Read,
            run: Box::new(move || {
                let runtime = query_runtime.as_ref().map_err(Clone::clone)?;
                let started = Stopwatch::start();
                let read = query(runtime, &setup.url, query_db)?;
                let took = started.stop();
                if read == rows {
                    Ok(took)
                } else {
                    Err(format!("read {read} rows, not {rows}"))
                }
            }),
        },
    ]
}

/// Writes `points` into `db`; the copies its derive consumes are made before the clock starts.
fn write(runtime: &Runtime, url: &str, db: &str, points: &[PeerCpu]) -> RunResult {
    let client = influxdb::Client::new(url, db);
    let batches: Vec<Vec<PeerCpu>> = points.chunks(BATCH).map(<[PeerCpu]>::to_vec).collect();
    let started = Stopwatch::start();
    runtime.block_on(async {
        for batch in batches {
            let queries = batch
                .into_iter()
                .map(|point| point.try_into_query(MEASUREMENT))
                .collect::<Result<Vec<WriteQuery>, _>>()
                .map_err(|e| format!("influxdb crate: into_query: {e:?}"))?;
            client
                .query(queries)
                .await
                .map_err(|e| format!("influxdb crate: write: {e}"))?;
        }
        Ok::<(), String>(())
    })?;
    Ok(started.stop())
}

/// Reads [`QUERY`] from `db` into typed rows; returns how many.
pub(crate) fn query(runtime: &Runtime, url: &str, db: &str) -> Result<usize, String> {
    let client = influxdb::Client::new(url, db);
    runtime.block_on(async {
        let mut result = client
            .json_query(ReadQuery::new(QUERY))
            .await
            .map_err(|e| format!("influxdb crate: json_query: {e}"))?;
        let rows = result
            .deserialize_next::<PeerRow>()
            .map_err(|e| format!("influxdb crate: deserialize_next: {e}"))?;
        Ok(rows.series.iter().map(|series| series.values.len()).sum())
    })
}
