//! A query answer cut into its JSON documents as it arrives, sans-IO: influxd sends a chunked
//! answer as one document per chunk, and a whole answer as one document.

use crate::client::http::AnswerBody;
use crate::error::Error;

/// The body of an answer, decoded (gunzipped) as it arrives, handing out each JSON document
/// once its last byte is in. Only the document being received is held; the bound of the
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
        }
    }

    /// Takes the next piece of the body as it came over the wire.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<(), Error> {
        self.body.push(data)
    }

    /// The next whole document, if its last byte has arrived. Whitespace between documents is
    /// dropped; anything else outside an object is a protocol error.
    pub(crate) fn next_document(&mut self) -> Result<Option<Vec<u8>>, Error> {
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
        let mut document: Vec<u8> = bytes.drain(..end).collect();
        self.scanned = 0;
        // Leading whitespace, kept out of the document.
        let start = document
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(0);
        document.drain(..start);
        self.total += document.len();
        if let Some(limit) = self.total_limit
            && self.total > limit
        {
            return Err(Error::AnswerTooLarge { limit });
        }
        Ok(Some(document))
    }

    /// The end of the body, once every whole document has been taken: anything left but
    /// whitespace is a document cut short.
    pub(crate) fn end(&mut self) -> Result<Option<Vec<u8>>, Error> {
        self.body.flush_end()?;
        // The last bytes the decoder gave may complete a document.
        if let Some(document) = self.next_document()? {
            return Ok(Some(document));
        }
        let rest = self.body.decoded_mut();
        if rest.iter().all(u8::is_ascii_whitespace) {
            Ok(None)
        } else {
            Err(Error::Protocol(
                format!(
                    "the answer ended inside a JSON document ({} bytes of it came): the \
                     connection was cut",
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
    use crate::client::http::Encoding;

    fn documents(limit: usize) -> Documents {
        Documents::new(AnswerBody::new(Encoding::Identity, limit, None), None)
    }

    fn all(d: &mut Documents) -> Vec<String> {
        std::iter::from_fn(|| d.next_document().unwrap())
            .map(|doc| String::from_utf8(doc).unwrap())
            .collect()
    }

    #[test]
    fn documents_come_out_whole_however_the_bytes_are_cut() {
        let answer = "{\"results\":[{\"a\":\"}{\\\"\"}]}\n{\"results\":[]}\n  {\"x\":[1,{}]}\n";
        for cut in 1..answer.len() {
            let mut d = documents(1 << 20);
            let mut out = Vec::new();
            for piece in answer.as_bytes().chunks(cut) {
                d.push(piece).unwrap();
                out.extend(all(&mut d));
            }
            assert!(d.end().unwrap().is_none());
            assert_eq!(
                out,
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
    fn a_cut_document_and_stray_bytes_are_errors() {
        let mut d = documents(1 << 20);
        d.push(b"{\"results\":[{\"statement_id\":0").unwrap();
        assert!(d.next_document().unwrap().is_none());
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
        assert!(d.next_document().unwrap().is_some());
        d.push(b"{\"a\":\"0123456\"}\n").unwrap();
        assert!(matches!(
            d.next_document(),
            Err(Error::AnswerTooLarge { limit: 20 })
        ));
    }
}
