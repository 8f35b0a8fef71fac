//! Error chains: `source()` reaches the lower-level error (an `std::io::Error` can be downcast),
//! and a reporter that walks the chain prints every message once. Each test body runs once
//! per client (`blocking::` and `asynchronous::`).

mod support {
    pub mod api;
}

use std::error::Error as StdError;
use std::time::Duration;

use influx_series::{Client, Error, Point, WriteOptions};
use influx_testserver::fake::{FakeServer, respond};
use support::api::Api;

/// The messages of `err` and its sources, outermost first.
fn chain(err: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        out.push(e.to_string());
        source = e.source();
    }
    out
}

/// No message of the chain repeats the one below it (the rule of the Rust API guidelines: a
/// cause is printed or handed out, not both).
fn printed_once(err: &(dyn StdError + 'static)) {
    let messages = chain(err);
    for pair in messages.windows(2) {
        assert!(!pair[0].contains(&pair[1]), "printed twice: {messages:#?}");
    }
}

fn io_error_in(err: &(dyn StdError + 'static)) -> Option<std::io::ErrorKind> {
    let mut source: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = e.source();
    }
    None
}

fn a_refused_connection_leads_to_the_io_error<C: Api>() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = C::connect_url(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .ping()
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(chain(&err).len() > 1, "{:?}", chain(&err));
    assert_eq!(
        io_error_in(&err),
        Some(std::io::ErrorKind::ConnectionRefused),
        "{:#?}",
        chain(&err)
    );
    printed_once(&err);
}

fn a_timeout_has_its_cause_below_it<C: Api>() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _held = std::thread::spawn(move || {
        let streams: Vec<_> = listener.incoming().take(1).collect();
        std::thread::sleep(Duration::from_secs(5));
        drop(streams);
    });
    let err = C::connect(
        Client::builder()
            .host("127.0.0.1")
            .port(port)
            .timeout(Duration::from_millis(200))
            .into_config(),
    )
    .unwrap()
    .ping()
    .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert!(chain(&err).len() > 1, "{:?}", chain(&err));
    printed_once(&err);
}

fn wrapped_errors_are_printed_once<C: Api>() {
    // An encoding error is printed by the error that wraps it.
    let bad = Point::builder("m").tag("t", "a").field("t", 1i64).build();
    let err: Error = bad.unwrap_err().into();
    assert!(err.to_string().contains("a tag has the same key"), "{err}");
    assert!(err.source().is_none());
    printed_once(&err);

    // A write of several requests that stopped hands out what stopped it. (A fake server:
    // a real influxd cannot be made to fail the second request of a call on demand.)
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = answered.clone();
    let fake = FakeServer::start(move |_, stream| {
        if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            respond(stream, "204 No Content", &[], b"");
        } else {
            respond(
                stream,
                "503 Service Unavailable",
                &[],
                b"{\"error\":\"overloaded\"}",
            );
        }
    });
    let points: Vec<Point> = (0..4)
        .map(|i| Point::builder("m").field("v", i).build().unwrap())
        .collect();
    // One request at a time, so that the first is the one answered with 204.
    let config = influx_series::ClientConfig::from_url(fake.url()).unwrap();
    let one_at_a_time = influx_series::ClientBuilder::from(config).writes_in_flight(1);
    let err = C::connect(one_at_a_time.into_config())
        .unwrap()
        .write_points(&points, &WriteOptions::new("db").batch_size(2))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Interrupted {
                written_before: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        err.source().and_then(|s| s.downcast_ref::<Error>()),
        Some(Error::Server { status: 503, .. })
    ));
    printed_once(&err);
}

both_clients!(
    a_refused_connection_leads_to_the_io_error,
    a_timeout_has_its_cause_below_it,
    wrapped_errors_are_printed_once,
);
