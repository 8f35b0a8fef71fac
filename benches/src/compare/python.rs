//! influxdb-python 5.3, the Python peer: Debian's `/usr/bin/python3` with `python3-influxdb`
//! (`scripts/ensure-python-peers` installs it). Each run starts one interpreter, which times
//! its own work, so start-up is not counted and the rounds stay interleaved.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::load::Timed;
use super::setup::Setup;
use super::text::at_most;
use super::variant::{Key, Kind, Variant, in_fresh_database};

/// The interpreter: Debian's, where `python3-influxdb` is installed.
const PYTHON: &str = "/usr/bin/python3";

/// The peer's script, embedded so that the program reads nothing of the source tree.
const SCRIPT: &str = include_str!("influxdb_python.py");

/// The script written out for this run, and the peer's version (or why it cannot run).
pub(crate) struct Python {
    script: PathBuf,
    /// `influxdb.__version__`, or why the peer is missing.
    pub(crate) version: Result<String, String>,
}

impl Python {
    /// Writes the script into `dir` and asks the interpreter for influxdb-python's version.
    pub(crate) fn prepare(dir: &std::path::Path) -> Python {
        let script = dir.join("influxdb_python.py");
        let version = std::fs::write(&script, SCRIPT)
            .map_err(|e| format!("writing {}: {e}", script.display()))
            .and_then(|()| {
                let out = Command::new(PYTHON)
                    .args(["-c", "import influxdb; print(influxdb.__version__)"])
                    .output()
                    .map_err(|e| format!("{PYTHON}: {e}"))?;
                if out.status.success() {
                    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
                } else {
                    Err(format!(
                        "influxdb-python is not importable by {PYTHON} (scripts/ensure-python-peers \
                         installs it): {}",
                        at_most(String::from_utf8_lossy(&out.stderr).trim(), 300)
                    ))
                }
            });
        Python { script, version }
    }

    /// Runs the script in `mode` against `db`; returns its stdout.
    pub(crate) fn run(
        &self,
        setup: &Setup,
        mode: &str,
        db: &str,
        n: usize,
    ) -> Result<String, String> {
        self.version.as_ref().map_err(Clone::clone)?;
        let out = Command::new(PYTHON)
            .arg(&self.script)
            .args([mode, "127.0.0.1", &setup.server.http_port().to_string(), db])
            .arg(n.to_string())
            .output()
            .map_err(|e| format!("{PYTHON}: {e}"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            // The exception is on the last line of a traceback.
            let last = stderr.trim().lines().last().unwrap_or("no message");
            return Err(format!("influxdb-python {mode}: {}", at_most(last, 300)));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs a timed mode: the wall and CPU time Python measured around its timed part
    /// (`time.perf_counter`, `time.process_time`), after checking the count it reports.
    fn timed(&self, setup: &Setup, mode: &str, db: &str, n: usize) -> Result<Timed, String> {
        let stdout = self.run(setup, mode, db, n)?;
        let mut words = stdout.split_whitespace();
        let seconds: f64 = words
            .next()
            .and_then(|w| w.parse().ok())
            .ok_or_else(|| format!("influxdb-python {mode}: no time in {stdout:?}"))?;
        let count: usize = words
            .next()
            .and_then(|w| w.parse().ok())
            .ok_or_else(|| format!("influxdb-python {mode}: no count in {stdout:?}"))?;
        if count != n {
            return Err(format!(
                "influxdb-python {mode}: {count} rows or points, not {n}"
            ));
        }
        let cpu_seconds: Option<f64> = words.next().and_then(|w| w.parse().ok());
        Ok(Timed {
            wall: Duration::from_secs_f64(seconds),
            cpu_us: cpu_seconds.map(|s| s * 1e6),
        })
    }
}

/// `write_points`, `SeriesHelper` and `query` + `get_points`.
pub(crate) fn variants<'a>(
    setup: &'a Setup,
    python: &'a Python,
    points: usize,
    query_db: &'a str,
    rows: usize,
) -> Vec<Variant<'a>> {
    let write = |key, label: &str, mode: &'static str| Variant {
        key,
        label: label.into(),
        kind: Kind::Write,
        run: Box::new(move || {
            in_fresh_database(setup, "python", points, |db| {
                python.timed(setup, mode, db, points)
            })
        }),
    };
    vec![
        write(
            Key::PythonWritePoints,
            "influxdb-python 5.3: write_points(batch_size=5000)",
            "write_points",
        ),
        write(
            Key::PythonSeriesHelper,
            "influxdb-python 5.3: SeriesHelper (bulk_size 5000, autocommit)",
            "series_helper",
        ),
        Variant {
            key: Key::PythonQuery,
            label: "influxdb-python 5.3: query + get_points".into(),
            kind: Kind::Read,
            run: Box::new(move || python.timed(setup, "query", query_db, rows)),
        },
    ]
}
