//! Parses `#[series(...)]` on the container and on members.

use proc_macro2::{Span, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr};

use crate::ctxt::Ctxt;

const CONTAINER_KEYS: &str = "name, bulk_size, autocommit, max_pending, max_pending_bytes, precision, retention_policy, database, client, crate";
const MEMBER_KEYS: &str = "tag, field, time, rename, skip, display";

/// One attribute value, remembering where it was set (for the rules that point at it).
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
            cx.error_at(
                span,
                format!("duplicate series attribute `{}`: keep only one", self.name),
            );
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

/// When a type commits by itself (`autocommit`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Autocommit {
    /// `autocommit = false`, or no `autocommit`: only `commit()` writes.
    Off,
    /// `autocommit`: the `record()` that reaches `bulk_size` commits, in its thread.
    InCall,
    /// `autocommit = "background"`: that `record()` starts the commit on a thread of its own.
    Background,
}

/// `#[series(...)]` on the struct.
pub(crate) struct Container {
    pub(crate) name: Attr<LitStr>,
    pub(crate) bulk_size: Attr<usize>,
    pub(crate) autocommit: Attr<Autocommit>,
    pub(crate) max_pending: Attr<usize>,
    pub(crate) max_pending_bytes: Attr<usize>,
    pub(crate) precision: Attr<Precision>,
    pub(crate) retention_policy: Attr<String>,
    pub(crate) database: Attr<String>,
    pub(crate) client: Attr<syn::Path>,
    pub(crate) krate: Attr<syn::Path>,
}

/// What a key's value must be, for the messages.
fn expected(key: &str) -> &'static str {
    match key {
        "bulk_size" | "max_pending" | "max_pending_bytes" => "a positive integer",
        "autocommit" => "`true`, `false` or `\"background\"`",
        "client" => "a string holding the path of a client static",
        "crate" => "a string holding the path of the influx_series crate",
        _ => "a string literal",
    }
}

fn format_hint(key: &str) -> String {
    let example = match key {
        "name" => "name = \"cpu.{host}\"",
        "bulk_size" => "bulk_size = 5",
        "max_pending" => "max_pending = 100_000",
        "max_pending_bytes" => "max_pending_bytes = 16_777_216",
        "autocommit" => "autocommit",
        "precision" => "precision = \"ms\"",
        "retention_policy" => "retention_policy = \"one_week\"",
        "database" => "database = \"metrics\"",
        "client" => "client = \"crate::CLIENT\"",
        "crate" => "crate = \"my_reexport::influx_series\"",
        "rename" => "rename = \"other_name\"",
        "display" => "tag, display",
        other => other,
    };
    format!("the correct format looks like #[series({example})]")
}

/// `key = N` with a positive integer `N`; `None` (with an error reported) for zero.
fn positive(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    key: &str,
    zero_means: &str,
) -> syn::Result<Option<usize>> {
    let expr: Expr = ungroup(meta.value().map_err(|_| malformed(meta, key))?.parse()?);
    let Expr::Lit(ExprLit {
        lit: Lit::Int(n), ..
    }) = &expr
    else {
        return Err(malformed_value(&expr, key));
    };
    match n.base10_parse::<usize>()? {
        0 => {
            cx.error_spanned_by(
                n,
                format!("`{key} = 0` {zero_means}: use 1 or more, or leave {key} out"),
            );
            Ok(None)
        }
        v => Ok(Some(v)),
    }
}

/// `key` without its `= value`.
fn malformed(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Error {
    meta.error(format!(
        "malformed `{key}` attribute: `{key}` needs a value ({}); {}",
        expected(key),
        format_hint(key)
    ))
}

/// `key = value` with a value of the wrong kind.
fn malformed_value(value: &Expr, key: &str) -> syn::Error {
    syn::Error::new_spanned(
        value,
        format!(
            "malformed `{key}` attribute: expected {}; {}",
            expected(key),
            format_hint(key)
        ),
    )
}

/// After an error inside one `key = value`, skips to the next `,` so that the other keys of
/// the attribute are still parsed (and their errors reported with this one).
fn skip_rest(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    meta.input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tt, next)) = rest.token_tree() {
            if matches!(&tt, TokenTree::Punct(p) if p.as_char() == ',') {
                break;
            }
            rest = next;
        }
        Ok(((), rest))
    })
}

/// Parses every `key` of a `#[series(...)]` with `one`; an error in one key is recorded and
/// the next key is parsed all the same.
fn parse_keys(
    cx: &Ctxt,
    attr: &Attribute,
    mut one: impl FnMut(&ParseNestedMeta<'_>) -> syn::Result<()>,
) {
    let result = attr.parse_nested_meta(|meta| {
        if let Err(e) = one(&meta) {
            cx.syn_error(e);
            skip_rest(&meta)?;
        }
        Ok(())
    });
    if let Err(e) = result {
        cx.syn_error(e);
    }
}

/// The message for a key that is none of `valid` (a comma-separated list), with a guess at
/// the intended one and a word when the key belongs on the other level.
fn unknown_key(shown: &str, valid: &str, other_level: (&str, &str)) -> String {
    let (other_keys, where_it_belongs) = other_level;
    let hint = if other_keys.split(", ").any(|k| k == shown) {
        format!(" (`{shown}` belongs {where_it_belongs})")
    } else if let Some(guess) = did_you_mean(shown, valid) {
        format!(" (did you mean `{guess}`?)")
    } else {
        String::new()
    };
    format!("unknown series attribute `{shown}`{hint}; expected one of: {valid}")
}

/// The valid key that `shown` most likely meant: a common other name, or the closest one.
fn did_you_mean<'a>(shown: &str, valid: &'a str) -> Option<&'a str> {
    let alias = match shown {
        "measurement" | "series" | "series_name" => "name",
        "db" => "database",
        "rp" | "retention" => "retention_policy",
        "batch_size" | "bulk" => "bulk_size",
        "auto_commit" => "autocommit",
        "timestamp" => "time",
        "ignore" | "skip_serializing" => "skip",
        _ => "",
    };
    valid
        .split(", ")
        .find(|&k| k == alias)
        .or_else(|| closest(shown, valid.split(", ")))
}

/// The candidate closest to `shown`: a spelling at most two edits away, or a prefix.
pub(crate) fn closest<'a>(
    shown: &str,
    candidates: impl Iterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    let shown_lower = shown.to_lowercase();
    candidates
        .clone()
        .map(|k| (edit_distance(&shown_lower, k), k))
        .filter(|&(d, k)| d <= 2 && d < k.len().min(shown.len()))
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
        .or_else(|| {
            candidates.into_iter().find(|k| {
                shown.len() >= 3 && k.len() >= 3 && (k.starts_with(shown) || shown.starts_with(k))
            })
        })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The path in a `client` or `crate` string.
fn parse_path(lit: &LitStr, key: &str) -> syn::Result<syn::Path> {
    lit.parse().map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!(
                "malformed `{key}` attribute: `{}` is not a path; expected {}; {}",
                lit.value().escape_debug(),
                expected(key),
                format_hint(key)
            ),
        )
    })
}

/// `= "text"` after a key.
fn string_value(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<LitStr> {
    let expr: Expr = meta.value().map_err(|_| malformed(meta, key))?.parse()?;
    match ungroup(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s),
        other => Err(malformed_value(&other, key)),
    }
}

/// A literal passed through a `macro_rules!` fragment (`$p:literal`) arrives wrapped in an
/// invisible group; look through it.
pub(crate) fn ungroup(expr: Expr) -> Expr {
    match expr {
        Expr::Group(g) => ungroup(*g.expr),
        other => other,
    }
}

impl Container {
    /// `krate::Precision::Variant` for the `precision` attribute (default nanoseconds).
    pub(crate) fn precision_path(
        &self,
        krate: &proc_macro2::TokenStream,
    ) -> proc_macro2::TokenStream {
        let variant = syn::Ident::new(
            self.precision
                .get()
                .copied()
                .unwrap_or(Precision::Nanoseconds)
                .variant(),
            Span::call_site(),
        );
        quote::quote!(#krate::Precision::#variant)
    }

    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Container {
        let mut c = Container {
            name: Attr::none("name"),
            bulk_size: Attr::none("bulk_size"),
            autocommit: Attr::none("autocommit"),
            max_pending: Attr::none("max_pending"),
            max_pending_bytes: Attr::none("max_pending_bytes"),
            precision: Attr::none("precision"),
            retention_policy: Attr::none("retention_policy"),
            database: Attr::none("database"),
            client: Attr::none("client"),
            krate: Attr::none("crate"),
        };
        for attr in attrs.iter().filter(|a| a.path().is_ident("series")) {
            parse_keys(cx, attr, |meta| c.parse_key(cx, meta));
        }
        if c.autocommit.get() == Some(&Autocommit::Background) && c.bulk_size.get().is_none() {
            if let Some(span) = c.autocommit.span() {
                cx.error_at(
                    span,
                    "`autocommit = \"background\"` needs `bulk_size`: without it every point is a commit, and each would start a thread; the correct format looks like #[series(bulk_size = 1000, autocommit = \"background\")]",
                );
            }
        }
        c
    }

    fn parse_key(&mut self, cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let (span, key) = key_of(meta);
        match key.as_str() {
            // #[series(name = "events.stats.{server_name}")]
            "name" => self.name.set(cx, span, string_value(meta, "name")?),
            // #[series(bulk_size = 5)]
            "bulk_size" => {
                if let Some(v) = positive(cx, meta, "bulk_size", "would never commit")? {
                    self.bulk_size.set(cx, span, v);
                }
            }
            // #[series(max_pending = 100_000)]
            "max_pending" => {
                if let Some(v) = positive(cx, meta, "max_pending", "would take no point")? {
                    self.max_pending.set(cx, span, v);
                }
            }
            // #[series(max_pending_bytes = 16_777_216)]
            "max_pending_bytes" => {
                if let Some(v) = positive(cx, meta, "max_pending_bytes", "would take no point")? {
                    self.max_pending_bytes.set(cx, span, v);
                }
            }
            // #[series(autocommit)], #[series(autocommit = true)] or
            // #[series(autocommit = "background")]
            "autocommit" => {
                const FORMAT: &str = "the correct format looks like #[series(autocommit)], #[series(autocommit = false)] or #[series(autocommit = \"background\")]";
                let on = if meta.input.peek(syn::Token![=]) {
                    let expr: Expr = ungroup(meta.value()?.parse()?);
                    match expr {
                        Expr::Lit(ExprLit {
                            lit: Lit::Bool(b), ..
                        }) if b.value => Autocommit::InCall,
                        Expr::Lit(ExprLit {
                            lit: Lit::Bool(_), ..
                        }) => Autocommit::Off,
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(s), ..
                        }) if s.value() == "background" => Autocommit::Background,
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(s), ..
                        }) => {
                            return Err(syn::Error::new_spanned(
                                &s,
                                format!(
                                    "unknown autocommit mode {:?}: the one mode by name is \"background\" (commits run on a thread of their own, so record() never waits for the server); {FORMAT}",
                                    s.value()
                                ),
                            ));
                        }
                        other => {
                            return Err(syn::Error::new_spanned(
                                other,
                                format!(
                                    "malformed `autocommit` attribute: expected `true`, `false` or `\"background\"`; {FORMAT}"
                                ),
                            ));
                        }
                    }
                } else {
                    Autocommit::InCall
                };
                self.autocommit.set(cx, span, on);
            }
            // #[series(precision = "ms")]
            "precision" => {
                let lit = string_value(meta, "precision")?;
                let p = match lit.value().as_str() {
                    "n" | "ns" => Precision::Nanoseconds,
                    "u" | "us" => Precision::Microseconds,
                    "ms" => Precision::Milliseconds,
                    "s" => Precision::Seconds,
                    "m" => Precision::Minutes,
                    "h" => Precision::Hours,
                    other => {
                        return Err(syn::Error::new(
                            lit.span(),
                            format!(
                                "unknown precision `{}`: expected one of \"ns\", \"us\" (or \"u\"), \"ms\", \"s\", \"m\", \"h\"",
                                other.escape_debug()
                            ),
                        ));
                    }
                };
                self.precision.set(cx, span, p);
            }
            // #[series(retention_policy = "one_week")]
            "retention_policy" => {
                let lit = string_value(meta, "retention_policy")?;
                self.retention_policy.set(cx, span, lit.value());
            }
            // #[series(database = "metrics")]
            "database" => {
                let lit = string_value(meta, "database")?;
                self.database.set(cx, span, lit.value());
            }
            // #[series(client = "crate::CLIENT")]
            "client" => {
                let lit = string_value(meta, "client")?;
                let path = parse_path(&lit, "client")?;
                self.client.set(cx, span, path);
            }
            // #[series(crate = "path::to::influx_series")]
            "crate" => {
                let lit = string_value(meta, "crate")?;
                let path = parse_path(&lit, "crate")?;
                self.krate.set(cx, span, path);
            }
            _ => {
                let shown = meta.path.clone().into_token_stream_string();
                return Err(meta.error(unknown_key(
                    &shown,
                    CONTAINER_KEYS,
                    (MEMBER_KEYS, "on a member, not on the struct"),
                )));
            }
        }
        Ok(())
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
    pub(crate) display: Attr<()>,
}

/// Where a key of `#[series(...)]` is, and its name (empty for a path that is no identifier).
fn key_of(meta: &ParseNestedMeta<'_>) -> (Span, String) {
    let key = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    (meta.path.span(), key)
}

impl Member {
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Member {
        let mut m = Member {
            tag: Attr::none("tag"),
            field: Attr::none("field"),
            time: Attr::none("time"),
            skip: Attr::none("skip"),
            rename: Attr::none("rename"),
            display: Attr::none("display"),
        };
        for attr in attrs.iter().filter(|a| a.path().is_ident("series")) {
            parse_keys(cx, attr, |meta| m.parse_key(cx, meta));
        }
        m
    }

    fn parse_key(&mut self, cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let (span, key) = key_of(meta);
        let flag = |key: &str| -> syn::Result<()> {
            if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                Err(meta.error(format!(
                    "malformed `{key}` attribute: `{key}` takes no value; the correct format looks like #[series({key})]"
                )))
            } else {
                Ok(())
            }
        };
        match key.as_str() {
            // #[series(tag)]
            "tag" => {
                flag("tag")?;
                self.tag.set(cx, span, ());
            }
            // #[series(field)]
            "field" => {
                flag("field")?;
                self.field.set(cx, span, ());
            }
            // #[series(time)]
            "time" => {
                flag("time")?;
                self.time.set(cx, span, ());
            }
            // #[series(skip)]
            "skip" => {
                flag("skip")?;
                self.skip.set(cx, span, ());
            }
            // #[series(rename = "other")]
            "rename" => self.rename.set(cx, span, string_value(meta, "rename")?),
            // #[series(tag, display)]
            "display" => {
                flag("display")?;
                self.display.set(cx, span, ());
            }
            _ => {
                let shown = meta.path.clone().into_token_stream_string();
                return Err(meta.error(unknown_key(
                    &shown,
                    MEMBER_KEYS,
                    (CONTAINER_KEYS, "on the struct, not on a member"),
                )));
            }
        }
        Ok(())
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
