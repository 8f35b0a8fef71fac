//! The request-metrics layer's own cost: a trivial service called in process
//! (`ServiceExt::oneshot`, body read to its end) with and without the layer, interleaved; then,
//! for information, the latency of an axum service over loopback HTTP with and without it.
//! Prints tables.
//!
//! Run: `cargo bench -p influx-series-benches --bench layer`

use std::convert::Infallible;
use std::hint::black_box;
use std::pin::Pin;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::MatchedPath;
use axum::routing::get;
use http::{Request, Response};
use http_body::Body;
use influx_series::ClientConfig;
use influx_series::metrics::RequestMetricsLayer;
use influx_series::writer::BufferedWriter;
use influx_series_benches::rounds::{Variant, interleaved, median, median_duration, min_max};
use tower::{Layer, ServiceExt, service_fn};

/// A writer that sends nothing while measured (its interval is an hour, its budget holds a
/// round); each run clears it.
fn idle_writer(points: usize) -> BufferedWriter {
    BufferedWriter::builder()
        .client(ClientConfig::from_url("http://127.0.0.1:9").unwrap())
        .database("bench")
        .interval(Duration::from_secs(3_600))
        .max_buffer_size(points)
        .trigger_size(points)
        .start()
        .unwrap()
}

/// Reads a body to its end.
async fn drain<B: Body + Unpin>(mut body: B) {
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        black_box(frame.is_ok());
    }
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let n = if smoke { 1_000 } else { 20_000 };
    let (rounds, reps) = if smoke { (1, 1) } else { (9, 5) };
    in_process(n, rounds, reps);
    over_http(if smoke { 100 } else { 2_000 });
}

fn in_process(n: usize, rounds: usize, reps: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let writer = idle_writer(2 * n);
    let trivial = service_fn(|_request: Request<String>| async {
        Ok::<_, Infallible>(Response::new(String::from("ok")))
    });
    let layer = RequestMetricsLayer::new(writer.clone(), "bench")
        .endpoint(|r| Some(r.uri.path().to_owned()))
        .correlation_header("x-request-id");
    let measured = layer.layer(trivial);
    let request = || {
        Request::get("/items/1")
            .header("x-request-id", "abc")
            .body(String::new())
            .unwrap()
    };
    let mut variants = vec![
        Variant {
            name: "trivial service",
            run: Box::new(|| {
                runtime.block_on(async {
                    for _ in 0..n {
                        let response = trivial.oneshot(request()).await.unwrap();
                        drain(response.into_body()).await;
                    }
                })
            }),
        },
        Variant {
            name: "trivial service + RequestMetricsLayer",
            run: Box::new(|| {
                runtime.block_on(async {
                    for _ in 0..n {
                        let response = measured.clone().oneshot(request()).await.unwrap();
                        drain(response.into_body()).await;
                    }
                });
                black_box(writer.clear());
            }),
        },
    ];
    let times = interleaved(&mut variants, rounds, reps);
    let per = |d: Duration| d.as_secs_f64() * 1e9 / n as f64;
    let costs: Vec<f64> = times[0]
        .iter()
        .zip(&times[1])
        .map(|(bare, layered)| per(*layered) - per(*bare))
        .collect();
    let (lo, hi) = min_max(&costs);
    println!("| {n} requests in process, median of {rounds} rounds | time | ns a request |");
    println!("|---|---|---|");
    for (v, t) in variants.iter().zip(&times) {
        let m = median_duration(t);
        println!(
            "| {} | {:.2} ms | {:.0} |",
            v.name,
            m.as_secs_f64() * 1e3,
            per(m)
        );
    }
    println!(
        "\nthe layer's own cost: {:.0} ns a request (min {lo:.0}, max {hi:.0}; target <= 2 000 ns)\n",
        median(costs.clone())
    );
    let stats = writer.stats();
    assert_eq!(stats.recorded, stats.drops.cleared, "{stats:?}");
}

/// p50 and p99 of sequential GETs over loopback HTTP to an axum service without and with the
/// layer, interleaved request by request.
fn over_http(requests: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let writer = idle_writer(2 * requests + 10);
    let routes = || Router::new().route("/items/{id}", get(|| async { "ok" }));
    let layer = RequestMetricsLayer::new(writer.clone(), "bench").endpoint(|r| {
        r.extensions
            .get::<MatchedPath>()
            .map(|p| p.as_str().to_owned())
    });
    let (bare, measured) = runtime.block_on(async {
        let serve = |router: Router| async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
            address
        };
        (serve(routes()).await, serve(routes().layer(layer)).await)
    });
    // influx-series builds reqwest with `rustls-no-provider`: this client of reqwest's own needs
    // a process-wide crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::blocking::Client::new();
    let get = |address: std::net::SocketAddr| {
        let started = Instant::now();
        let response = client
            .get(format!("http://{address}/items/1"))
            .send()
            .unwrap();
        black_box(response.bytes().unwrap());
        started.elapsed()
    };
    for _ in 0..50 {
        get(bare);
        get(measured);
    }
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for _ in 0..requests {
        without.push(get(bare));
        with.push(get(measured));
    }
    let quantile = |samples: &mut Vec<Duration>, q: f64| {
        samples.sort_unstable();
        samples[((samples.len() - 1) as f64 * q) as usize]
    };
    println!("| {requests} GETs over loopback HTTP, interleaved | p50 | p99 |");
    println!("|---|---|---|");
    for (name, samples) in [
        ("axum service", &mut without),
        ("axum service + layer", &mut with),
    ] {
        println!(
            "| {name} | {:.0} us | {:.0} us |",
            quantile(samples, 0.5).as_secs_f64() * 1e6,
            quantile(samples, 0.99).as_secs_f64() * 1e6
        );
    }
    let stats = writer.stats();
    assert_eq!(
        stats.recorded,
        (requests + 50) as u64,
        "one point a request"
    );
}
