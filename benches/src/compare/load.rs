//! How busy the machine was with other work during a run: the CPU time every process used
//! (/proc/stat) less what this program, its children and its influxd used. On a shared
//! 2-core machine this tells a reader whether a wide min-max spread came from elsewhere.

use std::time::{Duration, Instant};

/// A timed part of a run: its wall time, and the CPU time this process spent in it (every
/// thread: a blocking client's work is partly on its runtime's threads), from `getrusage`, in
/// microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Timed {
    /// Wall time.
    pub(crate) wall: Duration,
    /// CPU time, µs; `None` where it is not this process's to measure (a peer in another
    /// process that does not report it) or not meaningful (the parts with threads that run
    /// for a fixed time).
    pub(crate) cpu_us: Option<f64>,
}

impl Timed {
    /// A wall time without a CPU time.
    pub(crate) fn wall_only(wall: Duration) -> Timed {
        Timed { wall, cpu_us: None }
    }
}

/// Times a part of a run: wall clock and this process's CPU time.
pub(crate) struct Stopwatch {
    started: Instant,
    cpu_us: Option<u64>,
}

impl Stopwatch {
    /// Starts timing now.
    pub(crate) fn start() -> Stopwatch {
        let cpu_us = process_cpu_us();
        Stopwatch {
            started: Instant::now(),
            cpu_us,
        }
    }

    /// The wall time and CPU time since [`Stopwatch::start`].
    pub(crate) fn stop(&self) -> Timed {
        let wall = self.started.elapsed();
        let cpu_us = self
            .cpu_us
            .zip(process_cpu_us())
            .map(|(before, after)| after.saturating_sub(before) as f64);
        Timed { wall, cpu_us }
    }
}

/// User and system time of every thread of this process so far, µs (`getrusage`).
#[allow(unsafe_code)] // A C call: std has no `getrusage`.
fn process_cpu_us() -> Option<u64> {
    // SAFETY: `getrusage` writes a `rusage` into the memory given, which is one.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; `RUSAGE_SELF` is a valid `who`.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Some(us(usage.ru_utime) + us(usage.ru_stime))
}

/// Clock ticks a second in /proc (`USER_HZ`, 100 on Linux).
const TICKS: f64 = 100.0;

/// CPU time so far, in clock ticks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuTime {
    /// Busy time of every CPU, every process.
    machine: u64,
    /// This process, its waited-for children (Python, the memory probes) and influxd.
    ours: u64,
}

impl CpuTime {
    /// Reads the clocks now; `None` where /proc cannot tell.
    pub(crate) fn now(influxd: Option<u32>) -> Option<CpuTime> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let ticks: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .map(|t| t.parse().unwrap_or(0))
            .collect();
        // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
        let machine = ticks.iter().take(8).sum::<u64>() - ticks.get(3)? - ticks.get(4)?;
        let influxd = match influxd {
            Some(pid) => process_ticks(&format!("/proc/{pid}/stat"))?,
            None => 0,
        };
        Some(CpuTime {
            machine,
            ours: process_ticks("/proc/self/stat")? + influxd,
        })
    }

    /// CPU seconds other processes used between `earlier` and `self`.
    pub(crate) fn others_since(&self, earlier: &CpuTime) -> f64 {
        let machine = self.machine.saturating_sub(earlier.machine);
        let ours = self.ours.saturating_sub(earlier.ours);
        machine.saturating_sub(ours) as f64 / TICKS
    }
}

/// The window over which influxd must be [quiet](settle) before a run.
const QUIET_WINDOW: std::time::Duration = std::time::Duration::from_millis(100);

/// The most influxd may use in [`QUIET_WINDOW`] to count as quiet, in clock ticks (10 ms):
/// a tenth of a core, which an idle influxd stays well under.
const QUIET_TICKS: u64 = 1;

/// The longest [`settle`] waits.
const SETTLE_AT_MOST: std::time::Duration = std::time::Duration::from_secs(3);

/// How long [`settle`] waited, and whether influxd went quiet within [`SETTLE_AT_MOST`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settled {
    pub(crate) waited: std::time::Duration,
    pub(crate) quiet: bool,
}

/// Waits until influxd (`pid`) has used at most [`QUIET_TICKS`] of CPU over the last
/// [`QUIET_WINDOW`], or [`SETTLE_AT_MOST`] has passed: the work a run leaves the server (the
/// garbage collection of its requests, the deletion of its database's files) is then done
/// before the next run starts, instead of taking CPU from whichever variant comes next.
pub(crate) fn settle(pid: u32) -> Settled {
    let path = format!("/proc/{pid}/stat");
    let started = std::time::Instant::now();
    let mut before = process_ticks(&path);
    loop {
        std::thread::sleep(QUIET_WINDOW);
        let now = process_ticks(&path);
        let quiet = match (before, now) {
            (Some(before), Some(now)) => now.saturating_sub(before) <= QUIET_TICKS,
            // Nothing to read: do not wait for it.
            _ => true,
        };
        let waited = started.elapsed();
        if quiet || waited >= SETTLE_AT_MOST {
            return Settled { waited, quiet };
        }
        before = now;
    }
}

/// `utime + stime + cutime + cstime` of a process.
fn process_ticks(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces: the fields start after its closing parenthesis,
    // with the state (field 3); utime to cstime are fields 14 to 17.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    fields
        .get(11..15)?
        .iter()
        .map(|f| f.parse::<u64>().ok())
        .sum()
}
