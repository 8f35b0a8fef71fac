//! Sans-IO answers: an answer's body decoded within its bound, what its status and message
//! mean (classification), and the server's messages, cut to a bound. Plain functions over
//! bytes, shared by the blocking and the async client.

use std::borrow::Cow;
use std::io::Write;

use crate::error::{Cause, Error, PartialWriteKind};

/// An answer as the transports hand it over: status, the headers that matter, and the body
/// (decoded and bounded by [`AnswerBody`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The HTTP status.
    pub(crate) status: u16,
    /// `X-Influxdb-Version`, if sent.
    pub(crate) version: Option<String>,
    /// `Location`, if sent (for the message of a redirect).
    pub(crate) location: Option<String>,
    /// `Retry-After`, if sent.
    pub(crate) retry_after: Option<String>,
    /// The body (of an error answer, at most [`MAX_ERROR_BODY`] bytes of it).
    pub(crate) body: Vec<u8>,
    /// The body went on past what was read: an error answer's past [`MAX_ERROR_BODY`].
    pub(crate) cut: bool,
    /// The body is MessagePack (`Content-Type: application/x-msgpack`).
    pub(crate) msgpack: bool,
}

/// Errors every classification shares: redirects (never followed), then 4xx and 5xx.
fn status_error(answer: &Answer) -> Error {
    match answer.status {
        300..=399 => Error::Redirect {
            status: answer.status,
            location: answer
                .location
                .as_deref()
                .map(|l| l.chars().take(200).collect()),
        },
        status @ 400..=499 => Error::Client {
            status,
            message: explain(error_message(answer)),
        },
        status => Error::Server {
            status,
            message: error_message(answer),
        },
    }
}

/// Checks a `/query` answer: 200 with a body; the body is then decoded by
/// [`crate::decode_response`] or the typed decoders.
pub(crate) fn classify_query(answer: &Answer) -> Result<(), Error> {
    match answer.status {
        // Every 1.x answer to a query is a JSON document, `{}` at the least: an empty one is
        // a broken server or proxy, not "no results".
        200 if answer.body.trim_ascii().is_empty() => Err(Error::Protocol(
            "empty answer to a query (influxd always sends a JSON document)".into(),
        )),
        200 => Ok(()),
        _ => Err(status_error(answer)),
    }
}

/// Checks a `/ping` answer (204, or 200 from some proxies) and returns the server version.
pub(crate) fn classify_ping(answer: &Answer) -> Result<String, Error> {
    match answer.status {
        200 | 204 => answer
            .version
            .clone()
            .ok_or_else(|| Error::Protocol("ping answer has no X-Influxdb-Version".into())),
        _ => Err(status_error(answer)),
    }
}

/// The media type of a MessagePack answer, which decoded queries ask for.
pub(crate) const MSGPACK: &str = "application/x-msgpack";

/// Whether a `Content-Type` says MessagePack (its parameters, if any, aside).
pub(crate) fn is_msgpack(content_type: Option<&[u8]>) -> bool {
    content_type.is_some_and(|value| {
        let media = value.split(|&b| b == b';').next().unwrap_or_default();
        media.trim_ascii().eq_ignore_ascii_case(MSGPACK.as_bytes())
    })
}

/// How an answer's body is encoded (`Content-Encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// As it is.
    Identity,
    /// gzip, undone while the body is read.
    Gzip,
}

impl Encoding {
    /// The encoding named by a `Content-Encoding` header (absent: identity). Anything this
    /// client never asks for is a protocol error rather than bytes decoded as JSON.
    pub(crate) fn from_header(value: Option<&[u8]>) -> Result<Encoding, Error> {
        match value.map(<[u8]>::trim_ascii) {
            None => Ok(Encoding::Identity),
            Some(v) if v.is_empty() || v.eq_ignore_ascii_case(b"identity") => {
                Ok(Encoding::Identity)
            }
            Some(v) if v.eq_ignore_ascii_case(b"gzip") => Ok(Encoding::Gzip),
            Some(v) => Err(Error::Protocol(
                format!(
                    "answer in an encoding this client did not ask for: {}",
                    String::from_utf8_lossy(&v[..v.len().min(40)])
                )
                .into(),
            )),
        }
    }
}

/// An answer's body as it arrives, piece by piece, decompressed on the fly and bounded: once
/// the decoded body would pass `limit` bytes, reading stops with [`Error::AnswerTooLarge`],
/// so neither a gzip bomb nor an endless body can take more memory than the limit.
///
/// Sans-IO: a transport pushes whatever bytes it reads and calls [`AnswerBody::finish`].
#[derive(Debug)]
pub(crate) struct AnswerBody {
    sink: Sink,
}

#[derive(Debug)]
enum Sink {
    Identity(Bounded),
    // Boxed: the decoder's state is large, and most answers are not compressed.
    Gzip(Box<flate2::write::GzDecoder<Bounded>>),
}

/// A `Vec` that refuses to grow past its limit.
#[derive(Debug)]
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
    exceeded: bool,
}

impl Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.limit - self.bytes.len();
        if data.len() > room {
            // What fits is kept: an error answer is read up to its bound, and kept so far.
            self.bytes.extend_from_slice(&data[..room]);
            self.exceeded = true;
            return Err(std::io::Error::other("answer over its size limit"));
        }
        self.bytes.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl AnswerBody {
    /// An empty body of `encoding`, bounded to `limit` decoded bytes. `size_hint` (the
    /// `Content-Length`, if any) reserves room up front, never more than the limit.
    pub(crate) fn new(encoding: Encoding, limit: usize, size_hint: Option<u64>) -> AnswerBody {
        let reserve = size_hint
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
            .min(limit);
        let bounded = Bounded {
            bytes: Vec::with_capacity(reserve),
            limit,
            exceeded: false,
        };
        AnswerBody {
            sink: match encoding {
                Encoding::Identity => Sink::Identity(bounded),
                Encoding::Gzip => Sink::Gzip(Box::new(flate2::write::GzDecoder::new(bounded))),
            },
        }
    }

    /// Takes the next piece of the body as it came over the wire.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<(), Error> {
        let result = match &mut self.sink {
            Sink::Identity(b) => b.write_all(data),
            Sink::Gzip(d) => d.write_all(data),
        };
        result.map_err(|e| self.error(e))
    }

    /// The bytes decoded so far and not yet taken, for a reader that takes them as they come
    /// (the bound then applies to what is held at a time).
    pub(crate) fn decoded(&self) -> &[u8] {
        match &self.sink {
            Sink::Identity(b) => &b.bytes,
            Sink::Gzip(d) => &d.get_ref().bytes,
        }
    }

    /// Like [`AnswerBody::decoded`], to take bytes out.
    pub(crate) fn decoded_mut(&mut self) -> &mut Vec<u8> {
        match &mut self.sink {
            Sink::Identity(b) => &mut b.bytes,
            Sink::Gzip(d) => &mut d.get_mut().bytes,
        }
    }

    /// Decodes whatever the gzip decoder still holds, once the transport has pushed
    /// everything; checks that the compressed body ended where it should.
    pub(crate) fn flush_end(&mut self) -> Result<(), Error> {
        match &mut self.sink {
            Sink::Identity(_) => Ok(()),
            Sink::Gzip(d) => match d.try_finish() {
                Ok(()) => Ok(()),
                Err(_) if d.get_ref().exceeded => Err(Error::AnswerTooLarge {
                    limit: d.get_ref().limit,
                }),
                Err(e) => Err(Error::Protocol(Cause::with_source("bad gzip body", e))),
            },
        }
    }

    /// The decoded body, once the transport has pushed everything.
    pub(crate) fn finish(self) -> Result<Vec<u8>, Error> {
        match self.sink {
            Sink::Identity(b) => Ok(b.bytes),
            Sink::Gzip(mut d) => match d.try_finish() {
                Ok(()) => d
                    .finish()
                    .map(|b| b.bytes)
                    .map_err(|e| Error::Protocol(Cause::with_source("bad gzip body", e))),
                Err(_) if d.get_ref().exceeded => Err(Error::AnswerTooLarge {
                    limit: d.get_ref().limit,
                }),
                Err(e) => Err(Error::Protocol(Cause::with_source("bad gzip body", e))),
            },
        }
    }

    /// The bytes decoded so far, however the body went on or failed: an error answer's body,
    /// cut at its bound (or where its compression broke).
    pub(crate) fn into_cut(mut self) -> Vec<u8> {
        std::mem::take(self.decoded_mut())
    }

    fn error(&self, e: std::io::Error) -> Error {
        let bounded = match &self.sink {
            Sink::Identity(b) => b,
            Sink::Gzip(d) => d.get_ref(),
        };
        if bounded.exceeded {
            Error::AnswerTooLarge {
                limit: bounded.limit,
            }
        } else {
            Error::Protocol(Cause::with_source("bad gzip body", e))
        }
    }
}

/// The most of an error answer's body that is read (decompressed): the rest is left unread and
/// its connection closed, so that neither an endless body nor a gzip bomb behind an error
/// status takes memory or time. influxd quotes a line it cannot parse whole: the largest it
/// gives for a line of its own limits, a series key of 64 KiB whose escapes JSON doubles, fits.
pub(crate) const MAX_ERROR_BODY: usize = 256 * 1024;

/// The most of a server's message an error keeps (in bytes; cut at a character boundary).
/// Messages travel into logs, a writer's stats and every `Display`: a server that sends a
/// long one (a proxy's HTML page, a 64 MiB JSON member) must not make them long.
pub(crate) const MAX_MESSAGE: usize = 1024;

/// What marks a message that was cut, by [`MAX_MESSAGE`] or because its body was longer than
/// [`MAX_ERROR_BODY`]: such a message is never taken for one of influxd's known permanent
/// errors.
pub(crate) const CUT_MARK: &str = " [message cut]";

/// The server's message in an error answer: the `error` member of its JSON (or MessagePack),
/// else the body as text, at most [`MAX_ERROR_BODY`] bytes (not yet cut to [`MAX_MESSAGE`]).
fn full_message(answer: &Answer) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        error: String,
    }
    if answer.msgpack && !answer.cut {
        if let Some(message) = msgpack_error(&answer.body) {
            return message;
        }
    }
    match serde_json::from_slice::<ErrorBody>(&answer.body) {
        Ok(e) if !answer.cut => e.error,
        _ => String::from_utf8_lossy(&answer.body).trim().to_owned(),
    }
}

/// The `error` member of a MessagePack map, if that is what `body` is.
fn msgpack_error(body: &[u8]) -> Option<String> {
    let mut s = crate::query::scan::Scanner::msgpack(body);
    s.begin_object().ok()?;
    let mut first = true;
    while let Some(key) = s.next_key(&mut first).ok()? {
        if key == "error" {
            return s.string().ok().map(Cow::into_owned);
        }
        s.skip().ok()?;
    }
    None
}

/// `message` cut to about [`MAX_MESSAGE`] bytes, marked with [`CUT_MARK`] if it was cut or its
/// body was (`cut`). A long message keeps its start and its end, where influxd says why
/// (`unable to parse '<a long line>': <why>`).
pub(crate) fn cut_message(message: String, cut: bool) -> String {
    if message.len() > MAX_MESSAGE {
        let (head, tail) = (MAX_MESSAGE * 3 / 4, MAX_MESSAGE / 4);
        let mut head_end = head;
        while !message.is_char_boundary(head_end) {
            head_end -= 1;
        }
        let mut tail_start = message.len() - tail;
        while !message.is_char_boundary(tail_start) {
            tail_start += 1;
        }
        let mut out = String::with_capacity(MAX_MESSAGE + CUT_MARK.len() * 2);
        out.push_str(&message[..head_end]);
        out.push_str(CUT_MARK);
        if !cut {
            out.push(' ');
            out.push_str(&message[tail_start..]);
        }
        return out;
    }
    if cut {
        return message + CUT_MARK;
    }
    message
}

/// Whether a message is the server's whole message (not cut, so that its text can be
/// trusted to be one of influxd's known messages).
pub(crate) fn is_whole_message(message: &str) -> bool {
    !message.contains(CUT_MARK)
}

/// The server's message from an error answer, cut to [`MAX_MESSAGE`].
pub(crate) fn error_message(answer: &Answer) -> String {
    cut_message(full_message(answer), answer.cut)
}

/// What Go's HTTPS servers (influxd among them) answer a plain HTTP request with.
const PLAIN_TO_TLS: &str = "Client sent an HTTP request to an HTTPS server";

/// A message that says what a plain HTTP request to a TLS server means, when that is what the
/// server answered.
fn explain(message: String) -> String {
    if message.contains(PLAIN_TO_TLS) {
        format!("the server speaks TLS: use https:// (it answered: {message})")
    } else {
        message
    }
}

/// Whether a 400's message says the request went over plain HTTP to a TLS server.
pub(crate) fn is_plain_to_tls(message: &str) -> bool {
    message.contains(PLAIN_TO_TLS)
}

/// Turns the answer to a write into `Ok` or the right error variant.
///
/// Only 204 means stored: InfluxDB 1.x answers every successful write with it, so any other
/// success status comes from something that is not influxd (a proxy, a mock) and proves
/// nothing.
///
/// `written_before` is the number of points already stored by earlier requests of the same
/// call, carried into the error so the caller knows where to resume.
pub(crate) fn classify_write(answer: &Answer, written_before: usize) -> Result<(), Error> {
    match answer.status {
        204 => Ok(()),
        status @ (100..=299) => Err(Error::Protocol(
            format!("write answered {status} instead of 204: nothing is known to be stored").into(),
        )),
        400 => {
            let full = full_message(answer);
            if let Some(dropped) = partial_write_dropped(&full).filter(|_| !answer.cut) {
                // influxd says `dropped=0` for lines it could not parse, and quotes each:
                // counted here, on the whole message, before it is cut.
                let dropped = dropped.saturating_add(unparsable_lines(&full));
                Err(Error::PartialWrite {
                    dropped,
                    kind: partial_write_kind(&full),
                    message: cut_message(full, false),
                    written_before,
                })
            } else if full.starts_with("field type conflict") && !answer.cut {
                Err(Error::BatchRejected {
                    message: cut_message(full, false),
                    written_before,
                })
            } else {
                Err(Error::Client {
                    status: 400,
                    message: explain(cut_message(full, answer.cut)),
                })
            }
        }
        _ => Err(status_error(answer)),
    }
}

/// How many lines a partial write's message quotes as unparsable.
fn unparsable_lines(message: &str) -> u64 {
    message
        .split('\n')
        .filter(|line| {
            line.trim_start_matches("partial write: ")
                .starts_with("unable to parse '")
        })
        .count() as u64
}

/// `partial write: ... dropped=N` -> `N`.
fn partial_write_dropped(message: &str) -> Option<u64> {
    if !message.starts_with("partial write") {
        return None;
    }
    let at = message.rfind("dropped=")? + "dropped=".len();
    let digits: String = message[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn partial_write_kind(message: &str) -> PartialWriteKind {
    if message.contains("field type conflict") {
        PartialWriteKind::TypeConflict
    } else if message.contains("beyond retention policy") {
        PartialWriteKind::BeyondRetentionPolicy
    } else if message.contains("max-series-per-database") || message.contains("max-values-per-tag")
    {
        PartialWriteKind::Limit
    } else if message.contains("unable to parse") {
        PartialWriteKind::Unparsable
    } else {
        PartialWriteKind::Other
    }
}

#[cfg(test)]
mod tests;
