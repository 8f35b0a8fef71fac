// Over 800 lines, kept whole: a third is the rustdoc of the public `Client` (each call with its
// example), and each call is a few lines over `Core`; splitting the `impl` would scatter the
// one type users read.
//! The blocking client: [`Core`]'s calls over plain HTTP on connections of its own
//! ([`Direct`], for `http://` without a proxy) or over `reqwest::blocking` (TLS, proxies),
//! each completed in one poll. This file only moves bytes, and keeps `reqwest::blocking` from
//! panicking inside a tokio runtime.

use std::borrow::Borrow;
use std::future::Future;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use serde::de::DeserializeOwned;

use crate::client::plain_http::{Direct, DirectBody};
use crate::client::reqwest::{configure_http, transport_error};
use crate::core::exchange::Core;
use crate::core::queries::Statements;
use crate::core::stream::{self, SetStream};
use crate::core::transport::{Head, Prepared, Transport, complete};
use crate::core::writes::{Caps, WriteOutcome};
use crate::error::{Cause, Commit, Error};
use crate::protocol::line::LineBuf;
use crate::protocol::point::Point;
use crate::query::resultset::ResultSet;
use crate::query::typed::FromRow;
use crate::request::admin::{
    self, ContinuousQuery, Grant, NewContinuousQuery, NewRetentionPolicy, Privilege,
    RetentionPolicy, RetentionPolicyChange, SeriesFilter, User,
};
use crate::request::config::ClientConfig;
use crate::request::http::{QueryOptions, WriteOptions};

/// A blocking InfluxDB 1.x client (feature `blocking`, on by default). Cheap to clone: clones
/// share one connection pool.
///
/// ```no_run
/// use influx_series::{Client, Point, QueryOptions, WriteOptions};
///
/// let client = Client::new("http://127.0.0.1:8086")?;
/// println!("server version {}", client.ping()?);
/// client.create_database("metrics")?;
/// let point = Point::builder("cpu").tag("host", "a").field("usage", 0.5).build()?;
/// client.write_points(&[point], &WriteOptions::new("metrics"))?;
/// let results = client.query_with("SELECT * FROM cpu", &QueryOptions::new().database("metrics"))?;
/// for row in results[0].rows() {
///     println!("{:?}", row.get("usage"));
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Inside a tokio runtime
///
/// In async code, use [`crate::AsyncClient`]: it has the same methods, and waits without
/// holding a thread. A `Client` still works there: called on a runtime's thread, it builds,
/// sends and drops its HTTP client on a helper thread, because `reqwest::blocking` panics
/// when it blocks or shuts down inside a runtime. The call blocks the runtime's worker thread
/// for as long as the request takes (the whole runtime, on a `current_thread` runtime), so
/// keep it to `tokio::task::spawn_blocking` or to programs where that does not matter.
#[derive(Clone, Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub struct Client {
    core: Core<BlockingHttp>,
}

/// The blocking [`Transport`]: plain HTTP on the calling thread (see [`Direct`]) where it
/// can, `reqwest::blocking` where TLS or a proxy needs it.
#[derive(Clone)]
pub(crate) struct BlockingHttp {
    client: Arc<OwnedClient>,
    direct: Option<Arc<Direct>>,
    /// The client's timeout (for each wait of a stream).
    timeout: Option<Duration>,
}

/// The blocking HTTP client, dropped off any tokio runtime: its own runtime cannot be shut
/// down on a runtime's thread.
pub(crate) struct OwnedClient(Option<reqwest::blocking::Client>);

impl Drop for OwnedClient {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            if in_runtime() {
                let helper = std::thread::Builder::new().name("influx-client-drop".into());
                // If no thread can be made, the drop happens here (and may panic, as it would
                // have without this).
                if let Err(e) = helper.spawn(move || drop(client)) {
                    drop(e);
                }
            }
        }
    }
}

/// Whether this thread is inside a tokio runtime, where `reqwest::blocking` may not block.
fn in_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// Runs `f` here, or on a helper thread if this thread is inside a tokio runtime.
fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if !in_runtime() {
        return f();
    }
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// How much of an answer is read at a time.
const READ_CHUNK: usize = 64 * 1024;

impl BlockingHttp {
    fn new(config: &ClientConfig) -> Result<BlockingHttp, Error> {
        let client = off_runtime(|| {
            configure_http!(reqwest::blocking::Client::builder(), config)?
                // Bounds each operation: sending the request, then each read of the answer.
                .timeout(config.timeout)
                .build()
                .map_err(|e| Error::Config(Cause::with_source("cannot build the HTTP client", e)))
        })?;
        let direct = Direct::for_config(config, crate::client::reqwest::extra_headers(config)?)
            .map(Arc::new);
        Ok(BlockingHttp {
            client: Arc::new(OwnedClient(Some(client))),
            direct,
            timeout: config.timeout,
        })
    }

    fn open_now(&self, request: Prepared) -> Result<(Head, BlockingBody), Error> {
        if let Some(direct) = &self.direct {
            if Direct::takes(&request) {
                let (head, body) = direct.open(request)?;
                return Ok((head, BlockingBody::Direct(body)));
            }
        }
        // A stream's head must come by the call's deadline. With a client timeout, a wait that
        // would end after it goes on a thread of its own (which the timeout ends); without
        // one, the request's own timeout is the time left, and then bounds the whole stream
        // (reqwest's blocking client has no other bound on the head).
        let mut timeout = request.timeout;
        if let Some(by) = request.head_by {
            if timeout.is_none() {
                match self.timeout {
                    Some(t) if Instant::now() + t > by => return self.open_stream_by(request, by),
                    Some(_) => {}
                    None => timeout = Some(by.saturating_duration_since(Instant::now())),
                }
            }
        }
        let Some(client) = &self.client.0 else {
            unreachable!("the HTTP client is taken only when dropped")
        };
        let mut http = reqwest::blocking::Request::new(request.method, request.url);
        // A whole answer's bound; a stream's is the client's, for each wait (reqwest would
        // bound a stream's whole body by a request's own timeout).
        if timeout.is_some() {
            *http.timeout_mut() = timeout;
        }
        *http.headers_mut() = request.headers;
        if let Some(body) = request.body {
            *http.body_mut() = Some(body.into());
        }
        let response = client.execute(http).map_err(transport_error)?;
        let head = Head {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            content_length: response.content_length(),
        };
        Ok((
            head,
            BlockingBody::Reqwest {
                response,
                scratch: Vec::new(),
                _client: Arc::clone(&self.client),
            },
        ))
    }
}

impl BlockingHttp {
    /// Opens a stream whose head must come by `by`, sooner than the client's timeout would
    /// end the wait (a retry late in the call's deadline): reqwest's blocking client can bound
    /// that wait only with a timeout that would bound the whole stream, so the request is made
    /// on a thread of its own, and left to it (it ends within the timeout, and its answer is
    /// dropped, closing the connection) if the head does not come in time.
    fn open_stream_by(
        &self,
        request: Prepared,
        by: Instant,
    ) -> Result<(Head, BlockingBody), Error> {
        let (sent, answer) = std::sync::mpsc::sync_channel(1);
        let http = self.clone();
        std::thread::Builder::new()
            .name("influx-query".into())
            .spawn(move || {
                let request = Prepared {
                    head_by: None,
                    ..request
                };
                let _ = sent.send(http.open_now(request));
            })
            .map_err(|e| {
                Error::Transport(Cause::with_source(
                    "cannot start a thread for the request",
                    e,
                ))
            })?;
        match answer.recv_timeout(by.saturating_duration_since(Instant::now())) {
            Ok(opened) => opened,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(Error::Timeout(
                "no answer before the call's deadline".into(),
            )),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(Error::Transport(
                "the request's thread ended without an answer".into(),
            )),
        }
    }
}

/// A body being read.
pub(crate) enum BlockingBody {
    /// From reqwest; it keeps the HTTP client alive, so that the client is never dropped (and
    /// its runtime shut down) while the body still needs it.
    Reqwest {
        response: reqwest::blocking::Response,
        /// Where each read lands, allocated (and zeroed) once for the body: an answer of many
        /// small chunks (one per series, with `GROUP BY`) gives a read per chunk, and a new
        /// 64 KiB buffer for each cost more than the bytes read.
        scratch: Vec<u8>,
        _client: Arc<OwnedClient>,
    },
    /// From a connection of [`Direct`]'s.
    Direct(DirectBody),
}

fn read_piece(body: &mut BlockingBody) -> Result<Option<Bytes>, Error> {
    let (response, scratch) = match body {
        BlockingBody::Reqwest {
            response, scratch, ..
        } => (response, scratch),
        BlockingBody::Direct(body) => return body.next(),
    };
    if scratch.is_empty() {
        scratch.resize(READ_CHUNK, 0);
    }
    loop {
        match response.read(scratch) {
            Ok(0) => return Ok(None),
            // The bytes read, copied: a piece holds what it holds, not 64 KiB.
            Ok(n) => return Ok(Some(Bytes::copy_from_slice(&scratch[..n]))),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                // reqwest reports a timeout or a broken connection as an `io::Error`
                // wrapping its own error.
                let timed_out = e.kind() == std::io::ErrorKind::TimedOut
                    || e.get_ref()
                        .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
                        .is_some_and(reqwest::Error::is_timeout);
                return Err(crate::client::reqwest::read_error(timed_out, e));
            }
        }
    }
}

impl Transport for BlockingHttp {
    const BLOCKS: bool = true;

    type Body = BlockingBody;

    fn open(
        &self,
        request: Prepared,
    ) -> impl Future<Output = Result<(Head, BlockingBody), Error>> + Send {
        // The I/O happens here, so the future is ready: see `core::complete`.
        std::future::ready(off_runtime(|| self.open_now(request)))
    }

    fn next_piece(
        &self,
        body: &mut BlockingBody,
    ) -> impl Future<Output = Result<Option<Bytes>, Error>> + Send {
        std::future::ready(off_runtime(|| read_piece(body)))
    }

    fn pause(&self, delay: Duration) -> impl Future<Output = ()> + Send {
        std::thread::sleep(delay);
        std::future::ready(())
    }

    fn run_all<F>(&self, futures: Vec<F>) -> impl Future<Output = Vec<F::Output>> + Send
    where
        F: Future + Send,
        F::Output: Send,
    {
        // Each future does its I/O when first polled (see `core::complete`): to have their
        // requests in flight at once, each but the first runs on a thread of its own, and the
        // first on this one. A future whose thread cannot be made runs here, after the first.
        let slots: Vec<_> = futures
            .into_iter()
            .map(|future| std::sync::Mutex::new(Some(future)))
            .collect();
        let run = |slot: &std::sync::Mutex<Option<F>>| {
            let future = slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            future.map(complete)
        };
        let outputs: Vec<F::Output> = std::thread::scope(|scope| {
            let others: Vec<_> = slots
                .iter()
                .skip(1)
                .map(|slot| {
                    std::thread::Builder::new()
                        .name("influx-write".into())
                        .spawn_scoped(scope, move || run(slot))
                        .ok()
                })
                .collect();
            let mut outputs: Vec<Option<F::Output>> = slots.first().map(run).into_iter().collect();
            for (slot, other) in slots.iter().skip(1).zip(others) {
                let output = match other.map(std::thread::ScopedJoinHandle::join) {
                    Some(Ok(output)) => output,
                    Some(Err(panic)) => std::panic::resume_unwind(panic),
                    None => run(slot),
                };
                outputs.push(output);
            }
            outputs.into_iter().flatten().collect()
        });
        std::future::ready(outputs)
    }

    fn send_datagrams(
        &self,
        host: &str,
        port: u16,
        datagrams: Vec<&[u8]>,
    ) -> impl Future<Output = Result<(), (usize, Error)>> + Send {
        std::future::ready(send_datagrams_now(host, port, &datagrams))
    }
}

fn send_datagrams_now(host: &str, port: u16, datagrams: &[&[u8]]) -> Result<(), (usize, Error)> {
    use std::net::{ToSocketAddrs, UdpSocket};
    let fail = |e| (0, crate::client::reqwest::udp_error(e));
    let target = (host, port)
        .to_socket_addrs()
        .map_err(fail)?
        .next()
        .ok_or_else(|| fail(std::io::ErrorKind::NotFound.into()))?;
    let socket =
        UdpSocket::bind(crate::client::reqwest::udp_bind_address(&target)).map_err(fail)?;
    socket.connect(target).map_err(fail)?;
    for (sent, datagram) in datagrams.iter().enumerate() {
        socket
            .send(datagram)
            .map_err(|e| (sent, crate::client::reqwest::udp_error(e)))?;
    }
    Ok(())
}

/// The chunks of a query's answer, as [`ResultSet`]s, as they arrive: from
/// [`Client::query_stream`]. Dropping it closes the connection. Feature `blocking`.
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub struct ResultStream {
    // Declared first, so dropped first: the connection closes before the client may go.
    inner: SetStream<BlockingBody>,
    core: Core<BlockingHttp>,
}

impl Iterator for ResultStream {
    type Item = Result<ResultSet, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        complete(self.inner.next(&self.core))
    }
}

impl std::fmt::Debug for ResultStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultStream").finish_non_exhaustive()
    }
}

/// The rows of a query's first statement, decoded into `T` as the chunks arrive: from
/// [`Client::query_as_stream`]. Dropping it closes the connection. Feature `blocking`.
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub struct RowStream<T> {
    inner: stream::RowStream<T, BlockingBody>,
    core: Core<BlockingHttp>,
}

impl<T: FromRow> Iterator for RowStream<T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        complete(self.inner.next(&self.core))
    }
}

impl<T> std::fmt::Debug for RowStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream").finish_non_exhaustive()
    }
}

impl crate::ClientBuilder {
    /// The blocking client.
    ///
    /// ```
    /// let client = influx_series::Client::builder().port(8087).build()?;
    /// assert_eq!(client.config().base_url(), "http://localhost:8087");
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    // Redundant with the module's own cfg, but what carries docs.rs's feature mark to the
    // influx-series page that inlines this method.
    #[cfg(feature = "blocking")]
    pub fn build(self) -> Result<Client, Error> {
        Client::with_config(self.into_config())
    }
}

impl Client {
    /// A client for the server at `url`: `http[s]://[user:password@]host[:port][?db=name]`, or
    /// a DSN (`influxdb://user:password@host:8086/name`); see [`ClientConfig::from_url`].
    pub fn new(url: &str) -> Result<Client, Error> {
        Client::with_config(ClientConfig::from_url(url)?)
    }

    /// A client configured by `INFLUXDB_URL` or `INFLUXDB_SCHEME`/`_HOST`/`_PORT`, plus
    /// `INFLUXDB_USER`, `INFLUXDB_PASSWORD` and `INFLUXDB_DATABASE`.
    pub fn from_env() -> Result<Client, Error> {
        Client::with_config(ClientConfig::from_env()?)
    }

    /// A client from influxdb-python's DSN form (`influxdb://user:pass@host:8086/db`).
    pub fn from_dsn(dsn: &str) -> Result<Client, Error> {
        Client::with_config(ClientConfig::from_dsn(dsn)?)
    }

    /// A builder, starting from `http://localhost:8086` without credentials.
    pub fn builder() -> crate::ClientBuilder {
        crate::ClientBuilder::new()
    }

    /// A client for `config`.
    pub fn with_config(config: ClientConfig) -> Result<Client, Error> {
        Ok(Client {
            core: Core::new(BlockingHttp::new(&config)?, config)?,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.core.config
    }

    /// The database used when a call names none.
    pub fn database(&self) -> Option<&str> {
        self.core.database()
    }

    /// This client, with `database` as the one used when a call names none.
    pub fn with_database(mut self, database: impl Into<String>) -> Self {
        self.core.set_database(database.into());
        self
    }

    /// Uses `database` from now on when a call names none (Python's `switch_database`).
    pub fn switch_database(&mut self, database: impl Into<String>) {
        self.core.set_database(database.into());
    }

    /// Authenticates as another user from now on (Python's `switch_user`).
    pub fn switch_user(
        &mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Result<(), Error> {
        self.core.switch_user(username.into(), password.into())
    }

    /// Checks that the server answers and returns its version (`X-Influxdb-Version`).
    pub fn ping(&self) -> Result<String, Error> {
        complete(self.core.ping())
    }

    /// Writes points, with the shared tags of `options` merged in (a point's own tag wins), in
    /// requests of at most `options.batch_size` points and at most the client's
    /// `max_request_size` bytes; a request the server answers with 413 is split in two and the
    /// byte cap lowered for later writes.
    ///
    /// A point without a timestamp is stamped here, with nanoseconds unique within the process:
    /// influxd stamps a whole request with one time, so points of one series would otherwise
    /// collapse into one. [`WriteOptions::server_time`] leaves them to the server's clock. (At
    /// a precision coarser than nanoseconds, stamps taken in the same unit still collide.)
    ///
    /// `points` is any iterator of points, owned or borrowed: a slice, a `Vec`, an array, a
    /// generator that makes them as they go (only so much is held at a time: one request's
    /// worth with one request in flight; with several, three requests' worth for each, one
    /// being filled, one waiting and one being sent). Each point is checked against the
    /// shared tags before its request is sent. Between writes with several requests in
    /// flight, the client (and its clones) keeps the emptied buffers of the last for the
    /// next, at most 8 of them and 16 MiB: filling buffers already mapped spares the system
    /// mapping new pages, which cost a large write a sixth of the client's time.
    ///
    /// Requests go [`writes_in_flight`](crate::ClientBuilder::writes_in_flight) at a time (2
    /// by default), each on a thread of its own while this one encodes the next points, with
    /// the points dealt to them a series at a time (by series and time when there are too few
    /// series to share out), so that the last write of a point wins as it would one request
    /// at a time. If a request fails, or a point is
    /// refused by the checks, nothing more is sent, and the error tells which points were
    /// stored: the first [`Error::written_before`] of them, or, when a request failed while
    /// another in flight with it succeeded, all but those [`Error::Unwritten`] lists.
    ///
    /// ```no_run
    /// use influx_series::{Client, Point, WriteOptions};
    ///
    /// let client = Client::new("http://127.0.0.1:8086?db=metrics")?;
    /// let points = (0..10_000).map(|i| {
    ///     Point::builder("cpu").tag("host", format!("h{}", i % 10)).field("n", i).build()
    /// });
    /// let points: Result<Vec<Point>, _> = points.collect();
    /// let done = client.write_points(&points?, &WriteOptions::default().batch_size(5_000))?;
    /// assert_eq!(done.written, 10_000);
    /// // Without collecting: a generator of points that are valid by construction.
    /// let one = Point::builder("cpu").field("n", 1i64).build()?;
    /// client.write_points(std::iter::repeat_n(one, 3), &WriteOptions::default())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_points<P: Borrow<Point>>(
        &self,
        points: impl IntoIterator<Item = P>,
        options: &WriteOptions,
    ) -> Result<Commit, Error> {
        complete(self.core.write_points(points, options))
    }

    /// Writes a buffer of lines, in requests under the client's `max_request_size` (one, for
    /// any buffer under it).
    ///
    /// Lines without a timestamp are stamped by the server, one time per request: encode
    /// points with timestamps, or use [`Client::write_points`], which stamps them.
    pub fn write_lines(&self, lines: &LineBuf, options: &WriteOptions) -> Result<Commit, Error> {
        complete(self.core.write_lines(lines, options))
    }

    /// Writes raw line protocol (Python's `write(..., protocol='line')`). Every line is checked
    /// by the parser first, and a text it rejects is never sent, unless `options` turns the
    /// check off. A checked text over the client's `max_request_size` goes in several
    /// requests, split between lines; an unchecked one must fit in one.
    pub fn write_raw(&self, text: &str, options: &WriteOptions) -> Result<Commit, Error> {
        complete(self.core.write_raw(text, options))
    }

    /// Writes lines of this crate's own encoding (`bytes`, line `i` ending at `ends[i]`) for the
    /// per-type buffers of influx-series: partial writes acknowledged, a bare 400 resent once
    /// and then bisected until the refused lines are isolated, and the rest written.
    #[doc(hidden)]
    pub fn write_isolating(
        &self,
        bytes: &[u8],
        ends: &[usize],
        options: &WriteOptions,
        caps: Caps,
    ) -> WriteOutcome {
        complete(
            self.core
                .write_isolating(bytes, None, ends, options, caps, None),
        )
    }

    /// [`Client::write_isolating`] for the buffered writer: the requests are pieces of
    /// `bytes` (no copies), and once `stop` is set no request is sent (the lines not yet sent
    /// come back unsettled).
    #[doc(hidden)]
    pub fn write_isolating_until(
        &self,
        bytes: &bytes::Bytes,
        ends: &[usize],
        options: &WriteOptions,
        caps: Caps,
        stop: &std::sync::atomic::AtomicBool,
    ) -> WriteOutcome {
        complete(
            self.core
                .write_isolating(bytes, Some(bytes), ends, options, caps, Some(stop)),
        )
    }

    /// Runs a query (one or more `;`-separated statements) against the client's database and
    /// returns one [`ResultSet`] per statement.
    pub fn query(&self, query: &str) -> Result<Vec<ResultSet>, Error> {
        self.query_with(query, &QueryOptions::new())
    }

    /// Runs a query with options: database, epoch, bind parameters, `raise_errors`.
    pub fn query_with(&self, query: &str, options: &QueryOptions) -> Result<Vec<ResultSet>, Error> {
        complete(self.core.query_with(query, options))
    }

    /// Runs a one-statement query and decodes its rows into `T` (a `#[derive(Series)]` type):
    /// columns are matched by the keys the write side uses, `GROUP BY` tags fill tag members.
    ///
    /// ```no_run
    /// # use influx_series::{Client, FromRow};
    /// # fn demo<Cpu: FromRow>(client: &Client) -> Result<(), influx_series::Error> {
    /// let rows: Vec<Cpu> = client.query_as("SELECT * FROM cpu WHERE time > now() - 1h")?;
    /// # Ok(()) }
    /// ```
    pub fn query_as<T: FromRow>(&self, query: &str) -> Result<Vec<T>, Error> {
        self.query_as_with(query, &QueryOptions::new())
    }

    /// [`Client::query_as`] with options (database, epoch, bind parameters).
    pub fn query_as_with<T: FromRow>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<T>, Error> {
        complete(self.core.query_as_with(query, options))
    }

    /// Runs a query of several statements; read each with [`Statements::get`] into its own
    /// type.
    pub fn query_statements(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Statements, Error> {
        complete(self.core.query_statements(query, options))
    }

    /// Runs a one-statement query and deserializes each row into any serde type: the row is
    /// a map from column names (then `GROUP BY` tags) to values.
    pub fn query_deserialize<T: DeserializeOwned>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<T>, Error> {
        complete(self.core.query_deserialize(query, options))
    }

    /// Runs a query and returns the answer's JSON bytes undecoded.
    ///
    /// The answer is chunked (several JSON documents in a row) only if `options` asks for
    /// chunks: the decoding methods also ask for them when a query has several statements.
    pub fn query_raw(&self, query: &str, options: &QueryOptions) -> Result<Vec<u8>, Error> {
        complete(self.core.query_raw(query, options))
    }

    /// Runs a query and hands out its answer chunk by chunk as it arrives: one
    /// [`ResultSet`] per statement result in each chunk (a series longer than a chunk comes in
    /// pieces, each but the last marked [`ResultSeries::partial`](crate::ResultSeries::partial)).
    /// Only the chunk being read is held, so an answer of any size takes the memory of one
    /// chunk (`QueryOptions::chunked(rows)`, or the server's default of 10 000 rows).
    ///
    /// A statement's error is an `Err` item (with `raise_errors`, the default), after which
    /// the stream ends; an answer cut short (its last result still partial, statements
    /// missing, a document broken off) ends with an `Err` too, never with a short result. The
    /// client's timeout bounds each wait for the next chunk, not the whole answer. Dropping the
    /// stream closes the connection, and influxd stops the query.
    ///
    /// ```no_run
    /// use influx_series::{Client, QueryOptions};
    ///
    /// let client = Client::new("http://127.0.0.1:8086?db=metrics")?;
    /// let mut rows = 0;
    /// for set in client.query_stream("SELECT * FROM cpu", &QueryOptions::new().chunked(5_000))? {
    ///     rows += set?.len();
    /// }
    /// println!("{rows} rows, never more than 5 000 of them in memory");
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn query_stream(&self, query: &str, options: &QueryOptions) -> Result<ResultStream, Error> {
        let stream = complete(self.core.open_stream(query, options, false))?;
        Ok(ResultStream {
            inner: SetStream::new(stream, options.raises_errors()),
            core: self.core.clone(),
        })
    }

    /// Runs a query and decodes the rows of its first statement into `T` as the chunks
    /// arrive, holding one chunk at a time (see [`Client::query_stream`] for chunk sizes,
    /// errors, timeouts and dropping).
    ///
    /// ```no_run
    /// use influx_series::{Client, QueryOptions, Series};
    ///
    /// #[derive(Series)]
    /// struct Cpu {
    ///     #[series(tag)]
    ///     host: String,
    ///     usage: f64,
    /// }
    ///
    /// let client = Client::new("http://127.0.0.1:8086?db=metrics")?;
    /// let mut total = 0.0;
    /// for cpu in client.query_as_stream::<Cpu>("SELECT * FROM cpu", &QueryOptions::new())? {
    ///     total += cpu?.usage;
    /// }
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn query_as_stream<T: FromRow>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<RowStream<T>, Error> {
        let reader = crate::query::typed::typed_reader::<T, crate::query::typed::Json>(
            0,
            crate::query::typed::CellContext {
                epoch: options.epoch_value(),
            },
        );
        let stream = complete(self.core.open_stream(query, options, false))?;
        Ok(RowStream {
            inner: stream::RowStream::new(stream, reader),
            core: self.core.clone(),
        })
    }

    /// Writes a DataFrame's rows as points of `measurement` (influxdb-python's
    /// `DataFrameClient.write_points`): see [`crate::frame`] for the columns' roles and types.
    ///
    /// The whole frame is checked first: a missing time column, a column of a type its role
    /// cannot take, no field column, or a cell that cannot be written exactly (a tag with a
    /// newline, an infinite float, an unsigned integer above `i64::MAX`, a time out of range)
    /// is [`Error::InvalidFrame`], and nothing is sent. Rows then go in batches
    /// ([`WriteOptions::batch_size`](crate::WriteOptions::batch_size) rows, by default
    /// [`DEFAULT_FRAME_BATCH`](crate::frame::DEFAULT_FRAME_BATCH)), each split further under
    /// the client's `max_request_size`. A batch that fails is [`Error::FrameRows`], naming its
    /// rows; every batch before it was written, and nothing after it is sent.
    ///
    /// ```no_run
    /// use influx_series::frame::polars_core::prelude::*;
    /// use influx_series::frame::FrameWriteOptions;
    /// use influx_series::{Client, WriteOptions};
    ///
    /// let time = Int64Chunked::from_vec("time".into(), vec![1_570_620_038_253_000_000])
    ///     .into_datetime(TimeUnit::Nanoseconds, None)
    ///     .into_column();
    /// let df = DataFrame::new(1, vec![
    ///     time,
    ///     Column::new("host".into(), ["server01"]),
    ///     Column::new("say".into(), [r#"say "hi""#]),
    /// ])?;
    /// let client = Client::new("http://127.0.0.1:8086")?;
    /// let options = FrameWriteOptions::new()
    ///     .tag_columns(["host"])
    ///     .write_options(WriteOptions::new("metrics"));
    /// let done = client.write_dataframe(&df, "talk", &options)?;
    /// assert_eq!(done.commit.written, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "polars")]
    pub fn write_dataframe(
        &self,
        df: &polars_core::prelude::DataFrame,
        measurement: &str,
        options: &crate::frame::FrameWriteOptions,
    ) -> Result<crate::frame::FrameWrite, Error> {
        complete(self.core.write_dataframe(df, measurement, options))
    }

    /// Runs a one-statement query and reads its answer as one DataFrame per series, keyed by
    /// measurement and `GROUP BY` tags (influxdb-python's `DataFrameClient.query`). The time is
    /// a UTC `Datetime` column named `time`, first; the other columns are typed as
    /// [`FrameQueryOptions`](crate::frame::FrameQueryOptions) says (the server's field types
    /// by default), with nulls where a row has no value. The answer is read chunk by chunk
    /// into the frames' columns; it is never held whole. A query of several statements is
    /// [`Error::InvalidArgument`], and is not sent: see
    /// [`Client::query_dataframe_statements`].
    ///
    /// ```no_run
    /// use influx_series::frame::{FrameKey, FrameQueryOptions};
    /// use influx_series::Client;
    ///
    /// let client = Client::new("http://127.0.0.1:8086?db=metrics")?;
    /// let frames = client.query_dataframes(
    ///     "SELECT usage FROM cpu WHERE time > now() - 1h GROUP BY host",
    ///     &FrameQueryOptions::new(),
    /// )?;
    /// if let Some(frame) = frames.get(&FrameKey::new("cpu", [("host", "server01")])) {
    ///     println!("{frame:?}");
    /// }
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    #[cfg(feature = "polars")]
    pub fn query_dataframes(
        &self,
        query: &str,
        options: &crate::frame::FrameQueryOptions,
    ) -> Result<crate::frame::Frames, Error> {
        complete(self.core.query_dataframes(query, options))
    }

    /// Runs a query of any number of statements and reads each as
    /// [`Client::query_dataframes`] does: the frames of each statement, in the query's order
    /// (influxdb-python's `DataFrameClient.query` of several statements, which gives a list of
    /// dicts). The first statement that fails is [`Error::Statement`] naming its index.
    ///
    /// ```no_run
    /// use influx_series::frame::{FrameKey, FrameQueryOptions};
    /// use influx_series::Client;
    ///
    /// let client = Client::new("http://127.0.0.1:8086?db=metrics")?;
    /// let each = client.query_dataframe_statements(
    ///     "SELECT usage FROM cpu GROUP BY host; SELECT used FROM mem",
    ///     &FrameQueryOptions::new(),
    /// )?;
    /// let (cpu, mem) = (&each[0], &each[1]);
    /// println!("{} cpu series, {} mem series", cpu.len(), mem.len());
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    #[cfg(feature = "polars")]
    pub fn query_dataframe_statements(
        &self,
        query: &str,
        options: &crate::frame::FrameQueryOptions,
    ) -> Result<Vec<crate::frame::Frames>, Error> {
        complete(self.core.query_dataframe_statements(query, options))
    }

    /// `CREATE DATABASE` (does nothing if it exists).
    pub fn create_database(&self, name: &str) -> Result<(), Error> {
        complete(self.core.create_database(name))
    }

    /// `DROP DATABASE` (does nothing if it does not exist).
    pub fn drop_database(&self, name: &str) -> Result<(), Error> {
        complete(self.core.drop_database(name))
    }

    /// The names of every database (Python's `get_list_database`).
    pub fn list_databases(&self) -> Result<Vec<String>, Error> {
        complete(self.core.list_databases())
    }
}

/// The administration calls of [`admin::admin_calls`], as blocking methods.
macro_rules! blocking_calls {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty
        => $core:ident($($value:expr),*);)*) => {
        $($(#[$doc])*
        pub fn $name(&self, $($arg: $ty),*) -> Result<$ret, Error> {
            complete(self.core.$core($($value),*))
        })*
    };
}

/// Administration and metadata: users, privileges, retention policies, continuous queries,
/// measurements, series. See [`crate::admin`].
impl Client {
    admin::admin_calls!(blocking_calls);
}
