//! The lines of one destination waiting to be sent, in segments: appended at the back,
//! dropped from the front one line at a time, taken and put back a segment at a time. Every
//! operation done under the writer's lock is O(1) amortised: no batch is copied while
//! `record()` may be waiting for the lock (the segments of a batch are joined afterwards).

use std::collections::VecDeque;

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
struct Segment {
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

    /// Its lines as a batch (copying only when lines were dropped from its front).
    fn into_batch(mut self) -> Batch {
        if self.head > 0 {
            let start = self.start();
            self.bytes.drain(..start);
            self.ends.drain(..self.head);
            for end in &mut self.ends {
                *end -= start;
            }
        }
        Batch {
            bytes: self.bytes,
            ends: self.ends,
        }
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

    /// One batch of every line, in order.
    pub(crate) fn into_batch(self) -> Batch {
        let mut segments = self.segments.into_iter();
        let Some(first) = segments.next() else {
            return Batch::default();
        };
        let mut batch = first.into_batch();
        batch.bytes.reserve(self.bytes - batch.bytes.len());
        batch.ends.reserve(self.points - batch.ends.len());
        for segment in segments {
            let (start, shift) = (segment.start(), batch.bytes.len());
            batch.bytes.extend_from_slice(&segment.bytes[start..]);
            batch.ends.extend(
                segment.ends[segment.head..]
                    .iter()
                    .map(|e| e - start + shift),
            );
        }
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

    /// Appends a line (newline included). A full segment is closed and trimmed to its
    /// contents (so what the budget counts, line bytes, is what is held, give or take the
    /// segment being filled), and a new one started.
    pub(crate) fn push(&mut self, line: &[u8]) {
        let fits = self.segments.back().is_some_and(|s| {
            s.ends.len() < SEGMENT_LINES && s.bytes.len() + line.len() <= SEGMENT_BYTES
        });
        if !fits {
            self.start_segment();
        }
        let segment = self.segments.back_mut().expect("a segment was just made");
        segment.bytes.extend_from_slice(line);
        segment.ends.push(segment.bytes.len());
        self.points += 1;
        self.bytes += line.len();
    }

    #[cold]
    fn start_segment(&mut self) {
        if let Some(full) = self.segments.back_mut() {
            full.bytes.shrink_to_fit();
            full.ends.shrink_to_fit();
        }
        self.segments.push_back(Segment::default());
    }

    /// Appends lines taken whole (`bytes`, line `i` ending at `ends[i]`), as a segment of
    /// their own: no copy.
    pub(crate) fn push_lines(&mut self, bytes: Vec<u8>, ends: Vec<usize>) {
        if ends.is_empty() {
            return;
        }
        self.points += ends.len();
        self.bytes += bytes.len();
        self.segments.push_back(Segment {
            bytes,
            ends,
            head: 0,
        });
    }

    /// Drops the front line; returns its size in bytes.
    pub(crate) fn drop_front(&mut self) -> usize {
        let front = self.segments.front_mut().expect("a line to drop");
        let before = front.start();
        front.head += 1;
        let size = front.start() - before;
        if front.len() == 0 {
            self.segments.pop_front();
        }
        self.points -= 1;
        self.bytes -= size;
        size
    }

    /// Takes whole segments from the front while they fit in `max_points` lines and
    /// `max_bytes` bytes (the first one always; a segment is never larger than a batch
    /// unless a single line is).
    pub(crate) fn take_front(&mut self, max_points: usize, max_bytes: usize) -> Taken {
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
                let part = Segment {
                    bytes: front.bytes[base..end].to_vec(),
                    ends: front.ends[front.head..front.head + n]
                        .iter()
                        .map(|e| e - base)
                        .collect(),
                    head: 0,
                };
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

    /// Puts `batch` back before the lines waiting (it was taken from the front and not sent).
    pub(crate) fn put_front(&mut self, batch: Batch) {
        if batch.len() == 0 {
            return;
        }
        self.points += batch.len();
        self.bytes += batch.bytes.len();
        self.segments.push_front(Segment {
            bytes: batch.bytes,
            ends: batch.ends,
            head: 0,
        });
    }

    /// Drops every line; returns how many there were.
    pub(crate) fn clear(&mut self) -> usize {
        let points = self.points;
        self.segments.clear();
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

    fn queue(lines: &[&str]) -> Queue {
        let mut q = Queue::default();
        for l in lines {
            q.push(format!("{l}\n").as_bytes());
        }
        q
    }

    #[test]
    fn front_drops_takes_and_puts_back_keep_the_order() {
        let mut q = queue(&["a", "bb", "ccc", "dddd", "e"]);
        assert_eq!(q.drop_front(), 2);
        let batch = q.take_front(2, 1 << 20).into_batch();
        assert_eq!(batch.bytes, b"bb\nccc\n");
        assert_eq!(batch.ends, [3, 7]);
        assert_eq!(q.text(), "dddd\ne\n");
        let rest = batch.tail(1);
        assert_eq!(rest.bytes, b"ccc\n");
        q.put_front(rest);
        assert_eq!(q.text(), "ccc\ndddd\ne\n");
        assert_eq!((q.len(), q.byte_len()), (3, 11));
        q.push(b"f\n");
        let all = q.take_front(100, 1 << 20).into_batch();
        assert_eq!(all.bytes, b"ccc\ndddd\ne\nf\n");
        assert_eq!(all.ends, [4, 9, 11, 13]);
        assert_eq!((q.len(), q.byte_len()), (0, 0));
    }

    #[test]
    fn takes_are_whole_segments_within_the_caps() {
        let mut q = Queue::default();
        for i in 0..5_000 {
            q.push(format!("m v={i:05}\n").as_bytes());
        }
        let taken = q.take_front(3_000, 1 << 20);
        assert_eq!(taken.len(), 2 * SEGMENT_LINES, "whole segments only");
        let batch = taken.into_batch();
        assert_eq!(batch.len(), 2 * SEGMENT_LINES);
        assert_eq!(
            std::str::from_utf8(&batch.bytes).unwrap().lines().nth(2047),
            Some("m v=02047")
        );
        assert_eq!(q.len(), 5_000 - 2 * SEGMENT_LINES);
        assert_eq!(q.take_front(1, 1 << 20).len(), 1, "a large segment is cut");
        assert_eq!(q.take_front(10, 5).len(), 1, "one line always goes");
    }

    #[test]
    fn dropping_from_the_front_frees_segments() {
        let mut q = Queue::default();
        let mut line = vec![b'x'; 99];
        line.push(b'\n');
        for _ in 0..10_000 {
            q.push(&line);
            q.drop_front();
            q.push(&line);
        }
        assert_eq!(q.len(), 10_000);
        // 10 000 lines of 100 bytes: segments are full at 64 KiB.
        assert!(
            q.segments.len() <= 10_000 * 100 / SEGMENT_BYTES + 2,
            "{}",
            q.segments.len()
        );
        assert_eq!(q.clear(), 10_000);
        assert_eq!(q.byte_len(), 0);
    }
}
