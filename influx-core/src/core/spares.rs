//! The buffers of a write's requests, kept between writes: a request's worth of lines
//! ([`Fed`]), the room a new one is given ([`Room`]), and the client's spares ([`Spares`]),
//! so that a write fills the pages an earlier one mapped.

use bytes::Bytes;

/// A request's worth of lines for one lane.
#[derive(Default)]
pub(super) struct Fed {
    pub(super) bytes: Vec<u8>,
    pub(super) ends: Vec<usize>,
    /// Each line's position in the write.
    pub(super) lines: Vec<usize>,
}

impl Fed {
    /// An empty request's worth with `room`, so that filling it does not grow it.
    pub(super) fn with_capacity(room: Room) -> Fed {
        Fed {
            bytes: Vec::with_capacity(room.bytes),
            ends: Vec::with_capacity(room.lines),
            lines: Vec::with_capacity(room.lines),
        }
    }

    /// The memory its buffers hold: their capacities, in bytes.
    pub(super) fn held(&self) -> usize {
        let words = self.ends.capacity() + self.lines.capacity();
        self.bytes.capacity() + words * std::mem::size_of::<usize>()
    }

    pub(super) fn push(&mut self, line: &[u8], position: usize) {
        self.bytes.extend_from_slice(line);
        self.ends.push(self.bytes.len());
        self.lines.push(position);
    }

    /// The buffers of a request's worth that was sent as `sent`, the text's and ends' emptied
    /// for [`Spares`] (the lines' positions are kept until the run is settled). The text's
    /// buffer comes back only if nothing else holds it any more, as is the case once the
    /// request is answered.
    pub(super) fn reuse(sent: Bytes, mut ends: Vec<usize>, lines: Vec<usize>) -> Fed {
        ends.clear();
        Fed {
            bytes: reclaim(sent),
            ends,
            lines,
        }
    }

    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.lines.clear();
    }
}

/// The buffer of a request's text once sent, emptied, if nothing else holds it any more (as
/// is the case once the request is answered); else a new, empty one.
pub(super) fn reclaim(sent: Bytes) -> Vec<u8> {
    match sent.try_into_mut() {
        Ok(mut text) => {
            text.clear();
            Vec::from(text)
        }
        Err(_) => Vec::new(),
    }
}

/// Buffers of requests' worth kept by a client (and its clones) between its writes with
/// several requests in flight, emptied: a write fills the buffers an earlier one filled, whose
/// pages the system has mapped already, instead of new ones. (Measured on a write of 100 000
/// points in two lanes: 1 400 page faults, 5 ms of the client's 33 ms of CPU time, all gone.)
/// At most [`SPARES`] buffers and [`SPARE_BYTES`] bytes of them (their capacities) are kept.
#[derive(Default)]
pub(crate) struct Spares(std::sync::Mutex<Vec<Fed>>);

/// The most buffers [`Spares`] keeps: enough for a write with two requests in flight (its
/// first window, and a request filling, one queued and one sent a lane).
const SPARES: usize = 8;

/// The most bytes [`Spares`] keeps: the capacities of the buffers, the text's and the lines'.
const SPARE_BYTES: usize = 16 << 20;

impl Spares {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fed>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A buffer kept, or a new one with `room`.
    pub(super) fn take(&self, room: Room) -> Fed {
        self.lock()
            .pop()
            .unwrap_or_else(|| Fed::with_capacity(room))
    }

    /// Keeps `fed`, emptied, unless that would keep more than the bounds.
    pub(super) fn keep(&self, mut fed: Fed) {
        let size = fed.held();
        if size == 0 || size > SPARE_BYTES {
            return;
        }
        fed.clear();
        let mut kept = self.lock();
        let held: usize = kept.iter().map(Fed::held).sum();
        if kept.len() < SPARES && held + size <= SPARE_BYTES {
            kept.push(fed);
        }
    }
}

/// The most room a new buffer is given in bytes of text, and in lines: the room is a hint (a
/// buffer grows past it as it must), and these keep a request cap or a batch size set very
/// high from reserving more than that.
const MAX_ROOM_BYTES: usize = 16 << 20;
const MAX_ROOM_LINES: usize = 1 << 20;

/// The room a new buffer is given, in bytes of text and in lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Room {
    bytes: usize,
    lines: usize,
}

impl Room {
    /// No room: the buffer grows as it is filled.
    pub(super) const NONE: Room = Room { bytes: 0, lines: 0 };

    /// The room of a whole request, at the first window's mean line length: as many lines as
    /// the request caps let in (`cap_points` may be `usize::MAX`: no batch size), and an
    /// eighth more, within the byte cap and [`MAX_ROOM_BYTES`] and [`MAX_ROOM_LINES`].
    pub(super) fn of_request(window: &Fed, cap_points: usize, cap_bytes: usize) -> Room {
        let mean = window
            .bytes
            .len()
            .div_ceil(window.lines.len().max(1))
            .max(1);
        let cap_bytes = cap_bytes.min(MAX_ROOM_BYTES);
        let cap_points = cap_points.min(MAX_ROOM_LINES);
        let lines = cap_points.min(cap_bytes / mean + 1);
        Room {
            bytes: mean
                .saturating_mul(lines)
                .saturating_add(mean.saturating_mul(lines) / 8)
                .min(cap_bytes),
            lines: lines.saturating_add(lines / 8).min(cap_points),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(bytes: usize) -> Fed {
        let mut fed = Fed::with_capacity(Room { bytes, lines: 1 });
        fed.push(&vec![b'x'; bytes], 0);
        fed
    }

    /// The buffers kept between writes stay within both bounds, whatever is given back.
    #[test]
    fn spares_keep_at_most_their_count_and_bytes() {
        let spares = Spares::default();
        for _ in 0..3 * SPARES {
            spares.keep(filled(1000));
        }
        assert_eq!(spares.lock().len(), SPARES);
        assert!(
            spares
                .lock()
                .iter()
                .all(|f| f.bytes.is_empty() && f.lines.is_empty())
        );

        let spares = Spares::default();
        spares.keep(filled(SPARE_BYTES + 1));
        assert!(
            spares.lock().is_empty(),
            "a buffer over the byte bound is not kept"
        );
        for _ in 0..SPARES {
            spares.keep(filled(SPARE_BYTES / 4));
        }
        let held: usize = spares.lock().iter().map(Fed::held).sum();
        assert!(held <= SPARE_BYTES, "{held} bytes kept");
        assert_eq!(spares.lock().len(), 3, "a fourth would pass the bound");

        // The lines' buffers count too: a short text with room for many lines is not kept
        // past the bound.
        let spares = Spares::default();
        let many_lines = || {
            Fed::with_capacity(Room {
                bytes: 64,
                lines: SPARE_BYTES / 16 / 2,
            })
        };
        spares.keep(many_lines());
        spares.keep(many_lines());
        assert_eq!(spares.lock().len(), 1);
        assert!(spares.lock().iter().map(Fed::held).sum::<usize>() <= SPARE_BYTES);
    }

    /// A request's room without a batch size (`usize::MAX` points) is what the byte cap lets
    /// in, not a reservation of `usize::MAX` lines (which panicked).
    #[test]
    fn a_request_without_a_batch_size_gets_the_room_of_its_byte_cap() {
        let mut window = Fed::default();
        for i in 0..100 {
            window.push(&[b'x'; 100], i);
        }
        let room = Room::of_request(&window, usize::MAX, 10 << 20);
        assert_eq!(room.bytes, 10 << 20);
        assert!(
            room.lines > (10 << 20) / 100 && room.lines < (12 << 20) / 100,
            "{room:?}"
        );
        let _ = Fed::with_capacity(room);
        // With a batch size, its lines and an eighth more, within the caps.
        let room = Room::of_request(&window, 5_000, 10 << 20);
        assert_eq!(room.lines, 5_000);
        assert_eq!(room.bytes, 100 * 5_000 + 100 * 5_000 / 8);
        // An empty window (lines of zero bytes cannot be) does not divide by zero, and caps
        // set as high as they go reserve no more than the most room.
        let room = Room::of_request(&Fed::default(), usize::MAX, usize::MAX);
        assert!(
            room.bytes <= MAX_ROOM_BYTES && room.lines <= MAX_ROOM_LINES,
            "{room:?}"
        );
        let _ = Fed::with_capacity(room);
        let room = Room::of_request(&window, usize::MAX, usize::MAX);
        assert_eq!(room.bytes, MAX_ROOM_BYTES);
        assert!(room.lines <= MAX_ROOM_LINES, "{room:?}");
        let _ = Fed::with_capacity(room);
    }

    /// The text of a request answered comes back with its room, for the next request.
    #[test]
    fn a_request_sent_gives_its_buffer_back() {
        let fed = filled(4096);
        let room = fed.bytes.capacity();
        let sent = Bytes::from(fed.bytes);
        let piece = sent.slice(10..20);
        drop(piece);
        let again = Fed::reuse(sent, fed.ends, fed.lines);
        assert!(again.bytes.is_empty());
        assert_eq!(again.bytes.capacity(), room);
        assert!(again.ends.is_empty());
        assert_eq!(
            again.lines,
            [0],
            "the positions stay until the run is settled"
        );
        // Still held elsewhere: a new buffer instead.
        let sent = Bytes::from(vec![b'x'; 64]);
        let held = sent.clone();
        assert_eq!(Fed::reuse(sent, Vec::new(), Vec::new()).bytes.capacity(), 0);
        drop(held);
    }
}
