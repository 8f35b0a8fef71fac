//! Every call written once over a [`Transport`](exchange::Transport), for both clients: the
//! exchange of a request and its answer with retries, failover and deadlines (`exchange`), the
//! write pipeline whose lanes the encoder feeds (`write_pipeline`) and the buffers it keeps
//! between writes (`spares`), the administration calls (`admin`), and streams of answers
//! (`stream`). Depends on `request`, `query`, `protocol` and `error`; the transports and the
//! clients are built on it.

pub(crate) mod admin;
pub(crate) mod exchange;
pub(crate) mod spares;
pub(crate) mod stream;
pub(crate) mod write_pipeline;
