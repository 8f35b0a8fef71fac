//! A fresh database on the shared test server.

use influx_series::Client;

/// A client whose default database is new, named after `prefix`.
pub fn fresh(prefix: &str) -> Client {
    let server = influx_testserver::shared();
    let db = server.unique_db(prefix);
    let client = Client::new(&server.url())
        .unwrap()
        .with_database(db.clone());
    client.create_database(&db).unwrap();
    client
}
