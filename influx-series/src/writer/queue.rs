//! The lines of one destination waiting to be sent: appended at the back, dropped or taken
//! from the front in O(1) amortised (the front is an index; the space before it is reclaimed
//! once it is half the buffer).

/// Lines taken out of a queue to be sent: `bytes`, line `i` ending at `ends[i]` (newline
/// included).
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) bytes: Vec<u8>,
    pub(crate) ends: Vec<usize>,
}

impl Batch {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    fn start_of(&self, line: usize) -> usize {
        if line == 0 { 0 } else { self.ends[line - 1] }
    }

    /// Lines `from..`, as a batch of their own.
    pub(crate) fn tail(mut self, from: usize) -> Batch {
        let offset = self.start_of(from);
        self.bytes.drain(..offset);
        self.ends.drain(..from);
        for end in &mut self.ends {
            *end -= offset;
        }
        self
    }
}

/// Space before the front is reclaimed once it is this large and half the buffer.
const COMPACT_AT: usize = 64 * 1024;

#[derive(Debug, Default)]
pub(crate) struct Queue {
    bytes: Vec<u8>,
    /// End offsets in `bytes`; lines before `head` are gone.
    ends: Vec<usize>,
    head: usize,
}

impl Queue {
    pub(crate) fn len(&self) -> usize {
        self.ends.len() - self.head
    }

    fn start(&self) -> usize {
        if self.head == 0 {
            0
        } else {
            self.ends[self.head - 1]
        }
    }

    /// Bytes of the lines waiting.
    pub(crate) fn byte_len(&self) -> usize {
        self.bytes.len() - self.start()
    }

    /// Appends a line (newline included), growing the buffer no further than `bound` bytes
    /// unless the line itself needs more: doubling past the writer's byte budget would hold
    /// up to twice what the budget promises.
    pub(crate) fn push(&mut self, line: &[u8], bound: usize) {
        if self.bytes.capacity() - self.bytes.len() < line.len() {
            self.grow(line.len(), bound);
        }
        self.bytes.extend_from_slice(line);
        self.ends.push(self.bytes.len());
    }

    #[cold]
    fn grow(&mut self, additional: usize, bound: usize) {
        self.compact(true);
        let needed = self.bytes.len() + additional;
        let target = needed
            .max(self.bytes.capacity().saturating_mul(2).min(bound))
            .max(4096);
        self.bytes.reserve_exact(target - self.bytes.len());
    }

    /// Drops the front line; returns its size in bytes.
    pub(crate) fn drop_front(&mut self) -> usize {
        debug_assert!(self.len() > 0);
        let before = self.start();
        self.head += 1;
        let size = self.start() - before;
        self.compact(false);
        size
    }

    /// Takes up to `max_points` lines from the front, as many as fit in `max_bytes` (at least
    /// one).
    pub(crate) fn take_front(&mut self, max_points: usize, max_bytes: usize) -> Batch {
        let base = self.start();
        let fit = self.ends[self.head..].partition_point(|&end| end - base <= max_bytes);
        let n = fit.max(1).min(max_points.max(1)).min(self.len());
        if self.head == 0 && n == self.ends.len() {
            // Everything: the buffers change hands, nothing is copied.
            return Batch {
                bytes: std::mem::take(&mut self.bytes),
                ends: std::mem::take(&mut self.ends),
            };
        }
        let end = self.ends[self.head + n - 1];
        let batch = Batch {
            bytes: self.bytes[base..end].to_vec(),
            ends: self.ends[self.head..self.head + n]
                .iter()
                .map(|e| e - base)
                .collect(),
        };
        self.head += n;
        self.compact(false);
        batch
    }

    /// Puts `batch` back before the lines waiting (it was taken from the front and not sent).
    pub(crate) fn put_front(&mut self, batch: Batch) {
        if batch.len() == 0 {
            return;
        }
        let start = self.start();
        let shift = batch.bytes.len();
        let mut bytes = batch.bytes;
        bytes.extend_from_slice(&self.bytes[start..]);
        let mut ends = batch.ends;
        ends.extend(self.ends[self.head..].iter().map(|e| e - start + shift));
        self.bytes = bytes;
        self.ends = ends;
        self.head = 0;
    }

    /// Reclaims the space before the front: always when `now`, else when it is large.
    fn compact(&mut self, now: bool) {
        if self.head == self.ends.len() {
            self.bytes.clear();
            self.ends.clear();
            self.head = 0;
            return;
        }
        let start = self.start();
        if start > 0 && (now || (start >= COMPACT_AT && 2 * start >= self.bytes.len())) {
            self.bytes.drain(..start);
            self.ends.drain(..self.head);
            for end in &mut self.ends {
                *end -= start;
            }
            self.head = 0;
        }
    }

    /// Every line, as text (for tests and debugging).
    #[cfg(test)]
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes[self.start()..]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(lines: &[&str]) -> Queue {
        let mut q = Queue::default();
        for l in lines {
            q.push(format!("{l}\n").as_bytes(), 1 << 20);
        }
        q
    }

    #[test]
    fn front_drops_takes_and_puts_back_keep_the_order() {
        let mut q = queue(&["a", "bb", "ccc", "dddd", "e"]);
        assert_eq!(q.drop_front(), 2);
        let batch = q.take_front(2, 1 << 20);
        assert_eq!(batch.bytes, b"bb\nccc\n");
        assert_eq!(batch.ends, [3, 7]);
        assert_eq!(q.text(), "dddd\ne\n");
        let rest = batch.tail(1);
        assert_eq!(rest.bytes, b"ccc\n");
        q.put_front(rest);
        assert_eq!(q.text(), "ccc\ndddd\ne\n");
        assert_eq!((q.len(), q.byte_len()), (3, 11));
        q.push(b"f\n", 1 << 20);
        let all = q.take_front(100, 1 << 20);
        assert_eq!(all.bytes, b"ccc\ndddd\ne\nf\n");
        assert_eq!((q.len(), q.byte_len()), (0, 0));
    }

    #[test]
    fn a_take_is_cut_by_bytes_but_never_empty() {
        let mut q = queue(&["aaaa", "bbbb", "cccc"]);
        assert_eq!(q.take_front(10, 10).len(), 2);
        assert_eq!(q.take_front(10, 1).len(), 1, "one line always goes");
    }

    #[test]
    fn dropping_from_the_front_reclaims_space() {
        let mut q = Queue::default();
        let line = [b'x'; 99];
        let mut line = line.to_vec();
        line.push(b'\n');
        for _ in 0..10_000 {
            q.push(&line, 1 << 30);
            q.drop_front();
            q.push(&line, 1 << 30);
        }
        assert_eq!(q.len(), 10_000);
        assert!(
            q.bytes.len() <= 2 * q.byte_len() + COMPACT_AT,
            "{} bytes held for {} waiting",
            q.bytes.len(),
            q.byte_len()
        );
    }

    #[test]
    fn growth_stops_at_the_bound() {
        let mut q = Queue::default();
        for _ in 0..1000 {
            q.push(b"0123456789\n", 10_000);
        }
        assert_eq!(q.bytes.capacity(), 11_000, "grows exactly past the bound");
        let mut q = Queue::default();
        for _ in 0..900 {
            q.push(b"0123456789\n", 10_000);
        }
        assert!(q.bytes.capacity() <= 10_000, "{}", q.bytes.capacity());
    }
}
