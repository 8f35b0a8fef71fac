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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn statements(query: &str) -> Vec<&str> {
        split_statements(query).collect()
    }

    fn kinds(query: &str) -> Vec<(Kind, &str)> {
        Lexer::new(query)
            .filter(|t| t.kind.is_significant())
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn quoting_is_unchanged() {
        assert_eq!(quote_ident(r#"my "db""#), r#""my \"db\"""#);
        assert_eq!(quote_ident("a\\b\nc"), r#""a\\b\nc""#);
        assert_eq!(quote_ident("it's"), r#""it's""#);
        assert_eq!(quote_literal("it's"), r"'it\'s'");
        assert_eq!(quote_literal("a\\b\nc\"d"), r#"'a\\b\nc"d'"#);
        assert_eq!(quote_literal("é😀"), "'é😀'");
    }

    #[test]
    fn regex_holding_a_comment_opener_hides_no_statement() {
        let query = "SELECT * FROM /a--/; DROP DATABASE x";
        assert!(!is_read_only(query));
        assert_eq!(
            statements(query),
            ["SELECT * FROM /a--/", " DROP DATABASE x"]
        );
        assert!(!statement_reads(" DROP DATABASE x"));
    }

    #[test]
    fn regex_holding_a_quote_hides_no_statement() {
        for query in [
            "SELECT * FROM /a'/; DROP DATABASE x",
            "SELECT * FROM /a\"/; DROP DATABASE x",
        ] {
            assert!(!is_read_only(query), "{query}");
            assert_eq!(statement_count(query), 2, "{query}");
        }
    }

    #[test]
    fn semicolon_inside_regex_does_not_split() {
        assert_eq!(statements("SELECT * FROM /a;b/"), ["SELECT * FROM /a;b/"]);
        assert_eq!(statement_count("SELECT * FROM /a;b/; SELECT * FROM m"), 2);
        assert!(is_read_only("SELECT * FROM /a;b/; SELECT * FROM m"));
    }

    #[test]
    fn division_is_not_a_regex() {
        assert!(!is_read_only("SELECT value / 2 FROM m; DROP DATABASE x"));
        assert_eq!(
            statements("SELECT value / 2 FROM m; DROP DATABASE x"),
            ["SELECT value / 2 FROM m", " DROP DATABASE x"]
        );
        assert!(is_read_only("SELECT value / 2 FROM m WHERE host = 'a'"));
        assert_eq!(
            statement_count("SELECT value / 2 FROM m WHERE host = 'a'"),
            1
        );
        assert!(is_read_only("SELECT a/b FROM m"));
        assert_eq!(statement_count("SELECT a/b FROM m"), 1);
        assert!(is_read_only("SELECT mean(v) / 2 FROM m"));
        assert_eq!(
            statement_count("SELECT mean(v) / 2 FROM m; SELECT 1 / 2 FROM m"),
            2
        );
    }

    #[test]
    fn division_after_every_kind_of_operand() {
        for operand in [
            "v", "\"v\"", "2", "2.5", ".5", "5m", "10µs", "'s'", "$p", "mean(v)", "true", "FALSE",
            "v::field", "v::tag", "v::float", "*", "/re/", "abc\"d\"",
        ] {
            let query = format!("SELECT {operand} / 2 FROM m; SELECT 1 FROM /x/");
            assert_eq!(statement_count(&query), 2, "{query}");
        }
    }

    #[test]
    fn regex_after_every_place_an_operand_may_start() {
        for before in [
            "SELECT",
            "select",
            "FROM",
            "WHERE host =~",
            "WHERE host !~",
            "AND h =~",
            "BY",
            "SELECT a,",
            "SELECT count(",
            "FROM x.autogen.",
            "SELECT 2 *",
            "SELECT 2 +",
            "SELECT 2 -",
            "SELECT (",
            "WITH MEASUREMENT =~",
            "WITH KEY =~",
            "ON",
            "IN",
            "WITH",
            "KEY",
            "MEASUREMENT",
            "=",
            "OR",
        ] {
            let query = format!("{before} /a;b/ FROM m");
            assert_eq!(statement_count(&query), 1, "{query}");
            assert!(
                kinds(&query).contains(&(Kind::Regex, "/a;b/")),
                "{query}: {:?}",
                kinds(&query)
            );
        }
    }

    #[test]
    fn regex_field_selection_reads() {
        assert!(is_read_only("SELECT /usage/ FROM cpu"));
        assert_eq!(
            kinds("SELECT /usage/ FROM cpu")[1],
            (Kind::Regex, "/usage/")
        );
    }

    #[test]
    fn escaped_slash_stays_inside_regex() {
        let query = r"SELECT * FROM m WHERE host =~ /a\/b;c/";
        assert_eq!(statements(query), [query]);
        assert!(is_read_only(query));
        // A backslash escapes only `/`: `\\` does not escape itself, so the regex goes on.
        let query = r"SELECT * FROM m WHERE host =~ /a\\/ ; SELECT 2/";
        assert_eq!(statement_count(query), 1);
    }

    #[test]
    fn line_comment_hides_no_statement() {
        assert!(!is_read_only("SELECT 1 -- it's fine\n; DROP DATABASE x"));
        assert_eq!(
            statement_count("SELECT 1 -- it's fine\n; SHOW DATABASES"),
            2
        );
        // The server reads `\r` as a line end.
        assert_eq!(
            statement_count("SELECT 1 -- it's fine\r; SHOW DATABASES"),
            2
        );
    }

    #[test]
    fn block_comment_hides_no_statement() {
        assert!(!is_read_only("/* SELECT */ DROP DATABASE x"));
        assert!(!statement_reads("/* SELECT */ DROP DATABASE x"));
        assert_eq!(statement_count("SELECT 1 /* ; */ FROM m"), 1);
        assert!(is_read_only(
            "SELECT/* x */v FROM m WHERE /* a/b; */ host = 'a'"
        ));
    }

    #[test]
    fn keyword_in_quoted_identifier_is_a_name() {
        assert!(is_read_only(r#"SELECT * FROM "drop""#));
        assert!(statement_reads(r#"SELECT "into" FROM "into""#));
    }

    #[test]
    fn select_into_writes() {
        assert!(!is_read_only("SELECT * INTO copy FROM cpu"));
        assert!(!statement_reads("SELECT * into copy FROM cpu"));
        assert!(!statement_reads("SELECT * FROM (SELECT * INTO c FROM cpu)"));
    }

    #[test]
    fn reads_in_any_case() {
        assert!(is_read_only("select * from m; show databases"));
        assert!(is_read_only("SeLeCt * FrOm m;ShOw MeAsUrEmEnTs;"));
    }

    #[test]
    fn writes_are_not_read_only() {
        for query in [
            "CREATE DATABASE x",
            "create database x",
            "DROP MEASUREMENT m",
            "DELETE FROM m",
            "ALTER RETENTION POLICY p ON x DURATION 1h",
            "GRANT ALL TO u",
            "REVOKE ALL FROM u",
            "SET PASSWORD FOR u = 'p'",
            "KILL QUERY 1",
            "SHOW DATABASES; CREATE DATABASE x",
        ] {
            assert!(!is_read_only(query), "{query}");
        }
    }

    #[test]
    fn explain_looks_at_what_it_explains() {
        assert!(is_read_only("EXPLAIN SELECT * FROM m"));
        assert!(is_read_only("EXPLAIN ANALYZE SELECT * FROM m"));
        assert!(is_read_only("explain analyze verbose select * from m"));
        assert!(!statement_reads("EXPLAIN SELECT * INTO c FROM m"));
        assert!(!statement_reads("EXPLAIN ANALYZE SELECT * INTO c FROM m"));
        assert!(!statement_reads("EXPLAIN DROP DATABASE x"));
        assert!(!statement_reads("EXPLAIN"));
    }

    #[test]
    fn write_words_anywhere_make_a_write() {
        for query in [
            "SELECT * FROM m WHERE host = 'drop'",
            "SELECT * FROM m WHERE host =~ /Create/",
            "SELECT * FROM m -- delete\n",
            "SELECT * FROM m /* alter */",
            "SELECT \"grant x\" FROM m",
            "SELECT \"x\"DROP",
            "SELECT revoke FROM m",
            "SELECT * FROM m WHERE k = 'x set y'",
            "SHOW QUERIES; -- then kill",
            "SELECT * FROM m WHERE a = 'Into'",
        ] {
            assert!(!is_read_only(query), "{query}");
        }
        for query in [
            "SELECT dropped, settings, into_x, x_into FROM m",
            "SELECT * FROM m WHERE host = 'é'",
            "SHOW DATABASES",
        ] {
            assert!(is_read_only(query), "{query}");
        }
        assert!(mentions_write_word("éDROPé"));
        assert!(!mentions_write_word("DROP_"));
        assert!(!mentions_write_word("5drop"));
        // The server reads `drop"x"` as the name `x`: never the keyword.
        assert!(!mentions_write_word("drop\"x\""));
        assert!(is_read_only(r#"SELECT "drop", "Into" FROM "delete""#));
    }

    #[test]
    fn empty_statements_are_skipped() {
        assert_eq!(statements(""), Vec::<&str>::new());
        assert_eq!(statements(" ; ;\n"), Vec::<&str>::new());
        assert_eq!(statements("-- only\n; /* this */"), Vec::<&str>::new());
        assert_eq!(statements(";SHOW DATABASES;;"), ["SHOW DATABASES"]);
        assert_eq!(
            statement_count("SELECT 1 FROM m; -- c\n ; /* d */ ; SHOW USERS"),
            2
        );
        assert!(is_read_only(""));
        assert!(is_read_only("-- nothing"));
    }

    #[test]
    fn not_is_a_name_as_in_influxql() {
        assert_eq!(
            statement_count("SELECT not / 2 FROM m; SELECT 1 FROM /a/"),
            2
        );
    }

    #[test]
    fn unterminated_tokens_run_to_the_end() {
        for (query, kind) in [
            ("SELECT 'abc; DROP", Kind::Str),
            ("SELECT \"abc; DROP", Kind::QuotedIdent),
            ("SELECT * FROM /abc; DROP", Kind::Regex),
            ("SELECT 'abc\\", Kind::Str),
            ("SELECT * FROM /abc\\", Kind::Regex),
            ("SELECT 'é\\😀", Kind::Str),
        ] {
            assert_eq!(statement_count(query), 1, "{query}");
            assert_eq!(kinds(query).last().map(|t| t.0), Some(kind), "{query}");
        }
        assert_eq!(strip_comments("SELECT 1 /* ; DROP"), "SELECT 1  ");
        assert_eq!(strip_comments("SELECT 1 -- ; DROP"), "SELECT 1  ");
        assert_eq!(statement_count("SELECT 1 /* ; DROP"), 1);
        assert_eq!(statement_count("/*"), 0);
        assert_eq!(statement_count("/"), 1);
    }

    #[test]
    fn non_ascii_text_anywhere() {
        let query = "SELECT \"é😀\" / 2 FROM /é;😀/ WHERE h = 'ü;' -- ß;\n; SELECT é😀 FROM m";
        assert_eq!(statement_count(query), 2);
        assert!(is_read_only(query));
        assert_eq!(strip_comments("é/*😀*/é"), "é é");
        for query in ["é", "😀/", "/😀", "'😀", "\\😀", "5µ", "5µs / 2", "$é", "µ"] {
            let _ = statement_count(query);
            let _ = is_read_only(query);
            let _ = strip_comments(query);
        }
        assert_eq!(kinds("5µs / 2")[0], (Kind::Number, "5µs"));
        assert_eq!(kinds("5µs / 2")[1], (Kind::Operator, "/"));
    }

    #[test]
    fn tokens_follow_the_server_scanner() {
        assert_eq!(
            kinds("SELECT abc\"d;e\", $p, $\"q r\", 1., .5e, 12h30m FROM x.rp.m"),
            [
                (Kind::Word, "SELECT"),
                (Kind::QuotedIdent, "abc\"d;e\""),
                (Kind::Operator, ","),
                (Kind::BoundParam, "$p"),
                (Kind::Operator, ","),
                (Kind::BoundParam, "$\"q r\""),
                (Kind::Operator, ","),
                (Kind::Number, "1."),
                (Kind::Operator, ","),
                (Kind::Number, ".5"),
                (Kind::Word, "e"),
                (Kind::Operator, ","),
                (Kind::Number, "12h30m"),
                (Kind::Word, "FROM"),
                (Kind::Word, "x"),
                (Kind::Operator, "."),
                (Kind::Word, "rp"),
                (Kind::Operator, "."),
                (Kind::Word, "m"),
            ]
        );
        assert_eq!(
            kinds("a=~b!~c!=d<>e<=f>=g::h:i!j"),
            [
                (Kind::Word, "a"),
                (Kind::Operator, "=~"),
                (Kind::Word, "b"),
                (Kind::Operator, "!~"),
                (Kind::Word, "c"),
                (Kind::Operator, "!="),
                (Kind::Word, "d"),
                (Kind::Operator, "<>"),
                (Kind::Word, "e"),
                (Kind::Operator, "<="),
                (Kind::Word, "f"),
                (Kind::Operator, ">="),
                (Kind::Word, "g"),
                (Kind::DoubleColon, "::"),
                (Kind::Word, "h"),
                (Kind::Operator, ":"),
                (Kind::Word, "i"),
                (Kind::Other, "!"),
                (Kind::Word, "j"),
            ]
        );
        // The wildcard ends an operand; multiplication expects one.
        assert_eq!(kinds("SELECT * / 2")[2], (Kind::Operator, "/"));
        assert_eq!(kinds("SELECT a * /b/")[3], (Kind::Regex, "/b/"));
        // `/*` is a comment even where a regex may start.
        assert_eq!(
            kinds("SELECT /* c */ v"),
            [(Kind::Word, "SELECT"), (Kind::Word, "v")]
        );
    }

    #[test]
    fn splits_many_statements_in_linear_time() {
        let query = "SELECT v / 2 FROM m WHERE h =~ /a;b/ AND k = 'x;y' -- c;\n;".repeat(80_000);
        assert_eq!(statement_count(&query), 80_000);
        assert!(is_read_only(&query));
        let query = "SELECT * FROM m; DROP DATABASE x;".repeat(80_000);
        assert_eq!(statement_count(&query), 160_000);
        assert!(!is_read_only(&query));
        // Unterminated openers must not be rescanned from every position.
        for opener in ["'", "\"", "/", "/*", "--", "\\", "$", "5", "a\"", "é"] {
            let query = opener.repeat(200_000);
            let _ = statement_count(&query);
            let _ = is_read_only(&query);
            let _ = strip_comments(&query);
        }
    }

    /// Pieces that random queries are glued from: every token kind, openers without closers,
    /// escapes, and multi-byte characters.
    const PIECES: &[&str] = &[
        "SELECT", "select", "FROM", "WHERE", "INTO", "SHOW", "EXPLAIN", "ANALYZE", "DROP", "BY",
        "AND", "true", "v", "m", "_x1", "abc\"", "\"", "'", "/", "\\", "\\/", "*", "/*", "*/",
        "--", "-", "+", "(", ")", ",", ".", ":", "::", ";", "=", "=~", "!~", "!", "<", ">", "$",
        "$p", "5", "5m", "1.5", ".5", "µ", "é", "😀", " ", "\t", "\n", "\r", "\r\n", "'a;b'",
        "\"a;b\"", "/a;b/", "/* ; */", "-- ;\n", "\u{a0}", "\0",
    ];

    proptest! {
        #[test]
        fn random_token_soup_never_panics(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..40),
            spaced in any::<bool>(),
        ) {
            let query = pieces.join(if spaced { " " } else { "" });
            let lexed: String = Lexer::new(&query).map(|t| t.text).collect();
            prop_assert_eq!(&lexed, &query);
            let parts = statements(&query);
            prop_assert_eq!(parts.len(), statement_count(&query));
            for part in parts {
                // After a `;` the lexer starts afresh, so a statement lexes alone as in place.
                prop_assert!(Lexer::new(part).all(|t| t.kind != Kind::Semicolon));
                prop_assert!(Lexer::new(part).any(|t| t.kind.is_significant()));
            }
            let stripped = strip_comments(&query);
            prop_assert!(Lexer::new(&stripped).all(|t| t.kind != Kind::Comment));
            prop_assert_eq!(kinds(&stripped), kinds(&query));
            let _ = is_read_only(&query);
        }

        #[test]
        fn select_then_drop_is_never_read_only(
            selects in proptest::collection::vec(select_strategy(), 1..4),
        ) {
            let reads = selects.join(";");
            prop_assert!(is_read_only(&reads), "{}", reads);
            prop_assert_eq!(statement_count(&reads), selects.len(), "{}", reads);
            let query = format!("{reads}; DROP DATABASE x");
            prop_assert!(!is_read_only(&query), "{}", query);
            // Not only the word check: the tokenizer itself finds the DROP statement.
            let parts = statements(&query);
            prop_assert_eq!(parts.len(), selects.len() + 1, "{}", query);
            prop_assert_eq!(parts.last().map(|s| s.trim()), Some("DROP DATABASE x"));
            prop_assert!(parts[..selects.len()].iter().all(|s| statement_reads(s)));
        }
    }

    /// Text for strings, regexes and comments: every character that could end or open
    /// something, but no letters that could spell a write word.
    fn content() -> impl Strategy<Value = String> {
        const CHARS: &[char] = &[
            'a', 'b', 'x', '0', ' ', ';', '\'', '"', '/', '\\', '-', '*', '$', '(', ')', 'é', '😀',
            '\t',
        ];
        proptest::collection::vec(proptest::sample::select(CHARS), 0..12)
            .prop_map(|chars| chars.into_iter().collect())
    }

    fn regex() -> impl Strategy<Value = String> {
        content().prop_map(|text| {
            let mut body = text.replace('/', "\\/");
            // `/*` opens a comment; as a regex it would never compile on the server.
            if body.starts_with('*') {
                body.insert(0, 'a');
            }
            // A backslash right before the closing `/` would escape it.
            if body.ends_with('\\') {
                body.push('a');
            }
            format!("/{body}/")
        })
    }

    fn literal() -> impl Strategy<Value = String> {
        content().prop_map(|text| quote_literal(&text))
    }

    fn comment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just(" ".to_owned()),
            content().prop_map(|text| format!(" -- {text}\n")),
            content().prop_map(|text| format!(" /*{}*/ ", text.replace("*/", "* /"))),
        ]
    }

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("v".to_owned()),
            Just("*".to_owned()),
            Just("v / 2".to_owned()),
            Just("a/b".to_owned()),
            Just("mean(v) / 2".to_owned()),
            Just("\"f\" / 3".to_owned()),
            Just("v::field / 2".to_owned()),
            Just("1.5/v/2".to_owned()),
            regex(),
            regex().prop_map(|r| format!("count({r})")),
            (comment(), literal()).prop_map(|(c, l)| format!("v{c}/ 2 AS a, {l}")),
        ]
    }

    fn source() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("m".to_owned()),
            Just("\"m\"".to_owned()),
            regex(),
            regex().prop_map(|r| format!("x.autogen.{r}")),
            (field(), regex()).prop_map(|(f, r)| format!("(SELECT {f} FROM {r})")),
        ]
    }

    fn condition() -> impl Strategy<Value = String> {
        prop_oneof![
            literal().prop_map(|l| format!("host = {l}")),
            regex().prop_map(|r| format!("host =~ {r}")),
            regex().prop_map(|r| format!("host!~{r} AND v / 2 < 3")),
            Just("time > now() - 5m".to_owned()),
            (literal(), comment()).prop_map(|(l, c)| format!("(v/2 > 1{c}OR h = {l})")),
        ]
    }

    fn select_strategy() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(field(), 1..3),
            proptest::collection::vec(source(), 1..3),
            proptest::option::of(condition()),
            proptest::option::of(regex()),
            [comment(), comment(), comment(), comment()],
        )
            .prop_map(|(fields, sources, condition, group, [c1, c2, c3, c4])| {
                let mut select = format!(
                    "{c1}SELECT {}{c2} FROM {}",
                    fields.join(", "),
                    sources.join(",")
                );
                if let Some(condition) = condition {
                    select.push_str(&format!("{c3} WHERE {condition}"));
                }
                if let Some(group) = group {
                    select.push_str(&format!(" GROUP BY {group}"));
                }
                select.push_str(&c4);
                select
            })
    }
}
