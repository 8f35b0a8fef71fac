//! Variants and interleaved rounds: every variant runs once per round, in turn, so that a
//! noisy machine slows them alike; each run times its own work (setup and checks are left
//! out) and may fail, which is recorded for that round instead of ending the program.

use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use influx_series::{Client, QueryOptions};

use super::Setup;
use super::data::MEASUREMENT;

/// Which variant, for the ratios and targets that name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// Pre-encoded bodies over one connection.
    CeilingOne,
    /// Pre-encoded bodies over two connections at once.
    CeilingTwo,
    /// `Client::write_points` in batches of 5 000, gzip off, three requests in flight (to
    /// choose the default by measurement).
    WritePointsThree,
    /// The ceiling's pre-encoded bodies posted by this project's client (`write_raw`, lines
    /// not read), over one connection: its HTTP stack alone, without encoding.
    ClientBodies,
    /// `#[derive(Series)]` with `bulk_size = 5000, autocommit`, then a last commit.
    Derive,
    /// The same with `autocommit = "background"`.
    DeriveBackground,
    /// The buffered writer: `record()` every point, then `flush`.
    Writer,
    /// `Client::write_points` in batches of 5 000.
    WritePoints {
        /// Whether bodies are gzip-compressed.
        gzip: bool,
        /// `writes_in_flight(1)` instead of the default.
        one_in_flight: bool,
    },
    /// The `influxdb` crate, batches of 5 000.
    CrateWrite,
    /// influxdb-python's `write_points(batch_size=5000)`.
    PythonWritePoints,
    /// influxdb-python's `SeriesHelper` with `bulk_size = 5000` and autocommit.
    PythonSeriesHelper,
    /// The answer's bytes, fetched chunked, not decoded.
    RawChunked,
    /// The answer's bytes, fetched in one piece, not decoded.
    RawWhole,
    /// `Client::query` (a `ResultSet`).
    Query,
    /// `Client::query_as::<Cpu>`.
    QueryAs,
    /// `Client::query_stream`, rows counted.
    QueryStream,
    /// `Client::query_as_stream::<Cpu>`, rows counted.
    QueryAsStream,
    /// The `influxdb` crate's `json_query` and `deserialize_next`.
    CrateQuery,
    /// influxdb-python's `query` and `get_points`.
    PythonQuery,
    /// `AsyncClient::write_points` in batches of 5 000, on a current-thread runtime.
    AsyncWritePoints,
    /// `AsyncClient::query_as::<Cpu>`, on a current-thread runtime.
    AsyncQueryAs,
    /// No server: `#[derive(Series)]`'s `write_line` into a reused `Vec`, from this many
    /// threads at once.
    Encode {
        /// Threads encoding at once.
        threads: usize,
    },
    /// No server: the `influxdb` crate's derive, `try_into_query` and `build`.
    CrateEncode,
    /// No server: `record()` into the type's buffer from this many threads at once.
    Record {
        /// Threads recording at once.
        threads: usize,
    },
    /// No server: `record()` into the type's buffer from one thread, the buffer emptied after
    /// every pass of 10 000 points (timed, as benches/derive.rs does): what a point costs
    /// against encoding it into a reused `Vec`, with both buffers of the same size.
    RecordPass,
    /// No server: the buffered writer's `record()` (nothing sent) from this many threads.
    WriterRecord {
        /// Threads recording at once.
        threads: usize,
    },
}

/// What a variant moves: points written or rows read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Points written (and verified by count).
    Write,
    /// Rows read (and counted).
    Read,
}

impl Kind {
    /// The unit of its rate.
    pub(crate) fn unit(self) -> &'static str {
        match self {
            Kind::Write => "points/s",
            Kind::Read => "rows/s",
        }
    }
}

/// The time of one run's measured work, or why it failed.
pub(crate) type RunResult = Result<Duration, String>;

/// One variant: a label for the table, and a closure that runs it once.
pub(crate) struct Variant<'a> {
    /// Which one.
    pub(crate) key: Key,
    /// Shown in the table and the chart.
    pub(crate) label: String,
    /// What it moves.
    pub(crate) kind: Kind,
    /// Sets up, runs and times, checks; returns the time of the work alone.
    pub(crate) run: Box<dyn FnMut() -> RunResult + 'a>,
}

/// What one variant did in every round.
pub(crate) struct Outcome {
    /// Which one.
    pub(crate) key: Key,
    /// Its label.
    pub(crate) label: String,
    /// What it moves.
    pub(crate) kind: Kind,
    /// One entry per round, in order.
    pub(crate) rounds: Vec<RunResult>,
    /// The CPU time this process (and the children it waited for) spent in each run that
    /// succeeded, in milliseconds: set-up and checks included.
    pub(crate) cpu_ms: Vec<f64>,
}

/// Runs `rounds` rounds of every variant in turn; reports progress on stderr. With
/// `influxd`, each run starts once the server has [settled](super::load::settle); the waits
/// are returned beside the outcomes.
pub(crate) fn interleaved(
    mut variants: Vec<Variant<'_>>,
    rounds: usize,
    influxd: Option<u32>,
) -> (Vec<Outcome>, Vec<super::load::Settled>) {
    let mut results: Vec<Vec<RunResult>> = vec![Vec::with_capacity(rounds); variants.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); variants.len()];
    let mut settled = Vec::new();
    for round in 0..rounds {
        eprint!("round {}/{rounds}:", round + 1);
        for ((variant, results), cpu) in variants.iter_mut().zip(&mut results).zip(&mut cpu) {
            if let Some(pid) = influxd {
                settled.push(super::load::settle(pid));
            }
            let before = super::load::own_cpu_ms();
            // A panic in a peer's code (or ours) fails that run, not the program.
            let result = panic::catch_unwind(AssertUnwindSafe(|| (variant.run)()))
                .unwrap_or_else(|_| Err("panicked (see the message above)".into()));
            if let (Ok(_), Some(before), Some(after)) = (&result, before, super::load::own_cpu_ms())
            {
                cpu.push(after - before);
            }
            eprint!(" {}", if result.is_ok() { "." } else { "x" });
            results.push(result);
        }
        eprintln!();
    }
    let outcomes = variants
        .into_iter()
        .zip(results)
        .zip(cpu)
        .map(|((v, rounds), cpu_ms)| Outcome {
            key: v.key,
            label: v.label,
            kind: v.kind,
            rounds,
            cpu_ms,
        })
        .collect();
    (outcomes, settled)
}

/// Runs `work` against a database of its own, created before and dropped after, and checks
/// that it then holds exactly `points` points.
pub(crate) fn in_fresh_database(
    setup: &Setup,
    prefix: &str,
    points: usize,
    work: impl FnOnce(&str) -> RunResult,
) -> RunResult {
    let (server, admin) = (&setup.server, &setup.admin);
    let db = server.unique_db(prefix);
    admin
        .create_database(&db)
        .map_err(|e| format!("creating database {db}: {e}"))?;
    let outcome = work(&db).and_then(|took| {
        let stored = stored_count(admin, &db)?;
        if stored == points as i64 {
            Ok(took)
        } else {
            Err(format!("{stored} points stored, not {points}"))
        }
    });
    // A database left behind costs the server memory in later rounds, nothing more: the
    // variant's result stands either way.
    if let Err(e) = admin.drop_database(&db) {
        eprintln!("warning: dropping {db}: {e}");
    }
    outcome
}

/// `SELECT count(usage_user) FROM cpu` in `db`.
pub(crate) fn stored_count(client: &Client, db: &str) -> Result<i64, String> {
    let query = format!("SELECT count(usage_user) FROM {MEASUREMENT}");
    let sets = client
        .query_with(&query, &QueryOptions::new().database(db))
        .map_err(|e| format!("counting in {db}: {e}"))?;
    // No row at all: nothing was stored.
    let Some(row) = sets.first().and_then(|set| set.rows().next()) else {
        return Ok(0);
    };
    row.get("count")
        .and_then(|value| value.as_i64())
        .ok_or_else(|| format!("counting in {db}: no integer count in {:?}", row.values()))
}
