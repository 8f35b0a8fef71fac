//! The per-type buffer behind every `#[derive(Series)]` type: encoded lines, not structs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use influx_core::{Client, EncodeError, Precision};
use parking_lot::Mutex;

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

/// Points per request when a type has no `bulk_size`: keeps a backlog's bodies well under the
/// server's default `max-body-size` (25 MB).
pub(crate) const DEFAULT_REQUEST_CAP: usize = 5_000;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Lines taken out of a buffer to be sent.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) bytes: Vec<u8>,
    /// The end offset of each line in `bytes`, newline included.
    pub(crate) ends: Vec<usize>,
}

impl Batch {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    fn start_of(&self, line: usize) -> usize {
        if line == 0 { 0 } else { self.ends[line - 1] }
    }

    /// The bytes of lines `from..to`.
    pub(crate) fn slice(&self, from: usize, to: usize) -> &[u8] {
        &self.bytes[self.start_of(from)..self.start_of(to)]
    }

    /// Lines `from..`, as a batch of their own.
    fn tail(mut self, from: usize) -> Batch {
        let offset = self.start_of(from);
        self.bytes.drain(..offset);
        self.ends.drain(..from);
        for end in &mut self.ends {
            *end -= offset;
        }
        self
    }
}

#[derive(Debug, Default)]
struct State {
    pending: Batch,
    failures: u32,
    retry_at: Option<Instant>,
}

/// The buffer of one `#[derive(Series)]` type. Generated code holds one in a `static`.
#[doc(hidden)]
#[derive(Debug)]
pub struct SeriesBuffer {
    meta: SeriesMeta,
    state: Mutex<State>,
    bound: Mutex<Option<Arc<Client>>>,
}

impl SeriesBuffer {
    /// An empty buffer.
    pub const fn new(meta: SeriesMeta) -> Self {
        SeriesBuffer {
            meta,
            state: Mutex::new(State {
                pending: Batch {
                    bytes: Vec::new(),
                    ends: Vec::new(),
                },
                failures: 0,
                retry_at: None,
            }),
            bound: Mutex::new(None),
        }
    }

    pub(crate) fn meta(&self) -> &SeriesMeta {
        &self.meta
    }

    /// Encodes one line into the buffer. With autocommit, returns the lines to send when the
    /// threshold is reached and no backoff is running.
    pub(crate) fn push(
        &self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<Option<Batch>, EncodeError> {
        let mut state = self.state.lock();
        let pending = &mut state.pending;
        let mark = pending.bytes.len();
        if let Err(e) = write(&mut pending.bytes) {
            pending.bytes.truncate(mark);
            return Err(e);
        }
        pending.bytes.push(b'\n');
        pending.ends.push(pending.bytes.len());
        if !self.meta.autocommit || pending.ends.len() < self.meta.threshold() {
            return Ok(None);
        }
        if state.retry_at.is_some_and(|at| Instant::now() < at) {
            return Ok(None);
        }
        Ok(Some(std::mem::take(&mut state.pending)))
    }

    /// Takes every pending line.
    pub(crate) fn take(&self) -> Batch {
        std::mem::take(&mut self.state.lock().pending)
    }

    /// Puts lines `from..` of a batch back in front of whatever was recorded meanwhile (when
    /// no client could be found: no backoff, nothing was tried).
    pub(crate) fn restore(&self, batch: Batch, from: usize) {
        let mut state = self.state.lock();
        Self::put_back(&mut state, batch, from);
    }

    /// After a failed commit: puts lines `from..` back and starts or lengthens the backoff, in
    /// one step, so no other thread sees the lines back without the backoff.
    pub(crate) fn restore_after_failure(&self, batch: Batch, from: usize) {
        let mut state = self.state.lock();
        Self::put_back(&mut state, batch, from);
        state.failures = state.failures.saturating_add(1);
        let exp = FIRST_BACKOFF.saturating_mul(1 << state.failures.min(16).saturating_sub(1));
        let delay = exp.min(MAX_BACKOFF);
        // Jitter of up to a quarter, so many processes do not retry in step.
        let jitter = delay.mul_f64(jitter_fraction() * 0.25);
        state.retry_at = Some(Instant::now() + delay + jitter);
    }

    fn put_back(state: &mut State, batch: Batch, from: usize) {
        if from >= batch.len() {
            return;
        }
        let mut back = batch.tail(from);
        let offset = back.bytes.len();
        back.bytes.extend_from_slice(&state.pending.bytes);
        back.ends
            .extend(state.pending.ends.iter().map(|end| end + offset));
        state.pending = back;
    }

    /// After a successful commit: the backoff ends.
    pub(crate) fn note_success(&self) {
        let mut state = self.state.lock();
        state.failures = 0;
        state.retry_at = None;
    }

    /// The number of pending points.
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
        state.pending = Batch::default();
        n
    }

    pub(crate) fn bind(&self, client: Option<Client>) {
        *self.bound.lock() = client.map(Arc::new);
    }

    pub(crate) fn bound(&self) -> Option<Arc<Client>> {
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
    fn autocommit_hands_out_a_batch_at_bulk_size() {
        let buf = SeriesBuffer::new(meta(Some(3), true));
        assert!(buf.push(line("a v=1")).unwrap().is_none());
        assert!(buf.push(line("a v=2")).unwrap().is_none());
        let batch = buf.push(line("a v=3")).unwrap().expect("a batch at 3");
        assert_eq!(batch.len(), 3);
        assert_eq!(buf.pending(), 0);
    }

    #[test]
    fn restore_keeps_order_and_backoff_holds_batches() {
        let buf = SeriesBuffer::new(meta(Some(2), true));
        buf.push(line("a v=1")).unwrap();
        let batch = buf.push(line("a v=2\"x\ny\"")).unwrap().unwrap();
        buf.restore_after_failure(batch, 1);
        buf.push(line("a v=3")).unwrap();
        // Backing off: the threshold is reached but nothing is handed out.
        assert!(buf.push(line("a v=4")).unwrap().is_none());
        assert_eq!(buf.pending_lines(), "a v=2\"x\ny\"\na v=3\na v=4\n");
        let all = buf.take();
        assert_eq!(all.slice(0, 1), b"a v=2\"x\ny\"\n");
        assert_eq!(all.slice(1, 3), b"a v=3\na v=4\n");
    }

    #[test]
    fn a_failed_encoding_leaves_nothing_behind() {
        let buf = SeriesBuffer::new(meta(None, false));
        buf.push(line("a v=1")).unwrap();
        let err = buf.push(|out| {
            out.extend_from_slice(b"half a line");
            Err(EncodeError::new(
                influx_core::EncodeErrorKind::NoFields,
                influx_core::Part::Point,
            ))
        });
        assert!(err.is_err());
        assert_eq!(buf.pending_lines(), "a v=1\n");
    }
}
