//! Writing a batch of encoded lines in requests: capped in points and bytes, split when the
//! server answers 413, and, for buffers that must never be wedged by one bad point, resent and
//! then bisected on a bare 400 until the lines the server refuses are isolated.
//!
//! Sans-IO: a [`WritePlan`] says which lines to send next and learns from each answer; the
//! transports only move bytes.
//!
//! What influxd 1.6.7 does, which the plan follows:
//! - `400 partial write: ... dropped=N`: every other point of the request was stored. For lines
//!   it could not parse it says `dropped=0` and quotes each line (`unable to parse '...'`):
//!   those are counted too.
//! - A bare `400 field type conflict` happens when the write creates a new shard; the failed
//!   request still registers the field's first type, so an identical resend gets a partial
//!   write with the good points stored. Other bare 400s (`max key length exceeded`, a body of
//!   unparsable lines) refuse the whole request for the sake of some of its lines.
//! - `413`: the body is over `max-body-size` (applied after gunzip).

use std::ops::Range;

use crate::error::{Commit, Error, Rejection};

/// What to do when the server refuses (part of) a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnRefusal {
    /// Stop at the first error, as a plain write call does: the caller holds the points.
    Stop,
    /// Acknowledge partial writes, resend a bare 400 once and then bisect it, and go on: for
    /// buffers, whose later points must not wait behind one the server will never take.
    Isolate,
}

/// A run of lines, `from..to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Piece {
    pub(crate) from: usize,
    pub(crate) to: usize,
    /// Whether a bare 400 may be answered by sending the piece once more (only pieces cut
    /// from the batch: pieces of a bisection are split again at once).
    may_resend: bool,
}

impl Piece {
    fn len(&self) -> usize {
        self.to - self.from
    }
}

/// Which lines to send next, and what became of those sent.
#[derive(Debug)]
pub(crate) struct WritePlan<'a> {
    bytes: &'a [u8],
    /// The end offset of each line in `bytes`, newline included.
    ends: &'a [usize],
    /// Pieces still to send, the next one on top: a depth-first walk from the first line on,
    /// so everything before the piece in hand is settled.
    stack: Vec<Piece>,
    cap_points: usize,
    cap_bytes: usize,
    /// The request size the caller allows at most; a line over it can never be sent.
    max_bytes: usize,
    on_refusal: OnRefusal,
    commit: Commit,
    rejections: Vec<Rejection>,
    /// The split that tells a server refusing the request from one refusing some lines: the
    /// message of the unknown 400 that made it (at most one such split a plan).
    probe: Probe,
}

/// Where a plan is in its one split of a piece refused with a 400 it does not know.
#[derive(Debug, Default)]
enum Probe {
    /// No piece was refused so: the next such refusal is split in two.
    #[default]
    Unused,
    /// The piece was split: its left half is (or was) sent, then the right one.
    Split { message: String, right: Piece },
    /// The left half was refused with the same message and waits: the right half decides.
    LeftRefused {
        message: String,
        left: Piece,
        right: Piece,
    },
    /// Decided: the lines are isolated as any refused lines are.
    Done,
}

/// What a 400 without a partial write says about the lines of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// A refusal that names a point's fault: some lines are bad (influxd's bare `field type
    /// conflict` when a write creates a shard, a body whose every line is unparsable, a key
    /// over the length limit). Isolated by halving. `resend`: sending the same lines again may
    /// pass (after a bare `field type conflict`, influxd stores the good points of a resend).
    Points { resend: bool },
    /// About the request, not its lines (`database is required`, an invalid `consistency`):
    /// every piece would get it again.
    Request,
    /// A 400 this client does not know: split once to find out which it is.
    Unknown,
}

/// How a 400 refusal `e` (not a partial write) reads.
fn refusal(e: &Error) -> Refusal {
    match e {
        Error::BatchRejected { .. } => Refusal::Points { resend: true },
        Error::Client {
            status: 400,
            message,
        } => {
            if ["database is required", "invalid consistency"]
                .iter()
                .any(|m| message.contains(m))
                || crate::request::responses::is_plain_to_tls(message)
            {
                Refusal::Request
            } else if ["unable to parse", "max key length exceeded"]
                .iter()
                .any(|m| message.starts_with(m))
            {
                Refusal::Points { resend: false }
            } else {
                Refusal::Unknown
            }
        }
        _ => Refusal::Request,
    }
}

impl<'a> WritePlan<'a> {
    /// A plan for the lines of `bytes` ending at `ends`, in requests of at most `cap_points`
    /// points and `cap_bytes` bytes (`max_bytes` is the hard limit; `cap_bytes` may be lower,
    /// learned from an earlier 413).
    pub(crate) fn new(
        bytes: &'a [u8],
        ends: &'a [usize],
        cap_points: usize,
        cap_bytes: usize,
        max_bytes: usize,
        on_refusal: OnRefusal,
    ) -> Self {
        let mut stack = Vec::new();
        if !ends.is_empty() {
            stack.push(Piece {
                from: 0,
                to: ends.len(),
                may_resend: true,
            });
        }
        WritePlan {
            bytes,
            ends,
            stack,
            cap_points: cap_points.max(1),
            cap_bytes: cap_bytes.clamp(1, max_bytes.max(1)),
            max_bytes: max_bytes.max(1),
            on_refusal,
            commit: Commit::default(),
            rejections: Vec::new(),
            probe: Probe::Unused,
        }
    }

    fn start_of(&self, line: usize) -> usize {
        if line == 0 { 0 } else { self.ends[line - 1] }
    }

    /// The bytes of lines `from..to`.
    pub(crate) fn body(&self, piece: Piece) -> &'a [u8] {
        &self.bytes[self.range(piece)]
    }

    /// Where the lines of `piece` are in the bytes.
    pub(crate) fn range(&self, piece: Piece) -> std::ops::Range<usize> {
        self.start_of(piece.from)..self.start_of(piece.to)
    }

    /// The byte cap, lowered by every 413 (for the caller to remember).
    pub(crate) fn cap_bytes(&self) -> usize {
        self.cap_bytes
    }

    /// The next piece to send, cut to the caps; `Err` when a single line is over the hard
    /// limit and the plan stops on refusals.
    pub(crate) fn next(&mut self) -> Result<Option<Piece>, Error> {
        while let Some(top) = self.stack.pop() {
            let base = self.start_of(top.from);
            let by_bytes =
                self.ends[top.from..top.to].partition_point(|&end| end - base <= self.cap_bytes);
            let take = by_bytes.min(self.cap_points).min(top.len());
            if take == 0 {
                // The first line alone is over the byte cap.
                let size = self.ends[top.from] - base;
                if size <= self.max_bytes {
                    // Only over a cap learned from a 413 (half a body the server refused):
                    // the line may still fit the server's limit, so it goes alone.
                    if top.len() > 1 {
                        self.stack.push(Piece {
                            from: top.from + 1,
                            ..top
                        });
                    }
                    return Ok(Some(Piece {
                        to: top.from + 1,
                        ..top
                    }));
                }
                if self.on_refusal == OnRefusal::Stop {
                    self.stack.push(top);
                    return Err(Error::RequestTooLarge {
                        size,
                        limit: self.max_bytes,
                    });
                }
                self.reject(
                    top.from,
                    top.from + 1,
                    format!(
                        "a line of {size} bytes is over the client's max_request_size ({} bytes)",
                        self.max_bytes
                    ),
                );
                if top.len() > 1 {
                    self.stack.push(Piece {
                        from: top.from + 1,
                        ..top
                    });
                }
                continue;
            }
            if take < top.len() {
                self.stack.push(Piece {
                    from: top.from + take,
                    to: top.to,
                    may_resend: true,
                });
            }
            return Ok(Some(Piece {
                from: top.from,
                to: top.from + take,
                may_resend: top.may_resend,
            }));
        }
        Ok(None)
    }

    fn reject(&mut self, from: usize, to: usize, message: String) {
        let text = String::from_utf8_lossy(&self.bytes[self.start_of(from)..self.start_of(to)]);
        self.commit.refused += to - from;
        self.rejections.push(Rejection {
            points: to - from,
            lines: Some(text.trim_end_matches('\n').to_owned()),
            message,
        });
    }

    /// Pushes the two halves of `piece` (the left one on top), cut at line `mid`.
    fn split_at(&mut self, piece: Piece, mid: usize, may_resend: bool) {
        self.stack.push(Piece {
            from: mid,
            to: piece.to,
            may_resend,
        });
        self.stack.push(Piece {
            from: piece.from,
            to: mid,
            may_resend,
        });
    }

    /// Learns from the answer to `piece`. `Err` means stop: every line from `piece.from` on is
    /// still unsent (or not known to be stored).
    pub(crate) fn settle(&mut self, piece: Piece, result: Result<(), Error>) -> Result<(), Error> {
        let isolate = self.on_refusal == OnRefusal::Isolate;
        match result {
            Ok(()) => {
                self.commit.requests += 1;
                self.commit.written += piece.len();
                self.decide_probe();
                Ok(())
            }
            Err(Error::PartialWrite {
                dropped, message, ..
            }) if isolate => {
                self.commit.requests += 1;
                let refused = usize::try_from(dropped)
                    .unwrap_or(usize::MAX)
                    .min(piece.len());
                self.commit.written += piece.len() - refused;
                self.commit.refused += refused;
                self.rejections.push(Rejection {
                    points: refused,
                    lines: None,
                    message,
                });
                self.decide_probe();
                Ok(())
            }
            Err(Error::Client {
                status: 413,
                message,
            }) => {
                self.commit.requests += 1;
                if piece.len() == 1 {
                    if isolate {
                        self.reject(piece.from, piece.to, message);
                        self.decide_probe();
                        return Ok(());
                    }
                    // Back on the stack, so `unsent_from` can tell where to resume.
                    self.stack.push(piece);
                    return Err(Error::Client {
                        status: 413,
                        message,
                    });
                }
                // Halves by bytes; the cap comes down to the larger one, so both fit.
                let size = self.body(piece).len();
                let base = self.start_of(piece.from);
                let by_bytes =
                    self.ends[piece.from..piece.to].partition_point(|&end| end - base <= size / 2);
                let mid = piece.from + by_bytes.clamp(1, piece.len() - 1);
                let left = self.start_of(mid) - base;
                self.cap_bytes = self.cap_bytes.min(left.max(size - left));
                self.split_at(piece, mid, piece.may_resend);
                self.decide_probe();
                Ok(())
            }
            Err(e @ (Error::BatchRejected { .. } | Error::Client { status: 400, .. }))
                if isolate && refusal(&e) != Refusal::Request =>
            {
                self.commit.requests += 1;
                let message = match &e {
                    Error::BatchRejected { message, .. } | Error::Client { message, .. } => {
                        message.clone()
                    }
                    _ => String::new(),
                };
                match refusal(&e) {
                    Refusal::Points { resend } => {
                        if resend && piece.may_resend {
                            self.stack.push(Piece {
                                may_resend: false,
                                ..piece
                            });
                        } else {
                            self.isolate(piece, message);
                        }
                        // After the piece's own: a left half that waited goes first.
                        self.decide_probe();
                        Ok(())
                    }
                    _ => self.unknown_refusal(piece, message),
                }
            }
            Err(e) => {
                if !matches!(e, Error::RequestTooLarge { .. } | Error::Config(_)) {
                    self.commit.requests += 1;
                }
                // Back on the stack, so `unsent_from` can tell where to resume.
                self.put_back(piece);
                Err(e)
            }
        }
    }

    /// Goes on isolating refused lines: a single line is rejected, more are halved by lines
    /// (one bad line is found in log2(n) halvings).
    fn isolate(&mut self, piece: Piece, message: String) {
        if piece.len() == 1 {
            self.reject(piece.from, piece.to, message);
        } else {
            self.split_at(piece, piece.from + piece.len() / 2, false);
        }
    }

    /// Ends the probe, if one runs: the answer to its piece was not the same refusal, so the
    /// lines are refused one by one, not the request. A left half that waited is isolated,
    /// its halves put on top of the stack (called after the piece in hand is dealt with, so
    /// that the left half's lines go first and `unsent_from` stays the first unsettled line).
    fn decide_probe(&mut self) {
        match std::mem::replace(&mut self.probe, Probe::Done) {
            Probe::LeftRefused { message, left, .. } => {
                // After the piece in hand, whose halves (if any) are on the stack: the left
                // half goes first.
                self.isolate(left, message);
            }
            Probe::Unused => self.probe = Probe::Unused,
            Probe::Split { .. } | Probe::Done => {}
        }
    }

    /// A 400 this client does not know: the first one splits its piece in two; when both
    /// halves are refused with the same message, the server refuses the request, not lines, and
    /// the plan stops with that error (three requests); otherwise the lines are isolated.
    fn unknown_refusal(&mut self, piece: Piece, message: String) -> Result<(), Error> {
        match std::mem::take(&mut self.probe) {
            Probe::Unused if piece.len() > 1 => {
                let mid = piece.from + piece.len() / 2;
                let right = Piece {
                    from: mid,
                    to: piece.to,
                    may_resend: false,
                };
                self.split_at(piece, mid, false);
                self.probe = Probe::Split { message, right };
                Ok(())
            }
            Probe::Split {
                message: first,
                right,
            } if first == message && piece.to == right.from => {
                // The left half, refused alike: the right one, next on the stack, decides.
                self.probe = Probe::LeftRefused {
                    message,
                    left: piece,
                    right,
                };
                Ok(())
            }
            Probe::LeftRefused {
                message: first,
                left,
                right,
            } if first == message && piece == right => {
                self.probe = Probe::Done;
                // Both halves refused alike: every line from the left half's on is unsent.
                self.stack.push(Piece {
                    from: left.from,
                    to: right.to,
                    may_resend: false,
                });
                Err(Error::Client {
                    status: 400,
                    message,
                })
            }
            other => {
                self.probe = other;
                self.isolate(piece, message);
                // After the piece's own halves: a left half that waited goes first.
                self.decide_probe();
                Ok(())
            }
        }
    }

    /// Gives back a piece [`WritePlan::next`] handed out and that was not sent: it is unsettled,
    /// with a left half that waits on it.
    pub(crate) fn put_back(&mut self, piece: Piece) {
        self.stack.push(piece);
        if let Probe::LeftRefused { left, .. } = std::mem::take(&mut self.probe) {
            self.stack.push(left);
        }
    }

    /// The first line not settled (all lines when none is): where a caller that stops resumes.
    pub(crate) fn unsent_from(&self) -> usize {
        let top = self.stack.last().map_or(self.ends.len(), |p| p.from);
        match &self.probe {
            // A left half that waits on the right one is unsettled too, and comes first.
            Probe::LeftRefused { left, .. } => top.min(left.from),
            _ => top,
        }
    }

    /// What was written and what was refused.
    pub(crate) fn finish(self) -> (Commit, Vec<Rejection>) {
        (self.commit, self.rejections)
    }
}

/// The lines of a batch a write did not settle (not sent, or not known to be stored), as
/// ascending runs `from..to`: the batch's tail when requests went one at a time, any lines
/// when several were in flight.
#[doc(hidden)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unsent {
    runs: Vec<Range<usize>>,
}

impl Unsent {
    /// Lines `from..to`, the tail of a batch of `to` lines.
    pub fn tail(from: usize, to: usize) -> Unsent {
        let mut unsent = Unsent::default();
        unsent.push_run(from..to);
        unsent
    }

    /// Adds lines `run`, which come after every line already held.
    fn push_run(&mut self, run: Range<usize>) {
        if run.is_empty() {
            return;
        }
        match self.runs.last_mut() {
            Some(last) if last.end == run.start => last.end = run.end,
            _ => self.runs.push(run),
        }
    }

    /// The runs, ascending.
    pub fn runs(&self) -> &[Range<usize>] {
        &self.runs
    }

    /// How many lines.
    pub fn lines(&self) -> usize {
        self.runs.iter().map(ExactSizeIterator::len).sum()
    }

    /// Where the unsettled lines start, when they are exactly the lines from there to `len`.
    pub fn tail_from(&self, len: usize) -> Option<usize> {
        match self.runs.as_slice() {
            [] => Some(len),
            [only] if only.end == len => Some(only.start),
            _ => None,
        }
    }

    /// Keeps only the unsettled lines of `bytes` (lines ending at `ends`), in their order.
    pub fn keep(&self, bytes: &mut Vec<u8>, ends: &mut Vec<usize>) {
        let start_of = |line: usize, ends: &[usize]| if line == 0 { 0 } else { ends[line - 1] };
        let (mut to_byte, mut to_line) = (0, 0);
        for run in &self.runs {
            let (from, to) = (start_of(run.start, ends), ends[run.end - 1]);
            bytes.copy_within(from..to, to_byte);
            for line in run.clone() {
                ends[to_line] = ends[line] - from + to_byte;
                to_line += 1;
            }
            to_byte += to - from;
        }
        bytes.truncate(to_byte);
        ends.truncate(to_line);
    }

    /// The error of a call of `reached` points that stopped at `error` with `written` of them
    /// stored: the error itself when the unsettled points are its tail (with `written_before`
    /// set), [`Error::Unwritten`] when they are scattered.
    pub fn error(&self, error: Error, reached: usize, written: usize) -> Error {
        if self.tail_from(reached).is_some() {
            return error.after_writing(written);
        }
        Error::Unwritten {
            written,
            unwritten: self.runs.clone(),
            reached,
            source: Box::new(error),
        }
    }

    /// How many of the lines are before line `line`.
    pub fn count_below(&self, line: usize) -> usize {
        self.runs
            .iter()
            .map(|run| run.end.min(line).saturating_sub(run.start))
            .sum()
    }

    /// Moves every run `by` lines on (for a part of a longer call).
    pub(crate) fn shift(mut self, by: usize) -> Unsent {
        for run in &mut self.runs {
            *run = run.start + by..run.end + by;
        }
        self
    }

    /// The runs of sorted, distinct line numbers.
    pub(crate) fn from_sorted(lines: impl IntoIterator<Item = usize>) -> Unsent {
        let mut unsent = Unsent::default();
        for line in lines {
            unsent.push_run(line..line + 1);
        }
        unsent
    }
}

/// Deals the lines of `bytes` ending at `ends` to `lanes` requests in flight: the lane of
/// each line. Two writes of one point (the same series and timestamp) always go in the same
/// lane, so they are never in flight at once and the later one lands last.
///
/// Lines are dealt by series, so that each series' points reach influxd in their order, from
/// one request at a time: a series whose points arrive from two requests at once, interleaved,
/// costs the server more (`docs/benchmarks.md`). The series are hashed to [`BUCKETS`] buckets,
/// and the buckets shared out to the lanes largest first, each to the lane holding the fewest
/// lines, so that the lanes end together. When the series are too few to share out (the
/// largest lane would hold more than halfway between an even share and every line, as with one
/// series), the lines are dealt by point instead, by a hash of series and timestamp.
pub(crate) fn deal(bytes: &[u8], ends: &[usize], lanes: usize) -> Vec<u8> {
    Dealer::start(bytes, ends, lanes).1
}

/// Deals lines to lanes as [`deal`] does, for a write whose lines come one at a time: the
/// first lines decide how (by series or by point) and share their series out; a series first
/// seen later goes to the lane that has been dealt the fewest lines.
#[derive(Debug)]
pub(crate) struct Dealer {
    lanes: usize,
    by: Dealing,
    /// The lane of each bucket of series (`NO_LANE` until its first line, by series).
    lane_of_bucket: [u8; BUCKETS],
    /// Lines dealt to each lane so far.
    held: Vec<usize>,
}

const NO_LANE: u8 = u8::MAX;

impl Dealer {
    /// Decides from the lines of `bytes` ending at `ends` how to deal, and deals them.
    pub(crate) fn start(bytes: &[u8], ends: &[usize], lanes: usize) -> (Dealer, Vec<u8>) {
        let lanes = lanes.clamp(1, usize::from(NO_LANE) - 1);
        let mut sizes = [0usize; BUCKETS];
        let mut start = 0;
        let mut dealt: Vec<u8> = ends
            .iter()
            .map(|&end| {
                let bucket = lane_of(&bytes[start..end], BUCKETS, Dealing::BySeries);
                start = end;
                sizes[bucket] += 1;
                bucket as u8
            })
            .collect();
        let mut order: Vec<usize> = (0..BUCKETS).filter(|&b| sizes[b] > 0).collect();
        order.sort_by_key(|&b| std::cmp::Reverse(sizes[b]));
        let mut dealer = Dealer {
            lanes,
            by: Dealing::BySeries,
            lane_of_bucket: [NO_LANE; BUCKETS],
            held: vec![0; lanes],
        };
        for bucket in order {
            let lane = dealer.emptiest();
            dealer.held[lane] += sizes[bucket];
            dealer.lane_of_bucket[bucket] = lane as u8;
        }
        let largest = dealer.held.iter().copied().max().unwrap_or(0);
        // Not `largest > (n / lanes + n) / 2`, in whole numbers.
        if largest * 2 * lanes <= ends.len() * (lanes + 1) {
            for lane in &mut dealt {
                *lane = dealer.lane_of_bucket[usize::from(*lane)];
            }
            return (dealer, dealt);
        }
        dealer.by = Dealing::ByPoint;
        let mut start = 0;
        for (lane, &end) in dealt.iter_mut().zip(ends) {
            *lane = lane_of(&bytes[start..end], lanes, Dealing::ByPoint) as u8;
            start = end;
        }
        (dealer, dealt)
    }

    /// The lane of a line after the first ones.
    pub(crate) fn lane(&mut self, line: &[u8]) -> usize {
        if self.by == Dealing::ByPoint {
            return lane_of(line, self.lanes, Dealing::ByPoint);
        }
        let bucket = lane_of(line, BUCKETS, Dealing::BySeries);
        let lane = match self.lane_of_bucket[bucket] {
            NO_LANE => {
                let lane = self.emptiest();
                self.lane_of_bucket[bucket] = lane as u8;
                lane
            }
            lane => usize::from(lane),
        };
        self.held[lane] += 1;
        lane
    }

    /// The lane dealt the fewest lines so far.
    fn emptiest(&self) -> usize {
        (0..self.lanes)
            .min_by_key(|&lane| self.held[lane])
            .unwrap_or(0)
    }
}

/// How many buckets [`Dealer`] hashes series to.
const BUCKETS: usize = 256;

/// What a line's lane is a hash of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dealing {
    /// Its series key.
    BySeries,
    /// Its series key and timestamp.
    ByPoint,
}

/// Which of `lanes` requests in flight a line goes in, by a hash of its series key (and, by
/// point, its timestamp). The series key is the line up to its first unescaped space; the
/// timestamp, its text after the last space (for a line without one, a piece of its last
/// field: such a point gets the server's time, which differs between requests anyway).
pub(crate) fn lane_of(line: &[u8], lanes: usize, by: Dealing) -> usize {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let key_end = key_end(line);
    let time = match by {
        Dealing::ByPoint => match memchr::memrchr(b' ', line) {
            Some(space) if space > key_end => &line[space + 1..],
            _ => &[],
        },
        Dealing::BySeries => &[],
    };
    // Eight bytes at a time, multiplied and rotated in (deterministic: lanes must not depend
    // on a per-process seed), then MurmurHash3's finaliser, which spreads keys that differ
    // only at their end (times a step apart) over every bit.
    let mut hash: u64 = 0x9e37_79b9_7f4a_7c15;
    for part in [&line[..key_end], time] {
        let mut words = part.chunks_exact(8);
        for word in &mut words {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            hash = (hash ^ word)
                .wrapping_mul(0x5851_f42d_4c95_7f2d)
                .rotate_left(29);
        }
        let mut last = [0u8; 8];
        last[..words.remainder().len()].copy_from_slice(words.remainder());
        let word = u64::from_le_bytes(last) ^ ((part.len() as u64) << 56);
        hash = (hash ^ word)
            .wrapping_mul(0x5851_f42d_4c95_7f2d)
            .rotate_left(29);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^= hash >> 33;
    (hash % lanes.max(1) as u64) as usize
}

/// Where a line's series key ends: at its first space not escaped by a backslash.
fn key_end(line: &[u8]) -> usize {
    let mut from = 0;
    while let Some(at) = memchr::memchr(b' ', &line[from..]) {
        let at = from + at;
        // Escaped when an odd number of backslashes stands before it.
        let backslashes = line[..at].iter().rev().take_while(|&&b| b == b'\\').count();
        if backslashes % 2 == 0 {
            return at;
        }
        from = at + 1;
    }
    line.len()
}

#[cfg(test)]
mod tests;
