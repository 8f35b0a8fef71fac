//! What the writer holds under its global lock: the destinations' queues (lines taken from
//! the shards), the batch in flight, the counters of what became of points, and the schedule
//! that says which destination is due next.
//!
//! Every operation here costs the same however many destinations there are (a map from slot
//! to destination, and ordered sets for the schedule), but for the few that visit every
//! waiting destination once (a flush, a shutdown).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use influx_core::Unsent;

use super::budget::Budget;
use super::config::Settings;
use super::dests::{DestKey, Registry};
use super::queue::{Front, Queue, Segment, Spares, Taken};
use super::shard::{ShardCounters, StagedLine, splitmix, unit};
use super::stats::{Drops, Flagged, Reasons, Stats};

/// Flagged destinations kept at most (with their reasons): beyond, idle ones are forgotten,
/// their flags with them, so that ever-new refused destinations do not grow memory.
pub(crate) const MAX_FLAGGED: usize = 1_000;

/// Idle destinations kept before they are forgotten: a destination recorded to now and then
/// is not registered again every time.
pub(crate) const IDLE_KEPT: usize = 64;

#[derive(Debug)]
pub(crate) struct Dest {
    pub(crate) key: Arc<DestKey>,
    pub(crate) queue: Queue,
    /// When the oldest waiting line was recorded, and when it is due by age.
    oldest: Option<Instant>,
    due_at: Option<Instant>,
    /// Lines at the front of the queue that a flush waits for.
    flush_mark: usize,
    /// Why writes to it are refused, if they are.
    flagged: Option<String>,
    /// `CREATE DATABASE` was sent for it once already.
    pub(crate) create_tried: bool,
    /// Where the schedule has it, if it has lines waiting.
    indexed: Option<Indexed>,
    /// In the list of destinations that may be idle.
    listed_idle: bool,
}

/// A waiting destination's place in the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Indexed {
    oldest: Instant,
    /// Due now, whatever its age (a trigger, or a flush waits for it).
    ready: bool,
    due_at: Instant,
}

/// A batch out of a queue, being sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InFlight {
    pub(crate) dest: u32,
    pub(crate) points: usize,
    pub(crate) bytes: usize,
    /// How many of its first lines a flush waits for.
    marked: usize,
    oldest: Option<Instant>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Points recorded through the global lock (the budget was full, or the thread could not
    /// use its shard).
    pub(crate) recorded: u64,
    pub(crate) drops: Drops,
    pub(crate) rejected: u64,
    pub(crate) written: u64,
    pub(crate) sent: u64,
    pub(crate) requests: u64,
    pub(crate) failed_requests: u64,
    pub(crate) ignored: u64,
    pub(crate) flags_forgotten: u64,
    /// Why points were dropped or refused (invalid ones are kept in the shards, and here
    /// once their threads end).
    pub(crate) reasons: Reasons,
}

#[derive(Debug)]
pub(crate) struct State {
    /// The destinations with their state, by slot (see [`Registry`]).
    dests: Vec<Option<Box<Dest>>>,
    /// Destinations with lines waiting, by their oldest line.
    by_oldest: BTreeSet<(Instant, u32)>,
    /// Of those, the ones due now, by their oldest line.
    ready: BTreeSet<(Instant, u32)>,
    /// The others, by when they are due.
    timers: BTreeSet<(Instant, u32)>,
    flagged: BTreeSet<u32>,
    /// Destinations that may be idle (nothing waiting, nothing in flight): forgotten once
    /// there are more than [`IDLE_KEPT`].
    idle: Vec<u32>,
    /// Points and bytes owned: waiting (including waiting to be retried) and in flight.
    points: usize,
    bytes: usize,
    pub(crate) in_flight: Option<InFlight>,
    /// Lines flushes wait for, in every queue and in flight.
    marked: usize,
    pub(crate) counters: Counters,
    /// Intake stopped (shutdown began): `record()` answers `Closed`.
    pub(crate) closed: bool,
    /// The worker must stop after what it is doing.
    pub(crate) stop: bool,
    pub(crate) worker_done: bool,
    /// No request before this (a backoff).
    pub(crate) backoff_until: Option<Instant>,
    /// Since when lines wait in the shards (set by the writer's thread when told of the first).
    pub(crate) staged_since: Option<Instant>,
    /// Counters of shards whose threads ended, and of points recorded without a shard.
    pub(crate) folded: ShardCounters,
    budget: Arc<Budget>,
    registry: Arc<Registry>,
    /// Triggers: points and bytes waiting that make a destination due.
    triggers: (usize, usize),
    /// Empty segments for the queues.
    spares: Spares,
    jitter_state: u64,
}

/// What the worker should do next.
pub(crate) enum Next {
    /// Send the lines taken from this destination (joined into a batch outside the lock).
    Send(u32, Taken),
    /// Nothing is due before this (or ever, `None`).
    Wait(Option<Instant>),
}

impl State {
    pub(crate) fn new(budget: Arc<Budget>, registry: Arc<Registry>, settings: &Settings) -> Self {
        State {
            dests: Vec::new(),
            by_oldest: BTreeSet::new(),
            ready: BTreeSet::new(),
            timers: BTreeSet::new(),
            flagged: BTreeSet::new(),
            idle: Vec::new(),
            points: 0,
            bytes: 0,
            in_flight: None,
            marked: 0,
            counters: Counters::default(),
            closed: false,
            stop: false,
            worker_done: false,
            backoff_until: None,
            staged_since: None,
            folded: ShardCounters::default(),
            budget,
            registry,
            triggers: (settings.trigger_size, settings.trigger_bytes),
            // Enough for a round's segments to come back and be taken again, and for a few
            // shard blocks.
            spares: Spares::new(settings.max_buffer_bytes.value / 16, settings.shard_block()),
            jitter_state: random_seed(),
        }
    }

    /// The destination in `slot`.
    pub(crate) fn dest(&self, slot: u32) -> &Dest {
        self.dests[slot as usize]
            .as_deref()
            .expect("a destination in use")
    }

    /// The destination in `slot` (made if new), and the spare segments for its queue.
    fn dest_and_spares(&mut self, slot: u32) -> (&mut Dest, &mut Spares) {
        self.dest_mut(slot);
        let d = self.dests[slot as usize].as_deref_mut().expect("just made");
        (d, &mut self.spares)
    }

    /// The spare buffers, for cuts of the shards.
    pub(crate) fn spares(&mut self) -> &mut Spares {
        &mut self.spares
    }

    /// Gives back the segments of a batch that was joined.
    pub(crate) fn recycle(&mut self, segments: Vec<Segment>) {
        for segment in segments {
            self.spares.give(segment);
        }
    }

    /// The destination in `slot`, for the worker to change what it keeps of it.
    pub(crate) fn dest_entry(&mut self, slot: u32) -> &mut Dest {
        self.dest_mut(slot)
    }

    /// The destination in `slot`, made from the registry if the state has none yet.
    fn dest_mut(&mut self, slot: u32) -> &mut Dest {
        let i = slot as usize;
        if self.dests.len() <= i {
            self.dests.resize_with(i + 1, || None);
        }
        if self.dests[i].is_none() {
            self.dests[i] = Some(Box::new(Dest {
                key: self.registry.key(slot),
                queue: Queue::default(),
                oldest: None,
                due_at: None,
                flush_mark: 0,
                flagged: None,
                create_tried: false,
                indexed: None,
                listed_idle: false,
            }));
        }
        self.dests[i].as_deref_mut().expect("just made")
    }

    /// Puts `slot` where it belongs in the schedule, after a change to its queue, its age or
    /// its flush mark.
    fn reindex(&mut self, slot: u32) {
        let (trigger_points, trigger_bytes) = self.triggers;
        let d = self.dests[slot as usize]
            .as_deref_mut()
            .expect("a destination in use");
        let now = match (d.queue.len(), d.oldest, d.due_at) {
            (0, ..) | (_, None, _) | (_, _, None) => None,
            (len, Some(oldest), Some(due_at)) => Some(Indexed {
                oldest,
                ready: d.flush_mark > 0
                    || len >= trigger_points
                    || d.queue.byte_len() >= trigger_bytes,
                due_at,
            }),
        };
        if now == d.indexed {
            return;
        }
        let was = std::mem::replace(&mut d.indexed, now);
        if let Some(was) = was {
            self.by_oldest.remove(&(was.oldest, slot));
            if was.ready {
                self.ready.remove(&(was.oldest, slot));
            } else {
                self.timers.remove(&(was.due_at, slot));
            }
        }
        if let Some(now) = now {
            self.by_oldest.insert((now.oldest, slot));
            if now.ready {
                self.ready.insert((now.oldest, slot));
            } else {
                self.timers.insert((now.due_at, slot));
            }
        }
    }

    /// Lists `slot` as maybe idle, if it is: nothing waits and nothing is in flight.
    fn note_if_idle(&mut self, slot: u32) {
        let in_flight = self.in_flight.is_some_and(|f| f.dest == slot);
        let d = self.dests[slot as usize]
            .as_deref_mut()
            .expect("a destination in use");
        if !in_flight && d.queue.len() == 0 && !d.listed_idle && d.flagged.is_none() {
            d.listed_idle = true;
            self.idle.push(slot);
        }
    }

    /// Makes `slot`'s destination known to the state (its lines were dropped before they came
    /// here), so that it is forgotten once idle.
    pub(crate) fn note_known(&mut self, slot: u32) {
        self.dest_mut(slot);
        self.note_if_idle(slot);
    }

    /// Starts the age of `slot`'s lines, if none wait: `since` is when the first was recorded.
    fn start_age(&mut self, slot: u32, since: Instant, settings: &Settings) {
        let jitter = self.next_jitter(settings.jitter);
        let d = self.dest_mut(slot);
        if d.oldest.is_none() {
            d.oldest = Some(since);
            d.due_at = Some(since + settings.interval + jitter);
        }
    }

    /// Appends a line (newline included, already in the budget) to a destination's queue;
    /// `since` is when it was recorded, or earlier.
    pub(crate) fn append(&mut self, slot: u32, line: &[u8], since: Instant, settings: &Settings) {
        let (trigger_points, trigger_bytes) = self.triggers;
        let (d, spares) = self.dest_and_spares(slot);
        let fresh = d.oldest.is_none();
        let before = d.queue.byte_len();
        d.queue.push(line, spares);
        // The schedule changes only when the first line waits, or a trigger is reached.
        let reached = d.queue.len() == trigger_points
            || (before < trigger_bytes && d.queue.byte_len() >= trigger_bytes);
        self.points += 1;
        self.bytes += line.len();
        if fresh {
            self.start_age(slot, since, settings);
        }
        if fresh || reached {
            self.reindex(slot);
        }
    }

    /// Appends the lines a shard staged for one destination (see [`State::append`]).
    pub(crate) fn append_staged(
        &mut self,
        slot: u32,
        bytes: &[u8],
        lines: &[StagedLine],
        since: Instant,
        settings: &Settings,
    ) {
        let (d, spares) = self.dest_and_spares(slot);
        let fresh = d.oldest.is_none();
        d.queue.push_staged(bytes, lines, spares);
        self.points += lines.len();
        self.bytes += bytes.len();
        if fresh {
            self.start_age(slot, since, settings);
        }
        self.reindex(slot);
    }

    /// Drops the oldest waiting line (never one in flight), counted as an overflow; false
    /// when nothing waits.
    pub(crate) fn evict_oldest(&mut self) -> bool {
        match self.by_oldest.first() {
            Some(&(_, slot)) => {
                self.drop_front(slot);
                self.counters.drops.overflow += 1;
                true
            }
            None => false,
        }
    }

    /// Drops the front line of a queue (its points leave the budget; the caller counts why).
    fn drop_front(&mut self, slot: u32) {
        let (d, spares) = self.dest_and_spares(slot);
        let size = d.queue.drop_front(spares);
        let unmarked = d.flush_mark > 0;
        if unmarked {
            d.flush_mark -= 1;
        }
        if d.queue.len() == 0 {
            d.oldest = None;
            d.due_at = None;
        }
        if unmarked {
            self.marked -= 1;
        }
        self.points -= 1;
        self.bytes -= size;
        self.budget.release(1, size);
        self.reindex(slot);
        self.note_if_idle(slot);
    }

    /// The next batch due, if any, of at most `cap` (points, bytes): a destination a flush
    /// waits for, or one over a trigger, or whose oldest line has waited its interval; the one
    /// with the oldest lines first. Once closed, every destination with lines waiting is due.
    pub(crate) fn next(&mut self, now: Instant, cap: (usize, usize)) -> Next {
        let by_age = self
            .timers
            .first()
            .filter(|(due_at, _)| *due_at <= now)
            .map(|&(_, slot)| (self.dest(slot).oldest, slot));
        let due = if self.closed {
            self.by_oldest.first().map(|&(_, slot)| slot)
        } else {
            match (self.ready.first(), by_age) {
                (Some(&(oldest, a)), Some((b_oldest, b))) => {
                    Some(if b_oldest < Some(oldest) { b } else { a })
                }
                (Some(&(_, a)), None) => Some(a),
                (None, Some((_, b))) => Some(b),
                (None, None) => None,
            }
        };
        let Some(slot) = due else {
            return Next::Wait(self.timers.first().map(|&(at, _)| at));
        };
        let (d, spares) = self.dest_and_spares(slot);
        let batch = d.queue.take_front(cap.0, cap.1, spares);
        let marked = batch.len().min(d.flush_mark);
        d.flush_mark -= marked;
        let oldest = d.oldest;
        if d.queue.len() == 0 {
            d.oldest = None;
            d.due_at = None;
        }
        self.in_flight = Some(InFlight {
            dest: slot,
            points: batch.len(),
            bytes: batch.byte_len(),
            marked,
            oldest,
        });
        self.reindex(slot);
        Next::Send(slot, batch)
    }

    /// Settles the batch in flight: `settled` of its lines are gone (written, rejected or
    /// dropped: the caller counts which), and `rest`, the batch's `unsent` lines, goes back to
    /// the front of its queue, in order.
    pub(crate) fn settle(
        &mut self,
        settled: usize,
        settled_bytes: usize,
        rest: Front,
        unsent: &Unsent,
    ) {
        let Some(flight) = self.in_flight.take() else {
            return;
        };
        self.points -= settled;
        self.bytes -= settled_bytes;
        self.budget.release(settled, settled_bytes);
        // A flush waits for the batch's first `marked` lines: those among the unsent ones
        // are waited for still (with several requests in flight, they need not be the last).
        let marked_in_rest = unsent.count_below(flight.marked);
        self.marked -= flight.marked - marked_in_rest;
        let slot = flight.dest;
        if rest.len() > 0 {
            let d = self.dest_mut(slot);
            d.flush_mark += marked_in_rest;
            d.queue.put_front(rest);
            d.oldest = match (d.oldest, flight.oldest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            d.due_at = d.due_at.or(d.oldest);
            self.reindex(slot);
        }
        self.note_if_idle(slot);
    }

    /// Marks everything owned as waited for by a flush; returns how many lines that is.
    pub(crate) fn mark_all(&mut self) -> usize {
        let waiting: Vec<u32> = self.by_oldest.iter().map(|&(_, slot)| slot).collect();
        let mut marked = 0;
        for slot in waiting {
            let d = self.dest_mut(slot);
            d.flush_mark = d.queue.len();
            marked += d.flush_mark;
            self.reindex(slot);
        }
        if let Some(flight) = &mut self.in_flight {
            flight.marked = flight.points;
            marked += flight.marked;
        }
        self.marked = marked;
        marked
    }

    /// Lines flushes still wait for.
    pub(crate) fn marked(&self) -> usize {
        self.marked
    }

    /// Drops every line waiting (not in flight), counted as unsent: for a writer that stops.
    pub(crate) fn drop_waiting(&mut self) -> usize {
        let waiting: Vec<u32> = self.by_oldest.iter().map(|&(_, slot)| slot).collect();
        let mut dropped = 0;
        for slot in waiting {
            let (d, spares) = self.dest_and_spares(slot);
            let bytes = d.queue.byte_len();
            let points = d.queue.clear(spares);
            let marks = std::mem::take(&mut d.flush_mark);
            d.oldest = None;
            d.due_at = None;
            self.points -= points;
            self.bytes -= bytes;
            self.marked -= marks;
            self.budget.release(points, bytes);
            dropped += points;
            self.reindex(slot);
            self.note_if_idle(slot);
        }
        self.counters.drops.unsent += dropped as u64;
        dropped
    }

    /// Points owned: waiting and in flight.
    pub(crate) fn owned(&self) -> usize {
        self.points
    }

    /// Flags `slot` as refused for `reason`; true if the reason is new.
    pub(crate) fn flag(&mut self, slot: u32, reason: String) -> bool {
        let d = self.dest_mut(slot);
        if d.flagged.as_deref() == Some(reason.as_str()) {
            return false;
        }
        d.flagged = Some(reason);
        self.flagged.insert(slot);
        true
    }

    /// Clears `slot`'s flag (writes to it succeed again); its database if it was flagged.
    pub(crate) fn unflag(&mut self, slot: u32) -> Option<String> {
        let d = self.dest_mut(slot);
        d.flagged.take()?;
        let database = d.key.database.clone();
        self.flagged.remove(&slot);
        self.note_if_idle(slot);
        Some(database)
    }

    /// Whether there are idle destinations to forget.
    pub(crate) fn has_idle_to_forget(&self) -> bool {
        self.idle.len() > IDLE_KEPT || self.flagged.len() > MAX_FLAGGED
    }

    /// Whether there are idle destinations at all (forgetting them gives back their charge).
    pub(crate) fn has_idle(&self) -> bool {
        !self.idle.is_empty()
    }

    /// Takes the destinations that are idle (nothing waiting, nothing in flight, no flush
    /// waits for them) out of the state, and flagged ones beyond [`MAX_FLAGGED`]; returns
    /// their slots, for the registry to forget. Only with every shard's lock held and their
    /// lines taken, so that no line names these slots.
    pub(crate) fn take_idle(&mut self) -> Vec<u32> {
        let in_flight = self.in_flight.map(|f| f.dest);
        let is_idle = |d: &Dest, slot: u32| {
            d.queue.len() == 0 && d.flush_mark == 0 && in_flight != Some(slot)
        };
        let mut forgotten = Vec::new();
        for slot in std::mem::take(&mut self.idle) {
            let Some(d) = self.dests[slot as usize].as_deref_mut() else {
                continue;
            };
            d.listed_idle = false;
            if is_idle(d, slot) && d.flagged.is_none() {
                self.dests[slot as usize] = None;
                forgotten.push(slot);
            }
        }
        if self.flagged.len() > MAX_FLAGGED {
            let over = self.flagged.len() - MAX_FLAGGED;
            let dropped: Vec<u32> = self
                .flagged
                .iter()
                .copied()
                .filter(|&slot| is_idle(self.dest(slot), slot))
                .take(over)
                .collect();
            for slot in dropped {
                self.flagged.remove(&slot);
                self.dests[slot as usize] = None;
                self.counters.flags_forgotten += 1;
                forgotten.push(slot);
            }
        }
        while self.dests.last().is_some_and(Option::is_none) {
            self.dests.pop();
        }
        if self.dests.capacity() > 4 * self.dests.len().max(64) {
            self.dests.shrink_to_fit();
            self.idle.shrink_to_fit();
        }
        forgotten
    }

    /// A consistent snapshot, given the shards' counters and what they stage (taken with
    /// every shard's lock held, and this state's).
    pub(crate) fn stats(&self, shards: &ShardCounters, staged: (u64, u64)) -> Stats {
        let (in_flight, in_flight_bytes) = self
            .in_flight
            .map_or((0, 0), |f| (f.points as u64, f.bytes as u64));
        let c = &self.counters;
        let mut s = self.folded;
        s.add(shards);
        Stats {
            recorded: c.recorded + s.recorded,
            sampled_out: s.sampled_out,
            invalid: s.invalid,
            dropped: c.drops.total(),
            drops: c.drops,
            rejected: c.rejected,
            written: c.written,
            sent: c.sent,
            buffered: self.points as u64 - in_flight + staged.0,
            buffered_bytes: self.bytes as u64 - in_flight_bytes + staged.1,
            in_flight,
            in_flight_bytes,
            requests: c.requests,
            failed_requests: c.failed_requests,
            ignored: c.ignored + s.ignored,
            flagged: self
                .flagged
                .iter()
                .filter_map(|&slot| {
                    let d = self.dest(slot);
                    d.flagged.as_ref().map(|reason| Flagged {
                        database: d.key.database.clone(),
                        retention_policy: d.key.retention_policy.clone(),
                        reason: reason.clone(),
                    })
                })
                .collect(),
            flags_forgotten: c.flags_forgotten,
            destinations: self.dests.iter().flatten().count() as u64,
            reasons: c.reasons.to_vec(),
        }
    }

    /// A random wait in `0..=max`.
    fn next_jitter(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            return Duration::ZERO;
        }
        max.mul_f64(self.unit_random())
    }

    /// A number in `0..1` for backoff jitter and sampling without a shard.
    pub(crate) fn unit_random(&mut self) -> f64 {
        unit(splitmix(&mut self.jitter_state))
    }
}

pub(crate) fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests;
