//! Tests of the decoders together: what every read path refuses alike.

/// Found by the fuzz harness: a second `columns` after `values` made rows narrower than
/// their series, and reading them panicked.
#[test]
fn a_series_with_its_columns_twice_is_refused() {
    for body in [
        r#"{"results":[{"statement_id":0,"series":[{"columns":["a"],"values":[[1]],"columns":["b"]}]}]}"#,
        r#"{"results":[{"statement_id":0,"series":[{"columns":["a"],"columns":["b"],"values":[[1,2]]}]}]}"#,
        r#"{"results":[{"statement_id":0,"series":[{"tags":{"a":"1"},"columns":["a"],"tags":{"b":"2"},"values":[[1]]}]}]}"#,
    ] {
        assert!(
            crate::decode_response(body.as_bytes(), true).is_err(),
            "{body}"
        );
        assert!(
            crate::deserialize_rows::<serde_json::Value>(body.as_bytes(), 0).is_err(),
            "{body}"
        );
    }
}

pub(crate) mod stored_cells {
    //! A `ResultSet` keeps its cells in a compact form of its own (kind bytes, payloads, one
    //! buffer of strings with repeats stored once): every cell must read back as the answer
    //! holds it, whatever the mix of kinds, however the answer is cut into chunks.

    use proptest::prelude::*;
    use serde_json::json;

    use crate::Value;

    /// A cell, as JSON (a whole float is written with its `.0`, and so read as a float).
    pub(crate) fn cell() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            (i64::MAX as u64 + 1..=u64::MAX).prop_map(serde_json::Value::from),
            // Short decimals (read without the general parser) and any finite float.
            (-100_000i64..100_000, 0u32..6)
                .prop_map(|(m, e)| json!(m as f64 / 10f64.powi(e as i32))),
            any::<f64>()
                .prop_filter("JSON numbers are finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            // Repeated strings (a tag's values), escapes, wide characters, long text.
            prop::sample::select(vec!["a", "server01", "eu-central", "é😀", "x\"y\\z\n"])
                .prop_map(serde_json::Value::from),
            "\\PC{0,12}".prop_map(serde_json::Value::from),
            "[a-z]{60,80}".prop_map(serde_json::Value::from),
        ]
    }

    /// The value serde_json reads for `v`, as a `Value`.
    fn expected(v: &serde_json::Value) -> Value<'_> {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Integer(i)
                } else if let Some(u) = n.as_u64() {
                    Value::Unsigned(u)
                } else {
                    Value::Float(n.as_f64().unwrap())
                }
            }
            serde_json::Value::String(s) => Value::String(s.as_str().into()),
            other => panic!("not a cell: {other}"),
        }
    }

    /// Series: (tag value, columns, rows).
    fn series() -> impl Strategy<Value = Vec<(String, usize, Vec<Vec<serde_json::Value>>)>> {
        prop::collection::vec(
            (1usize..5).prop_flat_map(|width| {
                (
                    "[a-c]",
                    Just(width),
                    prop::collection::vec(prop::collection::vec(cell(), width), 0..40),
                )
            }),
            1..4,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn every_cell_reads_back_as_the_answer_holds_it(
            all in series(),
            chunk in 1usize..12,
        ) {
            // The answer as influxd sends it in chunks of `chunk` rows: a series cut short is
            // marked partial and continued in the next document.
            let mut documents = Vec::new();
            for (s, (tag, width, rows)) in all.iter().enumerate() {
                let columns: Vec<String> = (0..*width).map(|c| format!("c{c}")).collect();
                let pieces: Vec<&[Vec<serde_json::Value>]> =
                    if rows.is_empty() { vec![&rows[..]] } else { rows.chunks(chunk).collect() };
                for (p, piece) in pieces.iter().enumerate() {
                    let more = p + 1 < pieces.len() || s + 1 < all.len();
                    let mut series = json!({
                        "name": "m",
                        "tags": {"t": format!("{tag}{s}")},
                        "columns": columns,
                        "values": piece,
                    });
                    if p + 1 < pieces.len() {
                        series["partial"] = json!(true);
                    }
                    let mut result = json!({"statement_id": 0, "series": [series]});
                    if more {
                        result["partial"] = json!(true);
                    }
                    documents.push(json!({"results": [result]}).to_string());
                }
            }
            let answer = documents.join("\n");
            let sets = crate::decode_response(answer.as_bytes(), true).unwrap();
            prop_assert_eq!(sets.len(), 1);
            let decoded = sets[0].series();
            prop_assert_eq!(decoded.len(), all.len());
            for (series, (_, width, rows)) in decoded.iter().zip(&all) {
                prop_assert_eq!(series.columns().len(), *width);
                prop_assert_eq!(series.len(), rows.len());
                prop_assert!(!series.partial());
                for (row, want) in series.rows().zip(rows) {
                    let got: Vec<Value<'_>> = row.values().collect();
                    let want: Vec<Value<'_>> = want.iter().map(expected).collect();
                    prop_assert_eq!(&got, &want);
                    for (c, cell) in want.iter().enumerate() {
                        let column = format!("c{c}");
                        prop_assert_eq!(row.get(&column), Some(cell.clone()));
                        prop_assert_eq!(row.get_str(&column), cell.as_str());
                    }
                }
            }
            // Written anew and read again, the statement writes the same text (a float without
            // a fraction is written as influxd writes it, `0`, and so reads back an integer).
            let again = format!("{{\"results\":[{}]}}", sets[0].raw());
            let reread = crate::decode_response(again.as_bytes(), true).unwrap();
            prop_assert_eq!(reread[0].raw(), sets[0].raw());
        }
    }

    /// Past the trial, a column of distinct strings is no longer looked up, and a column of
    /// few repeated ones still is: both read back whole, in an answer of one piece.
    #[test]
    fn long_columns_of_repeated_and_distinct_strings_read_back() {
        let rows: Vec<serde_json::Value> = (0..5_000)
            .map(|i| json!([format!("host{}", i % 7), format!("unique {i}"), i]))
            .collect();
        let answer = json!({"results": [{"statement_id": 0, "series": [
            {"name": "m", "columns": ["h", "u", "i"], "values": rows}]}]})
        .to_string();
        let sets = crate::decode_response(answer.as_bytes(), true).unwrap();
        let series = &sets[0].series()[0];
        assert_eq!(series.len(), 5_000);
        for (i, row) in series.rows().enumerate() {
            assert_eq!(row.get_str("h"), Some(format!("host{}", i % 7).as_str()));
            assert_eq!(row.get_str("u"), Some(format!("unique {i}").as_str()));
            assert_eq!(row.get("i"), Some(Value::Integer(i as i64)));
        }
    }
}
