//! The clients: configuration, the sans-IO requests and answer classification (`http`),
//! writes planned in requests (`write`), InfluxQL helpers, and the transports that move the
//! bytes ([`crate::Client`] on reqwest's blocking client). Depends on `query`, `protocol` and
//! `error`.

pub(crate) mod blocking;
pub(crate) mod config;
pub(crate) mod http;
pub mod influxql;
pub(crate) mod write;
