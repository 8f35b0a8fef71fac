//! Every attribute, each used once.

use std::sync::LazyLock;

use influx_series::{Client, Series};

static CLIENT: LazyLock<Client> =
    LazyLock::new(|| Client::new("http://127.0.0.1:8086").expect("a valid URL"));

#[derive(Series)]
#[series(
    name = "cpu.{host}",
    bulk_size = 10,
    autocommit = false,
    max_pending = 1000,
    max_pending_bytes = 65_536,
    precision = "ms",
    retention_policy = "one_week",
    database = "metrics",
    client = "CLIENT",
    crate = "influx_series"
)]
struct Cpu {
    #[series(tag)]
    host: String,
    #[series(field, rename = "usage_percent")]
    usage: f64,
    #[series(time)]
    at: i64,
    #[series(skip)]
    note: String,
}

fn main() {
    let point = Cpu {
        host: "a".into(),
        usage: 0.5,
        at: 1_500,
        note: "not written".into(),
    };
    let mut out = Vec::new();
    point.write_line(&mut out).unwrap();
    assert_eq!(out, b"cpu.a,host=a usage_percent=0.5 1500");
    assert_eq!(point.note, "not written");
    assert_eq!(Cpu::max_pending(), (1000, 65_536));
}

/// `autocommit` by name.
#[derive(Series)]
#[series(bulk_size = 100, autocommit = "background")]
struct Background {
    value: f64,
}

const _: fn() = || {
    let _ = Background { value: 1.0 }.record();
};
