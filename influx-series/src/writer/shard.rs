//! Per-thread shards: where `record()` appends, under a lock only its own thread and the
//! writer's thread take, so that recording threads do not contend with each other.
//!
//! Order across threads comes from one sequence number a line, taken from the budget's
//! counter when the point is reserved. The writer's thread takes every shard's lines at once
//! (all shard locks held together: a consistent cut, so a point recorded after another
//! returned is never taken before it) and merges them by sequence number.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, MutexGuard};

use super::stats::Reasons;

/// Counters kept per shard, summed by `stats()`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ShardCounters {
    pub(crate) recorded: u64,
    pub(crate) sampled_out: u64,
    pub(crate) invalid: u64,
    pub(crate) ignored: u64,
}

impl ShardCounters {
    pub(crate) fn add(&mut self, other: &ShardCounters) {
        self.recorded += other.recorded;
        self.sampled_out += other.sampled_out;
        self.invalid += other.invalid;
        self.ignored += other.ignored;
    }
}

/// One staged line: its sequence number, destination and end offset in the shard's bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StagedLine {
    pub(crate) seq: u64,
    pub(crate) dest: u32,
    pub(crate) end: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Staged {
    pub(crate) bytes: Vec<u8>,
    pub(crate) lines: Vec<StagedLine>,
    pub(crate) counters: ShardCounters,
    /// Why this thread's invalid points were refused.
    pub(crate) reasons: Reasons,
}

impl Staged {
    pub(crate) fn push(&mut self, seq: u64, dest: u32, line: &[u8]) {
        self.bytes.extend_from_slice(line);
        self.lines.push(StagedLine {
            seq,
            dest,
            end: self.bytes.len(),
        });
    }
}

#[derive(Debug)]
pub(crate) struct Shard {
    pub(crate) staged: Mutex<Staged>,
    /// The sampling generator's state (splitmix64); only the owning thread uses it.
    rng: AtomicU64,
}

impl Shard {
    pub(crate) fn new(seed: u64) -> Arc<Shard> {
        Arc::new(Shard {
            staged: Mutex::new(Staged::default()),
            rng: AtomicU64::new(seed),
        })
    }

    /// Whether the next point is kept by sampling at `p`.
    pub(crate) fn sample(&self, p: f64) -> bool {
        let mut state = self.rng.load(Ordering::Relaxed);
        let draw = splitmix(&mut state);
        self.rng.store(state, Ordering::Relaxed);
        unit(draw) < p
    }
}

/// The lines of a cut, merged by sequence number: `(dest, line bytes)` in order.
#[derive(Debug, Default)]
pub(crate) struct Cut {
    parts: Vec<Staged>,
}

impl Cut {
    /// Takes the staged lines of every shard, whose locks the caller holds all at once; each
    /// shard stages on into the buffers `fresh` gives (the writer's recycled ones).
    pub(crate) fn take(
        guards: &mut [MutexGuard<'_, Staged>],
        mut fresh: impl FnMut() -> (Vec<u8>, Vec<StagedLine>),
    ) -> Cut {
        let mut parts = Vec::new();
        for g in guards.iter_mut() {
            if !g.lines.is_empty() {
                let (bytes, lines) = fresh();
                parts.push(Staged {
                    bytes: std::mem::replace(&mut g.bytes, bytes),
                    lines: std::mem::replace(&mut g.lines, lines),
                    ..Staged::default()
                });
            }
        }
        Cut { parts }
    }

    /// The buffers of the cut's parts, once their lines are copied elsewhere.
    pub(crate) fn into_buffers(self) -> impl Iterator<Item = (Vec<u8>, Vec<StagedLine>)> {
        self.parts.into_iter().map(|p| (p.bytes, p.lines))
    }

    /// Points and bytes in the cut.
    pub(crate) fn size(&self) -> (usize, usize) {
        self.parts.iter().fold((0, 0), |(p, b), part| {
            (p + part.lines.len(), b + part.bytes.len())
        })
    }

    /// When every line is of one shard and one destination: that destination, and the part's
    /// bytes and lines.
    pub(crate) fn single(&self) -> Option<(u32, &[u8], &[StagedLine])> {
        match self.parts.as_slice() {
            [part] if part.lines.iter().all(|l| l.dest == part.lines[0].dest) => {
                Some((part.lines[0].dest, &part.bytes, &part.lines))
            }
            _ => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Visits every line in sequence order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(u32, &[u8])) {
        let start = |part: &Staged, i: usize| {
            if i == 0 { 0 } else { part.lines[i - 1].end }
        };
        if let [part] = self.parts.as_slice() {
            for (i, line) in part.lines.iter().enumerate() {
                f(line.dest, &part.bytes[start(part, i)..line.end]);
            }
            return;
        }
        // Each part is in order already: merge them.
        let mut next = vec![0usize; self.parts.len()];
        loop {
            let mut best: Option<(usize, u64)> = None;
            for (p, part) in self.parts.iter().enumerate() {
                if let Some(line) = part.lines.get(next[p]) {
                    if best.is_none_or(|(_, seq)| line.seq < seq) {
                        best = Some((p, line.seq));
                    }
                }
            }
            let Some((p, _)) = best else {
                break;
            };
            let part = &self.parts[p];
            let i = next[p];
            f(
                part.lines[i].dest,
                &part.bytes[start(part, i)..part.lines[i].end],
            );
            next[p] += 1;
        }
    }
}

/// splitmix64: a small, fast generator with good statistics.
pub(crate) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The top 53 bits as a number in `0..1`.
pub(crate) fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_merges_shards_by_sequence() {
        let (a, b) = (Shard::new(1), Shard::new(2));
        a.staged.lock().push(1, 0, b"a1\n");
        b.staged.lock().push(2, 0, b"b2\n");
        a.staged.lock().push(3, 1, b"a3\n");
        b.staged.lock().push(4, 0, b"b4\n");
        let cut = Cut::take(&mut [a.staged.lock(), b.staged.lock()], Default::default);
        let mut seen = Vec::new();
        cut.for_each(|dest, line| seen.push((dest, String::from_utf8_lossy(line).into_owned())));
        let expected = [(0, "a1\n"), (0, "b2\n"), (1, "a3\n"), (0, "b4\n")];
        assert_eq!(
            seen,
            expected.map(|(d, l)| (d, l.to_owned())),
            "in sequence order"
        );
        assert!(a.staged.lock().lines.is_empty() && b.staged.lock().lines.is_empty());
        assert!(Cut::take(&mut [a.staged.lock(), b.staged.lock()], Default::default).is_empty());
    }
}
