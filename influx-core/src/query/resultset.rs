//! Query results: [`ResultSet`] (one per statement), [`ResultSeries`] and [`Row`],
//! decoded straight from the response bytes.
//!
//! Cells are stored compactly, row after row (see `cells`): decoding builds no
//! `serde_json::Value` tree and allocates nothing per row, and a [`Row`] hands out each cell
//! as a [`Value`] borrowing its string from the series.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::error::Error;
use crate::query::answer::{self, AnswerVisitor, Message, SeriesHead, Stop};
use crate::query::cells::{CellWriter, Cells};
use crate::query::scan::Scanner;
use crate::query::value::Value;

/// One series of a statement's result: a measurement name, the `GROUP BY` tags, the columns
/// and the rows. Every row has one cell per column (checked when it is decoded).
#[derive(Clone)]
pub struct ResultSeries {
    name: Option<String>,
    tags: BTreeMap<String, String>,
    columns: Vec<String>,
    values: Cells,
    partial: bool,
}

/// The name, tags, columns, rows (each a list of its cells) and `partial` flag.
impl fmt::Debug for ResultSeries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// The rows, each as the list of its cells.
        struct Rows<'s>(&'s ResultSeries);
        impl fmt::Debug for Rows<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(self.0.rows().map(|row| row.values().collect::<Vec<_>>()))
                    .finish()
            }
        }
        f.debug_struct("ResultSeries")
            .field("name", &self.name)
            .field("tags", &self.tags)
            .field("columns", &self.columns)
            .field("values", &Rows(self))
            .field("partial", &self.partial)
            .finish()
    }
}

/// Equal when the name, tags, columns, `partial` flag and every cell are.
impl PartialEq for ResultSeries {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.tags == other.tags
            && self.columns == other.columns
            && self.partial == other.partial
            && self.len() == other.len()
            && self
                .rows()
                .zip(other.rows())
                .all(|(a, b)| a.values().eq(b.values()))
    }
}

impl ResultSeries {
    /// The measurement name (absent for some `SHOW` statements).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The `GROUP BY` tags of this series, sorted by key.
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }

    /// The column names, `time` first for `SELECT`s.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The index of `column`.
    pub fn column_index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.values.rows()
    }

    /// True when the series has no row.
    pub fn is_empty(&self) -> bool {
        self.values.rows() == 0
    }

    /// The server's `partial` flag. Only meaningful in chunked responses: 1.6 also sets it on
    /// complete non-chunked series of more than 10 000 rows.
    pub fn partial(&self) -> bool {
        self.partial
    }

    /// The rows.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_>> + '_ {
        let width = self.columns.len();
        (0..self.values.rows()).map(move |i| Row {
            series: self,
            start: i * width,
        })
    }

    /// Whether this series is in `measurement` (any if `None`) and has every `(key, value)`
    /// of `tags` among its `GROUP BY` tags.
    pub fn matches(&self, measurement: Option<&str>, tags: &[(&str, &str)]) -> bool {
        measurement.is_none_or(|m| self.name.as_deref() == Some(m))
            && tags
                .iter()
                .all(|(k, v)| self.tags.get(*k).map(String::as_str) == Some(*v))
    }
}

/// One row of a series: cells by column name or index, each handed out as a [`Value`] that
/// borrows its string from the series.
///
/// Its `Debug` shows the cells by column, as a map:
///
/// ```
/// use influx_series::{Value, decode_response};
///
/// let answer = r#"{"results":[{"statement_id":0,"series":[{"name":"cpu",
///     "columns":["time","host","usage"],"values":[["2009-11-10T23:00:00Z","a",0.5]]}]}]}"#;
/// let set = &decode_response(answer.as_bytes(), true)?[0];
/// let row = set.rows().next().unwrap();
/// assert_eq!(row.get("usage"), Some(Value::Float(0.5)));
/// assert_eq!(row.value(1).as_ref().and_then(Value::as_str), Some("a"));
/// assert_eq!(
///     format!("{row:?}"),
///     r#"{"time": "2009-11-10T23:00:00Z", "host": "a", "usage": 0.5}"#
/// );
/// # Ok::<(), influx_series::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Row<'a> {
    series: &'a ResultSeries,
    /// The index of the row's first cell.
    start: usize,
}

impl fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// A cell as its `Display` (strings quoted, numbers bare, `null`).
        struct Cell<'v>(Value<'v>);
        impl fmt::Debug for Cell<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        f.debug_map()
            .entries(self.iter().map(|(column, cell)| (column, Cell(cell))))
            .finish()
    }
}

impl<'a> Row<'a> {
    /// The cell in `column`.
    pub fn get(&self, column: &str) -> Option<Value<'a>> {
        self.series.column_index(column).and_then(|i| self.value(i))
    }

    /// The cell in the column at `index` (see [`ResultSeries::columns`]).
    pub fn value(&self, index: usize) -> Option<Value<'a>> {
        (index < self.series.columns.len()).then(|| self.series.values.get(self.start + index))
    }

    /// The string in `column`, borrowed from the series (`None` when the cell holds no
    /// string).
    ///
    /// ```
    /// let answer = br#"{"results":[{"series":[{"columns":["name"],"values":[["metrics"]]}]}]}"#;
    /// let sets = influx_series::decode_response(answer, true)?;
    /// let names: Vec<&str> = sets[0].rows().filter_map(|row| row.get_str("name")).collect();
    /// assert_eq!(names, ["metrics"]);
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn get_str(&self, column: &str) -> Option<&'a str> {
        let i = self.series.column_index(column)?;
        self.series.values.get_str(self.start + i)
    }

    /// The cells in column order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = Value<'a>> + 'a {
        let (cells, start) = (&self.series.values, self.start);
        (0..self.series.columns.len()).map(move |i| cells.get(start + i))
    }

    /// `(column, cell)` pairs, as Python's point dictionaries.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&'a str, Value<'a>)> + 'a {
        self.series
            .columns
            .iter()
            .map(String::as_str)
            .zip(self.values())
    }

    /// The series the row belongs to (its name and tags).
    pub fn series(&self) -> &'a ResultSeries {
        self.series
    }

    /// Whether every `(key, value)` of `tags` is either a `GROUP BY` tag of the row's series
    /// or a string column of the row itself (a query without `GROUP BY` returns tags as
    /// columns).
    pub fn has_tags(&self, tags: &[(&str, &str)]) -> bool {
        tags.iter().all(|(k, v)| {
            self.series.tags.get(*k).map(String::as_str) == Some(*v) || self.get_str(k) == Some(*v)
        })
    }
}

/// The result of one statement, as influxdb-python's `ResultSet`.
///
/// ```
/// use influx_series::decode_response;
///
/// let body = br#"{"results":[{"statement_id":0,"series":[
///   {"name":"cpu","tags":{"host":"a"},"columns":["time","v"],"values":[[1,0.5],[2,1]]},
///   {"name":"cpu","tags":{"host":"b"},"columns":["time","v"],"values":[[1,2.5]]}]}]}"#;
/// let results = decode_response(body, true)?;
/// let rs = &results[0];
/// let b: Vec<f64> = rs.get_points(Some("cpu"), &[("host", "b")])
///     .map(|row| row.get("v").and_then(|v| v.as_f64()).unwrap())
///     .collect();
/// assert_eq!(b, [2.5]);
/// assert_eq!(rs.keys().len(), 2);
/// assert_eq!(rs.rows().count(), 3);
/// # Ok::<(), influx_series::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ResultSet {
    statement_id: usize,
    series: Vec<ResultSeries>,
    error: Option<String>,
    messages: Vec<Message>,
}

impl ResultSet {
    /// The statement's index in the query.
    pub fn statement_id(&self) -> usize {
        self.statement_id
    }

    /// Every series.
    pub fn series(&self) -> &[ResultSeries] {
        &self.series
    }

    /// The statement's error, when it failed (kept here with `raise_errors = false`).
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Informational messages.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// This statement's result as JSON, written anew from what was decoded (as influxdb-python's
    /// `raw`, the statement's part of the answer), in influxd's order: `statement_id`, then
    /// `series` (each with `name`, `tags`, `columns`, `values`), `error` and `messages` where
    /// there are any; a series cut short keeps `"partial":true`. The
    /// answer's own bytes are not kept: a merged chunked answer has no one document to keep,
    /// and a second copy of a large answer would double its memory.
    ///
    /// ```
    /// let answer = br#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[[1,0.5]]}]}]}"#;
    /// let sets = influx_series::decode_response(answer, true)?;
    /// assert_eq!(
    ///     sets[0].raw(),
    ///     r#"{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[[1,0.5]]}]}"#
    /// );
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn raw(&self) -> String {
        fn text(out: &mut String, s: &str) {
            out.push_str(&serde_json::Value::from(s).to_string());
        }
        let mut out = format!("{{\"statement_id\":{}", self.statement_id);
        if !self.series.is_empty() {
            out.push_str(",\"series\":[");
            for (i, series) in self.series.iter().enumerate() {
                out.push_str(if i == 0 { "{" } else { ",{" });
                if let Some(name) = &series.name {
                    out.push_str("\"name\":");
                    text(&mut out, name);
                    out.push(',');
                }
                if !series.tags.is_empty() {
                    out.push_str("\"tags\":{");
                    for (k, (key, value)) in series.tags.iter().enumerate() {
                        if k > 0 {
                            out.push(',');
                        }
                        text(&mut out, key);
                        out.push(':');
                        text(&mut out, value);
                    }
                    out.push_str("},");
                }
                out.push_str("\"columns\":[");
                for (c, column) in series.columns.iter().enumerate() {
                    if c > 0 {
                        out.push(',');
                    }
                    text(&mut out, column);
                }
                out.push(']');
                if !series.is_empty() {
                    out.push_str(",\"values\":[");
                    for (r, row) in series.rows().enumerate() {
                        out.push_str(if r == 0 { "[" } else { ",[" });
                        for (c, cell) in row.values().enumerate() {
                            if c > 0 {
                                out.push(',');
                            }
                            match cell {
                                Value::String(s) => text(&mut out, &s),
                                other => out.push_str(&other.to_string()),
                            }
                        }
                        out.push(']');
                    }
                    out.push(']');
                }
                if series.partial {
                    out.push_str(",\"partial\":true");
                }
                out.push('}');
            }
            out.push(']');
        }
        if let Some(error) = &self.error {
            out.push_str(",\"error\":");
            text(&mut out, error);
        }
        if !self.messages.is_empty() {
            out.push_str(",\"messages\":[");
            for (m, message) in self.messages.iter().enumerate() {
                out.push_str(if m == 0 {
                    "{\"level\":"
                } else {
                    ",{\"level\":"
                });
                text(&mut out, &message.level);
                out.push_str(",\"text\":");
                text(&mut out, &message.text);
                out.push('}');
            }
            out.push(']');
        }
        out.push('}');
        out
    }

    /// Every row of every series.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> + '_ {
        self.series.iter().flat_map(ResultSeries::rows)
    }

    /// Rows of the series in `measurement` (any if `None`) that carry every `(key, value)` of
    /// `tags`, as Python's `get_points(measurement, tags)`: a tag matches a `GROUP BY` tag of
    /// the series or a column of the row (a query without `GROUP BY` returns tags as columns).
    /// A series without a name (the answer to some `SHOW` statements) matches only when
    /// neither a measurement nor tags are asked for.
    ///
    /// Python requires every tag to match in the same place, either all in the series' tags
    /// or all in the row; here each tag may match in either, so `GROUP BY host` with a filter
    /// on `host` and on a column `region` finds the rows that have both.
    ///
    /// ```
    /// use influx_series::decode_response;
    ///
    /// let body = br#"{"results":[{"statement_id":0,"series":[{"name":"cpu",
    ///   "columns":["time","host","v"],"values":[[1,"a",0.5],[2,"b",1.5]]}]}]}"#;
    /// let results = decode_response(body, true)?;
    /// let b: Vec<_> = results[0].get_points(None, &[("host", "b")]).collect();
    /// assert_eq!(b.len(), 1);
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn get_points<'a>(
        &'a self,
        measurement: Option<&'a str>,
        tags: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = Row<'a>> + 'a {
        self.series
            .iter()
            .filter(move |s| match s.name.as_deref() {
                None => measurement.is_none() && tags.is_empty(),
                Some(name) => measurement.is_none_or(|m| m == name),
            })
            .flat_map(ResultSeries::rows)
            .filter(move |row| row.has_tags(tags))
    }

    /// `(measurement, tags)` of every series, as Python's `keys()`.
    pub fn keys(&self) -> Vec<(Option<&str>, &BTreeMap<String, String>)> {
        self.series.iter().map(|s| (s.name(), s.tags())).collect()
    }

    /// `((measurement, tags), rows)` for every series, as Python's `items()`.
    pub fn items(
        &self,
    ) -> impl Iterator<Item = ((Option<&str>, &BTreeMap<String, String>), &ResultSeries)> {
        self.series.iter().map(|s| ((s.name(), s.tags()), s))
    }

    /// The number of rows over every series.
    pub fn len(&self) -> usize {
        self.series.iter().map(ResultSeries::len).sum()
    }

    /// True when the statement returned no row: `len() == 0` (a series without rows, as
    /// `SHOW DATABASES` gives when there is none, counts for nothing).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Display for ResultSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResultSet({{")?;
        for (i, s) in self.series.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "('{}', {:?}): [", s.name().unwrap_or_default(), s.tags())?;
            for (j, row) in s.rows().enumerate() {
                if j > 0 {
                    f.write_str(", ")?;
                }
                f.write_str("{")?;
                for (k, (col, v)) in row.iter().enumerate() {
                    if k > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "'{col}': {v}")?;
                }
                f.write_str("}")?;
            }
            f.write_str("]")?;
        }
        write!(f, "}})")
    }
}

/// Decodes a `/query` answer into one [`ResultSet`] per statement, in the order the answer
/// gives them.
///
/// A chunked answer (several JSON documents in a row) is merged: each statement gets the
/// series of every chunk labelled with its `statement_id`, and a series continued in the next
/// chunk (same name, tags and columns, the earlier piece marked `partial`) gets its rows. An
/// error after rows replaces them, as influxd does without chunks. After a failed statement,
/// influxd 1.6 labels the "not executed" results of the following statements with the failed
/// one's id; they are given to the statements they belong to.
///
/// With `raise_errors`, the first failed statement is an [`Error::Statement`] naming its index;
/// without, its error stays in its `ResultSet`. An empty answer is [`Error::Protocol`].
pub fn decode_response(body: &[u8], raise_errors: bool) -> Result<Vec<ResultSet>, Error> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Error::Protocol(format!("query answer is not UTF-8: {e}").into()))?;
    let mut visitor = SetBuilder::new(raise_errors);
    match answer::walk(text, &mut visitor) {
        Ok(()) => Ok(visitor.finish()),
        Err(stop) => Err(answer::stop_error(stop)),
    }
}

/// Builds the result sets while an answer is walked, one document after another: series a
/// chunk boundary cut are joined again.
pub(crate) struct SetBuilder {
    raise_errors: bool,
    sets: Vec<ResultSet>,
    /// Statement id -> position in `sets`, so that many statements decode in linear time.
    index: HashMap<usize, usize>,
    /// The rows of the series being read.
    current: CellWriter,
}

impl SetBuilder {
    pub(crate) fn new(raise_errors: bool) -> SetBuilder {
        SetBuilder {
            raise_errors,
            sets: Vec::new(),
            index: HashMap::new(),
            current: CellWriter::default(),
        }
    }

    /// The sets built, one per statement, in the order their results came.
    pub(crate) fn finish(self) -> Vec<ResultSet> {
        self.sets
    }

    /// Takes the sets built so far (for a reader that hands them out chunk by chunk).
    pub(crate) fn take(&mut self) -> Vec<ResultSet> {
        self.index.clear();
        std::mem::take(&mut self.sets)
    }

    fn set(&mut self, id: usize) -> &mut ResultSet {
        let position = self.position(id);
        &mut self.sets[position]
    }

    /// The position in `sets` of statement `id`'s set (created if need be).
    fn position(&mut self, id: usize) -> usize {
        match self.index.get(&id) {
            Some(&p) => p,
            None => {
                self.sets.push(ResultSet {
                    statement_id: id,
                    series: Vec::new(),
                    error: None,
                    messages: Vec::new(),
                });
                self.index.insert(id, self.sets.len() - 1);
                self.sets.len() - 1
            }
        }
    }
}

impl<'a> AnswerVisitor<'a> for SetBuilder {
    fn wants(&self, _: usize) -> bool {
        true
    }

    fn rows(
        &mut self,
        label: usize,
        head: &SeriesHead<'a>,
        s: &mut Scanner<'a>,
    ) -> Result<(), Stop> {
        let width = head.columns.len();
        let rows = &mut self.current;
        s.begin_array()?;
        let mut first_row = true;
        while s.next_item(&mut first_row)? {
            s.begin_array()?;
            let mut first = true;
            let mut n = 0;
            while s.next_item(&mut first)? {
                rows.push(n, s.cell()?);
                n += 1;
            }
            if n != width {
                return Err(answer::ragged(label, n, width));
            }
            rows.end_row();
        }
        Ok(())
    }

    fn end_series(
        &mut self,
        label: usize,
        head: SeriesHead<'a>,
        partial: bool,
    ) -> Result<(), Stop> {
        let position = self.position(label);
        let set = &mut self.sets[position];
        // An error in the statement voids its rows (see `result`).
        if set.error.is_none() {
            let name = head.name.map(Cow::into_owned);
            let tags: BTreeMap<String, String> = head
                .tags
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let columns: Vec<String> = head.columns.into_iter().map(Cow::into_owned).collect();
            match set.series.last_mut() {
                // A series cut short at a chunk's end, continued here: its rows join it.
                Some(last)
                    if last.partial
                        && last.name == name
                        && last.tags == tags
                        && last.columns == columns =>
                {
                    last.values.append(self.current.cells());
                    last.partial = partial;
                }
                _ => set.series.push(ResultSeries {
                    name,
                    tags,
                    columns,
                    // Copied at its own size: the writer's buffers stay for the next piece.
                    values: self.current.cells().clone(),
                    partial,
                }),
            }
        }
        self.current.clear();
        Ok(())
    }

    fn result(
        &mut self,
        id: usize,
        _label: usize,
        error: Option<String>,
        messages: Vec<Message>,
    ) -> Result<(), Stop> {
        if let Some(message) = error {
            if self.raise_errors {
                return Err(Stop::Error(Error::Statement { index: id, message }));
            }
            let set = self.set(id);
            // The first error is the statement's own; its rows are void, as without chunks.
            if set.error.is_none() {
                set.error = Some(message);
                set.series.clear();
            }
        }
        let set = self.set(id);
        set.messages.extend(messages);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_partial_series_and_errors() {
        let body = br#"{"results":[
            {"statement_id":0,"series":[{"name":"m","columns":["time","v","s","b"],
              "values":[["2009-11-10T23:00:00Z",1,"x",true],["2009-11-10T23:00:01Z",null,"y",false]],
              "partial":true}]},
            {"statement_id":1,"error":"database not found: nope"}]}"#;
        match decode_response(body, true) {
            Err(Error::Statement { index: 1, message }) => {
                assert_eq!(message, "database not found: nope")
            }
            other => panic!("{other:?}"),
        }
        let sets = decode_response(body, false).unwrap();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[1].error(), Some("database not found: nope"));
        let s = &sets[0].series()[0];
        assert!(s.partial());
        let rows: Vec<_> = s.rows().collect();
        assert_eq!(rows[1].get("v"), Some(Value::Null));
        assert_eq!(rows[0].get("b"), Some(Value::Bool(true)));
        assert_eq!(rows[1].get("s").as_ref().and_then(Value::as_str), Some("y"));
    }

    #[test]
    fn chunks_merge_into_one_result_per_statement() {
        let body = br#"{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[[1,1],[2,2]],"partial":true}],"partial":true}]}
{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v"],"values":[[3,3]]}]}]}
"#;
        let sets = decode_response(body, true).unwrap();
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].series().len(), 1);
        assert_eq!(sets[0].len(), 3);
        assert!(!sets[0].series()[0].partial());
    }

    #[test]
    fn ragged_rows_are_a_protocol_error() {
        let body =
            br#"{"results":[{"series":[{"name":"m","columns":["a","b"],"values":[[1,2],[3]]}]}]}"#;
        assert!(matches!(
            decode_response(body, true),
            Err(Error::Protocol(_))
        ));
    }
}
