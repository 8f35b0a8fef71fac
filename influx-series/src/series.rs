//! The [`Series`] trait: what `#[derive(Series)]` implements.

use std::sync::Arc;

use influx_core::{Client, Commit, EncodeError, Error, FromRow, QueryOptions, WriteOptions};
use parking_lot::RwLock;

use crate::buffer::{Limits, Lines, SeriesBuffer, SeriesMeta};

/// A struct that is a series schema: it encodes itself as a line and has a buffer of pending
/// points of its own. Implement it with `#[derive(Series)]`.
///
/// ```no_run
/// use influx_series::{Client, Series};
///
/// #[derive(Series)]
/// #[series(name = "events.stats.{server_name}", bulk_size = 5, autocommit)]
/// struct EventStats {
///     #[series(tag)]
///     server_name: String,
///     some_stat: i64,
///     other_stat: Option<f64>,
/// }
///
/// EventStats::bind(Client::new("http://127.0.0.1:8086")?.with_database("mydb"));
/// EventStats { server_name: "us.east-1".into(), some_stat: 159, other_stat: Some(10.0) }.record()?;
/// println!("{}", EventStats::pending_lines());
/// EventStats::commit()?;
/// # Ok::<(), influx_series::Error>(())
/// ```
pub trait Series {
    /// Encodes this point as one line (without the newline) into `out`. On error, `out` may hold
    /// part of a line; [`crate::LineBuf::push_with`] and the buffers undo that.
    fn write_line(&self, out: &mut Vec<u8>) -> Result<(), EncodeError>;

    /// The type's buffer (generated).
    #[doc(hidden)]
    fn __buffer() -> &'static SeriesBuffer;

    /// Encodes the point into the type's buffer. With `autocommit`, once `bulk_size` points are
    /// pending they are written at once, in the calling thread (unless another thread's commit
    /// of this type is under way: then they wait for the next one).
    ///
    /// Errors:
    /// - the point cannot be encoded ([`Error::InvalidInput`]): nothing was buffered;
    /// - the buffer is full ([`Error::BufferFull`]: `max_pending` points or
    ///   `max_pending_bytes` bytes, a commit in flight included): the point was not taken,
    ///   and nothing already buffered was dropped;
    /// - the autocommit failed: this point and every other unsent one stay buffered, and
    ///   autocommits pause for a backoff interval so that `record()` does not wait on a dead
    ///   server at every call;
    /// - the autocommit wrote everything but points the server refused for good
    ///   ([`Error::Rejected`], which lists them): they left the buffer, so they cannot block
    ///   later points.
    fn record(self) -> Result<(), Error>
    where
        Self: Sized,
    {
        let buffer = Self::__buffer();
        if !buffer.record(|out| self.write_line(out))? {
            return Ok(());
        }
        match buffer.try_committing() {
            Some(_committing) => send::<Self>(buffer.take(), None).map(drop),
            None => Ok(()),
        }
    }

    /// Writes every pending point, in requests of at most `bulk_size` points (5 000 without
    /// one) and at most the client's `max_request_size` bytes. The client is, in order: the
    /// one bound with [`Series::bind`], the `client` attribute, the global default
    /// ([`set_default_client`]); with none, an error and every point kept.
    ///
    /// A request the server answers with 413 is split in two. A partial write stores every
    /// point but those it names. A request refused with a bare 400 is sent once more (influxd
    /// stores the good points of a first write to a new shard on the second try), then split
    /// until the lines the server refuses are isolated: those leave the buffer and come back
    /// in [`Error::Rejected`], and everything else is written. A transport error, a timeout,
    /// a 429 or a 5xx stops the commit and keeps every unsent point.
    fn commit() -> Result<Commit, Error>
    where
        Self: Sized,
    {
        let buffer = Self::__buffer();
        let _committing = buffer.committing();
        send::<Self>(buffer.take(), None)
    }

    /// Like [`Series::commit`], through `client`.
    fn commit_with(client: &Client) -> Result<Commit, Error>
    where
        Self: Sized,
    {
        let buffer = Self::__buffer();
        let _committing = buffer.committing();
        send::<Self>(buffer.take(), Some(client))
    }

    /// Bounds this type's buffer to `points` points and `bytes` bytes of encoded lines,
    /// counting a commit in flight (over the `max_pending` and `max_pending_bytes`
    /// attributes; 1 000 000 points and 64 MiB without them). Points already buffered stay,
    /// even above the new bounds.
    fn set_max_pending(points: usize, bytes: usize)
    where
        Self: Sized,
    {
        Self::__buffer().set_limits(Limits { points, bytes });
    }

    /// This type's bounds: `(points, bytes)`.
    fn max_pending() -> (usize, usize)
    where
        Self: Sized,
    {
        let limits = Self::__buffer().limits();
        (limits.points, limits.bytes)
    }

    /// The number of pending points.
    fn pending() -> usize
    where
        Self: Sized,
    {
        Self::__buffer().pending()
    }

    /// Exactly what the next commit sends (influxdb-python's `_json_body_()`), as line protocol.
    fn pending_lines() -> String
    where
        Self: Sized,
    {
        Self::__buffer().pending_lines()
    }

    /// Drops every pending point; returns how many there were.
    fn clear() -> usize
    where
        Self: Sized,
    {
        Self::__buffer().clear()
    }

    /// Uses `client` for this type's commits from now on.
    fn bind(client: Client)
    where
        Self: Sized,
    {
        Self::__buffer().bind(Some(client));
    }

    /// Reads back every point of this type's measurement(s) (for a template name, every
    /// measurement it can produce, matched with a regex built from its literal parts) through
    /// `client`, in the type's database if it names one. Plain InfluxQL with
    /// [`Client::query_as`] remains the way to ask anything narrower.
    fn select(client: &Client) -> Result<Vec<Self>, Error>
    where
        Self: Sized + FromRow,
    {
        let meta = Self::__buffer().meta();
        let mut options = QueryOptions::new().epoch(influx_core::Precision::Nanoseconds);
        if let Some(db) = meta.database {
            options = options.database(db);
        }
        client.query_as_with(meta.select, &options)
    }

    /// Forgets the client bound with [`Series::bind`].
    fn unbind()
    where
        Self: Sized,
    {
        Self::__buffer().bind(None);
    }
}

static DEFAULT_CLIENT: RwLock<Option<Arc<Client>>> = RwLock::new(None);

/// Sets the client every `Series` type uses when it has no other (Python's per-class client,
/// once for the whole program).
pub fn set_default_client(client: Client) {
    *DEFAULT_CLIENT.write() = Some(Arc::new(client));
}

/// Removes the default client.
pub fn clear_default_client() {
    *DEFAULT_CLIENT.write() = None;
}

enum Resolved<'a> {
    Borrowed(&'a Client),
    Shared(Arc<Client>),
}

impl Resolved<'_> {
    fn get(&self) -> &Client {
        match self {
            Resolved::Borrowed(c) => c,
            Resolved::Shared(c) => c,
        }
    }
}

fn resolve<'a>(buffer: &SeriesBuffer, given: Option<&'a Client>) -> Option<Resolved<'a>> {
    if let Some(c) = given {
        return Some(Resolved::Borrowed(c));
    }
    if let Some(c) = buffer.bound() {
        return Some(Resolved::Shared(c));
    }
    if let Some(c) = buffer.meta().client.and_then(|f| f()) {
        return Some(Resolved::Borrowed(c));
    }
    DEFAULT_CLIENT.read().clone().map(Resolved::Shared)
}

/// Sends a batch (the commit lock held): what the server stored or refused for good leaves
/// the buffer, everything from the first unsettled line on goes back to its front.
fn send<T: Series>(batch: Lines, given: Option<&Client>) -> Result<Commit, Error> {
    let buffer = T::__buffer();
    let meta = buffer.meta();
    if batch.len() == 0 {
        buffer.settle(batch, 0, false);
        return Ok(Commit::default());
    }
    let Some(client) = resolve(buffer, given) else {
        // Nothing was tried: no backoff.
        buffer.settle(batch, 0, false);
        return Err(Error::Config(
            format!(
                "no client for `{}`: pass one to commit_with, call {0}::bind(client), set \
                 #[series(client = ...)] or influx_series::set_default_client",
                meta.type_name
            )
            .into(),
        ));
    };
    let (result, unsent) = write_lines(client.get(), meta, &batch);
    let failed = result
        .as_ref()
        .is_err_and(|e| !matches!(e, Error::Rejected { stopped: None, .. }));
    buffer.settle(batch, unsent, failed);
    result
}

/// Writes encoded lines of a type with its settings (database, retention policy, precision,
/// points per request): partial writes acknowledged, bare 400s isolated. Returns what to tell
/// the caller, and the first line not settled (every line, when all were written or refused).
pub(crate) fn write_lines(
    client: &Client,
    meta: &SeriesMeta,
    lines: &Lines,
) -> (Result<Commit, Error>, usize) {
    let mut options = WriteOptions::default().precision(meta.precision);
    if let Some(db) = meta.database {
        options = WriteOptions::new(db).precision(meta.precision);
    }
    if let Some(rp) = meta.retention_policy {
        options = options.retention_policy(rp);
    }
    let outcome = client.write_isolating(&lines.bytes, &lines.ends, &options, meta.request_cap());
    let commit = outcome.commit;
    let (stopped, unsent) = match outcome.stopped {
        Some((unsent, error)) => (Some(error), unsent),
        None => (None, lines.len()),
    };
    let result = match (stopped, outcome.rejections.is_empty()) {
        (None, true) => Ok(commit),
        (Some(error), true) => Err(error.after_writing(commit.written)),
        (stopped, false) => Err(Error::Rejected {
            commit,
            rejections: outcome.rejections,
            stopped: stopped.map(Box::new),
        }),
    };
    (result, unsent)
}
