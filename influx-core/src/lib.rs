//! The protocol and the clients of influx-series: an exact line-protocol encoder and parser,
//! and a client for InfluxDB 1.x.
//!
//! Every [`Point`] that builds encodes to a line the server stores exactly; everything else is a
//! typed [`EncodeError`] naming the part at fault.
//!
//! ```
//! use influx_series::{parse_line, LineBuf, Point, Precision};
//!
//! let point = Point::builder("cpu")
//!     .tag("host", "server 01")
//!     .field("usage", 0.64)
//!     .field("count", 3i64)
//!     .build()?;
//! let mut buf = LineBuf::new();
//! buf.push_point(&point, Precision::Nanoseconds);
//! assert_eq!(buf.as_str(), "cpu,host=server\\ 01 usage=0.64,count=3i\n");
//! assert_eq!(parse_line("cpu,host=server\\ 01 usage=0.64,count=3i", Precision::Nanoseconds)?, point);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod answer;
mod client;
#[doc(hidden)]
pub mod clock;
mod config;
mod error;
mod http;
pub mod influxql;
#[doc(hidden)]
pub mod line;
mod parse;
mod point;
mod precision;
mod resultset;
mod scan;
mod typed;
mod value;
mod write;

pub use client::{Client, Statements};
pub use config::{
    ClientBuilder, ClientConfig, Credentials, DEFAULT_MAX_ANSWER_SIZE, DEFAULT_MAX_REQUEST_SIZE,
};
pub use error::{
    Cause, EncodeError, EncodeErrorKind, Error, ParseError, ParseErrorKind, Part, PartialWriteKind,
};
pub use http::{Consistency, QueryOptions, WriteOptions};
pub use line::LineBuf;
pub use parse::{Lines, check_lines, parse_line, parse_lines};
pub use point::{Field, Point, PointBuilder, SharedTags};
pub use precision::{
    MAX_NANOS, MIN_ENCODABLE_NANOS, MIN_NANOS, PointTime, Precision, UnknownPrecision,
    encodable_nanos,
};
pub use resultset::{Message, ResultSeries, ResultSet, Row, decode_response};
pub use typed::{
    CellContext, CellError, FromCell, FromRow, FromTag, Json, MemberRole, MemberSpec, TimeFromCell,
    decode_rows, deserialize_rows,
};
pub use value::Value;
pub use write::{Commit, Rejection};

/// Re-exported so users name the same `chrono` the crate uses.
pub use chrono;
