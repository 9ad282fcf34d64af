//! Pagination glue. Every operation with `page` and `per_page` query parameters gets an
//! implementation of the client crate's `crate::pagination::PageRequest` for its builder,
//! so the hand-written layer can turn it into a stream of items without knowing each
//! operation. Derived from the document: a new paginated operation gets a stream by
//! rebuilding, with no hand-written code.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use serde_json::Value;

use crate::error::{CodegenError, Result};
use crate::names::pascal_case;
use crate::refs;
use crate::walk::operations;

/// How the items of one paginated operation are found in its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaginatedOperation {
    /// The operationId (also the builder's name in PascalCase).
    pub operation_id: String,
    /// The component schema of the 200 response (the page).
    pub page_type: String,
    /// The property of the page holding the items.
    pub items_field: String,
    /// Whether the items are the values of a map (keyed by id) rather than an array.
    pub items_are_map: bool,
    /// Whether the array of items is nullable (`Option<Vec<_>>`; `None` is an empty page).
    pub items_nullable: bool,
    /// The component schema of one item.
    pub item_type: String,
    /// The error body type of the operation (in the normalized document).
    pub error_type: String,
    /// Whether the page has a `links` property and whether `meta` is required.
    pub has_links: bool,
    /// Whether `meta` is present and required (`meta.total` always known).
    pub meta_required: bool,
}

fn component_name(schema: &Value) -> Option<String> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .map(str::to_string)
}

/// The paginated operations of a normalized document, in operationId order.
pub fn collect(document: &Value) -> Result<Vec<PaginatedOperation>> {
    let mut out = Vec::new();
    for op in operations(document) {
        let (path, method, operation) = (op.path, op.method, op.operation);
        let names: Vec<&str> = operation
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| refs::deref(document, p))
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
            .filter_map(|p| p.get("name").and_then(Value::as_str))
            .collect();
        if !(names.contains(&"page") && names.contains(&"per_page")) {
            continue;
        }
        let id = operation
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let problem = |message: String| CodegenError::Normalize {
            pass: "pagination",
            location: format!("paths.{path:?}.{method}"),
            message,
        };
        let responses = &operation["responses"];
        let page_type = component_name(&responses["200"]["content"]["application/json"]["schema"])
            .ok_or_else(|| {
                problem(
                    "a paginated operation needs a 200 response whose body is a component".into(),
                )
            })?;
        let error_type = component_name(&responses["4XX"]["content"]["application/json"]["schema"])
            .ok_or_else(|| problem("a paginated operation needs a typed error body".into()))?;
        let page = &document["components"]["schemas"][page_type.as_str()];
        let properties = page["properties"].as_object().cloned().unwrap_or_default();
        let mut candidates = Vec::new();
        for (name, schema) in &properties {
            if name == "links" || name == "meta" {
                continue;
            }
            let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
            if schema.get("type").and_then(Value::as_str) == Some("array") {
                if let Some(item) = component_name(&schema["items"]) {
                    candidates.push((name.clone(), false, nullable, item));
                }
            } else if let Some(item) = component_name(&schema["additionalProperties"]) {
                candidates.push((name.clone(), true, nullable, item));
            }
        }
        let [(items_field, items_are_map, items_nullable, item_type)] = candidates.as_slice()
        else {
            return Err(problem(format!(
                "the page {page_type} must have exactly one array (or map) of items besides links and meta; found {}",
                candidates.len()
            )));
        };
        let required: Vec<&str> = page["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        out.push(PaginatedOperation {
            operation_id: id,
            page_type,
            items_field: items_field.clone(),
            items_are_map: *items_are_map,
            items_nullable: *items_nullable,
            item_type: item_type.clone(),
            error_type,
            has_links: properties.contains_key("links"),
            meta_required: properties.contains_key("meta") && required.contains(&"meta"),
        });
    }
    out.sort_by(|a, b| a.operation_id.cmp(&b.operation_id));
    Ok(out)
}

/// The `PageRequest` implementations, to be placed in the generated `builder` module
/// (they read the builder's private client field).
pub fn render(operations: &[PaginatedOperation]) -> TokenStream {
    let impls = operations.iter().map(|op| {
        let builder = Ident::new(&pascal_case(&op.operation_id), Span::call_site());
        let page = Ident::new(&op.page_type, Span::call_site());
        let item = Ident::new(&op.item_type, Span::call_site());
        let error = Ident::new(&op.error_type, Span::call_site());
        let field = Ident::new(&op.items_field, Span::call_site());
        let operation_id = &op.operation_id;
        let items = match (op.items_are_map, op.items_nullable) {
            (true, false) => quote! { page.#field.into_values().collect() },
            (true, true) => quote! { page.#field.unwrap_or_default().into_values().collect() },
            (false, false) => quote! { page.#field },
            (false, true) => quote! { page.#field.unwrap_or_default() },
        };
        let total = if op.meta_required {
            quote! { Some(page.meta.total) }
        } else {
            quote! { None }
        };
        let next = if op.has_links {
            quote! { page.links.as_ref().and_then(|l| l.pages.as_ref()).and_then(|p| p.next.clone()) }
        } else {
            quote! { None }
        };
        quote! {
            impl<'a> crate::pagination::PageRequest<'a> for #builder<'a> {
                type Page = types::#page;
                type Item = types::#item;
                type ErrorBody = types::#error;
                const OPERATION_ID: &'static str = #operation_id;

                fn client(&self) -> &'a super::Client {
                    self.client
                }

                fn for_page(self, page: ::std::num::NonZeroU64, per_page: ::std::num::NonZeroU64) -> Self {
                    self.page(page).per_page(per_page)
                }

                fn send_page(
                    self,
                ) -> impl ::std::future::Future<
                    Output = Result<ResponseValue<Self::Page>, Error<Self::ErrorBody>>,
                > + Send + 'a {
                    self.send()
                }

                fn into_parts(page: Self::Page) -> crate::pagination::PageParts<Self::Item> {
                    let total = #total;
                    let next = #next;
                    crate::pagination::PageParts { items: #items, total, next }
                }
            }
        }
    });
    quote! { #(#impls)* }
}
