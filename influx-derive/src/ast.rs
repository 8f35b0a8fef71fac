//! The model of a `#[derive(Series)]` input: the container and its members, each keeping its
//! `syn` node for spans.

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Ident, Type};

use crate::attr::{self, Role};
use crate::ctxt::Ctxt;

pub(crate) struct Container<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) input: &'a DeriveInput,
    pub(crate) attrs: attr::Container,
    pub(crate) members: Vec<Member<'a>>,
}

pub(crate) struct Member<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) role: Role,
    pub(crate) attrs: attr::Member,
    /// The key on the wire: the `rename`, else the member's name.
    pub(crate) key: String,
    /// Where the key comes from (the `rename` literal, else the member's name).
    pub(crate) key_span: Span,
}

impl Member<'_> {
    /// Whether the member is a tag written through its `Display` text.
    pub(crate) fn display(&self) -> bool {
        self.role == Role::Tag && self.attrs.display.get().is_some()
    }
}

/// `T` of `Option<T>` (by the last path segment), or `None` for any other type.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Path(p) => {
            let last = p.path.segments.last()?;
            if last.ident != "Option" {
                return None;
            }
            match &last.arguments {
                syn::PathArguments::AngleBracketed(args) => {
                    args.args.iter().find_map(|a| match a {
                        syn::GenericArgument::Type(t) => Some(t),
                        _ => None,
                    })
                }
                _ => None,
            }
        }
        Type::Group(g) => option_inner(&g.elem),
        Type::Paren(p) => option_inner(&p.elem),
        _ => None,
    }
}

impl<'a> Container<'a> {
    /// The model, or `None` (with errors in `cx`) when the input is not a struct with named
    /// members.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Container<'a>> {
        let attrs = attr::Container::from_attrs(cx, &input.attrs);
        let fields = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => &named.named,
                Fields::Unnamed(unnamed) => {
                    cx.error_spanned_by(
                        unnamed,
                        "#[derive(Series)] needs named members (tags and fields take their keys from the member names); tuple structs are not supported: write `struct Name { key: Type, .. }`",
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "#[derive(Series)] needs a struct with at least one field member (a point without fields is not valid line protocol); a unit struct has none",
                    );
                    return None;
                }
            },
            Data::Enum(e) => {
                cx.error_spanned_by(
                    e.enum_token,
                    "#[derive(Series)] works on structs only: a series has one fixed set of tags and fields",
                );
                return None;
            }
            Data::Union(u) => {
                cx.error_spanned_by(u.union_token, "#[derive(Series)] works on structs only");
                return None;
            }
        };
        let members = fields
            .iter()
            .filter_map(|f| {
                let ident = f.ident.as_ref()?;
                let attrs = attr::Member::from_attrs(cx, &f.attrs);
                let role = attrs.role(cx);
                let (key, key_span) = match attrs.rename.get() {
                    Some(lit) => (lit.value(), lit.span()),
                    None => (ident.unraw().to_string(), ident.span()),
                };
                Some(Member {
                    ident,
                    ty: &f.ty,
                    role,
                    attrs,
                    key,
                    key_span,
                })
            })
            .collect();
        Some(Container {
            ident: &input.ident,
            input,
            attrs,
            members,
        })
    }

    pub(crate) fn members_with(&self, role: Role) -> impl Iterator<Item = &Member<'a>> {
        self.members.iter().filter(move |m| m.role == role)
    }
}

trait Unraw {
    fn unraw(&self) -> Ident;
}

impl Unraw for Ident {
    fn unraw(&self) -> Ident {
        let s = self.to_string();
        match s.strip_prefix("r#") {
            Some(rest) => Ident::new(rest, self.span()),
            None => self.clone(),
        }
    }
}
