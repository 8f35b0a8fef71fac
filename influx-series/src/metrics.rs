//! Request metrics for HTTP services: sprockets-influxdb's Tornado mixin as a
//! [`tower::Layer`](https://docs.rs/tower-layer/0.3/tower_layer/trait.Layer.html), so one layer
//! serves axum, hyper and tonic services alike.
//!
//! [`RequestMetricsLayer`] wraps any `tower::Service<http::Request<B>>` and records one point a
//! finished request into a [`BufferedWriter`]: never blocking the request (recording is
//! [`BufferedWriter::record`], which never waits), never failing it (a point the writer refuses
//! is counted there, not returned).
//!
//! Each point, in the measurement the layer is named with:
//! - tags `method`, `endpoint` (the route pattern: see [`RequestMetricsLayer::endpoint`]),
//!   `status_code`, `environment` (from `ENVIRONMENT`, when set), `correlation_id` (from a
//!   request header, when present), the writer's own tags (`hostname`, ...), extra static
//!   tags, and what the hooks add;
//! - fields `duration` (seconds, from the request's arrival to the end of the response body,
//!   not just its headers; an InfluxQL keyword, so a query quotes it: `SELECT "duration"`) and
//!   `content_length` (the bytes the body yielded);
//! - the time of the request's arrival.
//!
//! Requests that do not finish are recorded too, with what is known:
//! - the service returns an error: `status_code` 500;
//! - the handler panics: behind tower-http's `CatchPanicLayer` the layer sees the 500 it
//!   makes; inside it, the unwinding is seen, and recorded as a 500;
//! - the client goes away (the response future or the body is dropped first): a
//!   `cancelled=true` tag, the status if the headers were made, and `content_length` the bytes
//!   the body had yielded.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use influx_series::metrics::RequestMetricsLayer;
//! use influx_series::writer::BufferedWriter;
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let writer = BufferedWriter::from_env()?;
//! let service = ServiceBuilder::new()
//!     .layer(RequestMetricsLayer::new(writer.clone(), "my-service").correlation_header("x-request-id"))
//!     .service_fn(|_request: http::Request<String>| async {
//!         Ok::<_, Infallible>(http::Response::new(String::from("hello")))
//!     });
//! let response = service.oneshot(http::Request::new(String::new())).await?;
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Buf;
use http::{Extensions, HeaderMap, HeaderName, Method, Request, Response, StatusCode, Uri};
use http_body::{Body, Frame, SizeHint};
use influx_core::line::{self, NameKind};
use influx_core::{EncodeError, Field, Part};

use crate::writer::BufferedWriter;

/// What a request looks like to the layer's extractors and hooks (it is borrowed while the
/// request arrives; the body is not available).
#[derive(Debug)]
#[non_exhaustive]
pub struct RequestInfo<'a> {
    /// The method.
    pub method: &'a Method,
    /// The URI.
    pub uri: &'a Uri,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The extensions (where axum puts `MatchedPath`).
    pub extensions: &'a Extensions,
}

/// What the response looks like to the response hook.
#[derive(Debug)]
#[non_exhaustive]
pub struct ResponseInfo<'a> {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: &'a HeaderMap,
}

/// Tags and fields a hook adds to a request's point.
#[derive(Debug, Default)]
pub struct Extra {
    tags: Vec<(Cow<'static, str>, String)>,
    fields: Vec<(Cow<'static, str>, Field)>,
}

impl Extra {
    /// Adds a tag (a later one of the same key wins).
    pub fn tag(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.tags.push((key.into(), value.into()));
    }

    /// Adds a field (a later one of the same key wins).
    pub fn field(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Field>) {
        self.fields.push((key.into(), value.into()));
    }
}

type Endpoint = dyn Fn(&RequestInfo<'_>) -> Option<String> + Send + Sync;
type OnRequest = dyn Fn(&RequestInfo<'_>, &mut Extra) + Send + Sync;
type OnResponse = dyn Fn(&ResponseInfo<'_>, &mut Extra) + Send + Sync;

/// The `endpoint` tag of a request whose route pattern is not known.
pub const UNMATCHED: &str = "unmatched";

struct Config {
    writer: BufferedWriter,
    measurement: Cow<'static, str>,
    endpoint: Option<Arc<Endpoint>>,
    correlation: Option<HeaderName>,
    environment: Option<String>,
    tags: Vec<(Cow<'static, str>, String)>,
    on_request: Option<Arc<OnRequest>>,
    on_response: Option<Arc<OnResponse>>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestMetricsLayer")
            .field("measurement", &self.measurement)
            .field("correlation", &self.correlation)
            .field("environment", &self.environment)
            .field("tags", &self.tags)
            .finish_non_exhaustive()
    }
}

/// A [`tower::Layer`](https://docs.rs/tower-layer/0.3/tower_layer/trait.Layer.html) that
/// records one point a finished request: see the
/// [module](self).
#[derive(Debug, Clone)]
pub struct RequestMetricsLayer {
    config: Arc<Config>,
}

impl RequestMetricsLayer {
    /// Records into `writer`, in `measurement` (sprockets uses the service's name), with the
    /// `environment` tag from `ENVIRONMENT` when it is set and not empty.
    pub fn new(writer: BufferedWriter, measurement: impl Into<Cow<'static, str>>) -> Self {
        RequestMetricsLayer {
            config: Arc::new(Config {
                writer,
                measurement: measurement.into(),
                endpoint: None,
                correlation: None,
                environment: std::env::var("ENVIRONMENT").ok().filter(|e| !e.is_empty()),
                tags: Vec::new(),
                on_request: None,
                on_response: None,
            }),
        }
    }

    fn config(&mut self) -> &mut Config {
        Arc::get_mut(&mut self.config).expect("the layer is configured before it is cloned")
    }

    /// How to tell a request's route pattern, for the `endpoint` tag: never the raw path,
    /// whose ids would make a series a request. When it answers `None` (or without one),
    /// the tag is [`UNMATCHED`].
    ///
    /// With axum, the layer added with `Router::layer` after the routes, so that routing has
    /// run and left the pattern in the request's `MatchedPath` (`examples/src/bin/
    /// web_service.rs` is a whole service):
    ///
    /// ```no_run
    /// use axum::{Router, extract::MatchedPath, routing::get};
    /// use influx_series::metrics::RequestMetricsLayer;
    /// use influx_series::writer::BufferedWriter;
    ///
    /// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let writer = BufferedWriter::from_env()?;
    /// let metrics = RequestMetricsLayer::new(writer, "my_service").endpoint(|request| {
    ///     request.extensions.get::<MatchedPath>().map(|p| p.as_str().to_owned())
    /// });
    /// let app: Router = Router::new()
    ///     .route("/items/{id}", get(|| async { "an item" }))
    ///     .layer(metrics); // endpoint="/items/{id}" for /items/7
    /// # Ok(()) }
    /// ```
    ///
    /// With tonic, the path is the method (`/package.Service/Method`), a bounded set:
    /// `layer.endpoint(|r| Some(r.uri.path().to_owned()))`, behind a router that refuses
    /// unknown methods.
    pub fn endpoint(
        mut self,
        f: impl Fn(&RequestInfo<'_>) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.config().endpoint = Some(Arc::new(f));
        self
    }

    /// The request header whose value is the `correlation_id` tag (for example
    /// `x-correlation-id` or `x-request-id`); at most its first 128 bytes are kept. A request
    /// without it, or whose value is not visible ASCII, gets no such tag.
    ///
    /// # Panics
    /// If `name` is not a valid header name.
    pub fn correlation_header(mut self, name: &str) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
        self.config().correlation = Some(name);
        self
    }

    /// The `environment` tag (instead of `ENVIRONMENT`'s value).
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.config().environment = Some(environment.into());
        self
    }

    /// A tag on every point.
    pub fn tag(mut self, key: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.config().tags.push((key.into(), value.into()));
        self
    }

    /// A hook called as each request arrives, to add tags or fields from it.
    pub fn on_request(
        mut self,
        f: impl Fn(&RequestInfo<'_>, &mut Extra) + Send + Sync + 'static,
    ) -> Self {
        self.config().on_request = Some(Arc::new(f));
        self
    }

    /// A hook called when the response's head is made, to add tags or fields from it.
    pub fn on_response(
        mut self,
        f: impl Fn(&ResponseInfo<'_>, &mut Extra) + Send + Sync + 'static,
    ) -> Self {
        self.config().on_response = Some(Arc::new(f));
        self
    }
}

impl<S> tower_layer::Layer<S> for RequestMetricsLayer {
    type Service = RequestMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestMetrics {
            inner,
            config: self.config.clone(),
        }
    }
}

/// A service wrapped by [`RequestMetricsLayer`].
#[derive(Debug, Clone)]
pub struct RequestMetrics<S> {
    inner: S,
    config: Arc<Config>,
}

/// A request being measured: everything known so far. Recorded once, when the response body
/// ends, or when whatever holds it is dropped first.
#[derive(Debug)]
struct Pending {
    config: Arc<Config>,
    started: Instant,
    /// Nanoseconds since the epoch, unique in the process: two requests that arrive at once
    /// with the same tags are two points.
    arrived: i64,
    method: Method,
    endpoint: String,
    correlation: Option<http::HeaderValue>,
    status: Option<StatusCode>,
    bytes: u64,
    extra: Extra,
}

impl Pending {
    fn new<B>(config: &Arc<Config>, request: &Request<B>) -> Pending {
        let info = RequestInfo {
            method: request.method(),
            uri: request.uri(),
            headers: request.headers(),
            extensions: request.extensions(),
        };
        let endpoint = config
            .endpoint
            .as_ref()
            .and_then(|f| f(&info))
            .unwrap_or_else(|| UNMATCHED.to_owned());
        let correlation = config
            .correlation
            .as_ref()
            .and_then(|name| request.headers().get(name))
            .cloned();
        let mut extra = Extra::default();
        if let Some(hook) = &config.on_request {
            hook(&info, &mut extra);
        }
        Pending {
            config: config.clone(),
            started: Instant::now(),
            arrived: influx_core::clock::unique_now_nanos(),
            method: request.method().clone(),
            endpoint,
            correlation,
            status: None,
            bytes: 0,
            extra,
        }
    }

    fn head<B>(&mut self, response: &Response<B>) {
        self.status = Some(response.status());
        if let Some(hook) = &self.config.on_response {
            let info = ResponseInfo {
                status: response.status(),
                headers: response.headers(),
            };
            hook(&info, &mut self.extra);
        }
    }

    /// Records the point; `cancelled` when the request did not run to its end.
    fn record(self, cancelled: bool) {
        let writer = self.config.writer.clone();
        // Never blocks; a point the writer refuses is counted there.
        writer.record(
            Finished {
                pending: self,
                duration: 0.0,
                cancelled,
            }
            .stamped(),
        );
    }
}

/// A finished request, encoded straight into the writer's line (no `Point` in between: this
/// runs once a request).
struct Finished {
    pending: Pending,
    duration: f64,
    cancelled: bool,
}

impl Finished {
    fn stamped(mut self) -> Self {
        self.duration = self.pending.started.elapsed().as_secs_f64();
        self
    }
}

/// The longest correlation id kept (a client sends what it wants; more is cut).
const MAX_CORRELATION: usize = 128;

impl crate::writer::Record for Finished {
    fn __encode(
        &self,
        context: &crate::writer::RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<crate::writer::Destination<'_>, influx_core::Error> {
        let p = &self.pending;
        let config = &*p.config;
        let invalid = |kind, part| influx_core::Error::InvalidInput(EncodeError::new(kind, part));
        line::write_name(out, NameKind::Measurement, &config.measurement)
            .map_err(|k| invalid(k, Part::Measurement))?;
        // Tags, sorted by key. Of one key, the request's own tag pushed last wins; the
        // writer's tags (hostname, ...) only where the request has none of that key.
        let mut tags: Vec<(&str, &str, usize)> = Vec::with_capacity(8 + config.tags.len());
        push(&mut tags, "method", p.method.as_str());
        push(&mut tags, "endpoint", &p.endpoint);
        if let Some(status) = &p.status {
            push(&mut tags, "status_code", status.as_str());
        }
        if let Some(environment) = &config.environment {
            push(&mut tags, "environment", environment);
        }
        if let Some(id) = p.correlation.as_ref().and_then(|v| v.to_str().ok()) {
            let mut end = id.len().min(MAX_CORRELATION);
            while !id.is_char_boundary(end) {
                end -= 1;
            }
            push(&mut tags, "correlation_id", &id[..end]);
        }
        if self.cancelled {
            push(&mut tags, "cancelled", "true");
        }
        for (k, v) in &config.tags {
            push(&mut tags, k, v);
        }
        for (k, v) in &p.extra.tags {
            push(&mut tags, k, v);
        }
        let own = tags.len();
        for (k, v) in context.tags() {
            push(&mut tags, k, v);
        }
        tags.sort_unstable_by(|a, b| a.0.cmp(b.0).then(a.2.cmp(&b.2)));
        let mut i = 0;
        while i < tags.len() {
            let key = tags[i].0;
            let mut j = i + 1;
            while j < tags.len() && tags[j].0 == key {
                j += 1;
            }
            // In `i..j` the request's own come first (lower order): the last of them wins,
            // else the writer's.
            let last_own = (i..j).rev().find(|&k| tags[k].2 < own);
            let value = tags[last_own.unwrap_or(i)].1;
            if !value.is_empty() {
                out.push(b',');
                line::write_name(out, NameKind::TagKey, key)
                    .map_err(|k| invalid(k, Part::TagKey(key.to_owned())))?;
                out.push(b'=');
                line::write_name(out, NameKind::TagValue, value)
                    .map_err(|k| invalid(k, Part::TagValue(key.to_owned())))?;
            }
            i = j;
        }
        out.extend_from_slice(b" duration=");
        line::write_f64(out, self.duration)
            .map_err(|k| invalid(k, Part::FieldValue("duration".into())))?;
        out.extend_from_slice(b",content_length=");
        line::write_i64(out, i64::try_from(p.bytes).unwrap_or(i64::MAX));
        for (key, value) in &p.extra.fields {
            out.push(b',');
            line::write_name(out, NameKind::FieldKey, key)
                .map_err(|k| invalid(k, Part::FieldKey(key.to_string())))?;
            out.push(b'=');
            value
                .write(out)
                .map_err(|k| invalid(k, Part::FieldValue(key.to_string())))?;
        }
        line::write_timestamp_nanos(out, p.arrived, context.precision());
        Ok(crate::writer::Destination::default())
    }
}

/// Adds a tag, remembering the order it came in.
fn push<'a>(tags: &mut Vec<(&'a str, &'a str, usize)>, key: &'a str, value: &'a str) {
    let order = tags.len();
    tags.push((key, value, order));
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for RequestMetrics<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Body + Send + 'static,
{
    type Response = Response<MeteredBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let pending = Pending::new(&self.config, &request);
        ResponseFuture {
            inner: Box::pin(self.inner.call(request)),
            pending: Some(pending),
        }
    }
}

/// The response future of [`RequestMetrics`].
pub struct ResponseFuture<F> {
    inner: Pin<Box<F>>,
    pending: Option<Pending>,
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
{
    type Output = Result<Response<MeteredBody<B>>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let guard = PanicGuard(&mut this.pending);
        let result = std::task::ready!(this.inner.as_mut().poll(cx));
        if let (Ok(response), Some(pending)) = (&result, guard.0.as_mut()) {
            // Under the guard: a response hook that panics still leaves its point.
            pending.head(response);
        }
        drop(guard);
        let mut pending = self.pending.take().expect("polled after completion");
        Poll::Ready(match result {
            Ok(response) => {
                let (parts, body) = response.into_parts();
                let body = MeteredBody {
                    inner: Box::pin(body),
                    pending: Some(pending),
                };
                if body.inner.is_end_stream() {
                    // Nothing to send: done now (a server may never poll such a body).
                    let mut body = body;
                    if let Some(pending) = body.pending.take() {
                        pending.record(false);
                    }
                    Ok(Response::from_parts(parts, body))
                } else {
                    Ok(Response::from_parts(parts, body))
                }
            }
            Err(e) => {
                pending.status = Some(StatusCode::INTERNAL_SERVER_ERROR);
                pending.record(false);
                Err(e)
            }
        })
    }
}

/// Records a request as a 500 if the inner service or body panics while it is polled (the
/// future or body may be dropped much later, after the panic was caught).
struct PanicGuard<'a>(&'a mut Option<Pending>);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(mut pending) = self.0.take() {
                pending.status = Some(StatusCode::INTERNAL_SERVER_ERROR);
                pending.record(false);
            }
        }
    }
}

impl<F> Drop for ResponseFuture<F> {
    fn drop(&mut self) {
        // Dropped before the answer (a panic of the service while polled was recorded by
        // `PanicGuard`): the client went away, or the caller gave up.
        if let Some(pending) = self.pending.take() {
            pending.record(true);
        }
    }
}

/// A response body that counts the bytes it yields and records the request's point when it
/// ends (or is dropped before).
pub struct MeteredBody<B> {
    inner: Pin<Box<B>>,
    pending: Option<Pending>,
}

impl<B> std::fmt::Debug for MeteredBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredBody").finish_non_exhaustive()
    }
}

impl<B: Body> Body for MeteredBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let guard = PanicGuard(&mut this.pending);
        let frame = std::task::ready!(this.inner.as_mut().poll_frame(cx));
        drop(guard);
        match &frame {
            Some(Ok(frame)) => {
                if let (Some(data), Some(pending)) = (frame.data_ref(), self.pending.as_mut()) {
                    pending.bytes += data.remaining() as u64;
                }
                if self.inner.is_end_stream() {
                    if let Some(pending) = self.pending.take() {
                        pending.record(false);
                    }
                }
            }
            Some(Err(_)) => {
                // The body failed: the response was cut short.
                if let Some(pending) = self.pending.take() {
                    pending.record(true);
                }
            }
            None => {
                if let Some(pending) = self.pending.take() {
                    pending.record(false);
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for MeteredBody<B> {
    fn drop(&mut self) {
        if let Some(pending) = self.pending.take() {
            // A server sends no body to a HEAD request, and may drop it unread.
            let cancelled = pending.method != "HEAD";
            pending.record(cancelled);
        }
    }
}
