//! DataFrames in and out (feature `polars`): influxdb-python's `DataFrameClient`, on polars.
//!
//! - [`Client::write_dataframe`](crate::Client::write_dataframe) writes a frame's rows as
//!   points: a named time column, tag columns, field columns, shared tags, in batches of rows.
//!   Every cell is escaped by the rules of every other write, and the whole frame is checked
//!   before anything is sent.
//! - [`Client::query_dataframes`](crate::Client::query_dataframes) reads a query's answer as
//!   one frame per series, typed by the server's field types (or a schema you give), never by
//!   guesses from the JSON;
//!   [`Client::query_dataframe_statements`](crate::Client::query_dataframe_statements) reads
//!   each statement of a query so. [`FrameQueryOptions`] has influxdb-python's `dropna` and
//!   `data_frame_index` ([`FrameQueryOptions::index_columns`]).
//!
//! The frames are polars' own: this crate depends on `polars-core`, the crate the `polars`
//! crate re-exports its `DataFrame` from, and re-exports it as
//! `frame::polars_core`. A frame built with `polars` 0.55 is the same type. The
//! feature turns on polars' `timezones` (without it, polars panics when it prints a zoned time,
//! such as the UTC times read back here).
//!
//! # How a frame is encoded
//!
//! Each column is prepared once: its name escaped, its cells as one contiguous array (integer
//! columns of other widths cast to 64 bits, a categorical's categories escaped once each).
//! Every cell is then checked before anything is sent. Lines are written row after row, each
//! cell read from its column's array straight into the request's buffer: no `Point`, row or
//! string is made per cell. One batch of lines is held at a time.
//!
//! # Conversions
//!
//! | polars | written as | read back as |
//! |---|---|---|
//! | `Float64`, `Float32` | float (NaN and null: field left out of the row) | `Float64` |
//! | `Int8` .. `Int64`, `UInt8` .. `UInt32` | integer (`i`) | `Int64` |
//! | `UInt64` | integer, if at most `i64::MAX` (1.x servers refuse unsigned: 1.6.7 answers `invalid number` to `1u`) | `Int64` |
//! | `Boolean` | boolean | `Boolean` |
//! | `String` | string, `\` and `"` escaped | `String` |
//! | `Categorical`, `Enum` | tags only | `String` (a tag) |
//! | `Datetime(unit, zone)`, `Date` | the time, at the write's precision | `Datetime(epoch unit, UTC)` |
//!
//! A zoned time is the same instant read back in UTC; a `Date` is its midnight UTC. Tags are
//! text: a tag column of integers or booleans reads back as `String`. A row whose fields are
//! all null or NaN is not written, and counted in [`FrameWrite::skipped`].

pub(crate) mod decode;
pub(crate) mod encode;
pub(crate) mod options;

pub use decode::decode_dataframes;
pub use options::{
    DEFAULT_FRAME_BATCH, FieldType, FrameKey, FrameQueryOptions, FrameWrite, FrameWriteOptions,
    Frames,
};
pub use polars_core;

use polars_core::prelude::DataFrame;

use crate::error::FrameError;
use crate::protocol::line::LineBuf;

/// Encodes every row of `df` as a line into `out` (each line ending in `\n`), after the same
/// checks [`Client::write_dataframe`](crate::Client::write_dataframe) runs; returns how many
/// rows were skipped for having no field. On error nothing is appended.
///
/// ```
/// use influx_series::frame::polars_core::prelude::*;
/// use influx_series::frame::{encode_dataframe, FrameWriteOptions};
/// use influx_series::LineBuf;
///
/// let time = Int64Chunked::from_vec("time".into(), vec![1, 2])
///     .into_datetime(TimeUnit::Nanoseconds, None)
///     .into_column();
/// let host = Column::new("host".into(), ["a b", "c"]);
/// let say = Column::new("say".into(), [Some(r#"say "hi""#), None]);
/// let df = DataFrame::new(2, vec![time, host, say]).unwrap();
///
/// let mut out = LineBuf::new();
/// let options = FrameWriteOptions::new().tag_columns(["host"]);
/// let skipped = encode_dataframe(&df, "talk", &options, &mut out)?;
/// assert_eq!(out.as_str(), "talk,host=a\\ b say=\"say \\\"hi\\\"\" 1\n");
/// assert_eq!(skipped, 1);
/// # Ok::<(), influx_series::FrameError>(())
/// ```
pub fn encode_dataframe(
    df: &DataFrame,
    measurement: &str,
    options: &FrameWriteOptions,
    out: &mut LineBuf,
) -> Result<usize, FrameError> {
    let encoder = encode::FrameEncoder::new(df, measurement, options)?;
    Ok(out.extend_lines(|bytes| encoder.encode(0..encoder.height(), bytes)))
}
