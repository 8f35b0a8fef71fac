//! What both clients do, written once: every call of [`crate::Client`] and
//! [`crate::AsyncClient`] is a method of [`Core`](exchange::Core), generic over the
//! [`Transport`](transport::Transport) that moves a request's bytes and brings back the
//! answer's.
//!
//! The methods are `async`, and the only thing they await is the transport. The async client
//! awaits them on the caller's runtime. The blocking client's transport has finished its I/O by
//! the time it returns its future, so the blocking client completes each call in a single poll
//! (`transport::complete`) with no runtime of its own. Request building and answer
//! classification are the sans-IO functions of `request::http`; writes are planned in
//! requests by `request::write_plan`; answers are decoded by `query`.
//!
//! - `transport`: the trait, and what it is given and gives back;
//! - `exchange`: `Core`, one request's exchange with retries, failover and deadlines;
//! - `writes`, `write_pipeline`, `spares`: writes, the pipeline whose lanes the encoder feeds,
//!   and the buffers it keeps between writes;
//! - `queries`, `stream`: queries, whole or as streams of documents;
//! - `admin`: the administration calls.
//!
//! Depends on `request`, `query`, `protocol` and `error`; the transports and the clients are
//! built on it.

pub(crate) mod admin;
pub(crate) mod exchange;
pub(crate) mod queries;
pub(crate) mod spares;
pub(crate) mod stream;
pub(crate) mod transport;
pub(crate) mod write_pipeline;
pub(crate) mod writes;
