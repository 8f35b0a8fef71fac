//! The memory budget, in atomics that `record()` reserves from without a lock.
//!
//! The byte budget counts what the writer holds for a point: its encoded line, plus
//! [`LINE_COST`] for the point's entries in the writer's indexes (a staged line's sequence
//! number, destination and end; a queued line's end), plus the destinations it knows
//! ([`super::dests::DEST_COST`] and their names, each). What a request in flight copies is
//! bounded apart: a round takes at most a sixteenth of the byte budget (see the worker).

use std::sync::atomic::{AtomicU64, Ordering};

/// The bytes a point takes in the writer's indexes besides its line, counted against the byte
/// budget.
pub(crate) const LINE_COST: u64 = 24;

/// A value on a cache line of its own, so that counters recording threads write do not share
/// a line with counters only the writer's thread writes.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

/// The memory budget, in points and bytes: reserved by `record()` (a point's sequence number
/// is its reservation), released when a point is written, rejected or dropped. Held is
/// reserved minus released.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    pub(crate) reserved_points: Padded<AtomicU64>,
    pub(crate) reserved_bytes: AtomicU64,
    pub(crate) released: Padded<(AtomicU64, AtomicU64)>,
    /// Reservations that left the shards (taken by a cut) or never went through one (the
    /// full path, a closed writer): reserved minus this is what the shards hold (for
    /// triggers and wake-ups).
    pub(crate) drained: Padded<(AtomicU64, AtomicU64)>,
    /// What the known destinations are charged.
    dests: Padded<AtomicU64>,
}

impl Budget {
    pub(crate) fn mark_drained(&self, points: usize, bytes: usize) {
        self.drained.0.0.fetch_add(points as u64, Ordering::AcqRel);
        self.drained.0.1.fetch_add(bytes as u64, Ordering::AcqRel);
    }

    pub(crate) fn release(&self, points: usize, bytes: usize) {
        self.released
            .0
            .0
            .fetch_add(points as u64, Ordering::Release);
        self.released.0.1.fetch_add(bytes as u64, Ordering::Release);
    }

    pub(crate) fn charge_dest(&self, bytes: u64) {
        self.dests.0.fetch_add(bytes, Ordering::AcqRel);
    }

    pub(crate) fn release_dest(&self, bytes: u64) {
        self.dests.0.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// What the known destinations are charged.
    pub(crate) fn dest_bytes(&self) -> u64 {
        self.dests.0.load(Ordering::Acquire)
    }

    /// Points and line bytes held now (reservations in progress included).
    pub(crate) fn held(&self) -> (u64, u64) {
        let released = (
            self.released.0.0.load(Ordering::Acquire),
            self.released.0.1.load(Ordering::Acquire),
        );
        (
            self.reserved_points
                .0
                .load(Ordering::Acquire)
                .saturating_sub(released.0),
            self.reserved_bytes
                .load(Ordering::Acquire)
                .saturating_sub(released.1),
        )
    }

    /// Points held, and the bytes the budget counts for them (see the module).
    pub(crate) fn held_charged(&self) -> (u64, u64) {
        let (points, bytes) = self.held();
        (points, charged(points, bytes, self.dest_bytes()))
    }
}

/// The bytes the budget counts for `points` points of `bytes` line bytes, with `dests` bytes
/// of destinations.
pub(crate) fn charged(points: u64, bytes: u64, dests: u64) -> u64 {
    bytes
        .saturating_add(points.saturating_mul(LINE_COST))
        .saturating_add(dests)
}
