//! InfluxQL helpers: quoting of identifiers and string literals, and telling reads from
//! statements that change state.

/// Quotes an identifier (database, measurement, tag or field name) for InfluxQL:
/// `"` + the name with `\`, `"` and newlines escaped + `"`.
///
/// ```
/// use influx_core::influxql::quote_ident;
/// assert_eq!(quote_ident(r#"my "db""#), r#""my \"db\"""#);
/// ```
pub fn quote_ident(name: &str) -> String {
    quote(name, '"')
}

/// Quotes a string literal for InfluxQL: `'` + the text with `\`, `'` and newlines escaped + `'`.
///
/// ```
/// use influx_core::influxql::quote_literal;
/// assert_eq!(quote_literal("it's"), r"'it\'s'");
/// ```
pub fn quote_literal(text: &str) -> String {
    quote(text, '\'')
}

fn quote(text: &str, q: char) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(q);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// True when every statement of `query` only reads (`SELECT` without `INTO`, `SHOW`,
/// `EXPLAIN`), so it can go as GET; anything else goes as POST.
///
/// ```
/// use influx_core::influxql::is_read_only;
/// assert!(is_read_only("SELECT * FROM cpu; SHOW DATABASES"));
/// assert!(!is_read_only("SELECT * INTO copy FROM cpu"));
/// assert!(!is_read_only("CREATE DATABASE x"));
/// assert!(!is_read_only("/* SELECT */ DROP DATABASE x"));
/// assert!(!is_read_only("SELECT 1 -- it's fine\n; DROP DATABASE x"));
/// ```
pub fn is_read_only(query: &str) -> bool {
    let query = strip_comments(query);
    split_statements(&query).all(|statement| {
        let words = Words::new(statement);
        let mut words = words.map(|w| w.to_ascii_uppercase());
        match words.next().as_deref() {
            Some("SELECT") => !words.any(|w| w == "INTO"),
            Some("SHOW") | Some("EXPLAIN") => true,
            None => true,
            Some(_) => false,
        }
    })
}

/// The query with its `-- ...` and `/* ... */` comments (outside quotes) replaced by a space,
/// so a comment can neither hide a statement's first word nor open a quote.
pub fn strip_comments(query: &str) -> String {
    let bytes = query.as_bytes();
    let mut out = String::with_capacity(query.len());
    let mut quotes = Quotes::default();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let (outside, skip) = quotes.step(bytes[i]);
        if outside && (bytes[i..].starts_with(b"--") || bytes[i..].starts_with(b"/*")) {
            out.push_str(&query[copied..i]);
            out.push(' ');
            let end = if bytes[i + 1] == b'-' {
                query[i..].find('\n').map_or(bytes.len(), |n| i + n)
            } else {
                query[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2)
            };
            i = end;
            copied = end;
            continue;
        }
        i += 1 + skip;
    }
    out.push_str(query.get(copied..).unwrap_or_default());
    out
}

/// Tracks `'...'` and `"..."` (with backslash escapes) while a query is walked byte by byte.
#[derive(Default)]
struct Quotes {
    open: Option<u8>,
}

impl Quotes {
    /// Takes the next byte: whether it is code outside any quote (not a quote mark itself),
    /// and how many following bytes an escape makes part of a quote.
    fn step(&mut self, b: u8) -> (bool, usize) {
        match self.open {
            Some(_) if b == b'\\' => (false, 1),
            Some(q) if b == q => {
                self.open = None;
                (false, 0)
            }
            Some(_) => (false, 0),
            None if b == b'\'' || b == b'"' => {
                self.open = Some(b);
                (false, 0)
            }
            None => (true, 0),
        }
    }
}

/// Splits a query on `;` outside quotes.
pub fn split_statements(query: &str) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quotes = Quotes::default();
    let bytes = query.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let (outside, skip) = quotes.step(bytes[i]);
        if outside && bytes[i] == b';' {
            parts.push(&query[start..i]);
            start = i + 1;
        }
        i += 1 + skip;
    }
    parts.push(&query[start..]);
    parts.into_iter().filter(|s| !s.trim().is_empty())
}

/// Bare words of a statement, skipping quoted identifiers and strings.
struct Words<'a> {
    rest: &'a str,
}

impl<'a> Words<'a> {
    fn new(s: &'a str) -> Self {
        Words { rest: s }
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            let s = self.rest.trim_start();
            let first = s.chars().next()?;
            if first == '"' || first == '\'' {
                let mut escaped = false;
                let mut end = s.len();
                for (i, c) in s.char_indices().skip(1) {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == first {
                        end = i + 1;
                        break;
                    }
                }
                self.rest = &s[end..];
                continue;
            }
            let end = s
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(s.len());
            if end == 0 {
                self.rest = &s[first.len_utf8()..];
                continue;
            }
            self.rest = &s[end..];
            return Some(&s[..end]);
        }
    }
}
