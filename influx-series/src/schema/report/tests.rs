use super::*;

fn at() -> (String, String) {
    ("metrics".to_owned(), "cpu".to_owned())
}

/// Every finding, with its severity and the line a person reads.
#[test]
fn each_finding_says_what_it_is_and_how_much_it_matters() {
    let (database, measurement) = at();
    let cases: Vec<(Finding, Severity, &str)> = vec![
        (
            Finding::FieldType {
                series: "Cpu",
                database: database.clone(),
                measurement: measurement.clone(),
                field: "usage".into(),
                declared: FieldType::Float,
                stored: "integer".into(),
            },
            Severity::Conflict,
            "\"cpu\" in \"metrics\": field \"usage\" is stored as integer, Cpu declares it \
             float: every write of Cpu into an existing shard of \"cpu\" will fail",
        ),
        (
            Finding::TagStoredAsField {
                series: "Cpu",
                database: database.clone(),
                measurement: measurement.clone(),
                key: "host".into(),
            },
            Severity::Conflict,
            "\"cpu\" in \"metrics\": \"host\" is a field on the server, Cpu declares it a tag",
        ),
        (
            Finding::FieldStoredAsTag {
                series: "Cpu",
                database: database.clone(),
                measurement: measurement.clone(),
                key: "usage".into(),
            },
            Severity::Conflict,
            "\"cpu\" in \"metrics\": \"usage\" is a tag on the server, Cpu declares it a field",
        ),
        (
            Finding::MissingDatabase {
                database: database.clone(),
                series: Some("Cpu"),
            },
            Severity::Conflict,
            "database \"metrics\" does not exist: every write of Cpu will fail",
        ),
        (
            Finding::MissingDatabase {
                database: database.clone(),
                series: None,
            },
            Severity::Difference,
            "database \"metrics\" does not exist",
        ),
        (
            Finding::NoDatabase { series: "Cpu" },
            Severity::Conflict,
            "Cpu names no database, and the client has none",
        ),
        (
            Finding::MissingRetentionPolicy {
                database: database.clone(),
                policy: "one_week".into(),
                series: Some("Cpu"),
            },
            Severity::Conflict,
            "retention policy \"one_week\" on \"metrics\" does not exist: every write of Cpu \
             will fail",
        ),
        (
            Finding::MissingRetentionPolicy {
                database: database.clone(),
                policy: "one_week".into(),
                series: None,
            },
            Severity::Difference,
            "retention policy \"one_week\" on \"metrics\" does not exist",
        ),
        (
            Finding::PolicyDiffers {
                database: database.clone(),
                policy: "one_week".into(),
                differences: vec![
                    PolicyDifference::Retention {
                        declared: "INF".into(),
                        on_server: "168h0m0s".into(),
                    },
                    PolicyDifference::ShardDuration {
                        declared: "1h".into(),
                        on_server: "24h0m0s".into(),
                    },
                    PolicyDifference::Replication {
                        declared: 3,
                        on_server: 1,
                    },
                    PolicyDifference::Default,
                ],
            },
            Severity::Difference,
            "retention policy \"one_week\" on \"metrics\" differs: duration 168h0m0s on the \
             server, INF declared (changed only if allowed: Change::Lengthen); shard duration \
             24h0m0s on the server, 1h declared (changed only if allowed: \
             Change::ShardDuration); replication 1 on the server, 3 declared (changed only if \
             allowed: Change::Replication); declared the default, not the default on the \
             server (changed only if allowed: Change::MakeDefault)",
        ),
        (
            Finding::MissingContinuousQuery {
                database: database.clone(),
                name: "cq".into(),
            },
            Severity::Difference,
            "continuous query \"cq\" on \"metrics\" does not exist",
        ),
        (
            Finding::QueryDiffers {
                database: database.clone(),
                name: "cq".into(),
                declared: "CREATE CONTINUOUS QUERY a".into(),
                on_server: "CREATE CONTINUOUS QUERY b".into(),
            },
            Severity::Difference,
            "continuous query \"cq\" on \"metrics\" differs: the server has `CREATE CONTINUOUS \
             QUERY b`, the declaration is `CREATE CONTINUOUS QUERY a` (not changed: drop it to \
             have it created again)",
        ),
        (
            Finding::Unchecked {
                what: "which databases exist".into(),
                statement: "SHOW DATABASES".into(),
                privilege: "admin privilege".into(),
            },
            Severity::Unchecked,
            "which databases exist not checked: `SHOW DATABASES` needs admin privilege, which \
             this user lacks",
        ),
        (
            Finding::UndeclaredField {
                series: "Cpu",
                database: database.clone(),
                measurement: measurement.clone(),
                field: "extra".into(),
                stored: "string".into(),
            },
            Severity::Note,
            "\"cpu\" in \"metrics\": the server has field \"extra\" (string), which Cpu does \
             not declare",
        ),
        (
            Finding::UndeclaredTag {
                series: "Cpu",
                database,
                measurement,
                key: "zone".into(),
            },
            Severity::Note,
            "\"cpu\" in \"metrics\": the server has tag \"zone\", which Cpu does not declare",
        ),
    ];
    for (finding, severity, text) in cases {
        assert_eq!(finding.severity(), severity, "{finding:?}");
        assert_eq!(finding.to_string(), text);
    }
}

#[test]
fn a_shorter_duration_is_a_change_of_its_own() {
    let retention = |declared: &str, on_server: &str| PolicyDifference::Retention {
        declared: declared.into(),
        on_server: on_server.into(),
    };
    assert_eq!(retention("1w", "336h0m0s").change(), Change::Shorten);
    assert_eq!(retention("2w", "168h0m0s").change(), Change::Lengthen);
    // For ever (INF, 0s) is the longest.
    assert_eq!(retention("1w", "0s").change(), Change::Shorten);
    assert_eq!(retention("INF", "168h0m0s").change(), Change::Lengthen);
    // A duration that cannot be read might be a shortening.
    assert_eq!(retention("1w", "ever").change(), Change::Shorten);
    assert_eq!(retention("ever", "1w").change(), Change::Shorten);
}

#[test]
fn a_report_lists_conflicts_first() {
    let report = Report::new(vec![
        Finding::MissingContinuousQuery {
            database: "metrics".into(),
            name: "cq".into(),
        },
        Finding::MissingDatabase {
            database: "other".into(),
            series: Some("Cpu"),
        },
    ]);
    assert!(report.has_conflicts());
    assert_eq!(
        report.to_string(),
        "conflict: database \"other\" does not exist: every write of Cpu will fail\n\
         difference: continuous query \"cq\" on \"metrics\" does not exist"
    );
}

#[test]
fn the_servers_refusal_names_the_statement_and_the_privilege() {
    let refused = Error::Client {
        status: 403,
        message: "error authorizing query: bob not authorized to execute statement 'CREATE \
                  DATABASE metrics', requires admin privilege"
            .into(),
    };
    match SchemaError::of("CREATE DATABASE \"metrics\"", refused) {
        SchemaError::NotPermitted {
            statement,
            privilege,
            ..
        } => {
            assert_eq!(statement, "CREATE DATABASE metrics");
            assert_eq!(privilege, "admin privilege");
        }
        other => panic!("{other:?}"),
    }
    let other = Error::Client {
        status: 400,
        message: "bad".into(),
    };
    assert!(matches!(
        SchemaError::of("X", other),
        SchemaError::Failed { statement, .. } if statement == "X"
    ));
}
