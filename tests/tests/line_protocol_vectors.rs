//! Golden tests: every row of `tests/vectors/line-protocol-vectors.md`, by its number.

use chrono::{DateTime, TimeZone, Utc};
use influx_series::{
    EncodeError, EncodeErrorKind, Field, LineBuf, Part, Point, PointBuilder, Precision, SharedTags,
    parse_line,
};

fn time(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

/// Builds, encodes, and checks the parser reads the line back as the same point.
fn line(builder: PointBuilder, precision: Precision) -> String {
    let point = builder.build().expect("point should build");
    let text = point.to_line(precision);
    if precision == Precision::Nanoseconds {
        assert_eq!(parse_line(&text, precision).unwrap(), point, "{text}");
    }
    text
}

fn error(builder: PointBuilder) -> EncodeError {
    builder.build().expect_err("point should be rejected")
}

fn row1() -> PointBuilder {
    Point::builder("test")
        .tag("empty_tag", "")
        .tag("integer_tag", "2")
        .tag("string_tag", "hello")
        .field("bool_val", true)
        .field("float_val", 1.1)
        .field("int_val", 1i64)
        .field("string_val", "hello!")
}

#[test]
fn v01_all_types_empty_tag_omitted() {
    assert_eq!(
        line(row1(), Precision::Nanoseconds),
        r#"test,integer_tag=2,string_tag=hello bool_val=true,float_val=1.1,int_val=1i,string_val="hello!""#
    );
}

#[test]
fn v02_trailing_backslash_in_tag_value() {
    let err = error(row1().tag("backslash_tag", "C:\\"));
    assert_eq!(err.kind(), EncodeErrorKind::TrailingBackslash);
    assert_eq!(err.part(), &Part::TagValue("backslash_tag".into()));
    assert_eq!(
        err.to_string(),
        "trailing backslash in tag value `backslash_tag`"
    );
}

#[test]
fn v03_v04_time_with_offsets() {
    let p = |t| Point::builder("A").field("val", 1i64).timestamp(time(t));
    assert_eq!(
        line(p("2009-11-10T23:00:00.123456Z"), Precision::Nanoseconds),
        "A val=1i 1257894000123456000"
    );
    assert_eq!(
        line(
            p("2009-11-10T23:00:00.123456+01:00"),
            Precision::Nanoseconds
        ),
        "A val=1i 1257890400123456000"
    );
}

#[test]
fn v05_real_newlines_in_string_fields() {
    assert_eq!(
        line(
            Point::builder("m1").field("multi_line", "line1\nline1\nline3"),
            Precision::Nanoseconds
        ),
        "m1 multi_line=\"line1\nline1\nline3\""
    );
}

#[test]
fn v06_unicode() {
    assert_eq!(
        line(
            Point::builder("test")
                .tag("unicode_tag", "'Привет!'")
                .field("unicode_val", "Привет!"),
            Precision::Nanoseconds
        ),
        "test,unicode_tag='Привет!' unicode_val=\"Привет!\""
    );
}

#[test]
fn v07_empty_string_field() {
    assert_eq!(
        line(
            Point::builder("test").field("string", ""),
            Precision::Nanoseconds
        ),
        r#"test string="""#
    );
}

#[test]
fn v08_newline_in_tag_value() {
    let err = error(
        Point::builder("test")
            .tag("t1", "line1\nline2")
            .field("v", 1i64),
    );
    assert_eq!(err.kind(), EncodeErrorKind::Newline);
    assert_eq!(err.part(), &Part::TagValue("t1".into()));
    assert_eq!(err.to_string(), "newline in tag value `t1`");
}

#[test]
fn v09_float_shortest_round_trip() {
    assert_eq!(
        line(
            Point::builder("test").field("float_val", 1.0000000000000009),
            Precision::Nanoseconds
        ),
        "test float_val=1.0000000000000009"
    );
}

fn row10() -> PointBuilder {
    Point::builder("cpu_load_short")
        .tag("host", "server01")
        .tag("region", "us-west")
        .field("value", 0.64)
        .timestamp(time("2009-11-10T23:00:00.123456Z"))
}

#[test]
fn v10_every_precision() {
    let expected = [
        (Precision::Nanoseconds, "1257894000123456000"),
        (Precision::Microseconds, "1257894000123456"),
        (Precision::Milliseconds, "1257894000123"),
        (Precision::Seconds, "1257894000"),
        (Precision::Minutes, "20964900"),
        (Precision::Hours, "349415"),
    ];
    for (precision, stamp) in expected {
        assert_eq!(
            line(row10(), precision),
            format!("cpu_load_short,host=server01,region=us-west value=0.64 {stamp}")
        );
    }
}

#[test]
fn v11_shared_tags_merge() {
    let point = row10().build().unwrap();
    let shared = SharedTags::new([("tag", "hello"), ("host", "shared-loses")]).unwrap();
    let mut buf = LineBuf::new();
    buf.push_point_with_tags(&point, Precision::Nanoseconds, &shared);
    assert_eq!(
        buf.as_str(),
        "cpu_load_short,host=server01,region=us-west,tag=hello value=0.64 1257894000123456000\n"
    );
}

#[test]
fn v12_escaping_by_kind() {
    assert_eq!(
        line(
            Point::builder("m e,a=s")
                .tag("t k,=", "v a,l=ue")
                .field("f k,=\"", 1i64),
            Precision::Nanoseconds
        ),
        r#"m\ e\,a=s,t\ k\,\==v\ a\,l\=ue f\ k\,\=\"=1i"#
    );
}

#[test]
fn v13_tags_sorted_by_bytes() {
    assert_eq!(
        line(
            Point::builder("m")
                .tag("b", "z")
                .tag("A", "y")
                .tag("a", "x")
                .tag("_", "w")
                .field("v", 1i64),
            Precision::Nanoseconds
        ),
        "m,A=y,_=w,a=x,b=z v=1i"
    );
}

#[test]
fn v14_backslash_inside_tag_value_kept() {
    assert_eq!(
        line(
            Point::builder("m").tag("t", "a\\b").field("v", 1i64),
            Precision::Nanoseconds
        ),
        r"m,t=a\b v=1i"
    );
}

#[test]
fn v15_string_field_escapes_quote_and_backslash() {
    assert_eq!(
        line(
            Point::builder("m").field("s", r#"he said "hi" \ back"#),
            Precision::Nanoseconds
        ),
        r#"m s="he said \"hi\" \\ back""#
    );
}

#[test]
fn v16_non_finite_floats() {
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = error(Point::builder("m").field("v", v));
        assert_eq!(err.kind(), EncodeErrorKind::NonFiniteFloat);
        assert_eq!(err.part(), &Part::FieldValue("v".into()));
        assert_eq!(err.to_string(), "non-finite float for field `v`");
    }
}

#[test]
fn v17_unsigned_out_of_range() {
    let err = error(Point::builder("m").field("v", u64::MAX));
    assert_eq!(err.kind(), EncodeErrorKind::IntegerOutOfRange);
    assert_eq!(err.to_string(), "integer out of range for field `v`");
    assert_eq!(
        line(
            Point::builder("m").field("v", i64::MAX as u64),
            Precision::Nanoseconds
        ),
        "m v=9223372036854775807i"
    );
}

#[test]
fn v18_no_fields() {
    let t = time("2009-11-10T23:00:00Z");
    let err = error(Point::builder("m2").timestamp(t));
    assert_eq!(err.kind(), EncodeErrorKind::NoFields);
    assert_eq!(err.to_string(), "no fields");
    let err = error(
        Point::builder("m2")
            .field_opt::<f64>("v", None)
            .timestamp(t),
    );
    assert_eq!(err.kind(), EncodeErrorKind::NoFields);
}

#[test]
fn v19_v20_pre_1970_floored() {
    let p = |t| Point::builder("m").field("v", 1i64).timestamp(t);
    assert_eq!(
        line(p(time("1960-01-01T00:00:00Z")), Precision::Minutes),
        "m v=1i -5260320"
    );
    assert_eq!(
        line(p(time("1969-12-31T23:59:59.5Z")), Precision::Seconds),
        "m v=1i -1"
    );
}

#[test]
fn v21_comment_measurement() {
    let err = error(Point::builder("#cpu").field("v", 1i64));
    assert_eq!(err.kind(), EncodeErrorKind::Comment);
    assert_eq!(err.part(), &Part::Measurement);
    assert_eq!(err.to_string(), "measurement starts with `#`");
}

#[test]
fn v22_time_key_reserved() {
    let err = error(Point::builder("m").field("v", 1i64).field("time", 2i64));
    assert_eq!(err.kind(), EncodeErrorKind::ReservedKey);
    assert_eq!(err.part(), &Part::FieldKey("time".into()));
    assert_eq!(err.to_string(), "key `time` is reserved");
    let err = error(Point::builder("m").tag("time", "x").field("v", 1i64));
    assert_eq!(err.kind(), EncodeErrorKind::ReservedKey);
}

#[test]
fn v23_timestamp_out_of_range() {
    let err = error(
        Point::builder("m")
            .field("v", 1i64)
            .timestamp(Utc.with_ymd_and_hms(2262, 4, 12, 0, 0, 0).unwrap()),
    );
    assert_eq!(err.kind(), EncodeErrorKind::TimestampOutOfRange);
    assert_eq!(err.to_string(), "timestamp out of range");
    let err = error(
        Point::builder("m")
            .field("v", 1i64)
            .timestamp(Utc.with_ymd_and_hms(1677, 9, 21, 0, 0, 0).unwrap()),
    );
    assert_eq!(err.kind(), EncodeErrorKind::TimestampOutOfRange);
}

/// Rows 24 to 27: the key-length rule at its boundary, through the builder, the parser and
/// shared tags.
#[test]
fn v24_v27_key_length_boundary() {
    let key = |n: usize| "k".repeat(n);
    let fits = line(
        Point::builder("m").field(key(65_530), 1i64),
        Precision::Nanoseconds,
    );
    assert_eq!(fits.len(), 1 + 1 + 65_530 + 3);
    let err = error(Point::builder("m").field(key(65_531), 1i64));
    assert_eq!(err.kind(), EncodeErrorKind::KeyTooLong { bytes: 65_536 });
    assert_eq!(err.part(), &Part::FieldKey(key(65_531)));
    assert!(err.to_string().contains("65536 bytes"), "{err}");
    let line_text = format!("m {}=1i", key(65_531));
    let parsed = parse_line(&line_text, Precision::Nanoseconds).unwrap_err();
    assert_eq!(
        parsed.kind(),
        &influx_series::ParseErrorKind::Invalid(err.clone())
    );

    let spaces = |n: usize| " ".repeat(n);
    let fits = line(
        Point::builder(spaces(32_765)).field("f", 1i64),
        Precision::Nanoseconds,
    );
    assert!(fits.starts_with("\\ \\ "));
    let err = error(Point::builder(spaces(32_766)).field("f", 1i64));
    assert_eq!(err.kind(), EncodeErrorKind::KeyTooLong { bytes: 65_537 });
    assert_eq!(err.part(), &Part::SeriesKey);
    let line_text = format!("{} f=1i", "\\ ".repeat(32_766));
    assert!(parse_line(&line_text, Precision::Nanoseconds).is_err());

    // A tag value counts with its key, `,` and `=`: `m,t=<v>` with field `f`.
    let v = 65_535 - 4 - 1 - "m,t=".len();
    assert!(
        Point::builder("m")
            .tag("t", "v".repeat(v))
            .field("f", 1i64)
            .build()
            .is_ok()
    );
    let long = Point::builder("m")
        .tag("t", "v".repeat(v + 1))
        .field("f", 1i64)
        .build();
    assert_eq!(long.map(drop).unwrap_err().part(), &Part::SeriesKey);
    // With room for a short field key but not a longer one, the longer one is named.
    let two = Point::builder("m")
        .tag("t", "v".repeat(v))
        .field("f", 1i64)
        .field("ff", 2i64)
        .build();
    assert_eq!(
        two.map(drop).unwrap_err().part(),
        &Part::FieldKey("ff".into())
    );

    // Shared tags lengthen every point's series key.
    let point = Point::builder("m").field("f", 1i64).build().unwrap();
    let shared = SharedTags::new([("t", "v".repeat(v + 1))]).unwrap();
    assert!(shared_tags_refuse(&shared, &point));
}

fn shared_tags_refuse(shared: &SharedTags, point: &Point) -> bool {
    // write_points checks shared tags against each point before anything is sent; a closed
    // port proves nothing was: the error is the point's, not the connection's.
    let client = influx_series::Client::new("http://127.0.0.1:9").unwrap();
    let options = influx_series::WriteOptions::new("db").tags(shared.clone());
    matches!(
        client.write_points(std::slice::from_ref(point), &options),
        Err(influx_series::Error::InvalidInput(e)) if matches!(e.kind(), EncodeErrorKind::KeyTooLong { .. })
    )
}

#[test]
fn parser_rejects_what_the_encoder_rejects() {
    for bad in [
        r"test,backslash_tag=C:\ v=1i",
        "#cpu v=1i",
        "m time=1i",
        "m,time=x v=1i",
        "m v=NaN",
        "m v=1e999",
        "m v=18446744073709551615i",
        "m",
        "m 1257894000",
        "m v=1i 9223372036854775807",
    ] {
        assert!(
            parse_line(bad, Precision::Nanoseconds).is_err(),
            "parser accepted {bad:?}"
        );
    }
    let p = parse_line("m v=1i,w=t,x=\"s\",y=-1.5e3", Precision::Nanoseconds).unwrap();
    assert_eq!(p.field("w"), Some(&Field::Boolean(true)));
    assert_eq!(p.field("y"), Some(&Field::Float(-1500.0)));
}
