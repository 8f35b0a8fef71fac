//! From the rounds' times to what is reported: each variant's median, min and max; ratios
//! taken per round and summarised the same way; and the DESIGN.md section-7 targets this
//! program measures, each met or not.

use super::memory::{Measured, Probe};
use super::text::grouped;
use super::variant::{Key, Outcome, reference};

/// A median with the smallest and largest value it was taken from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spread {
    /// The median.
    pub(crate) median: f64,
    /// The smallest value.
    pub(crate) min: f64,
    /// The largest value.
    pub(crate) max: f64,
}

impl Spread {
    /// `None` for no values.
    pub(crate) fn of(mut values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: values[0],
            max: values[n - 1],
        })
    }
}

/// One variant's summary.
pub(crate) struct Summary<'a> {
    /// What ran.
    pub(crate) outcome: &'a Outcome,
    /// Seconds over the rounds it succeeded in.
    pub(crate) seconds: Option<Spread>,
    /// Points or rows a second over the same rounds.
    pub(crate) rate: Option<Spread>,
    /// Rounds it failed in, and the first error.
    pub(crate) failed: Option<(usize, String)>,
    /// This process's CPU microseconds in a run's timed part, over the rounds it succeeded
    /// in (see [`Outcome::cpu_us`]).
    pub(crate) cpu_us: Option<Spread>,
}

/// Summarises every outcome; `items` is the points or rows each run moves.
pub(crate) fn summarise(outcomes: &[Outcome], items: usize) -> Vec<Summary<'_>> {
    outcomes
        .iter()
        .map(|outcome| {
            let seconds: Vec<f64> = outcome
                .rounds
                .iter()
                .filter_map(|r| r.as_ref().ok().map(|t| t.wall.as_secs_f64()))
                .collect();
            let errors: Vec<&String> = outcome
                .rounds
                .iter()
                .filter_map(|r| r.as_ref().err())
                .collect();
            Summary {
                outcome,
                rate: Spread::of(seconds.iter().map(|s| items as f64 / s).collect()),
                seconds: Spread::of(seconds),
                failed: errors.first().map(|e| (errors.len(), (*e).clone())),
                cpu_us: Spread::of(outcome.cpu_us.clone()),
            }
        })
        .collect()
}

/// How a ratio compares two variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum How {
    /// The first one's throughput over the second's (the second's time over the first's).
    Rate,
    /// The first one's time over the second's.
    Time,
}

/// One ratio, per round then summarised.
pub(crate) struct Ratio {
    /// The first variant.
    pub(crate) first: Key,
    /// The second variant.
    pub(crate) second: Key,
    /// `A vs B`.
    pub(crate) label: String,
    /// Whether it compares rates or times.
    pub(crate) how: How,
    /// The summary, or why there is none (a variant that failed every round).
    pub(crate) value: Result<Spread, String>,
}

/// A short name of a variant, for ratio labels.
pub(crate) fn short(key: Key) -> String {
    match key {
        Key::CeilingOne => "ceiling (1 connection)".into(),
        Key::CeilingTwo => "ceiling (2 connections)".into(),
        Key::CurlTwo => "curl (2 connections)".into(),
        Key::BestWriteReference => {
            "the round's best write reference (ceiling and curl, 2 connections each)".into()
        }
        Key::ClientBodies => "this client posting the ceiling's bodies".into(),
        Key::WritePointsThree => "write_points (gzip off, 3 in flight)".into(),
        Key::Derive => "derive".into(),
        Key::DeriveBackground => "derive (background autocommit)".into(),
        Key::Writer => "buffered writer".into(),
        Key::WritePoints {
            gzip,
            one_in_flight,
        } => format!(
            "write_points (gzip {}, {} in flight)",
            if gzip { "on" } else { "off" },
            if one_in_flight { "1" } else { "default" }
        ),
        Key::CrateWrite => "influxdb crate write".into(),
        Key::PythonWritePoints => "influxdb-python write_points".into(),
        Key::PythonSeriesHelper => "influxdb-python SeriesHelper".into(),
        Key::RawChunked => "raw chunked fetch".into(),
        Key::RawWhole => "raw unchunked fetch".into(),
        Key::Curl => "curl".into(),
        Key::QueryRaw => "query_raw".into(),
        Key::CurlMsgpack => "curl (MessagePack)".into(),
        Key::QueryJson => "query (JSON answers)".into(),
        Key::QueryAsJson => "query_as (JSON answers)".into(),
        Key::FastestFetch => "the round's fastest chunked fetch (raw, curl, query_raw)".into(),
        Key::Query => "query".into(),
        Key::QueryAs => "query_as".into(),
        Key::QueryDeserialize => "query_deserialize".into(),
        Key::QueryStream => "query_stream".into(),
        Key::QueryAsStream => "query_as_stream".into(),
        Key::CrateQuery => "influxdb crate query".into(),
        Key::PythonQuery => "influxdb-python query".into(),
        Key::AsyncWritePoints => "async write_points (default in flight)".into(),
        Key::AsyncQueryAs => "async query_as".into(),
        Key::Encode { threads: 1 } => "derive encode".into(),
        Key::Encode { threads } => format!("derive encode ({threads} threads)"),
        Key::CrateEncode => "influxdb crate derive encode".into(),
        Key::RecordPass => "record() into the type's buffer, emptied every pass".into(),
        Key::Record { threads: 1 } => "record() into the type's buffer (1 thread)".into(),
        Key::Record { threads } => format!("record() from {threads} threads at once"),
        Key::WriterRecord { threads } => format!(
            "buffered writer record() ({threads} thread{})",
            super::text::plural(threads)
        ),
    }
}

const WRITE_POINTS: Key = Key::WritePoints {
    gzip: false,
    one_in_flight: false,
};

/// Every ratio reported: `(first, second, how)`.
fn ratio_specs() -> Vec<(Key, Key, How)> {
    let ours = [
        Key::Derive,
        Key::Writer,
        WRITE_POINTS,
        Key::WritePoints {
            gzip: true,
            one_in_flight: false,
        },
        Key::WritePoints {
            gzip: false,
            one_in_flight: true,
        },
        Key::WritePoints {
            gzip: true,
            one_in_flight: true,
        },
        Key::DeriveBackground,
    ];
    let mut specs = Vec::new();
    for ceiling in [Key::CeilingOne, Key::CeilingTwo] {
        specs.extend(ours.iter().map(|&key| (key, ceiling, How::Rate)));
    }
    specs.extend([
        (Key::CeilingTwo, Key::CeilingOne, How::Rate),
        (Key::CurlTwo, Key::CeilingTwo, How::Rate),
        (Key::ClientBodies, Key::CeilingOne, How::Rate),
        (Key::WritePointsThree, WRITE_POINTS, How::Rate),
        (Key::WritePointsThree, Key::CeilingTwo, How::Rate),
        (ours[4], Key::ClientBodies, How::Rate),
        (ours[3], ours[2], How::Rate),
        (ours[5], ours[4], How::Rate),
        (ours[2], ours[4], How::Rate),
        (Key::Query, Key::RawChunked, How::Rate),
        (Key::QueryAs, Key::RawChunked, How::Rate),
        (Key::QueryDeserialize, Key::RawChunked, How::Rate),
        (Key::QueryStream, Key::RawChunked, How::Rate),
        (Key::AsyncQueryAs, Key::RawChunked, How::Rate),
        (Key::QueryAsStream, Key::RawChunked, How::Rate),
        (Key::RawWhole, Key::RawChunked, How::Rate),
        (Key::QueryRaw, Key::Curl, How::Rate),
        (Key::RawChunked, Key::Curl, How::Rate),
        (Key::CurlMsgpack, Key::Curl, How::Rate),
        (Key::Query, Key::CurlMsgpack, How::Rate),
        (Key::QueryAs, Key::CurlMsgpack, How::Rate),
        (Key::QueryStream, Key::CurlMsgpack, How::Rate),
        (Key::AsyncQueryAs, Key::CurlMsgpack, How::Rate),
        (Key::QueryJson, Key::Query, How::Rate),
        (Key::QueryAsJson, Key::QueryAs, How::Rate),
        (Key::QueryAs, Key::RawChunked, How::Time),
        (WRITE_POINTS, Key::CrateWrite, How::Rate),
        (WRITE_POINTS, Key::PythonWritePoints, How::Rate),
        (Key::Derive, Key::PythonSeriesHelper, How::Rate),
        (Key::QueryAs, Key::CrateQuery, How::Rate),
        (Key::Query, Key::PythonQuery, How::Rate),
        (Key::QueryAs, Key::PythonQuery, How::Rate),
        (Key::AsyncWritePoints, WRITE_POINTS, How::Time),
        (Key::AsyncQueryAs, Key::QueryAs, How::Time),
    ]);
    specs
}

const ENCODE: Key = Key::Encode { threads: 1 };
const ENCODE_TWO: Key = Key::Encode { threads: 2 };
const ENCODE_FOUR: Key = Key::Encode { threads: 4 };
const RECORD_ONE: Key = Key::Record { threads: 1 };
const RECORD_TWO: Key = Key::Record { threads: 2 };
const RECORD_FOUR: Key = Key::Record { threads: 4 };
const WRITER_ONE: Key = Key::WriterRecord { threads: 1 };
const WRITER_TWO: Key = Key::WriterRecord { threads: 2 };

/// The writes of this project held against the best write reference.
const WRITES_OF_OURS: [Key; 5] = [
    WRITE_POINTS,
    Key::Derive,
    Key::DeriveBackground,
    Key::Writer,
    Key::AsyncWritePoints,
];

/// Each write of ours against the faster, per round, of the two-connection references: the
/// minimal client's runs just before and after it, and curl's run in the same round (when
/// curl ran).
pub(crate) fn best_write_reference_ratios(outcomes: &[Outcome]) -> Vec<Ratio> {
    let curl = outcomes.iter().find(|o| o.key == Key::CurlTwo);
    let ceiling = outcomes.iter().find(|o| o.key == Key::CeilingTwo);
    if curl.is_none() && ceiling.is_none() {
        return Vec::new();
    }
    outcomes
        .iter()
        .filter(|o| WRITES_OF_OURS.contains(&o.key))
        .map(|write| {
            let per_round: Vec<f64> = write
                .rounds
                .iter()
                .enumerate()
                .filter_map(|(round, run)| {
                    let seconds = run.as_ref().ok()?.wall.as_secs_f64();
                    // The minimal client's runs beside this write (for a write run without
                    // them, its run of the round), and curl's run of the round.
                    let beside = if reference(write.key) == Some(Key::CeilingTwo) {
                        write.bracket.get(round).copied().flatten()
                    } else {
                        let run = ceiling.and_then(|c| c.rounds.get(round)?.as_ref().ok());
                        run.map(|t| t.wall.as_secs_f64())
                    };
                    let curl = curl
                        .and_then(|c| c.rounds.get(round)?.as_ref().ok())
                        .map(|t| t.wall.as_secs_f64());
                    let best = [beside, curl]
                        .into_iter()
                        .flatten()
                        .min_by(f64::total_cmp)?;
                    Some(best / seconds)
                })
                .collect();
            against_best(
                write.key,
                Key::BestWriteReference,
                per_round,
                "both references",
            )
        })
        .collect()
}

/// The ratio of `first` against the best of its references (`best`), from its per-round
/// values; without any, why (`references`: which failed).
fn against_best(first: Key, best: Key, per_round: Vec<f64>, references: &str) -> Ratio {
    Ratio {
        first,
        second: best,
        label: label(first, best, How::Rate),
        how: How::Rate,
        value: Spread::of(per_round)
            .ok_or_else(|| format!("n/a: {} or {references} failed", short(first))),
    }
}

/// Every ratio of the part without a server (cpu.rs), whose batches all hold the same
/// number of points.
fn cpu_ratio_specs() -> Vec<(Key, Key, How)> {
    vec![
        (ENCODE, Key::CrateEncode, How::Rate),
        (Key::RecordPass, ENCODE, How::Time),
        (RECORD_ONE, ENCODE, How::Time),
        (WRITER_ONE, ENCODE, How::Time),
        (WRITER_TWO, ENCODE_TWO, How::Time),
        (ENCODE_TWO, ENCODE, How::Rate),
        (RECORD_TWO, RECORD_ONE, How::Rate),
        (RECORD_FOUR, RECORD_TWO, How::Rate),
        (RECORD_FOUR, RECORD_ONE, How::Rate),
        // The same for encoding alone, which shares nothing: what 4 threads on 2 cores cost
        // any work.
        (ENCODE_FOUR, ENCODE_TWO, How::Rate),
        (RECORD_FOUR, ENCODE_FOUR, How::Time),
    ]
}

/// How a ratio is named.
fn label(first: Key, second: Key, how: How) -> String {
    match how {
        How::Rate => format!("{} vs {}", short(first), short(second)),
        How::Time => format!("{} time / {} time", short(first), short(second)),
    }
}

/// Every ratio of the rounds against the server whose two variants ran.
pub(crate) fn ratios(outcomes: &[Outcome]) -> Vec<Ratio> {
    ratios_of(outcomes, ratio_specs())
}

/// The reads of this project held against the fastest chunked fetch of the answer's bytes.
const READS: [Key; 6] = [
    Key::Query,
    Key::QueryAs,
    Key::QueryDeserialize,
    Key::QueryStream,
    Key::QueryAsStream,
    Key::AsyncQueryAs,
];

/// The reads of this project asking for JSON answers, held against the same fetches (no
/// target of their own: MessagePack is the default).
const JSON_READS: [Key; 2] = [Key::QueryJson, Key::QueryAsJson];

/// The fetches a read is held against: the fastest of them in each round.
const FETCHES: [Key; 3] = [Key::RawChunked, Key::Curl, Key::QueryRaw];

/// Each read of ours (that ran) against the fastest of the fetches that ran, per round: the
/// read's rate over the best fetch's rate in the same round (each variant's own run).
pub(crate) fn fastest_fetch_ratios(outcomes: &[Outcome]) -> Vec<Ratio> {
    let fetches: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| FETCHES.contains(&o.key))
        .collect();
    if fetches.is_empty() {
        return Vec::new();
    }
    outcomes
        .iter()
        .filter(|o| READS.contains(&o.key) || JSON_READS.contains(&o.key))
        .map(|read| {
            let per_round: Vec<f64> = read
                .rounds
                .iter()
                .enumerate()
                .filter_map(|(round, run)| {
                    let seconds = run.as_ref().ok()?.wall.as_secs_f64();
                    let fastest = fetches
                        .iter()
                        .filter_map(|f| f.rounds.get(round)?.as_ref().ok())
                        .map(|t| t.wall.as_secs_f64())
                        .min_by(f64::total_cmp)?;
                    Some(fastest / seconds)
                })
                .collect();
            against_best(read.key, Key::FastestFetch, per_round, "every fetch")
        })
        .collect()
}

/// Every ratio of the part without a server whose two variants ran.
pub(crate) fn cpu_ratios(outcomes: &[Outcome]) -> Vec<Ratio> {
    ratios_of(outcomes, cpu_ratio_specs())
}

/// The ratios of `specs` whose two variants are among `outcomes`, per round then summarised.
fn ratios_of(outcomes: &[Outcome], specs: Vec<(Key, Key, How)>) -> Vec<Ratio> {
    let find = |key| outcomes.iter().find(|o| o.key == key);
    specs
        .into_iter()
        .filter_map(|(a, b, how)| {
            let (first, second) = (find(a)?, find(b)?);
            // Against the reference's runs beside it, when it ran between them.
            let bracketed = reference(a) == Some(b);
            let per_round: Vec<f64> = first
                .rounds
                .iter()
                .zip(&second.rounds)
                .enumerate()
                .filter_map(|(round, (x, y))| {
                    let (x, y) = (
                        x.as_ref().ok()?.wall.as_secs_f64(),
                        if bracketed {
                            first.bracket.get(round).copied().flatten()?
                        } else {
                            y.as_ref().ok()?.wall.as_secs_f64()
                        },
                    );
                    Some(match how {
                        How::Rate => y / x,
                        How::Time => x / y,
                    })
                })
                .collect();
            let value = Spread::of(per_round).ok_or_else(|| {
                let mut failed: Vec<String> = [first, second]
                    .iter()
                    .filter(|o| o.rounds.iter().any(Result::is_err))
                    .map(|o| short(o.key))
                    .collect();
                if bracketed && failed.is_empty() {
                    failed.push(format!("every {} run beside it", short(b)));
                }
                format!("n/a: {} failed", failed.join(" and "))
            });
            Some(Ratio {
                first: a,
                second: b,
                label: label(a, b, how),
                how,
                value,
            })
        })
        .collect()
}

/// A DESIGN.md section-7 target, as measured here.
pub(crate) struct Target {
    /// The target, in DESIGN.md's words.
    pub(crate) wording: &'static str,
    /// What stands for it here.
    pub(crate) measured: String,
    /// The measurement, formatted.
    pub(crate) value: String,
    /// Met, not met, or not measured (`None`).
    pub(crate) met: Option<bool>,
}

/// DESIGN.md section 7, word for word (the program never reads DESIGN.md).
const WRITES: &str =
    "end-to-end writes >= 95 % of the server's own ceiling (pre-serialised bodies, same run)";
const IN_FLIGHT: &str =
    "writes keep up to N requests in flight: >= 0.95x of the two-connection ceiling";
const QUERY_VS_CURL: &str = "`query` and `query_as` of 100 k and 1 M rows >= 0.9x of a chunked \
                             curl fetch of the same query";
const TYPED_DECODE: &str = "typed decode of 100 000 rows from a live server: `query_as` within \
                            1.15x of fetching the same response bytes (interleaved medians)";
const STREAMING: &str = "chunked streaming of 1 M rows with peak RSS under 64 MiB";
const QUERY_AS_MEMORY: &str =
    "`query_as` of 1 M rows peaks at <= 1.3x the returned `Vec` plus 16 MiB";
const DERIVE_ENCODE: &str =
    "derive encoding >= 20x the `influxdb` crate's derive on the same points";
const RECORD: &str = "`record()` into a per-type buffer costs at most 1.3x encoding the same \
                      point alone (explicit timestamp, no contention)";
const WRITER_RECORD: &str = "the buffered writer's `record()` at most 2x";
const THREADS: &str = "`record()` from 2 threads >= 1.6x one thread's rate on 2 cores; 4 \
                       threads no slower than 2";
const ASYNC: &str = "the async client within 10 % of the blocking one";

const READ_AT_WIRE: &str = "`query`, `query_as`, `query_deserialize`, both streams and the async \
                            client >= 0.95x of the fastest chunked fetch of the same answer \
                            (curl, `query_raw`, the raw fetch) in the same round";
const READ_CPU: &str = "a read's client CPU at most 2x `query_raw`'s for the same answer (medians)";
const FETCH_AT_WIRE: &str = "`query_raw` (chunked) >= 0.95x of curl's chunked fetch of the same \
                             answer in the same round";
const RESULTSET_MEMORY: &str =
    "`query` (a `ResultSet`) of 1 M rows peaks at <= 1.5x the answer's bytes + 16 MiB";

const MIB: f64 = 1024.0 * 1024.0;

/// The targets of a part of reads (`part` names it: rows, query): `query_raw` against curl
/// (from the part's `ratios`), each read against the round's fastest fetch, and its client CPU
/// against `query_raw`'s.
pub(crate) fn read_targets(
    part: &str,
    ratios: &[Ratio],
    fastest: &[Ratio],
    summaries: &[Summary<'_>],
) -> Vec<Target> {
    let fetch = ratios
        .iter()
        .filter(|r| (r.first, r.second, r.how) == (Key::QueryRaw, Key::Curl, How::Rate));
    let mut out: Vec<Target> = fetch
        .chain(fastest.iter().filter(|r| READS.contains(&r.first)))
        .map(|r| {
            let (value, met) = match &r.value {
                Ok(s) => (
                    format!("{:.2}x ({:.2}x-{:.2}x)", s.median, s.min, s.max),
                    Some(s.median >= 0.95),
                ),
                Err(e) => (e.clone(), None),
            };
            let (wording, measured) = if r.first == Key::QueryRaw {
                (FETCH_AT_WIRE, format!("query_raw vs curl, {part}"))
            } else {
                (READ_AT_WIRE, format!("{}, {part}", short(r.first)))
            };
            Target {
                wording,
                measured,
                value,
                met,
            }
        })
        .collect();
    let cpu = |key| {
        summaries
            .iter()
            .find(|s| s.outcome.key == key)
            .and_then(|s| s.cpu_us)
            .map(|c| c.median)
    };
    let Some(raw) = cpu(Key::QueryRaw).filter(|&us| us > 0.0) else {
        return out;
    };
    for key in READS {
        let Some(us) = cpu(key) else {
            continue;
        };
        out.push(Target {
            wording: READ_CPU,
            measured: format!("{}, {part}", short(key)),
            value: format!(
                "{:.2}x ({:.1} ms against {:.1} ms)",
                us / raw,
                us / 1e3,
                raw / 1e3
            ),
            met: Some(us <= 2.0 * raw),
        });
    }
    out
}

const SUSTAINED: &str = "sustained writes (1 M points, default limits) >= 0.95x of the \
                         two-connection ceiling, with every refused point counted";

/// The sustained writes against the ceiling run beside them.
pub(crate) fn sustained_targets(ratios: &[Ratio]) -> Vec<Target> {
    [WRITE_POINTS, Key::Writer, Key::DeriveBackground]
        .into_iter()
        .filter_map(|key| {
            let r = ratios
                .iter()
                .find(|r| (r.first, r.second, r.how) == (key, Key::CeilingTwo, How::Rate))?;
            let (value, met) = match &r.value {
                Ok(s) => (
                    format!("{:.2}x ({:.2}x-{:.2}x)", s.median, s.min, s.max),
                    Some(s.median >= 0.95),
                ),
                Err(e) => (e.clone(), None),
            };
            Some(Target {
                wording: SUSTAINED,
                measured: r.label.clone(),
                value,
                met,
            })
        })
        .collect()
}

/// `query`'s peak memory holding 1 M rows against the answer's size (chunked, as it reads
/// it).
pub(crate) fn resultset_memory_target(
    memory: Option<(usize, &[Measured])>,
    answer_bytes: Option<usize>,
) -> Target {
    let peak = memory.and_then(|(_, m)| m.iter().find(|m| m.probe == Probe::Query));
    let (value, met) = match (peak.map(|m| &m.peak), answer_bytes) {
        (Some(Ok(peak)), Some(bytes)) if peak.error.is_none() => {
            let (peak_mib, answer_mib) = (peak.kib as f64 * 1024.0 / MIB, bytes as f64 / MIB);
            let bound = 1.5 * answer_mib + 16.0;
            (
                format!(
                    "{peak_mib:.1} MiB peak for a {answer_mib:.1} MiB answer: bound {bound:.1} MiB"
                ),
                Some(peak_mib <= bound),
            )
        }
        (Some(Ok(peak)), _) if peak.error.is_some() => (
            format!("failed: {}", peak.error.as_deref().unwrap_or("")),
            None,
        ),
        (Some(Err(e)), _) => (format!("failed: {e}"), None),
        _ => ("not measured".into(), None),
    };
    Target {
        wording: RESULTSET_MEMORY,
        measured: memory.map_or_else(
            || "query (ResultSet)".into(),
            |(rows, _)| format!("query (ResultSet), {} rows", grouped(rows)),
        ),
        value,
        met,
    }
}

/// Checks every target against the ratios of the rounds against the server, those of the
/// part without one (`cpu`), and the memory probes with the rows they read (`None` without
/// the memory part).
pub(crate) fn targets(
    ratios: &[Ratio],
    cpu: &[Ratio],
    memory: Option<(usize, &[Measured])>,
) -> Vec<Target> {
    let mut out = Vec::new();
    let mut ratio_target = |wording, first: Key, second: Key, how: How, bound: f64| {
        let found = ratios
            .iter()
            .chain(cpu)
            .find(|r| (r.first, r.second, r.how) == (first, second, how));
        let (value, met) = match found.map(|r| &r.value) {
            Some(Ok(s)) => (
                format!("{:.2}x ({:.2}x-{:.2}x)", s.median, s.min, s.max),
                Some(match how {
                    How::Rate => s.median >= bound,
                    How::Time => s.median <= bound,
                }),
            ),
            Some(Err(e)) => (e.clone(), None),
            None => ("not measured".into(), None),
        };
        out.push(Target {
            wording,
            measured: label(first, second, how),
            value,
            met,
        });
    };
    ratio_target(DERIVE_ENCODE, ENCODE, Key::CrateEncode, How::Rate, 20.0);
    ratio_target(RECORD, Key::RecordPass, ENCODE, How::Time, 1.3);
    ratio_target(WRITER_RECORD, WRITER_ONE, ENCODE, How::Time, 2.0);
    for ours in [
        WRITE_POINTS,
        Key::Derive,
        Key::DeriveBackground,
        Key::Writer,
    ] {
        ratio_target(WRITES, ours, Key::BestWriteReference, How::Rate, 0.95);
    }
    ratio_target(
        IN_FLIGHT,
        WRITE_POINTS,
        Key::BestWriteReference,
        How::Rate,
        0.95,
    );
    for ours in [Key::Query, Key::QueryAs] {
        ratio_target(QUERY_VS_CURL, ours, Key::RawChunked, How::Rate, 0.9);
    }
    ratio_target(TYPED_DECODE, Key::QueryAs, Key::RawChunked, How::Time, 1.15);
    ratio_target(THREADS, RECORD_TWO, RECORD_ONE, How::Rate, 1.6);
    ratio_target(THREADS, RECORD_FOUR, RECORD_TWO, How::Rate, 1.0);
    ratio_target(ASYNC, Key::AsyncWritePoints, WRITE_POINTS, How::Time, 1.1);
    ratio_target(ASYNC, Key::AsyncQueryAs, Key::QueryAs, How::Time, 1.1);
    let Some((rows, memory)) = memory else {
        return out;
    };
    let rows = grouped(rows);
    let find = |probe| memory.iter().find(|m| m.probe == probe).map(|m| &m.peak);
    for probe in [Probe::QueryAsStream, Probe::QueryStream] {
        let (value, met) = match find(probe) {
            Some(Ok(peak)) if peak.error.is_none() => {
                let mib = peak.kib as f64 * 1024.0 / MIB;
                (format!("{mib:.1} MiB peak RSS"), Some(mib < 64.0))
            }
            Some(Ok(peak)) => (
                format!("failed: {}", peak.error.as_deref().unwrap_or("")),
                None,
            ),
            Some(Err(e)) => (format!("failed: {e}"), None),
            None => ("not measured".into(), None),
        };
        out.push(Target {
            wording: STREAMING,
            measured: format!("{}, {rows} rows", probe.label()),
            value,
            met,
        });
    }
    let (value, met) = match find(Probe::QueryAs) {
        Some(Ok(peak)) if peak.error.is_none() => match (peak.vec_held_bytes, peak.vec_bytes) {
            (Some(held), Some(counted)) => {
                let peak_mib = peak.kib as f64 * 1024.0 / MIB;
                let (held_mib, counted_mib) = (held as f64 / MIB, counted as f64 / MIB);
                let bound = 1.3 * held_mib + 16.0;
                let counted_bound = 1.3 * counted_mib + 16.0;
                (
                    // Short enough for a table cell (160 characters).
                    format!(
                        "{peak_mib:.1} MiB peak, {:.2}x the Vec as held ({held_mib:.1} MiB): \
                         bound {bound:.1} MiB; from capacities ({counted_mib:.1} MiB): \
                         bound {counted_bound:.1} MiB, {}",
                        peak_mib / held_mib,
                        if peak_mib <= counted_bound {
                            "within"
                        } else {
                            "over"
                        }
                    ),
                    Some(peak_mib <= bound),
                )
            }
            _ => ("no Vec size reported".into(), None),
        },
        Some(Ok(peak)) => (
            format!("failed: {}", peak.error.as_deref().unwrap_or("")),
            None,
        ),
        Some(Err(e)) => (format!("failed: {e}"), None),
        None => ("not measured".into(), None),
    };
    out.push(Target {
        wording: QUERY_AS_MEMORY,
        measured: format!("query_as::<Cpu>, {rows} rows"),
        value,
        met,
    });
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::compare::load::Timed;
    use crate::compare::variant::Kind;

    fn outcome(key: Key, millis: &[u64]) -> Outcome {
        Outcome {
            key,
            label: short(key),
            kind: Kind::Write,
            rounds: millis
                .iter()
                .map(|&ms| Ok(Timed::wall_only(Duration::from_millis(ms))))
                .collect(),
            cpu_us: Vec::new(),
            bracket: vec![None; millis.len()],
        }
    }

    #[test]
    fn cpu_ratios_are_taken_per_round_and_judged_against_their_targets() {
        let outcomes = [
            outcome(ENCODE, &[10, 20, 10]),
            outcome(Key::CrateEncode, &[250, 300, 150]),
            outcome(Key::RecordPass, &[12, 30, 11]),
        ];
        let ratios = cpu_ratios(&outcomes);
        let find = |first, second| {
            ratios
                .iter()
                .find(|r| (r.first, r.second) == (first, second))
                .and_then(|r| r.value.as_ref().ok())
                .copied()
                .expect("a ratio")
        };
        // Per round 25x, 15x and 15x: the median is 15x, not 700 / 40.
        let derive = find(ENCODE, Key::CrateEncode);
        assert_eq!((derive.median, derive.min, derive.max), (15.0, 15.0, 25.0));
        let record = find(Key::RecordPass, ENCODE);
        assert!((record.median - 1.2).abs() < 1e-9, "{record:?}");
        assert_eq!(ratios.len(), 2, "only ratios whose variants both ran");

        let targets = targets(&[], &ratios, None);
        let met = |wording: &str| {
            targets
                .iter()
                .filter(|t| t.wording == wording)
                .map(|t| t.met)
                .collect::<Vec<_>>()
        };
        assert_eq!(met(DERIVE_ENCODE), [Some(false)]);
        assert_eq!(met(RECORD), [Some(true)]);
        assert_eq!(met(THREADS), [None, None], "not measured");
        assert_eq!(met(ASYNC), [None, None], "not measured");
    }

    #[test]
    fn a_write_is_compared_with_the_ceiling_runs_beside_it() {
        let mut writer = outcome(Key::Writer, &[100, 100, 100]);
        // The ceiling's own runs of each round were fast; the runs beside the writer were
        // not, and they are what the writer is compared with.
        writer.bracket = vec![Some(0.095), Some(0.110), None];
        let outcomes = [outcome(Key::CeilingTwo, &[50, 50, 50]), writer];
        let found = ratios(&outcomes);
        let ratio = found
            .iter()
            .find(|r| (r.first, r.second) == (Key::Writer, Key::CeilingTwo))
            .and_then(|r| r.value.as_ref().ok())
            .copied()
            .expect("a ratio");
        // Rounds 1 and 2 only (the third has no bracket): 0.95x and 1.10x.
        assert!(
            (ratio.min - 0.95).abs() < 1e-9 && (ratio.max - 1.10).abs() < 1e-9,
            "{ratio:?}"
        );
        // Its target, against the best reference: without curl, the same runs beside it.
        let mut all = found;
        all.extend(best_write_reference_ratios(&outcomes));
        let target = targets(&all, &[], None)
            .into_iter()
            .find(|t| {
                t.measured
                    .starts_with("buffered writer vs the round's best write")
            })
            .expect("the writer's target");
        assert!(target.value.ends_with("(0.95x-1.10x)"), "{}", target.value);
        assert_eq!(target.met, Some(true));
        // With curl faster than the runs beside it in round 2 (and the only reference in
        // round 3), the best of them is taken each round: 0.95x, 0.90x, 0.92x.
        let [ceiling, writer] = outcomes;
        let curl = outcome(Key::CurlTwo, &[200, 90, 92]);
        let best = best_write_reference_ratios(&[ceiling, writer, curl]);
        let value = best
            .iter()
            .find(|r| r.first == Key::Writer)
            .and_then(|r| r.value.as_ref().ok())
            .copied()
            .expect("a ratio");
        assert!(
            (value.min - 0.90).abs() < 1e-9
                && (value.max - 0.95).abs() < 1e-9
                && (value.median - 0.92).abs() < 1e-9,
            "{value:?}"
        );

        // Both own runs fine, every run beside the writer failed: no ratio, and why.
        let mut writer = outcome(Key::Writer, &[100]);
        writer.bracket = vec![None];
        let outcomes = [outcome(Key::CeilingTwo, &[50]), writer];
        let found = ratios(&outcomes);
        let why = found
            .iter()
            .find(|r| (r.first, r.second) == (Key::Writer, Key::CeilingTwo))
            .and_then(|r| r.value.as_ref().err())
            .expect("no ratio");
        assert_eq!(
            why,
            "n/a: every ceiling (2 connections) run beside it failed"
        );
    }
}
