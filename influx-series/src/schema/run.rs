//! Ensuring and verifying a [`Schema`] against a server, written once over [`Server`] for
//! both clients.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

#[cfg(feature = "async")]
use influx_core::AsyncClient;
#[cfg(feature = "blocking")]
use influx_core::Client;
use influx_core::admin::{
    ContinuousQuery, NewContinuousQuery, NewRetentionPolicy, RetentionPolicy, RetentionPolicyChange,
};
use influx_core::influxql::quote_ident;
use influx_core::{Error, ResultSet};

use super::builder::Schema;
use super::compare::{default_policy, policy_differences, same_query};
use super::declared::SeriesSchema;
use super::report::{
    Action, Change, Ensured, Finding, PolicyDifference, Report, SchemaError, not_authorized,
};

/// The calls a schema needs, of either client.
pub(crate) trait Server {
    fn default_database(&self) -> Option<&str>;
    fn list_databases(&self) -> impl Future<Output = Result<Vec<String>, Error>>;
    fn create_database(&self, name: &str) -> impl Future<Output = Result<(), Error>>;
    fn list_retention_policies(
        &self,
        database: &str,
    ) -> impl Future<Output = Result<Vec<RetentionPolicy>, Error>>;
    fn create_retention_policy(
        &self,
        database: &str,
        policy: &NewRetentionPolicy,
    ) -> impl Future<Output = Result<(), Error>>;
    fn alter_retention_policy(
        &self,
        database: &str,
        name: &str,
        change: &RetentionPolicyChange,
    ) -> impl Future<Output = Result<(), Error>>;
    fn list_continuous_queries(
        &self,
        database: &str,
    ) -> impl Future<Output = Result<Vec<ContinuousQuery>, Error>>;
    fn create_continuous_query(
        &self,
        database: &str,
        query: &NewContinuousQuery,
    ) -> impl Future<Output = Result<(), Error>>;
    fn query(&self, query: &str) -> impl Future<Output = Result<Vec<ResultSet>, Error>>;
}

/// Implements [`Server`] by forwarding to the client's methods of the same names, `.await`ed
/// or not.
macro_rules! server {
    ($client:ty, $($wait:tt)*) => {
        impl Server for $client {
            fn default_database(&self) -> Option<&str> {
                self.database()
            }
            async fn list_databases(&self) -> Result<Vec<String>, Error> {
                <$client>::list_databases(self) $($wait)*
            }
            async fn create_database(&self, name: &str) -> Result<(), Error> {
                <$client>::create_database(self, name) $($wait)*
            }
            async fn list_retention_policies(
                &self,
                database: &str,
            ) -> Result<Vec<RetentionPolicy>, Error> {
                <$client>::list_retention_policies(self, database) $($wait)*
            }
            async fn create_retention_policy(
                &self,
                database: &str,
                policy: &NewRetentionPolicy,
            ) -> Result<(), Error> {
                <$client>::create_retention_policy(self, database, policy) $($wait)*
            }
            async fn alter_retention_policy(
                &self,
                database: &str,
                name: &str,
                change: &RetentionPolicyChange,
            ) -> Result<(), Error> {
                <$client>::alter_retention_policy(self, database, name, change) $($wait)*
            }
            async fn list_continuous_queries(
                &self,
                database: &str,
            ) -> Result<Vec<ContinuousQuery>, Error> {
                <$client>::list_continuous_queries(self, database) $($wait)*
            }
            async fn create_continuous_query(
                &self,
                database: &str,
                query: &NewContinuousQuery,
            ) -> Result<(), Error> {
                <$client>::create_continuous_query(self, database, query) $($wait)*
            }
            async fn query(&self, query: &str) -> Result<Vec<ResultSet>, Error> {
                <$client>::query(self, query) $($wait)*
            }
        }
    };
}

#[cfg(feature = "blocking")]
server!(Client,);
#[cfg(feature = "async")]
server!(AsyncClient, .await);

#[cfg(feature = "blocking")]
impl Schema {
    /// Creates what is missing: databases (those declared, and those the types write to),
    /// retention policies and continuous queries; returns what it did. Running it again
    /// creates nothing. What exists and differs is reported in
    /// [`Ensured::left_as_is`] and left as it is, unless the change is named with
    /// [`Schema::allow`]; a missing policy declared the default is created as the default
    /// only in a database this call created, or with [`Change::MakeDefault`] allowed.
    /// It needs the admin privilege: to create, and to read the continuous queries (which
    /// influxd lets only an admin list) when any is declared.
    ///
    /// ```no_run
    /// use influx_series::Client;
    /// use influx_series::admin::NewRetentionPolicy;
    /// use influx_series::schema::Schema;
    ///
    /// let client = Client::new("http://127.0.0.1:8086")?;
    /// let schema = Schema::new()
    ///     .database("metrics")
    ///     .retention_policy("metrics", NewRetentionPolicy::new("one_week", "1w"));
    /// let ensured = schema.ensure(&client)?;
    /// println!("{ensured}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ensure(&self, client: &Client) -> Result<Ensured, SchemaError> {
        influx_core::complete(ensure(self, client))
    }

    /// Compares the declaration with the server and reports every difference (see
    /// [`Report`]); changes nothing. Reads `SHOW DATABASES`, `SHOW RETENTION POLICIES`,
    /// `SHOW CONTINUOUS QUERIES`, and `SHOW FIELD KEYS` and `SHOW TAG KEYS` of the
    /// measurements its types write (every one a template matches). What this user may not
    /// read is reported as [`Finding::Unchecked`].
    ///
    /// ```no_run
    /// use influx_series::{Client, Series};
    /// use influx_series::schema::Schema;
    ///
    /// #[derive(Series)]
    /// #[series(database = "metrics")]
    /// struct Cpu {
    ///     #[series(tag)]
    ///     host: String,
    ///     usage: f64,
    /// }
    ///
    /// let client = Client::new("http://127.0.0.1:8086")?;
    /// let report = Schema::new().series::<Cpu>().verify(&client)?;
    /// if report.has_conflicts() {
    ///     eprintln!("{report}");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify(&self, client: &Client) -> Result<Report, SchemaError> {
        influx_core::complete(verify(self, client))
    }

    /// At start-up: [`Schema::ensure`], then [`Schema::verify`]; an error
    /// ([`SchemaError::Conflicts`]) if the report has conflicts, so that a service can
    /// refuse to start before it binds a type or starts a writer.
    ///
    /// ```no_run
    /// use influx_series::{Client, Series};
    /// use influx_series::schema::Schema;
    ///
    /// #[derive(Series)]
    /// #[series(database = "metrics")]
    /// struct Cpu {
    ///     #[series(tag)]
    ///     host: String,
    ///     usage: f64,
    /// }
    ///
    /// let client = Client::new("http://127.0.0.1:8086")?;
    /// let (ensured, report) = Schema::new().series::<Cpu>().provision(&client)?;
    /// Cpu::bind(client);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn provision(&self, client: &Client) -> Result<(Ensured, Report), SchemaError> {
        influx_core::complete(provision(self, client))
    }
}

#[cfg(feature = "async")]
impl Schema {
    /// [`Schema::ensure`] with the async client.
    ///
    /// ```no_run
    /// use influx_series::AsyncClient;
    /// use influx_series::schema::Schema;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = AsyncClient::new("http://127.0.0.1:8086")?;
    /// let ensured = Schema::new().database("metrics").ensure_async(&client).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn ensure_async(&self, client: &AsyncClient) -> Result<Ensured, SchemaError> {
        ensure(self, client).await
    }

    /// [`Schema::verify`] with the async client.
    ///
    /// ```no_run
    /// use influx_series::AsyncClient;
    /// use influx_series::schema::Schema;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = AsyncClient::new("http://127.0.0.1:8086")?;
    /// let report = Schema::new().database("metrics").verify_async(&client).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn verify_async(&self, client: &AsyncClient) -> Result<Report, SchemaError> {
        verify(self, client).await
    }

    /// [`Schema::provision`] with the async client.
    ///
    /// ```no_run
    /// use influx_series::AsyncClient;
    /// use influx_series::schema::Schema;
    ///
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = AsyncClient::new("http://127.0.0.1:8086")?;
    /// let (ensured, report) = Schema::new().database("metrics").provision_async(&client).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn provision_async(
        &self,
        client: &AsyncClient,
    ) -> Result<(Ensured, Report), SchemaError> {
        provision(self, client).await
    }
}

async fn provision<S: Server>(
    schema: &Schema,
    server: &S,
) -> Result<(Ensured, Report), SchemaError> {
    let ensured = ensure(schema, server).await?;
    let report = verify(schema, server).await?;
    if report.has_conflicts() {
        return Err(SchemaError::Conflicts { ensured, report });
    }
    Ok((ensured, report))
}

const SHOW_DATABASES: &str = "SHOW DATABASES";

fn show_policies(database: &str) -> String {
    format!("SHOW RETENTION POLICIES ON {}", quote_ident(database))
}

fn show_queries() -> String {
    "SHOW CONTINUOUS QUERIES".to_owned()
}

/// The declaration's statement, or the error of a declaration that makes none.
fn statement(made: Result<String, Error>, what: String) -> Result<String, SchemaError> {
    made.map_err(|source| SchemaError::Failed {
        statement: what,
        source,
    })
}

/// The retention policies of `database`, read from the server the first time a call asks
/// for them and kept in `read` for the next.
async fn policies_of<'r, S: Server>(
    server: &S,
    read: &'r mut HashMap<String, Vec<RetentionPolicy>>,
    database: &str,
) -> Result<&'r [RetentionPolicy], SchemaError> {
    if !read.contains_key(database) {
        let listed = server
            .list_retention_policies(database)
            .await
            .map_err(|e| SchemaError::of(show_policies(database), e))?;
        read.insert(database.to_owned(), listed);
    }
    Ok(&read[database])
}

async fn ensure<S: Server>(schema: &Schema, server: &S) -> Result<Ensured, SchemaError> {
    let mut ensured = Ensured::default();
    let listed = server
        .list_databases()
        .await
        .map_err(|e| SchemaError::of(SHOW_DATABASES, e))?;
    let mut created = Vec::new();
    for database in schema.all_databases(server.default_database()) {
        if listed.contains(&database) {
            continue;
        }
        server.create_database(&database).await.map_err(|e| {
            SchemaError::of(format!("CREATE DATABASE {}", quote_ident(&database)), e)
        })?;
        ensured.actions.push(Action::CreatedDatabase {
            database: database.clone(),
        });
        created.push(database);
    }

    let mut policies: HashMap<String, Vec<RetentionPolicy>> = HashMap::new();
    for (database, declared) in &schema.policies {
        let name = declared.name();
        match policies_of(server, &mut policies, database)
            .await?
            .iter()
            .find(|p| p.name == name)
        {
            None => {
                // A new default redirects the database's other writers: only in a database
                // created here, or when allowed.
                let hold_default = declared.is_default()
                    && !created.contains(database)
                    && !schema.allows(database, name, Change::MakeDefault);
                let creating = match hold_default {
                    true => declared.clone().not_default(),
                    false => declared.clone(),
                };
                let text = statement(
                    creating.statement(database),
                    format!("CREATE RETENTION POLICY {}", quote_ident(name)),
                )?;
                server
                    .create_retention_policy(database, &creating)
                    .await
                    .map_err(|e| SchemaError::of(text, e))?;
                ensured.actions.push(Action::CreatedRetentionPolicy {
                    database: database.clone(),
                    policy: name.to_owned(),
                });
                if hold_default {
                    ensured.left.push(Finding::PolicyDiffers {
                        database: database.clone(),
                        policy: name.to_owned(),
                        differences: vec![PolicyDifference::Default],
                    });
                }
            }
            Some(existing) => {
                let (apply, keep): (Vec<_>, Vec<_>) = policy_differences(declared, existing)
                    .into_iter()
                    .partition(|d| schema.allows(database, name, d.change()));
                if !apply.is_empty() {
                    let change = change_of(&apply);
                    let text = statement(
                        change.statement(database, name),
                        format!("ALTER RETENTION POLICY {}", quote_ident(name)),
                    )?;
                    server
                        .alter_retention_policy(database, name, &change)
                        .await
                        .map_err(|e| SchemaError::of(text, e))?;
                    ensured.actions.push(Action::AlteredRetentionPolicy {
                        database: database.clone(),
                        policy: name.to_owned(),
                        changes: apply,
                    });
                }
                if !keep.is_empty() {
                    ensured.left.push(Finding::PolicyDiffers {
                        database: database.clone(),
                        policy: name.to_owned(),
                        differences: keep,
                    });
                }
            }
        }
    }

    let mut queries: HashMap<String, Vec<ContinuousQuery>> = HashMap::new();
    let mut after: HashMap<String, Vec<RetentionPolicy>> = HashMap::new();
    for (database, declared) in &schema.queries {
        let text = statement(
            declared.statement(database),
            format!("CREATE CONTINUOUS QUERY {}", quote_ident(declared.name())),
        )?;
        if !queries.contains_key(database) {
            let listed = server
                .list_continuous_queries(database)
                .await
                .map_err(|e| SchemaError::of(show_queries(), e))?;
            queries.insert(database.clone(), listed);
        }
        let Some(existing) = queries[database].iter().find(|q| q.name == declared.name()) else {
            server
                .create_continuous_query(database, declared)
                .await
                .map_err(|e| SchemaError::of(text, e))?;
            ensured.actions.push(Action::CreatedContinuousQuery {
                database: database.clone(),
                name: declared.name().to_owned(),
            });
            // Listed again if a second declaration names it.
            queries.insert(
                database.clone(),
                server
                    .list_continuous_queries(database)
                    .await
                    .map_err(|e| SchemaError::of(show_queries(), e))?,
            );
            continue;
        };
        // The server qualified the query's names with the policy that was the default: the
        // policies are read again (after this call's changes to them), once a database.
        let default = default_policy(policies_of(server, &mut after, database).await?);
        if !same_query(&text, &existing.query, database, default) {
            ensured.left.push(Finding::QueryDiffers {
                database: database.clone(),
                name: declared.name().to_owned(),
                declared: text,
                on_server: existing.query.clone(),
            });
        }
    }
    Ok(ensured)
}

/// The `ALTER RETENTION POLICY` change that applies `differences`.
fn change_of(differences: &[PolicyDifference]) -> RetentionPolicyChange {
    let mut change = RetentionPolicyChange::new();
    for difference in differences {
        change = match difference {
            PolicyDifference::Retention { declared, .. } => change.duration(declared.as_str()),
            PolicyDifference::ShardDuration { declared, .. } => {
                change.shard_duration(declared.as_str())
            }
            PolicyDifference::Replication { declared, .. } => change.replication(*declared),
            PolicyDifference::Default => change.make_default(),
        };
    }
    change
}

/// A refusal for lack of a privilege becomes a finding; any other error ends the check.
fn unchecked(e: Error, what: String, statement: String) -> Result<Finding, SchemaError> {
    match not_authorized(&e) {
        Some((statement, privilege)) => Ok(Finding::Unchecked {
            what,
            statement,
            privilege,
        }),
        None => Err(SchemaError::of(statement, e)),
    }
}

/// The server's databases' retention policies, read once each; `None` for a database whose
/// policies this user may not read (reported once).
struct Policies {
    read: HashMap<String, Option<Vec<RetentionPolicy>>>,
}

impl Policies {
    async fn of<S: Server>(
        &mut self,
        server: &S,
        database: &str,
        findings: &mut Vec<Finding>,
    ) -> Result<Option<&[RetentionPolicy]>, SchemaError> {
        if !self.read.contains_key(database) {
            let read = match server.list_retention_policies(database).await {
                Ok(listed) => Some(listed),
                Err(e) => {
                    let what = format!("retention policies on {database:?}");
                    findings.push(unchecked(e, what, show_policies(database))?);
                    None
                }
            };
            self.read.insert(database.to_owned(), read);
        }
        Ok(self.read[database].as_deref())
    }
}

async fn verify<S: Server>(schema: &Schema, server: &S) -> Result<Report, SchemaError> {
    let mut findings = Vec::new();
    let default = server.default_database();
    let listed = match server.list_databases().await {
        Ok(listed) => listed,
        Err(e) => {
            let what = "which databases exist".to_owned();
            findings.push(unchecked(e, what, SHOW_DATABASES.to_owned())?);
            Vec::new()
        }
    };
    let mut policies = Policies {
        read: HashMap::new(),
    };
    // The databases that exist: listed, or (hidden from a user without privileges on them)
    // found by reading their policies.
    let mut present = Vec::new();
    for database in schema.all_databases(default) {
        if listed.contains(&database) {
            present.push(database);
            continue;
        }
        match server.list_retention_policies(&database).await {
            Ok(listed) => {
                policies.read.insert(database.clone(), Some(listed));
                present.push(database);
            }
            Err(e) if is_database_not_found(&e) => {
                let series = schema
                    .series
                    .iter()
                    .find(|s| s.database().or(default) == Some(database.as_str()))
                    .map(|s| s.type_name());
                findings.push(Finding::MissingDatabase { database, series });
            }
            Err(e) => {
                let what = format!("whether database {database:?} exists");
                findings.push(unchecked(e, what, show_policies(&database))?);
            }
        }
    }
    for series in &schema.series {
        if series.database().or(default).is_none() {
            findings.push(Finding::NoDatabase {
                series: series.type_name(),
            });
        }
    }

    // Policies: those declared, and those the types write to.
    let mut missing_policies: Vec<(String, String)> = Vec::new();
    for (database, declared) in &schema.policies {
        if !present.contains(database) {
            continue;
        }
        let Some(existing) = policies.of(server, database, &mut findings).await? else {
            continue;
        };
        match existing.iter().find(|p| p.name == declared.name()) {
            None => missing_policies.push((database.clone(), declared.name().to_owned())),
            Some(existing) => {
                let differences = policy_differences(declared, existing);
                if !differences.is_empty() {
                    findings.push(Finding::PolicyDiffers {
                        database: database.clone(),
                        policy: declared.name().to_owned(),
                        differences,
                    });
                }
            }
        }
    }
    let mut writers: BTreeMap<(String, String), &'static str> = BTreeMap::new();
    for series in &schema.series {
        let (Some(database), Some(policy)) =
            (series.database().or(default), series.retention_policy())
        else {
            continue;
        };
        if !present.iter().any(|d| d == database) {
            continue;
        }
        let Some(existing) = policies.of(server, database, &mut findings).await? else {
            continue;
        };
        if !existing.iter().any(|p| p.name == policy) {
            let key = (database.to_owned(), policy.to_owned());
            if !missing_policies.contains(&key) {
                missing_policies.push(key.clone());
            }
            writers.entry(key).or_insert(series.type_name());
        }
    }
    for (database, policy) in missing_policies {
        let series = writers.get(&(database.clone(), policy.clone())).copied();
        findings.push(Finding::MissingRetentionPolicy {
            database,
            policy,
            series,
        });
    }

    // Continuous queries.
    let mut queries: HashMap<String, Option<Vec<ContinuousQuery>>> = HashMap::new();
    // `SHOW CONTINUOUS QUERIES` covers every database: a refusal is reported once.
    let mut refused = false;
    for (database, declared) in &schema.queries {
        if !present.contains(database) || refused {
            continue;
        }
        if !queries.contains_key(database) {
            let read = match server.list_continuous_queries(database).await {
                Ok(listed) => Some(listed),
                Err(e) => {
                    let what = "continuous queries".to_owned();
                    findings.push(unchecked(e, what, show_queries())?);
                    refused = true;
                    None
                }
            };
            queries.insert(database.clone(), read);
        }
        let Some(existing) = &queries[database] else {
            continue;
        };
        let text = statement(
            declared.statement(database),
            format!("CREATE CONTINUOUS QUERY {}", quote_ident(declared.name())),
        )?;
        match existing.iter().find(|q| q.name == declared.name()) {
            None => findings.push(Finding::MissingContinuousQuery {
                database: database.clone(),
                name: declared.name().to_owned(),
            }),
            Some(existing)
                if !same_query(
                    &text,
                    &existing.query,
                    database,
                    policies
                        .of(server, database, &mut findings)
                        .await?
                        .and_then(default_policy),
                ) =>
            {
                findings.push(Finding::QueryDiffers {
                    database: database.clone(),
                    name: declared.name().to_owned(),
                    declared: text,
                    on_server: existing.query.clone(),
                });
            }
            Some(_) => {}
        }
    }

    // The types' fields and tags, against every measurement they write.
    for series in &schema.series {
        let Some(database) = series.database().or(default) else {
            continue;
        };
        if !present.iter().any(|d| d == database) {
            continue;
        }
        if let Some(policy) = series.retention_policy() {
            let exists = policies
                .read
                .get(database)
                .and_then(Option::as_ref)
                .is_some_and(|p| p.iter().any(|p| p.name == policy));
            if !exists {
                continue;
            }
        }
        check_series(server, series, database, &mut findings).await?;
    }
    Ok(Report::new(findings))
}

fn is_database_not_found(e: &Error) -> bool {
    matches!(e, Error::Statement { message, .. } | Error::Client { message, .. }
        if message.contains("database not found"))
}

/// `FROM` the measurement(s) a type writes: its name, or the regex of its template, in its
/// retention policy if it names one.
fn source(series: &SeriesSchema) -> String {
    let from = match series.measurement_pattern() {
        // The derive escapes `/` in the pattern.
        Some(pattern) => format!("/{pattern}/"),
        None => quote_ident(series.measurement()),
    };
    match series.retention_policy() {
        Some(policy) => format!("{}.{from}", quote_ident(policy)),
        None => from,
    }
}

/// The fields (key and type) and tags of each measurement, as the server has them.
#[derive(Default)]
struct Stored {
    fields: Vec<(String, String)>,
    tags: Vec<String>,
}

async fn check_series<S: Server>(
    server: &S,
    series: &SeriesSchema,
    database: &str,
    findings: &mut Vec<Finding>,
) -> Result<(), SchemaError> {
    let on = quote_ident(database);
    let from = source(series);
    let mut stored: BTreeMap<String, Stored> = BTreeMap::new();
    let what = || format!("{} in {database:?}", series.type_name());
    let fields = format!("SHOW FIELD KEYS ON {on} FROM {from}");
    match server.query(&fields).await {
        Ok(sets) => {
            for (measurement, row) in rows(&sets) {
                let key = row.0;
                let ty = row.1.unwrap_or_default();
                stored
                    .entry(measurement)
                    .or_default()
                    .fields
                    .push((key, ty));
            }
        }
        Err(e) => {
            findings.push(unchecked(e, what(), fields)?);
            return Ok(());
        }
    }
    let tags = format!("SHOW TAG KEYS ON {on} FROM {from}");
    match server.query(&tags).await {
        Ok(sets) => {
            for (measurement, row) in rows(&sets) {
                stored.entry(measurement).or_default().tags.push(row.0);
            }
        }
        Err(e) => {
            findings.push(unchecked(e, what(), tags)?);
            return Ok(());
        }
    }
    let name = series.type_name();
    for (measurement, stored) in stored {
        for declared in series.fields() {
            for (key, ty) in &stored.fields {
                if key != declared.key {
                    continue;
                }
                if let Some(declared_type) = declared.field_type {
                    if ty != declared_type.as_server() {
                        findings.push(Finding::FieldType {
                            series: name,
                            database: database.to_owned(),
                            measurement: measurement.clone(),
                            field: key.clone(),
                            declared: declared_type,
                            stored: ty.clone(),
                        });
                    }
                }
            }
            if stored.tags.iter().any(|t| t == declared.key) {
                findings.push(Finding::FieldStoredAsTag {
                    series: name,
                    database: database.to_owned(),
                    measurement: measurement.clone(),
                    key: declared.key.to_owned(),
                });
            }
        }
        for tag in series.tags() {
            if stored.fields.iter().any(|(key, _)| key == tag) {
                findings.push(Finding::TagStoredAsField {
                    series: name,
                    database: database.to_owned(),
                    measurement: measurement.clone(),
                    key: (*tag).to_owned(),
                });
            }
        }
        for (key, ty) in &stored.fields {
            let declared = series.fields().iter().any(|f| f.key == key)
                || series.tags().iter().any(|t| t == key);
            if !declared {
                findings.push(Finding::UndeclaredField {
                    series: name,
                    database: database.to_owned(),
                    measurement: measurement.clone(),
                    field: key.clone(),
                    stored: ty.clone(),
                });
            }
        }
        for key in &stored.tags {
            let declared = series.tags().iter().any(|t| t == key)
                || series.fields().iter().any(|f| f.key == key);
            if !declared {
                findings.push(Finding::UndeclaredTag {
                    series: name,
                    database: database.to_owned(),
                    measurement: measurement.clone(),
                    key: key.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Each row of `SHOW FIELD KEYS` or `SHOW TAG KEYS`: the measurement, the key, and the
/// field's type (`None` for a tag).
fn rows(sets: &[ResultSet]) -> Vec<(String, (String, Option<String>))> {
    let mut out = Vec::new();
    for set in sets {
        for series in set.series() {
            let measurement = series.name().unwrap_or_default().to_owned();
            for row in series.rows() {
                let key = row
                    .get_str("fieldKey")
                    .or_else(|| row.get_str("tagKey"))
                    .unwrap_or_default()
                    .to_owned();
                let ty = row.get_str("fieldType").map(str::to_owned);
                out.push((measurement.clone(), (key, ty)));
            }
        }
    }
    out
}
