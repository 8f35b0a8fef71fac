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

use std::borrow::Borrow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

use super::{Caps, Core, Transport, complete};
use crate::client::http::WriteOptions;
use crate::client::write::{Dealer, OnRefusal, Unsent};
use crate::error::{Commit, Error};
use crate::protocol::point::{Point, SharedTags};

/// Requests a lane's queue holds besides the one it is sending.
const QUEUED: usize = 1;

/// A request's worth of lines for one lane.
#[derive(Default)]
struct Fed {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Each line's position in the write.
    lines: Vec<usize>,
}

impl Fed {
    fn push(&mut self, line: &[u8], position: usize) {
        self.bytes.extend_from_slice(line);
        self.ends.push(self.bytes.len());
        self.lines.push(position);
    }
}

/// One lane's queue.
#[derive(Default)]
struct Feed {
    state: Mutex<FeedState>,
    changed: Condvar,
}

#[derive(Default)]
struct FeedState {
    queue: VecDeque<Fed>,
    /// The encoder is done: no more will come.
    closed: bool,
}

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

/// Ends the lanes' waits when dropped: closes the feeds (`close`) or wakes whoever waits on
/// them, and, when its thread is panicking, halts the write first.
struct Stop<'a> {
    feeds: &'a [Feed],
    halt: &'a AtomicBool,
    close: bool,
}

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
        let window_lines = cap_points.saturating_mul(in_flight).min(WINDOW_LINES);
        let mut window = Fed::default();
        let mut ended = true;
        for p in points.by_ref() {
            // Nothing is sent before the first window is whole: a point refused in it stops
            // the write with nothing written, as a write of a single request would.
            encoder.encode(p.borrow(), &mut window.bytes)?;
            window.ends.push(window.bytes.len());
            window.lines.push(window.lines.len());
            if window.lines.len() >= window_lines || window.bytes.len() >= WINDOW_BYTES {
                ended = points.peek().is_none();
                break;
            }
        }
        if ended {
            let caps = Caps::points(cap_points);
            let outcome = complete(self.write_batch(
                &window.bytes,
                &window.ends,
                options,
                caps,
                OnRefusal::Stop,
            ));
            return match outcome.stopped {
                Some((unsent, e)) => {
                    Err(unsent.error(e, window.lines.len(), outcome.commit.written))
                }
                None => Ok(outcome.commit),
            };
        }
        let lanes = in_flight.clamp(1, usize::from(u8::MAX) - 1);
        let halt = AtomicBool::new(false);
        let feeds: Vec<Feed> = (0..lanes).map(|_| Feed::default()).collect();
        let caps = Caps::points(cap_points);
        let (produced, done) = std::thread::scope(|scope| {
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
                                if !self.send_fed(fed, options, caps, halt, &mut done) {
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
                filling: (0..lanes).map(|_| Fed::default()).collect(),
                unsent: Vec::new(),
            };
            // Closes the feeds once the encoder is done, and halts the write if it is done by a
            // panic (the points' iterator's, say): the lanes then end, and the scope passes the
            // panic on instead of waiting for them for ever.
            let closing = Stop {
                feeds: &feeds,
                halt: &halt,
                close: true,
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
        let mut commit = Commit::default();
        let mut first: Option<(usize, Error)> = None;
        for lane in done {
            commit.add(lane.commit);
            unsent.extend(lane.unsent);
            if let Some((at, e)) = lane.stopped
                && first.as_ref().is_none_or(|(earliest, _)| at < *earliest)
            {
                first = Some((at, e));
            }
        }
        for feed in &feeds {
            for fed in feed.lock().queue.drain(..) {
                unsent.extend(fed.lines);
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

    /// Sends one request's worth; `false` once the lane must stop (its request failed, or the
    /// write halted), with the positions it did not settle in `done`.
    fn send_fed(
        &self,
        fed: Fed,
        options: &WriteOptions,
        caps: Caps,
        halt: &AtomicBool,
        done: &mut LaneDone,
    ) -> bool {
        let shared = Bytes::from(fed.bytes);
        let run = complete(self.write_run(
            &shared,
            Some(&shared),
            &fed.ends,
            options,
            caps,
            OnRefusal::Stop,
            Some(halt),
        ));
        done.commit.add(run.commit);
        if run.stopped.is_none() && run.unsent_from >= fed.lines.len() {
            return true;
        }
        // A plan that stops keeps the piece it stopped at unsettled, so the line is there; if
        // it were not, the last line counts as unsent rather than none.
        let at = run.unsent_from.min(fed.lines.len() - 1);
        done.unsent.extend_from_slice(&fed.lines[at..]);
        if let Some(e) = run.stopped {
            done.stopped = Some((fed.lines[at], e));
        }
        halt.store(true, Ordering::Relaxed);
        false
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
        drop((window, lanes_of));
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
    /// Positions of lines encoded and never handed to a lane.
    unsent: Vec<usize>,
}

impl<T: Transport> Hands<'_, T> {
    /// Hands a lane's request over; `false` once the write halted (its lines are then unsent).
    fn hand(&mut self, lane: usize, fed: Fed) -> bool {
        if fed.lines.is_empty() {
            return true;
        }
        if let Some(done) = &mut self.inline[lane] {
            if self.halt.load(Ordering::Relaxed) {
                self.unsent.extend(fed.lines);
                return false;
            }
            return self
                .core
                .send_fed(fed, self.options, self.caps, self.halt, done);
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
        let fed = &mut self.filling[lane];
        if !fed.lines.is_empty() && fed.bytes.len() + text.len() > self.cap_bytes {
            let full = std::mem::take(fed);
            if !self.hand(lane, full) {
                self.unsent.push(position);
                return false;
            }
        }
        let fed = &mut self.filling[lane];
        fed.push(text, position);
        if fed.lines.len() >= self.caps.points {
            let full = std::mem::take(fed);
            return self.hand(lane, full);
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
        let filling = std::mem::take(&mut self.filling);
        let mut going = going;
        for (lane, fed) in filling.into_iter().enumerate() {
            if going {
                going = self.hand(lane, fed);
            } else {
                self.unsent.extend(fed.lines);
            }
        }
        self.unsent
    }
}

/// The first lines of a write, at most this many, decide how its lines are dealt.
const WINDOW_LINES: usize = 20_000;
/// ... or at most this many bytes of them.
const WINDOW_BYTES: usize = 4 << 20;

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
