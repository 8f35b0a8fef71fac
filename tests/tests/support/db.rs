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

/// The same client, sending one write request at a time: for tests that count requests.
#[allow(dead_code)]
pub fn one_at_a_time(client: &Client) -> Client {
    let config = influx_series::ClientBuilder::from(client.config().clone()).writes_in_flight(1);
    Client::with_config(config.into_config()).unwrap()
}
