//! InfluxDB 1.x for Rust: an exact client, `#[derive(Series)]` schemas and a buffered writer.
//!
//! This crate re-exports [`influx_core`]; it is the one users depend on.
//!
//! ```
//! use influx_series::{Point, Precision};
//! let line = Point::builder("cpu").field("usage", 0.5).build()?.to_line(Precision::Nanoseconds);
//! assert_eq!(line, "cpu usage=0.5");
//! # Ok::<(), influx_series::EncodeError>(())
//! ```

pub use influx_core::*;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
