//! Query answers: the walk over an answer, JSON or MessagePack (`answer`, over the pull reader
//! `scan`), and what it is decoded into: [`crate::ResultSet`], typed rows ([`crate::FromRow`])
//! and serde rows; [`crate::Value`] is a cell. Depends on `protocol` (precision) and `error` only.

pub(crate) mod answer;
pub(crate) mod cells;
pub(crate) mod resultset;
pub(crate) mod scan;
pub(crate) mod serde_rows;
pub(crate) mod typed;
pub(crate) mod value;

#[cfg(test)]
mod tests;
