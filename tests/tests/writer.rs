//! The buffered background writer against a real influxd: every point accounted for through
//! threads, an outage, refused points, a small `max-body-size`, a missing retention policy or
//! database, sampling and shutdown.
//!
//! What only a misbehaving server shows (a 503 on every request, a listener that accepts and
//! never answers) is played by a **fake HTTP server** (`influx_testserver::fake`).

mod support {
    pub mod db;
    pub mod trace;
}

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use influx_series::writer::{
    BufferedWriter, Measurement, OnFull, OnMissingDatabase, Recorded, Stats, WriterBuilder,
};
use influx_series::{Client, ClientConfig, Point, Precision, Series, Value};
use influx_testserver::Server;
use influx_testserver::fake::{self, FakeServer, respond};
use support::db::fresh;

/// The sum of the second column of the first statement's rows (a `count()`).
fn count(client: &Client, q: &str) -> i64 {
    client.query(q).unwrap()[0]
        .rows()
        .filter_map(|r| r.value(1).and_then(|v| v.as_i64()))
        .sum()
}

/// A writer on `url` into `db` that flushes every 50 ms, without the hostname tag.
fn writer_on(url: &str, db: &str) -> WriterBuilder {
    BufferedWriter::builder()
        .client(ClientConfig::from_url(url).unwrap())
        .database(db)
        .interval(Duration::from_millis(50))
        .tag_hostname(false)
}

fn point(measurement: &'static str, thread: usize, i: i64) -> Point {
    Point::builder(measurement)
        .tag("thread", thread.to_string())
        .field("v", i)
        .timestamp_in(i, Precision::Nanoseconds)
        .build()
        .unwrap()
}

/// A loopback port nothing listens on (a server that is down).
fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[track_caller]
fn assert_adds_up(stats: &Stats) {
    assert!(stats.adds_up(), "counters do not add up: {stats:#?}");
}

#[test]
fn four_threads_record_a_million_points_and_every_one_arrives() {
    let client = fresh("writer_threads");
    let db = client.database().unwrap().to_owned();
    let writer = writer_on(&influx_testserver::shared().url(), &db)
        .max_buffer_size(1_000_000)
        .max_buffer_bytes(256 << 20)
        .trigger_size(10_000)
        .max_batch_size(10_000)
        .start()
        .unwrap();
    // Snapshots taken while the threads record and the writer flushes must all add up.
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (writer, done) = (writer.clone(), done.clone());
        std::thread::spawn(move || {
            let mut snapshots = 0;
            while !done.load(Ordering::Relaxed) {
                assert_adds_up(&writer.stats());
                snapshots += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            snapshots
        })
    };
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let writer = writer.clone();
            std::thread::spawn(move || {
                let mut refused = 0;
                for i in 0..250_000 {
                    if !writer.record(point("m", t, i)).is_enqueued() {
                        refused += 1;
                    }
                }
                refused
            })
        })
        .collect();
    let refused: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(refused, 0, "a budget of 1 000 000 holds every point");
    writer.flush(Duration::from_secs(120)).unwrap();
    done.store(true, Ordering::Relaxed);
    assert!(watcher.join().unwrap() > 0);
    let stats = writer.stats();
    assert_eq!(count(&client, "SELECT count(v) FROM m"), 1_000_000);
    assert_eq!((stats.recorded, stats.written), (1_000_000, 1_000_000));
    assert_eq!((stats.dropped, stats.rejected, stats.buffered), (0, 0, 0));
    assert!(
        stats.requests >= 100,
        "batches of at most 10 000: {}",
        stats.requests
    );
    assert_adds_up(&stats);
    let report = writer.shutdown(Duration::from_secs(5));
    assert!(report.complete && report.left_over == 0, "{report:?}");
}

#[test]
fn an_outage_keeps_what_fits_the_budget_and_counts_the_rest() {
    let mut server = Server::start();
    let client = Client::new(&server.url()).unwrap().with_database("outage");
    client.create_database("outage").unwrap();
    let writer = writer_on(&server.url(), "outage")
        .max_buffer_size(20_000)
        .trigger_size(5_000)
        .max_batch_size(5_000)
        .backoff(Duration::from_millis(50), Duration::from_millis(500))
        .start()
        .unwrap();
    for i in 0..5_000 {
        assert!(writer.record(point("m", 0, i)).is_enqueued());
    }
    writer.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(writer.stats().written, 5_000);

    server.stop();
    let mut evicted = 0;
    let mut record = |p: Point| match writer.record(p) {
        Recorded::Enqueued => {}
        Recorded::EnqueuedDroppingOldest { dropped } => evicted += dropped,
        other => panic!("{other:?}"),
    };
    for i in 5_000..35_000 {
        record(point("m", 0, i));
    }
    // The same series and time twice: the later value must win after the outage.
    let same = |v: i64| {
        Point::builder("order")
            .field("v", v)
            .timestamp_in(1, Precision::Seconds)
            .build()
            .unwrap()
    };
    record(same(1));
    record(same(2));
    let during = writer.stats();
    assert_adds_up(&during);
    assert_eq!(
        during.buffered + during.in_flight,
        20_000,
        "the budget is full"
    );

    server.restart();
    writer.flush(Duration::from_secs(60)).unwrap();
    let stats = writer.stats();
    assert_adds_up(&stats);
    // 5 000 recorded before, 30 002 during: 20 000 kept, the rest dropped as the oldest.
    assert_eq!(stats.recorded, 35_002);
    assert_eq!(stats.drops.overflow, 10_002);
    assert_eq!(stats.drops.overflow, evicted as u64);
    assert_eq!(stats.dropped, stats.drops.overflow, "{:?}", stats.drops);
    assert_eq!(stats.written, 5_000 + 20_000);
    // The two `order` points are one series and time: stored once.
    assert_eq!(count(&client, "SELECT count(v) FROM m"), 24_998);
    assert_eq!(count(&client, "SELECT count(v) FROM \"order\""), 1);
    let order = client.query("SELECT v FROM \"order\"").unwrap();
    let last: Vec<_> = order[0]
        .rows()
        .map(|r| r.value(1).unwrap().into_owned())
        .collect();
    assert_eq!(
        last,
        [Value::Integer(2)],
        "the later point of one series and time wins"
    );
}

/// A fake that answers every request with `status` and `headers`.
fn fake_always(status: &'static str, headers: Vec<(&'static str, &'static str)>) -> FakeServer {
    FakeServer::start(move |_request, stream: &mut TcpStream| {
        respond(stream, status, &headers, b"{\"error\":\"busy\"}");
    })
}

/// The time between consecutive requests the fake received.
fn gaps(requests: &[fake::Request]) -> Vec<Duration> {
    requests
        .windows(2)
        .map(|w| w[1].received.duration_since(w[0].received))
        .collect()
}

/// Records points for `run`, at a steady pace, on a writer that flushes every 10 ms.
fn record_for(writer: &BufferedWriter, run: Duration) {
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < run {
        let outcome = writer.record(point("m", 0, i));
        assert!(outcome.is_enqueued(), "{outcome:?}");
        i += 1;
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits (at most 30 s) until `fake` has received at least `n` requests; returns them all.
fn wait_for_requests(fake: &FakeServer, n: usize) -> Vec<fake::Request> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let requests = fake.requests();
        if requests.len() >= n {
            return requests;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} requests came within 30 s",
            requests.len()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn while_the_server_answers_503_one_request_goes_per_backoff_interval() {
    let fake = fake_always("503 Service Unavailable", vec![]);
    let started = Instant::now();
    let writer = writer_on(fake.url(), "db")
        .interval(Duration::from_millis(10))
        .backoff(Duration::from_millis(200), Duration::from_millis(200))
        .start()
        .unwrap();
    record_for(&writer, Duration::from_secs(2));
    // The writer goes on trying with the points it holds: on a loaded machine, fewer
    // requests than the usual dozen may have come in the 2 s.
    let requests = wait_for_requests(&fake, 4);
    let elapsed = started.elapsed();
    // Waits are drawn between half and all of the backoff: 100 to 200 ms. Each starts once
    // the 503 has come, after the fake took the request, so no lag of the fake shortens them.
    for gap in gaps(&requests) {
        assert!(gap >= Duration::from_millis(95), "{gap:?} between requests");
    }
    // And so no more than one request every 100 ms since the writer started.
    assert!(
        requests.len() as u128 <= elapsed.as_millis() / 100 + 1,
        "{} requests in {elapsed:?}",
        requests.len()
    );
    let stats = writer.stats();
    assert_eq!(stats.written, 0);
    assert_eq!(stats.dropped, 0, "every point kept within the budget");
    assert_adds_up(&stats);
    let report = writer.shutdown(Duration::from_millis(100));
    assert!(!report.complete);
    assert_eq!(report.left_over, stats.recorded, "{report:?}");
    assert_adds_up(&report.stats);
}

#[test]
fn retry_after_is_honoured() {
    let fake = fake_always("503 Service Unavailable", vec![("Retry-After", "1")]);
    let started = Instant::now();
    let writer = writer_on(fake.url(), "db")
        .interval(Duration::from_millis(10))
        .backoff(Duration::from_millis(50), Duration::from_millis(50))
        .start()
        .unwrap();
    record_for(&writer, Duration::from_millis(2_500));
    let requests = wait_for_requests(&fake, 2);
    let elapsed = started.elapsed();
    // The second waits from the first's answer, which comes after the fake took it.
    for gap in gaps(&requests) {
        assert!(gap >= Duration::from_millis(990), "{gap:?}");
    }
    // At most one a second since the writer started (three in 2.5 s).
    assert!(
        requests.len() as u128 <= elapsed.as_millis() / 1_000 + 1,
        "{} requests in {elapsed:?}",
        requests.len()
    );
    writer.shutdown(Duration::from_millis(100));
}

/// A fake server that reads each request and never answers (it holds it for 60 s).
fn never_answering() -> FakeServer {
    FakeServer::start(|_request, _stream: &mut TcpStream| {
        std::thread::sleep(Duration::from_secs(60));
    })
}

/// A fake that never answers (as [`never_answering`]) and counts the requests that came while
/// the connection of an earlier one was still open: two requests at once. It asks the kernel
/// (a peek at each earlier connection, which shows the client's close at once), so a fake
/// thread that a busy machine runs late cannot see two at once where there were not.
fn never_answering_counting_overlaps() -> (FakeServer, Arc<std::sync::atomic::AtomicUsize>) {
    let overlaps = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let earlier: Arc<std::sync::Mutex<Vec<TcpStream>>> = Arc::default();
    let counted = Arc::clone(&overlaps);
    let fake = FakeServer::start(move |_request, stream: &mut TcpStream| {
        {
            let mut earlier = earlier.lock().unwrap();
            for other in earlier.iter() {
                let open = other.set_nonblocking(true).is_ok()
                    && matches!(
                        other.peek(&mut [0; 1]),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
                    );
                if open {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            }
            earlier.push(stream.try_clone().unwrap());
        }
        std::thread::sleep(Duration::from_secs(60));
    });
    (fake, overlaps)
}

/// A writer to `fake` whose requests time out after `timeout`, one request at a time.
fn one_at_a_time(fake: &FakeServer, timeout: Duration) -> BufferedWriter {
    let config = Client::builder()
        .host("127.0.0.1")
        .port(fake.port())
        .timeout(timeout)
        // One at a time, so that the gaps between requests are the timeout and the backoff
        // (with N in flight, a hanging server gets N requests at once, and no more).
        .writes_in_flight(1)
        .into_config();
    BufferedWriter::builder()
        .client(config)
        .database("db")
        .tag_hostname(false)
        .interval(Duration::from_millis(10))
        .backoff(Duration::from_millis(200), Duration::from_millis(200))
        .max_buffer_size(1_000)
        .max_batch_size(100)
        .start()
        .unwrap()
}

#[test]
fn a_server_that_never_answers_gets_one_request_at_a_time_and_record_never_waits() {
    // First with a timeout far longer than this part takes, so that the first request hangs
    // all through it (a short one would end it, and a backoff follow, whenever the machine
    // is slow).
    let fake = never_answering();
    let writer = one_at_a_time(&fake, Duration::from_secs(30));
    writer.record(point("m", 0, 0));
    // While the first request hangs, record() goes on: the budget takes 1 000 points, and
    // the rest replace the oldest waiting ones.
    let deadline = Instant::now() + Duration::from_secs(30);
    while writer.stats().in_flight == 0 {
        assert!(Instant::now() < deadline, "no request went out");
        std::thread::sleep(Duration::from_millis(2));
    }
    let started = Instant::now();
    let mut taken = 0;
    for i in 1..5_000 {
        if writer.record(point("m", 0, i)).is_enqueued() {
            taken += 1;
        }
    }
    // A record() that waited for the request would wait out its 30 s timeout.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "record() waited: {took:?}");
    let stats = writer.stats();
    assert_eq!(taken, 4_999, "{stats:?}");
    assert!(stats.in_flight > 0, "all of this while a request hangs");
    assert_eq!(stats.buffered + stats.in_flight, 1_000);
    assert_eq!(stats.drops.overflow, 4_000);
    assert_adds_up(&stats);
    // A shutdown returns by its deadline, not when the hanging request ends (its 30 s
    // timeout; the fake holds it 60 s).
    let started = Instant::now();
    let report = writer.shutdown(Duration::from_millis(200));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(!report.complete);
    assert_eq!(
        report.left_over,
        report.stats.drops.unsent + report.stats.in_flight
    );
    assert_adds_up(&report.stats);
    assert!(
        fake.requests().len() <= 1,
        "{} requests while the first hung",
        fake.requests().len()
    );

    // Then with a 300 ms timeout: each request waits out its timeout, then a backoff of 100
    // to 200 ms, so at least 400 ms go from one request's start to the next's. Both bounds are
    // checked so that a busy machine cannot break them: no request comes while an earlier one's
    // connection is open (the kernel's view), and the sixth request is seen no sooner than 5 x
    // 400 ms after this part began (a late fake only sees it later). Without the backoff it
    // would come after about 5 x 300 ms.
    let (fake, overlaps) = never_answering_counting_overlaps();
    let began = Instant::now();
    let writer = one_at_a_time(&fake, Duration::from_millis(300));
    for i in 0..100 {
        assert!(writer.record(point("m", 0, i)).is_enqueued());
    }
    let requests = wait_for_requests(&fake, 6);
    assert_eq!(
        overlaps.load(Ordering::SeqCst),
        0,
        "a request came while an earlier one's connection was open"
    );
    let sixth = requests[5].received.duration_since(began);
    assert!(
        sixth >= Duration::from_millis(5 * 400),
        "the sixth request came {sixth:?} after the first could: {:?}",
        gaps(&requests)
    );
    let report = writer.shutdown(Duration::from_millis(200));
    assert!(!report.complete);
    assert_adds_up(&report.stats);
}

/// Points `v=1i`, `v=2i`, `v="three"`, `v=4i`, `v=5i` one nanosecond apart at `base`.
fn conflicting(writer: &BufferedWriter, base: i64) {
    for i in 1..=5 {
        let b = Point::builder("m").timestamp_in(base + i, Precision::Nanoseconds);
        let p = if i == 3 {
            b.field("v", "three")
        } else {
            b.field("v", i)
        };
        assert!(writer.record(p.build().unwrap()).is_enqueued());
    }
}

#[test]
fn a_type_conflict_is_rejected_and_the_rest_stored_in_an_existing_and_a_new_shard() {
    let server = influx_testserver::shared();
    for existing in [true, false] {
        let client = fresh("writer_conflict");
        let db = client.database().unwrap().to_owned();
        let base = 1_600_000_000_000_000_000;
        if existing {
            client
                .write_raw(&format!("m v=0i {base}"), &Default::default())
                .unwrap();
        }
        // Sent by the flush alone, in one batch (an interval could cut the five in two).
        let writer = writer_on(&server.url(), &db)
            .interval(Duration::from_secs(3_600))
            .start()
            .unwrap();
        conflicting(&writer, base);
        writer.flush(Duration::from_secs(30)).unwrap();
        let stats = writer.stats();
        assert_eq!((stats.written, stats.rejected), (4, 1), "{stats:?}");
        // Existing shard: a partial write. New shard: a bare 400, the batch sent once more.
        let expected_requests = if existing { 1 } else { 2 };
        assert_eq!(
            stats.requests, expected_requests,
            "existing shard: {existing}"
        );
        assert_eq!(
            count(&client, "SELECT count(v) FROM m"),
            4 + i64::from(existing)
        );
        assert_adds_up(&stats);
    }
}

#[test]
fn a_body_over_max_body_size_is_split_and_every_point_arrives() {
    let server = Server::start_with_max_body_size(20_000);
    let client = Client::new(&server.url()).unwrap().with_database("big");
    client.create_database("big").unwrap();
    let writer = writer_on(&server.url(), "big")
        .trigger_size(2_000)
        // Sent by the trigger, in one batch (an interval could cut the 2 000 in pieces).
        .interval(Duration::from_secs(3_600))
        .start()
        .unwrap();
    for i in 0..2_000 {
        writer.record(point("m", 7, i));
    }
    writer.flush(Duration::from_secs(30)).unwrap();
    let stats = writer.stats();
    assert_eq!(
        (stats.written, stats.rejected, stats.dropped),
        (2_000, 0, 0)
    );
    assert_eq!(count(&client, "SELECT count(v) FROM m"), 2_000);
    // About 50 KB in bodies of at most 20 000 bytes: a few 413s, then the lowered cap.
    assert!(stats.requests <= 12, "{stats:?}");
    assert_adds_up(&stats);
}

#[test]
fn a_missing_retention_policy_drops_the_batch_after_one_request_and_flags_it() {
    let client = fresh("writer_rp");
    let db = client.database().unwrap().to_owned();
    let writer = writer_on(&influx_testserver::shared().url(), &db)
        .retention_policy("nope")
        // Sent by the flush alone, in one batch (an interval could cut the 100 in two).
        .interval(Duration::from_secs(3_600))
        .start()
        .unwrap();
    for i in 0..100 {
        writer.record(point("m", 0, i));
    }
    writer.flush(Duration::from_secs(30)).unwrap();
    let stats = writer.stats();
    assert_eq!(stats.requests, 1);
    assert_eq!(stats.drops.misconfigured, 100);
    assert_eq!(stats.flagged.len(), 1);
    assert_eq!(stats.flagged[0].retention_policy.as_deref(), Some("nope"));
    assert!(
        stats.flagged[0]
            .reason
            .contains("retention policy not found"),
        "{:?}",
        stats.flagged
    );
    assert_adds_up(&stats);
    assert_eq!(count(&client, "SELECT count(v) FROM m"), 0);
}

#[test]
fn a_missing_database_is_dropped_created_or_held_as_configured() {
    let server = influx_testserver::shared();
    let admin = Client::new(&server.url()).unwrap();

    let db = server.unique_db("writer_nodb_drop");
    let writer = writer_on(&server.url(), &db).start().unwrap();
    writer.record(point("m", 0, 1));
    writer.flush(Duration::from_secs(30)).unwrap();
    let stats = writer.stats();
    assert_eq!((stats.drops.missing_database, stats.requests), (1, 1));
    assert!(stats.flagged[0].reason.contains("database not found"));

    let db = server.unique_db("writer_nodb_create");
    let writer = writer_on(&server.url(), &db)
        .on_missing_database(OnMissingDatabase::Create)
        .start()
        .unwrap();
    writer.record(point("m", 0, 1));
    writer.flush(Duration::from_secs(30)).unwrap();
    let stats = writer.stats();
    assert_eq!((stats.written, stats.requests, stats.dropped), (1, 2, 0));
    let client = admin.clone().with_database(db);
    assert_eq!(count(&client, "SELECT count(v) FROM m"), 1);

    let db = server.unique_db("writer_nodb_hold");
    let writer = writer_on(&server.url(), &db)
        .on_missing_database(OnMissingDatabase::Hold)
        .backoff(Duration::from_millis(50), Duration::from_millis(100))
        .start()
        .unwrap();
    writer.record(point("m", 0, 1));
    assert!(writer.flush(Duration::from_millis(300)).is_err(), "held");
    assert_eq!(writer.stats().buffered + writer.stats().in_flight, 1);
    admin.create_database(&db).unwrap();
    writer.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(writer.stats().written, 1);
    assert_adds_up(&writer.stats());
}

#[test]
fn shutdown_with_the_server_down_returns_by_its_deadline_and_reports_what_is_left() {
    let port = dead_port();
    let writer = writer_on(&format!("http://127.0.0.1:{port}"), "db")
        .start()
        .unwrap();
    for i in 0..1_000 {
        writer.record(point("m", 0, i));
    }
    let started = Instant::now();
    let report = writer.shutdown(Duration::from_millis(300));
    let took = started.elapsed();
    // Its deadline, and slack for a loaded machine: far less than a wait for the server.
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(!report.complete);
    assert_eq!(report.left_over, 1_000, "{report:?}");
    assert_eq!(report.stats.drops.unsent + report.stats.in_flight, 1_000);
    assert_adds_up(&report.stats);
    assert!(matches!(writer.record(point("m", 0, 1)), Recorded::Closed));
    assert_eq!(writer.stats().ignored, 1);
}

#[test]
fn sampling_at_one_half_keeps_fifty_thousand_within_five_sigma() {
    let client = fresh("writer_sampling");
    let db = client.database().unwrap().to_owned();
    let writer = writer_on(&influx_testserver::shared().url(), &db)
        .sample_probability(0.5)
        .sample_seed(20_261_202)
        .max_buffer_size(100_000)
        .start()
        .unwrap();
    let mut kept = 0;
    for i in 0..100_000 {
        match writer.record(point("m", 0, i)) {
            Recorded::Enqueued => kept += 1,
            Recorded::SampledOut => {}
            other => panic!("{other:?}"),
        }
    }
    assert!((49_200..=50_800).contains(&kept), "{kept} kept");
    writer.flush(Duration::from_secs(30)).unwrap();
    let stats = writer.stats();
    assert_eq!(stats.sampled_out, 100_000 - kept);
    assert_eq!(stats.written, kept);
    assert_eq!(count(&client, "SELECT count(v) FROM m"), kept as i64);
    assert_adds_up(&stats);
}

#[test]
fn invalid_environment_values_fail_at_start_naming_the_variable() {
    for (name, value) in [
        ("INFLUXDB_INTERVAL", "soon"),
        ("INFLUXDB_SAMPLE_PROBABILITY", "1.5"),
        ("INFLUXDB_PRECISION", "fortnights"),
        ("INFLUXDB_MAX_BUFFER_SIZE", "-1"),
        ("INFLUXDB_TAG_HOSTNAME", "maybe"),
    ] {
        let err = BufferedWriter::builder()
            .from_lookup(move |n| (n == name).then(|| value.to_owned()))
            .start()
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(name) && message.contains(value),
            "{message}"
        );
    }
}

#[test]
fn measurements_carry_the_writer_tags_and_a_timed_field() {
    let client = fresh("writer_measurement");
    let db = client.database().unwrap().to_owned();
    let server = influx_testserver::shared();
    let writer = BufferedWriter::builder()
        .from_lookup(move |name| match name {
            "INFLUXDB_URL" => Some(server.url()),
            "ENVIRONMENT" => Some("staging".to_owned()),
            "INFLUXDB_INTERVAL" => Some("20".to_owned()),
            _ => None,
        })
        .hostname("web-1")
        .start()
        .unwrap();
    let mut m = Measurement::new(&db, "requests");
    m.set_tag("route", "/items").set_field("status", 200i64);
    {
        let _timer = m.duration("duration");
        std::thread::sleep(Duration::from_millis(30));
    }
    assert!(writer.record(&m).is_enqueued());
    writer.flush(Duration::from_secs(30)).unwrap();
    let sets = client
        .query("SELECT \"duration\", status, hostname, environment, route FROM requests")
        .unwrap();
    let row = sets[0].rows().next().expect("one point");
    let values: Vec<_> = row.values().collect();
    let duration = values[1].as_f64().unwrap();
    assert!(duration >= 0.03, "{duration}");
    assert_eq!(values[2], Value::Integer(200));
    assert_eq!(values[3], Value::String("web-1".into()));
    assert_eq!(values[4], Value::String("staging".into()));
    assert_eq!(values[5], Value::String("/items".into()));
}

#[derive(Series, Debug)]
#[series(name = "jobs")]
struct Job {
    #[series(tag)]
    queue: String,
    seconds: f64,
    #[series(time)]
    time: i64,
}

#[test]
fn a_series_type_bound_to_a_writer_records_into_it() {
    let job = |time| Job {
        queue: "mail".into(),
        seconds: 0.5,
        time,
    };
    // The writer's policy applies: over its budget the oldest points go, and record() says Ok.
    let port = dead_port();
    let down = writer_on(&format!("http://127.0.0.1:{port}"), "db")
        .max_buffer_size(10)
        .max_batch_size(1)
        .start()
        .unwrap();
    Job::bind_writer(&down);
    for i in 0..15 {
        job(i).record().unwrap();
    }
    assert_eq!(Job::pending(), 0, "nothing in the type's own buffer");
    let stats = down.stats();
    assert_eq!((stats.recorded, stats.drops.overflow), (15, 5));
    down.shutdown(Duration::from_millis(100));
    let err = job(99).record().unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");

    let client = fresh("writer_series");
    let db = client.database().unwrap().to_owned();
    let writer = writer_on(&influx_testserver::shared().url(), &db)
        .start()
        .unwrap();
    Job::bind_writer(&writer);
    for i in 0..15 {
        job(i).record().unwrap();
    }
    writer.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(count(&client, "SELECT count(seconds) FROM jobs"), 15);
    Job::unbind();
    job(100).record().unwrap();
    assert_eq!(Job::pending(), 1, "unbound: the type's own buffer again");
    assert_eq!(writer.stats().recorded, 15);
}

#[test]
fn a_writer_starts_and_records_inside_a_tokio_runtime() {
    let client = fresh("writer_tokio");
    let db = client.database().unwrap().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let writer = runtime.block_on(async move {
        // Started, recorded into and flushed from async code.
        let writer = writer_on(&influx_testserver::shared().url(), &db)
            .start()
            .unwrap();
        for i in 0..100 {
            assert!(writer.record(point("m", 0, i)).is_enqueued());
        }
        let flushing = writer.clone();
        tokio::task::spawn_blocking(move || flushing.flush(Duration::from_secs(30)))
            .await
            .unwrap()
            .unwrap();
        writer
    });
    assert_eq!(writer.stats().written, 100);
    assert_eq!(count(&client, "SELECT count(v) FROM m"), 100);
    drop(runtime);
}

#[test]
fn drop_newest_refuses_new_points_when_full() {
    let port = dead_port();
    let writer = writer_on(&format!("http://127.0.0.1:{port}"), "db")
        .interval(Duration::from_secs(60))
        .max_buffer_size(10)
        .on_full(OnFull::DropNewest)
        .start()
        .unwrap();
    let outcomes: Vec<_> = (0..12).map(|i| writer.record(point("m", 0, i))).collect();
    assert!(outcomes[..10].iter().all(Recorded::is_enqueued));
    assert!(
        outcomes[10..]
            .iter()
            .all(|o| matches!(o, Recorded::DroppedFull))
    );
    assert_eq!(writer.stats().drops.full, 2);
    assert_adds_up(&writer.stats());
}

#[test]
fn invalid_points_are_refused_and_counted() {
    let writer = writer_on("http://127.0.0.1:9", "db")
        .interval(Duration::from_secs(60))
        .max_batch_bytes(100)
        .tag("host", "a")
        .start()
        .unwrap();
    // A field named like a writer tag.
    let clash = Point::builder("m").field("host", 1i64).build().unwrap();
    assert!(matches!(writer.record(clash), Recorded::Invalid(_)));
    // Larger than a request may be.
    let big = Point::builder("m")
        .field("s", "x".repeat(200))
        .build()
        .unwrap();
    match writer.record(big) {
        Recorded::Invalid(e @ influx_series::Error::InvalidArgument(_)) => {
            let message = e.to_string();
            assert!(
                message.contains("max_batch_bytes") && message.contains("max_batch_bytes()"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    let stats = writer.stats();
    assert_eq!((stats.recorded, stats.invalid), (2, 2));
    assert_adds_up(&stats);
}

#[test]
fn points_recorded_one_after_the_other_from_two_threads_arrive_in_that_order() {
    // Thread A records `v=1` at a time, then hands over to thread B, which records `v=2` at
    // the same series and time: the server must keep 2 every time, whatever cuts the writer
    // takes of the two threads' shards meanwhile (small triggers make many).
    let client = fresh("writer_order");
    let db = client.database().unwrap().to_owned();
    let writer = writer_on(&influx_testserver::shared().url(), &db)
        .interval(Duration::from_millis(1))
        .trigger_size(7)
        .max_batch_size(7)
        .start()
        .unwrap();
    let same = |t: i64, v: i64| {
        Point::builder("order")
            .field("v", v)
            .timestamp_in(t, Precision::Nanoseconds)
            .build()
            .unwrap()
    };
    let (to_b, from_a) = std::sync::mpsc::channel::<i64>();
    let (ready, b_ready) = std::sync::mpsc::channel::<()>();
    let b = {
        let writer = writer.clone();
        std::thread::spawn(move || {
            // B records first, so its shard comes first in the writer's list: only the
            // sequence numbers put A's earlier points first.
            assert!(writer.record(same(-1, 0)).is_enqueued());
            ready.send(()).unwrap();
            for t in from_a {
                assert!(writer.record(same(t, 2)).is_enqueued());
            }
        })
    };
    b_ready.recv().unwrap();
    for t in 0..2_000 {
        assert!(writer.record(same(t, 1)).is_enqueued());
        to_b.send(t).unwrap();
    }
    drop(to_b);
    b.join().unwrap();
    writer.flush(Duration::from_secs(30)).unwrap();
    let sets = client.query("SELECT v FROM \"order\"").unwrap();
    let values: Vec<i64> = sets[0]
        .rows()
        .map(|r| r.value(1).and_then(|v| v.as_i64()).unwrap())
        .collect();
    assert_eq!(values.len(), 2_001);
    assert!(
        values[1..].iter().all(|&v| v == 2),
        "{} of 2 000 kept the earlier point",
        values.iter().filter(|&&v| v != 2).count()
    );
    let stats = writer.stats();
    assert_eq!(stats.written, 4_001);
    assert_adds_up(&stats);
}

#[test]
fn dropping_a_writer_without_shutdown_logs_how_many_points_were_unsent() {
    let port = dead_port();
    let capture = support::trace::Capture::default();
    tracing::subscriber::with_default(capture.clone(), || {
        // Other tests of this binary, running meanwhile without a subscriber, may have left
        // the crate's call sites marked uninteresting: look again with this one in place.
        tracing::callsite::rebuild_interest_cache();
        let writer = writer_on(&format!("http://127.0.0.1:{port}"), "db")
            .interval(Duration::from_secs(60))
            .start()
            .unwrap();
        for i in 0..1_000 {
            writer.record(point("m", 0, i));
        }
        let started = Instant::now();
        drop(writer);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "a drop never waits"
        );
    });
    let text = capture.text();
    assert!(
        text.contains("dropped without shutdown: 1000 point(s) unsent"),
        "{text}"
    );
}

#[test]
fn a_disabled_writer_takes_nothing_and_shuts_down_at_once() {
    let writer = BufferedWriter::builder()
        .from_lookup(|name| (name == "INFLUXDB_ENABLED").then(|| "false".to_owned()))
        .start()
        .unwrap();
    assert!(matches!(
        writer.record(point("m", 0, 1)),
        Recorded::Disabled
    ));
    let started = Instant::now();
    let report = writer.shutdown(Duration::from_secs(30));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no thread to wait for"
    );
    assert!(report.complete);
    assert_eq!((report.stats.recorded, report.stats.ignored), (0, 1));
}

#[test]
fn waiting_for_ever_is_a_valid_timeout() {
    let client = fresh("writer_forever");
    let db = client.database().unwrap().to_owned();
    let writer = writer_on(&influx_testserver::shared().url(), &db)
        .start()
        .unwrap();
    writer.flush(Duration::MAX).unwrap();
    writer.record(point("m", 0, 1));
    writer.flush(Duration::MAX).unwrap();
    assert_eq!(writer.stats().written, 1);
    assert!(writer.shutdown(Duration::MAX).complete);
}

#[test]
fn retry_after_zero_still_waits_the_backoff() {
    let fake = fake_always("503 Service Unavailable", vec![("Retry-After", "0")]);
    let started = Instant::now();
    let writer = writer_on(fake.url(), "db")
        .interval(Duration::from_millis(10))
        .backoff(Duration::from_millis(200), Duration::from_millis(200))
        .start()
        .unwrap();
    record_for(&writer, Duration::from_secs(1));
    let requests = wait_for_requests(&fake, 3);
    let elapsed = started.elapsed();
    // Half the backoff at least, from the 503 (which comes after the fake took the request).
    for gap in gaps(&requests) {
        assert!(gap >= Duration::from_millis(95), "{gap:?}");
    }
    assert!(
        requests.len() as u128 <= elapsed.as_millis() / 95 + 1,
        "{} requests in {elapsed:?}",
        requests.len()
    );
    writer.shutdown(Duration::from_millis(100));
}

#[test]
fn a_point_larger_than_the_byte_budget_is_refused_without_evicting_anything() {
    let writer = writer_on("http://127.0.0.1:9", "db")
        .interval(Duration::from_secs(60))
        .max_buffer_bytes(2_000)
        .trigger_bytes(2_000)
        .start()
        .unwrap();
    assert!(writer.record(point("m", 0, 1)).is_enqueued());
    let big = Point::builder("m")
        .field("s", "x".repeat(2_100))
        .build()
        .unwrap();
    match writer.record(big) {
        Recorded::Invalid(e @ influx_series::Error::InvalidArgument(_)) => {
            let message = e.to_string();
            assert!(message.contains("max_buffer_bytes"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let stats = writer.stats();
    assert_eq!((stats.buffered, stats.dropped, stats.invalid), (1, 0, 1));
}
