//! What the writer holds under its global lock: the destinations' queues (lines taken from
//! the shards), the batch in flight, the counters of what became of points; and the budget,
//! in atomics that `record()` reserves from without a lock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use influx_core::{Precision, Unsent};

use super::config::Settings;
use super::queue::{Batch, Queue, Taken};
use super::shard::{ShardCounters, splitmix, unit};
use super::{Drops, Flagged, Stats};

/// A value on a cache line of its own, so that counters recording threads write do not share
/// a line with counters only the writer's thread writes.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

/// The memory budget, in points and bytes: reserved by `record()` (a point's sequence number
/// is its reservation), released when a point is written, rejected or dropped. Held is
/// reserved minus released.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    pub(crate) reserved_points: Padded<AtomicU64>,
    pub(crate) reserved_bytes: AtomicU64,
    pub(crate) released: Padded<(AtomicU64, AtomicU64)>,
    /// Reservations that left the shards (taken by a cut) or never went through one (the
    /// full path, a closed writer): reserved minus this is what the shards hold (for
    /// triggers and wake-ups).
    pub(crate) drained: Padded<(AtomicU64, AtomicU64)>,
}

impl Budget {
    pub(crate) fn mark_drained(&self, points: usize, bytes: usize) {
        self.drained.0.0.fetch_add(points as u64, Ordering::AcqRel);
        self.drained.0.1.fetch_add(bytes as u64, Ordering::AcqRel);
    }

    pub(crate) fn release(&self, points: usize, bytes: usize) {
        self.released
            .0
            .0
            .fetch_add(points as u64, Ordering::Release);
        self.released.0.1.fetch_add(bytes as u64, Ordering::Release);
    }

    /// Points and bytes held now (reservations in progress included).
    pub(crate) fn held(&self) -> (u64, u64) {
        let released = (
            self.released.0.0.load(Ordering::Acquire),
            self.released.0.1.load(Ordering::Acquire),
        );
        (
            self.reserved_points
                .0
                .load(Ordering::Acquire)
                .saturating_sub(released.0),
            self.reserved_bytes
                .load(Ordering::Acquire)
                .saturating_sub(released.1),
        )
    }
}

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
    /// Points recorded through the global lock (when the budget was full).
    pub(crate) recorded: u64,
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
    /// Since when lines wait in the shards (set by the writer's thread when told of the first).
    pub(crate) staged_since: Option<Instant>,
    /// Counters of shards whose threads ended.
    pub(crate) folded: ShardCounters,
    budget: Arc<Budget>,
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
    pub(crate) fn new(budget: Arc<Budget>) -> Self {
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
            staged_since: None,
            folded: ShardCounters::default(),
            budget,
            jitter_state: random_seed(),
        }
    }

    /// The index of `target`'s destination, registered if new.
    pub(crate) fn dest_index(&mut self, target: &Target<'_>) -> u32 {
        if let Some(i) = self.dests.iter().position(|d| d.matches(target)) {
            return i as u32;
        }
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
        (self.dests.len() - 1) as u32
    }

    /// Appends a line (newline included, already in the budget) to a destination's queue;
    /// `since` is when it was recorded, or earlier.
    pub(crate) fn append(&mut self, dest: u32, line: &[u8], since: Instant, settings: &Settings) {
        let jitter = self.next_jitter(settings.jitter);
        let d = &mut self.dests[dest as usize];
        if d.oldest.is_none() {
            d.oldest = Some(since);
            d.due_at = Some(since + settings.interval + jitter);
        }
        d.queue.push(line);
        self.points += 1;
        self.bytes += line.len();
    }

    /// Appends lines taken whole from a shard (see [`State::append`]).
    pub(crate) fn append_lines(
        &mut self,
        dest: u32,
        bytes: Vec<u8>,
        ends: Vec<usize>,
        since: Instant,
        settings: &Settings,
    ) {
        let jitter = self.next_jitter(settings.jitter);
        let d = &mut self.dests[dest as usize];
        if d.oldest.is_none() {
            d.oldest = Some(since);
            d.due_at = Some(since + settings.interval + jitter);
        }
        self.points += ends.len();
        self.bytes += bytes.len();
        d.queue.push_lines(bytes, ends);
    }

    /// Drops the oldest waiting line (never one in flight), counted as an overflow; false
    /// when nothing waits.
    pub(crate) fn evict_oldest(&mut self) -> bool {
        match self.oldest_waiting() {
            Some(dest) => {
                self.drop_front(dest);
                self.counters.drops.overflow += 1;
                true
            }
            None => false,
        }
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
        self.budget.release(1, size);
    }

    /// The next batch due, if any, of at most `cap` (points, bytes): a destination a flush
    /// waits for, or one over a trigger, or whose oldest line has waited its interval; the one
    /// with the oldest lines first.
    pub(crate) fn next(&mut self, now: Instant, settings: &Settings, cap: (usize, usize)) -> Next {
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
        let batch = d.queue.take_front(cap.0, cap.1);
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

    /// Settles the batch in flight: `settled` of its lines are gone (written, rejected or
    /// dropped: the caller counts which), and `rest`, the batch's `unsent` lines, goes back to
    /// the front of its queue, in order.
    pub(crate) fn settle(
        &mut self,
        settled: usize,
        settled_bytes: usize,
        rest: Batch,
        unsent: &Unsent,
    ) {
        let Some(flight) = self.in_flight.take() else {
            return;
        };
        self.points -= settled;
        self.bytes -= settled_bytes;
        self.budget.release(settled, settled_bytes);
        // A flush waits for the batch's first `marked` lines: those among the unsent ones
        // are waited for still (with several requests in flight, they need not be the last).
        let marked_in_rest = unsent.count_below(flight.marked);
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
            self.budget.release(points, bytes);
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
    /// A consistent snapshot, given the shards' counters and what they stage (taken with
    /// every shard's lock held, and this state's).
    pub(crate) fn stats(&self, shards: &ShardCounters, staged: (u64, u64)) -> Stats {
        let (in_flight, in_flight_bytes) = self
            .in_flight
            .map_or((0, 0), |f| (f.points as u64, f.bytes as u64));
        let c = &self.counters;
        let mut s = self.folded;
        s.add(shards);
        Stats {
            recorded: c.recorded + s.recorded,
            sampled_out: s.sampled_out,
            invalid: s.invalid,
            dropped: c.drops.total(),
            drops: c.drops,
            rejected: c.rejected,
            written: c.written,
            buffered: self.points as u64 - in_flight + staged.0,
            buffered_bytes: self.bytes as u64 - in_flight_bytes + staged.1,
            in_flight,
            in_flight_bytes,
            requests: c.requests,
            failed_requests: c.failed_requests,
            ignored: c.ignored + s.ignored,
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

pub(crate) fn random_seed() -> u64 {
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

    fn settings() -> Settings {
        // One request in flight: a batch is `max_batch_size` lines.
        let client = influx_core::ClientConfig::default();
        let client = influx_core::ClientBuilder::from(client).writes_in_flight(1);
        WriterBuilder::default()
            .client(client.into_config())
            .max_buffer_size(100)
            .trigger_size(2)
            .max_batch_size(2)
            .settings()
            .unwrap()
    }

    const T: Target<'static> = Target {
        database: "db",
        retention_policy: None,
        precision: Precision::Nanoseconds,
    };

    /// A state with `n` lines `m v=i` waiting, their budget reserved.
    fn with_lines(n: usize, s: &Settings) -> (State, Arc<Budget>) {
        let budget = Arc::new(Budget::default());
        let mut st = State::new(budget.clone());
        let dest = st.dest_index(&T);
        for i in 0..n {
            let line = format!("m v={i}\n");
            budget.reserved_points.0.fetch_add(1, Ordering::Relaxed);
            budget
                .reserved_bytes
                .fetch_add(line.len() as u64, Ordering::Relaxed);
            st.append(dest, line.as_bytes(), Instant::now(), s);
        }
        (st, budget)
    }

    fn stats(st: &State) -> Stats {
        let shards = ShardCounters {
            recorded: st.points as u64 + st.counters.drops.total() + st.counters.written,
            ..ShardCounters::default()
        };
        st.stats(&shards, (0, 0))
    }

    #[test]
    fn eviction_drops_the_oldest_waiting_and_releases_its_budget() {
        let s = settings();
        let (mut st, budget) = with_lines(5, &s);
        assert!(st.evict_oldest());
        assert!(st.evict_oldest());
        assert_eq!(st.dests[0].queue.text(), "m v=2\nm v=3\nm v=4\n");
        assert_eq!(budget.held(), (3, 18));
        assert_eq!(st.counters.drops.overflow, 2);
        assert!(stats(&st).adds_up());
    }

    #[test]
    fn points_in_flight_are_never_evicted_and_a_failed_batch_comes_back_first() {
        let s = settings();
        let (mut st, budget) = with_lines(2, &s);
        let Next::Send(_, batch) =
            st.next(Instant::now(), &s, (s.max_batch_size, s.max_batch_bytes))
        else {
            panic!("due by the trigger")
        };
        let batch = batch.into_batch();
        assert_eq!(batch.len(), 2);
        assert!(!st.evict_oldest(), "nothing waits: both are in flight");
        let unsent = Unsent::tail(0, batch.len());
        st.settle(0, 0, batch, &unsent);
        assert_eq!(st.dests[0].queue.text(), "m v=0\nm v=1\n");
        assert_eq!(budget.held(), (2, 12));
    }

    #[test]
    fn a_flush_waits_for_lines_until_they_settle() {
        let s = settings();
        let (mut st, budget) = with_lines(3, &s);
        let Next::Send(_, batch) =
            st.next(Instant::now(), &s, (s.max_batch_size, s.max_batch_bytes))
        else {
            panic!("due by the trigger")
        };
        let batch = batch.into_batch();
        assert_eq!(batch.len(), 2);
        assert_eq!(st.mark_all(), 3);
        // The first line is written, the second comes back.
        st.settle(1, 6, batch.tail(1), &Unsent::tail(1, 2));
        assert_eq!(st.marked(), 2);
        let Next::Send(_, batch) =
            st.next(Instant::now(), &s, (s.max_batch_size, s.max_batch_bytes))
        else {
            panic!("due by the flush")
        };
        let batch = batch.into_batch();
        let bytes = batch.bytes.len();
        st.settle(2, bytes, Batch::default(), &Unsent::default());
        assert_eq!(st.marked(), 0);
        assert_eq!(st.owned(), 0);
        assert_eq!(budget.held(), (0, 0));
    }
}
