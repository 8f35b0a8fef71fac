//! Parses `#[series(...)]` on the container and on members.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr};

use crate::ctxt::Ctxt;

const CONTAINER_KEYS: &str =
    "name, bulk_size, autocommit, precision, retention_policy, database, client, crate";
const MEMBER_KEYS: &str = "tag, field, time, rename, skip";

/// One attribute value, remembering where it was set so a duplicate can point at both.
pub(crate) struct Attr<T> {
    name: &'static str,
    value: Option<(T, Span)>,
}

impl<T> Attr<T> {
    fn none(name: &'static str) -> Self {
        Attr { name, value: None }
    }

    fn set(&mut self, cx: &Ctxt, span: Span, value: T) {
        if self.value.is_some() {
            cx.error_at(span, format!("duplicate series attribute `{}`", self.name));
        } else {
            self.value = Some((value, span));
        }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(v, _)| v)
    }

    pub(crate) fn span(&self) -> Option<Span> {
        self.value.as_ref().map(|(_, s)| *s)
    }
}

/// A precision as written in `#[series(precision = "ms")]`.
#[derive(Clone, Copy)]
pub(crate) enum Precision {
    Nanoseconds,
    Microseconds,
    Milliseconds,
    Seconds,
    Minutes,
    Hours,
}

impl Precision {
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Precision::Nanoseconds => "Nanoseconds",
            Precision::Microseconds => "Microseconds",
            Precision::Milliseconds => "Milliseconds",
            Precision::Seconds => "Seconds",
            Precision::Minutes => "Minutes",
            Precision::Hours => "Hours",
        }
    }
}

/// `#[series(...)]` on the struct.
pub(crate) struct Container {
    pub(crate) name: Attr<LitStr>,
    pub(crate) bulk_size: Attr<usize>,
    pub(crate) autocommit: Attr<bool>,
    pub(crate) precision: Attr<Precision>,
    pub(crate) retention_policy: Attr<String>,
    pub(crate) database: Attr<String>,
    pub(crate) client: Attr<syn::Path>,
    pub(crate) krate: Attr<syn::Path>,
}

fn format_hint(key: &str) -> String {
    let example = match key {
        "name" => "name = \"cpu.{host}\"",
        "bulk_size" => "bulk_size = 5",
        "autocommit" => "autocommit",
        "precision" => "precision = \"ms\"",
        "retention_policy" => "retention_policy = \"one_week\"",
        "database" => "database = \"metrics\"",
        "client" => "client = \"crate::CLIENT\"",
        "crate" => "crate = \"my_reexport::influx_series\"",
        "rename" => "rename = \"other_name\"",
        other => other,
    };
    format!("the correct format looks like #[series({example})]")
}

fn malformed(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Error {
    meta.error(format!("malformed `{key}` attribute: {}", format_hint(key)))
}

/// `= "text"` after a key.
fn string_value(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<LitStr> {
    let expr: Expr = meta.value().map_err(|_| malformed(meta, key))?.parse()?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s),
        other => Err(syn::Error::new(
            other.span(),
            format!("malformed `{key}` attribute: {}", format_hint(key)),
        )),
    }
}

impl Container {
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Container {
        let mut c = Container {
            name: Attr::none("name"),
            bulk_size: Attr::none("bulk_size"),
            autocommit: Attr::none("autocommit"),
            precision: Attr::none("precision"),
            retention_policy: Attr::none("retention_policy"),
            database: Attr::none("database"),
            client: Attr::none("client"),
            krate: Attr::none("crate"),
        };
        for attr in attrs.iter().filter(|a| a.path().is_ident("series")) {
            let result = attr.parse_nested_meta(|meta| {
                let span = meta.path.span();
                let key = meta
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                match key.as_str() {
                    // #[series(name = "events.stats.{server_name}")]
                    "name" => c.name.set(cx, span, string_value(&meta, "name")?),
                    // #[series(bulk_size = 5)]
                    "bulk_size" => {
                        let expr: Expr = meta
                            .value()
                            .map_err(|_| malformed(&meta, "bulk_size"))?
                            .parse()?;
                        let Expr::Lit(ExprLit {
                            lit: Lit::Int(n), ..
                        }) = &expr
                        else {
                            return Err(syn::Error::new(
                                expr.span(),
                                format!("malformed `bulk_size` attribute: {}", format_hint("bulk_size")),
                            ));
                        };
                        match n.base10_parse::<usize>() {
                            Ok(0) => cx.error_spanned_by(
                                n,
                                "`bulk_size = 0` would never commit: use 1 or more, or leave bulk_size out",
                            ),
                            Ok(v) => c.bulk_size.set(cx, span, v),
                            Err(e) => return Err(e),
                        }
                    }
                    // #[series(autocommit)] or #[series(autocommit = true)]
                    "autocommit" => {
                        let on = if meta.input.peek(syn::Token![=]) {
                            let expr: Expr = meta.value()?.parse()?;
                            match expr {
                                Expr::Lit(ExprLit {
                                    lit: Lit::Bool(b), ..
                                }) => b.value,
                                other => {
                                    return Err(syn::Error::new(
                                        other.span(),
                                        "malformed `autocommit` attribute: the correct format looks like #[series(autocommit)] or #[series(autocommit = false)]",
                                    ));
                                }
                            }
                        } else {
                            true
                        };
                        c.autocommit.set(cx, span, on);
                    }
                    // #[series(precision = "ms")]
                    "precision" => {
                        let lit = string_value(&meta, "precision")?;
                        let p = match lit.value().as_str() {
                            "n" | "ns" => Precision::Nanoseconds,
                            "u" | "us" => Precision::Microseconds,
                            "ms" => Precision::Milliseconds,
                            "s" => Precision::Seconds,
                            "m" => Precision::Minutes,
                            "h" => Precision::Hours,
                            _ => {
                                return Err(syn::Error::new(
                                    lit.span(),
                                    "unknown precision: expected one of \"ns\", \"u\", \"ms\", \"s\", \"m\", \"h\"",
                                ));
                            }
                        };
                        c.precision.set(cx, span, p);
                    }
                    // #[series(retention_policy = "one_week")]
                    "retention_policy" => {
                        let lit = string_value(&meta, "retention_policy")?;
                        c.retention_policy.set(cx, span, lit.value());
                    }
                    // #[series(database = "metrics")]
                    "database" => {
                        let lit = string_value(&meta, "database")?;
                        c.database.set(cx, span, lit.value());
                    }
                    // #[series(client = "crate::CLIENT")]
                    "client" => {
                        let lit = string_value(&meta, "client")?;
                        c.client.set(cx, span, lit.parse()?);
                    }
                    // #[series(crate = "path::to::influx_series")]
                    "crate" => {
                        let lit = string_value(&meta, "crate")?;
                        c.krate.set(cx, span, lit.parse()?);
                    }
                    _ => {
                        let shown = meta.path.clone().into_token_stream_string();
                        let hint = if MEMBER_KEYS.split(", ").any(|k| k == shown) {
                            format!(" (`{shown}` belongs on a member, not on the struct)")
                        } else {
                            String::new()
                        };
                        return Err(meta.error(format!(
                            "unknown series attribute `{shown}`{hint}; expected one of: {CONTAINER_KEYS}"
                        )));
                    }
                }
                Ok(())
            });
            if let Err(e) = result {
                cx.syn_error(e);
            }
        }
        c
    }
}

trait PathString {
    fn into_token_stream_string(self) -> String;
}

impl PathString for syn::Path {
    fn into_token_stream_string(self) -> String {
        quote::ToTokens::to_token_stream(&self)
            .to_string()
            .replace(' ', "")
    }
}

/// The role a member plays.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Role {
    Tag,
    Field,
    Time,
    Skip,
}

/// `#[series(...)]` on a member.
pub(crate) struct Member {
    pub(crate) tag: Attr<()>,
    pub(crate) field: Attr<()>,
    pub(crate) time: Attr<()>,
    pub(crate) skip: Attr<()>,
    pub(crate) rename: Attr<LitStr>,
}

impl Member {
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Member {
        let mut m = Member {
            tag: Attr::none("tag"),
            field: Attr::none("field"),
            time: Attr::none("time"),
            skip: Attr::none("skip"),
            rename: Attr::none("rename"),
        };
        for attr in attrs.iter().filter(|a| a.path().is_ident("series")) {
            let result = attr.parse_nested_meta(|meta| {
                let span = meta.path.span();
                let key = meta
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let flag = |meta: &ParseNestedMeta<'_>, key: &str| -> syn::Result<()> {
                    if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                        Err(meta.error(format!(
                            "malformed `{key}` attribute: the correct format looks like #[series({key})]"
                        )))
                    } else {
                        Ok(())
                    }
                };
                match key.as_str() {
                    // #[series(tag)]
                    "tag" => {
                        flag(&meta, "tag")?;
                        m.tag.set(cx, span, ());
                    }
                    // #[series(field)]
                    "field" => {
                        flag(&meta, "field")?;
                        m.field.set(cx, span, ());
                    }
                    // #[series(time)]
                    "time" => {
                        flag(&meta, "time")?;
                        m.time.set(cx, span, ());
                    }
                    // #[series(skip)]
                    "skip" => {
                        flag(&meta, "skip")?;
                        m.skip.set(cx, span, ());
                    }
                    // #[series(rename = "other")]
                    "rename" => m.rename.set(cx, span, string_value(&meta, "rename")?),
                    _ => {
                        let shown = meta.path.clone().into_token_stream_string();
                        let hint = if CONTAINER_KEYS.split(", ").any(|k| k == shown) {
                            format!(" (`{shown}` belongs on the struct, not on a member)")
                        } else {
                            String::new()
                        };
                        return Err(meta.error(format!(
                            "unknown series attribute `{shown}`{hint}; expected one of: {MEMBER_KEYS}"
                        )));
                    }
                }
                Ok(())
            });
            if let Err(e) = result {
                cx.syn_error(e);
            }
        }
        m
    }

    /// The role, or an error when several were given.
    pub(crate) fn role(&self, cx: &Ctxt) -> Role {
        let given: Vec<(Role, Span)> = [
            (Role::Tag, self.tag.span()),
            (Role::Field, self.field.span()),
            (Role::Time, self.time.span()),
            (Role::Skip, self.skip.span()),
        ]
        .into_iter()
        .filter_map(|(r, s)| s.map(|s| (r, s)))
        .collect();
        if let [first, second, ..] = given.as_slice() {
            let name = |r: Role| format!("{r:?}").to_lowercase();
            cx.error_at(
                second.1,
                format!(
                    "a member cannot be both `{}` and `{}`: choose one",
                    name(first.0),
                    name(second.0)
                ),
            );
        }
        given.first().map_or(Role::Field, |(r, _)| *r)
    }
}
