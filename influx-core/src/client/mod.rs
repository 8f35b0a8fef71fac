//! The clients: configuration, the sans-IO requests and answer classification (`http`),
//! writes planned in requests (`write`), every call written once over a transport (`core`),
//! the transports that move the bytes ([`crate::Client`] on reqwest's blocking client,
//! [`crate::AsyncClient`] on its async one), and InfluxQL helpers. Depends on `query`,
//! `protocol` and `error`.

pub mod admin;
#[cfg(feature = "async")]
pub(crate) mod asynchronous;
#[cfg(feature = "blocking")]
pub(crate) mod blocking;
pub(crate) mod chunks;
pub(crate) mod config;
pub(crate) mod core;
#[cfg(feature = "blocking")]
pub(crate) mod direct;
#[cfg(feature = "polars")]
pub(crate) mod frames;
pub(crate) mod http;
pub mod influxql;
pub(crate) mod retry;
pub(crate) mod stream;
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
pub(crate) mod tls;
pub(crate) mod udp;
pub(crate) mod write;
