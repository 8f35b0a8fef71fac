//! A query's answer as frames: the rows of each series go cell by cell from the scanner into
//! typed column builders, as the answer's documents arrive; no JSON value, row or `Vec` of
//! rows is held.

use std::collections::{BTreeMap, HashMap};

use polars_core::prelude::{
    BooleanChunkedBuilder, ChunkedBuilder, Column, DataFrame, Float64Type, Int64Chunked, Int64Type,
    IntoColumn, IntoSeries, PrimitiveChunkedBuilder, SortMultipleOptions, StringChunkedBuilder,
    TimeUnit, TimeZone,
};

use crate::error::Error;
use crate::frame::options::{FieldType, FrameKey, FrameQueryOptions, Frames};
use crate::protocol::precision::Precision;
use crate::query::answer::Message;
use crate::query::answer::{self, AnswerVisitor, SeriesHead, Stop};
use crate::query::scan::Scanner;
use crate::query::value::Value;

/// The polars unit of a query's epoch, and how many of it make one epoch unit.
pub(crate) fn time_unit(epoch: Precision) -> (TimeUnit, i64) {
    match epoch {
        Precision::Nanoseconds => (TimeUnit::Nanoseconds, 1),
        Precision::Microseconds => (TimeUnit::Microseconds, 1),
        Precision::Milliseconds => (TimeUnit::Milliseconds, 1),
        Precision::Seconds => (TimeUnit::Milliseconds, 1_000),
        Precision::Minutes => (TimeUnit::Milliseconds, 60_000),
        Precision::Hours => (TimeUnit::Milliseconds, 3_600_000),
    }
}

/// A cell of a column no type is known for, kept until the column is whole.
enum Loose {
    Null,
    Number(f64),
    Bool(bool),
    Text(String),
}

/// One column being built.
enum ColumnBuilder {
    Time(Vec<i64>),
    Float(PrimitiveChunkedBuilder<Float64Type>),
    Integer(PrimitiveChunkedBuilder<Int64Type>),
    Boolean(BooleanChunkedBuilder),
    String(StringChunkedBuilder),
    Untyped(Vec<Loose>),
}

impl ColumnBuilder {
    fn new(name: &str, ty: Option<FieldType>) -> ColumnBuilder {
        if name == "time" {
            return ColumnBuilder::Time(Vec::new());
        }
        let name = name.into();
        match ty {
            Some(FieldType::Float) => ColumnBuilder::Float(PrimitiveChunkedBuilder::new(name, 0)),
            Some(FieldType::Integer) => {
                ColumnBuilder::Integer(PrimitiveChunkedBuilder::new(name, 0))
            }
            Some(FieldType::Boolean) => ColumnBuilder::Boolean(BooleanChunkedBuilder::new(name, 0)),
            Some(FieldType::String) => ColumnBuilder::String(StringChunkedBuilder::new(name, 0)),
            None => ColumnBuilder::Untyped(Vec::new()),
        }
    }

    /// Adds a cell; the error says what was expected.
    #[inline]
    fn push(&mut self, cell: Value<'_>, per_unit: i64) -> Result<(), String> {
        match (self, cell) {
            (ColumnBuilder::Time(v), Value::Integer(t)) => {
                v.push(t.checked_mul(per_unit).ok_or("a time out of range")?)
            }
            (ColumnBuilder::Time(_), other) => {
                return Err(format!("expected an integer time, found {}", other.kind()));
            }
            (ColumnBuilder::Float(b), Value::Float(x)) => b.append_value(x),
            // JSON writes a whole float without its fraction: `1.0` arrives as `1`.
            (ColumnBuilder::Float(b), Value::Integer(x)) => b.append_value(x as f64),
            (ColumnBuilder::Float(b), Value::Unsigned(x)) => b.append_value(x as f64),
            (ColumnBuilder::Float(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Integer(b), Value::Integer(x)) => b.append_value(x),
            (ColumnBuilder::Integer(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Boolean(b), Value::Bool(x)) => b.append_value(x),
            (ColumnBuilder::Boolean(b), Value::Null) => b.append_null(),
            (ColumnBuilder::String(b), Value::String(x)) => b.append_value(&x),
            (ColumnBuilder::String(b), Value::Null) => b.append_null(),
            (ColumnBuilder::Untyped(v), cell) => v.push(match cell {
                Value::Null => Loose::Null,
                Value::Bool(x) => Loose::Bool(x),
                Value::Integer(x) => Loose::Number(x as f64),
                Value::Unsigned(x) => Loose::Number(x as f64),
                Value::Float(x) => Loose::Number(x),
                Value::String(x) => Loose::Text(x.into_owned()),
            }),
            (b, cell) => {
                let want = match b {
                    ColumnBuilder::Float(_) => "a float",
                    ColumnBuilder::Integer(_) => "an integer",
                    ColumnBuilder::Boolean(_) => "a boolean",
                    _ => "a string",
                };
                return Err(format!("expected {want}, found {}", cell.kind()));
            }
        }
        Ok(())
    }

    fn finish(self, name: &str, unit: TimeUnit) -> Result<Column, String> {
        Ok(match self {
            ColumnBuilder::Time(v) => Int64Chunked::from_vec(name.into(), v)
                .into_datetime(unit, Some(TimeZone::UTC))
                .into_column(),
            ColumnBuilder::Float(b) => b.finish().into_column(),
            ColumnBuilder::Integer(b) => b.finish().into_column(),
            ColumnBuilder::Boolean(b) => b.finish().into_column(),
            ColumnBuilder::String(b) => b.finish().into_column(),
            ColumnBuilder::Untyped(cells) => untyped(name, cells)?,
        })
    }
}

/// A column without a known type, typed by its cells as a whole: all numbers, all text or all
/// booleans (nulls aside); all null is a `Float64` column of nulls.
fn untyped(name: &str, cells: Vec<Loose>) -> Result<Column, String> {
    let kind = cells.iter().find(|c| !matches!(c, Loose::Null));
    let n = cells.len();
    let mixed = || format!("column `{name}` holds values of several types: give it a type");
    let name: polars_core::prelude::PlSmallStr = name.into();
    Ok(match kind {
        None | Some(Loose::Number(_)) => {
            let mut b = PrimitiveChunkedBuilder::<Float64Type>::new(name, n);
            for c in cells {
                match c {
                    Loose::Number(x) => b.append_value(x),
                    Loose::Null => b.append_null(),
                    _ => return Err(mixed()),
                }
            }
            b.finish().into_series().into_column()
        }
        Some(Loose::Bool(_)) => {
            let mut b = BooleanChunkedBuilder::new(name, n);
            for c in cells {
                match c {
                    Loose::Bool(x) => b.append_value(x),
                    Loose::Null => b.append_null(),
                    _ => return Err(mixed()),
                }
            }
            b.finish().into_series().into_column()
        }
        Some(Loose::Text(_)) => {
            let mut b = StringChunkedBuilder::new(name, n);
            for c in cells {
                match c {
                    Loose::Text(x) => b.append_value(&x),
                    Loose::Null => b.append_null(),
                    _ => return Err(mixed()),
                }
            }
            b.finish().into_series().into_column()
        }
        Some(Loose::Null) => unreachable!("skipped by find"),
    })
}

/// A series' frame being built.
struct SeriesBuilder {
    names: Vec<String>,
    columns: Vec<ColumnBuilder>,
    rows: usize,
}

/// What one statement's answer has given so far.
#[derive(Default)]
struct StatementState {
    series: BTreeMap<FrameKey, SeriesBuilder>,
    error: Option<String>,
    found: bool,
}

/// Reads the series of a run of statements into frames, one set of frames a statement.
pub(crate) struct FrameReader<'o> {
    /// The first statement read; `statements[i]` is statement `first + i`.
    first: usize,
    statements: Vec<StatementState>,
    options: &'o FrameQueryOptions,
    /// The server's field types, by measurement.
    server: HashMap<String, HashMap<String, FieldType>>,
    unit: TimeUnit,
    per_unit: i64,
}

impl<'o> FrameReader<'o> {
    /// A reader of the statements `statements` (a range of their indexes).
    pub(crate) fn new(
        statements: std::ops::Range<usize>,
        options: &'o FrameQueryOptions,
        server: HashMap<String, HashMap<String, FieldType>>,
    ) -> FrameReader<'o> {
        let (unit, per_unit) = time_unit(options.epoch());
        FrameReader {
            first: statements.start,
            statements: statements.map(|_| StatementState::default()).collect(),
            options,
            server,
            unit,
            per_unit,
        }
    }

    /// The state of statement `label`, if it is one this reader reads.
    fn state(&mut self, label: usize) -> Option<&mut StatementState> {
        let i = label.checked_sub(self.first)?;
        self.statements.get_mut(i)
    }

    /// The frames of each statement, in order, once the whole answer has been walked.
    pub(crate) fn finish(self) -> Result<Vec<Frames>, Error> {
        if let Some(e) = self.statement_error() {
            return Err(e);
        }
        let mut all = Vec::with_capacity(self.statements.len());
        for (i, statement) in self.statements.into_iter().enumerate() {
            let index = self.first + i;
            if !statement.found {
                return Err(Error::Decode(
                    format!("the answer has no statement {index}").into(),
                ));
            }
            let mut frames = Frames::new();
            for (key, series) in statement.series {
                let frame = build_frame(&key, series, self.unit, self.options)?;
                frames.insert(key, frame);
            }
            all.push(frames);
        }
        Ok(all)
    }

    /// The first error of a statement read, once its result has come.
    pub(crate) fn statement_error(&self) -> Option<Error> {
        self.statements.iter().enumerate().find_map(|(i, s)| {
            s.error.as_ref().map(|message| Error::Statement {
                index: self.first + i,
                message: message.clone(),
            })
        })
    }
}

/// A series' frame from its columns, with `options`' `dropna` and index columns applied.
fn build_frame(
    key: &FrameKey,
    series: SeriesBuilder,
    unit: TimeUnit,
    options: &FrameQueryOptions,
) -> Result<DataFrame, Error> {
    let index = &options.index;
    for name in index {
        if !series.names.contains(name) {
            return Err(Error::InvalidArgument(
                format!(
                    "index column `{name}` is not a column of the frame of {key:?} (columns: {})",
                    series.names.join(", ")
                )
                .into(),
            ));
        }
    }
    let mut columns = Vec::with_capacity(series.columns.len());
    for (name, builder) in series.names.iter().zip(series.columns) {
        let column = builder
            .finish(name, unit)
            .map_err(|m| Error::Decode(m.into()))?;
        // influxdb-python's `dropna`: a column with no value in any row goes (never the time
        // or an index column, which pandas holds apart from the columns).
        if options.dropna
            && series.rows > 0
            && column.null_count() == series.rows
            && name != "time"
            && !index.contains(name)
        {
            continue;
        }
        columns.push(column);
    }
    if !index.is_empty() {
        // The index columns first, in the order given, the others as they came.
        columns.sort_by_key(|c| {
            index
                .iter()
                .position(|n| n.as_str() == c.name().as_str())
                .unwrap_or(index.len())
        });
    }
    let frame = DataFrame::new(series.rows, columns)
        .map_err(|e| Error::Decode(format!("cannot build the frame of {key:?}: {e}").into()))?;
    if index.is_empty() {
        return Ok(frame);
    }
    // Rows sorted by the index, as pandas' `sort_index`: stable (rows of one index value keep
    // the server's time order), nulls last.
    let sort = SortMultipleOptions::new()
        .with_maintain_order(true)
        .with_nulls_last(true)
        .with_multithreaded(false);
    frame
        .sort(index, sort)
        .map_err(|e| Error::Decode(format!("cannot sort the frame of {key:?}: {e}").into()))
}

impl<'a> AnswerVisitor<'a> for FrameReader<'_> {
    fn wants(&self, label: usize) -> bool {
        label
            .checked_sub(self.first)
            .is_some_and(|i| i < self.statements.len())
    }

    fn rows(
        &mut self,
        label: usize,
        head: &SeriesHead<'a>,
        s: &mut Scanner<'a>,
    ) -> Result<(), Stop> {
        let measurement = head.name.as_deref().unwrap_or_default();
        let key = FrameKey::new(
            measurement,
            head.tags.iter().map(|(k, v)| (k.as_ref(), v.as_ref())),
        );
        let schema = &self.options.schema;
        let per_unit = self.per_unit;
        let server = self.server.get(measurement);
        let Some(state) = label
            .checked_sub(self.first)
            .and_then(|i| self.statements.get_mut(i))
        else {
            return Ok(());
        };
        let series = state.series.entry(key).or_insert_with(|| SeriesBuilder {
            names: head.columns.iter().map(|c| c.to_string()).collect(),
            columns: head
                .columns
                .iter()
                .map(|c| {
                    let ty = schema
                        .get(c.as_ref())
                        .or_else(|| server.and_then(|m| m.get(c.as_ref())))
                        .copied();
                    ColumnBuilder::new(c, ty)
                })
                .collect(),
            rows: 0,
        });
        if series.names.len() != head.columns.len()
            || series.names.iter().zip(&head.columns).any(|(a, b)| a != b)
        {
            return Err(s
                .error(format!(
                    "series `{measurement}` continues with other columns than it began with"
                ))
                .into());
        }
        if s.null() {
            return Ok(());
        }
        s.begin_array()?;
        let mut first_row = true;
        while s.next_item(&mut first_row)? {
            s.begin_array()?;
            let mut first = true;
            let mut col = 0;
            while s.next_item(&mut first)? {
                let at = s.offset();
                let cell = s.cell()?;
                let Some(builder) = series.columns.get_mut(col) else {
                    return Err(s.error("a row with more cells than columns").into());
                };
                builder.push(cell, per_unit).map_err(|m| {
                    Stop::Error(Error::Decode(
                        format!(
                            "row {}, column `{}` of `{measurement}` (at byte {at}): {m}",
                            series.rows, series.names[col]
                        )
                        .into(),
                    ))
                })?;
                col += 1;
            }
            if col != series.columns.len() {
                return Err(s.error("a row with fewer cells than columns").into());
            }
            series.rows += 1;
        }
        Ok(())
    }

    fn result(
        &mut self,
        id: usize,
        label: usize,
        error: Option<String>,
        _: Vec<Message>,
    ) -> Result<(), Stop> {
        if let Some(state) = self.state(label) {
            state.found = true;
        }
        if let Some(state) = self.state(id) {
            state.found = true;
            if state.error.is_none() {
                state.error = error;
            }
        }
        Ok(())
    }
}

/// Decodes statement `statement` of a query's answer (one JSON document, or the documents of
/// a chunked answer) into one frame per series, typed by `options`' schema only (no server is
/// asked; see [`FrameQueryOptions`]). Times are read at `options`' epoch (nanoseconds if none
/// is set), which must be the epoch the query was sent with.
///
/// ```
/// use influx_series::frame::{decode_dataframes, FieldType, FrameKey, FrameQueryOptions};
///
/// let answer = br#"{"results":[{"statement_id":0,"series":[{"name":"cpu",
///   "tags":{"host":"a"},"columns":["time","usage"],"values":[[1,0.5],[2,1]]}]}]}"#;
/// let options = FrameQueryOptions::new().column("usage", FieldType::Float);
/// let frames = decode_dataframes(answer, 0, &options)?;
/// let frame = &frames[&FrameKey::new("cpu", [("host", "a")])];
/// let usage: Vec<Option<f64>> = frame.column("usage").unwrap().f64().unwrap().iter().collect();
/// assert_eq!(usage, [Some(0.5), Some(1.0)]);
/// # Ok::<(), influx_series::Error>(())
/// ```
pub fn decode_dataframes(
    body: &[u8],
    statement: usize,
    options: &FrameQueryOptions,
) -> Result<Frames, Error> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Error::Decode(format!("the answer is not UTF-8: {e}").into()))?;
    let mut reader = FrameReader::new(statement..statement + 1, options, HashMap::new());
    answer::walk(text, &mut reader).map_err(answer::stop_error)?;
    Ok(reader.finish()?.pop().unwrap_or_default())
}
