//! `#[derive(Series)]`'s compile errors, one small file per mistake, checked against the
//! `.stderr` snapshots beside them; and structs that must compile. Regenerate the snapshots
//! with `TRYBUILD=overwrite cargo test -p influx-series-ui-tests`, then read every one.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
    t.pass("tests/pass/*.rs");
}
