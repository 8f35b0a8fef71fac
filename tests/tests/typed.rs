//! Query rows decoded into the structs that wrote them, against a real influxd.

mod support {
    pub mod db;
}

use chrono::{DateTime, TimeZone, Utc};
use influx_series::{Error, Precision, QueryOptions, Series};
use support::db::fresh;

#[derive(Series, Debug, Clone, PartialEq)]
#[series(name = "every_type")]
struct EveryType {
    #[series(tag)]
    host: String,
    #[series(tag, rename = "data center")]
    dc: Option<String>,
    a: i8,
    b: i16,
    c: i32,
    d: i64,
    e: u8,
    f: u16,
    g: u32,
    h: u64,
    i: isize,
    j: usize,
    small: f32,
    big: f64,
    flag: bool,
    text: String,
    #[series(rename = "maybe number")]
    maybe: Option<i64>,
    maybe_text: Option<String>,
    #[series(time)]
    at: DateTime<Utc>,
    #[series(skip)]
    scratch: Vec<u8>,
}

fn every(n: i64) -> EveryType {
    EveryType {
        host: format!("h{}", n % 3),
        dc: (n % 2 == 0).then(|| "eu west".to_owned()),
        a: -(n as i8),
        b: i16::MIN + n as i16,
        c: i32::MAX - n as i32,
        d: i64::MIN + n,
        e: u8::MAX - n as u8,
        f: n as u16 * 7,
        g: u32::MAX - n as u32,
        h: i64::MAX as u64 - n as u64,
        i: -(n as isize) * 1000,
        j: n as usize * 1000,
        small: 0.1 + n as f32,
        big: 1.0 / (n as f64 + 3.0),
        flag: n % 2 == 1,
        text: format!("line \"{n}\"\nsecond, with = and \\"),
        maybe: (n % 3 == 0).then_some(n * 11),
        maybe_text: (n % 4 == 0).then(|| format!("t{n}")),
        at: Utc.timestamp_opt(1_600_000_000 + n, 123_456_789).unwrap(),
        scratch: Vec::new(),
    }
}

#[test]
fn every_owned_type_round_trips() {
    let client = fresh("every");
    let sent: Vec<EveryType> = (0..12).map(every).collect();
    for p in sent.clone() {
        p.record().unwrap();
    }
    EveryType::commit_with(&client).unwrap();
    let got: Vec<EveryType> = client
        .query_as("SELECT * FROM every_type ORDER BY time")
        .unwrap();
    assert_eq!(got, sent);
    // Through the type's own select too (epoch ns), and RFC 3339 times decode the same.
    assert_eq!(EveryType::select(&client).unwrap(), sent);
    let rfc: Vec<EveryType> = client
        .query_as_with(
            "SELECT * FROM every_type",
            &QueryOptions::new().epoch(Precision::Seconds),
        )
        .unwrap();
    assert_eq!(
        rfc[0].at,
        Utc.timestamp_opt(1_600_000_000, 0).unwrap(),
        "seconds epoch floors"
    );
    // Columns the type does not have are ignored.
    let few: Vec<FewColumns> = client.query_as("SELECT * FROM every_type").unwrap();
    assert_eq!(few.len(), sent.len());
    assert_eq!(
        few[1],
        FewColumns {
            host: sent[1].host.clone(),
            d: sent[1].d
        }
    );
}

#[derive(Series, Debug, PartialEq)]
#[series(name = "every_type")]
struct FewColumns {
    #[series(tag)]
    host: String,
    d: i64,
}

macro_rules! timed {
    ($name:ident, $p:literal) => {
        #[derive(Series, Debug, PartialEq)]
        #[series(name = "timed", precision = $p)]
        struct $name {
            #[series(tag)]
            unit: String,
            v: f64,
            #[series(time)]
            at: DateTime<Utc>,
        }
    };
}
timed!(TimedN, "ns");
timed!(TimedU, "u");
timed!(TimedMs, "ms");
timed!(TimedS, "s");
timed!(TimedM, "m");
timed!(TimedH, "h");

#[derive(Series, Debug, PartialEq)]
#[series(name = "raw_time", precision = "ms")]
struct RawTime {
    v: i64,
    #[series(time)]
    at_ms: i64,
}

#[test]
fn time_at_each_precision_reads_back_floored() {
    let client = fresh("precision");
    let t = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap()
        + chrono::Duration::nanoseconds(987_654_321);
    let floor = |p: Precision| {
        DateTime::from_timestamp_nanos(p.timestamp(&t).unwrap() * p.nanos_per_unit())
    };
    macro_rules! check {
        ($ty:ident, $p:expr) => {{
            let unit = stringify!($ty).to_owned();
            $ty {
                unit: unit.clone(),
                v: 1.5,
                at: t,
            }
            .record()
            .unwrap();
            $ty::commit_with(&client).unwrap();
            let rows: Vec<$ty> = client
                .query_as_with(
                    "SELECT * FROM timed WHERE unit = $unit",
                    &QueryOptions::new().bind("unit", unit.clone()),
                )
                .unwrap();
            assert_eq!(
                rows,
                vec![$ty {
                    unit,
                    v: 1.5,
                    at: floor($p)
                }]
            );
        }};
    }
    check!(TimedN, Precision::Nanoseconds);
    check!(TimedU, Precision::Microseconds);
    check!(TimedMs, Precision::Milliseconds);
    check!(TimedS, Precision::Seconds);
    check!(TimedM, Precision::Minutes);
    check!(TimedH, Precision::Hours);

    RawTime {
        v: 1,
        at_ms: -1_500,
    }
    .record()
    .unwrap();
    RawTime::commit_with(&client).unwrap();
    let rows: Vec<RawTime> = client.query_as("SELECT * FROM raw_time").unwrap();
    assert_eq!(
        rows,
        vec![RawTime {
            v: 1,
            at_ms: -1_500
        }]
    );
}

#[derive(Series, Debug, PartialEq)]
#[series(name = "grouped")]
struct Grouped {
    #[series(tag)]
    host: String,
    #[series(tag)]
    region: Option<String>,
    load: f64,
}

#[derive(Series, Debug, PartialEq)]
#[series(name = "grouped")]
struct LoadOnly {
    load: f64,
    #[series(tag)]
    host: Option<String>,
    extra: Option<i64>,
}

#[derive(Series, Debug)]
#[series(name = "grouped")]
struct NeedsMissing {
    load: f64,
    missing_column: i64,
}

#[test]
fn group_by_tags_fill_members_and_missing_columns_are_named() {
    let client = fresh("grouped");
    for (i, host) in ["a", "b", "a"].into_iter().enumerate() {
        Grouped {
            host: host.into(),
            region: None,
            load: i as f64,
        }
        .record()
        .unwrap();
    }
    Grouped::commit_with(&client).unwrap();
    // SELECT only the field: the tag member is filled from the series' GROUP BY tags.
    let rows: Vec<Grouped> = client
        .query_as("SELECT load FROM grouped GROUP BY host")
        .unwrap();
    assert_eq!(
        rows,
        vec![
            Grouped {
                host: "a".into(),
                region: None,
                load: 0.0
            },
            Grouped {
                host: "a".into(),
                region: None,
                load: 2.0
            },
            Grouped {
                host: "b".into(),
                region: None,
                load: 1.0
            },
        ]
    );
    // The same from a chunked answer (one row per chunk).
    let chunked: Vec<Grouped> = client
        .query_as_with(
            "SELECT load FROM grouped GROUP BY host",
            &QueryOptions::new().chunked(1),
        )
        .unwrap();
    assert_eq!(chunked, rows);
    // A subset of columns into a struct whose other members are Options.
    let rows: Vec<LoadOnly> = client.query_as("SELECT load FROM grouped").unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.host.is_none() && r.extra.is_none()));
    // A required member without a column: the error names the column and the type.
    match client.query_as::<NeedsMissing>("SELECT load FROM grouped") {
        Err(Error::Decode(message)) => {
            assert!(
                message
                    .message()
                    .contains("column `missing_column` required by `NeedsMissing` is missing"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[derive(Series, Debug, PartialEq)]
#[series(name = "bulk", bulk_size = 10000, autocommit)]
struct Bulk {
    #[series(tag)]
    host: String,
    n: i64,
    #[series(time)]
    at: i64,
}

#[test]
fn hundred_thousand_rows_decode_from_one_unchunked_query() {
    let client = fresh("typedbulk");
    Bulk::bind(client.clone());
    for n in 0..100_000i64 {
        Bulk {
            host: format!("h{}", n % 10),
            n,
            at: n,
        }
        .record()
        .unwrap();
    }
    Bulk::commit().unwrap();
    let body = client
        .query_raw("SELECT * FROM bulk", &QueryOptions::new())
        .unwrap();
    assert!(
        String::from_utf8_lossy(&body[..body.len().min(100_000)]).contains("\"partial\":true")
            || body.windows(14).any(|w| w == b"\"partial\":true")
    );
    let rows: Vec<Bulk> = client.query_as("SELECT * FROM bulk").unwrap();
    assert_eq!(rows.len(), 100_000);
    assert_eq!(
        rows.iter().map(|r| r.n).sum::<i64>(),
        (0..100_000i64).sum::<i64>()
    );
    assert!(
        rows.iter()
            .all(|r| r.host == format!("h{}", r.n % 10) && r.at == r.n)
    );
}

#[derive(Series, Debug, PartialEq)]
#[series(name = "cpu")]
struct Cpu {
    #[series(tag)]
    host: String,
    usage: f64,
}

#[derive(Series, Debug, PartialEq)]
#[series(name = "mem")]
struct Mem {
    free: u64,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct CpuRow {
    time: String,
    host: String,
    usage: f64,
}

#[test]
fn statements_decode_into_their_own_types_and_serde_rows_work() {
    let client = fresh("multi");
    Cpu {
        host: "a".into(),
        usage: 0.5,
    }
    .record()
    .unwrap();
    Cpu::commit_with(&client).unwrap();
    Mem { free: 42 }.record().unwrap();
    Mem::commit_with(&client).unwrap();
    let answer = client
        .query_statements("SELECT * FROM cpu; SELECT * FROM mem", &QueryOptions::new())
        .unwrap();
    assert_eq!(
        answer.get::<Cpu>(0).unwrap(),
        vec![Cpu {
            host: "a".into(),
            usage: 0.5
        }]
    );
    assert_eq!(answer.get::<Mem>(1).unwrap(), vec![Mem { free: 42 }]);
    let rows: Vec<CpuRow> = answer.deserialize(0).unwrap();
    assert_eq!(rows[0].host, "a");
    assert_eq!(rows[0].usage, 0.5);
    let rows: Vec<CpuRow> = client
        .query_deserialize("SELECT usage FROM cpu GROUP BY host", &QueryOptions::new())
        .unwrap();
    assert_eq!(rows[0].host, "a", "GROUP BY tags reach serde rows too");

    match client
        .query_as::<Cpu>("SELECT * FROM cpu_missing_db_check")
        .and_then(|_| {
            client.query_as_with::<Cpu>("SELECT * FROM cpu", &QueryOptions::new().database("nope"))
        }) {
        Err(Error::Statement { index: 0, message }) => {
            assert!(message.contains("database not found"))
        }
        other => panic!("{other:?}"),
    }
}

#[derive(Series, Debug, PartialEq)]
#[series(name = "events.{kind}.count", retention_policy = "autogen")]
struct Templated {
    #[series(tag)]
    kind: String,
    n: i64,
    #[series(time)]
    at: i64,
}

#[test]
fn select_reads_every_measurement_of_a_template() {
    let client = fresh("select");
    for (i, kind) in ["click", "view", "a.b"].into_iter().enumerate() {
        Templated {
            kind: kind.into(),
            n: i as i64,
            at: i as i64,
        }
        .record()
        .unwrap();
    }
    Templated::commit_with(&client).unwrap();
    // A measurement the template cannot produce is not read.
    client
        .write_raw(
            "events.other n=9i 5\nxevents.click.count,kind=x n=8i 6\n",
            &Default::default(),
        )
        .unwrap();
    let mut rows = Templated::select(&client).unwrap();
    rows.sort_by_key(|r| r.n);
    assert_eq!(
        rows,
        vec![
            Templated {
                kind: "click".into(),
                n: 0,
                at: 0
            },
            Templated {
                kind: "view".into(),
                n: 1,
                at: 1
            },
            Templated {
                kind: "a.b".into(),
                n: 2,
                at: 2
            },
        ]
    );
}

#[derive(Series, Debug, Clone, PartialEq)]
#[series(name = "system_times")]
struct SystemTimed {
    #[series(tag)]
    host: String,
    v: i64,
    #[series(time)]
    at: std::time::SystemTime,
}

#[test]
fn system_time_is_written_and_read_back_exactly() {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    let client = fresh("system_times");
    SystemTimed::bind(client.clone());
    let times = [
        UNIX_EPOCH + Duration::from_nanos(1_257_894_000_123_456_789),
        UNIX_EPOCH - Duration::from_nanos(86_400_000_000_123),
        SystemTime::now(),
    ];
    let rows: Vec<SystemTimed> = times
        .iter()
        .enumerate()
        .map(|(i, &at)| SystemTimed {
            host: "a".into(),
            v: i as i64,
            at,
        })
        .collect();
    for row in rows.clone() {
        row.record().unwrap();
    }
    SystemTimed::commit().unwrap();
    let mut back: Vec<SystemTimed> = client.query_as("SELECT * FROM system_times").unwrap();
    back.sort_by_key(|r| r.v);
    assert_eq!(back, rows);

    // Through a Point, and `Utc::now()` through the re-exported chrono.
    let now = influx_series::chrono::Utc::now();
    let point = influx_series::Point::builder("system_points")
        .field("v", 1i64)
        .timestamp(times[0])
        .build()
        .unwrap();
    assert_eq!(point.system_time(), Some(times[0]));
    let later = influx_series::Point::builder("system_points")
        .field("v", 2i64)
        .timestamp(now)
        .build()
        .unwrap();
    client
        .write_points([point, later], &influx_series::WriteOptions::default())
        .unwrap();
    let results = client
        .query_with(
            "SELECT v FROM system_points",
            &QueryOptions::new().epoch(Precision::Nanoseconds),
        )
        .unwrap();
    let stamps: Vec<i64> = results[0]
        .rows()
        .map(|r| r.get("time").and_then(|t| t.as_i64()).unwrap())
        .collect();
    assert_eq!(
        stamps,
        [
            1_257_894_000_123_456_789,
            now.timestamp_nanos_opt().unwrap()
        ]
    );
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Region {
    UsWest,
    EuCentral,
}

impl influx_series::TagValue for Region {
    fn tag_text<R>(&self, text: impl FnOnce(&str) -> R) -> R {
        text(match self {
            Region::UsWest => "us-west",
            Region::EuCentral => "eu-central",
        })
    }
}

impl influx_series::FromTag for Region {
    fn from_tag(text: Option<&str>) -> Result<Self, influx_series::CellError> {
        match text {
            Some("us-west") => Ok(Region::UsWest),
            Some("eu-central") => Ok(Region::EuCentral),
            other => Err(influx_series::CellError::new(format!(
                "no region {other:?}"
            ))),
        }
    }
}

/// A user newtype that prints and parses itself.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Port(u16);

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "port-{}", self.0)
    }
}

impl std::str::FromStr for Port {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim_start_matches("port-").parse().map(Port)
    }
}

#[derive(Series, Debug, Clone, PartialEq)]
#[series(name = "typed_tags.{region}")]
struct TypedTags {
    #[series(tag)]
    core: u16,
    #[series(tag)]
    offset: i64,
    #[series(tag)]
    spare: bool,
    #[series(tag)]
    grade: char,
    #[series(tag)]
    region: Region,
    #[series(tag, display)]
    port: Port,
    #[series(tag, display)]
    backup: Option<Port>,
    v: f64,
    #[series(time)]
    at: i64,
}

#[test]
fn integer_bool_char_enum_and_newtype_tags_read_back() {
    let client = fresh("typed_tags");
    TypedTags::bind(client.clone());
    let rows = [
        TypedTags {
            core: 7,
            offset: -3,
            spare: true,
            grade: 'é',
            region: Region::EuCentral,
            port: Port(8086),
            backup: Some(Port(8087)),
            v: 0.5,
            at: 1,
        },
        TypedTags {
            core: 65535,
            offset: i64::MIN,
            spare: false,
            grade: 'a',
            region: Region::UsWest,
            port: Port(1),
            backup: None,
            v: 1.5,
            at: 2,
        },
    ];
    for row in rows.clone() {
        row.record().unwrap();
    }
    assert!(
        TypedTags::pending_lines().starts_with(
            "typed_tags.eu-central,backup=port-8087,core=7,grade=é,offset=-3,port=port-8086,region=eu-central,spare=true v=0.5 1\n"
        ),
        "{}",
        TypedTags::pending_lines()
    );
    TypedTags::commit().unwrap();
    let mut back: Vec<TypedTags> = TypedTags::select(&client).unwrap();
    back.sort_by_key(|r| r.at);
    assert_eq!(back, rows);
    // GROUP BY puts the tags in the series' tags instead of the columns: the same rows.
    let mut grouped: Vec<TypedTags> = client
        .query_as_with(
            "SELECT v FROM /^typed_tags\\./ GROUP BY *",
            &QueryOptions::new().epoch(Precision::Nanoseconds),
        )
        .unwrap();
    grouped.sort_by_key(|r| r.at);
    assert_eq!(grouped, rows);
}
