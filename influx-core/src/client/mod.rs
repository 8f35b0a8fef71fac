//! The clients and what runs them: every call written once over a transport (`core`), the
//! transports that move the bytes ([`crate::Client`] on reqwest's blocking client with its own
//! plain-HTTP write path, [`crate::AsyncClient`] on reqwest's async one), streams of answers,
//! and TLS. Depends on `request`, `query`, `protocol` and `error`.

#[cfg(feature = "async")]
pub(crate) mod asynchronous;
#[cfg(feature = "blocking")]
pub(crate) mod blocking;
pub(crate) mod core;
#[cfg(feature = "blocking")]
pub(crate) mod direct;
#[cfg(feature = "polars")]
pub(crate) mod frames;
pub(crate) mod stream;
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
pub(crate) mod tls;
