//! `#[derive(Series)]` for influx-series. Use it through `influx_series::Series`; the
//! attribute reference lives there.
//!
//! Stages: `attr` parses `#[series(...)]`, `ast` builds the model, `check` applies the
//! rules that span several members, `template` parses the series-name template, and
//! `expand` writes the code. Every error of one derive is collected in a `ctxt::Ctxt` and
//! reported together, each under its own token.

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod read;
mod rules;
mod template;

/// Derives `influx_series::Series`. See the documentation of `influx_series::Series`.
#[proc_macro_derive(Series, attributes(series))]
pub fn derive_series(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
