//! Writes over UDP, sans-IO: lines packed into datagrams under a size bound, never cut.

use std::ops::Range;

use crate::error::Error;

/// The datagrams for a text of lines, each line ending (with its `\n`) at `ends[i]`: ranges of
/// `bytes` holding whole lines, each at most `max` bytes long (the last `\n` of a datagram is
/// left out: influxd does not need it). A line longer than `max` fails the whole write before
/// anything is sent.
pub(crate) fn pack(bytes: &[u8], ends: &[usize], max: usize) -> Result<Vec<Range<usize>>, Error> {
    let mut datagrams = Vec::new();
    let mut start = 0;
    let mut line_start = 0;
    for &end in ends {
        let line = without_newline(bytes, line_start..end);
        if line.len() > max {
            return Err(Error::DatagramTooLarge {
                size: line.len(),
                limit: max,
            });
        }
        if without_newline(bytes, start..end).len() > max {
            datagrams.push(without_newline(bytes, start..line_start));
            start = line_start;
        }
        line_start = end;
    }
    if start < line_start {
        datagrams.push(without_newline(bytes, start..line_start));
    }
    Ok(datagrams)
}

fn without_newline(bytes: &[u8], range: Range<usize>) -> Range<usize> {
    match bytes[range.clone()].last() {
        Some(b'\n') => range.start..range.end - 1,
        _ => range,
    }
}

/// How many lines the first `datagrams` datagrams hold.
pub(crate) fn lines_in(datagrams: &[Range<usize>], ends: &[usize]) -> usize {
    datagrams
        .last()
        .map_or(0, |last| ends.partition_point(|&end| end <= last.end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(text: &str) -> Vec<usize> {
        text.match_indices('\n').map(|(i, _)| i + 1).collect()
    }

    fn packed(text: &str, max: usize) -> Result<Vec<&str>, Error> {
        Ok(pack(text.as_bytes(), &ends(text), max)?
            .into_iter()
            .map(|r| &text[r])
            .collect())
    }

    #[test]
    fn lines_are_packed_whole_up_to_the_bound() {
        let text = "a v=1 1\nbb v=2 2\nc v=3 3\n";
        assert_eq!(
            packed(text, 1000).unwrap(),
            vec!["a v=1 1\nbb v=2 2\nc v=3 3"]
        );
        assert_eq!(
            packed(text, 16).unwrap(),
            vec!["a v=1 1\nbb v=2 2", "c v=3 3"]
        );
        assert_eq!(
            packed(text, 15).unwrap(),
            vec!["a v=1 1", "bb v=2 2", "c v=3 3"]
        );
        assert_eq!(
            packed(text, 8).unwrap(),
            vec!["a v=1 1", "bb v=2 2", "c v=3 3"]
        );
        assert!(matches!(
            packed(text, 7),
            Err(Error::DatagramTooLarge { size: 8, limit: 7 })
        ));
        assert_eq!(packed("", 10).unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn lines_sent_are_counted_by_datagram() {
        let text = "a v=1 1\nbb v=2 2\nc v=3 3\n";
        let ends = ends(text);
        let datagrams = pack(text.as_bytes(), &ends, 16).unwrap();
        assert_eq!(lines_in(&datagrams[..0], &ends), 0);
        assert_eq!(lines_in(&datagrams[..1], &ends), 2);
        assert_eq!(lines_in(&datagrams, &ends), 3);
    }
}
