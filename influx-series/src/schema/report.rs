//! What checking and provisioning found and did: [`Report`], [`Ensured`], [`SchemaError`].

use std::fmt;

use influx_core::{Error, FieldType};

use super::duration::duration_nanos;

/// How a retention policy on the server differs from its declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyDifference {
    /// Another duration: data is kept for another time. (Not named `Duration`, which would
    /// make rustc spell `std::time::Duration` out in full in its messages.)
    Retention {
        /// As declared.
        declared: String,
        /// As the server reports it (`168h0m0s`; `0s` for ever).
        on_server: String,
    },
    /// Another shard duration (compared only when one is declared).
    ShardDuration {
        /// As declared.
        declared: String,
        /// As the server reports it.
        on_server: String,
    },
    /// Another replication factor.
    Replication {
        /// As declared.
        declared: u32,
        /// On the server.
        on_server: u64,
    },
    /// Declared the default, and not the database's default on the server.
    Default,
}

impl PolicyDifference {
    /// The change that would make the server's policy the declared one.
    pub fn change(&self) -> Change {
        match self {
            PolicyDifference::Retention {
                declared,
                on_server,
            } => {
                // 0 is for ever: the longest. A duration that cannot be read might be a
                // shortening: it is taken as one.
                let length =
                    |text: &str| duration_nanos(text).map(|n| if n == 0 { u128::MAX } else { n });
                match (length(declared), length(on_server)) {
                    (Some(declared), Some(on_server)) if declared >= on_server => Change::Lengthen,
                    _ => Change::Shorten,
                }
            }
            PolicyDifference::ShardDuration { .. } => Change::ShardDuration,
            PolicyDifference::Replication { .. } => Change::Replication,
            PolicyDifference::Default => Change::MakeDefault,
        }
    }
}

impl fmt::Display for PolicyDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyDifference::Retention {
                declared,
                on_server,
            } => write!(f, "duration {on_server} on the server, {declared} declared"),
            PolicyDifference::ShardDuration {
                declared,
                on_server,
            } => write!(
                f,
                "shard duration {on_server} on the server, {declared} declared"
            ),
            PolicyDifference::Replication {
                declared,
                on_server,
            } => write!(
                f,
                "replication {on_server} on the server, {declared} declared"
            ),
            PolicyDifference::Default => {
                f.write_str("declared the default, not the default on the server")
            }
        }
    }
}

/// A change to an existing retention policy that [`Schema::ensure`](super::Schema::ensure)
/// makes only when it is named with [`Schema::allow`](super::Schema::allow): without it,
/// a policy that differs from its declaration is reported and left as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Change {
    /// A longer duration.
    Lengthen,
    /// A shorter duration: data older than the new duration is deleted.
    Shorten,
    /// Another shard duration (for shards created from then on).
    ShardDuration,
    /// Another replication factor.
    Replication,
    /// Make the policy the database's default: every writer of the database that names no
    /// policy writes into it from then on.
    MakeDefault,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Change::Lengthen => "Change::Lengthen",
            Change::Shorten => "Change::Shorten",
            Change::ShardDuration => "Change::ShardDuration",
            Change::Replication => "Change::Replication",
            Change::MakeDefault => "Change::MakeDefault",
        })
    }
}

/// How much a [`Finding`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// Writes as declared fail (a field stored with another type; a database or retention
    /// policy a type writes to that does not exist), or what they write reads ambiguously (a
    /// key the type writes as a tag that the server has as a field, or the reverse).
    Conflict,
    /// The server differs from the declaration in a way writes do not notice (a retention
    /// policy or continuous query that differs, or is missing).
    Difference,
    /// Something could not be checked: the user lacks the privilege to read it.
    Unchecked,
    /// Information: what the server has that the declaration does not mention.
    Note,
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// A field stored with a type other than the declared one: every write of the type into
    /// an existing shard of the measurement fails.
    FieldType {
        /// The Rust type that declares the field.
        series: &'static str,
        /// The database.
        database: String,
        /// The measurement.
        measurement: String,
        /// The field key.
        field: String,
        /// The type declared.
        declared: FieldType,
        /// The type the server has (`SHOW FIELD KEYS`).
        stored: String,
    },
    /// A key declared as a tag that the server has as a field.
    TagStoredAsField {
        /// The Rust type.
        series: &'static str,
        /// The database.
        database: String,
        /// The measurement.
        measurement: String,
        /// The key.
        key: String,
    },
    /// A key declared as a field that the server has as a tag.
    FieldStoredAsTag {
        /// The Rust type.
        series: &'static str,
        /// The database.
        database: String,
        /// The measurement.
        measurement: String,
        /// The key.
        key: String,
    },
    /// A database that does not exist. A conflict when a type writes to it.
    MissingDatabase {
        /// The database.
        database: String,
        /// The type that writes to it, if one does.
        series: Option<&'static str>,
    },
    /// A type that names no database, checked through a client without one.
    NoDatabase {
        /// The Rust type.
        series: &'static str,
    },
    /// A retention policy that does not exist. A conflict when a type writes to it.
    MissingRetentionPolicy {
        /// The database.
        database: String,
        /// The policy.
        policy: String,
        /// The type that writes to it, if one does.
        series: Option<&'static str>,
    },
    /// A retention policy that differs from its declaration.
    PolicyDiffers {
        /// The database.
        database: String,
        /// The policy.
        policy: String,
        /// How.
        differences: Vec<PolicyDifference>,
    },
    /// A continuous query that does not exist.
    MissingContinuousQuery {
        /// The database.
        database: String,
        /// The query's name.
        name: String,
    },
    /// A continuous query whose text on the server is not the declared statement.
    QueryDiffers {
        /// The database.
        database: String,
        /// The query's name.
        name: String,
        /// The statement declared.
        declared: String,
        /// The statement as the server keeps it.
        on_server: String,
    },
    /// A field the server has that the type does not declare.
    UndeclaredField {
        /// The Rust type.
        series: &'static str,
        /// The database.
        database: String,
        /// The measurement.
        measurement: String,
        /// The field key.
        field: String,
        /// Its type on the server.
        stored: String,
    },
    /// A tag the server has that the type does not declare.
    UndeclaredTag {
        /// The Rust type.
        series: &'static str,
        /// The database.
        database: String,
        /// The measurement.
        measurement: String,
        /// The tag key.
        key: String,
    },
    /// What could not be checked, and why: the statement the server refused and the
    /// privilege it asked for.
    Unchecked {
        /// What was to be checked.
        what: String,
        /// The statement refused.
        statement: String,
        /// The privilege the server said it needs (`admin privilege`, `READ on metrics`).
        privilege: String,
    },
}

impl Finding {
    /// How much it matters.
    pub fn severity(&self) -> Severity {
        match self {
            Finding::FieldType { .. }
            | Finding::TagStoredAsField { .. }
            | Finding::FieldStoredAsTag { .. }
            | Finding::MissingDatabase {
                series: Some(_), ..
            }
            | Finding::NoDatabase { .. }
            | Finding::MissingRetentionPolicy {
                series: Some(_), ..
            } => Severity::Conflict,
            Finding::MissingDatabase { series: None, .. }
            | Finding::MissingRetentionPolicy { series: None, .. }
            | Finding::PolicyDiffers { .. }
            | Finding::MissingContinuousQuery { .. }
            | Finding::QueryDiffers { .. } => Severity::Difference,
            Finding::Unchecked { .. } => Severity::Unchecked,
            Finding::UndeclaredField { .. } | Finding::UndeclaredTag { .. } => Severity::Note,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::FieldType {
                series,
                database,
                measurement,
                field,
                declared,
                stored,
            } => write!(
                f,
                "{measurement:?} in {database:?}: field {field:?} is stored as {stored}, \
                 {series} declares it {declared}: every write of {series} into an existing \
                 shard of {measurement:?} will fail"
            ),
            Finding::TagStoredAsField {
                series,
                database,
                measurement,
                key,
            } => write!(
                f,
                "{measurement:?} in {database:?}: {key:?} is a field on the server, {series} \
                 declares it a tag"
            ),
            Finding::FieldStoredAsTag {
                series,
                database,
                measurement,
                key,
            } => write!(
                f,
                "{measurement:?} in {database:?}: {key:?} is a tag on the server, {series} \
                 declares it a field"
            ),
            Finding::MissingDatabase { database, series } => {
                write!(f, "database {database:?} does not exist")?;
                match series {
                    Some(series) => write!(f, ": every write of {series} will fail"),
                    None => Ok(()),
                }
            }
            Finding::NoDatabase { series } => {
                write!(f, "{series} names no database, and the client has none")
            }
            Finding::MissingRetentionPolicy {
                database,
                policy,
                series,
            } => {
                write!(
                    f,
                    "retention policy {policy:?} on {database:?} does not exist"
                )?;
                match series {
                    Some(series) => write!(f, ": every write of {series} will fail"),
                    None => Ok(()),
                }
            }
            Finding::PolicyDiffers {
                database,
                policy,
                differences,
            } => {
                write!(f, "retention policy {policy:?} on {database:?} differs:")?;
                for (i, d) in differences.iter().enumerate() {
                    let sep = if i == 0 { " " } else { "; " };
                    write!(f, "{sep}{d} (changed only if allowed: {})", d.change())?;
                }
                Ok(())
            }
            Finding::MissingContinuousQuery { database, name } => {
                write!(
                    f,
                    "continuous query {name:?} on {database:?} does not exist"
                )
            }
            Finding::QueryDiffers {
                database,
                name,
                declared,
                on_server,
            } => write!(
                f,
                "continuous query {name:?} on {database:?} differs: the server has \
                 `{on_server}`, the declaration is `{declared}` (not changed: drop it to have \
                 it created again)"
            ),
            Finding::UndeclaredField {
                series,
                database,
                measurement,
                field,
                stored,
            } => write!(
                f,
                "{measurement:?} in {database:?}: the server has field {field:?} ({stored}), \
                 which {series} does not declare"
            ),
            Finding::UndeclaredTag {
                series,
                database,
                measurement,
                key,
            } => write!(
                f,
                "{measurement:?} in {database:?}: the server has tag {key:?}, which {series} \
                 does not declare"
            ),
            Finding::Unchecked {
                what,
                statement,
                privilege,
            } => write!(
                f,
                "{what} not checked: `{statement}` needs {privilege}, which this user lacks"
            ),
        }
    }
}

/// What [`Schema::verify`](super::Schema::verify) found: every difference between the
/// declaration and the server, with a [`Display`](fmt::Display) of one line each.
///
/// ```
/// use influx_series::schema::Report;
///
/// let report = Report::default();
/// assert!(report.is_clean());
/// assert_eq!(report.to_string(), "the server is as declared");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    findings: Vec<Finding>,
}

impl Report {
    pub(crate) fn new(findings: Vec<Finding>) -> Report {
        let mut findings = findings;
        findings.sort_by_key(Finding::severity);
        Report { findings }
    }

    /// Everything found, conflicts first, then differences, what could not be checked, and
    /// notes.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// What makes writes as declared fail.
    pub fn conflicts(&self) -> impl Iterator<Item = &Finding> + '_ {
        self.findings
            .iter()
            .filter(|f| f.severity() == Severity::Conflict)
    }

    /// Whether there is a conflict.
    pub fn has_conflicts(&self) -> bool {
        self.conflicts().next().is_some()
    }

    /// Whether nothing at all was found (not even a note).
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.findings.is_empty() {
            return f.write_str("the server is as declared");
        }
        for (i, finding) in self.findings.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            let label = match finding.severity() {
                Severity::Conflict => "conflict",
                Severity::Difference => "difference",
                Severity::Unchecked => "unchecked",
                Severity::Note => "note",
            };
            write!(f, "{label}: {finding}")?;
        }
        Ok(())
    }
}

/// What [`Schema::ensure`](super::Schema::ensure) did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Created a database.
    CreatedDatabase {
        /// The database.
        database: String,
    },
    /// Created a retention policy.
    CreatedRetentionPolicy {
        /// The database.
        database: String,
        /// The policy.
        policy: String,
    },
    /// Changed a retention policy, as allowed.
    AlteredRetentionPolicy {
        /// The database.
        database: String,
        /// The policy.
        policy: String,
        /// What was changed.
        changes: Vec<PolicyDifference>,
    },
    /// Created a continuous query.
    CreatedContinuousQuery {
        /// The database.
        database: String,
        /// The query's name.
        name: String,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::CreatedDatabase { database } => write!(f, "created database {database:?}"),
            Action::CreatedRetentionPolicy { database, policy } => {
                write!(f, "created retention policy {policy:?} on {database:?}")
            }
            Action::AlteredRetentionPolicy {
                database,
                policy,
                changes,
            } => {
                write!(f, "altered retention policy {policy:?} on {database:?}:")?;
                for (i, change) in changes.iter().enumerate() {
                    let sep = if i == 0 { " " } else { "; " };
                    write!(f, "{sep}{change}")?;
                }
                Ok(())
            }
            Action::CreatedContinuousQuery { database, name } => {
                write!(f, "created continuous query {name:?} on {database:?}")
            }
        }
    }
}

/// What [`Schema::ensure`](super::Schema::ensure) did, and what it left as it is.
///
/// ```
/// use influx_series::schema::Ensured;
///
/// let ensured = Ensured::default();
/// assert!(ensured.changed_nothing());
/// assert_eq!(ensured.to_string(), "nothing to create or change");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ensured {
    pub(crate) actions: Vec<Action>,
    pub(crate) left: Vec<Finding>,
}

impl Ensured {
    /// What was created or changed, in order.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// What differs from the declaration and was left as it is (a change not allowed, a
    /// continuous query that differs).
    pub fn left_as_is(&self) -> &[Finding] {
        &self.left
    }

    /// Whether nothing was created or changed.
    pub fn changed_nothing(&self) -> bool {
        self.actions.is_empty()
    }
}

impl fmt::Display for Ensured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.actions.is_empty() && self.left.is_empty() {
            return f.write_str("nothing to create or change");
        }
        let lines = self
            .actions
            .iter()
            .map(|a| a.to_string())
            .chain(self.left.iter().map(|l| format!("left as it is: {l}")));
        for (i, line) in lines.enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&line)?;
        }
        Ok(())
    }
}

/// Why a schema could not be ensured or verified.
#[derive(Debug)]
#[non_exhaustive]
pub enum SchemaError {
    /// The server refused a statement to this user.
    NotPermitted {
        /// The statement, as the server quotes it.
        statement: String,
        /// The privilege it needs (`admin privilege`, `READ on metrics`).
        privilege: String,
        /// The server's error.
        source: Error,
    },
    /// A statement failed otherwise (the server, the network, or a declaration that makes
    /// no sound statement).
    Failed {
        /// The statement.
        statement: String,
        /// Why.
        source: Error,
    },
    /// [`Schema::provision`](super::Schema::provision): verifying after ensuring found
    /// conflicts (the report has them all).
    Conflicts {
        /// What ensuring did.
        ensured: Ensured,
        /// What verifying found.
        report: Report,
    },
}

impl SchemaError {
    /// The error of `statement`, `NotPermitted` when the server says which privilege it
    /// lacks.
    pub(crate) fn of(statement: impl Into<String>, source: Error) -> SchemaError {
        match not_authorized(&source) {
            Some((statement, privilege)) => SchemaError::NotPermitted {
                statement,
                privilege,
                source,
            },
            None => SchemaError::Failed {
                statement: statement.into(),
                source,
            },
        }
    }
}

/// The statement and privilege of influxd's refusal (`error authorizing query: bob not
/// authorized to execute statement 'CREATE DATABASE metrics', requires admin privilege`).
pub(crate) fn not_authorized(e: &Error) -> Option<(String, String)> {
    let message = match e {
        Error::Client { message, .. } | Error::Statement { message, .. } => message,
        _ => return None,
    };
    let (_, rest) = message.split_once("not authorized to execute statement '")?;
    let (statement, rest) = rest.rsplit_once("', requires ")?;
    Some((statement.to_owned(), rest.trim().to_owned()))
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::NotPermitted {
                statement,
                privilege,
                ..
            } => write!(f, "`{statement}` needs {privilege}, which this user lacks"),
            SchemaError::Failed { statement, source } => {
                write!(f, "`{statement}` failed: {source}")
            }
            SchemaError::Conflicts { report, .. } => {
                let n = report.conflicts().count();
                let s = if n == 1 { "" } else { "s" };
                write!(f, "the server conflicts with the schema ({n} conflict{s}):")?;
                for conflict in report.conflicts() {
                    write!(f, "\n{conflict}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SchemaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SchemaError::NotPermitted { source, .. } | SchemaError::Failed { source, .. } => {
                Some(source)
            }
            SchemaError::Conflicts { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests;
