//! The API surface: a plain-text rendering of what the `digitalocean` crate offers, derived
//! from the normalized document and the generated code. One line per operation (id,
//! method, path, parameters with their Rust types and whether required, body, success and
//! error types) and one line per type member (fields with Rust types and optionality, enum
//! variants), every line self-contained and sorted, so that a change of the document shows
//! up in a snapshot as a diff at exactly the operation or field it touches.

use std::collections::BTreeMap;

use quote::ToTokens;
use serde_json::Value;

use crate::error::{CodegenError, Result};
use crate::load::Spec;
use crate::normalize;
use crate::walk::operations;

/// Renders the surface of the crate generated from `spec`.
pub fn render(spec: &Spec) -> Result<String> {
    let normalized = normalize::normalize(spec)?;
    let code = crate::render::render_normalized(&normalized)?;
    let file = syn::parse_file(&code).map_err(|e| CodegenError::Syntax {
        message: e.to_string(),
    })?;

    let mut lines = Vec::new();
    lines.extend(operation_lines(&normalized.document, &file)?);
    lines.extend(type_lines(&file, &normalized.open_enums));
    Ok(lines.join("\n") + "\n")
}

fn module<'f>(file: &'f syn::File, name: &str) -> Option<&'f [syn::Item]> {
    file.items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => {
            m.content.as_ref().map(|(_, items)| items.as_slice())
        }
        _ => None,
    })
}

/// A Rust type written the way a reader of the docs sees it: last path segments only,
/// `Option<Vec<String>>` rather than `::std::option::Option<::std::vec::Vec<::std::string::String>>`.
pub fn short_type(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(path) => {
            let Some(last) = path.path.segments.last() else {
                return String::new();
            };
            let mut out = last.ident.to_string();
            if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
                let inner: Vec<String> = args
                    .args
                    .iter()
                    .map(|arg| match arg {
                        syn::GenericArgument::Type(t) => short_type(t),
                        other => other.to_token_stream().to_string(),
                    })
                    .collect();
                out.push('<');
                out.push_str(&inner.join(", "));
                out.push('>');
            }
            out
        }
        syn::Type::Reference(r) => format!("&{}", short_type(&r.elem)),
        other => other.to_token_stream().to_string().replace(' ', ""),
    }
}

/// `Result<Option<T>, String>` (a builder field) → (`T`, optional).
fn builder_field_type(ty: &syn::Type) -> (String, bool) {
    let text = short_type(ty);
    let inner = text
        .strip_prefix("Result<")
        .and_then(|t| t.strip_suffix(", String>"))
        .unwrap_or(&text)
        .to_string();
    match inner
        .strip_prefix("Option<")
        .and_then(|t| t.strip_suffix('>'))
    {
        Some(optional) => (optional.to_string(), true),
        None => (inner, false),
    }
}

fn operation_lines(document: &Value, file: &syn::File) -> Result<Vec<String>> {
    let builder = module(file, "builder").unwrap_or_default();
    let structs: BTreeMap<String, &syn::ItemStruct> = builder
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some((s.ident.to_string(), s)),
            _ => None,
        })
        .collect();
    let sends: BTreeMap<String, &syn::Signature> = builder
        .iter()
        .filter_map(|item| match item {
            syn::Item::Impl(block) if block.trait_.is_none() => {
                let name = match &*block.self_ty {
                    syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                }?;
                block.items.iter().find_map(|item| match item {
                    syn::ImplItem::Fn(f) if f.sig.ident == "send" => Some((name.clone(), &f.sig)),
                    _ => None,
                })
            }
            _ => None,
        })
        .collect();

    let mut lines = Vec::new();
    for op in operations(document) {
        let (path, method, operation) = (op.path, op.method, op.operation);
        let id = operation
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let builder_name = digitalocean_codegen::names::pascal_case(id);
        let mut parameters = Vec::new();
        let mut body = "-".to_string();
        if let Some(builder_struct) = structs.get(&builder_name) {
            for field in &builder_struct.fields {
                let Some(name) = field.ident.as_ref().map(|i| i.to_string()) else {
                    continue;
                };
                if name == "client" {
                    continue;
                }
                let (ty, optional) = builder_field_type(&field.ty);
                if name == "body" {
                    body = ty.replace("builder::", "");
                } else {
                    parameters.push(format!(
                        "{name}: {ty}{}",
                        if optional { "" } else { " (required)" }
                    ));
                }
            }
        }
        let (success, error) = sends
            .get(&builder_name)
            .and_then(|sig| match &sig.output {
                syn::ReturnType::Type(_, ty) => Some(short_type(ty)),
                syn::ReturnType::Default => None,
            })
            .and_then(|ret| {
                let inner = ret.strip_prefix("Result<")?.strip_suffix('>')?;
                let (ok, err) = inner.split_once(", Error<")?;
                let ok = ok
                    .strip_prefix("ResponseValue<")
                    .and_then(|t| t.strip_suffix('>'))
                    .unwrap_or(ok);
                Some((ok.to_string(), err.trim_end_matches('>').to_string()))
            })
            .unwrap_or_else(|| ("?".into(), "?".into()));
        lines.push(format!(
            "operation {id}: {} {path} ({}) body: {body} -> {success} | error: {error}",
            method.to_uppercase(),
            parameters.join(", ")
        ));
    }
    lines.sort();
    Ok(lines)
}

/// Whether serde may leave the field out (typify marks optional fields with `default`
/// and/or `skip_serializing_if`; a required field that may be null has neither).
fn optional_field(field: &syn::Field) -> bool {
    field.attrs.iter().any(|attr| {
        let text = attr.to_token_stream().to_string();
        attr.path().is_ident("serde")
            && (text.contains("default") || text.contains("skip_serializing_if"))
    })
}

fn type_lines(file: &syn::File, open: &[crate::open_enums::OpenEnum]) -> Vec<String> {
    // One block per type: its header, then its members sorted; blocks sorted by name.
    let mut blocks: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let Some(types) = module(file, "types") else {
        return Vec::new();
    };
    for item in types {
        match item {
            syn::Item::Struct(item) => {
                let name = item.ident.to_string();
                let (header, members) = match &item.fields {
                    syn::Fields::Named(fields) => {
                        let members = fields
                            .named
                            .iter()
                            .filter_map(|field| {
                                let field_name = field.ident.as_ref()?.to_string();
                                let ty = short_type(&field.ty);
                                let note = match (optional_field(field), ty.starts_with("Option<"))
                                {
                                    (true, _) => " (optional)",
                                    (false, true) => " (required, may be null)",
                                    (false, false) => "",
                                };
                                Some(format!(
                                    "type {name}.{}: {ty}{note}",
                                    field_name.trim_start_matches("r#")
                                ))
                            })
                            .collect();
                        (format!("type {name}: struct"), members)
                    }
                    syn::Fields::Unnamed(fields) => {
                        let inner: Vec<String> =
                            fields.unnamed.iter().map(|f| short_type(&f.ty)).collect();
                        (
                            format!("type {name}: newtype of {}", inner.join(", ")),
                            Vec::new(),
                        )
                    }
                    syn::Fields::Unit => (format!("type {name}: unit struct"), Vec::new()),
                };
                blocks.insert(name, (header, members));
            }
            syn::Item::Enum(item) => {
                let name = item.ident.to_string();
                let block = if let Some(open) = open.iter().find(|o| o.name == name) {
                    let (variants, catch_all) = open.variant_names();
                    let mut members: Vec<String> = variants
                        .iter()
                        .zip(&open.values)
                        .map(|(variant, value)| format!("type {name}::{variant} = {value:?}"))
                        .collect();
                    members.push(format!(
                        "type {name}::{catch_all}(String) = any other value"
                    ));
                    (format!("type {name}: open enum"), members)
                } else {
                    let members = item
                        .variants
                        .iter()
                        .map(|variant| {
                            let fields: Vec<String> =
                                variant.fields.iter().map(|f| short_type(&f.ty)).collect();
                            format!("type {name}::{}({})", variant.ident, fields.join(", "))
                        })
                        .collect();
                    (format!("type {name}: one of"), members)
                };
                blocks.insert(name, block);
            }
            _ => {}
        }
    }
    let mut lines = Vec::new();
    for (_, (header, mut members)) in blocks {
        members.sort();
        lines.push(header);
        lines.extend(members);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_shortened_to_what_the_docs_show() {
        let ty: syn::Type = syn::parse_str(
            "::std::option::Option<::std::vec::Vec<::chrono::DateTime<::chrono::offset::Utc>>>",
        )
        .unwrap();
        assert_eq!(short_type(&ty), "Option<Vec<DateTime<Utc>>>");
    }

    #[test]
    fn builder_fields_tell_optionality() {
        let optional: syn::Type =
            syn::parse_str("Result<Option<::std::num::NonZeroU64>, String>").unwrap();
        assert_eq!(builder_field_type(&optional), ("NonZeroU64".into(), true));
        let required: syn::Type = syn::parse_str("Result<types::TagName, String>").unwrap();
        assert_eq!(builder_field_type(&required), ("TagName".into(), false));
    }
}
