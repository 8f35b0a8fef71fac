//! Every call has a deadline that covers connecting, its retries and the waits between them,
//! up to the answer's head: by default the client's timeout, so that a call to a server that
//! never answers takes one timeout, not one a retry. Played against a **fake server** that
//! accepts connections and never answers (influxd cannot be made to hang), through both
//! clients; the fake counts the connections it accepted, one an attempt.

mod support {
    pub mod api;
}

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use influx_series::{
    Client, ClientBuilder, ClientConfig, Error, QueryOptions, RetryPolicy, Series,
};
use support::api::Api;

/// A fake server that accepts connections, reads what comes, and never answers; it keeps the
/// address of each connection it accepted, in order.
struct Silent {
    port: u16,
    accepted: Arc<Mutex<Vec<SocketAddr>>>,
    /// The connections [`Silent::attempts`] made itself.
    probes: Mutex<Vec<SocketAddr>>,
}

fn silent() -> Silent {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // A connection the client already closed still counts (unspecified address).
            let peer = stream
                .peer_addr()
                .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
            seen.lock().unwrap().push(peer);
            std::thread::spawn(move || {
                let mut s = stream;
                let mut buf = [0u8; 4096];
                while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    Silent {
        port,
        accepted,
        probes: Mutex::new(Vec::new()),
    }
}

impl Silent {
    /// The connections clients made so far, one an attempt. A call's connections were all
    /// made when it returns, but the accepting thread may not have taken them yet: this
    /// connects once more itself and waits until that connection is taken, which is after
    /// every earlier one (the kernel hands them over in order).
    fn attempts(&self) -> usize {
        let probe = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let me = probe.local_addr().unwrap();
        let mut probes = self.probes.lock().unwrap();
        probes.push(me);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            {
                let accepted = self.accepted.lock().unwrap();
                if let Some(at) = accepted.iter().position(|a| *a == me) {
                    return accepted[..at]
                        .iter()
                        .filter(|a| !probes.contains(a))
                        .count();
                }
            }
            assert!(
                Instant::now() < deadline,
                "the fake did not accept a connection within 30 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
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
    let silent = silent();
    let client = C::connect(config(silent.port, Duration::from_millis(400), None)).unwrap();
    let started = Instant::now();
    let result = client.query("SHOW DATABASES");
    let took = started.elapsed();
    assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
    assert_eq!(
        silent.attempts(),
        1,
        "no time left for a retry within the deadline"
    );
    // Not held for good by a server that never answers (the count above tells one timeout
    // from several).
    assert!(took < Duration::from_secs(15), "{took:?}");
}

fn a_deadline_longer_than_the_timeout_leaves_room_for_retries_and_no_more<C: Api>() {
    let silent = silent();
    // 1 s a try against a deadline of 4.5 s: four whole tries and a fifth cut to what is
    // left, never a sixth (five whole tries take longer than the deadline); fewer on a slow
    // machine, but always a retry, the first try ending 3.5 s before the deadline. Without
    // the deadline the 20 retries would take 21 tries and 21 s.
    let deadline = Duration::from_millis(4_500);
    let config = ClientBuilder::from(config(silent.port, Duration::from_secs(1), Some(deadline)))
        .retry(
            RetryPolicy::new()
                .retries(20)
                .backoff(Duration::from_millis(10), Duration::from_millis(20)),
        )
        .into_config();
    let client = C::connect(config).unwrap();
    let started = Instant::now();
    let result = client.query("SHOW DATABASES");
    let took = started.elapsed();
    assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
    let attempts = silent.attempts();
    assert!((2..=5).contains(&attempts), "{attempts} attempts");
    assert!(took < Duration::from_secs(15), "{took:?}");
}

/// How long opening a stream on `config`'s silent server took to fail, which it must with
/// [`Error::Timeout`].
fn stream_head_timeout<C: Api>(config: ClientConfig) -> Duration {
    let client = C::connect(config).unwrap();
    let started = Instant::now();
    let result = client.query_stream("SELECT * FROM m", &QueryOptions::new().chunked(10));
    let took = started.elapsed();
    assert!(
        matches!(result, Err(Error::Timeout(_))),
        "{:?}",
        result.map(drop)
    );
    took
}

fn a_stream_waits_for_its_head_no_longer_than_the_deadline<C: Api>() {
    let silent = silent();
    let took = stream_head_timeout::<C>(config(silent.port, Duration::from_millis(400), None));
    assert_eq!(silent.attempts(), 1);
    // Unbounded, the wait for a head that never comes would not end.
    assert!(took < Duration::from_secs(15), "{took:?}");
    // A deadline shorter than the timeout bounds the head too: well before the timeout.
    let short = ClientBuilder::from(config(silent.port, Duration::from_secs(30), None))
        .deadline(Duration::from_millis(300))
        .into_config();
    let took = stream_head_timeout::<C>(short);
    assert!(took < Duration::from_secs(10), "{took:?}");
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
    let silent = silent();
    Waiting::bind(
        Client::with_config(config(silent.port, Duration::from_millis(400), None)).unwrap(),
    );
    let started = Instant::now();
    let err = Waiting { v: 1 }.record().unwrap_err();
    let took = started.elapsed();
    assert!(err.was_recorded(), "{err:?}");
    match &err {
        Error::AutocommitFailed { source } => {
            assert!(matches!(**source, Error::Timeout(_)), "{source:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(Waiting::pending(), 1, "the point stays buffered");
    assert_eq!(silent.attempts(), 1, "one attempt");
    // Not held for good by a server that never answers.
    assert!(took < Duration::from_secs(15), "{took:?}");
}
