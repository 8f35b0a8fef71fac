//! Every call has a deadline that covers connecting, its retries and the waits between them,
//! up to the answer's head: by default the client's timeout, so that a call to a server that
//! never answers takes one timeout, not one a retry. Played against a **fake server** that
//! accepts connections and never answers (influxd cannot be made to hang), through both
//! clients; the fake counts the connections it accepted, one an attempt.

mod support {
    pub mod api;
}

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use influx_series::{
    Client, ClientBuilder, ClientConfig, Error, QueryOptions, RetryPolicy, Series,
};
use support::api::Api;

/// A fake server that accepts connections, reads what comes, and never answers; it counts
/// the connections it accepted.
fn silent() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut s = stream;
                let mut buf = [0u8; 4096];
                while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    (port, accepted)
}

/// A client of the silent server: a timeout of `timeout`, the default retries (3) with short
/// waits, and `deadline` if given.
fn config(port: u16, timeout: Duration, deadline: Option<Duration>) -> ClientConfig {
    let builder = Client::builder()
        .host("127.0.0.1")
        .port(port)
        .database("db")
        .timeout(timeout)
        .retry(RetryPolicy::new().backoff(Duration::from_millis(10), Duration::from_millis(20)));
    match deadline {
        Some(d) => builder.deadline(d),
        None => builder,
    }
    .into_config()
}

fn a_call_to_a_silent_server_takes_one_timeout_by_default<C: Api>() {
    let (port, accepted) = silent();
    let client = C::connect(config(port, Duration::from_millis(400), None)).unwrap();
    let started = Instant::now();
    let result = client.query("SHOW DATABASES");
    assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "no time left for a retry within the deadline"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

fn a_deadline_longer_than_the_timeout_leaves_room_for_retries_and_no_more<C: Api>() {
    let (port, accepted) = silent();
    let deadline = Duration::from_millis(1_000);
    let client = C::connect(config(port, Duration::from_millis(300), Some(deadline))).unwrap();
    let started = Instant::now();
    let result = client.query("SHOW DATABASES");
    let took = started.elapsed();
    assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
    let attempts = accepted.load(Ordering::SeqCst);
    // 300 ms a try: three whole ones and a last one cut to what is left; fewer on a slow
    // machine, never the four the retries alone would allow past the deadline.
    assert!((2..=4).contains(&attempts), "{attempts} attempts");
    assert!(took < deadline + Duration::from_millis(900), "{took:?}");
}

fn a_stream_waits_for_its_head_no_longer_than_the_deadline<C: Api>() {
    let (port, accepted) = silent();
    let client = C::connect(config(port, Duration::from_millis(400), None)).unwrap();
    let started = Instant::now();
    let result = client.query_stream("SELECT * FROM m", &QueryOptions::new().chunked(10));
    assert!(
        matches!(result, Err(Error::Timeout(_))),
        "{:?}",
        result.map(drop)
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // A deadline shorter than the timeout bounds the head too.
    let short = ClientBuilder::from(config(port, Duration::from_secs(30), None))
        .deadline(Duration::from_millis(300))
        .into_config();
    let client = C::connect(short).unwrap();
    let started = Instant::now();
    let result = client.query_stream("SELECT * FROM m", &QueryOptions::new().chunked(10));
    assert!(
        matches!(result, Err(Error::Timeout(_))),
        "{:?}",
        result.map(drop)
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

both_clients!(
    a_call_to_a_silent_server_takes_one_timeout_by_default,
    a_deadline_longer_than_the_timeout_leaves_room_for_retries_and_no_more,
    a_stream_waits_for_its_head_no_longer_than_the_deadline,
);

#[derive(Series)]
#[series(bulk_size = 1, autocommit)]
struct Waiting {
    v: i64,
}

#[test]
fn an_in_call_autocommit_waits_one_deadline_and_says_the_point_was_taken() {
    let (port, accepted) = silent();
    Waiting::bind(Client::with_config(config(port, Duration::from_millis(400), None)).unwrap());
    let started = Instant::now();
    let err = Waiting { v: 1 }.record().unwrap_err();
    assert!(err.was_recorded(), "{err:?}");
    match &err {
        Error::AutocommitFailed { source } => {
            assert!(matches!(**source, Error::Timeout(_)), "{source:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(Waiting::pending(), 1, "the point stays buffered");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "one attempt");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
