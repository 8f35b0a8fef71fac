//! The per-type buffer behind every `#[derive(Series)]` type: encoded lines, not structs,
//! bounded in points and bytes.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[cfg(feature = "async")]
use influx_core::Rejection;
use influx_core::{EncodeError, Error, Precision};
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
    /// Where `record()` encodes a line before it takes the buffer's lock: a panic or an error
    /// while encoding leaves nothing half-written in the buffer, and the formatting happens
    /// outside the lock.
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The bounds of one buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    fn start_of(&self, line: usize) -> usize {
        if line == 0 { 0 } else { self.ends[line - 1] }
    }

    /// Lines `from..`, as a batch of their own.
    pub(crate) fn tail(mut self, from: usize) -> Lines {
        let offset = self.start_of(from);
        self.bytes.drain(..offset);
        self.ends.drain(..from);
        for end in &mut self.ends {
            *end -= offset;
        }
        self
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
    pending: Lines,
    /// Lines taken by a commit that has not settled yet: they count in the bounds.
    in_flight_points: usize,
    in_flight_bytes: usize,
    /// What pending lines may take: the bounds less what is in flight (kept apart so that
    /// `record()` compares, and no more).
    room: Limits,
    failures: u32,
    retry_at: Option<Instant>,
    /// The bounds: from the attributes (or the defaults), or set at run time.
    limits: Limits,
}

impl State {
    fn update_room(&mut self) {
        self.room = Limits {
            points: self.limits.points.saturating_sub(self.in_flight_points),
            bytes: self.limits.bytes.saturating_sub(self.in_flight_bytes),
        };
    }
}

/// The buffer of one `#[derive(Series)]` type. Generated code holds one in a `static`.
#[doc(hidden)]
#[derive(Debug)]
pub struct SeriesBuffer {
    meta: SeriesMeta,
    state: Mutex<State>,
    /// Held while a commit sends: one commit at a time per type, so lines put back after a
    /// failure never overtake lines of another commit.
    committing: CommitLock,
    bound: Mutex<Bound>,
    /// Points a commit in a background task sent and the server refused for good, for the
    /// next [`crate::Series::flush_async`] to report (at most [`MAX_KEPT_REJECTIONS`]; the
    /// count covers every one).
    #[cfg(feature = "async")]
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
#[cfg(feature = "async")]
pub(crate) const MAX_KEPT_REJECTIONS: usize = 1_000;

/// The client a type is bound to.
#[derive(Debug, Clone, Default)]
pub(crate) enum Bound {
    /// None: the `client` attribute or the default client, if any.
    #[default]
    Unbound,
    /// A blocking client: autocommits run in the thread that records.
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
            state: Mutex::new(State {
                pending: Lines {
                    bytes: Vec::new(),
                    ends: Vec::new(),
                },
                in_flight_points: 0,
                in_flight_bytes: 0,
                room: limits,
                failures: 0,
                retry_at: None,
                limits,
            }),
            committing: CommitLock {
                held: Mutex::new(false),
                freed: Condvar::new(),
                #[cfg(feature = "async")]
                freed_async: tokio::sync::Notify::const_new(),
            },
            bound: Mutex::new(Bound::Unbound),
            #[cfg(feature = "async")]
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
        state.update_room();
    }

    /// Encodes one line with `write` and appends it. Returns whether an autocommit is due
    /// (the threshold is reached and no backoff runs).
    #[inline]
    pub(crate) fn record(
        &self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<bool, Error> {
        // Taken out of the thread's slot for the while: a `record()` from inside the encoding
        // of another point (a member's `TagValue` that records) finds the slot empty and
        // works in space of its own, and a panic merely loses the space.
        let mut scratch = SCRATCH.take();
        scratch.clear();
        let appended = match write(&mut scratch) {
            Ok(()) => {
                scratch.push(b'\n');
                Ok(self.append(&scratch))
            }
            Err(e) => Err(e),
        };
        if scratch.capacity() <= MAX_KEPT_SCRATCH {
            SCRATCH.set(scratch);
        }
        match appended {
            Ok(Ok(due)) => Ok(due),
            Ok(Err(limits)) => Err(Error::BufferFull {
                max_points: limits.points,
                max_bytes: limits.bytes,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Appends one encoded line (newline included) and says whether an autocommit is due; a
    /// full buffer takes nothing and answers its bounds.
    // Inlined into `record`: this is the hot path, and a call costs a tenth of it.
    #[inline(always)]
    fn append(&self, line: &[u8]) -> Result<bool, Limits> {
        let mut state = self.state.lock();
        let room = state.room;
        if state.pending.len() >= room.points || state.pending.bytes.len() + line.len() > room.bytes
        {
            return Err(state.limits);
        }
        state.pending.push_within(line, room.bytes);
        Ok(self.meta.autocommit
            && state.pending.len() >= self.meta.threshold()
            && state.retry_at.is_none_or(|at| Instant::now() >= at))
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
        while *held {
            self.committing.freed.wait(&mut held);
        }
        *held = true;
        Committing {
            lock: &self.committing,
        }
    }

    /// The commit lock, awaiting a commit in progress.
    #[cfg(feature = "async")]
    pub(crate) async fn committing_async(&'static self) -> Committing {
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

    /// Whether an autocommit is due now (for a background commit deciding to go on).
    #[cfg(feature = "async")]
    pub(crate) fn autocommit_due(&self) -> bool {
        let state = self.state.lock();
        self.meta.autocommit
            && state.pending.len() >= self.meta.threshold()
            && state.retry_at.is_none_or(|at| Instant::now() >= at)
    }

    /// Keeps points a background commit saw refused, for the next flush to report.
    #[cfg(feature = "async")]
    pub(crate) fn keep_refused(&self, rejections: Vec<Rejection>) {
        let mut kept = self.refused_in_background.lock();
        kept.0 += rejections.len();
        let room = MAX_KEPT_REJECTIONS.saturating_sub(kept.1.len());
        kept.1.extend(rejections.into_iter().take(room));
    }

    /// The points background commits saw refused since the last call: how many, and the
    /// first of them.
    #[cfg(feature = "async")]
    pub(crate) fn take_refused(&self) -> (usize, Vec<Rejection>) {
        std::mem::take(&mut *self.refused_in_background.lock())
    }

    /// Takes every pending line to send (call with the commit lock held); they count as in
    /// flight until [`SeriesBuffer::settle`].
    pub(crate) fn take(&self) -> Lines {
        let mut state = self.state.lock();
        let batch = std::mem::take(&mut state.pending);
        state.in_flight_points = batch.len();
        state.in_flight_bytes = batch.bytes.len();
        state.update_room();
        batch
    }

    /// After a commit: the lines from `unsent` on go back in front of whatever was recorded
    /// meanwhile; the rest were written or refused. A commit that stopped (`failed`) starts or
    /// lengthens the backoff, in the same step, so no other thread sees the lines back
    /// without it; one that reached the server ends it.
    pub(crate) fn settle(&self, batch: Lines, unsent: usize, failed: bool) {
        let mut state = self.state.lock();
        state.in_flight_points = 0;
        state.in_flight_bytes = 0;
        state.update_room();
        if unsent < batch.len() {
            let mut back = batch.tail(unsent);
            let recorded = std::mem::take(&mut state.pending);
            // Exactly: the lines were within the bounds before they were taken.
            back.bytes.reserve_exact(recorded.bytes.len());
            back.ends.reserve_exact(recorded.ends.len());
            let offset = back.bytes.len();
            back.bytes.extend_from_slice(&recorded.bytes);
            back.ends
                .extend(recorded.ends.iter().map(|end| end + offset));
            state.pending = back;
        }
        if failed {
            state.failures = state.failures.saturating_add(1);
            let exp = FIRST_BACKOFF.saturating_mul(1 << state.failures.min(16).saturating_sub(1));
            let delay = exp.min(MAX_BACKOFF);
            // Jitter of up to a quarter, so many processes do not retry in step.
            let jitter = delay.mul_f64(jitter_fraction() * 0.25);
            state.retry_at = Some(Instant::now() + delay + jitter);
        } else {
            state.failures = 0;
            state.retry_at = None;
        }
    }

    /// The number of pending points (not counting a commit in flight).
    pub(crate) fn pending(&self) -> usize {
        self.state.lock().pending.len()
    }

    /// The pending lines as text.
    pub(crate) fn pending_lines(&self) -> String {
        String::from_utf8_lossy(&self.state.lock().pending.bytes).into_owned()
    }

    /// Drops every pending line and returns how many there were.
    pub(crate) fn clear(&self) -> usize {
        let mut state = self.state.lock();
        let n = state.pending.len();
        state.pending = Lines::default();
        n
    }

    pub(crate) fn bind(&self, bound: Bound) {
        *self.bound.lock() = bound;
    }

    pub(crate) fn bound(&self) -> Bound {
        self.bound.lock().clone()
    }
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
mod tests {
    use super::*;

    fn meta(bulk: Option<usize>, autocommit: bool) -> SeriesMeta {
        SeriesMeta {
            type_name: "T",
            bulk_size: bulk,
            autocommit,
            max_pending: None,
            max_pending_bytes: None,
            precision: Precision::Nanoseconds,
            database: None,
            retention_policy: None,
            client: None,
            select: "SELECT * FROM \"t\"",
        }
    }

    fn line(text: &'static str) -> impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError> {
        move |out| {
            out.extend_from_slice(text.as_bytes());
            Ok(())
        }
    }

    #[test]
    fn autocommit_is_due_at_bulk_size() {
        let buf = SeriesBuffer::new(meta(Some(3), true));
        assert!(!buf.record(line("a v=1")).unwrap());
        assert!(!buf.record(line("a v=2")).unwrap());
        assert!(buf.record(line("a v=3")).unwrap());
        assert_eq!(buf.take().len(), 3);
        assert_eq!(buf.pending(), 0);
    }

    #[test]
    fn settle_keeps_order_and_backoff_holds_autocommits() {
        let buf = SeriesBuffer::new(meta(Some(2), true));
        buf.record(line("a v=1")).unwrap();
        buf.record(line("a v=2\"x\ny\"")).unwrap();
        let batch = buf.take();
        buf.record(line("a v=3")).unwrap();
        buf.settle(batch, 1, true);
        // Backing off: the threshold is reached but no autocommit is due.
        assert!(!buf.record(line("a v=4")).unwrap());
        assert_eq!(buf.pending_lines(), "a v=2\"x\ny\"\na v=3\na v=4\n");
        let all = buf.take();
        assert_eq!(all.ends, [11, 17, 23]);
    }

    #[test]
    fn a_failed_encoding_leaves_nothing_behind() {
        let buf = SeriesBuffer::new(meta(None, false));
        buf.record(line("a v=1")).unwrap();
        let err = buf.record(|out| {
            out.extend_from_slice(b"half a line");
            Err(EncodeError::new(
                influx_core::EncodeErrorKind::NoFields,
                influx_core::Part::Point,
            ))
        });
        assert!(err.is_err());
        assert_eq!(buf.pending_lines(), "a v=1\n");
    }

    #[test]
    fn a_full_buffer_takes_nothing_and_counts_lines_in_flight() {
        let buf = SeriesBuffer::new(meta(None, false));
        buf.set_limits(Limits {
            points: 3,
            bytes: 1000,
        });
        for _ in 0..3 {
            buf.record(line("a v=1")).unwrap();
        }
        let full = buf.record(line("a v=2")).unwrap_err();
        assert!(
            matches!(full, Error::BufferFull { max_points: 3, .. }),
            "{full:?}"
        );
        let batch = buf.take();
        // In flight, the three still count.
        assert!(buf.record(line("a v=2")).is_err());
        buf.settle(batch, 3, false);
        buf.record(line("a v=2")).unwrap();
        assert_eq!(buf.pending_lines(), "a v=2\n");

        buf.set_limits(Limits {
            points: 100,
            bytes: 12,
        });
        buf.record(line("a v=3")).unwrap();
        assert!(matches!(
            buf.record(line("a v=4")),
            Err(Error::BufferFull { max_bytes: 12, .. })
        ));
        assert_eq!(buf.pending_lines(), "a v=2\na v=3\n");
    }

    #[test]
    fn growth_stops_at_the_bound() {
        let mut v: Vec<u8> = Vec::new();
        for _ in 0..1000 {
            reserve_within(&mut v, 10, 5000);
            v.extend_from_slice(&[0; 10]);
            assert!(v.capacity() <= 5000.max(v.len()), "{}", v.capacity());
        }
    }
}
