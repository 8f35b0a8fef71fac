//! Requests without I/O: the clients' configuration and builder, requests built (`http`),
//! answers decoded and classified (`responses`), a query's answer cut into its JSON documents
//! (`answer_documents`), writes planned in requests (`write_plan`), UDP datagrams packed
//! (`datagrams`), retry decisions (`retry`), InfluxQL quoting (`influxql`), and the
//! administration statements and the decoding of their results (`admin`). Plain functions
//! over strings and bytes: depends on `query`, `protocol` and `error`.

pub mod admin;
pub(crate) mod answer_documents;
pub(crate) mod config;
pub(crate) mod datagrams;
pub(crate) mod http;
pub mod influxql;
pub(crate) mod responses;
pub(crate) mod retry;
pub(crate) mod write_plan;
