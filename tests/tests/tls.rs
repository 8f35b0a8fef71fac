//! HTTPS to a real influxd (`https-enabled`, a certificate for 127.0.0.1 signed by a CA the
//! harness made), through both clients: verified with the CA, refused without it or for another
//! name, accepted
//! with the explicitly named opt-out.

mod support {
    pub mod api;
}

use std::sync::OnceLock;

use influx_series::{Client, ClientBuilder, ClientConfig, Error, WriteOptions};
use influx_testserver::Server;
use support::api::Api;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(Server::start_with_tls)
}

fn builder() -> ClientBuilder {
    Client::builder()
        .host("127.0.0.1")
        .port(server().http_port())
        .tls(true)
}

fn ca() -> Vec<u8> {
    server().ca_pem().expect("a TLS server has a CA")
}

fn verified_with_the_custom_ca<C: Api>() {
    let client = C::connect(builder().ca_certificate_pem(ca()).into_config()).unwrap();
    assert!(client.ping().unwrap().starts_with("1."));
    let db = server().unique_db("tls");
    client.create_database(&db).unwrap();
    client
        .write_raw("m v=1 1", &WriteOptions::new(db.as_str()))
        .unwrap();
    let rows = client
        .query_with(
            "SELECT v FROM m",
            &influx_series::QueryOptions::new().database(db.as_str()),
        )
        .unwrap();
    assert_eq!(rows[0].rows().count(), 1);
}

#[track_caller]
fn refused_as_untrusted<T: std::fmt::Debug>(result: Result<T, Error>) {
    match &result {
        Err(Error::Transport(cause)) => {
            let chain = format!("{:?}", cause.source());
            assert!(
                chain.contains("certificate") || chain.contains("Certificate"),
                "{chain}"
            );
        }
        other => panic!("expected a refused certificate, got {other:?}"),
    }
}

fn refused_without_the_ca<C: Api>() {
    // A refused certificate is final: no retry waits out the (long) backoff. A retry would
    // wait 12 to 24 s (half to all of 24 s, which the default deadline of 30 s leaves room
    // for), beyond the bound on the call.
    let policy = influx_series::RetryPolicy::new().backoff(
        std::time::Duration::from_secs(24),
        std::time::Duration::from_secs(24),
    );
    let client = C::connect(builder().retry(policy).into_config()).unwrap();
    let started = std::time::Instant::now();
    refused_as_untrusted(client.ping());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "retried: {:?}",
        started.elapsed()
    );
    let client = C::connect(ClientConfig::from_url(&server().url()).unwrap()).unwrap();
    refused_as_untrusted(client.list_databases());
}

fn refused_for_another_name<C: Api>() {
    // The CA is trusted, but the certificate names 127.0.0.1, not `localhost` (which resolves
    // to the same server): the hostname check refuses it.
    let config = builder()
        .host("localhost")
        .ca_certificate_pem(ca())
        .retry(influx_series::RetryPolicy::new().retries(0))
        .into_config();
    refused_as_untrusted(C::connect(config).unwrap().ping());
}

fn accepted_with_the_opt_out<C: Api>() {
    let client = C::connect(builder().danger_accept_invalid_certificates().into_config()).unwrap();
    assert!(client.ping().unwrap().starts_with("1."));
    assert!(
        client
            .list_databases()
            .unwrap()
            .contains(&"udp".to_string())
    );
}

fn a_ca_that_is_no_certificate_is_a_configuration_error<C: Api>() {
    let result = C::connect(
        builder()
            .ca_certificate_pem(b"not a certificate".to_vec())
            .into_config(),
    );
    assert!(matches!(result, Err(Error::Config(_))), "{result:?}");
}

both_clients!(
    verified_with_the_custom_ca,
    refused_without_the_ca,
    refused_for_another_name,
    accepted_with_the_opt_out,
    a_ca_that_is_no_certificate_is_a_configuration_error,
);
