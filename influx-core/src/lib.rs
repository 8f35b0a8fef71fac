//! The protocol and the clients of influx-series: an exact line-protocol encoder and parser,
//! and two clients for InfluxDB 1.x, blocking ([`Client`]) and async ([`AsyncClient`]).
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

#![cfg_attr(docsrs, feature(doc_cfg))]

// The layers, each using only those listed after it: client -> frame -> core -> request -> query ->
// protocol, and every layer `error` (ARCHITECTURE.md at the repository's root).
mod client;
mod core;
mod error;
#[cfg(feature = "polars")]
pub mod frame;
mod protocol;
mod query;
mod request;

pub use crate::core::queries::Statements;
#[doc(hidden)]
#[cfg(feature = "blocking")]
pub use crate::core::transport::complete;
#[doc(hidden)]
pub use crate::core::writes::{Caps, WriteOutcome};
#[cfg(feature = "async")]
pub use client::asynchronous::AsyncClient;
#[cfg(feature = "blocking")]
pub use client::blocking::{Client, ResultStream, RowStream};
pub use error::{
    Cause, Commit, EncodeError, EncodeErrorKind, Error, FrameError, ParseError, ParseErrorKind,
    Part, PartialWriteKind, Rejection,
};
pub use protocol::field_type::FieldType;
pub use protocol::line::LineBuf;
pub use protocol::parse::{Lines, check_lines, parse_line, parse_lines};
pub use protocol::point::{Field, Point, PointBuilder, SharedTags};
pub use protocol::precision::{
    MAX_NANOS, MIN_ENCODABLE_NANOS, MIN_NANOS, PointTime, Precision, UnknownPrecision,
    encodable_nanos,
};
#[doc(hidden)]
pub use protocol::{clock, line};
pub use query::answer::Message;
pub use query::resultset::{ResultSeries, ResultSet, Row, decode_response};
pub use query::serde_rows::deserialize_rows;
pub use query::typed::{
    CellContext, CellError, FromCell, FromRow, FromTag, Json, MemberRole, MemberSpec, TimeFromCell,
    decode_rows,
};
pub use query::value::Value;
pub use request::config::{
    ClientBuilder, ClientConfig, Credentials, DEFAULT_MAX_ANSWER_SIZE, DEFAULT_MAX_DATAGRAM,
    DEFAULT_MAX_REQUEST_SIZE, DEFAULT_WRITES_IN_FLIGHT, MAX_WRITES_IN_FLIGHT, MTU_1500_DATAGRAM,
};
pub use request::http::{Consistency, QueryOptions, WriteOptions};
pub use request::retry::RetryPolicy;
#[doc(hidden)]
pub use request::retry::{WriteFailure, classify_write_failure};
#[doc(hidden)]
pub use request::write_plan::Unsent;
pub use request::{admin, influxql};

/// Re-exported so users name the same `chrono` the crate uses.
pub use chrono;

/// What `scripts/instructions` counts that is not public: built only with `--cfg
/// influx_bench`, never in a user's build.
#[cfg(all(influx_bench, feature = "blocking"))]
#[doc(hidden)]
pub mod bench_hooks {
    pub use crate::client::plain_http::read_answers;

    use crate::query::answer::{AnswerVisitor, Walk, stop_error};
    use crate::request::answer_documents::Documents;
    use crate::request::responses::{AnswerBody, Encoding};
    use crate::{Error, FromRow, Json, ResultSet};

    /// Walks a MessagePack answer with `visitor` as a decoding query reads it: documents cut
    /// out of pieces of 64 KiB as they arrive.
    fn walk_msgpack<V: for<'a> AnswerVisitor<'a>>(
        bytes: &[u8],
        visitor: &mut V,
    ) -> Result<(), Error> {
        let mut documents =
            Documents::new(AnswerBody::new(Encoding::Identity, usize::MAX, None), None).msgpack();
        let mut walk = Walk::default();
        for piece in bytes.chunks(64 * 1024) {
            documents.push(piece)?;
            while documents.next_document()? {
                walk.msgpack_document(documents.document(), visitor)
                    .map_err(stop_error)?;
            }
        }
        walk.finish(None, true)
    }

    /// A MessagePack answer decoded into result sets, as `query` decodes it.
    pub fn decode_msgpack_resultset(bytes: &[u8]) -> Result<Vec<ResultSet>, Error> {
        let mut sets = crate::query::resultset::SetBuilder::new(true);
        walk_msgpack(bytes, &mut sets)?;
        Ok(sets.finish())
    }

    /// A MessagePack answer decoded into typed rows (times as nanoseconds), as `query_as`
    /// decodes it.
    pub fn decode_msgpack_rows<T: FromRow>(bytes: &[u8]) -> Result<Vec<T>, Error> {
        let ctx = crate::CellContext {
            epoch: Some(crate::Precision::Nanoseconds),
        };
        let mut reader = crate::query::typed::typed_reader::<T, Json>(0, ctx);
        walk_msgpack(bytes, &mut reader)?;
        reader.finish()
    }
}
