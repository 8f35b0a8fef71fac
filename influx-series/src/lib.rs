//! InfluxDB 1.x for Rust: exact clients, blocking ([`Client`]) and async ([`AsyncClient`]),
//! `#[derive(Series)]` schemas with bounded buffers and typed read-back, and a buffered
//! background writer ([`writer`]).
//!
//! This crate re-exports all of `influx-core` (line protocol, clients, result sets) and the
//! derive; it is the one users depend on.
//!
//! ```
//! use influx_series::{Point, Precision};
//! let line = Point::builder("cpu").field("usage", 0.5).build()?.to_line(Precision::Nanoseconds);
//! assert_eq!(line, "cpu usage=0.5");
//! # Ok::<(), influx_series::EncodeError>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

mod batch;
mod buffer;
#[cfg(feature = "tower")]
pub mod metrics;
pub mod schema;
mod series;
mod values;
#[cfg(feature = "blocking")]
pub mod writer;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use batch::Batch;
pub use buffer::{DEFAULT_MAX_PENDING, DEFAULT_MAX_PENDING_BYTES};
pub use influx_core::*;
pub use series::Series;
#[cfg(feature = "blocking")]
pub use series::{clear_default_client, set_default_client};
pub use values::{FieldRef, FieldValue, TagValue, TimeRef, TimeValue};

#[doc = include_str!("derive.md")]
pub use influx_derive::Series;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
