//! [`Batch`]: an owned buffer of points of one `#[derive(Series)]` type, for code that wants no
//! process-wide state.

use std::fmt;
use std::marker::PhantomData;

#[cfg(feature = "async")]
use influx_core::AsyncClient;
#[cfg(feature = "blocking")]
use influx_core::Client;
use influx_core::line::Rollback;
use influx_core::{Caps, Commit, Error, WriteOutcome};

use crate::buffer::{Limits, Lines};
use crate::series::{Series, outcome_result, write_options};

/// An owned buffer of points of one `#[derive(Series)]` type: the same encoding, bounds and
/// commit as the type's own buffer ([`Series::record`], [`Series::commit`]), without the
/// process-wide state. Each `Batch` is independent: tests in one binary, or tasks that each
/// commit their own points, do not share it.
///
/// ```no_run
/// use influx_series::{Batch, Client, Series};
///
/// #[derive(Series)]
/// #[series(name = "cpu", database = "metrics")]
/// struct Cpu {
///     #[series(tag)]
///     host: String,
///     usage: f64,
/// }
///
/// let client = Client::new("http://127.0.0.1:8086")?;
/// let mut batch = Batch::<Cpu>::new();
/// batch.push(Cpu { host: "a".into(), usage: 0.5 })?;
/// batch.push(Cpu { host: "b".into(), usage: 0.25 })?;
/// assert_eq!(batch.len(), 2);
/// let done = batch.commit(&client)?;
/// assert_eq!(done.written, 2);
/// assert!(batch.is_empty());
/// # Ok::<(), influx_series::Error>(())
/// ```
pub struct Batch<T> {
    lines: Lines,
    limits: Limits,
    _type: PhantomData<fn(T)>,
}

impl<T: Series> Batch<T> {
    /// An empty batch, bounded as the type's own buffer is (`max_pending`,
    /// `max_pending_bytes`: 1 000 000 points and 64 MiB without them).
    pub fn new() -> Self {
        Batch {
            lines: Lines::default(),
            limits: T::__buffer().limits(),
            _type: PhantomData,
        }
    }

    /// Encodes a point into the batch. A point that cannot be encoded
    /// ([`Error::InvalidInput`]) or does not fit in the bounds ([`Error::BufferFull`]) is not
    /// taken; nothing in the batch changes, even if user code panics while encoding.
    pub fn push(&mut self, point: T) -> Result<(), Error> {
        let mut line = Rollback::new(&mut self.lines.bytes);
        point.write_line(line.bytes())?;
        line.bytes().push(b'\n');
        let full =
            self.lines.ends.len() >= self.limits.points || line.bytes().len() > self.limits.bytes;
        if full {
            return Err(Error::BufferFull {
                max_points: self.limits.points,
                max_bytes: self.limits.bytes,
            });
        }
        let end = line.keep();
        self.lines.ends.push(end);
        Ok(())
    }

    /// Writes every point through `client`, as [`Series::commit`] does: requests capped in
    /// points (`bulk_size`) and bytes, a 413 split, partial writes acknowledged, bare 400s
    /// isolated. What was written or refused for good leaves the batch; on an error that
    /// stopped the commit, the unsent points stay, to commit again.
    #[cfg(feature = "blocking")]
    pub fn commit(&mut self, client: &Client) -> Result<Commit, Error> {
        if self.lines.len() == 0 {
            return Ok(Commit::default());
        }
        let meta = T::__buffer().meta();
        let outcome = client.write_isolating(
            &self.lines.bytes,
            &self.lines.ends,
            &write_options(meta),
            Caps::exactly(meta.request_cap()),
        );
        self.settle(outcome)
    }

    /// [`Batch::commit`] through an async client.
    #[cfg(feature = "async")]
    pub async fn commit_async(&mut self, client: &AsyncClient) -> Result<Commit, Error> {
        if self.lines.len() == 0 {
            return Ok(Commit::default());
        }
        let meta = T::__buffer().meta();
        let outcome = client
            .write_isolating(
                &self.lines.bytes,
                &self.lines.ends,
                &write_options(meta),
                Caps::exactly(meta.request_cap()),
            )
            .await;
        self.settle(outcome)
    }

    fn settle(&mut self, outcome: WriteOutcome) -> Result<Commit, Error> {
        let (result, unsent) = outcome_result(outcome, self.lines.len());
        let lines = &mut self.lines;
        unsent.keep(&mut lines.bytes, &mut lines.ends);
        result
    }

    /// The number of points.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when the batch holds no point.
    pub fn is_empty(&self) -> bool {
        self.lines.len() == 0
    }

    /// Exactly what the next commit sends, as line protocol.
    pub fn lines(&self) -> &str {
        // Only whole lines of the encoder's output are kept, and they are UTF-8.
        std::str::from_utf8(&self.lines.bytes).unwrap_or_default()
    }

    /// Drops every point.
    pub fn clear(&mut self) {
        self.lines = Lines::default();
    }
}

impl<T: Series> Default for Batch<T> {
    fn default() -> Self {
        Batch::new()
    }
}

impl<T> fmt::Debug for Batch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("points", &self.lines.len())
            .field("bytes", &self.lines.bytes.len())
            .finish()
    }
}
