//! Generated code must compile when the user's scope shadows the prelude, and without any
//! warning.
#![deny(warnings)]
#![allow(non_camel_case_types, dead_code)] // the shadowing types below are deliberately odd

struct Result;
struct Option;
struct Some;
struct None;
struct Ok;
struct Err;
struct String;
struct Vec;
struct Box;
type u8 = ();
type usize = ();
mod core {}
mod std {}

/// Stands in for a client static through the `client` attribute.
static CLIENT: ::std::sync::LazyLock<::influx_series::Client> =
    ::std::sync::LazyLock::new(|| ::influx_series::Client::new("http://127.0.0.1:1").unwrap());

#[derive(::influx_series::Series)]
#[series(
    name = "hygiene.{host}",
    bulk_size = 3,
    autocommit,
    precision = "ms",
    database = "db",
    retention_policy = "rp",
    client = "CLIENT"
)]
struct Shadowed {
    #[series(tag)]
    host: ::std::string::String,
    value: ::core::option::Option<f64>,
    #[series(rename = "count")]
    n: i64,
    #[series(time)]
    at: ::core::option::Option<::chrono::DateTime<::chrono::Utc>>,
    #[series(skip)]
    ignored: Vec,
}

#[test]
fn shadowed_prelude_still_compiles_and_encodes() {
    use ::influx_series::Series;
    let point = Shadowed {
        host: "a".into(),
        value: ::core::option::Option::None,
        n: 3,
        at: ::core::option::Option::Some(::chrono::DateTime::from_timestamp_nanos(1_500_000_000)),
        ignored: Vec,
    };
    let mut out = ::std::vec::Vec::new();
    point.write_line(&mut out).unwrap();
    assert_eq!(out, b"hygiene.a,host=a count=3i 1500");
}
