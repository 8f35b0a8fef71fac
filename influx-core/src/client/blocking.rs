//! The blocking client, on `reqwest::blocking`. Requests are built and answers classified by
//! the sans-IO functions of [`crate::client::http`]; this file only moves bytes.

use std::borrow::Borrow;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use reqwest::header::{self, HeaderValue};

use crate::client::config::{ClientConfig, Credentials};
use crate::client::http::{
    self, Answer, AnswerBody, Chunking, Encoding, Method, QueryOptions, Request, WriteOptions,
};
use crate::client::influxql::quote_ident;
use crate::client::write::{OnRefusal, WritePlan};
use crate::error::{Cause, Commit, Error, Rejection};
use crate::protocol::line::LineBuf;
use crate::protocol::point::Point;
use crate::query::resultset::{self, ResultSet};
use crate::query::typed::{self, CellContext, FromRow};
use serde::de::DeserializeOwned;

/// A blocking InfluxDB 1.x client. Cheap to clone: clones share one connection pool.
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
#[derive(Clone)]
pub struct Client {
    http: reqwest::blocking::Client,
    config: ClientConfig,
    base: String,
    auth: Option<HeaderValue>,
    /// The byte cap of write requests, shared by clones: `max_request_size`, lowered for good
    /// by a 413 (the server's `max-body-size` does not change while it runs).
    request_cap: Arc<AtomicUsize>,
}

/// What [`Client::write_isolating`] did: the commit, the refused points, and, if it stopped,
/// the first line it did not settle and why.
#[doc(hidden)]
#[derive(Debug)]
pub struct WriteOutcome {
    /// Points written and refused, requests made.
    pub commit: Commit,
    /// Points the server refused for good.
    pub rejections: Vec<Rejection>,
    /// Where the write stopped (the first unsettled line) and why.
    pub stopped: Option<(usize, Error)>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config's own Debug redacts the password.
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
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
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(config.timeout)
            // A 301 or 302 turns a POST into a GET, and a followed redirect sends the
            // Authorization header on: neither is ever what a write or a query wants.
            .redirect(reqwest::redirect::Policy::none())
            .referer(false);
        if config.tls {
            builder = tls(builder, &config)?;
        }
        let http = builder
            .build()
            .map_err(|e| Error::Config(Cause::with_source("cannot build the HTTP client", e)))?;
        let auth = auth_header(&config.credentials)?;
        Ok(Client {
            http,
            base: config.base_url(),
            request_cap: Arc::new(AtomicUsize::new(config.max_request_size)),
            config,
            auth,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The database used when a call names none.
    pub fn database(&self) -> Option<&str> {
        self.config.database.as_deref()
    }

    /// This client, with `database` as the one used when a call names none.
    pub fn with_database(mut self, database: impl Into<String>) -> Self {
        self.config.database = Some(database.into());
        self
    }

    /// Uses `database` from now on when a call names none (Python's `switch_database`).
    pub fn switch_database(&mut self, database: impl Into<String>) {
        self.config.database = Some(database.into());
    }

    /// Authenticates as another user from now on (Python's `switch_user`).
    pub fn switch_user(
        &mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Result<(), Error> {
        self.config.credentials = Credentials::Basic {
            username: username.into(),
            password: password.into(),
        };
        self.auth = auth_header(&self.config.credentials)?;
        Ok(())
    }

    fn send(&self, request: Request) -> Result<Answer, Error> {
        let limit = self.config.max_request_size;
        if request.body.len() > limit {
            return Err(Error::RequestTooLarge {
                size: request.body.len(),
                limit,
            });
        }
        let mut url =
            String::with_capacity(self.base.len() + request.path.len() + 1 + request.query.len());
        url.push_str(&self.base);
        url.push_str(request.path);
        if !request.query.is_empty() {
            url.push('?');
            url.push_str(&request.query);
        }
        let mut builder = match request.method {
            Method::Get => self.http.get(url),
            Method::Post => self.http.post(url),
        };
        if let Some(auth) = &self.auth {
            builder = builder.header(header::AUTHORIZATION, auth.clone());
        }
        if let Some(ct) = request.content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        if self.config.gzip {
            builder = builder.header(header::ACCEPT_ENCODING, "gzip");
        }
        if request.method == Method::Post {
            let body = if self.config.gzip && request.path == "/write" {
                builder = builder.header(header::CONTENT_ENCODING, "gzip");
                http::gzip(&request.body)
            } else {
                request.body
            };
            builder = builder.body(body);
        }
        let started = Instant::now();
        let mut response = builder.send().map_err(transport_error)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let version = header("X-Influxdb-Version");
        let location = header("Location");
        let encoding = Encoding::from_header(
            response
                .headers()
                .get(header::CONTENT_ENCODING)
                .map(HeaderValue::as_bytes),
        )?;
        let mut body = AnswerBody::new(
            encoding,
            self.config.max_answer_size,
            response.content_length(),
        );
        let mut chunk = vec![0; READ_CHUNK];
        loop {
            // reqwest's timeout bounds each read, not the whole body: a server that trickles
            // bytes would otherwise hold the call for ever.
            if let Some(timeout) = self.config.timeout
                && started.elapsed() > timeout
            {
                return Err(Error::Timeout(
                    format!("the answer took longer than {timeout:?}").into(),
                ));
            }
            match response.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => body.push(&chunk[..n])?,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(e)),
            }
        }
        Ok(Answer {
            status: response.status().as_u16(),
            version,
            location,
            body: body.finish()?,
        })
    }

    /// Checks that the server answers and returns its version (`X-Influxdb-Version`).
    pub fn ping(&self) -> Result<String, Error> {
        http::classify_ping(&self.send(http::ping_request())?)
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
    /// generator that makes them as they go (only one request's worth is held at a time).
    /// Each point is checked against the shared tags before its request is sent.
    ///
    /// If a request fails, or a point is refused by the checks, the error tells how many points
    /// earlier requests stored ([`Error::written_before`]); nothing after it is sent.
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
    /// assert_eq!((done.written, done.requests), (10_000, 2));
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
        let cap_points = options.batch_size_value().unwrap_or(usize::MAX);
        let stamp = !options.uses_server_time();
        let mut done = Commit::default();
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        let mut rest = points.into_iter().peekable();
        while rest.peek().is_some() {
            bytes.clear();
            ends.clear();
            let cap_bytes = self.request_cap();
            // One request's worth: the point that crosses the byte cap goes first next time
            // (the plan below sends a single line over the cap alone).
            while let Some(p) = rest.peek() {
                let p = p.borrow();
                if let Err(e) = options.shared_tags().check_against(p) {
                    return Err(Error::from(e).after_writing(done.written));
                }
                let start = bytes.len();
                let time = (stamp && p.timestamp_nanos().is_none())
                    .then(crate::protocol::clock::unique_now_nanos);
                p.write_line_with_tags(
                    &mut bytes,
                    options.precision_value(),
                    options.shared_tags().as_slice(),
                    time,
                );
                bytes.push(b'\n');
                if !ends.is_empty() && bytes.len() > cap_bytes {
                    bytes.truncate(start);
                    break;
                }
                ends.push(bytes.len());
                rest.next();
                if ends.len() == cap_points {
                    break;
                }
            }
            let outcome = self.write_batch(&bytes, &ends, options, cap_points, OnRefusal::Stop);
            let written = done.written;
            done.add(outcome.commit);
            if let Some((_, e)) = outcome.stopped {
                return Err(e.after_writing(written + outcome.commit.written));
            }
        }
        Ok(done)
    }

    /// Writes a buffer of lines, in requests under the client's `max_request_size` (one, for
    /// any buffer under it).
    ///
    /// Lines without a timestamp are stamped by the server, one time per request: encode
    /// points with timestamps, or use [`Client::write_points`], which stamps them.
    pub fn write_lines(&self, lines: &LineBuf, options: &WriteOptions) -> Result<Commit, Error> {
        if lines.is_empty() {
            return Ok(Commit::default());
        }
        if lines.len_bytes() <= self.request_cap() {
            self.write_body(lines.as_bytes().to_vec(), options)?;
            return Ok(Commit {
                written: lines.lines(),
                ..Commit::default()
            }
            .with_requests(1));
        }
        let ends = crate::protocol::parse::line_ends(lines.as_str(), options.precision_value())?;
        self.write_split(lines.as_bytes(), &ends, options)
    }

    /// Writes raw line protocol (Python's `write(..., protocol='line')`). Every line is checked
    /// by the parser first, and a text it rejects is never sent, unless `options` turns the
    /// check off. A checked text over the client's `max_request_size` goes in several
    /// requests, split between lines; an unchecked one must fit in one.
    pub fn write_raw(&self, text: &str, options: &WriteOptions) -> Result<Commit, Error> {
        if !options.checks_lines() {
            self.write_body(text.as_bytes().to_vec(), options)?;
            return Ok(Commit::default().with_requests(1));
        }
        let ends = crate::protocol::parse::line_ends(text, options.precision_value())?;
        if ends.is_empty() {
            return Ok(Commit::default());
        }
        self.write_split(text.as_bytes(), &ends, options)
    }

    fn write_split(
        &self,
        bytes: &[u8],
        ends: &[usize],
        options: &WriteOptions,
    ) -> Result<Commit, Error> {
        let cap_points = options.batch_size_value().unwrap_or(usize::MAX);
        let outcome = self.write_batch(bytes, ends, options, cap_points, OnRefusal::Stop);
        match outcome.stopped {
            Some((_, e)) => Err(e.after_writing(outcome.commit.written)),
            None => Ok(outcome.commit),
        }
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
        cap_points: usize,
    ) -> WriteOutcome {
        self.write_batch(bytes, ends, options, cap_points, OnRefusal::Isolate)
    }

    fn write_batch(
        &self,
        bytes: &[u8],
        ends: &[usize],
        options: &WriteOptions,
        cap_points: usize,
        on_refusal: OnRefusal,
    ) -> WriteOutcome {
        let mut plan = WritePlan::new(
            bytes,
            ends,
            cap_points,
            self.request_cap(),
            self.config.max_request_size,
            on_refusal,
        );
        let mut stopped = None;
        loop {
            let piece = match plan.next() {
                Ok(Some(piece)) => piece,
                Ok(None) => break,
                Err(e) => {
                    stopped = Some((plan.unsent_from(), e));
                    break;
                }
            };
            let result = self.write_body(plan.body(piece).to_vec(), options);
            if let Err(e) = plan.settle(piece, result) {
                stopped = Some((plan.unsent_from(), e));
                break;
            }
        }
        self.learn_request_cap(plan.cap_bytes());
        let (commit, rejections) = plan.finish();
        WriteOutcome {
            commit,
            rejections,
            stopped,
        }
    }

    /// The byte cap of a request: the client's `max_request_size`, lowered by any 413.
    fn request_cap(&self) -> usize {
        self.request_cap.load(Ordering::Relaxed)
    }

    fn learn_request_cap(&self, cap: usize) {
        self.request_cap.fetch_min(cap, Ordering::Relaxed);
    }

    fn write_body(&self, body: Vec<u8>, options: &WriteOptions) -> Result<(), Error> {
        let options = options.clone().or_database(self.database());
        let answer = self.send(http::write_request(&options, body)?)?;
        http::classify_write(&answer, 0)
    }

    /// Runs a query (one or more `;`-separated statements) against the client's database and
    /// returns one [`ResultSet`] per statement.
    pub fn query(&self, query: &str) -> Result<Vec<ResultSet>, Error> {
        self.query_with(query, &QueryOptions::new())
    }

    /// Runs a query with options: database, epoch, bind parameters, `raise_errors`.
    pub fn query_with(&self, query: &str, options: &QueryOptions) -> Result<Vec<ResultSet>, Error> {
        let body = self.fetch(query, options, Chunking::ForStatements)?;
        resultset::decode_response(&body, options.raises_errors())
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
        self.query_statements(query, options)?.get(0)
    }

    /// Runs a query of several statements; read each with [`Statements::get`] into its own
    /// type.
    pub fn query_statements(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Statements, Error> {
        Ok(Statements {
            body: self.fetch(query, options, Chunking::ForStatements)?,
            ctx: CellContext {
                epoch: options.epoch_value(),
            },
        })
    }

    /// Runs a one-statement query and deserializes each row into any serde type: the row is
    /// a map from column names (then `GROUP BY` tags) to values.
    pub fn query_deserialize<T: DeserializeOwned>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<T>, Error> {
        let body = self.fetch(query, options, Chunking::ForStatements)?;
        typed::deserialize_rows(&body, 0)
    }

    /// Runs a query and returns the answer's JSON bytes undecoded.
    ///
    /// The answer is chunked (several JSON documents in a row) only if `options` asks for
    /// chunks: the decoding methods also ask for them when a query has several statements.
    pub fn query_raw(&self, query: &str, options: &QueryOptions) -> Result<Vec<u8>, Error> {
        self.fetch(query, options, Chunking::AsAsked)
    }

    fn fetch(
        &self,
        query: &str,
        options: &QueryOptions,
        chunking: Chunking,
    ) -> Result<Vec<u8>, Error> {
        let request = http::query_request(query, options, self.database(), chunking)?;
        let answer = self.send(request)?;
        http::classify_query(&answer)?;
        Ok(answer.body)
    }

    /// Runs a statement that returns nothing (admin statements), raising its error.
    fn execute(&self, statement: &str, database: Option<&str>) -> Result<(), Error> {
        let mut options = QueryOptions::new();
        if let Some(db) = database {
            options = options.database(db);
        }
        self.query_with(statement, &options).map(drop)
    }

    /// `CREATE DATABASE` (does nothing if it exists).
    pub fn create_database(&self, name: &str) -> Result<(), Error> {
        self.execute(&format!("CREATE DATABASE {}", quote_ident(name)), None)
    }

    /// `DROP DATABASE` (does nothing if it does not exist).
    pub fn drop_database(&self, name: &str) -> Result<(), Error> {
        self.execute(&format!("DROP DATABASE {}", quote_ident(name)), None)
    }

    /// The names of every database (Python's `get_list_database`).
    pub fn list_databases(&self) -> Result<Vec<String>, Error> {
        let results = self.query("SHOW DATABASES")?;
        Ok(results
            .first()
            .into_iter()
            .flat_map(|rs| rs.rows())
            .filter_map(|row| row.get("name").and_then(|v| v.as_str()).map(str::to_owned))
            .collect())
    }
}

fn auth_header(credentials: &Credentials) -> Result<Option<HeaderValue>, Error> {
    credentials
        .header_value()
        .map(|value| {
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                Error::Config("credentials hold characters not allowed in a header".into())
            })?;
            // Keeps the value out of reqwest's and hyper's own debug output.
            value.set_sensitive(true);
            Ok(value)
        })
        .transpose()
}

#[cfg(any(feature = "native-tls", feature = "rustls"))]
fn tls(
    builder: reqwest::blocking::ClientBuilder,
    config: &ClientConfig,
) -> Result<reqwest::blocking::ClientBuilder, Error> {
    Ok(builder.tls_danger_accept_invalid_certs(!config.verify_tls))
}

#[cfg(not(any(feature = "native-tls", feature = "rustls")))]
fn tls(
    _builder: reqwest::blocking::ClientBuilder,
    _config: &ClientConfig,
) -> Result<reqwest::blocking::ClientBuilder, Error> {
    Err(Error::Config(
        "https needs TLS support: enable the `native-tls` or `rustls` feature".into(),
    ))
}

/// How much of an answer is read at a time.
const READ_CHUNK: usize = 64 * 1024;

/// An error while reading an answer's body: reqwest reports a timeout or a broken connection
/// as an `io::Error` wrapping its own error.
fn read_error(e: std::io::Error) -> Error {
    let timed_out = e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout);
    if timed_out {
        Error::Timeout(Cause::with_source("the answer stopped coming", e))
    } else {
        Error::Transport(Cause::with_source("reading the answer failed", e))
    }
}

fn transport_error(e: reqwest::Error) -> Error {
    // The URL carries no credentials, but it is noise in a chain of messages.
    let e = e.without_url();
    if e.is_timeout() {
        Error::Timeout(Cause::with_source("no answer in time", e))
    } else {
        Error::Transport(Cause::with_source("the request did not get an answer", e))
    }
}

/// The undecoded answer to a query of several statements; decode each into its own type.
///
/// ```no_run
/// # use influx_series::{Client, FromRow, QueryOptions};
/// # fn demo<Cpu: FromRow, Mem: FromRow>(client: &Client) -> Result<(), influx_series::Error> {
/// let answer = client.query_statements("SELECT * FROM cpu; SELECT * FROM mem", &QueryOptions::new())?;
/// let cpu: Vec<Cpu> = answer.get(0)?;
/// let mem: Vec<Mem> = answer.get(1)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Statements {
    body: Vec<u8>,
    ctx: CellContext,
}

impl Statements {
    /// Decodes the rows of statement `index` into `T`; a failed statement is
    /// [`Error::Statement`].
    pub fn get<T: FromRow>(&self, index: usize) -> Result<Vec<T>, Error> {
        typed::decode_rows::<T, typed::Json>(&self.body, index, self.ctx)
    }

    /// Deserializes statement `index` into any serde type.
    pub fn deserialize<T: DeserializeOwned>(&self, index: usize) -> Result<Vec<T>, Error> {
        typed::deserialize_rows(&self.body, index)
    }

    /// The raw JSON.
    pub fn raw(&self) -> &[u8] {
        &self.body
    }
}
