//! The blocking client's exchanges over plain HTTP/1.1 on `std::net::TcpStream`, with the I/O
//! done on the calling thread.
//!
//! `reqwest::blocking` hands every request to a runtime thread of its own and waits for it
//! to come back, and every piece of an answer's body back from it. With two writes in flight
//! on a two-core machine, influxd keeps both cores busy, and that thread's work and wake-ups
//! come out of the server's time: measured by the comparison program (`docs/benchmarks.md`),
//! `write_points` over reqwest reached 0.84x of what the server takes over two connections,
//! and a query of 1 000 000 rows (83 MiB, chunked) cost 92 ms of client CPU to fetch where a
//! plain socket read cost 20 ms. Influxd's exchanges are the simplest HTTP has (a GET or a
//! POST with a length, answered with a length or in chunks), so the blocking client makes
//! them itself when nothing asks for more: `http://`, no proxy. TLS and proxies go through
//! reqwest.
//!
//! Every wait is bounded: connecting by [`CONNECT_TIMEOUT`] an address; a whole answer
//! (connecting, sending, the answer's head and body, chunked framing included) by the
//! request's timeout, as a deadline however the server trickles; a stream's head by the
//! client's timeout and the call's deadline, and then each wait for more of its body by the
//! client's timeout. The body is also bounded in size by [`crate::core::exchange::Reading`]
//! (a stream's, by its reader). The head is at most [`answer::MAX_HEAD`] bytes, a chunked
//! answer's trailers at most [`answer::MAX_TRAILERS`] lines. Idle connections are kept up to
//! the client's `pool_max_idle_per_host` ([`DEFAULT_MAX_IDLE`] without it) for at most
//! [`IDLE_TIMEOUT`], and one is reused only if the server has not closed it.
//!
//! The answer is read by [`answer`] (heads and chunked framing parsed by `httparse`, hyper's
//! parser) from a [`connection`]'s buffer.

use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

#[cfg(influx_bench)]
pub use self::answer::read_answers;
use self::answer::{Answered, Framed, Framing, next_piece, read_head};
#[cfg(test)]
use self::answer::{MAX_HEAD, MAX_HEADERS, MAX_TRAILERS, parse_head};
use self::connection::{Connection, set_timeout};
use crate::core::transport::{Head, Prepared};
use crate::error::{Cause, Error};
use crate::request::config::ClientConfig;
use crate::request::retry::ConnectFailed;

/// How long connecting may take (as reqwest is configured: see `configure_http`).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle connections kept per host when the client does not set `pool_max_idle_per_host`.
pub(crate) const DEFAULT_MAX_IDLE: usize = 16;

/// How long a connection stays in the pool unused (as reqwest keeps its own).
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

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

    /// Whether this transport sends `request`: a `GET` or a `POST` over `http://` (a `HEAD`,
    /// whose answer has a length but no body, or any other method goes through reqwest).
    pub(crate) fn takes(request: &Prepared) -> bool {
        matches!(request.method, reqwest::Method::GET | reqwest::Method::POST)
            && request.url.scheme() == "http"
            && request.url.host_str().is_some()
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
        // A whole answer's bound: the request's timeout (cut to what is left of the call's
        // deadline). A stream has none: its head must come within the client's timeout and
        // by the call's deadline, and then each wait for more within the client's timeout.
        let now = Instant::now();
        let whole = request.timeout.map(|t| now + t);
        let per_wait = if whole.is_none() { self.timeout } else { None };
        let deadline = match (whole, per_wait.map(|t| now + t), request.head_by) {
            (Some(whole), _, _) => Some(whole),
            (None, Some(wait), Some(by)) => Some(wait.min(by)),
            (None, wait, by) => wait.or(by),
        };
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
                deadline: whole,
                per_wait,
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

/// An answer's body being read from its connection, which goes back to the pool once the
/// body has ended (if the answer allows it); dropping it before closes the connection.
pub(crate) struct DirectBody {
    connection: Option<Connection>,
    framing: Framing,
    reusable: bool,
    authority: String,
    pool: Arc<Pool>,
    /// When the exchange must be over, for a whole answer.
    deadline: Option<Instant>,
    /// A stream's bound on each wait for more (the client's timeout).
    per_wait: Option<Duration>,
}

impl DirectBody {
    /// The next piece of the body, `None` at its end. Every wait, framing and trailers
    /// included, ends by the exchange's deadline, or, in a stream, within the client's
    /// timeout of the call.
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
        let deadline = self
            .deadline
            .or_else(|| self.per_wait.map(|t| Instant::now() + t));
        match self.connection.as_mut() {
            Some(connection) => next_piece(connection, &mut self.framing, deadline),
            None => Ok(None),
        }
    }
}

mod answer;
mod connection;
#[cfg(test)]
mod tests;
