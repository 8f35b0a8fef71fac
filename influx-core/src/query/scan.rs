//! A small pull reader for the JSON of `/query` answers, used by the typed decoder: it walks
//! the answer once, hands each cell over as a [`Value`] borrowing from the body, and skips
//! everything the decoder does not need without building anything.
//!
//! Numbers: integers by hand, floats with the standard library's correctly rounded parser.

use std::borrow::Cow;

use crate::query::value::Value;

/// Where the reader is in the body.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
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

impl<'a> Scanner<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
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
        self.peek().is_none()
    }

    /// Starts an object; then call [`Scanner::next_key`] until it returns `None`.
    pub(crate) fn begin_object(&mut self) -> Result<()> {
        self.expect(b'{')
    }

    /// The next key of the current object, or `None` at its end.
    pub(crate) fn next_key(&mut self, first: &mut bool) -> Result<Option<Cow<'a, str>>> {
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
        self.expect(b'[')
    }

    /// Whether the current array has another item (positioned at it).
    #[inline]
    pub(crate) fn next_item(&mut self, first: &mut bool) -> Result<bool> {
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
        if self.peek() == Some(b'n') && self.bytes[self.pos..].starts_with(b"null") {
            self.pos += 4;
            true
        } else {
            false
        }
    }

    /// A string value.
    pub(crate) fn string(&mut self) -> Result<Cow<'a, str>> {
        self.expect(b'"')?;
        let start = self.pos;
        let mut i = start;
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
    #[inline]
    pub(crate) fn cell(&mut self) -> Result<Value<'a>> {
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

    #[inline]
    fn number(&mut self) -> Result<Value<'a>> {
        let start = self.pos;
        let negative = self.bytes[start] == b'-';
        let mut i = start + usize::from(negative);
        let digits_start = i;
        let mut value: u64 = 0;
        let mut overflow = false;
        while let Some(&b) = self.bytes.get(i) {
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
