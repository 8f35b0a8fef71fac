//! Answers read chunk by chunk: the state both clients' streams share, advanced by the core.

use std::collections::VecDeque;

use crate::core::exchange::Core;
use crate::core::queries::QueryStream;
use crate::core::transport::Transport;
use crate::error::Error;
use crate::query::resultset::{ResultSet, SetBuilder};
use crate::query::typed::{FromRow, Json, StatementReader, TypedSink};

/// The result sets of an answer as its chunks arrive: one per statement result in a chunk.
pub(crate) struct SetStream<B> {
    stream: QueryStream<B>,
    sets: SetBuilder,
    pending: VecDeque<ResultSet>,
    over: bool,
}

impl<B> SetStream<B> {
    pub(crate) fn new(stream: QueryStream<B>, raise_errors: bool) -> Self {
        SetStream {
            stream,
            sets: SetBuilder::new(raise_errors),
            pending: VecDeque::new(),
            over: false,
        }
    }

    /// The next set; after an error, nothing more.
    pub(crate) async fn next<T: Transport<Body = B>>(
        &mut self,
        core: &Core<T>,
    ) -> Option<Result<ResultSet, Error>> {
        loop {
            if let Some(set) = self.pending.pop_front() {
                return Some(Ok(set));
            }
            if self.over {
                return None;
            }
            let outcome = match core.next_document(&mut self.stream).await {
                Ok(true) => self.stream.walk(&mut self.sets),
                Ok(false) => {
                    self.over = true;
                    continue;
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok(()) => self.pending.extend(self.sets.take()),
                Err(e) => {
                    self.over = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// The rows of a query's first statement, decoded into `R` as the chunks arrive.
pub(crate) struct RowStream<R, B> {
    stream: QueryStream<B>,
    reader: StatementReader<R, TypedSink<R, Json>>,
    rows: std::vec::IntoIter<R>,
    over: bool,
}

impl<R: FromRow, B> RowStream<R, B> {
    pub(crate) fn new(
        stream: QueryStream<B>,
        reader: StatementReader<R, TypedSink<R, Json>>,
    ) -> Self {
        RowStream {
            stream,
            reader,
            rows: Vec::new().into_iter(),
            over: false,
        }
    }

    /// The next row; after an error, nothing more.
    pub(crate) async fn next<T: Transport<Body = B>>(
        &mut self,
        core: &Core<T>,
    ) -> Option<Result<R, Error>> {
        loop {
            if let Some(row) = self.rows.next() {
                return Some(Ok(row));
            }
            if self.over {
                return None;
            }
            let outcome = match core.next_document(&mut self.stream).await {
                Ok(true) => self
                    .stream
                    .walk(&mut self.reader)
                    .and_then(|()| self.reader.statement_error().map_or(Ok(()), Err)),
                Ok(false) => {
                    self.over = true;
                    // An answer without the statement is an error too.
                    match self.reader.check_complete() {
                        Ok(()) => continue,
                        Err(e) => return Some(Err(e)),
                    }
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok(()) => self.rows = self.reader.take_rows().into_iter(),
                Err(e) => {
                    self.over = true;
                    return Some(Err(e));
                }
            }
        }
    }
}
