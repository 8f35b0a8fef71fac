//! Queries, written once over a [`Transport`](super::transport::Transport): answers fetched
//! whole or as a stream of documents, decoded into result sets, typed rows or serde rows.

use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderValue};
use serde::de::DeserializeOwned;

use crate::core::exchange::Core;
use crate::core::transport::{Opened, Transport};
use crate::error::Error;
use crate::query::answer::{AnswerVisitor, Walk};
use crate::query::resultset::{self, ResultSet};
use crate::query::serde_rows;
use crate::query::typed::{self, CellContext, FromRow, Json};
use crate::request::answer_documents::Documents;
use crate::request::http::{self, Chunking, QueryOptions};
use crate::request::responses::{self, AnswerBody, Encoding};

/// A query's answer being read as it arrives. The body comes first, so that it is dropped
/// first: dropping a stream closes its connection, and influxd stops the query.
pub(crate) struct QueryStream<B> {
    body: B,
    documents: Documents,
    walk: Walk,
    /// How many statements the query holds.
    statements: usize,
    ended: bool,
    /// When the call began, and how long it may take, for an answer read whole.
    deadline: Option<(Instant, Duration)>,
}

impl<B> QueryStream<B> {
    /// Walks the document [`Core::next_document`] found with `visitor`.
    pub(crate) fn walk<V>(&mut self, visitor: &mut V) -> Result<(), Error>
    where
        V: for<'a> AnswerVisitor<'a>,
    {
        if self.documents.is_msgpack() {
            return self
                .walk
                .msgpack_document(self.documents.document(), visitor)
                .map_err(crate::query::answer::stop_error);
        }
        let text = std::str::from_utf8(self.documents.document())
            .map_err(|e| Error::Protocol(format!("query answer is not UTF-8: {e}").into()))?;
        self.walk
            .document(text, visitor)
            .map_err(crate::query::answer::stop_error)
    }
}

impl<T: Transport> Core<T> {
    pub(crate) async fn query_with(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<ResultSet>, Error> {
        let mut stream = self.open_stream(query, options, true).await?;
        let mut sets = resultset::SetBuilder::new(options.raises_errors());
        while self.next_document(&mut stream).await? {
            stream.walk(&mut sets)?;
        }
        Ok(sets.finish())
    }

    pub(crate) async fn query_statements(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Statements, Error> {
        Ok(Statements {
            body: self.fetch(query, options, Chunking::Always).await?,
            ctx: CellContext {
                epoch: options.epoch_value(),
            },
        })
    }

    pub(crate) async fn query_as_with<R: FromRow>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<R>, Error> {
        let ctx = CellContext {
            epoch: options.epoch_value(),
        };
        let mut reader = typed::typed_reader::<R, Json>(0, ctx);
        let mut stream = self.open_stream(query, options, true).await?;
        while self.next_document(&mut stream).await? {
            stream.walk(&mut reader)?;
        }
        reader.finish()
    }

    pub(crate) async fn query_deserialize<R: DeserializeOwned>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<R>, Error> {
        let mut reader = serde_rows::serde_reader::<R>(0);
        let mut stream = self.open_stream(query, options, true).await?;
        while self.next_document(&mut stream).await? {
            stream.walk(&mut reader)?;
        }
        reader.finish()
    }

    pub(crate) async fn query_raw(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<u8>, Error> {
        self.fetch(query, options, Chunking::AsAsked).await
    }

    async fn fetch(
        &self,
        query: &str,
        options: &QueryOptions,
        chunking: Chunking,
    ) -> Result<Vec<u8>, Error> {
        let request = http::query_request(query, options, self.database(), chunking)?;
        let answer = self.send(request).await?;
        responses::classify_query(&answer)?;
        Ok(answer.body)
    }

    /// Sends a query for a chunked answer and hands over its body to read as it arrives.
    /// `merged`: the caller collects everything, so the client's `max_answer_size` bounds the
    /// whole answer; otherwise it bounds each chunk.
    pub(crate) async fn open_stream(
        &self,
        query: &str,
        options: &QueryOptions,
        merged: bool,
    ) -> Result<QueryStream<T::Body>, Error> {
        let mut request = http::query_request(query, options, self.database(), Chunking::Always)?;
        if self.config.msgpack {
            request.accept = Some(responses::MSGPACK);
        }
        let started = Instant::now();
        let total = self.config.timeout.filter(|_| merged);
        match self.send_as(request, true, total).await? {
            Opened::Stream(head, body) => {
                let encoding = Encoding::from_header(
                    head.headers
                        .get(header::CONTENT_ENCODING)
                        .map(HeaderValue::as_bytes),
                )?;
                let limit = self.config.max_answer_size;
                let msgpack = responses::is_msgpack(
                    head.headers
                        .get(header::CONTENT_TYPE)
                        .map(HeaderValue::as_bytes),
                );
                let documents = Documents::new(
                    AnswerBody::new(encoding, limit, None),
                    merged.then_some(limit),
                );
                Ok(QueryStream {
                    body,
                    documents: if msgpack {
                        documents.msgpack()
                    } else {
                        documents
                    },
                    walk: Walk::default(),
                    statements: crate::request::influxql::statement_count(query),
                    ended: false,
                    // A merged answer is one call, bounded as a whole; a stream only in each
                    // wait for more (the HTTP client's own timeouts).
                    deadline: self
                        .config
                        .timeout
                        .filter(|_| merged)
                        .map(|timeout| (started, timeout)),
                })
            }
            Opened::Whole(answer) => {
                responses::classify_query(&answer)?;
                Err(Error::Protocol(
                    format!("a query answered {} with no error", answer.status).into(),
                ))
            }
        }
    }

    /// Whether the next whole JSON document of a stream has arrived (then
    /// [`QueryStream::walk`] reads it); `false` once the answer has ended, and been checked
    /// to be whole.
    pub(crate) async fn next_document(
        &self,
        stream: &mut QueryStream<T::Body>,
    ) -> Result<bool, Error> {
        loop {
            if stream.documents.next_document()? {
                return Ok(true);
            }
            if stream.ended {
                return Ok(false);
            }
            match self.http.next_piece(&mut stream.body).await? {
                Some(piece) => {
                    if let Some((started, timeout)) = stream.deadline {
                        if started.elapsed() > timeout {
                            return Err(Error::Timeout(
                                format!("the answer took longer than {timeout:?}").into(),
                            ));
                        }
                    }
                    stream.documents.push(&piece)?
                }
                None => {
                    if stream.documents.end()? {
                        return Ok(true);
                    }
                    stream.ended = true;
                    stream.walk.finish(Some(stream.statements), true)?;
                }
            }
        }
    }

    /// Runs a statement that returns nothing (admin statements), raising its error.
    /// Runs one statement, on `database` if given, and returns its result.
    pub(crate) async fn query_on(
        &self,
        statement: &str,
        database: Option<&str>,
    ) -> Result<Vec<ResultSet>, Error> {
        let mut options = QueryOptions::new();
        if let Some(db) = database {
            options = options.database(db);
        }
        self.query_with(statement, &options).await
    }

    /// Runs one statement that answers nothing worth keeping.
    pub(crate) async fn execute(
        &self,
        statement: &str,
        database: Option<&str>,
    ) -> Result<(), Error> {
        self.query_on(statement, database).await.map(drop)
    }
}

/// The undecoded answer to a query of several statements; decode each into its own type.
///
/// ```no_run
/// # use influx_series::{Client, FromRow, QueryOptions};
/// # fn demo<Cpu: FromRow, Mem: FromRow>(client: &Client) -> Result<(), influx_series::Error> {
/// let answer = client.query_statements("SELECT * FROM cpu; SELECT * FROM mem", &QueryOptions::new())?;
/// let cpu: Vec<Cpu> = answer.get(0)?;
/// let mem: Vec<Mem> = answer.get(1)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Statements {
    body: Vec<u8>,
    ctx: CellContext,
}

impl Statements {
    /// Decodes the rows of statement `index` into `T`; a failed statement is
    /// [`Error::Statement`].
    pub fn get<T: FromRow>(&self, index: usize) -> Result<Vec<T>, Error> {
        typed::decode_rows::<T, typed::Json>(&self.body, index, self.ctx)
    }

    /// Deserializes statement `index` into any serde type.
    pub fn deserialize<T: DeserializeOwned>(&self, index: usize) -> Result<Vec<T>, Error> {
        serde_rows::deserialize_rows(&self.body, index)
    }

    /// The raw JSON.
    pub fn raw(&self) -> &[u8] {
        &self.body
    }
}
