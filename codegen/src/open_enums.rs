//! Open enums. typify generates closed enums: a value the document does not list (say a
//! Droplet `status` of "migrating") fails the whole response. Every string enum of the
//! normalized document is a component schema (see `normalize::hoist_inline_enums`); for each
//! one this module renders an enum with one variant per documented value plus
//! `Unknown(String)`, which decodes any other value and encodes it back unchanged, and
//! `render` tells typify to use it instead of generating a closed one.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use serde_json::Value;

use crate::error::{CodegenError, Result};

/// A string enum of the document, rendered as an open enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenEnum {
    /// The component name, which is also the Rust type name.
    pub name: String,
    /// The schema's description.
    pub description: Option<String>,
    /// The documented values, in document order.
    pub values: Vec<String>,
}

impl OpenEnum {
    /// The Rust variant name of each documented value, and the name of the catch-all.
    pub fn variant_names(&self) -> (Vec<String>, String) {
        let mut names: Vec<String> = Vec::new();
        for value in &self.values {
            let mut name = variant_name(value);
            let base = name.clone();
            let mut counter = 2;
            while names.contains(&name) {
                name = format!("{base}{counter}");
                counter += 1;
            }
            names.push(name);
        }
        let mut catch_all = "Unknown".to_string();
        while names.contains(&catch_all) {
            catch_all.push_str("Value");
        }
        (names, catch_all)
    }
}

fn variant_name(value: &str) -> String {
    let pascal: String = value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let lower = part.to_ascii_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect();
    match pascal.chars().next() {
        None => "Empty".to_string(),
        Some(first) if first.is_ascii_digit() => format!("V{pascal}"),
        Some(_) => pascal,
    }
}

/// Every string-enum component schema of the (normalized) document, sorted by name.
pub fn collect(document: &Value) -> Result<Vec<OpenEnum>> {
    let mut out = Vec::new();
    let Some(schemas) = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return Ok(out);
    };
    for (name, schema) in schemas {
        if schema.get("type").and_then(Value::as_str) != Some("string") {
            continue;
        }
        let Some(values) = schema.get("enum").and_then(Value::as_array) else {
            continue;
        };
        if schema.get("nullable") == Some(&Value::Bool(true)) {
            return Err(CodegenError::Normalize {
                pass: "open_enums",
                location: format!("components.schemas.{name}"),
                message: "a nullable enum component cannot be opened; make the enum non-nullable and write \
                          `allOf: [$ref], nullable: true` where it is used"
                    .into(),
            });
        }
        let values = values
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| CodegenError::Normalize {
                        pass: "open_enums",
                        location: format!("components.schemas.{name}.enum"),
                        message: format!("value {v} of a string enum is not a string"),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        out.push(OpenEnum {
            name: name.clone(),
            description: schema
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            values,
        });
    }
    Ok(out)
}

/// The Rust items for `enums` (to be placed in the generated `types` module).
/// Renders every open enum; with `json_schema`, each also implements `schemars::JsonSchema`.
pub fn render(enums: &[OpenEnum], json_schema: bool) -> TokenStream {
    let items = enums.iter().map(|open| {
        let schema = json_schema.then(|| render_json_schema(open));
        let open = render_one(open);
        quote! { #open #schema }
    });
    quote! { #(#items)* }
}

/// An open enum accepts any string, so its schema is a string; the documented values are
/// its examples (an `enum` keyword would close it again for whoever validates with it).
fn render_json_schema(open: &OpenEnum) -> TokenStream {
    let name = Ident::new(&open.name, Span::call_site());
    let name_text = &open.name;
    let values = &open.values;
    let description = open.description.clone().unwrap_or_default();
    quote! {
        impl schemars::JsonSchema for #name {
            fn schema_name() -> ::std::string::String {
                #name_text.to_string()
            }
            fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
                schemars::schema::SchemaObject {
                    instance_type: Some(schemars::schema::InstanceType::String.into()),
                    metadata: Some(::std::boxed::Box::new(schemars::schema::Metadata {
                        description: Some(#description.to_string()).filter(|d| !d.is_empty()),
                        examples: vec![#(::serde_json::Value::from(#values)),*],
                        ..::std::default::Default::default()
                    })),
                    ..::std::default::Default::default()
                }
                .into()
            }
        }
    }
}

fn render_one(open: &OpenEnum) -> TokenStream {
    let name = Ident::new(&open.name, Span::call_site());
    let (variant_names, catch_all) = open.variant_names();
    let catch_all = Ident::new(&catch_all, Span::call_site());
    let variants: Vec<Ident> = variant_names
        .iter()
        .map(|v| Ident::new(v, Span::call_site()))
        .collect();
    let values = &open.values;
    let value_docs = values.iter().map(|v| format!("`{v}`"));
    let description = open
        .description
        .clone()
        .unwrap_or_else(|| format!("The values of `{}`.", open.name));
    let description_lines = description.lines().map(|l| l.to_string());
    let open_note = format!(
        "Open enum: a value the API sends that this client does not know decodes into \
         [`{}::{}`] and is encoded back unchanged.",
        open.name, catch_all
    );

    quote! {
        #(#[doc = #description_lines])*
        #[doc = ""]
        #[doc = #open_note]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #name {
            #(
                #[doc = #value_docs]
                #variants,
            )*
            /// A value this version of the client does not know, kept exactly as received.
            #catch_all(::std::string::String),
        }

        impl #name {
            /// The values the API documents, in the document's order.
            pub const DOCUMENTED: &'static [&'static str] = &[#(#values),*];

            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #(Self::#variants => #values,)*
                    Self::#catch_all(value) => value.as_str(),
                }
            }

            /// Whether the value is one this client does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::#catch_all(_))
            }
        }

        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #(#values => Self::#variants,)*
                    other => Self::#catch_all(other.to_string()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    #(#values => Self::#variants,)*
                    _ => Self::#catch_all(value),
                }
            }
        }

        impl ::std::convert::From<&::std::string::String> for #name {
            fn from(value: &::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::convert::AsRef<str> for #name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                struct OpenEnumVisitor;
                impl<'de> ::serde::de::Visitor<'de> for OpenEnumVisitor {
                    type Value = #name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: ::serde::de::Error>(self, value: &str) -> ::std::result::Result<#name, E> {
                        Ok(#name::from(value))
                    }
                    fn visit_string<E: ::serde::de::Error>(self, value: ::std::string::String) -> ::std::result::Result<#name, E> {
                        Ok(#name::from(value))
                    }
                }
                deserializer.deserialize_str(OpenEnumVisitor)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names_are_pascal_case_and_unique() {
        let open = OpenEnum {
            name: "Weekday".into(),
            description: None,
            values: vec![
                "SUN".into(),
                "already_assigned".into(),
                "ext4".into(),
                "4xx".into(),
                "Unknown".into(),
            ],
        };
        let (names, catch_all) = open.variant_names();
        assert_eq!(names, ["Sun", "AlreadyAssigned", "Ext4", "V4xx", "Unknown"]);
        assert_eq!(catch_all, "UnknownValue");
    }
}
