//! DataFrames (feature `polars`) against a real influxd: round trips of every supported type,
//! the checks that run before anything is sent, batches that fail, and influxdb-python's
//! `DataFrameClient` (Debian's python3-influxdb and python3-pandas, run with Debian's
//! /usr/bin/python3) reading what this library wrote and writing what it reads.

mod support {
    pub mod db;
    #[allow(dead_code)] // this binary uses only `hard_string`
    pub mod r#gen;
}

use std::process::Command;

use influx_series::frame::polars_core::prelude::*;
use influx_series::frame::{
    FieldType, FrameKey, FrameQueryOptions, FrameWriteOptions, Frames, encode_dataframe,
};
use influx_series::{
    Client, EncodeErrorKind, Error, FrameError, LineBuf, Part, Precision, QueryOptions, SharedTags,
    WriteOptions,
};
use support::db::fresh;

fn db(client: &Client) -> String {
    client.database().unwrap().to_owned()
}

fn opts(client: &Client) -> FrameWriteOptions {
    FrameWriteOptions::new().write_options(WriteOptions::new(db(client)))
}

fn times_ns(name: &str, t: &[i64]) -> Column {
    Int64Chunked::from_vec(name.into(), t.to_vec())
        .into_datetime(TimeUnit::Nanoseconds, None)
        .into_column()
}

fn col(df: &DataFrame, name: &str) -> Series {
    df.column(name)
        .unwrap_or_else(|_| panic!("no column `{name}` in {df:?}"))
        .as_materialized_series()
        .clone()
}

fn f64s(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    col(df, name).f64().unwrap().iter().collect()
}

fn i64s(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
    col(df, name).i64().unwrap().iter().collect()
}

fn bools(df: &DataFrame, name: &str) -> Vec<Option<bool>> {
    col(df, name).bool().unwrap().iter().collect()
}

fn strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    col(df, name)
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_owned))
        .collect()
}

/// The time column's instants, and its type.
fn times(df: &DataFrame) -> (Vec<i64>, DataType) {
    let s = col(df, "time");
    let dtype = s.dtype().clone();
    let values = s
        .to_physical_repr()
        .i64()
        .unwrap()
        .iter()
        .map(Option::unwrap)
        .collect();
    (values, dtype)
}

fn one(frames: &Frames, measurement: &str) -> DataFrame {
    assert_eq!(frames.len(), 1, "{frames:?}");
    frames[&FrameKey::new(measurement, Vec::<(String, String)>::new())].clone()
}

fn stored(client: &Client, query: &str) -> i64 {
    client.query(query).unwrap()[0]
        .rows()
        .filter_map(|r| r.value(1).and_then(|v| v.as_i64()))
        .sum()
}

fn categorical(name: &str, values: &[Option<&str>]) -> Column {
    Column::new(name.into(), values)
        .cast(&DataType::from_categories(Categories::global()))
        .unwrap()
}

const T0: i64 = 1_570_620_038_253_000_000;

/// Strings the encoder must escape or keep as they are.
const TEXTS: [&str; 6] = [
    r#"say "hi""#,
    r"C:\temp\ a back\slash",
    "commas, and = signs",
    "spaces  and\ttabs",
    "unicode: żółw 🐢 ü",
    "",
];

#[test]
fn every_supported_type_round_trips() {
    let client = fresh("frame_types");
    let n = 7;
    let t: Vec<i64> = (0..n).map(|i| T0 + i * 1_000_001).collect();
    let f64v = [
        Some(0.1),
        Some(1.0),
        None,
        Some(f64::NAN),
        Some(f64::NAN),
        Some(-1e300),
        None,
    ];
    let f32v = [
        Some(0.1f32),
        Some(3.5),
        None,
        Some(-2.0),
        None,
        Some(1e-45),
        None,
    ];
    let text = [0, 1, 5, 3, 9, 4, 9].map(|i| TEXTS.get(i).copied());
    let text2 = [0, 0, 9, 0, 9, 0, 9].map(|i| TEXTS.get(i + 2).copied());
    let hosts = ["web 1,a=b", "C:\\dir", "üñí", "plain", "", "plain", "x"];
    let enum_type =
        DataType::from_frozen_categories(FrozenCategories::new(["north", "south"]).unwrap());
    let df = DataFrame::new(
        n as usize,
        vec![
            times_ns("time", &t),
            Column::new("host".into(), hosts),
            categorical(
                "region",
                &[
                    Some("eu west"),
                    Some("us"),
                    None,
                    Some("eu west"),
                    Some("us"),
                    Some("us"),
                    None,
                ],
            ),
            Column::new(
                "zone".into(),
                [
                    "north", "south", "north", "north", "south", "south", "north",
                ],
            )
            .cast(&enum_type)
            .unwrap(),
            Column::new("f64".into(), f64v),
            Column::new("f32".into(), f32v),
            Column::new(
                "i8".into(),
                [Some(-128i8), Some(127), None, Some(0), None, Some(1), None],
            ),
            Column::new(
                "i16".into(),
                [
                    Some(i16::MIN),
                    None,
                    Some(i16::MAX),
                    Some(0),
                    None,
                    Some(2),
                    None,
                ],
            ),
            Column::new(
                "i32".into(),
                [
                    Some(i32::MIN),
                    Some(i32::MAX),
                    None,
                    Some(0),
                    None,
                    Some(3),
                    None,
                ],
            ),
            Column::new(
                "i64".into(),
                [
                    Some(i64::MIN),
                    Some(i64::MAX),
                    None,
                    Some(-1),
                    None,
                    Some(4),
                    None,
                ],
            ),
            Column::new(
                "u8".into(),
                [Some(255u8), Some(0), None, Some(1), None, Some(5), None],
            ),
            Column::new(
                "u16".into(),
                [Some(u16::MAX), None, Some(0), Some(1), None, Some(6), None],
            ),
            Column::new(
                "u32".into(),
                [Some(u32::MAX), Some(0), None, Some(1), None, Some(7), None],
            ),
            Column::new(
                "u64".into(),
                [
                    Some(i64::MAX as u64),
                    Some(0),
                    None,
                    Some(1),
                    None,
                    Some(8),
                    None,
                ],
            ),
            Column::new(
                "ok".into(),
                [
                    Some(true),
                    Some(false),
                    None,
                    Some(true),
                    None,
                    Some(false),
                    None,
                ],
            ),
            Column::new("text".into(), text),
            Column::new("text2".into(), text2),
        ],
    )
    .unwrap();
    let options = opts(&client).tag_columns(["host"]);
    let done = client.write_dataframe(&df, "types", &options).unwrap();
    // Row 4 has only null or NaN fields, row 6 only nulls (its text is null too).
    assert_eq!((done.commit.written, done.skipped), (5, 2), "{done:?}");

    let frames = client
        .query_dataframes("SELECT * FROM types", &FrameQueryOptions::new())
        .unwrap();
    let back = one(&frames, "types");
    let kept = [0usize, 1, 2, 3, 5];
    let pick = |v: &[Option<f64>]| kept.iter().map(|&i| v[i]).collect::<Vec<_>>();
    let (instants, dtype) = times(&back);
    assert_eq!(instants, kept.iter().map(|&i| t[i]).collect::<Vec<_>>());
    assert_eq!(
        dtype,
        DataType::Datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC))
    );
    // NaN is left out, so it reads back as null.
    let mut want_f64 = pick(&f64v);
    want_f64[3] = None;
    assert_eq!(f64s(&back, "f64"), want_f64);
    // A Float32 is written as its shortest text and read back as the f64 of that text.
    let want_f32: Vec<Option<f64>> = kept
        .iter()
        .map(|&i| f32v[i].map(|v| v.to_string().parse().unwrap()))
        .collect();
    assert_eq!(f64s(&back, "f32"), want_f32);
    assert_eq!(
        i64s(&back, "i8"),
        [Some(-128), Some(127), None, Some(0), Some(1)]
    );
    assert_eq!(
        i64s(&back, "i16"),
        [
            Some(i16::MIN as i64),
            None,
            Some(i16::MAX as i64),
            Some(0),
            Some(2)
        ]
    );
    assert_eq!(
        i64s(&back, "i64"),
        [Some(i64::MIN), Some(i64::MAX), None, Some(-1), Some(4)]
    );
    assert_eq!(
        i64s(&back, "u32"),
        [Some(u32::MAX as i64), Some(0), None, Some(1), Some(7)]
    );
    assert_eq!(
        i64s(&back, "u64"),
        [Some(i64::MAX), Some(0), None, Some(1), Some(8)]
    );
    assert_eq!(
        bools(&back, "ok"),
        [Some(true), Some(false), None, Some(true), Some(false)]
    );
    let want = |v: &[Option<&str>]| {
        kept.iter()
            .map(|&i| v[i].map(str::to_owned))
            .collect::<Vec<_>>()
    };
    assert_eq!(strs(&back, "text"), want(&text));
    assert_eq!(strs(&back, "text2"), want(&text2));
    // Tags read back as text; an empty or null tag is left out, so it reads back as null.
    assert_eq!(
        strs(&back, "host"),
        [
            Some("web 1,a=b"),
            Some("C:\\dir"),
            Some("üñí"),
            Some("plain"),
            Some("plain")
        ]
        .map(|s| s.map(str::to_owned))
    );
    assert_eq!(
        strs(&back, "region"),
        [
            Some("eu west"),
            Some("us"),
            None,
            Some("eu west"),
            Some("us")
        ]
        .map(|s| s.map(str::to_owned))
    );
    assert_eq!(
        strs(&back, "zone"),
        ["north", "south", "north", "north", "south"].map(|s| Some(s.to_owned()))
    );
    // Typed by the server's field types, not by the JSON: `1.0` arrives as `1`.
    assert_eq!(col(&back, "f64").dtype(), &DataType::Float64);
}

#[test]
fn times_of_every_unit_and_zone_are_the_same_instants() {
    let client = fresh("frame_times");
    let ms = [T0 / 1_000_000, T0 / 1_000_000 + 1];
    let us = [T0 / 1_000 + 7, T0 / 1_000 + 8];
    let days = [18_000, 18_001];
    let cases: Vec<(&str, Column, [i64; 2])> = vec![
        (
            "ms_berlin",
            Int64Chunked::from_vec("time".into(), ms.to_vec())
                .into_datetime(
                    TimeUnit::Milliseconds,
                    TimeZone::opt_try_new(Some("Europe/Berlin")).unwrap(),
                )
                .into_column(),
            ms.map(|v| v * 1_000_000),
        ),
        (
            "us_naive",
            Int64Chunked::from_vec("time".into(), us.to_vec())
                .into_datetime(TimeUnit::Microseconds, None)
                .into_column(),
            us.map(|v| v * 1_000),
        ),
        (
            "ns_utc",
            Int64Chunked::from_vec("time".into(), vec![T0, T0 + 1])
                .into_datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC))
                .into_column(),
            [T0, T0 + 1],
        ),
        (
            "date",
            Int32Chunked::from_vec("time".into(), days.to_vec())
                .into_date()
                .into_column(),
            days.map(|d| i64::from(d) * 86_400_000_000_000),
        ),
    ];
    for (measurement, time, want) in cases {
        let df = DataFrame::new(2, vec![time, Column::new("v".into(), [1.5, 2.5])]).unwrap();
        client
            .write_dataframe(&df, measurement, &opts(&client))
            .unwrap();
        let frames = client
            .query_dataframes(
                &format!("SELECT v FROM {measurement}"),
                &FrameQueryOptions::new(),
            )
            .unwrap();
        let (instants, _) = times(&one(&frames, measurement));
        assert_eq!(instants, want, "{measurement}");
    }
    // Written at millisecond precision, read at a millisecond epoch.
    let df = DataFrame::new(
        2,
        vec![
            times_ns("time", &[T0, T0 + 999_999]),
            Column::new("v".into(), [1i64, 2]),
        ],
    )
    .unwrap();
    let options = FrameWriteOptions::new()
        .write_options(WriteOptions::new(db(&client)).precision(Precision::Milliseconds));
    let done = client.write_dataframe(&df, "coarse", &options).unwrap();
    assert_eq!(done.commit.written, 2);
    let frames = client
        .query_dataframes(
            "SELECT v FROM coarse",
            &FrameQueryOptions::new()
                .query_options(QueryOptions::new().epoch(Precision::Milliseconds)),
        )
        .unwrap();
    let back = one(&frames, "coarse");
    let (instants, dtype) = times(&back);
    // Both rows floor to the same millisecond: the second overwrites the first.
    assert_eq!(instants, [T0 / 1_000_000]);
    assert_eq!(
        dtype,
        DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
    );
    assert_eq!(i64s(&back, "v"), [Some(2)]);
}

#[test]
fn pythons_quote_and_nanosecond_bugs_do_not_reproduce() {
    let client = fresh("frame_bugs");
    let df = DataFrame::new(
        1,
        vec![
            times_ns("time", &[T0]),
            Column::new("say".into(), [r#"say "hi""#]),
        ],
    )
    .unwrap();
    client.write_dataframe(&df, "bugs", &opts(&client)).unwrap();
    // What influxd stored, read without this crate's frames.
    let sets = client
        .query_with(
            "SELECT say FROM bugs",
            &QueryOptions::new().epoch(Precision::Nanoseconds),
        )
        .unwrap();
    let row = sets[0].rows().next().unwrap();
    assert_eq!(row.get("time").and_then(|v| v.as_i64()), Some(T0));
    assert_eq!(row.get_str("say"), Some(r#"say "hi""#));
    let back = one(
        &client
            .query_dataframes("SELECT say FROM bugs", &FrameQueryOptions::new())
            .unwrap(),
        "bugs",
    );
    assert_eq!(times(&back).0, [1_570_620_038_253_000_000]);
    assert_eq!(strs(&back, "say"), [Some(r#"say "hi""#.to_owned())]);
}

#[test]
fn bad_frames_are_refused_before_anything_is_sent() {
    let client = fresh("frame_errors");
    let good = |extra: Column| {
        DataFrame::new(
            3,
            vec![
                times_ns("time", &[T0, T0 + 1, T0 + 2]),
                Column::new("v".into(), [1.0, 2.0, 3.0]),
                extra,
            ],
        )
        .unwrap()
    };
    let write = |df: &DataFrame, options: FrameWriteOptions| match client
        .write_dataframe(df, "bad", &options)
    {
        Err(Error::InvalidFrame(e)) => e,
        other => panic!("expected a frame error, got {other:?}"),
    };
    let base = || opts(&client);

    // No time column.
    let df = good(Column::new("w".into(), [1i64, 2, 3]));
    let e = write(&df, base().time_column("at"));
    assert_eq!(
        e,
        FrameError::MissingColumn {
            column: "at".into(),
            role: "time"
        }
    );
    // A time column that is not a time.
    let e = write(&df, base().time_column("w"));
    assert!(
        matches!(e, FrameError::TimeColumnType { ref column, .. } if column == "w"),
        "{e}"
    );
    // A tag column of floats.
    let e = write(&df, base().tag_columns(["v"]));
    assert!(
        matches!(e, FrameError::TagColumnType { ref column, ref dtype } if column == "v" && dtype == "f64"),
        "{e}"
    );
    // No field column: everything is a tag.
    let tags_only = DataFrame::new(
        1,
        vec![times_ns("time", &[T0]), Column::new("host".into(), ["a"])],
    )
    .unwrap();
    assert_eq!(
        write(&tags_only, base().tag_columns(["host"])),
        FrameError::NoFieldColumns
    );
    // A categorical listed as a field.
    let df = good(categorical("kind", &[Some("a"), Some("b"), None]));
    let e = write(&df, base().field_columns(["kind", "v"]));
    assert!(
        matches!(e, FrameError::FieldColumnType { ref column, .. } if column == "kind"),
        "{e}"
    );
    // A column listed twice, and a listed column that does not exist.
    let e = write(
        &df,
        base().tag_columns(["kind"]).field_columns(["kind", "v"]),
    );
    assert_eq!(
        e,
        FrameError::ColumnInTwoRoles {
            column: "kind".into()
        }
    );
    let e = write(&df, base().field_columns(["nope"]));
    assert_eq!(
        e,
        FrameError::MissingColumn {
            column: "nope".into(),
            role: "field"
        }
    );
    // Cells: an unsigned integer above i64::MAX, an infinite float, a tag value with a newline
    // (in the last row: the rows before it would encode), a null time.
    let e = write(&good(Column::new("u".into(), [1u64, u64::MAX, 2])), base());
    assert_eq!(
        e,
        FrameError::Cell {
            row: 1,
            error: influx_series::EncodeError::new(
                EncodeErrorKind::IntegerOutOfRange,
                Part::FieldValue("u".into())
            )
        }
    );
    let e = write(
        &good(Column::new("x".into(), [1.0, 2.0, f64::INFINITY])),
        base(),
    );
    assert!(matches!(e, FrameError::Cell { row: 2, .. }), "{e}");
    // (Two tag columns, listed out of key order: the error names the right one.)
    let mut df = good(Column::new("host".into(), ["a", "b", "two\nlines"]));
    df.hstack_mut(&[Column::new("dc".into(), ["x", "y", "z"])])
        .unwrap();
    let e = write(
        &df,
        base()
            .tag_columns(["host", "dc"])
            .write_options(WriteOptions::new(db(&client)).batch_size(1)),
    );
    assert_eq!(
        e,
        FrameError::Cell {
            row: 2,
            error: influx_series::EncodeError::new(
                EncodeErrorKind::Newline,
                Part::TagValue("host".into())
            )
        }
    );
    let null_time = DataFrame::new(
        2,
        vec![
            Int64Chunked::from_iter_options("time".into(), [Some(T0), None].into_iter())
                .into_datetime(TimeUnit::Nanoseconds, None)
                .into_column(),
            Column::new("v".into(), [1.0, 2.0]),
        ],
    )
    .unwrap();
    assert_eq!(write(&null_time, base()), FrameError::NullTime { row: 1 });
    // A field named like a shared tag, and a bad measurement.
    let shared = WriteOptions::new(db(&client)).tags(SharedTags::new([("v", "x")]).unwrap());
    let e = write(
        &good(Column::new("w".into(), [1, 2, 3])),
        base().write_options(shared),
    );
    assert!(
        matches!(&e, FrameError::Name(n) if n.kind() == EncodeErrorKind::KeyConflict),
        "{e}"
    );
    let e = match client.write_dataframe(&good(Column::new("w".into(), [1, 2, 3])), "#m", &base()) {
        Err(Error::InvalidFrame(e)) => e,
        other => panic!("{other:?}"),
    };
    assert!(
        matches!(&e, FrameError::Name(n) if n.kind() == EncodeErrorKind::Comment),
        "{e}"
    );

    // Nothing reached the server.
    let measurements = client.query("SHOW MEASUREMENTS").unwrap();
    assert_eq!(measurements[0].rows().count(), 0, "{:?}", measurements[0]);
}

#[test]
fn batches_go_in_order_and_a_failed_batch_names_its_rows() {
    let client = fresh("frame_batches");
    // 12 rows in batches of 5: rows 0..5 in 2010, rows 5..12 in 2020, where `v` is already an
    // integer (field types are per shard, so only the 2020 rows conflict).
    let t2010 = 1_262_304_000_000_000_000i64;
    let t2020 = 1_577_836_800_000_000_000i64;
    client
        .write_raw(
            &format!("batch v=1i {}", t2020 - 1),
            &WriteOptions::new(db(&client)),
        )
        .unwrap();
    let t: Vec<i64> = (0..12)
        .map(|i| if i < 5 { t2010 + i } else { t2020 + i })
        .collect();
    let df = DataFrame::new(
        12,
        vec![
            times_ns("time", &t),
            Column::new(
                "v".into(),
                (0..12).map(|i| i as f64 + 0.5).collect::<Vec<_>>(),
            ),
        ],
    )
    .unwrap();
    let options =
        FrameWriteOptions::new().write_options(WriteOptions::new(db(&client)).batch_size(5));
    let err = client.write_dataframe(&df, "batch", &options).unwrap_err();
    match &err {
        Error::FrameRows {
            rows,
            written_before,
            source,
        } => {
            assert_eq!((rows.clone(), *written_before), (5..10, 5), "{err}");
            assert!(
                source.to_string().contains("field type conflict"),
                "{source}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.written_before(), 5);
    // The 2010 rows and the integer that was there; nothing of rows 10 and 11.
    assert_eq!(stored(&client, "SELECT count(v) FROM batch"), 6);

    // In a fresh measurement every batch goes, one request each.
    let done = client.write_dataframe(&df, "batch_ok", &options).unwrap();
    assert_eq!((done.commit.written, done.commit.requests), (12, 3));
}

#[test]
fn a_row_larger_than_a_request_is_refused_and_rows_after_it_are_not_sent() {
    // Requests are bounded by the client's max_request_size: a row whose line alone is over
    // it cannot be sent; the batches before it are written, nothing from it on.
    let client = fresh("frame_request_size");
    let small = Client::builder()
        .host("127.0.0.1")
        .port(influx_testserver::shared().http_port())
        .database(db(&client))
        .max_request_size(1_000)
        .build()
        .unwrap();
    let big = "x".repeat(5_000);
    let df = DataFrame::new(
        3,
        vec![
            times_ns("time", &[T0, T0 + 1, T0 + 2]),
            Column::new("s".into(), ["small", big.as_str(), "small"]),
        ],
    )
    .unwrap();
    let options = FrameWriteOptions::new().write_options(WriteOptions::default().batch_size(1));
    match small.write_dataframe(&df, "big", &options) {
        Err(Error::FrameRows {
            rows,
            written_before: 1,
            source,
        }) => {
            assert_eq!(rows, 1..2);
            assert!(
                matches!(*source, Error::RequestTooLarge { limit: 1_000, .. }),
                "{source:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(stored(&client, "SELECT count(s) FROM big"), 1);
}

#[test]
fn frames_are_keyed_by_series_and_typed_by_the_server_or_the_caller() {
    let client = fresh("frame_read");
    // Whole floats: the server sends `2.0` as `2`.
    let lines = "cpu,host=a,region=eu usage=2.0,n=1i,up=true,note=\"x\" 1000\n\
                 cpu,host=a,region=eu usage=3.0,n=2i 2000\n\
                 cpu,host=b,region=us usage=4.0 1000\n\
                 cpu,host=b,region=us usage=5.5,note=\"y, \\\"z\\\"\" 3000\n";
    client
        .write_raw(lines, &WriteOptions::new(db(&client)))
        .unwrap();
    // Several chunks of 1 row: each series arrives in pieces.
    let options = FrameQueryOptions::new().query_options(QueryOptions::new().chunked(1));
    let frames = client
        .query_dataframes("SELECT usage, n, up, note FROM cpu GROUP BY host", &options)
        .unwrap();
    assert_eq!(
        frames.keys().cloned().collect::<Vec<_>>(),
        [
            FrameKey::new("cpu", [("host", "a")]),
            FrameKey::new("cpu", [("host", "b")])
        ]
    );
    let a = &frames[&FrameKey::new("cpu", [("host", "a")])];
    let b = &frames[&FrameKey::new("cpu", [("host", "b")])];
    assert_eq!(times(a).0, [1000, 2000]);
    assert_eq!(f64s(a, "usage"), [Some(2.0), Some(3.0)]);
    assert_eq!(i64s(a, "n"), [Some(1), Some(2)]);
    assert_eq!(bools(a, "up"), [Some(true), None]);
    assert_eq!(strs(b, "note"), [None, Some(r#"y, "z""#.to_owned())]);
    assert_eq!(f64s(b, "usage"), [Some(4.0), Some(5.5)]);
    // A column of only nulls in this series is still typed by the server.
    assert_eq!(col(b, "n").dtype(), &DataType::Int64);
    assert_eq!(col(b, "up").dtype(), &DataType::Boolean);

    // Aggregates are not field keys: typed from their cells, or as the caller says.
    let q = "SELECT mean(usage), count(usage) FROM cpu GROUP BY region";
    let frames = client
        .query_dataframes(
            q,
            &FrameQueryOptions::new().column("count", FieldType::Integer),
        )
        .unwrap();
    let eu = &frames[&FrameKey::new("cpu", [("region", "eu")])];
    assert_eq!(f64s(eu, "mean"), [Some(2.5)]);
    assert_eq!(i64s(eu, "count"), [Some(2)]);
    // Without the server's types, a whole-float field is typed from its cells: still floats.
    let frames = client
        .query_dataframes(
            "SELECT usage FROM cpu WHERE host = 'a'",
            &FrameQueryOptions::new().server_types(false),
        )
        .unwrap();
    assert_eq!(f64s(&one(&frames, "cpu"), "usage"), [Some(2.0), Some(3.0)]);

    // A schema that does not fit the cells is a decoding error naming the column.
    match client.query_dataframes(
        "SELECT usage FROM cpu",
        &FrameQueryOptions::new().column("usage", FieldType::Boolean),
    ) {
        Err(Error::Decode(m)) => assert!(
            m.message().contains("column `usage` of `cpu`")
                && m.message().contains("expected a boolean"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    // The answer is bounded by the client's max_answer_size, as every query's.
    let small = Client::builder()
        .host("127.0.0.1")
        .port(influx_testserver::shared().http_port())
        .database(db(&client))
        .max_answer_size(100)
        .build()
        .unwrap();
    match small.query_dataframes("SELECT * FROM cpu", &FrameQueryOptions::new()) {
        Err(Error::AnswerTooLarge { limit: 100 }) => {}
        other => panic!("{other:?}"),
    }
    // A statement error, and a query of nothing.
    match client.query_dataframes("SELECT usage FROM cpu WHERE", &FrameQueryOptions::new()) {
        Err(e) => assert!(e.to_string().contains("error parsing query"), "{e}"),
        Ok(f) => panic!("{f:?}"),
    }
    let none = client
        .query_dataframes("SELECT usage FROM nothing", &FrameQueryOptions::new())
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn encoding_matches_point_encoding() {
    // The same rows through `Point` and through the frame encoder give the same bytes.
    let df = DataFrame::new(
        2,
        vec![
            times_ns("time", &[T0, T0 + 1]),
            Column::new("b host".into(), ["x,y", "z"]),
            Column::new("a".into(), [Some(1i64), None]),
            Column::new("s".into(), [r#"q"\"#, "plain"]),
            Column::new("f".into(), [0.25, 1e21]),
        ],
    )
    .unwrap();
    let shared = SharedTags::new([("c", "shared"), ("b host", "loses")]).unwrap();
    let options = FrameWriteOptions::new()
        .tag_columns(["b host"])
        .write_options(WriteOptions::default().tags(shared.clone()));
    let mut frame_lines = LineBuf::new();
    assert_eq!(
        encode_dataframe(&df, "m m", &options, &mut frame_lines).unwrap(),
        0
    );
    let mut point_lines = LineBuf::new();
    let p1 = influx_series::Point::builder("m m")
        .tag("b host", "x,y")
        .field("a", 1i64)
        .field("s", r#"q"\"#)
        .field("f", 0.25)
        .timestamp_in(T0, Precision::Nanoseconds)
        .build()
        .unwrap();
    let p2 = influx_series::Point::builder("m m")
        .tag("b host", "z")
        .field("s", "plain")
        .field("f", 1e21)
        .timestamp_in(T0 + 1, Precision::Nanoseconds)
        .build()
        .unwrap();
    point_lines.push_point_with_tags(&p1, Precision::Nanoseconds, &shared);
    point_lines.push_point_with_tags(&p2, Precision::Nanoseconds, &shared);
    assert_eq!(frame_lines.as_str(), point_lines.as_str());
}

#[test]
fn the_async_client_writes_and_reads_frames() {
    let client = fresh("frame_async");
    let server = influx_testserver::shared();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let database = db(&client);
    runtime.block_on(async {
        let client = influx_series::AsyncClient::new(&server.url())
            .unwrap()
            .with_database(database.clone());
        let df = DataFrame::new(
            3,
            vec![
                times_ns("time", &[T0, T0 + 1, T0 + 2]),
                Column::new("v".into(), [1i64, 2, 3]),
            ],
        )
        .unwrap();
        let options = FrameWriteOptions::new().write_options(WriteOptions::new(database));
        let done = client.write_dataframe(&df, "a", &options).await.unwrap();
        assert_eq!(done.commit.written, 3);
        let frames = client
            .query_dataframes("SELECT v FROM a", &FrameQueryOptions::new())
            .await
            .unwrap();
        assert_eq!(i64s(&one(&frames, "a"), "v"), [Some(1), Some(2), Some(3)]);
    });
}

// influxdb-python's DataFrameClient, run by Debian's Python.

fn python(script: &str, client: &Client) -> serde_json::Value {
    let server = influx_testserver::shared();
    // Bounded in time: a Python that hangs fails the test after two minutes.
    let out = Command::new("timeout")
        .args(["120", "/usr/bin/python3", "-c", script])
        .env("INFLUX_PORT", server.http_port().to_string())
        .env("INFLUX_DB", db(client))
        .output()
        .expect("/usr/bin/python3 runs (scripts/ensure-python-peers installs it)");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    })
}

const PY_PRELUDE: &str = r#"
import json, os, sys
import pandas as pd
from influxdb import DataFrameClient
client = DataFrameClient(host="127.0.0.1", port=int(os.environ["INFLUX_PORT"]),
                         database=os.environ["INFLUX_DB"])
"#;

#[test]
fn python_reads_a_frame_written_here() {
    let client = fresh("frame_to_python");
    // A millisecond apart: Python reads times exactly only to the millisecond.
    let t = [T0, T0 + 1_000_000, T0 + 2_000_000];
    let df = DataFrame::new(
        3,
        vec![
            times_ns("time", &t),
            Column::new("host".into(), ["web 1", "db,2", "web 1"]),
            Column::new("usage".into(), [0.1, 2.0, -3.25]),
            Column::new("count".into(), [1i64, -2, 3]),
            Column::new("up".into(), [true, false, true]),
            Column::new("note".into(), [r#"say "hi""#, "a\\b, c=d", "żółw"]),
        ],
    )
    .unwrap();
    client
        .write_dataframe(&df, "py", &opts(&client).tag_columns(["host"]))
        .unwrap();
    let script = format!(
        r#"{PY_PRELUDE}
frame = client.query("SELECT * FROM py")["py"]
rows = []
for at, row in frame.iterrows():
    rows.append({{"time": int(at.value), "host": row["host"], "usage": float(row["usage"]),
                 "count": int(row["count"]), "up": bool(row["up"]), "note": row["note"]}})
print(json.dumps(rows))
"#
    );
    let rows = python(&script, &client);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["time"].as_i64(), Some(t[i]), "{row}");
        assert_eq!(row["host"].as_str(), strs(&df, "host")[i].as_deref());
        assert_eq!(row["usage"].as_f64(), f64s(&df, "usage")[i]);
        assert_eq!(row["count"].as_i64(), i64s(&df, "count")[i]);
        assert_eq!(row["up"].as_bool(), bools(&df, "up")[i]);
        assert_eq!(row["note"].as_str(), strs(&df, "note")[i].as_deref());
    }
}

#[test]
fn a_frame_written_by_python_reads_back_here_as_influxd_stored_it() {
    let client = fresh("frame_from_python");
    // Millisecond times (Python's are exact only to the millisecond) and no quotes in strings
    // (Python does not escape them).
    let script = format!(
        r#"{PY_PRELUDE}
index = pd.to_datetime([1570620038253, 1570620038254, 1570620038300], unit="ms", utc=True)
frame = pd.DataFrame({{"host": ["a", "b", "a"], "usage": [0.5, 1.25, 2.0],
                      "count": [1, 2, 3], "note": ["x y", "z, w", "ü"]}}, index=index)
client.write_points(frame, "frompy", tag_columns=["host"])
print(json.dumps({{"time": [int(t.value) for t in index], "host": list(frame["host"]),
                  "usage": list(frame["usage"]), "count": [int(c) for c in frame["count"]],
                  "note": list(frame["note"])}}))
"#
    );
    let sent = python(&script, &client);
    let back = one(
        &client
            .query_dataframes("SELECT * FROM frompy", &FrameQueryOptions::new())
            .unwrap(),
        "frompy",
    );
    // What influxd stored, read as plain rows.
    let sets = client
        .query_with(
            "SELECT * FROM frompy",
            &QueryOptions::new().epoch(Precision::Nanoseconds),
        )
        .unwrap();
    let rows: Vec<_> = sets[0].rows().collect();
    assert_eq!(rows.len(), 3);
    let (instants, _) = times(&back);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.get("time").and_then(|v| v.as_i64()), Some(instants[i]));
        assert_eq!(
            row.get("usage").and_then(|v| v.as_f64()),
            f64s(&back, "usage")[i]
        );
        assert_eq!(
            row.get("count").and_then(|v| v.as_i64()),
            i64s(&back, "count")[i]
        );
        assert_eq!(row.get_str("host"), strs(&back, "host")[i].as_deref());
        assert_eq!(row.get_str("note"), strs(&back, "note")[i].as_deref());
    }
    // And what Python meant to write, its times to the millisecond: it computes them with a
    // float division (influxdb-python #926), so 1570620038253 ms arrives as ...252999936 ns.
    let want_times: Vec<i64> = sent["time"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap() / 1_000_000)
        .collect();
    let nearest_ms: Vec<i64> = instants
        .iter()
        .map(|t| (t + 500_000).div_euclid(1_000_000))
        .collect();
    assert_eq!(nearest_ms, want_times);
    let want_usage: Vec<Option<f64>> = sent["usage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64())
        .collect();
    assert_eq!(f64s(&back, "usage"), want_usage);
    let want_count: Vec<Option<i64>> = sent["count"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64())
        .collect();
    assert_eq!(i64s(&back, "count"), want_count);
    let want_note: Vec<Option<String>> = sent["note"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(strs(&back, "note"), want_note);
    assert_eq!(col(&back, "count").dtype(), &DataType::Int64);
}

/// Property: a frame encodes to exactly the lines of its rows as `Point`s (null and NaN fields
/// left out, empty tags left out, rows without a field skipped), and is refused as a whole
/// exactly when some row's point would be refused.
#[test]
fn frames_encode_as_their_rows_would_as_points() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use support::r#gen::hard_string;

    // Mostly texts that need escapes but are valid; some with backslashes (valid or not), some
    // with anything (newlines, NUL, `#`, tabs).
    let text = |max: usize| {
        prop_oneof![
            8 => prop::string::string_regex(&format!("[a-z ,=\"é✓]{{1,{max}}}")).unwrap(),
            1 => prop::string::string_regex(&format!("[a-z ,=\"\\\\]{{1,{max}}}")).unwrap(),
            1 => hard_string(max),
        ]
    };
    let cell = || prop::option::of(text(8));
    let float = prop_oneof![
        3 => prop::option::of(prop::num::f64::ANY),
        1 => Just(Some(f64::NAN)),
        1 => Just(None),
    ];
    let rows = prop::collection::vec((cell(), cell(), cell(), float), 1..5);
    let names = prop::collection::vec(text(5), 5);
    let mut runner = TestRunner::new(Config {
        cases: 1024,
        failure_persistence: None,
        ..Config::default()
    });
    let (accepted, refused) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    runner
        .run(&(names, rows), |(names, rows)| {
            let (measurement, tags, fields) = (&names[0], &names[1..3], &names[3..5]);
            let n = rows.len();
            let column = |name: &str, i: usize| {
                let values: Vec<Option<&str>> = rows
                    .iter()
                    .map(|r| [&r.0, &r.1, &r.2][i].as_deref())
                    .collect();
                Column::new(name.into(), values)
            };
            let floats: Vec<Option<f64>> = rows.iter().map(|r| r.3).collect();
            let time: Vec<i64> = (0..n as i64).map(|i| T0 + i).collect();
            let Ok(df) = DataFrame::new(
                n,
                vec![
                    times_ns("time", &time),
                    column(&tags[0], 0),
                    column(&tags[1], 1),
                    column(&fields[0], 2),
                    Column::new(fields[1].as_str().into(), floats),
                ],
            ) else {
                // Two columns of one name (or one named `time`): not a frame.
                return Ok(());
            };
            let options = FrameWriteOptions::new().tag_columns(tags.to_vec());
            let mut from_frame = LineBuf::new();
            let frame = encode_dataframe(&df, measurement, &options, &mut from_frame);

            // The rows as points: any refusal refuses the frame.
            let mut from_points = LineBuf::new();
            // The frame checks every column's name, used by a row or not.
            let names_ok = influx_series::Point::builder(measurement.clone())
                .tag(tags[0].clone(), "v")
                .tag(tags[1].clone(), "v")
                .field(fields[0].clone(), 0i64)
                .field(fields[1].clone(), 0i64)
                .build()
                .is_ok();
            let mut any_refused = !names_ok;
            for (i, row) in rows.iter().enumerate() {
                let mut b = influx_series::Point::builder(measurement.clone());
                for (key, value) in tags.iter().zip([&row.0, &row.1]) {
                    if let Some(v) = value {
                        b = b.tag(key.clone(), v.clone());
                    }
                }
                let mut has_field = false;
                if let Some(s) = &row.2 {
                    b = b.field(fields[0].clone(), s.clone());
                    has_field = true;
                }
                if let Some(x) = row.3.filter(|x| !x.is_nan()) {
                    b = b.field(fields[1].clone(), x);
                    has_field = true;
                }
                if !has_field {
                    // Skipped by the frame, but its tags are still checked: so check them
                    // with a field the names cannot break.
                    b = b.field(fields[0].clone(), 0i64);
                }
                match b.timestamp_in(time[i], Precision::Nanoseconds).build() {
                    Ok(p) if has_field => from_points.push_point(&p, Precision::Nanoseconds),
                    Ok(_) => {}
                    Err(_) => any_refused = true,
                }
            }
            match frame {
                Ok(_) => {
                    prop_assert!(!any_refused, "the frame took rows a point refuses: {df:?}");
                    prop_assert_eq!(from_frame.as_str(), from_points.as_str());
                    accepted.set(accepted.get() + 1);
                }
                Err(e) => {
                    prop_assert!(
                        any_refused,
                        "the frame was refused ({e}), no point was: {df:?}"
                    );
                    refused.set(refused.get() + 1);
                }
            }
            Ok(())
        })
        .unwrap();
    let (accepted, refused) = (accepted.get(), refused.get());
    eprintln!("{accepted} frames accepted, {refused} refused");
    assert!(
        accepted > 100 && refused > 100,
        "{accepted} accepted, {refused} refused"
    );
}

/// The points of the several-statement tests: `cpu` of two hosts, one of which never had a
/// `temp`, and `mem` with a tag of a value a row, selected as a column.
fn write_parity_points(client: &Client) {
    let point = |m: &'static str,
                 tags: &[(&'static str, &'static str)],
                 fields: &[(&'static str, f64)],
                 t: i64| {
        let mut b = influx_series::Point::builder(m);
        for (k, v) in tags {
            b = b.tag(*k, *v);
        }
        for (k, v) in fields {
            b = b.field(*k, *v);
        }
        b.timestamp_in(T0 + t, Precision::Nanoseconds)
            .build()
            .unwrap()
    };
    let points = [
        point(
            "cpu",
            &[("host", "a")],
            &[("temp", 40.0), ("usage", 0.5)],
            0,
        ),
        point(
            "cpu",
            &[("host", "a")],
            &[("temp", 41.0), ("usage", 0.6)],
            1,
        ),
        point("cpu", &[("host", "b")], &[("usage", 0.7)], 2),
        point("mem", &[("dc", "west")], &[("used", 1.0)], 0),
        point("mem", &[("dc", "east")], &[("used", 2.0)], 1),
        point("mem", &[("dc", "north")], &[("used", 3.0)], 2),
    ];
    client
        .write_points(points, &WriteOptions::new(db(client)))
        .unwrap();
}

const TWO_STATEMENTS: &str = "SELECT * FROM cpu GROUP BY host; SELECT used, dc FROM mem";

/// Each statement's frames as `{key: [columns but time]}`, keys written as Python's `str` of
/// them: `cpu` or `('cpu', (('host', 'a'),))`.
fn columns_by_key(each: &[Frames]) -> serde_json::Value {
    let statements: Vec<serde_json::Value> = each
        .iter()
        .map(|frames| {
            let mut keys = serde_json::Map::new();
            for (key, frame) in frames {
                let name = if key.tags.is_empty() {
                    key.measurement.clone()
                } else {
                    let tags: Vec<String> = key
                        .tags
                        .iter()
                        .map(|(k, v)| format!("('{k}', '{v}')"))
                        .collect();
                    format!("('{}', ({},))", key.measurement, tags.join(", "))
                };
                let columns: Vec<String> = frame
                    .get_column_names()
                    .into_iter()
                    .filter(|c| c.as_str() != "time")
                    .map(|c| c.to_string())
                    .collect();
                keys.insert(name, serde_json::json!(columns));
            }
            serde_json::Value::Object(keys)
        })
        .collect();
    serde_json::Value::Array(statements)
}

#[test]
fn several_statements_give_a_set_of_frames_each_with_and_without_dropna_as_python() {
    let client = fresh("frame_statements");
    write_parity_points(&client);
    for dropna in [true, false] {
        let each = client
            .query_dataframe_statements(TWO_STATEMENTS, &FrameQueryOptions::new().dropna(dropna))
            .unwrap();
        assert_eq!(each.len(), 2);
        let b = &each[0][&FrameKey::new("cpu", [("host", "b")])];
        assert_eq!(f64s(b, "usage"), [Some(0.7)]);
        let script = format!(
            r#"{PY_PRELUDE}
out = []
for frames in client.query("{TWO_STATEMENTS}", dropna={py}):
    out.append({{str(k): [c for c in df.columns] for k, df in frames.items()}})
print(json.dumps(out))
"#,
            py = if dropna { "True" } else { "False" }
        );
        let python_columns = python(&script, &client);
        assert_eq!(columns_by_key(&each), python_columns, "dropna={dropna}");
        // Host b has no `temp`: gone with dropna, a column of nulls without.
        let names = b.get_column_names();
        assert_eq!(names.iter().any(|c| c.as_str() == "temp"), !dropna, "{b:?}");
    }
}

#[test]
fn index_columns_order_the_rows_as_pythons_data_frame_index() {
    let client = fresh("frame_index");
    write_parity_points(&client);
    let query = "SELECT used, dc FROM mem";
    let options = FrameQueryOptions::new().index_columns(["dc"]);
    let frames = client.query_dataframes(query, &options).unwrap();
    let mem = one(&frames, "mem");
    assert_eq!(mem.get_column_names(), ["dc", "time", "used"]);
    let script = format!(
        r#"{PY_PRELUDE}
df = client.query("{query}", data_frame_index=["dc"])["mem"]
print(json.dumps({{"dc": list(df.index), "used": [float(u) for u in df["used"]]}}))
"#
    );
    let python_rows = python(&script, &client);
    let dc: Vec<serde_json::Value> = strs(&mem, "dc").into_iter().map(|s| s.into()).collect();
    assert_eq!(serde_json::Value::from(dc), python_rows["dc"]);
    let used: Vec<serde_json::Value> = f64s(&mem, "used").into_iter().map(|u| u.into()).collect();
    assert_eq!(serde_json::Value::from(used), python_rows["used"]);
    assert_eq!(f64s(&mem, "used"), [Some(2.0), Some(3.0), Some(1.0)]);
    // A name that is not a column of the frame (a GROUP BY tag is in the key).
    let err = client
        .query_dataframes(
            "SELECT * FROM cpu GROUP BY host",
            &FrameQueryOptions::new().index_columns(["host"]),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.to_string().contains("index column `host`")),
        "{err:?}"
    );
}

#[test]
fn query_dataframes_refuses_several_statements_before_sending_them() {
    let client = fresh("frame_one_statement");
    write_parity_points(&client);
    let err = client
        .query_dataframes(
            "SELECT * FROM cpu; DROP MEASUREMENT cpu",
            &FrameQueryOptions::new(),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.to_string().contains("query_dataframe_statements")),
        "{err:?}"
    );
    // Not sent: the measurement is still there.
    assert_eq!(stored(&client, "SELECT count(usage) FROM cpu"), 3);
    // Any statement's rows read as frames, not only a SELECT's.
    let shown = client
        .query_dataframes("SHOW MEASUREMENTS", &FrameQueryOptions::new())
        .unwrap();
    assert_eq!(
        strs(&one(&shown, "measurements"), "name"),
        [Some("cpu".to_owned()), Some("mem".to_owned())]
    );
    // A failed statement after a good one names its index.
    let err = client
        .query_dataframe_statements(
            "SELECT * FROM cpu; SELECT mean(usage), usage FROM cpu",
            &FrameQueryOptions::new(),
        )
        .unwrap_err();
    assert!(matches!(&err, Error::Statement { index: 1, .. }), "{err:?}");
    // And the async client reads each statement too.
    let server = influx_testserver::shared();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let each = runtime.block_on(async {
        influx_series::AsyncClient::new(&server.url())
            .unwrap()
            .with_database(db(&client))
            .query_dataframe_statements(TWO_STATEMENTS, &FrameQueryOptions::new())
            .await
            .unwrap()
    });
    assert_eq!(each.len(), 2);
    assert_eq!(each[0].len(), 2);
    assert_eq!(
        f64s(&one(&each[1], "mem"), "used"),
        [Some(1.0), Some(2.0), Some(3.0)]
    );
}
