//! The [`Series`] trait: what `#[derive(Series)]` implements.

use std::sync::Arc;

use influx_core::{Client, EncodeError, Error, FromRow, QueryOptions, WriteOptions};
use parking_lot::RwLock;

use crate::buffer::{Batch, SeriesBuffer};

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
    /// pending they are written at once, in the calling thread.
    ///
    /// Errors: the point cannot be encoded (nothing was buffered), or the autocommit failed
    /// (this point and every other stays buffered, and autocommits pause for a backoff interval
    /// so that `record()` does not wait on a dead server at every call).
    fn record(self) -> Result<(), Error>
    where
        Self: Sized,
    {
        let buffer = Self::__buffer();
        match buffer.push(|out| self.write_line(out))? {
            None => Ok(()),
            Some(batch) => send::<Self>(batch, None).map(drop),
        }
    }

    /// Writes every pending point, in requests of at most `bulk_size` points (5 000 without
    /// one). The client is, in order: the one bound with [`Series::bind`], the `client`
    /// attribute, the global default ([`set_default_client`]); with none, an error and every
    /// point kept.
    fn commit() -> Result<Commit, Error>
    where
        Self: Sized,
    {
        send::<Self>(Self::__buffer().take(), None)
    }

    /// Like [`Series::commit`], through `client`.
    fn commit_with(client: &Client) -> Result<Commit, Error>
    where
        Self: Sized,
    {
        send::<Self>(Self::__buffer().take(), Some(client))
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

/// What a successful commit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Commit {
    /// Points written.
    pub points: usize,
    /// Requests made.
    pub requests: usize,
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

/// Sends a batch in requests of at most the type's cap. What is not written goes back to the
/// front of the buffer; a `partial write` is the server's final word on its request, so that
/// request's lines are not sent again.
fn send<T: Series>(batch: Batch, given: Option<&Client>) -> Result<Commit, Error> {
    let buffer = T::__buffer();
    let meta = buffer.meta();
    if batch.len() == 0 {
        return Ok(Commit::default());
    }
    let Some(client) = resolve(buffer, given) else {
        buffer.restore(batch, 0);
        return Err(Error::Config(format!(
            "no client for `{}`: pass one to commit_with, call {0}::bind(client), set \
             #[series(client = ...)] or influx_series::set_default_client",
            meta.type_name
        )));
    };
    let client = client.get();
    let mut options = WriteOptions::default().precision(meta.precision);
    if let Some(db) = meta.database {
        options = WriteOptions::new(db).precision(meta.precision);
    }
    if let Some(rp) = meta.retention_policy {
        options = options.retention_policy(rp);
    }
    let cap = meta.request_cap();
    let mut done = Commit::default();
    let mut from = 0;
    while from < batch.len() {
        let to = (from + cap).min(batch.len());
        let result = client.write_encoded(batch.slice(from, to).to_vec(), &options);
        match result {
            Ok(()) => {
                done.points += to - from;
                done.requests += 1;
                from = to;
            }
            Err(e) => {
                let acknowledged = matches!(e, Error::PartialWrite { .. });
                let keep_from = if acknowledged { to } else { from };
                let error = e.after_writing(done.points);
                buffer.restore_after_failure(batch, keep_from);
                return Err(error);
            }
        }
    }
    buffer.note_success();
    Ok(done)
}
