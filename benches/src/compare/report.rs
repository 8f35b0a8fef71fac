//! The report: one Markdown section (printed, and written into docs/benchmarks.md between
//! its markers) with the machine, the command, the tables of times, ratios and memory, those
//! of the part without a server, and the targets met or not.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::cpu::{self, Part};
use super::memory::Measured;
use super::stats::{Ratio, Summary, Target};
use super::text::{grouped, plural};

/// The line before the section in docs/benchmarks.md.
pub(crate) const BEGIN: &str = "<!-- compare:begin -->";
/// The line after it.
pub(crate) const END: &str = "<!-- compare:end -->";

/// Everything the section shows.
pub(crate) struct Report<'a> {
    /// `cargo run ... -- compare ...` as run.
    pub(crate) command: String,
    /// Interleaved rounds.
    pub(crate) rounds: usize,
    /// Points per write, rows per query.
    pub(crate) items: usize,
    /// The variants' summaries, in table order.
    pub(crate) summaries: &'a [Summary<'a>],
    /// The ratios.
    pub(crate) ratios: &'a [Ratio],
    /// The memory probes and the rows they read, when that part ran.
    pub(crate) memory: Option<(usize, &'a [Measured])>,
    /// The targets.
    pub(crate) targets: &'a [Target],
    /// How the run was set up (clients, versions, answer sizes), one line each.
    pub(crate) notes: &'a [String],
    /// The chart's file name, next to benchmarks.md.
    pub(crate) chart: &'a str,
    /// The part without a server.
    pub(crate) cpu: CpuSection<'a>,
    /// The parts of the full mode (reads of 1 000 000 rows and of `GROUP BY`, sustained
    /// writes), each rendered by [`part`].
    pub(crate) read_parts: &'a [String],
}

/// A part of the full mode: a heading, what it moved, and its tables.
pub(crate) fn part(
    title: &str,
    what: &str,
    rounds: usize,
    summaries: &[Summary<'_>],
    ratios: &[Ratio],
) -> String {
    let mut out = format!(
        "\n#### {title}\n\n{what}; {rounds} interleaved round{} (each round in a new order \
         from the same seed):\n",
        plural(rounds)
    );
    variant_table(&mut out, summaries);
    let _ = writeln!(out);
    ratio_table(&mut out, ratios);
    out
}

/// The part without a server (cpu.rs), as the report shows it.
pub(crate) struct CpuSection<'a> {
    /// What it measured and how.
    pub(crate) part: &'a Part,
    /// Its variants' summaries, in table order.
    pub(crate) summaries: &'a [Summary<'a>],
    /// Its ratios.
    pub(crate) ratios: &'a [Ratio],
}

/// `k` or `M` per second.
fn rate(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.2} M", value / 1e6)
    } else {
        format!("{:.1} k", value / 1e3)
    }
}

fn ms(seconds: f64) -> String {
    format!("{:.0} ms", seconds * 1e3)
}

/// Nanoseconds a point, from the seconds of a batch of `points`.
fn per_point(seconds: f64, points: usize) -> String {
    format!("{:.1} ns", seconds * 1e9 / points as f64)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Cuts a message for a table cell: one line, no `|`.
fn cell(text: &str) -> String {
    super::text::at_most(&text.replace(['\n', '|'], " "), 160).to_owned()
}

/// Today's date (UTC) and the machine: cores, memory, kernel, influxd.
fn machine() -> (String, String) {
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemTotal:"))?.to_owned();
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.1} GiB", kib / 1024.0 / 1024.0))
        })
        .unwrap_or_else(|| "unknown memory".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!("Linux {}", k.trim()))
        .unwrap_or_else(|_| "unknown kernel".into());
    let influxd = influx_testserver::find_influxd()
        .ok()
        .and_then(|path| Command::new(path).arg("version").output().ok())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "influxd of unknown version".into());
    (
        date,
        format!("{cores} cores ({model}), {memory} of memory, {kernel}, {influxd}"),
    )
}

/// The section, markers excluded.
pub(crate) fn markdown(report: &Report<'_>) -> String {
    let (date, machine) = machine();
    let mut out = String::new();
    let w = &mut out;
    // `write!` into a String cannot fail.
    let _ = writeln!(
        w,
        "## This project against the server's ceiling and its peers\n"
    );
    let _ = writeln!(
        w,
        "Measured {date} by `{}` ({} interleaved round{}: every variant once per round, one \
         after another in the order the notes give; median, min and max over the rounds; ratios are taken per round), {} points \
         per write and {} rows per query, on {machine}. Written by the program between the \
         `compare` markers; do not edit by hand.\n",
        report.command,
        report.rounds,
        plural(report.rounds),
        grouped(report.items),
        grouped(report.items)
    );
    for note in report.notes {
        let _ = writeln!(w, "- {note}");
    }
    variant_table(w, report.summaries);
    let _ = writeln!(
        w,
        "\nRatios, per round then summarised: \"A vs B\" is A's throughput over B's (above \
         1: A is faster); \"time / time\" is A's time over B's.\n"
    );
    ratio_table(w, report.ratios);
    for part in report.read_parts {
        w.push_str(part);
    }
    cpu_tables(w, &report.cpu);
    if let Some((rows, memory)) = report.memory {
        let _ = writeln!(
            w,
            "\nPeak resident memory (`VmHWM`) reading {} rows of `SELECT * FROM cpu`, each \
             reader in a fresh process:\n",
            grouped(rows)
        );
        let _ = writeln!(w, "| reader | peak RSS | rows | note |");
        let _ = writeln!(w, "|---|---|---|---|");
        for m in memory {
            let line = match &m.peak {
                Ok(peak) => {
                    let mut note = String::new();
                    if let (Some(bytes), Some(held)) = (peak.vec_bytes, peak.vec_held_bytes) {
                        note = format!(
                            "the Vec holds {} (computed: length x size_of::<Cpu>() + the \
                             allocator's chunk for each string, at least 32 bytes); counted \
                             from capacities alone (capacity x size_of::<Cpu>() + its strings' \
                             capacities), {}",
                            mib(held / 1024),
                            mib(bytes / 1024)
                        );
                    }
                    if let Some(error) = &peak.error {
                        note = format!("FAILED: {}", cell(error));
                    }
                    format!("{} | {} | {note}", mib(peak.kib), grouped(peak.rows))
                }
                Err(e) => format!("- | - | FAILED: {}", cell(e)),
            };
            let _ = writeln!(w, "| {} | {line} |", m.probe.label());
        }
    }
    let _ = writeln!(
        w,
        "\nDESIGN.md section 7, the targets this program measures (judged on the median):\n"
    );
    let _ = writeln!(w, "| target | measured here | result (min-max) | met |");
    let _ = writeln!(w, "|---|---|---|---|");
    for t in report.targets {
        let met = match t.met {
            Some(true) => "met",
            Some(false) => "**not met**",
            None => "not measured",
        };
        let _ = writeln!(
            w,
            "| {} | {} | {} | {met} |",
            t.wording,
            t.measured,
            cell(&t.value)
        );
    }
    let _ = writeln!(w, "\n![throughput per variant]({})", report.chart);
    out
}

/// The table of every variant's times.
fn variant_table(w: &mut String, summaries: &[Summary<'_>]) {
    let _ = writeln!(
        w,
        "\n| variant | median | min | max | median rate | client CPU a run | failed rounds |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|");
    for s in summaries {
        let (times, speed) = match (s.seconds, s.rate) {
            (Some(t), Some(r)) => (
                format!("{} | {} | {}", ms(t.median), ms(t.min), ms(t.max)),
                format!("{} {}", rate(r.median), s.outcome.kind.unit()),
            ),
            _ => ("- | - | -".to_owned(), "-".to_owned()),
        };
        let failed = match &s.failed {
            Some((count, error)) => format!("{count}: {}", cell(error)),
            None => "0".into(),
        };
        let cpu = s
            .cpu_us
            .map_or_else(|| "-".to_owned(), |c| format!("{:.1} ms", c.median / 1e3));
        let _ = writeln!(
            w,
            "| {} | {times} | {speed} | {cpu} | {failed} |",
            s.outcome.label
        );
    }
}

/// `--writes`: the variants' and the ratios' tables alone.
pub(crate) fn tables(summaries: &[Summary<'_>], ratios: &[Ratio]) -> String {
    let mut out = String::new();
    variant_table(&mut out, summaries);
    let _ = writeln!(out);
    ratio_table(&mut out, ratios);
    out
}

/// `--cpu`: the part without a server alone.
pub(crate) fn cpu_only(part: &Part, summaries: &[Summary<'_>], ratios: &[Ratio]) -> String {
    let mut out = String::new();
    cpu_tables(
        &mut out,
        &CpuSection {
            part,
            summaries,
            ratios,
        },
    );
    out
}

/// The table of `ratios`.
fn ratio_table(w: &mut String, ratios: &[Ratio]) {
    let _ = writeln!(w, "| ratio | median | min | max |");
    let _ = writeln!(w, "|---|---|---|---|");
    for r in ratios {
        match &r.value {
            Ok(s) => {
                let _ = writeln!(
                    w,
                    "| {} | {:.2}x | {:.2}x | {:.2}x |",
                    r.label, s.median, s.min, s.max
                );
            }
            Err(e) => {
                let _ = writeln!(w, "| {} | {} | - | - |", r.label, cell(e));
            }
        }
    }
}

/// The part without a server: how it ran, its times per point and its ratios.
fn cpu_tables(w: &mut String, cpu: &CpuSection<'_>) {
    let part = cpu.part;
    let others = match part.others {
        Some(seconds) => format!("{seconds:.0}"),
        None => "an unknown number of".into(),
    };
    let _ = writeln!(
        w,
        "\nWithout the server, the CPU alone: encoding and recording the reference shape \
         ({} interleaved round{}; in each, every variant runs {} batch{} and keeps its \
         median one; min and max over the rounds, ratios per round). A batch passes over \
         the same {} points borrowed: {} points for the two variants that run in the \
         program's thread; for {} ms for those that start threads (one or more), whose time \
         is then given for as many points, so that the end of a batch, when threads \
         outnumber cores, weighs on no thread count. Nothing is sent: recorded \
         points are dropped with `clear()`. This part took {:.0} s; other processes used \
         {others} CPU-seconds meanwhile.{}\n",
        part.rounds,
        plural(part.rounds),
        part.reps,
        if part.reps == 1 { "" } else { "es" },
        grouped(cpu::PASS),
        grouped(part.points),
        part.batch_time.as_millis(),
        part.took.as_secs_f64(),
        match &part.check {
            Ok(()) => " Both derives were checked to write the same line, and `record()` to \
                       buffer exactly what `write_line` writes."
                .to_owned(),
            Err(e) => format!(" The lines could not be checked: {}.", cell(e)),
        }
    );
    let _ = writeln!(
        w,
        "| variant | median per point | min | max | median per batch | failed rounds |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|");
    for s in cpu.summaries {
        let times = match s.seconds {
            Some(t) => format!(
                "{} | {} | {} | {:.1} ms",
                per_point(t.median, part.points),
                per_point(t.min, part.points),
                per_point(t.max, part.points),
                t.median * 1e3
            ),
            None => "- | - | - | -".to_owned(),
        };
        let failed = match &s.failed {
            Some((count, error)) => format!("{count}: {}", cell(error)),
            None => "0".into(),
        };
        let _ = writeln!(w, "| {} | {times} | {failed} |", s.outcome.label);
    }
    let _ = writeln!(w);
    ratio_table(w, cpu.ratios);
}

/// Puts `section` between the markers of `path` (appending markers and section at the end
/// when the file has none); nothing outside the markers changes.
pub(crate) fn splice(path: &Path, section: &str) -> Result<(), String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("reading {}: {e}", path.display())),
    };
    let block = format!("{BEGIN}\n{}\n{END}", section.trim_end());
    let updated = match (text.find(BEGIN), text.find(END)) {
        (Some(begin), Some(end)) if begin < end => {
            format!("{}{block}{}", &text[..begin], &text[end + END.len()..])
        }
        (None, None) => {
            let separator = if text.is_empty() || text.ends_with("\n\n") {
                ""
            } else if text.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            format!("{text}{separator}{block}\n")
        }
        _ => {
            return Err(format!(
                "{}: the markers {BEGIN} and {END} must both be there, in that order, or \
                 neither",
                path.display()
            ));
        }
    };
    std::fs::write(path, updated).map_err(|e| format!("writing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_only_between_the_markers_or_appends_them() {
        let dir = std::env::temp_dir().join(format!("compare-splice-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("benchmarks.md");
        std::fs::write(&path, "# Benchmarks\n\nkept\n").expect("write");
        splice(&path, "first\n").expect("appends");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            format!("# Benchmarks\n\nkept\n\n{BEGIN}\nfirst\n{END}\n")
        );
        let edited = format!("before\n{BEGIN}\nold\n{END}\nafter\n");
        std::fs::write(&path, &edited).expect("write");
        splice(&path, "new").expect("replaces");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            format!("before\n{BEGIN}\nnew\n{END}\nafter\n")
        );
        std::fs::write(&path, format!("{END}\n{BEGIN}\n")).expect("write");
        assert!(
            splice(&path, "x").is_err(),
            "markers out of order are refused"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
