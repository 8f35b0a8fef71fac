//! A query answer cut into its documents (JSON or MessagePack) as it arrives, sans-IO: influxd
//! sends a chunked answer as one document per chunk, and a whole answer as one document.

use crate::error::Error;
use crate::query::scan::msgpack::{DocumentEnd, Found};
use crate::request::responses::AnswerBody;

/// The body of an answer, decoded (gunzipped) as it arrives, handing out each document once
/// its last byte is in. Only the document being received is held; the bound of the
/// [`AnswerBody`] applies to what is held at a time, and `total_limit` to everything handed
/// out.
#[derive(Debug)]
pub(crate) struct Documents {
    body: AnswerBody,
    /// How far the bytes held have been scanned, and the scanner's state there.
    scanned: usize,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Bytes handed out so far, and their bound.
    total: usize,
    total_limit: Option<usize>,
    /// Whether documents end at the next newline, as influxd writes them (compact JSON, one
    /// document a line): set once the first document proved it, so that the rest are cut with
    /// a fast search instead of being scanned byte by byte.
    by_lines: bool,
    /// Whether the document being scanned has a newline inside it.
    newline_inside: bool,
    /// The first document had none: line mode if a newline follows it.
    first_on_one_line: bool,
    /// The document handed out, in the bytes held, and where the bytes it used end (they are
    /// dropped when the next one is asked for).
    ready: std::ops::Range<usize>,
    used: usize,
    /// For a MessagePack answer (documents one after another, each as long as its contents
    /// say): how far the document being received has been read.
    pack: Option<DocumentEnd>,
}

impl Documents {
    pub(crate) fn new(body: AnswerBody, total_limit: Option<usize>) -> Documents {
        Documents {
            body,
            scanned: 0,
            depth: 0,
            in_string: false,
            escaped: false,
            total: 0,
            total_limit,
            by_lines: false,
            newline_inside: false,
            first_on_one_line: false,
            ready: 0..0,
            used: 0,
            pack: None,
        }
    }

    /// Documents of an answer in MessagePack.
    pub(crate) fn msgpack(self) -> Documents {
        Documents {
            pack: Some(DocumentEnd::default()),
            ..self
        }
    }

    /// Whether the documents are MessagePack (else JSON).
    pub(crate) fn is_msgpack(&self) -> bool {
        self.pack.is_some()
    }

    /// Takes the next piece of the body as it came over the wire.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<(), Error> {
        self.body.push(data)
    }

    /// Whether the next whole document has arrived; if so, it is [`Documents::document`]
    /// until this is called again. Whitespace between documents is dropped; anything else
    /// outside an object is a protocol error.
    pub(crate) fn next_document(&mut self) -> Result<bool, Error> {
        if self.used > 0 {
            self.body.decoded_mut().drain(..self.used);
            self.used = 0;
            self.ready = 0..0;
        }
        if let Some(pack) = &mut self.pack {
            let bytes = self.body.decoded_mut();
            if bytes.is_empty() {
                return Ok(false);
            }
            let end = match pack.find(bytes) {
                Ok(Found::End(end)) => end,
                Ok(Found::More) => return Ok(false),
                Err((at, why)) => {
                    return Err(Error::Protocol(
                        format!("query answer is not the expected MessagePack: {why} (byte {at})")
                            .into(),
                    ));
                }
            };
            return self.hand_out(0..end, end);
        }
        if self.first_on_one_line {
            match self.body.decoded_mut().first() {
                Some(b'\n') => {
                    self.by_lines = true;
                    self.first_on_one_line = false;
                }
                Some(_) => self.first_on_one_line = false,
                None => {}
            }
        }
        let found = if self.by_lines {
            self.next_line()
        } else {
            self.next_scanned()?
        };
        let Some((range, used)) = found else {
            return Ok(false);
        };
        self.hand_out(range, used)
    }

    /// Makes `range` of the bytes held the document handed out, within the bound on all of
    /// them, and `used` the bytes dropped when the next is asked for.
    fn hand_out(&mut self, range: std::ops::Range<usize>, used: usize) -> Result<bool, Error> {
        self.total += range.len().max(1);
        if let Some(limit) = self.total_limit {
            if self.total > limit {
                return Err(Error::AnswerTooLarge { limit });
            }
        }
        self.ready = range;
        self.used = used;
        Ok(true)
    }

    /// The document [`Documents::next_document`] found.
    pub(crate) fn document(&self) -> &[u8] {
        &self.body.decoded()[self.ready.clone()]
    }

    /// The next document found by scanning its structure: its range without the whitespace
    /// around it, and where the bytes it used end.
    fn next_scanned(&mut self) -> Result<Option<(std::ops::Range<usize>, usize)>, Error> {
        let bytes = self.body.decoded_mut();
        let mut end = None;
        for (i, &b) in bytes.iter().enumerate().skip(self.scanned) {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' if self.depth > 0 => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' if self.depth > 0 => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        end = Some(i + 1);
                        break;
                    }
                }
                b'\n' if self.depth > 0 => self.newline_inside = true,
                b' ' | b'\t' | b'\r' | b'\n' => {}
                _ if self.depth > 0 => {}
                _ => {
                    return Err(Error::Protocol(
                        format!(
                            "query answer is not the expected JSON: {:?} between documents",
                            char::from(b)
                        )
                        .into(),
                    ));
                }
            }
        }
        let Some(end) = end else {
            self.scanned = bytes.len();
            return Ok(None);
        };
        // influxd writes each document on one line: if the first is written so (no newline
        // inside, one right after), the rest will be too.
        self.first_on_one_line = self.total == 0 && !self.newline_inside;
        self.newline_inside = false;
        self.scanned = 0;
        let start = bytes[..end]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(0);
        Ok(Some((start..end, end)))
    }

    /// The next document in line mode: up to the next newline, found with a fast search. (A
    /// document that is not whole there fails when it is walked, as any malformed one does.)
    fn next_line(&mut self) -> Option<(std::ops::Range<usize>, usize)> {
        let bytes = self.body.decoded_mut();
        let mut from = 0;
        loop {
            let Some(at) = memchr::memchr(b'\n', &bytes[self.scanned..]) else {
                self.scanned = bytes.len();
                // Blank lines before it are dropped now.
                if from > 0 {
                    bytes.drain(..from);
                    self.scanned -= from;
                }
                return None;
            };
            let end = self.scanned + at;
            self.scanned = 0;
            match bytes[from..end]
                .iter()
                .position(|b| !b.is_ascii_whitespace())
            {
                Some(start) => return Some((from + start..end, end + 1)),
                None => {
                    from = end + 1;
                    self.scanned = from;
                }
            }
        }
    }

    /// The end of the body, once every whole document has been taken: the last bytes the
    /// decoder gave may complete one more (`true`: it is [`Documents::document`]); anything
    /// else left but whitespace is a document cut short.
    pub(crate) fn end(&mut self) -> Result<bool, Error> {
        self.body.flush_end()?;
        if self.next_document()? {
            return Ok(true);
        }
        let rest = self.body.decoded_mut();
        if rest.is_empty() || (self.pack.is_none() && rest.iter().all(u8::is_ascii_whitespace)) {
            Ok(false)
        } else {
            Err(Error::Protocol(
                format!(
                    "the answer ended inside a {} document ({} bytes of it came): the \
                     connection was cut",
                    if self.pack.is_some() {
                        "MessagePack"
                    } else {
                        "JSON"
                    },
                    rest.len()
                )
                .into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::responses::Encoding;

    fn documents(limit: usize) -> Documents {
        Documents::new(AnswerBody::new(Encoding::Identity, limit, None), None)
    }

    /// The documents of `answer` fed in pieces of `cut` bytes, checked to end cleanly.
    fn cut_into(answer: &str, cut: usize) -> Vec<String> {
        let mut d = documents(1 << 20);
        let mut out = Vec::new();
        for piece in answer.as_bytes().chunks(cut) {
            d.push(piece).unwrap();
            out.extend(all(&mut d));
        }
        assert!(!d.end().unwrap());
        out
    }

    fn all(d: &mut Documents) -> Vec<String> {
        let mut out = Vec::new();
        while d.next_document().unwrap() {
            out.push(String::from_utf8(d.document().to_vec()).unwrap());
        }
        out
    }

    #[test]
    fn documents_come_out_whole_however_the_bytes_are_cut() {
        let answer = "{\"results\":[{\"a\":\"}{\\\"\"}]}\n{\"results\":[]}\n  {\"x\":[1,{}]}\n";
        for cut in 1..answer.len() {
            assert_eq!(
                cut_into(answer, cut),
                vec![
                    "{\"results\":[{\"a\":\"}{\\\"\"}]}",
                    "{\"results\":[]}",
                    "{\"x\":[1,{}]}"
                ],
                "pieces of {cut}"
            );
        }
    }

    #[test]
    fn documents_with_newlines_inside_are_scanned_whole() {
        // Not as influxd writes them (it writes one document a line), as a proxy might.
        let answer = "{\n  \"results\": [\n    {}\n  ]\n}\n{\n\"results\":[]}\n";
        for cut in 1..answer.len() {
            assert_eq!(
                cut_into(answer, cut),
                vec!["{\n  \"results\": [\n    {}\n  ]\n}", "{\n\"results\":[]}"],
                "pieces of {cut}"
            );
        }
    }

    #[test]
    fn a_cut_document_and_stray_bytes_are_errors() {
        let mut d = documents(1 << 20);
        d.push(b"{\"results\":[{\"statement_id\":0").unwrap();
        assert!(!d.next_document().unwrap());
        assert!(matches!(d.end(), Err(Error::Protocol(_))));

        let mut d = documents(1 << 20);
        d.push(b"<html>").unwrap();
        assert!(matches!(d.next_document(), Err(Error::Protocol(_))));
    }

    #[test]
    fn the_bounds_hold_per_document_and_in_total() {
        // Held at a time: the body's own bound.
        let mut d = documents(10);
        assert!(matches!(
            d.push(b"{\"a\":\"0123456789\"}"),
            Err(Error::AnswerTooLarge { limit: 10 })
        ));
        // Handed out in all.
        let mut d = Documents::new(AnswerBody::new(Encoding::Identity, 100, None), Some(20));
        d.push(b"{\"a\":\"0123456\"}\n").unwrap();
        assert!(d.next_document().unwrap());
        d.push(b"{\"a\":\"0123456\"}\n").unwrap();
        assert!(matches!(
            d.next_document(),
            Err(Error::AnswerTooLarge { limit: 20 })
        ));
    }
}
