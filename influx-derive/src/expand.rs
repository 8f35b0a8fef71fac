//! Writes the `Series` impl: keys escaped and tags sorted here, so the generated code only
//! escapes values at run time.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::quote;
use syn::{DeriveInput, LitByteStr, LitStr};

use crate::ast::{Container, Member, option_inner};
use crate::attr::{Autocommit, Role};
use crate::check;
use crate::ctxt::Ctxt;
use crate::rules::{self, NameKind};
use crate::template::{self, Piece};

pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let cont = Container::from_ast(&cx, input);
    if let Some(cont) = &cont {
        check::check(&cx, cont);
    }
    let krate = cont
        .as_ref()
        .and_then(|c| c.attrs.krate.get().cloned())
        .map_or_else(|| quote!(::influx_series), |p| quote!(#p));
    match (cx.check(), cont) {
        (Ok(()), Some(cont)) => {
            let write = expand(&cont, &krate);
            let read = crate::read::from_row(&cont, &krate);
            quote!(#write #read)
        }
        (Err(errors), _) => {
            let errors = errors.to_compile_error();
            let stub = fallback(input, &krate);
            quote!(#errors #stub)
        }
        (Ok(()), None) => fallback(input, &krate),
    }
}

/// An impl with no body next to the errors, so that one bad attribute does not also make
/// every `T::record()` in the user's crate an error.
fn fallback(input: &DeriveInput, krate: &TokenStream) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::Series for #ident #ty_generics #where_clause {
                fn write_line(
                    &self,
                    _: &mut ::std::vec::Vec<::core::primitive::u8>,
                ) -> ::core::result::Result<(), #krate::EncodeError> {
                    ::core::unimplemented!()
                }
                fn __buffer() -> &'static #krate::__private::SeriesBuffer {
                    ::core::unimplemented!()
                }
                fn __schema() -> &'static #krate::__private::SeriesSchema {
                    ::core::unimplemented!()
                }
            }
        };
    }
}

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `tokens` with every span set to `span` (for an expression whose errors belong to one token
/// of the user's). Only for paths and punctuation: no local variable may be named in `tokens`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(g) = &tt {
                let mut group = Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tt = TokenTree::Group(group);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

fn byte_lit(bytes: Vec<u8>) -> LitByteStr {
    LitByteStr::new(&bytes, Span::call_site())
}

fn expand(cont: &Container<'_>, krate: &TokenStream) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.input.generics.split_for_impl();
    let private = quote!(#krate::__private);
    let precision = cont.attrs.precision_path(krate);

    // One check per member, first in the body: a type that cannot play its role is reported
    // once, under the member's type (the generic argument), as "required by a bound in
    // `assert_tag`". The later uses of the member name the type in the same way, at the same
    // span, so rustc folds their identical errors into this one.
    let asserts = cont.members.iter().filter_map(|m| {
        let check = match m.role {
            Role::Tag if m.display() => quote!(assert_display),
            Role::Tag => quote!(assert_tag),
            Role::Field => quote!(assert_field),
            Role::Time => quote!(assert_time),
            Role::Skip => return None,
        };
        // A `display` tag that is an `Option` prints its inner value.
        let ty = if m.display() {
            option_inner(m.ty).unwrap_or(m.ty)
        } else {
            m.ty
        };
        Some(quote!(#private::#check::<#ty>();))
    });

    let measurement = measurement(cont, &private);

    let mut tags: Vec<&Member<'_>> = cont.members_with(Role::Tag).collect();
    tags.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    let tags = tags.iter().map(|m| {
        let mut prefix = vec![b','];
        prefix.extend(rules::escape(NameKind::TagKey, &m.key));
        prefix.push(b'=');
        let prefix = byte_lit(prefix);
        let key = &m.key;
        let member = m.ident;
        let ty = m.ty;
        match (m.display(), option_inner(m.ty)) {
            (true, Some(inner)) => quote! {
                if let ::core::option::Option::Some(__value) = &self.#member {
                    #private::tag_display::<#inner>(__out, #prefix, #key, __value)?;
                }
            },
            (true, None) => quote! {
                #private::tag_display::<#ty>(__out, #prefix, #key, &self.#member)?;
            },
            (false, _) => quote! {
                #private::tag::<#ty>(__out, #prefix, #key, &self.#member)?;
            },
        }
    });

    let fields = cont.members_with(Role::Field).map(|m| {
        let mut key_eq = rules::escape(NameKind::FieldKey, &m.key);
        key_eq.push(b'=');
        let key_eq = byte_lit(key_eq);
        let key = &m.key;
        let member = m.ident;
        let ty = m.ty;
        quote! {
            #private::field::<#ty>(__out, &mut __sep, #key_eq, #key, &self.#member)?;
        }
    });

    // influxd's key-length rule, checked at run time only when the longest declared field key
    // could break it: the slow path finds the longest field key actually written.
    let longest_field_key = cont
        .members_with(Role::Field)
        .map(|m| rules::escape(NameKind::FieldKey, &m.key).len())
        .max()
        .unwrap_or(0);
    let present_keys = cont.members_with(Role::Field).map(|m| {
        let len = rules::escape(NameKind::FieldKey, &m.key).len();
        let key = &m.key;
        let member = m.ident;
        let ty = m.ty;
        quote! {
            if #private::present::<#ty>(&self.#member) && #len > __longest.0 {
                __longest = (#len, #key);
            }
        }
    });

    let time = match cont.members_with(Role::Time).next() {
        Some(m) => {
            let member = m.ident;
            let ty = m.ty;
            quote! {
                #private::time::<#ty>(__out, &self.#member, #precision)?;
            }
        }
        None => quote!(#private::now(__out, #precision);),
    };

    let opt_str = |v: Option<&String>| match v {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    };
    let database = opt_str(cont.attrs.database.get());
    let retention_policy = opt_str(cont.attrs.retention_policy.get());
    let bulk_size = match cont.attrs.bulk_size.get() {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let mode = cont.attrs.autocommit.get().copied();
    let autocommit = mode.is_some_and(|m| m != Autocommit::Off);
    let background = mode == Some(Autocommit::Background);
    let opt_usize = |v: Option<&usize>| match v {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let max_pending = opt_usize(cont.attrs.max_pending.get());
    let max_pending_bytes = opt_usize(cont.attrs.max_pending_bytes.get());
    let (client_fn, client) = match cont.attrs.client.get() {
        Some(path) => {
            // The call spanned by the `client` string alone, so that a static of the wrong type
            // is reported there rather than on the derive.
            let call = respan(
                quote!(#private::client_of(&#path)),
                syn::spanned::Spanned::span(path),
            );
            (
                quote! {
                    fn __series_client() -> ::core::option::Option<&'static #private::Client> {
                        #call
                    }
                },
                quote!(::core::option::Option::Some(__series_client)),
            )
        }
        None => (quote!(), quote!(::core::option::Option::None)),
    };
    let type_name = ident.to_string();
    let select = select_query(cont);
    let schema = schema(cont, &private, &precision, &database, &retention_policy);

    quote! {
        const _: () = {
            #client_fn

            #[automatically_derived]
            impl #impl_generics #krate::Series for #ident #ty_generics #where_clause {
                fn write_line(
                    &self,
                    __out: &mut ::std::vec::Vec<::core::primitive::u8>,
                ) -> ::core::result::Result<(), #krate::EncodeError> {
                    #(#asserts)*
                    let __start = __out.len();
                    #measurement
                    #(#tags)*
                    let __series_key = __out.len() - __start;
                    let mut __sep: ::core::primitive::u8 = b' ';
                    #(#fields)*
                    #private::end_fields(__sep)?;
                    #private::key_length(__series_key, #longest_field_key, || {
                        let mut __longest: (::core::primitive::usize, &'static ::core::primitive::str) = (0, "");
                        #(#present_keys)*
                        __longest
                    })?;
                    #time
                    ::core::result::Result::Ok(())
                }

                fn __buffer() -> &'static #private::SeriesBuffer {
                    static __BUFFER: #private::SeriesBuffer =
                        #private::SeriesBuffer::new(#private::SeriesMeta {
                            type_name: #type_name,
                            bulk_size: #bulk_size,
                            autocommit: #autocommit,
                            background: #background,
                            max_pending: #max_pending,
                            max_pending_bytes: #max_pending_bytes,
                            precision: #precision,
                            database: #database,
                            retention_policy: #retention_policy,
                            client: #client,
                            select: #select,
                        });
                    &__BUFFER
                }

                fn __schema() -> &'static #private::SeriesSchema {
                    // Built at the first call, where the member types' lifetimes are in scope.
                    static __SCHEMA: ::std::sync::OnceLock<#private::SeriesSchema> =
                        ::std::sync::OnceLock::new();
                    __SCHEMA.get_or_init(|| #schema)
                }
            }
        };
    }
}

/// The measurement: escaped here when it is static, built and escaped at run time when the
/// template has placeholders.
fn measurement(cont: &Container<'_>, private: &TokenStream) -> TokenStream {
    let name =
        cont.attrs.name.get().cloned().unwrap_or_else(|| {
            LitStr::new(&snake_case(&cont.ident.to_string()), cont.ident.span())
        });
    // `check` has already accepted the template.
    let pieces = template::parse(&name.value()).unwrap_or_default();
    if let Some(text) = template::literal(&pieces) {
        let escaped = byte_lit(rules::escape(NameKind::Measurement, &text));
        return quote!(#private::measurement(__out, #escaped););
    }
    let parts = pieces.iter().map(|piece| match piece {
        Piece::Lit(text) => quote!(#private::template_lit(__name, #text);),
        Piece::Placeholder(name) => {
            let Some(m) = cont
                .members
                .iter()
                .find(|m| m.ident.to_string().trim_start_matches("r#") == name)
            else {
                return quote!();
            };
            let member = m.ident;
            let member_name = member.to_string();
            let ty = m.ty;
            if m.display() {
                match option_inner(m.ty) {
                    Some(inner) => quote! {
                        match &self.#member {
                            ::core::option::Option::Some(__value) => {
                                #private::template_display::<#inner>(__name, __value);
                            }
                            ::core::option::Option::None => {
                                return ::core::result::Result::Err(#private::missing(#member_name));
                            }
                        }
                    },
                    None => quote!(#private::template_display::<#ty>(__name, &self.#member);),
                }
            } else if m.role == Role::Tag {
                quote!(#private::template_tag::<#ty>(__name, #member_name, &self.#member)?;)
            } else {
                quote!(#private::template_field::<#ty>(__name, #member_name, &self.#member)?;)
            }
        }
    });
    quote! {
        #private::template(__out, |__name| {
            #(#parts)*
            ::core::result::Result::Ok(())
        })?;
    }
}

/// What the type declares (`Series::schema`): its name or template, tags, fields with the
/// type each member's `FieldValue` says, time, precision, database and retention policy.
fn schema(
    cont: &Container<'_>,
    private: &TokenStream,
    precision: &TokenStream,
    database: &TokenStream,
    retention_policy: &TokenStream,
) -> TokenStream {
    let type_name = cont.ident.to_string();
    let name = measurement_name(cont);
    let pieces = template::parse(&name).unwrap_or_default();
    // A name without placeholders is the one written (`{{` unescaped); a template stays as
    // declared, with the regex of the names it can produce.
    let (name, pattern) = match template::literal(&pieces) {
        Some(text) => (text, quote!(::core::option::Option::None)),
        None => {
            let pattern = name_pattern(&pieces);
            (name, quote!(::core::option::Option::Some(#pattern)))
        }
    };
    let tags = cont.members_with(Role::Tag).map(|m| &m.key);
    let fields = cont.members_with(Role::Field).map(|m| {
        let key = &m.key;
        let ty = m.ty;
        // Through the member's check, so that a type that cannot be a field is reported once.
        quote!(#private::FieldSchema::__new(#key, #private::assert_field::<#ty>()))
    });
    let time = match cont.members_with(Role::Time).next() {
        Some(m) => {
            let name = m.ident.to_string();
            let name = name.trim_start_matches("r#");
            quote!(::core::option::Option::Some(#name))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        #private::SeriesSchema::__new(
            #type_name,
            #name,
            #pattern,
            &[#(#tags),*],
            ::std::boxed::Box::leak(::std::boxed::Box::new([#(#fields),*])),
            #time,
            #precision,
            #database,
            #retention_policy,
        )
    }
}

/// The type's measurement as declared (`name`), or its name in snake case.
fn measurement_name(cont: &Container<'_>) -> String {
    cont.attrs
        .name
        .get()
        .map(LitStr::value)
        .unwrap_or_else(|| snake_case(&cont.ident.to_string()))
}

/// A regex (without slashes) that matches every name a template can produce: its literal parts
/// escaped, each placeholder as `.*`.
fn name_pattern(pieces: &[Piece]) -> String {
    let mut regex = String::from("^");
    for piece in pieces {
        match piece {
            Piece::Lit(text) => {
                for c in text.chars() {
                    if "\\.+*?()|[]{}^$/".contains(c) {
                        regex.push('\\');
                    }
                    regex.push(c);
                }
            }
            Piece::Placeholder(_) => regex.push_str(".*"),
        }
    }
    regex.push('$');
    regex
}

/// `SELECT * FROM` the type's measurement: quoted when static; for a template, a regex that
/// matches every name it can produce (literal parts escaped, placeholders as `.*`).
fn select_query(cont: &Container<'_>) -> String {
    let name = measurement_name(cont);
    let pieces = template::parse(&name).unwrap_or_default();
    let from = match template::literal(&pieces) {
        Some(text) => quote_ident(&text),
        None => format!("/{}/", name_pattern(&pieces)),
    };
    match cont.attrs.retention_policy.get() {
        Some(rp) => format!("SELECT * FROM {}.{from}", quote_ident(rp)),
        None => format!("SELECT * FROM {from}"),
    }
}

/// An InfluxQL identifier in double quotes.
fn quote_ident(name: &str) -> String {
    let mut out = String::from("\"");
    for c in name.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
