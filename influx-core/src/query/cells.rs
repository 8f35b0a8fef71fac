//! The cells of a [`crate::ResultSeries`], stored compactly: a kind byte and eight bytes of
//! payload for each cell, row after row, and every string of the series in one buffer. A
//! `Value` is 24 bytes and a string of its own a heap chunk of 32 or more; stored this way a
//! cell costs 9 bytes, and a string that repeats in a column (a tag's value, as queries without
//! `GROUP BY` return tags) is stored once per piece of the answer.

use std::borrow::Cow;
use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;

use crate::query::value::Value;

/// What a cell's payload holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    Null,
    /// 0 or 1.
    Bool,
    /// An `i64`'s bits.
    Integer,
    Unsigned,
    /// An `f64`'s bits.
    Float,
    /// The string's index in [`Strings`].
    String,
}

/// Strings longer than this are never looked up for reuse: long strings rarely repeat, and
/// the lookup would hash them whole.
const INTERNED_LEN: usize = 64;

/// Distinct strings the lookup table holds at most; later new strings are stored without it.
/// Bounds the table (dropped once the piece is read) to a few MiB.
const INTERNED_MAX: usize = 1 << 16;

/// After this many strings in a column, a column in which fewer than half were repeats stops
/// looking its strings up (times as RFC 3339 text, free text): the lookups would cost without
/// saving.
const TRIAL: u32 = 256;

/// Rows of cells, `width` to a row, in the order decoded.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cells {
    kinds: Vec<Kind>,
    bits: Vec<u64>,
    strings: Strings,
    rows: usize,
}

/// Every string of a series, one after another in `text`; string `i` ends at `ends[i]`.
#[derive(Debug, Clone, Default)]
struct Strings {
    text: String,
    ends: Vec<usize>,
}

impl Strings {
    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    fn push(&mut self, s: &str) -> u64 {
        self.text.push_str(s);
        self.ends.push(self.text.len());
        (self.ends.len() - 1) as u64
    }
}

impl Cells {
    /// The number of rows.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// The cell at `index` (row times width plus column).
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Value<'_> {
        let bits = self.bits[index];
        match self.kinds[index] {
            Kind::Null => Value::Null,
            Kind::Bool => Value::Bool(bits != 0),
            Kind::Integer => Value::Integer(bits as i64),
            Kind::Unsigned => Value::Unsigned(bits),
            Kind::Float => Value::Float(f64::from_bits(bits)),
            Kind::String => Value::String(Cow::Borrowed(self.strings.get(bits as usize))),
        }
    }

    /// The string at `index`, if the cell holds one.
    #[inline]
    pub(crate) fn get_str(&self, index: usize) -> Option<&str> {
        (self.kinds[index] == Kind::String).then(|| self.strings.get(self.bits[index] as usize))
    }

    /// Counts one more row (its cells pushed already).
    pub(crate) fn end_row(&mut self) {
        self.rows += 1;
    }

    /// Appends `other`'s rows (a series continued in the next chunk of the answer).
    pub(crate) fn append(&mut self, other: &Cells) {
        let base = self.strings.ends.len() as u64;
        let shift = self.strings.text.len();
        self.strings.text.push_str(&other.strings.text);
        self.strings
            .ends
            .extend(other.strings.ends.iter().map(|end| end + shift));
        self.kinds.extend_from_slice(&other.kinds);
        let start = self.bits.len();
        self.bits.extend_from_slice(&other.bits);
        if base > 0 {
            for (kind, bits) in other.kinds.iter().zip(&mut self.bits[start..]) {
                if *kind == Kind::String {
                    *bits += base;
                }
            }
        }
        self.rows += other.rows;
    }
}

/// Fills [`Cells`] as an answer's rows are read, storing a string that repeats in its column
/// once.
#[derive(Debug, Default)]
pub(crate) struct CellWriter {
    cells: Cells,
    seen: Seen,
    columns: Vec<ColumnTrial>,
}

/// How a column's strings have fared in the lookup table.
#[derive(Debug, Clone, Copy)]
struct ColumnTrial {
    strings: u32,
    repeats: u32,
    lookup: bool,
}

impl Default for ColumnTrial {
    fn default() -> Self {
        ColumnTrial {
            strings: 0,
            repeats: 0,
            lookup: true,
        }
    }
}

impl CellWriter {
    /// Adds one cell of `column`.
    #[inline]
    pub(crate) fn push(&mut self, column: usize, value: Value<'_>) {
        let (kind, bits) = match value {
            Value::Null => (Kind::Null, 0),
            Value::Bool(b) => (Kind::Bool, u64::from(b)),
            Value::Integer(v) => (Kind::Integer, v as u64),
            Value::Unsigned(v) => (Kind::Unsigned, v),
            Value::Float(v) => (Kind::Float, v.to_bits()),
            Value::String(s) => (Kind::String, self.string(column, &s)),
        };
        self.cells.kinds.push(kind);
        self.cells.bits.push(bits);
    }

    fn string(&mut self, column: usize, s: &str) -> u64 {
        if column >= self.columns.len() {
            self.columns.resize(column + 1, ColumnTrial::default());
        }
        let trial = &mut self.columns[column];
        if !trial.lookup || s.len() > INTERNED_LEN {
            return self.cells.strings.push(s);
        }
        trial.strings += 1;
        let (index, repeat) = self.seen.find_or_add(&mut self.cells.strings, s);
        if repeat {
            trial.repeats += 1;
        } else if trial.strings >= TRIAL && trial.repeats < trial.strings / 2 {
            trial.lookup = false;
        }
        index
    }

    /// Counts one more row (its cells pushed already).
    pub(crate) fn end_row(&mut self) {
        self.cells.end_row();
    }

    /// The cells written so far.
    pub(crate) fn cells(&self) -> &Cells {
        &self.cells
    }

    /// Starts afresh, keeping the memory of its buffers for the next piece (each chunk of an
    /// answer is a piece: the buffers grow once, not once per chunk).
    pub(crate) fn clear(&mut self) {
        self.seen.clear();
        self.columns.clear();
        let cells = &mut self.cells;
        cells.kinds.clear();
        cells.bits.clear();
        cells.strings.text.clear();
        cells.strings.ends.clear();
        cells.rows = 0;
    }

    /// The cells written, in buffers of their own size; the writer starts afresh.
    #[cfg(test)]
    fn take(&mut self) -> Cells {
        let cells = self.cells.clone();
        self.clear();
        cells
    }
}

/// The strings of a piece already stored, found by their text: an open-addressing table of
/// indexes into [`Strings`] (the text is not stored twice), at most half full, of at most
/// twice [`INTERNED_MAX`] slots.
#[derive(Debug, Default)]
struct Seen {
    /// Index + 1 of a string; 0 for a free slot.
    slots: Vec<u32>,
    len: usize,
}

impl Seen {
    const FIRST_SLOTS: usize = 1024;

    /// The index of `s` in `strings`, and whether it was there already; stored if not.
    #[inline]
    fn find_or_add(&mut self, strings: &mut Strings, s: &str) -> (u64, bool) {
        if self.slots.is_empty() {
            self.slots = vec![0; Self::FIRST_SLOTS];
        }
        let mask = self.slots.len() - 1;
        let mut slot = slot_of(s, self.slots.len());
        loop {
            match self.slots[slot] {
                0 => break,
                taken => {
                    let index = (taken - 1) as usize;
                    if same(strings.get(index), s) {
                        return (index as u64, true);
                    }
                }
            }
            slot = (slot + 1) & mask;
        }
        let index = strings.push(s);
        if self.len < INTERNED_MAX {
            // `index` < `INTERNED_MAX`-bounded table entries are u32: strings of one piece
            // past 4 G are not looked up.
            if let Ok(entry) = u32::try_from(index + 1) {
                self.slots[slot] = entry;
                self.len += 1;
                if self.len * 2 > self.slots.len() {
                    self.grow(strings);
                }
            }
        }
        (index, false)
    }

    fn grow(&mut self, strings: &Strings) {
        let slots = self.slots.len() * 2;
        let mut grown = vec![0u32; slots];
        for &entry in self.slots.iter().filter(|&&e| e != 0) {
            let mut slot = slot_of(strings.get((entry - 1) as usize), slots);
            while grown[slot] != 0 {
                slot = (slot + 1) & (slots - 1);
            }
            grown[slot] = entry;
        }
        self.slots = grown;
    }

    fn clear(&mut self) {
        self.slots.fill(0);
        self.len = 0;
    }
}

/// The seed of [`slot_of`], drawn once per process: which strings share a slot cannot be
/// known from outside, so stored strings cannot be chosen to make lookups slow.
fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| RandomState::new().hash_one(0x5eed_u64))
}

/// The slot `s` hashes to in a table of `slots` (a power of two) slots: a multiply-rotate
/// hash of eight bytes at a time, its top bits.
#[inline]
fn slot_of(s: &str, slots: usize) -> usize {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let bytes = s.as_bytes();
    let mut h = seed() ^ bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        h = (h.rotate_left(26) ^ word_at(word)).wrapping_mul(K);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        h = (h.rotate_left(26) ^ tail(rest)).wrapping_mul(K);
    }
    let h = (h ^ (h >> 32)).wrapping_mul(K);
    (h >> (64 - slots.trailing_zeros())) as usize
}

/// Eight bytes as a word.
#[inline]
fn word_at(bytes: &[u8]) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(word)
}

/// Up to seven bytes as a word (reads that overlap when there are four or more: equal for
/// equal bytes, which is all a hash and a comparison of equal lengths need).
#[inline]
fn tail(rest: &[u8]) -> u64 {
    let n = rest.len();
    if n >= 4 {
        let low = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let high = u32::from_le_bytes([rest[n - 4], rest[n - 3], rest[n - 2], rest[n - 1]]);
        u64::from(low) | (u64::from(high) << 32)
    } else if n > 0 {
        u64::from(rest[0]) | (u64::from(rest[n / 2]) << 8) | (u64::from(rest[n - 1]) << 16)
    } else {
        0
    }
}

/// `a == b`, eight bytes at a time (strings here are short: a library call costs more than
/// the comparison).
#[inline]
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut left = a.chunks_exact(8);
    let mut right = b.chunks_exact(8);
    for (x, y) in (&mut left).zip(&mut right) {
        if word_at(x) != word_at(y) {
            return false;
        }
    }
    tail(left.remainder()) == tail(right.remainder())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> Value<'static> {
        Value::String(Cow::Owned(s.to_owned()))
    }

    #[test]
    fn every_kind_of_cell_reads_back_as_written() {
        let written = [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Integer(-1),
            Value::Integer(i64::MIN),
            Value::Unsigned(u64::MAX),
            Value::Float(-0.0),
            Value::Float(1e300),
            string(""),
            string("é😀"),
            string(&"x".repeat(INTERNED_LEN + 1)),
        ];
        let mut writer = CellWriter::default();
        for (i, v) in written.iter().enumerate() {
            writer.push(i, v.clone());
        }
        writer.end_row();
        let cells = writer.take();
        assert_eq!(cells.rows(), 1);
        let read: Vec<Value<'_>> = (0..written.len()).map(|i| cells.get(i)).collect();
        assert_eq!(read, written);
        // -0.0 == 0.0 as floats: the bits tell them apart.
        assert!(matches!(cells.get(6), Value::Float(f) if f.is_sign_negative()));
    }

    #[test]
    fn a_repeated_string_is_stored_once_and_a_column_of_distinct_ones_stops_looking() {
        let mut writer = CellWriter::default();
        let rows = 2 * TRIAL as usize;
        for row in 0..rows {
            writer.push(0, string(["a", "b"][row % 2]));
            writer.push(1, string(&format!("unique {row}")));
            writer.end_row();
        }
        // Column 1 stopped being looked up after its trial: its later strings are not in the
        // table.
        assert_eq!(writer.seen.len, 2 + TRIAL as usize);
        let cells = writer.take();
        assert_eq!(cells.strings.ends.len(), 2 + rows);
        for row in 0..rows {
            assert_eq!(cells.get(2 * row), string(["a", "b"][row % 2]));
            assert_eq!(cells.get(2 * row + 1), string(&format!("unique {row}")));
        }
    }

    /// The lookup table stops growing at its bound: later new strings are stored without it,
    /// and every string still reads back.
    #[test]
    fn the_lookup_table_holds_at_most_its_bound() {
        let mut writer = CellWriter::default();
        // Two of every three strings repeat, so the column keeps being looked up.
        let distinct = INTERNED_MAX + 1_000;
        for i in 0..distinct {
            for s in [format!("s{i}"), "again".into(), "again".into()] {
                writer.push(0, string(&s));
                writer.end_row();
            }
        }
        assert!(writer.columns[0].lookup);
        assert_eq!(writer.seen.len, INTERNED_MAX);
        assert!(writer.seen.slots.len() <= 2 * INTERNED_MAX.next_power_of_two());
        let cells = writer.take();
        assert_eq!(cells.rows(), 3 * distinct);
        for i in (0..distinct).step_by(997) {
            assert_eq!(cells.get(3 * i), string(&format!("s{i}")));
            assert_eq!(cells.get(3 * i + 1), string("again"));
        }
    }

    #[test]
    fn appended_cells_keep_their_strings() {
        let mut first = CellWriter::default();
        first.push(0, string("a"));
        first.push(1, Value::Integer(1));
        first.end_row();
        let mut second = CellWriter::default();
        second.push(0, string("b"));
        second.push(1, string("a"));
        second.end_row();
        let mut cells = first.take();
        cells.append(&second.take());
        assert_eq!(cells.rows(), 2);
        let read: Vec<Value<'_>> = (0..4).map(|i| cells.get(i)).collect();
        assert_eq!(
            read,
            [string("a"), Value::Integer(1), string("b"), string("a")]
        );
    }
}
