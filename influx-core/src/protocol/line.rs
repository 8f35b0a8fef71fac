//! [`LineBuf`], the buffer lines are written to, and the encoder's building blocks (the name
//! rules and value writers of `escape`, re-exported here for the code `#[derive(Series)]`
//! generates).

use crate::error::ParseError;
pub use crate::protocol::escape::{
    FIELD_KEY_SEPARATOR_BYTES, MAX_KEY_BYTES, NameKind, check_key_length, check_name, escaped_len,
    write_bool, write_checked_name, write_f32, write_f64, write_i64, write_name, write_str_value,
    write_timestamp_nanos, write_timestamp_raw, write_u64,
};
use crate::protocol::precision::Precision;

/// A line being written at the end of a buffer: unless [`Rollback::keep`] is called, dropping
/// it cuts the buffer back to where the line started, so a line left half-written by an error
/// or a panic in user code is never glued to the next one.
#[doc(hidden)]
pub struct Rollback<'a> {
    bytes: &'a mut Vec<u8>,
    start: usize,
    kept: bool,
}

impl<'a> Rollback<'a> {
    /// Starts a line at the end of `bytes`.
    #[inline]
    pub fn new(bytes: &'a mut Vec<u8>) -> Self {
        Rollback {
            start: bytes.len(),
            bytes,
            kept: false,
        }
    }

    /// The buffer to write the line into.
    #[inline]
    pub fn bytes(&mut self) -> &mut Vec<u8> {
        self.bytes
    }

    /// Keeps the line; returns the buffer's length.
    #[inline]
    pub fn keep(mut self) -> usize {
        self.kept = true;
        self.bytes.len()
    }
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if !self.kept {
            self.bytes.truncate(self.start);
        }
    }
}

/// A growable buffer of complete lines of line protocol, each ending in `\n`.
///
/// Reuse one across batches: [`LineBuf::clear`] keeps the allocation.
///
/// ```
/// use influx_series::{LineBuf, Point, Precision};
///
/// let mut buf = LineBuf::new();
/// let p = Point::builder("cpu").tag("host", "a").field("usage", 0.5).build().unwrap();
/// buf.push_point(&p, Precision::Nanoseconds);
/// buf.push_line("cpu,host=b usage=0.25").unwrap();
/// assert_eq!(buf.as_str(), "cpu,host=a usage=0.5\ncpu,host=b usage=0.25\n");
/// assert_eq!(buf.lines(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineBuf {
    bytes: Vec<u8>,
    lines: usize,
    /// Lines without a timestamp: a write of them is not resent once it may have arrived
    /// (the server would stamp the copy anew).
    untimestamped: usize,
}

impl LineBuf {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty buffer with room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> Self {
        LineBuf {
            bytes: Vec::with_capacity(bytes),
            lines: 0,
            untimestamped: 0,
        }
    }

    /// Appends one point as a line.
    pub fn push_point(&mut self, point: &crate::Point, precision: Precision) {
        point.write_line(&mut self.bytes, precision);
        self.bytes.push(b'\n');
        self.lines += 1;
        self.untimestamped += usize::from(point.timestamp_nanos().is_none());
    }

    /// Appends one point with `shared` tags merged in (the point's own tags win).
    pub fn push_point_with_tags(
        &mut self,
        point: &crate::Point,
        precision: Precision,
        shared: &crate::SharedTags,
    ) {
        point.write_line_with_tags(&mut self.bytes, precision, shared.as_slice(), None);
        self.bytes.push(b'\n');
        self.lines += 1;
        self.untimestamped += usize::from(point.timestamp_nanos().is_none());
    }

    /// Appends one line of raw line protocol after checking it with the parser; on error
    /// nothing is appended.
    pub fn push_line(&mut self, line: &str) -> Result<(), ParseError> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let point = crate::protocol::parse::parse_line(line, Precision::Nanoseconds)?;
        self.bytes.extend_from_slice(line.as_bytes());
        self.bytes.push(b'\n');
        self.lines += 1;
        self.untimestamped += usize::from(point.timestamp_nanos().is_none());
        Ok(())
    }

    /// Appends one line written by `write` (without its `\n`); if `write` fails, or panics,
    /// the buffer is left as it was. This is how generated code encodes straight into the
    /// buffer. The line is taken to end with its timestamp, as generated lines do: a write
    /// of it may be resent after a timeout (see [`crate::RetryPolicy`]).
    #[inline]
    pub fn push_with<E>(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut line = Rollback::new(&mut self.bytes);
        write(line.bytes())?;
        line.bytes().push(b'\n');
        line.keep();
        self.lines += 1;
        Ok(())
    }

    /// Appends lines written by `write`, each ending in `\n` and with its timestamp; `write`
    /// returns how many lines it wrote, and passes on whatever else it returns.
    #[cfg_attr(not(feature = "polars"), allow(dead_code))]
    pub(crate) fn extend_lines<R>(&mut self, write: impl FnOnce(&mut Vec<u8>) -> (usize, R)) -> R {
        let (lines, other) = write(&mut self.bytes);
        self.lines += lines;
        other
    }

    /// Appends every line of another buffer.
    pub fn append(&mut self, other: &LineBuf) {
        self.bytes.extend_from_slice(&other.bytes);
        self.lines += other.lines;
        self.untimestamped += other.untimestamped;
    }

    /// The number of lines.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// True when the buffer holds no line.
    pub fn is_empty(&self) -> bool {
        self.lines == 0
    }

    /// The size in bytes.
    pub fn len_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The lines as bytes, each ending in `\n`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The lines as text.
    pub fn as_str(&self) -> &str {
        // Only `&str` pieces and ASCII are ever written, and truncation happens only at
        // boundaries where a write started, so the bytes are always UTF-8.
        std::str::from_utf8(&self.bytes).unwrap_or_default()
    }

    /// Removes every line, keeping the allocation.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.lines = 0;
        self.untimestamped = 0;
    }

    /// Whether every line carries its timestamp.
    pub(crate) fn all_timestamped(&self) -> bool {
        self.untimestamped == 0
    }

    /// The bytes, giving up the buffer.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}
