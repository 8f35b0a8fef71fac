//! influxd's key-length rule against a real server: series key as sent + 4 + field key as sent
//! <= 65 535 bytes. What fits is stored; one byte more is refused by the builder, the parser
//! and the derive before anything is sent, and by the server when sent unchecked.

mod support {
    pub mod db;
}

use influx_series::{EncodeErrorKind, Error, ParseErrorKind, Part, Point, Series, WriteOptions};
use support::db::fresh;

fn key(n: usize) -> String {
    "k".repeat(n)
}

fn show(client: &influx_series::Client, q: &str) -> Vec<String> {
    let results = client.query(q).unwrap();
    results[0]
        .rows()
        .map(|r| r.value(0).unwrap().as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_longest_field_key_is_stored_and_one_byte_more_is_refused_everywhere() {
    let client = fresh("key_length_field");
    let fits = Point::builder("m")
        .field(key(65_530), 1i64)
        .build()
        .unwrap();
    client
        .write_points(&[fits], &WriteOptions::default())
        .unwrap();
    assert_eq!(show(&client, "SHOW FIELD KEYS FROM m"), [key(65_530)]);

    let builder = Point::builder("m").field(key(65_531), 1i64).build();
    assert_eq!(
        builder.map(drop).unwrap_err().kind(),
        EncodeErrorKind::KeyTooLong { bytes: 65_536 }
    );
    let line = format!("m {}=1i 1", key(65_531));
    match client.write_raw(&line, &WriteOptions::default()) {
        Err(Error::Parse(e)) => assert!(matches!(
            e.kind(),
            ParseErrorKind::Invalid(inner) if inner.kind() == EncodeErrorKind::KeyTooLong { bytes: 65_536 }
        )),
        other => panic!("{:?}", other.map(drop)),
    }
    // The server draws the line at the same byte.
    match client.write_raw(&line, &WriteOptions::default().check_lines(false)) {
        Err(Error::Client {
            status: 400,
            message,
        }) => {
            assert!(
                message.contains("max key length exceeded: 65536 > 65535"),
                "{message}"
            )
        }
        other => panic!("{:?}", other.map(drop)),
    }
}

#[test]
fn escapes_count_in_the_series_key() {
    let client = fresh("key_length_series");
    let fits = Point::builder(" ".repeat(32_765))
        .field("f", 1i64)
        .build()
        .unwrap();
    client
        .write_points(&[fits], &WriteOptions::default())
        .unwrap();
    assert_eq!(show(&client, "SHOW MEASUREMENTS"), [" ".repeat(32_765)]);

    let err = Point::builder(" ".repeat(32_766)).field("f", 1i64).build();
    let err = err.map(drop).unwrap_err();
    assert_eq!(err.kind(), EncodeErrorKind::KeyTooLong { bytes: 65_537 });
    assert_eq!(err.part(), &Part::SeriesKey);
    let line = format!("{} f=1i 1", "\\ ".repeat(32_766));
    match client.write_raw(&line, &WriteOptions::default().check_lines(false)) {
        Err(Error::Client {
            status: 400,
            message,
        }) => {
            assert!(message.contains("max key length exceeded"), "{message}")
        }
        other => panic!("{:?}", other.map(drop)),
    }
}

#[derive(Series)]
#[series(name = "key_length_derived", precision = "ns")]
struct Derived {
    #[series(tag)]
    host: String,
    value: i64,
    #[series(rename = "a much longer field key")]
    other: Option<i64>,
    #[series(time)]
    time: i64,
}

#[test]
fn the_derive_checks_the_fields_actually_written() {
    let client = fresh("key_length_derived");
    Derived::bind(client.clone());
    // `key_length_derived,host=<h> value=` : series key + 4 + "value" = 65 535 exactly.
    let series_key = 65_535 - 4 - "value".len();
    let host = "h".repeat(series_key - "key_length_derived,host=".len());
    Derived {
        host: host.clone(),
        value: 1,
        other: None,
        time: 1,
    }
    .record()
    .unwrap();
    // The longer field key breaks the rule only when it is written.
    let err = Derived {
        host: host.clone(),
        value: 2,
        other: Some(2),
        time: 2,
    }
    .record()
    .unwrap_err();
    match err {
        Error::InvalidInput(e) => {
            assert_eq!(e.part(), &Part::FieldKey("a much longer field key".into()));
            assert!(matches!(e.kind(), EncodeErrorKind::KeyTooLong { .. }));
        }
        other => panic!("{other:?}"),
    }
    let err = Derived {
        host: format!("{host}h"),
        value: 3,
        other: None,
        time: 3,
    }
    .record()
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(e) if e.kind() == EncodeErrorKind::KeyTooLong { bytes: 65_536 }),
        "{err:?}"
    );
    assert_eq!(Derived::pending(), 1, "refused points are not buffered");
    Derived::commit().unwrap();
    let rows: Vec<i64> = client
        .query("SELECT value FROM key_length_derived")
        .unwrap()[0]
        .rows()
        .map(|r| r.get("value").and_then(|v| v.as_i64()).unwrap())
        .collect();
    assert_eq!(rows, [1]);
}
