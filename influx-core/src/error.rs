// Over 800 lines, kept whole: a third is rustdoc, and the file is the crate's one public error
// vocabulary (`Error` and the parts its variants carry), read together when matching on it.
//! Error types: encoding and parsing errors, the one error enum of the client, and what a
//! write did ([`Commit`], [`Rejection`]), which the errors of a write carry.

use std::fmt;

/// Which part of a point an [`EncodeError`] is about; keys are named so the message can point
/// at them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The measurement name.
    Measurement,
    /// The key of a tag (the key itself).
    TagKey(String),
    /// The value of the tag with this key.
    TagValue(String),
    /// The key of a field (the key itself).
    FieldKey(String),
    /// The value of the field with this key.
    FieldValue(String),
    /// The timestamp.
    Timestamp,
    /// The member named by a placeholder of a series-name template.
    Placeholder(String),
    /// The series key: the measurement and the tags, together.
    SeriesKey,
    /// The point as a whole (for example: it has no fields).
    Point,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Measurement => f.write_str("measurement"),
            Part::TagKey(k) => write!(f, "tag key `{k}`"),
            Part::TagValue(k) => write!(f, "tag value `{k}`"),
            Part::FieldKey(k) => write!(f, "field key `{k}`"),
            Part::FieldValue(k) => write!(f, "field `{k}`"),
            Part::Timestamp => f.write_str("timestamp"),
            Part::Placeholder(k) => write!(f, "placeholder `{{{k}}}`"),
            Part::SeriesKey => f.write_str("series key (measurement and tags)"),
            Part::Point => f.write_str("point"),
        }
    }
}

/// Why a point cannot be encoded so that the server stores it exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeErrorKind {
    /// An empty measurement or key.
    Empty,
    /// A `\n` or `\r` in a measurement, key or tag value (it would start a new line).
    Newline,
    /// A backslash at the end of a name.
    TrailingBackslash,
    /// A backslash right before `,`, `=`, space or `"`, which 1.x does not store faithfully.
    BackslashBeforeSpecial,
    /// A measurement starting with `#`: the server reads the line as a comment.
    Comment,
    /// A measurement or field key starting with a tab, which the server skips as whitespace.
    LeadingWhitespace,
    /// A NUL byte in a name: no InfluxQL query can name it.
    Nul,
    /// A field with the same key as a tag: 1.6 stores both, but reads them back as `key` and
    /// `key_1`, so the point would not come back as written.
    KeyConflict,
    /// A tag or field key named `time`, which 1.x silently drops.
    ReservedKey,
    /// A NaN or infinite float.
    NonFiniteFloat,
    /// An unsigned integer above `i64::MAX` (1.x has no unsigned type).
    IntegerOutOfRange,
    /// A point without fields.
    NoFields,
    /// A timestamp outside 1677-09-21 .. 2262-04-11, the server's range.
    TimestampOutOfRange,
    /// A placeholder of a series-name template had no value (an `Option` member was `None`).
    MissingTemplateValue,
    /// The series key, a 4-byte separator and a field key (all as sent) take more than the
    /// 65 535 bytes influxd allows (`max key length exceeded`).
    KeyTooLong {
        /// How many bytes they take.
        bytes: usize,
    },
}

impl EncodeErrorKind {
    fn describe(self) -> &'static str {
        match self {
            EncodeErrorKind::Empty => "empty",
            EncodeErrorKind::Newline => "newline",
            EncodeErrorKind::TrailingBackslash => "trailing backslash",
            EncodeErrorKind::BackslashBeforeSpecial => "backslash before `,`, `=`, space or `\"`",
            EncodeErrorKind::Comment => "starts with `#`",
            EncodeErrorKind::LeadingWhitespace => "leading tab",
            EncodeErrorKind::Nul => "NUL byte",
            EncodeErrorKind::ReservedKey => "key `time` is reserved",
            EncodeErrorKind::KeyConflict => "a tag has the same key",
            EncodeErrorKind::NonFiniteFloat => "non-finite float",
            EncodeErrorKind::IntegerOutOfRange => "integer out of range",
            EncodeErrorKind::NoFields => "no fields",
            EncodeErrorKind::TimestampOutOfRange => "timestamp out of range",
            EncodeErrorKind::MissingTemplateValue => "no value for template placeholder",
            EncodeErrorKind::KeyTooLong { .. } => "key too long",
        }
    }
}

/// A point, or one part of it, that cannot be written exactly; nothing was written.
///
/// ```
/// use influx_series::{EncodeErrorKind, Part, Point};
///
/// let err = Point::builder("test").tag("t1", "line1\nline2").field("v", 1i64).build().unwrap_err();
/// assert_eq!(err.kind(), EncodeErrorKind::Newline);
/// assert_eq!(err.part(), &Part::TagValue("t1".into()));
/// assert_eq!(err.to_string(), "newline in tag value `t1`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    kind: EncodeErrorKind,
    part: Part,
}

impl EncodeError {
    /// An error of `kind` about `part`.
    pub fn new(kind: EncodeErrorKind, part: Part) -> Self {
        EncodeError { kind, part }
    }

    /// What is wrong.
    pub fn kind(&self) -> EncodeErrorKind {
        self.kind
    }

    /// Where it is wrong.
    pub fn part(&self) -> &Part {
        &self.part
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EncodeErrorKind as K;
        match (self.kind, &self.part) {
            (K::NoFields | K::TimestampOutOfRange | K::ReservedKey, _) => {
                f.write_str(self.kind.describe())
            }
            (K::Comment, part) => write!(f, "{part} starts with `#`"),
            (K::KeyTooLong { bytes }, part) => write!(
                f,
                "key too long at {part}: series key, separator and field key take {bytes} bytes, \
                 over the server's 65535"
            ),
            (K::Empty, part) => write!(f, "empty {part}"),
            (K::NonFiniteFloat | K::IntegerOutOfRange, part) => {
                write!(f, "{} for {part}", self.kind.describe())
            }
            (kind, part) => write!(f, "{} in {part}", kind.describe()),
        }
    }
}

impl std::error::Error for EncodeError {}

/// Why a line of line protocol was rejected by the parser ([`crate::parse_lines`] and the others).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The line breaks one of the encoder's rules (the same rules, checked in reverse).
    Invalid(EncodeError),
    /// Something else was expected here, for example `=` after a tag key.
    Expected(&'static str),
    /// A string field value without its closing quote.
    UnterminatedString,
    /// A field value that is no float, integer, boolean or string.
    InvalidFieldValue,
    /// A timestamp that is not an integer.
    InvalidTimestamp,
    /// The same tag key twice in one line.
    DuplicateTag(String),
    /// The same field key twice in one line.
    DuplicateField(String),
}

/// A line-protocol syntax or rule error, with the byte offset where it was found.
///
/// ```
/// use influx_series::{parse_lines, Precision};
///
/// let err = parse_lines("cpu v=1\ncpu,host v=2\n", Precision::Nanoseconds).unwrap_err();
/// assert_eq!((err.line(), err.offset()), (2, 16));
/// assert_eq!(err.to_string(), "line 2, byte 16: expected `=` after tag key");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    line: usize,
    offset: usize,
    kind: ParseErrorKind,
}

impl ParseError {
    pub(crate) fn new(line: usize, offset: usize, kind: ParseErrorKind) -> Self {
        ParseError { line, offset, kind }
    }

    /// The 1-based line number in the input.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The byte offset in the whole input where the problem was found.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What is wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, byte {}: ", self.line, self.offset)?;
        match &self.kind {
            ParseErrorKind::Invalid(e) => write!(f, "{e}"),
            ParseErrorKind::Expected(what) => write!(f, "expected {what}"),
            ParseErrorKind::UnterminatedString => f.write_str("unterminated string field value"),
            ParseErrorKind::InvalidFieldValue => f.write_str("invalid field value"),
            ParseErrorKind::InvalidTimestamp => f.write_str("invalid timestamp"),
            ParseErrorKind::DuplicateTag(k) => write!(f, "duplicate tag key `{k}`"),
            ParseErrorKind::DuplicateField(k) => write!(f, "duplicate field key `{k}`"),
        }
    }
}

impl std::error::Error for ParseError {}

/// What the server said a partially stored write dropped points for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PartialWriteKind {
    /// `field type conflict`: a field already has another type in the shard.
    TypeConflict,
    /// `points beyond retention policy`.
    BeyondRetentionPolicy,
    /// `max-series-per-database` or `max-values-per-tag` exceeded.
    Limit,
    /// `unable to parse`: the server could not parse some lines.
    Unparsable,
    /// A reason this client does not know; the message has it.
    Other,
}

/// Why a DataFrame cannot be written (see `Client::write_dataframe`, feature `polars`): found by
/// the checks that run over the whole frame before anything is sent.
///
/// ```
/// use influx_series::FrameError;
/// let err = FrameError::MissingColumn { column: "time".into(), role: "time" };
/// assert_eq!(err.to_string(), "the frame has no time column `time`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// A column the options name is not in the frame (`role`: `time`, `tag` or `field`).
    MissingColumn {
        /// The column's name.
        column: String,
        /// What the options wanted it for.
        role: &'static str,
    },
    /// A column listed both in `tag_columns` and in `field_columns`, or as the time column too.
    ColumnInTwoRoles {
        /// The column's name.
        column: String,
    },
    /// The time column is not a `Datetime` or a `Date`.
    TimeColumnType {
        /// The column's name.
        column: String,
        /// Its polars type.
        dtype: String,
    },
    /// A row whose time is null.
    NullTime {
        /// The row (0-based).
        row: usize,
    },
    /// A tag column of a type tags cannot hold exactly (floats, times, nested types): tags are
    /// text, categoricals, integers or booleans.
    TagColumnType {
        /// The column's name.
        column: String,
        /// Its polars type.
        dtype: String,
    },
    /// A field column of a type InfluxDB has no field for (categoricals and enums are tags,
    /// not fields; times, lists and binaries have no field type).
    FieldColumnType {
        /// The column's name.
        column: String,
        /// Its polars type.
        dtype: String,
    },
    /// No column is left to be a field.
    NoFieldColumns,
    /// The measurement, a column's name or a shared tag breaks a line-protocol rule.
    Name(EncodeError),
    /// A cell that cannot be written exactly (a tag value with a newline, an infinite float, an
    /// unsigned integer above `i64::MAX`, a time outside the server's range, a key too long).
    Cell {
        /// The row (0-based).
        row: usize,
        /// What is wrong, and in which column.
        error: EncodeError,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::MissingColumn { column, role } => {
                write!(f, "the frame has no {role} column `{column}`")
            }
            FrameError::ColumnInTwoRoles { column } => {
                write!(f, "column `{column}` is given two roles (time, tag, field)")
            }
            FrameError::TimeColumnType { column, dtype } => write!(
                f,
                "time column `{column}` is {dtype}, not a Datetime or a Date"
            ),
            FrameError::NullTime { row } => write!(f, "row {row} has no time (null)"),
            FrameError::TagColumnType { column, dtype } => write!(
                f,
                "tag column `{column}` is {dtype}: tags are strings, categoricals, integers or \
                 booleans"
            ),
            FrameError::FieldColumnType { column, dtype } => write!(
                f,
                "field column `{column}` is {dtype}: fields are floats, integers, booleans or \
                 strings (categoricals and enums are tags)"
            ),
            FrameError::NoFieldColumns => f.write_str("the frame has no field column"),
            FrameError::Name(e) => write!(f, "{e}"),
            FrameError::Cell { row, error } => write!(f, "row {row}: {error}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// The one error type of the client.
///
/// The server's own text is always kept; `Display` is one readable line.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A point or line that cannot be written exactly; nothing was sent.
    InvalidInput(EncodeError),
    /// Raw line protocol the parser rejected; nothing was sent.
    Parse(ParseError),
    /// The server answered 4xx (other than a partial write).
    Client {
        /// The HTTP status.
        status: u16,
        /// The server's message (the `error` member of its JSON answer, or the body), at most
        /// 1 KiB of it: a longer one is cut and ends with ` [message cut]`.
        message: String,
    },
    /// The server answered 5xx.
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's message, at most 1 KiB (see [`Error::Client`]).
        message: String,
    },
    /// `400 partial write`: the server stored every point but `dropped`.
    PartialWrite {
        /// How many points the server dropped: its `dropped=N`, plus the lines it quotes as
        /// unparsable (influxd counts those as `dropped=0`).
        dropped: u64,
        /// Why, as far as the message tells.
        kind: PartialWriteKind,
        /// The server's message.
        message: String,
        /// Points sent in earlier requests of the same call, all stored.
        written_before: usize,
    },
    /// A bare `400 field type conflict`: nothing of this request was stored.
    BatchRejected {
        /// The server's message.
        message: String,
        /// Points sent in earlier requests of the same call, all stored.
        written_before: usize,
    },
    /// A write of several requests stopped: the first `written_before` points were stored,
    /// the rest were not sent or not stored (see `source`).
    Interrupted {
        /// Points stored by earlier requests of the same call.
        written_before: usize,
        /// What stopped it.
        source: Box<Error>,
    },
    /// A write that kept several requests in flight stopped (see
    /// [`ClientBuilder::writes_in_flight`](crate::ClientBuilder::writes_in_flight)) with the
    /// points it did not store scattered among those it did. Of the points the call was given,
    /// the ones at the positions in `unwritten` (0-based, ascending, end excluded) were not
    /// sent or not known to be stored; every other point before `reached` was stored (or, in a
    /// buffer's commit, refused for good and reported as such); none from `reached` on was
    /// sent. Sending the unwritten points again, in their order, gives what one uninterrupted
    /// call would have stored.
    ///
    /// When the points not stored are all the ones from some position on, the error is
    /// [`Error::Interrupted`] (or the error itself, with `written_before` set), as with one
    /// request at a time.
    Unwritten {
        /// Points stored.
        written: usize,
        /// The positions of the points not stored, before `reached`.
        unwritten: Vec<std::ops::Range<usize>>,
        /// How many of the call's points were taken up; the rest were not sent.
        reached: usize,
        /// What stopped it: the failure of the request in flight that held the earliest
        /// point not stored among those that failed.
        source: Box<Error>,
    },
    /// A statement of a query failed.
    Statement {
        /// The 0-based index of the statement.
        index: usize,
        /// The server's message.
        message: String,
    },
    /// The request did not get an answer: connection refused, reset, DNS, TLS, ... The
    /// [`source`](std::error::Error::source) is the HTTP client's error, and below it the
    /// `std::io::Error` where there is one.
    Transport(Cause),
    /// No answer within the configured timeout.
    Timeout(Cause),
    /// A response that is not what the protocol says (bad JSON, missing header).
    Protocol(Cause),
    /// Rows that do not fit the type they are decoded into: a missing column, a null in a
    /// required member, a value of the wrong type, an absent tag for a member that is not an
    /// `Option`. The message names the statement, the series, the row's position, the column
    /// and what was found; every typed read path (`query_as`, `query_deserialize`, the streams,
    /// both clients) gives it for the same answer. An answer that is not InfluxDB's JSON at all
    /// (a row with more or fewer values than its series has columns, among others) is
    /// [`Error::Protocol`], on every path.
    Decode(Cause),
    /// The client is misconfigured: a bad URL, an unknown scheme, a missing database.
    Config(Cause),
    /// An argument of an administration call that cannot make a sound statement (a malformed
    /// duration, a change of nothing, a series filter that selects every series); nothing
    /// was sent.
    InvalidArgument(Cause),
    /// The answer's body (decompressed) grew past the client's `max_answer_size`; reading
    /// stopped there.
    AnswerTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A request body (uncompressed: the server applies its `max-body-size` after gunzip)
    /// larger than the client's `max_request_size`; it was not sent.
    RequestTooLarge {
        /// The body's size, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A line longer than the largest UDP datagram the client sends (see
    /// [`crate::ClientBuilder::udp_max_datagram`]): a line is never cut, so nothing of the
    /// write was sent.
    DatagramTooLarge {
        /// The line's size, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A write went on past points the server refused for good (bisected out of a bare 400,
    /// or dropped by a partial write): they are listed here, and everything else was stored,
    /// unless the write then `stopped`, which leaves the rest pending.
    Rejected {
        /// What the write did.
        commit: Commit,
        /// The refused points, with the server's reasons.
        rejections: Vec<Rejection>,
        /// The error the write stopped at afterwards, if any.
        stopped: Option<Box<Error>>,
    },
    /// A per-type buffer is full, counting points in flight: the point was not taken, and
    /// nothing already buffered was dropped.
    BufferFull {
        /// The buffer's bound in points.
        max_points: usize,
        /// The buffer's bound in bytes.
        max_bytes: usize,
    },
    /// A DataFrame that cannot be written as it is; nothing was sent.
    InvalidFrame(FrameError),
    /// A batch of a DataFrame's rows failed: the rows before `rows` were written (but for
    /// rows with no field, which are skipped), and nothing from `rows.end` on was sent.
    FrameRows {
        /// The rows of the batch that failed (0-based, end excluded).
        rows: std::ops::Range<usize>,
        /// Points stored by the call before the error, this batch's earlier requests included.
        written_before: usize,
        /// What went wrong with the batch.
        source: Box<Error>,
    },
    /// A point was recorded (it is in its type's buffer), but the commit its `record()`
    /// started, at `bulk_size`, failed: nothing to record again, as the point and every other
    /// unsent one stay buffered for the next commit (or, for points the server refused for
    /// good, `source` is an [`Error::Rejected`] that lists them). Told apart from a point that
    /// was not taken ([`Error::InvalidInput`], [`Error::BufferFull`]) by
    /// [`Error::was_recorded`].
    AutocommitFailed {
        /// Why the commit failed.
        source: Box<Error>,
    },
    /// The server answered with a redirect; `/write` and `/query` never follow one (a 301 or
    /// 302 would turn a POST into a GET).
    Redirect {
        /// The HTTP status (3xx).
        status: u16,
        /// The `Location` it pointed to, if any (at most 200 characters of it).
        location: Option<String>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput(e) => write!(f, "invalid input: {e}"),
            Error::Parse(e) => write!(f, "invalid line protocol: {e}"),
            Error::Client { status, message } => write!(f, "client error {status}: {message}"),
            Error::Server { status, message } => write!(f, "server error {status}: {message}"),
            Error::PartialWrite {
                dropped, message, ..
            } => write!(f, "partial write, {dropped} point(s) dropped: {message}"),
            Error::BatchRejected { message, .. } => {
                write!(f, "write rejected, nothing stored: {message}")
            }
            Error::Interrupted { written_before, .. } => {
                write!(f, "write stopped after {written_before} point(s)")
            }
            Error::Unwritten {
                written,
                unwritten,
                reached,
                ..
            } => {
                let missing: usize = unwritten.iter().map(ExactSizeIterator::len).sum();
                write!(
                    f,
                    "write stopped: {written} point(s) stored, {missing} of the first {reached} \
                     not stored"
                )?;
                if let Some(first) = unwritten.first() {
                    write!(f, " (the first at position {})", first.start)?;
                }
                Ok(())
            }
            Error::Statement { index, message } => write!(f, "statement {index} failed: {message}"),
            Error::Transport(m) => write!(f, "transport error: {m}"),
            Error::Timeout(m) => write!(f, "timed out: {m}"),
            Error::Protocol(m) => write!(f, "unexpected response: {m}"),
            Error::Decode(m) => write!(f, "cannot decode rows: {m}"),
            Error::Config(m) => write!(f, "configuration error: {m}"),
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::AnswerTooLarge { limit } => write!(
                f,
                "answer larger than {limit} bytes: raise the client's max_answer_size to read it"
            ),
            Error::DatagramTooLarge { size, limit } => write!(
                f,
                "a line of {size} bytes does not fit in a UDP datagram of at most {limit} bytes; \
                 nothing was sent"
            ),
            Error::RequestTooLarge { size, limit } => write!(
                f,
                "request body of {size} bytes over the client's max_request_size ({limit} bytes); \
                 nothing was sent"
            ),
            Error::Rejected {
                commit,
                rejections,
                stopped,
            } => {
                write!(
                    f,
                    "{} point(s) refused by the server, {} written",
                    commit.refused, commit.written
                )?;
                if let Some(first) = rejections.first() {
                    write!(f, "; first: {}", first.message)?;
                }
                if stopped.is_some() {
                    f.write_str("; then the write stopped, the rest is pending")?;
                }
                Ok(())
            }
            Error::BufferFull {
                max_points,
                max_bytes,
            } => write!(
                f,
                "buffer full ({max_points} points or {max_bytes} bytes, in flight included): \
                 the point was not taken; commit, or raise max_pending / max_pending_bytes"
            ),
            Error::InvalidFrame(e) => write!(f, "invalid frame: {e}"),
            Error::FrameRows {
                rows,
                written_before,
                ..
            } => write!(
                f,
                "rows {}..{} of the frame were not written ({written_before} point(s) before \
                 them were)",
                rows.start, rows.end
            ),
            Error::AutocommitFailed { .. } => f.write_str(
                "the point was recorded and stays buffered, but the commit it started failed \
                 (do not record it again: the next commit sends it)",
            ),
            Error::Redirect { status, location } => match location {
                Some(l) => write!(f, "redirect {status} to `{l}`, not followed"),
                None => write!(f, "redirect {status} without a Location, not followed"),
            },
        }
    }
}

/// Each variant either prints its cause in its own message or hands it out as
/// [`source`](std::error::Error::source), never both, so a reporter that walks the chain prints
/// every message once: [`Error::InvalidInput`] and [`Error::Parse`] print the encoding or
/// parsing error (reach it by matching); [`Error::Interrupted`] and a [`Error::Rejected`] that
/// stopped hand out the error they stopped at; the [`Cause`] of a transport, timeout, protocol,
/// decode or configuration error hands out the lower-level error it wraps, if any.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Interrupted { source, .. }
            | Error::Unwritten { source, .. }
            | Error::FrameRows { source, .. }
            | Error::AutocommitFailed { source } => Some(source.as_ref()),
            Error::Rejected {
                stopped: Some(source),
                ..
            } => Some(source.as_ref()),
            Error::Transport(c)
            | Error::Timeout(c)
            | Error::Protocol(c)
            | Error::Decode(c)
            | Error::Config(c) => c.source(),
            _ => None,
        }
    }
}

/// What went wrong in a transport, timeout, protocol, decode or configuration error: a message
/// of this crate's, and the lower-level error behind it when there is one (an
/// `std::io::Error`, or the HTTP client's own error, which can be downcast but is not part of
/// this crate's API).
///
/// ```
/// use std::error::Error as _;
/// use influx_series::Client;
///
/// // Nothing listens on port 9.
/// let err = Client::new("http://127.0.0.1:9")?.ping().unwrap_err();
/// let mut chain = vec![err.to_string()];
/// let mut source = err.source();
/// while let Some(e) = source {
///     chain.push(e.to_string());
///     source = e.source();
/// }
/// assert!(chain.len() > 1, "{chain:?}");
/// // Every message of the chain is printed once.
/// assert!(chain.windows(2).all(|w| !w[0].contains(&w[1])), "{chain:?}");
/// # Ok::<(), influx_series::Error>(())
/// ```
#[derive(Debug)]
pub struct Cause {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Cause {
    /// A cause that is only a message.
    pub fn new(message: impl Into<String>) -> Cause {
        Cause {
            message: message.into(),
            source: None,
        }
    }

    /// A message, and the error behind it.
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Cause {
        Cause {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// This crate's message (without the lower-level error's).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The lower-level error, if any.
    pub fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for Cause {
    fn from(message: String) -> Cause {
        Cause::new(message)
    }
}

impl From<&str> for Cause {
    fn from(message: &str) -> Cause {
        Cause::new(message)
    }
}

impl Error {
    /// Whether the point a `record()` was given is in its buffer despite this error: the
    /// commit that `record()` started failed ([`Error::AutocommitFailed`]). A service should
    /// not answer its own caller with a failure for it (the point will be written), nor
    /// record it again (it would be written twice).
    ///
    /// ```
    /// use influx_series::Error;
    ///
    /// let down = Error::Transport("connection refused".into());
    /// let after = Error::AutocommitFailed { source: Box::new(down) };
    /// assert!(after.was_recorded());
    /// assert!(!Error::Config("no client".into()).was_recorded());
    /// ```
    pub fn was_recorded(&self) -> bool {
        matches!(self, Error::AutocommitFailed { .. })
    }

    /// How many points of a write call were stored before it failed.
    pub fn written_before(&self) -> usize {
        match self {
            Error::PartialWrite { written_before, .. }
            | Error::BatchRejected { written_before, .. }
            | Error::Interrupted { written_before, .. }
            | Error::FrameRows { written_before, .. } => *written_before,
            Error::Rejected { commit, .. } => commit.written,
            Error::Unwritten { written, .. } => *written,
            _ => 0,
        }
    }

    /// Records that `written` points of the same call were stored before this error.
    pub fn after_writing(self, written: usize) -> Error {
        match self {
            Error::PartialWrite {
                dropped,
                kind,
                message,
                ..
            } => Error::PartialWrite {
                dropped,
                kind,
                message,
                written_before: written,
            },
            Error::BatchRejected { message, .. } => Error::BatchRejected {
                message,
                written_before: written,
            },
            other if written == 0 => other,
            other => Error::Interrupted {
                written_before: written,
                source: Box::new(other),
            },
        }
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Error::InvalidInput(e)
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Parse(e)
    }
}

/// What a write did: points the server stored, points it refused, requests made.
///
/// ```no_run
/// use influx_series::{Client, Point, WriteOptions};
///
/// let client = Client::new("http://127.0.0.1:8086")?;
/// let point = Point::builder("cpu").field("usage", 0.5).build()?;
/// let done = client.write_points(&[point], &WriteOptions::new("metrics"))?;
/// println!("{} written in {} request(s)", done.written, done.requests);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Commit {
    /// Points the server stored.
    pub written: usize,
    /// Points the server refused for good (see [`Error::Rejected`]).
    pub refused: usize,
    /// HTTP requests made.
    pub requests: usize,
}

impl Commit {
    /// This commit, with `requests` requests.
    pub fn with_requests(mut self, requests: usize) -> Commit {
        self.requests = requests;
        self
    }

    /// Adds what another write did.
    pub fn add(&mut self, other: Commit) {
        self.written += other.written;
        self.refused += other.refused;
        self.requests += other.requests;
    }
}

/// Points the server refused for good, with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rejection {
    /// How many points.
    pub points: usize,
    /// The refused lines themselves, when they are known: a bare 400 is bisected down to the
    /// lines it refuses; a partial write only says how many it dropped, not which.
    pub lines: Option<String>,
    /// The server's message.
    pub message: String,
}

impl Rejection {
    /// A rejection of `points` points for the server's `message`, with the refused lines when
    /// they are known (for tests of code that handles rejections).
    ///
    /// ```
    /// use influx_series::Rejection;
    ///
    /// let rejection = Rejection::new(1, Some("cpu v=\"a\"".into()), "field type conflict");
    /// assert_eq!(rejection.to_string(), "1 point(s) refused: field type conflict");
    /// ```
    pub fn new(points: usize, lines: Option<String>, message: impl Into<String>) -> Self {
        Self {
            points,
            lines,
            message: message.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} point(s) refused: {}", self.points, self.message)
    }
}
