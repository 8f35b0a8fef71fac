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
//! `recorded = sampled_out + invalid + dropped + rejected + written + sent + buffered +
//! in_flight` (`sent`: over UDP, where nothing tells whether the server stored them).
//!
//! How answers are handled (the status decides first; a message is read from at most 64 KiB
//! of an error's body, and kept to 1 KiB):
//! - `204`: written.
//! - `400 partial write`: the rest was stored; the refused points are counted as rejected and
//!   never resent.
//! - A `400` that names points' faults (a bare `field type conflict`, when a write creates a
//!   shard; lines the server cannot parse): the refused points are isolated by halving (a
//!   type conflict is first sent once more, as influxd then stores the good points), and
//!   counted as rejected: k bad points among n cost about 2k·log2(n) + 1 requests.
//! - Any other `400`: the batch is split once; if both halves are refused with the same
//!   message, the server refuses the request, not points: the batch is dropped (counted as
//!   `misconfigured`, 3 requests) and the destination flagged; otherwise the refused points
//!   are isolated as above.
//! - `413`: the batch is split in half, and the byte cap lowered for the rest of the run.
//! - A missing retention policy (influxd's `500`, told by its whole message), `database is
//!   required`, credentials refused, TLS refused (a certificate, or a plain server on an
//!   `https://` URL and the reverse) and other errors no resend can fix: the batch is dropped
//!   without a retry (counted as `misconfigured`) and the destination is flagged in
//!   [`Stats::flagged`].
//! - `404 database not found`: per [`OnMissingDatabase`].
//! - No answer, a timeout, `429` and every other `5xx`, whatever its body: the points go back
//!   to the front of their queue, and the writer waits (doubling backoff with jitter, or the
//!   server's `Retry-After`) before it sends one request again, as a probe.
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
//! a sixteenth of the byte budget), which each connection sends one after the other, so the
//! connections wait for each other less often (they wait at the end of each round).
//!
//! Once [`BufferedWriter::shutdown`] returns (or the last handle is dropped), the writer
//! sends no request: a request in flight then may still be answered, but none follows it.
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

mod budget;
mod config;
mod dests;
mod measurement;
mod queue;
mod record;
mod shard;
mod shared;
mod state;
mod stats;
mod worker;

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use influx_core::Error;
use parking_lot::{Condvar, Mutex};

pub use config::{OnFull, OnMissingDatabase, WriterBuilder};
pub use measurement::{DurationGuard, Measurement};
pub use record::{Destination, Record, RecordContext};
pub use stats::{Drops, Flagged, FlushError, Reason, ReasonKind, ShutdownReport, Stats};

use crate::Series;
use budget::{Budget, LINE_COST, charged};
use dests::{Cached, Registry, Target};
use shard::{Shard, ShardCounters, Staged};
use shared::Shared;
use state::State;

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
    /// Not taken: the point cannot be encoded, is larger than a request or the budget may be,
    /// or names no database and the writer has none (counted in [`Stats::invalid`]).
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

/// A buffering writer with a background thread: see the [module](self).
///
/// Handles are cheap to clone and share one writer. `record()` works from any thread and
/// inside async code (it never waits on I/O); `flush` and `shutdown` block the calling thread
/// until their timeout, so call them from async code through `spawn_blocking`.
///
/// Each recording thread appends to a shard of its own, so threads do not wait for each
/// other; a global sequence number keeps the order in which points were recorded. A thread
/// whose thread-locals are gone (a `record()` from a thread-local's destructor) records
/// through the writer's lock instead.
///
/// Dropping the last handle without [`BufferedWriter::shutdown`] stops the thread, counts
/// the points still waiting as [`Drops::unsent`] and logs how many there were; no request is
/// sent after that.
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
        shared.stop(&mut st);
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
    last: Option<Cached>,
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

/// How a refused point counts.
#[derive(Clone, Copy)]
enum Door {
    SampledOut,
    Invalid,
    Ignored,
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

    /// Records a point: a [`Point`](influx_core::Point), a [`Measurement`], or a value of a `#[derive(Series)]`
    /// type (written with its own database, retention policy and precision). Never blocks,
    /// never does I/O. A point without a time is stamped now. Its cost does not depend on how
    /// many destinations the writer knows.
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
            self.count_at_door(Door::Ignored, None);
            return Recorded::Disabled;
        }
        if settings.sample_probability < 1.0 && !self.sample(settings.sample_probability) {
            return match self.count_at_door(Door::SampledOut, None) {
                true => Recorded::Closed,
                false => Recorded::SampledOut,
            };
        }
        // The thread's scratch space, or a new one when its thread-locals are gone (a
        // `record()` from a thread-local's destructor).
        let mut scratch = SCRATCH.try_with(Cell::take).unwrap_or_default();
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
            Err(e) => self.invalid(e),
        };
        if scratch.capacity() <= MAX_KEPT_SCRATCH {
            let _ = SCRATCH.try_with(|kept| kept.set(scratch));
        }
        outcome
    }

    /// Runs `f` with this thread's shard of the writer (made and registered on first use);
    /// `None` when the thread's locals cannot be used (it is ending, or this is a `record()`
    /// from inside another).
    fn with_shard<R>(&self, f: impl FnOnce(&mut ThreadShard) -> R) -> Option<R> {
        SHARDS
            .try_with(|cell| {
                let mut shards = cell.try_borrow_mut().ok()?;
                let index = self.shard_index(&mut shards);
                Some(f(&mut shards[index]))
            })
            .ok()
            .flatten()
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

    /// Whether the next point is kept by sampling.
    fn sample(&self, p: f64) -> bool {
        match self.with_shard(|t| t.shard.sample(p)) {
            Some(kept) => kept,
            None => self.shared().state.lock().unit_random() < p,
        }
    }

    /// Counts a point refused before it was reserved (sampled out, invalid, ignored), with
    /// the reason of an invalid one; true when the writer is closed (it is then ignored).
    fn count_at_door(&self, door: Door, reason: Option<&Error>) -> bool {
        let shared = self.shared();
        let count = |counters: &mut ShardCounters, reasons: &mut stats::Reasons| {
            if matches!(door, Door::Ignored) || shared.closed.load(Ordering::Acquire) {
                counters.ignored += 1;
                return !matches!(door, Door::Ignored);
            }
            counters.recorded += 1;
            match door {
                Door::SampledOut => counters.sampled_out += 1,
                Door::Invalid => {
                    counters.invalid += 1;
                    if let Some(e) = reason {
                        reasons.add(ReasonKind::Invalid, &stats::describe(e), 1);
                    }
                }
                Door::Ignored => {}
            }
            false
        };
        let counted = self.with_shard(|t| {
            let mut staged = t.shard.staged.lock();
            let Staged {
                counters, reasons, ..
            } = &mut *staged;
            count(counters, reasons)
        });
        match counted {
            Some(closed) => closed,
            None => {
                let mut st = shared.state.lock();
                let mut folded = st.folded;
                let mut reasons = std::mem::take(&mut st.counters.reasons);
                let closed = count(&mut folded, &mut reasons);
                st.folded = folded;
                st.counters.reasons = reasons;
                closed
            }
        }
    }

    fn invalid(&self, e: Error) -> Recorded {
        if self.count_at_door(Door::Invalid, Some(&e)) {
            Recorded::Closed
        } else {
            Recorded::Invalid(e)
        }
    }

    fn enqueue(&self, target: Destination<'_>, line: &[u8]) -> Recorded {
        let shared = self.shared();
        let settings = &shared.settings;
        if line.len() > settings.max_batch_bytes.value {
            return self.invalid(too_large(
                line.len(),
                "max_batch_bytes",
                &settings.max_batch_bytes,
                0,
            ));
        }
        if line.len() as u64 + LINE_COST > settings.max_buffer_bytes.value as u64 {
            return self.invalid(too_large(
                line.len(),
                "max_buffer_bytes",
                &settings.max_buffer_bytes,
                LINE_COST as usize,
            ));
        }
        let Some(database) = target.database.or(settings.database.as_deref()) else {
            return self.invalid(Error::Config(
                "the point names no database, and the writer has none: set \
                 WriterBuilder::database or INFLUXDB_DATABASE (unset or empty)"
                    .into(),
            ));
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
        let held = (
            seq.saturating_sub(released.0),
            bytes.saturating_sub(released.1),
        );
        if held.0 > settings.max_buffer_size as u64
            || charged(held.0, held.1, budget.dest_bytes()) > settings.max_buffer_bytes.value as u64
        {
            return self.enqueue_locked(&target, line);
        }
        let registry = &shared.registry;
        let appended = self.with_shard(|entry| {
            let mut staged = entry.shard.staged.lock();
            if shared.closed.load(Ordering::Acquire) {
                staged.counters.ignored += 1;
                return None;
            }
            // Under the shard's lock: destinations are forgotten only with every shard's lock
            // held, so the slot checked here is the one the line is staged under.
            let slot = match &entry.last {
                Some(cached) if cached.holds(&target, registry) => cached.slot,
                _ => {
                    let cached = registry.lookup(&target);
                    let slot = cached.slot;
                    entry.last = Some(cached);
                    slot
                }
            };
            staged.push(seq, slot, line);
            staged.counters.recorded += 1;
            let held = staged.bytes.len();
            let cap = shared.shard_cap;
            // Three quarters into its block (twice the cap), a shard is taken by its own
            // thread.
            let far_over = held >= cap + cap / 2;
            Some((held >= cap, held - line.len() < cap, far_over))
        });
        match appended {
            Some(Some((over_cap, crossed, far_over))) => {
                if far_over {
                    // The writer's thread did not take the shards in time (it is busy in a
                    // request): this thread moves them to the queues, so that a shard never
                    // outgrows its block.
                    let mut st = shared.state.lock();
                    shared.drain(&mut st);
                    drop(st);
                    shared.wake.notify_one();
                    return Recorded::Enqueued;
                }
                if crossed && over_cap {
                    // The shard reached its cap: the writer's thread takes the shards now.
                    shared.shard_full.store(true, Ordering::Release);
                    drop(shared.state.lock());
                    shared.wake.notify_one();
                    return Recorded::Enqueued;
                }
            }
            Some(None) => {
                budget.release(1, line.len());
                budget.mark_drained(1, line.len());
                return Recorded::Closed;
            }
            // No shard to append to: through the writer's lock.
            None => return self.enqueue_locked(&target, line),
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
        // `since` is 0 when a cut took a point reserved after this one but not this one: the
        // writer's thread has not seen it either.
        if since <= 1
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

    /// `record()` through the global lock, for a point already reserved: when the budget is
    /// full (the oldest waiting points make room, or the point is refused), or when the
    /// thread has no shard to append to.
    #[cold]
    fn enqueue_locked(&self, target: &Target<'_>, line: &[u8]) -> Recorded {
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
        let fits = |budget: &Budget| {
            let (points, bytes) = budget.held_charged();
            points <= settings.max_buffer_size as u64
                && bytes <= settings.max_buffer_bytes.value as u64
        };
        let mut evicted = 0;
        let mut forgot = false;
        let mut slot = None;
        loop {
            if fits(&shared.budget) {
                if slot.is_some() {
                    break;
                }
                // Registered only now: forgetting idle destinations (below) could forget its
                // slot. Registering may charge a new destination: the budget is looked at
                // again.
                slot = Some(shared.registry.lookup(target).slot);
                continue;
            }
            if !forgot && slot.is_none() && st.has_idle() {
                forgot = true;
                shared.forget_idle(&mut st);
                continue;
            }
            if settings.on_full == OnFull::DropNewest || !st.evict_oldest() {
                if slot.is_some() {
                    // Over by the new destination's charge alone, with nothing left to drop:
                    // taken (a destination's charge is small, and it is given back when the
                    // destination is forgotten).
                    break;
                }
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
        let slot = slot.expect("registered in the loop");
        st.append(slot, line, Instant::now(), settings);
        drop(st);
        shared.wake.notify_one();
        if evicted > 0 {
            shared.settled.notify_all();
            Recorded::EnqueuedDroppingOldest { dropped: evicted }
        } else {
            Recorded::Enqueued
        }
    }

    /// Records a `Series` value for its `record()`, as a `Result`.
    pub(crate) fn record_series<T: Series>(&self, item: T) -> Result<(), Error> {
        match self.record(item) {
            Recorded::Invalid(e) => Err(e),
            Recorded::DroppedFull => Err(Error::BufferFull {
                max_points: self.shared().settings.max_buffer_size,
                max_bytes: self.shared().settings.max_buffer_bytes.value,
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
        let staged = shared.discard_staged(&mut st);
        let waiting = st.drop_waiting();
        st.counters.drops.unsent -= waiting as u64;
        let dropped = staged + waiting;
        st.counters.drops.cleared += dropped as u64;
        drop(st);
        shared.settled.notify_all();
        dropped
    }

    /// Counters and gauges, in one consistent snapshot. Its `Display` lists every kind of
    /// drop and refusal with its count and reasons.
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
    /// with a request in flight to a server that never answers; once it has returned, no
    /// request is sent (one in flight may still be answered, and its points settle). Calling
    /// it again reports again. The report's `Display` names every kind of drop with its count
    /// and reason.
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
            shared.stop(&mut st);
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
            if done {
                if let Some(thread) = self.inner.thread.lock().take() {
                    let _ = thread.join();
                }
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

/// A line over a limit of the writer's: the error names the setting and where it came from.
fn too_large(size: usize, name: &str, setting: &config::From<usize>, overhead: usize) -> Error {
    Error::InvalidArgument(
        format!(
            "a line of {size} bytes{} is over {} ({} bytes, from {}): it can never be sent",
            if overhead > 0 {
                format!(" (and {overhead} bytes of the writer's index)")
            } else {
                String::new()
            },
            name,
            setting.value,
            setting.source
        )
        .into(),
    )
}

impl WriterBuilder {
    /// Checks the settings and starts the writer's thread (unless it is disabled). The
    /// thread builds the HTTP client, so this works inside an async runtime too.
    pub fn start(self) -> Result<BufferedWriter, Error> {
        let settings = self.settings()?;
        let enabled = settings.enabled;
        let budget = Arc::new(Budget::default());
        let registry = Arc::new(Registry::new(budget.clone()));
        let shared = Arc::new(Shared {
            id: WRITER_IDS.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(State::new(budget.clone(), registry.clone(), &settings)),
            shards: Mutex::new(Vec::new()),
            budget,
            registry,
            closed: AtomicBool::new(false),
            halt: AtomicBool::new(false),
            wake: Condvar::new(),
            settled: Condvar::new(),
            shard_cap: settings.shard_cap(),
            shard_full: AtomicBool::new(false),
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
