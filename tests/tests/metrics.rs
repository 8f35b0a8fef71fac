//! The request-metrics layer around services called in process (`tower::ServiceExt::oneshot`),
//! its points read back from influxd: hooks and tags, a service error, a panic inside the
//! layer, a response future dropped before the answer, a body dropped midway, and an empty body
//! a server never polls.

mod support {
    pub mod db;
}

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame};
use influx_series::metrics::{RequestMetricsLayer, UNMATCHED};
use influx_series::writer::BufferedWriter;
use influx_series::{Client, ClientConfig, Value};
use support::db::fresh;
use tower::{Layer, ServiceExt, service_fn};

/// A body of `chunks` frames of 10 bytes, each after a yield to the runtime.
struct Chunks {
    left: usize,
    yielded: bool,
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        if !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.yielded = false;
        self.left -= 1;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"0123456789")))))
    }
}

/// Reads `frames` frames of a body (all of them with `usize::MAX`); returns the bytes.
async fn read<B: Body + Unpin>(body: &mut B, frames: usize) -> usize {
    let mut bytes = 0;
    for _ in 0..frames {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await;
        match frame {
            Some(Ok(frame)) => {
                bytes += frame.data_ref().map_or(0, bytes::Buf::remaining);
            }
            _ => break,
        }
    }
    bytes
}

fn writer(client: &Client) -> BufferedWriter {
    let server = influx_testserver::shared();
    BufferedWriter::builder()
        .client(ClientConfig::from_url(&server.url()).unwrap())
        .database(client.database().unwrap())
        .tag_hostname(false)
        .tag("zone", "z1")
        .tag("region", "from-writer")
        .interval(Duration::from_millis(20))
        .start()
        .unwrap()
}

/// The points written, as column -> text.
fn points(client: &Client, writer: &BufferedWriter) -> Vec<BTreeMap<String, String>> {
    writer.flush(Duration::from_secs(10)).unwrap();
    let sets = client.query("SELECT * FROM api").unwrap();
    let Some(series) = sets[0].series().first() else {
        return Vec::new();
    };
    series
        .rows()
        .map(|row| {
            series
                .columns()
                .iter()
                .zip(row.values())
                .filter(|(_, v)| !matches!(v, Value::Null))
                .map(|(c, v)| {
                    let text = match v {
                        Value::String(s) => s.to_string(),
                        other => format!("{other}"),
                    };
                    (c.clone(), text)
                })
                .collect()
        })
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Where a test puts the route pattern, as a router would.
#[derive(Clone)]
struct Route(&'static str);

#[test]
fn tags_hooks_and_the_route_pattern_are_recorded() {
    let client = fresh("metrics_tags");
    let writer = writer(&client);
    let layer = RequestMetricsLayer::new(writer.clone(), "api")
        .environment("test")
        .correlation_header("x-correlation-id")
        .endpoint(|r| r.extensions.get::<Route>().map(|route| route.0.to_owned()))
        .tag("service", "catalog")
        .tag("region", "from-layer")
        .on_request(|r, extra| {
            extra.tag("version", r.uri.query().unwrap_or("none"));
            if r.method == http::Method::GET {
                extra.tag("service", "from-hook");
            }
        })
        .on_response(|r, extra| {
            extra.field("json", r.headers.contains_key("content-type"));
        });
    let service = layer.layer(service_fn(|_request: Request<String>| async {
        Ok::<_, Infallible>(
            Response::builder()
                .status(StatusCode::CREATED)
                .header("content-type", "application/json")
                .body(String::from("{\"id\":1}"))
                .unwrap(),
        )
    }));
    runtime().block_on(async {
        let mut request = Request::post("/items/1?v2").header("x-correlation-id", "abc-1");
        request = request.extension(Route("/items/{id}"));
        let response = service
            .clone()
            .oneshot(request.body(String::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let mut body = response.into_body();
        assert_eq!(read(&mut body, usize::MAX).await, 8);
        drop(body);
        // No route pattern known: the fallback, never the raw path. A hostile correlation id
        // of 5 000 bytes: at most 128 kept.
        let long = "x".repeat(5_000);
        let response = service
            .oneshot(
                Request::get("/items/2")
                    .header(
                        "x-correlation-id",
                        http::HeaderValue::from_bytes(long.as_bytes()).unwrap(),
                    )
                    .body(String::new())
                    .unwrap(),
            )
            .await
            .unwrap();
        read(&mut response.into_body(), usize::MAX).await;
    });
    let points = points(&client, &writer);
    assert_eq!(points.len(), 2, "{points:#?}");
    let p = points
        .iter()
        .find(|p| p["method"] == "POST")
        .expect("the POST");
    assert_eq!(p["endpoint"], "/items/{id}");
    assert_eq!(p["status_code"], "201");
    assert_eq!(p["content_length"], "8");
    assert_eq!(p["correlation_id"], "abc-1");
    assert_eq!(p["environment"], "test");
    assert_eq!(p["service"], "catalog");
    assert_eq!(p["version"], "v2");
    assert_eq!(p["json"], "true");
    // The writer's tags where the request has none; the layer's own where it has.
    assert_eq!(
        (p["zone"].as_str(), p["region"].as_str()),
        ("z1", "from-layer")
    );
    let g = points.iter().find(|p| p["method"] == "GET").unwrap();
    assert_eq!(
        g["service"], "from-hook",
        "a hook's tag wins over a static one"
    );
    assert_eq!(g["endpoint"], UNMATCHED);
    assert_eq!(g["correlation_id"], "x".repeat(128), "the first 128 bytes");
}

#[test]
fn an_error_a_panic_a_dropped_future_and_a_dropped_body_are_all_recorded() {
    let client = fresh("metrics_failures");
    let writer = writer(&client);
    let layer =
        RequestMetricsLayer::new(writer.clone(), "api").endpoint(|r| Some(r.uri.path().to_owned()));
    runtime().block_on(async {
        // The service fails.
        let failing = layer.layer(service_fn(|_r: Request<String>| async {
            Err::<Response<String>, _>(std::io::Error::other("down"))
        }));
        let request = Request::get("/error").body(String::new()).unwrap();
        assert!(failing.oneshot(request).await.is_err());

        // The handler panics inside the layer (no CatchPanicLayer): the unwinding is seen.
        let panicking = layer.layer(service_fn(|_r: Request<String>| async {
            if true {
                panic!("a handler that panics");
            }
            Ok::<Response<String>, Infallible>(Response::new(String::new()))
        }));
        let request = Request::get("/panic").body(String::new()).unwrap();
        let unwound = std::panic::AssertUnwindSafe(panicking.oneshot(request))
            .catch_unwind()
            .await;
        assert!(unwound.is_err());

        // The client goes away before the answer: the future is dropped.
        let slow = layer.layer(service_fn(|_r: Request<String>| async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok::<Response<String>, Infallible>(Response::new(String::new()))
        }));
        let request = Request::get("/slow").body(String::new()).unwrap();
        let timed_out =
            tokio::time::timeout(Duration::from_millis(30), slow.oneshot(request)).await;
        assert!(timed_out.is_err());

        // The client goes away midway through the body: 3 frames of 10 read, then dropped.
        let streaming = layer.layer(service_fn(|_r: Request<String>| async {
            Ok::<_, Infallible>(Response::new(Chunks {
                left: 100,
                yielded: false,
            }))
        }));
        let request = Request::get("/stream").body(String::new()).unwrap();
        let mut body = streaming.oneshot(request).await.unwrap().into_body();
        assert_eq!(read(&mut body, 3).await, 30);
        drop(body);

        // An empty body the server may never poll: recorded when the head is made.
        let empty = layer.layer(service_fn(|_r: Request<String>| async {
            Ok::<_, Infallible>(
                Response::builder()
                    .status(StatusCode::NO_CONTENT)
                    .body(String::new())
                    .unwrap(),
            )
        }));
        let request = Request::get("/empty").body(String::new()).unwrap();
        let response = empty.oneshot(request).await.unwrap();
        std::mem::forget(response);
    });
    let points = points(&client, &writer);
    let by_endpoint: BTreeMap<&str, &BTreeMap<String, String>> =
        points.iter().map(|p| (p["endpoint"].as_str(), p)).collect();
    assert_eq!(by_endpoint.len(), 5, "{points:#?}");
    let error = by_endpoint["/error"];
    assert_eq!(
        (
            error["status_code"].as_str(),
            error["content_length"].as_str()
        ),
        ("500", "0")
    );
    assert!(!error.contains_key("cancelled"));
    let panic = by_endpoint["/panic"];
    assert_eq!(panic["status_code"], "500");
    let slow = by_endpoint["/slow"];
    assert_eq!(slow["cancelled"], "true");
    assert!(
        !slow.contains_key("status_code"),
        "no status was made: {slow:?}"
    );
    assert!(slow["duration"].parse::<f64>().unwrap() >= 0.030);
    let stream = by_endpoint["/stream"];
    assert_eq!(stream["cancelled"], "true");
    assert_eq!(stream["status_code"], "200");
    assert_eq!(stream["content_length"], "30", "the bytes the body yielded");
    let empty = by_endpoint["/empty"];
    assert_eq!(
        (
            empty["status_code"].as_str(),
            empty["content_length"].as_str()
        ),
        ("204", "0")
    );
    assert!(!empty.contains_key("cancelled"));
    assert!(writer.stats().adds_up());
}

#[test]
fn a_response_hook_that_panics_still_leaves_the_point() {
    let client = fresh("metrics_hook_panic");
    let writer = writer(&client);
    let layer = RequestMetricsLayer::new(writer.clone(), "api").on_response(|r, _extra| {
        if r.status == StatusCode::IM_A_TEAPOT {
            panic!("a hook that panics");
        }
    });
    let service = layer.layer(service_fn(|_r: Request<String>| async {
        Ok::<_, Infallible>(
            Response::builder()
                .status(StatusCode::IM_A_TEAPOT)
                .body(String::from("tea"))
                .unwrap(),
        )
    }));
    runtime().block_on(async {
        let request = Request::get("/tea").body(String::new()).unwrap();
        let unwound = std::panic::AssertUnwindSafe(service.oneshot(request))
            .catch_unwind()
            .await;
        assert!(unwound.is_err());
    });
    let points = points(&client, &writer);
    assert_eq!(points.len(), 1, "{points:#?}");
    assert_eq!(points[0]["status_code"], "500");
}
