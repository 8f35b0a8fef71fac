//! What both clients do, written once: every call of [`crate::Client`] and
//! [`crate::AsyncClient`] is a method of [`Core`] here, generic over the [`Transport`] that
//! moves a request's bytes and brings back the answer's.
//!
//! The methods are `async`, and the only thing they await is [`Transport::send`]. The async
//! client awaits them on the caller's runtime. The blocking client's transport has finished
//! its I/O by the time `send` returns its future, so the blocking client completes each call
//! in a single poll ([`complete`]) with no runtime of its own. Request building and answer
//! classification are the sans-IO functions of [`crate::request::http`]; writes are planned
//! in requests by [`crate::request::write_plan`]; answers are decoded by [`crate::query`].

use std::borrow::Borrow;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;

use crate::error::{Cause, Commit, Error, Rejection};
use crate::protocol::line::LineBuf;
use crate::protocol::point::Point;
use crate::query::answer::{AnswerVisitor, Walk};
use crate::query::resultset::{self, ResultSet};
use crate::query::typed::{self, CellContext, FromRow, Json};
use crate::request::answer_documents::Documents;
use crate::request::config::{ClientConfig, Credentials};
use crate::request::http::{
    self, Answer, AnswerBody, Chunking, Encoding, Method, QueryOptions, Replay, Request,
    WriteOptions,
};
use crate::request::retry::{self, Next};
use crate::request::write_plan::{self, OnRefusal, Unsent, WritePlan};

/// Moves one request to the server and brings its answer back: its head, then its body piece
/// by piece, so that a caller can read a long answer as it arrives.
pub(crate) trait Transport: Send + Sync {
    /// Whether its calls do their I/O when first polled, blocking the thread (so that several
    /// can run on threads of their own while the calling thread goes on).
    const BLOCKS: bool = false;

    /// An answer's body, being read. Dropping it closes the connection.
    type Body: Send;

    /// Sends the request and returns the answer's head, with its body still to read.
    fn open(
        &self,
        request: Prepared,
    ) -> impl Future<Output = Result<(Head, Self::Body), Error>> + Send;

    /// The next piece of the body as it came over the wire; `None` at its end.
    fn next_piece(
        &self,
        body: &mut Self::Body,
    ) -> impl Future<Output = Result<Option<Bytes>, Error>> + Send;

    /// Waits `delay` before a retry (the blocking transport sleeps right away).
    fn pause(&self, delay: Duration) -> impl Future<Output = ()> + Send;

    /// Runs every future to its end, at the same time, and gives their outputs in order:
    /// several requests in flight. (The blocking transport, whose futures do their I/O when
    /// first polled, runs each on a thread of its own.)
    fn run_all<F>(&self, futures: Vec<F>) -> impl Future<Output = Vec<F::Output>> + Send
    where
        F: Future + Send,
        F::Output: Send,
    {
        join_all(futures)
    }

    /// Sends each datagram to `host:port` over UDP, in order; on failure, how many were sent
    /// before it.
    fn send_datagrams(
        &self,
        host: &str,
        port: u16,
        datagrams: Vec<&[u8]>,
    ) -> impl Future<Output = Result<(), (usize, Error)>> + Send;
}

/// Polls every future in turn until all are done; their outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(&mut outputs) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(done) => *output = Some(done),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// A request in the terms of the HTTP client: method, URL, headers, body (gzipped if asked).
pub(crate) struct Prepared {
    pub(crate) method: reqwest::Method,
    pub(crate) url: reqwest::Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Bytes>,
    /// The bound on the whole exchange, body included; `None` for a stream, which only has a
    /// bound on each wait for more.
    pub(crate) timeout: Option<Duration>,
    /// When the answer's head must have come, for a stream (whose `timeout` is `None`): the
    /// call's deadline.
    pub(crate) head_by: Option<Instant>,
    /// Whether it is a write (`POST /write`): the blocking client sends those itself.
    #[cfg_attr(not(feature = "blocking"), allow(dead_code))]
    pub(crate) write: bool,
}

/// The head of an answer: its status and headers.
pub(crate) struct Head {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) content_length: Option<u64>,
}

/// An exchange's outcome: the answer whole, or, for a stream the server answered with 200,
/// its head and the body to read on.
pub(crate) enum Opened<B> {
    Whole(Answer),
    Stream(Head, B),
}

/// A request ready for any host: [`Outgoing::to`] gives it a base URL. Its body is shared,
/// not copied, between retries.
struct Outgoing {
    method: reqwest::Method,
    /// The path below the base URL and the query string.
    target: String,
    headers: HeaderMap,
    body: Option<Bytes>,
    replay: Replay,
    /// `POST /write`.
    write: bool,
}

impl Outgoing {
    /// The path, without the query string.
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    fn to(
        &self,
        base: &str,
        timeout: Option<Duration>,
        head_by: Option<Instant>,
    ) -> Result<Prepared, Error> {
        let url = reqwest::Url::parse(&format!("{base}{}", self.target))
            .map_err(|e| Error::Config(Cause::with_source("the request URL does not parse", e)))?;
        Ok(Prepared {
            method: self.method.clone(),
            url,
            headers: self.headers.clone(),
            body: self.body.clone(),
            timeout,
            head_by,
            write: self.write,
        })
    }
}

/// An outcome in a few words, for tracing: the status, or the error (whose text never holds
/// credentials).
fn describe<B>(outcome: &Result<Opened<B>, Error>) -> String {
    match outcome {
        Ok(Opened::Whole(answer)) => format!("status {}", answer.status),
        Ok(Opened::Stream(head, _)) => format!("status {}, streaming", head.status),
        Err(e) => e.to_string(),
    }
}

/// How long a host that could not be reached is passed over.
const HOST_COOLDOWN: Duration = Duration::from_secs(30);

/// The hosts of a client, in order, with the time until which each is passed over after a
/// connection to it failed. Shared by clones.
#[derive(Debug)]
struct Hosts {
    bases: Vec<String>,
    down_until: std::sync::Mutex<Vec<Option<Instant>>>,
}

impl Hosts {
    fn new(bases: Vec<String>) -> Hosts {
        let down_until = std::sync::Mutex::new(vec![None; bases.len()]);
        Hosts { bases, down_until }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<Instant>>> {
        self.down_until.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The order to try the hosts in: those not passed over, in their order, then the others
    /// (a host is never left out: when all are down, each is still tried).
    fn order(&self) -> Vec<usize> {
        let now = Instant::now();
        let down = self.lock();
        let (up, passed): (Vec<usize>, Vec<usize>) =
            (0..self.bases.len()).partition(|&i| down[i].is_none_or(|until| until <= now));
        up.into_iter().chain(passed).collect()
    }

    fn mark(&self, host: usize, reached: bool) {
        self.lock()[host] = (!reached).then(|| Instant::now() + HOST_COOLDOWN);
    }
}

/// An answer being read: its head, and its body as it arrives, within the size bound and the
/// deadline.
pub(crate) struct Reading {
    status: u16,
    version: Option<String>,
    location: Option<String>,
    retry_after: Option<String>,
    body: AnswerBody,
    deadline: Option<(Instant, Duration)>,
    /// Only the start of the body matters (an error answer, or any answer to a write): it is
    /// read up to [`http::MAX_ERROR_BODY`] and the rest left unread.
    only_start: bool,
    /// The body went on past what was read (or its compression broke).
    cut: bool,
}

impl Reading {
    /// Starts reading an answer from its status line and headers. A success's body is bounded
    /// by the client's `max_answer_size`; of an error answer, or of any answer to a write
    /// (`only_start`: nothing but its message is ever read), the first
    /// [`http::MAX_ERROR_BODY`] bytes are read.
    pub(crate) fn new(
        status: u16,
        headers: &HeaderMap,
        content_length: Option<u64>,
        config: &ClientConfig,
        (started, timeout): (Instant, Option<Duration>),
        only_start: bool,
    ) -> Result<Reading, Error> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(200).collect::<String>())
        };
        let only_start = only_start || !(200..300).contains(&status);
        let encoding = Encoding::from_header(
            headers
                .get(header::CONTENT_ENCODING)
                .map(HeaderValue::as_bytes),
        );
        let encoding = match encoding {
            Ok(encoding) => encoding,
            // An error's body in an unknown encoding: its status still says what happened.
            Err(_) if only_start => Encoding::Identity,
            Err(e) => return Err(e),
        };
        let limit = if only_start {
            http::MAX_ERROR_BODY
        } else {
            config.max_answer_size
        };
        Ok(Reading {
            status,
            version: text("X-Influxdb-Version"),
            location: text("Location"),
            retry_after: text("Retry-After"),
            body: AnswerBody::new(encoding, limit, content_length),
            deadline: timeout.map(|t| (started, t)),
            only_start,
            cut: false,
        })
    }

    /// Takes the next piece of the body; `false` when no more is wanted (the start of an
    /// error answer has been read). The deadline covers the whole answer: a timeout of the HTTP
    /// client may bound each read only, and a server that trickles bytes would otherwise hold
    /// the call for ever.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<bool, Error> {
        if let Some((started, timeout)) = self.deadline {
            if started.elapsed() > timeout {
                if self.only_start {
                    // What came of an error answer in time is enough: its status says the rest.
                    self.cut = true;
                    return Ok(false);
                }
                return Err(Error::Timeout(
                    format!("the answer took longer than {timeout:?}").into(),
                ));
            }
        }
        match self.body.push(data) {
            Ok(()) => Ok(true),
            Err(_) if self.only_start => {
                self.cut = true;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// The answer, once the body has ended (or no more of it is wanted).
    pub(crate) fn finish(mut self) -> Result<Answer, Error> {
        let body = if self.cut {
            self.body.into_cut()
        } else if self.only_start {
            match self.body.flush_end() {
                Ok(()) => self.body.into_cut(),
                Err(_) => {
                    self.cut = true;
                    self.body.into_cut()
                }
            }
        } else {
            self.body.finish()?
        };
        Ok(Answer {
            status: self.status,
            version: self.version,
            location: self.location,
            retry_after: self.retry_after,
            body,
            cut: self.cut,
        })
    }
}

/// `now + wait`, or a century from now for a wait too long to add.
fn deadline_after(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

/// Why a write that its caller stopped sent no more (see [`Core::write_isolating`]).
fn stopped_error() -> Error {
    Error::Timeout("the write was stopped before this request was sent".into())
}

/// Completes a future that never waits: the blocking client's calls, whose transport does its
/// I/O before it hands back a ready future.
#[cfg(feature = "blocking")]
pub(crate) fn complete<F: Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the blocking transport never leaves a request pending"),
    }
}

/// A query's answer being read as it arrives. The body comes first, so that it is dropped
/// first: dropping a stream closes its connection, and influxd stops the query.
pub(crate) struct QueryStream<B> {
    body: B,
    documents: Documents,
    walk: Walk,
    /// How many statements the query holds.
    statements: usize,
    ended: bool,
    /// When the call began, and how long it may take, for an answer read whole.
    deadline: Option<(Instant, Duration)>,
}

impl<B> QueryStream<B> {
    /// Walks the document [`Core::next_document`] found with `visitor`.
    pub(crate) fn walk<V>(&mut self, visitor: &mut V) -> Result<(), Error>
    where
        V: for<'a> AnswerVisitor<'a>,
    {
        let text = std::str::from_utf8(self.documents.document())
            .map_err(|e| Error::Protocol(format!("query answer is not UTF-8: {e}").into()))?;
        self.walk
            .document(text, visitor)
            .map_err(crate::query::answer::stop_error)
    }
}

/// What [`crate::Client::write_isolating`] did: the commit, the refused points, and, if it
/// stopped, the lines it did not settle and why.
#[doc(hidden)]
#[derive(Debug)]
pub struct WriteOutcome {
    /// Points written and refused, requests made.
    pub commit: Commit,
    /// Points the server refused for good.
    pub rejections: Vec<Rejection>,
    /// The lines not settled (not sent, or not known to be stored), and why.
    pub stopped: Option<(Unsent, Error)>,
    /// The `Retry-After` of the answer it stopped at, if the server sent one (in seconds).
    pub retry_after: Option<Duration>,
    /// Requests that failed: one for each run of requests in flight at once that stopped at
    /// an error (0 or 1 for a write of one request at a time).
    pub failed_requests: usize,
}

/// The most a write's requests hold, points and bytes (also under the client's
/// `max_request_size`, lowered by any 413), and how many of them it keeps in flight (also
/// under the client's `writes_in_flight`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Points per request.
    pub points: usize,
    /// Bytes per request.
    pub bytes: usize,
    /// Requests in flight.
    pub in_flight: usize,
    /// Whether `n` lines go in exactly `ceil(n / points)` requests when the byte cap does not
    /// cut them (a derived type's commit, as SeriesHelper's `bulk_size`): each request in
    /// flight sends only whole requests' worth of its series, and what is left of each goes
    /// after them all, in one run.
    pub exact: bool,
}

impl Caps {
    /// At most `points` points; the client's byte cap and requests in flight.
    pub fn points(points: usize) -> Caps {
        Caps {
            points: points.max(1),
            bytes: usize::MAX,
            in_flight: usize::MAX,
            exact: false,
        }
    }

    /// Requests of exactly `points` points but the last (see [`Caps::exact`]).
    pub fn exactly(points: usize) -> Caps {
        Caps {
            exact: true,
            ..Caps::points(points)
        }
    }
}

/// The fewest lines worth a request in flight of their own.
const LANE_LINES: usize = 1_000;

/// A batch, and which lane each of its lines goes to: what one run of
/// [`Core::write_batch`] sends (the lines of `lane`).
#[derive(Clone, Copy)]
struct Dealt<'a> {
    bytes: &'a [u8],
    ends: &'a [usize],
    lane_ids: &'a [u8],
    lane: u8,
}

/// What one lane did: its first line not settled (with every later line of the lane), and
/// why, if the lane itself failed.
struct LaneRun {
    commit: Commit,
    rejections: Vec<Rejection>,
    unsent_from: Option<usize>,
    stopped: Option<Error>,
    retry_after: Option<Duration>,
    /// It stopped because its caller said so, before a request: no request failed.
    cancelled: bool,
    /// Its last lines (from this one on), held for the run after every lane.
    held_from: Option<usize>,
}

/// What one run of requests did: like [`WriteOutcome`], with the first line it did not settle
/// (every line from there on is unsettled), and an error only if it failed itself.
pub(super) struct Run {
    pub(super) commit: Commit,
    pub(super) rejections: Vec<Rejection>,
    pub(super) unsent_from: usize,
    pub(super) stopped: Option<Error>,
    pub(super) retry_after: Option<Duration>,
    /// It stopped because its caller said so, before a request: no request failed.
    pub(super) cancelled: bool,
}

/// A client's state and every call, over a transport.
#[derive(Clone)]
pub(crate) struct Core<T> {
    pub(crate) http: T,
    pub(crate) config: ClientConfig,
    hosts: Arc<Hosts>,
    auth: Option<HeaderValue>,
    /// The byte cap of write requests, shared by clones: `max_request_size`, lowered for good
    /// by a 413 (the server's `max-body-size` does not change while it runs).
    request_cap: Arc<AtomicUsize>,
    /// Buffers kept between writes with several requests in flight, shared by clones.
    pub(super) spares: Arc<crate::core::spares::Spares>,
}

impl<T> std::fmt::Debug for Core<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config's own Debug redacts the password.
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Core<T> {
    pub(crate) fn new(http: T, config: ClientConfig) -> Result<Core<T>, Error> {
        if config.port == 0 || config.udp.port == Some(0) {
            return Err(Error::Config(
                "port 0 cannot be connected to: give the server's port (1 to 65535)".into(),
            ));
        }
        Ok(Core {
            http,
            hosts: Arc::new(Hosts::new(config.base_urls())),
            request_cap: Arc::new(AtomicUsize::new(config.max_request_size)),
            spares: Arc::default(),
            auth: auth_header(&config.credentials)?,
            config,
        })
    }

    pub(crate) fn database(&self) -> Option<&str> {
        self.config.database.as_deref()
    }

    pub(crate) fn set_database(&mut self, database: String) {
        self.config.database = Some(database);
    }

    pub(crate) fn switch_user(&mut self, username: String, password: String) -> Result<(), Error> {
        let credentials = Credentials::Basic { username, password };
        self.auth = auth_header(&credentials)?;
        self.config.credentials = credentials;
        Ok(())
    }

    /// The request in the HTTP client's terms: the size check, target, headers, gzip.
    fn prepare(&self, request: Request) -> Result<Outgoing, Error> {
        let limit = self.config.max_request_size;
        if request.body.len() > limit {
            return Err(Error::RequestTooLarge {
                size: request.body.len(),
                limit,
            });
        }
        let mut target = String::with_capacity(request.path.len() + 1 + request.query.len());
        target.push_str(request.path);
        if !request.query.is_empty() {
            target.push('?');
            target.push_str(&request.query);
        }
        let mut headers = HeaderMap::new();
        if let Some(auth) = &self.auth {
            headers.insert(header::AUTHORIZATION, auth.clone());
        }
        if let Some(ct) = request.content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        if self.config.gzip {
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let (method, body) = match request.method {
            Method::Get => (reqwest::Method::GET, None),
            Method::Post if self.config.gzip && request.path == "/write" => {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                (
                    reqwest::Method::POST,
                    Some(http::gzip(&request.body).into()),
                )
            }
            Method::Post => (reqwest::Method::POST, Some(request.body)),
        };
        Ok(Outgoing {
            write: method == reqwest::Method::POST && request.path == "/write",
            method,
            target,
            headers,
            body,
            replay: request.replay,
        })
    }

    /// Sends a request, again after a failure that may pass as the retry policy allows, to
    /// the first host that can be reached, and reads its answer whole.
    ///
    /// Each call is a `tracing` span (`influxdb.request`, with the method and the path, never
    /// the query string, which may hold a statement's password); each attempt, retry and
    /// failover an event in it. Base URLs carry no credentials.
    async fn send(&self, request: Request) -> Result<Answer, Error> {
        match self.send_as(request, false, self.config.timeout).await? {
            Opened::Whole(answer) => Ok(answer),
            Opened::Stream(..) => unreachable!("a stream is opened only when asked for"),
        }
    }

    /// Like [`Core::send`], but a `200` answer is handed over unread when `stream` is set;
    /// `total` bounds the whole exchange, body included (`None`: only each wait for more).
    async fn send_as(
        &self,
        request: Request,
        stream: bool,
        total: Option<Duration>,
    ) -> Result<Opened<T::Body>, Error> {
        let outgoing = self.prepare(request)?;
        let span = tracing::debug_span!(
            "influxdb.request",
            method = %outgoing.method,
            path = outgoing.path(),
        );
        tracing::Instrument::instrument(self.send_in_span(&outgoing, stream, total), span).await
    }

    async fn send_in_span(
        &self,
        outgoing: &Outgoing,
        stream: bool,
        total: Option<Duration>,
    ) -> Result<Opened<T::Body>, Error> {
        let policy = &self.config.retry;
        let deadline = self
            .config
            .deadline()
            .map(|d| deadline_after(Instant::now(), d));
        let mut retries = 0;
        loop {
            let (outcome, next) = self.attempt(outgoing, stream, total, deadline).await;
            let asked = match next {
                Next::Done => return outcome,
                Next::Retry(asked) => asked,
                Next::Failover => None,
            };
            if retries >= policy.max_retries() {
                tracing::warn!(retries, "giving up: {}", describe(&outcome));
                return outcome;
            }
            let delay = policy.delay(retries, asked, retry::jitter());
            if deadline.is_some_and(|d| Instant::now() + delay >= d) {
                tracing::warn!(
                    retries,
                    "giving up at the call's deadline: {}",
                    describe(&outcome)
                );
                return outcome;
            }
            retries += 1;
            tracing::info!(
                retry = retries,
                delay_ms = delay.as_millis() as u64,
                "retrying after {}",
                describe(&outcome)
            );
            self.http.pause(delay).await;
        }
    }

    /// One attempt: the hosts in turn until one is reached (every host, if none is), each
    /// within what is left until `deadline`.
    async fn attempt(
        &self,
        outgoing: &Outgoing,
        stream: bool,
        timeout: Option<Duration>,
        deadline: Option<Instant>,
    ) -> (Result<Opened<T::Body>, Error>, Next) {
        let mut last = None;
        for host in self.hosts.order() {
            let base = &self.hosts.bases[host];
            let started = Instant::now();
            if let (Some(d), Some(_)) = (deadline, &last) {
                if started >= d {
                    break;
                }
            }
            // A whole answer is bounded by the timeout and by what is left of the call; a
            // stream's head by what is left, its body a chunk at a time.
            let left = deadline.map(|d| d.saturating_duration_since(started));
            let timeout = match (timeout, left) {
                (Some(t), Some(l)) => Some(t.min(l)),
                (None, Some(l)) if !stream => Some(l),
                (t, _) => t,
            };
            let outcome = match outgoing.to(base, timeout, deadline.filter(|_| stream)) {
                Ok(prepared) => self.exchange(prepared, stream).await,
                Err(e) => return (Err(e), Next::Done),
            };
            tracing::debug!(
                host = %base,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "{}",
                describe(&outcome)
            );
            let next = match &outcome {
                Ok(Opened::Stream(..)) => Next::Done,
                Ok(Opened::Whole(answer)) => retry::next(Ok(answer), outgoing.replay),
                Err(e) => retry::next(Err(e), outgoing.replay),
            };
            self.hosts.mark(host, next != Next::Failover);
            if next != Next::Failover {
                return (outcome, next);
            }
            if self.hosts.bases.len() > 1 {
                tracing::warn!(host = %base, "host unreachable: passed over for {HOST_COOLDOWN:?}");
            }
            last = Some((outcome, next));
        }
        last.unwrap_or_else(|| (Err(Error::Config("no host to send to".into())), Next::Done))
    }

    /// One request and its answer: read whole, or handed over unread when it is a stream the
    /// server answered with `200`.
    async fn exchange(&self, prepared: Prepared, stream: bool) -> Result<Opened<T::Body>, Error> {
        let started = Instant::now();
        let write = prepared.write;
        let timeout = prepared.timeout.or(self.config.timeout);
        let (head, mut body) = self.http.open(prepared).await?;
        if stream && head.status == 200 {
            return Ok(Opened::Stream(head, body));
        }
        let mut reading = Reading::new(
            head.status,
            &head.headers,
            head.content_length,
            &self.config,
            (started, timeout),
            write,
        )?;
        loop {
            match self.http.next_piece(&mut body).await {
                Ok(Some(piece)) => {
                    if !reading.push(&piece)? {
                        // The rest is left unread: dropping the body closes its connection.
                        break;
                    }
                }
                Ok(None) => break,
                // The start of an error answer is enough: its status tells what happened.
                Err(_) if reading.only_start && reading.status >= 300 => {
                    reading.cut = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        drop(body);
        Ok(Opened::Whole(reading.finish()?))
    }

    pub(crate) async fn ping(&self) -> Result<String, Error> {
        http::classify_ping(&self.send(http::ping_request()).await?)
    }

    pub(crate) async fn write_points<P: Borrow<Point>>(
        &self,
        points: impl IntoIterator<Item = P>,
        options: &WriteOptions,
    ) -> Result<Commit, Error> {
        if self.config.udp.port.is_some() {
            return self.write_points_udp(points, options).await;
        }
        let cap_points = options.batch_size_value().unwrap_or(usize::MAX);
        let stamp = !options.uses_server_time();
        let options = &*options.with_untimestamped(!stamp);
        let in_flight = self.config.writes_in_flight.max(1);
        #[cfg(feature = "blocking")]
        if T::BLOCKS && in_flight > 1 {
            return self.write_points_fed(points, options, cap_points, stamp, in_flight);
        }
        #[cfg(feature = "async")]
        if !T::BLOCKS && in_flight > 1 {
            return self
                .write_points_fed_async(points, options, cap_points, stamp, in_flight)
                .await;
        }
        let mut done = Commit::default();
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        // Points taken up by earlier rounds.
        let mut reached = 0;
        let mut rest = points.into_iter().peekable();
        while rest.peek().is_some() {
            bytes.clear();
            ends.clear();
            // A round: one request's worth, with one request in flight (several go through a
            // pipeline above). The point that crosses the byte cap goes first next time; the
            // plan sends a single line over the cap alone.
            let (round_points, round_bytes) = (cap_points, self.request_cap());
            while let Some(p) = rest.peek() {
                let p = p.borrow();
                if let Err(e) = options.shared_tags().check_against(p) {
                    // Every earlier round was written whole; this one is not sent.
                    return Err(Error::from(e).after_writing(done.written));
                }
                let start = bytes.len();
                let time = (stamp && p.timestamp_nanos().is_none())
                    .then(crate::protocol::clock::unique_now_nanos);
                p.write_line_with_tags(
                    &mut bytes,
                    options.precision_value(),
                    options.shared_tags().as_slice(),
                    time,
                );
                bytes.push(b'\n');
                if !ends.is_empty() && bytes.len() > round_bytes {
                    bytes.truncate(start);
                    break;
                }
                ends.push(bytes.len());
                rest.next();
                if ends.len() == round_points {
                    break;
                }
            }
            let outcome = self
                .write_batch(
                    &bytes,
                    None,
                    &ends,
                    options,
                    Caps::points(cap_points),
                    OnRefusal::Stop,
                    None,
                )
                .await;
            let written = done.written;
            done.add(outcome.commit);
            if let Some((unsent, e)) = outcome.stopped {
                let end = reached + ends.len();
                return Err(unsent
                    .shift(reached)
                    .error(e, end, written + outcome.commit.written));
            }
            reached += ends.len();
        }
        Ok(done)
    }

    pub(crate) async fn write_lines(
        &self,
        lines: &LineBuf,
        options: &WriteOptions,
    ) -> Result<Commit, Error> {
        if lines.is_empty() {
            return Ok(Commit::default());
        }
        if self.config.udp.port.is_some() {
            return self.write_text_udp(lines.as_str(), options).await;
        }
        let options = &*options.with_untimestamped(!lines.all_timestamped());
        if lines.len_bytes() <= self.request_cap() {
            self.write_body(Bytes::copy_from_slice(lines.as_bytes()), options)
                .await
                .0?;
            return Ok(Commit {
                written: lines.lines(),
                ..Commit::default()
            }
            .with_requests(1));
        }
        let ends = crate::protocol::parse::line_ends(lines.as_str(), options.precision_value())?;
        self.write_split(lines.as_bytes(), &ends.ends, options)
            .await
    }

    pub(crate) async fn write_raw(
        &self,
        text: &str,
        options: &WriteOptions,
    ) -> Result<Commit, Error> {
        if self.config.udp.port.is_some() {
            return self.write_text_udp(text, options).await;
        }
        if !options.checks_lines() {
            // Unread lines may lack timestamps.
            let options = options.with_untimestamped(true);
            self.write_body(Bytes::copy_from_slice(text.as_bytes()), &options)
                .await
                .0?;
            return Ok(Commit::default().with_requests(1));
        }
        let ends = crate::protocol::parse::line_ends(text, options.precision_value())?;
        if ends.ends.is_empty() {
            return Ok(Commit::default());
        }
        let options = options.with_untimestamped(!ends.all_timestamped);
        self.write_split(text.as_bytes(), &ends.ends, &options)
            .await
    }

    async fn write_split(
        &self,
        bytes: &[u8],
        ends: &[usize],
        options: &WriteOptions,
    ) -> Result<Commit, Error> {
        let cap_points = options.batch_size_value().unwrap_or(usize::MAX);
        let outcome = self
            .write_batch(
                bytes,
                None,
                ends,
                options,
                // Text of the caller's: its lines are not read closely enough to tell two
                // writes of one point apart (blank lines, comments, tag order, spaces), so they
                // go one request at a time, in order.
                Caps {
                    in_flight: 1,
                    ..Caps::points(cap_points)
                },
                OnRefusal::Stop,
                None,
            )
            .await;
        match outcome.stopped {
            Some((unsent, e)) => Err(unsent.error(e, ends.len(), outcome.commit.written)),
            None => Ok(outcome.commit),
        }
    }

    /// Writes lines of this crate's own encoding, isolating the lines the server refuses (see
    /// [`crate::Client::write_isolating`]). `shared`, if given, holds the same bytes as
    /// `bytes`: requests are then pieces of it, not copies. Once `stop` is set, no request is
    /// sent: the lines not yet sent are unsettled.
    pub(crate) async fn write_isolating(
        &self,
        bytes: &[u8],
        shared: Option<&Bytes>,
        ends: &[usize],
        options: &WriteOptions,
        caps: Caps,
        stop: Option<&std::sync::atomic::AtomicBool>,
    ) -> WriteOutcome {
        if self.config.udp.port.is_some() {
            let result = match self.check_udp_precision(options) {
                Ok(()) => self.write_udp(bytes, ends).await,
                Err(e) => Err(e),
            };
            return match result {
                Ok(commit) => WriteOutcome {
                    commit,
                    rejections: Vec::new(),
                    stopped: None,
                    retry_after: None,
                    failed_requests: 0,
                },
                Err(e) => WriteOutcome {
                    commit: Commit::default(),
                    rejections: Vec::new(),
                    stopped: Some((Unsent::tail(0, ends.len()), e)),
                    retry_after: None,
                    failed_requests: 1,
                },
            };
        }
        self.write_batch(bytes, shared, ends, options, caps, OnRefusal::Isolate, stop)
            .await
    }

    /// Points over UDP: encoded in the listener's precision, shared tags merged, stamped at
    /// the call unless left to the server.
    async fn write_points_udp<P: Borrow<Point>>(
        &self,
        points: impl IntoIterator<Item = P>,
        options: &WriteOptions,
    ) -> Result<Commit, Error> {
        let stamp = !options.uses_server_time();
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for p in points {
            let p = p.borrow();
            options.shared_tags().check_against(p)?;
            let time = (stamp && p.timestamp_nanos().is_none())
                .then(crate::protocol::clock::unique_now_nanos);
            p.write_line_with_tags(
                &mut bytes,
                self.config.udp.precision,
                options.shared_tags().as_slice(),
                time,
            );
            bytes.push(b'\n');
            ends.push(bytes.len());
        }
        self.write_udp(&bytes, &ends).await
    }

    /// Text over UDP: read by the parser (to split it between lines), in the listener's
    /// precision.
    async fn write_text_udp(&self, text: &str, options: &WriteOptions) -> Result<Commit, Error> {
        self.check_udp_precision(options)?;
        let ends = crate::protocol::parse::line_ends(text, options.precision_value())?;
        self.write_udp(text.as_bytes(), &ends.ends).await
    }

    /// Raw lines over UDP must be in the listener's precision: it reads every timestamp in it.
    fn check_udp_precision(&self, options: &WriteOptions) -> Result<(), Error> {
        let listener = self.config.udp.precision;
        if options.precision_value() == listener {
            Ok(())
        } else {
            Err(Error::InvalidArgument(
                format!(
                    "the lines are in precision {}, but the UDP listener reads {}: write them in \
                     its precision, or set ClientBuilder::udp_precision to the listener's",
                    options.precision_value().as_str(),
                    listener.as_str()
                )
                .into(),
            ))
        }
    }

    /// The lines of `bytes` ending at `ends`, in datagrams, to the UDP listener.
    async fn write_udp(&self, bytes: &[u8], ends: &[usize]) -> Result<Commit, Error> {
        let port = self
            .config
            .udp
            .port
            .ok_or_else(|| Error::Config("no UDP port".into()))?;
        let datagrams = crate::request::datagrams::pack(bytes, ends, self.config.udp.max_datagram)?;
        let payloads = datagrams.iter().map(|r| &bytes[r.clone()]).collect();
        tracing::debug!(
            port,
            datagrams = datagrams.len(),
            lines = ends.len(),
            "writing over UDP"
        );
        match self
            .http
            .send_datagrams(&self.config.host, port, payloads)
            .await
        {
            Ok(()) => Ok(Commit {
                written: ends.len(),
                ..Commit::default()
            }
            .with_requests(datagrams.len())),
            Err((sent, e)) => Err(e.after_writing(crate::request::datagrams::lines_in(
                &datagrams[..sent],
                ends,
            ))),
        }
    }

    /// Writes the lines of `bytes` ending at `ends`: in one run of requests, one after
    /// another, or, when there are enough of them and the client keeps several requests in
    /// flight, dealt by [`write_plan::deal`] to that many runs going at once.
    #[allow(clippy::too_many_arguments)] // each is one thing a write is told; a struct would only rename them
    pub(super) async fn write_batch(
        &self,
        bytes: &[u8],
        shared: Option<&Bytes>,
        ends: &[usize],
        options: &WriteOptions,
        caps: Caps,
        on_refusal: OnRefusal,
        stop: Option<&std::sync::atomic::AtomicBool>,
    ) -> WriteOutcome {
        let (cap_points, cap_bytes) = (caps.points, self.request_cap().min(caps.bytes));
        let requests = ends
            .len()
            .div_ceil(cap_points.max(1))
            .max(bytes.len().div_ceil(cap_bytes.max(1)));
        // As many runs as requests, and as lanes of `LANE_LINES` lines: a commit of 5 000
        // points goes as two requests of about 2 500 at once, twelve lines in requests of
        // five as three requests, not as sixteen of a line or two. With exact requests, as
        // many runs as requests at most.
        let worth = if caps.exact {
            requests
        } else {
            requests.max(ends.len() / LANE_LINES)
        };
        let lanes = self
            .config
            .writes_in_flight
            .min(caps.in_flight)
            .min(worth)
            .clamp(1, usize::from(u8::MAX));
        if lanes == 1 {
            let run = self
                .write_run(bytes, shared, ends, options, caps, on_refusal, None, stop)
                .await;
            return WriteOutcome {
                commit: run.commit,
                rejections: run.rejections,
                failed_requests: usize::from(run.stopped.is_some() && !run.cancelled),
                stopped: run
                    .stopped
                    .map(|e| (Unsent::tail(run.unsent_from, ends.len()), e)),
                retry_after: run.retry_after,
            };
        }
        let lane_ids = write_plan::deal(bytes, ends, lanes);
        // Once one run stops, the others send nothing more: a server that failed one request
        // is not sent another.
        let halt = std::sync::atomic::AtomicBool::new(false);
        let runs = (0..lanes)
            .map(|lane| {
                let lines = Dealt {
                    bytes,
                    ends,
                    lane_ids: &lane_ids,
                    lane: lane as u8,
                };
                self.write_lane(lines, options, caps, on_refusal, &halt, stop, caps.exact)
            })
            .collect();
        let mut runs = self.http.run_all(runs).await;
        // With exact requests, what each run left (less than a request's worth of its series)
        // goes now, after them all, in one run: its series' earlier points are settled.
        let held: Vec<Option<usize>> = runs.iter().map(|run| run.held_from).collect();
        let failed = runs
            .iter()
            .any(|run| run.stopped.is_some() || run.unsent_from.is_some());
        let tail_lane = u8::try_from(lanes).unwrap_or(u8::MAX);
        // The lane of each line, the held ones in the run after the lanes, once it has run.
        let mut tail_ids = Vec::new();
        if held.iter().any(Option::is_some) {
            tail_ids = lane_ids
                .iter()
                .enumerate()
                .map(|(line, &lane)| {
                    let lane = usize::from(lane);
                    if held[lane].is_some_and(|from| line >= from) {
                        tail_lane
                    } else {
                        lane as u8
                    }
                })
                .collect();
            if failed {
                tail_ids.clear();
            } else {
                let tail = Dealt {
                    bytes,
                    ends,
                    lane_ids: &tail_ids,
                    lane: tail_lane,
                };
                let run = self
                    .write_lane(tail, options, caps, on_refusal, &halt, stop, false)
                    .await;
                runs.push(run);
            }
        }
        if failed {
            // A run failed: what the others held was never sent.
            for (lane, run) in runs.iter_mut().enumerate() {
                if let Some(from) = held[lane] {
                    run.unsent_from = Some(run.unsent_from.map_or(from, |u| u.min(from)));
                }
            }
        }
        let mut outcome = WriteOutcome {
            commit: Commit::default(),
            rejections: Vec::new(),
            stopped: None,
            retry_after: None,
            failed_requests: 0,
        };
        // Where each run stopped, and the error of the earliest line not settled.
        let mut unsent_from = vec![None; runs.len()];
        let mut first: Option<(usize, Error)> = None;
        for (lane, run) in runs.into_iter().enumerate() {
            outcome.commit.add(run.commit);
            outcome.rejections.extend(run.rejections);
            outcome.retry_after = outcome.retry_after.max(run.retry_after);
            unsent_from[lane] = run.unsent_from;
            outcome.failed_requests += usize::from(run.stopped.is_some() && !run.cancelled);
            if let (Some(e), Some(line)) = (run.stopped, run.unsent_from) {
                if first.as_ref().is_none_or(|(at, _)| line < *at) {
                    first = Some((line, e));
                }
            }
        }
        if let Some((_, e)) = first {
            let ids = if tail_ids.is_empty() {
                &lane_ids
            } else {
                &tail_ids
            };
            let unsent = ids.iter().enumerate().filter_map(|(line, &lane)| {
                unsent_from
                    .get(usize::from(lane))
                    .copied()
                    .flatten()
                    .is_some_and(|from| line >= from)
                    .then_some(line)
            });
            outcome.stopped = Some((Unsent::from_sorted(unsent), e));
        }
        outcome
    }

    /// One of the runs of [`Core::write_batch`]: gathers its lane's lines one request's worth
    /// at a time (so that only a request's worth is ever copied) and sends each as a plan,
    /// until its lines are settled, one fails, or `halt` is set. With `hold`, a last gathering
    /// of less than a request's worth of points (not cut by the byte cap) is not sent but
    /// held (`held_from`), for the run after all lanes.
    #[allow(clippy::too_many_arguments)]
    async fn write_lane(
        &self,
        lines: Dealt<'_>,
        options: &WriteOptions,
        caps: Caps,
        on_refusal: OnRefusal,
        halt: &std::sync::atomic::AtomicBool,
        stop: Option<&std::sync::atomic::AtomicBool>,
        hold: bool,
    ) -> LaneRun {
        let Dealt {
            bytes,
            ends,
            lane_ids,
            lane,
        } = lines;
        let mut done = LaneRun {
            commit: Commit::default(),
            rejections: Vec::new(),
            unsent_from: None,
            stopped: None,
            retry_after: None,
            cancelled: false,
            held_from: None,
        };
        let mut chunk = self.spares.take(crate::core::spares::Room::NONE);
        let mut next = 0;
        let done = loop {
            let cap_bytes = self.request_cap().min(caps.bytes);
            chunk.clear();
            let mut by_bytes = false;
            while next < ends.len() && chunk.lines.len() < caps.points {
                if lane_ids[next] != lane {
                    next += 1;
                    continue;
                }
                let start = if next == 0 { 0 } else { ends[next - 1] };
                let text = &bytes[start..ends[next]];
                // A line over the byte cap goes alone; the plan sends or refuses it.
                if !chunk.lines.is_empty() && chunk.bytes.len() + text.len() > cap_bytes {
                    by_bytes = true;
                    break;
                }
                chunk.bytes.extend_from_slice(text);
                chunk.ends.push(chunk.bytes.len());
                chunk.lines.push(next);
                next += 1;
            }
            if chunk.lines.is_empty() {
                break done;
            }
            if hold && !by_bytes && chunk.lines.len() < caps.points {
                // The lane's last lines, less than a request's worth: sent after every lane.
                done.held_from = Some(chunk.lines[0]);
                break done;
            }
            if halt.load(Ordering::Relaxed) {
                done.unsent_from = Some(chunk.lines[0]);
                break done;
            }
            // The gathered lines become the requests' bodies as they are, not copied again;
            // the next gathering fills the same buffer once they are answered.
            let shared = Bytes::from(std::mem::take(&mut chunk.bytes));
            let run = self
                .write_run(
                    &shared,
                    Some(&shared),
                    &chunk.ends,
                    options,
                    caps,
                    on_refusal,
                    Some(halt),
                    stop,
                )
                .await;
            chunk.bytes = crate::core::spares::reclaim(shared);
            done.commit.add(run.commit);
            done.rejections.extend(run.rejections);
            if run.stopped.is_some() || run.unsent_from < chunk.lines.len() {
                // A plan that stops keeps the piece it stopped at unsettled, so the line is
                // there; if it were not, the last line counts as unsent rather than none.
                let at = run.unsent_from.min(chunk.lines.len() - 1);
                done.unsent_from = Some(chunk.lines[at]);
                done.stopped = run.stopped;
                done.retry_after = run.retry_after;
                done.cancelled = run.cancelled;
                break done;
            }
        };
        self.spares.keep(chunk);
        done
    }

    /// Sends lines in requests one after another, as the plan cuts them, until all are
    /// settled, one fails, or `halt` is set (by another run, which it then sets for others).
    /// `shared`, if given, holds the same bytes as `bytes`: requests are then pieces of it.
    /// Once `stop` is set (by the caller), no request is sent: the run stops as if the next
    /// one had failed.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn write_run(
        &self,
        bytes: &[u8],
        shared: Option<&Bytes>,
        ends: &[usize],
        options: &WriteOptions,
        caps: Caps,
        on_refusal: OnRefusal,
        halt: Option<&std::sync::atomic::AtomicBool>,
        stop: Option<&std::sync::atomic::AtomicBool>,
    ) -> Run {
        let mut plan = WritePlan::new(
            bytes,
            ends,
            caps.points,
            self.request_cap().min(caps.bytes),
            self.config.max_request_size,
            on_refusal,
        );
        let mut stopped = None;
        let mut retry_after = None;
        let mut cancelled = false;
        loop {
            if halt.is_some_and(|halt| halt.load(Ordering::Relaxed)) {
                break;
            }
            let piece = match plan.next() {
                Ok(Some(piece)) => piece,
                Ok(None) => break,
                Err(e) => {
                    stopped = Some(e);
                    break;
                }
            };
            if stop.is_some_and(|stop| stop.load(Ordering::Acquire)) {
                plan.put_back(piece);
                stopped = Some(stopped_error());
                cancelled = true;
                break;
            }
            // A piece of a shared buffer goes as it is; of a borrowed one, as a copy.
            let body = match shared {
                Some(shared) => shared.slice(plan.range(piece)),
                None => Bytes::copy_from_slice(plan.body(piece)),
            };
            let (result, asked) = self.write_body(body, options).await;
            if let Err(e) = plan.settle(piece, result) {
                stopped = Some(e);
                retry_after = asked;
                break;
            }
        }
        if stopped.is_some() {
            if let Some(halt) = halt {
                halt.store(true, Ordering::Relaxed);
            }
        }
        self.request_cap
            .fetch_min(plan.cap_bytes(), Ordering::Relaxed);
        let unsent_from = plan.unsent_from();
        let (commit, rejections) = plan.finish();
        Run {
            commit,
            rejections,
            unsent_from,
            stopped,
            retry_after,
            cancelled,
        }
    }

    /// The byte cap of a request: the client's `max_request_size`, lowered by any 413.
    pub(super) fn request_cap(&self) -> usize {
        self.request_cap.load(Ordering::Relaxed)
    }

    /// One write request: its outcome, and the answer's `Retry-After`, if any.
    async fn write_body(
        &self,
        body: Bytes,
        options: &WriteOptions,
    ) -> (Result<(), Error>, Option<Duration>) {
        let options = options.clone().or_database(self.database());
        let request = match http::write_request(&options, body) {
            Ok(request) => request,
            Err(e) => return (Err(e), None),
        };
        match self.send(request).await {
            Ok(answer) => (
                http::classify_write(&answer, 0),
                answer
                    .retry_after
                    .as_deref()
                    .and_then(retry::parse_retry_after),
            ),
            Err(e) => (Err(e), None),
        }
    }

    pub(crate) async fn query_with(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<ResultSet>, Error> {
        let mut stream = self.open_stream(query, options, true).await?;
        let mut sets = resultset::SetBuilder::new(options.raises_errors());
        while self.next_document(&mut stream).await? {
            stream.walk(&mut sets)?;
        }
        Ok(sets.finish())
    }

    pub(crate) async fn query_statements(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Statements, Error> {
        Ok(Statements {
            body: self.fetch(query, options, Chunking::Always).await?,
            ctx: CellContext {
                epoch: options.epoch_value(),
            },
        })
    }

    pub(crate) async fn query_as_with<R: FromRow>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<R>, Error> {
        let ctx = CellContext {
            epoch: options.epoch_value(),
        };
        let mut reader = typed::typed_reader::<R, Json>(0, ctx);
        let mut stream = self.open_stream(query, options, true).await?;
        while self.next_document(&mut stream).await? {
            stream.walk(&mut reader)?;
        }
        reader.finish()
    }

    pub(crate) async fn query_deserialize<R: DeserializeOwned>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<R>, Error> {
        let mut reader = typed::serde_reader::<R>(0);
        let mut stream = self.open_stream(query, options, true).await?;
        while self.next_document(&mut stream).await? {
            stream.walk(&mut reader)?;
        }
        reader.finish()
    }

    pub(crate) async fn query_raw(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<u8>, Error> {
        self.fetch(query, options, Chunking::AsAsked).await
    }

    async fn fetch(
        &self,
        query: &str,
        options: &QueryOptions,
        chunking: Chunking,
    ) -> Result<Vec<u8>, Error> {
        let request = http::query_request(query, options, self.database(), chunking)?;
        let answer = self.send(request).await?;
        http::classify_query(&answer)?;
        Ok(answer.body)
    }

    /// Sends a query for a chunked answer and hands over its body to read as it arrives.
    /// `merged`: the caller collects everything, so the client's `max_answer_size` bounds the
    /// whole answer; otherwise it bounds each chunk.
    pub(crate) async fn open_stream(
        &self,
        query: &str,
        options: &QueryOptions,
        merged: bool,
    ) -> Result<QueryStream<T::Body>, Error> {
        let request = http::query_request(query, options, self.database(), Chunking::Always)?;
        let started = Instant::now();
        let total = self.config.timeout.filter(|_| merged);
        match self.send_as(request, true, total).await? {
            Opened::Stream(head, body) => {
                let encoding = Encoding::from_header(
                    head.headers
                        .get(header::CONTENT_ENCODING)
                        .map(HeaderValue::as_bytes),
                )?;
                let limit = self.config.max_answer_size;
                Ok(QueryStream {
                    body,
                    documents: Documents::new(
                        AnswerBody::new(encoding, limit, None),
                        merged.then_some(limit),
                    ),
                    walk: Walk::default(),
                    statements: crate::request::influxql::statement_count(query),
                    ended: false,
                    // A merged answer is one call, bounded as a whole; a stream only in each
                    // wait for more (the HTTP client's own timeouts).
                    deadline: self
                        .config
                        .timeout
                        .filter(|_| merged)
                        .map(|timeout| (started, timeout)),
                })
            }
            Opened::Whole(answer) => {
                http::classify_query(&answer)?;
                Err(Error::Protocol(
                    format!("a query answered {} with no error", answer.status).into(),
                ))
            }
        }
    }

    /// Whether the next whole JSON document of a stream has arrived (then
    /// [`QueryStream::walk`] reads it); `false` once the answer has ended, and been checked
    /// to be whole.
    pub(crate) async fn next_document(
        &self,
        stream: &mut QueryStream<T::Body>,
    ) -> Result<bool, Error> {
        loop {
            if stream.documents.next_document()? {
                return Ok(true);
            }
            if stream.ended {
                return Ok(false);
            }
            match self.http.next_piece(&mut stream.body).await? {
                Some(piece) => {
                    if let Some((started, timeout)) = stream.deadline {
                        if started.elapsed() > timeout {
                            return Err(Error::Timeout(
                                format!("the answer took longer than {timeout:?}").into(),
                            ));
                        }
                    }
                    stream.documents.push(&piece)?
                }
                None => {
                    if stream.documents.end()? {
                        return Ok(true);
                    }
                    stream.ended = true;
                    stream.walk.finish(Some(stream.statements), true)?;
                }
            }
        }
    }

    /// Runs a statement that returns nothing (admin statements), raising its error.
    /// Runs one statement, on `database` if given, and returns its result.
    pub(crate) async fn query_on(
        &self,
        statement: &str,
        database: Option<&str>,
    ) -> Result<Vec<ResultSet>, Error> {
        let mut options = QueryOptions::new();
        if let Some(db) = database {
            options = options.database(db);
        }
        self.query_with(statement, &options).await
    }

    /// Runs one statement that answers nothing worth keeping.
    pub(crate) async fn execute(
        &self,
        statement: &str,
        database: Option<&str>,
    ) -> Result<(), Error> {
        self.query_on(statement, database).await.map(drop)
    }
}

fn auth_header(credentials: &Credentials) -> Result<Option<HeaderValue>, Error> {
    credentials
        .header_value()
        .map(|value| {
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                Error::Config("credentials hold characters not allowed in a header".into())
            })?;
            // Keeps the value out of reqwest's and hyper's own debug output.
            value.set_sensitive(true);
            Ok(value)
        })
        .transpose()
}

/// The undecoded answer to a query of several statements; decode each into its own type.
///
/// ```no_run
/// # use influx_series::{Client, FromRow, QueryOptions};
/// # fn demo<Cpu: FromRow, Mem: FromRow>(client: &Client) -> Result<(), influx_series::Error> {
/// let answer = client.query_statements("SELECT * FROM cpu; SELECT * FROM mem", &QueryOptions::new())?;
/// let cpu: Vec<Cpu> = answer.get(0)?;
/// let mem: Vec<Mem> = answer.get(1)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Statements {
    body: Vec<u8>,
    ctx: CellContext,
}

impl Statements {
    /// Decodes the rows of statement `index` into `T`; a failed statement is
    /// [`Error::Statement`].
    pub fn get<T: FromRow>(&self, index: usize) -> Result<Vec<T>, Error> {
        typed::decode_rows::<T, typed::Json>(&self.body, index, self.ctx)
    }

    /// Deserializes statement `index` into any serde type.
    pub fn deserialize<T: DeserializeOwned>(&self, index: usize) -> Result<Vec<T>, Error> {
        typed::deserialize_rows(&self.body, index)
    }

    /// The raw JSON.
    pub fn raw(&self) -> &[u8] {
        &self.body
    }
}
