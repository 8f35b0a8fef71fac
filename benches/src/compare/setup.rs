//! The server every variant runs against, and how to reach it.

use std::net::SocketAddr;

use influx_series::Client;
use influx_testserver::Server;

/// The server and how to reach it, shared by every variant.
pub(crate) struct Setup {
    /// The private influxd.
    pub(crate) server: Server,
    /// A client of ours with default settings: databases, counts, queries.
    pub(crate) admin: Client,
    /// The same, its queries asking for JSON answers (`msgpack(false)`) instead of
    /// MessagePack.
    pub(crate) json: Client,
    /// `http://127.0.0.1:PORT`
    pub(crate) url: String,
    /// The same, for the raw connections.
    pub(crate) address: SocketAddr,
    /// A directory of the run's own (curl's bodies), removed at its end.
    pub(crate) work_dir: std::path::PathBuf,
}
