//! A small axum service whose every request becomes a point in InfluxDB (sprockets-influxdb's
//! mixin, as a tower layer), written by the buffered writer, which is configured from the
//! environment and flushed within a deadline on graceful shutdown.
//!
//! Routes: `GET /items/{id}` (a short wait, then the item; `error` makes the handler fail,
//! `panic` makes it panic) and `GET /stream/{n}` (`n` chunks, 10 ms apart). Anything else is a
//! 404.
//!
//! ```text
//! INFLUXDB_URL=http://127.0.0.1:8086 INFLUXDB_DATABASE=web PORT=3000 web_service
//! web_service --demo   # serves, calls itself a few times, shuts down, shows the points
//! ```
//!
//! It stops on Ctrl-C or SIGTERM: the server finishes the requests under way, then the writer
//! sends what it holds, within 5 s.
//!
//! Points of a service's own (a `#[derive(Series)]` type a handler records) go the same way:
//! bind the type to the writer (`Type::bind_writer(&writer)`), or give it
//! `autocommit = "background"`, so that `record()` never waits for InfluxDB. With `autocommit`
//! in the calling thread, the handler whose `record()` reaches `bulk_size` would wait for the
//! write (up to the client's deadline, 30 s by default), and an outage would turn into failed
//! requests.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Path};
use axum::http::StatusCode;
use axum::routing::get;
use influx_series::metrics::RequestMetricsLayer;
use influx_series::writer::BufferedWriter;
use tower_http::catch_panic::CatchPanicLayer;

/// The measurement: sprockets uses the service's name.
const MEASUREMENT: &str = "web-service";

async fn item(Path(id): Path<String>) -> Result<String, (StatusCode, String)> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    match id.as_str() {
        "error" => Err((StatusCode::INTERNAL_SERVER_ERROR, "it failed".into())),
        "panic" => panic!("a handler that panics"),
        id if id.parse::<u32>().is_ok() => Ok(format!("{{\"id\":{id},\"name\":\"item {id}\"}}")),
        _ => Err((StatusCode::NOT_FOUND, "no such item".into())),
    }
}

async fn stream(Path(n): Path<u32>) -> Body {
    let chunks = futures_util::stream::unfold(0, move |i| async move {
        if i == n {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        Some((Ok::<_, std::io::Error>(format!("chunk {i:04}\n")), i + 1))
    });
    Body::from_stream(chunks)
}

/// The service: two routes, panics turned into 500s, and the metrics layer outside them.
fn app(writer: BufferedWriter) -> Router {
    let metrics = RequestMetricsLayer::new(writer, MEASUREMENT)
        .endpoint(|request| {
            request
                .extensions
                .get::<MatchedPath>()
                .map(|path| path.as_str().to_owned())
        })
        .correlation_header("x-request-id");
    Router::new()
        .route("/items/{id}", get(item))
        .route("/stream/{n}", get(stream))
        .layer(CatchPanicLayer::new())
        .layer(metrics)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM");
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = std::env::args().any(|a| a == "--demo");
    // One line for a handler's panic (the demo makes one on purpose), not a backtrace.
    std::panic::set_hook(Box::new(|info| eprintln!("handler panicked: {info}")));
    // INFLUXDB_URL, INFLUXDB_DATABASE, INFLUXDB_INTERVAL, ENVIRONMENT, ...
    let mut builder = BufferedWriter::builder().from_env();
    if demo {
        builder = builder.database("web_demo");
    }
    let writer = builder.start()?;
    let port: u16 = std::env::var("PORT").map_or(Ok(0), |p| p.parse())?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    println!("listening on http://{address}");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, app(writer.clone()))
            .with_graceful_shutdown(async move {
                tokio::select! {
                    _ = shutdown_signal() => {}
                    _ = stopped => {}
                }
            })
            .into_future(),
    );

    // Kept until the server is done: dropping it would stop the server.
    let mut stop = Some(stop);
    let mut admin = None;
    if demo {
        let url = std::env::var("INFLUXDB_URL").unwrap_or_else(|_| "http://127.0.0.1:8086".into());
        let client = influx_series::AsyncClient::new(&url)?.with_database("web_demo");
        client.create_database("web_demo").await?;
        // influx-series brings its own TLS configuration (rustls on ring) and so builds reqwest with
        // `rustls-no-provider`: a reqwest client of this crate's own, whose reqwest has no TLS
        // feature, needs a process-wide crypto provider (the README's feature table says so).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        for path in [
            "/items/1",
            "/items/2",
            "/items/error",
            "/items/panic",
            "/nope",
            "/stream/3",
        ] {
            let response = http.get(format!("http://{address}{path}")).send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            println!("GET {path} -> {status}, {} bytes", body.len());
        }
        if let Some(stop) = stop.take() {
            let _ = stop.send(());
        }
        admin = Some(client);
    }

    server.await??;
    drop(stop);
    // The server has finished every request: send what the writer holds, within 5 s.
    let report =
        tokio::task::spawn_blocking(move || writer.shutdown(Duration::from_secs(5))).await?;
    println!(
        "shutdown: complete {}, {} written, {} left over, {} dropped",
        report.complete, report.stats.written, report.left_over, report.stats.dropped
    );

    if let Some(client) = admin {
        let sets = client
            .query(&format!(
                "SELECT content_length, \"duration\", status_code FROM \"{MEASUREMENT}\" GROUP BY endpoint"
            ))
            .await?;
        for series in sets[0].series() {
            for row in series.rows() {
                let cells: Vec<_> = row.values().collect();
                println!(
                    "{}: status {}, {} bytes, {:.1} ms",
                    series.tags()["endpoint"],
                    cells[3].as_str().unwrap_or_default(),
                    cells[1].as_i64().unwrap_or_default(),
                    cells[2].as_f64().unwrap_or_default() * 1e3
                );
            }
        }
        client.drop_database("web_demo").await?;
    }
    Ok(())
}
