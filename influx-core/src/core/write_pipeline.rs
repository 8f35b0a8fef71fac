// Over 800 lines, kept whole: one pipeline, the encoder, the desk it deals lines at and the
// lanes that send them, for both clients; its types are private to it and hand work to each
// other, so they are read together.
//! `write_points` with several requests in flight on the blocking client: the calling thread
//! encodes the points and deals each line to a lane while the lanes, on threads of their own,
//! send what it has dealt them, so encoding overlaps the requests instead of coming before
//! them. (The points' iterator never leaves the calling thread, so it need not be `Send`.)
//!
//! Each lane takes a request's worth at a time from a queue of [`QUEUED`]; the encoder waits
//! when a lane's queue is full, so a write holds at most a request being filled, one queued and
//! one in flight per lane, however many points it is given. When a request fails, every lane
//! stops after its current request and the encoder stops taking points; the points not stored
//! are reported by position ([`Unsent`]), as with rounds.
//!
//! The async client runs the same pipeline in the caller's task
//! ([`Core::write_points_fed_async`]): the same window, dealing, queues and reports, with the
//! lanes' requests polled between two pieces of encoding instead of sent from threads.

use std::borrow::Borrow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(feature = "blocking")]
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

use crate::core::exchange::Core;
#[cfg(feature = "async")]
use crate::core::spares::Spares;
use crate::core::spares::{Fed, Room};
use crate::core::transport::Transport;
#[cfg(feature = "blocking")]
use crate::core::transport::complete;
use crate::core::writes::{Caps, Run, WriteOutcome};
use crate::error::{Commit, Error};
use crate::protocol::point::{Point, SharedTags};
use crate::request::http::WriteOptions;
use crate::request::write_plan::{Dealer, OnRefusal, Unsent};

/// Requests a lane's queue holds besides the one it is sending.
const QUEUED: usize = 1;

#[cfg(feature = "blocking")]
/// One lane's queue.
#[derive(Default)]
struct Feed {
    state: Mutex<FeedState>,
    changed: Condvar,
}

#[cfg(feature = "blocking")]
#[derive(Default)]
struct FeedState {
    queue: VecDeque<Fed>,
    /// The encoder is done: no more will come.
    closed: bool,
}

#[cfg(feature = "blocking")]
impl Feed {
    fn lock(&self) -> MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `fed`, waiting while the queue is full; gives it back if the write halted.
    fn push(&self, fed: Fed, halt: &AtomicBool) -> Result<(), Fed> {
        let mut state = self.lock();
        while state.queue.len() >= QUEUED && !halt.load(Ordering::Relaxed) {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if halt.load(Ordering::Relaxed) {
            return Err(fed);
        }
        state.queue.push_back(fed);
        self.changed.notify_all();
        Ok(())
    }

    /// The next request's worth, waiting for it; `None` once the encoder is done and the
    /// queue is empty, or the write halted.
    fn pop(&self, halt: &AtomicBool) -> Option<Fed> {
        let mut state = self.lock();
        loop {
            if halt.load(Ordering::Relaxed) {
                return None;
            }
            if let Some(fed) = state.queue.pop_front() {
                self.changed.notify_all();
                return Some(fed);
            }
            if state.closed {
                return None;
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// Wakes whoever waits on the queue (to see the halt).
    fn wake(&self) {
        let _state = self.lock();
        self.changed.notify_all();
    }
}

#[cfg(feature = "blocking")]
/// Ends the lanes' waits when dropped: closes the feeds (`close`) or wakes whoever waits on
/// them, and, when its thread is panicking, halts the write first.
struct Stop<'a> {
    feeds: &'a [Feed],
    halt: &'a AtomicBool,
    close: bool,
}

#[cfg(feature = "blocking")]
impl Drop for Stop<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.halt.store(true, Ordering::Relaxed);
        }
        for feed in self.feeds {
            if self.close {
                feed.close();
            } else {
                feed.wake();
            }
        }
    }
}

/// What one lane did.
#[derive(Default)]
struct LaneDone {
    commit: Commit,
    /// The positions of its lines not settled, from the request it stopped at.
    unsent: Vec<usize>,
    /// Why it stopped, if a request of its own failed, with its first unsettled position.
    stopped: Option<(usize, Error)>,
}

#[cfg(feature = "blocking")]
impl<T: Transport> Core<T> {
    /// `write_points` with `in_flight` (at least 2) requests in flight, on a transport whose
    /// calls complete when first polled.
    ///
    /// The first points, up to a request's worth for each lane, are encoded first. A write
    /// that ends there goes as a batch, as any other, in as many requests as it needs (a few
    /// points: one). A longer one is fed to the lanes as it is encoded.
    pub(super) fn write_points_fed<P: Borrow<Point>>(
        &self,
        points: impl IntoIterator<Item = P>,
        options: &WriteOptions,
        cap_points: usize,
        stamp: bool,
        in_flight: usize,
    ) -> Result<Commit, Error> {
        let mut points = points.into_iter().peekable();
        let encoder = Encoder {
            options,
            stamp,
            shared_tags: options.shared_tags(),
        };
        let mut window = self.spares.take(Room::NONE);
        if encoder.first_window(&mut points, cap_points, in_flight, &mut window)? {
            let outcome = complete(self.write_batch(
                &window.bytes,
                None,
                &window.ends,
                options,
                Caps::points(cap_points),
                OnRefusal::Stop,
                None,
            ));
            let lines = window.lines.len();
            self.spares.keep(window);
            return outcome.of_window(lines);
        }
        let lanes = in_flight.clamp(1, usize::from(u8::MAX) - 1);
        let halt = AtomicBool::new(false);
        let feeds: Vec<Feed> = (0..lanes).map(|_| Feed::default()).collect();
        let caps = Caps::points(cap_points);
        let room = Room::of_request(&window, caps.points, self.request_cap());
        let (produced, done) = std::thread::scope(|scope| {
            // Closes the feeds once the encoder is done, and halts the write if it is done by a
            // panic (the points' iterator's, say, or one while the lanes' first requests are
            // made): the lanes then end, and the scope passes the panic on instead of waiting
            // for them for ever. Made before the lanes start, so that no panic comes before it.
            let closing = Stop {
                feeds: &feeds,
                halt: &halt,
                close: true,
            };
            let handles: Vec<_> = (0..lanes)
                .map(|lane| {
                    let (feeds, halt) = (&feeds, &halt);
                    std::thread::Builder::new()
                        .name("influx-write".into())
                        .spawn_scoped(scope, move || {
                            // Wakes the encoder when this lane stops, and halts the write if it
                            // stops by a panic (which `join` then passes on).
                            let _stop = Stop {
                                feeds,
                                halt,
                                close: false,
                            };
                            let mut done = LaneDone::default();
                            while let Some(fed) = feeds[lane].pop(halt) {
                                let (going, sent) =
                                    self.send_fed(fed, options, caps, halt, &mut done);
                                self.spares.keep(sent);
                                if !going {
                                    break;
                                }
                            }
                            done
                        })
                        .ok()
                })
                .collect();
            // A lane without a thread is served here, each request as it is dealt.
            let mut inline: Vec<Option<LaneDone>> = handles
                .iter()
                .map(|h| h.is_none().then(LaneDone::default))
                .collect();
            let hands = Hands {
                core: self,
                feeds: &feeds,
                halt: &halt,
                inline: &mut inline,
                options,
                caps,
                cap_bytes: self.request_cap(),
                filling: (0..lanes).map(|_| self.spares.take(room)).collect(),
                room,
                unsent: Vec::new(),
            };
            let produced = encoder.produce(window, points, hands);
            drop(closing);
            let done: Vec<LaneDone> = handles
                .into_iter()
                .zip(inline)
                .map(|(handle, inline)| match (handle, inline) {
                    (Some(handle), _) => match handle.join() {
                        Ok(done) => done,
                        Err(panic) => std::panic::resume_unwind(panic),
                    },
                    (None, Some(done)) => done,
                    (None, None) => unreachable!("a lane without a thread is served inline"),
                })
                .collect();
            (produced, done)
        });
        let Produced {
            reached,
            mut unsent,
            refused,
        } = produced;
        for feed in &feeds {
            for fed in feed.lock().queue.drain(..) {
                unsent.extend(fed.lines);
            }
        }
        lanes_result(done, unsent, reached, refused)
    }

    /// Sends one request's worth; `false` once the lane must stop (its request failed, or the
    /// write halted), with the positions it did not settle in `done`. With its buffers,
    /// emptied for reuse.
    fn send_fed(
        &self,
        fed: Fed,
        options: &WriteOptions,
        caps: Caps,
        halt: &AtomicBool,
        done: &mut LaneDone,
    ) -> (bool, Fed) {
        let shared = Bytes::from(fed.bytes);
        let run = complete(self.write_run(
            &shared,
            Some(&shared),
            &fed.ends,
            options,
            caps,
            OnRefusal::Stop,
            Some(halt),
            None,
        ));
        let going = done.settle(&fed.lines, run, halt);
        (going, Fed::reuse(shared, fed.ends, fed.lines))
    }
}

impl LaneDone {
    /// Takes in what the run of a request's worth of lines at `lines` did; `false` once the
    /// lane must stop (its request failed, or the write halted), with the positions it did
    /// not settle kept, and the write halted.
    fn settle(&mut self, lines: &[usize], run: Run, halt: &AtomicBool) -> bool {
        self.commit.add(run.commit);
        if run.stopped.is_none() && run.unsent_from >= lines.len() {
            return true;
        }
        // A plan that stops keeps the piece it stopped at unsettled, so the line is there; if
        // it were not, the last line counts as unsent rather than none.
        let at = run.unsent_from.min(lines.len() - 1);
        self.unsent.extend_from_slice(&lines[at..]);
        if let Some(e) = run.stopped {
            self.stopped = Some((lines[at], e));
        }
        halt.store(true, Ordering::Relaxed);
        false
    }
}

/// What every lane did, with the positions never handed to one, and the error of a point
/// refused before it was encoded: the write's result.
fn lanes_result(
    done: Vec<LaneDone>,
    mut unsent: Vec<usize>,
    reached: usize,
    refused: Option<Error>,
) -> Result<Commit, Error> {
    let mut commit = Commit::default();
    let mut first: Option<(usize, Error)> = None;
    for lane in done {
        commit.add(lane.commit);
        unsent.extend(lane.unsent);
        if let Some((at, e)) = lane.stopped {
            if first.as_ref().is_none_or(|(earliest, _)| at < *earliest) {
                first = Some((at, e));
            }
        }
    }
    match (first, refused) {
        (Some((_, e)), _) => {
            unsent.sort_unstable();
            Err(Unsent::from_sorted(unsent).error(e, reached, commit.written))
        }
        // Every point before the refused one was written.
        (None, Some(e)) => Err(e.after_writing(commit.written)),
        (None, None) => Ok(commit),
    }
}

impl WriteOutcome {
    /// The result of a write that was one window of `lines` lines, sent as a batch.
    fn of_window(self, lines: usize) -> Result<Commit, Error> {
        match self.stopped {
            Some((unsent, e)) => Err(unsent.error(e, lines, self.commit.written)),
            None => Ok(self.commit),
        }
    }
}

/// How points become lines.
struct Encoder<'a> {
    options: &'a WriteOptions,
    /// Whether points without a time are given the client's.
    stamp: bool,
    shared_tags: &'a SharedTags,
}

impl Encoder<'_> {
    /// Encodes the first points of a write into `window`, before anything is sent: up to a
    /// request's worth for each request in flight. `Ok(true)` when the points end there (the
    /// window then goes as a batch, as any other). A point refused in it stops the write with
    /// nothing written, as a write of a single request would.
    fn first_window<P: Borrow<Point>>(
        &self,
        points: &mut std::iter::Peekable<impl Iterator<Item = P>>,
        cap_points: usize,
        in_flight: usize,
        window: &mut Fed,
    ) -> Result<bool, Error> {
        let window_lines = cap_points.saturating_mul(in_flight).min(WINDOW_LINES);
        for p in points.by_ref() {
            self.encode(p.borrow(), &mut window.bytes)?;
            window.ends.push(window.bytes.len());
            window.lines.push(window.lines.len());
            if window.lines.len() >= window_lines || window.bytes.len() >= WINDOW_BYTES {
                return Ok(points.peek().is_none());
            }
        }
        Ok(true)
    }

    /// Appends `p`'s line, newline included, unless its tags clash with the shared ones.
    fn encode(&self, p: &Point, out: &mut Vec<u8>) -> Result<(), Error> {
        self.shared_tags.check_against(p)?;
        let time = (self.stamp && p.timestamp_nanos().is_none())
            .then(crate::protocol::clock::unique_now_nanos);
        p.write_line_with_tags(
            out,
            self.options.precision_value(),
            self.shared_tags.as_slice(),
            time,
        );
        out.push(b'\n');
        Ok(())
    }

    #[cfg(feature = "blocking")]
    /// Deals the first `window` of lines, then encodes and deals the rest of the points, until
    /// they end, one is refused, or the write halts.
    fn produce<P: Borrow<Point>, T: Transport>(
        &self,
        window: Fed,
        points: impl Iterator<Item = P>,
        mut hands: Hands<'_, T>,
    ) -> Produced {
        let lanes = hands.filling.len();
        let mut reached = window.lines.len();
        let (mut dealer, lanes_of) = Dealer::start(&window.bytes, &window.ends, lanes);
        let mut going = hands.deal_all(&window, &lanes_of);
        // Its lines are in the lanes' requests now.
        hands.core.spares.keep(window);
        drop(lanes_of);
        let mut refused = None;
        let mut line = Vec::new();
        if going {
            for p in points {
                line.clear();
                if let Err(e) = self.encode(p.borrow(), &mut line) {
                    refused = Some(e);
                    break;
                }
                let position = reached;
                reached += 1;
                going = hands.deal(dealer.lane(&line), &line, position);
                if !going || hands.halt.load(Ordering::Relaxed) {
                    break;
                }
            }
        }
        Produced {
            reached,
            unsent: hands.finish(going),
            refused,
        }
    }
}

#[cfg(feature = "blocking")]
/// The encoder's side of the lanes: the request each lane is being dealt, and what it could
/// not hand over.
struct Hands<'a, T> {
    core: &'a Core<T>,
    feeds: &'a [Feed],
    halt: &'a AtomicBool,
    /// The lanes without a thread, served here.
    inline: &'a mut [Option<LaneDone>],
    options: &'a WriteOptions,
    caps: Caps,
    cap_bytes: usize,
    filling: Vec<Fed>,
    /// The room a lane's new request is given.
    room: Room,
    /// Positions of lines encoded and never handed to a lane.
    unsent: Vec<usize>,
}

#[cfg(feature = "blocking")]
impl<T: Transport> Hands<'_, T> {
    /// Hands a lane's request over, and gives the lane a new one to fill (emptied buffers of
    /// an earlier one when there are); `false` once the write halted (its lines are then
    /// unsent). Without `refill`, the lane is given an empty request without room: the
    /// points have ended.
    fn hand(&mut self, lane: usize, refill: bool) -> bool {
        if self.filling[lane].lines.is_empty() {
            return true;
        }
        let fresh = if refill {
            self.core.spares.take(self.room)
        } else {
            Fed::default()
        };
        let fed = std::mem::replace(&mut self.filling[lane], fresh);
        if let Some(done) = &mut self.inline[lane] {
            if self.halt.load(Ordering::Relaxed) {
                self.unsent.extend(fed.lines);
                return false;
            }
            let (going, sent) = self
                .core
                .send_fed(fed, self.options, self.caps, self.halt, done);
            self.core.spares.keep(sent);
            return going;
        }
        match self.feeds[lane].push(fed, self.halt) {
            Ok(()) => true,
            Err(fed) => {
                self.unsent.extend(fed.lines);
                false
            }
        }
    }

    /// Deals a line to `lane`, handing the lane's request over when it is full; `false` once
    /// the write halted (the line is then unsent, or in a request that stopped).
    fn deal(&mut self, lane: usize, text: &[u8], position: usize) -> bool {
        // The line that crosses the byte cap starts the next request; a line over the cap
        // goes alone (the plan sends or refuses it).
        let fed = &self.filling[lane];
        if !fed.lines.is_empty()
            && fed.bytes.len() + text.len() > self.cap_bytes
            && !self.hand(lane, true)
        {
            self.unsent.push(position);
            return false;
        }
        let fed = &mut self.filling[lane];
        fed.push(text, position);
        if fed.lines.len() >= self.caps.points {
            return self.hand(lane, true);
        }
        true
    }

    /// Deals every line of `window` as `lanes_of` says; `false` once the write halted (the
    /// lines not dealt are then unsent).
    fn deal_all(&mut self, window: &Fed, lanes_of: &[u8]) -> bool {
        let mut start = 0;
        for (at, (&end, &lane)) in window.ends.iter().zip(lanes_of).enumerate() {
            if !self.deal(
                usize::from(lane),
                &window.bytes[start..end],
                window.lines[at],
            ) {
                self.unsent.extend_from_slice(&window.lines[at + 1..]);
                return false;
            }
            start = end;
        }
        true
    }

    /// Hands over what every lane was being dealt (if the write still goes); the positions
    /// never handed over.
    fn finish(mut self, going: bool) -> Vec<usize> {
        let mut going = going;
        for lane in 0..self.filling.len() {
            if going {
                going = self.hand(lane, false);
            } else {
                let lines = std::mem::take(&mut self.filling[lane].lines);
                self.unsent.extend(lines);
            }
        }
        for fed in std::mem::take(&mut self.filling) {
            self.core.spares.keep(fed);
        }
        self.unsent
    }
}

/// The first lines of a write, at most this many, decide how its lines are dealt.
const WINDOW_LINES: usize = 20_000;
/// ... or at most this many bytes of them.
const WINDOW_BYTES: usize = 4 << 20;

#[cfg(feature = "blocking")]
/// What the encoder did.
#[derive(Default)]
struct Produced {
    /// Points taken from the iterator.
    reached: usize,
    /// Positions of lines encoded and never handed to a lane.
    unsent: Vec<usize>,
    /// The error of a point refused before it was encoded.
    refused: Option<Error>,
}

/// The lanes' requests of an async write, as the encoder deals them: the one each lane is
/// being dealt, and those whole, waiting for the lane.
#[cfg(feature = "async")]
struct Desk<'a> {
    filling: Vec<Fed>,
    ready: Vec<VecDeque<Fed>>,
    /// The client's buffers kept for reuse.
    spares: &'a Spares,
    cap_points: usize,
    cap_bytes: usize,
    /// The room a lane's new request is given.
    room: Room,
}

#[cfg(feature = "async")]
impl<'a> Desk<'a> {
    fn new(
        lanes: usize,
        spares: &'a Spares,
        cap_points: usize,
        cap_bytes: usize,
        room: Room,
    ) -> Desk<'a> {
        Desk {
            filling: (0..lanes).map(|_| spares.take(room)).collect(),
            ready: (0..lanes).map(|_| VecDeque::new()).collect(),
            spares,
            cap_points,
            cap_bytes,
            room,
        }
    }

    /// Makes `lane`'s request whole and gives it a new one to fill: emptied buffers of an
    /// earlier one when there are.
    fn seal(&mut self, lane: usize) {
        let fresh = self.spares.take(self.room);
        let full = std::mem::replace(&mut self.filling[lane], fresh);
        self.ready[lane].push_back(full);
    }

    /// Deals a line to `lane`, whose request is whole at the request caps, as
    /// [`Hands::deal`] does; `false` once the lane has [`QUEUED`] whole requests waiting (the
    /// encoder then stops until it sends one).
    fn deal(&mut self, lane: usize, text: &[u8], position: usize) -> bool {
        let fed = &mut self.filling[lane];
        // The line that crosses the byte cap starts the next request; a line over the cap
        // goes alone (the plan sends or refuses it).
        if !fed.lines.is_empty() && fed.bytes.len() + text.len() > self.cap_bytes {
            self.seal(lane);
        }
        let fed = &mut self.filling[lane];
        fed.push(text, position);
        if fed.lines.len() >= self.cap_points {
            self.seal(lane);
        }
        self.ready[lane].len() < QUEUED
    }

    /// Makes every request being dealt whole: the points have ended.
    fn flush(&mut self) {
        for (fed, ready) in self.filling.iter_mut().zip(&mut self.ready) {
            if !fed.lines.is_empty() {
                ready.push_back(std::mem::take(fed));
            }
        }
    }

    /// Whether every lane has fewer than [`QUEUED`] whole requests waiting: the encoder
    /// goes on only then, as the blocking one waits on a full queue.
    fn has_room(&self) -> bool {
        self.ready.iter().all(|ready| ready.len() < QUEUED)
    }

    /// The positions of every line still here (their buffers are kept for reuse).
    fn unsent(self) -> Vec<usize> {
        let mut unsent = Vec::new();
        for mut fed in self.ready.into_iter().flatten().chain(self.filling) {
            unsent.append(&mut fed.lines);
            self.spares.keep(fed);
        }
        unsent
    }
}

/// A request's worth being sent by an async write: its buffers, the text's and ends' emptied
/// for reuse and the lines' positions kept, and what the run did.
#[cfg(feature = "async")]
type Sending<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = (Fed, Run)> + Send + 'a>>;

/// Points an async write encodes between two looks at its requests in flight, at most: about
/// 0.2 ms of encoding.
#[cfg(feature = "async")]
const ENCODE_PIECE: usize = 1_000;

/// The longest an async write goes on encoding (or waiting for the points' iterator) before it
/// looks at its requests in flight again, give or take 16 points.
#[cfg(feature = "async")]
const PIECE_TIME: std::time::Duration = std::time::Duration::from_millis(1);

#[cfg(feature = "async")]
impl<T: Transport> Core<T> {
    /// `write_points` with `in_flight` (at least 2) requests in flight, on an async transport:
    /// the blocking client's pipeline in one task. The first window is encoded and dealt as
    /// there; then the task encodes the points [`ENCODE_PIECE`] at a time and deals each
    /// line to a lane, and between two pieces lets the runtime run (so that requests go out
    /// and answers come in) and hands each idle lane its next request. Each lane sends its
    /// requests one after another, as they fill; the encoder stops while a lane has
    /// [`QUEUED`] whole requests waiting, and waits for answers instead. Failures, refused
    /// points and the positions reported are as with the blocking client.
    pub(super) async fn write_points_fed_async<P: Borrow<Point>>(
        &self,
        points: impl IntoIterator<Item = P>,
        options: &WriteOptions,
        cap_points: usize,
        stamp: bool,
        in_flight: usize,
    ) -> Result<Commit, Error> {
        let mut points = points.into_iter().peekable();
        let encoder = Encoder {
            options,
            stamp,
            shared_tags: options.shared_tags(),
        };
        let mut window = self.spares.take(Room::NONE);
        if encoder.first_window(&mut points, cap_points, in_flight, &mut window)? {
            let outcome = self
                .write_batch(
                    &window.bytes,
                    None,
                    &window.ends,
                    options,
                    Caps::points(cap_points),
                    OnRefusal::Stop,
                    None,
                )
                .await;
            let lines = window.lines.len();
            self.spares.keep(window);
            return outcome.of_window(lines);
        }
        let lanes = in_flight.clamp(1, usize::from(u8::MAX) - 1);
        let caps = Caps::points(cap_points);
        let halt = AtomicBool::new(false);
        let room = Room::of_request(&window, caps.points, self.request_cap());
        let mut desk = Desk::new(lanes, &self.spares, caps.points, self.request_cap(), room);
        let (mut dealer, lanes_of) = Dealer::start(&window.bytes, &window.ends, lanes);
        let mut start = 0;
        for ((&end, &lane), &position) in window.ends.iter().zip(&lanes_of).zip(&window.lines) {
            // The window holds about a request's worth a lane: its lines are all dealt.
            desk.deal(usize::from(lane), &window.bytes[start..end], position);
            start = end;
        }
        let mut reached = window.lines.len();
        // Its lines are in the lanes' requests now.
        self.spares.keep(window);
        drop(lanes_of);
        let mut sending: Vec<Option<Sending<'_>>> = (0..lanes).map(|_| None).collect();
        let mut done: Vec<LaneDone> = (0..lanes).map(|_| LaneDone::default()).collect();
        let mut refused = None;
        let mut encoding = true;
        let mut line = Vec::new();
        loop {
            let halted = halt.load(Ordering::Relaxed);
            if !encoding && !halted {
                desk.flush();
            }
            if !halted {
                let mut sent = false;
                for (lane, slot) in sending.iter_mut().enumerate() {
                    if slot.is_none() {
                        if let Some(fed) = desk.ready[lane].pop_front() {
                            *slot = Some(self.send_fed_async(fed, options, caps, &halt));
                            sent = true;
                        }
                    }
                }
                // Polled once at once, a new request goes out before the next piece.
                if sent {
                    for (lane, (fed, run)) in poll_sending(&mut sending).await {
                        done[lane].settle(&fed.lines, run, &halt);
                        self.spares.keep(fed);
                    }
                }
            }
            let wait = if encoding && !halted && desk.has_room() {
                let started = std::time::Instant::now();
                for taken in 1..=ENCODE_PIECE {
                    let Some(p) = points.next() else {
                        encoding = false;
                        break;
                    };
                    line.clear();
                    if let Err(e) = encoder.encode(p.borrow(), &mut line) {
                        refused = Some(e);
                        encoding = false;
                        break;
                    }
                    let room = desk.deal(dealer.lane(&line), &line, reached);
                    reached += 1;
                    // The requests in flight are polled only between pieces: a slow iterator
                    // must not keep an answer waiting past the client's timeout.
                    if !room || (taken % 16 == 0 && started.elapsed() >= PIECE_TIME) {
                        break;
                    }
                }
                encoding = encoding && points.peek().is_some();
                false
            } else if sending.iter().all(Option::is_none) {
                // Nothing in flight and nothing to encode: every lane is idle, so nothing is
                // waiting for one either (unless the write halted).
                break;
            } else {
                true
            };
            for (lane, (fed, run)) in answered(&mut sending, wait).await {
                done[lane].settle(&fed.lines, run, &halt);
                self.spares.keep(fed);
            }
        }
        lanes_result(done, desk.unsent(), reached, refused)
    }

    /// Sends one request's worth, as [`Core::send_fed`] does, awaited.
    fn send_fed_async<'a>(
        &'a self,
        fed: Fed,
        options: &'a WriteOptions,
        caps: Caps,
        halt: &'a AtomicBool,
    ) -> Sending<'a> {
        Box::pin(async move {
            let shared = Bytes::from(fed.bytes);
            let run = self
                .write_run(
                    &shared,
                    Some(&shared),
                    &fed.ends,
                    options,
                    caps,
                    OnRefusal::Stop,
                    Some(halt),
                    None,
                )
                .await;
            (Fed::reuse(shared, fed.ends, fed.lines), run)
        })
    }
}

/// Polls every request in flight and takes out those that are done, with their lanes. With
/// `wait`, until at least one is; without, after yielding to the runtime once if none is (so
/// that it runs the connections: requests go out, answers come in), whether any is or not.
#[cfg(feature = "async")]
async fn answered(sending: &mut [Option<Sending<'_>>], wait: bool) -> Vec<(usize, (Fed, Run))> {
    if !wait {
        let out = poll_sending(sending).await;
        if !out.is_empty() {
            return out;
        }
        // tokio's yield, unlike a task waking itself, lets its I/O driver run first.
        tokio::task::yield_now().await;
        return poll_sending(sending).await;
    }
    std::future::poll_fn(|cx| {
        let out = take_done(sending, cx);
        if out.is_empty() {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(out)
        }
    })
    .await
}

/// Polls every request in flight once; those that are done.
#[cfg(feature = "async")]
async fn poll_sending(sending: &mut [Option<Sending<'_>>]) -> Vec<(usize, (Fed, Run))> {
    std::future::poll_fn(|cx| std::task::Poll::Ready(take_done(sending, cx))).await
}

/// Polls every request in flight with `cx` and takes out those that are done.
#[cfg(feature = "async")]
fn take_done(
    sending: &mut [Option<Sending<'_>>],
    cx: &mut std::task::Context<'_>,
) -> Vec<(usize, (Fed, Run))> {
    let mut out = Vec::new();
    for (lane, slot) in sending.iter_mut().enumerate() {
        if let Some(future) = slot {
            if let std::task::Poll::Ready(result) = future.as_mut().poll(cx) {
                *slot = None;
                out.push((lane, result));
            }
        }
    }
    out
}
