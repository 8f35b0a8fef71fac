//! Reading an answer from a connection: its head and its body's framing (a length, chunks, or
//! the connection's end), parsed by `httparse`, each part within its bound.

use std::io;
use std::time::Instant;

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::connection::{Connection, Source};
use crate::core::transport::Head;

/// The most bytes an answer's status line and headers may take.
pub(super) const MAX_HEAD: usize = 64 * 1024;

/// The most headers an answer may have.
pub(super) const MAX_HEADERS: usize = 128;

/// Trailer lines a chunked answer may end with.
pub(super) const MAX_TRAILERS: usize = 64;

/// An answer that is not HTTP as this client reads it. (Not `InvalidData`: that kind is how
/// a refused TLS handshake shows, which no retry changes.)
pub(super) fn malformed(message: &str) -> io::Error {
    io::Error::other(format!("the answer is not HTTP/1.x: {message}"))
}

/// How an answer's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
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
pub(super) type Answered = (Head, Framed);

/// An answer's head read: its framing, and whether the connection may carry another request.
pub(super) struct Framed {
    pub(super) body: Framing,
    pub(super) reusable: bool,
}

/// Reads the status line and headers by `deadline` (skipping `1xx` interim answers).
pub(super) fn read_head<S: Source>(
    connection: &mut Connection<S>,
    deadline: Option<Instant>,
) -> io::Result<(Head, Framed)> {
    loop {
        let parsed = read_parsed(connection, deadline, &HEAD, head_at)?;
        if (100..200).contains(&parsed.0.status) && parsed.0.status != 101 {
            continue;
        }
        return Ok(parsed);
    }
}

/// A parser of what starts a buffer: `None` while more must come, or the length it parsed
/// and what it made of it.
type Parse<T> = fn(&[u8]) -> io::Result<Option<(usize, T)>>;

/// The bound of a part of an answer, and what is said when it is passed or cut short.
struct Bound {
    /// At most this many bytes.
    limit: usize,
    too_long: &'static str,
    /// Where the connection ended too soon.
    closed: &'static str,
}

const HEAD: Bound = Bound {
    limit: MAX_HEAD,
    too_long: "the head is longer than 64 KiB",
    closed: "the connection closed before an answer came",
};

const INSIDE: &str = "the connection closed inside the chunked framing";

const CHUNK_SIZE: Bound = Bound {
    limit: MAX_HEAD,
    too_long: "a chunk size line is longer than 64 KiB",
    closed: INSIDE,
};

const TRAILERS: Bound = Bound {
    limit: MAX_HEAD,
    too_long: "the trailers are longer than 64 KiB",
    closed: INSIDE,
};

const LINE_END: Bound = Bound {
    limit: 2,
    too_long: "a chunk did not end where its size said",
    closed: INSIDE,
};

/// What `parse` makes of the unread start of the connection's buffer, reading more until it
/// has all come, within `bound`.
fn read_parsed<S: Source, T>(
    connection: &mut Connection<S>,
    deadline: Option<Instant>,
    bound: &Bound,
    parse: Parse<T>,
) -> io::Result<T> {
    let too_long = || malformed(bound.too_long);
    let limit = bound.limit;
    loop {
        if let Some((length, parsed)) = parse(connection.unread())? {
            if length > limit {
                return Err(too_long());
            }
            connection.start += length;
            return Ok(parsed);
        }
        if connection.unread().len() > limit {
            return Err(too_long());
        }
        if connection.fill(deadline)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, bound.closed));
        }
    }
}

/// An error of `httparse`'s, as this client reports it; `too_many` when the lines are more
/// than it was given room for.
fn not_http(e: httparse::Error, too_many: &str) -> io::Error {
    match e {
        httparse::Error::TooManyHeaders => malformed(too_many),
        e => malformed(&e.to_string()),
    }
}

/// A whole head, for the tests: [`head_at`] without the length.
#[cfg(test)]
pub(super) fn parse_head(head: &[u8]) -> io::Result<(Head, Framed)> {
    head_at(head)?
        .map(|(_, parsed)| parsed)
        .ok_or_else(|| malformed("the head did not end"))
}

/// Parses the head (ending with its blank line) at the start of `buffer` into the status,
/// headers and body framing, with its length; `None` if it has not all come. The head is
/// bytes, not text: header values may hold any byte but controls (influxd cuts
/// `X-Influxdb-Error` at 1 024 bytes, in the middle of a character if it must).
fn head_at(buffer: &[u8]) -> io::Result<Option<(usize, (Head, Framed))>> {
    let mut parsed = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut parsed);
    let head_length = match response
        .parse(buffer)
        .map_err(|e| not_http(e, "more than 128 headers"))?
    {
        httparse::Status::Complete(length) => length,
        httparse::Status::Partial => return Ok(None),
    };
    let http10 = response.version == Some(0);
    let status = response
        .code
        .filter(|code| (100..600).contains(code))
        .ok_or_else(|| malformed("no status code"))?;
    if status == 101 {
        return Err(malformed("101 Switching Protocols to a write"));
    }
    let mut headers = HeaderMap::with_capacity(response.headers.len());
    for parsed in response.headers.iter() {
        let name = HeaderName::from_bytes(parsed.name.as_bytes())
            .map_err(|_| malformed("a bad header name"))?;
        let value = HeaderValue::from_bytes(parsed.value.trim_ascii())
            .map_err(|_| malformed("a bad header value"))?;
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
    Ok(Some((
        head_length,
        (
            Head {
                status,
                headers,
                content_length,
            },
            Framed { body, reusable },
        ),
    )))
}

/// The next piece of a body framed as `framing` says, which it keeps up to date; `None` at
/// the body's end.
pub(super) fn next_piece<S: Source>(
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
                let size = read_parsed(connection, deadline, &CHUNK_SIZE, chunk_size_at)?;
                if size == 0 {
                    // Trailers, if any, end with an empty line.
                    read_parsed(connection, deadline, &TRAILERS, trailers_at)?;
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

/// The size of the chunk at the start of `buffer` (its extensions skipped), with the length
/// of its line; `None` if the line has not all come.
fn chunk_size_at(buffer: &[u8]) -> io::Result<Option<(usize, u64)>> {
    match httparse::parse_chunk_size(buffer) {
        Ok(httparse::Status::Complete(parsed)) => Ok(Some(parsed)),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::InvalidChunkSize) => Err(malformed("a bad chunk size")),
    }
}

/// The length of a chunked body's trailers, with the empty line that ends them; at most
/// [`MAX_TRAILERS`] of them.
fn trailers_at(buffer: &[u8]) -> io::Result<Option<(usize, ())>> {
    let mut trailers = [httparse::EMPTY_HEADER; MAX_TRAILERS];
    match httparse::parse_headers(buffer, &mut trailers)
        .map_err(|e| not_http(e, "more than 64 trailer lines"))?
    {
        httparse::Status::Complete((length, _)) => Ok(Some((length, ()))),
        httparse::Status::Partial => Ok(None),
    }
}

/// The CRLF after a chunk's data.
fn expect_line_end<S: Source>(
    connection: &mut Connection<S>,
    deadline: Option<Instant>,
) -> io::Result<()> {
    let line_end = |buffer: &[u8]| match buffer {
        [b'\r', b'\n', ..] => Ok(Some((2, ()))),
        [] | [b'\r'] => Ok(None),
        _ => Err(malformed("a chunk did not end where its size said")),
    };
    read_parsed(connection, deadline, &LINE_END, line_end)
}

/// Reads `count` answers, heads and bodies, one after another from `bytes` as from a
/// connection, and returns the sum of their statuses and body lengths: the parsing that
/// `scripts/instructions` counts (built with `--cfg influx_bench`, never in a user's build).
#[cfg(influx_bench)]
pub fn read_answers(bytes: &[u8], count: usize) -> io::Result<u64> {
    let mut connection = Connection::new(bytes);
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
