//! A connection's bytes: read from its socket into a buffer, every wait bounded by a deadline.

use std::io::{self, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How much of a body is read at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Where a connection's bytes come from: its socket, waited on until a deadline (or, for
/// counting the instructions of the parsing, bytes in memory).
pub(super) trait Source {
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
pub(super) struct Connection<S = TcpStream> {
    pub(super) stream: S,
    /// Bytes read from the stream, up to `end`; the rest is room for the next read, zeroed
    /// once when the buffer grew, not for every read.
    buffer: Vec<u8>,
    /// The unread part of `buffer` starts here...
    pub(super) start: usize,
    /// ...and ends here.
    end: usize,
}

impl<S> Connection<S> {
    pub(super) fn new(stream: S) -> Connection<S> {
        Connection {
            stream,
            buffer: Vec::new(),
            start: 0,
            end: 0,
        }
    }
}

impl Connection {
    /// Whether the server has neither closed the connection nor sent anything unasked (which
    /// would be out of step with the next answer).
    pub(super) fn is_open(&self) -> bool {
        if self.start < self.end || self.stream.set_nonblocking(true).is_err() {
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
    pub(super) fn fill(&mut self, deadline: Option<Instant>) -> io::Result<usize> {
        // What was read already goes: the buffer holds at most what is unread plus a read.
        self.buffer.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.buffer.len() < self.end + READ_CHUNK {
            self.buffer.resize(self.end + READ_CHUNK, 0);
        }
        let read = self
            .stream
            .read_by(&mut self.buffer[self.end..], deadline)?;
        self.end += read;
        Ok(read)
    }

    pub(super) fn unread(&self) -> &[u8] {
        &self.buffer[self.start..self.end]
    }
}

/// Sets the socket's timeout to what is left until `deadline` (no timeout without one).
pub(super) fn set_timeout(
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
