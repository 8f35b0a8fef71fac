//! The administration calls (users, privileges, retention policies, continuous queries,
//! measurements, series), written once over a [`Transport`] for both clients: statements built
//! and results decoded by [`crate::request::admin`].

use crate::core::exchange::Core;
use crate::core::transport::Transport;
use crate::error::Error;
use crate::request::admin::{
    ContinuousQuery, Grant, NewContinuousQuery, NewRetentionPolicy, Privilege, RetentionPolicy,
    RetentionPolicyChange, SeriesFilter, User, decode_column, decode_continuous_queries,
    decode_grants, decode_retention_policies, decode_users, statements,
};
use crate::request::influxql::quote_ident;

/// The calls, written once for both clients.
impl<T: Transport> Core<T> {
    pub(crate) async fn create_database(&self, name: &str) -> Result<(), Error> {
        self.execute(&format!("CREATE DATABASE {}", quote_ident(name)), None)
            .await
    }

    pub(crate) async fn drop_database(&self, name: &str) -> Result<(), Error> {
        self.execute(&format!("DROP DATABASE {}", quote_ident(name)), None)
            .await
    }

    pub(crate) async fn list_databases(&self) -> Result<Vec<String>, Error> {
        let results = self.query_on("SHOW DATABASES", None).await?;
        decode_column(&results, "name", "SHOW DATABASES")
    }

    pub(crate) async fn create_user(
        &self,
        name: &str,
        password: &str,
        admin: bool,
    ) -> Result<(), Error> {
        self.execute(&statements::create_user(name, password, admin), None)
            .await
    }

    pub(crate) async fn drop_user(&self, name: &str) -> Result<(), Error> {
        self.execute(&statements::drop_user(name), None).await
    }

    pub(crate) async fn set_user_password(&self, name: &str, password: &str) -> Result<(), Error> {
        self.execute(&statements::set_password(name, password), None)
            .await
    }

    pub(crate) async fn list_users(&self) -> Result<Vec<User>, Error> {
        decode_users(&self.query_on("SHOW USERS", None).await?)
    }

    pub(crate) async fn grant_privilege(
        &self,
        privilege: Privilege,
        database: &str,
        user: &str,
    ) -> Result<(), Error> {
        self.execute(&statements::grant(privilege, database, user), None)
            .await
    }

    pub(crate) async fn revoke_privilege(
        &self,
        privilege: Privilege,
        database: &str,
        user: &str,
    ) -> Result<(), Error> {
        self.execute(&statements::revoke(privilege, database, user), None)
            .await
    }

    pub(crate) async fn grant_admin_privileges(&self, user: &str) -> Result<(), Error> {
        self.execute(&statements::grant_admin(user), None).await
    }

    pub(crate) async fn revoke_admin_privileges(&self, user: &str) -> Result<(), Error> {
        self.execute(&statements::revoke_admin(user), None).await
    }

    pub(crate) async fn list_privileges(&self, user: &str) -> Result<Vec<Grant>, Error> {
        decode_grants(&self.query_on(&statements::show_grants(user), None).await?)
    }

    pub(crate) async fn create_retention_policy(
        &self,
        database: &str,
        policy: &NewRetentionPolicy,
    ) -> Result<(), Error> {
        self.execute(&policy.statement(database)?, None).await
    }

    pub(crate) async fn alter_retention_policy(
        &self,
        database: &str,
        name: &str,
        change: &RetentionPolicyChange,
    ) -> Result<(), Error> {
        self.execute(&change.statement(database, name)?, None).await
    }

    pub(crate) async fn drop_retention_policy(
        &self,
        database: &str,
        name: &str,
    ) -> Result<(), Error> {
        self.execute(&statements::drop_retention_policy(database, name), None)
            .await
    }

    pub(crate) async fn list_retention_policies(
        &self,
        database: &str,
    ) -> Result<Vec<RetentionPolicy>, Error> {
        let statement = statements::show_retention_policies(database);
        decode_retention_policies(&self.query_on(&statement, None).await?)
    }

    pub(crate) async fn create_continuous_query(
        &self,
        database: &str,
        query: &NewContinuousQuery,
    ) -> Result<(), Error> {
        // Sent as a query of `database`: influxd qualifies the statement's unqualified names
        // with the request's database, not the one the query is created on.
        self.execute(&query.statement(database)?, Some(database))
            .await
    }

    pub(crate) async fn drop_continuous_query(
        &self,
        database: &str,
        name: &str,
    ) -> Result<(), Error> {
        self.execute(&statements::drop_continuous_query(database, name), None)
            .await
    }

    pub(crate) async fn list_continuous_queries(
        &self,
        database: &str,
    ) -> Result<Vec<ContinuousQuery>, Error> {
        let results = self.query_on("SHOW CONTINUOUS QUERIES", None).await?;
        decode_continuous_queries(&results, database)
    }

    pub(crate) async fn list_measurements(
        &self,
        database: &str,
        matching: Option<&str>,
    ) -> Result<Vec<String>, Error> {
        let statement = statements::show_measurements(matching)?;
        let results = self.query_on(&statement, Some(database)).await?;
        decode_column(&results, "name", "SHOW MEASUREMENTS")
    }

    pub(crate) async fn drop_measurement(&self, database: &str, name: &str) -> Result<(), Error> {
        self.execute(&statements::drop_measurement(name), Some(database))
            .await
    }

    pub(crate) async fn list_series(
        &self,
        database: &str,
        filter: &SeriesFilter,
    ) -> Result<Vec<String>, Error> {
        let results = self
            .query_on(&statements::show_series(filter), Some(database))
            .await?;
        decode_column(&results, "key", "SHOW SERIES")
    }

    pub(crate) async fn delete_series(
        &self,
        database: &str,
        filter: &SeriesFilter,
    ) -> Result<(), Error> {
        self.execute(&statements::drop_series(filter)?, Some(database))
            .await
    }
}
