//! Per-type buffers under faults, against a real influxd: bounded in points and bytes, never
//! wedged by a point the server refuses, never corrupted by a panic in user code, and never
//! stuck on a backlog over the server's body limit. Every test has types of its own.

mod support {
    pub mod db;
}

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use influx_series::{Client, Error, FieldRef, FieldValue, LineBuf, Series, TagValue};
use influx_testserver::fake::{FakeServer, respond};
use support::db::{fresh, one_at_a_time};

fn count(client: &Client, q: &str) -> i64 {
    client.query(q).unwrap()[0]
        .rows()
        .filter_map(|r| r.value(1).and_then(|v| v.as_i64()))
        .sum()
}

/// A client whose server is gone: nothing listens on its port.
fn dead_client() -> Client {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    Client::new(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .with_database("nowhere")
}

#[derive(Series)]
#[series(name = "bounded", bulk_size = 10, autocommit, max_pending = 100)]
struct Bounded {
    n: i64,
    #[series(time)]
    t: i64,
}

#[test]
fn a_full_buffer_refuses_new_points_and_keeps_every_accepted_one() {
    Bounded::bind(dead_client());
    let mut accepted = 0;
    let mut full = 0;
    for n in 0..250 {
        match (Bounded { n, t: n }).record() {
            Ok(()) => accepted += 1,
            // The autocommit at the tenth point fails: the points stay.
            Err(e @ Error::AutocommitFailed { .. }) => {
                assert!(e.was_recorded());
                accepted += 1;
            }
            Err(Error::BufferFull { max_points, .. }) => {
                assert_eq!(max_points, 100);
                full += 1;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!((accepted, full), (100, 150));
    assert_eq!(Bounded::pending(), 100);

    // Everything accepted arrives once a server is there, in order.
    // One request at a time: the test counts them.
    let client = one_at_a_time(&fresh("bounded"));
    Bounded::bind(client.clone());
    let done = Bounded::commit().unwrap();
    assert_eq!((done.written, done.requests), (100, 10));
    assert_eq!(count(&client, "SELECT count(n) FROM bounded"), 100);
    // With room again, recording goes on.
    (Bounded { n: 1000, t: 1000 }).record().unwrap();
    Bounded::clear();
}

#[derive(Series)]
#[series(name = "bounded_bytes")]
struct BoundedBytes {
    text: String,
    #[series(time)]
    t: i64,
}

#[test]
fn the_byte_bound_can_be_set_at_run_time() {
    BoundedBytes::set_max_pending(1_000_000, 10_000);
    assert_eq!(BoundedBytes::max_pending(), (1_000_000, 10_000));
    let point = |t| BoundedBytes {
        text: "x".repeat(990),
        t,
    };
    let mut taken = 0;
    while point(taken).record().is_ok() {
        taken += 1;
    }
    assert_eq!(
        taken, 9,
        "ten lines of about 1 000 bytes do not fit in 10 000"
    );
    assert!(BoundedBytes::pending_lines().len() <= 10_000);
    assert!(matches!(
        point(99).record(),
        Err(Error::BufferFull {
            max_bytes: 10_000,
            ..
        })
    ));
    BoundedBytes::clear();
}

#[derive(Series)]
#[series(name = "big_points")]
struct BigPoint {
    #[series(tag)]
    run: String,
    payload: String,
    #[series(time)]
    t: i64,
}

/// 3 000 points of 10 kB: a 30 MB backlog, over influxd's default 25 MB `max-body-size`.
fn big_backlog(run: &str) {
    for t in 0..3000 {
        BigPoint {
            run: run.to_owned(),
            payload: format!("{t:0>10000}"),
            t,
        }
        .record()
        .unwrap();
    }
}

#[test]
fn a_backlog_over_the_servers_body_limit_is_written_in_requests_under_it() {
    // One request at a time: the test counts them.
    let client = one_at_a_time(&fresh("big_points"));
    // Default caps: requests of at most 10 MiB, so influxd never sees one over its limit.
    big_backlog("capped");
    let done = BigPoint::commit_with(&client).unwrap();
    assert_eq!(done.written, 3000);
    assert_eq!(done.requests, 3, "30 MB in requests of at most 10 MiB");

    // A client allowed 64 MiB sends 30 MB at once: influxd answers 413, the request is
    // split, and the lowered cap holds for the next commit.
    let roomy = Client::builder()
        .host("127.0.0.1")
        .port(influx_testserver::shared().http_port())
        .database(client.database().unwrap())
        .max_request_size(64 << 20)
        .writes_in_flight(1)
        .build()
        .unwrap();
    big_backlog("split");
    let done = BigPoint::commit_with(&roomy).unwrap();
    assert_eq!(done.written, 3000);
    assert_eq!(done.requests, 3, "one 413, then two halves");
    // Lines as long as the last run's ("again" and "split" have the same length), so the
    // lowered cap fits them in two requests.
    big_backlog("again");
    let done = BigPoint::commit_with(&roomy).unwrap();
    assert_eq!(
        (done.written, done.requests),
        (3000, 2),
        "no 413 the second time"
    );
    assert_eq!(BigPoint::pending(), 0);
    for run in ["capped", "split", "again"] {
        assert_eq!(
            count(
                &client,
                &format!("SELECT count(payload) FROM big_points WHERE run = '{run}'")
            ),
            3000,
            "{run}"
        );
    }
}

/// A field that is a float or a string, as a user's enum might be.
enum Reading {
    Number(f64),
    Text(&'static str),
}

impl FieldValue for Reading {
    fn field_ref(&self) -> FieldRef<'_> {
        match self {
            Reading::Number(v) => FieldRef::Float(*v),
            Reading::Text(s) => FieldRef::Str(s),
        }
    }
}

#[derive(Series)]
#[series(name = "conflicts", bulk_size = 1, autocommit)]
struct Conflicting {
    v: Reading,
    #[series(time)]
    t: i64,
}

const WEEK: i64 = 7 * 24 * 3600 * 1_000_000_000;

#[test]
fn a_point_the_server_refuses_leaves_the_buffer_and_later_points_are_written() {
    let client = fresh("conflicts");
    Conflicting::bind(client.clone());
    // `v` is a float in the first shard...
    (Conflicting {
        v: Reading::Number(1.0),
        t: 1,
    })
    .record()
    .unwrap();
    // ...and a string in a new shard first: influxd answers a bare 400 (and registers the
    // type anyway, for that shard).
    let err = (Conflicting {
        v: Reading::Text("x"),
        t: WEEK * 10,
    })
    .record();
    // The resend of the same request is a partial write: the point is refused for good.
    // (Which type a new shard registers first is the server's choice; either way, one
    // point of the two is refused and nothing is stuck.)
    match err {
        Ok(()) => {}
        Err(Error::Rejected {
            commit,
            rejections,
            stopped: None,
        }) => {
            assert_eq!(commit.refused, 1);
            assert!(
                rejections[0].message.contains("field type conflict"),
                "{rejections:?}"
            );
        }
        Err(other) => panic!("{other:?}"),
    }
    assert_eq!(Conflicting::pending(), 0, "the refused point is not kept");
    // Later points of the type are not blocked.
    for t in 2..12 {
        (Conflicting {
            v: Reading::Number(t as f64),
            t,
        })
        .record()
        .unwrap();
    }
    assert_eq!(Conflicting::pending(), 0);
    assert_eq!(
        count(&client, "SELECT count(v) FROM conflicts WHERE time < 1000"),
        11
    );
}

#[derive(Series)]
#[series(name = "bisected", bulk_size = 1000)]
struct Bisected {
    n: i64,
    #[series(time)]
    t: i64,
}

/// influxd refuses the whole request with a bare 400 when one line of it breaks a rule of
/// the server's that this client does not check (a lower key-length limit in another
/// version, say). No such line reaches a real influxd 1.6 from this client, so a fake server
/// plays it: any body holding `n=613i` gets a bare 400, every other one 204.
#[test]
fn a_line_refused_by_a_bare_400_is_isolated_within_the_bound() {
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&requests);
    let fake = FakeServer::start(move |request, stream| {
        seen.fetch_add(1, Ordering::SeqCst);
        if String::from_utf8_lossy(&request.body).contains("n=613i") {
            respond(
                stream,
                "400 Bad Request",
                &[("Content-Type", "application/json")],
                br#"{"error":"max key length exceeded: 70000 > 65535"}"#,
            );
        } else {
            respond(stream, "204 No Content", &[], b"");
        }
    });
    let client = Client::new(fake.url()).unwrap().with_database("db");
    for n in 0..1000 {
        Bisected { n, t: n }.record().unwrap();
    }
    let err = Bisected::commit_with(&client).unwrap_err();
    let Error::Rejected {
        commit,
        rejections,
        stopped: None,
    } = err
    else {
        panic!("{err:?}");
    };
    assert_eq!((commit.written, commit.refused), (999, 1));
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].lines.as_deref(), Some("bisected n=613i 613"));
    assert!(rejections[0].message.contains("max key length"));
    // The first request, one resend, then two requests per halving of 1 000 lines.
    let bound = 2 * 10 + 2;
    assert!(requests.load(Ordering::SeqCst) <= bound, "{requests:?}");
    assert_eq!(commit.requests, requests.load(Ordering::SeqCst));
    assert_eq!(Bisected::pending(), 0);
}

/// A tag type whose text panics for one value, as a buggy user impl might.
struct Path(&'static str);

impl TagValue for Path {
    fn tag_text<R>(&self, text: impl FnOnce(&str) -> R) -> R {
        if self.0 == "/panic" {
            panic!("user code panicked while encoding");
        }
        text(self.0)
    }
}

#[derive(Series)]
#[series(name = "req")]
struct Request {
    #[series(tag)]
    path: Path,
    n: i64,
    #[series(time)]
    t: i64,
}

#[test]
fn a_panic_while_encoding_leaves_nothing_behind() {
    let client = fresh("panics");
    (Request {
        path: Path("/a"),
        n: 1,
        t: 1,
    })
    .record()
    .unwrap();
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        (Request {
            path: Path("/panic"),
            n: 2,
            t: 2,
        })
        .record()
    }));
    assert!(panicked.is_err());
    (Request {
        path: Path("/b"),
        n: 3,
        t: 3,
    })
    .record()
    .unwrap();
    assert_eq!(
        Request::pending_lines(),
        "req,path=/a n=1i 1\nreq,path=/b n=3i 3\n"
    );
    Request::commit_with(&client).unwrap();
    let results = client.query("SHOW MEASUREMENTS").unwrap();
    let names: Vec<&str> = results[0]
        .rows()
        .map(|r| r.get_str("name").unwrap())
        .collect();
    assert_eq!(names, ["req"]);
    assert_eq!(count(&client, "SELECT count(n) FROM req"), 2);

    // LineBuf::push_with, the same way.
    let mut lines = LineBuf::new();
    lines.push_line("m v=1").unwrap();
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        let _ = lines.push_with(|out| {
            out.extend_from_slice(b"half a li");
            panic!("user code panicked");
            #[allow(unreachable_code)] // The closure must name its error type.
            Ok::<(), ()>(())
        });
    }));
    assert!(panicked.is_err());
    lines.push_line("m v=2").unwrap();
    assert_eq!(lines.as_str(), "m v=1\nm v=2\n");
    assert_eq!(lines.lines(), 2);
}
