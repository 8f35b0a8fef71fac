//! A panic during a write with several requests in flight ends the write with that panic: in
//! the points' iterator (on the calling thread, while the lanes wait for lines) or in a lane
//! (while the calling thread waits for room in its queue). Neither may leave the other waiting
//! for ever.
//!
//! The server is a **fake HTTP server** answering every write with 204: the test is about the
//! client's threads, not what is stored. A lane is made to panic by a `tracing` subscriber,
//! the only user code a lane runs; it is this binary's global subscriber, so these tests live
//! in a file of their own.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use influx_series::{Client, Point, Precision, RetryPolicy, WriteOptions};
use influx_testserver::fake::{FakeServer, respond};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Set by the test that wants its lanes to panic.
static PANIC_IN_LANES: AtomicBool = AtomicBool::new(false);

/// Panics at the first event seen on a lane's thread, once asked to.
struct PanicInLanes;

impl Subscriber for PanicInLanes {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Id::from_u64(NEXT.fetch_add(1, Ordering::Relaxed))
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {
        let in_lane = std::thread::current().name() == Some("influx-write");
        if in_lane && PANIC_IN_LANES.load(Ordering::SeqCst) {
            panic!("a subscriber panicked in a lane");
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn setup() -> Client {
    // Set once for the binary; the second test's call fails harmlessly.
    let _ = tracing::subscriber::set_global_default(PanicInLanes);
    let fake = FakeServer::start(|_request, stream| respond(stream, "204 No Content", &[], b""));
    let client = Client::builder()
        .host("127.0.0.1")
        .port(fake.port())
        .database("db")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(client.config().writes_in_flight(), 2);
    client
}

fn point(i: usize) -> Point {
    Point::builder("m")
        .tag("s", format!("s{}", i % 10))
        .field("v", i as i64)
        .timestamp_in(i as i64, Precision::Nanoseconds)
        .build()
        .unwrap()
}

/// Runs `write` on a thread of its own and returns whether it panicked, or `None` if it had
/// not ended after 30 s.
fn panicked_within_30s(write: impl FnOnce() + Send + 'static) -> Option<bool> {
    let (done, ended) = mpsc::channel();
    std::thread::spawn(move || {
        let panicked = catch_unwind(AssertUnwindSafe(write)).is_err();
        let _ = done.send(panicked);
    });
    ended.recv_timeout(Duration::from_secs(30)).ok()
}

#[test]
fn a_panic_in_the_points_iterator_ends_the_write_with_it() {
    let client = setup();
    let outcome = panicked_within_30s(move || {
        // Far past the first window (two requests of 100): the lanes are sending by then.
        let points = (0..20_000).map(|i| {
            assert!(i != 5_000, "the iterator panicked at point 5 000");
            point(i)
        });
        let _ = client.write_points(points, &WriteOptions::default().batch_size(100));
    });
    assert_eq!(outcome, Some(true), "None: the write hung");
}

#[test]
fn a_panic_in_a_lane_ends_the_write_with_it() {
    let client = setup();
    PANIC_IN_LANES.store(true, Ordering::SeqCst);
    let outcome = panicked_within_30s(move || {
        let points = (0..20_000).map(point);
        let _ = client.write_points(points, &WriteOptions::default().batch_size(100));
    });
    PANIC_IN_LANES.store(false, Ordering::SeqCst);
    assert_eq!(outcome, Some(true), "None: the write hung");
}
