//! The buffered background writer: sprockets-influxdb's buffering client, with bounded memory
//! and every point accounted for.
//!
//! [`BufferedWriter::record`] never blocks and never does I/O: it samples, encodes and
//! enqueues the point, or says why it did not. A thread of the writer's own batches the
//! points per destination (database, retention policy, precision) and writes them when a
//! destination has [`trigger_size`](WriterBuilder::trigger_size) points or
//! [`trigger_bytes`](WriterBuilder::trigger_bytes) bytes waiting, or its oldest point has
//! waited the [`interval`](WriterBuilder::interval). One budget, in points and in bytes,
//! covers everything the writer holds (waiting, in flight, waiting to be retried); when it is
//! full the oldest waiting point is dropped (or the new one, with [`OnFull::DropNewest`]), and
//! every drop is counted by reason in [`Stats`], whose counters always add up:
//!
//! `recorded = sampled_out + invalid + dropped + rejected + written + buffered + in_flight`.
//!
//! How answers are handled:
//! - `204`: written.
//! - `400 partial write`: the rest was stored; the refused points are counted as rejected and
//!   never resent.
//! - A bare `400` (`field type conflict` into a new shard): sent once more, then bisected
//!   until the refused points are isolated; they are counted as rejected.
//! - `413`: the batch is split in half, and the byte cap lowered for the rest of the run.
//! - A missing retention policy (influxd's `500`), `database is required`, credentials
//!   refused and other errors no resend can fix: the batch is dropped without a retry
//!   (counted as `misconfigured`) and the destination is flagged in [`Stats::flagged`].
//! - `404 database not found`: per [`OnMissingDatabase`].
//! - No answer, a timeout, `429` and other `5xx`: the points go back to the front of their
//!   queue, and the writer waits (doubling backoff with jitter, or the server's
//!   `Retry-After`) before it sends one request again, as a probe.
//!
//! The writer's client never retries by itself (its retry policy is replaced), so nothing is
//! retried twice. It keeps as many requests in flight as its client's
//! [`writes_in_flight`](crate::ClientBuilder::writes_in_flight) (2 by default; one while it
//! probes a server that failed), with a destination's points dealt to them a series at a
//! time (by series and time when there are too few series to share out): points of the same
//! series and time go in one request, or in requests one after the
//! other, in the order they were recorded, a failed request's points before anything recorded
//! after them, so the last one recorded wins. When one request fails and another succeeds,
//! the points the other stored are done with; the failed request's points, and those of the
//! requests that did not go out after it, go back to the queue. When more is due, the writer
//! takes up to sixteen requests' worth for each request in flight at once (never more than
//! half the buffer), which each connection sends one after the other, so the connections wait
//! for each other less often (they wait at the end of each round).
//!
//! ```no_run
//! use std::time::Duration;
//! use influx_series::Point;
//! use influx_series::writer::{BufferedWriter, Measurement, Recorded};
//!
//! // INFLUXDB_URL or INFLUXDB_HOST/PORT, INFLUXDB_DATABASE, INFLUXDB_INTERVAL, ...
//! let writer = BufferedWriter::from_env()?;
//! let outcome = writer.record(Point::builder("cpu").field("usage", 0.5).build()?);
//! assert!(matches!(outcome, Recorded::Enqueued));
//!
//! let mut m = Measurement::new("example", "measurement-name");
//! m.set_tag("foo", "bar").set_field("baz", 1.05);
//! writer.record(m);
//!
//! let report = writer.shutdown(Duration::from_secs(5));
//! println!("{} written, {} left over", report.stats.written, report.left_over);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod measurement;
mod queue;
mod shard;
mod state;
mod worker;

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use influx_core::{EncodeError, Error, Point, Precision, SharedTags};
use parking_lot::{Condvar, Mutex};

pub use config::{OnFull, OnMissingDatabase, WriterBuilder};
pub use measurement::{DurationGuard, Measurement};

use crate::Series;
use config::Settings;
use shard::{Cut, Shard, ShardCounters};
use state::{Budget, State, Target};

/// What [`BufferedWriter::record`] did with a point.
#[derive(Debug)]
#[non_exhaustive]
pub enum Recorded {
    /// Taken: it will be written (or counted as dropped or rejected).
    Enqueued,
    /// Taken, after dropping this many of the oldest waiting points to make room (they are
    /// counted in [`Drops::overflow`]).
    EnqueuedDroppingOldest {
        /// Points dropped.
        dropped: usize,
    },
    /// Left out by sampling (counted in [`Stats::sampled_out`]).
    SampledOut,
    /// Not taken: the budget is full and nothing waiting could be dropped (with
    /// [`OnFull::DropNewest`], or when everything held is in flight). Counted in
    /// [`Drops::full`].
    DroppedFull,
    /// Not taken: the point cannot be encoded, is larger than a request may be, or names no
    /// database and the writer has none (counted in [`Stats::invalid`]).
    Invalid(Error),
    /// Not taken: the writer is shutting down or shut down (counted in [`Stats::ignored`]).
    Closed,
    /// Not taken: the writer is disabled (`INFLUXDB_ENABLED=false`).
    Disabled,
}

impl Recorded {
    /// Whether the point was taken.
    pub fn is_enqueued(&self) -> bool {
        matches!(
            self,
            Recorded::Enqueued | Recorded::EnqueuedDroppingOldest { .. }
        )
    }
}

/// Points dropped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Drops {
    /// The oldest waiting points, dropped to make room for new ones ([`OnFull::DropOldest`]).
    pub overflow: u64,
    /// New points refused because the budget was full.
    pub full: u64,
    /// Points of batches no resend could make the server take: a missing retention policy,
    /// credentials, `database is required`.
    pub misconfigured: u64,
    /// Points of batches to a database that does not exist ([`OnMissingDatabase::Drop`]).
    pub missing_database: u64,
    /// Points still unsent when the writer stopped (its deadline passed, or it was dropped
    /// without [`BufferedWriter::shutdown`]).
    pub unsent: u64,
    /// Points dropped by [`BufferedWriter::clear`].
    pub cleared: u64,
}

impl Drops {
    /// Every drop.
    pub fn total(&self) -> u64 {
        self.overflow
            + self.full
            + self.misconfigured
            + self.missing_database
            + self.unsent
            + self.cleared
    }
}

/// A destination whose writes the server refuses for a reason no resend can fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flagged {
    /// The database.
    pub database: String,
    /// The retention policy, if one is named.
    pub retention_policy: Option<String>,
    /// The server's answer.
    pub reason: String,
}

/// A snapshot of the writer's counters (since it started) and gauges (now), taken at once:
/// [`Stats::adds_up`] holds in every snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Points given to `record()` while the writer was open.
    pub recorded: u64,
    /// Left out by sampling.
    pub sampled_out: u64,
    /// Refused by `record()` as invalid.
    pub invalid: u64,
    /// Dropped, for every reason in `drops`.
    pub dropped: u64,
    /// Dropped, by reason.
    pub drops: Drops,
    /// Refused by the server for good (a partial write's dropped points, or isolated out of a
    /// bare 400).
    pub rejected: u64,
    /// Written.
    pub written: u64,
    /// Waiting to be sent (including waiting to be retried).
    pub buffered: u64,
    /// Bytes of the points waiting.
    pub buffered_bytes: u64,
    /// In the request being sent.
    pub in_flight: u64,
    /// Bytes of the points in flight.
    pub in_flight_bytes: u64,
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed (no answer, or an error the batch stopped at).
    pub failed_requests: u64,
    /// Points offered after the writer closed, or while it is disabled (not in `recorded`).
    pub ignored: u64,
    /// Destinations the server refuses writes to.
    pub flagged: Vec<Flagged>,
}

impl Stats {
    /// `recorded = sampled_out + invalid + dropped + rejected + written + buffered +
    /// in_flight`.
    pub fn adds_up(&self) -> bool {
        self.recorded
            == self.sampled_out
                + self.invalid
                + self.dropped
                + self.rejected
                + self.written
                + self.buffered
                + self.in_flight
            && self.dropped == self.drops.total()
    }
}

/// What [`BufferedWriter::shutdown`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Whether everything was settled (written, rejected or dropped for a reason other than
    /// the deadline) before the deadline.
    pub complete: bool,
    /// Points left unsent at the deadline (counted in [`Drops::unsent`], or still in the
    /// request in flight, which settles on its own).
    pub left_over: u64,
    /// The counters at the end.
    pub stats: Stats,
}

/// [`BufferedWriter::flush`] did not see every point settled.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlushError {
    /// The timeout passed with this many points still waiting or in flight.
    TimedOut {
        /// Points recorded before the call and not yet settled.
        remaining: usize,
    },
    /// The writer stopped with points unsent.
    Stopped {
        /// Points recorded before the call and not settled.
        remaining: usize,
    },
}

impl std::fmt::Display for FlushError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlushError::TimedOut { remaining } => {
                write!(f, "flush timed out with {remaining} point(s) unsettled")
            }
            FlushError::Stopped { remaining } => {
                write!(f, "the writer stopped with {remaining} point(s) unsettled")
            }
        }
    }
}

impl std::error::Error for FlushError {}

/// What the writer's thread and its handles share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Distinguishes writers in the recording threads' shard lists.
    id: u64,
    state: Mutex<State>,
    /// Every recording thread's shard. Lock order: `state`, then `shards`, then each shard.
    shards: Mutex<Vec<Arc<Shard>>>,
    budget: Arc<Budget>,
    /// Intake stopped; checked by `record()` under its shard's lock.
    closed: AtomicBool,
    /// The worker waits here for work.
    wake: Condvar,
    /// Flushes and shutdowns wait here for the worker.
    settled: Condvar,
    settings: Settings,
}

impl Shared {
    /// Moves every shard's lines into the destinations' queues, in sequence order (a
    /// consistent cut: every shard is locked at once).
    pub(crate) fn drain(&self, st: &mut State) {
        let shards = self.shards.lock();
        let cut = Cut::take(&shards);
        drop(shards);
        let (points, bytes) = cut.size();
        self.budget.mark_drained(points, bytes);
        let since = st.staged_since.take().unwrap_or_else(Instant::now);
        let settings = &self.settings;
        match cut.into_single() {
            Ok((dest, bytes, ends)) => st.append_lines(dest, bytes, ends, since, settings),
            Err(cut) => cut.for_each(|dest, line| st.append(dest, line, since, settings)),
        }
    }

    /// Drops every line the shards hold (for `clear`); returns how many.
    fn discard_staged(&self) -> usize {
        let shards = self.shards.lock();
        let cut = Cut::take(&shards);
        drop(shards);
        let (points, bytes) = cut.size();
        self.budget.mark_drained(points, bytes);
        self.budget.release(points, bytes);
        points
    }

    /// Forgets the shards of threads that ended (their lines were drained), keeping their
    /// counters.
    pub(crate) fn prune(&self, st: &mut State) {
        let mut shards = self.shards.lock();
        shards.retain(|shard| {
            if Arc::strong_count(shard) > 1 {
                return true;
            }
            let staged = shard.staged.lock();
            if !staged.lines.is_empty() {
                return true;
            }
            st.folded.add(&staged.counters);
            false
        });
    }

    /// A consistent snapshot: this state's lock, then every shard's.
    fn stats(&self, st: &State) -> Stats {
        let shards = self.shards.lock();
        let guards: Vec<_> = shards.iter().map(|s| s.staged.lock()).collect();
        let mut counters = ShardCounters::default();
        let mut staged = (0u64, 0u64);
        for g in &guards {
            counters.add(&g.counters);
            staged.0 += g.lines.len() as u64;
            staged.1 += g.bytes.len() as u64;
        }
        st.stats(&counters, staged)
    }
}

/// A buffering writer with a background thread: see the [module](self).
///
/// Handles are cheap to clone and share one writer. `record()` works from any thread and
/// inside async code (it never waits on I/O); `flush` and `shutdown` block the calling thread
/// until their timeout, so call them from async code through `spawn_blocking`.
///
/// Each recording thread appends to a shard of its own, so threads do not wait for each
/// other; a global sequence number keeps the order in which points were recorded.
///
/// Dropping the last handle without [`BufferedWriter::shutdown`] stops the thread, counts
/// the points still waiting as [`Drops::unsent`] and logs how many there were.
#[derive(Debug, Clone)]
pub struct BufferedWriter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let shared = &self.shared;
        let mut st = shared.state.lock();
        if st.stop {
            return;
        }
        shared.closed.store(true, Ordering::SeqCst);
        shared.drain(&mut st);
        st.closed = true;
        st.stop = true;
        let unsent = st.drop_waiting();
        let in_flight = st.in_flight.map_or(0, |f| f.points);
        drop(st);
        shared.wake.notify_all();
        if unsent + in_flight > 0 {
            tracing::warn!(
                unsent,
                in_flight,
                "buffered InfluxDB writer dropped without shutdown: {unsent} point(s) unsent"
            );
        }
    }
}

/// One recording thread's shard of a writer, and the destination it last recorded to.
struct ThreadShard {
    writer: u64,
    shard: Arc<Shard>,
    last: Option<(String, Option<String>, Precision, u32)>,
}

thread_local! {
    /// Where `record()` encodes a point before it reserves room for it.
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    /// This thread's shards, one a writer it records to.
    static SHARDS: RefCell<Vec<ThreadShard>> = const { RefCell::new(Vec::new()) };
}

/// A line longer than this does not keep its scratch space afterwards.
const MAX_KEPT_SCRATCH: usize = 64 * 1024;

static WRITER_IDS: AtomicU64 = AtomicU64::new(1);

/// Now plus `wait`, or a century from now for a wait too long to add (`Duration::MAX`).
fn deadline_after(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

impl BufferedWriter {
    /// A builder with every setting at its default; see [`WriterBuilder`].
    pub fn builder() -> WriterBuilder {
        WriterBuilder::default()
    }

    /// A writer configured from the environment (sprockets-influxdb's variables: see
    /// [`WriterBuilder::from_env`]); an invalid value is an error naming the variable.
    pub fn from_env() -> Result<BufferedWriter, Error> {
        WriterBuilder::default().from_env().start()
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Records a point: a [`Point`], a [`Measurement`], or a value of a `#[derive(Series)]`
    /// type (written with its own database, retention policy and precision). Never blocks,
    /// never does I/O. A point without a time is stamped now.
    ///
    /// ```no_run
    /// # use influx_series::{Point, writer::BufferedWriter};
    /// # let writer = BufferedWriter::from_env()?;
    /// match writer.record(Point::builder("jobs").field("done", 1i64).build()?) {
    ///     r if r.is_enqueued() => {}
    ///     other => eprintln!("not recorded: {other:?}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record<R: Record>(&self, item: R) -> Recorded {
        let settings = &self.shared().settings;
        if !settings.enabled {
            self.with_shard(|shard| shard.staged.lock().counters.ignored += 1);
            return Recorded::Disabled;
        }
        if settings.sample_probability < 1.0
            && !self.with_shard(|shard| shard.sample(settings.sample_probability))
        {
            return self.count_at_door(Recorded::SampledOut);
        }
        let mut scratch = SCRATCH.take();
        scratch.clear();
        let context = RecordContext {
            precision: settings.precision,
            tags: &settings.tags,
        };
        // Encoded before any lock: a `record()` from inside a member's encoding works.
        let outcome = match item.__encode(&context, &mut scratch) {
            Ok(target) => {
                scratch.push(b'\n');
                self.enqueue(target, &scratch)
            }
            Err(e) => self.count_at_door(Recorded::Invalid(e)),
        };
        if scratch.capacity() <= MAX_KEPT_SCRATCH {
            SCRATCH.set(scratch);
        }
        outcome
    }

    /// Runs `f` with this thread's shard of the writer (made and registered on first use).
    fn with_shard<R>(&self, f: impl FnOnce(&Shard) -> R) -> R {
        SHARDS.with_borrow_mut(|shards| {
            let index = self.shard_index(shards);
            f(&shards[index].shard)
        })
    }

    /// The position of this writer's shard in the thread's list, made if there is none.
    fn shard_index(&self, shards: &mut Vec<ThreadShard>) -> usize {
        let shared = self.shared();
        if let Some(i) = shards.iter().position(|t| t.writer == shared.id) {
            return i;
        }
        // Shards of writers that are gone (only this thread holds them) are forgotten here.
        shards.retain(|t| Arc::strong_count(&t.shard) > 1);
        let mut registry = shared.shards.lock();
        let seed = shared
            .settings
            .sample_seed
            .map_or_else(state::random_seed, |seed| {
                seed ^ (registry.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            });
        let shard = Shard::new(seed);
        registry.push(shard.clone());
        shards.push(ThreadShard {
            writer: shared.id,
            shard,
            last: None,
        });
        shards.len() - 1
    }

    fn enqueue(&self, target: Destination<'_>, line: &[u8]) -> Recorded {
        let shared = self.shared();
        let settings = &shared.settings;
        let limit = settings.max_batch_bytes.min(settings.max_buffer_bytes);
        if line.len() > limit {
            return self.count_at_door(Recorded::Invalid(Error::RequestTooLarge {
                size: line.len(),
                limit,
            }));
        }
        let Some(database) = target.database.or(settings.database.as_deref()) else {
            return self.count_at_door(Recorded::Invalid(Error::Config(
                "the point names no database, and the writer has none (set \
                 WriterBuilder::database or INFLUXDB_DATABASE)"
                    .into(),
            )));
        };
        let target = Target {
            database,
            retention_policy: target
                .retention_policy
                .or(settings.retention_policy.as_deref()),
            precision: target.precision.unwrap_or(settings.precision),
        };
        let budget = &shared.budget;
        let size = line.len() as u64;
        // The reservation is the point's sequence number.
        let seq = budget.reserved_points.0.fetch_add(1, Ordering::AcqRel) + 1;
        let bytes = budget.reserved_bytes.fetch_add(size, Ordering::AcqRel) + size;
        let released = (
            budget.released.0.0.load(Ordering::Acquire),
            budget.released.0.1.load(Ordering::Acquire),
        );
        if seq.saturating_sub(released.0) > settings.max_buffer_size as u64
            || bytes.saturating_sub(released.1) > settings.max_buffer_bytes as u64
        {
            return self.enqueue_full(&target, line);
        }
        let appended = SHARDS.with_borrow_mut(|shards| {
            let index = self.shard_index(shards);
            let entry = &mut shards[index];
            let dest = match &entry.last {
                Some((db, rp, precision, dest))
                    if *precision == target.precision
                        && db == target.database
                        && rp.as_deref() == target.retention_policy =>
                {
                    *dest
                }
                _ => {
                    let dest = shared.state.lock().dest_index(&target);
                    entry.last = Some((
                        target.database.to_owned(),
                        target.retention_policy.map(str::to_owned),
                        target.precision,
                        dest,
                    ));
                    dest
                }
            };
            let mut staged = entry.shard.staged.lock();
            if shared.closed.load(Ordering::Acquire) {
                staged.counters.ignored += 1;
                return false;
            }
            staged.push(seq, dest, line);
            staged.counters.recorded += 1;
            true
        });
        if !appended {
            budget.release(1, line.len());
            budget.mark_drained(1, line.len());
            return Recorded::Closed;
        }
        // Wake the writer's thread for the first line since it last took the shards (it
        // starts the interval then), and when a trigger is reached.
        let drained = (
            budget.drained.0.0.load(Ordering::Acquire),
            budget.drained.0.1.load(Ordering::Acquire),
        );
        let since = seq.saturating_sub(drained.0);
        let since_bytes = bytes.saturating_sub(drained.1);
        let trigger_bytes = settings.trigger_bytes as u64;
        if since == 1
            || since == settings.trigger_size as u64
            || (since_bytes >= trigger_bytes && since_bytes - size < trigger_bytes)
        {
            // Taken and released first: the writer's thread is then either waiting (and
            // woken) or yet to look at the counters (and sees this line).
            drop(shared.state.lock());
            shared.wake.notify_one();
        }
        Recorded::Enqueued
    }

    /// `record()` when the budget is full: under the global lock, the oldest waiting points
    /// make room (or the point is refused).
    #[cold]
    fn enqueue_full(&self, target: &Target<'_>, line: &[u8]) -> Recorded {
        let shared = self.shared();
        let settings = &shared.settings;
        // This reservation never goes through a shard.
        shared.budget.mark_drained(1, line.len());
        let mut st = shared.state.lock();
        if shared.closed.load(Ordering::Acquire) {
            shared.budget.release(1, line.len());
            st.counters.ignored += 1;
            return Recorded::Closed;
        }
        st.counters.recorded += 1;
        // What waits in the shards is older than this point, and may be dropped for it.
        shared.drain(&mut st);
        let mut evicted = 0;
        loop {
            let (points, bytes) = shared.budget.held();
            if points <= settings.max_buffer_size as u64
                && bytes <= settings.max_buffer_bytes as u64
            {
                break;
            }
            if settings.on_full == OnFull::DropNewest || !st.evict_oldest() {
                shared.budget.release(1, line.len());
                st.counters.drops.full += 1;
                drop(st);
                if evicted > 0 {
                    shared.settled.notify_all();
                }
                return Recorded::DroppedFull;
            }
            evicted += 1;
        }
        let dest = st.dest_index(target);
        st.append(dest, line, Instant::now(), settings);
        drop(st);
        shared.wake.notify_one();
        if evicted > 0 {
            shared.settled.notify_all();
            Recorded::EnqueuedDroppingOldest { dropped: evicted }
        } else {
            Recorded::Enqueued
        }
    }

    /// Counts a point refused before it was reserved (sampled out, invalid).
    fn count_at_door(&self, outcome: Recorded) -> Recorded {
        let closed = self.with_shard(|shard| {
            let mut staged = shard.staged.lock();
            if self.shared().closed.load(Ordering::Acquire) {
                staged.counters.ignored += 1;
                return true;
            }
            staged.counters.recorded += 1;
            match outcome {
                Recorded::SampledOut => staged.counters.sampled_out += 1,
                _ => staged.counters.invalid += 1,
            }
            false
        });
        if closed { Recorded::Closed } else { outcome }
    }

    /// Records a `Series` value for its `record()`, as a `Result`.
    pub(crate) fn record_series<T: Series>(&self, item: T) -> Result<(), Error> {
        match self.record(item) {
            Recorded::Invalid(e) => Err(e),
            Recorded::DroppedFull => Err(Error::BufferFull {
                max_points: self.shared().settings.max_buffer_size,
                max_bytes: self.shared().settings.max_buffer_bytes,
            }),
            Recorded::Closed => Err(Error::Config(
                "the buffered writer this type is bound to is shut down: the point was not taken"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// Drops every point waiting (not the request in flight), counted in [`Drops::cleared`];
    /// returns how many there were.
    ///
    /// ```no_run
    /// # let writer = influx_series::writer::BufferedWriter::from_env()?;
    /// let dropped = writer.clear();
    /// assert_eq!(writer.stats().drops.cleared, dropped as u64);
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn clear(&self) -> usize {
        let shared = self.shared();
        let mut st = shared.state.lock();
        let staged = shared.discard_staged();
        let waiting = st.drop_waiting();
        st.counters.drops.unsent -= waiting as u64;
        let dropped = staged + waiting;
        st.counters.drops.cleared += dropped as u64;
        drop(st);
        shared.settled.notify_all();
        dropped
    }

    /// Counters and gauges, in one consistent snapshot.
    pub fn stats(&self) -> Stats {
        let shared = self.shared();
        let st = shared.state.lock();
        shared.stats(&st)
    }

    /// Waits until every point recorded before the call is written, rejected or dropped, or
    /// `timeout` passes. Destinations are sent at once, whatever their triggers.
    pub fn flush(&self, timeout: Duration) -> Result<(), FlushError> {
        let shared = self.shared();
        let deadline = deadline_after(timeout);
        let mut st = shared.state.lock();
        shared.drain(&mut st);
        if st.mark_all() == 0 {
            return Ok(());
        }
        shared.wake.notify_one();
        loop {
            let remaining = st.marked();
            if remaining == 0 {
                return Ok(());
            }
            if st.worker_done {
                return Err(FlushError::Stopped { remaining });
            }
            if shared.settled.wait_until(&mut st, deadline).timed_out() {
                let remaining = st.marked();
                return if remaining == 0 {
                    Ok(())
                } else {
                    Err(FlushError::TimedOut { remaining })
                };
            }
        }
    }

    /// Stops intake (`record()` answers [`Recorded::Closed`]), sends what it can until
    /// `deadline` has passed, stops the thread, and reports. Points still waiting then are
    /// counted as [`Drops::unsent`]. Returns by the deadline (plus a few milliseconds), even
    /// with a request in flight to a server that never answers. Calling it again reports
    /// again.
    pub fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let shared = self.shared();
        let until = deadline_after(deadline);
        let mut st = shared.state.lock();
        if !st.stop {
            shared.closed.store(true, Ordering::SeqCst);
            // Every point recorded before `closed` was set is in a shard now: take them.
            shared.drain(&mut st);
            st.closed = true;
            st.mark_all();
            shared.wake.notify_one();
            while st.owned() > 0 && !st.worker_done {
                if shared.settled.wait_until(&mut st, until).timed_out() {
                    break;
                }
            }
            let complete = st.owned() == 0;
            st.stop = true;
            st.drop_waiting();
            shared.wake.notify_one();
            // The worker ends at once unless a request is in flight.
            while !st.worker_done && Instant::now() < until {
                shared.settled.wait_until(&mut st, until);
            }
            let stats = shared.stats(&st);
            let report = ShutdownReport {
                complete,
                left_over: stats.drops.unsent + stats.in_flight,
                stats,
            };
            let done = st.worker_done;
            drop(st);
            if done && let Some(thread) = self.inner.thread.lock().take() {
                let _ = thread.join();
            }
            tracing::info!(
                written = report.stats.written,
                left_over = report.left_over,
                "buffered InfluxDB writer shut down"
            );
            return report;
        }
        let stats = shared.stats(&st);
        ShutdownReport {
            complete: stats.buffered == 0 && stats.in_flight == 0 && stats.drops.unsent == 0,
            left_over: stats.drops.unsent + stats.in_flight,
            stats,
        }
    }
}

impl WriterBuilder {
    /// Checks the settings and starts the writer's thread (unless it is disabled). The
    /// thread builds the HTTP client, so this works inside an async runtime too.
    pub fn start(self) -> Result<BufferedWriter, Error> {
        let settings = self.settings()?;
        let enabled = settings.enabled;
        let budget = Arc::new(Budget::default());
        let shared = Arc::new(Shared {
            id: WRITER_IDS.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(State::new(budget.clone())),
            shards: Mutex::new(Vec::new()),
            budget,
            closed: AtomicBool::new(false),
            wake: Condvar::new(),
            settled: Condvar::new(),
            settings,
        });
        let thread = if enabled {
            Some(worker::spawn(shared.clone())?)
        } else {
            // No thread will ever run: nothing waits for one.
            shared.state.lock().worker_done = true;
            None
        };
        Ok(BufferedWriter {
            inner: Arc::new(Inner {
                shared,
                thread: Mutex::new(thread),
            }),
        })
    }
}

/// What [`BufferedWriter::record`] takes: a [`Point`], a [`Measurement`], or a value of a
/// `#[derive(Series)]` type.
pub trait Record {
    /// Encodes the line (without its newline) into `out`; returns where it goes.
    #[doc(hidden)]
    fn __encode(
        &self,
        context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Destination<'_>, Error>;
}

/// What encoding for the writer needs to know.
#[doc(hidden)]
#[derive(Debug)]
pub struct RecordContext<'a> {
    precision: Precision,
    tags: &'a SharedTags,
}

impl RecordContext<'_> {
    /// The precision points are written in.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn precision(&self) -> Precision {
        self.precision
    }

    /// The writer's tags (hostname, environment, ...), sorted by key.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn tags(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.tags.iter()
    }
}

/// Where a recorded line goes; `None` parts are the writer's defaults.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Destination<'a> {
    database: Option<&'a str>,
    retention_policy: Option<&'a str>,
    precision: Option<Precision>,
}

fn encode_point(
    point: &Point,
    context: &RecordContext<'_>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let stamp = point
        .timestamp_nanos()
        .is_none()
        .then(influx_core::clock::unique_now_nanos);
    point.write_line_shared(out, context.precision, context.tags, stamp)
}

impl Record for Point {
    fn __encode(
        &self,
        context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Destination<'_>, Error> {
        encode_point(self, context, out)?;
        Ok(Destination::default())
    }
}

impl Record for &Point {
    fn __encode(
        &self,
        context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Destination<'_>, Error> {
        encode_point(self, context, out)?;
        Ok(Destination::default())
    }
}

impl Record for Measurement {
    fn __encode(
        &self,
        context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Destination<'_>, Error> {
        encode_point(&self.to_point()?, context, out)?;
        Ok(Destination {
            database: Some(self.database()),
            ..Destination::default()
        })
    }
}

impl Record for &Measurement {
    fn __encode(
        &self,
        context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Destination<'_>, Error> {
        (**self).__encode(context, out)
    }
}

impl<T: Series> Record for T {
    fn __encode(
        &self,
        _context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Destination<'_>, Error> {
        self.write_line(out)?;
        let meta = T::__buffer().meta();
        Ok(Destination {
            database: meta.database,
            retention_policy: meta.retention_policy,
            precision: Some(meta.precision),
        })
    }
}
