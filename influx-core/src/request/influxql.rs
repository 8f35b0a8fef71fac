//! InfluxQL helpers: quoting of identifiers and string literals, splitting a query into its
//! statements, and telling reads from statements that change state.
//!
//! Splitting and classification run on a tokenizer that follows the InfluxQL scanner of
//! InfluxDB 1.x: string literals, quoted identifiers, regex literals, comments, bound
//! parameters, numbers and durations, bare words and operators. A `;` only ends a statement
//! where the server's scanner would read it as a `;` token.
//!
//! ```
//! use influx_series::influxql::{is_read_only, split_statements, statement_count};
//!
//! let query = "SELECT * FROM /a;b/ WHERE host = 'x;y'; SHOW DATABASES";
//! assert_eq!(statement_count(query), 2);
//! assert_eq!(
//!     split_statements(query).collect::<Vec<_>>(),
//!     ["SELECT * FROM /a;b/ WHERE host = 'x;y'", " SHOW DATABASES"],
//! );
//! assert!(is_read_only(query));
//! ```

/// Quotes an identifier (database, measurement, tag or field name) for InfluxQL:
/// `"` + the name with `\`, `"` and newlines escaped + `"`.
///
/// ```
/// use influx_series::influxql::quote_ident;
/// assert_eq!(quote_ident(r#"my "db""#), r#""my \"db\"""#);
/// ```
pub fn quote_ident(name: &str) -> String {
    quote(name, '"')
}

/// Quotes a string literal for InfluxQL: `'` + the text with `\`, `'` and newlines escaped + `'`.
///
/// ```
/// use influx_series::influxql::quote_literal;
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

/// True when every statement of `query` only reads, so the query may go as a GET request;
/// anything else must go as POST.
///
/// A statement reads when its first word is `SHOW`, or `SELECT` with no `INTO` keyword
/// anywhere in it (subqueries included), or `EXPLAIN [ANALYZE] [VERBOSE]` followed by such a
/// `SELECT` (`EXPLAIN ANALYZE` runs the statement it explains). A query without any
/// statement reads.
///
/// Defence in depth: the answer is also `false` whenever the raw text holds, anywhere (even
/// inside a string, a regex or a comment), one of the words `CREATE`, `DROP`, `DELETE`,
/// `ALTER`, `GRANT`, `REVOKE`, `SET`, `KILL` or `INTO` as a whole word (any case; word
/// characters are ASCII letters, digits and `_`), save where a `"` follows the word right
/// away, as in `"drop"`: the server reads such a word as part of a name, never as a keyword.
/// Every InfluxQL statement that changes state holds one of these words as a keyword, so a
/// query the tokenizer misreads still cannot go out as GET, which InfluxDB 1.x would execute.
/// The cost is that a read merely mentioning such a word, say `WHERE host = 'drop'`, goes as
/// POST, which is harmless.
///
/// ```
/// use influx_series::influxql::is_read_only;
/// assert!(is_read_only("SELECT * FROM cpu; SHOW DATABASES"));
/// assert!(is_read_only("SELECT usage / 2 FROM cpu WHERE host =~ /web;db/"));
/// assert!(!is_read_only("SELECT * INTO copy FROM cpu"));
/// assert!(!is_read_only("CREATE DATABASE x"));
/// assert!(!is_read_only("/* SELECT */ DROP DATABASE x"));
/// assert!(!is_read_only("SELECT 1 -- it's fine\n; DROP DATABASE x"));
/// assert!(!is_read_only("SELECT * FROM /a--/; DROP DATABASE x"));
/// // A read that merely mentions a write keyword is sent as a write, to be safe:
/// assert!(!is_read_only("SELECT * FROM cpu WHERE host = 'drop'"));
/// ```
pub fn is_read_only(query: &str) -> bool {
    // The tokenizer's reading of `/` is a judgement call (see `Lexer`), and a misread can hide
    // a statement from it; this word check does not depend on that reading at all.
    !mentions_write_word(query) && split_statements(query).all(statement_reads)
}

/// The number of statements in `query` as the server counts them: statements that hold only
/// whitespace and comments (between two `;`, or before the first or after the last) do not
/// count.
///
/// ```
/// use influx_series::influxql::statement_count;
/// assert_eq!(statement_count("SELECT * FROM /a;b/"), 1);
/// assert_eq!(statement_count("SHOW DATABASES;; -- done\n;"), 1);
/// assert_eq!(statement_count("SELECT 'a;b' FROM m; SHOW MEASUREMENTS"), 2);
/// assert_eq!(statement_count(" /* nothing */ "), 0);
/// ```
pub fn statement_count(query: &str) -> usize {
    split_statements(query).count()
}

/// The query with each `-- ...` and `/* ... */` comment replaced by a space, so a comment
/// can neither hide a statement's first word nor join two words. Text inside string
/// literals, quoted identifiers and regex literals is kept as it is.
///
/// ```
/// use influx_series::influxql::strip_comments;
/// assert_eq!(strip_comments("SELECT/* x */v FROM m -- end"), "SELECT v FROM m  ");
/// assert_eq!(strip_comments("SELECT * FROM /a--b/"), "SELECT * FROM /a--b/");
/// assert_eq!(strip_comments("SELECT '/* kept */' FROM m"), "SELECT '/* kept */' FROM m");
/// ```
pub fn strip_comments(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    for token in Lexer::new(query) {
        if token.kind == Kind::Comment {
            out.push(' ');
        } else {
            out.push_str(token.text);
        }
    }
    out
}

/// Splits a query into its statements: on each `;` token, never on a `;` inside a string,
/// a quoted identifier, a regex or a comment. Statements that hold only whitespace and
/// comments are skipped; the others come as they are in `query`, surrounding whitespace and
/// comments included.
///
/// ```
/// use influx_series::influxql::split_statements;
/// let statements: Vec<&str> =
///     split_statements("SELECT * FROM \"a;b\"; -- one;\n; SELECT 1 / 2 FROM /c;d/").collect();
/// assert_eq!(statements, ["SELECT * FROM \"a;b\"", " SELECT 1 / 2 FROM /c;d/"]);
/// ```
pub fn split_statements(query: &str) -> impl Iterator<Item = &str> {
    Statements {
        query,
        lexer: Lexer::new(query),
        start: 0,
        done: false,
    }
}

/// The statements of a query, found in one pass of the lexer.
struct Statements<'a> {
    query: &'a str,
    lexer: Lexer<'a>,
    /// Where the statement being read starts.
    start: usize,
    done: bool,
}

impl<'a> Iterator for Statements<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let mut significant = false;
        while !self.done {
            let Some(token) = self.lexer.next() else {
                self.done = true;
                let rest = &self.query[self.start..];
                self.start = self.query.len();
                return significant.then_some(rest);
            };
            match token.kind {
                Kind::Semicolon => {
                    let statement = &self.query[self.start..token.start];
                    self.start = token.start + token.text.len();
                    if significant {
                        return Some(statement);
                    }
                }
                kind => significant |= kind.is_significant(),
            }
        }
        None
    }
}

/// Whether one statement (no `;` token in it) only reads; see [`is_read_only`].
fn statement_reads(statement: &str) -> bool {
    let mut tokens = Lexer::new(statement).filter(|t| t.kind.is_significant());
    let mut first = tokens.next();
    if first.is_some_and(|t| t.is_word("EXPLAIN")) {
        first = tokens.next();
        while first.is_some_and(|t| t.is_word("ANALYZE") || t.is_word("VERBOSE")) {
            first = tokens.next();
        }
        // `EXPLAIN` of anything but a SELECT is not valid InfluxQL; not worth a GET.
        if !first.is_some_and(|t| t.is_word("SELECT")) {
            return false;
        }
    }
    match first {
        Some(t) if t.is_word("SELECT") => !tokens.any(|t| t.is_word("INTO")),
        Some(t) if t.is_word("SHOW") => true,
        Some(_) => false,
        None => true,
    }
}

/// Words of which at least one is in every InfluxQL statement that changes state.
const WRITE_WORDS: [&str; 9] = [
    "CREATE", "DROP", "DELETE", "ALTER", "GRANT", "REVOKE", "SET", "KILL", "INTO",
];

/// Whether `text` holds one of [`WRITE_WORDS`] as a whole word, wherever it is, unless a `"`
/// follows it right away: the server's scanner reads a bare word glued to a `"` as part of
/// one identifier (`drop"x"` is the name `x`), so such a word is never a keyword, whatever
/// comes before it. That keeps `SELECT * FROM "drop"` a read without trusting the tokenizer.
fn mentions_write_word(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|b| !is_word_byte(*b))
            .map_or(bytes.len(), |n| start + n);
        let word = &bytes[start..end];
        if bytes.get(end) != Some(&b'"')
            && WRITE_WORDS
                .iter()
                .any(|w| w.as_bytes().eq_ignore_ascii_case(word))
        {
            return true;
        }
        start = end + 1;
    }
    false
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The words InfluxDB 1.x reads as keywords rather than names: none of them ends an operand,
/// so a `/` after one starts a regex. `TRUE` and `FALSE` are left out because they are
/// operands; `FUTURE`, `PAST` and `VERBOSE` because they became keywords only in recent 1.x
/// releases, before which they are names, and as keywords they are never followed by an
/// operand.
/// `NOT` is no InfluxQL keyword: `SELECT not / 2 FROM m` divides the field `not`.
const KEYWORDS: &[&str] = &[
    "ALL",
    "ALTER",
    "ANALYZE",
    "AND",
    "ANY",
    "AS",
    "ASC",
    "BEGIN",
    "BY",
    "CARDINALITY",
    "CONTINUOUS",
    "CREATE",
    "DATABASE",
    "DATABASES",
    "DEFAULT",
    "DELETE",
    "DESC",
    "DESTINATIONS",
    "DIAGNOSTICS",
    "DISTINCT",
    "DROP",
    "DURATION",
    "END",
    "EVERY",
    "EXACT",
    "EXPLAIN",
    "FIELD",
    "FOR",
    "FROM",
    "GRANT",
    "GRANTS",
    "GROUP",
    "GROUPS",
    "IN",
    "INF",
    "INSERT",
    "INTO",
    "KEY",
    "KEYS",
    "KILL",
    "LIMIT",
    "MEASUREMENT",
    "MEASUREMENTS",
    "NAME",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "PASSWORD",
    "POLICIES",
    "POLICY",
    "PRIVILEGES",
    "QUERIES",
    "QUERY",
    "READ",
    "REPLICATION",
    "RESAMPLE",
    "RETENTION",
    "REVOKE",
    "SELECT",
    "SERIES",
    "SET",
    "SHARD",
    "SHARDS",
    "SHOW",
    "SLIMIT",
    "SOFFSET",
    "STATS",
    "SUBSCRIPTION",
    "SUBSCRIPTIONS",
    "TAG",
    "TO",
    "USER",
    "USERS",
    "VALUES",
    "WHERE",
    "WITH",
    "WRITE",
];

fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Spaces, tabs, `\n` and `\r`: the whitespace of the InfluxQL scanner.
    Whitespace,
    /// `-- ...` up to the end of the line, or `/* ... */`.
    Comment,
    /// A bare identifier or keyword: ASCII letters, digits and `_`, not starting with a digit.
    Word,
    /// `"..."`, or a bare word glued to one (`abc"d"`), which the server reads as one identifier.
    QuotedIdent,
    /// `'...'`.
    Str,
    /// `/.../`.
    Regex,
    /// An integer, a decimal number (`1.5`, `.5`) or a duration (`5m`, `10µs`).
    Number,
    /// `$name`.
    BoundParam,
    Semicolon,
    LParen,
    RParen,
    /// `*`, either the wildcard or multiplication.
    Star,
    /// `::` before a type (`field`, `tag`, `float`, ...).
    DoubleColon,
    /// Any other operator or punctuation: `+ - / % & | ^ = != <> =~ !~ < <= > >= , . :`.
    Operator,
    /// A character the server's scanner does not accept.
    Other,
}

impl Kind {
    /// Whether the server's parser sees the token (it skips whitespace and comments).
    fn is_significant(self) -> bool {
        !matches!(self, Kind::Whitespace | Kind::Comment)
    }
}

#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    kind: Kind,
    /// Byte offset in the lexed text.
    start: usize,
    text: &'a str,
}

impl Token<'_> {
    /// Whether the token is the bare word `upper` (given in upper case), in any case.
    fn is_word(&self, upper: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(upper)
    }
}

/// The InfluxQL tokenizer: a single pass over the text, each byte looked at a bounded number
/// of times. Unterminated strings, identifiers, regexes and comments run to the end of the
/// text. Token boundaries always fall on ASCII bytes or at the end, so slicing never splits a
/// UTF-8 character.
///
/// The server's scanner reads a regex only where its parser asks for one, and otherwise
/// reads `/` as division. The parser asks where an operand may start: after `SELECT`,
/// `FROM`, `BY`, `,`, `(`, `=~`, `!~`, `.` in `db.rp./re/`, ... So `/` starts a regex unless
/// the previous significant token ends an operand: a number or duration, a string, a quoted
/// identifier, a bound parameter, `)`, a regex, a bare word that is not a keyword (or that is
/// `TRUE`, `FALSE`, or a type after `::`), or a `*` that is the wildcard (a `*` is the
/// wildcard where an operand may start, and multiplication after an operand). Where the
/// grammar allows neither reading, the choice does not matter: the server parses the whole
/// query before it runs any statement, and rejects it. (`FROM m /re/` is such a place: the
/// server's parser asks for a regex there but fails to read it.) `/*` is always a comment:
/// where the server would read a regex instead, the regex starts with `*`, which never
/// compiles, so again the server rejects the query.
struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    /// Whether the last significant token ended an operand, so that `/` is division.
    after_operand: bool,
    /// Whether the last significant token was `::`, after which even a keyword is a type.
    after_double_colon: bool,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer {
            text,
            pos: 0,
            after_operand: false,
            after_double_colon: false,
        }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    /// The end of a `'...'` or `"..."` opened at `start`: past the closing quote, or the end
    /// of the text. A backslash takes the next character whatever it is, as the server does
    /// (it rejects unknown escapes, but they never end the quote).
    fn quoted_end(&self, start: usize) -> usize {
        let bytes = self.text.as_bytes();
        let quote = bytes[start];
        let mut i = start + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b if b == quote => return i + 1,
                _ => i += 1,
            }
        }
        // A backslash as the last byte steps past the end.
        bytes.len()
    }

    /// The end of a regex opened at `start`. Unlike in strings, a backslash escapes only a
    /// following `/` and otherwise stands for itself, so in `/a\\/` the last `/` is escaped.
    fn regex_end(&self, start: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = start + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if bytes.get(i + 1) == Some(&b'/') => i += 2,
                b'/' => return i + 1,
                _ => i += 1,
            }
        }
        bytes.len()
    }

    fn word_end(&self, start: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = start;
        while i < bytes.len() && is_word_byte(bytes[i]) {
            i += 1;
        }
        i
    }

    /// The end of a number or duration starting at `start` (a digit, or `.` before a digit),
    /// the way the server's scanner cuts it.
    fn number_end(&self, start: usize) -> usize {
        let bytes = self.text.as_bytes();
        let digits = |mut i: usize| {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            i
        };
        let mut i = digits(start);
        if bytes.get(i) == Some(&b'.') {
            // The server takes the `.` into the number even without digits after it.
            return digits(i + 1);
        }
        // A duration: letters or `µ`, then letters, `µ` or digits.
        let unit = |i: usize, digits_too: bool| match bytes.get(i) {
            Some(b) if b.is_ascii_alphabetic() || (digits_too && b.is_ascii_digit()) => Some(1),
            _ if self.text[i..].starts_with('µ') => Some('µ'.len_utf8()),
            _ => None,
        };
        if let Some(n) = unit(i, false) {
            i += n;
            while let Some(n) = unit(i, true) {
                i += n;
            }
        }
        i
    }

    /// The kind and end of the token starting at `self.pos`.
    fn cut(&self) -> (Kind, usize) {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let next = self.byte(start + 1);
        match bytes[start] {
            b' ' | b'\t' | b'\n' | b'\r' => {
                let mut i = start + 1;
                while matches!(self.byte(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                    i += 1;
                }
                (Kind::Whitespace, i)
            }
            // The server reads `\r` as a line end too.
            b'-' if next == Some(b'-') => {
                let end = bytes[start..]
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r')
                    .map_or(bytes.len(), |n| start + n);
                (Kind::Comment, end)
            }
            b'/' if next == Some(b'*') => {
                let end = bytes[start + 2..]
                    .windows(2)
                    .position(|w| w == b"*/")
                    .map_or(bytes.len(), |n| start + 2 + n + 2);
                (Kind::Comment, end)
            }
            b'/' if self.after_operand => (Kind::Operator, start + 1),
            b'/' => (Kind::Regex, self.regex_end(start)),
            b'\'' => (Kind::Str, self.quoted_end(start)),
            b'"' => (Kind::QuotedIdent, self.quoted_end(start)),
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let end = self.word_end(start);
                if self.byte(end) == Some(b'"') {
                    (Kind::QuotedIdent, self.quoted_end(end))
                } else {
                    (Kind::Word, end)
                }
            }
            b if b.is_ascii_digit() => (Kind::Number, self.number_end(start)),
            b'.' if next.is_some_and(|b| b.is_ascii_digit()) => {
                (Kind::Number, self.number_end(start))
            }
            b'$' => {
                let end = self.word_end(start + 1);
                if self.byte(end) == Some(b'"') {
                    (Kind::BoundParam, self.quoted_end(end))
                } else {
                    (Kind::BoundParam, end)
                }
            }
            b';' => (Kind::Semicolon, start + 1),
            b'(' => (Kind::LParen, start + 1),
            b')' => (Kind::RParen, start + 1),
            b'*' => (Kind::Star, start + 1),
            b':' if next == Some(b':') => (Kind::DoubleColon, start + 2),
            b'=' | b'!' if next == Some(b'~') => (Kind::Operator, start + 2),
            b'!' | b'<' | b'>' if next == Some(b'=') => (Kind::Operator, start + 2),
            b'<' if next == Some(b'>') => (Kind::Operator, start + 2),
            b'!' => (Kind::Other, start + 1),
            b'+' | b'-' | b'%' | b'&' | b'|' | b'^' | b'=' | b'<' | b'>' | b',' | b'.' | b':' => {
                (Kind::Operator, start + 1)
            }
            _ => {
                let width = self.text[start..].chars().next().map_or(1, char::len_utf8);
                (Kind::Other, start + width)
            }
        }
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        let (kind, end) = self.cut();
        // Escapes can step one byte past the end, or into a multi-byte character.
        let mut end = end.min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end += 1;
        }
        self.pos = end;
        let text = &self.text[start..end];
        if kind.is_significant() {
            self.after_operand = match kind {
                Kind::Word => {
                    self.after_double_colon
                        || text.eq_ignore_ascii_case("TRUE")
                        || text.eq_ignore_ascii_case("FALSE")
                        || !is_keyword(text)
                }
                Kind::QuotedIdent
                | Kind::Str
                | Kind::Regex
                | Kind::Number
                | Kind::BoundParam
                | Kind::RParen => true,
                // The wildcard stands where an operand may start.
                Kind::Star => !self.after_operand,
                _ => false,
            };
            self.after_double_colon = kind == Kind::DoubleColon;
        }
        Some(Token { kind, start, text })
    }
}

#[cfg(test)]
mod tests;
