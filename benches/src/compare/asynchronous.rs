//! This project's async client, against its blocking one in the same rounds: `write_points`
//! of every point in batches of 5 000 (into a fresh database, verified by count) and
//! `query_as::<Cpu>` of every row. Each runs on a current-thread tokio runtime of its own,
//! awaited one call at a time as a blocking caller makes them (as benches/clients.rs does);
//! the blocking variants they are compared with are `write_points` at its defaults and
//! `query_as` (writes.rs, queries.rs).

use influx_series::{AsyncClient, WriteOptions};

use super::data::{BATCH, Cpu, Dataset};
use super::load::Stopwatch;
use super::peers::runtime;
use super::queries::{Read, options};
use super::setup::Setup;
use super::variant::{Key, Kind, Variant, in_fresh_database};

/// A client with the default settings, as the blocking one it is compared with.
fn client(setup: &Setup) -> Result<AsyncClient, String> {
    AsyncClient::new(&setup.url).map_err(|e| format!("building the async client: {e}"))
}

/// `AsyncClient::write_points` in batches of 5 000.
pub(crate) fn write<'a>(setup: &'a Setup, data: &'a Dataset) -> Vec<Variant<'a>> {
    let ready = client(setup).and_then(|client| Ok((client, runtime()?)));
    let in_flight = match &ready {
        Ok((client, _)) => client.config().writes_in_flight().to_string(),
        Err(_) => "?".into(),
    };
    vec![Variant {
        key: Key::AsyncWritePoints,
        label: format!(
            "async write_points (current-thread runtime), batches of 5000, gzip off, \
             {in_flight} in flight (default)"
        ),
        kind: Kind::Write,
        run: Box::new(move || {
            let (client, runtime) = ready.as_ref().map_err(Clone::clone)?;
            in_fresh_database(setup, "async_write_points", data.len(), |db| {
                let options = WriteOptions::new(db).batch_size(BATCH);
                let started = Stopwatch::start();
                runtime
                    .block_on(client.write_points(&data.points, &options))
                    .map_err(|e| format!("async write_points: {e}"))?;
                Ok(started.stop())
            })
        }),
    }]
}

/// `AsyncClient::query_as::<Cpu>` of `read`.
pub(crate) fn query<'a>(setup: &'a Setup, read: Read<'a>) -> Vec<Variant<'a>> {
    let rows = read.rows;
    let ready = client(setup).and_then(|client| Ok((client, runtime()?)));
    vec![Variant {
        key: Key::AsyncQueryAs,
        label: "async query_as::<Cpu> (current-thread runtime)".into(),
        kind: Kind::Read,
        run: Box::new(move || {
            let (client, runtime) = ready.as_ref().map_err(Clone::clone)?;
            let started = Stopwatch::start();
            // The rows are dropped inside the timed part, as the blocking variant's are.
            let read = runtime
                .block_on(client.query_as_with::<Cpu>(read.query, &options(read.db)))
                .map(|cpus| cpus.len())
                .map_err(|e| format!("async query_as: {e}"))?;
            let took = started.stop();
            if read == rows {
                Ok(took)
            } else {
                Err(format!("read {read} rows, not {rows}"))
            }
        }),
    }]
}
