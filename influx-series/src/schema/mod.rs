//! Schema as code: what a service's server must hold, provisioned and checked before the
//! first write.
//!
//! InfluxDB fixes a field's type on the first write into a shard; a type that disagrees with
//! what is stored fails every later write into it, often hours after a deploy and in a
//! background writer. A `#[derive(Series)]` type knows what it writes
//! ([`Series::schema`](crate::Series::schema)); a [`Schema`] gathers those types with the
//! databases, retention policies and continuous queries they need, and:
//!
//! - [`Schema::ensure`] creates what is missing and leaves what exists, reporting where it
//!   differs (a change is made only when named with [`Schema::allow`]);
//! - [`Schema::verify`] compares it all with the server: field types, tags stored as fields
//!   and the reverse (every measurement a templated name matches), missing databases and
//!   policies, policies and continuous queries that differ, and the fields and tags of those
//!   measurements that no type declares;
//! - [`Schema::provision`] does both at start-up and fails on a conflict.
//!
//! Each has an `_async` twin for [`AsyncClient`](crate::AsyncClient).
//!
//! ```no_run
//! use influx_series::{Client, Series};
//! use influx_series::admin::NewRetentionPolicy;
//! use influx_series::schema::Schema;
//!
//! #[derive(Series)]
//! #[series(database = "metrics", retention_policy = "one_week")]
//! struct Cpu {
//!     #[series(tag)]
//!     host: String,
//!     usage: f64,
//! }
//!
//! let client = Client::new("http://127.0.0.1:8086")?;
//! let schema = Schema::new()
//!     .retention_policy("metrics", NewRetentionPolicy::new("one_week", "1w"))
//!     .series::<Cpu>();
//! match schema.provision(&client) {
//!     Ok((ensured, report)) => println!("{ensured}\n{report}"),
//!     Err(e) => {
//!         eprintln!("not starting: {e}");
//!         std::process::exit(1);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod builder;
mod compare;
mod declared;
mod duration;
mod report;
mod run;

pub use builder::Schema;
pub use declared::{FieldSchema, SeriesSchema};
pub use report::{
    Action, Change, Ensured, Finding, PolicyDifference, Report, SchemaError, Severity,
};
