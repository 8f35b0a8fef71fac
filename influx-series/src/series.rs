// Over 800 lines, kept whole: a quarter is the rustdoc of the public `Series` trait, whose
// methods the derive implements and users call, and are read as one.
//! The [`Series`] trait: what `#[derive(Series)]` implements.

#[cfg(feature = "blocking")]
use std::sync::Arc;

#[cfg(feature = "async")]
use influx_core::AsyncClient;
use influx_core::{Caps, Commit, EncodeError, Error, Unsent, WriteOptions, WriteOutcome};
#[cfg(feature = "blocking")]
use influx_core::{Client, FromRow, QueryOptions};
#[cfg(feature = "blocking")]
use parking_lot::RwLock;

use crate::buffer::{Bound, Limits, Lines, SeriesBuffer, SeriesMeta};

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

    /// What the type declares (generated).
    #[doc(hidden)]
    fn __schema() -> &'static crate::schema::SeriesSchema
    where
        Self: Sized;

    /// Encodes the point into the type's buffer. With `autocommit`, once `bulk_size` points are
    /// pending they are written at once, in the calling thread (unless another thread's commit
    /// of this type is under way: then they wait for the next one). A type bound to an
    /// [`AsyncClient`](crate::AsyncClient) with [`Series::bind_async`] never writes in the
    /// calling thread: see there.
    ///
    /// With `autocommit = "background"` (and a blocking client), the call that reaches
    /// `bulk_size` starts the commit on a thread of its own and returns: `record()` never waits
    /// for the server, and its only errors are the point's own (it cannot be encoded, the
    /// buffer is full), a type with no client, and a thread that could not be started (both
    /// [`Error::Config`], the point kept). The commit takes every point pending when it starts
    /// and goes on while `bulk_size` more are pending and no `commit()` waits, one commit of
    /// the type at a time. A failed one keeps its points, starts the backoff and is logged
    /// (`tracing`); points the server refuses for good come back from the next
    /// [`Series::commit`], which waits for the commit under way and then sends everything
    /// pending. Call `commit()` before the program ends.
    ///
    /// Errors:
    /// - the point cannot be encoded ([`Error::InvalidInput`]): nothing was buffered;
    /// - the buffer is full ([`Error::BufferFull`]: `max_pending` points or
    ///   `max_pending_bytes` bytes, a commit in flight included): the point was not taken,
    ///   and nothing already buffered was dropped;
    /// - the point was taken, but the autocommit it started failed
    ///   ([`Error::AutocommitFailed`], for which [`Error::was_recorded`] is true): nothing to
    ///   retry, and do not record the point again. Its `source` says why: the server could not
    ///   be reached (this point and every other unsent one stay buffered, and autocommits
    ///   pause for a backoff interval so that `record()` does not wait on a dead server at
    ///   every call), or it refused points for good ([`Error::Rejected`], which lists them:
    ///   they left the buffer, so they cannot block later points).
    ///
    /// With autocommit in the calling thread, the `record()` that reaches `bulk_size` waits for
    /// the commit: as long as the client's [`deadline`](crate::ClientBuilder::deadline) a
    /// request (30 s by default) when the server does not answer. In a service that answers
    /// requests of its own (a web handler), prefer `autocommit = "background"` or a
    /// [`BufferedWriter`](crate::writer::BufferedWriter), whose `record()` never waits.
    ///
    /// A type bound to a [`BufferedWriter`](crate::writer::BufferedWriter) with
    /// [`Series::bind_writer`] goes there instead, and the writer's policy applies: `Ok` when
    /// the point was taken (even if the oldest waiting points were dropped to make room, which
    /// the writer counts) or sampled out; [`Error::BufferFull`] when the writer refused it;
    /// [`Error::InvalidInput`] when it cannot be encoded. It never writes in the calling
    /// thread.
    ///
    /// Threads record without contending: each thread appends to a shard of the type's buffer
    /// of its own, and a commit takes every shard's lines. One thread's points are sent in the
    /// order it recorded them (so of two points of one series and timestamp, its later one is
    /// the one stored); points of different threads are not ordered between them, even when
    /// one thread records after another has (a channel, a lock, or an async task that moved
    /// to another worker thread of a runtime between two `record()`s): to have the later of
    /// two such points win, give them different timestamps or record them from one thread.
    /// The bounds hold across threads exactly: a point is refused only when the buffered
    /// points themselves fill them.
    fn record(self) -> Result<(), Error>
    where
        Self: Sized,
    {
        let buffer = Self::__buffer();
        #[cfg(feature = "blocking")]
        let this = {
            let mut this = Some(self);
            if let Some(result) =
                buffer.with_writer(|w| w.record_series(this.take().expect("taken once")))
            {
                return result;
            }
            this.expect("not bound: not taken")
        };
        #[cfg(not(feature = "blocking"))]
        let this = self;
        if !buffer.record(|out| this.write_line(out))? {
            return Ok(());
        }
        autocommit(buffer)
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
    ///
    /// A type bound to an [`AsyncClient`](crate::AsyncClient) commits with
    /// [`Series::flush_async`]; `commit` then is an error, and keeps every point.
    #[cfg(feature = "blocking")]
    fn commit() -> Result<Commit, Error>
    where
        Self: Sized,
    {
        let buffer = Self::__buffer();
        let _committing = buffer.committing();
        with_refused(buffer, send(buffer, None))
    }

    /// Like [`Series::commit`], through `client`.
    #[cfg(feature = "blocking")]
    fn commit_with(client: &Client) -> Result<Commit, Error>
    where
        Self: Sized,
    {
        let buffer = Self::__buffer();
        let _committing = buffer.committing();
        with_refused(buffer, send(buffer, Some(client)))
    }

    /// Like [`Series::commit_with`], through an async client: awaits any commit of this type
    /// under way, then writes every pending point.
    ///
    /// ```no_run
    /// # use influx_series::{AsyncClient, Series};
    /// # #[derive(Series)] #[series(name = "cpu")] struct Cpu { usage: f64 }
    /// # async fn demo() -> Result<(), influx_series::Error> {
    /// let client = AsyncClient::new("http://127.0.0.1:8086?db=metrics")?;
    /// Cpu { usage: 0.5 }.record()?;
    /// let done = Cpu::commit_async(&client).await?;
    /// assert_eq!(done.written, 1);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "async")]
    fn commit_async(client: &AsyncClient) -> impl Future<Output = Result<Commit, Error>> + Send
    where
        Self: Sized,
    {
        let buffer = Self::__buffer();
        async move {
            let _committing = buffer.committing_async().await;
            send_async(buffer, client).await
        }
    }

    /// Binds this type to an async client: from now on its autocommits run in a task on a
    /// tokio runtime, so `record()` never blocks nor waits on the network, and
    /// [`Series::flush_async`] writes what is left.
    ///
    /// The task goes to the runtime of the thread that calls `record()`, or, outside any
    /// runtime, to the one that was current when `bind_async` was called (outside both, the
    /// points wait for the next flush). At most one commit of the type is in flight at a time:
    /// points recorded meanwhile go in the next one, which the task starts itself while enough
    /// are pending. Points in flight count in the type's bounds ([`Series::set_max_pending`]),
    /// so an unreachable server fills the buffer to its bound and then `record()` answers
    /// [`Error::BufferFull`], at once. A commit that fails keeps its points and backs off, as
    /// in the blocking case; points the server refuses for good are reported by the next
    /// flush.
    ///
    /// ```no_run
    /// use influx_series::{AsyncClient, Series};
    ///
    /// #[derive(Series)]
    /// #[series(name = "requests", bulk_size = 1000, autocommit)]
    /// struct Request {
    ///     #[series(tag)]
    ///     route: &'static str,
    ///     micros: u64,
    /// }
    ///
    /// #[tokio::main]
    /// async fn main() -> Result<(), influx_series::Error> {
    ///     Request::bind_async(AsyncClient::new("http://127.0.0.1:8086?db=web")?);
    ///     for micros in 0..10_000 {
    ///         Request { route: "/", micros }.record()?; // never blocks
    ///     }
    ///     Request::flush_async().await?; // everything recorded above is written, or an error
    ///     Ok(())
    /// }
    /// ```
    #[cfg(feature = "async")]
    fn bind_async(client: AsyncClient)
    where
        Self: Sized,
    {
        let runtime = tokio::runtime::Handle::try_current().ok();
        Self::__buffer().bind(Bound::Async(std::sync::Arc::new(client), runtime));
    }

    /// Returns once every point recorded before the call is written or has failed: awaits the
    /// commit in flight, then writes what is pending through the client bound with
    /// [`Series::bind_async`]. Points that commits in background tasks saw refused for good
    /// since the last flush come back here, in [`Error::Rejected`], with this commit's own
    /// result.
    #[cfg(feature = "async")]
    fn flush_async() -> impl Future<Output = Result<Commit, Error>> + Send
    where
        Self: Sized,
    {
        let buffer = Self::__buffer();
        async move {
            let _committing = buffer.committing_async().await;
            let Bound::Async(client, _) = buffer.bound() else {
                return Err(Error::Config(
                    format!(
                        "`{}` is not bound to an AsyncClient: call {0}::bind_async(client), or \
                         commit_async(&client)",
                        buffer.meta().type_name
                    )
                    .into(),
                ));
            };
            with_refused(buffer, send_async(buffer, &client).await)
        }
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

    /// What the type declares about what it writes: measurement, tags, fields with their
    /// types, time, precision, database and retention policy. [`crate::schema::Schema`]
    /// checks it against a server before the first write.
    ///
    /// ```
    /// use influx_series::{FieldType, Series};
    ///
    /// #[derive(Series)]
    /// struct Cpu {
    ///     #[series(tag)]
    ///     host: String,
    ///     usage: f64,
    /// }
    ///
    /// assert_eq!(Cpu::schema().measurement(), "cpu");
    /// assert_eq!(Cpu::schema().fields()[0].field_type, Some(FieldType::Float));
    /// ```
    fn schema() -> &'static crate::schema::SeriesSchema
    where
        Self: Sized,
    {
        Self::__schema()
    }

    /// Drops every pending point; returns how many there were.
    fn clear() -> usize
    where
        Self: Sized,
    {
        Self::__buffer().clear()
    }

    /// Uses `client` for this type's commits from now on.
    #[cfg(feature = "blocking")]
    fn bind(client: Client)
    where
        Self: Sized,
    {
        Self::__buffer().bind(Bound::Blocking(Arc::new(client)));
    }

    /// Reads back every point of this type's measurement(s) (for a template name, every
    /// measurement it can produce, matched with a regex built from its literal parts) through
    /// `client`, in the type's database if it names one. Plain InfluxQL with
    /// [`Client::query_as`] remains the way to ask anything narrower.
    #[cfg(feature = "blocking")]
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

    /// Sends this type's `record()` to a buffered writer from now on (see
    /// [`Series::record`]); points already in the type's own buffer stay there for
    /// [`Series::commit`].
    ///
    /// ```no_run
    /// use influx_series::{Series, writer::BufferedWriter};
    ///
    /// #[derive(Series)]
    /// #[series(name = "jobs", database = "metrics")]
    /// struct Job {
    ///     #[series(tag)]
    ///     queue: String,
    ///     seconds: f64,
    /// }
    ///
    /// let writer = BufferedWriter::from_env()?;
    /// Job::bind_writer(&writer);
    /// Job { queue: "mail".into(), seconds: 0.25 }.record()?; // never blocks
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    #[cfg(feature = "blocking")]
    fn bind_writer(writer: &crate::writer::BufferedWriter)
    where
        Self: Sized,
    {
        Self::__buffer().set_writer(Some(writer.clone()));
    }

    /// Forgets the client bound with [`Series::bind`] or [`Series::bind_async`], and the
    /// writer bound with [`Series::bind_writer`].
    fn unbind()
    where
        Self: Sized,
    {
        Self::__buffer().bind(Bound::Unbound);
        #[cfg(feature = "blocking")]
        Self::__buffer().set_writer(None);
    }
}

#[cfg(feature = "blocking")]
static DEFAULT_CLIENT: RwLock<Option<Arc<Client>>> = RwLock::new(None);

/// Sets the client every `Series` type uses when it has no other (Python's per-class client,
/// once for the whole program).
#[cfg(feature = "blocking")]
pub fn set_default_client(client: Client) {
    *DEFAULT_CLIENT.write() = Some(Arc::new(client));
}

/// Removes the default client.
#[cfg(feature = "blocking")]
pub fn clear_default_client() {
    *DEFAULT_CLIENT.write() = None;
}

/// A due autocommit: in this thread, or in a task for a type bound to an async client. Never
/// waits for another commit of the type: the points go in the next one.
#[cold]
fn autocommit(buffer: &'static SeriesBuffer) -> Result<(), Error> {
    let Some(committing) = buffer.try_committing() else {
        return Ok(());
    };
    match buffer.bound() {
        #[cfg(feature = "async")]
        Bound::Async(client, runtime) => {
            let Ok(runtime) = tokio::runtime::Handle::try_current().or(runtime.ok_or(())) else {
                // No runtime to run on: the points wait for a flush.
                return Ok(());
            };
            runtime.spawn(async move {
                let _committing = committing;
                loop {
                    if let Err(Error::Rejected { rejections, .. }) =
                        send_async(buffer, &client).await
                    {
                        buffer.keep_refused(rejections);
                    }
                    if !buffer.autocommit_due() {
                        break;
                    }
                }
            });
            Ok(())
        }
        #[cfg(feature = "blocking")]
        _ if buffer.meta().background => {
            // The client is found here, so that a type without one hears of it now.
            let client = resolve(buffer, None)?;
            std::thread::Builder::new()
                .name("influx-autocommit".into())
                .spawn(move || {
                    let failed = {
                        let _committing = committing;
                        commit_in_background(buffer, client.get())
                    };
                    // Logged with the lock let go: a subscriber is code of the user's, which
                    // may commit.
                    if let Some(e) = failed {
                        tracing::warn!(
                            series = buffer.meta().type_name,
                            pending = buffer.pending(),
                            "background autocommit failed, its points kept for the next \
                             commit: {e}"
                        );
                    }
                })
                .map_err(|e| {
                    Error::Config(format!("cannot start a thread to autocommit: {e}").into())
                })?;
            Ok(())
        }
        #[cfg(feature = "blocking")]
        _ => {
            let _committing = committing;
            // The point is in the buffer whatever the commit does: its failure is told apart
            // from a point that was not taken.
            send(buffer, None)
                .map(drop)
                .map_err(|e| Error::AutocommitFailed {
                    source: Box::new(e),
                })
        }
        #[cfg(not(feature = "blocking"))]
        _ => {
            drop(committing);
            Err(no_client(buffer))
        }
    }
}

/// `autocommit = "background"`: commits (the commit lock held) while one is due and no
/// `commit()` waits. A failed commit keeps its points and starts the backoff, which ends the
/// loop, and is returned to be logged; points refused for good are kept for the next
/// `commit()` to report.
#[cfg(feature = "blocking")]
fn commit_in_background(buffer: &'static SeriesBuffer, client: &Client) -> Option<Error> {
    loop {
        match send(buffer, Some(client)) {
            Ok(_) => {}
            Err(Error::Rejected {
                rejections,
                stopped,
                ..
            }) => {
                buffer.keep_refused(rejections);
                if let Some(e) = stopped {
                    return Some(*e);
                }
            }
            Err(e) => return Some(e),
        }
        if !buffer.autocommit_due() {
            return None;
        }
    }
}

/// With the result of a commit, the points commits in the background saw refused for good
/// since the last report (counted whole, listed up to the ones kept).
fn with_refused(buffer: &SeriesBuffer, result: Result<Commit, Error>) -> Result<Commit, Error> {
    if matches!(result, Err(Error::Config(_))) {
        // Nothing was tried (no client, or the wrong kind): the refusals wait for a commit
        // that is.
        return result;
    }
    let (refused, rejections) = buffer.take_refused();
    if refused == 0 {
        return result;
    }
    let mut before = Commit::default();
    before.refused = refused;
    // As if a commit of no lines had been refused them before this one.
    let background = Err(Error::Rejected {
        commit: before,
        rejections,
        stopped: None,
    });
    after_put_back(background, 0, result)
}

fn no_client(buffer: &SeriesBuffer) -> Error {
    Error::Config(
        format!(
            "no client for `{}`: pass one to commit_with or commit_async, call {0}::bind(client) \
             or {0}::bind_async(client), set #[series(client = ...)] or \
             influx_series::set_default_client",
            buffer.meta().type_name
        )
        .into(),
    )
}

#[cfg(feature = "blocking")]
enum Resolved<'a> {
    Borrowed(&'a Client),
    Shared(Arc<Client>),
}

#[cfg(feature = "blocking")]
impl Resolved<'_> {
    fn get(&self) -> &Client {
        match self {
            Resolved::Borrowed(c) => c,
            Resolved::Shared(c) => c,
        }
    }
}

#[cfg(feature = "blocking")]
fn resolve<'a>(buffer: &SeriesBuffer, given: Option<&'a Client>) -> Result<Resolved<'a>, Error> {
    if let Some(c) = given {
        return Ok(Resolved::Borrowed(c));
    }
    match buffer.bound() {
        Bound::Blocking(c) => return Ok(Resolved::Shared(c)),
        #[cfg(feature = "async")]
        Bound::Async(..) => {
            return Err(Error::Config(
                format!(
                    "`{}` is bound to an AsyncClient: await {0}::flush_async() instead of commit()",
                    buffer.meta().type_name
                )
                .into(),
            ));
        }
        Bound::Unbound => {}
    }
    if let Some(c) = buffer.meta().client.and_then(|f| f()) {
        return Ok(Resolved::Borrowed(c));
    }
    DEFAULT_CLIENT
        .read()
        .clone()
        .map(Resolved::Shared)
        .ok_or_else(|| no_client(buffer))
}

/// Sends every pending line (the commit lock held) through a blocking client: the lines a
/// failed commit put back, then, if they are written, the shards'.
#[cfg(feature = "blocking")]
fn send(buffer: &SeriesBuffer, given: Option<&Client>) -> Result<Commit, Error> {
    let put_back = buffer.has_put_back();
    match send_taken(buffer, given) {
        (first, lines) if put_back && settled_all(&first) => {
            after_put_back(first, lines, send_taken(buffer, given).0)
        }
        (result, _) => result,
    }
}

/// Sends what [`SeriesBuffer::take`] takes; the result, and how many lines were taken.
#[cfg(feature = "blocking")]
fn send_taken(buffer: &SeriesBuffer, given: Option<&Client>) -> (Result<Commit, Error>, usize) {
    let batch = buffer.take();
    let lines = batch.len();
    (send_batch(buffer, given, batch), lines)
}

#[cfg(feature = "blocking")]
fn send_batch(
    buffer: &SeriesBuffer,
    given: Option<&Client>,
    batch: Lines,
) -> Result<Commit, Error> {
    if batch.len() == 0 {
        buffer.settle_none(batch);
        return Ok(Commit::default());
    }
    let client = match resolve(buffer, given) {
        Ok(client) => client,
        Err(e) => {
            // Nothing was tried: no backoff.
            buffer.settle_none(batch);
            return Err(e);
        }
    };
    let (meta, lines) = (buffer.meta(), &batch);
    let outcome = client.get().write_isolating(
        &lines.bytes,
        &lines.ends,
        &write_options(meta),
        Caps::exactly(meta.request_cap()),
    );
    settle(buffer, batch, outcome)
}

/// Sends every pending line (the commit lock held) through an async client: the lines a
/// failed commit put back, then, if they are written, the shards'.
#[cfg(feature = "async")]
async fn send_async(buffer: &SeriesBuffer, client: &AsyncClient) -> Result<Commit, Error> {
    let put_back = buffer.has_put_back();
    match send_taken_async(buffer, client).await {
        (first, lines) if put_back && settled_all(&first) => {
            after_put_back(first, lines, send_taken_async(buffer, client).await.0)
        }
        (result, _) => result,
    }
}

#[cfg(feature = "async")]
async fn send_taken_async(
    buffer: &SeriesBuffer,
    client: &AsyncClient,
) -> (Result<Commit, Error>, usize) {
    let batch = buffer.take();
    let lines = batch.len();
    if lines == 0 {
        buffer.settle_none(batch);
        return (Ok(Commit::default()), 0);
    }
    let meta = buffer.meta();
    let outcome = client
        .write_isolating(
            &batch.bytes,
            &batch.ends,
            &write_options(meta),
            Caps::exactly(meta.request_cap()),
        )
        .await;
    (settle(buffer, batch, outcome), lines)
}

/// Whether a commit settled every line it took: each written, or refused for good.
fn settled_all(result: &Result<Commit, Error>) -> bool {
    matches!(result, Ok(_) | Err(Error::Rejected { stopped: None, .. }))
}

/// The result of a commit that settled `lines` lines first (`first`: written, or some refused
/// for good: the lines a failed commit had put back), then sent the rest (`rest`): the counts
/// and refusals of both, and an error's positions and counts as from the first of the `lines`.
fn after_put_back(
    first: Result<Commit, Error>,
    lines: usize,
    rest: Result<Commit, Error>,
) -> Result<Commit, Error> {
    let (before, mut rejections) = match first {
        Ok(commit) => (commit, Vec::new()),
        Err(Error::Rejected {
            commit, rejections, ..
        }) => (commit, rejections),
        Err(e) => return Err(e),
    };
    let (commit, stopped) = match rest {
        Ok(mut commit) => {
            commit.add(before);
            (commit, None)
        }
        Err(Error::Rejected {
            mut commit,
            rejections: own,
            stopped,
        }) => {
            commit.add(before);
            rejections.extend(own);
            (
                commit,
                stopped.map(|e| Box::new(after_lines(*e, before, lines))),
            )
        }
        Err(e) => (before, Some(Box::new(after_lines(e, before, lines)))),
    };
    match (rejections.is_empty(), stopped) {
        (true, None) => Ok(commit),
        (true, Some(e)) => Err(*e),
        (false, stopped) => Err(Error::Rejected {
            commit,
            rejections,
            stopped,
        }),
    }
}

/// `e`, of a write that came after `lines` lines of which `before` says what was done.
fn after_lines(e: Error, before: Commit, lines: usize) -> Error {
    let written = before.written;
    match e {
        Error::Rejected {
            mut commit,
            rejections,
            stopped,
        } => {
            commit.add(before);
            Error::Rejected {
                commit,
                rejections,
                stopped: stopped.map(|e| Box::new(after_lines(*e, before, lines))),
            }
        }
        Error::Unwritten {
            written: own,
            unwritten,
            reached,
            source,
        } => Error::Unwritten {
            written: own + written,
            unwritten: unwritten
                .into_iter()
                .map(|run| run.start + lines..run.end + lines)
                .collect(),
            reached: reached + lines,
            source,
        },
        Error::Interrupted {
            written_before,
            source,
        } => Error::Interrupted {
            written_before: written_before + written,
            source,
        },
        Error::PartialWrite {
            dropped,
            kind,
            message,
            written_before,
        } => Error::PartialWrite {
            dropped,
            kind,
            message,
            written_before: written_before + written,
        },
        Error::BatchRejected {
            message,
            written_before,
        } => Error::BatchRejected {
            message,
            written_before: written_before + written,
        },
        other => other.after_writing(written),
    }
}

/// After a commit: what the server stored or refused for good leaves the buffer, everything
/// from the first unsettled line on goes back to its front.
fn settle(buffer: &SeriesBuffer, batch: Lines, outcome: WriteOutcome) -> Result<Commit, Error> {
    let (result, unsent) = outcome_result(outcome, batch.len());
    let failed = result
        .as_ref()
        .is_err_and(|e| !matches!(e, Error::Rejected { stopped: None, .. }));
    buffer.settle(batch, &unsent, failed);
    result
}

/// How a type's lines are written: its database, retention policy and precision.
pub(crate) fn write_options(meta: &SeriesMeta) -> WriteOptions {
    let mut options = WriteOptions::default().precision(meta.precision);
    if let Some(db) = meta.database {
        options = WriteOptions::new(db).precision(meta.precision);
    }
    if let Some(rp) = meta.retention_policy {
        options = options.retention_policy(rp);
    }
    options
}

/// What to tell the caller of a write of `lines` lines, and the lines not settled (none,
/// when all were written or refused).
pub(crate) fn outcome_result(
    outcome: WriteOutcome,
    lines: usize,
) -> (Result<Commit, Error>, Unsent) {
    let commit = outcome.commit;
    let (stopped, unsent) = match outcome.stopped {
        Some((unsent, error)) => {
            let error = unsent.error(error, lines, commit.written);
            (Some(error), unsent)
        }
        None => (None, Unsent::default()),
    };
    let result = match (stopped, outcome.rejections.is_empty()) {
        (None, true) => Ok(commit),
        (Some(error), true) => Err(error),
        (stopped, false) => Err(Error::Rejected {
            commit,
            rejections: outcome.rejections,
            stopped: stopped.map(Box::new),
        }),
    };
    (result, unsent)
}

#[cfg(test)]
mod tests;
