//! A DataFrame's rows as lines: the columns are checked and prepared once, then each batch of
//! rows is written straight into the line buffer, cell by cell from the columns' arrays (no
//! row objects, no `Point`s).

use std::ops::Range;

use polars_arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::bitmap::Bitmap;
use polars_core::prelude::{
    BooleanChunked, CategoricalMapping, DataFrame, DataType, Float32Chunked, Float64Chunked,
    Int64Chunked, Series, StringChunked, TimeUnit, UInt32Chunked, UInt64Chunked,
};

use crate::error::{EncodeError, EncodeErrorKind, FrameError, Part};
use crate::frame::options::FrameWriteOptions;
use crate::protocol::line::{self, FIELD_KEY_SEPARATOR_BYTES, MAX_KEY_BYTES, NameKind};
use crate::protocol::precision::{MAX_NANOS, MIN_ENCODABLE_NANOS, Precision};

/// A column's cells, in one of the few shapes the encoder reads. Every other integer type is
/// cast to `I64` or `U64` first (a copy of the column, once).
enum Cells {
    F64(Float64Chunked),
    F32(Float32Chunked),
    I64(Int64Chunked),
    U64(UInt64Chunked),
    Bool(BooleanChunked),
    Str(StringChunked),
    /// A categorical or enum: the codes, and each code's escaped text (`None`: not used by
    /// this column, or empty, which leaves the tag out).
    Cat {
        codes: UInt32Chunked,
        escaped: Vec<Option<Box<[u8]>>>,
    },
}

/// The arrays of [`Cells`], borrowed for the rows of one batch.
enum Cursor<'a> {
    F64(&'a [f64], Option<&'a Bitmap>),
    F32(&'a [f32], Option<&'a Bitmap>),
    I64(&'a [i64], Option<&'a Bitmap>),
    U64(&'a [u64], Option<&'a Bitmap>),
    Bool(&'a BooleanArray),
    Str(&'a Utf8ViewArray),
    Cat(&'a [u32], Option<&'a Bitmap>, &'a [Option<Box<[u8]>>]),
}

#[inline]
fn valid(validity: Option<&Bitmap>, row: usize) -> bool {
    validity.is_none_or(|v| v.get_bit(row))
}

fn primitive<T: polars_arrow::types::NativeType>(a: &PrimitiveArray<T>) -> (&[T], Option<&Bitmap>) {
    (a.values().as_slice(), a.validity())
}

impl Cells {
    fn cursor(&self) -> Cursor<'_> {
        match self {
            Cells::F64(c) => {
                let (v, n) = primitive(c.downcast_as_array());
                Cursor::F64(v, n)
            }
            Cells::F32(c) => {
                let (v, n) = primitive(c.downcast_as_array());
                Cursor::F32(v, n)
            }
            Cells::I64(c) => {
                let (v, n) = primitive(c.downcast_as_array());
                Cursor::I64(v, n)
            }
            Cells::U64(c) => {
                let (v, n) = primitive(c.downcast_as_array());
                Cursor::U64(v, n)
            }
            Cells::Bool(c) => Cursor::Bool(c.downcast_as_array()),
            Cells::Str(c) => Cursor::Str(c.downcast_as_array()),
            Cells::Cat { codes, escaped } => {
                let (v, n) = primitive(codes.downcast_as_array());
                Cursor::Cat(v, n, escaped)
            }
        }
    }
}

/// A tag column: its name, its `,key=` prefix, escaped, and its cells.
struct TagColumn {
    name: String,
    prefix: Vec<u8>,
    cells: Cells,
}

/// A field column: its `key=` text, escaped, and its cells.
struct FieldColumn {
    key: Vec<u8>,
    cells: Cells,
}

/// One tag of every line, in key order: a shared tag (`,key=value`, escaped) or a column.
enum TagSlot {
    Shared(Vec<u8>),
    Column(TagColumn),
}

/// The time column: its cells as a count of `unit` since the epoch.
struct TimeColumn {
    values: Int64Chunked,
    nanos_per_unit: i64,
}

/// A frame checked and prepared for encoding. Built by [`FrameEncoder::new`], which runs
/// every check first: encoding a batch cannot fail.
pub(crate) struct FrameEncoder {
    measurement: Vec<u8>,
    tags: Vec<TagSlot>,
    fields: Vec<FieldColumn>,
    time: TimeColumn,
    precision: Precision,
    height: usize,
}

fn dtype_name(dtype: &DataType) -> String {
    dtype.to_string()
}

fn name_error(kind: EncodeErrorKind, part: Part) -> FrameError {
    FrameError::Name(EncodeError::new(kind, part))
}

fn cell_error(row: usize, kind: EncodeErrorKind, part: Part) -> FrameError {
    FrameError::Cell {
        row,
        error: EncodeError::new(kind, part),
    }
}

/// The column named `name` as one contiguous series.
fn column(df: &DataFrame, name: &str, role: &'static str) -> Result<Series, FrameError> {
    df.column(name)
        .map(|c| c.as_materialized_series().rechunk())
        .map_err(|_| FrameError::MissingColumn {
            column: name.to_owned(),
            role,
        })
}

/// Casts a column polars can represent exactly in the target type (integers only).
fn cast(series: &Series, to: &DataType) -> Series {
    // A widening cast between integer types cannot fail.
    series.cast(to).unwrap_or_else(|_| series.clone())
}

impl FrameEncoder {
    /// Checks the frame against the options and prepares its columns.
    pub(crate) fn new(
        df: &DataFrame,
        measurement: &str,
        options: &FrameWriteOptions,
    ) -> Result<FrameEncoder, FrameError> {
        let precision = options.write.precision_value();
        let mut escaped_measurement = Vec::new();
        line::write_name(&mut escaped_measurement, NameKind::Measurement, measurement)
            .map_err(|kind| name_error(kind, Part::Measurement))?;

        // Roles: the time column; tags and fields as listed, the rest as Python assigns them.
        let time_name = options.time_column.as_str();
        let names: Vec<&str> = df
            .columns()
            .iter()
            .map(|c| c.name().as_str())
            .filter(|n| *n != time_name)
            .collect();
        for (listed, role) in options
            .tag_columns
            .iter()
            .map(|c| (c, "tag"))
            .chain(options.field_columns.iter().map(|c| (c, "field")))
        {
            if df.column(listed).is_err() {
                return Err(FrameError::MissingColumn {
                    column: listed.clone(),
                    role,
                });
            }
            if listed == time_name {
                return Err(FrameError::ColumnInTwoRoles {
                    column: listed.clone(),
                });
            }
        }
        if let Some(both) = options
            .tag_columns
            .iter()
            .find(|t| options.field_columns.contains(t))
        {
            return Err(FrameError::ColumnInTwoRoles {
                column: both.clone(),
            });
        }
        // Columns no list names: fields, as in Python, but for categoricals and enums, which
        // are tags (they hold labels, and InfluxDB has no field type for them).
        let listed = |n: &str| {
            options.tag_columns.iter().any(|t| t == n)
                || options.field_columns.iter().any(|f| f == n)
        };
        let mut tag_names = options.tag_columns.clone();
        let mut field_names = options.field_columns.clone();
        for name in names.iter().filter(|n| !listed(n)) {
            let categorical = df
                .column(name)
                .is_ok_and(|c| matches!(c.dtype(), DataType::Categorical(..) | DataType::Enum(..)));
            if categorical {
                tag_names.push(name.to_string());
            } else if options.field_columns.is_empty() {
                // Only tags listed (or nothing): the rest are fields.
                field_names.push(name.to_string());
            } else if options.tag_columns.is_empty() {
                // Only fields listed: the rest are tags.
                tag_names.push(name.to_string());
            }
            // Both listed: a column in neither list is left out.
        }
        let time = time_column(df, time_name)?;
        let height = df.height();

        // Tags: the columns and the shared ones, sorted by key; a column wins over a shared
        // tag of the same key, as a point's own tag does.
        let mut tags: Vec<(String, TagSlot)> = Vec::new();
        for name in &tag_names {
            line::check_name(NameKind::TagKey, name)
                .map_err(|kind| name_error(kind, Part::TagKey(name.clone())))?;
            let series = column(df, name, "tag")?;
            let cells = tag_cells(&series, name)?;
            let mut prefix = vec![b','];
            line::write_checked_name(&mut prefix, NameKind::TagKey, name);
            prefix.push(b'=');
            let column = TagColumn {
                name: name.clone(),
                prefix,
                cells,
            };
            tags.push((name.clone(), TagSlot::Column(column)));
        }
        for (key, value) in options.write.shared_tags().iter() {
            if tag_names.iter().any(|t| t == key) {
                continue;
            }
            let mut text = vec![b','];
            line::write_checked_name(&mut text, NameKind::TagKey, key);
            text.push(b'=');
            line::write_checked_name(&mut text, NameKind::TagValue, value);
            tags.push((key.to_owned(), TagSlot::Shared(text)));
        }
        tags.sort_by(|a, b| a.0.cmp(&b.0));

        let mut fields = Vec::new();
        for name in &field_names {
            line::check_name(NameKind::FieldKey, name)
                .map_err(|kind| name_error(kind, Part::FieldKey(name.clone())))?;
            if tags.iter().any(|(t, _)| t == name) {
                return Err(name_error(
                    EncodeErrorKind::KeyConflict,
                    Part::FieldKey(name.clone()),
                ));
            }
            let series = column(df, name, "field")?;
            let cells = field_cells(&series, name)?;
            let mut key = Vec::new();
            line::write_checked_name(&mut key, NameKind::FieldKey, name);
            key.push(b'=');
            fields.push(FieldColumn { key, cells });
        }
        if fields.is_empty() {
            return Err(FrameError::NoFieldColumns);
        }

        let encoder = FrameEncoder {
            measurement: escaped_measurement,
            tags: tags.into_iter().map(|(_, slot)| slot).collect(),
            fields,
            time,
            precision,
            height,
        };
        encoder.check_cells(&field_names)?;
        Ok(encoder)
    }

    /// The number of rows.
    pub(crate) fn height(&self) -> usize {
        self.height
    }

    /// Checks every cell the encoder will write: times, floats, unsigned integers, tag texts
    /// and key lengths. Vectorised over each column; the rows are walked only for the text of
    /// string tags and, when the widest possible key could be too long, for key lengths.
    fn check_cells(&self, field_names: &[String]) -> Result<(), FrameError> {
        // Times.
        let nanos_per_unit = self.time.nanos_per_unit;
        let (times, validity) = primitive(self.time.values.downcast_as_array());
        for (row, &t) in times.iter().enumerate() {
            if !valid(validity, row) {
                return Err(FrameError::NullTime { row });
            }
            let ok = t
                .checked_mul(nanos_per_unit)
                .is_some_and(|n| (MIN_ENCODABLE_NANOS..=MAX_NANOS).contains(&n));
            if !ok {
                return Err(cell_error(
                    row,
                    EncodeErrorKind::TimestampOutOfRange,
                    Part::Timestamp,
                ));
            }
        }
        // Fields.
        for (field, name) in self.fields.iter().zip(field_names) {
            // The first row whose value cannot be written, and why.
            let first = |len: usize, validity, bad: &dyn Fn(usize) -> bool| {
                (0..len).find(|&r| bad(r) && valid(validity, r))
            };
            let bad = match field.cells.cursor() {
                Cursor::F64(v, n) => first(v.len(), n, &|r| v[r].is_infinite())
                    .map(|r| (r, EncodeErrorKind::NonFiniteFloat)),
                Cursor::F32(v, n) => first(v.len(), n, &|r| v[r].is_infinite())
                    .map(|r| (r, EncodeErrorKind::NonFiniteFloat)),
                Cursor::U64(v, n) => first(v.len(), n, &|r| v[r] > i64::MAX as u64)
                    .map(|r| (r, EncodeErrorKind::IntegerOutOfRange)),
                _ => None,
            };
            if let Some((row, kind)) = bad {
                return Err(cell_error(row, kind, Part::FieldValue(name.clone())));
            }
        }
        // Tag texts, and the widest each tag column can write.
        let mut widest_series = self.measurement.len();
        for slot in &self.tags {
            let column = match slot {
                TagSlot::Shared(text) => {
                    widest_series += text.len();
                    continue;
                }
                TagSlot::Column(column) => column,
            };
            let name = column.name.as_str();
            let widest_value = match column.cells.cursor() {
                Cursor::Str(array) => {
                    let mut widest = 0;
                    for row in 0..array.len() {
                        if !array.is_valid(row) {
                            continue;
                        }
                        let text = array.value(row);
                        if text.is_empty() {
                            continue;
                        }
                        line::check_name(NameKind::TagValue, text).map_err(|kind| {
                            cell_error(row, kind, Part::TagValue(name.to_owned()))
                        })?;
                        widest = widest.max(line::escaped_len(NameKind::TagValue, text));
                    }
                    widest
                }
                Cursor::Cat(_, _, escaped) => {
                    escaped.iter().flatten().map(|e| e.len()).max().unwrap_or(0)
                }
                // `-9223372036854775808`, `false`.
                _ => 20,
            };
            widest_series += column.prefix.len() + widest_value;
        }
        let widest_field = self.fields.iter().map(|f| f.key.len() - 1).max();
        let widest_field = widest_field.unwrap_or(0);
        if widest_series + FIELD_KEY_SEPARATOR_BYTES + widest_field <= MAX_KEY_BYTES {
            return Ok(());
        }
        // Some row may be too long: measure each.
        let tags: Vec<Cursor<'_>> = self.column_tags().map(|c| c.cells.cursor()).collect();
        let fields: Vec<(usize, Cursor<'_>)> = self
            .fields
            .iter()
            .map(|f| (f.key.len() - 1, f.cells.cursor()))
            .collect();
        let shared: usize = self
            .tags
            .iter()
            .map(|t| match t {
                TagSlot::Shared(text) => text.len(),
                TagSlot::Column(_) => 0,
            })
            .sum();
        let prefixes: Vec<usize> = self.column_tags().map(|c| c.prefix.len()).collect();
        let mut scratch = Vec::new();
        for row in 0..self.height {
            let mut series = self.measurement.len() + shared;
            for (cursor, prefix) in tags.iter().zip(&prefixes) {
                scratch.clear();
                if write_tag_value(cursor, row, &mut scratch) {
                    series += prefix + scratch.len();
                }
            }
            let widest = fields
                .iter()
                .filter(|(_, c)| field_present(c, row))
                .map(|(len, _)| *len)
                .max();
            if let Some(widest) = widest {
                let bytes = series + FIELD_KEY_SEPARATOR_BYTES + widest;
                if bytes > MAX_KEY_BYTES {
                    return Err(cell_error(
                        row,
                        EncodeErrorKind::KeyTooLong { bytes },
                        Part::SeriesKey,
                    ));
                }
            }
        }
        Ok(())
    }

    fn column_tags(&self) -> impl Iterator<Item = &TagColumn> {
        self.tags.iter().filter_map(|t| match t {
            TagSlot::Column(c) => Some(c),
            TagSlot::Shared(_) => None,
        })
    }

    /// Appends the lines of `rows` to `out`, each ending in `\n`; returns how many lines it
    /// wrote and how many rows it skipped because they had no field.
    pub(crate) fn encode(&self, rows: Range<usize>, out: &mut Vec<u8>) -> (usize, usize) {
        enum Slot<'a> {
            Shared(&'a [u8]),
            Column(&'a [u8], Cursor<'a>),
        }
        let tags: Vec<Slot<'_>> = self
            .tags
            .iter()
            .map(|t| match t {
                TagSlot::Shared(text) => Slot::Shared(text),
                TagSlot::Column(c) => Slot::Column(&c.prefix, c.cells.cursor()),
            })
            .collect();
        let fields: Vec<(&[u8], Cursor<'_>)> = self
            .fields
            .iter()
            .map(|f| (f.key.as_slice(), f.cells.cursor()))
            .collect();
        let (times, _) = primitive(self.time.values.downcast_as_array());
        let nanos_per_unit = self.time.nanos_per_unit;
        let (mut lines, mut skipped) = (0, 0);
        let mut itoa = itoa::Buffer::new();
        for row in rows {
            let start = out.len();
            out.extend_from_slice(&self.measurement);
            for slot in &tags {
                match slot {
                    Slot::Shared(text) => out.extend_from_slice(text),
                    Slot::Column(prefix, cursor) => {
                        let at = out.len();
                        out.extend_from_slice(prefix);
                        if !write_tag_value(cursor, row, out) {
                            out.truncate(at);
                        }
                    }
                }
            }
            let mut separator = b' ';
            for (key, cursor) in &fields {
                if !field_present(cursor, row) {
                    continue;
                }
                out.push(separator);
                separator = b',';
                out.extend_from_slice(key);
                write_field_value(cursor, row, out);
            }
            if separator == b' ' {
                out.truncate(start);
                skipped += 1;
                continue;
            }
            // Checked by `check_cells`: in range, so neither overflows.
            let nanos = times[row] * nanos_per_unit;
            out.push(b' ');
            out.extend_from_slice(itoa.format(self.precision.from_nanos(nanos)).as_bytes());
            out.push(b'\n');
            lines += 1;
        }
        (lines, skipped)
    }
}

/// The time column as a count of its unit, and the unit's length in nanoseconds.
fn time_column(df: &DataFrame, name: &str) -> Result<TimeColumn, FrameError> {
    let series = column(df, name, "time")?;
    let nanos_per_unit = match series.dtype() {
        DataType::Datetime(TimeUnit::Nanoseconds, _) => 1,
        DataType::Datetime(TimeUnit::Microseconds, _) => 1_000,
        DataType::Datetime(TimeUnit::Milliseconds, _) => 1_000_000,
        DataType::Date => 86_400_000_000_000,
        other => {
            return Err(FrameError::TimeColumnType {
                column: name.to_owned(),
                dtype: dtype_name(other),
            });
        }
    };
    // A zoned datetime holds UTC instants; a date, days since 1970-01-01.
    let physical = cast(&series.to_physical_repr(), &DataType::Int64);
    let values = physical
        .i64()
        .map(|c| c.rechunk().into_owned())
        .map_err(|_| FrameError::TimeColumnType {
            column: name.to_owned(),
            dtype: dtype_name(series.dtype()),
        })?;
    Ok(TimeColumn {
        values,
        nanos_per_unit,
    })
}

fn is_signed(dtype: &DataType) -> bool {
    matches!(
        dtype,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    )
}

fn is_unsigned(dtype: &DataType) -> bool {
    matches!(
        dtype,
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64
    )
}

/// Integer columns of any width, as `I64` or `U64`.
fn integer_cells(series: &Series) -> Option<Cells> {
    let dtype = series.dtype();
    if is_signed(dtype) {
        let s = cast(series, &DataType::Int64);
        return s.i64().ok().map(|c| Cells::I64(c.rechunk().into_owned()));
    }
    if is_unsigned(dtype) {
        let s = cast(series, &DataType::UInt64);
        return s.u64().ok().map(|c| Cells::U64(c.rechunk().into_owned()));
    }
    None
}

fn tag_cells(series: &Series, name: &str) -> Result<Cells, FrameError> {
    let refuse = || FrameError::TagColumnType {
        column: name.to_owned(),
        dtype: dtype_name(series.dtype()),
    };
    match series.dtype() {
        DataType::String => Ok(Cells::Str(
            series.str().map_err(|_| refuse())?.rechunk().into_owned(),
        )),
        DataType::Boolean => Ok(Cells::Bool(
            series.bool().map_err(|_| refuse())?.rechunk().into_owned(),
        )),
        DataType::Categorical(_, mapping) | DataType::Enum(_, mapping) => {
            categorical_cells(series, mapping, name)
        }
        _ => integer_cells(series).ok_or_else(refuse),
    }
}

/// A categorical column: its codes, and the escaped text of each code it uses (checked once
/// per category, not once per row).
fn categorical_cells(
    series: &Series,
    mapping: &CategoricalMapping,
    name: &str,
) -> Result<Cells, FrameError> {
    let codes = cast(&series.to_physical_repr(), &DataType::UInt32);
    let codes = codes
        .u32()
        .map_err(|_| FrameError::TagColumnType {
            column: name.to_owned(),
            dtype: dtype_name(series.dtype()),
        })?
        .rechunk()
        .into_owned();
    let (values, validity) = primitive(codes.downcast_as_array());
    // Codes index a mapping that may hold far more categories than this column uses (polars'
    // global one grows with the process): when they are sparse, they are renumbered densely,
    // so the table below holds only this column's categories.
    let highest = values.iter().copied().max().unwrap_or(0) as usize;
    let codes = if highest > 2 * values.len() + 1_024 {
        let mut dense: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
        let renumbered: Vec<u32> = values
            .iter()
            .map(|&code| {
                let next = dense.len() as u32;
                *dense.entry(code).or_insert(next)
            })
            .collect();
        let mut originals = vec![0u32; dense.len()];
        for (&code, &at) in &dense {
            originals[at as usize] = code;
        }
        let renumbered =
            UInt32Chunked::from_vec_validity(codes.name().clone(), renumbered, validity.cloned());
        return escape_categories(renumbered, |at| originals[at as usize], mapping, name);
    } else {
        codes
    };
    escape_categories(codes, |code| code, mapping, name)
}

/// Each category `codes` uses, checked and escaped once; `category` gives the mapping's code
/// of a value of `codes`.
fn escape_categories(
    codes: UInt32Chunked,
    category: impl Fn(u32) -> u32,
    mapping: &CategoricalMapping,
    name: &str,
) -> Result<Cells, FrameError> {
    let mut escaped: Vec<Option<Box<[u8]>>> = Vec::new();
    let mut seen: Vec<bool> = Vec::new();
    let (values, validity) = primitive(codes.downcast_as_array());
    for (row, &code) in values.iter().enumerate() {
        if !valid(validity, row) {
            continue;
        }
        let index = code as usize;
        if index >= seen.len() {
            seen.resize(index + 1, false);
            escaped.resize(index + 1, None);
        }
        if seen[index] {
            continue;
        }
        seen[index] = true;
        let text = mapping.cat_to_str(category(code)).unwrap_or_default();
        if text.is_empty() {
            continue;
        }
        line::check_name(NameKind::TagValue, text)
            .map_err(|kind| cell_error(row, kind, Part::TagValue(name.to_owned())))?;
        let mut out = Vec::with_capacity(text.len());
        line::write_checked_name(&mut out, NameKind::TagValue, text);
        escaped[index] = Some(out.into_boxed_slice());
    }
    Ok(Cells::Cat { codes, escaped })
}

fn field_cells(series: &Series, name: &str) -> Result<Cells, FrameError> {
    let refuse = || FrameError::FieldColumnType {
        column: name.to_owned(),
        dtype: dtype_name(series.dtype()),
    };
    match series.dtype() {
        DataType::Float64 => Ok(Cells::F64(
            series.f64().map_err(|_| refuse())?.rechunk().into_owned(),
        )),
        DataType::Float32 => Ok(Cells::F32(
            series.f32().map_err(|_| refuse())?.rechunk().into_owned(),
        )),
        DataType::Boolean => Ok(Cells::Bool(
            series.bool().map_err(|_| refuse())?.rechunk().into_owned(),
        )),
        DataType::String => Ok(Cells::Str(
            series.str().map_err(|_| refuse())?.rechunk().into_owned(),
        )),
        _ => integer_cells(series).ok_or_else(refuse),
    }
}

/// Writes the escaped tag value of `row`; false when the row has none (null or empty), and
/// then what it wrote is to be dropped.
#[inline]
fn write_tag_value(cursor: &Cursor<'_>, row: usize, out: &mut Vec<u8>) -> bool {
    match cursor {
        Cursor::Str(array) => {
            if !array.is_valid(row) {
                return false;
            }
            // SAFETY-free: `value` bounds-checks; the text was checked by `check_cells`.
            let text = array.value(row);
            if text.is_empty() {
                return false;
            }
            line::write_checked_name(out, NameKind::TagValue, text);
            true
        }
        Cursor::Cat(codes, validity, escaped) => {
            if !valid(*validity, row) {
                return false;
            }
            match escaped.get(codes[row] as usize) {
                Some(Some(text)) => {
                    out.extend_from_slice(text);
                    true
                }
                _ => false,
            }
        }
        Cursor::I64(values, validity) => {
            if !valid(*validity, row) {
                return false;
            }
            out.extend_from_slice(itoa::Buffer::new().format(values[row]).as_bytes());
            true
        }
        Cursor::U64(values, validity) => {
            if !valid(*validity, row) {
                return false;
            }
            out.extend_from_slice(itoa::Buffer::new().format(values[row]).as_bytes());
            true
        }
        Cursor::Bool(array) => {
            if !array.is_valid(row) {
                return false;
            }
            out.extend_from_slice(if array.value(row) { b"true" } else { b"false" });
            true
        }
        // Not tag shapes (refused by `tag_cells`).
        Cursor::F64(..) | Cursor::F32(..) => false,
    }
}

/// Whether `row` has a value to write: not null, and not NaN.
#[inline]
fn field_present(cursor: &Cursor<'_>, row: usize) -> bool {
    match cursor {
        Cursor::F64(values, validity) => valid(*validity, row) && !values[row].is_nan(),
        Cursor::F32(values, validity) => valid(*validity, row) && !values[row].is_nan(),
        Cursor::I64(_, validity) | Cursor::U64(_, validity) => valid(*validity, row),
        Cursor::Bool(array) => array.is_valid(row),
        Cursor::Str(array) => array.is_valid(row),
        Cursor::Cat(..) => false,
    }
}

/// Writes the value of a present field (see [`field_present`]); checked by `check_cells`.
#[inline]
fn write_field_value(cursor: &Cursor<'_>, row: usize, out: &mut Vec<u8>) {
    match cursor {
        Cursor::F64(values, _) => {
            let _ = line::write_f64(out, values[row]);
        }
        Cursor::F32(values, _) => {
            let _ = line::write_f32(out, values[row]);
        }
        Cursor::I64(values, _) => line::write_i64(out, values[row]),
        Cursor::U64(values, _) => {
            let _ = line::write_u64(out, values[row]);
        }
        Cursor::Bool(array) => line::write_bool(out, array.value(row)),
        Cursor::Str(array) => line::write_str_value(out, array.value(row)),
        Cursor::Cat(..) => {}
    }
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::*;

    use super::*;

    #[test]
    fn a_column_of_few_categories_of_a_large_mapping_escapes_only_those() {
        // A mapping of 100 000 categories, a column that uses two of the last ones.
        let many: Vec<String> = (0..100_000).map(|i| format!("cat {i}")).collect();
        let dtype = DataType::from_frozen_categories(
            FrozenCategories::new(many.iter().map(String::as_str)).unwrap(),
        );
        let host = Column::new("host".into(), ["cat 99998", "cat 99999", "cat 99998"])
            .cast(&dtype)
            .unwrap();
        let time = Int64Chunked::from_vec("time".into(), vec![1, 2, 3])
            .into_datetime(TimeUnit::Nanoseconds, None)
            .into_column();
        let v = Column::new("v".into(), [1i64, 2, 3]);
        let df = DataFrame::new(3, vec![time, host, v]).unwrap();
        let encoder = FrameEncoder::new(&df, "m", &FrameWriteOptions::new()).unwrap();
        let TagSlot::Column(column) = &encoder.tags[0] else {
            panic!("a tag column");
        };
        let Cells::Cat { escaped, .. } = &column.cells else {
            panic!("categorical cells");
        };
        assert_eq!(
            escaped.len(),
            2,
            "one entry a category used, not one a code"
        );
        let mut out = Vec::new();
        encoder.encode(0..3, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "m,host=cat\\ 99998 v=1i 1\nm,host=cat\\ 99999 v=2i 2\nm,host=cat\\ 99998 v=3i 3\n"
        );
    }
}
