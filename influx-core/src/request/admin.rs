// Over 800 lines, kept whole: over a third is the rustdoc of the public `admin` module (what
// each statement takes and returns, with examples), and the rest is one pattern repeated, each
// statement built beside the decoding of its result; a split would part the two.
//! Administration and metadata: users, privileges, retention policies, continuous queries,
//! measurements and series.
//!
//! The calls are methods of [`crate::Client`] and [`crate::AsyncClient`] (for example
//! [`Client::create_retention_policy`](crate::Client::create_retention_policy)); this module
//! holds what they take and return. Every statement is built here, with each name quoted as
//! an identifier and each password or tag value as a string literal, so no name can end the
//! statement early or add another; durations are checked to be InfluxQL duration literals
//! (`90m`, `1h30m`, `INF`), and regexes are escaped. Statements that change state go as POST.
//!
//! ```no_run
//! use influx_series::Client;
//! use influx_series::admin::{NewRetentionPolicy, Privilege, RetentionPolicyChange};
//!
//! let client = Client::new("http://127.0.0.1:8086")?;
//! client.create_database("metrics")?;
//! client.create_retention_policy(
//!     "metrics",
//!     &NewRetentionPolicy::new("one_week", "1w").shard_duration("1h").make_default(),
//! )?;
//! client.alter_retention_policy("metrics", "one_week", &RetentionPolicyChange::new().duration("2w"))?;
//! for policy in client.list_retention_policies("metrics")? {
//!     println!("{} keeps {} (default: {})", policy.name, policy.duration, policy.default);
//! }
//! client.create_user("grafana", "s3cret")?;
//! client.grant_privilege(Privilege::Read, "metrics", "grafana")?;
//! # Ok::<(), influx_series::Error>(())
//! ```

use std::fmt;

use crate::error::{Cause, Error};
use crate::query::resultset::{ResultSet, Row};
use crate::request::influxql::{quote_ident, quote_literal, split_statements, strip_comments};

/// A user, as `SHOW USERS` reports it.
/// Its members are the statement's columns, which InfluxDB 1.x does not change: it is not
/// `#[non_exhaustive]`, so tests can build one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user name.
    pub name: String,
    /// Whether the user has cluster administration privileges.
    pub admin: bool,
}

/// A privilege on one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Privilege {
    /// `READ`: queries.
    Read,
    /// `WRITE`: writes.
    Write,
    /// `ALL PRIVILEGES`: both.
    All,
}

impl Privilege {
    /// The InfluxQL keyword(s): `READ`, `WRITE` or `ALL PRIVILEGES`.
    ///
    /// ```
    /// use influx_series::admin::Privilege;
    /// assert_eq!(Privilege::All.keyword(), "ALL PRIVILEGES");
    /// ```
    pub fn keyword(self) -> &'static str {
        match self {
            Privilege::Read => "READ",
            Privilege::Write => "WRITE",
            Privilege::All => "ALL PRIVILEGES",
        }
    }
}

impl fmt::Display for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// What a user may do on one database, as `SHOW GRANTS FOR` reports it.
/// Its members are the statement's columns, which InfluxDB 1.x does not change: it is not
/// `#[non_exhaustive]`, so tests can build one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The database.
    pub database: String,
    /// The privilege; `None` where the server says `NO PRIVILEGES` (a grant revoked).
    pub privilege: Option<Privilege>,
}

/// A retention policy, as `SHOW RETENTION POLICIES` reports it: durations in the server's
/// own form (`24h0m0s`; `0s` for infinite). `#[non_exhaustive]`: later servers add columns to
/// that statement, and this may follow them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetentionPolicy {
    /// The policy's name.
    pub name: String,
    /// How long data is kept (`0s`: for ever).
    pub duration: String,
    /// The time span of each shard group.
    pub shard_group_duration: String,
    /// The replication factor (`replicaN`).
    pub replication: u64,
    /// Whether writes that name no policy go to this one.
    pub default: bool,
}

/// A retention policy to create, for
/// [`Client::create_retention_policy`](crate::Client::create_retention_policy).
///
/// ```
/// use influx_series::admin::NewRetentionPolicy;
///
/// let policy = NewRetentionPolicy::new("one_day", "1d").replication(1).shard_duration("1h");
/// assert_eq!(
///     policy.statement("metrics")?,
///     r#"CREATE RETENTION POLICY "one_day" ON "metrics" DURATION 1d REPLICATION 1 SHARD DURATION 1h"#,
/// );
/// # Ok::<(), influx_series::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct NewRetentionPolicy {
    name: String,
    duration: String,
    replication: u32,
    shard_duration: Option<String>,
    default: bool,
}

impl NewRetentionPolicy {
    /// A policy named `name` keeping data for `duration` (an InfluxQL duration such as `1h`,
    /// `90m`, `7d`, `4w`, `1h30m`, or `INF` for ever; the server's minimum is one hour), with
    /// replication 1, the server's shard duration for it, and not the default.
    pub fn new(name: impl Into<String>, duration: impl Into<String>) -> Self {
        NewRetentionPolicy {
            name: name.into(),
            duration: duration.into(),
            replication: 1,
            shard_duration: None,
            default: false,
        }
    }

    /// The replication factor (1 on a single server).
    pub fn replication(mut self, replication: u32) -> Self {
        self.replication = replication;
        self
    }

    /// The time span of each shard group (an InfluxQL duration); by default the server picks
    /// one from the policy's duration (`1h` for under 2 days, `1d` up to 6 months, `7d`
    /// beyond).
    pub fn shard_duration(mut self, duration: impl Into<String>) -> Self {
        self.shard_duration = Some(duration.into());
        self
    }

    /// Makes the policy the database's default.
    pub fn make_default(mut self) -> Self {
        self.default = true;
        self
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The duration as given (an InfluxQL duration, or `INF`).
    pub fn duration_ref(&self) -> &str {
        &self.duration
    }

    /// The replication factor.
    pub fn replication_ref(&self) -> u32 {
        self.replication
    }

    /// The shard duration as given, if one was.
    pub fn shard_duration_ref(&self) -> Option<&str> {
        self.shard_duration.as_deref()
    }

    /// Whether the policy is made the database's default.
    pub fn is_default(&self) -> bool {
        self.default
    }

    /// The same policy, not made the default.
    pub fn not_default(mut self) -> Self {
        self.default = false;
        self
    }

    /// The `CREATE RETENTION POLICY` statement for `database`, or
    /// [`Error::InvalidArgument`] for a duration that is not an InfluxQL duration.
    pub fn statement(&self, database: &str) -> Result<String, Error> {
        let mut s = format!(
            "CREATE RETENTION POLICY {} ON {} DURATION {} REPLICATION {}",
            quote_ident(&self.name),
            quote_ident(database),
            checked_duration(&self.duration, "duration", true)?,
            self.replication,
        );
        if let Some(shard) = &self.shard_duration {
            s.push_str(" SHARD DURATION ");
            s.push_str(checked_duration(shard, "shard duration", false)?);
        }
        if self.default {
            s.push_str(" DEFAULT");
        }
        Ok(s)
    }
}

/// Changes to a retention policy, for
/// [`Client::alter_retention_policy`](crate::Client::alter_retention_policy): set any
/// subset; a change of nothing is refused before it reaches the server.
///
/// ```
/// use influx_series::admin::RetentionPolicyChange;
///
/// let change = RetentionPolicyChange::new().duration("2d").make_default();
/// assert_eq!(
///     change.statement("metrics", "one_day")?,
///     r#"ALTER RETENTION POLICY "one_day" ON "metrics" DURATION 2d DEFAULT"#,
/// );
/// assert!(RetentionPolicyChange::new().statement("metrics", "one_day").is_err());
/// # Ok::<(), influx_series::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct RetentionPolicyChange {
    duration: Option<String>,
    replication: Option<u32>,
    shard_duration: Option<String>,
    default: bool,
}

impl RetentionPolicyChange {
    /// No change yet.
    pub fn new() -> Self {
        RetentionPolicyChange::default()
    }

    /// A new duration (an InfluxQL duration, or `INF`).
    pub fn duration(mut self, duration: impl Into<String>) -> Self {
        self.duration = Some(duration.into());
        self
    }

    /// A new replication factor.
    pub fn replication(mut self, replication: u32) -> Self {
        self.replication = Some(replication);
        self
    }

    /// A new shard group duration (an InfluxQL duration).
    pub fn shard_duration(mut self, duration: impl Into<String>) -> Self {
        self.shard_duration = Some(duration.into());
        self
    }

    /// Makes the policy the database's default.
    ///
    /// There is no way back: InfluxQL has no clause that makes a policy stop being the
    /// default, so a database's default changes only when another policy is made the default
    /// (`make_default()` on that one). influxdb-python's `alter_retention_policy(...,
    /// default=False)` is a change of nothing to the default: it leaves the clause out, as a
    /// change without `make_default()` does here.
    pub fn make_default(mut self) -> Self {
        self.default = true;
        self
    }

    /// The `ALTER RETENTION POLICY` statement, or [`Error::InvalidArgument`] for a change of
    /// nothing or a malformed duration.
    pub fn statement(&self, database: &str, name: &str) -> Result<String, Error> {
        let mut s = format!(
            "ALTER RETENTION POLICY {} ON {}",
            quote_ident(name),
            quote_ident(database)
        );
        let bare = s.len();
        if let Some(duration) = &self.duration {
            s.push_str(" DURATION ");
            s.push_str(checked_duration(duration, "duration", true)?);
        }
        if let Some(replication) = self.replication {
            s.push_str(&format!(" REPLICATION {replication}"));
        }
        if let Some(shard) = &self.shard_duration {
            s.push_str(" SHARD DURATION ");
            s.push_str(checked_duration(shard, "shard duration", false)?);
        }
        if self.default {
            s.push_str(" DEFAULT");
        }
        if s.len() == bare {
            return Err(invalid(
                "alter_retention_policy changes nothing: set a duration, a replication, a shard \
                 duration or make_default",
            ));
        }
        Ok(s)
    }
}

/// A continuous query, as `SHOW CONTINUOUS QUERIES` reports it: the text is the server's own
/// rewriting of the one created (names qualified with database and retention policy).
/// Its members are the statement's columns, which InfluxDB 1.x does not change: it is not
/// `#[non_exhaustive]`, so tests can build one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContinuousQuery {
    /// The query's name.
    pub name: String,
    /// The whole `CREATE CONTINUOUS QUERY ... END` statement, as the server keeps it.
    pub query: String,
}

/// A continuous query to create, for
/// [`Client::create_continuous_query`](crate::Client::create_continuous_query).
///
/// ```
/// use influx_series::admin::NewContinuousQuery;
///
/// let cq = NewContinuousQuery::new(
///     "per_10m",
///     "SELECT count(value) INTO events_10m FROM events GROUP BY time(10m)",
/// )
/// .resample_every("5m")
/// .resample_for("1h");
/// assert_eq!(
///     cq.statement("metrics")?,
///     "CREATE CONTINUOUS QUERY \"per_10m\" ON \"metrics\" RESAMPLE EVERY 5m FOR 1h \
///      BEGIN SELECT count(value) INTO events_10m FROM events GROUP BY time(10m) END",
/// );
/// # Ok::<(), influx_series::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct NewContinuousQuery {
    name: String,
    select: String,
    every: Option<String>,
    for_: Option<String>,
}

impl NewContinuousQuery {
    /// A continuous query named `name` running `select`: one `SELECT ... INTO ... GROUP BY
    /// time(..)` statement.
    pub fn new(name: impl Into<String>, select: impl Into<String>) -> Self {
        NewContinuousQuery {
            name: name.into(),
            select: select.into(),
            every: None,
            for_: None,
        }
    }

    /// The query's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `RESAMPLE EVERY`: how often it runs (by default, every `GROUP BY time` interval).
    pub fn resample_every(mut self, duration: impl Into<String>) -> Self {
        self.every = Some(duration.into());
        self
    }

    /// `RESAMPLE FOR`: the span of time each run covers (by default, one interval).
    pub fn resample_for(mut self, duration: impl Into<String>) -> Self {
        self.for_ = Some(duration.into());
        self
    }

    /// The `CREATE CONTINUOUS QUERY` statement, or [`Error::InvalidArgument`] when the select
    /// is not exactly one `SELECT` statement or a duration is malformed.
    pub fn statement(&self, database: &str) -> Result<String, Error> {
        // Comments go first: one left in would swallow the closing `END`.
        let stripped = strip_comments(&self.select);
        let mut statements = split_statements(&stripped);
        let select = match (statements.next(), statements.next()) {
            (Some(one), None) => one.trim(),
            _ => "",
        };
        let first_word = select.split_whitespace().next().unwrap_or("");
        if !first_word.eq_ignore_ascii_case("SELECT") {
            return Err(invalid(
                "a continuous query runs exactly one SELECT statement",
            ));
        }
        let mut s = format!(
            "CREATE CONTINUOUS QUERY {} ON {}",
            quote_ident(&self.name),
            quote_ident(database)
        );
        if self.every.is_some() || self.for_.is_some() {
            s.push_str(" RESAMPLE");
            if let Some(every) = &self.every {
                s.push_str(" EVERY ");
                s.push_str(checked_duration(every, "resample every", false)?);
            }
            if let Some(for_) = &self.for_ {
                s.push_str(" FOR ");
                s.push_str(checked_duration(for_, "resample for", false)?);
            }
        }
        s.push_str(" BEGIN ");
        s.push_str(select);
        s.push_str(" END");
        Ok(s)
    }
}

/// Which series [`Client::list_series`](crate::Client::list_series) lists or
/// [`Client::delete_series`](crate::Client::delete_series) deletes: those of a measurement,
/// those with given tag values, or both.
///
/// ```
/// use influx_series::admin::SeriesFilter;
///
/// let filter = SeriesFilter::measurement("cpu").tag("host", "server01");
/// assert_eq!(filter.clauses(), r#" FROM "cpu" WHERE "host" = 'server01'"#);
/// assert!(SeriesFilter::all().is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct SeriesFilter {
    measurement: Option<String>,
    tags: Vec<(String, String)>,
}

impl SeriesFilter {
    /// Every series (listing only: [`Client::delete_series`](crate::Client::delete_series)
    /// refuses it).
    pub fn all() -> Self {
        SeriesFilter::default()
    }

    /// The series of one measurement.
    pub fn measurement(name: impl Into<String>) -> Self {
        SeriesFilter {
            measurement: Some(name.into()),
            tags: Vec::new(),
        }
    }

    /// Only series whose tag `key` has `value` (all of the tags given, if several).
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// Whether the filter selects every series.
    pub fn is_empty(&self) -> bool {
        self.measurement.is_none() && self.tags.is_empty()
    }

    /// The `FROM` and `WHERE` clauses, each name quoted and each value a string literal
    /// (empty for [`SeriesFilter::all`]).
    pub fn clauses(&self) -> String {
        let mut s = String::new();
        if let Some(m) = &self.measurement {
            s.push_str(" FROM ");
            s.push_str(&quote_ident(m));
        }
        for (i, (key, value)) in self.tags.iter().enumerate() {
            s.push_str(if i == 0 { " WHERE " } else { " AND " });
            s.push_str(&quote_ident(key));
            s.push_str(" = ");
            s.push_str(&quote_literal(value));
        }
        s
    }
}

/// The statements that take only names and passwords.
pub(crate) mod statements {
    use super::*;

    pub(crate) fn create_user(name: &str, password: &str, admin: bool) -> String {
        let mut s = format!(
            "CREATE USER {} WITH PASSWORD {}",
            quote_ident(name),
            quote_literal(password)
        );
        if admin {
            s.push_str(" WITH ALL PRIVILEGES");
        }
        s
    }

    pub(crate) fn drop_user(name: &str) -> String {
        format!("DROP USER {}", quote_ident(name))
    }

    pub(crate) fn set_password(name: &str, password: &str) -> String {
        format!(
            "SET PASSWORD FOR {} = {}",
            quote_ident(name),
            quote_literal(password)
        )
    }

    pub(crate) fn grant(privilege: Privilege, database: &str, user: &str) -> String {
        format!(
            "GRANT {privilege} ON {} TO {}",
            quote_ident(database),
            quote_ident(user)
        )
    }

    pub(crate) fn revoke(privilege: Privilege, database: &str, user: &str) -> String {
        format!(
            "REVOKE {privilege} ON {} FROM {}",
            quote_ident(database),
            quote_ident(user)
        )
    }

    pub(crate) fn grant_admin(user: &str) -> String {
        format!("GRANT ALL PRIVILEGES TO {}", quote_ident(user))
    }

    pub(crate) fn revoke_admin(user: &str) -> String {
        format!("REVOKE ALL PRIVILEGES FROM {}", quote_ident(user))
    }

    pub(crate) fn show_grants(user: &str) -> String {
        format!("SHOW GRANTS FOR {}", quote_ident(user))
    }

    pub(crate) fn drop_retention_policy(database: &str, name: &str) -> String {
        format!(
            "DROP RETENTION POLICY {} ON {}",
            quote_ident(name),
            quote_ident(database)
        )
    }

    pub(crate) fn show_retention_policies(database: &str) -> String {
        format!("SHOW RETENTION POLICIES ON {}", quote_ident(database))
    }

    pub(crate) fn drop_continuous_query(database: &str, name: &str) -> String {
        format!(
            "DROP CONTINUOUS QUERY {} ON {}",
            quote_ident(name),
            quote_ident(database)
        )
    }

    pub(crate) fn show_measurements(matching: Option<&str>) -> Result<String, Error> {
        Ok(match matching {
            None => "SHOW MEASUREMENTS".to_owned(),
            Some(regex) => format!(
                "SHOW MEASUREMENTS WITH MEASUREMENT =~ {}",
                regex_literal(regex)?
            ),
        })
    }

    pub(crate) fn drop_measurement(name: &str) -> String {
        format!("DROP MEASUREMENT {}", quote_ident(name))
    }

    pub(crate) fn show_series(filter: &SeriesFilter) -> String {
        format!("SHOW SERIES{}", filter.clauses())
    }

    pub(crate) fn drop_series(filter: &SeriesFilter) -> Result<String, Error> {
        if filter.is_empty() {
            return Err(invalid(
                "delete_series needs a measurement or a tag: a filter of neither would delete \
                 every series of the database (use drop_database, or DROP SERIES by query)",
            ));
        }
        Ok(format!("DROP SERIES{}", filter.clauses()))
    }
}

/// `text` as an InfluxQL regex literal: `/` escaped as `\/`, the only escape the server's
/// scanner reads in a regex (every other `\` reaches the regex engine as it is). A newline
/// cannot be written in a regex literal at all.
pub(crate) fn regex_literal(text: &str) -> Result<String, Error> {
    if text.contains('\n') {
        return Err(invalid(
            "a regex literal of InfluxQL cannot hold a newline (match it with \\n)",
        ));
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('/');
    for c in text.chars() {
        if c == '/' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('/');
    Ok(out)
}

/// `text` if it is an InfluxQL duration literal: one or more of a whole number followed by
/// a unit (`ns`, `u`, `µ`, `ms`, `s`, `m`, `h`, `d`, `w`), as in `1h30m`; or `INF` (any case)
/// where `infinite` allows it.
pub(crate) fn checked_duration<'a>(
    text: &'a str,
    what: &str,
    infinite: bool,
) -> Result<&'a str, Error> {
    if infinite && text.eq_ignore_ascii_case("INF") {
        return Ok(text);
    }
    let mut rest = text;
    let well_formed = loop {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            break false;
        }
        rest = &rest[digits..];
        let unit = ["ns", "ms", "u", "µ", "s", "m", "h", "d", "w"]
            .into_iter()
            .find(|unit| rest.starts_with(unit));
        match unit {
            Some(unit) => rest = &rest[unit.len()..],
            None => break false,
        }
        if rest.is_empty() {
            break true;
        }
    };
    if well_formed {
        Ok(text)
    } else {
        Err(invalid(format!(
            "the {what} is not an InfluxQL duration (such as 90m, 1h30m, 7d, 4w{})",
            if infinite { ", or INF" } else { "" }
        )))
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidArgument(Cause::new(message))
}

/// The rows of the first statement's answer (there is one statement).
fn rows(results: &[ResultSet]) -> impl Iterator<Item = Row<'_>> {
    results.first().into_iter().flat_map(ResultSet::rows)
}

fn text(row: &Row<'_>, column: &str, of: &str) -> Result<String, Error> {
    row.get_str(column)
        .map(str::to_owned)
        .ok_or_else(|| missing(column, of))
}

fn flag(row: &Row<'_>, column: &str, of: &str) -> Result<bool, Error> {
    row.get(column)
        .and_then(|v| v.as_bool())
        .ok_or_else(|| missing(column, of))
}

fn missing(column: &str, of: &str) -> Error {
    Error::Protocol(Cause::new(format!(
        "the answer to {of} has no usable `{column}` column"
    )))
}

pub(crate) fn decode_users(results: &[ResultSet]) -> Result<Vec<User>, Error> {
    rows(results)
        .map(|row| {
            Ok(User {
                name: text(&row, "user", "SHOW USERS")?,
                admin: flag(&row, "admin", "SHOW USERS")?,
            })
        })
        .collect()
}

pub(crate) fn decode_grants(results: &[ResultSet]) -> Result<Vec<Grant>, Error> {
    const OF: &str = "SHOW GRANTS";
    rows(results)
        .map(|row| {
            let privilege = match text(&row, "privilege", OF)?.as_str() {
                "READ" => Some(Privilege::Read),
                "WRITE" => Some(Privilege::Write),
                "ALL PRIVILEGES" => Some(Privilege::All),
                "NO PRIVILEGES" => None,
                other => {
                    return Err(Error::Protocol(Cause::new(format!(
                        "SHOW GRANTS answered an unknown privilege {other:?}"
                    ))));
                }
            };
            Ok(Grant {
                database: text(&row, "database", OF)?,
                privilege,
            })
        })
        .collect()
}

pub(crate) fn decode_retention_policies(
    results: &[ResultSet],
) -> Result<Vec<RetentionPolicy>, Error> {
    const OF: &str = "SHOW RETENTION POLICIES";
    rows(results)
        .map(|row| {
            let replication = row
                .get("replicaN")
                .and_then(|v| v.as_i64())
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| missing("replicaN", OF))?;
            Ok(RetentionPolicy {
                name: text(&row, "name", OF)?,
                duration: text(&row, "duration", OF)?,
                shard_group_duration: text(&row, "shardGroupDuration", OF)?,
                replication,
                default: flag(&row, "default", OF)?,
            })
        })
        .collect()
}

/// The continuous queries of `database`: the server lists every database's, one series per
/// database, named after it.
pub(crate) fn decode_continuous_queries(
    results: &[ResultSet],
    database: &str,
) -> Result<Vec<ContinuousQuery>, Error> {
    const OF: &str = "SHOW CONTINUOUS QUERIES";
    let Some(result) = results.first() else {
        return Ok(Vec::new());
    };
    result
        .series()
        .iter()
        .filter(|series| series.name() == Some(database))
        .flat_map(|series| series.rows())
        .map(|row| {
            Ok(ContinuousQuery {
                name: text(&row, "name", OF)?,
                query: text(&row, "query", OF)?,
            })
        })
        .collect()
}

/// The single text column of each row (`name` of `SHOW MEASUREMENTS`, `key` of
/// `SHOW SERIES`).
pub(crate) fn decode_column(
    results: &[ResultSet],
    column: &str,
    of: &str,
) -> Result<Vec<String>, Error> {
    rows(results).map(|row| text(&row, column, of)).collect()
}

/// Every administration call, listed once with its documentation. The blocking client
/// expands the list into methods that complete the core's future, the async client into
/// methods that await it: `$wrap!` receives each call as
/// `fn name(args) -> T => core_method(values);`.
macro_rules! admin_calls {
    ($wrap:ident) => {
        $wrap! {
            /// Creates a user without administration privileges (Python's
            /// `create_user(username, password)`).
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// client.create_user("grafana", "s3cret")?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn create_user(name: &str, password: &str) -> () => create_user(name, password, false);

            /// Creates a user with cluster administration privileges (Python's
            /// `create_user(username, password, admin=True)`).
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// client.create_admin_user("root", "s3cret")?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn create_admin_user(name: &str, password: &str) -> () => create_user(name, password, true);

            /// Drops a user; a missing one is [`Error::Statement`] with the server's
            /// `user not found`.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// client.drop_user("grafana")?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn drop_user(name: &str) -> () => drop_user(name);

            /// Sets a user's password.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// client.set_user_password("grafana", "n3w s3cret")?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn set_user_password(name: &str, password: &str) -> () => set_user_password(name, password);

            /// Every user, with whether it is an administrator (Python's `get_list_users`).
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// for user in client.list_users()? {
            ///     println!("{} (admin: {})", user.name, user.admin);
            /// }
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn list_users() -> Vec<User> => list_users();

            /// Grants `privilege` on `database` to `user`.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// use influx_series::admin::Privilege;
            /// client.grant_privilege(Privilege::Read, "metrics", "grafana")?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn grant_privilege(privilege: Privilege, database: &str, user: &str) -> ()
                => grant_privilege(privilege, database, user);

            /// Revokes `privilege` on `database` from `user`.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// use influx_series::admin::Privilege;
            /// client.revoke_privilege(Privilege::Write, "metrics", "grafana")?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn revoke_privilege(privilege: Privilege, database: &str, user: &str) -> ()
                => revoke_privilege(privilege, database, user);

            /// Makes `user` a cluster administrator.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// client.grant_admin_privileges("ops")?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn grant_admin_privileges(user: &str) -> () => grant_admin_privileges(user);

            /// Takes cluster administration from `user`.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// client.revoke_admin_privileges("ops")?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn revoke_admin_privileges(user: &str) -> () => revoke_admin_privileges(user);

            /// What `user` may do on each database (Python's `get_list_privileges`).
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// for grant in client.list_privileges("grafana")? {
            ///     println!("{}: {:?}", grant.database, grant.privilege);
            /// }
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn list_privileges(user: &str) -> Vec<Grant> => list_privileges(user);

            /// Creates a retention policy on `database`.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// use influx_series::admin::NewRetentionPolicy;
            /// let policy = NewRetentionPolicy::new("one_week", "1w").shard_duration("1h");
            /// client.create_retention_policy("metrics", &policy.make_default())?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn create_retention_policy(database: &str, policy: &NewRetentionPolicy) -> ()
                => create_retention_policy(database, policy);

            /// Changes a retention policy of `database`: any subset of duration, replication,
            /// shard duration and default. A change of nothing is [`Error::InvalidArgument`],
            /// and is not sent.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// use influx_series::admin::RetentionPolicyChange;
            /// client.alter_retention_policy("metrics", "one_week", &RetentionPolicyChange::new().duration("2w"))?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn alter_retention_policy(database: &str, name: &str, change: &RetentionPolicyChange) -> ()
                => alter_retention_policy(database, name, change);

            /// Drops a retention policy of `database` (and its data).
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// client.drop_retention_policy("metrics", "one_week")?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn drop_retention_policy(database: &str, name: &str) -> ()
                => drop_retention_policy(database, name);

            /// The retention policies of `database`, durations as the server reports them
            /// (Python's `get_list_retention_policies`).
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// let default = client
            ///     .list_retention_policies("metrics")?
            ///     .into_iter()
            ///     .find(|policy| policy.default);
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn list_retention_policies(database: &str) -> Vec<RetentionPolicy>
                => list_retention_policies(database);

            /// Creates a continuous query on `database`.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// use influx_series::admin::NewContinuousQuery;
            /// let cq = NewContinuousQuery::new(
            ///     "events_10m",
            ///     "SELECT count(value) INTO events_10m FROM events GROUP BY time(10m)",
            /// );
            /// client.create_continuous_query("metrics", &cq.resample_for("1h"))?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn create_continuous_query(database: &str, query: &NewContinuousQuery) -> ()
                => create_continuous_query(database, query);

            /// Drops a continuous query of `database`.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// client.drop_continuous_query("metrics", "events_10m")?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn drop_continuous_query(database: &str, name: &str) -> ()
                => drop_continuous_query(database, name);

            /// The continuous queries of `database`, each with the server's own text of it
            /// (Python's `get_list_continuous_queries`, for one database).
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// for cq in client.list_continuous_queries("metrics")? {
            ///     println!("{}: {}", cq.name, cq.query);
            /// }
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn list_continuous_queries(database: &str) -> Vec<ContinuousQuery>
                => list_continuous_queries(database);

            /// The measurements of `database`, or those whose name matches the regex
            /// `matching` (Python's `get_list_measurements`). The regex is escaped into an
            /// InfluxQL regex literal; it cannot hold a newline.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// let all = client.list_measurements("metrics", None)?;
            /// let cpus = client.list_measurements("metrics", Some("^cpu"))?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn list_measurements(database: &str, matching: Option<&str>) -> Vec<String>
                => list_measurements(database, matching);

            /// Drops a measurement of `database`, with all its series and data.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// client.drop_measurement("metrics", "cpu")?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn drop_measurement(database: &str, name: &str) -> () => drop_measurement(database, name);

            /// The series keys of `database` that `filter` selects, as the server writes them
            /// (`cpu,host=server01,region=us-west`; Python's `get_list_series`).
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// use influx_series::admin::SeriesFilter;
            /// let keys = client.list_series("metrics", &SeriesFilter::measurement("cpu").tag("host", "a"))?;
            /// let every_key = client.list_series("metrics", &SeriesFilter::all())?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn list_series(database: &str, filter: &SeriesFilter) -> Vec<String>
                => list_series(database, filter);

            /// Deletes the series of `database` that `filter` selects, with their data
            /// (`DROP SERIES`). A filter of neither measurement nor tags is
            /// [`Error::InvalidArgument`], and is not sent.
            ///
            /// ```no_run
            /// # let client = influx_series::Client::new("http://127.0.0.1:8086")?;
            /// use influx_series::admin::SeriesFilter;
            /// client.delete_series("metrics", &SeriesFilter::measurement("cpu").tag("host", "gone"))?;
            /// # Ok::<(), influx_series::Error>(())
            /// ```
            fn delete_series(database: &str, filter: &SeriesFilter) -> ()
                => delete_series(database, filter);
        }
    };
}
pub(crate) use admin_calls;

#[cfg(test)]
mod tests;
