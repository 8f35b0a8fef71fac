//! The lines of one destination waiting to be sent, in segments: appended at the back,
//! dropped from the front one line at a time, taken a segment at a time. Every operation done
//! under the writer's lock is O(1) amortised: no batch is copied while `record()` may be
//! waiting for the lock (the segments of a batch are joined afterwards).
//!
//! Full segments come from, and go back to, the writer's [`Spares`]: whichever thread
//! appends or drops lines (a recording thread when the budget is full, the writer's thread
//! otherwise), the same buffers go round. Left to the allocator, each thread would take new
//! ones from its own arena, and every arena would grow to what the budget holds.

use std::collections::VecDeque;

use super::shard::StagedLine;

/// Lines to be sent: `bytes`, line `i` ending at `ends[i]` (newline included).
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) bytes: Vec<u8>,
    pub(crate) ends: Vec<usize>,
}

impl Batch {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Lines `from..`, as a batch of their own.
    #[cfg(test)]
    pub(crate) fn tail(mut self, from: usize) -> Batch {
        let offset = if from == 0 { 0 } else { self.ends[from - 1] };
        self.bytes.drain(..offset);
        self.ends.drain(..from);
        for end in &mut self.ends {
            *end -= offset;
        }
        self
    }
}

/// Lines per segment at most.
const SEGMENT_LINES: usize = 1024;
/// Bytes per segment at most (a longer line gets a segment of its own).
const SEGMENT_BYTES: usize = 64 * 1024;

/// A run of lines; those before `head` are dropped.
#[derive(Debug, Default)]
pub(crate) struct Segment {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    head: usize,
}

impl Segment {
    fn len(&self) -> usize {
        self.ends.len() - self.head
    }

    fn start(&self) -> usize {
        if self.head == 0 {
            0
        } else {
            self.ends[self.head - 1]
        }
    }

    fn byte_len(&self) -> usize {
        self.bytes.len() - self.start()
    }

    /// An emptied segment, for the spares.
    fn emptied(mut self) -> Segment {
        self.bytes.clear();
        self.ends.clear();
        self.head = 0;
        self
    }
}

/// Empty buffers, for queues and shards to take instead of allocating (see the module):
/// full-size segments, and the blocks and indexes shards stage into (a shard's block comes
/// back here once its lines are copied into the queues; it never goes into a queue).
#[derive(Debug)]
pub(crate) struct Spares {
    segments: Vec<Segment>,
    /// The most segments kept.
    max: usize,
    blocks: Vec<Vec<u8>>,
    indexes: Vec<Vec<StagedLine>>,
    /// A block's size in bytes, an index's in lines.
    block: usize,
    index: usize,
    /// The most blocks (and indexes) kept.
    max_blocks: usize,
}

impl Spares {
    /// Keeps at most `max_bytes` of segments, and of shard blocks of `block` bytes.
    pub(crate) fn new(max_bytes: usize, block: usize) -> Spares {
        Spares {
            segments: Vec::new(),
            max: (max_bytes / SEGMENT_BYTES).max(4),
            blocks: Vec::new(),
            indexes: Vec::new(),
            block,
            index: block / 32,
            max_blocks: (max_bytes / block.max(1)).max(2),
        }
    }

    fn take(&mut self) -> Segment {
        self.segments.pop().unwrap_or_else(|| Segment {
            bytes: Vec::with_capacity(SEGMENT_BYTES),
            ends: Vec::with_capacity(SEGMENT_LINES),
            head: 0,
        })
    }

    /// Keeps `segment`'s buffers if they are of a size kept and there is room; else frees them.
    pub(crate) fn give(&mut self, segment: Segment) {
        if self.segments.len() < self.max
            && segment.bytes.capacity() == SEGMENT_BYTES
            && segment.ends.capacity() == SEGMENT_LINES
        {
            self.segments.push(segment.emptied());
        }
    }

    /// A block and an index for a shard to stage into.
    pub(crate) fn shard_buffers(&mut self) -> (Vec<u8>, Vec<StagedLine>) {
        (
            self.blocks
                .pop()
                .unwrap_or_else(|| Vec::with_capacity(self.block)),
            self.indexes
                .pop()
                .unwrap_or_else(|| Vec::with_capacity(self.index)),
        )
    }

    /// Keeps a shard's block, if there is room (one that grew, for a long line, is trimmed
    /// back to the size kept).
    pub(crate) fn give_block(&mut self, mut block: Vec<u8>) {
        if block.capacity() >= self.block && self.blocks.len() < self.max_blocks {
            block.clear();
            block.shrink_to(self.block);
            self.blocks.push(block);
        }
    }

    /// Keeps a shard's index, likewise.
    pub(crate) fn give_index(&mut self, mut index: Vec<StagedLine>) {
        if index.capacity() >= self.index && self.indexes.len() < self.max_blocks {
            index.clear();
            index.shrink_to(self.index);
            self.indexes.push(index);
        }
    }
}

/// Lines to put back at the front of a queue, copied into segments of their own by the
/// writer's thread before it takes the lock (a failed round can hold a sixteenth of the
/// budget: no `record()` waits for its copy).
#[derive(Debug, Default)]
pub(crate) struct Front {
    queue: Queue,
}

impl Front {
    /// The lines of `bytes` ending at `ends`, in new full-size segments.
    pub(crate) fn of(bytes: &[u8], ends: &[usize]) -> Front {
        let mut queue = Queue::default();
        let mut fresh = Spares::new(0, 0);
        let mut start = 0;
        for &end in ends {
            if queue.segments.is_empty() {
                // A full-size first segment too: these go back to the spares once sent.
                queue.segments.push_back(fresh.take());
            }
            queue.push(&bytes[start..end], &mut fresh);
            start = end;
        }
        Front { queue }
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.points
    }
}

/// Segments taken from a queue, to be joined into one batch outside the lock.
#[derive(Debug, Default)]
pub(crate) struct Taken {
    segments: Vec<Segment>,
    points: usize,
    bytes: usize,
}

impl Taken {
    pub(crate) fn len(&self) -> usize {
        self.points
    }

    pub(crate) fn byte_len(&self) -> usize {
        self.bytes
    }

    /// Every line, in order, into `batch` (emptied first); returns the segments, emptied, for
    /// the spares.
    pub(crate) fn join_into(self, batch: &mut Batch) -> Vec<Segment> {
        batch.bytes.clear();
        batch.ends.clear();
        batch.bytes.reserve(self.bytes);
        batch.ends.reserve(self.points);
        let mut emptied = Vec::with_capacity(self.segments.len());
        for segment in self.segments {
            let (start, shift) = (segment.start(), batch.bytes.len());
            batch.bytes.extend_from_slice(&segment.bytes[start..]);
            batch.ends.extend(
                segment.ends[segment.head..]
                    .iter()
                    .map(|e| e - start + shift),
            );
            emptied.push(segment.emptied());
        }
        emptied
    }

    /// One batch of every line, in order (for tests).
    #[cfg(test)]
    pub(crate) fn into_batch(self) -> Batch {
        let mut batch = Batch::default();
        self.join_into(&mut batch);
        batch
    }
}

#[derive(Debug, Default)]
pub(crate) struct Queue {
    segments: VecDeque<Segment>,
    points: usize,
    bytes: usize,
}

impl Queue {
    pub(crate) fn len(&self) -> usize {
        self.points
    }

    /// Bytes of the lines waiting.
    pub(crate) fn byte_len(&self) -> usize {
        self.bytes
    }

    /// Appends a line (newline included). A full segment is closed, and a new one started:
    /// a full-size one from the spares when the queue already holds lines (it is busy), else
    /// a small one grown as it fills (a destination recorded to now and then holds little).
    pub(crate) fn push(&mut self, line: &[u8], spares: &mut Spares) {
        let fits = self.segments.back().is_some_and(|s| {
            s.ends.len() < SEGMENT_LINES && s.bytes.len() + line.len() <= SEGMENT_BYTES
        });
        if !fits {
            let segment = if self.segments.is_empty() {
                Segment::default()
            } else {
                spares.take()
            };
            self.segments.push_back(segment);
        }
        let segment = self.segments.back_mut().expect("a segment was just made");
        let needed = segment.bytes.len() + line.len();
        if needed > segment.bytes.capacity() {
            // Grown by doubling, but never past a full segment's size, so that a segment
            // that fills up has the size the spares keep.
            let grown = needed.max(2 * segment.bytes.capacity()).max(256);
            let target = if needed <= SEGMENT_BYTES {
                grown.min(SEGMENT_BYTES)
            } else {
                needed
            };
            segment.bytes.reserve_exact(target - segment.bytes.len());
        }
        segment.bytes.extend_from_slice(line);
        segment.ends.push(segment.bytes.len());
        self.points += 1;
        self.bytes += line.len();
    }

    /// Appends the lines a shard staged (`bytes`, each line ending at its `end`), copied into
    /// the segments: the shard's block goes back to the spares, never into a queue, so that
    /// only segments of one size go round.
    pub(crate) fn push_staged(&mut self, bytes: &[u8], lines: &[StagedLine], spares: &mut Spares) {
        let mut start = 0;
        for line in lines {
            self.push(&bytes[start..line.end], spares);
            start = line.end;
        }
    }

    /// Drops the front line; returns its size in bytes.
    pub(crate) fn drop_front(&mut self, spares: &mut Spares) -> usize {
        let front = self.segments.front_mut().expect("a line to drop");
        let before = front.start();
        front.head += 1;
        let size = front.start() - before;
        if front.len() == 0 {
            if let Some(empty) = self.segments.pop_front() {
                spares.give(empty);
            }
        }
        self.points -= 1;
        self.bytes -= size;
        size
    }

    /// Takes whole segments from the front while they fit in `max_points` lines and
    /// `max_bytes` bytes (the first one always; a segment is never larger than a batch
    /// unless a single line is).
    pub(crate) fn take_front(
        &mut self,
        max_points: usize,
        max_bytes: usize,
        spares: &mut Spares,
    ) -> Taken {
        let mut taken = Taken::default();
        while let Some(front) = self.segments.front() {
            let (points, bytes) = (front.len(), front.byte_len());
            if !taken.segments.is_empty()
                && (taken.points + points > max_points || taken.bytes + bytes > max_bytes)
            {
                break;
            }
            if taken.segments.is_empty() && (points > max_points || bytes > max_bytes) {
                // Larger than a batch (put back after a failure, or segments larger than a
                // small batch cap): cut it, copying at most one batch.
                let front = self.segments.front_mut().expect("checked");
                let base = front.start();
                let fit = front.ends[front.head..].partition_point(|&end| end - base <= max_bytes);
                let n = fit.max(1).min(max_points.max(1));
                let end = front.ends[front.head + n - 1];
                let mut part = spares.take();
                part.bytes.extend_from_slice(&front.bytes[base..end]);
                part.ends.extend(
                    front.ends[front.head..front.head + n]
                        .iter()
                        .map(|e| e - base),
                );
                front.head += n;
                taken.points = n;
                taken.bytes = end - base;
                taken.segments.push(part);
                break;
            }
            let segment = self.segments.pop_front().expect("checked");
            taken.points += points;
            taken.bytes += bytes;
            taken.segments.push(segment);
        }
        self.points -= taken.points;
        self.bytes -= taken.bytes;
        taken
    }

    /// Puts `front` back before the lines waiting (its lines were taken from the front and not
    /// sent): its segments, made outside the lock, go in as they are.
    pub(crate) fn put_front(&mut self, mut front: Front) {
        self.points += front.queue.points;
        self.bytes += front.queue.bytes;
        while let Some(segment) = front.queue.segments.pop_back() {
            self.segments.push_front(segment);
        }
    }

    /// Drops every line; returns how many there were.
    pub(crate) fn clear(&mut self, spares: &mut Spares) -> usize {
        let points = self.points;
        for segment in self.segments.drain(..) {
            spares.give(segment);
        }
        self.points = 0;
        self.bytes = 0;
        points
    }

    /// Every line, as text (for tests).
    #[cfg(test)]
    pub(crate) fn text(&self) -> String {
        self.segments
            .iter()
            .map(|s| String::from_utf8_lossy(&s.bytes[s.start()..]).into_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(lines: &[&str], spares: &mut Spares) -> Queue {
        let mut q = Queue::default();
        for l in lines {
            q.push(format!("{l}\n").as_bytes(), spares);
        }
        q
    }

    #[test]
    fn front_drops_takes_and_puts_back_keep_the_order() {
        let sp = &mut Spares::new(1 << 20, 256 << 10);
        let mut q = queue(&["a", "bb", "ccc", "dddd", "e"], sp);
        assert_eq!(q.drop_front(sp), 2);
        let batch = q.take_front(2, 1 << 20, sp).into_batch();
        assert_eq!(batch.bytes, b"bb\nccc\n");
        assert_eq!(batch.ends, [3, 7]);
        assert_eq!(q.text(), "dddd\ne\n");
        let rest = batch.tail(1);
        assert_eq!(rest.bytes, b"ccc\n");
        q.put_front(Front::of(&rest.bytes, &rest.ends));
        assert_eq!(q.text(), "ccc\ndddd\ne\n");
        assert_eq!((q.len(), q.byte_len()), (3, 11));
        q.push(b"f\n", sp);
        let all = q.take_front(100, 1 << 20, sp).into_batch();
        assert_eq!(all.bytes, b"ccc\ndddd\ne\nf\n");
        assert_eq!(all.ends, [4, 9, 11, 13]);
        assert_eq!((q.len(), q.byte_len()), (0, 0));
    }

    #[test]
    fn takes_are_whole_segments_within_the_caps() {
        let sp = &mut Spares::new(1 << 20, 256 << 10);
        let mut q = Queue::default();
        for i in 0..5_000 {
            q.push(format!("m v={i:05}\n").as_bytes(), sp);
        }
        let taken = q.take_front(3_000, 1 << 20, sp);
        assert_eq!(taken.len(), 2 * SEGMENT_LINES, "whole segments only");
        let batch = taken.into_batch();
        assert_eq!(batch.len(), 2 * SEGMENT_LINES);
        assert_eq!(
            std::str::from_utf8(&batch.bytes).unwrap().lines().nth(2047),
            Some("m v=02047")
        );
        assert_eq!(q.len(), 5_000 - 2 * SEGMENT_LINES);
        assert_eq!(
            q.take_front(1, 1 << 20, sp).len(),
            1,
            "a large segment is cut"
        );
        assert_eq!(q.take_front(10, 5, sp).len(), 1, "one line always goes");
    }

    #[test]
    fn dropped_segments_go_round_through_the_spares() {
        let sp = &mut Spares::new(1 << 20, 256 << 10);
        let mut q = Queue::default();
        let mut line = vec![b'x'; 99];
        line.push(b'\n');
        for _ in 0..10_000 {
            q.push(&line, sp);
            q.drop_front(sp);
            q.push(&line, sp);
        }
        assert_eq!(q.len(), 10_000);
        // 10 000 lines of 100 bytes: segments are full at 64 KiB.
        assert!(
            q.segments.len() <= 10_000 * 100 / SEGMENT_BYTES + 2,
            "{}",
            q.segments.len()
        );
        assert!(sp.segments.len() <= 2, "emptied segments were taken again");
        assert_eq!(q.clear(sp), 10_000);
        assert_eq!(q.byte_len(), 0);
        assert!(
            (10..=sp.max).contains(&sp.segments.len()),
            "kept up to the bound: {}",
            sp.segments.len()
        );
    }
}
