//! Rules that span the container or several members. Each `check_*` says the rule and why.

use std::collections::BTreeMap;

use syn::GenericParam;

use crate::ast::Container;
use crate::attr::{self, Role};
use crate::ctxt::Ctxt;
use crate::rules::{self, NameKind};
use crate::template::{self, Piece};

pub(crate) fn check(cx: &Ctxt, cont: &Container<'_>) {
    // Roughly in source order: the name (in the struct's attribute), the generics, then the
    // members.
    check_name(cx, cont);
    check_generics(cx, cont);
    check_has_field(cx, cont);
    check_one_time(cx, cont);
    check_keys(cx, cont);
    check_renames(cx, cont);
    check_display(cx, cont);
}

/// `display` writes a tag through its `Display` text (and reads it back through `FromStr`); a
/// field has a type of its own on the wire, so the option means nothing there.
fn check_display(cx: &Ctxt, cont: &Container<'_>) {
    for m in &cont.members {
        if let Some(span) = m.attrs.display.span() {
            if m.role != Role::Tag {
                cx.error_at(
                    span,
                    "`display` applies to tags only: it writes a tag through its `Display` text; write #[series(tag, display)], or drop `display` for a field",
                );
            }
        }
    }
}

/// Type and const generics are refused: the per-type buffer is a `static`, and a static in a
/// generic impl is shared by every instantiation, so `S<A>` and `S<B>` would mix their points.
/// Lifetimes are fine (they do not change what is buffered).
fn check_generics(cx: &Ctxt, cont: &Container<'_>) {
    for param in &cont.input.generics.params {
        match param {
            GenericParam::Type(t) => cx.error_spanned_by(
                &t.ident,
                "#[derive(Series)] does not support type parameters: each Series type has one buffer (a static), which a generic type would share between all its instantiations; use a concrete type",
            ),
            GenericParam::Const(c) => cx.error_spanned_by(
                &c.ident,
                "#[derive(Series)] does not support const parameters: each Series type has one buffer (a static), which a generic type would share between all its instantiations; use a concrete type",
            ),
            GenericParam::Lifetime(_) => {}
        }
    }
}

/// A point needs at least one field (1.x rejects a line without one).
fn check_has_field(cx: &Ctxt, cont: &Container<'_>) {
    if cont.members_with(Role::Field).next().is_none() {
        cx.error_spanned_by(
            cont.ident,
            "a series needs at least one field (InfluxDB 1.x rejects a point without one): members are fields unless marked #[series(tag)], #[series(time)] or #[series(skip)]",
        );
    }
}

/// A point has one timestamp.
fn check_one_time(cx: &Ctxt, cont: &Container<'_>) {
    let times: Vec<_> = cont.members_with(Role::Time).collect();
    for extra in times.iter().skip(1) {
        // Point at the second `time` key: removing it is the fix.
        let span = extra
            .attrs
            .time
            .span()
            .unwrap_or_else(|| extra.ident.span());
        cx.error_at(
            span,
            format!(
                "a series has one time member, and `{}` is already #[series(time)]: `{}` must be a tag, a field or skipped",
                times[0].ident, extra.ident
            ),
        );
    }
}

/// Keys must follow the line-protocol rules (checked here, so only values are escaped at run
/// time), and two members may not write the same key: the server would keep one of them.
fn check_keys(cx: &Ctxt, cont: &Container<'_>) {
    let mut seen: BTreeMap<&str, &syn::Ident> = BTreeMap::new();
    for m in &cont.members {
        let kind = match m.role {
            Role::Tag => NameKind::TagKey,
            Role::Field => NameKind::FieldKey,
            Role::Time | Role::Skip => continue,
        };
        let what = if m.role == Role::Tag { "tag" } else { "field" };
        let renamed = m.attrs.rename.get().is_some();
        if m.key == "time" {
            let fix = if renamed {
                "choose another key"
            } else {
                "mark the member #[series(time)] if it is the point's timestamp, or give it another key with #[series(rename = \"...\")]"
            };
            cx.error_at(
                m.key_span,
                format!(
                    "`time` cannot be a {what} key: InfluxDB 1.x reserves it and silently drops a {what} named `time`; {fix}"
                ),
            );
            continue;
        }
        if let Some(problem) = rules::check_name(kind, &m.key) {
            let fix = if renamed {
                ""
            } else {
                "; give the member another key with #[series(rename = \"...\")]"
            };
            cx.error_at(
                m.key_span,
                format!("the {what} key `{}` {problem}{fix}", m.key.escape_debug()),
            );
            continue;
        }
        if let Some(first) = seen.insert(&m.key, m.ident) {
            cx.error_at(
                m.key_span,
                format!(
                    "`{}` writes the key `{}`, as `{first}` does already: two members cannot share a key (the server would keep one value); rename one of them",
                    m.ident, m.key
                ),
            );
        }
    }
}

/// `rename` changes a key; the time member and skipped members have none.
fn check_renames(cx: &Ctxt, cont: &Container<'_>) {
    for m in &cont.members {
        if matches!(m.role, Role::Time | Role::Skip) {
            if let Some(span) = m.attrs.rename.span() {
                let why = if m.role == Role::Time {
                    "the time member is written as the point's timestamp, without a key"
                } else {
                    "a skipped member is not written"
                };
                cx.error_at(
                    span,
                    format!("`rename` applies to tags and fields only: {why}"),
                );
            }
        }
    }
}

/// The series name: a valid measurement, and every placeholder names a tag or field member.
fn check_name(cx: &Ctxt, cont: &Container<'_>) {
    let Some(lit) = cont.attrs.name.get() else {
        return;
    };
    let pieces = match template::parse(&lit.value()) {
        Ok(p) => p,
        Err(message) => {
            cx.error_spanned_by(lit, message);
            return;
        }
    };
    if pieces.is_empty() {
        cx.error_spanned_by(lit, "the series name is empty");
        return;
    }
    for piece in &pieces {
        let Piece::Placeholder(name) = piece else {
            continue;
        };
        match cont
            .members
            .iter()
            .find(|m| m.ident.to_string().trim_start_matches("r#") == name)
        {
            None => {
                let members: Vec<String> = cont
                    .members
                    .iter()
                    .filter(|m| matches!(m.role, Role::Tag | Role::Field))
                    .map(|m| m.ident.to_string().trim_start_matches("r#").to_owned())
                    .collect();
                let guess = attr::closest(name, members.iter().map(String::as_str))
                    .map(|g| format!(" (did you mean `{{{g}}}`?)"))
                    .unwrap_or_default();
                let listed: Vec<String> = members.iter().map(|m| format!("`{m}`")).collect();
                cx.error_spanned_by(
                    lit,
                    format!(
                        "the placeholder `{{{name}}}` in the series name names no member{guess}; a placeholder names a tag or field member: {}",
                        listed.join(", ")
                    ),
                );
            }
            Some(m) if m.role == Role::Time => cx.error_spanned_by(
                lit,
                format!(
                    "the placeholder `{{{name}}}` names the time member; placeholders name tags or fields (the time is the point's timestamp, not part of its name)"
                ),
            ),
            Some(m) if m.role == Role::Skip => cx.error_spanned_by(
                lit,
                format!(
                    "the placeholder `{{{name}}}` names `{name}`, which is #[series(skip)]; placeholders name tags or fields: remove the `skip` or the placeholder"
                ),
            ),
            Some(_) => {}
        }
    }
    if let Some(name) = template::literal(&pieces) {
        if let Some(problem) = rules::check_name(NameKind::Measurement, &name) {
            cx.error_spanned_by(lit, format!("the series name {problem}"));
        }
    }
}
