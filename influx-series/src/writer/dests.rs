//! Where lines go: each destination (database, retention policy, precision) known to the
//! writer has a slot, a small number the recording threads stage their lines under. The
//! registry finds a destination's slot by a map, so `record()` costs the same however many
//! destinations exist, and forgets idle ones so that their number stays bounded.
//!
//! A slot is reused after its destination is forgotten. Recording threads keep the slot they
//! last used, with the registry's epoch at the time; the writer's thread forgets destinations
//! only while it holds every shard's lock (after taking their lines), and moves the epoch on,
//! so a thread that checks the epoch under its shard's lock never stages a line under a slot
//! that was forgotten.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use influx_core::Precision;
use parking_lot::Mutex;

use super::budget::Budget;

/// Where a line goes: database, retention policy, and the precision it is encoded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Target<'a> {
    pub(crate) database: &'a str,
    pub(crate) retention_policy: Option<&'a str>,
    pub(crate) precision: Precision,
}

/// A destination's identity, shared by the registry, the writer's state and the recording
/// threads' caches.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DestKey {
    pub(crate) database: String,
    pub(crate) retention_policy: Option<String>,
    pub(crate) precision: Precision,
}

impl DestKey {
    pub(crate) fn matches(&self, t: &Target<'_>) -> bool {
        self.precision == t.precision
            && self.database == t.database
            && self.retention_policy.as_deref() == t.retention_policy
    }

    /// What the destination is charged against the byte budget while it is known: its
    /// place in the registry and the writer's state, and its names.
    pub(crate) fn cost(&self) -> u64 {
        DEST_COST
            + 2 * (self.database.len() + self.retention_policy.as_ref().map_or(0, String::len))
                as u64
    }
}

/// The bytes a destination takes besides its names (its entry in the registry's map, its
/// state, its queue's first segment and index entries), rounded up from what they measure.
pub(crate) const DEST_COST: u64 = 768;

/// The text a destination is looked up by: its parts, joined so that no two destinations
/// share one (`\0` cannot be in a name sent in a URL's query string here; a missing
/// retention policy is told from an empty one).
fn joined(out: &mut String, t: &Target<'_>) {
    out.clear();
    out.push_str(t.database);
    out.push('\0');
    match t.retention_policy {
        Some(rp) => {
            out.push('+');
            out.push_str(rp);
        }
        None => out.push('-'),
    }
    out.push('\0');
    out.push_str(t.precision.as_str());
}

#[derive(Debug, Default)]
struct Slots {
    by_key: HashMap<Box<str>, u32>,
    /// The destination in each slot (`None`: free).
    keys: Vec<Option<Arc<DestKey>>>,
    free: Vec<u32>,
}

/// The destinations the writer knows, by slot.
#[derive(Debug)]
pub(crate) struct Registry {
    slots: Mutex<Slots>,
    /// Moves on every time destinations are forgotten (see the module's documentation).
    epoch: AtomicU64,
    budget: Arc<Budget>,
}

/// A recording thread's memory of the slot it last used.
#[derive(Debug, Clone)]
pub(crate) struct Cached {
    pub(crate) key: Arc<DestKey>,
    pub(crate) slot: u32,
    epoch: u64,
}

impl Cached {
    /// Whether it still names `t`'s slot: the same destination, and no forgetting since
    /// (asked under the shard's lock).
    pub(crate) fn holds(&self, t: &Target<'_>, registry: &Registry) -> bool {
        self.epoch == registry.epoch.load(Ordering::Acquire) && self.key.matches(t)
    }
}

impl Registry {
    pub(crate) fn new(budget: Arc<Budget>) -> Registry {
        Registry {
            slots: Mutex::new(Slots::default()),
            epoch: AtomicU64::new(0),
            budget,
        }
    }

    /// `t`'s slot, registered (and charged to the budget) if it is new.
    pub(crate) fn lookup(&self, t: &Target<'_>) -> Cached {
        let mut text = String::with_capacity(t.database.len() + 16);
        joined(&mut text, t);
        let mut slots = self.slots.lock();
        let epoch = self.epoch.load(Ordering::Acquire);
        if let Some(&slot) = slots.by_key.get(text.as_str()) {
            let key = slots.keys[slot as usize]
                .clone()
                .expect("a registered slot");
            return Cached { key, slot, epoch };
        }
        let key = Arc::new(DestKey {
            database: t.database.to_owned(),
            retention_policy: t.retention_policy.map(str::to_owned),
            precision: t.precision,
        });
        self.budget.charge_dest(key.cost());
        let slot = match slots.free.pop() {
            Some(slot) => {
                slots.keys[slot as usize] = Some(key.clone());
                slot
            }
            None => {
                slots.keys.push(Some(key.clone()));
                (slots.keys.len() - 1) as u32
            }
        };
        slots.by_key.insert(text.into_boxed_str(), slot);
        Cached { key, slot, epoch }
    }

    /// The destination in `slot`.
    pub(crate) fn key(&self, slot: u32) -> Arc<DestKey> {
        self.slots.lock().keys[slot as usize]
            .clone()
            .expect("a registered slot")
    }

    /// Forgets the destinations in `forgotten` and moves the epoch on. Only with every
    /// shard's lock held, and no line staged or waiting under these slots.
    pub(crate) fn forget(&self, forgotten: &[u32]) {
        if forgotten.is_empty() {
            return;
        }
        let mut slots = self.slots.lock();
        let mut text = String::new();
        for &slot in forgotten {
            let Some(key) = slots.keys[slot as usize].take() else {
                continue;
            };
            joined(
                &mut text,
                &Target {
                    database: &key.database,
                    retention_policy: key.retention_policy.as_deref(),
                    precision: key.precision,
                },
            );
            slots.by_key.remove(text.as_str());
            slots.free.push(slot);
            self.budget.release_dest(key.cost());
        }
        // Free slots at the end are given back, so that a burst of destinations does not
        // keep its slots for ever.
        while slots.keys.last().is_some_and(Option::is_none) {
            slots.keys.pop();
            let last = slots.keys.len() as u32;
            slots.free.retain(|&s| s != last);
        }
        if slots.by_key.capacity() > 4 * slots.by_key.len().max(64) {
            slots.by_key.shrink_to_fit();
            slots.keys.shrink_to_fit();
            slots.free.shrink_to_fit();
        }
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// How many destinations are known.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.lock().by_key.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn target(database: &str) -> Target<'_> {
        Target {
            database,
            retention_policy: None,
            precision: Precision::Nanoseconds,
        }
    }

    #[test]
    fn destinations_get_slots_that_are_reused_after_forgetting() {
        let budget = Arc::new(Budget::default());
        let registry = Registry::new(budget.clone());
        let a = registry.lookup(&target("a"));
        let b = registry.lookup(&target("b"));
        assert_ne!(a.slot, b.slot);
        assert_eq!(registry.lookup(&target("a")).slot, a.slot);
        let with_rp = Target {
            retention_policy: Some(""),
            ..target("a")
        };
        assert_ne!(
            registry.lookup(&with_rp).slot,
            a.slot,
            "no rp is not an empty rp"
        );
        assert!(budget.dest_bytes() >= 3 * DEST_COST);
        assert!(a.holds(&target("a"), &registry));
        registry.forget(&[a.slot]);
        assert!(
            !a.holds(&target("a"), &registry),
            "forgetting moves the epoch"
        );
        assert!(
            !b.holds(&target("b"), &registry),
            "every cached slot is asked again"
        );
        assert_eq!(registry.len(), 2);
        let c = registry.lookup(&target("c"));
        assert_eq!(c.slot, a.slot, "the free slot is reused");
        assert_eq!(registry.key(c.slot).database, "c");
    }

    #[test]
    fn forgetting_every_destination_gives_back_their_charge_and_slots() {
        let budget = Arc::new(Budget::default());
        let registry = Registry::new(budget.clone());
        let names: Vec<String> = (0..1000).map(|i| format!("tenant{i}")).collect();
        let slots: Vec<u32> = names
            .iter()
            .map(|n| registry.lookup(&target(n)).slot)
            .collect();
        registry.forget(&slots);
        assert_eq!(registry.len(), 0);
        assert_eq!(budget.dest_bytes(), 0);
        assert!(registry.slots.lock().keys.is_empty());
    }
}
