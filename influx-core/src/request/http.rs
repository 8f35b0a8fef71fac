//! Sans-IO requests, shared by the blocking and the async client: the options of a write and
//! of a query, and the requests built from them (path, query string, body, gzip). Plain
//! functions over strings and bytes; what their answers mean is `responses`.

use std::io::Write;

use bytes::Bytes;

use crate::error::Error;
use crate::protocol::point::SharedTags;
use crate::protocol::precision::Precision;

/// The HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
}

/// Whether a request may be sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Sending it again does what sending it once does: reads, and writes of timestamped
    /// points.
    Safe,
    /// It changes state in a way a second run would not repeat: sent again only when it
    /// cannot have reached the server.
    UnlessDelivered,
}

/// A request, ready to be sent by any HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    /// GET or POST.
    pub(crate) method: Method,
    /// The path below the base URL, starting with `/`.
    pub(crate) path: &'static str,
    /// The query string, already encoded (without `?`), possibly empty.
    pub(crate) query: String,
    /// The body; empty for GET. (Shared, so that a write's body can be a piece of a larger
    /// buffer, sent without a copy.)
    pub(crate) body: Bytes,
    /// The `Content-Type` of the body, if any.
    pub(crate) content_type: Option<&'static str>,
    /// The `Accept` header, if any.
    pub(crate) accept: Option<&'static str>,
    /// Whether it may be sent twice.
    pub(crate) replay: Replay,
}

/// Where and how a write goes.
///
/// ```
/// use influx_series::{Precision, WriteOptions};
/// let opts = WriteOptions::new("metrics")
///     .precision(Precision::Seconds)
///     .retention_policy("week")
///     .batch_size(5_000);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    database: Option<String>,
    retention_policy: Option<String>,
    precision: Precision,
    consistency: Option<Consistency>,
    tags: SharedTags,
    batch_size: Option<usize>,
    check_lines: bool,
    server_time: bool,
    /// Set by the client for a body with lines the server stamps: not resent once it may
    /// have arrived.
    untimestamped: bool,
}

/// The write consistency of an InfluxDB Enterprise cluster (ignored by open-source 1.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    /// `any`
    Any,
    /// `one`
    One,
    /// `quorum`
    Quorum,
    /// `all`
    All,
}

impl Consistency {
    fn as_str(self) -> &'static str {
        match self {
            Consistency::Any => "any",
            Consistency::One => "one",
            Consistency::Quorum => "quorum",
            Consistency::All => "all",
        }
    }
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            database: None,
            retention_policy: None,
            precision: Precision::Nanoseconds,
            consistency: None,
            tags: SharedTags::default(),
            batch_size: None,
            check_lines: true,
            server_time: false,
            untimestamped: false,
        }
    }
}

impl WriteOptions {
    /// Writes into `database` in nanosecond precision.
    pub fn new(database: impl Into<String>) -> Self {
        WriteOptions {
            database: Some(database.into()),
            ..Self::default()
        }
    }

    /// Tags added to every point; a point's own tag of the same key wins.
    pub fn tags(mut self, tags: SharedTags) -> Self {
        self.tags = tags;
        self
    }

    /// The shared tags.
    pub(crate) fn shared_tags(&self) -> &SharedTags {
        &self.tags
    }

    /// Sends at most `points` points per request (0 means no limit).
    pub fn batch_size(mut self, points: usize) -> Self {
        self.batch_size = (points > 0).then_some(points);
        self
    }

    /// The batch size, if set.
    pub(crate) fn batch_size_value(&self) -> Option<usize> {
        self.batch_size
    }

    /// Whether raw line protocol is checked by the parser before it is sent (default: yes).
    /// Turning it off sends the text as it is: a malformed line can crash a 1.x server.
    pub fn check_lines(mut self, on: bool) -> Self {
        self.check_lines = on;
        self
    }

    /// Whether raw lines are checked.
    pub(crate) fn checks_lines(&self) -> bool {
        self.check_lines
    }

    /// Leaves points without a timestamp to the server's clock instead of stamping them at the
    /// call (see [`crate::Client::write_points`]): influxd stamps a whole request with one
    /// time, so such points of one series collapse into one.
    pub fn server_time(mut self, on: bool) -> Self {
        self.server_time = on;
        self
    }

    /// Whether points without a timestamp are left to the server's clock.
    pub(crate) fn uses_server_time(&self) -> bool {
        self.server_time
    }

    /// Writes into this retention policy instead of the database's default one.
    pub fn retention_policy(mut self, rp: impl Into<String>) -> Self {
        self.retention_policy = Some(rp.into());
        self
    }

    /// The unit of the timestamps in the body.
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// The precision the body is written in.
    pub(crate) fn precision_value(&self) -> Precision {
        self.precision
    }

    /// Sets the write consistency (InfluxDB Enterprise).
    pub fn consistency(mut self, consistency: Consistency) -> Self {
        self.consistency = Some(consistency);
        self
    }

    /// Uses `database` if none is set yet.
    /// These options for a body with lines that carry no timestamp when `untimestamped`.
    pub(crate) fn with_untimestamped(&self, untimestamped: bool) -> std::borrow::Cow<'_, Self> {
        if untimestamped && !self.untimestamped {
            std::borrow::Cow::Owned(WriteOptions {
                untimestamped: true,
                ..self.clone()
            })
        } else {
            std::borrow::Cow::Borrowed(self)
        }
    }

    pub(crate) fn or_database(mut self, database: Option<&str>) -> Self {
        if self.database.is_none() {
            self.database = database.map(str::to_owned);
        }
        self
    }
}

/// Percent-encodes `text` for a query string (`application/x-www-form-urlencoded`).
pub(crate) fn urlencode(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
}

/// Builds `k1=v1&k2=v2`, encoded.
pub(crate) fn encode_params<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in params {
        if !out.is_empty() {
            out.push('&');
        }
        urlencode(&mut out, k);
        out.push('=');
        urlencode(&mut out, v);
    }
    out
}

/// The `POST /write` request for a body of lines.
pub(crate) fn write_request(options: &WriteOptions, body: Bytes) -> Result<Request, Error> {
    let database = options
        .database
        .as_deref()
        .ok_or_else(|| Error::Config("no database given for the write".into()))?;
    let mut params = vec![("db", database), ("precision", options.precision.as_str())];
    if let Some(rp) = options.retention_policy.as_deref() {
        params.push(("rp", rp));
    }
    if let Some(c) = options.consistency {
        params.push(("consistency", c.as_str()));
    }
    Ok(Request {
        method: Method::Post,
        path: "/write",
        query: encode_params(params),
        body,
        content_type: Some("text/plain; charset=utf-8"),
        accept: None,
        // Points that carry timestamps are stored once however often they are sent.
        replay: if options.untimestamped {
            Replay::UnlessDelivered
        } else {
            Replay::Safe
        },
    })
}

/// How a query is sent and decoded.
///
/// ```
/// use influx_series::{Precision, QueryOptions};
/// let opts = QueryOptions::new()
///     .database("metrics")
///     .epoch(Precision::Seconds)
///     .bind("host", "server01")
///     .raise_errors(false);
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct QueryOptions {
    database: Option<String>,
    epoch: Option<Precision>,
    params: Vec<(String, serde_json::Value)>,
    raise_errors: bool,
    chunk_size: Option<usize>,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            database: None,
            epoch: None,
            params: Vec::new(),
            raise_errors: true,
            chunk_size: None,
        }
    }
}

impl QueryOptions {
    /// Defaults: the client's database, RFC 3339 times, errors raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queries this database instead of the client's.
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    /// Times come back as integers in this unit instead of RFC 3339 strings.
    pub fn epoch(mut self, epoch: Precision) -> Self {
        self.epoch = Some(epoch);
        self
    }

    /// The epoch, if set.
    pub(crate) fn epoch_value(&self) -> Option<Precision> {
        self.epoch
    }

    /// The database, if set.
    #[cfg_attr(not(feature = "polars"), allow(dead_code))]
    pub(crate) fn database_value(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Binds `$name` in the query to `value` (sent apart from the query text, so values never
    /// need quoting).
    pub fn bind(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// `false` keeps a failed statement's error inside its result instead of returning `Err`.
    pub fn raise_errors(mut self, on: bool) -> Self {
        self.raise_errors = on;
        self
    }

    /// Whether statement errors are returned as `Err`.
    pub(crate) fn raises_errors(&self) -> bool {
        self.raise_errors
    }

    /// Asks the server for a chunked answer of `rows` rows per chunk.
    pub fn chunked(mut self, rows: usize) -> Self {
        self.chunk_size = Some(rows);
        self
    }
}

/// Whether a query without a chunk size of its own is sent chunked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chunking {
    /// Exactly as the options say (for callers who read the raw answer).
    AsAsked,
    /// Always, in chunks of the server's default size (10 000 rows) unless the options give
    /// one: the decoders read each chunk as it arrives and join them again. Besides holding
    /// one chunk at a time, this keeps a failed statement's error, which influxd 1.6 loses
    /// under the "not executed" of the next one in an answer without chunks, and it is not
    /// cut at the server's `max-row-limit`.
    Always,
}

/// Queries longer than this go as a POST form body even when they only read, so that no URL
/// grows past what proxies accept.
const MAX_GET_QUERY: usize = 4096;

/// The `/query` request: GET for reads, POST (form body) for anything that changes state,
/// `SELECT ... INTO` included.
pub(crate) fn query_request(
    query: &str,
    options: &QueryOptions,
    default_database: Option<&str>,
    chunking: Chunking,
) -> Result<Request, Error> {
    let mut params: Vec<(&str, &str)> = vec![("q", query)];
    if let Some(db) = options.database.as_deref().or(default_database) {
        params.push(("db", db));
    }
    if let Some(epoch) = options.epoch {
        params.push(("epoch", epoch.as_epoch_str()));
    }
    let bound;
    if !options.params.is_empty() {
        let map: serde_json::Map<String, serde_json::Value> =
            options.params.iter().cloned().collect();
        bound = serde_json::Value::Object(map).to_string();
        params.push(("params", &bound));
    }
    let chunk;
    if let Some(rows) = options.chunk_size {
        chunk = rows.to_string();
        params.push(("chunked", "true"));
        params.push(("chunk_size", &chunk));
    } else if chunking == Chunking::Always {
        params.push(("chunked", "true"));
    }
    let encoded = encode_params(params);
    if crate::request::influxql::is_read_only(query) && encoded.len() <= MAX_GET_QUERY {
        Ok(Request {
            method: Method::Get,
            path: "/query",
            query: encoded,
            body: Bytes::new(),
            content_type: None,
            accept: None,
            replay: Replay::Safe,
        })
    } else {
        Ok(Request {
            method: Method::Post,
            path: "/query",
            query: String::new(),
            body: encoded.into_bytes().into(),
            content_type: Some("application/x-www-form-urlencoded"),
            accept: None,
            replay: if crate::request::influxql::is_read_only(query) {
                Replay::Safe
            } else {
                Replay::UnlessDelivered
            },
        })
    }
}

/// Gzip-compresses a request body.
pub(crate) fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}
/// The `GET /ping` request.
pub(crate) fn ping_request() -> Request {
    Request {
        method: Method::Get,
        path: "/ping",
        query: String::new(),
        body: Bytes::new(),
        content_type: None,
        accept: None,
        replay: Replay::Safe,
    }
}
#[cfg(test)]
mod tests;
