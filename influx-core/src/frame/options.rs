//! What a frame's write and query are given and give back: the options that map columns to
//! tags, fields and time, the types of columns, and the frames a query returns by series.

use std::collections::BTreeMap;

use crate::error::Commit;
pub use crate::protocol::field_type::FieldType;
use crate::request::http::{QueryOptions, WriteOptions};

/// Rows per request when [`WriteOptions::batch_size`] is not set: the batch InfluxDB's own
/// documentation recommends, and a bound on what one batch holds in memory.
pub const DEFAULT_FRAME_BATCH: usize = 5_000;

/// How [`Client::write_dataframe`](crate::Client::write_dataframe) reads a frame: which column
/// is the time, which are tags and which are fields, and the write's options (database,
/// retention policy, precision, shared tags, rows per request).
///
/// Roles follow influxdb-python: with neither list, every column but the time is a field; with
/// only `tag_columns`, the rest are fields; with only `field_columns`, the rest are tags; with
/// both, other columns are left out. A categorical or enum column no list names is a tag.
///
/// ```
/// use influx_series::frame::FrameWriteOptions;
/// use influx_series::{Precision, SharedTags, WriteOptions};
///
/// let options = FrameWriteOptions::new()
///     .time_column("at")
///     .tag_columns(["host", "region"])
///     .write_options(
///         WriteOptions::new("metrics")
///             .precision(Precision::Milliseconds)
///             .tags(SharedTags::new([("source", "import")])?)
///             .batch_size(10_000),
///     );
/// # Ok::<(), influx_series::EncodeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FrameWriteOptions {
    pub(crate) time_column: String,
    pub(crate) tag_columns: Vec<String>,
    pub(crate) field_columns: Vec<String>,
    pub(crate) write: WriteOptions,
}

impl Default for FrameWriteOptions {
    fn default() -> Self {
        FrameWriteOptions {
            time_column: "time".to_owned(),
            tag_columns: Vec::new(),
            field_columns: Vec::new(),
            write: WriteOptions::default(),
        }
    }
}

impl FrameWriteOptions {
    /// The time column is `time`; roles as described above; the client's database,
    /// nanoseconds, [`DEFAULT_FRAME_BATCH`] rows per request.
    pub fn new() -> Self {
        Self::default()
    }

    /// The column that holds each row's time (a `Datetime` of any unit and zone, or a `Date`).
    pub fn time_column(mut self, name: impl Into<String>) -> Self {
        self.time_column = name.into();
        self
    }

    /// The columns written as tags.
    pub fn tag_columns<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.tag_columns = names.into_iter().map(Into::into).collect();
        self
    }

    /// The columns written as fields.
    pub fn field_columns<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.field_columns = names.into_iter().map(Into::into).collect();
        self
    }

    /// The write's options: database, retention policy, precision, shared tags (a tag column of
    /// the same key wins), consistency, and rows per request (`batch_size`).
    pub fn write_options(mut self, options: WriteOptions) -> Self {
        self.write = options;
        self
    }

    /// Rows per request.
    pub(crate) fn batch_rows(&self) -> usize {
        self.write.batch_size_value().unwrap_or(DEFAULT_FRAME_BATCH)
    }
}

/// What [`Client::write_dataframe`](crate::Client::write_dataframe) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FrameWrite {
    /// Points stored, requests made.
    pub commit: Commit,
    /// Rows not written because every field of theirs was null or NaN.
    pub skipped: usize,
}

/// How [`Client::query_dataframes`](crate::Client::query_dataframes) types its columns.
///
/// A column's type comes from, in order: the schema given here; the server's field types
/// (`SHOW FIELD KEYS` on the query's database, asked before the query, unless turned off);
/// and, for columns neither knows (tags selected as columns, aggregates such as `mean` or
/// `count`), the column's cells taken as a whole: numbers are `Float64`, text is `String`,
/// booleans are `Boolean`. The time is a UTC `Datetime` at the query's epoch (nanoseconds if
/// none is set; seconds, minutes and hours as milliseconds, the coarsest unit polars has).
///
/// ```
/// use influx_series::frame::{FieldType, FrameQueryOptions};
/// use influx_series::QueryOptions;
///
/// let options = FrameQueryOptions::new()
///     .query_options(QueryOptions::new().database("metrics"))
///     .column("count", FieldType::Integer);
/// ```
#[derive(Debug, Clone, Default)]
pub struct FrameQueryOptions {
    pub(crate) query: QueryOptions,
    pub(crate) schema: BTreeMap<String, FieldType>,
    pub(crate) no_server_types: bool,
    pub(crate) dropna: bool,
    pub(crate) index: Vec<String>,
}

impl FrameQueryOptions {
    /// The client's database, nanosecond times, types from the server.
    pub fn new() -> Self {
        Self::default()
    }

    /// The query's options: database, epoch, bind parameters, chunk size.
    pub fn query_options(mut self, options: QueryOptions) -> Self {
        self.query = options;
        self
    }

    /// Reads column `name` as `ty`, whatever the server says.
    pub fn column(mut self, name: impl Into<String>, ty: FieldType) -> Self {
        self.schema.insert(name.into(), ty);
        self
    }

    /// The epoch times are asked in.
    pub(crate) fn epoch(&self) -> crate::Precision {
        self.query.epoch_value().unwrap_or_default()
    }

    /// Whether to ask the server for its field types first (default: yes). Without them,
    /// columns the schema does not name are typed from their cells as a whole.
    pub fn server_types(mut self, on: bool) -> Self {
        self.no_server_types = !on;
        self
    }

    /// Whether to leave out of each frame the columns that have no value in any of its rows
    /// (influxdb-python's `dropna=True`, which drops them with pandas' `dropna(how="all",
    /// axis=1)`). Off by default, unlike Python's: a frame then has every column the query
    /// selected, whatever the rows hold. The time and the index columns always stay.
    ///
    /// ```
    /// use influx_series::frame::{decode_dataframes, FrameKey, FrameQueryOptions};
    ///
    /// // `SELECT * FROM cpu GROUP BY host`: host b never had a `temp`.
    /// let answer = br#"{"results":[{"statement_id":0,"series":[
    ///   {"name":"cpu","tags":{"host":"b"},"columns":["time","temp","usage"],"values":[[1,null,0.5]]}]}]}"#;
    /// let b = FrameKey::new("cpu", [("host", "b")]);
    /// let kept = decode_dataframes(answer, 0, &FrameQueryOptions::new())?;
    /// assert_eq!(kept[&b].get_column_names(), ["time", "temp", "usage"]);
    /// let dropped = decode_dataframes(answer, 0, &FrameQueryOptions::new().dropna(true))?;
    /// assert_eq!(dropped[&b].get_column_names(), ["time", "usage"]);
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    pub fn dropna(mut self, on: bool) -> Self {
        self.dropna = on;
        self
    }

    /// The columns that index each frame (influxdb-python's `data_frame_index`, where the
    /// index is `time` unless it is given). Polars has no index: the columns named here come
    /// first, in this order, and the rows are sorted by them as pandas' `sort_index` does
    /// (stable, so the rows of one value keep their time order; nulls last). `time` stays a
    /// column. A name that is not a column of a frame is [`Error::InvalidArgument`]
    /// (`GROUP BY` tags are in the frame's [`FrameKey`], not among its columns).
    ///
    /// ```
    /// use influx_series::frame::{decode_dataframes, FrameKey, FrameQueryOptions};
    ///
    /// // `SELECT host, usage FROM cpu`, the host a column of the rows.
    /// let answer = br#"{"results":[{"statement_id":0,"series":[{"name":"cpu",
    ///   "columns":["time","usage","host"],"values":[[1,0.1,"b"],[2,0.2,"a"],[3,0.3,"b"]]}]}]}"#;
    /// let options = FrameQueryOptions::new().index_columns(["host"]);
    /// let frames = decode_dataframes(answer, 0, &options)?;
    /// let frame = &frames[&FrameKey::new("cpu", [] as [(&str, &str); 0])];
    /// assert_eq!(frame.get_column_names(), ["host", "time", "usage"]);
    /// let usage: Vec<Option<f64>> = frame.column("usage").unwrap().f64().unwrap().iter().collect();
    /// assert_eq!(usage, [Some(0.2), Some(0.1), Some(0.3)]);
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    ///
    /// [`Error::InvalidArgument`]: crate::Error::InvalidArgument
    pub fn index_columns<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.index = names.into_iter().map(Into::into).collect();
        self
    }
}

/// The key of a frame read back: its measurement and its `GROUP BY` tags (influxdb-python's
/// `(measurement, (("tag", "value"), ...))`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FrameKey {
    /// The measurement (empty for a statement whose series has no name).
    pub measurement: String,
    /// The `GROUP BY` tags, sorted by key.
    pub tags: Vec<(String, String)>,
}

impl FrameKey {
    /// The key of a series of `measurement` with these tags.
    ///
    /// ```
    /// use influx_series::frame::FrameKey;
    /// let key = FrameKey::new("cpu", [("host", "a")]);
    /// assert_eq!(key.tags, [("host".to_string(), "a".to_string())]);
    /// ```
    pub fn new<K: Into<String>, V: Into<String>>(
        measurement: impl Into<String>,
        tags: impl IntoIterator<Item = (K, V)>,
    ) -> FrameKey {
        let mut tags: Vec<(String, String)> = tags
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        tags.sort();
        FrameKey {
            measurement: measurement.into(),
            tags,
        }
    }
}

/// The frames of a query, one per series, in the answer's order of keys.
pub type Frames = BTreeMap<FrameKey, polars_core::prelude::DataFrame>;
