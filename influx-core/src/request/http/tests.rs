use super::*;

#[test]
fn params_are_encoded() {
    assert_eq!(
        encode_params([("db", "a b&c"), ("q", "é")]),
        "db=a%20b%26c&q=%C3%A9"
    );
}
