//! Several write requests in flight (`ClientBuilder::writes_in_flight`) against a real
//! influxd: every point stored once, the last write of a point winning as with one request
//! at a time, concurrent commits storing exactly what was recorded, and a server stopped in
//! the middle of a write: what was written is reported and never sent again, what was not is
//! reported (or kept, in a buffer) in its order, and sending it completes the data exactly.
//!
//! One request failing while the other, in flight with it, succeeds is played by a **fake
//! HTTP server** (`influx_testserver::fake`): a real influxd cannot be made to fail one of two
//! requests on demand. A write cut by a stopped server reaches influxd through a TCP
//! forwarder, which holds it a third of the way through until the server is stopped, so that
//! the stop comes in its middle however fast the machine.

use std::collections::HashMap;
use std::io::{Read, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use influx_series::writer::{BufferedWriter, WriterBuilder};
use influx_series::{
    AsyncClient, Client, ClientBuilder, ClientConfig, Error, Point, Precision, QueryOptions,
    RetryPolicy, Series, WriteOptions,
};
use influx_testserver::Server;
use influx_testserver::fake::{FakeServer, respond};

/// Series (tag `s`) per data set; keys are (series, time).
const SERIES: usize = 50;

/// Write `pos` of a data set of `keys` keys written `passes` times over: pass `p` writes
/// every key once, in an order of its own, with `v = p`. The last write of every key is
/// thus the one with `v = passes - 1`, and writes of one key come both far apart and close.
#[derive(Debug, Clone)]
struct Write {
    /// The key: series (tag `s`) and time.
    s: String,
    t: i64,
    v: i64,
    pos: i64,
}

fn write_at(pos: usize, keys: usize) -> Write {
    let pass = pos / keys;
    // A different permutation of the keys in every pass (7919 and 104 729 are prime).
    let key = (pos % keys * [1, 7919, 104_729][pass % 3] + pass * 13) % keys;
    Write {
        s: format!("s{}", key % SERIES),
        t: 1_000_000 + (key / SERIES) as i64,
        v: pass as i64,
        pos: pos as i64,
    }
}

fn writes(keys: usize, passes: usize) -> Vec<Write> {
    (0..keys * passes).map(|pos| write_at(pos, keys)).collect()
}

fn point(w: &Write) -> Point {
    Point::builder("m")
        .tag("s", w.s.clone())
        .field("v", w.v)
        .field("pos", w.pos)
        .timestamp_in(w.t, Precision::Nanoseconds)
        .build()
        .unwrap()
}

/// The position of the last write of every key: what each key must end up holding.
fn last_writes(writes: &[Write]) -> HashMap<(String, i64), i64> {
    writes.iter().map(|w| ((w.s.clone(), w.t), w.pos)).collect()
}

/// What the database holds: the `pos` stored for every key.
fn stored(client: &Client) -> HashMap<(String, i64), i64> {
    let sets = client
        .query_with(
            "SELECT pos FROM m GROUP BY s",
            &QueryOptions::new().epoch(Precision::Nanoseconds),
        )
        .unwrap();
    let mut out = HashMap::new();
    for series in sets[0].series() {
        let s = series.tags()["s"].to_owned();
        for row in series.rows() {
            let time = row.get("time").and_then(|v| v.as_i64()).unwrap();
            let pos = row.get("pos").and_then(|v| v.as_i64()).unwrap();
            assert!(out.insert((s.clone(), time), pos).is_none());
        }
    }
    out
}

/// Asserts the database holds every key's last write, and nothing else.
fn assert_complete(client: &Client, writes: &[Write]) {
    let expected = last_writes(writes);
    let got = stored(client);
    assert_eq!(got.len(), expected.len(), "keys stored");
    let wrong: Vec<_> = expected
        .iter()
        .filter(|(key, pos)| got.get(*key) != Some(*pos))
        .take(5)
        .collect();
    assert!(
        wrong.is_empty(),
        "keys not holding their last write: {wrong:?}"
    );
}

/// The async client with the blocking one's settings, and a current-thread runtime for it
/// (the async client's pipeline runs in the calling task: one thread must do).
fn async_twin(client: &Client) -> (AsyncClient, tokio::runtime::Runtime) {
    let client = AsyncClient::with_config(client.config().clone()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (client, runtime)
}

fn client_on(url: &str, db: &str, in_flight: usize) -> Client {
    let client = Client::builder()
        .host("127.0.0.1")
        .port(url.rsplit(':').next().unwrap().parse().unwrap())
        .database(db)
        .writes_in_flight(in_flight)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    client.create_database(db).unwrap();
    client
}

#[test]
fn with_several_requests_in_flight_every_point_is_stored_and_its_last_write_wins() {
    let server = influx_testserver::shared();
    let writes = writes(20_000, 3);
    let points: Vec<Point> = writes.iter().map(point).collect();
    for in_flight in [1, 2, 3] {
        let db = server.unique_db("inflight");
        let client = client_on(&server.url(), &db, in_flight);
        let done = client
            .write_points(&points, &WriteOptions::default().batch_size(1_000))
            .unwrap();
        assert_eq!(done.written, points.len(), "{in_flight} in flight");
        // Requests of at most 1 000 points.
        assert!(done.requests >= 60, "{}", done.requests);
        assert_complete(&client, &writes);
    }
}

#[test]
fn the_async_client_keeps_requests_in_flight_with_the_same_result() {
    let server = influx_testserver::shared();
    let db = server.unique_db("inflight_async");
    let blocking = client_on(&server.url(), &db, 1);
    let client = AsyncClient::builder()
        .host("127.0.0.1")
        .port(server.http_port())
        .database(db.as_str())
        .writes_in_flight(2)
        .build_async()
        .unwrap();
    let writes = writes(10_000, 3);
    let points: Vec<Point> = writes.iter().map(point).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let done = runtime
        .block_on(client.write_points(&points, &WriteOptions::default().batch_size(500)))
        .unwrap();
    assert_eq!(done.written, points.len());
    assert_complete(&blocking, &writes);
}

/// Without a batch size (the default), a write longer than its first window goes through the
/// pipeline too, on both clients, and twice on the same client (whose second write reuses the
/// first's buffers). It panicked once: each lane's buffer reserved room for `usize::MAX`
/// lines.
#[test]
fn a_write_without_a_batch_size_is_pipelined_whole_on_both_clients() {
    let server = influx_testserver::shared();
    // More than the first window's 20 000 lines.
    let writes = writes(15_000, 2);
    let points: Vec<Point> = writes.iter().map(point).collect();
    let db = server.unique_db("inflight_unbatched");
    let client = client_on(&server.url(), &db, 2);
    for _ in 0..2 {
        let done = client
            .write_points(&points, &WriteOptions::default())
            .unwrap();
        assert_eq!(done.written, points.len());
        assert_complete(&client, &writes);
    }
    let db = server.unique_db("inflight_unbatched_async");
    let blocking = client_on(&server.url(), &db, 2);
    let (client, runtime) = async_twin(&blocking);
    for _ in 0..2 {
        let done = runtime
            .block_on(client.write_points(&points, &WriteOptions::default()))
            .unwrap();
        assert_eq!(done.written, points.len());
        assert_complete(&blocking, &writes);
    }
}

#[derive(Series)]
#[series(name = "m")]
struct Recorded {
    #[series(tag)]
    s: String,
    v: i64,
    pos: i64,
    #[series(time)]
    t: i64,
}

impl Recorded {
    fn of(w: &Write, suffix: &str) -> Recorded {
        Recorded {
            s: format!("{}{suffix}", w.s),
            v: w.v,
            pos: w.pos,
            t: w.t,
        }
    }
}

#[test]
fn concurrent_commits_with_requests_in_flight_store_exactly_what_was_recorded() {
    // Four threads record 25 000 points each (their own series) and commit every 5 000,
    // so commits run while others record: exactly 100 000 points arrive.
    let server = influx_testserver::shared();
    let db = server.unique_db("inflight_commits");
    let client = client_on(&server.url(), &db, 2);
    Recorded::bind(client.clone());
    let writes = writes(25_000, 1);
    let written = Mutex::new(0);
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let (writes, written) = (&writes, &written);
            scope.spawn(move || {
                let suffix = format!("_{thread}");
                for (i, w) in writes.iter().enumerate() {
                    Recorded::of(w, &suffix).record().unwrap();
                    if i % 5_000 == 4_999 {
                        *written.lock().unwrap() += Recorded::commit().unwrap().written;
                    }
                }
            });
        }
    });
    *written.lock().unwrap() += Recorded::commit().unwrap().written;
    assert_eq!(*written.lock().unwrap(), 100_000);
    assert_eq!(Recorded::pending(), 0);
    assert_eq!(count(&client), 100_000);
}

/// How many points measurement `m` holds.
fn count(client: &Client) -> i64 {
    client
        .query("SELECT count(v) FROM m")
        .ok()
        .and_then(|sets| {
            sets[0]
                .rows()
                .next()
                .and_then(|r| r.get("count").and_then(|v| v.as_i64()))
        })
        .unwrap_or(0)
}

/// What a [`forward`]er lets through: once `after` bytes have gone from its clients to the
/// server, it holds the rest until it is released.
struct Hold {
    after: usize,
    /// Bytes let through, and whether the hold is released.
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Hold {
    fn new(after: usize) -> Arc<Hold> {
        Arc::new(Hold {
            after,
            state: Mutex::new((0, false)),
            changed: Condvar::new(),
        })
    }

    /// Waits while the hold is on, then counts `n` more bytes let through.
    fn pass(&self, n: usize) {
        let mut state = self.state.lock().unwrap();
        while state.0 >= self.after && !state.1 {
            state = self.changed.wait(state).unwrap();
        }
        state.0 += n;
    }

    fn release(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

/// A TCP forwarder to port `upstream` on 127.0.0.1; returns its own port. Each connection
/// to it is carried over a connection of its own to `upstream` (none while the server is
/// down: the client's is closed at once), and both are closed when either side closes. What
/// clients send goes through `hold`.
fn forward(upstream: u16, hold: Arc<Hold>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let pipe = |mut from: TcpStream, mut to: TcpStream, hold: Option<Arc<Hold>>| {
        move || {
            let mut buf = vec![0; 64 << 10];
            while let Ok(n @ 1..) = from.read(&mut buf) {
                if let Some(hold) = &hold {
                    hold.pass(n);
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        }
    };
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            // Small writes go at once, as over a direct connection (Nagle's wait for more
            // would hold each answer for tens of milliseconds).
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (up, down) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(pipe(up, server, Some(hold.clone())));
            std::thread::spawn(pipe(down, client, None));
        }
    });
    port
}

/// What a write below sends before the forwarder holds it until the server is stopped:
/// about a third of its 300 000 lines (of 27 to 34 bytes), and far more than the 20 000
/// points after which the server is stopped, with its requests in flight then.
const HOLD_AFTER: usize = 3 << 20;

/// A server, and clients of its database `stopped`: one (two requests in flight) through a
/// forwarder that holds what it sends a third of the way through a write below until the
/// server is stopped (so that the stop comes in the middle of the write, however fast the
/// write and however slow the watcher), and a watcher that connects directly.
fn held_server() -> (Mutex<Server>, Arc<Hold>, Client, Client) {
    let server = Server::start();
    let hold = Hold::new(HOLD_AFTER);
    let through = format!(
        "http://127.0.0.1:{}",
        forward(server.http_port(), hold.clone())
    );
    let client = client_on(&through, "stopped", 2);
    let watcher = client_on(&server.url(), "stopped", 1);
    (Mutex::new(server), hold, client, watcher)
}

/// Stops `server` (from another thread) once `client` sees at least `after` points stored,
/// then releases `hold`.
fn stop_when_stored(server: &Mutex<Server>, client: &Client, after: i64, hold: &Hold) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(client) < after {
        if Instant::now() > deadline {
            hold.release();
            panic!("fewer than {after} points stored within 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    server.lock().unwrap().stop();
    hold.release();
}

/// The positions a stopped write reported as not stored, out of `total`.
fn unwritten_of(err: &Error, total: usize) -> Vec<Range<usize>> {
    match err {
        Error::Unwritten {
            unwritten, reached, ..
        } => {
            let mut runs = unwritten.clone();
            runs.push(*reached..total);
            runs
        }
        other => std::iter::once(other.written_before()..total).collect(),
    }
}

#[test]
fn a_server_stopped_in_the_middle_of_a_write_loses_and_repeats_nothing() {
    let (server, hold, client, watcher) = held_server();
    let writes = writes(100_000, 3);
    let points: Vec<Point> = writes.iter().map(point).collect();
    let result = std::thread::scope(|scope| {
        scope.spawn(|| stop_when_stored(&server, &watcher, 20_000, &hold));
        client.write_points(&points, &WriteOptions::default().batch_size(500))
    });
    let err = result.expect_err("the write ended before the server was stopped");
    let unwritten = unwritten_of(&err, points.len());
    let missing: usize = unwritten.iter().map(ExactSizeIterator::len).sum();
    // Every point is either reported stored or reported not stored, never both nor neither.
    assert_eq!(err.written_before() + missing, points.len(), "{err}");
    // The stop came after 20 000 points were stored; the answers to the requests in flight
    // then (one per lane, 500 points each) may have been lost with the server.
    assert!(err.written_before() >= 20_000 - 2 * 500, "{err}");

    server.lock().unwrap().restart();
    // Nothing reported stored was lost, nor overwritten by an earlier write of its key:
    // a key whose last write was reported stored holds it.
    let is_unwritten = |pos: usize| unwritten.iter().any(|r| r.contains(&pos));
    let got = stored(&watcher);
    for (key, last) in last_writes(&writes) {
        if !is_unwritten(last as usize) {
            assert_eq!(got.get(&key), Some(&last), "{key:?}");
        }
    }
    // Sending exactly the points reported not stored, in their order, completes the data.
    let again: Vec<&Point> = unwritten.iter().flat_map(|r| &points[r.clone()]).collect();
    let done = client
        .write_points(again, &WriteOptions::default().batch_size(500))
        .unwrap();
    assert_eq!(done.written, missing);
    assert_complete(&watcher, &writes);
}

#[derive(Series)]
#[series(name = "m")]
struct Outage {
    #[series(tag)]
    s: String,
    v: i64,
    pos: i64,
    #[series(time)]
    t: i64,
}

#[test]
fn a_commit_cut_by_a_stopped_server_keeps_exactly_the_unwritten_points_in_order() {
    let (server, hold, client, watcher) = held_server();
    Outage::bind(client.clone());
    let writes = writes(100_000, 3);
    for w in &writes {
        let (s, v, pos, t) = (w.s.clone(), w.v, w.pos, w.t);
        Outage { s, v, pos, t }.record().unwrap();
    }
    let result = std::thread::scope(|scope| {
        scope.spawn(|| stop_when_stored(&server, &watcher, 20_000, &hold));
        Outage::commit()
    });
    let err = result.expect_err("the commit ended before the server was stopped");
    // What was written left the buffer; everything else is still in it.
    assert_eq!(
        err.written_before() + Outage::pending(),
        writes.len(),
        "{err}"
    );
    // The stop came after 20 000 points were stored; the answers to the requests in flight
    // then (one per lane, of at most 5 000 points) may have been lost with the server.
    assert!(err.written_before() >= 20_000 - 2 * 5_000, "{err}");
    // The kept lines are in their recorded order.
    let kept = Outage::pending_lines();
    let positions: Vec<i64> = kept
        .lines()
        .map(|line| {
            let at = line.find("pos=").unwrap() + 4;
            line[at..]
                .split(['i', ','])
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(positions.is_sorted(), "the kept points are out of order");

    server.lock().unwrap().restart();
    let done = Outage::commit().unwrap();
    assert_eq!(done.written + err.written_before(), writes.len());
    assert_eq!(Outage::pending(), 0);
    assert_complete(&watcher, &writes);
}

// What a real influxd cannot be made to do on demand: fail one of two requests in flight
// while the other succeeds. A **fake HTTP server** answers 503 to every request that holds
// one chosen point while `failing` is set, and 204 to everything else.

/// The `pos` of every line of a request body.
fn positions(body: &[u8]) -> Vec<usize> {
    std::str::from_utf8(body)
        .unwrap()
        .lines()
        .map(|line| {
            let at = line.find("pos=").unwrap() + 4;
            line[at..]
                .split(['i', ','])
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

/// A fake server failing requests that hold point `pos=7` while the flag it returns is set;
/// and the positions of every line it answered with 204, as they came.
fn failing_one_request() -> (FakeServer, Arc<AtomicBool>, Arc<Mutex<Vec<usize>>>) {
    let failing = Arc::new(AtomicBool::new(true));
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let arrived = Arc::new(AtomicUsize::new(0));
    let (fail, stored) = (failing.clone(), accepted.clone());
    let fake = FakeServer::start(move |request, stream| {
        let lines = positions(&request.body);
        let order = arrived.fetch_add(1, Ordering::SeqCst);
        if lines.contains(&7) && fail.load(Ordering::SeqCst) {
            // The 503 waits until a request after it has arrived (`arrived` counts this one
            // too: `order + 1` with it): the other one in flight, which is then answered 204,
            // whichever of the two went out first. When it came first, that is what a write
            // needs to have stored anything when it stops, and the other lane may be late on
            // a loaded machine: 10 s at most (for a request sent alone, such as a buffered
            // writer's first, which may hold few points). When another came before it, one
            // after it may never come (the client stops encoding while this request's lane
            // waits): 1 s at most. Either way, no longer once the test stops failing requests.
            let wait = Duration::from_secs(if order == 0 { 10 } else { 1 });
            let deadline = Instant::now() + wait;
            while arrived.load(Ordering::SeqCst) <= order + 1
                && fail.load(Ordering::SeqCst)
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            respond(
                stream,
                "503 Service Unavailable",
                &[],
                b"{\"error\":\"busy\"}",
            );
        } else {
            stored.lock().unwrap().extend(lines);
            respond(stream, "204 No Content", &[], b"");
        }
    });
    (fake, failing, accepted)
}

/// Every `pos` in `stored`, sorted.
fn sorted(stored: &Mutex<Vec<usize>>) -> Vec<usize> {
    let mut stored = stored.lock().unwrap().clone();
    stored.sort_unstable();
    stored
}

fn fake_client(fake: &FakeServer) -> Client {
    Client::builder()
        .host("127.0.0.1")
        .port(fake.port())
        .database("db")
        .writes_in_flight(2)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A write with `write` (of a `Client` on a fake server from [`failing_one_request`]): the
/// request holding point 7 fails while the other in flight with it succeeds.
type OnFake = fn(&Client, Vec<&Point>) -> Result<influx_series::Commit, Error>;

#[test]
fn when_one_request_in_flight_fails_and_the_other_succeeds_only_the_failed_ones_are_unwritten() {
    one_request_in_flight_fails(|client, points| {
        client.write_points(points, &WriteOptions::default().batch_size(10))
    });
}

#[test]
fn the_async_client_too_leaves_unwritten_only_the_points_of_the_request_that_failed() {
    one_request_in_flight_fails(|client, points| {
        let (client, runtime) = async_twin(client);
        runtime.block_on(client.write_points(points, &WriteOptions::default().batch_size(10)))
    });
}

fn one_request_in_flight_fails(write: OnFake) {
    let (fake, failing, stored) = failing_one_request();
    let client = fake_client(&fake);
    let writes = writes(100, 1);
    let points: Vec<Point> = writes.iter().map(point).collect();
    let err = write(&client, points.iter().collect()).unwrap_err();
    let Error::Unwritten {
        written,
        unwritten,
        reached,
        source,
    } = &err
    else {
        panic!("not scattered: {err:?}");
    };
    assert!(
        matches!(**source, Error::Server { status: 503, .. }),
        "{source:?}"
    );
    // The request holding point 7 failed; the other, in flight with it, was stored.
    let first = sorted(&stored);
    assert_eq!(first.len(), *written);
    assert!(*written > 0 && *reached <= points.len(), "{err:?}");
    let is_unwritten = |pos: usize| unwritten.iter().any(|r| r.contains(&pos));
    assert!(is_unwritten(7));
    for pos in 0..*reached {
        assert_ne!(
            first.contains(&pos),
            is_unwritten(pos),
            "point {pos}: {err:?}"
        );
    }
    // Resent in order, the unwritten points arrive, and nothing stored is sent again.
    failing.store(false, Ordering::SeqCst);
    let again: Vec<&Point> = unwritten
        .iter()
        .cloned()
        .chain(std::iter::once(*reached..points.len()))
        .flat_map(|r| &points[r])
        .collect();
    write(&client, again).unwrap();
    assert_eq!(sorted(&stored), (0..points.len()).collect::<Vec<_>>());
}

#[derive(Series)]
#[series(name = "m", bulk_size = 10)]
struct HalfFailed {
    #[series(tag)]
    s: String,
    v: i64,
    pos: i64,
    #[series(time)]
    t: i64,
}

#[test]
fn when_one_commit_request_fails_and_the_other_succeeds_the_buffer_keeps_only_the_failed_ones() {
    let (fake, failing, stored) = failing_one_request();
    HalfFailed::bind(fake_client(&fake));
    for w in writes(100, 1) {
        let (s, v, pos, t) = (w.s, w.v, w.pos, w.t);
        HalfFailed { s, v, pos, t }.record().unwrap();
    }
    let err = HalfFailed::commit().unwrap_err();
    assert!(matches!(err, Error::Unwritten { .. }), "{err:?}");
    let first = sorted(&stored);
    assert_eq!(first.len(), err.written_before());
    // Exactly the points not stored are kept, in their recorded order.
    let kept = positions(HalfFailed::pending_lines().as_bytes());
    let expected: Vec<usize> = (0..100).filter(|p| !first.contains(p)).collect();
    assert_eq!(kept, expected);

    failing.store(false, Ordering::SeqCst);
    let done = HalfFailed::commit().unwrap();
    assert_eq!(done.written, expected.len());
    // Every point arrived once: what was stored was not sent again.
    assert_eq!(sorted(&stored), (0..100).collect::<Vec<_>>());
}

/// A buffered writer started from `builder` on a fake server: two requests in flight, no
/// retries within a request, batches of 10 points, no `hostname` tag.
fn writer_on(fake: &FakeServer, builder: WriterBuilder) -> BufferedWriter {
    let config = ClientBuilder::from(ClientConfig::from_url(fake.url()).unwrap())
        .writes_in_flight(2)
        .retry(RetryPolicy::none());
    builder
        .client(config.into_config())
        .database("db")
        .tag_hostname(false)
        .max_batch_size(10)
        .start()
        .unwrap()
}

/// Records 100 points into `writer`, then waits (30 s at most) until a request has failed.
fn record_until_a_request_fails(writer: &BufferedWriter) {
    for w in writes(100, 1) {
        assert!(writer.record(point(&w)).is_enqueued());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while writer.stats().failed_requests == 0 {
        assert!(Instant::now() < deadline, "no request failed");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_buffered_writer_resends_only_what_a_failed_request_in_flight_did_not_store() {
    let (fake, failing, stored) = failing_one_request();
    let writer = writer_on(
        &fake,
        BufferedWriter::builder()
            .interval(Duration::from_millis(20))
            .backoff(Duration::from_millis(10), Duration::from_millis(50)),
    );
    // Once a request holding point 7 failed, the server recovers.
    record_until_a_request_fails(&writer);
    // A flush waits for the failed request's points too.
    assert!(writer.flush(Duration::from_millis(300)).is_err());
    failing.store(false, Ordering::SeqCst);
    writer.flush(Duration::from_secs(30)).unwrap();
    let stats = writer.stats();
    assert_eq!((stats.written, stats.dropped), (100, 0));
    // Every point arrived once: the failed request's lines were sent again, no other.
    assert_eq!(sorted(&stored), (0..100).collect::<Vec<_>>());
}

#[test]
fn the_buffered_writer_counts_every_request_in_flight_that_failed() {
    // A fake server that answers 503 to every request, each once two have arrived (30 s at
    // most, for a lane that is late): both requests of the writer's first round are then in
    // flight when they fail.
    let arrived = Arc::new(AtomicUsize::new(0));
    let seen = arrived.clone();
    let fake = FakeServer::start(move |_, stream| {
        seen.fetch_add(1, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(30);
        while seen.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        respond(
            stream,
            "503 Service Unavailable",
            &[],
            b"{\"error\":\"busy\"}",
        );
    });
    // The round starts once all 100 points are recorded; the backoff after it outlasts the
    // test, so no probe follows.
    let writer = writer_on(
        &fake,
        BufferedWriter::builder()
            .interval(Duration::from_secs(60))
            .trigger_size(100)
            .backoff(Duration::from_secs(60), Duration::from_secs(60)),
    );
    record_until_a_request_fails(&writer);
    let stats = writer.stats();
    assert_eq!(arrived.load(Ordering::SeqCst), 2);
    assert_eq!((stats.requests, stats.failed_requests), (2, 2));
    // Nothing is lost: every point waits for the retry.
    assert_eq!((stats.written, stats.dropped, stats.buffered), (0, 0, 100));
    writer.shutdown(Duration::from_millis(100));
}

#[test]
fn requests_are_in_flight_at_once_up_to_the_setting() {
    // A fake server that counts how many requests it holds at once. It holds each until as
    // many as the setting have been held at once (10 s at most: on a loaded machine a lane
    // may come late, and would find the others answered), and then 100 ms more, for a request
    // beyond the setting to be seen.
    let holding = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let setting = Arc::new(AtomicUsize::new(1));
    let (now, peak, wanted) = (holding.clone(), most.clone(), setting.clone());
    let fake = FakeServer::start(move |_, stream| {
        let held = now.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(held, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(10);
        while peak.load(Ordering::SeqCst) < wanted.load(Ordering::SeqCst)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(100));
        now.fetch_sub(1, Ordering::SeqCst);
        respond(stream, "204 No Content", &[], b"");
    });
    let points: Vec<Point> = writes(4_000, 1).iter().map(point).collect();
    for in_flight in [1, 2, 3] {
        most.store(0, Ordering::SeqCst);
        setting.store(in_flight, Ordering::SeqCst);
        let client = ClientBuilder::from(ClientConfig::from_url(fake.url()).unwrap())
            .writes_in_flight(in_flight)
            .build()
            .unwrap();
        let done = client
            .write_points(&points, &WriteOptions::new("db").batch_size(500))
            .unwrap();
        assert_eq!(done.written, 4_000);
        assert_eq!(most.load(Ordering::SeqCst), in_flight);
    }
    // Every request within the batch size, however the lines were dealt.
    for request in fake.requests() {
        assert!(positions(&request.body).len() <= 500);
    }
    // The setting is bounded: never no request, never more than MAX_WRITES_IN_FLIGHT threads.
    let config = |n| {
        let builder = ClientBuilder::from(ClientConfig::from_url(fake.url()).unwrap());
        builder.writes_in_flight(n).into_config().writes_in_flight()
    };
    assert_eq!(config(0), 1);
    assert_eq!(config(1_000), influx_series::MAX_WRITES_IN_FLIGHT);
}

/// A write of the points of a generator with `write`, by a `Client` of default settings.
type Generated = for<'a> fn(
    &Client,
    Box<dyn Iterator<Item = Point> + Send + 'a>,
    &WriteOptions,
) -> Result<influx_series::Commit, Error>;

#[test]
fn a_write_of_many_points_holds_three_requests_a_lane_at_most() {
    let write: Generated = |client, points, options| client.write_points(points, options);
    holds_three_requests_a_lane_at_most(write, 1_000, 40_000);
    holds_three_requests_a_lane_at_most(write, 10, 2_000);
}

#[test]
fn an_async_write_of_many_points_holds_three_requests_a_lane_at_most() {
    let write: Generated = |client, points, options| {
        let (client, runtime) = async_twin(client);
        runtime.block_on(client.write_points(points, options))
    };
    holds_three_requests_a_lane_at_most(write, 1_000, 40_000);
    // Requests far smaller than the async client's pieces of encoding (1 000 points): it
    // stops a piece when a lane has a whole request waiting.
    holds_three_requests_a_lane_at_most(write, 10, 2_000);
}

fn holds_three_requests_a_lane_at_most(write: Generated, batch: usize, total: usize) {
    // `write_points` takes points from a generator and deals them to its two lanes as it
    // encodes them; it waits while a lane has a request in flight and one queued, so it never
    // holds more than three requests' worth a lane (one being filled, one queued, one in
    // flight): with requests of `batch` points, no more than six times that made and not yet
    // arrived. A fake server, to count what arrived while the generator runs.
    let arrived = Arc::new(AtomicUsize::new(0));
    let seen = arrived.clone();
    let fake = FakeServer::start(move |request, stream| {
        seen.fetch_add(positions(&request.body).len(), Ordering::SeqCst);
        respond(stream, "204 No Content", &[], b"");
    });
    let client = ClientBuilder::from(ClientConfig::from_url(fake.url()).unwrap())
        .build()
        .unwrap();
    assert_eq!(client.config().writes_in_flight(), 2);
    let padding = "x".repeat(1_000);
    let most_held = AtomicUsize::new(0);
    let generated = (0..total).map(|pos| {
        let held = pos - arrived.load(Ordering::SeqCst);
        most_held.fetch_max(held, Ordering::SeqCst);
        Point::builder("m")
            .tag("pad", padding.as_str())
            .field("pos", pos as i64)
            .timestamp_in(pos as i64, Precision::Nanoseconds)
            .build()
            .unwrap()
    });
    let options = WriteOptions::new("db").batch_size(batch);
    let done = write(&client, Box::new(generated), &options).unwrap();
    assert_eq!(done.written, total);
    assert_eq!(arrived.load(Ordering::SeqCst), total);
    let most_held = most_held.load(Ordering::SeqCst);
    assert!(
        (batch..=6 * batch).contains(&most_held),
        "requests of {batch}: {most_held} points made and not arrived"
    );
}

#[test]
fn a_point_refused_after_requests_went_out_stops_the_write_with_every_point_before_it_stored() {
    refused_after_requests_went_out("refused_late", |client, points, options| {
        client.write_points(points, options)
    });
}

#[test]
fn a_point_refused_late_stops_an_async_write_with_every_point_before_it_stored() {
    refused_after_requests_went_out("refused_late_async", |client, points, options| {
        let (client, runtime) = async_twin(client);
        runtime.block_on(client.write_points(points, options))
    });
}

fn refused_after_requests_went_out(
    db: &str,
    write: fn(&Client, &[Point], &WriteOptions) -> Result<influx_series::Commit, Error>,
) {
    // The points are sent as they are encoded, two requests in flight: a point whose field
    // clashes with a shared tag, far into the write, stops it there. Every point before it is
    // stored, none after it is sent, and the error says how many were written.
    let client = client_on(influx_testserver::shared().url().as_str(), db, 2);
    let writes = writes(30_000, 1);
    let mut points: Vec<Point> = writes.iter().map(point).collect();
    points[25_000] = Point::builder("m")
        .tag("s", "s1")
        .field("region", 1i64)
        .build()
        .unwrap();
    let options = WriteOptions::new(db)
        .batch_size(1_000)
        .tags(influx_series::SharedTags::new([("region", "eu")]).unwrap());
    let err = write(&client, &points, &options).unwrap_err();
    assert_eq!(err.written_before(), 25_000, "{err}");
    assert_eq!(count(&client), 25_000);
    let stored = stored(&client);
    assert_eq!(stored, last_writes(&writes[..25_000]));
}

#[test]
fn an_async_write_from_a_slow_iterator_reads_its_answers_within_the_timeout() {
    // The async client polls its requests in flight between pieces of encoding: a piece ends
    // after about a millisecond (16 points here), so an iterator that takes 2 ms a point (a
    // piece of 1 000 points: 2 s) does not leave an answer unread past the 1 s timeout, which
    // would report points the server stored as unwritten. (A fake server that answers at
    // once; the timeout leaves it ample time on a loaded machine, and is half a piece.)
    let fake = FakeServer::start(move |_, stream| respond(stream, "204 No Content", &[], b""));
    let client = ClientBuilder::from(ClientConfig::from_url(fake.url()).unwrap())
        .timeout(Duration::from_secs(1))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let (client, runtime) = async_twin(&client);
    let slow = (0..4_000usize).map(|pos| {
        // The first two requests' worth is encoded before any request goes out: no need to
        // be slow there.
        if pos >= 2_000 {
            std::thread::sleep(Duration::from_millis(2));
        }
        Point::builder("m")
            .tag("s", format!("s{}", pos % 10))
            .field("pos", pos as i64)
            .timestamp_in(pos as i64, Precision::Nanoseconds)
            .build()
            .unwrap()
    });
    let done = runtime
        .block_on(client.write_points(slow, &WriteOptions::new("db").batch_size(1_000)))
        .unwrap();
    assert_eq!(done.written, 4_000);
}

#[test]
fn an_async_write_to_a_server_that_never_answers_ends_within_its_timeout() {
    // A fake listener that accepts and never answers (influxd always answers). A write of
    // 20 000 points, two requests in flight, no retry: the two requests time out at 300 ms,
    // the write halts and reports every point unwritten, well before the 15 s it is given
    // (slack for a loaded machine; a write that waited for an answer would never end).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let client =
        ClientBuilder::from(ClientConfig::from_url(&format!("http://127.0.0.1:{port}")).unwrap())
            .timeout(Duration::from_millis(300))
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
    let (client, runtime) = async_twin(&client);
    let points: Vec<Point> = writes(20_000, 1).iter().map(point).collect();
    let started = Instant::now();
    let err = runtime
        .block_on(client.write_points(&points, &WriteOptions::new("db").batch_size(1_000)))
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.written_before(), 0, "{err}");
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
}
