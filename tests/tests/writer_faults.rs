//! The buffered writer keeps its promises under the faults a service meets when it runs for
//! months: a server that refuses every write, one that answers slowly while the writer shuts
//! down, error answers of any size, ever-new destinations, a `record()` from a thread-local's
//! destructor, UDP, TLS on one side only, and settings that could never write.
//!
//! A real influxd plays every server it can be made to be; what it cannot (a `400` for every
//! write, a slow answer, a `500` carrying a gzip bomb, an endless body, a `403` with a 64 MiB
//! message, a `204` for every database) is played by a **fake HTTP server**
//! (`influx_testserver::fake`), named as such in each test.

mod support {
    pub mod db;
}

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use influx_series::writer::{BufferedWriter, Recorded, Stats, WriterBuilder};
use influx_series::{Client, ClientBuilder, ClientConfig, Error, Point, Precision, RetryPolicy};
use influx_testserver::Server;
use influx_testserver::fake::{FakeServer, respond};
use support::db::fresh;

fn point(i: i64) -> Point {
    Point::builder("m")
        .tag("host", format!("h{}", i % 10))
        .field("v", i)
        .timestamp_in(1_600_000_000_000_000_000 + i, Precision::Nanoseconds)
        .build()
        .unwrap()
}

/// A writer to `url`, database `db`, no hostname tag, `in_flight` requests at a time; nothing
/// is sent before a trigger or a flush.
fn writer_on(url: &str, db: &str, in_flight: usize) -> WriterBuilder {
    let config = ClientBuilder::from(ClientConfig::from_url(url).unwrap())
        .writes_in_flight(in_flight)
        .into_config();
    BufferedWriter::builder()
        .client(config)
        .database(db)
        .tag_hostname(false)
        .interval(Duration::from_secs(3_600))
}

#[track_caller]
fn assert_adds_up(stats: &Stats) {
    assert!(stats.adds_up(), "counters do not add up: {stats:#?}");
}

/// Waits (at most 30 s) until `done` holds of the writer's stats.
#[track_caller]
fn wait_for(writer: &BufferedWriter, what: &str, done: impl Fn(&Stats) -> bool) -> Stats {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stats = writer.stats();
        if done(&stats) {
            return stats;
        }
        assert!(Instant::now() < deadline, "{what}: {stats:#?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_server_refusing_every_write_with_an_unknown_400_costs_three_requests_a_batch() {
    // A fake HTTP server: influxd refuses lines, not every request alike.
    let fake = FakeServer::start(|_, stream| {
        respond(
            stream,
            "400 Bad Request",
            &[],
            br#"{"error":"writes are off"}"#,
        );
    });
    for (in_flight, most) in [(1, 3), (2, 6)] {
        let before = fake.requests().len();
        let writer = writer_on(fake.url(), "db", in_flight).start().unwrap();
        for i in 0..10_000 {
            assert!(writer.record(point(i)).is_enqueued());
        }
        writer.flush(Duration::from_secs(30)).unwrap();
        let stats = writer.stats();
        let requests = fake.requests().len() - before;
        assert!(
            (3..=most).contains(&requests),
            "{requests} requests for one batch of 10 000 points, {in_flight} in flight"
        );
        assert_eq!(stats.drops.misconfigured, 10_000, "{stats:#?}");
        assert_eq!(stats.flagged.len(), 1);
        assert!(
            stats.flagged[0].reason.contains("writes are off"),
            "{stats:#?}"
        );
        let report = writer.shutdown(Duration::from_secs(1));
        assert_adds_up(&report.stats);
        let text = report.to_string();
        assert!(
            text.contains("10000 dropped: client error 400: writes are off"),
            "{text}"
        );
    }
}

/// A fake HTTP server that answers every write with 204, 50 ms after its request came.
fn slow_fake() -> FakeServer {
    FakeServer::start(|_, stream| {
        std::thread::sleep(Duration::from_millis(50));
        respond(stream, "204 No Content", &[], b"");
    })
}

/// How many requests `fake` received after `since`, once a second has passed for more.
fn requests_after(fake: &FakeServer, since: Instant) -> usize {
    std::thread::sleep(Duration::from_secs(1));
    fake.requests()
        .iter()
        .filter(|r| r.received > since)
        .count()
}

#[test]
fn no_request_is_sent_after_shutdown_or_drop_returns() {
    for shut_down in [true, false] {
        let fake = slow_fake();
        let writer = writer_on(fake.url(), "db", 1)
            .max_batch_size(100)
            .start()
            .unwrap();
        for i in 0..10_000 {
            assert!(writer.record(point(i)).is_enqueued());
        }
        // A hundred requests of 50 ms each are due: the deadline passes first.
        let _ = writer.flush(Duration::from_millis(1));
        wait_for(&writer, "a request went out", |s| s.requests > 0);
        let returned = if shut_down {
            let report = writer.shutdown(Duration::from_millis(200));
            assert!(!report.complete);
            assert!(report.left_over > 0, "{report:?}");
            assert_adds_up(&report.stats);
            Instant::now()
        } else {
            drop(writer);
            Instant::now()
        };
        // The request in flight when it returned may have reached the fake just after.
        let late = requests_after(&fake, returned);
        assert!(late <= 1, "{late} request(s) after it returned");
    }
}

#[test]
fn two_conflicting_points_in_different_halves_are_isolated_within_the_bound() {
    // A real influxd: a batch into a new shard with two points whose field type conflicts
    // with the batch's first.
    let client = fresh("isolate");
    let db = client.database().unwrap().to_owned();
    let writer = writer_on(&influx_testserver::shared().url(), &db, 1)
        .start()
        .unwrap();
    let n = 1_000i64;
    let bad = [n / 4, 3 * n / 4];
    for i in 0..n {
        let b = Point::builder("m").timestamp_in(1_000_000 + i, Precision::Seconds);
        let p = if bad.contains(&i) {
            b.field("v", "text")
        } else {
            b.field("v", i)
        };
        assert!(writer.record(p.build().unwrap()).is_enqueued());
    }
    writer.flush(Duration::from_secs(30)).unwrap();
    let stats = writer.stats();
    assert_eq!((stats.written, stats.rejected), (998, 2), "{stats:#?}");
    let bound = 2 * 2 * 10 + 1; // 2k·log2(n) + 1, log2(1 000) < 10
    assert!(stats.requests <= bound, "{} requests", stats.requests);
    let stored = client.query("SELECT count(v) FROM m").unwrap();
    let count = stored[0]
        .rows()
        .next()
        .unwrap()
        .value(1)
        .and_then(|v| v.as_i64());
    assert_eq!(count, Some(998));
    assert_adds_up(&writer.shutdown(Duration::from_secs(1)).stats);
}

/// `bytes` of zeros, gzip-compressed.
fn gzip_bomb(bytes: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..bytes >> 20 {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap()
}

#[test]
fn a_500_with_a_gzip_bomb_is_an_outage_and_its_body_is_read_to_a_bound() {
    // A fake HTTP server: a 500 whose body inflates to 64 MiB, past the client's 1 MiB
    // max_answer_size.
    let bomb = gzip_bomb(64 << 20);
    let fake = FakeServer::start(move |_, stream| {
        respond(
            stream,
            "500 Internal Server Error",
            &[("Content-Encoding", "gzip")],
            &bomb,
        );
    });
    let config = ClientBuilder::from(ClientConfig::from_url(fake.url()).unwrap())
        .max_answer_size(1 << 20)
        .writes_in_flight(1)
        .into_config();
    let writer = BufferedWriter::builder()
        .client(config)
        .database("db")
        .tag_hostname(false)
        .interval(Duration::from_millis(10))
        .backoff(Duration::from_millis(20), Duration::from_millis(50))
        .start()
        .unwrap();
    for i in 0..1_000 {
        assert!(writer.record(point(i)).is_enqueued());
    }
    let stats = wait_for(&writer, "two failed requests", |s| s.failed_requests >= 2);
    assert_eq!(stats.dropped, 0, "a 5xx is an outage: {stats:#?}");
    assert_eq!(stats.buffered + stats.in_flight, 1_000, "kept for a retry");
    assert!(stats.flagged.is_empty(), "{stats:#?}");
    assert_adds_up(&writer.shutdown(Duration::from_millis(100)).stats);
}

#[test]
fn an_endless_error_body_is_read_to_a_bound() {
    // A fake HTTP server: a 503 whose body never ends.
    let fake = FakeServer::start(|_, stream: &mut TcpStream| {
        let _ = stream.write_all(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n");
        let chunk = vec![b'x'; 64 << 10];
        while stream.write_all(&chunk).is_ok() {}
    });
    let client = Client::builder()
        .host("127.0.0.1")
        .port(fake.port())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    match client.query("SHOW DATABASES") {
        Err(Error::Server {
            status: 503,
            message,
        }) => {
            assert!(message.len() <= 1_100, "{} bytes", message.len());
            assert!(message.ends_with("[message cut]"), "{message}");
        }
        other => panic!("expected the 503, got {other:?}"),
    }
}

#[test]
fn a_64_mib_error_message_is_cut_short_in_errors_stats_and_reports() {
    // A fake HTTP server: a 403 whose JSON `error` member is 64 MiB long.
    let body = {
        let mut body = br#"{"error":""#.to_vec();
        body.resize(body.len() + (64 << 20), b'e');
        body.extend_from_slice(br#""}"#);
        std::sync::Arc::new(body)
    };
    let fake = FakeServer::start(move |_, stream| {
        respond(stream, "403 Forbidden", &[], &body);
    });
    let client = Client::builder()
        .host("127.0.0.1")
        .port(fake.port())
        .build()
        .unwrap();
    match client.query("SHOW DATABASES") {
        Err(Error::Client {
            status: 403,
            message,
        }) => assert!(message.len() <= 1_100, "{} bytes", message.len()),
        other => panic!("expected the 403, got {other:?}"),
    }
    let writer = writer_on(fake.url(), "db", 1).start().unwrap();
    writer.record(point(0));
    writer.flush(Duration::from_secs(30)).unwrap();
    let stats = writer.stats();
    assert_eq!(stats.drops.misconfigured, 1, "{stats:#?}");
    assert!(stats.flagged[0].reason.len() <= 1_100);
    let report = writer.shutdown(Duration::from_secs(1)).to_string();
    assert!(report.len() < 2_000, "{} bytes", report.len());
}

#[test]
fn ever_new_destinations_are_forgotten_once_idle() {
    // A fake HTTP server: influxd has no 5 000 databases to answer 204 for.
    let fake = FakeServer::start(|_, stream| respond(stream, "204 No Content", &[], b""));
    let writer = writer_on(fake.url(), "db", 2).start().unwrap();
    for i in 0..5_000 {
        let mut m = influx_series::writer::Measurement::new(format!("tenant_{i}"), "requests");
        m.set_field("n", 1i64);
        assert!(writer.record(m).is_enqueued());
    }
    writer.flush(Duration::from_secs(60)).unwrap();
    let stats = wait_for(&writer, "idle destinations forgotten", |s| {
        s.destinations <= 64
    });
    assert_eq!(stats.written, 5_000);
    // Recorded to again, a forgotten destination is registered again.
    let mut m = influx_series::writer::Measurement::new("tenant_0", "requests");
    m.set_field("n", 2i64);
    assert!(writer.record(m).is_enqueued());
    writer.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(writer.stats().written, 5_001);
    assert_adds_up(&writer.shutdown(Duration::from_secs(1)).stats);
}

#[test]
fn record_from_a_thread_local_destructor_takes_the_point() {
    // A real influxd.
    let client = fresh("tls_destructor");
    let db = client.database().unwrap().to_owned();
    let writer = writer_on(&influx_testserver::shared().url(), &db, 1)
        .start()
        .unwrap();

    struct RecordOnExit(BufferedWriter);
    impl Drop for RecordOnExit {
        fn drop(&mut self) {
            let outcome = self.0.record(point(1));
            assert!(outcome.is_enqueued(), "{outcome:?}");
        }
    }
    thread_local! {
        static GUARD: std::cell::RefCell<Option<RecordOnExit>> =
            const { std::cell::RefCell::new(None) };
    }
    let w = writer.clone();
    std::thread::spawn(move || {
        // The guard first, so that its destructor runs after the writer's thread-locals are
        // gone (they are destroyed in the reverse order of their first use).
        GUARD.with_borrow_mut(|g| *g = Some(RecordOnExit(w.clone())));
        assert!(w.record(point(0)).is_enqueued());
    })
    .join()
    .unwrap();
    writer.flush(Duration::from_secs(30)).unwrap();
    let stats = writer.stats();
    assert_eq!((stats.recorded, stats.written), (2, 2), "{stats:#?}");
    assert_adds_up(&stats);
}

#[test]
fn a_writer_over_udp_counts_points_as_sent_not_written() {
    // Nothing listens on the port.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = Client::builder().host("127.0.0.1").udp(port).into_config();
    let writer = BufferedWriter::builder()
        .client(config)
        .database("udp")
        .tag_hostname(false)
        .start()
        .unwrap();
    for i in 0..1_000 {
        assert!(writer.record(point(i)).is_enqueued());
    }
    writer.flush(Duration::from_secs(30)).unwrap();
    let report = writer.shutdown(Duration::from_secs(1));
    let stats = &report.stats;
    assert_eq!((stats.sent, stats.written), (1_000, 0), "{stats:#?}");
    assert_adds_up(stats);
    let text = report.to_string();
    assert!(
        text.contains("0 written, 1000 sent over UDP (unacknowledged)"),
        "{text}"
    );
}

fn tls_server() -> &'static Server {
    static SERVER: std::sync::OnceLock<Server> = std::sync::OnceLock::new();
    SERVER.get_or_init(Server::start_with_tls)
}

/// The reason a writer to `url` flags its destination with.
fn flagged_reason(url: &str) -> String {
    let config = ClientBuilder::from(ClientConfig::from_url(url).unwrap())
        .ca_certificate_pem(tls_server().ca_pem().unwrap())
        .into_config();
    let writer = BufferedWriter::builder()
        .client(config)
        .database("db")
        .tag_hostname(false)
        .start()
        .unwrap();
    writer.record(point(0));
    writer.flush(Duration::from_secs(30)).unwrap();
    let stats = writer.shutdown(Duration::from_secs(1)).stats;
    assert_eq!(stats.drops.misconfigured, 1, "{stats:#?}");
    stats.flagged[0].reason.clone()
}

#[test]
fn tls_on_one_side_only_is_flagged_with_a_message_that_says_tls() {
    // Real influxd servers: one that speaks TLS, one that does not.
    let tls_port = tls_server().http_port();
    let reason = flagged_reason(&format!("http://127.0.0.1:{tls_port}"));
    assert!(
        reason.contains("TLS") && reason.contains("https://"),
        "{reason}"
    );
    let plain_port = influx_testserver::shared().http_port();
    let reason = flagged_reason(&format!("https://127.0.0.1:{plain_port}"));
    assert!(reason.contains("TLS"), "{reason}");
    // A certificate the client does not trust.
    let untrusting = Client::builder()
        .host("127.0.0.1")
        .port(tls_port)
        .tls(true)
        .build()
        .unwrap();
    let error = untrusting.ping().unwrap_err().to_string();
    assert!(
        error.contains("TLS") && error.contains("certificate"),
        "{error}"
    );
}

#[test]
fn settings_that_could_never_write_are_refused_at_start() {
    let start = |vars: &'static [(&'static str, &'static str)]| {
        BufferedWriter::builder()
            .from_lookup(move |name| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            })
            .start()
    };
    for (name, value) in [
        ("INFLUXDB_PORT", "0"),
        ("INFLUXDB_MAX_BUFFER_BYTES", "1"),
        ("INFLUXDB_MAX_BATCH_BYTES", "1"),
    ] {
        let vars: &'static [(&'static str, &'static str)] =
            Box::leak(vec![(name, value), ("INFLUXDB_DATABASE", "db")].into_boxed_slice());
        match start(vars) {
            Err(e) => {
                let message = e.to_string();
                assert!(
                    message.contains(name) && message.contains(&format!("`{value}`"))
                        || message.contains(name) && message.contains(value),
                    "{message}"
                );
            }
            Ok(_) => panic!("{name}={value} was taken"),
        }
    }
    // An empty database is no database: a point without one is refused, naming the variable.
    let writer = start(&[
        ("INFLUXDB_DATABASE", ""),
        ("INFLUXDB_TAG_HOSTNAME", "false"),
    ])
    .unwrap();
    match writer.record(point(0)) {
        Recorded::Invalid(e) => assert!(e.to_string().contains("INFLUXDB_DATABASE"), "{e}"),
        other => panic!("{other:?}"),
    }
    writer.shutdown(Duration::from_millis(100));
}

#[test]
fn a_kill_9_of_influxd_mid_stream_loses_nothing_uncounted_and_alters_no_row() {
    // A real influxd, killed with SIGKILL while four threads record, and restarted.
    let mut server = Server::start();
    let client = Client::new(&server.url()).unwrap().with_database("drill");
    client.create_database("drill").unwrap();
    let writer = BufferedWriter::builder()
        .client(ClientConfig::from_url(&server.url()).unwrap())
        .database("drill")
        .tag_hostname(false)
        .interval(Duration::from_millis(50))
        .max_buffer_size(20_000)
        .backoff(Duration::from_millis(50), Duration::from_millis(300))
        .start()
        .unwrap();
    const PER_THREAD: i64 = 50_000;
    let base = 1_600_000_000_000_000_000i64;
    // Set once influxd is killed. A thread that has recorded half its points by then waits
    // for it (60 s at most) before it records the rest: points come after the kill, for a
    // request to fail, however fast the first ones were written.
    let killed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for thread in 0..4i64 {
            let (writer, killed) = (&writer, &killed);
            scope.spawn(move || {
                for i in 0..PER_THREAD {
                    if i == PER_THREAD / 2 {
                        let deadline = Instant::now() + Duration::from_secs(60);
                        while !killed.load(Ordering::SeqCst) && Instant::now() < deadline {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                    let p = Point::builder("m")
                        .tag("thread", thread.to_string())
                        .field("v", thread * 1_000_000 + i)
                        .timestamp_in(base + i, Precision::Nanoseconds)
                        .build()
                        .unwrap();
                    writer.record(p);
                    // A steady pace, so that the kill comes while they record.
                    if i % 50 == 0 {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            });
        }
        wait_for(&writer, "points written before the kill", |s| {
            s.written >= 20_000
        });
        let pid = server.pid().expect("influxd runs");
        let kill = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        killed.store(true, Ordering::SeqCst);
        wait_for(&writer, "a failed request", |s| s.failed_requests > 0);
        server.restart();
    });
    writer.flush(Duration::from_secs(60)).unwrap();
    let report = writer.shutdown(Duration::from_secs(5));
    println!("{report}");
    let stats = &report.stats;
    assert_adds_up(stats);
    assert_eq!(stats.recorded, 4 * PER_THREAD as u64);
    assert!(stats.failed_requests > 0, "the kill was seen: {stats:#?}");
    let sets = client
        .query_with(
            "SELECT v FROM m GROUP BY thread",
            &influx_series::QueryOptions::new().epoch(Precision::Nanoseconds),
        )
        .unwrap();
    let mut stored = 0u64;
    for series in sets[0].series() {
        let thread: i64 = series.tags()["thread"].parse().unwrap();
        for row in series.rows() {
            let values: Vec<_> = row.values().collect();
            let (time, v) = (values[0].as_i64().unwrap(), values[1].as_i64().unwrap());
            assert_eq!(v, thread * 1_000_000 + (time - base), "an altered row");
            stored += 1;
        }
    }
    assert_eq!(
        stored + stats.dropped,
        stats.recorded,
        "stored + dropped = recorded: {stats:#?}"
    );
    assert_eq!(stored, stats.written);
}
