//! One test body, two transports: [`Api`] is the client API both clients share, in blocking
//! form. The blocking [`Client`] implements it as it is; [`Async`] runs each call of an
//! [`AsyncClient`] to completion on a runtime of its own. A test written against `Api` runs
//! against both with [`both_clients!`](crate::both_clients).

// Each test binary uses the calls it needs.
#![allow(dead_code)]

use std::borrow::Borrow;
use std::sync::Arc;

use influx_series::admin::{
    ContinuousQuery, Grant, NewContinuousQuery, NewRetentionPolicy, Privilege, RetentionPolicy,
    RetentionPolicyChange, SeriesFilter, User,
};
use influx_series::schema::{Ensured, Report, Schema, SchemaError};
use influx_series::{
    AsyncClient, Client, ClientBuilder, ClientConfig, Commit, Error, FromRow, LineBuf, Point,
    QueryOptions, ResultSet, Statements, WriteOptions,
};
use serde::de::DeserializeOwned;

/// A stream of a query's answer, as an iterator.
pub type Items<T> = Box<dyn Iterator<Item = Result<T, Error>> + Send>;

/// The calls of [`Client`] and [`AsyncClient`], as blocking calls.
pub trait Api: Clone + std::fmt::Debug + Sized {
    fn query_stream(&self, query: &str, options: &QueryOptions) -> Result<Items<ResultSet>, Error>;
    fn query_as_stream<T: FromRow + Send + 'static>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Items<T>, Error>;
    fn connect(config: ClientConfig) -> Result<Self, Error>;
    fn connect_url(url: &str) -> Result<Self, Error> {
        Self::connect(ClientConfig::from_url(url)?)
    }
    fn config(&self) -> &ClientConfig;
    fn switch_database(&mut self, database: String);
    fn switch_user(&mut self, username: String, password: String) -> Result<(), Error>;
    fn ping(&self) -> Result<String, Error>;
    fn write_points<P: Borrow<Point>>(
        &self,
        points: impl IntoIterator<Item = P>,
        options: &WriteOptions,
    ) -> Result<Commit, Error>;
    fn write_lines(&self, lines: &LineBuf, options: &WriteOptions) -> Result<Commit, Error>;
    fn write_raw(&self, text: &str, options: &WriteOptions) -> Result<Commit, Error>;
    fn query(&self, query: &str) -> Result<Vec<ResultSet>, Error>;
    fn query_with(&self, query: &str, options: &QueryOptions) -> Result<Vec<ResultSet>, Error>;
    fn query_as<T: FromRow>(&self, query: &str) -> Result<Vec<T>, Error>;
    fn query_as_with<T: FromRow>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<T>, Error>;
    fn query_statements(&self, query: &str, options: &QueryOptions) -> Result<Statements, Error>;
    fn query_deserialize<T: DeserializeOwned>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Vec<T>, Error>;
    fn query_raw(&self, query: &str, options: &QueryOptions) -> Result<Vec<u8>, Error>;
    fn create_database(&self, name: &str) -> Result<(), Error>;
    fn drop_database(&self, name: &str) -> Result<(), Error>;
    fn list_databases(&self) -> Result<Vec<String>, Error>;
    fn create_user(&self, name: &str, password: &str) -> Result<(), Error>;
    fn create_admin_user(&self, name: &str, password: &str) -> Result<(), Error>;
    fn drop_user(&self, name: &str) -> Result<(), Error>;
    fn set_user_password(&self, name: &str, password: &str) -> Result<(), Error>;
    fn list_users(&self) -> Result<Vec<User>, Error>;
    fn grant_privilege(
        &self,
        privilege: Privilege,
        database: &str,
        user: &str,
    ) -> Result<(), Error>;
    fn revoke_privilege(
        &self,
        privilege: Privilege,
        database: &str,
        user: &str,
    ) -> Result<(), Error>;
    fn grant_admin_privileges(&self, user: &str) -> Result<(), Error>;
    fn revoke_admin_privileges(&self, user: &str) -> Result<(), Error>;
    fn list_privileges(&self, user: &str) -> Result<Vec<Grant>, Error>;
    fn create_retention_policy(
        &self,
        database: &str,
        policy: &NewRetentionPolicy,
    ) -> Result<(), Error>;
    fn alter_retention_policy(
        &self,
        database: &str,
        name: &str,
        change: &RetentionPolicyChange,
    ) -> Result<(), Error>;
    fn drop_retention_policy(&self, database: &str, name: &str) -> Result<(), Error>;
    fn list_retention_policies(&self, database: &str) -> Result<Vec<RetentionPolicy>, Error>;
    fn create_continuous_query(
        &self,
        database: &str,
        query: &NewContinuousQuery,
    ) -> Result<(), Error>;
    fn drop_continuous_query(&self, database: &str, name: &str) -> Result<(), Error>;
    fn list_continuous_queries(&self, database: &str) -> Result<Vec<ContinuousQuery>, Error>;
    fn list_measurements(
        &self,
        database: &str,
        matching: Option<&str>,
    ) -> Result<Vec<String>, Error>;
    fn drop_measurement(&self, database: &str, name: &str) -> Result<(), Error>;
    fn list_series(&self, database: &str, filter: &SeriesFilter) -> Result<Vec<String>, Error>;
    fn delete_series(&self, database: &str, filter: &SeriesFilter) -> Result<(), Error>;
    fn ensure(&self, schema: &Schema) -> Result<Ensured, SchemaError>;
    fn verify(&self, schema: &Schema) -> Result<Report, SchemaError>;
    fn provision(&self, schema: &Schema) -> Result<(Ensured, Report), SchemaError>;
}

/// Forwards each call of [`Api`] to the client's method of the same name, through `$run`.
macro_rules! forward {
    ($inner:ident, $run:path) => {
        fn config(&self) -> &ClientConfig {
            self.$inner.config()
        }
        fn switch_database(&mut self, database: String) {
            self.$inner.switch_database(database)
        }
        fn switch_user(&mut self, username: String, password: String) -> Result<(), Error> {
            self.$inner.switch_user(username, password)
        }
        fn ping(&self) -> Result<String, Error> {
            $run(self, self.$inner.ping())
        }
        fn write_points<P: Borrow<Point>>(
            &self,
            points: impl IntoIterator<Item = P>,
            options: &WriteOptions,
        ) -> Result<Commit, Error> {
            $run(self, self.$inner.write_points(points, options))
        }
        fn write_lines(&self, lines: &LineBuf, options: &WriteOptions) -> Result<Commit, Error> {
            $run(self, self.$inner.write_lines(lines, options))
        }
        fn write_raw(&self, text: &str, options: &WriteOptions) -> Result<Commit, Error> {
            $run(self, self.$inner.write_raw(text, options))
        }
        fn query(&self, query: &str) -> Result<Vec<ResultSet>, Error> {
            $run(self, self.$inner.query(query))
        }
        fn query_with(&self, query: &str, options: &QueryOptions) -> Result<Vec<ResultSet>, Error> {
            $run(self, self.$inner.query_with(query, options))
        }
        fn query_as<T: FromRow>(&self, query: &str) -> Result<Vec<T>, Error> {
            $run(self, self.$inner.query_as(query))
        }
        fn query_as_with<T: FromRow>(
            &self,
            query: &str,
            options: &QueryOptions,
        ) -> Result<Vec<T>, Error> {
            $run(self, self.$inner.query_as_with(query, options))
        }
        fn query_statements(
            &self,
            query: &str,
            options: &QueryOptions,
        ) -> Result<Statements, Error> {
            $run(self, self.$inner.query_statements(query, options))
        }
        fn query_deserialize<T: DeserializeOwned>(
            &self,
            query: &str,
            options: &QueryOptions,
        ) -> Result<Vec<T>, Error> {
            $run(self, self.$inner.query_deserialize(query, options))
        }
        fn query_raw(&self, query: &str, options: &QueryOptions) -> Result<Vec<u8>, Error> {
            $run(self, self.$inner.query_raw(query, options))
        }
        fn create_database(&self, name: &str) -> Result<(), Error> {
            $run(self, self.$inner.create_database(name))
        }
        fn drop_database(&self, name: &str) -> Result<(), Error> {
            $run(self, self.$inner.drop_database(name))
        }
        fn list_databases(&self) -> Result<Vec<String>, Error> {
            $run(self, self.$inner.list_databases())
        }
        fn create_user(&self, name: &str, password: &str) -> Result<(), Error> {
            $run(self, self.$inner.create_user(name, password))
        }
        fn create_admin_user(&self, name: &str, password: &str) -> Result<(), Error> {
            $run(self, self.$inner.create_admin_user(name, password))
        }
        fn drop_user(&self, name: &str) -> Result<(), Error> {
            $run(self, self.$inner.drop_user(name))
        }
        fn set_user_password(&self, name: &str, password: &str) -> Result<(), Error> {
            $run(self, self.$inner.set_user_password(name, password))
        }
        fn list_users(&self) -> Result<Vec<User>, Error> {
            $run(self, self.$inner.list_users())
        }
        fn grant_privilege(
            &self,
            privilege: Privilege,
            database: &str,
            user: &str,
        ) -> Result<(), Error> {
            $run(self, self.$inner.grant_privilege(privilege, database, user))
        }
        fn revoke_privilege(
            &self,
            privilege: Privilege,
            database: &str,
            user: &str,
        ) -> Result<(), Error> {
            $run(
                self,
                self.$inner.revoke_privilege(privilege, database, user),
            )
        }
        fn grant_admin_privileges(&self, user: &str) -> Result<(), Error> {
            $run(self, self.$inner.grant_admin_privileges(user))
        }
        fn revoke_admin_privileges(&self, user: &str) -> Result<(), Error> {
            $run(self, self.$inner.revoke_admin_privileges(user))
        }
        fn list_privileges(&self, user: &str) -> Result<Vec<Grant>, Error> {
            $run(self, self.$inner.list_privileges(user))
        }
        fn create_retention_policy(
            &self,
            database: &str,
            policy: &NewRetentionPolicy,
        ) -> Result<(), Error> {
            $run(self, self.$inner.create_retention_policy(database, policy))
        }
        fn alter_retention_policy(
            &self,
            database: &str,
            name: &str,
            change: &RetentionPolicyChange,
        ) -> Result<(), Error> {
            $run(
                self,
                self.$inner.alter_retention_policy(database, name, change),
            )
        }
        fn drop_retention_policy(&self, database: &str, name: &str) -> Result<(), Error> {
            $run(self, self.$inner.drop_retention_policy(database, name))
        }
        fn list_retention_policies(&self, database: &str) -> Result<Vec<RetentionPolicy>, Error> {
            $run(self, self.$inner.list_retention_policies(database))
        }
        fn create_continuous_query(
            &self,
            database: &str,
            query: &NewContinuousQuery,
        ) -> Result<(), Error> {
            $run(self, self.$inner.create_continuous_query(database, query))
        }
        fn drop_continuous_query(&self, database: &str, name: &str) -> Result<(), Error> {
            $run(self, self.$inner.drop_continuous_query(database, name))
        }
        fn list_continuous_queries(&self, database: &str) -> Result<Vec<ContinuousQuery>, Error> {
            $run(self, self.$inner.list_continuous_queries(database))
        }
        fn list_measurements(
            &self,
            database: &str,
            matching: Option<&str>,
        ) -> Result<Vec<String>, Error> {
            $run(self, self.$inner.list_measurements(database, matching))
        }
        fn drop_measurement(&self, database: &str, name: &str) -> Result<(), Error> {
            $run(self, self.$inner.drop_measurement(database, name))
        }
        fn list_series(&self, database: &str, filter: &SeriesFilter) -> Result<Vec<String>, Error> {
            $run(self, self.$inner.list_series(database, filter))
        }
        fn delete_series(&self, database: &str, filter: &SeriesFilter) -> Result<(), Error> {
            $run(self, self.$inner.delete_series(database, filter))
        }
    };
}

/// The blocking client, as it is.
#[derive(Clone, Debug)]
pub struct Blocking {
    client: Client,
}

fn returned<S, T>(_: &S, value: T) -> T {
    value
}

impl Api for Blocking {
    fn connect(config: ClientConfig) -> Result<Self, Error> {
        Ok(Blocking {
            client: Client::with_config(config)?,
        })
    }
    fn query_stream(&self, query: &str, options: &QueryOptions) -> Result<Items<ResultSet>, Error> {
        Ok(Box::new(self.client.query_stream(query, options)?))
    }
    fn query_as_stream<T: FromRow + Send + 'static>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Items<T>, Error> {
        Ok(Box::new(self.client.query_as_stream::<T>(query, options)?))
    }
    fn ensure(&self, schema: &Schema) -> Result<Ensured, SchemaError> {
        schema.ensure(&self.client)
    }
    fn verify(&self, schema: &Schema) -> Result<Report, SchemaError> {
        schema.verify(&self.client)
    }
    fn provision(&self, schema: &Schema) -> Result<(Ensured, Report), SchemaError> {
        schema.provision(&self.client)
    }
    forward!(client, returned);
}

/// The async client, each call run to completion on a current-thread runtime of its own.
#[derive(Clone, Debug)]
pub struct Async {
    client: AsyncClient,
    runtime: Arc<tokio::runtime::Runtime>,
}

fn awaited<T>(this: &Async, future: impl Future<Output = T>) -> T {
    this.runtime.block_on(future)
}

impl Api for Async {
    fn connect(config: ClientConfig) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        Ok(Async {
            client: AsyncClient::with_config(config)?,
            runtime: Arc::new(runtime),
        })
    }
    fn query_stream(&self, query: &str, options: &QueryOptions) -> Result<Items<ResultSet>, Error> {
        let stream = self
            .runtime
            .block_on(self.client.query_stream(query, options))?;
        Ok(Box::new(Blocked::new(stream, &self.runtime)))
    }
    fn query_as_stream<T: FromRow + Send + 'static>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Items<T>, Error> {
        let stream = self
            .runtime
            .block_on(self.client.query_as_stream::<T>(query, options))?;
        Ok(Box::new(Blocked::new(stream, &self.runtime)))
    }
    // Each future is also checked to be `Send`, so that a service can spawn it.
    fn ensure(&self, schema: &Schema) -> Result<Ensured, SchemaError> {
        self.runtime
            .block_on(sent(schema.ensure_async(&self.client)))
    }
    fn verify(&self, schema: &Schema) -> Result<Report, SchemaError> {
        self.runtime
            .block_on(sent(schema.verify_async(&self.client)))
    }
    fn provision(&self, schema: &Schema) -> Result<(Ensured, Report), SchemaError> {
        self.runtime
            .block_on(sent(schema.provision_async(&self.client)))
    }
    forward!(client, awaited);
}

/// `future`, which must be `Send`.
fn sent<F: Future + Send>(future: F) -> F {
    future
}

/// An async stream read as an iterator, each item awaited on the client's runtime.
struct Blocked<T> {
    stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = T> + Send>>,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl<T> Blocked<T> {
    fn new(
        stream: impl futures_util::Stream<Item = T> + Send + 'static,
        runtime: &Arc<tokio::runtime::Runtime>,
    ) -> Self {
        Blocked {
            stream: Box::pin(stream),
            runtime: Arc::clone(runtime),
        }
    }
}

impl<T> Iterator for Blocked<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        use futures_util::StreamExt;
        self.runtime.block_on(self.stream.next())
    }
}

/// Either client with gzip on both ways, whatever configuration the test asks for.
#[derive(Clone, Debug)]
pub struct Gzip<C> {
    inner: C,
}

impl<C: Api> Api for Gzip<C> {
    fn connect(config: ClientConfig) -> Result<Self, Error> {
        let config = ClientBuilder::from(config).gzip(true).into_config();
        let inner = C::connect(config)?;
        assert!(inner.config().gzip(), "the client keeps gzip on");
        Ok(Gzip { inner })
    }
    fn query_stream(&self, query: &str, options: &QueryOptions) -> Result<Items<ResultSet>, Error> {
        self.inner.query_stream(query, options)
    }
    fn query_as_stream<T: FromRow + Send + 'static>(
        &self,
        query: &str,
        options: &QueryOptions,
    ) -> Result<Items<T>, Error> {
        self.inner.query_as_stream::<T>(query, options)
    }
    fn ensure(&self, schema: &Schema) -> Result<Ensured, SchemaError> {
        self.inner.ensure(schema)
    }
    fn verify(&self, schema: &Schema) -> Result<Report, SchemaError> {
        self.inner.verify(schema)
    }
    fn provision(&self, schema: &Schema) -> Result<(Ensured, Report), SchemaError> {
        self.inner.provision(schema)
    }
    forward!(inner, returned);
}

/// Runs each named test function (generic over [`Api`]) once per client, as
/// `blocking::NAME` and `asynchronous::NAME`; those listed after `gzip:` run again with gzip
/// on, as `gzip::blocking::NAME` and `gzip::asynchronous::NAME`.
#[macro_export]
macro_rules! both_clients {
    ($($name:ident),* $(,)? $(; gzip: $($gzipped:ident),* $(,)?)?) => {
        mod blocking {
            $(#[test]
            fn $name() {
                super::$name::<$crate::support::api::Blocking>()
            })*
        }
        mod asynchronous {
            $(#[test]
            fn $name() {
                super::$name::<$crate::support::api::Async>()
            })*
        }
        $(mod gzip {
            mod blocking {
                $(#[test]
                fn $gzipped() {
                    super::super::$gzipped::<
                        $crate::support::api::Gzip<$crate::support::api::Blocking>,
                    >()
                })*
            }
            mod asynchronous {
                $(#[test]
                fn $gzipped() {
                    super::super::$gzipped::<
                        $crate::support::api::Gzip<$crate::support::api::Async>,
                    >()
                })*
            }
        })?
    };
}

/// A client whose default database is new, named after `prefix`, on the shared test server.
pub fn fresh<C: Api>(prefix: &str) -> C {
    let server = influx_testserver::shared();
    let db = server.unique_db(prefix);
    let mut client = C::connect_url(&server.url()).expect("client");
    client.create_database(&db).expect("create database");
    client.switch_database(db);
    client
}
