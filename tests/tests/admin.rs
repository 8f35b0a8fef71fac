//! Administration and metadata against a real influxd, through both clients: influxdb-python's
//! server-test scenarios for users, privileges, retention policies, continuous queries,
//! measurements and series, ported; then names no helper may mangle or let inject a statement.
//!
//! Tests that need a server of their own (no users yet, a database named `db`, credentials
//! checked) start one; the rest share the binary's server and keep apart by unique names.

mod support {
    pub mod api;
}

use influx_series::admin::{
    ContinuousQuery, Grant, NewContinuousQuery, NewRetentionPolicy, Privilege, RetentionPolicy,
    RetentionPolicyChange, SeriesFilter, User,
};
use influx_series::{Client, Error, Point, WriteOptions};
use influx_testserver::{ADMIN_PASSWORD, ADMIN_USER, Server};
use support::api::{Api, fresh};

/// Panics unless `result` is the server's refusal of the statement, with `text` in its message.
#[track_caller]
fn refused<T: std::fmt::Debug>(result: Result<T, Error>, text: &str) {
    match result {
        Err(Error::Statement { message, .. }) if message.contains(text) => {}
        other => panic!("expected the server to refuse with {text:?}, got {other:?}"),
    }
}

/// Panics unless `result` is an [`Error::InvalidArgument`] with `text` in its message.
#[track_caller]
fn invalid<T: std::fmt::Debug>(result: Result<T, Error>, text: &str) {
    match result {
        Err(Error::InvalidArgument(message)) if message.to_string().contains(text) => {}
        other => panic!("expected an invalid argument mentioning {text:?}, got {other:?}"),
    }
}

fn user(name: &str, admin: bool) -> User {
    User {
        name: name.to_string(),
        admin,
    }
}

fn sorted_users<C: Api>(client: &C) -> Vec<User> {
    let mut users = client.list_users().unwrap();
    users.sort_by(|a, b| a.name.cmp(&b.name));
    users
}

/// A listed retention policy as these tests spell it: `RetentionPolicy` is `#[non_exhaustive]`
/// and cannot be built outside its crate.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Policy {
    name: String,
    duration: String,
    shard_group_duration: String,
    replication: u64,
    default: bool,
}

fn policy(name: &str, duration: &str, shard: &str, replication: u64, default: bool) -> Policy {
    Policy {
        name: name.to_string(),
        duration: duration.to_string(),
        shard_group_duration: shard.to_string(),
        replication,
        default,
    }
}

/// The database's retention policies, in the server's order.
fn policies<C: Api>(client: &C, database: &str) -> Vec<Policy> {
    let listed: Vec<RetentionPolicy> = client.list_retention_policies(database).unwrap();
    listed
        .into_iter()
        .map(|p| Policy {
            name: p.name,
            duration: p.duration,
            shard_group_duration: p.shard_group_duration,
            replication: p.replication,
            default: p.default,
        })
        .collect()
}

fn grant(database: &str, privilege: Option<Privilege>) -> Grant {
    Grant {
        database: database.to_string(),
        privilege,
    }
}

/// Python's `test_get_list_users_empty`, `test_create_user`, `test_create_user_blank_password`,
/// `test_drop_user`, `test_drop_user_nonexisting`, `test_create_user_blank_username`.
fn users_on_a_fresh_server<C: Api>() {
    let server = Server::start();
    let client = C::connect_url(&server.url()).unwrap();
    assert_eq!(client.list_users().unwrap(), vec![]);

    client.create_admin_user("boss", "secret").unwrap();
    client.create_user("blank", "").unwrap();
    assert_eq!(
        sorted_users(&client),
        vec![user("blank", false), user("boss", true)]
    );

    client.drop_user("blank").unwrap();
    assert_eq!(client.list_users().unwrap(), vec![user("boss", true)]);
    refused(client.drop_user("blank"), "user not found");
    refused(client.create_user("", "secret"), "username required");
    assert_eq!(client.list_users().unwrap(), vec![user("boss", true)]);
}

/// Names with quotes, semicolons, spaces, backslashes and a newline are stored as given;
/// admin rights are granted and revoked; passwords of any text are accepted.
fn users_with_any_name<C: Api>() {
    let server = influx_testserver::shared();
    let client = C::connect_url(&server.url()).unwrap();
    let suffix = server.unique_db("u");
    let names = [
        format!("plain_{suffix}"),
        format!("we;ird \" 'name {suffix}"),
        format!("back\\slash {suffix}"),
        format!("new\nline {suffix}"),
    ];
    for name in &names {
        client.create_user(name, "pa'ss\\word\"; --").unwrap();
    }
    let listed = client.list_users().unwrap();
    for name in &names {
        assert!(
            listed.contains(&user(name, false)),
            "{name:?} in {listed:?}"
        );
    }

    client.grant_admin_privileges(&names[1]).unwrap();
    assert!(
        client
            .list_users()
            .unwrap()
            .contains(&user(&names[1], true))
    );
    client.revoke_admin_privileges(&names[1]).unwrap();
    assert!(
        client
            .list_users()
            .unwrap()
            .contains(&user(&names[1], false))
    );

    client.set_user_password(&names[2], "new'one").unwrap();
    for name in &names {
        client.drop_user(name).unwrap();
    }
    let listed = client.list_users().unwrap();
    assert!(
        names.iter().all(|n| !listed.iter().any(|u| &u.name == n)),
        "{listed:?}"
    );
}

/// Python's `test_grant_privilege`, `test_revoke_privilege`, `test_get_list_privileges` and
/// their error cases.
fn privileges_granted_listed_and_revoked<C: Api>() {
    let client = fresh::<C>("grants");
    let db = client.config().database().unwrap().to_string();
    let name = format!("grantee_{db}");
    client.create_user(&name, "pw").unwrap();
    assert_eq!(client.list_privileges(&name).unwrap(), vec![]);

    client.grant_privilege(Privilege::Read, &db, &name).unwrap();
    assert_eq!(
        client.list_privileges(&name).unwrap(),
        vec![grant(&db, Some(Privilege::Read))]
    );
    // A grant sets the user's privilege on the database; it does not add to it.
    client
        .grant_privilege(Privilege::Write, &db, &name)
        .unwrap();
    assert_eq!(
        client.list_privileges(&name).unwrap(),
        vec![grant(&db, Some(Privilege::Write))]
    );
    client.grant_privilege(Privilege::All, &db, &name).unwrap();
    assert_eq!(
        client.list_privileges(&name).unwrap(),
        vec![grant(&db, Some(Privilege::All))]
    );
    client
        .revoke_privilege(Privilege::Read, &db, &name)
        .unwrap();
    assert_eq!(
        client.list_privileges(&name).unwrap(),
        vec![grant(&db, Some(Privilege::Write))]
    );
    client.revoke_privilege(Privilege::All, &db, &name).unwrap();
    assert_eq!(
        client.list_privileges(&name).unwrap(),
        vec![grant(&db, None)]
    );

    let missing = format!("missing_{db}");
    refused(client.list_privileges(&missing), "user not found");
    refused(
        client.grant_privilege(Privilege::Read, &db, &missing),
        "user not found",
    );
    refused(
        client.revoke_privilege(Privilege::Read, &db, &missing),
        "user not found",
    );
    client.drop_user(&name).unwrap();
}

/// With credentials checked, the grants do what they say, and `switch_user` changes who asks.
fn privileges_are_enforced_by_a_server_checking_credentials<C: Api>() {
    let server = Server::start_with_auth();
    let admin = C::connect(
        Client::builder()
            .port(server.http_port())
            .credentials(ADMIN_USER, ADMIN_PASSWORD)
            .into_config(),
    )
    .unwrap();
    admin.create_database("guarded").unwrap();
    let password = "pa'ss\\word\"; DROP DATABASE guarded; --";
    admin.create_user("reader", password).unwrap();

    let mut reader = C::connect_url(&server.url()).unwrap();
    reader.switch_database("guarded".to_string());
    let unauthenticated = reader.query("SELECT * FROM m");
    assert!(
        matches!(&unauthenticated, Err(Error::Client { status: 401, .. })),
        "{unauthenticated:?}"
    );
    reader
        .switch_user("reader".to_string(), password.to_string())
        .unwrap();
    let no_grant = reader.query("SELECT * FROM m");
    assert!(
        matches!(&no_grant, Err(Error::Client { status: 403, message }) if message.contains("requires READ")),
        "{no_grant:?}"
    );

    admin
        .grant_privilege(Privilege::Read, "guarded", "reader")
        .unwrap();
    reader.query("SELECT * FROM m").unwrap();
    let write = reader.write_raw("m v=1 1", &WriteOptions::default());
    assert!(
        matches!(&write, Err(Error::Client { status: 403, .. })),
        "{write:?}"
    );

    admin
        .grant_privilege(Privilege::Write, "guarded", "reader")
        .unwrap();
    reader
        .write_raw("m v=1 1", &WriteOptions::default())
        .unwrap();
    // WRITE replaced READ.
    let replaced = reader.query("SELECT * FROM m");
    assert!(
        matches!(&replaced, Err(Error::Client { status: 403, .. })),
        "{replaced:?}"
    );
    let forbidden = reader.list_users();
    assert!(
        matches!(&forbidden, Err(Error::Client { status: 403, .. })),
        "{forbidden:?}"
    );

    admin.grant_admin_privileges("reader").unwrap();
    assert_eq!(
        sorted_users(&reader),
        vec![user(ADMIN_USER, true), user("reader", true)]
    );
    admin.revoke_admin_privileges("reader").unwrap();
    admin
        .revoke_privilege(Privilege::All, "guarded", "reader")
        .unwrap();
    let revoked = reader.query("SELECT * FROM m");
    assert!(
        matches!(&revoked, Err(Error::Client { status: 403, .. })),
        "{revoked:?}"
    );

    admin.set_user_password("reader", "fresh").unwrap();
    admin
        .grant_privilege(Privilege::Read, "guarded", "reader")
        .unwrap();
    let old_password = reader.query("SELECT * FROM m");
    assert!(
        matches!(&old_password, Err(Error::Client { status: 401, .. })),
        "{old_password:?}"
    );
    reader
        .switch_user("reader".to_string(), "fresh".to_string())
        .unwrap();
    let rows = reader.query("SELECT * FROM m").unwrap();
    assert_eq!(rows[0].rows().count(), 1);
    assert!(
        admin
            .list_databases()
            .unwrap()
            .contains(&"guarded".to_string())
    );
}

/// Python's `test_create_retention_policy*`, `test_alter_retention_policy*`,
/// `test_drop_retention_policy` and `test_get_list_retention_policies`, with the figures
/// influxd 1.6 reports.
fn retention_policies_with_the_servers_figures<C: Api>() {
    let client = fresh::<C>("policies");
    let db = client.config().database().unwrap().to_string();
    let autogen = policy("autogen", "0s", "168h0m0s", 1, true);
    assert_eq!(policies(&client, &db), vec![autogen.clone()]);

    client
        .create_retention_policy(&db, &NewRetentionPolicy::new("day", "1d"))
        .unwrap();
    client
        .create_retention_policy(
            &db,
            &NewRetentionPolicy::new("week", "1w")
                .shard_duration("1h")
                .make_default(),
        )
        .unwrap();
    client
        .create_retention_policy(
            &db,
            &NewRetentionPolicy::new("two_days", "2d").replication(1),
        )
        .unwrap();
    let mut autogen = autogen;
    autogen.default = false;
    assert_eq!(
        policies(&client, &db),
        vec![
            autogen.clone(),
            policy("day", "24h0m0s", "1h0m0s", 1, false),
            policy("week", "168h0m0s", "1h0m0s", 1, true),
            policy("two_days", "48h0m0s", "24h0m0s", 1, false),
        ]
    );

    // Field by field.
    client
        .alter_retention_policy(&db, "day", &RetentionPolicyChange::new().duration("2d"))
        .unwrap();
    assert_eq!(
        policies(&client, &db)[1],
        policy("day", "48h0m0s", "1h0m0s", 1, false)
    );
    client
        .alter_retention_policy(&db, "day", &RetentionPolicyChange::new().replication(4))
        .unwrap();
    assert_eq!(
        policies(&client, &db)[1],
        policy("day", "48h0m0s", "1h0m0s", 4, false)
    );
    client
        .alter_retention_policy(
            &db,
            "day",
            &RetentionPolicyChange::new().shard_duration("90m"),
        )
        .unwrap();
    assert_eq!(
        policies(&client, &db)[1],
        policy("day", "48h0m0s", "1h30m0s", 4, false)
    );
    client
        .alter_retention_policy(&db, "day", &RetentionPolicyChange::new().make_default())
        .unwrap();
    let listed = policies(&client, &db);
    assert_eq!(
        listed
            .iter()
            .filter(|p| p.default)
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        vec!["day"]
    );
    client
        .alter_retention_policy(
            &db,
            "two_days",
            &RetentionPolicyChange::new()
                .duration("INF")
                .shard_duration("1w")
                .replication(2)
                .make_default(),
        )
        .unwrap();
    assert_eq!(
        policies(&client, &db)[3],
        policy("two_days", "0s", "168h0m0s", 2, true)
    );

    // Refused before or by the server, nothing changed.
    let before = policies(&client, &db);
    invalid(
        client.alter_retention_policy(&db, "day", &RetentionPolicyChange::new()),
        "changes nothing",
    );
    invalid(
        client.create_retention_policy(&db, &NewRetentionPolicy::new("bad", "1 day")),
        "duration",
    );
    refused(
        client.create_retention_policy(&db, &NewRetentionPolicy::new("short", "5m")),
        "retention policy duration must be at least 1h0m0s",
    );
    refused(
        client.create_retention_policy(
            &format!("{db}_missing"),
            &NewRetentionPolicy::new("x", "1d"),
        ),
        "database not found",
    );
    assert_eq!(policies(&client, &db), before);

    client.drop_retention_policy(&db, "week").unwrap();
    client.drop_retention_policy(&db, "day").unwrap();
    // As on the server: dropping what is not there succeeds.
    client.drop_retention_policy(&db, "never_was").unwrap();
    assert_eq!(
        policies(&client, &db),
        vec![autogen, policy("two_days", "0s", "168h0m0s", 2, true)]
    );
}

/// Python's `test_create_continuous_query`, `test_get_list_continuous_queries` and
/// `test_drop_continuous_query`, on a database named `db` as there.
fn continuous_queries_with_the_servers_text<C: Api>() {
    let server = Server::start();
    let client = C::connect_url(&server.url()).unwrap();
    client.create_database("db").unwrap();
    client.create_database("other").unwrap();
    client
        .create_retention_policy("db", &NewRetentionPolicy::new("some_rp", "1d"))
        .unwrap();
    assert_eq!(client.list_continuous_queries("db").unwrap(), vec![]);

    client
        .create_continuous_query(
            "db",
            &NewContinuousQuery::new(
                "test_cq",
                "select count(value) into some_rp.events from events group by time(10m)",
            ),
        )
        .unwrap();
    client
        .create_continuous_query(
            "db",
            &NewContinuousQuery::new(
                "resampled",
                "-- counts per hour\nSELECT mean(value) INTO hourly FROM events GROUP BY time(1h)",
            )
            .resample_every("10m")
            .resample_for("2h"),
        )
        .unwrap();
    client
        .create_continuous_query(
            "other",
            &NewContinuousQuery::new(
                "elsewhere",
                "SELECT max(v) INTO m2 FROM m GROUP BY time(1h)",
            ),
        )
        .unwrap();

    let cq = |name: &str, query: &str| ContinuousQuery {
        name: name.to_string(),
        query: query.to_string(),
    };
    assert_eq!(
        client.list_continuous_queries("db").unwrap(),
        vec![
            cq(
                "test_cq",
                "CREATE CONTINUOUS QUERY test_cq ON db BEGIN SELECT count(value) INTO \
                 db.some_rp.events FROM db.autogen.events GROUP BY time(10m) END"
            ),
            cq(
                "resampled",
                "CREATE CONTINUOUS QUERY resampled ON db RESAMPLE EVERY 10m FOR 2h BEGIN \
                 SELECT mean(value) INTO db.autogen.hourly FROM db.autogen.events GROUP BY \
                 time(1h) END"
            ),
        ]
    );
    assert_eq!(client.list_continuous_queries("other").unwrap().len(), 1);

    invalid(
        client.create_continuous_query(
            "db",
            &NewContinuousQuery::new(
                "two",
                "SELECT 1 INTO a FROM b GROUP BY time(1h); DROP DATABASE db",
            ),
        ),
        "one SELECT",
    );
    invalid(
        client.create_continuous_query(
            "db",
            &NewContinuousQuery::new("bad", "SELECT mean(v) INTO a FROM b GROUP BY time(1h)")
                .resample_every("10 minutes"),
        ),
        "duration",
    );

    client.drop_continuous_query("db", "test_cq").unwrap();
    assert_eq!(
        client
            .list_continuous_queries("db")
            .unwrap()
            .iter()
            .map(|q| q.name.as_str())
            .collect::<Vec<_>>(),
        vec!["resampled"]
    );
    assert!(client.list_databases().unwrap().contains(&"db".to_string()));
}

/// A continuous query created through a client whose default database is another: its
/// unqualified names are the query's database's (influxd qualifies them with the request's
/// database, which is therefore the query's own, not the client's).
fn a_continuous_query_is_read_in_its_own_database<C: Api>() {
    let server = Server::start();
    let mut client = C::connect_url(&server.url()).unwrap();
    client.create_database("db").unwrap();
    client.create_database("other").unwrap();
    client
        .create_retention_policy("db", &NewRetentionPolicy::new("only_in_db", "1d"))
        .unwrap();
    client.switch_database("other".to_string());
    client
        .create_continuous_query(
            "db",
            &NewContinuousQuery::new(
                "own",
                "SELECT count(value) INTO only_in_db.events FROM events GROUP BY time(10m)",
            ),
        )
        .unwrap();
    assert_eq!(
        client.list_continuous_queries("db").unwrap(),
        vec![ContinuousQuery {
            name: "own".to_string(),
            query: "CREATE CONTINUOUS QUERY own ON db BEGIN SELECT count(value) INTO \
                    db.only_in_db.events FROM db.autogen.events GROUP BY time(10m) END"
                .to_string(),
        }]
    );
}

const SERIES: &str = "cpu_load_short,host=server01,region=us-west value=0.64 1\n\
                      cpu_load_short,host=server02,region=us-west value=0.55 1\n\
                      cpu_load_short,host=server01,region=eu-east value=0.71 1\n\
                      cpu_load_long,host=server01,region=us-west value=0.25 1\n\
                      mem,host=server01 free=12i 1\n\
                      a/b,host=server01 v=1i 1\n";

/// Python's `test_get_list_measurements`, `test_drop_measurement`, `test_get_list_series`
/// and `test_delete_series`.
fn measurements_and_series<C: Api>() {
    let client = fresh::<C>("series");
    let db = client.config().database().unwrap().to_string();
    client.write_raw(SERIES, &WriteOptions::default()).unwrap();

    assert_eq!(
        client.list_measurements(&db, None).unwrap(),
        vec!["a/b", "cpu_load_long", "cpu_load_short", "mem"]
    );
    assert_eq!(
        client.list_measurements(&db, Some("^cpu")).unwrap(),
        vec!["cpu_load_long", "cpu_load_short"]
    );
    assert_eq!(
        client.list_measurements(&db, Some("a/b")).unwrap(),
        vec!["a/b"]
    );
    assert_eq!(
        client.list_measurements(&db, Some("^nothing")).unwrap(),
        Vec::<String>::new()
    );

    assert_eq!(
        client
            .list_series(&db, &SeriesFilter::measurement("cpu_load_short"))
            .unwrap(),
        vec![
            "cpu_load_short,host=server01,region=eu-east",
            "cpu_load_short,host=server01,region=us-west",
            "cpu_load_short,host=server02,region=us-west",
        ]
    );
    assert_eq!(
        client
            .list_series(
                &db,
                &SeriesFilter::measurement("cpu_load_short").tag("region", "us-west")
            )
            .unwrap(),
        vec![
            "cpu_load_short,host=server01,region=us-west",
            "cpu_load_short,host=server02,region=us-west",
        ]
    );
    assert_eq!(
        client
            .list_series(&db, &SeriesFilter::all().tag("host", "server02"))
            .unwrap(),
        vec!["cpu_load_short,host=server02,region=us-west"]
    );
    assert_eq!(
        client.list_series(&db, &SeriesFilter::all()).unwrap().len(),
        6
    );

    invalid(
        client.delete_series(&db, &SeriesFilter::all()),
        "every series",
    );
    assert_eq!(
        client.list_series(&db, &SeriesFilter::all()).unwrap().len(),
        6
    );

    client
        .delete_series(&db, &SeriesFilter::all().tag("region", "eu-east"))
        .unwrap();
    client
        .delete_series(&db, &SeriesFilter::measurement("mem"))
        .unwrap();
    client
        .delete_series(
            &db,
            &SeriesFilter::measurement("cpu_load_short").tag("host", "server02"),
        )
        .unwrap();
    assert_eq!(
        client.list_series(&db, &SeriesFilter::all()).unwrap(),
        vec![
            "a/b,host=server01",
            "cpu_load_long,host=server01,region=us-west",
            "cpu_load_short,host=server01,region=us-west",
        ]
    );

    client.drop_measurement(&db, "cpu_load_long").unwrap();
    client.drop_measurement(&db, "a/b").unwrap();
    assert_eq!(
        client.list_measurements(&db, None).unwrap(),
        vec!["cpu_load_short"]
    );
}

/// Names influxd refuses come back as its own error; names it accepts come back equal.
fn names_stored_exactly_or_refused_by_the_server<C: Api>() {
    let server = influx_testserver::shared();
    let client = C::connect_url(&server.url()).unwrap();
    let id = server.unique_db("names");
    for bad in ["new\nline", "tab\there", "back\\slash", "sl/ash"] {
        let name = format!("{bad}_{id}");
        refused(client.create_database(&name), "invalid name");
        let db = format!("db_{id}");
        client.create_database(&db).unwrap();
        refused(
            client.create_retention_policy(&db, &NewRetentionPolicy::new(name.as_str(), "1d")),
            "invalid name",
        );
    }

    let odd = format!("we;ird \" 'name {id}");
    client.create_database(&odd).unwrap();
    assert!(client.list_databases().unwrap().contains(&odd));
    let rp = format!("rp;\" 'x {id}");
    client
        .create_retention_policy(&odd, &NewRetentionPolicy::new(rp.as_str(), "1d"))
        .unwrap();
    assert!(
        client
            .list_retention_policies(&odd)
            .unwrap()
            .iter()
            .any(|p| p.name == rp)
    );
    let measurement = "m;\" 'x";
    let point = Point::builder(measurement)
        .tag("t", "v'\"; x")
        .field("f", 1i64)
        .build()
        .unwrap();
    client
        .write_points([point], &WriteOptions::new(odd.as_str()))
        .unwrap();
    assert_eq!(
        client.list_measurements(&odd, None).unwrap(),
        vec![measurement]
    );
    assert_eq!(
        client
            .list_series(
                &odd,
                &SeriesFilter::measurement(measurement).tag("t", "v'\"; x")
            )
            .unwrap()
            .len(),
        1
    );
    client
        .delete_series(
            &odd,
            &SeriesFilter::measurement(measurement).tag("t", "v'\"; x"),
        )
        .unwrap();
    assert_eq!(
        client
            .list_series(&odd, &SeriesFilter::all())
            .unwrap()
            .len(),
        0
    );
    client.drop_retention_policy(&odd, &rp).unwrap();
    client.drop_database(&odd).unwrap();
}

/// Every helper given names and passwords crafted to end its statement and run
/// `DROP DATABASE victim`: none runs a second statement.
fn no_name_runs_a_second_statement<C: Api>() {
    let server = influx_testserver::shared();
    let client = C::connect_url(&server.url()).unwrap();
    let victim = server.unique_db("victim");
    client.create_database(&victim).unwrap();
    let db = server.unique_db("attacked");
    client.create_database(&db).unwrap();
    let hostile = [
        format!("x\"; DROP DATABASE \"{victim}\"; --"),
        format!("x'; DROP DATABASE \"{victim}\"; --"),
        format!("x\\\"; DROP DATABASE {victim}; --"),
        format!("x\\'; DROP DATABASE {victim}; --"),
        format!("x/; DROP DATABASE {victim}; /"),
        format!("x\nDROP DATABASE {victim}"),
        format!("x END; DROP DATABASE {victim}"),
    ];
    for evil in &hostile {
        let evil = evil.as_str();
        // Each call may succeed (the name stored as given) or fail; what matters is below.
        let _ = client.create_user(evil, evil);
        let _ = client.set_user_password(evil, evil);
        let _ = client.grant_privilege(Privilege::Read, &db, evil);
        let _ = client.grant_privilege(Privilege::Read, evil, evil);
        let _ = client.revoke_privilege(Privilege::Read, evil, evil);
        let _ = client.grant_admin_privileges(evil);
        let _ = client.revoke_admin_privileges(evil);
        let _ = client.list_privileges(evil);
        let _ = client.drop_user(evil);
        let _ = client.create_retention_policy(&db, &NewRetentionPolicy::new(evil, "1d"));
        let _ = client.create_retention_policy(evil, &NewRetentionPolicy::new("rp", "1d"));
        let _ =
            client.alter_retention_policy(&db, evil, &RetentionPolicyChange::new().replication(1));
        let _ = client.list_retention_policies(evil);
        let _ = client.drop_retention_policy(&db, evil);
        let _ = client.drop_retention_policy(evil, evil);
        let _ = client.create_retention_policy(&db, &NewRetentionPolicy::new("rp", evil));
        let cq = NewContinuousQuery::new(evil, "SELECT count(v) INTO b FROM a GROUP BY time(1h)");
        let _ = client.create_continuous_query(&db, &cq);
        let _ = client.create_continuous_query(evil, &cq);
        let _ = client.drop_continuous_query(&db, evil);
        let _ = client.list_continuous_queries(evil);
        let _ = client.list_measurements(&db, Some(evil));
        let _ = client.list_measurements(evil, None);
        let _ = client.drop_measurement(&db, evil);
        let _ = client.list_series(&db, &SeriesFilter::measurement(evil).tag(evil, evil));
        let _ = client.delete_series(&db, &SeriesFilter::measurement(evil));
        let _ = client.delete_series(&db, &SeriesFilter::all().tag(evil, evil));
        let _ = client.create_database(evil);
        let _ = client.drop_database(evil);
        let databases = client.list_databases().unwrap();
        assert!(
            databases.contains(&victim) && databases.contains(&db),
            "after {evil:?}: {databases:?}"
        );
    }
}

both_clients!(
    users_on_a_fresh_server,
    users_with_any_name,
    privileges_granted_listed_and_revoked,
    privileges_are_enforced_by_a_server_checking_credentials,
    retention_policies_with_the_servers_figures,
    continuous_queries_with_the_servers_text,
    a_continuous_query_is_read_in_its_own_database,
    measurements_and_series,
    names_stored_exactly_or_refused_by_the_server,
    no_name_runs_a_second_statement;
    gzip: retention_policies_with_the_servers_figures, measurements_and_series,
);
