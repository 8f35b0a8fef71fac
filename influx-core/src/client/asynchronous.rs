//! The async client: [`Core`]'s calls over reqwest's async client, on the caller's tokio
//! runtime. This file only moves bytes.

use std::borrow::Borrow;
use std::time::Duration;

use bytes::Bytes;

use serde::de::DeserializeOwned;

use crate::client::reqwest::{configure_http, transport_error};
use crate::core::exchange::Core;
use crate::core::queries::Statements;
use crate::core::stream::{self, SetStream};
use crate::core::transport::{Head, Prepared, Transport};
use crate::core::writes::{Caps, WriteOutcome};
use crate::error::{Cause, Commit, Error};
use crate::protocol::line::LineBuf;
use crate::protocol::point::Point;
use crate::query::resultset::ResultSet;
use crate::query::typed::FromRow;
use crate::request::admin::{
    self, ContinuousQuery, Grant, NewContinuousQuery, NewRetentionPolicy, Privilege,
    RetentionPolicy, RetentionPolicyChange, SeriesFilter, User,
};
use crate::request::config::ClientConfig;
use crate::request::http::{QueryOptions, WriteOptions};

/// An async InfluxDB 1.x client, on tokio (feature `async`, on by default): the methods of
/// [`crate::Client`], each a future.
/// Cheap to clone: clones share one connection pool. Its futures are `Send`, so they run in
/// `tokio::spawn`ed tasks, and cancel safely (a dropped write may or may not have reached the
/// server, as with any HTTP client).
///
/// ```no_run
/// use influx_series::{AsyncClient, Point, QueryOptions, WriteOptions};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = AsyncClient::new("http://127.0.0.1:8086")?;
/// println!("server version {}", client.ping().await?);
/// client.create_database("metrics").await?;
/// let point = Point::builder("cpu").tag("host", "a").field("usage", 0.5).build()?;
/// client.write_points(&[point], &WriteOptions::new("metrics")).await?;
/// let options = QueryOptions::new().database("metrics");
/// let results = client.query_with("SELECT * FROM cpu", &options).await?;
/// for row in results[0].rows() {
///     println!("{:?}", row.get("usage"));
/// }
/// # Ok(()) }
/// ```
///
/// It needs a tokio runtime with the I/O and time drivers (`#[tokio::main]` has them) when its
/// futures run; building one needs none.
#[derive(Clone, Debug)]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub struct AsyncClient {
    core: Core<AsyncHttp>,
}

/// reqwest's async client as a [`Transport`].
#[derive(Clone)]
pub(crate) struct AsyncHttp {
    client: reqwest::Client,
}

impl AsyncHttp {
    fn new(config: &ClientConfig) -> Result<AsyncHttp, Error> {
        let builder = configure_http!(reqwest::Client::builder(), config)?;
        // Each wait for more of an answer is bounded here; the whole exchange, per request
        // (see `Prepared::timeout`), except for streams.
        let builder = match config.timeout {
            Some(timeout) => builder.read_timeout(timeout),
            None => builder,
        };
        let client = builder
            .build()
            .map_err(|e| Error::Config(Cause::with_source("cannot build the HTTP client", e)))?;
        Ok(AsyncHttp { client })
    }
}

impl Transport for AsyncHttp {
    type Body = reqwest::Response;

    async fn open(&self, request: Prepared) -> Result<(Head, reqwest::Response), Error> {
        let mut http = reqwest::Request::new(request.method, request.url);
        *http.headers_mut() = request.headers;
        *http.timeout_mut() = request.timeout;
        if let Some(body) = request.body {
            *http.body_mut() = Some(body.into());
        }
        let response = match request.head_by {
            // A stream's head within what is left of the call (its body, a chunk at a time).
            Some(by) => tokio::time::timeout_at(by.into(), self.client.execute(http))
                .await
                .map_err(|_| Error::Timeout("no answer before the call's deadline".into()))?,
            None => self.client.execute(http).await,
        }
        .map_err(transport_error)?;
        let head = Head {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            content_length: response.content_length(),
        };
        Ok((head, response))
    }

    async fn next_piece(&self, body: &mut reqwest::Response) -> Result<Option<Bytes>, Error> {
        body.chunk()
            .await
            .map_err(|e| crate::client::reqwest::read_error(e.is_timeout(), e.without_url()))
    }

    async fn pause(&self, delay: Duration) {
        tokio::time::sleep(delay).await;
    }

    async fn send_datagrams(
        &self,
        host: &str,
        port: u16,
        datagrams: Vec<&[u8]>,
    ) -> Result<(), (usize, Error)> {
        let fail = |e| (0, crate::client::reqwest::udp_error(e));
        let target = tokio::net::lookup_host((host, port))
            .await
            .map_err(fail)?
            .next()
            .ok_or_else(|| fail(std::io::ErrorKind::NotFound.into()))?;
        let socket = tokio::net::UdpSocket::bind(crate::client::reqwest::udp_bind_address(&target))
            .await
            .map_err(fail)?;
        socket.connect(target).await.map_err(fail)?;
        for (sent, datagram) in datagrams.iter().enumerate() {
            socket
                .send(datagram)
                .await
                .map_err(|e| (sent, crate::client::reqwest::udp_error(e)))?;
        }
        Ok(())
    }
}

impl crate::ClientBuilder {
    /// The async client.
    ///
    /// ```
    /// let client = influx_series::AsyncClient::builder().port(8087).build_async()?;
    /// assert_eq!(client.config().base_url(), "http://localhost:8087");
    /// # Ok::<(), influx_series::Error>(())
    /// ```
    // Redundant with the module's own cfg, but what carries docs.rs's feature mark to the
    // influx-series page that inlines this method.
    #[cfg(feature = "async")]
    pub fn build_async(self) -> Result<AsyncClient, Error> {
        AsyncClient::with_config(self.into_config())
    }
}

impl AsyncClient {
    /// A client for the server at `url`: `http[s]://[user:password@]host[:port][?db=name]`, or
    /// a DSN (`influxdb://user:password@host:8086/name`); see [`ClientConfig::from_url`].
    pub fn new(url: &str) -> Result<AsyncClient, Error> {
        AsyncClient::with_config(ClientConfig::from_url(url)?)
    }

    /// A client configured by `INFLUXDB_URL` or `INFLUXDB_SCHEME`/`_HOST`/`_PORT`, plus
    /// `INFLUXDB_USER`, `INFLUXDB_PASSWORD` and `INFLUXDB_DATABASE`.
    pub fn from_env() -> Result<AsyncClient, Error> {
        AsyncClient::with_config(ClientConfig::from_env()?)
    }

    /// A client from influxdb-python's DSN form (`influxdb://user:pass@host:8086/db`).
    pub fn from_dsn(dsn: &str) -> Result<AsyncClient, Error> {
        AsyncClient::with_config(ClientConfig::from_dsn(dsn)?)
    }

    /// A builder, starting from `http://localhost:8086` without credentials.
    pub fn builder() -> crate::ClientBuilder {
        crate::ClientBuilder::new()
    }

    /// A client for `config`.
    pub fn with_config(config: ClientConfig) -> Result<AsyncClient, Error> {
        Ok(AsyncClient {
            core: Core::new(AsyncHttp::new(&config)?, config)?,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.core.config
    }

    /// The database used when a call names none.
    pub fn database(&self) -> Option<&str> {
        self.core.database()
    }

    /// This client, with `database` as the one used when a call names none.
    pub fn with_database(mut self, database: impl Into<String>) -> Self {
        self.core.set_database(database.into());
        self
    }

    /// Uses `database` from now on when a call names none (Python's `switch_database`).
    pub fn switch_database(&mut self, database: impl Into<String>) {
        self.core.set_database(database.into());
    }

    /// Authenticates as another user from now on (Python's `switch_user`).
    pub fn switch_user(
        &mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Result<(), Error> {
        self.core.switch_user(username.into(), password.into())
    }

    /// [`Client::ping`](crate::Client::ping), awaited.
    pub async fn ping(&self) -> Result<String, Error> {
        self.core.ping().await
    }

    /// [`Client::write_points`](crate::Client::write_points), awaited: points in requests
    /// of at most `options.batch_size` points and `max_request_size` bytes, untimed points
    /// stamped here. The future is `Send` when the iterator is.
    ///
    /// With several requests in flight, it sends while it encodes, as the blocking client
    /// does, all on the caller's task: it encodes 1 000 points at a time, and between two
    /// pieces lets the runtime send its requests and read their answers. For each request in
    /// flight it holds at most three requests' worth (one being filled, one waiting, one
    /// sent), however many points it is given, and it keeps their emptied buffers for the
    /// next write as the blocking client does (at most 8 of them and 16 MiB).
    ///
    /// ```no_run
    /// use influx_series::{AsyncClient, Point, WriteOptions};
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = AsyncClient::new("http://127.0.0.1:8086?db=metrics")?;
    /// let point = Point::builder("cpu").tag("host", "a").field("n", 1i64).build()?;
    /// let done = client.write_points([point], &WriteOptions::default()).await?;
    /// assert_eq!(done.written, 1);
    /// # Ok(()) }
    /// ```
    pub async fn write_points<P: Borrow<Point>>(
        &self,
        points: impl IntoIterator<Item = P>,
        options: &WriteOptions,
    ) -> Result<Commit, Error> {
        self.core.write_points(points, options).await
    }

    /// [`Client::write_lines`](crate::Client::write_lines), awaited.
    pub async fn write_lines(
        &self,
        lines: &LineBuf,
        options: &WriteOptions,
    ) -> Result<Commit, Error> {
        self.core.write_lines(lines, options).await
    }

    /// [`Client::write_raw`](crate::Client::write_raw), awaited.
    pub async fn write_raw(&self, text: &str, options: &WriteOptions) -> Result<Commit, Error> {
        self.core.write_raw(text, options).await
    }

    /// Writes lines of this crate's own encoding (`bytes`, line `i` ending at `ends[i]`) for the
    /// per-type buffers of influx-series: partial writes acknowledged, a bare 400 resent once
    /// and then bisected until the refused lines are isolated, and the rest written.
    #[doc(hidden)]
    pub async fn write_isolating(
        &self,
        bytes: &[u8],
        ends: &[usize],
        options: &WriteOptions,
        caps: Caps,
    ) -> WriteOutcome {
        self.core
            .write_isolating(bytes, None, ends, options, caps, None)
            .await
    }

    /// [`Client::query`](crate::Client::query), awaited.
    pub async fn query(&self, query: &str) -> Result<Vec<ResultSet>, Error> {
        self.query_with(query, &QueryOptions::new()).await
    }

    /// [`Client::query_with`](crate::Client::query_with), awaited.
    pub async fn query_with(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<ResultSet>, Error> {
        self.core.query_with(query, options).await
    }

    /// [`Client::query_as`](crate::Client::query_as), awaited: rows decoded into a
    /// `#[derive(Series)]` type.
    ///
    /// ```no_run
    /// # use influx_series::{AsyncClient, FromRow};
    /// # async fn demo<Cpu: FromRow>(client: &AsyncClient) -> Result<(), influx_series::Error> {
    /// let rows: Vec<Cpu> = client.query_as("SELECT * FROM cpu WHERE time > now() - 1h").await?;
    /// # Ok(()) }
    /// ```
    pub async fn query_as<T: FromRow>(&self, query: &str) -> Result<Vec<T>, Error> {
        self.query_as_with(query, &QueryOptions::new()).await
    }

    /// [`Client::query_as_with`](crate::Client::query_as_with), awaited.
    pub async fn query_as_with<T: FromRow>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<T>, Error> {
        self.core.query_as_with(query, options).await
    }

    /// [`Client::query_statements`](crate::Client::query_statements), awaited.
    pub async fn query_statements(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Statements, Error> {
        self.core.query_statements(query, options).await
    }

    /// [`Client::query_deserialize`](crate::Client::query_deserialize), awaited.
    pub async fn query_deserialize<T: DeserializeOwned>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<T>, Error> {
        self.core.query_deserialize(query, options).await
    }

    /// [`Client::query_raw`](crate::Client::query_raw), awaited.
    pub async fn query_raw(&self, query: &str, options: &QueryOptions) -> Result<Vec<u8>, Error> {
        self.core.query_raw(query, options).await
    }

    /// [`Client::query_stream`](crate::Client::query_stream), as a [`Stream`] of the
    /// answer's chunks as they arrive (read it with `futures::StreamExt::next`). Dropping it
    /// closes the connection, and influxd stops the query.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use influx_series::{AsyncClient, QueryOptions};
    ///
    /// # async fn demo() -> Result<(), influx_series::Error> {
    /// let client = AsyncClient::new("http://127.0.0.1:8086?db=metrics")?;
    /// let mut stream = client.query_stream("SELECT * FROM cpu", &QueryOptions::new()).await?;
    /// while let Some(set) = stream.next().await {
    ///     println!("{} rows", set?.len());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// The stream is `Unpin` (as sqlx's are): no pinning is needed to read it.
    ///
    /// [`Stream`]: https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html
    pub async fn query_stream(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<
        impl futures_util::Stream<Item = Result<ResultSet, Error>> + Send + Unpin + 'static,
        Error,
    > {
        let stream = self.core.open_stream(query, options, false).await?;
        let state = (
            SetStream::new(stream, options.raises_errors()),
            self.core.clone(),
        );
        Ok(Box::pin(futures_util::stream::unfold(
            state,
            |(mut inner, core)| async move {
                let item = inner.next(&core).await?;
                Some((item, (inner, core)))
            },
        )))
    }

    /// [`Client::query_as_stream`](crate::Client::query_as_stream), as a [`Stream`] of rows
    /// decoded as the chunks arrive. `Unpin`, as [`AsyncClient::query_stream`]'s.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// use influx_series::{AsyncClient, QueryOptions, Series};
    ///
    /// #[derive(Series, Debug)]
    /// struct Cpu {
    ///     #[series(tag)]
    ///     host: String,
    ///     usage: f64,
    /// }
    ///
    /// # async fn demo() -> Result<(), influx_series::Error> {
    /// let client = AsyncClient::new("http://127.0.0.1:8086?db=metrics")?;
    /// let options = QueryOptions::new().chunked(10_000);
    /// let mut rows = client.query_as_stream::<Cpu>("SELECT * FROM cpu", &options).await?;
    /// while let Some(row) = rows.next().await {
    ///     println!("{:?}", row?);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// [`Stream`]: https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html
    pub async fn query_as_stream<T: FromRow + Send + 'static>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<impl futures_util::Stream<Item = Result<T, Error>> + Send + Unpin + 'static, Error>
    {
        let reader = crate::query::typed::typed_reader::<T, crate::query::typed::Json>(
            0,
            crate::query::typed::CellContext {
                epoch: options.epoch_value(),
            },
        );
        let stream = self.core.open_stream(query, options, false).await?;
        let state = (stream::RowStream::new(stream, reader), self.core.clone());
        Ok(Box::pin(futures_util::stream::unfold(
            state,
            |(mut inner, core)| async move {
                let item = inner.next(&core).await?;
                Some((item, (inner, core)))
            },
        )))
    }

    /// [`Client::write_dataframe`](crate::Client::write_dataframe), awaited.
    ///
    /// ```no_run
    /// # async fn demo(df: influx_series::frame::polars_core::prelude::DataFrame) -> Result<(), influx_series::Error> {
    /// use influx_series::frame::FrameWriteOptions;
    /// let client = influx_series::AsyncClient::new("http://127.0.0.1:8086?db=metrics")?;
    /// let done = client.write_dataframe(&df, "cpu", &FrameWriteOptions::new()).await?;
    /// println!("{} points, {} rows skipped", done.commit.written, done.skipped);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "polars")]
    pub async fn write_dataframe(
        &self,
        df: &polars_core::prelude::DataFrame,
        measurement: &str,
        options: &crate::frame::FrameWriteOptions,
    ) -> Result<crate::frame::FrameWrite, Error> {
        self.core.write_dataframe(df, measurement, options).await
    }

    /// [`Client::query_dataframes`](crate::Client::query_dataframes), awaited.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), influx_series::Error> {
    /// use influx_series::frame::FrameQueryOptions;
    /// let client = influx_series::AsyncClient::new("http://127.0.0.1:8086?db=metrics")?;
    /// let frames = client.query_dataframes("SELECT * FROM cpu", &FrameQueryOptions::new()).await?;
    /// for (key, frame) in &frames {
    ///     println!("{} {:?}: {} rows", key.measurement, key.tags, frame.height());
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "polars")]
    pub async fn query_dataframes(
        &self,
        query: &str,
        options: &crate::frame::FrameQueryOptions,
    ) -> Result<crate::frame::Frames, Error> {
        self.core.query_dataframes(query, options).await
    }

    /// [`Client::query_dataframe_statements`](crate::Client::query_dataframe_statements),
    /// awaited.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), influx_series::Error> {
    /// use influx_series::frame::FrameQueryOptions;
    /// let client = influx_series::AsyncClient::new("http://127.0.0.1:8086?db=metrics")?;
    /// let query = "SELECT * FROM cpu; SELECT * FROM mem";
    /// let each = client.query_dataframe_statements(query, &FrameQueryOptions::new()).await?;
    /// assert_eq!(each.len(), 2);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "polars")]
    pub async fn query_dataframe_statements(
        &self,
        query: &str,
        options: &crate::frame::FrameQueryOptions,
    ) -> Result<Vec<crate::frame::Frames>, Error> {
        self.core.query_dataframe_statements(query, options).await
    }

    /// [`Client::create_database`](crate::Client::create_database), awaited.
    pub async fn create_database(&self, name: &str) -> Result<(), Error> {
        self.core.create_database(name).await
    }

    /// [`Client::drop_database`](crate::Client::drop_database), awaited.
    pub async fn drop_database(&self, name: &str) -> Result<(), Error> {
        self.core.drop_database(name).await
    }

    /// [`Client::list_databases`](crate::Client::list_databases), awaited.
    pub async fn list_databases(&self) -> Result<Vec<String>, Error> {
        self.core.list_databases().await
    }
}

/// The administration calls of [`admin::admin_calls`], as async methods.
macro_rules! async_calls {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty
        => $core:ident($($value:expr),*);)*) => {
        $(#[doc = concat!(
            "[`Client::", stringify!($name), "`](crate::Client::", stringify!($name), "), awaited."
        )]
        pub async fn $name(&self, $($arg: $ty),*) -> Result<$ret, Error> {
            self.core.$core($($value),*).await
        })*
    };
}

/// Administration and metadata: users, privileges, retention policies, continuous queries,
/// measurements, series. See [`crate::admin`].
impl AsyncClient {
    admin::admin_calls!(async_calls);
}
