//! How requests reach a server: through a proxy, with extra headers or a token, and with the
//! password kept out of every URL, log line, span, error and `Debug` rendering.
//!
//! The proxy is a **fake HTTP server** (`influx_testserver::fake`) that records what reaches
//! it; the rest runs against real influxd servers, one of them checking credentials.

mod support {
    pub mod api;
    pub mod trace;
}

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use influx_series::{Client, Error, RetryPolicy, WriteOptions};
use influx_testserver::fake::{FakeServer, respond};
use influx_testserver::{ADMIN_PASSWORD, ADMIN_USER, Server};
use support::api::Api;
use support::trace::Capture;

const SECRET: &str = "hunter2-Pa55";

fn proxy_answering_204() -> FakeServer {
    FakeServer::start(|_request, stream| respond(stream, "204 No Content", &[], b""))
}

fn requests_go_through_the_proxy_with_its_credentials<C: Api>() {
    let proxy = proxy_answering_204();
    let proxy_url = format!("http://proxy-user:{SECRET}@127.0.0.1:{}", proxy.port());
    let config = Client::builder()
        .host("127.0.0.1")
        .port(9)
        .proxy(proxy_url)
        .database("db")
        .into_config();
    assert!(!format!("{config:?}").contains(SECRET), "{config:?}");
    let client = C::connect(config).unwrap();
    client
        .write_raw("m v=1 1", &WriteOptions::default())
        .unwrap();
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0]
            .request_line
            .starts_with("POST http://127.0.0.1:9/write?db=db"),
        "{}",
        requests[0].request_line
    );
    let auth = requests[0].header("Proxy-Authorization").unwrap();
    assert!(auth.starts_with("Basic "), "{auth}");
    assert!(!requests[0].request_line.contains(SECRET));
}

fn a_bad_proxy_url_is_a_configuration_error_that_hides_it<C: Api>() {
    let result = C::connect(
        Client::builder()
            .proxy(format!("not a url {SECRET}"))
            .into_config(),
    );
    match result {
        Err(e @ Error::Config(_)) => assert!(!format!("{e} {e:?}").contains(SECRET)),
        other => panic!("{other:?}"),
    }
}

fn extra_headers_and_a_token_are_sent<C: Api>() {
    let fake = proxy_answering_204();
    let config = Client::builder()
        .host("127.0.0.1")
        .port(fake.port())
        .token(SECRET)
        .header("X-Tenant", "acme")
        .header("X-Api-Key", SECRET)
        .database("db")
        .into_config();
    assert!(!format!("{config:?}").contains(SECRET), "{config:?}");
    let client = C::connect(config).unwrap();
    client
        .write_raw("m v=1 1", &WriteOptions::default())
        .unwrap();
    let request = &fake.requests()[0];
    assert_eq!(request.header("X-Tenant"), Some("acme"));
    assert_eq!(request.header("X-Api-Key"), Some(SECRET));
    assert_eq!(
        request.header("Authorization"),
        Some(format!("Token {SECRET}").as_str())
    );

    // Basic credentials, from a URL: in the Authorization header only, never in the URL.
    let url = format!("http://alice:{SECRET}@127.0.0.1:{}?db=db", fake.port());
    let client = C::connect_url(&url).unwrap();
    client.query("SHOW DATABASES").ok();
    let request = fake.requests().pop().unwrap();
    assert!(
        request.request_line.starts_with("GET /query?"),
        "{}",
        request.request_line
    );
    assert!(!request.request_line.contains(SECRET));
    assert!(!request.request_line.contains("alice"));
    assert!(
        request
            .header("Authorization")
            .unwrap()
            .starts_with("Basic ")
    );

    let bad = C::connect(Client::builder().header("Bad Name", "v").into_config());
    assert!(matches!(bad, Err(Error::Config(_))), "{bad:?}");
}

/// A fake HTTP server (influxd cannot count its connections) that keeps each connection open
/// for more requests, answering every one `204`; it counts the connections it accepted.
fn keep_alive_fake() -> (u16, Arc<AtomicU64>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    // The request's head, then its body by Content-Length.
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
                        return;
                    }
                    let answer = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
                    if writer.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, accepted)
}

/// The pool size bounds the idle connections kept: with none kept, every request opens one;
/// by default, one connection serves request after request.
fn the_pool_size_bounds_the_connections_kept<C: Api>() {
    for (pool, expected) in [(None, 1), (Some(0), 5)] {
        let (port, accepted) = keep_alive_fake();
        let mut builder = Client::builder()
            .host("127.0.0.1")
            .port(port)
            .database("db");
        if let Some(n) = pool {
            builder = builder.pool_size(n);
        }
        let client = C::connect(builder.into_config()).unwrap();
        for i in 0..5 {
            client
                .write_raw(&format!("m v={i} {i}"), &WriteOptions::default())
                .unwrap();
        }
        // Exactly one by default for the async client too: hyper puts a connection back in
        // its pool at once when the connection is idle by the time the answer is handed over,
        // and here it is (on the test's runtime of one thread, the connection's task is done
        // with the answer before the call resumes). Each connection was counted before its
        // first answer was sent.
        assert_eq!(accepted.load(Ordering::SeqCst), expected, "pool {pool:?}");
    }
}

/// Keeps two subscribers that take nothing registered with `tracing` until the process ends.
/// While one subscriber alone is registered, `tracing` works out the interest of a call site
/// reached for the first time from the subscriber of the thread that reached it: another test
/// of this binary (or the other client's untraced run) reaching a call site first, while a
/// traced run is under way, would switch it off for that run's `Capture` too. With two or
/// more registered, it asks each of them, the traced run's included.
fn keep_subscribers_registered() {
    static KEPT: OnceLock<[tracing::Dispatch; 2]> = OnceLock::new();
    KEPT.get_or_init(|| {
        std::array::from_fn(
            |_| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()),
        )
    });
}

/// With credentials checked by a real server: a wrong password, a right one, a retried
/// failure and a failover, all traced; the password shows nowhere.
fn the_password_appears_nowhere<C: Api>() {
    keep_subscribers_registered();
    // Once untraced first, so that every call site the traced run passes is registered before
    // its interest is looked at again: a call site first reached by a test of this binary
    // running meanwhile without a subscriber, while this one installs its own, can otherwise
    // keep "never" (tracing computes a new call site's interest before it lists it, so a
    // rebuild in between misses it).
    password_everywhere::<C>(&Server::start_with_auth());
    let server = Server::start_with_auth();
    let capture = Capture::default();
    let seen = tracing::subscriber::with_default(capture.clone(), || {
        tracing::callsite::rebuild_interest_cache();
        password_everywhere::<C>(&server)
    });
    let traced = capture.text();
    assert!(traced.contains("span influxdb.request"), "{traced}");
    assert!(traced.contains("retrying"), "{traced}");
    assert!(traced.contains("host unreachable"), "{traced}");
    assert!(!traced.contains(SECRET), "{traced}");
    assert!(!traced.contains(ADMIN_PASSWORD), "{traced}");
    assert!(!seen.contains(SECRET), "{seen}");
    assert!(!seen.contains(ADMIN_PASSWORD), "{seen}");
}

/// A wrong password, a right one after a dead first host, and retries against a dead server,
/// on `server`; what the errors and clients display.
fn password_everywhere<C: Api>(server: &Server) -> String {
    let mut seen = String::new();
    // A wrong password: 401.
    let wrong = C::connect(
        Client::builder()
            .port(server.http_port())
            .credentials(ADMIN_USER, SECRET)
            .into_config(),
    )
    .unwrap();
    let err = wrong.list_databases().unwrap_err();
    assert!(matches!(err, Error::Client { status: 401, .. }), "{err:?}");
    seen.push_str(&format!("{err} {err:?} {wrong:?}"));

    // The right one, after a dead first host, with retries.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let dsn = format!(
        "influxdb://{ADMIN_USER}:{ADMIN_PASSWORD}@127.0.0.1:{dead_port},127.0.0.1:{}/db",
        server.http_port()
    );
    let admin = C::connect(influx_series::ClientConfig::from_dsn(&dsn).unwrap()).unwrap();
    admin.create_user("someone", SECRET).unwrap();
    admin.create_database("db").unwrap();
    admin
        .write_raw("m v=1 1", &WriteOptions::default())
        .unwrap();
    seen.push_str(&format!("{admin:?}"));

    // Retries against a dead server, then the error.
    let retried = C::connect(
        Client::builder()
            .port(dead_port)
            .credentials(ADMIN_USER, SECRET)
            .retry(RetryPolicy::new().backoff(Duration::from_millis(1), Duration::from_millis(2)))
            .into_config(),
    )
    .unwrap();
    let err = retried.ping().unwrap_err();
    seen.push_str(&format!(
        "{err} {err:?} {:?}",
        std::error::Error::source(&err)
    ));
    seen
}

both_clients!(
    requests_go_through_the_proxy_with_its_credentials,
    a_bad_proxy_url_is_a_configuration_error_that_hides_it,
    extra_headers_and_a_token_are_sent,
    the_pool_size_bounds_the_connections_kept,
    the_password_appears_nowhere,
);
