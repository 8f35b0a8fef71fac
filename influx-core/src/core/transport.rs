//! The transport every call is written over ([`Transport`]), and what it is given and gives
//! back: a prepared request, an answer's head, an opened answer.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::HeaderMap;

use crate::error::Error;
use crate::request::responses::Answer;

/// Moves one request to the server and brings its answer back: its head, then its body piece
/// by piece, so that a caller can read a long answer as it arrives.
pub(crate) trait Transport: Send + Sync {
    /// Whether its calls do their I/O when first polled, blocking the thread (so that several
    /// can run on threads of their own while the calling thread goes on).
    const BLOCKS: bool = false;

    /// An answer's body, being read. Dropping it closes the connection.
    type Body: Send;

    /// Sends the request and returns the answer's head, with its body still to read.
    fn open(
        &self,
        request: Prepared,
    ) -> impl Future<Output = Result<(Head, Self::Body), Error>> + Send;

    /// The next piece of the body as it came over the wire; `None` at its end.
    fn next_piece(
        &self,
        body: &mut Self::Body,
    ) -> impl Future<Output = Result<Option<Bytes>, Error>> + Send;

    /// Waits `delay` before a retry (the blocking transport sleeps right away).
    fn pause(&self, delay: Duration) -> impl Future<Output = ()> + Send;

    /// Runs every future to its end, at the same time, and gives their outputs in order:
    /// several requests in flight. (The blocking transport, whose futures do their I/O when
    /// first polled, runs each on a thread of its own.)
    fn run_all<F>(&self, futures: Vec<F>) -> impl Future<Output = Vec<F::Output>> + Send
    where
        F: Future + Send,
        F::Output: Send,
    {
        join_all(futures)
    }

    /// Sends each datagram to `host:port` over UDP, in order; on failure, how many were sent
    /// before it.
    fn send_datagrams(
        &self,
        host: &str,
        port: u16,
        datagrams: Vec<&[u8]>,
    ) -> impl Future<Output = Result<(), (usize, Error)>> + Send;
}

/// Polls every future in turn until all are done; their outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(&mut outputs) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(done) => *output = Some(done),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// A request in the terms of the HTTP client: method, URL, headers, body (gzipped if asked).
pub(crate) struct Prepared {
    pub(crate) method: reqwest::Method,
    pub(crate) url: reqwest::Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Bytes>,
    /// The bound on the whole exchange, body included; `None` for a stream, which only has a
    /// bound on each wait for more.
    pub(crate) timeout: Option<Duration>,
    /// When the answer's head must have come, for a stream (whose `timeout` is `None`): the
    /// call's deadline.
    pub(crate) head_by: Option<Instant>,
    /// Whether it is a write (`POST /write`), whose answer is read as a write's.
    #[cfg_attr(not(feature = "blocking"), allow(dead_code))]
    pub(crate) write: bool,
}

/// The head of an answer: its status and headers.
pub(crate) struct Head {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) content_length: Option<u64>,
}

/// An exchange's outcome: the answer whole, or, for a stream the server answered with 200,
/// its head and the body to read on.
pub(crate) enum Opened<B> {
    Whole(Answer),
    Stream(Head, B),
}

/// Completes a future that never waits: the blocking client's calls, whose transport does its
/// I/O before it hands back a ready future.
/// (Public, hidden: influx-series runs its calls written over both clients with it.)
#[cfg(feature = "blocking")]
pub fn complete<F: Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the blocking transport never leaves a request pending"),
    }
}
