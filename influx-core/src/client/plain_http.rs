//! The blocking client's writes over plain HTTP/1.1 on `std::net::TcpStream`, with the I/O
//! done on the calling thread.
//!
//! `reqwest::blocking` hands every request to a runtime thread of its own and waits for it
//! to come back. With two writes in flight on a two-core machine, influxd keeps both cores
//! busy, and that thread's work and wake-ups come out of the server's time: measured by the
//! comparison program (`docs/benchmarks.md`), `write_points` over reqwest reached 0.84x of what
//! the server takes over two connections. A write is the simplest exchange HTTP has (a POST
//! with a length, answered by a `204` or a short JSON error), so the blocking client sends its
//! writes itself when nothing asks for more: `http://`, no proxy. Everything else (queries,
//! streams, TLS, proxies) goes through reqwest.
//!
//! Every wait is bounded: connecting by [`CONNECT_TIMEOUT`] an address, and the whole
//! exchange (connecting, sending, the answer's head and body, chunked framing included) by
//! the client's timeout, as a deadline however the server trickles; the body is also bounded
//! in size by [`crate::core::exchange::Reading`]. The head is at most [`MAX_HEAD`] bytes, a
//! chunked answer's trailers at most [`MAX_TRAILERS`] lines. Idle connections are kept up to
//! the client's `pool_max_idle_per_host` ([`DEFAULT_MAX_IDLE`] without it) for at most
//! [`IDLE_TIMEOUT`], and one is reused only if the server has not closed it.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::core::transport::{Head, Prepared};
use crate::error::{Cause, Error};
use crate::request::config::ClientConfig;
use crate::request::retry::ConnectFailed;

/// How long connecting may take (as reqwest is configured: see `configure_http`).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most bytes an answer's status line and headers may take.
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// The most headers an answer may have.
const MAX_HEADERS: usize = 128;

/// Idle connections kept per host when the client does not set `pool_max_idle_per_host`.
pub(crate) const DEFAULT_MAX_IDLE: usize = 16;

/// How long a connection stays in the pool unused (as reqwest keeps its own).
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Trailer lines a chunked answer may end with.
const MAX_TRAILERS: usize = 64;

/// How much of a body is read at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Connections to one or more hosts, kept alive between writes.
pub(crate) struct Direct {
    pool: Arc<Pool>,
    timeout: Option<Duration>,
    /// The client's extra headers, sent unless the request has its own of the same name.
    extra: HeaderMap,
}

/// Idle connections, each with the `host:port` it goes to and when it went idle.
struct Pool {
    idle: std::sync::Mutex<Vec<Idle>>,
    max_idle: usize,
}

struct Idle {
    authority: String,
    since: Instant,
    connection: Connection,
}

impl Pool {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An idle connection to `authority` that the server has not closed, if any. Connections
    /// idle for longer than [`IDLE_TIMEOUT`] are dropped: something between may have
    /// forgotten them without telling either end.
    fn take(&self, authority: &str) -> Option<Connection> {
        loop {
            let connection = {
                let mut idle = self.lock();
                idle.retain(|i| i.since.elapsed() < IDLE_TIMEOUT);
                let at = idle.iter().rposition(|i| i.authority == authority)?;
                idle.swap_remove(at).connection
            };
            if connection.is_open() {
                return Some(connection);
            }
        }
    }

    fn put(&self, authority: String, connection: Connection) {
        let mut idle = self.lock();
        if idle.iter().filter(|i| i.authority == authority).count() < self.max_idle {
            idle.push(Idle {
                authority,
                since: Instant::now(),
                connection,
            });
        }
    }
}

/// Where a connection's bytes come from: its socket, waited on until a deadline (or, for
/// counting the instructions of the parsing, bytes in memory).
trait Source {
    /// Reads into `buffer`, waiting at most until `deadline`; `0` at the end.
    fn read_by(&mut self, buffer: &mut [u8], deadline: Option<Instant>) -> io::Result<usize>;
}

impl Source for TcpStream {
    fn read_by(&mut self, buffer: &mut [u8], deadline: Option<Instant>) -> io::Result<usize> {
        set_timeout(self, deadline, TcpStream::set_read_timeout)?;
        loop {
            match self.read(buffer) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }
}

#[cfg(any(test, influx_bench))]
impl Source for &[u8] {
    fn read_by(&mut self, buffer: &mut [u8], _: Option<Instant>) -> io::Result<usize> {
        self.read(buffer)
    }
}

/// One connection, with what was read past the end of the last answer.
struct Connection<S = TcpStream> {
    stream: S,
    buffer: Vec<u8>,
    /// The unread part of `buffer`.
    start: usize,
}

impl Connection {
    fn new(stream: TcpStream) -> Connection {
        Connection {
            stream,
            buffer: Vec::new(),
            start: 0,
        }
    }

    /// Whether the server has neither closed the connection nor sent anything unasked (which
    /// would be out of step with the next answer).
    fn is_open(&self) -> bool {
        if self.start < self.buffer.len() || self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let open = matches!(
            self.stream.peek(&mut [0; 1]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock
        );
        open && self.stream.set_nonblocking(false).is_ok()
    }
}

impl<S: Source> Connection<S> {
    /// Reads more into the buffer, waiting at most until `deadline`; returns how much came.
    fn fill(&mut self, deadline: Option<Instant>) -> io::Result<usize> {
        // What was read already goes: the buffer holds at most what is unread plus a read.
        self.buffer.drain(..self.start);
        self.start = 0;
        let old = self.buffer.len();
        self.buffer.resize(old + READ_CHUNK, 0);
        let read = self.stream.read_by(&mut self.buffer[old..], deadline);
        self.buffer.truncate(old + *read.as_ref().unwrap_or(&0));
        read
    }

    fn unread(&self) -> &[u8] {
        &self.buffer[self.start..]
    }
}

/// Sets the socket's timeout to what is left until `deadline` (no timeout without one).
fn set_timeout(
    stream: &TcpStream,
    deadline: Option<Instant>,
    set: fn(&TcpStream, Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    let Some(deadline) = deadline else {
        return set(stream, None);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::ErrorKind::TimedOut.into());
    }
    set(stream, Some(left))
}

/// Where a request failed, for the error it becomes.
#[derive(Debug)]
enum Failure {
    /// No connection could be made: nothing reached the server.
    Connect(io::Error),
    /// Sending the request failed.
    Send(io::Error),
    /// The request went out; its answer did not come, or not as HTTP.
    Receive(io::Error),
}

impl Failure {
    fn into_error(self) -> Error {
        let timed_out = |e: &io::Error| {
            matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            )
        };
        match self {
            Failure::Connect(e) if timed_out(&e) => {
                Error::Timeout(Cause::with_source("no answer in time", ConnectFailed(e)))
            }
            Failure::Connect(e) => Error::Transport(Cause::with_source(
                "the request did not get an answer",
                ConnectFailed(e),
            )),
            Failure::Send(e) | Failure::Receive(e) if timed_out(&e) => {
                Error::Timeout(Cause::with_source("no answer in time", e))
            }
            Failure::Send(e) | Failure::Receive(e) => {
                Error::Transport(Cause::with_source("the request did not get an answer", e))
            }
        }
    }
}

/// An answer that is not HTTP as this client reads it. (Not `InvalidData`: that kind is how
/// a refused TLS handshake shows, which no retry changes.)
fn malformed(message: &str) -> io::Error {
    io::Error::other(format!("the answer is not HTTP/1.x: {message}"))
}

impl Direct {
    /// The direct transport for `config`, or `None` when its writes need what only reqwest
    /// does: TLS or a proxy.
    pub(crate) fn for_config(config: &ClientConfig, extra: HeaderMap) -> Option<Direct> {
        if config.tls || config.proxy.is_some() {
            return None;
        }
        Some(Direct {
            pool: Arc::new(Pool {
                idle: std::sync::Mutex::new(Vec::new()),
                max_idle: config.pool_max_idle_per_host.unwrap_or(DEFAULT_MAX_IDLE),
            }),
            timeout: config.timeout,
            extra,
        })
    }

    /// Whether this transport sends `request`: a write over `http://`.
    pub(crate) fn takes(request: &Prepared) -> bool {
        request.write && request.url.scheme() == "http" && request.url.host_str().is_some()
    }

    /// Sends `request` and reads the answer's head; the body is left to [`DirectBody::next`].
    pub(crate) fn open(&self, request: Prepared) -> Result<(Head, DirectBody), Error> {
        let url = &request.url;
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(80);
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let head = self.request_head(&request, &authority);
        let body = request.body.as_deref().unwrap_or_default();
        // The attempt's bound (the timeout, cut to what is left of the call's deadline).
        let deadline = request.timeout.or(self.timeout).map(|t| Instant::now() + t);
        // A kept connection the server closed in the instant between the check and the
        // request may fail the sending (reset, broken pipe): the request is then sent again
        // on a new one, as it cannot have been taken. (If the close comes after the request
        // went out whole, the answer's absence is an error: the server may have taken it.)
        let (connection, answer) = match self.pool.take(&authority) {
            Some(mut kept) => match exchange(&mut kept, &head, body, deadline) {
                Ok(answer) => (kept, Ok(answer)),
                Err(Failure::Send(e)) if closed_under_us(&e) && time_left(deadline) => {
                    self.fresh(host, port, &head, body, deadline)?
                }
                Err(failure) => (kept, Err(failure)),
            },
            None => self.fresh(host, port, &head, body, deadline)?,
        };
        let (head, framed) = answer.map_err(Failure::into_error)?;
        Ok((
            head,
            DirectBody {
                connection: Some(connection),
                framing: framed.body,
                reusable: framed.reusable,
                authority,
                pool: Arc::clone(&self.pool),
                deadline,
            },
        ))
    }

    /// Connects and sends, and reads the answer's head.
    fn fresh(
        &self,
        host: &str,
        port: u16,
        head: &[u8],
        body: &[u8],
        deadline: Option<Instant>,
    ) -> Result<(Connection, Result<Answered, Failure>), Error> {
        let mut connection =
            connect(host, port, deadline).map_err(|e| Failure::Connect(e).into_error())?;
        let answer = exchange(&mut connection, head, body, deadline);
        Ok((connection, answer))
    }

    /// The request line and headers.
    fn request_head(&self, request: &Prepared, authority: &str) -> Vec<u8> {
        let url = &request.url;
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(request.method.as_str().as_bytes());
        head.push(b' ');
        head.extend_from_slice(url.path().as_bytes());
        if let Some(query) = url.query() {
            head.push(b'?');
            head.extend_from_slice(query.as_bytes());
        }
        head.extend_from_slice(b" HTTP/1.1\r\n");
        // The request's headers, then the client's extra ones it has not set; a `Host` of
        // either replaces the URL's. The body's framing is this client's own.
        let framing = [
            header::CONTENT_LENGTH,
            header::TRANSFER_ENCODING,
            header::CONNECTION,
        ];
        let extra = self
            .extra
            .iter()
            .filter(|(name, _)| !request.headers.contains_key(*name));
        let headers: Vec<(&HeaderName, &HeaderValue)> = request
            .headers
            .iter()
            .chain(extra)
            .filter(|(name, _)| !framing.contains(name))
            .collect();
        if !headers.iter().any(|(name, _)| *name == header::HOST) {
            head.extend_from_slice(b"host: ");
            head.extend_from_slice(authority.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        for (name, value) in headers {
            head.extend_from_slice(name.as_str().as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        if !request.headers.contains_key(header::ACCEPT) && !self.extra.contains_key(header::ACCEPT)
        {
            head.extend_from_slice(b"accept: */*\r\n");
        }
        let length = request.body.as_ref().map_or(0, Bytes::len);
        head.extend_from_slice(format!("content-length: {length}\r\n\r\n").as_bytes());
        head
    }
}

/// A new connection to `host:port`, Nagle's algorithm off (the head and the body go out as two
/// writes, which must not wait on each other's acknowledgement). Each address is tried for
/// at most [`CONNECT_TIMEOUT`], and all of them together until `deadline`. (A name is resolved
/// by the system, without a bound of this client's.)
fn connect(host: &str, port: u16, deadline: Option<Instant>) -> io::Result<Connection> {
    // `host_str` keeps an IPv6 address's brackets, which the resolver does not take.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut last = None;
    for address in (host, port).to_socket_addrs()? {
        let wait = match deadline {
            Some(deadline) => {
                CONNECT_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()))
            }
            None => CONNECT_TIMEOUT,
        };
        if wait.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        match TcpStream::connect_timeout(&address, wait) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(Connection::new(stream));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::ErrorKind::NotFound.into()))
}

/// Whether a send failed because the server had closed the connection (a kept one, closed in
/// the instant between the check and the request): the request cannot have been taken, as it
/// did not go out whole.
fn closed_under_us(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    )
}

fn time_left(deadline: Option<Instant>) -> bool {
    deadline.is_none_or(|deadline| Instant::now() < deadline)
}

/// Sends the request and reads the answer's head, by `deadline`. A server may answer before
/// it has read the whole request (influxd's `413` for a body over its limit) and close the
/// connection, which fails the sending: the answer is then still read, if it came.
fn exchange(
    connection: &mut Connection,
    head: &[u8],
    body: &[u8],
    deadline: Option<Instant>,
) -> Result<(Head, Framed), Failure> {
    if let Err(e) = send(connection, head, body, deadline) {
        return match read_head(connection, deadline) {
            // Out of step with the server: never used again.
            Ok((head, framed)) => Ok((
                head,
                Framed {
                    reusable: false,
                    ..framed
                },
            )),
            Err(_) => Err(Failure::Send(e)),
        };
    }
    read_head(connection, deadline).map_err(Failure::Receive)
}

/// Writes the head and the body, by `deadline`.
fn send(
    connection: &mut Connection,
    head: &[u8],
    body: &[u8],
    deadline: Option<Instant>,
) -> io::Result<()> {
    for mut part in [head, body] {
        while !part.is_empty() {
            set_timeout(&connection.stream, deadline, TcpStream::set_write_timeout)?;
            match connection.stream.write(part) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => part = &part[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// How an answer's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// This many bytes are left.
    Length(u64),
    /// Chunks: this many bytes are left of the current one (`None`: a size line is next).
    Chunked(Option<u64>),
    /// Up to the end of the connection.
    Close,
    /// The body has ended.
    Done,
}

/// An answer's head, read.
type Answered = (Head, Framed);

/// An answer's head read: its framing, and whether the connection may carry another request.
struct Framed {
    body: Framing,
    reusable: bool,
}

/// Reads the status line and headers by `deadline` (skipping `1xx` interim answers).
fn read_head<S: Source>(
    connection: &mut Connection<S>,
    deadline: Option<Instant>,
) -> io::Result<(Head, Framed)> {
    loop {
        let end = loop {
            if let Some(at) = find(connection.unread(), b"\r\n\r\n") {
                break connection.start + at + 4;
            }
            if connection.unread().len() > MAX_HEAD {
                return Err(malformed("the head is longer than 64 KiB"));
            }
            if connection.fill(deadline)? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the connection closed before an answer came",
                ));
            }
        };
        if end - connection.start > MAX_HEAD {
            return Err(malformed("the head is longer than 64 KiB"));
        }
        let parsed = parse_head(&connection.buffer[connection.start..end])?;
        connection.start = end;
        if (100..200).contains(&parsed.0.status) && parsed.0.status != 101 {
            continue;
        }
        return Ok(parsed);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses a head (ending with its blank line) into the status, headers and body framing. The
/// head is bytes, not text: header values may hold any byte but controls (influxd cuts
/// `X-Influxdb-Error` at 1 024 bytes, in the middle of a character if it must).
fn parse_head(head: &[u8]) -> io::Result<(Head, Framed)> {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, |&b| b == b' ');
    let http10 = match parts.next().unwrap_or_default() {
        b"HTTP/1.1" => false,
        b"HTTP/1.0" => true,
        _ => return Err(malformed("no HTTP/1.x status line")),
    };
    let status: u16 = parts
        .next()
        .filter(|code| code.len() == 3 && code.iter().all(u8::is_ascii_digit))
        .and_then(|code| std::str::from_utf8(code).ok()?.parse().ok())
        .filter(|code| (100..600).contains(code))
        .ok_or_else(|| malformed("no status code"))?;
    if status == 101 {
        return Err(malformed("101 Switching Protocols to a write"));
    }
    let mut headers = HeaderMap::new();
    for line in lines.take_while(|line| !line.is_empty()) {
        if headers.len() >= MAX_HEADERS {
            return Err(malformed("more than 128 headers"));
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| malformed("a header line without a colon"))?;
        let name =
            HeaderName::from_bytes(&line[..colon]).map_err(|_| malformed("a bad header name"))?;
        let value = line[colon + 1..].trim_ascii();
        let value = HeaderValue::from_bytes(value).map_err(|_| malformed("a bad header value"))?;
        headers.append(name, value);
    }
    // The codings of the body, in order, and the connection's options, from every line of
    // each header, split at commas.
    let list = |name: header::HeaderName| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .flat_map(|v| v.as_bytes().split(|&b| b == b','))
            .map(|item| String::from_utf8_lossy(item.trim_ascii()).to_ascii_lowercase())
            .filter(|item| !item.is_empty())
            .collect()
    };
    let codings = list(header::TRANSFER_ENCODING);
    let close = list(header::CONNECTION)
        .iter()
        .any(|option| option == "close");
    let mut lengths = headers.get_all(header::CONTENT_LENGTH).iter().map(|v| {
        std::str::from_utf8(v.as_bytes())
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| malformed("a bad Content-Length"))
    });
    let length = match lengths.next().transpose()? {
        Some(first) => {
            if lengths.any(|other| other.ok() != Some(first)) {
                return Err(malformed("two different Content-Lengths"));
            }
            Some(first)
        }
        None => None,
    };
    let body = if matches!(status, 204 | 304) || (100..200).contains(&status) {
        Framing::Done
    } else if !codings.is_empty() {
        // Chunked only when it is the last coding; any other ends with the connection. (A
        // Content-Length beside it does not count.)
        if codings.last().is_some_and(|c| c == "chunked") {
            Framing::Chunked(None)
        } else {
            Framing::Close
        }
    } else if let Some(length) = length {
        if length == 0 {
            Framing::Done
        } else {
            Framing::Length(length)
        }
    } else {
        Framing::Close
    };
    // Both a length and codings: a message smuggled past something, perhaps; not kept.
    let ambiguous = !codings.is_empty() && length.is_some();
    let reusable = !close && !http10 && !ambiguous && body != Framing::Close;
    let content_length = match body {
        Framing::Done => Some(0),
        Framing::Length(length) => Some(length),
        Framing::Chunked(_) | Framing::Close => None,
    };
    Ok((
        Head {
            status,
            headers,
            content_length,
        },
        Framed { body, reusable },
    ))
}

/// An answer's body being read from its connection, which goes back to the pool once the
/// body has ended (if the answer allows it); dropping it before closes the connection.
pub(crate) struct DirectBody {
    connection: Option<Connection>,
    framing: Framing,
    reusable: bool,
    authority: String,
    pool: Arc<Pool>,
    /// When the exchange must be over: the client's timeout bounds a write's whole answer.
    deadline: Option<Instant>,
}

impl DirectBody {
    /// The next piece of the body, `None` at its end. Every wait, framing and trailers
    /// included, ends by the exchange's deadline.
    pub(crate) fn next(&mut self) -> Result<Option<Bytes>, Error> {
        let piece = self
            .next_piece()
            .map_err(|e| Failure::Receive(e).into_error())?;
        if piece.is_none() {
            if let Some(connection) = self.connection.take() {
                if self.reusable {
                    self.pool
                        .put(std::mem::take(&mut self.authority), connection);
                }
            }
        }
        Ok(piece)
    }

    fn next_piece(&mut self) -> io::Result<Option<Bytes>> {
        match self.connection.as_mut() {
            Some(connection) => next_piece(connection, &mut self.framing, self.deadline),
            None => Ok(None),
        }
    }
}

/// The next piece of a body framed as `framing` says, which it keeps up to date; `None` at
/// the body's end.
fn next_piece<S: Source>(
    connection: &mut Connection<S>,
    framing: &mut Framing,
    deadline: Option<Instant>,
) -> io::Result<Option<Bytes>> {
    loop {
        match *framing {
            Framing::Done => return Ok(None),
            Framing::Length(0) => *framing = Framing::Done,
            Framing::Length(left) => {
                let piece = take(connection, left, deadline)?;
                if piece.is_empty() {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the connection closed before the end of the answer",
                    ));
                }
                *framing = Framing::Length(left - piece.len() as u64);
                return Ok(Some(piece));
            }
            Framing::Close => {
                let piece = take(connection, u64::MAX, deadline)?;
                if piece.is_empty() {
                    *framing = Framing::Done;
                    return Ok(None);
                }
                return Ok(Some(piece));
            }
            Framing::Chunked(Some(0)) => {
                expect_line_end(connection, deadline)?;
                *framing = Framing::Chunked(None);
            }
            Framing::Chunked(Some(left)) => {
                let piece = take(connection, left, deadline)?;
                if piece.is_empty() {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the connection closed inside a chunk",
                    ));
                }
                *framing = Framing::Chunked(Some(left - piece.len() as u64));
                return Ok(Some(piece));
            }
            Framing::Chunked(None) => {
                let line = read_line(connection, deadline)?;
                let size = line.split(';').next().unwrap_or_default().trim();
                let size =
                    u64::from_str_radix(size, 16).map_err(|_| malformed("a bad chunk size"))?;
                if size == 0 {
                    // Trailers, if any, end with an empty line.
                    let mut trailers = 0;
                    while !read_line(connection, deadline)?.is_empty() {
                        trailers += 1;
                        if trailers > MAX_TRAILERS {
                            return Err(malformed("more than 64 trailer lines"));
                        }
                    }
                    *framing = Framing::Done;
                } else {
                    *framing = Framing::Chunked(Some(size));
                }
            }
        }
    }
}

/// Up to `most` bytes of the body: what is buffered, or one read's worth; empty at the end of
/// the connection.
fn take<S: Source>(
    connection: &mut Connection<S>,
    most: u64,
    deadline: Option<Instant>,
) -> io::Result<Bytes> {
    if connection.unread().is_empty() && connection.fill(deadline)? == 0 {
        return Ok(Bytes::new());
    }
    let unread = connection.unread();
    let n = unread
        .len()
        .min(usize::try_from(most).unwrap_or(usize::MAX));
    let piece = Bytes::copy_from_slice(&unread[..n]);
    connection.start += n;
    Ok(piece)
}

/// A line of chunked framing, without its CRLF (at most [`MAX_HEAD`] bytes).
fn read_line<S: Source>(
    connection: &mut Connection<S>,
    deadline: Option<Instant>,
) -> io::Result<String> {
    loop {
        if let Some(at) = find(connection.unread(), b"\r\n") {
            let line = String::from_utf8_lossy(&connection.unread()[..at]).into_owned();
            connection.start += at + 2;
            return Ok(line);
        }
        if connection.unread().len() > MAX_HEAD {
            return Err(malformed("a chunk size line is too long"));
        }
        if connection.fill(deadline)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed inside the chunked framing",
            ));
        }
    }
}

/// The CRLF after a chunk's data.
fn expect_line_end<S: Source>(
    connection: &mut Connection<S>,
    deadline: Option<Instant>,
) -> io::Result<()> {
    if read_line(connection, deadline)?.is_empty() {
        Ok(())
    } else {
        Err(malformed("a chunk did not end where its size said"))
    }
}

/// Reads `count` answers, heads and bodies, one after another from `bytes` as from a
/// connection, and returns the sum of their statuses and body lengths: the parsing that
/// `scripts/instructions` counts (built with `--cfg influx_bench`, never in a user's build).
#[cfg(influx_bench)]
pub fn read_answers(bytes: &[u8], count: usize) -> io::Result<u64> {
    let mut connection = Connection {
        stream: bytes,
        buffer: Vec::new(),
        start: 0,
    };
    let mut sum = 0;
    for _ in 0..count {
        let (head, framed) = read_head(&mut connection, None)?;
        sum += u64::from(head.status);
        let mut framing = framed.body;
        while let Some(piece) = next_piece(&mut connection, &mut framing, None)? {
            sum += piece.len() as u64;
        }
    }
    Ok(sum)
}

#[cfg(test)]
mod tests;
