//! [`Core`], what both clients hold, and the exchange of one request and its answer: the
//! hosts tried in turn (failover, with a cool-down), retries and their waits, the call's
//! deadline, credentials, and an answer read to its bound ([`Reading`]). The calls themselves
//! are in `writes`, `queries` and `admin`.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderValue};

use crate::core::transport::{Opened, Prepared, Transport};
use crate::error::{Cause, Error};
use crate::request::config::{ClientConfig, Credentials};
use crate::request::http::{self, Method, Replay, Request};
use crate::request::responses::{self, Answer, AnswerBody, Encoding};
use crate::request::retry::{self, Next};

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
    /// read up to [`responses::MAX_ERROR_BODY`] and the rest left unread.
    only_start: bool,
    /// The body went on past what was read (or its compression broke).
    cut: bool,
    /// The body is MessagePack.
    msgpack: bool,
}

impl Reading {
    /// Starts reading an answer from its status line and headers. A success's body is bounded
    /// by the client's `max_answer_size`; of an error answer, or of any answer to a write
    /// (`only_start`: nothing but its message is ever read), the first
    /// [`responses::MAX_ERROR_BODY`] bytes are read.
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
            responses::MAX_ERROR_BODY
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
            msgpack: responses::is_msgpack(
                headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes),
            ),
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
            msgpack: self.msgpack,
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
pub(super) fn stopped_error() -> Error {
    Error::Timeout("the write was stopped before this request was sent".into())
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
    pub(super) request_cap: Arc<AtomicUsize>,
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
        if let Some(accept) = request.accept {
            headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
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
    pub(super) async fn send(&self, request: Request) -> Result<Answer, Error> {
        match self.send_as(request, false, self.config.timeout).await? {
            Opened::Whole(answer) => Ok(answer),
            Opened::Stream(..) => unreachable!("a stream is opened only when asked for"),
        }
    }

    /// Like [`Core::send`], but a `200` answer is handed over unread when `stream` is set;
    /// `total` bounds the whole exchange, body included (`None`: only each wait for more).
    pub(super) async fn send_as(
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
        responses::classify_ping(&self.send(http::ping_request()).await?)
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
