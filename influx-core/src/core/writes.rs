//! Writes, written once over a [`Transport`](super::transport::Transport): points encoded and
//! planned in requests, several in flight, refused lines isolated, UDP.

use std::borrow::Borrow;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;

use crate::core::exchange::{Core, stopped_error};
use crate::core::transport::Transport;
use crate::error::{Commit, Error, Rejection};
use crate::protocol::line::LineBuf;
use crate::protocol::point::Point;
use crate::request::http::{self, WriteOptions};
use crate::request::responses;
use crate::request::retry::{self};
use crate::request::write_plan::{self, OnRefusal, Unsent, WritePlan};

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

impl<T: Transport> Core<T> {
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
                responses::classify_write(&answer, 0),
                answer
                    .retry_after
                    .as_deref()
                    .and_then(retry::parse_retry_after),
            ),
            Err(e) => (Err(e), None),
        }
    }
}
