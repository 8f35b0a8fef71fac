//! `#[series(autocommit = "background")]`: the `record()` that reaches `bulk_size` starts the
//! commit on a thread of its own and returns; `commit()` waits for it. Against a real
//! influxd: every point stored once and the last write of a point winning, a stopped
//! server's points kept, and points refused in the background reported by `commit()`.
//!
//! That `record()` does not wait for the server is shown with a **fake HTTP server**
//! (`influx_testserver::fake`) that holds every request until the test lets it answer: a
//! real influxd cannot be made to hold a request on demand.

mod support {
    pub mod db;
}

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use influx_series::{Client, Error, Precision, QueryOptions, RetryPolicy, Series, WriteOptions};
use influx_testserver::fake::{FakeServer, respond};
use support::db::fresh;

/// How long a test waits for something that should happen at once.
const PATIENCE: Duration = Duration::from_secs(20);

#[derive(Series)]
#[series(name = "held", bulk_size = 5, autocommit = "background")]
struct Held {
    n: i64,
    #[series(time)]
    t: i64,
}

/// A gate the fake server's answers wait at until it opens.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

/// A client of `fake`'s, keeping `in_flight` writes in flight, that never retries.
fn fake_client(fake: &FakeServer, in_flight: usize) -> Client {
    Client::builder()
        .host("127.0.0.1")
        .port(fake.port())
        .database("db")
        .writes_in_flight(in_flight)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// Runs `f` on a thread and returns its result, or `None` if it has not returned within
/// [`PATIENCE`] (the thread is then left behind, blocked).
fn within_patience<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(PATIENCE).ok()
}

#[test]
fn record_returns_while_the_server_holds_the_commit_and_commit_waits_for_it() {
    let gate = Arc::new(Gate::default());
    let lines = Arc::new(Mutex::new(Vec::<i64>::new()));
    let arrived = Arc::new(AtomicUsize::new(0));
    let fake = {
        let (gate, lines, arrived) = (gate.clone(), lines.clone(), arrived.clone());
        FakeServer::start(move |request, stream| {
            arrived.fetch_add(1, Ordering::SeqCst);
            gate.wait();
            let body = std::str::from_utf8(&request.body).unwrap();
            lines.lock().unwrap().extend(body.lines().map(|line| {
                let n = &line[line.find("n=").unwrap() + 2..line.find("i ").unwrap()];
                n.parse::<i64>().unwrap()
            }));
            respond(stream, "204 No Content", &[], b"");
        })
    };
    Held::bind(fake_client(&fake, 2));
    // The fifth point starts a commit the server holds: record() returns all the same.
    let recorded = within_patience(|| {
        (0..5)
            .map(|n| Held { n, t: n }.record())
            .collect::<Vec<_>>()
    })
    .expect("record() waited for a commit the server holds");
    assert!(recorded.iter().all(Result::is_ok), "{recorded:?}");
    let deadline = std::time::Instant::now() + PATIENCE;
    while arrived.load(Ordering::SeqCst) == 0 {
        assert!(std::time::Instant::now() < deadline, "no commit arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(Held::pending(), 0, "the five points are in flight");
    // Recording goes on while the commit is held; these wait for the next commit.
    for n in 5..8 {
        Held { n, t: n }.record().unwrap();
    }
    assert_eq!(Held::pending(), 3);
    assert!(lines.lock().unwrap().is_empty(), "nothing answered yet");

    // commit() waits for the commit under way, then sends the rest. (It cannot end while the
    // gate is shut, however long this takes: the 100 ms only give a commit that did not wait
    // the time to end.)
    let committing = std::thread::spawn(Held::commit);
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        !committing.is_finished(),
        "commit() waits for the held commit"
    );
    gate.open();
    let done = committing.join().unwrap().unwrap();
    assert_eq!(done.written, 3, "commit() reports its own points");
    assert_eq!(Held::pending(), 0);
    let mut stored = lines.lock().unwrap().clone();
    stored.sort_unstable();
    assert_eq!(stored, (0..8).collect::<Vec<_>>(), "every point once");
}

#[derive(Series)]
#[series(name = "rewritten", bulk_size = 1000, autocommit = "background")]
struct Rewritten {
    #[series(tag)]
    s: String,
    v: i64,
    #[series(time)]
    t: i64,
}

/// 40 000 points: 20 000 keys (20 series, 1 000 times) written twice, the second pass with
/// `v = 1`, recorded while background commits of the first pass are in flight with two
/// requests each: every key holds its second write.
#[test]
fn background_commits_store_every_point_once_and_the_last_write_wins() {
    let client = fresh("rewritten");
    Rewritten::bind(client.clone());
    for v in 0..2 {
        for t in 0..1_000 {
            for s in 0..20 {
                Rewritten {
                    s: format!("s{s}"),
                    v,
                    t: 1_000 + t,
                }
                .record()
                .unwrap();
            }
        }
    }
    Rewritten::commit().unwrap();
    assert_eq!(Rewritten::pending(), 0);
    let result = client
        .query_with(
            "SELECT v, s FROM rewritten",
            &QueryOptions::new().epoch(Precision::Nanoseconds),
        )
        .unwrap();
    let mut stored = HashMap::new();
    for row in result[0].rows() {
        let key = (
            row.get("s").unwrap().as_str().unwrap().to_owned(),
            row.get("time").unwrap().as_i64().unwrap(),
        );
        stored.insert(key, row.get("v").unwrap().as_i64().unwrap());
    }
    assert_eq!(stored.len(), 20_000);
    let stale: Vec<_> = stored.iter().filter(|(_, v)| **v != 1).take(5).collect();
    assert!(
        stale.is_empty(),
        "keys holding their first write: {stale:?}"
    );
}

#[derive(Series)]
#[series(name = "down", bulk_size = 5, autocommit = "background")]
struct Down {
    n: i64,
    #[series(time)]
    t: i64,
}

#[test]
fn a_background_commit_to_a_stopped_server_keeps_every_point_in_order() {
    let mut server = influx_testserver::Server::start();
    let client = Client::new(&server.url()).unwrap().with_database("down");
    client.create_database("down").unwrap();
    Down::bind(client.clone());
    server.stop();
    // The fifth point starts a commit that fails: record() does not report it.
    for n in 0..12 {
        Down { n, t: 1_000 + n }.record().unwrap();
    }
    // commit() waits for it, then fails as well: nothing is lost.
    assert!(matches!(Down::commit(), Err(Error::Transport(_))));
    assert_eq!(Down::pending(), 12);

    server.restart();
    let done = Down::commit().unwrap();
    assert_eq!(done.written, 12);
    let result = client
        .query_with(
            "SELECT n FROM down",
            &QueryOptions::new().epoch(Precision::Nanoseconds),
        )
        .unwrap();
    let ns: Vec<i64> = result[0]
        .rows()
        .map(|r| r.get("n").unwrap().as_i64().unwrap())
        .collect();
    assert_eq!(ns, (0..12).collect::<Vec<_>>(), "order kept");
}

#[derive(Series)]
#[series(name = "clash", bulk_size = 3, autocommit = "background")]
struct Clash {
    other: i64,
    value: Option<f64>,
    #[series(time)]
    t: i64,
}

/// A point refused for good by a background commit leaves the buffer, and the next
/// `commit()` reports it.
#[test]
fn points_refused_in_the_background_come_back_from_the_next_commit() {
    let client = fresh("clash");
    // `value` is an integer in the shard.
    client
        .write_raw("clash value=1i 1", &WriteOptions::default())
        .unwrap();
    Clash::bind(client.clone());
    let points = [(10, None), (11, Some(0.5)), (12, None)];
    for (t, value) in points {
        Clash { other: t, value, t }.record().unwrap();
    }
    let report = within_patience(Clash::commit).expect("commit() returned");
    match report {
        Err(Error::Rejected {
            commit,
            rejections,
            stopped: None,
        }) => {
            assert_eq!(
                commit.written, 0,
                "this commit had nothing of its own to send"
            );
            assert_eq!(commit.refused, 1, "the background refusal counts");
            assert_eq!(rejections.len(), 1, "{rejections:?}");
            assert!(
                rejections[0].message.contains("field type conflict"),
                "{rejections:?}"
            );
        }
        other => panic!("expected the background rejection: {other:?}"),
    }
    assert_eq!(Clash::pending(), 0);
    let stored: i64 = client.query("SELECT count(other) FROM clash").unwrap()[0]
        .rows()
        .filter_map(|r| r.value(1).and_then(|v| v.as_i64()))
        .sum();
    assert_eq!(stored, 2, "the two good points are written");
    // Reported once.
    assert_eq!(Clash::commit().unwrap().written, 0);
}

#[derive(Series)]
#[series(name = "nowhere", bulk_size = 2, autocommit = "background")]
struct Nowhere {
    n: i64,
}

/// Without a client, the record() that would start a commit says so, and keeps its point.
#[test]
fn a_type_without_a_client_hears_of_it_from_record() {
    Nowhere { n: 1 }.record().unwrap();
    let err = Nowhere { n: 2 }.record().unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("no client for `Nowhere`"), "{err}");
    assert_eq!(Nowhere::pending(), 2);
}

/// Background commits of a type are one at a time, so a flag raised by the fake server
/// while a request is open is never seen raised by another one.
#[test]
fn background_commits_of_a_type_go_one_at_a_time() {
    #[derive(Series)]
    #[series(name = "single", bulk_size = 10, autocommit = "background")]
    struct Single {
        n: i64,
    }
    let open = Arc::new(AtomicBool::new(false));
    let overlapped = Arc::new(AtomicBool::new(false));
    let fake = {
        let (open, overlapped) = (open.clone(), overlapped.clone());
        FakeServer::start(move |_, stream| {
            if open.swap(true, Ordering::SeqCst) {
                overlapped.store(true, Ordering::SeqCst);
            }
            // A window for an overlapping request to be seen in; the flag is lowered before
            // the answer, so requests one after the other never see it raised, however slow.
            std::thread::sleep(Duration::from_millis(2));
            open.store(false, Ordering::SeqCst);
            respond(stream, "204 No Content", &[], b"");
        })
    };
    Single::bind(fake_client(&fake, 1));
    for n in 0..2_000 {
        Single { n }.record().unwrap();
    }
    Single::commit().unwrap();
    assert_eq!(Single::pending(), 0);
    let lines: usize = fake
        .requests()
        .iter()
        .map(|r| {
            r.body
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count()
        })
        .sum();
    assert_eq!(lines, 2_000, "every point sent once");
    assert!(!overlapped.load(Ordering::SeqCst), "two commits overlapped");
}

#[derive(Series)]
#[series(name = "busy", bulk_size = 5, autocommit = "background")]
struct Busy {
    n: i64,
}

/// While another thread records faster than the server answers, a background commit would
/// always find `bulk_size` more points to send: `commit()` still gets its turn (the
/// background commit stops going on when a commit waits) and returns while the recording
/// goes on.
#[test]
fn commit_gets_its_turn_while_another_thread_keeps_recording() {
    // A fake server taking 20 ms a request.
    let fake = FakeServer::start(|_, stream| {
        std::thread::sleep(Duration::from_millis(20));
        respond(stream, "204 No Content", &[], b"");
    });
    Busy::bind(fake_client(&fake, 2));
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            // About 2 000 points a second: several for every request.
            while !stop.load(Ordering::Relaxed) {
                Busy { n }.record().unwrap();
                n += 1;
                std::thread::sleep(Duration::from_micros(500));
            }
        })
    };
    // commit() once background commits are under way: a few requests have come.
    let deadline = std::time::Instant::now() + PATIENCE;
    while fake.requests().len() < 4 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    if fake.requests().len() < 4 {
        stop.store(true, Ordering::Relaxed);
        panic!("no background commit went out");
    }
    let committed = within_patience(Busy::commit);
    let recording = !producer.is_finished();
    stop.store(true, Ordering::Relaxed);
    producer.join().unwrap();
    assert!(recording, "the producer stopped by itself");
    committed
        .expect("commit() waited for the recording to stop")
        .unwrap();
}
