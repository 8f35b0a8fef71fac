//! Schema as code against a real influxd, through both clients: `verify` finds a field stored
//! with another type before any write of the type is tried, `ensure` creates what is missing
//! once and leaves what differs, a templated name is checked against every measurement it
//! matches, and a user without privileges gets typed errors and an honest report.

mod support {
    pub mod api;
}

use influx_series::admin::{NewContinuousQuery, NewRetentionPolicy, RetentionPolicyChange};
use influx_series::schema::{
    Action, Change, Finding, PolicyDifference, Schema, SchemaError, Severity,
};
use influx_series::{Client, FieldType, Series, WriteOptions};
use influx_testserver::{ADMIN_PASSWORD, ADMIN_USER, Server};
use support::api::{Api, fresh};

/// Writes into the client's database; the measurement is `schema_cpu`.
#[derive(Series)]
#[series(name = "schema_cpu")]
struct SchemaCpu {
    #[series(tag)]
    host: String,
    usage: f64,
}

/// A templated name: one measurement per host.
#[derive(Series)]
#[series(name = "schema_tpl.{host}")]
struct PerHost {
    #[series(tag)]
    host: String,
    usage: f64,
    #[series(tag)]
    region: Option<String>,
}

/// Writes into a retention policy of its own.
#[derive(Series)]
#[series(name = "schema_kept", retention_policy = "schema_week")]
struct Kept {
    value: i64,
}

/// A name with braces, escaped in the attribute.
#[derive(Series)]
#[series(name = "schema_{{braced}}")]
struct Braced {
    value: f64,
}

#[test]
fn a_name_with_escaped_braces_is_declared_as_written() {
    let schema = Braced::schema();
    assert_eq!(schema.measurement(), "schema_{braced}");
    assert_eq!(schema.measurement_pattern(), None);
    let mut line = Vec::new();
    Braced { value: 1.0 }.write_line(&mut line).unwrap();
    assert!(line.starts_with(b"schema_{braced} value=1"), "{line:?}");
    assert_eq!(
        PerHost::schema().measurement_pattern(),
        Some(r"^schema_tpl\..*$")
    );
}

fn database<C: Api>(client: &C) -> String {
    client.config().database().expect("a database").to_owned()
}

fn write<C: Api>(client: &C, lines: &str) {
    client
        .write_raw(lines, &WriteOptions::default())
        .expect("the write");
}

fn a_field_stored_as_integer_is_reported_before_any_write<C: Api>() {
    let client: C = fresh("schema_conflict");
    let db = database(&client);
    write(&client, "schema_cpu,host=a usage=1i");
    let report = client.verify(&Schema::new().series::<SchemaCpu>()).unwrap();
    assert_eq!(
        report.findings(),
        [Finding::FieldType {
            series: "SchemaCpu",
            database: db.clone(),
            measurement: "schema_cpu".into(),
            field: "usage".into(),
            declared: FieldType::Float,
            stored: "integer".into(),
        }]
    );
    assert!(report.has_conflicts());
    assert_eq!(
        report.to_string(),
        format!(
            "conflict: \"schema_cpu\" in \"{db}\": field \"usage\" is stored as integer, \
             SchemaCpu declares it float: every write of SchemaCpu into an existing shard of \
             \"schema_cpu\" will fail"
        )
    );
    assert_eq!(
        SchemaCpu::pending(),
        0,
        "nothing of the type was written or buffered"
    );
    // At start-up: the conflict stops the service.
    match client.provision(&Schema::new().series::<SchemaCpu>()) {
        Err(SchemaError::Conflicts { ensured, report }) => {
            assert!(ensured.changed_nothing(), "{ensured}");
            assert_eq!(report.conflicts().count(), 1, "{report}");
        }
        other => panic!("expected the conflict, got {other:?}"),
    }
    let e = client
        .provision(&Schema::new().series::<SchemaCpu>())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "the server conflicts with the schema (1 conflict):\n\"schema_cpu\" in \"{db}\": \
             field \"usage\" is stored as integer, SchemaCpu declares it float: every write of \
             SchemaCpu into an existing shard of \"schema_cpu\" will fail"
        )
    );
}

fn a_measurement_as_declared_gives_a_clean_report<C: Api>() {
    let client: C = fresh("schema_clean");
    let schema = Schema::new().series::<SchemaCpu>();
    // Nothing written yet: nothing to disagree with.
    let report = client.verify(&schema).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.to_string(), "the server is as declared");
    write(&client, "schema_cpu,host=a usage=0.5");
    let (ensured, report) = client.provision(&schema).unwrap();
    assert!(ensured.changed_nothing(), "{ensured}");
    assert!(report.is_clean(), "{report}");
}

fn keys_stored_in_the_other_role_and_undeclared_ones_are_reported<C: Api>() {
    let client: C = fresh("schema_roles");
    let db = database(&client);
    // `host` as a field, `usage` as a tag, and one of each the type does not declare.
    write(
        &client,
        "schema_cpu,usage=high,zone=z host=\"a\",extra=1.5\n",
    );
    let report = client.verify(&Schema::new().series::<SchemaCpu>()).unwrap();
    let at = |f: fn(String, String) -> Finding| f(db.clone(), "schema_cpu".into());
    assert_eq!(
        report.findings(),
        [
            at(|database, measurement| Finding::FieldStoredAsTag {
                series: "SchemaCpu",
                database,
                measurement,
                key: "usage".into(),
            }),
            at(|database, measurement| Finding::TagStoredAsField {
                series: "SchemaCpu",
                database,
                measurement,
                key: "host".into(),
            }),
            at(|database, measurement| Finding::UndeclaredField {
                series: "SchemaCpu",
                database,
                measurement,
                field: "extra".into(),
                stored: "float".into(),
            }),
            at(|database, measurement| Finding::UndeclaredTag {
                series: "SchemaCpu",
                database,
                measurement,
                key: "zone".into(),
            }),
        ]
    );
    assert_eq!(
        report.to_string(),
        format!(
            "conflict: \"schema_cpu\" in \"{db}\": \"usage\" is a tag on the server, SchemaCpu \
             declares it a field\n\
             conflict: \"schema_cpu\" in \"{db}\": \"host\" is a field on the server, SchemaCpu \
             declares it a tag\n\
             note: \"schema_cpu\" in \"{db}\": the server has field \"extra\" (float), which \
             SchemaCpu does not declare\n\
             note: \"schema_cpu\" in \"{db}\": the server has tag \"zone\", which SchemaCpu \
             does not declare"
        )
    );
}

fn a_template_is_checked_against_every_measurement_it_matches<C: Api>() {
    let client: C = fresh("schema_template");
    let db = database(&client);
    write(
        &client,
        "schema_tpl.a,host=a usage=1.5\nschema_tpl.b,host=b,region=eu usage=2\n\
         schema_tpl.c,host=c usage=3i\nschema_tplx,host=x usage=4i",
    );
    let report = client.verify(&Schema::new().series::<PerHost>()).unwrap();
    assert_eq!(
        report.findings(),
        [Finding::FieldType {
            series: "PerHost",
            database: db.clone(),
            measurement: "schema_tpl.c".into(),
            field: "usage".into(),
            declared: FieldType::Float,
            stored: "integer".into(),
        }]
    );
    assert_eq!(
        report.to_string(),
        format!(
            "conflict: \"schema_tpl.c\" in \"{db}\": field \"usage\" is stored as integer, \
             PerHost declares it float: every write of PerHost into an existing shard of \
             \"schema_tpl.c\" will fail"
        )
    );
}

fn ensure_twice_creates_nothing_the_second_time_and_leaves_what_differs<C: Api>() {
    let admin: C = fresh("schema_admin");
    let db = influx_testserver::shared().unique_db("schema_ensure");
    let schema = || {
        Schema::new()
            .database(db.as_str())
            .retention_policy(db.as_str(), NewRetentionPolicy::new("schema_week", "1w"))
            .retention_policy(
                db.as_str(),
                NewRetentionPolicy::new("schema_year", "52w").shard_duration("1w"),
            )
            .continuous_query(
                db.as_str(),
                NewContinuousQuery::new(
                    "schema_hourly",
                    "SELECT mean(usage) AS usage INTO schema_year.schema_cpu_1h FROM schema_cpu \
                     GROUP BY time(1h), *",
                ),
            )
            // A regex source and a backreference, which the server writes qualified.
            .continuous_query(
                db.as_str(),
                NewContinuousQuery::new(
                    "schema_down",
                    "SELECT mean(*) INTO schema_year.:MEASUREMENT FROM /^schema_.*/ \
                     GROUP BY time(5m), *",
                ),
            )
    };
    let first = admin.ensure(&schema()).unwrap();
    assert_eq!(
        first.actions(),
        [
            Action::CreatedDatabase {
                database: db.clone()
            },
            Action::CreatedRetentionPolicy {
                database: db.clone(),
                policy: "schema_week".into()
            },
            Action::CreatedRetentionPolicy {
                database: db.clone(),
                policy: "schema_year".into()
            },
            Action::CreatedContinuousQuery {
                database: db.clone(),
                name: "schema_hourly".into()
            },
            Action::CreatedContinuousQuery {
                database: db.clone(),
                name: "schema_down".into()
            },
        ]
    );
    assert!(first.left_as_is().is_empty(), "{first}");
    assert_eq!(
        first.to_string(),
        format!(
            "created database \"{db}\"\n\
             created retention policy \"schema_week\" on \"{db}\"\n\
             created retention policy \"schema_year\" on \"{db}\"\n\
             created continuous query \"schema_hourly\" on \"{db}\"\n\
             created continuous query \"schema_down\" on \"{db}\""
        )
    );
    let second = admin.ensure(&schema()).unwrap();
    assert!(second.changed_nothing(), "{second}");
    assert!(second.left_as_is().is_empty(), "{second}");
    assert_eq!(second.to_string(), "nothing to create or change");
    assert!(admin.verify(&schema()).unwrap().is_clean());

    // Another writer lengthened a policy: reported, and left as it is.
    admin
        .alter_retention_policy(
            &db,
            "schema_week",
            &RetentionPolicyChange::new().duration("2w"),
        )
        .unwrap();
    let third = admin.ensure(&schema()).unwrap();
    let differs = Finding::PolicyDiffers {
        database: db.clone(),
        policy: "schema_week".into(),
        differences: vec![PolicyDifference::Retention {
            declared: "1w".into(),
            on_server: "336h0m0s".into(),
        }],
    };
    assert!(third.changed_nothing(), "{third}");
    assert_eq!(third.left_as_is(), std::slice::from_ref(&differs));
    assert_eq!(
        third.to_string(),
        format!(
            "left as it is: retention policy \"schema_week\" on \"{db}\" differs: duration \
             336h0m0s on the server, 1w declared (changed only if allowed: Change::Shorten)"
        )
    );
    assert_eq!(policy_duration(&admin, &db, "schema_week"), "336h0m0s");
    let report = admin.verify(&schema()).unwrap();
    assert_eq!(report.findings(), std::slice::from_ref(&differs));
    assert_eq!(differs.severity(), Severity::Difference);
    assert!(!report.has_conflicts());
    // Lengthening is not shortening: still left as it is.
    let lengthen = schema().allow(db.as_str(), "schema_week", Change::Lengthen);
    assert!(admin.ensure(&lengthen).unwrap().changed_nothing());
    assert_eq!(policy_duration(&admin, &db, "schema_week"), "336h0m0s");
    // Named exactly, the change is made.
    let shorten = schema().allow(db.as_str(), "schema_week", Change::Shorten);
    let fourth = admin.ensure(&shorten).unwrap();
    assert_eq!(
        fourth.actions(),
        [Action::AlteredRetentionPolicy {
            database: db.clone(),
            policy: "schema_week".into(),
            changes: vec![PolicyDifference::Retention {
                declared: "1w".into(),
                on_server: "336h0m0s".into(),
            }],
        }]
    );
    assert_eq!(policy_duration(&admin, &db, "schema_week"), "168h0m0s");

    // A new policy declared the default, in a database that already exists: created, but
    // the default stays where it is unless that change is named.
    let defaulting = schema().retention_policy(
        db.as_str(),
        NewRetentionPolicy::new("schema_main", "4w").make_default(),
    );
    let fifth = admin.ensure(&defaulting).unwrap();
    assert_eq!(
        fifth.actions(),
        [Action::CreatedRetentionPolicy {
            database: db.clone(),
            policy: "schema_main".into()
        }]
    );
    assert_eq!(
        fifth.left_as_is(),
        [Finding::PolicyDiffers {
            database: db.clone(),
            policy: "schema_main".into(),
            differences: vec![PolicyDifference::Default],
        }]
    );
    assert!(is_default(&admin, &db, "autogen"));
    let made = defaulting.allow(db.as_str(), "schema_main", Change::MakeDefault);
    let sixth = admin.ensure(&made).unwrap();
    assert_eq!(sixth.actions().len(), 1, "{sixth}");
    assert!(is_default(&admin, &db, "schema_main"));

    // A continuous query the server has with another text: reported, not replaced.
    admin.drop_continuous_query(&db, "schema_hourly").unwrap();
    admin
        .create_continuous_query(
            &db,
            &NewContinuousQuery::new(
                "schema_hourly",
                "SELECT max(usage) AS usage INTO schema_year.schema_cpu_1h FROM schema_cpu \
                 GROUP BY time(1h), *",
            ),
        )
        .unwrap();
    // Besides, the default policy is another now: `schema_down` reads the policy that was the
    // default when it was created, not the one its declaration now means.
    let seventh = admin.ensure(&schema()).unwrap();
    assert!(seventh.changed_nothing(), "{seventh}");
    match seventh.left_as_is() {
        [
            Finding::QueryDiffers {
                name: hourly,
                on_server: hourly_text,
                ..
            },
            Finding::QueryDiffers {
                name: down,
                on_server: down_text,
                ..
            },
        ] => {
            assert_eq!(hourly, "schema_hourly");
            assert!(hourly_text.contains("max(usage)"), "{hourly_text}");
            assert_eq!(down, "schema_down");
            assert!(
                down_text.contains(&format!("FROM {db}.autogen./")),
                "{down_text}"
            );
        }
        other => panic!("expected the queries' differences, got {other:?}"),
    }
}

fn policy_duration<C: Api>(client: &C, db: &str, name: &str) -> String {
    let policies = client.list_retention_policies(db).unwrap();
    let policy = policies.iter().find(|p| p.name == name).expect(name);
    policy.duration.clone()
}

fn is_default<C: Api>(client: &C, db: &str, name: &str) -> bool {
    let policies = client.list_retention_policies(db).unwrap();
    policies.iter().any(|p| p.name == name && p.default)
}

fn what_a_type_writes_to_must_exist<C: Api>() {
    let client: C = fresh("schema_missing");
    let db = database(&client);
    let missing_db = influx_testserver::shared().unique_db("schema_never");
    let schema = Schema::new().database(missing_db.as_str()).series::<Kept>();
    let report = client.verify(&schema).unwrap();
    assert_eq!(
        report.findings(),
        [
            Finding::MissingRetentionPolicy {
                database: db.clone(),
                policy: "schema_week".into(),
                series: Some("Kept"),
            },
            Finding::MissingDatabase {
                database: missing_db.clone(),
                series: None,
            },
        ]
    );
    assert_eq!(
        report.to_string(),
        format!(
            "conflict: retention policy \"schema_week\" on \"{db}\" does not exist: every write \
             of Kept will fail\n\
             difference: database \"{missing_db}\" does not exist"
        )
    );
    // Ensuring creates the database, not the policy (its duration is not declared).
    let ensured = client.ensure(&schema).unwrap();
    assert_eq!(
        ensured.actions(),
        [Action::CreatedDatabase {
            database: missing_db.clone()
        }]
    );
    let report = client.verify(&schema).unwrap();
    assert_eq!(report.conflicts().count(), 1, "{report}");
    client.drop_database(&missing_db).unwrap();
}

both_clients!(
    a_field_stored_as_integer_is_reported_before_any_write,
    a_measurement_as_declared_gives_a_clean_report,
    keys_stored_in_the_other_role_and_undeclared_ones_are_reported,
    a_template_is_checked_against_every_measurement_it_matches,
    ensure_twice_creates_nothing_the_second_time_and_leaves_what_differs,
    what_a_type_writes_to_must_exist,
    a_user_without_privileges_gets_typed_errors_and_an_honest_report,
);

fn a_user_without_privileges_gets_typed_errors_and_an_honest_report<C: Api>() {
    let server = Server::start_with_auth();
    let admin = Client::builder()
        .port(server.http_port())
        .credentials(ADMIN_USER, ADMIN_PASSWORD)
        .build()
        .unwrap();
    admin.create_database("schema_locked").unwrap();
    admin.create_user("schema_bob", "bob-secret").unwrap();
    let bob = C::connect(
        Client::builder()
            .port(server.http_port())
            .credentials("schema_bob", "bob-secret")
            .database("schema_locked")
            .into_config(),
    )
    .unwrap();
    let schema = Schema::new()
        .database("schema_locked")
        .series::<SchemaCpu>();
    match bob.ensure(&schema) {
        Err(SchemaError::NotPermitted {
            statement,
            privilege,
            ..
        }) => {
            assert_eq!(statement, "CREATE DATABASE schema_locked");
            assert_eq!(privilege, "admin privilege");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let e = bob.ensure(&schema).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`CREATE DATABASE schema_locked` needs admin privilege, which this user lacks"
    );
    let report = bob.verify(&schema).unwrap();
    assert_eq!(
        report.findings(),
        [Finding::Unchecked {
            what: "whether database \"schema_locked\" exists".into(),
            statement: "SHOW RETENTION POLICIES ON schema_locked".into(),
            privilege: "READ on schema_locked".into(),
        }]
    );
    assert_eq!(
        report.to_string(),
        "unchecked: whether database \"schema_locked\" exists not checked: `SHOW RETENTION \
         POLICIES ON schema_locked` needs READ on schema_locked, which this user lacks"
    );
    // With READ, the type's fields are checked.
    admin
        .grant_privilege(
            influx_series::admin::Privilege::Read,
            "schema_locked",
            "schema_bob",
        )
        .unwrap();
    admin
        .write_raw(
            "schema_cpu,host=a usage=\"text\"",
            &WriteOptions::new("schema_locked"),
        )
        .unwrap();
    let report = bob.verify(&schema).unwrap();
    assert_eq!(report.conflicts().count(), 1, "{report}");
}
