//! The structure of a `/query` answer, walked once for every way of decoding it ([`ResultSet`],
//! typed rows, serde rows): chunks, statement results, series, rows. The decoders differ only
//! in what they do with a series' rows.
//!
//! What the walk settles for all of them, as influxd 1.6 answers:
//! - A chunked answer is several JSON documents in a row; each statement result carries its
//!   `statement_id`, and rows belong to the statement that id names (never to the position of
//!   the result in its chunk: every chunk starts its `results` afresh).
//! - After statement k fails, 1.6 labels the following "not executed" results k as well (its
//!   loop sends them with the failed statement's index). The first error for k is k's own; each
//!   later "not executed" result is the next statement's, k+1 onward.
//! - Without chunks, 1.6 merges results of equal id, so that "not executed" overwrites k's own
//!   error: a "not executed" with no failure before it stands for an error the server lost, and
//!   says so.
//!
//! [`ResultSet`]: crate::ResultSet

use std::borrow::Cow;

use serde::Deserialize;

use crate::error::Error;
use crate::query::scan::{ScanError, Scanner};

/// influxd's text for a statement skipped because an earlier one failed.
const NOT_EXECUTED: &str = "not executed";

/// Why a walk stopped: the answer is not what the protocol says, or a decoder gave up.
pub(crate) enum Stop {
    /// Malformed JSON or structure, with the byte offset.
    Scan(ScanError),
    /// A decoder's own error (a statement error raised, a row that does not fit its type).
    Error(Error),
}

impl From<ScanError> for Stop {
    fn from(e: ScanError) -> Self {
        Stop::Scan(e)
    }
}

/// The error a stopped walk stands for: a decoder's own, or a protocol error for JSON that is
/// not what influxd sends.
pub(crate) fn stop_error(stop: Stop) -> Error {
    match stop {
        Stop::Error(e) => e,
        Stop::Scan(e) => Error::Protocol(
            format!(
                "query answer is not the expected JSON: {} at byte {}",
                e.message, e.offset
            )
            .into(),
        ),
    }
}

/// The parts of a series read before its rows.
#[derive(Debug, Default)]
pub(crate) struct SeriesHead<'a> {
    pub(crate) name: Option<Cow<'a, str>>,
    pub(crate) tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub(crate) columns: Vec<Cow<'a, str>>,
}

/// What a decoder does with the parts of an answer.
pub(crate) trait AnswerVisitor<'a> {
    /// Whether the series of the statement labelled `label` are wanted; the others are
    /// skipped without being decoded.
    fn wants(&self, label: usize) -> bool;

    /// The `values` of a series of a wanted statement. The scanner is at the array and must be
    /// left right after it.
    fn rows(
        &mut self,
        label: usize,
        head: &SeriesHead<'a>,
        s: &mut Scanner<'a>,
    ) -> Result<(), Stop>;

    /// The end of a series of a wanted statement, with the server's `partial` flag.
    fn end_series(
        &mut self,
        label: usize,
        head: SeriesHead<'a>,
        partial: bool,
    ) -> Result<(), Stop> {
        let _ = (label, head, partial);
        Ok(())
    }

    /// The end of a statement result: `id` is the statement it belongs to (see the module's
    /// notes on numbering), `label` the id the server gave it.
    fn result(
        &mut self,
        id: usize,
        label: usize,
        error: Option<String>,
        messages: Vec<Message>,
    ) -> Result<(), Stop>;
}

/// Statement numbering across the results of an answer, undoing influxd 1.6's mislabelling.
#[derive(Debug, Default)]
struct Numbering {
    /// The statement that failed first, once one has.
    failed: Option<usize>,
    /// The statement the next "not executed" result belongs to.
    next_skipped: usize,
}

impl Numbering {
    /// The statement a result labelled `label` belongs to; rewrites an error the server put in
    /// place of another.
    fn assign(&mut self, label: usize, error: &mut Option<String>) -> usize {
        let Some(message) = error.as_deref() else {
            return label;
        };
        if self.failed.is_some() {
            if message == NOT_EXECUTED {
                let id = self.next_skipped.max(label);
                self.next_skipped = id + 1;
                return id;
            }
            return label;
        }
        self.failed = Some(label);
        self.next_skipped = label + 1;
        if message == NOT_EXECUTED {
            *error = Some(format!(
                "{NOT_EXECUTED} (influxd 1.6 sends this in place of the statement's own error \
                 in answers without chunks; ask for a chunked answer to see it)"
            ));
        }
        label
    }
}

/// Walks an answer (one JSON document, or several for a chunked answer) and hands its parts to
/// `visitor`. An empty answer is an error: influxd always sends a document.
pub(crate) fn walk<'a>(text: &'a str, visitor: &mut impl AnswerVisitor<'a>) -> Result<(), Stop> {
    let mut walk = Walk::default();
    walk.document(text, visitor)?;
    walk.finish(None, false).map_err(Stop::Error)
}

/// A walk over the documents of an answer as they arrive, one at a time: what ties them
/// together (the statement numbering, whether the last result was cut short) lives here
/// between documents.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    numbering: Numbering,
    documents: usize,
    /// The statement the last result belonged to, when the server flagged it `partial` (more
    /// of it to come).
    open_statement: Option<usize>,
    /// The highest statement seen, and whether any failed.
    last_statement: Option<usize>,
    failed: bool,
}

impl Walk {
    /// Walks one or more whole JSON documents.
    pub(crate) fn document<'a>(
        &mut self,
        text: &'a str,
        visitor: &mut impl AnswerVisitor<'a>,
    ) -> Result<(), Stop> {
        self.documents_in(Scanner::new(text), visitor)
    }

    /// Walks one or more whole MessagePack documents.
    pub(crate) fn msgpack_document<'a>(
        &mut self,
        bytes: &'a [u8],
        visitor: &mut impl AnswerVisitor<'a>,
    ) -> Result<(), Stop> {
        self.documents_in(Scanner::msgpack(bytes), visitor)
    }

    fn documents_in<'a>(
        &mut self,
        mut s: Scanner<'a>,
        visitor: &mut impl AnswerVisitor<'a>,
    ) -> Result<(), Stop> {
        while !s.at_end() {
            self.documents += 1;
            chunk(&mut s, visitor, self)?;
        }
        Ok(())
    }

    /// Checks that the answer is whole: at least one document; with `streamed` (an answer
    /// read as it arrived, which may have been cut), no statement left open by a `partial`
    /// result; and, if the number of statements is known and none failed, a result for every
    /// statement.
    pub(crate) fn finish(&self, statements: Option<usize>, streamed: bool) -> Result<(), Error> {
        if self.documents == 0 {
            return Err(Error::Protocol(
                "empty answer to a query (influxd always sends a document)".into(),
            ));
        }
        if let Some(open) = self.open_statement.filter(|_| streamed) {
            return Err(Error::Protocol(
                format!(
                    "the answer ended in the middle of statement {open} (its last result was \
                     marked partial): the connection was cut"
                )
                .into(),
            ));
        }
        if let Some(expected) = statements {
            let seen = self.last_statement.map_or(0, |last| last + 1);
            if !self.failed && seen < expected {
                return Err(Error::Protocol(
                    format!(
                        "the answer holds results for {seen} of {expected} statements: the \
                         connection was cut"
                    )
                    .into(),
                ));
            }
        }
        Ok(())
    }
}

fn chunk<'a>(
    s: &mut Scanner<'a>,
    visitor: &mut impl AnswerVisitor<'a>,
    walk: &mut Walk,
) -> Result<(), Stop> {
    s.begin_object()?;
    let mut first = true;
    while let Some(key) = s.next_key(&mut first)? {
        match key.as_ref() {
            "results" => {
                if s.null() {
                    continue;
                }
                s.begin_array()?;
                let mut first = true;
                let mut position = 0;
                while s.next_item(&mut first)? {
                    statement_result(s, visitor, walk, position)?;
                    position += 1;
                }
            }
            "error" => {
                let message = s.string()?.into_owned();
                return Err(Stop::Error(Error::Client {
                    status: 200,
                    message,
                }));
            }
            _ => s.skip()?,
        }
    }
    Ok(())
}

fn statement_result<'a>(
    s: &mut Scanner<'a>,
    visitor: &mut impl AnswerVisitor<'a>,
    walk: &mut Walk,
    position: usize,
) -> Result<(), Stop> {
    let mut label: Option<usize> = None;
    let mut error = None;
    let mut partial = false;
    let mut messages = Vec::new();
    // Where `series` began, when it came before `statement_id` (influxd writes the id first;
    // anything else is read again once the id is known).
    let mut deferred = None;
    s.begin_object()?;
    let mut first = true;
    while let Some(key) = s.next_key(&mut first)? {
        match key.as_ref() {
            "statement_id" => label = Some(s.index()?),
            "series" => match label {
                Some(l) if visitor.wants(l) => series_list(s, visitor, l)?,
                Some(_) => s.skip()?,
                None => {
                    deferred = Some(s.offset());
                    s.skip()?;
                }
            },
            "error" => {
                if !s.null() {
                    error = Some(s.string()?.into_owned());
                }
            }
            "messages" => messages = message_list(s)?,
            "partial" => partial = s.boolean()?,
            _ => s.skip()?,
        }
    }
    let label = match label {
        Some(label) => label,
        // influxd's MessagePack writes a failed statement's result as `{"error": ...}` alone:
        // it belongs to the statement left open by a partial result, else to the one after
        // the last seen (results come in order, one or more a statement).
        None if s.is_msgpack() => walk
            .open_statement
            .or_else(|| walk.last_statement.map(|last| last + 1))
            .unwrap_or(0),
        None => position,
    };
    if let Some(at) = deferred {
        if visitor.wants(label) {
            let resume = s.offset();
            s.seek(at);
            series_list(s, visitor, label)?;
            s.seek(resume);
        }
    }
    let id = walk.numbering.assign(label, &mut error);
    walk.failed |= error.is_some();
    walk.last_statement = walk.last_statement.max(Some(id));
    walk.open_statement = partial.then_some(id);
    visitor.result(id, label, error, messages)
}

fn series_list<'a>(
    s: &mut Scanner<'a>,
    visitor: &mut impl AnswerVisitor<'a>,
    label: usize,
) -> Result<(), Stop> {
    if s.null() {
        return Ok(());
    }
    s.begin_array()?;
    let mut first = true;
    while s.next_item(&mut first)? {
        series(s, visitor, label)?;
    }
    Ok(())
}

fn series<'a>(
    s: &mut Scanner<'a>,
    visitor: &mut impl AnswerVisitor<'a>,
    label: usize,
) -> Result<(), Stop> {
    let mut head = SeriesHead::default();
    let mut partial = false;
    let mut seen_columns = false;
    let mut seen_tags = false;
    // Where `values` began, when it came before `columns`.
    let mut deferred = None;
    s.begin_object()?;
    let mut first = true;
    while let Some(key) = s.next_key(&mut first)? {
        match key.as_ref() {
            "name" => {
                head.name = if s.null() { None } else { Some(s.string()?) };
            }
            "tags" => {
                if seen_tags {
                    return Err(s.error("a series lists its tags twice").into());
                }
                seen_tags = true;
                if s.null() {
                    continue;
                }
                s.begin_object()?;
                let mut first = true;
                while let Some(k) = s.next_key(&mut first)? {
                    let v = s.string()?;
                    head.tags.push((k, v));
                }
            }
            "columns" => {
                // Rows are checked against the columns they follow: a second list would
                // change the width of rows already read.
                if seen_columns {
                    return Err(s.error("a series lists its columns twice").into());
                }
                seen_columns = true;
                if s.null() {
                    continue;
                }
                s.begin_array()?;
                let mut first = true;
                while s.next_item(&mut first)? {
                    head.columns.push(s.string()?);
                }
            }
            "values" if s.null() => {}
            "values" if seen_columns => visitor.rows(label, &head, s)?,
            "values" => {
                deferred = Some(s.offset());
                s.skip()?;
            }
            "partial" => partial = s.boolean()?,
            _ => s.skip()?,
        }
    }
    if let Some(at) = deferred {
        let resume = s.offset();
        s.seek(at);
        visitor.rows(label, &head, s)?;
        s.seek(resume);
    }
    visitor.end_series(label, head, partial)
}

fn message_list(s: &mut Scanner<'_>) -> Result<Vec<Message>, ScanError> {
    let mut out = Vec::new();
    if s.null() {
        return Ok(out);
    }
    s.begin_array()?;
    let mut first = true;
    while s.next_item(&mut first)? {
        let mut message = Message {
            level: String::new(),
            text: String::new(),
        };
        s.begin_object()?;
        let mut first = true;
        while let Some(key) = s.next_key(&mut first)? {
            match key.as_ref() {
                "level" => message.level = s.string()?.into_owned(),
                "text" => message.text = s.string()?.into_owned(),
                _ => s.skip()?,
            }
        }
        out.push(message);
    }
    Ok(out)
}

/// An informational message attached to a statement's result.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Message {
    /// The level (`warning`, ...).
    pub level: String,
    /// The text.
    pub text: String,
}

/// The error for a row whose number of values is not its series' number of columns: the same
/// on every read path (the answer is not what influxd sends).
pub(crate) fn ragged(statement: usize, values: usize, columns: usize) -> Stop {
    Stop::Error(Error::Protocol(
        format!("statement {statement}: a row of {values} values in a series of {columns} columns")
            .into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_executed_results_after_a_failure_belong_to_the_next_statements() {
        let mut n = Numbering::default();
        assert_eq!(n.assign(0, &mut None), 0);
        let mut real = Some("database not found: nodb".to_owned());
        assert_eq!(n.assign(1, &mut real), 1);
        assert_eq!(real.as_deref(), Some("database not found: nodb"));
        // 1.6 labels both later "not executed" results 1.
        assert_eq!(n.assign(1, &mut Some(NOT_EXECUTED.into())), 2);
        assert_eq!(n.assign(1, &mut Some(NOT_EXECUTED.into())), 3);
    }

    #[test]
    fn a_not_executed_without_a_failure_before_it_says_the_error_was_lost() {
        let mut n = Numbering::default();
        let mut error = Some(NOT_EXECUTED.to_owned());
        assert_eq!(n.assign(1, &mut error), 1);
        assert!(error.unwrap().contains("chunked"));
    }
}
