//! Variants and interleaved rounds: every variant runs once per round, in turn, so that a
//! noisy machine slows them alike, and a variant measured against a [`reference()`] runs
//! between two runs of it; each run times its own work (setup and checks are left out) and
//! may fail, which is recorded for that round instead of ending the program.

use std::panic::{self, AssertUnwindSafe};

use influx_series::{Client, QueryOptions};

use super::data::MEASUREMENT;
use super::load::Timed;
use super::setup::Setup;

/// Which variant, for the ratios and targets that name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// Pre-encoded bodies over one connection.
    CeilingOne,
    /// Pre-encoded bodies over two connections at once.
    CeilingTwo,
    /// The same bodies posted by curl, two transfers at a time (`--parallel-max 2`).
    CurlTwo,
    /// Not a variant: in a ratio, the faster of [`Key::CeilingTwo`] (its runs beside the
    /// write) and [`Key::CurlTwo`] in each round.
    BestWriteReference,
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
    /// The answer's bytes, fetched chunked by curl.
    Curl,
    /// The answer's bytes, fetched chunked by `Client::query_raw`.
    QueryRaw,
    /// The answer's bytes in MessagePack (which this project's decoding queries ask for),
    /// fetched chunked by curl.
    CurlMsgpack,
    /// Not a variant: in a ratio, the fastest of [`Key::RawChunked`], [`Key::Curl`] and
    /// [`Key::QueryRaw`] in each round.
    FastestFetch,
    /// `Client::query` (a `ResultSet`).
    Query,
    /// `Client::query_as::<Cpu>`.
    QueryAs,
    /// `Client::query_deserialize` into a serde struct.
    QueryDeserialize,
    /// `Client::query_stream`, rows counted.
    QueryStream,
    /// `Client::query_as_stream::<Cpu>`, rows counted.
    QueryAsStream,
    /// `Client::query` asking for JSON answers (`msgpack(false)`).
    QueryJson,
    /// `Client::query_as::<Cpu>` asking for JSON answers.
    QueryAsJson,
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

/// The wall and CPU time of one run's measured work, or why it failed.
pub(crate) type RunResult = Result<Timed, String>;

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
    /// The CPU time this process spent in the timed part of each run that succeeded and
    /// measured it, in microseconds (`getrusage`, every thread; set-up and checks excluded).
    pub(crate) cpu_us: Vec<f64>,
    /// For a variant with a [`reference()`]: per round, the geometric mean of the seconds of
    /// the reference's runs just before and just after it (`None` if either failed).
    pub(crate) bracket: Vec<Option<f64>>,
}

/// The variant a variant's target ratio is taken against, which then runs just before and
/// just after it in every round (one run between two such variants serving both): the
/// machine's speed drifts over seconds (two runs of the ceiling a second apart differ half as
/// much as two runs ten seconds apart), so a ratio to runs beside it is less noisy than one
/// to a run elsewhere in the round.
pub(crate) fn reference(key: Key) -> Option<Key> {
    match key {
        Key::Derive
        | Key::DeriveBackground
        | Key::Writer
        | Key::WritePoints { .. }
        | Key::WritePointsThree => Some(Key::CeilingTwo),
        Key::Query
        | Key::QueryAs
        | Key::QueryDeserialize
        | Key::QueryStream
        | Key::QueryAsStream
        | Key::AsyncQueryAs => Some(Key::RawChunked),
        _ => None,
    }
}

/// What [`interleaved`] did besides the outcomes.
#[derive(Default)]
pub(crate) struct Extra {
    /// The waits for a quiet server before each run (with `influxd`).
    pub(crate) settled: Vec<super::load::Settled>,
    /// Runs of a reference made beside the variants measured against it, beyond its own run
    /// in each round.
    pub(crate) reference_runs: usize,
}

/// The order of the variants in each round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// As given, every round (`compare --in-order`: the method before the shuffling, for
    /// comparison with it).
    AsGiven,
    /// A new order each round, drawn from this seed (the same seed gives the same orders):
    /// writes still come before reads, each shuffled among its own kind, so that where a
    /// variant runs in the round does not decide its figures.
    Shuffled(u64),
}

impl Order {
    /// The indexes of `kinds` in the order of round `round`.
    pub(crate) fn round(self, round: usize, kinds: &[Kind]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..kinds.len()).collect();
        let Order::Shuffled(seed) = self else {
            return order;
        };
        let mut state = seed ^ (round as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut start = 0;
        while start < order.len() {
            let kind = kinds[order[start]];
            let end = start
                + order[start..]
                    .iter()
                    .take_while(|&&i| kinds[i] == kind)
                    .count();
            // Fisher-Yates over this kind's run of variants.
            for i in (start + 1..end).rev() {
                let j = start + (splitmix64(&mut state) % (i - start + 1) as u64) as usize;
                order.swap(i, j);
            }
            start = end;
        }
        order
    }
}

/// The next number of SplitMix64 from `state`.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs `rounds` rounds of every variant, in `order`; reports progress on stderr. A variant with
/// a [`reference()`] among the variants has it run just before and just after it (the
/// reference's own run in the round, or the one after the variant before, counts as the one
/// before; these extra runs are not in the reference's own figures). With `influxd`, each
/// run starts once the server has [settled](super::load::settle).
pub(crate) fn interleaved(
    mut variants: Vec<Variant<'_>>,
    rounds: usize,
    influxd: Option<u32>,
    order: Order,
) -> (Vec<Outcome>, Extra) {
    let n = variants.len();
    let kinds: Vec<Kind> = variants.iter().map(|v| v.kind).collect();
    let mut results: Vec<Vec<RunResult>> = vec![Vec::with_capacity(rounds); n];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); n];
    let mut brackets: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(rounds); n];
    let (mut settled, mut reference_runs) = (Vec::new(), 0);
    let keys: Vec<Key> = variants.iter().map(|v| v.key).collect();
    // The index of each variant's reference among the variants, if it has one there.
    let references: Vec<Option<usize>> = keys
        .iter()
        .map(|&key| reference(key).and_then(|r| keys.iter().position(|&k| k == r)))
        .collect();
    let mut once = |variant: &mut Variant<'_>, cpu: Option<&mut Vec<f64>>| {
        if let Some(pid) = influxd {
            settled.push(super::load::settle(pid));
        }
        // A panic in a peer's code (or ours) fails that run, not the program.
        let result = panic::catch_unwind(AssertUnwindSafe(|| (variant.run)()))
            .unwrap_or_else(|_| Err("panicked (see the message above)".into()));
        if let (
            Ok(Timed {
                cpu_us: Some(us), ..
            }),
            Some(cpu),
        ) = (&result, cpu)
        {
            cpu.push(*us);
        }
        eprint!(" {}", if result.is_ok() { "." } else { "x" });
        result
    };
    for round in 0..rounds {
        eprint!("round {}/{rounds}:", round + 1);
        // The last run, if it was of a reference: (its index, its seconds).
        let mut last: Option<(usize, Option<f64>)> = None;
        for i in order.round(round, &kinds) {
            let seconds = |r: &RunResult| r.as_ref().ok().map(|t| t.wall.as_secs_f64());
            let Some(r) = references[i] else {
                let result = once(&mut variants[i], Some(&mut cpu[i]));
                last = Some((i, seconds(&result)));
                results[i].push(result);
                brackets[i].push(None);
                continue;
            };
            let before = match last {
                Some((at, before)) if at == r => before,
                _ => {
                    reference_runs += 1;
                    seconds(&once(&mut variants[r], None))
                }
            };
            let result = once(&mut variants[i], Some(&mut cpu[i]));
            results[i].push(result);
            reference_runs += 1;
            let after = seconds(&once(&mut variants[r], None));
            brackets[i].push(before.zip(after).map(|(b, a)| (b * a).sqrt()));
            last = Some((r, after));
        }
        eprintln!();
    }
    let outcomes = variants
        .into_iter()
        .zip(results)
        .zip(cpu)
        .zip(brackets)
        .map(|(((v, rounds), cpu_us), bracket)| Outcome {
            key: v.key,
            label: v.label,
            kind: v.kind,
            rounds,
            cpu_us,
            bracket,
        })
        .collect();
    (
        outcomes,
        Extra {
            settled,
            reference_runs,
        },
    )
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
        .ok_or_else(|| format!("counting in {db}: no integer count in {row:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_round_shuffles_writes_and_reads_apart_and_a_seed_repeats_it() {
        let kinds = [Kind::Write; 6]
            .into_iter()
            .chain([Kind::Read; 4])
            .collect::<Vec<_>>();
        assert_eq!(Order::AsGiven.round(3, &kinds), (0..10).collect::<Vec<_>>());
        let order = Order::Shuffled(42);
        let rounds: Vec<Vec<usize>> = (0..8).map(|r| order.round(r, &kinds)).collect();
        for round in &rounds {
            // Each index once; writes (0..6) before reads (6..10).
            let mut sorted = round.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..10).collect::<Vec<_>>());
            assert!(round[..6].iter().all(|&i| i < 6), "{round:?}");
        }
        // The rounds differ from each other, and the seed gives them again.
        assert!(rounds.windows(2).any(|w| w[0] != w[1]), "{rounds:?}");
        assert_eq!(rounds[5], Order::Shuffled(42).round(5, &kinds));
        assert_ne!(rounds[5], Order::Shuffled(43).round(5, &kinds));
    }

    use std::cell::RefCell;
    use std::time::Duration;

    #[test]
    fn a_variant_with_a_reference_runs_between_two_runs_of_it() {
        let order = RefCell::new(Vec::new());
        // Each run of a variant takes as many milliseconds as it has run before, plus its base,
        // and as many microseconds of CPU as it has run.
        let variant = |key: Key, base: u64| {
            let order = &order;
            let mut runs = 0;
            Variant {
                key,
                label: format!("{key:?}"),
                kind: Kind::Write,
                run: Box::new(move || {
                    order.borrow_mut().push(key);
                    runs += 1;
                    Ok(Timed {
                        wall: Duration::from_millis(base + runs),
                        cpu_us: Some(runs as f64),
                    })
                }),
            }
        };
        let variants = vec![
            variant(Key::CeilingTwo, 99),
            variant(Key::ClientBodies, 0),
            variant(Key::Derive, 0),
            variant(Key::Writer, 0),
        ];
        let (outcomes, extra) = interleaved(variants, 2, None, Order::AsGiven);
        let round = [
            Key::CeilingTwo,
            Key::ClientBodies,
            Key::CeilingTwo,
            Key::Derive,
            Key::CeilingTwo,
            Key::Writer,
            Key::CeilingTwo,
        ];
        assert_eq!(*order.borrow(), [round, round].concat());
        assert_eq!(extra.reference_runs, 6);
        // The ceiling's own row holds its first run of each round: 100 ms, then 104 ms.
        let ceiling: Vec<_> = outcomes[0]
            .rounds
            .iter()
            .map(|r| r.clone().unwrap().wall)
            .collect();
        assert_eq!(
            ceiling,
            [Duration::from_millis(100), Duration::from_millis(104)]
        );
        // CPU is kept for a variant's own runs only, not for a reference's runs around
        // another: the ceiling's runs 1 and 5, the derive's 1 and 2.
        assert_eq!(outcomes[0].cpu_us, [1.0, 5.0]);
        assert_eq!(outcomes[2].cpu_us, [1.0, 2.0]);
        // The derive ran between the ceiling's runs 2 and 3 of the round (101 and 102 ms),
        // the writer between 3 and 4; no bracket for a variant without a reference.
        let ms = |s: f64| (s * 1e6).round() / 1e3;
        let bracket = |i: usize| -> Vec<Option<f64>> {
            outcomes[i].bracket.iter().map(|b| b.map(ms)).collect()
        };
        let mean = |a: f64, b: f64| Some(ms((a * b).sqrt() / 1e3));
        assert_eq!(bracket(1), [None, None]);
        assert_eq!(bracket(2), [mean(101.0, 102.0), mean(105.0, 106.0)]);
        assert_eq!(bracket(3), [mean(102.0, 103.0), mean(106.0, 107.0)]);
    }
}
