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
