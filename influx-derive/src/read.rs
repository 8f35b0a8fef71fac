//! Writes the `FromRow` impl: query rows decoded into the same struct, columns matched by the
//! keys the write side uses.
//!
//! Every bound on a member type mentions the impl's source parameter `__S`, so a member that
//! cannot be decoded (a `&str`, a type without `FromCell`) is an error where rows are read
//! (`client.query_as::<T>`), not on the struct: the struct can still be written.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{GenericParam, Type};

use crate::ast::{Container, Member, option_inner};
use crate::attr::Role;

/// True for `Option<...>` (by its last path segment): such members may be absent.
fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        Type::Group(g) => is_option(&g.elem),
        Type::Paren(p) => is_option(&p.elem),
        _ => false,
    }
}

/// The value of a tag member from its text (`text`, an `Option<&str>` expression).
fn tag_value(m: &Member<'_>, krate: &TokenStream, text: TokenStream) -> TokenStream {
    let ty = m.ty;
    match (m.display(), option_inner(m.ty)) {
        (true, Some(inner)) => quote! {
            #krate::__private::parsed_opt::<#inner, __S>(#text)?
        },
        (true, None) => quote! {
            <#krate::__private::Parsed<#ty> as #krate::FromTag<__S>>::from_tag(#text)?.0
        },
        (false, _) => quote! {
            <#ty as #krate::FromTag<__S>>::from_tag(#text)?
        },
    }
}

pub(crate) fn from_row(cont: &Container<'_>, krate: &TokenStream) -> TokenStream {
    let ident = cont.ident;
    let name = ident.to_string();
    let (_, ty_generics, where_clause) = cont.input.generics.split_for_impl();
    let lifetimes: Vec<&syn::Lifetime> = cont
        .input
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Lifetime(l) => Some(&l.lifetime),
            _ => None,
        })
        .collect();
    let precision = cont.attrs.precision_path(krate);

    let read: Vec<&Member<'_>> = cont
        .members_with(Role::Tag)
        .chain(cont.members_with(Role::Field))
        .chain(cont.members_with(Role::Time))
        .collect();
    let slots: Vec<syn::Ident> = (0..read.len()).map(|i| format_ident!("m{}", i)).collect();
    let types: Vec<&Type> = read.iter().map(|m| m.ty).collect();

    let specs = read.iter().map(|m| {
        let key = &m.key;
        let required = !is_option(m.ty);
        let role = match m.role {
            Role::Tag => quote!(Tag),
            Role::Time => quote!(Time),
            _ => quote!(Field),
        };
        quote!(#krate::MemberSpec { key: #key, role: #krate::MemberRole::#role, required: #required })
    });

    let bounds = read.iter().map(|m| {
        let ty = m.ty;
        match m.role {
            // A `display` tag reads back through `FromStr`, behind a type that mentions the
            // source parameter, so that a type without it is an error where rows are read.
            Role::Tag if m.display() => {
                let inner = option_inner(m.ty).unwrap_or(m.ty);
                quote!(#krate::__private::Parsed<#inner>: #krate::FromTag<__S>)
            }
            Role::Tag => quote!(#ty: #krate::FromTag<__S>),
            Role::Time => quote!(#ty: #krate::TimeFromCell<__S>),
            _ => quote!(#ty: #krate::FromCell<__S>),
        }
    });
    let skipped: Vec<&Member<'_>> = cont.members_with(Role::Skip).collect();
    let skip_bounds = skipped.iter().map(|m| {
        let ty = m.ty;
        quote!(#ty: #krate::__private::SkipDefault<__S>)
    });

    let puts = read.iter().zip(&slots).enumerate().map(|(i, (m, slot))| {
        let ty = m.ty;
        let value = match m.role {
            Role::Tag => tag_value(m, krate, quote!(#krate::__private::cell_text(&cell)?)),
            Role::Time => quote! {
                <#ty as #krate::TimeFromCell<__S>>::from_time_cell(cell, ctx, #precision)?
            },
            _ => quote!(<#ty as #krate::FromCell<__S>>::from_cell(cell, ctx)?),
        };
        quote!(#i => slots.#slot = ::core::option::Option::Some(#value),)
    });
    let tag_puts = read
        .iter()
        .zip(&slots)
        .enumerate()
        .filter(|(_, (m, _))| m.role == Role::Tag)
        .map(|(i, (m, slot))| {
            let value = tag_value(m, krate, quote!(text));
            quote! {
                #i => slots.#slot = ::core::option::Option::Some(#value),
            }
        });
    let inits = read.iter().zip(&slots).enumerate().map(|(i, (m, slot))| {
        let member = m.ident;
        if is_option(m.ty) {
            quote!(#member: match slots.#slot {
                ::core::option::Option::Some(v) => v,
                ::core::option::Option::None => ::core::default::Default::default(),
            },)
        } else {
            quote!(#member: match slots.#slot {
                ::core::option::Option::Some(v) => v,
                ::core::option::Option::None => return ::core::result::Result::Err(#i),
            },)
        }
    });
    let skip_inits = skipped.iter().map(|m| {
        let member = m.ident;
        let ty = m.ty;
        quote!(#member: <#ty as #krate::__private::SkipDefault<__S>>::skip_default(),)
    });

    let slot_generics = if lifetimes.is_empty() {
        quote!()
    } else {
        quote!(<#(#lifetimes),*>)
    };
    let marker = if lifetimes.is_empty() {
        quote!()
    } else {
        quote!(_marker: ::core::marker::PhantomData<(#(&#lifetimes ()),*)>,)
    };
    let marker_init = if lifetimes.is_empty() {
        quote!()
    } else {
        quote!(_marker: ::core::marker::PhantomData,)
    };
    let extra_where = where_clause.map(|w| {
        let preds = &w.predicates;
        quote!(#preds,)
    });

    quote! {
        const _: () = {
            #[doc(hidden)]
            pub struct __Slots #slot_generics {
                #(#slots: ::core::option::Option<#types>,)*
                #marker
            }

            impl #slot_generics ::core::default::Default for __Slots #slot_generics {
                fn default() -> Self {
                    __Slots {
                        #(#slots: ::core::option::Option::None,)*
                        #marker_init
                    }
                }
            }

            #[automatically_derived]
            impl<#(#lifetimes,)* __S> #krate::FromRow<__S> for #ident #ty_generics
            where
                #extra_where
                #(#bounds,)*
                #(#skip_bounds,)*
            {
                type Slots = __Slots #slot_generics;
                const NAME: &'static ::core::primitive::str = #name;
                const MEMBERS: &'static [#krate::MemberSpec] = &[#(#specs),*];

                #[allow(unreachable_patterns)] // a type without members of some role
                fn put(
                    slots: &mut Self::Slots,
                    index: ::core::primitive::usize,
                    cell: #krate::Value<'_>,
                    ctx: &#krate::CellContext,
                ) -> ::core::result::Result<(), #krate::CellError> {
                    match index {
                        #(#puts)*
                        _ => {}
                    }
                    ::core::result::Result::Ok(())
                }

                #[allow(unreachable_patterns, unused_variables)] // a type may have no tag
                fn put_tag(
                    slots: &mut Self::Slots,
                    index: ::core::primitive::usize,
                    text: ::core::option::Option<&::core::primitive::str>,
                ) -> ::core::result::Result<(), #krate::CellError> {
                    match index {
                        #(#tag_puts)*
                        _ => {}
                    }
                    ::core::result::Result::Ok(())
                }

                fn finish(slots: Self::Slots) -> ::core::result::Result<Self, ::core::primitive::usize> {
                    ::core::result::Result::Ok(#ident {
                        #(#inits)*
                        #(#skip_inits)*
                    })
                }
            }
        };
    }
}
