//! What the writer's thread and its handles share: the state behind one lock, every recording
//! thread's shard, the budget and the registry of destinations, and the moves of lines from the
//! shards into the destinations' queues.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use super::budget::Budget;
use super::config::Settings;
use super::dests::Registry;
use super::shard::{Cut, Shard, ShardCounters};
use super::state::State;
use super::stats::Stats;

/// What the writer's thread and its handles share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Distinguishes writers in the recording threads' shard lists.
    pub(super) id: u64,
    pub(super) state: Mutex<State>,
    /// Every recording thread's shard. Lock order: `state`, then `shards`, then each shard,
    /// then the registry's.
    pub(super) shards: Mutex<Vec<Arc<Shard>>>,
    pub(super) budget: Arc<Budget>,
    pub(super) registry: Arc<Registry>,
    /// Intake stopped; checked by `record()` under its shard's lock.
    pub(super) closed: AtomicBool,
    /// No request may be sent any more: set with the state's `stop`, read by the requests
    /// under way before each next one.
    pub(super) halt: AtomicBool,
    /// The worker waits here for work.
    pub(super) wake: Condvar,
    /// Flushes and shutdowns wait here for the worker.
    pub(super) settled: Condvar,
    /// The line bytes a shard stages before the writer's thread is asked to take the shards
    /// (and at one and a half times which, the writer's thread being busy, its own thread
    /// takes them).
    pub(super) shard_cap: usize,
    /// A shard reached its cap: the writer's thread takes the shards.
    pub(super) shard_full: AtomicBool,
    pub(super) settings: Settings,
}

impl Shared {
    /// Moves every shard's lines into the destinations' queues, in sequence order (a
    /// consistent cut: every shard is locked at once).
    pub(crate) fn drain(&self, st: &mut State) {
        self.shard_full.store(false, Ordering::Release);
        let shards = self.shards.lock();
        let mut guards: Vec<_> = shards.iter().map(|s| s.staged.lock()).collect();
        let spares = st.spares();
        let cut = Cut::take(&mut guards, || spares.shard_buffers());
        drop(guards);
        drop(shards);
        self.append_cut(st, cut);
    }

    fn append_cut(&self, st: &mut State, cut: Cut) {
        let (points, bytes) = cut.size();
        if points == 0 {
            return;
        }
        self.budget.mark_drained(points, bytes);
        let since = st.staged_since.take().unwrap_or_else(Instant::now);
        let settings = &self.settings;
        match cut.single() {
            Some((dest, bytes, lines)) => st.append_staged(dest, bytes, lines, since, settings),
            None => cut.for_each(|dest, line| st.append(dest, line, since, settings)),
        }
        // The shards' blocks go back to the spares, for the next cut.
        for (block, index) in cut.into_buffers() {
            st.spares().give_block(block);
            st.spares().give_index(index);
        }
    }

    /// Forgets the destinations that are idle (their charge goes back to the budget): with
    /// every shard's lock held, after their lines were taken, so that no line and no thread's
    /// cache names a forgotten slot (see [`dests`](super::dests)).
    pub(crate) fn forget_idle(&self, st: &mut State) {
        let shards = self.shards.lock();
        let mut guards: Vec<_> = shards.iter().map(|s| s.staged.lock()).collect();
        let spares = st.spares();
        let cut = Cut::take(&mut guards, || spares.shard_buffers());
        self.append_cut(st, cut);
        let forgotten = st.take_idle();
        self.registry.forget(&forgotten);
        drop(guards);
    }

    /// Drops every line the shards hold (for `clear`); returns how many.
    pub(super) fn discard_staged(&self, st: &mut State) -> usize {
        let shards = self.shards.lock();
        let mut guards: Vec<_> = shards.iter().map(|s| s.staged.lock()).collect();
        let spares = st.spares();
        let cut = Cut::take(&mut guards, || spares.shard_buffers());
        drop(guards);
        drop(shards);
        let (points, bytes) = cut.size();
        self.budget.mark_drained(points, bytes);
        self.budget.release(points, bytes);
        // Their destinations may be known only to the registry: the state learns of them, so
        // that they are forgotten once idle like any other.
        let mut last = None;
        cut.for_each(|dest, _| {
            if last != Some(dest) {
                st.note_known(dest);
                last = Some(dest);
            }
        });
        for (block, index) in cut.into_buffers() {
            st.spares().give_block(block);
            st.spares().give_index(index);
        }
        points
    }

    /// Forgets the shards of threads that ended (their lines were drained), keeping their
    /// counters.
    pub(crate) fn prune(&self, st: &mut State) {
        let mut shards = self.shards.lock();
        shards.retain(|shard| {
            if Arc::strong_count(shard) > 1 {
                return true;
            }
            let mut staged = shard.staged.lock();
            if !staged.lines.is_empty() {
                return true;
            }
            st.folded.add(&staged.counters);
            st.counters
                .reasons
                .merge(std::mem::take(&mut staged.reasons));
            false
        });
    }

    /// A consistent snapshot: this state's lock, then every shard's.
    pub(super) fn stats(&self, st: &State) -> Stats {
        let shards = self.shards.lock();
        let guards: Vec<_> = shards.iter().map(|s| s.staged.lock()).collect();
        let mut counters = ShardCounters::default();
        let mut reasons = st.counters.reasons.clone();
        let mut staged = (0u64, 0u64);
        for g in &guards {
            counters.add(&g.counters);
            reasons.merge(g.reasons.clone());
            staged.0 += g.lines.len() as u64;
            staged.1 += g.bytes.len() as u64;
        }
        let mut stats = st.stats(&counters, staged);
        stats.reasons = reasons.to_vec();
        stats
    }

    /// Stops the writer for good: intake closed, no request sent any more.
    pub(super) fn stop(&self, st: &mut State) {
        st.stop = true;
        self.halt.store(true, Ordering::Release);
    }
}
