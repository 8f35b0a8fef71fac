//! Compile-fail (trybuild) tests of `#[derive(Series)]`: see `tests/ui.rs`, `tests/ui/` and `tests/pass/`.
