// Over 800 lines, kept whole: most of it is one type, `SeriesBuffer`, whose methods (record,
// commit, autocommit, the credit of the shards) share its private state and locks; apart, that
// state would have to be opened to other files.
//! The per-type buffer behind every `#[derive(Series)]` type: encoded lines, not structs,
//! bounded in points and bytes.
//!
//! Each recording thread appends to a shard of its own (one per type and thread), under a lock
//! no other recording thread takes, so threads do not contend. The bounds hold across shards
//! without a counter every `record()` touches: a shard spends credit, points and bytes it was
//! granted from the type's bounds in blocks; when a shard's credit runs out it asks the type's
//! state for more, and when the bounds have none left, every shard's unspent credit is taken
//! back first, so a point is refused only when the lines themselves fill the bounds.
//!
//! A commit takes the lines put back by a failed commit first, then each shard's, shard after
//! shard: one thread's points keep their order; points of different threads are not ordered
//! between them.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use influx_core::{EncodeError, Error, Precision, Rejection, Unsent};
use parking_lot::{Condvar, Mutex};

use crate::__private::Client;

/// What the derive knows about a type, fixed at compile time.
#[doc(hidden)]
#[derive(Debug)]
pub struct SeriesMeta {
    /// The Rust type's name, for messages.
    pub type_name: &'static str,
    /// Points per request, and the autocommit threshold.
    pub bulk_size: Option<usize>,
    /// Commit from `record()` once `bulk_size` points are pending.
    pub autocommit: bool,
    /// ... on a thread of its own (`autocommit = "background"`), with a blocking client.
    pub background: bool,
    /// The buffer's bound in points (`max_pending`).
    pub max_pending: Option<usize>,
    /// The buffer's bound in bytes of lines (`max_pending_bytes`).
    pub max_pending_bytes: Option<usize>,
    /// The precision timestamps are encoded in.
    pub precision: Precision,
    /// The database, overriding the client's.
    pub database: Option<&'static str>,
    /// The retention policy.
    pub retention_policy: Option<&'static str>,
    /// The `client` attribute.
    pub client: Option<fn() -> Option<&'static Client>>,
    /// `SELECT * FROM ...` every measurement the type's name can produce.
    pub select: &'static str,
}

impl SeriesMeta {
    /// How many points one request may carry.
    pub(crate) fn request_cap(&self) -> usize {
        self.bulk_size.unwrap_or(DEFAULT_REQUEST_CAP)
    }

    /// How many pending points trigger an autocommit.
    fn threshold(&self) -> usize {
        // Autocommit without bulk_size commits every point, as influxdb-python does.
        self.bulk_size.unwrap_or(1)
    }
}

/// Points per request when a type has no `bulk_size` (requests are also capped in bytes, by
/// the client's `max_request_size`).
pub(crate) const DEFAULT_REQUEST_CAP: usize = 5_000;

/// The default bound of a type's buffer in points (pending and in flight).
pub const DEFAULT_MAX_PENDING: usize = 1_000_000;

/// The default bound of a type's buffer in bytes of encoded lines (pending and in flight):
/// enough for minutes of an outage at thousands of points a second, not enough to take a
/// process down.
pub const DEFAULT_MAX_PENDING_BYTES: usize = 64 << 20;

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A line longer than this does not keep its scratch space afterwards.
const MAX_KEPT_SCRATCH: usize = 64 * 1024;

thread_local! {
    /// What `record()` keeps per thread (in one place: one thread-local access a point).
    static LOCAL: RefCell<Local> = const {
        RefCell::new(Local {
            scratch: Vec::new(),
            shards: Vec::new(),
        })
    };
}

struct Local {
    /// Where `record()` encodes a line before it takes the shard's lock: a panic or an error
    /// while encoding leaves nothing half-written in the buffer.
    scratch: Vec<u8>,
    /// This thread's shards, one for each type it records (by buffer id).
    shards: Vec<(u64, Arc<Shard>)>,
}

/// Ids of buffers, given on first use (`SeriesBuffer::new` is `const`).
static NEXT_BUFFER_ID: AtomicU64 = AtomicU64::new(1);

/// At most this many points of credit a shard is granted at once.
const MAX_BLOCK_POINTS: usize = 1_024;
/// At most this many bytes of credit a shard is granted at once (more for a longer line).
const MAX_BLOCK_BYTES: usize = 256 * 1024;

/// One thread's lines of one type, on cache lines of their own.
#[derive(Debug)]
#[repr(align(128))]
struct Shard {
    /// The thread that records into it.
    owner: std::thread::ThreadId,
    /// Taken by its thread at every `record()` and by commits: a lock whose release is a plain
    /// store (one atomic read-modify-write a `record()`, not two); a waiter yields its thread.
    inner: spin::mutex::SpinMutex<ShardLines, spin::relax::Yield>,
}

#[derive(Debug, Default)]
struct ShardLines {
    lines: Lines,
    /// Credit granted and not spent yet: it counts in the type's bounds.
    credit: Limits,
    /// How far the lines' bytes may grow (doubling) before the next grant.
    grow_to: usize,
    /// How many lines, and bytes of them, the shard held when a commit (or `clear`) last took
    /// them: the next lines reserve as much at once.
    last: Limits,
}

impl ShardLines {
    /// Appends a line within `room` (see [`Lines::push_within`]); an empty shard first
    /// reserves the size last taken from it, as far as its credit (which counts in the bounds)
    /// backs it, instead of doubling up from nothing again after every commit.
    #[inline(always)]
    fn push(&mut self, line: &[u8], room: usize) {
        if self.lines.bytes.capacity() == 0 {
            self.reserve_last(line, room);
        }
        self.lines.push_within(line, room);
    }

    #[cold]
    fn reserve_last(&mut self, line: &[u8], room: usize) {
        let bytes = self.last.bytes.min(self.credit.bytes + line.len());
        self.lines.bytes.reserve_exact(bytes.min(room));
        self.lines
            .ends
            .reserve_exact(self.last.points.min(self.credit.points + 1));
    }
}

/// The bounds of one buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Limits {
    pub(crate) points: usize,
    pub(crate) bytes: usize,
}

/// Lines taken out of a buffer to be sent.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    pub(crate) bytes: Vec<u8>,
    /// The end offset of each line in `bytes`, newline included.
    pub(crate) ends: Vec<usize>,
}

impl Lines {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Appends every line of `other`.
    fn append(&mut self, other: &Lines) {
        let offset = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.ends.extend(other.ends.iter().map(|end| end + offset));
    }

    /// Appends a line (newline included), growing the bytes no further than `room`: doubling
    /// past the bound would hold twice the memory the bound promises. (The line ends, 8 bytes
    /// a line, grow as a `Vec` does.)
    #[inline]
    fn push_within(&mut self, line: &[u8], room: usize) {
        reserve_within(&mut self.bytes, line.len(), room);
        self.bytes.extend_from_slice(line);
        self.ends.push(self.bytes.len());
    }
}

/// Reserves room for `additional` more items, doubling as `Vec` does but never past `bound`
/// items of capacity (unless the items themselves need more).
#[inline]
fn reserve_within<T>(v: &mut Vec<T>, additional: usize, bound: usize) {
    if v.capacity() - v.len() < additional {
        grow_within(v, additional, bound);
    }
}

#[cold]
fn grow_within<T>(v: &mut Vec<T>, additional: usize, bound: usize) {
    let needed = v.len() + additional;
    let target = needed.max(v.capacity().saturating_mul(2).min(bound)).max(8);
    v.reserve_exact(target - v.len());
}

#[derive(Debug)]
struct State {
    /// Lines a commit that stopped put back: older than any line in the shards.
    front: Lines,
    /// Lines taken by a commit that has not settled yet: they count in the bounds.
    in_flight_points: usize,
    in_flight_bytes: usize,
    /// What counts in the bounds: the shards' lines and unspent credit, `front`, in flight.
    committed: Limits,
    /// Every shard of the type, in the order their threads first recorded.
    shards: Vec<Arc<Shard>>,
    failures: u32,
    /// The bounds: from the attributes (or the defaults), or set at run time.
    limits: Limits,
}

impl State {
    /// What is left of the bounds.
    fn free(&self) -> Limits {
        Limits {
            points: self.limits.points.saturating_sub(self.committed.points),
            bytes: self.limits.bytes.saturating_sub(self.committed.bytes),
        }
    }

    /// Forgets the shards whose thread is gone (only this list holds them) and which hold no
    /// line, taking back their credit.
    fn prune(&mut self) {
        let mut returned = Limits::default();
        self.shards.retain(|shard| {
            let s = shard.inner.lock();
            let keep = Arc::strong_count(shard) > 1 || s.lines.len() > 0;
            if !keep {
                returned.points += s.credit.points;
                returned.bytes += s.credit.bytes;
            }
            keep
        });
        self.committed.points -= returned.points;
        self.committed.bytes -= returned.bytes;
    }

    /// Takes back every shard's unspent credit (the caller may hold one shard's lock, passed
    /// as `held`, whose credit it handles itself).
    fn reclaim(&mut self, held: Option<&Arc<Shard>>) {
        for shard in &self.shards {
            if held.is_some_and(|h| Arc::ptr_eq(h, shard)) {
                continue;
            }
            let mut s = shard.inner.lock();
            self.committed.points -= s.credit.points;
            self.committed.bytes -= s.credit.bytes;
            s.credit = Limits::default();
        }
    }
}

/// The buffer of one `#[derive(Series)]` type. Generated code holds one in a `static`.
#[doc(hidden)]
#[derive(Debug)]
pub struct SeriesBuffer {
    meta: SeriesMeta,
    /// Given on first use, to find this thread's shard.
    id: AtomicU64,
    state: Mutex<State>,
    /// Pending points (front and shards), kept for types with `autocommit` only, so that
    /// `record()` can tell a commit is due without summing the shards.
    pending_count: AtomicUsize,
    /// When autocommits may try again after a failure, in nanoseconds since
    /// [`nanos_since_start`]'s start; 0 when no backoff runs.
    retry_at: AtomicU64,
    /// Held while a commit sends: one commit at a time per type, so lines put back after a
    /// failure never overtake lines of another commit.
    committing: CommitLock,
    bound: Mutex<Bound>,
    /// Points a commit in a background task or thread sent and the server refused for good,
    /// for the next [`crate::Series::flush_async`] or [`crate::Series::commit`] to report (at
    /// most [`MAX_KEPT_REJECTIONS`]; the count covers every one).
    refused_in_background: Mutex<(usize, Vec<Rejection>)>,
    /// The buffered writer `record()` feeds instead of this buffer, if the type is bound to
    /// one (`to_writer` says so without a lock, for types that are not).
    #[cfg(feature = "blocking")]
    writer: parking_lot::RwLock<Option<crate::writer::BufferedWriter>>,
    #[cfg(feature = "blocking")]
    to_writer: std::sync::atomic::AtomicBool,
}

/// How many refused points of background commits are kept for the next flush to report
/// (all of them are counted).
pub(crate) const MAX_KEPT_REJECTIONS: usize = 1_000;

/// The client a type is bound to.
#[derive(Debug, Clone, Default)]
pub(crate) enum Bound {
    /// None: the `client` attribute or the default client, if any.
    #[default]
    Unbound,
    /// A blocking client: autocommits run in the thread that records (or, with
    /// `autocommit = "background"`, in a thread they start).
    #[cfg(feature = "blocking")]
    Blocking(Arc<Client>),
    /// An async client: autocommits run in a task on the recording thread's runtime, or on
    /// the runtime that was current when the type was bound.
    #[cfg(feature = "async")]
    Async(
        Arc<influx_core::AsyncClient>,
        Option<tokio::runtime::Handle>,
    ),
}

/// One commit at a time per type, among threads and tasks alike: threads wait on a condition
/// variable, tasks on a `Notify`, and a task can hold the lock across awaits.
#[derive(Debug)]
struct CommitLock {
    held: Mutex<bool>,
    /// Commits waiting for the lock (`commit()`, `flush_async()`): a background commit stops
    /// going on for them, or a stream of recorded points would keep them waiting.
    waiting: AtomicUsize,
    freed: Condvar,
    #[cfg(feature = "async")]
    freed_async: tokio::sync::Notify,
}

/// The commit lock of a type, held; released when dropped.
#[derive(Debug)]
pub(crate) struct Committing {
    lock: &'static CommitLock,
}

impl Drop for Committing {
    fn drop(&mut self) {
        *self.lock.held.lock() = false;
        self.lock.freed.notify_one();
        #[cfg(feature = "async")]
        self.lock.freed_async.notify_waiters();
    }
}

impl SeriesBuffer {
    /// An empty buffer.
    pub const fn new(meta: SeriesMeta) -> Self {
        let limits = Limits {
            points: match meta.max_pending {
                Some(n) => n,
                None => DEFAULT_MAX_PENDING,
            },
            bytes: match meta.max_pending_bytes {
                Some(n) => n,
                None => DEFAULT_MAX_PENDING_BYTES,
            },
        };
        SeriesBuffer {
            meta,
            id: AtomicU64::new(0),
            state: Mutex::new(State {
                front: Lines {
                    bytes: Vec::new(),
                    ends: Vec::new(),
                },
                in_flight_points: 0,
                in_flight_bytes: 0,
                committed: Limits {
                    points: 0,
                    bytes: 0,
                },
                shards: Vec::new(),
                failures: 0,
                limits,
            }),
            pending_count: AtomicUsize::new(0),
            retry_at: AtomicU64::new(0),
            committing: CommitLock {
                held: Mutex::new(false),
                waiting: AtomicUsize::new(0),
                freed: Condvar::new(),
                #[cfg(feature = "async")]
                freed_async: tokio::sync::Notify::const_new(),
            },
            bound: Mutex::new(Bound::Unbound),
            refused_in_background: Mutex::new((0, Vec::new())),
            #[cfg(feature = "blocking")]
            writer: parking_lot::RwLock::new(None),
            #[cfg(feature = "blocking")]
            to_writer: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Binds the type to a buffered writer (`Some`), or unbinds it.
    #[cfg(feature = "blocking")]
    pub(crate) fn set_writer(&self, writer: Option<crate::writer::BufferedWriter>) {
        let mut slot = self.writer.write();
        self.to_writer
            .store(writer.is_some(), std::sync::atomic::Ordering::Relaxed);
        *slot = writer;
    }

    /// Runs `f` with the writer the type is bound to, if it is.
    #[cfg(feature = "blocking")]
    #[inline]
    pub(crate) fn with_writer<R>(
        &self,
        f: impl FnOnce(&crate::writer::BufferedWriter) -> R,
    ) -> Option<R> {
        if !self.to_writer.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        self.writer.read().as_ref().map(f)
    }

    pub(crate) fn meta(&self) -> &SeriesMeta {
        &self.meta
    }

    /// The buffer's bounds.
    pub(crate) fn limits(&self) -> Limits {
        self.state.lock().limits
    }

    /// Sets the buffer's bounds; what is already buffered stays, even above them.
    pub(crate) fn set_limits(&self, limits: Limits) {
        let mut state = self.state.lock();
        state.limits = Limits {
            points: limits.points.max(1),
            bytes: limits.bytes.max(1),
        };
        // Credit granted under the old bounds goes back.
        state.reclaim(None);
    }

    /// The buffer's id, given on first use.
    #[inline]
    fn id(&self) -> u64 {
        let id = self.id.load(Ordering::Relaxed);
        if id != 0 {
            return id;
        }
        let new = NEXT_BUFFER_ID.fetch_add(1, Ordering::Relaxed);
        match self
            .id
            .compare_exchange(0, new, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => new,
            Err(existing) => existing,
        }
    }

    /// A new shard, registered with the type.
    #[cold]
    fn new_shard(&self) -> Arc<Shard> {
        let shard = Arc::new(Shard {
            owner: std::thread::current().id(),
            inner: spin::mutex::SpinMutex::new(ShardLines::default()),
        });
        let mut state = self.state.lock();
        // Shards of threads that are gone and that hold no line: forgotten here too, so that
        // threads that come and go without a commit do not grow the list.
        state.prune();
        state.shards.push(shard.clone());
        shard
    }

    /// Encodes one line with `write` and appends it to this thread's shard. Returns whether an
    /// autocommit is due (the threshold is reached and no backoff runs).
    #[inline]
    pub(crate) fn record(
        &self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<bool, Error> {
        let id = self.id();
        let mut write = Some(write);
        let fast = LOCAL.try_with(|local| {
            // Borrowed already: a `record()` from inside the encoding of another point (a
            // member's `TagValue` that records), which takes the path below.
            let mut local = local.try_borrow_mut().ok()?;
            let Local { scratch, shards } = &mut *local;
            scratch.clear();
            let write = write.take()?;
            if let Err(e) = write(scratch) {
                return Some(Err(e.into()));
            }
            scratch.push(b'\n');
            let shard = match shards.iter().position(|(i, _)| *i == id) {
                Some(at) => &shards[at].1,
                None => {
                    // Shards of buffers that are gone (only this thread holds them).
                    shards.retain(|(_, s)| Arc::strong_count(s) > 1);
                    shards.push((id, self.new_shard()));
                    &shards[shards.len() - 1].1
                }
            };
            let appended = self.append_to(shard, scratch);
            if scratch.capacity() > MAX_KEPT_SCRATCH {
                *scratch = Vec::new();
            }
            Some(self.appended(appended))
        });
        match (fast, write) {
            (Ok(Some(result)), _) => result,
            // A `record()` from inside another's encoding, or from a thread-local's destructor:
            // this thread's shard, found by its owner, so the thread's order holds.
            (_, Some(write)) => {
                let mut line = Vec::new();
                write(&mut line)?;
                line.push(b'\n');
                let shard = self.shard_of_this_thread();
                let appended = self.append_to(&shard, &line);
                self.appended(appended)
            }
            (_, None) => unreachable!("`write` runs at most once, and then gives a result"),
        }
    }

    /// What `record()` answers once the line went in (or did not): with the pending count
    /// after it (types with `autocommit`), whether a commit is due.
    #[inline(always)]
    fn appended(&self, appended: Result<usize, Limits>) -> Result<bool, Error> {
        match appended {
            Ok(pending) => Ok(self.meta.autocommit
                && pending >= self.meta.threshold()
                && self.not_backing_off()),
            Err(limits) => Err(Error::BufferFull {
                max_points: limits.points,
                max_bytes: limits.bytes,
            }),
        }
    }

    /// This thread's shard, found in the registry by its owner (for records that cannot reach
    /// the thread-local list), made if there is none.
    #[cold]
    fn shard_of_this_thread(&self) -> Arc<Shard> {
        let me = std::thread::current().id();
        let found = self
            .state
            .lock()
            .shards
            .iter()
            .find(|s| s.owner == me)
            .cloned();
        found.unwrap_or_else(|| self.new_shard())
    }

    /// Appends to `shard`; with `autocommit`, returns the pending count with this line in it
    /// (counted under the shard's lock, so no commit takes the line before it is counted).
    #[inline(always)]
    fn append_to(&self, shard: &Arc<Shard>, line: &[u8]) -> Result<usize, Limits> {
        {
            let mut s = shard.inner.lock();
            if s.credit.points >= 1 && s.credit.bytes >= line.len() {
                s.credit.points -= 1;
                s.credit.bytes -= line.len();
                let room = s.grow_to.max(s.lines.bytes.len() + line.len());
                s.push(line, room);
                return Ok(self.count());
            }
        }
        self.append_granting(shard, line)
    }

    /// Counts a line just appended (types with `autocommit` only), under its shard's lock.
    #[inline(always)]
    fn count(&self) -> usize {
        if self.meta.autocommit {
            self.pending_count.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            0
        }
    }

    /// Appends after granting `shard` credit from the bounds (taking back every other shard's
    /// unspent credit first if the bounds have none left).
    #[cold]
    fn append_granting(&self, shard: &Arc<Shard>, line: &[u8]) -> Result<usize, Limits> {
        let mut state = self.state.lock();
        let mut s = shard.inner.lock();
        // This shard's leftover goes back, and a fresh block is granted.
        state.committed.points -= s.credit.points;
        state.committed.bytes -= s.credit.bytes;
        s.credit = Limits::default();
        let mut free = state.free();
        if free.points < 1 || free.bytes < line.len() {
            state.reclaim(Some(shard));
            free = state.free();
            if free.points < 1 || free.bytes < line.len() {
                return Err(state.limits);
            }
        }
        let grant = Limits {
            points: free
                .points
                .min((state.limits.points / 16).clamp(1, MAX_BLOCK_POINTS)),
            bytes: free.bytes.min(
                (state.limits.bytes / 16)
                    .clamp(1, MAX_BLOCK_BYTES)
                    .max(line.len()),
            ),
        };
        state.committed.points += grant.points;
        state.committed.bytes += grant.bytes;
        s.credit = Limits {
            points: grant.points - 1,
            bytes: grant.bytes - line.len(),
        };
        // The shard's bytes may double up to its share of the room left (not just this
        // block: growing a block at a time would copy the lines over and over).
        let share = free.bytes / state.shards.len().max(1);
        // (Saturating: a bound may be `usize::MAX`, "no bound".)
        s.grow_to = (s.lines.bytes.len() + line.len()).saturating_add(s.credit.bytes.max(share));
        let room = s.grow_to;
        s.push(line, room);
        Ok(self.count())
    }

    /// No backoff runs (read without a lock: autocommit types without `bulk_size` ask at
    /// every `record()`).
    fn not_backing_off(&self) -> bool {
        let until = self.retry_at.load(Ordering::Relaxed);
        until == 0 || nanos_since_start() >= until
    }

    /// The commit lock, if no other commit holds it (for autocommits, which never wait).
    pub(crate) fn try_committing(&'static self) -> Option<Committing> {
        let mut held = self.committing.held.lock();
        if *held {
            return None;
        }
        *held = true;
        Some(Committing {
            lock: &self.committing,
        })
    }

    /// The commit lock, waiting in this thread for a commit in progress.
    #[cfg(feature = "blocking")]
    pub(crate) fn committing(&'static self) -> Committing {
        let mut held = self.committing.held.lock();
        if *held {
            self.committing.waiting.fetch_add(1, Ordering::Relaxed);
            while *held {
                self.committing.freed.wait(&mut held);
            }
            self.committing.waiting.fetch_sub(1, Ordering::Relaxed);
        }
        *held = true;
        Committing {
            lock: &self.committing,
        }
    }

    /// The commit lock, awaiting a commit in progress.
    #[cfg(feature = "async")]
    pub(crate) async fn committing_async(&'static self) -> Committing {
        if let Some(committing) = self.try_committing() {
            return committing;
        }
        // Counted while it waits, and uncounted if the future is dropped meanwhile.
        struct Waiting(&'static AtomicUsize);
        impl Drop for Waiting {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.committing.waiting.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(&self.committing.waiting);
        loop {
            let freed = self.committing.freed_async.notified();
            let mut freed = std::pin::pin!(freed);
            // Registered before the check, so a release between the two is not missed.
            freed.as_mut().enable();
            if let Some(committing) = self.try_committing() {
                return committing;
            }
            freed.await;
        }
    }

    /// Whether a background commit should go on: an autocommit is due, and no `commit()` or
    /// flush waits for the lock (it sends everything pending anyway).
    pub(crate) fn autocommit_due(&self) -> bool {
        self.committing.waiting.load(Ordering::Relaxed) == 0
            && self.meta.autocommit
            && self.pending_count.load(Ordering::Relaxed) >= self.meta.threshold()
            && self.not_backing_off()
    }

    /// Keeps points a background commit saw refused, for the next flush to report.
    pub(crate) fn keep_refused(&self, rejections: Vec<Rejection>) {
        let mut kept = self.refused_in_background.lock();
        kept.0 += rejections.len();
        let room = MAX_KEPT_REJECTIONS.saturating_sub(kept.1.len());
        kept.1.extend(rejections.into_iter().take(room));
    }

    /// The points background commits saw refused since the last call: how many, and the
    /// first of them.
    pub(crate) fn take_refused(&self) -> (usize, Vec<Rejection>) {
        std::mem::take(&mut *self.refused_in_background.lock())
    }

    /// Takes the pending lines to send next (call with the commit lock held): the lines a
    /// failed commit put back, alone, or else every shard's. They count as in flight until
    /// [`SeriesBuffer::settle`].
    pub(crate) fn take(&self) -> Lines {
        let mut state = self.state.lock();
        // A batch taken and never settled (its commit's future dropped, or a panic in between)
        // is gone: its room comes back.
        state.committed.points -= state.in_flight_points;
        state.committed.bytes -= state.in_flight_bytes;
        let mut batch = std::mem::take(&mut state.front);
        // What the shards hold, to make room for it at once (lines recorded meanwhile are
        // taken too, growing the batch as a `Vec` grows).
        let (mut points, mut bytes) = state.shards.iter().fold((0, 0), |(p, b), s| {
            let s = s.inner.lock();
            (p + s.lines.len(), b + s.lines.bytes.len())
        });
        // Lines a failed commit put back go alone: joining them and the shards' lines would
        // hold both twice over while one is copied behind the other.
        let shards: &[Arc<Shard>] = if batch.len() > 0 { &[] } else { &state.shards };
        for shard in shards {
            let mut s = shard.inner.lock();
            if s.lines.len() == 0 {
                continue;
            }
            s.last = Limits {
                points: s.lines.len(),
                bytes: s.lines.bytes.len(),
            };
            if batch.len() == 0 {
                // The common case, one thread's lines: handed over whole.
                batch = std::mem::take(&mut s.lines);
                points = points.saturating_sub(batch.len());
                bytes = bytes.saturating_sub(batch.bytes.len());
            } else {
                batch.bytes.reserve_exact(bytes.max(s.lines.bytes.len()));
                batch.ends.reserve_exact(points.max(s.lines.len()));
                (points, bytes) = (0, 0);
                batch.append(&s.lines);
                s.lines = Lines::default();
            }
            // What the shard may hold before its next grant: its credit.
            s.grow_to = s.credit.bytes;
        }
        // Shards whose thread is gone and which hold nothing are forgotten, credit and all.
        state.prune();
        state.in_flight_points = batch.len();
        state.in_flight_bytes = batch.bytes.len();
        if self.meta.autocommit {
            self.pending_count.fetch_sub(batch.len(), Ordering::Relaxed);
        }
        batch
    }

    /// Whether lines a failed commit put back wait: [`SeriesBuffer::take`] then takes them
    /// alone, and the shards' lines with the next call.
    pub(crate) fn has_put_back(&self) -> bool {
        self.state.lock().front.len() > 0
    }

    /// After a commit that sent nothing: every line goes back, and no backoff starts.
    pub(crate) fn settle_none(&self, batch: Lines) {
        let unsent = Unsent::tail(0, batch.len());
        self.settle(batch, &unsent, false);
    }

    /// After a commit: the `unsent` lines go back, in their order, in front of whatever was
    /// recorded meanwhile; the rest were written or refused, and leave the bounds. A commit that
    /// stopped (`failed`) starts or lengthens the backoff, in the same step, so no other
    /// thread sees the lines back without it; one that reached the server ends it.
    pub(crate) fn settle(&self, batch: Lines, unsent: &Unsent, failed: bool) {
        let (points, bytes) = (batch.len(), batch.bytes.len());
        let mut back = batch;
        unsent.keep(&mut back.bytes, &mut back.ends);
        let mut state = self.state.lock();
        state.committed.points -= points - back.len();
        state.committed.bytes -= bytes - back.bytes.len();
        state.in_flight_points = 0;
        state.in_flight_bytes = 0;
        if back.len() > 0 {
            if self.meta.autocommit {
                self.pending_count.fetch_add(back.len(), Ordering::Relaxed);
            }
            // Only one commit runs at a time, so `front` is empty; kept in order regardless.
            back.append(&state.front);
            state.front = back;
        }
        if failed {
            state.failures = state.failures.saturating_add(1);
            let exp = FIRST_BACKOFF.saturating_mul(1 << state.failures.min(16).saturating_sub(1));
            let delay = exp.min(MAX_BACKOFF);
            // Jitter of up to a quarter, so many processes do not retry in step.
            let jitter = delay.mul_f64(jitter_fraction() * 0.25);
            let at = nanos_since_start() + (delay + jitter).as_nanos() as u64;
            self.retry_at.store(at.max(1), Ordering::Relaxed);
        } else {
            state.failures = 0;
            self.retry_at.store(0, Ordering::Relaxed);
        }
    }

    /// The number of pending points (not counting a commit in flight).
    pub(crate) fn pending(&self) -> usize {
        let state = self.state.lock();
        state.front.len()
            + state
                .shards
                .iter()
                .map(|s| s.inner.lock().lines.len())
                .sum::<usize>()
    }

    /// The pending lines as text, in the order a commit sends them.
    pub(crate) fn pending_lines(&self) -> String {
        let state = self.state.lock();
        let mut text = String::from_utf8_lossy(&state.front.bytes).into_owned();
        for shard in &state.shards {
            text.push_str(&String::from_utf8_lossy(&shard.inner.lock().lines.bytes));
        }
        text
    }

    /// Drops every pending line and returns how many there were.
    pub(crate) fn clear(&self) -> usize {
        let mut state = self.state.lock();
        let mut dropped = Limits {
            points: state.front.len(),
            bytes: state.front.bytes.len(),
        };
        state.front = Lines::default();
        for shard in &state.shards {
            let mut s = shard.inner.lock();
            if s.lines.len() > 0 {
                s.last = Limits {
                    points: s.lines.len(),
                    bytes: s.lines.bytes.len(),
                };
            }
            dropped.points += s.lines.len();
            dropped.bytes += s.lines.bytes.len();
            s.lines = Lines::default();
        }
        state.committed.points -= dropped.points;
        state.committed.bytes -= dropped.bytes;
        if self.meta.autocommit {
            self.pending_count
                .fetch_sub(dropped.points, Ordering::Relaxed);
        }
        dropped.points
    }

    pub(crate) fn bind(&self, bound: Bound) {
        *self.bound.lock() = bound;
    }

    pub(crate) fn bound(&self) -> Bound {
        self.bound.lock().clone()
    }
}

/// Nanoseconds since the first call (a monotonic clock in one word, for backoff deadlines).
fn nanos_since_start() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// A number in `0..1` that differs between calls; good enough to spread retries.
fn jitter_fraction() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos.wrapping_mul(2_654_435_761) % 1_000_000) / 1_000_000.0
}

#[cfg(test)]
mod tests;
