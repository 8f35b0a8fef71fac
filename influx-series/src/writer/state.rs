//! What the writer holds, under one lock: the destinations' queues, the budget, the counters.

use std::time::{Duration, Instant};

use influx_core::Precision;

use super::config::{OnFull, Settings};
use super::queue::{Batch, Queue, Taken};
use super::{Drops, Flagged, Recorded, Stats};

/// Where a line goes: database, retention policy, and the precision it is encoded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Target<'a> {
    pub(crate) database: &'a str,
    pub(crate) retention_policy: Option<&'a str>,
    pub(crate) precision: Precision,
}

#[derive(Debug)]
pub(crate) struct Dest {
    pub(crate) database: String,
    pub(crate) retention_policy: Option<String>,
    pub(crate) precision: Precision,
    pub(crate) queue: Queue,
    /// When the oldest waiting line was recorded, and when it is due by age.
    oldest: Option<Instant>,
    due_at: Option<Instant>,
    /// Lines at the front of the queue that a flush waits for.
    flush_mark: usize,
    /// Why writes to it are refused, if they are.
    pub(crate) flagged: Option<String>,
    /// `CREATE DATABASE` was sent for it once already.
    pub(crate) create_tried: bool,
}

impl Dest {
    fn matches(&self, t: &Target<'_>) -> bool {
        self.precision == t.precision
            && self.database == t.database
            && self.retention_policy.as_deref() == t.retention_policy
    }
}

/// A batch out of a queue, being sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InFlight {
    pub(crate) dest: usize,
    pub(crate) points: usize,
    pub(crate) bytes: usize,
    /// How many of its first lines a flush waits for.
    marked: usize,
    oldest: Option<Instant>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) recorded: u64,
    pub(crate) sampled_out: u64,
    pub(crate) invalid: u64,
    pub(crate) drops: Drops,
    pub(crate) rejected: u64,
    pub(crate) written: u64,
    pub(crate) requests: u64,
    pub(crate) failed_requests: u64,
    pub(crate) ignored: u64,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) dests: Vec<Dest>,
    /// Points and bytes owned: waiting (including waiting to be retried) and in flight.
    points: usize,
    bytes: usize,
    pub(crate) in_flight: Option<InFlight>,
    /// Lines flushes wait for, in every queue and in flight.
    marked: usize,
    pub(crate) counters: Counters,
    /// Intake stopped (shutdown began): `record()` answers `Closed`.
    pub(crate) closed: bool,
    /// The worker must stop after what it is doing.
    pub(crate) stop: bool,
    pub(crate) worker_done: bool,
    /// No request before this (a backoff).
    pub(crate) backoff_until: Option<Instant>,
    /// The sampling generator's state (splitmix64), or `None` when every point is kept.
    sampler: Option<u64>,
    jitter_state: u64,
}

/// What the worker should do next.
pub(crate) enum Next {
    /// Send the lines taken from this destination (joined into a batch outside the lock).
    Send(usize, Taken),
    /// Nothing is due before this (or ever, `None`).
    Wait(Option<Instant>),
}

impl State {
    pub(crate) fn new(settings: &Settings) -> Self {
        let seed = settings.sample_seed.unwrap_or_else(random_seed);
        State {
            dests: Vec::new(),
            points: 0,
            bytes: 0,
            in_flight: None,
            marked: 0,
            counters: Counters::default(),
            closed: false,
            stop: false,
            worker_done: false,
            backoff_until: None,
            sampler: (settings.sample_probability < 1.0).then_some(seed),
            jitter_state: random_seed(),
        }
    }

    /// Whether the next point is kept by sampling at `p`.
    pub(crate) fn sample(&mut self, p: f64) -> bool {
        match &mut self.sampler {
            None => true,
            Some(state) => unit(splitmix(state)) < p,
        }
    }

    /// Counts one point at the door: recorded and what became of it right away.
    pub(crate) fn count_refused(&mut self, outcome: &Recorded) {
        self.counters.recorded += 1;
        match outcome {
            Recorded::SampledOut => self.counters.sampled_out += 1,
            Recorded::Invalid(_) => self.counters.invalid += 1,
            _ => unreachable!("only points refused at the door are counted here"),
        }
    }

    /// Takes one encoded line (newline included) for `target`, within the budget. Returns
    /// what happened and whether the worker should look again (a trigger was crossed, or
    /// the queue was empty and now has a deadline).
    pub(crate) fn enqueue(
        &mut self,
        target: Target<'_>,
        line: &[u8],
        settings: &Settings,
    ) -> (Recorded, bool) {
        self.counters.recorded += 1;
        let mut evicted = 0;
        while self.points + 1 > settings.max_buffer_size
            || self.bytes + line.len() > settings.max_buffer_bytes
        {
            let oldest = match settings.on_full {
                OnFull::DropNewest => None,
                OnFull::DropOldest => self.oldest_waiting(),
            };
            let Some(dest) = oldest else {
                // Drop-newest, or everything owned is in flight.
                self.counters.drops.full += 1;
                return (Recorded::DroppedFull, evicted > 0);
            };
            self.drop_front(dest);
            self.counters.drops.overflow += 1;
            evicted += 1;
        }
        let index = match self.dests.iter().position(|d| d.matches(&target)) {
            Some(i) => i,
            None => {
                self.dests.push(Dest {
                    database: target.database.to_owned(),
                    retention_policy: target.retention_policy.map(str::to_owned),
                    precision: target.precision,
                    queue: Queue::default(),
                    oldest: None,
                    due_at: None,
                    flush_mark: 0,
                    flagged: None,
                    create_tried: false,
                });
                self.dests.len() - 1
            }
        };
        let jitter = self.next_jitter(settings.jitter);
        let dest = &mut self.dests[index];
        let bytes_before = dest.queue.byte_len();
        let mut wake = false;
        if dest.oldest.is_none() {
            let now = Instant::now();
            dest.oldest = Some(now);
            dest.due_at = Some(now + settings.interval + jitter);
            wake = true;
        }
        dest.queue.push(line);
        wake |= dest.queue.len() == settings.trigger_size
            || (bytes_before < settings.trigger_bytes
                && dest.queue.byte_len() >= settings.trigger_bytes);
        self.points += 1;
        self.bytes += line.len();
        let recorded = if evicted > 0 {
            Recorded::EnqueuedDroppingOldest { dropped: evicted }
        } else {
            Recorded::Enqueued
        };
        (recorded, wake || (self.marked > 0 && evicted > 0))
    }

    /// The destination whose waiting lines are the oldest.
    fn oldest_waiting(&self) -> Option<usize> {
        self.dests
            .iter()
            .enumerate()
            .filter(|(_, d)| d.queue.len() > 0)
            .min_by_key(|(_, d)| d.oldest)
            .map(|(i, _)| i)
    }

    /// Drops the front line of a queue (its points leave the budget; the caller counts why).
    fn drop_front(&mut self, dest: usize) {
        let d = &mut self.dests[dest];
        let size = d.queue.drop_front();
        if d.flush_mark > 0 {
            d.flush_mark -= 1;
            self.marked -= 1;
        }
        if d.queue.len() == 0 {
            d.oldest = None;
            d.due_at = None;
        }
        self.points -= 1;
        self.bytes -= size;
    }

    /// The next batch due, if any: a destination a flush waits for, or one over a trigger,
    /// or whose oldest line has waited its interval; the one with the oldest lines first.
    pub(crate) fn next(&mut self, now: Instant, settings: &Settings) -> Next {
        let mut due: Option<usize> = None;
        let mut earliest: Option<Instant> = None;
        for (i, d) in self.dests.iter().enumerate() {
            if d.queue.len() == 0 {
                continue;
            }
            let is_due = self.closed
                || d.flush_mark > 0
                || d.queue.len() >= settings.trigger_size
                || d.queue.byte_len() >= settings.trigger_bytes
                || d.due_at.is_some_and(|at| at <= now);
            if is_due {
                if due.is_none_or(|j| d.oldest < self.dests[j].oldest) {
                    due = Some(i);
                }
            } else if let Some(at) = d.due_at {
                earliest = Some(earliest.map_or(at, |e| e.min(at)));
            }
        }
        let Some(i) = due else {
            return Next::Wait(earliest);
        };
        let d = &mut self.dests[i];
        let batch = d
            .queue
            .take_front(settings.max_batch_size, settings.max_batch_bytes);
        let marked = batch.len().min(d.flush_mark);
        d.flush_mark -= marked;
        let oldest = d.oldest;
        if d.queue.len() == 0 {
            d.oldest = None;
            d.due_at = None;
        }
        self.in_flight = Some(InFlight {
            dest: i,
            points: batch.len(),
            bytes: batch.byte_len(),
            marked,
            oldest,
        });
        Next::Send(i, batch)
    }

    /// Settles the batch in flight: `settled` of its first lines are gone (written, rejected
    /// or dropped: the caller counts which), and `rest` (its last lines) goes back to the
    /// front of its queue.
    pub(crate) fn settle(&mut self, settled: usize, settled_bytes: usize, rest: Batch) {
        let Some(flight) = self.in_flight.take() else {
            return;
        };
        self.points -= settled;
        self.bytes -= settled_bytes;
        let marked_in_rest = flight.marked.saturating_sub(settled);
        self.marked -= flight.marked - marked_in_rest;
        if rest.len() > 0 {
            let d = &mut self.dests[flight.dest];
            d.flush_mark += marked_in_rest;
            d.queue.put_front(rest);
            d.oldest = match (d.oldest, flight.oldest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            d.due_at = d.due_at.or(d.oldest);
        }
    }

    /// Marks everything owned as waited for by a flush; returns how many lines that is.
    pub(crate) fn mark_all(&mut self) -> usize {
        let mut marked = 0;
        for d in &mut self.dests {
            d.flush_mark = d.queue.len();
            marked += d.flush_mark;
        }
        if let Some(flight) = &mut self.in_flight {
            flight.marked = flight.points;
            marked += flight.marked;
        }
        self.marked = marked;
        marked
    }

    /// Lines flushes still wait for.
    pub(crate) fn marked(&self) -> usize {
        self.marked
    }

    /// Drops every line waiting (not in flight), counted as unsent: for a writer that stops.
    pub(crate) fn drop_waiting(&mut self) -> usize {
        let mut dropped = 0;
        for d in &mut self.dests {
            let bytes = d.queue.byte_len();
            let points = d.queue.clear();
            self.points -= points;
            self.bytes -= bytes;
            self.marked -= d.flush_mark;
            d.flush_mark = 0;
            d.oldest = None;
            d.due_at = None;
            dropped += points;
        }
        self.counters.drops.unsent += dropped as u64;
        dropped
    }

    /// Points owned: waiting and in flight.
    pub(crate) fn owned(&self) -> usize {
        self.points
    }

    /// A consistent snapshot.
    pub(crate) fn stats(&self) -> Stats {
        let (in_flight, in_flight_bytes) = self
            .in_flight
            .map_or((0, 0), |f| (f.points as u64, f.bytes as u64));
        let c = &self.counters;
        Stats {
            recorded: c.recorded,
            sampled_out: c.sampled_out,
            invalid: c.invalid,
            dropped: c.drops.total(),
            drops: c.drops,
            rejected: c.rejected,
            written: c.written,
            buffered: self.points as u64 - in_flight,
            buffered_bytes: self.bytes as u64 - in_flight_bytes,
            in_flight,
            in_flight_bytes,
            requests: c.requests,
            failed_requests: c.failed_requests,
            ignored: c.ignored,
            flagged: self
                .dests
                .iter()
                .filter_map(|d| {
                    d.flagged.as_ref().map(|reason| Flagged {
                        database: d.database.clone(),
                        retention_policy: d.retention_policy.clone(),
                        reason: reason.clone(),
                    })
                })
                .collect(),
        }
    }

    /// A random wait in `0..=max`.
    fn next_jitter(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            return Duration::ZERO;
        }
        max.mul_f64(unit(splitmix(&mut self.jitter_state)))
    }

    /// A number in `0..1` for backoff jitter.
    pub(crate) fn unit_random(&mut self) -> f64 {
        unit(splitmix(&mut self.jitter_state))
    }
}

/// splitmix64: a small, fast generator with good statistics, for sampling and jitter.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The top 53 bits as a number in `0..1`.
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writer::WriterBuilder;

    fn settings(points: usize, on_full: OnFull) -> Settings {
        WriterBuilder::default()
            .max_buffer_size(points)
            .trigger_size(points.min(2))
            .max_batch_size(2)
            .on_full(on_full)
            .settings()
            .unwrap()
    }

    const T: Target<'static> = Target {
        database: "db",
        retention_policy: None,
        precision: Precision::Nanoseconds,
    };

    #[test]
    fn a_full_budget_drops_the_oldest_and_counts_it() {
        let s = settings(3, OnFull::DropOldest);
        let mut st = State::new(&s);
        for i in 0..5 {
            st.enqueue(T, format!("m v={i}\n").as_bytes(), &s);
        }
        assert_eq!(st.dests[0].queue.text(), "m v=2\nm v=3\nm v=4\n");
        let stats = st.stats();
        assert_eq!(
            (stats.recorded, stats.drops.overflow, stats.buffered),
            (5, 2, 3)
        );
        assert!(stats.adds_up());
    }

    #[test]
    fn drop_newest_refuses_the_new_point() {
        let s = settings(3, OnFull::DropNewest);
        let mut st = State::new(&s);
        for i in 0..5 {
            st.enqueue(T, format!("m v={i}\n").as_bytes(), &s);
        }
        assert_eq!(st.dests[0].queue.text(), "m v=0\nm v=1\nm v=2\n");
        assert_eq!(st.stats().drops.full, 2);
        assert!(st.stats().adds_up());
    }

    #[test]
    fn points_in_flight_are_never_dropped() {
        let s = settings(2, OnFull::DropOldest);
        let mut st = State::new(&s);
        st.enqueue(T, b"m v=0\n", &s);
        st.enqueue(T, b"m v=1\n", &s);
        let Next::Send(_, batch) = st.next(Instant::now(), &s) else {
            panic!("due by the trigger")
        };
        let batch = batch.into_batch();
        assert_eq!(batch.len(), 2);
        let (outcome, _) = st.enqueue(T, b"m v=2\n", &s);
        assert!(matches!(outcome, Recorded::DroppedFull), "{outcome:?}");
        let stats = st.stats();
        assert_eq!((stats.in_flight, stats.drops.full), (2, 1));
        assert!(stats.adds_up());
        // The batch fails: it comes back in front, in order.
        st.settle(0, 0, batch);
        assert_eq!(st.dests[0].queue.text(), "m v=0\nm v=1\n");
        assert!(st.stats().adds_up());
    }

    #[test]
    fn a_flush_waits_for_lines_until_they_settle() {
        let s = settings(100, OnFull::DropOldest);
        let mut st = State::new(&s);
        for i in 0..3 {
            st.enqueue(T, format!("m v={i}\n").as_bytes(), &s);
        }
        let Next::Send(_, batch) = st.next(Instant::now(), &s) else {
            panic!("due by the trigger")
        };
        let batch = batch.into_batch();
        assert_eq!(batch.len(), 2);
        assert_eq!(st.mark_all(), 3);
        // The first line is written, the second comes back.
        st.settle(1, 6, batch.tail(1));
        assert_eq!(st.marked(), 2);
        let Next::Send(_, batch) = st.next(Instant::now(), &s) else {
            panic!("due by the flush")
        };
        let batch = batch.into_batch();
        let bytes = batch.bytes.len();
        st.settle(2, bytes, Batch::default());
        assert_eq!(st.marked(), 0);
        assert_eq!(st.owned(), 0);
    }

    #[test]
    fn sampling_is_seeded() {
        let s = WriterBuilder::default()
            .sample_probability(0.5)
            .sample_seed(7)
            .settings()
            .unwrap();
        let run = || {
            let mut st = State::new(&s);
            (0..64).map(|_| st.sample(0.5)).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        assert!(run().iter().any(|k| *k) && run().iter().any(|k| !*k));
    }
}
