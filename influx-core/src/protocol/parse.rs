//! The line-protocol parser: the encoder's inverse, with the same rules.
//!
//! It accepts exactly what the encoder can produce (plus tags in any order and the boolean
//! spellings the server knows), so a raw line it accepts is stored by the server as it reads.
//! Raw writes are checked with it before they are sent, because a malformed line can crash a
//! 1.x server.

use std::borrow::Cow;

use crate::error::{EncodeError, EncodeErrorKind, ParseError, ParseErrorKind, Part};
use crate::protocol::escape::{
    FIELD_KEY_SEPARATOR_BYTES, MAX_KEY_BYTES, NameKind, check_key_length, check_name_escaped,
};
use crate::protocol::point::{Field, Point};
use crate::protocol::precision::Precision;

/// Parses one line (no trailing newline) with timestamps in `precision`.
///
/// ```
/// use influx_series::{parse_line, Field, Precision};
///
/// let p = parse_line(r#"m\ e,t=v\,1 s="a \"q\"",n=-3i 1700000000"#, Precision::Seconds)?;
/// assert_eq!(p.measurement(), "m e");
/// assert_eq!(p.tag("t"), Some("v,1"));
/// assert_eq!(p.field("s"), Some(&Field::String("a \"q\"".into())));
/// assert_eq!(p.timestamp_nanos(), Some(1_700_000_000_000_000_000));
/// # Ok::<(), influx_series::ParseError>(())
/// ```
pub fn parse_line(line: &str, precision: Precision) -> Result<Point, ParseError> {
    let mut cursor = Cursor::new(line);
    cursor.skip_indentation();
    let point = cursor.point(precision)?;
    if cursor.pos < cursor.bytes.len() {
        return Err(cursor.error(ParseErrorKind::Expected("end of line")));
    }
    Ok(point)
}

/// Parses every line of `text`; blank and whitespace-only lines and `#` comment lines are
/// skipped. As influxd does, spaces, tabs and NUL bytes before a line are skipped, spaces
/// after it are allowed, and the timestamp may follow the fields after several blanks.
///
/// ```
/// use influx_series::{parse_lines, Precision};
///
/// let points = parse_lines("# cpu\ncpu,host=a usage=0.5\n\ncpu,host=b usage=1\n", Precision::Nanoseconds)?;
/// assert_eq!(points.len(), 2);
/// # Ok::<(), influx_series::ParseError>(())
/// ```
pub fn parse_lines(text: &str, precision: Precision) -> Result<Vec<Point>, ParseError> {
    Lines::new(text, precision).collect()
}

/// Checks every line of `text`, timestamps read in `precision`, and returns how many points
/// it holds: the check raw writes get before they are sent.
///
/// It accepts every line influxd stores exactly, as [`parse_lines`] does, and in addition
/// timestamps down to [`crate::MIN_NANOS`] in `precision` (a [`Point`] refuses the hour after
/// it, where flooring to a coarser precision would leave the server's range; raw text is sent
/// in its own precision, so that cannot happen).
///
/// ```
/// use influx_series::{check_lines, Precision};
/// let exported = "# DML\n# CONTEXT-DATABASE: db\n\n  cpu v=1 1  \n\t\ncpu v=2 -9223372036854775806\n";
/// assert_eq!(check_lines(exported, Precision::Nanoseconds)?, 2);
/// # Ok::<(), influx_series::ParseError>(())
/// ```
pub fn check_lines(text: &str, precision: Precision) -> Result<usize, ParseError> {
    let mut count = 0;
    let mut lines = Lines::new(text, precision);
    lines.cursor.raw = true;
    for point in lines {
        point?;
        count += 1;
    }
    Ok(count)
}

/// Checks `text` as [`check_lines`] does and returns the end offset of each line that holds a
/// point (blank and comment lines are left with the line before them), so that the text can
/// be cut into requests between lines.
pub(crate) fn line_ends(text: &str, precision: Precision) -> Result<LineEnds, ParseError> {
    let mut ends = Vec::new();
    let mut all_timestamped = true;
    let mut lines = Lines::new(text, precision);
    lines.cursor.raw = true;
    while let Some(point) = lines.next() {
        all_timestamped &= point?.timestamp_nanos().is_some();
        ends.push(lines.cursor.pos);
    }
    // Whatever follows the last point (blank lines, comments) goes with it.
    if let Some(last) = ends.last_mut() {
        *last = text.len();
    }
    Ok(LineEnds {
        ends,
        all_timestamped,
    })
}

/// Where each line of a text ends, and whether every line carries its timestamp.
pub(crate) struct LineEnds {
    pub(crate) ends: Vec<usize>,
    pub(crate) all_timestamped: bool,
}

/// An iterator over the points of a text of line protocol.
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    cursor: Cursor<'a>,
    precision: Precision,
    failed: bool,
}

impl<'a> Lines<'a> {
    /// Iterates over the points of `text`, timestamps read in `precision`.
    pub fn new(text: &'a str, precision: Precision) -> Self {
        Lines {
            cursor: Cursor::new(text),
            precision,
            failed: false,
        }
    }
}

impl Iterator for Lines<'_> {
    type Item = Result<Point, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let c = &mut self.cursor;
        loop {
            c.skip_indentation();
            match c.peek() {
                None => return None,
                Some(b'\n') => {
                    c.newline();
                }
                Some(b'#') => {
                    while let Some(b) = c.peek() {
                        if b == b'\n' {
                            break;
                        }
                        c.pos += 1;
                    }
                }
                Some(_) => break,
            }
        }
        let result = c.point(self.precision).and_then(|p| match c.peek() {
            None => Ok(p),
            Some(b'\n') => {
                c.newline();
                Ok(p)
            }
            Some(_) => Err(c.error(ParseErrorKind::Expected("end of line"))),
        });
        self.failed = result.is_err();
        Some(result)
    }
}

#[derive(Debug, Clone)]
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    /// Checking raw text rather than making points: timestamps may reach the server's limit.
    raw: bool,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            raw: false,
        }
    }

    /// Skips what influxd skips before a line: spaces, tabs and NUL bytes.
    fn skip_indentation(&mut self) {
        while let Some(b' ' | b'\t' | 0) = self.peek() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn newline(&mut self) {
        self.pos += 1;
        self.line += 1;
    }

    fn error(&self, kind: ParseErrorKind) -> ParseError {
        ParseError::new(self.line, self.pos, kind)
    }

    fn error_at(&self, offset: usize, kind: ParseErrorKind) -> ParseError {
        ParseError::new(self.line, offset, kind)
    }

    fn invalid(&self, offset: usize, kind: EncodeErrorKind, part: Part) -> ParseError {
        self.error_at(
            offset,
            ParseErrorKind::Invalid(EncodeError::new(kind, part)),
        )
    }

    /// Reads a name up to (not including) an unescaped byte in `stop`, undoing the escapes of
    /// `kind`. A backslash before anything else is a literal backslash.
    fn name(&mut self, kind: NameKind, stop: &[u8]) -> String {
        let escaped = kind.escaped_bytes();
        let mut out = Vec::new();
        let mut start = self.pos;
        while let Some(b) = self.peek() {
            if b == b'\\' {
                if let Some(next) = self.bytes.get(self.pos + 1) {
                    if escaped.contains(next) {
                        out.extend_from_slice(&self.bytes[start..self.pos]);
                        self.pos += 1;
                        start = self.pos;
                        self.pos += 1;
                        continue;
                    }
                }
            } else if stop.contains(&b) || b == b'\n' {
                break;
            }
            self.pos += 1;
        }
        out.extend_from_slice(&self.bytes[start..self.pos]);
        // The input is UTF-8 and we only cut at ASCII bytes, so this never loses anything.
        String::from_utf8_lossy(&out).into_owned()
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), ParseError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(ParseErrorKind::Expected(what)))
        }
    }

    fn point(&mut self, precision: Precision) -> Result<Point, ParseError> {
        let start = self.pos;
        let measurement = self.name(NameKind::Measurement, b", ");
        // Whether a name holds a byte to escape: the point's encoder copies them otherwise.
        let mut escaped = check_name_escaped(NameKind::Measurement, &measurement)
            .map_err(|k| self.invalid(start, k, Part::Measurement))?;

        let mut tags: Vec<(Cow<'static, str>, String)> = Vec::new();
        while self.peek() == Some(b',') {
            self.pos += 1;
            let key_at = self.pos;
            let key = self.name(NameKind::TagKey, b",= ");
            escaped |= check_name_escaped(NameKind::TagKey, &key)
                .map_err(|k| self.invalid(key_at, k, Part::TagKey(key.clone())))?;
            self.expect(b'=', "`=` after tag key")?;
            let value_at = self.pos;
            let value = self.name(NameKind::TagValue, b",= ");
            escaped |= check_name_escaped(NameKind::TagValue, &value)
                .map_err(|k| self.invalid(value_at, k, Part::TagValue(key.clone())))?;
            if self.peek() == Some(b'=') {
                return Err(self.error(ParseErrorKind::Expected("`,` or space after tag value")));
            }
            match tags.binary_search_by(|(k, _)| k.as_ref().cmp(&key)) {
                Ok(_) => return Err(self.error_at(key_at, ParseErrorKind::DuplicateTag(key))),
                Err(i) => tags.insert(i, (key.into(), value)),
            }
        }
        let series_key = self.pos - start;
        self.expect(b' ', "a space before the fields")?;

        let mut fields: Vec<(Cow<'static, str>, Field)> = Vec::new();
        // The longest field key as sent (escapes included), and where it starts.
        let mut longest_key = (0, start);
        loop {
            let key_at = self.pos;
            let key = self.name(NameKind::FieldKey, b",= \"");
            escaped |= check_name_escaped(NameKind::FieldKey, &key)
                .map_err(|k| self.invalid(key_at, k, Part::FieldKey(key.clone())))?;
            if self.pos - key_at > longest_key.0 {
                longest_key = (self.pos - key_at, key_at);
            }
            self.expect(b'=', "`=` after field key")?;
            let value = self.field_value(&key)?;
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(self.error_at(key_at, ParseErrorKind::DuplicateField(key)));
            }
            fields.push((key.into(), value));
            if self.peek() == Some(b',') {
                self.pos += 1;
            } else {
                break;
            }
        }

        if let Some((k, _)) = fields.iter().find(|(k, _)| {
            tags.binary_search_by(|(t, _)| t.as_ref().cmp(k.as_ref()))
                .is_ok()
        }) {
            return Err(self.invalid(
                start,
                EncodeErrorKind::KeyConflict,
                Part::FieldKey(k.to_string()),
            ));
        }

        let (key_len, key_at) = longest_key;
        if series_key + FIELD_KEY_SEPARATOR_BYTES + key_len > MAX_KEY_BYTES {
            // Read the offending key's text again, for the error only.
            let mut again = self.clone();
            again.pos = key_at;
            let name = again.name(NameKind::FieldKey, b",= \"");
            if let Err(e) = check_key_length(series_key, key_len, &name) {
                return Err(self.error_at(start, ParseErrorKind::Invalid(e)));
            }
        }

        let mut timestamp = None;
        if self.peek() == Some(b' ') {
            // influxd takes blanks after the first space, and trailing spaces.
            self.pos += 1;
            while let Some(b' ' | b'\t') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), None | Some(b'\n')) {
                let at = self.pos;
                let token = self.token();
                let value = parse_integer(token)
                    .ok_or_else(|| self.error_at(at, ParseErrorKind::InvalidTimestamp))?;
                let nanos = if self.raw {
                    precision.to_nanos(value)
                } else {
                    precision.to_encodable_nanos(value)
                };
                let nanos = nanos.ok_or_else(|| {
                    self.invalid(at, EncodeErrorKind::TimestampOutOfRange, Part::Timestamp)
                })?;
                timestamp = Some(nanos);
                while self.peek() == Some(b' ') {
                    self.pos += 1;
                }
            }
        }
        Ok(Point::from_parts(
            measurement.into(),
            tags,
            fields,
            timestamp,
            !escaped,
        ))
    }

    /// The bytes up to the next space, comma or newline.
    fn token(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if matches!(b, b' ' | b',' | b'\n') {
                break;
            }
            self.pos += 1;
        }
        &self.bytes[start..self.pos]
    }

    fn field_value(&mut self, key: &str) -> Result<Field, ParseError> {
        let at = self.pos;
        if self.peek() == Some(b'"') {
            self.pos += 1;
            let mut out = Vec::new();
            let mut start = self.pos;
            loop {
                match self.peek() {
                    None => return Err(self.error_at(at, ParseErrorKind::UnterminatedString)),
                    Some(b'"') => break,
                    Some(b'\\') if matches!(self.bytes.get(self.pos + 1), Some(b'"' | b'\\')) => {
                        out.extend_from_slice(&self.bytes[start..self.pos]);
                        self.pos += 1;
                        start = self.pos;
                        self.pos += 1;
                    }
                    Some(b'\n') => {
                        self.pos += 1;
                        self.line += 1;
                    }
                    Some(_) => self.pos += 1,
                }
            }
            out.extend_from_slice(&self.bytes[start..self.pos]);
            self.pos += 1;
            return Ok(Field::String(String::from_utf8_lossy(&out).into_owned()));
        }
        let token = self.token();
        let bad = || self.error_at(at, ParseErrorKind::InvalidFieldValue);
        match token {
            b"t" | b"T" | b"true" | b"True" | b"TRUE" => return Ok(Field::Boolean(true)),
            b"f" | b"F" | b"false" | b"False" | b"FALSE" => {
                return Ok(Field::Boolean(false));
            }
            _ => {}
        }
        if let Some(digits) = token.strip_suffix(b"i") {
            return parse_integer(digits).map(Field::Integer).ok_or_else(bad);
        }
        if !is_float_syntax(token) {
            return Err(bad());
        }
        let value: f64 = std::str::from_utf8(token)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if !value.is_finite() {
            return Err(self.invalid(
                at,
                EncodeErrorKind::NonFiniteFloat,
                Part::FieldValue(key.to_owned()),
            ));
        }
        Ok(Field::Float(value))
    }
}

/// `-?[0-9]+` as an `i64`.
fn parse_integer(token: &[u8]) -> Option<i64> {
    let digits = token.strip_prefix(b"-").unwrap_or(token);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(token).ok()?.parse().ok()
}

/// `-?(digits[.digits*]|.digits)([eE][+-]?digits)?`
fn is_float_syntax(token: &[u8]) -> bool {
    let mut rest = token.strip_prefix(b"-").unwrap_or(token);
    let int_len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    rest = &rest[int_len..];
    let mut frac_len = 0;
    if let Some(after) = rest.strip_prefix(b".") {
        frac_len = after.iter().take_while(|b| b.is_ascii_digit()).count();
        rest = &after[frac_len..];
    }
    if int_len == 0 && frac_len == 0 {
        return false;
    }
    if let Some(after) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let after = after
            .strip_prefix(b"-")
            .or_else(|| after.strip_prefix(b"+"))
            .unwrap_or(after);
        return !after.is_empty() && after.iter().all(u8::is_ascii_digit);
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> ParseErrorKind {
        parse_line(text, Precision::Nanoseconds)
            .unwrap_err()
            .kind()
            .clone()
    }

    #[test]
    fn rejects_the_line_that_crashed_a_server() {
        // A bare quote in a field key with a backslash before `=` (DESIGN section 2).
        assert!(parse_line("m a\\=\"b=1i", Precision::Nanoseconds).is_err());
        assert!(parse_line("m a\"b=1i", Precision::Nanoseconds).is_err());
    }

    #[test]
    fn syntax_errors_carry_offsets() {
        let err = parse_line("cpu,host=a", Precision::Nanoseconds).unwrap_err();
        assert_eq!(err.offset(), 10);
        assert_eq!(kind("cpu v=1u"), ParseErrorKind::InvalidFieldValue);
        assert_eq!(kind("cpu v=\"abc"), ParseErrorKind::UnterminatedString);
        assert_eq!(kind("cpu v=1 12x"), ParseErrorKind::InvalidTimestamp);
        assert_eq!(
            kind("cpu,a=1,a=2 v=1"),
            ParseErrorKind::DuplicateTag("a".into())
        );
        assert_eq!(
            kind("cpu v=1,v=2"),
            ParseErrorKind::DuplicateField("v".into())
        );
        assert_eq!(
            kind("cpu,a= v=1"),
            ParseErrorKind::Invalid(EncodeError::new(
                EncodeErrorKind::Empty,
                Part::TagValue("a".into())
            ))
        );
        // influxd refuses a tab after the value or after the timestamp, not after a space.
        assert!(matches!(
            kind("cpu v=1\t"),
            ParseErrorKind::InvalidFieldValue
        ));
        assert!(matches!(
            kind("cpu v=1 5\t"),
            ParseErrorKind::InvalidTimestamp
        ));
        assert!(matches!(kind("cpu v=1 5 \t"), ParseErrorKind::Expected(_)));
        assert!(parse_line("cpu v=1 \t", Precision::Nanoseconds).is_ok());
        assert!(matches!(kind("cpu  v=1"), ParseErrorKind::Invalid(_)));
    }

    #[test]
    fn float_syntax() {
        for ok in ["1", "1.5", "-0.5", ".5", "1.", "1e21", "1.5E-7", "-2e+3"] {
            assert!(is_float_syntax(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "-", ".", "1e", "nan", "inf", "1.2.3", "0x1", "1e+"] {
            assert!(!is_float_syntax(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn strings_keep_newlines_across_lines() {
        let points = parse_lines("m1 s=\"a\nb\"\nm2 v=1i\n", Precision::Nanoseconds).unwrap();
        assert_eq!(points[0].field("s"), Some(&Field::String("a\nb".into())));
        assert_eq!(points[1].measurement(), "m2");
    }
}
