//! The line protocol: [`crate::Point`] and its builder, the encoder ([`crate::LineBuf`] and the
//! name rules in `line`), the parser, timestamp precision, and the clock that stamps points.
//! Depends on nothing else of the crate but `error`.

pub mod clock;
pub(crate) mod escape;
pub(crate) mod field_type;
pub mod line;
pub(crate) mod parse;
pub(crate) mod point;
pub(crate) mod precision;
