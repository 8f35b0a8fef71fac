//! A small pull reader for `/query` answers, in JSON or in MessagePack (`msgpack`), used by
//! every decoder: it walks the answer once, hands each cell over as a [`Value`] borrowing from
//! the body, and skips everything the decoder does not need without building anything.
//!
//! JSON numbers: integers by hand, floats by Clinger's fast path or the standard library's
//! correctly rounded parser.

use std::borrow::Cow;

use crate::query::value::Value;

/// Where the reader is in the body.
pub(crate) struct Scanner<'a> {
    /// The JSON text (empty for MessagePack).
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// MessagePack: the items left in each container the reader is in, innermost last.
    /// `None` for JSON.
    left: Option<Vec<u64>>,
}

/// A reader error: what was expected, and where.
#[derive(Debug)]
pub(crate) struct ScanError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

type Result<T> = std::result::Result<T, ScanError>;

/// How deep skipped values may nest (serde_json's own limit).
const MAX_DEPTH: usize = 128;

pub(crate) mod msgpack;

impl<'a> Scanner<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            left: None,
        }
    }

    /// The byte offset the reader is at (for error messages).
    #[inline]
    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> ScanError {
        ScanError {
            offset: self.pos,
            message: message.into(),
        }
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn expect(&mut self, byte: u8) -> Result<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected `{}`", byte as char)))
        }
    }

    /// Moves the reader to `offset`, a position it has been at before (to read a part again).
    pub(crate) fn seek(&mut self, offset: usize) {
        self.pos = offset;
    }

    /// A non-negative integer that fits in `usize` (a statement id).
    pub(crate) fn index(&mut self) -> Result<usize> {
        let at = self.pos;
        match self.cell()? {
            Value::Integer(v) => usize::try_from(v).map_err(|_| ScanError {
                offset: at,
                message: format!("expected a statement id, found {v}"),
            }),
            _ => Err(ScanError {
                offset: at,
                message: "expected a statement id".into(),
            }),
        }
    }

    /// A boolean value.
    pub(crate) fn boolean(&mut self) -> Result<bool> {
        let at = self.pos;
        match self.cell()? {
            Value::Bool(v) => Ok(v),
            _ => Err(ScanError {
                offset: at,
                message: "expected a boolean".into(),
            }),
        }
    }

    /// At the end of the body (only whitespace left).
    pub(crate) fn at_end(&mut self) -> bool {
        if self.left.is_some() {
            return self.pos >= self.bytes.len();
        }
        self.peek().is_none()
    }

    /// Starts an object; then call [`Scanner::next_key`] until it returns `None`.
    pub(crate) fn begin_object(&mut self) -> Result<()> {
        if self.left.is_some() {
            return self.pack_begin(true);
        }
        self.expect(b'{')
    }

    /// The next key of the current object, or `None` at its end.
    pub(crate) fn next_key(&mut self, first: &mut bool) -> Result<Option<Cow<'a, str>>> {
        if self.left.is_some() {
            return Ok(if self.pack_next()? {
                Some(Cow::Borrowed(self.pack_string()?))
            } else {
                None
            });
        }
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                return Ok(None);
            }
            Some(b',') if !*first => self.pos += 1,
            _ if *first => {}
            _ => return Err(self.error("expected `,` or `}`")),
        }
        *first = false;
        let key = self.string()?;
        self.expect(b':')?;
        Ok(Some(key))
    }

    /// Starts an array; then call [`Scanner::next_item`] until it returns false.
    pub(crate) fn begin_array(&mut self) -> Result<()> {
        if self.left.is_some() {
            return self.pack_begin(false);
        }
        self.expect(b'[')
    }

    /// Whether the current array has another item (positioned at it).
    #[inline(always)]
    pub(crate) fn next_item(&mut self, first: &mut bool) -> Result<bool> {
        if self.left.is_some() {
            return self.pack_next();
        }
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b',') if !*first => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) if *first => {
                *first = false;
                Ok(true)
            }
            _ => Err(self.error("expected `,` or `]`")),
        }
    }

    /// True (and consumed) when the next value is `null`.
    pub(crate) fn null(&mut self) -> bool {
        if self.left.is_some() {
            return self.pack_null();
        }
        if self.peek() == Some(b'n') && self.bytes[self.pos..].starts_with(b"null") {
            self.pos += 4;
            true
        } else {
            false
        }
    }

    /// A string value.
    #[inline]
    pub(crate) fn string(&mut self) -> Result<Cow<'a, str>> {
        if self.left.is_some() {
            return self.pack_string().map(Cow::Borrowed);
        }
        self.expect(b'"')?;
        let start = self.pos;
        let mut i = start;
        // Eight bytes at a time up to the word that holds a quote or a backslash.
        while let Some(chunk) = self.bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([b'"'; 8]));
            if has_byte(word, b'"') || has_byte(word, b'\\') {
                break;
            }
            i += 8;
        }
        while let Some(&b) = self.bytes.get(i) {
            match b {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(Cow::Borrowed(&self.text[start..i]));
                }
                b'\\' => return self.escaped_string(start, i).map(Cow::Owned),
                _ => i += 1,
            }
        }
        Err(self.error("unterminated string"))
    }

    fn escaped_string(&mut self, start: usize, first_escape: usize) -> Result<String> {
        let mut out = String::from(&self.text[start..first_escape]);
        self.pos = first_escape;
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(self.error("unterminated string"));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let esc = *self
                        .bytes
                        .get(self.pos + 1)
                        .ok_or_else(|| self.error("unterminated escape"))?;
                    self.pos += 2;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let c = self.unicode_escape()?;
                            out.push(c);
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                _ => {
                    // Copy the run up to the next quote or backslash in one go.
                    let run_start = self.pos;
                    while let Some(&c) = self.bytes.get(self.pos) {
                        if c == b'"' || c == b'\\' {
                            break;
                        }
                        self.pos += 1;
                    }
                    out.push_str(&self.text[run_start..self.pos]);
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("short \\u escape"))?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.error("bad \\u escape"));
        }
        let v = u32::from_str_radix(digits, 16).map_err(|_| self.error("bad \\u escape"))?;
        self.pos += 4;
        Ok(v)
    }

    fn unicode_escape(&mut self) -> Result<char> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if !self.bytes[self.pos..].starts_with(b"\\u") {
                return Err(self.error("lone surrogate"));
            }
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("bad surrogate pair"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error("bad \\u escape"))
    }

    /// A scalar cell (`null`, a boolean, a number or a string).
    #[inline(always)]
    pub(crate) fn cell(&mut self) -> Result<Value<'a>> {
        if self.left.is_some() {
            return self.pack_cell();
        }
        match self.peek() {
            Some(b'"') => self.string().map(Value::String),
            Some(b'n') if self.null() => Ok(Value::Null),
            Some(b't') if self.bytes[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                Ok(Value::Bool(true))
            }
            Some(b'f') if self.bytes[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                Ok(Value::Bool(false))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error("expected a value")),
        }
    }

    #[inline(always)]
    fn number(&mut self) -> Result<Value<'a>> {
        let start = self.pos;
        let negative = self.bytes[start] == b'-';
        let digits_start = start + usize::from(negative);
        let (value, mut i, overflow) = digits(self.bytes, digits_start);
        if i == digits_start {
            return Err(self.error("expected digits"));
        }
        let is_float = matches!(self.bytes.get(i), Some(b'.' | b'e' | b'E'));
        if !is_float && !overflow {
            self.pos = i;
            return Ok(if negative && value == 0 {
                // `-0` is how the server writes a float negative zero.
                Value::Float(-0.0)
            } else if negative {
                match 0i64.checked_sub_unsigned(value) {
                    Some(v) => Value::Integer(v),
                    None => Value::Float(-(value as f64)),
                }
            } else {
                i64::try_from(value).map_or(Value::Unsigned(value), Value::Integer)
            });
        }
        if !overflow {
            if let Some((v, end)) = short_float(self.bytes, i, value) {
                self.pos = end;
                return Ok(Value::Float(if negative { -v } else { v }));
            }
        }
        while let Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') = self.bytes.get(i) {
            i += 1;
        }
        self.pos = i;
        self.text[start..i]
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| ScanError {
                offset: start,
                message: "bad number".into(),
            })
    }

    /// Skips any value, nested or not (up to [`MAX_DEPTH`] levels: deeper input is refused
    /// rather than allowed to exhaust the stack).
    pub(crate) fn skip(&mut self) -> Result<()> {
        if self.left.is_some() {
            return self.pack_skip(0);
        }
        self.skip_nested(0)
    }

    fn skip_nested(&mut self, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(self.error("JSON nested too deeply"));
        }
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                let mut first = true;
                while self.next_key(&mut first)?.is_some() {
                    self.skip_nested(depth + 1)?;
                }
                Ok(())
            }
            Some(b'[') => {
                self.pos += 1;
                let mut first = true;
                while self.next_item(&mut first)? {
                    self.skip_nested(depth + 1)?;
                }
                Ok(())
            }
            _ => self.cell().map(drop),
        }
    }
}

/// The decimal digits at `bytes[start..]`: their value, where they end, and whether the value
/// overflowed `u64` (then the value is not meaningful). Eight digits at a time where it can:
/// an epoch timestamp in nanoseconds has 19.
#[inline]
fn digits(bytes: &[u8], start: usize) -> (u64, usize, bool) {
    let mut value: u64 = 0;
    let mut i = start;
    // Sixteen digits never overflow, nor do three more one at a time (10^19 < 2^64).
    while i - start < 16 {
        let Some(chunk) = bytes.get(i..i + 8) else {
            break;
        };
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        if !eight_digits(word) {
            break;
        }
        value = value * 100_000_000 + eight_digits_value(word);
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        if i - start >= 19 {
            return checked_digits(bytes, start);
        }
        value = value * 10 + u64::from(b - b'0');
        i += 1;
    }
    (value, i, false)
}

/// [`digits`] one at a time, noticing overflow (a number of 20 digits or more).
#[cold]
fn checked_digits(bytes: &[u8], start: usize) -> (u64, usize, bool) {
    let mut value: u64 = 0;
    let mut overflow = false;
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    (value, i, overflow)
}

/// Whether one of the eight bytes of `word` is `byte`.
#[inline]
fn has_byte(word: u64, byte: u8) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & (ONES << 7) != 0
}

/// Whether the eight bytes of `word` (little-endian) are all ASCII digits.
#[inline]
fn eight_digits(word: u64) -> bool {
    let above = word.wrapping_add(0x4646_4646_4646_4646);
    let below = word.wrapping_sub(0x3030_3030_3030_3030);
    (above | below) & 0x8080_8080_8080_8080 == 0
}

/// The value of eight ASCII digits read as a little-endian word (the first digit lowest).
#[inline]
fn eight_digits_value(word: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let mut v = word - 0x3030_3030_3030_3030;
    v = v * 10 + (v >> 8);
    let v1 = (v & MASK).wrapping_mul(MUL1);
    let v2 = ((v >> 16) & MASK).wrapping_mul(MUL2);
    u64::from((v1.wrapping_add(v2) >> 32) as u32)
}

/// Powers of ten that an `f64` holds exactly.
const EXACT_POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A float whose digits make an integer of at most 2^53 and whose power of ten is at most 22
/// either way (`0.125`, `37.5`, `2e-3`), read without the general parser: both are exact as
/// `f64`, so one multiplication or division rounds correctly (Clinger's fast path). `i` is
/// where the integer part, of value `whole`, ended; `None` for any other number (the general
/// parser reads it), or for text that is not a number.
#[inline]
fn short_float(bytes: &[u8], mut i: usize, whole: u64) -> Option<(f64, usize)> {
    const EXACT: u64 = 1 << 53;
    let mut mantissa = whole;
    let mut exponent: i32 = 0;
    if bytes.get(i) == Some(&b'.') {
        let (fraction, end, overflow) = digits(bytes, i + 1);
        let places = end - (i + 1);
        if overflow || places == 0 || places > 19 {
            return None;
        }
        mantissa = mantissa
            .checked_mul(10u64.pow(places as u32))?
            .checked_add(fraction)?;
        exponent = -(places as i32);
        i = end;
    }
    if let Some(b'e' | b'E') = bytes.get(i) {
        i += 1;
        let negative = match bytes.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let exponent_start = i;
        let mut e: i32 = 0;
        while let Some(&b) = bytes.get(i) {
            if !b.is_ascii_digit() {
                break;
            }
            e = e.checked_mul(10)?.checked_add(i32::from(b - b'0'))?;
            i += 1;
        }
        if i == exponent_start {
            return None;
        }
        exponent = exponent.checked_add(if negative { -e } else { e })?;
    }
    if mantissa > EXACT {
        return None;
    }
    let power = *EXACT_POWERS.get(exponent.unsigned_abs() as usize)?;
    let m = mantissa as f64;
    Some((if exponent < 0 { m / power } else { m * power }, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(text: &str) -> Vec<Value<'_>> {
        let mut s = Scanner::new(text);
        s.begin_array().unwrap();
        let mut first = true;
        let mut out = Vec::new();
        while s.next_item(&mut first).unwrap() {
            out.push(s.cell().unwrap());
        }
        assert!(s.at_end());
        out
    }

    /// Numbers at the edges of the fast paths (eight digits at a time, 19 digits without
    /// overflow, short decimals by one exact division) read as the general parser reads them,
    /// and text that is not a number is refused, not misread.
    #[test]
    fn numbers_at_the_edges_of_the_fast_paths() {
        let floats = [
            "0.1",
            "9007199254740992.5",
            "9007199254740993",
            "0.9007199254740993",
            "1.00000000000000000000000001",
            "12345678.87654321",
            "1e22",
            "1e23",
            "1e-22",
            "1e-23",
            "123456789012345678e-5",
            "-0.0",
            "1e400",
            "1e-400",
            "4.9e-324",
            "18446744073709551615.5",
        ];
        for text in floats {
            let expected: f64 = text.parse().unwrap();
            match cells(&format!("[{text}]"))[..] {
                [Value::Float(v)] => assert_eq!(v.to_bits(), expected.to_bits(), "{text}"),
                [Value::Integer(v)] => assert_eq!(v as f64, expected, "{text}"),
                [Value::Unsigned(v)] => assert_eq!(v as f64, expected, "{text}"),
                ref other => panic!("{text}: {other:?}"),
            }
        }
        for (text, expected) in [
            ("12345678", Value::Integer(12_345_678)),
            ("1234567812345678", Value::Integer(1_234_567_812_345_678)),
            (
                "9999999999999999999",
                Value::Unsigned(9_999_999_999_999_999_999),
            ),
            ("18446744073709551615", Value::Unsigned(u64::MAX)),
            (
                "18446744073709551616",
                Value::Float(18_446_744_073_709_551_616.0),
            ),
            (
                "-9223372036854775809",
                Value::Float(-9_223_372_036_854_775_809.0),
            ),
            ("00000000000000000001", Value::Integer(1)),
        ] {
            assert_eq!(cells(&format!("[{text}]")), [expected], "{text}");
        }
        // `1.` is not JSON, and influxd never writes it; the standard parser reads it as 1.0,
        // and so does this reader, as it did before its fast paths.
        assert_eq!(cells("[1.]"), [Value::Float(1.0)]);
        for bad in ["[-]", "[1e]", "[1e+]", "[.5]", "[1.2.3]", "[--1]"] {
            let mut s = Scanner::new(bad);
            s.begin_array().unwrap();
            let mut first = true;
            let read = s.next_item(&mut first).and_then(|_| s.cell());
            assert!(
                read.is_err() || s.next_item(&mut first).is_err(),
                "{bad} was read as {read:?}"
            );
        }
    }

    #[test]
    fn scalars() {
        assert_eq!(
            cells(
                r#"[null, true,false, 0, -12, 9223372036854775807, 9223372036854775808, -9223372036854775808, 1.5, 1e+21, -2E-3, "a\"b\\c\u00e9\ud83d\ude00", "plain"]"#
            ),
            vec![
                Value::Null,
                Value::Bool(true),
                Value::Bool(false),
                Value::Integer(0),
                Value::Integer(-12),
                Value::Integer(i64::MAX),
                Value::Unsigned(9_223_372_036_854_775_808),
                Value::Integer(i64::MIN),
                Value::Float(1.5),
                Value::Float(1e21),
                Value::Float(-0.002),
                Value::String(Cow::Owned("a\"b\\cé😀".into())),
                Value::String(Cow::Borrowed("plain")),
            ]
        );
    }

    #[test]
    fn skips_nested_values_and_reports_offsets() {
        let mut s = Scanner::new(r#"{"a": [1, {"b": [true, null]}], "c": "d"}"#);
        s.begin_object().unwrap();
        let mut first = true;
        assert_eq!(s.next_key(&mut first).unwrap().as_deref(), Some("a"));
        s.skip().unwrap();
        assert_eq!(s.next_key(&mut first).unwrap().as_deref(), Some("c"));
        assert_eq!(s.cell().unwrap(), Value::String(Cow::Borrowed("d")));
        assert_eq!(s.next_key(&mut first).unwrap(), None);
        let mut bad = Scanner::new("[1, ]");
        bad.begin_array().unwrap();
        let mut first = true;
        assert!(bad.next_item(&mut first).unwrap());
        bad.cell().unwrap();
        assert!(bad.next_item(&mut first).unwrap());
        assert_eq!(bad.cell().unwrap_err().offset, 4);
        let deep = "[".repeat(100_000);
        assert!(Scanner::new(&deep).skip().is_err());
        assert!(Scanner::new(r#""\u+041""#).string().is_err());
        assert_eq!(Scanner::new("-0").cell().unwrap(), Value::Float(-0.0));
    }
}
