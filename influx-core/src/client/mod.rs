//! The clients and the transports that move their bytes ([`crate::Client`] on reqwest's blocking client with its own
//! plain-HTTP write path, [`crate::AsyncClient`] on reqwest's async one), and TLS. Depends on
//! `core`, `request`, `query`, `protocol` and `error`.

#[cfg(feature = "async")]
pub(crate) mod asynchronous;
#[cfg(feature = "blocking")]
pub(crate) mod blocking;
#[cfg(feature = "polars")]
pub(crate) mod frames;
#[cfg(feature = "blocking")]
pub(crate) mod plain_http;
pub(crate) mod reqwest;
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
pub(crate) mod tls;
