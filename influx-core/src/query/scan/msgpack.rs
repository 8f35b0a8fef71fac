//! The reader's MessagePack half: influxd answers a query in MessagePack when it is asked to
//! (`Accept: application/x-msgpack`), as influxdb-python asks. The answer is the JSON answer's
//! structure, with numbers in binary: floats need no parsing (and a whole float stays a float:
//! JSON writes `2.0` as `2`), integers are read from their bytes, strings come with their
//! length. Times without an epoch come as MessagePack's timestamp extension (type 5: seconds,
//! then nanoseconds, big-endian), which this reader gives as the RFC 3339 text influxd's JSON
//! gives.
//!
//! Containers carry their length instead of a closing bracket, so the reader keeps how many
//! items are left in each container it is in (at most [`MAX_DEPTH`] of them).

use std::borrow::Cow;

use chrono::DateTime;

use super::{MAX_DEPTH, Result, ScanError, Scanner};
use crate::query::value::Value;

/// The extension type influxd's times come as.
const TIME_EXTENSION: i8 = 5;

impl<'a> Scanner<'a> {
    /// A reader of a MessagePack document.
    pub(crate) fn msgpack(bytes: &'a [u8]) -> Self {
        Scanner {
            text: "",
            bytes,
            pos: 0,
            left: Some(Vec::with_capacity(8)),
        }
    }

    /// Whether this reads MessagePack.
    pub(crate) fn is_msgpack(&self) -> bool {
        self.left.is_some()
    }

    fn cut_short(&self) -> ScanError {
        self.error("the MessagePack answer ends inside a value")
    }

    #[inline(always)]
    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.pos).ok_or_else(|| self.cut_short())?;
        self.pos += 1;
        Ok(b)
    }

    /// The next `n` bytes.
    #[inline(always)]
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.cut_short())?;
        let taken = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(taken)
    }

    /// An unsigned big-endian integer of `N` bytes.
    #[inline(always)]
    fn be<const N: usize>(&mut self) -> Result<u64> {
        let bytes = self.take(N)?;
        Ok(bytes.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
    }

    /// Opens an array (`map` false) or a map, whose items (a map's keys and values in pairs)
    /// are then counted down by [`Scanner::pack_next`].
    pub(super) fn pack_begin(&mut self, map: bool) -> Result<()> {
        let at = self.pos;
        let b = self.byte()?;
        let len = match (b, map) {
            (0x90..=0x9f, false) | (0x80..=0x8f, true) => u64::from(b & 0x0f),
            (0xdc, false) | (0xde, true) => self.be::<2>()?,
            (0xdd, false) | (0xdf, true) => self.be::<4>()?,
            _ => {
                self.pos = at;
                return Err(self.error(if map {
                    "expected a map"
                } else {
                    "expected an array"
                }));
            }
        };
        let left = self.left.as_mut().expect("a MessagePack reader");
        if left.len() >= MAX_DEPTH {
            return Err(self.error("MessagePack nested too deeply"));
        }
        left.push(len);
        Ok(())
    }

    /// Whether the container the reader is in has another item (or, in a map, another pair);
    /// at its end, the reader leaves it.
    #[inline(always)]
    pub(super) fn pack_next(&mut self) -> Result<bool> {
        let left = self.left.as_mut().expect("a MessagePack reader");
        match left.last_mut() {
            Some(0) => {
                left.pop();
                Ok(false)
            }
            Some(n) => {
                *n -= 1;
                Ok(true)
            }
            None => Err(self.error("expected an array or a map")),
        }
    }

    /// The string here, if there is one (the reader does not move otherwise).
    #[inline(always)]
    pub(super) fn pack_str(&mut self) -> Result<Option<&'a str>> {
        let at = self.pos;
        let Some(&b) = self.bytes.get(at) else {
            return Err(self.cut_short());
        };
        self.pos += 1;
        let len = match b {
            0xa0..=0xbf => usize::from(b & 0x1f),
            0xd9 => self.be::<1>()? as usize,
            0xda => self.be::<2>()? as usize,
            0xdb => self.be::<4>()? as usize,
            _ => {
                self.pos = at;
                return Ok(None);
            }
        };
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map(Some).map_err(|_| ScanError {
            offset: at,
            message: "a string is not UTF-8".into(),
        })
    }

    /// A string (a key, a name, a tag's value).
    pub(super) fn pack_string(&mut self) -> Result<&'a str> {
        self.pack_str()?
            .ok_or_else(|| self.error("expected a string"))
    }

    /// True (and consumed) when the next value is nil.
    pub(super) fn pack_null(&mut self) -> bool {
        if self.bytes.get(self.pos) == Some(&0xc0) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// A cell: nil, a boolean, a number, a string, or a time.
    #[inline]
    pub(super) fn pack_cell(&mut self) -> Result<Value<'a>> {
        let at = self.pos;
        let b = self.byte()?;
        Ok(match b {
            0x00..=0x7f => Value::Integer(i64::from(b)),
            0xe0..=0xff => Value::Integer(i64::from(b as i8)),
            0xcb => Value::Float(f64::from_bits(self.be::<8>()?)),
            0xd3 => Value::Integer(self.be::<8>()? as i64),
            0xc0 => Value::Null,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xa0..=0xbf | 0xd9..=0xdb => {
                self.pos = at;
                Value::String(Cow::Borrowed(self.pack_string()?))
            }
            0xca => Value::Float(f64::from(f32::from_bits(self.be::<4>()? as u32))),
            0xcc => Value::Integer(self.be::<1>()? as i64),
            0xcd => Value::Integer(self.be::<2>()? as i64),
            0xce => Value::Integer(self.be::<4>()? as i64),
            0xcf => {
                let v = self.be::<8>()?;
                i64::try_from(v).map_or(Value::Unsigned(v), Value::Integer)
            }
            0xd0 => Value::Integer(i64::from(self.be::<1>()? as u8 as i8)),
            0xd1 => Value::Integer(i64::from(self.be::<2>()? as u16 as i16)),
            0xd2 => Value::Integer(i64::from(self.be::<4>()? as u32 as i32)),
            0xc7..=0xc9 | 0xd4..=0xd8 => {
                self.pos = at;
                let (kind, data) = self.extension()?;
                Value::String(Cow::Owned(time_text(kind, data).ok_or_else(|| {
                    ScanError {
                        offset: at,
                        message: format!(
                            "an extension value of type {kind} ({} bytes): only times (type 5, 12 \
                         bytes) are read",
                            data.len()
                        ),
                    }
                })?))
            }
            _ => {
                self.pos = at;
                return Err(self.error("expected a value"));
            }
        })
    }

    /// An extension value: its type and its data.
    fn extension(&mut self) -> Result<(i8, &'a [u8])> {
        let b = self.byte()?;
        let len = match b {
            0xd4 => 1,
            0xd5 => 2,
            0xd6 => 4,
            0xd7 => 8,
            0xd8 => 16,
            0xc7 => self.be::<1>()? as usize,
            0xc8 => self.be::<2>()? as usize,
            0xc9 => self.be::<4>()? as usize,
            _ => return Err(self.error("expected an extension value")),
        };
        let kind = self.byte()? as i8;
        Ok((kind, self.take(len)?))
    }

    /// Skips any value, nested or not (up to [`MAX_DEPTH`] levels).
    pub(super) fn pack_skip(&mut self, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(self.error("MessagePack nested too deeply"));
        }
        let at = self.pos;
        let b = self.byte()?;
        let (skip, items) = match b {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, 2 * u64::from(b & 0x0f)),
            0x90..=0x9f => (0, u64::from(b & 0x0f)),
            0xa0..=0xbf => (usize::from(b & 0x1f), 0),
            0xc4 | 0xd9 => (self.be::<1>()? as usize, 0),
            0xc5 | 0xda => (self.be::<2>()? as usize, 0),
            0xc6 | 0xdb => (self.be::<4>()? as usize, 0),
            0xc7..=0xc9 | 0xd4..=0xd8 => {
                self.pos = at;
                self.extension()?;
                (0, 0)
            }
            0xca => (4, 0),
            0xcb => (8, 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xce | 0xd2 => (4, 0),
            0xcf | 0xd3 => (8, 0),
            0xdc => (0, self.be::<2>()?),
            0xdd => (0, self.be::<4>()?),
            0xde => (0, 2 * self.be::<2>()?),
            0xdf => (0, 2 * self.be::<4>()?),
            _ => {
                self.pos = at;
                return Err(self.error("0xc1 is not MessagePack"));
            }
        };
        self.take(skip)?;
        // Every item takes a byte at least: a length past the end fails there.
        for _ in 0..items {
            self.pack_skip(depth + 1)?;
        }
        Ok(())
    }
}

/// The RFC 3339 text influxd's JSON gives a time (Go's `RFC3339Nano`, in UTC: no trailing
/// zeros in the fraction, none at all for a whole second), from MessagePack's timestamp
/// extension as influxd writes it: 8 bytes of seconds since the epoch, then 4 of nanoseconds.
fn time_text(kind: i8, data: &[u8]) -> Option<String> {
    if kind != TIME_EXTENSION || data.len() != 12 {
        return None;
    }
    let seconds = i64::from_be_bytes(data[..8].try_into().ok()?);
    let nanos = u32::from_be_bytes(data[8..].try_into().ok()?);
    let time = DateTime::from_timestamp(seconds, nanos).filter(|_| nanos < 1_000_000_000)?;
    let mut text = time.format("%Y-%m-%dT%H:%M:%S").to_string();
    if nanos > 0 {
        let fraction = format!(".{nanos:09}");
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    Some(text)
}

/// Where a MessagePack document ends in bytes that arrive a piece at a time: the items left
/// in each container open where the last call stopped, so that no byte is looked at twice.
#[derive(Debug, Default)]
pub(crate) struct DocumentEnd {
    /// How far the bytes have been read.
    pos: usize,
    left: Vec<u64>,
    /// Whether the document's first byte has been read.
    started: bool,
}

/// What [`DocumentEnd::find`] found.
pub(crate) enum Found {
    /// The document ends here.
    End(usize),
    /// More bytes must come.
    More,
}

impl DocumentEnd {
    /// Reads on in `bytes` (the same bytes as before, and more, from the document's start)
    /// up to the end of the document, if it has come. Nesting deeper than [`MAX_DEPTH`] is
    /// an error (the offset, and why).
    pub(crate) fn find(
        &mut self,
        bytes: &[u8],
    ) -> std::result::Result<Found, (usize, &'static str)> {
        loop {
            while let Some(0) = self.left.last() {
                self.left.pop();
            }
            if self.started && self.left.is_empty() {
                let end = self.pos;
                *self = DocumentEnd::default();
                return Ok(Found::End(end));
            }
            let Some((length, items)) = item_at(&bytes[self.pos..]) else {
                return Ok(Found::More);
            };
            let length = length.map_err(|why| (self.pos, why))?;
            if bytes.len() - self.pos < length {
                return Ok(Found::More);
            }
            self.pos += length;
            self.started = true;
            if let Some(n) = self.left.last_mut() {
                *n -= 1;
            }
            if items > 0 {
                if self.left.len() >= MAX_DEPTH {
                    return Err((self.pos, "MessagePack nested too deeply"));
                }
                self.left.push(items);
            }
        }
    }
}

/// The item at the start of `bytes`: its own length (header and data, not a container's
/// items) and how many items it holds; `None` when its header has not all come.
#[inline]
#[allow(clippy::type_complexity)]
fn item_at(bytes: &[u8]) -> Option<(std::result::Result<usize, &'static str>, u64)> {
    let b = *bytes.first()?;
    let be = |n: usize| -> Option<u64> {
        let field = bytes.get(1..1 + n)?;
        Some(field.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)))
    };
    Some(match b {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (Ok(1), 0),
        0xa0..=0xbf => (Ok(1 + usize::from(b & 0x1f)), 0),
        0xcb | 0xcf | 0xd3 => (Ok(9), 0),
        0x90..=0x9f => (Ok(1), u64::from(b & 0x0f)),
        0x80..=0x8f => (Ok(1), 2 * u64::from(b & 0x0f)),
        0xca | 0xce | 0xd2 => (Ok(5), 0),
        0xcc | 0xd0 => (Ok(2), 0),
        0xcd | 0xd1 => (Ok(3), 0),
        0xd4 => (Ok(3), 0),
        0xd5 => (Ok(4), 0),
        0xd6 => (Ok(6), 0),
        0xd7 => (Ok(10), 0),
        0xd8 => (Ok(18), 0),
        0xc4 | 0xd9 => (Ok(2 + be(1)? as usize), 0),
        0xc5 | 0xda => (Ok(3 + be(2)? as usize), 0),
        0xc6 | 0xdb => (Ok(5 + be(4)? as usize), 0),
        0xc7 => (Ok(3 + be(1)? as usize), 0),
        0xc8 => (Ok(4 + be(2)? as usize), 0),
        0xc9 => (Ok(6 + be(4)? as usize), 0),
        0xdc => (Ok(3), be(2)?),
        0xdd => (Ok(5), be(4)?),
        0xde => (Ok(3), 2 * be(2)?),
        0xdf => (Ok(5), 2 * be(4)?),
        0xc1 => (Err("0xc1 is not MessagePack"), 0),
    })
}

#[cfg(test)]
mod tests;
