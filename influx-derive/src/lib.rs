//! `#[derive(Series)]` for influx-series. The derive itself arrives with the derive issue; this
//! crate is here so the workspace has its final shape.
