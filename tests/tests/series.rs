//! `#[derive(Series)]` against a real influxd: the seed's SeriesHelper behaviour, templates,
//! many threads, and commits that fail and recover. Every test has types of its own: buffers
//! are per type.

mod support {
    pub mod db;
}

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::db::{fresh, one_at_a_time};

use chrono::{DateTime, TimeZone, Utc};
use influx_series::{
    Client, EncodeErrorKind, Error, LineBuf, Part, Point, Precision, QueryOptions, Series, Value,
    parse_lines,
};

fn count(client: &Client, q: &str) -> i64 {
    client.query(q).unwrap()[0]
        .rows()
        .filter_map(|r| r.value(1).and_then(|v| v.as_i64()))
        .sum()
}

#[derive(Series)]
#[series(name = "events.stats.{server_name}", bulk_size = 5, autocommit)]
struct Tutorial {
    #[series(tag)]
    server_name: String,
    some_stat: i64,
    #[series(rename = "other")]
    other_stat: Option<f64>,
    #[series(time)]
    time: Option<DateTime<Utc>>,
}

#[test]
fn the_fifth_record_writes_all_five_and_commit_writes_the_rest() {
    let client = fresh("tutorial");
    Tutorial::bind(client.clone());
    let t0 = Utc.with_ymd_and_hms(2020, 5, 1, 12, 0, 0).unwrap();
    let stat = |i: i64| Tutorial {
        server_name: "us.east-1".into(),
        some_stat: 159 - i,
        other_stat: (i % 2 == 0).then_some(i as f64 * 10.0),
        time: Some(t0 + chrono::Duration::seconds(i)),
    };
    let stored = || count(&client, "SELECT count(some_stat) FROM /^events\\.stats\\./");
    for i in 0..4 {
        stat(i).record().unwrap();
        assert_eq!(Tutorial::pending(), i as usize + 1);
        assert_eq!(stored(), 0, "nothing is written before the fifth point");
    }
    stat(4).record().unwrap();
    assert_eq!(Tutorial::pending(), 0);
    assert_eq!(stored(), 5);

    stat(5).record().unwrap();
    stat(6).record().unwrap();
    // pending_lines() is exactly what commit() sends: check it against the parser and then
    // against what the server stores.
    let pending = Tutorial::pending_lines();
    assert_eq!(
        pending,
        "events.stats.us.east-1,server_name=us.east-1 some_stat=154i 1588334405000000000\n\
         events.stats.us.east-1,server_name=us.east-1 some_stat=153i,other=60.0 1588334406000000000\n"
    );
    let parsed = parse_lines(&pending, Precision::Nanoseconds).unwrap();
    let done = Tutorial::commit().unwrap();
    assert_eq!((done.written, done.requests), (2, 1));
    assert_eq!(Tutorial::pending(), 0);
    assert_eq!(stored(), 7);
    let rows = client
        .query_with(
            "SELECT * FROM \"events.stats.us.east-1\" WHERE time >= '2020-05-01T12:00:05Z'",
            &QueryOptions::new().epoch(Precision::Nanoseconds),
        )
        .unwrap();
    let rows: Vec<_> = rows[0].rows().collect();
    assert_eq!(rows.len(), 2);
    for (row, point) in rows.iter().zip(&parsed) {
        assert_eq!(
            row.get("time").and_then(|v| v.as_i64()),
            point.timestamp_nanos()
        );
        assert_eq!(
            row.get("some_stat").and_then(|v| v.as_i64()),
            point.field("some_stat").and_then(|f| match f {
                influx_series::Field::Integer(v) => Some(*v),
                _ => None,
            })
        );
    }
    assert_eq!(rows[0].get("other"), Some(Value::Null));
    assert_eq!(rows[1].get("other").and_then(|v| v.as_f64()), Some(60.0));
}

#[derive(Series)]
#[series(name = "host.{host}.{region}", bulk_size = 7, autocommit)]
struct PerHost {
    #[series(tag)]
    host: String,
    #[series(tag)]
    region: &'static str,
    #[series(tag, rename = "tag with space")]
    odd: Option<String>,
    load: f64,
    #[series(rename = "count,=\"")]
    count: u32,
    up: bool,
    note: String,
    #[series(time)]
    at: i64,
    #[series(skip)]
    _ignored: Vec<u8>,
}

#[test]
fn autocommit_across_template_measurements_writes_every_series_exactly() {
    let client = fresh("template");
    PerHost::bind(client.clone());
    let regions = ["us-west", "eu central", "ap,south"];
    let mut sent = Vec::new();
    for i in 0..60u32 {
        let p = PerHost {
            host: format!("server{:02}", i % 20),
            region: regions[i as usize % 3],
            odd: (i % 4 == 0).then(|| format!("odd \"{i}\"")),
            load: f64::from(i) / 3.0,
            count: i * 7,
            up: i % 2 == 1,
            note: format!("line one\nline \"two\" {i}\\"),
            at: 1_600_000_000_000_000_000 + i64::from(i),
            _ignored: vec![1, 2, 3],
        };
        let mut line = Vec::new();
        p.write_line(&mut line).unwrap();
        sent.push(String::from_utf8(line).unwrap());
        p.record().unwrap();
    }
    // 60 = 8 autocommits of 7, and 4 left.
    assert_eq!(PerHost::pending(), 4);
    PerHost::commit().unwrap();

    let measurements = client.query("SHOW MEASUREMENTS").unwrap();
    let names: Vec<String> = measurements[0]
        .rows()
        .map(|r| r.get("name").unwrap().as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 60, "{names:?}");
    assert!(
        names.contains(&"host.server01.eu central".to_owned()),
        "{names:?}"
    );

    // Every point read back equals the point the encoder wrote (compared as parsed points).
    let expected = parse_lines(&(sent.join("\n") + "\n"), Precision::Nanoseconds).unwrap();
    for point in &expected {
        let m = influx_series::influxql::quote_ident(point.measurement());
        let results = client
            .query_with(
                &format!(
                    "SELECT * FROM {m} WHERE time = {}",
                    point.timestamp_nanos().unwrap()
                ),
                &QueryOptions::new().epoch(Precision::Nanoseconds),
            )
            .unwrap();
        let row = results[0].rows().next().expect("point stored");
        for (key, value) in point.tags() {
            assert_eq!(row.get_str(key), Some(value), "{key}");
        }
        assert_eq!(
            row.get("tag with space").is_some_and(|v| !v.is_null()),
            point.tag("tag with space").is_some()
        );
        for (key, value) in point.fields() {
            let got = row.get(key).unwrap();
            let same = match value {
                influx_series::Field::Float(v) => got.as_f64() == Some(*v),
                influx_series::Field::Integer(v) => got.as_i64() == Some(*v),
                influx_series::Field::Boolean(v) => got.as_bool() == Some(*v),
                influx_series::Field::String(v) => got.as_str() == Some(v.as_str()),
                influx_series::Field::UInteger(_) => false,
            };
            assert!(same, "{key}: sent {value:?}, got {got:?}");
        }
    }
}

#[derive(Series)]
#[series(name = "threads", bulk_size = 5000, autocommit)]
struct Threaded {
    #[series(tag)]
    worker: String,
    seq: u32,
}

#[test]
fn eight_threads_record_800_000_points_and_all_arrive() {
    let client = fresh("threads");
    Threaded::bind(client.clone());
    let handles: Vec<_> = (0..8)
        .map(|w| {
            std::thread::spawn(move || {
                let worker = format!("w{w}");
                for seq in 0..100_000u32 {
                    Threaded {
                        worker: worker.clone(),
                        seq,
                    }
                    .record()
                    .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    Threaded::commit().unwrap();
    assert_eq!(Threaded::pending(), 0);
    assert_eq!(count(&client, "SELECT count(seq) FROM threads"), 800_000);
}

#[derive(Series)]
#[series(name = "lastwins", bulk_size = 1000, autocommit)]
struct LastWins {
    #[series(tag)]
    worker: String,
    #[series(tag)]
    slot: u32,
    n: i64,
    #[series(time)]
    t: i64,
}

#[test]
fn each_threads_points_keep_their_order_so_its_last_write_wins() {
    // Four threads each write 100 series (worker, slot) over and over at one timestamp per
    // series, with autocommits from every thread taking every thread's shard: the value
    // stored for each series is the last one its thread recorded.
    let client = fresh("lastwins");
    LastWins::bind(client.clone());
    std::thread::scope(|scope| {
        for w in 0..4 {
            scope.spawn(move || {
                for i in 0..20_000i64 {
                    LastWins {
                        worker: format!("w{w}"),
                        slot: (i % 100) as u32,
                        n: i,
                        t: 1_000 + i % 100,
                    }
                    .record()
                    .unwrap();
                }
            });
        }
    });
    LastWins::commit().unwrap();
    assert_eq!(LastWins::pending(), 0);
    let sets = client
        .query("SELECT n FROM lastwins GROUP BY worker, slot")
        .unwrap();
    let series = sets[0].series();
    assert_eq!(series.len(), 400);
    for s in series {
        let slot: i64 = s.tags()["slot"].parse().unwrap();
        let rows: Vec<_> = s.rows().collect();
        assert_eq!(rows.len(), 1, "{:?}", s.tags());
        assert_eq!(
            rows[0].get("n").and_then(|v| v.as_i64()),
            Some(19_900 + slot),
            "{:?}",
            s.tags()
        );
    }
}

/// The first backoff of a type's autocommits after a failed one (500 ms, and up to a quarter
/// more).
const BACKOFF: Duration = Duration::from_millis(500);

#[derive(Series)]
#[series(name = "outage", bulk_size = 5, autocommit)]
struct Outage {
    n: i64,
    #[series(time)]
    t: i64,
}

#[test]
fn a_commit_to_a_stopped_server_keeps_every_point_until_it_is_back() {
    let mut server = influx_testserver::Server::start();
    let client = Client::new(&server.url()).unwrap().with_database("outage");
    client.create_database("outage").unwrap();
    // One request at a time: the test counts them.
    Outage::bind(one_at_a_time(&client));
    server.stop();

    let point = |n| Outage { n, t: 1_000 + n };
    for n in 0..4 {
        point(n).record().unwrap();
    }
    // The fifth point triggers an autocommit, which fails: nothing is lost, and the error
    // says the point was taken.
    let before = Instant::now();
    let err = point(4).record().unwrap_err();
    assert!(err.was_recorded(), "{err:?}");
    match err {
        Error::AutocommitFailed { source } => {
            assert!(matches!(*source, Error::Transport(_)), "{source:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(Outage::pending(), 5);
    // Meanwhile autocommits back off: recording goes on without an attempt each time. The
    // backoff runs 500 ms (and up to a quarter more) from the failure, after `before`: a
    // machine slow enough may see it end within these seven records, and one more attempt
    // fail, keeping its point all the same; an attempt any sooner is a bug.
    for n in 5..12 {
        if let Err(err) = point(n).record() {
            let after = before.elapsed();
            assert!(
                err.was_recorded() && after >= BACKOFF,
                "{err:?} {after:?} after the first attempt began"
            );
        }
    }
    assert_eq!(Outage::pending(), 12);
    assert!(Outage::commit().is_err());
    assert_eq!(Outage::pending(), 12);

    server.restart();
    let done = Outage::commit().unwrap();
    assert_eq!(done.written, 12);
    assert_eq!(done.requests, 3, "at most bulk_size (5) points per request");
    assert_eq!(Outage::pending(), 0);
    assert_eq!(count(&client, "SELECT count(n) FROM outage"), 12);
    let lines = client
        .query_with(
            "SELECT n FROM outage",
            &QueryOptions::new().epoch(Precision::Nanoseconds),
        )
        .unwrap();
    let ns: Vec<i64> = lines[0]
        .rows()
        .map(|r| r.get("n").unwrap().as_i64().unwrap())
        .collect();
    assert_eq!(ns, (0..12).collect::<Vec<_>>(), "order kept");
}

#[derive(Series)]
#[series(bulk_size = 2, autocommit)]
struct SilentServer {
    v: i64,
}

/// A fake server that accepts connections and never answers (a real influxd cannot be made to
/// hang); it counts the connections it accepted.
fn never_answering() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut s = stream;
            let mut buf = [0u8; 1024];
            let _ = s.set_read_timeout(Some(Duration::from_millis(10)));
            let _ = s.read(&mut buf);
            held.push(s);
        }
    });
    (port, accepted)
}

#[test]
fn records_during_backoff_do_not_wait_on_a_hanging_server() {
    let (port, accepted) = never_answering();
    let client = Client::builder()
        .host("127.0.0.1")
        .port(port)
        .database("nowhere")
        .timeout(Duration::from_millis(300))
        // The client's own retries would resend the first commit; this is about the
        // buffer's backoff between commits.
        .retry(influx_series::RetryPolicy::none())
        .build()
        .unwrap();
    SilentServer::bind(client);
    SilentServer { v: 0 }.record().unwrap();
    let before = Instant::now();
    let err = SilentServer { v: 1 }.record().unwrap_err();
    assert!(
        matches!(&err, Error::AutocommitFailed { source } if matches!(**source, Error::Timeout(_))),
        "{err:?}"
    );
    // No attempt during the backoff, which runs 500 ms from the failure, itself 300 ms (the
    // timeout) after `before` at least: on a machine slow enough that the backoff ends within
    // these records, an attempt may follow (and time out, keeping its points), not sooner.
    let mut attempts = 1;
    for v in 2..40 {
        if let Err(err) = (SilentServer { v }).record() {
            let after = before.elapsed();
            assert!(
                err.was_recorded() && after >= Duration::from_millis(300) + BACKOFF,
                "{err:?} {after:?} after the first attempt began"
            );
            attempts += 1;
        }
    }
    assert_eq!(SilentServer::pending(), 40);
    // The fake counts a connection once it has taken it, which may lag on a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(30);
    while accepted.load(Ordering::SeqCst) < attempts && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        attempts,
        "one attempt, then backoff"
    );
    SilentServer::clear();
}

#[derive(Series)]
struct Invalid {
    #[series(tag)]
    host: String,
    v: f64,
    maybe: Option<i64>,
}

#[test]
fn invalid_points_are_typed_errors_and_buffer_nothing() {
    let err = Invalid {
        host: "a\nb".into(),
        v: 1.0,
        maybe: None,
    }
    .record()
    .unwrap_err();
    match err {
        Error::InvalidInput(e) => {
            assert_eq!(e.kind(), EncodeErrorKind::Newline);
            assert_eq!(e.part(), &Part::TagValue("host".into()));
        }
        other => panic!("{other:?}"),
    }
    let err = Invalid {
        host: "a".into(),
        v: f64::NAN,
        maybe: Some(1),
    }
    .record()
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput(ref e) if e.kind() == EncodeErrorKind::NonFiniteFloat),
        "{err:?}"
    );
    assert_eq!(Invalid::pending(), 0);
    assert_eq!(Invalid::pending_lines(), "");

    // With no client anywhere, commit is an error and keeps the points.
    Invalid {
        host: "".into(),
        v: 2.0,
        maybe: None,
    }
    .record()
    .unwrap();
    let err = Invalid::commit().unwrap_err();
    assert!(
        matches!(err, Error::Config(ref m) if m.message().contains("no client for `Invalid`")),
        "{err:?}"
    );
    assert_eq!(Invalid::pending(), 1);
    assert!(
        Invalid::pending_lines().starts_with("invalid v=2.0 "),
        "{}",
        Invalid::pending_lines()
    );
}

#[derive(Series)]
#[series(name = "cpu")]
struct DeriveShape<'a> {
    #[series(tag)]
    region: &'a str,
    #[series(tag)]
    host: std::borrow::Cow<'a, str>,
    usage_user: f64,
    usage_system: f32,
    count: i64,
    ok: bool,
    #[series(time)]
    time: DateTime<Utc>,
}

#[test]
fn derive_matches_point() {
    // Same values through the derive and through Point give the same bytes.
    let t = Utc.timestamp_opt(1_700_000_000, 123).unwrap();
    for (host, region) in [
        ("server01", "us-west"),
        ("a b,c=d", "x\\y"),
        ("é\"q", "#hash"),
    ] {
        let derived = DeriveShape {
            region,
            host: host.into(),
            usage_user: 0.25,
            usage_system: 0.1,
            count: -3,
            ok: true,
            time: t,
        };
        let mut ours = LineBuf::new();
        ours.push_with(|out| derived.write_line(out)).unwrap();
        let point = Point::builder("cpu")
            .tag("host", host)
            .tag("region", region)
            .field("usage_user", 0.25)
            .field("usage_system", 0.1f32)
            .field("count", -3i64)
            .field("ok", true)
            .timestamp(t)
            .build()
            .unwrap();
        let mut theirs = LineBuf::new();
        theirs.push_point(&point, Precision::Nanoseconds);
        assert_eq!(ours.as_str(), theirs.as_str());
    }
}

#[derive(Series, Debug, PartialEq)]
#[series(name = "owned_batches", bulk_size = 2, max_pending = 5)]
struct Owned {
    #[series(tag)]
    task: String,
    n: i64,
    #[series(time)]
    t: i64,
}

#[test]
fn owned_batches_share_nothing_and_commit_like_the_type() {
    let client = fresh("owned_batches");
    let mut a = influx_series::Batch::<Owned>::new();
    let mut b = influx_series::Batch::<Owned>::new();
    for n in 0..3 {
        a.push(Owned {
            task: "a".into(),
            n,
            t: n,
        })
        .unwrap();
    }
    b.push(Owned {
        task: "b".into(),
        n: 9,
        t: 9,
    })
    .unwrap();
    assert_eq!((a.len(), b.len(), Owned::pending()), (3, 1, 0));
    assert_eq!(b.lines(), "owned_batches,task=b n=9i 9\n");
    // The type's bounds hold for a batch too.
    for n in 3..5 {
        a.push(Owned {
            task: "a".into(),
            n,
            t: n,
        })
        .unwrap();
    }
    assert!(matches!(
        a.push(Owned {
            task: "a".into(),
            n: 5,
            t: 5
        }),
        Err(Error::BufferFull { max_points: 5, .. })
    ));
    let invalid = a.push(Owned {
        task: "bad\n".into(),
        n: 6,
        t: 6,
    });
    assert!(matches!(invalid, Err(Error::InvalidInput(_))));
    assert_eq!(a.len(), 5);
    // A stopped commit keeps the points; a good one empties the batch, in bulk_size requests.
    let nowhere = Client::new("http://127.0.0.1:9")
        .unwrap()
        .with_database("x");
    assert!(a.commit(&nowhere).is_err());
    assert_eq!(a.len(), 5);
    let done = a.commit(&client).unwrap();
    assert_eq!((done.written, done.requests), (5, 3));
    assert!(a.is_empty());
    b.commit(&client).unwrap();
    let rows: Vec<Owned> = client
        .query_as_with(
            "SELECT * FROM owned_batches",
            &QueryOptions::new().epoch(Precision::Nanoseconds),
        )
        .unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows.last(),
        Some(&Owned {
            task: "b".into(),
            n: 9,
            t: 9
        })
    );
}
