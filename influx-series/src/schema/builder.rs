//! [`Schema`]: what a service declares its server holds.

use influx_core::admin::{NewContinuousQuery, NewRetentionPolicy};

use super::declared::SeriesSchema;
use super::report::Change;
use crate::Series;

/// What a service's server must hold: databases, retention policies, continuous queries, and
/// the `#[derive(Series)]` types written into them. [`Schema::ensure`] creates what is
/// missing, [`Schema::verify`] compares everything with the server, and
/// [`Schema::provision`] does both at start-up, before the first write.
///
/// ```
/// use influx_series::Series;
/// use influx_series::admin::{NewContinuousQuery, NewRetentionPolicy};
/// use influx_series::schema::{Change, Schema};
///
/// #[derive(Series)]
/// #[series(database = "metrics")]
/// struct Cpu {
///     #[series(tag)]
///     host: String,
///     usage: f64,
/// }
///
/// let schema = Schema::new()
///     .database("metrics")
///     .retention_policy("metrics", NewRetentionPolicy::new("one_year", "52w"))
///     .continuous_query(
///         "metrics",
///         NewContinuousQuery::new(
///             "cpu_1h",
///             "SELECT mean(usage) AS usage INTO one_year.cpu_1h FROM cpu GROUP BY time(1h), *",
///         ),
///     )
///     .series::<Cpu>()
///     // A longer duration may be applied to "one_year" if the server's is shorter.
///     .allow("metrics", "one_year", Change::Lengthen);
/// assert_eq!(schema.databases(), ["metrics"]);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Schema {
    pub(crate) databases: Vec<String>,
    pub(crate) policies: Vec<(String, NewRetentionPolicy)>,
    pub(crate) queries: Vec<(String, NewContinuousQuery)>,
    pub(crate) series: Vec<&'static SeriesSchema>,
    pub(crate) allowed: Vec<(String, String, Change)>,
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Self {
        Schema::default()
    }

    /// A database.
    pub fn database(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        if !self.databases.contains(&name) {
            self.databases.push(name);
        }
        self
    }

    /// A retention policy on `database` (which need not be declared on its own); it replaces
    /// an earlier declaration of the same name on the same database.
    pub fn retention_policy(
        mut self,
        database: impl Into<String>,
        policy: NewRetentionPolicy,
    ) -> Self {
        let database = database.into();
        self.policies
            .retain(|(d, p)| !(*d == database && p.name() == policy.name()));
        self.policies.push((database, policy));
        self
    }

    /// A continuous query on `database`; it replaces an earlier declaration of the same name
    /// on the same database.
    pub fn continuous_query(
        mut self,
        database: impl Into<String>,
        query: NewContinuousQuery,
    ) -> Self {
        let database = database.into();
        self.queries
            .retain(|(d, q)| !(*d == database && q.name() == query.name()));
        self.queries.push((database, query));
        self
    }

    /// A `#[derive(Series)]` type: its database must exist (the type's, or the client's),
    /// its retention policy too if it names one, and its fields and tags must agree with
    /// what the server has stored.
    pub fn series<T: Series>(mut self) -> Self {
        let schema = T::schema();
        if !self.series.iter().any(|s| std::ptr::eq(*s, schema)) {
            self.series.push(schema);
        }
        self
    }

    /// Allows [`Schema::ensure`] to make `change` to the retention policy `policy` on
    /// `database` when the server's differs from its declaration. Without it, the difference
    /// is reported and the policy left as it is: a shorter duration deletes data, and another
    /// default redirects every other writer of the database.
    pub fn allow(
        mut self,
        database: impl Into<String>,
        policy: impl Into<String>,
        change: Change,
    ) -> Self {
        self.allowed.push((database.into(), policy.into(), change));
        self
    }

    /// The databases declared on their own.
    pub fn databases(&self) -> &[String] {
        &self.databases
    }

    /// The types declared.
    pub fn series_schemas(&self) -> &[&'static SeriesSchema] {
        &self.series
    }

    /// Whether `change` to `policy` on `database` is allowed.
    pub(crate) fn allows(&self, database: &str, policy: &str, change: Change) -> bool {
        self.allowed
            .iter()
            .any(|(d, p, c)| d == database && p == policy && *c == change)
    }

    /// Every database the schema concerns, in order of first mention: declared, those of its
    /// policies and queries, and those its types write to (the type's, or `default`).
    pub(crate) fn all_databases(&self, default: Option<&str>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let named = self
            .databases
            .iter()
            .map(String::as_str)
            .chain(self.policies.iter().map(|(d, _)| d.as_str()))
            .chain(self.queries.iter().map(|(d, _)| d.as_str()))
            .chain(self.series.iter().filter_map(|s| s.database().or(default)));
        for name in named {
            if !out.iter().any(|d| d == name) {
                out.push(name.to_owned());
            }
        }
        out
    }
}
