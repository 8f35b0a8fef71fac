//! A minimal HTTP/1.1 client over `std::net::TcpStream`, for the server's own ceiling: one
//! kept-alive connection that posts pre-encoded bodies and fetches answers as bytes.
//!
//! It does only what influxd's answers need: a status line, headers, then a body framed by
//! `Content-Length` or `Transfer-Encoding: chunked` (none for 204). No HTTP library stands
//! between the bytes and the socket, so the ceiling it measures is the server's, not a
//! client's: reqwest's blocking client, the alternative, hands every body to a runtime thread
//! of its own and back.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long a read or a write may wait before the request fails (a stuck server fails the
/// variant instead of hanging the run).
const IO_TIMEOUT: Duration = Duration::from_secs(120);

/// The most of an error answer's body kept for its message.
const ERROR_BODY_LIMIT: usize = 512;

/// One kept-alive connection to influxd.
pub(crate) struct Connection {
    address: SocketAddr,
    reader: BufReader<TcpStream>,
    /// Set when the server said `Connection: close`: the next request opens a new connection.
    closed: bool,
}

/// What came back: the status, and how many body bytes were read (and dropped).
pub(crate) struct Answer {
    /// The HTTP status code.
    pub(crate) status: u16,
    /// The body's length, after chunked framing was removed.
    pub(crate) body_bytes: usize,
    /// The start of the body, kept only for an answer that is not 2xx.
    pub(crate) error_text: String,
}

impl Connection {
    /// Connects to `address` with Nagle's algorithm off: a request head and its body go out
    /// as two writes, which must not wait for each other's acknowledgement.
    pub(crate) fn open(address: SocketAddr) -> io::Result<Connection> {
        let stream = TcpStream::connect_timeout(&address, IO_TIMEOUT)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(Connection {
            address,
            reader: BufReader::with_capacity(64 << 10, stream),
            closed: false,
        })
    }

    /// `POST target` with `body` as `text/plain`.
    pub(crate) fn post(&mut self, target: &str, body: &[u8]) -> io::Result<Answer> {
        self.request("POST", target, body)
    }

    /// `GET target`; the answer's body is read and counted, not kept.
    pub(crate) fn get(&mut self, target: &str) -> io::Result<Answer> {
        self.request("GET", target, &[])
    }

    fn request(&mut self, method: &str, target: &str, body: &[u8]) -> io::Result<Answer> {
        if self.closed {
            *self = Connection::open(self.address)?;
        }
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n",
            self.address,
            body.len()
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        self.read_answer()
    }

    fn read_answer(&mut self) -> io::Result<Answer> {
        let status_line = self.read_line()?;
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| invalid(format!("not an HTTP status line: {status_line:?}")))?;
        let mut length: Option<usize> = None;
        let mut chunked = false;
        loop {
            let line = self.read_line()?;
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse().map_err(|_| invalid("bad Content-Length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                self.closed = value.eq_ignore_ascii_case("close");
            }
        }
        let keep = if (200..300).contains(&status) {
            0
        } else {
            ERROR_BODY_LIMIT
        };
        let mut kept = Vec::new();
        let body_bytes = if status == 204 || status == 304 || (100..200).contains(&status) {
            0
        } else if chunked {
            self.read_chunked(keep, &mut kept)?
        } else if let Some(length) = length {
            self.read_exactly(length, keep, &mut kept)?
        } else {
            // Neither length nor chunks: the body runs to the end of the connection.
            self.closed = true;
            self.read_exactly(usize::MAX, keep, &mut kept)?
        };
        Ok(Answer {
            status,
            body_bytes,
            error_text: String::from_utf8_lossy(&kept).into_owned(),
        })
    }

    /// Reads `Transfer-Encoding: chunked` framing; returns the payload's length.
    fn read_chunked(&mut self, keep: usize, kept: &mut Vec<u8>) -> io::Result<usize> {
        let mut total = 0;
        loop {
            let size_line = self.read_line()?;
            let size = size_line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| invalid(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailers, if any, end with an empty line.
                while !self.read_line()?.is_empty() {}
                return Ok(total);
            }
            total += self.read_exactly(size, keep, kept)?;
            if !self.read_line()?.is_empty() {
                return Err(invalid("a chunk did not end with CRLF"));
            }
        }
    }

    /// Reads `length` bytes (or up to the end of the stream for `usize::MAX`) straight from
    /// the buffer, keeping at most `keep` of them in `kept`.
    fn read_exactly(
        &mut self,
        length: usize,
        keep: usize,
        kept: &mut Vec<u8>,
    ) -> io::Result<usize> {
        let mut read = 0;
        while read < length {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                if length == usize::MAX {
                    break;
                }
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let take = available.len().min(length - read);
            let room = keep.saturating_sub(kept.len()).min(take);
            kept.extend_from_slice(&available[..room]);
            self.reader.consume(take);
            read += take;
        }
        Ok(read)
    }

    /// One header or framing line, without its CRLF.
    fn read_line(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        line.truncate(line.trim_end_matches(['\r', '\n']).len());
        Ok(line)
    }
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Percent-encodes a query parameter's value (everything but RFC 3986's unreserved bytes).
pub(crate) fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    /// Serves each canned answer in turn on one connection, after reading a request head.
    fn serve(answers: Vec<&'static [u8]>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            for answer in answers {
                let mut seen = Vec::new();
                let mut byte = [0u8; 1];
                while !seen.ends_with(b"\r\n\r\n") {
                    stream.read_exact(&mut byte).expect("request");
                    seen.push(byte[0]);
                }
                stream.write_all(answer).expect("answer");
            }
        });
        address
    }

    #[test]
    fn reads_empty_chunked_and_sized_answers_on_one_connection() {
        let address = serve(vec![
            b"HTTP/1.1 204 No Content\r\nX-Influxdb-Version: 1.6\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 14\r\n\r\n{\"error\":\"x\"}\n",
        ]);
        let mut connection = Connection::open(address).expect("connects");
        let empty = connection.get("/write").expect("204");
        assert_eq!((empty.status, empty.body_bytes), (204, 0));
        let chunked = connection.get("/query").expect("chunked");
        assert_eq!((chunked.status, chunked.body_bytes), (200, 9));
        assert!(chunked.error_text.is_empty(), "a 2xx body is not kept");
        let refused = connection.post("/write", b"cpu x=1").expect("400");
        assert_eq!((refused.status, refused.body_bytes), (400, 14));
        assert_eq!(refused.error_text, "{\"error\":\"x\"}\n");
    }

    #[test]
    fn encodes_a_query() {
        assert_eq!(
            encode_component("SELECT * FROM cpu"),
            "SELECT%20%2A%20FROM%20cpu"
        );
    }
}
