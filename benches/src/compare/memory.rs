//! Peak resident memory (`VmHWM`) of reading 1 000 000 rows, each reader in a fresh process:
//! this binary again (the hidden `memory-child` command) for the Rust readers, and
//! influxdb-python's own interpreter, which reports its own peak.

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use influx_series::{Client, WriteOptions};
use influx_series_benches::samples;

use super::data::{BATCH, Cpu, point};
use super::python::Python;
use super::setup::Setup;
use super::text::at_most;
use super::variant::stored_count;
use super::{peers, queries};

/// The hidden command that runs one probe in a fresh process.
pub(crate) const CHILD_COMMAND: &str = "memory-child";

/// One reader whose peak memory is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    /// One small query: the process's own footprint.
    Baseline,
    /// `query`, a `ResultSet` of every row.
    Query,
    /// `query_as::<Cpu>`, a `Vec` of every row.
    QueryAs,
    /// `query_stream`, each chunk dropped once counted.
    QueryStream,
    /// `query_as_stream::<Cpu>`, each row dropped once counted.
    QueryAsStream,
    /// The `influxdb` crate's `json_query` and `deserialize_next`.
    Crate,
    /// influxdb-python's `query`.
    Python,
}

impl Probe {
    /// Every probe, in the order of the table.
    pub(crate) const ALL: [Probe; 7] = [
        Probe::Baseline,
        Probe::Query,
        Probe::QueryAs,
        Probe::QueryStream,
        Probe::QueryAsStream,
        Probe::Crate,
        Probe::Python,
    ];

    /// Its name on the child's command line.
    fn name(self) -> &'static str {
        match self {
            Probe::Baseline => "baseline",
            Probe::Query => "query",
            Probe::QueryAs => "query_as",
            Probe::QueryStream => "query_stream",
            Probe::QueryAsStream => "query_as_stream",
            Probe::Crate => "influxdb_crate",
            Probe::Python => "python",
        }
    }

    /// Its label in the table.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Probe::Baseline => "one small query (the process's own footprint)",
            Probe::Query => "query (ResultSet), kept",
            Probe::QueryAs => "query_as::<Cpu>, the Vec kept",
            Probe::QueryStream => "query_stream (chunked), rows counted",
            Probe::QueryAsStream => "query_as_stream::<Cpu> (chunked), rows counted",
            Probe::Crate => "influxdb crate 0.8: json_query + deserialize_next",
            Probe::Python => "influxdb-python 5.3: query",
        }
    }
}

/// What one probe's process reported.
#[derive(Debug, Default)]
pub(crate) struct Peak {
    /// `VmHWM`, KiB.
    pub(crate) kib: u64,
    /// Rows read.
    pub(crate) rows: usize,
    /// For `query_as`: the returned `Vec`'s size, computed as its capacity times
    /// `size_of::<Cpu>()` plus its strings' capacities (allocator overhead not counted).
    pub(crate) vec_bytes: Option<u64>,
    /// For `query_as`: the memory the returned `Vec` holds, computed as its length times
    /// `size_of::<Cpu>()` (its capacity beyond is mapped but never touched, so never
    /// resident) plus the chunk the allocator holds for each string
    /// ([`data::malloc_chunk`](super::data::malloc_chunk)).
    pub(crate) vec_held_bytes: Option<u64>,
    /// Why the reader failed, if it did (its peak up to then still stands).
    pub(crate) error: Option<String>,
}

/// One probe and its outcome (`Err` when its process could not report at all).
pub(crate) struct Measured {
    /// Which reader.
    pub(crate) probe: Probe,
    /// What it reported.
    pub(crate) peak: Result<Peak, String>,
}

/// Writes `rows` points of the reference shape into a new database `db` from two threads
/// (several requests in flight is fine: this is set-up, not measured); returns the time taken.
pub(crate) fn seed(setup: &Setup, db: &str, rows: usize) -> Result<Duration, String> {
    setup
        .admin
        .create_database(db)
        .map_err(|e| format!("creating {db}: {e}"))?;
    let started = Instant::now();
    let all = samples(rows);
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let threads: Vec<_> = all
            .chunks(rows.div_ceil(2).max(1))
            .map(|share| {
                scope.spawn(move || {
                    for piece in share.chunks(50_000) {
                        let points = piece.iter().map(point).collect::<Result<Vec<_>, _>>()?;
                        setup
                            .admin
                            .write_points(&points, &WriteOptions::new(db).batch_size(BATCH))
                            .map_err(|e| format!("seeding {db}: {e}"))?;
                    }
                    Ok(())
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err("a seeding thread panicked".into()))
            })
            .collect()
    });
    results.into_iter().collect::<Result<(), String>>()?;
    let stored = stored_count(&setup.admin, db)?;
    if stored != rows as i64 {
        return Err(format!("seeding {db}: {stored} points stored, not {rows}"));
    }
    Ok(started.elapsed())
}

/// Runs every probe against `db` (holding `rows` rows), one fresh process each.
pub(crate) fn measure(setup: &Setup, python: &Python, db: &str, rows: usize) -> Vec<Measured> {
    Probe::ALL
        .iter()
        .map(|&probe| {
            eprintln!("memory: {}", probe.label());
            let stdout = match probe {
                Probe::Python => python.run(setup, "memory", db, rows),
                _ => run_child(setup, probe, db, rows),
            };
            let peak = stdout.and_then(|text| parse(&text)).and_then(|peak| {
                if peak.error.is_none() && probe != Probe::Baseline && peak.rows != rows {
                    Err(format!("read {} rows, not {rows}", peak.rows))
                } else {
                    Ok(peak)
                }
            });
            Measured { probe, peak }
        })
        .collect()
}

fn run_child(setup: &Setup, probe: Probe, db: &str, rows: usize) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("finding this program: {e}"))?;
    let out = Command::new(exe)
        .args([CHILD_COMMAND, probe.name(), &setup.url, db])
        .arg(rows.to_string())
        .output()
        .map_err(|e| format!("starting {CHILD_COMMAND}: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "{CHILD_COMMAND} {} failed ({}): {}",
            probe.name(),
            out.status,
            at_most(stderr.trim(), 300)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Reads `peak_kib`, `rows`, `vec_bytes`, `vec_held_bytes` and `error` lines.
fn parse(text: &str) -> Result<Peak, String> {
    let mut peak = Peak::default();
    let mut seen_peak = false;
    for line in text.lines() {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        let number = || {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("bad {key} line: {line:?}"))
        };
        match key {
            "peak_kib" => {
                peak.kib = number()?;
                seen_peak = true;
            }
            "rows" => peak.rows = number()? as usize,
            "vec_bytes" => peak.vec_bytes = Some(number()?),
            "vec_held_bytes" => peak.vec_held_bytes = Some(number()?),
            "error" => peak.error = Some(value.to_owned()),
            _ => {}
        }
    }
    if seen_peak {
        Ok(peak)
    } else {
        Err(format!("no peak reported: {:?}", at_most(text, 200)))
    }
}

/// The child: `memory-child PROBE URL DB ROWS`. Reads, then prints what [`parse`] reads.
pub(crate) fn child(args: &[String]) -> ExitCode {
    let [probe, url, db, _rows] = args else {
        eprintln!("usage: {CHILD_COMMAND} PROBE URL DATABASE ROWS");
        return ExitCode::from(2);
    };
    let Some(probe) = Probe::ALL.into_iter().find(|p| p.name() == probe) else {
        eprintln!("{CHILD_COMMAND}: unknown probe {probe:?}");
        return ExitCode::from(2);
    };
    let outcome = Client::new(url)
        .map_err(|e| format!("client: {e}"))
        .and_then(|client| read(probe, &client, url, db));
    // `VmHWM` is a high-water mark: what was read and dropped still counts.
    let (rows, vec) = *outcome.as_ref().unwrap_or(&(0, None));
    match peak_kib() {
        Ok(kib) => println!("peak_kib {kib}"),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    println!("rows {rows}");
    if let Some((bytes, held)) = vec {
        println!("vec_bytes {bytes}");
        println!("vec_held_bytes {held}");
    }
    if let Err(e) = outcome {
        println!("error {}", e.replace('\n', " "));
    }
    ExitCode::SUCCESS
}

/// Reads the rows as `probe` does; returns how many, and for `query_as` the `Vec`'s size
/// from capacities and the memory it holds (see [`Peak`]).
fn read(
    probe: Probe,
    client: &Client,
    url: &str,
    db: &str,
) -> Result<(usize, Option<(u64, u64)>), String> {
    let all = queries::Read::all(db, 0);
    match probe {
        Probe::Baseline => client
            .query("SHOW DATABASES")
            .map(|_| (0, None))
            .map_err(|e| format!("SHOW DATABASES: {e}")),
        Probe::Query => queries::query_rows(client, all).map(|rows| (rows, None)),
        Probe::QueryAs => {
            let cpus = queries::collect(client, all)?;
            let bytes = cpus.capacity() * size_of::<Cpu>()
                + cpus.iter().map(Cpu::heap_bytes).sum::<usize>();
            let held = cpus.len() * size_of::<Cpu>()
                + cpus.iter().map(Cpu::held_heap_bytes).sum::<usize>();
            Ok((cpus.len(), Some((bytes as u64, held as u64))))
        }
        Probe::QueryStream => queries::count_sets(client, all).map(|rows| (rows, None)),
        Probe::QueryAsStream => queries::count_rows(client, all).map(|rows| (rows, None)),
        Probe::Crate => {
            let runtime = peers::runtime()?;
            peers::query(&runtime, url, db).map(|rows| (rows, None))
        }
        Probe::Python => Err("influxdb-python runs in its own interpreter, not here".into()),
    }
}

/// This process's peak resident memory, KiB.
fn peak_kib() -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("reading /proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/self/status".into())
}
