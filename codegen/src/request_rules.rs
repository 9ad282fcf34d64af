//! The document's constraints on what a client sends, as a static table for the client
//! crate (`crate::validation`). typify enforces some of them through types (a `TagName`
//! cannot hold an invalid name, `NonZeroU64` cannot be 0) but not maximums, item counts or
//! single-valued booleans: `per_page=500`, eleven Droplet names or `X-Dangerous: false` would
//! reach the server. The client checks the table before sending, naming the argument and
//! the rule. String enums are open and therefore not restricted here.

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

use crate::refs;
use crate::walk::operations;

/// One constraint set on one value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rule {
    /// Inclusive lower bound of a number.
    pub minimum: Option<f64>,
    /// Inclusive upper bound of a number.
    pub maximum: Option<f64>,
    /// Shortest string.
    pub min_length: Option<u64>,
    /// Longest string, in characters.
    pub max_length: Option<u64>,
    /// Fewest array items.
    pub min_items: Option<u64>,
    /// Most array items.
    pub max_items: Option<u64>,
    /// Regular expression a string must match (ECMA 262, as in the document).
    pub pattern: Option<String>,
    /// The only values a boolean may take, as text.
    pub allowed: Vec<String>,
}

impl Rule {
    fn from_schema(schema: &Value) -> Option<Rule> {
        let number = |key: &str| schema.get(key).and_then(Value::as_f64);
        let count = |key: &str| schema.get(key).and_then(Value::as_u64);
        let mut rule = Rule {
            minimum: number("minimum"),
            maximum: number("maximum"),
            min_length: count("minLength"),
            max_length: count("maxLength"),
            min_items: count("minItems"),
            max_items: count("maxItems"),
            pattern: schema
                .get("pattern")
                .and_then(Value::as_str)
                .map(str::to_string),
            allowed: Vec::new(),
        };
        if schema.get("type").and_then(Value::as_str) == Some("boolean") {
            rule.allowed = schema
                .get("enum")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|v| v.to_string())
                .collect();
        }
        (rule != Rule::default()).then_some(rule)
    }
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterLocation {
    /// In the path template.
    Path,
    /// In the query string.
    Query,
    /// In a header.
    Header,
}

/// The constraints of one parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterRules {
    /// The parameter's name.
    pub name: String,
    /// Where it travels.
    pub location: ParameterLocation,
    /// Its constraints.
    pub rule: Rule,
    /// Whether the generated argument's type already refuses every value the rule refuses,
    /// so that the client need not check it before sending: an integer whose only
    /// constraint is `minimum: 1` is a `NonZeroU*` in typify's output (it picks a NonZero
    /// type whenever the minimum is 1). The rule still describes the argument when a
    /// conversion to that type fails.
    pub enforced_by_type: bool,
}

/// Whether typify's type for an integer `schema` with `rule` refuses what `rule` refuses.
fn enforced_by_type(schema: &Value, rule: &Rule) -> bool {
    let only_minimum_one = Rule {
        minimum: Some(1.0),
        ..Rule::default()
    };
    schema.get("type").and_then(Value::as_str) == Some("integer")
        && schema.get("exclusiveMinimum").is_none()
        && *rule == only_minimum_one
}

/// The constraints of one operation.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationRules {
    /// The operationId.
    pub operation_id: String,
    /// The path template, e.g. `/v2/droplets/{droplet_id}`.
    pub path: String,
    /// The constrained parameters.
    pub parameters: Vec<ParameterRules>,
    /// Body pointer (`/names`, `/tags/*`), rule.
    pub body: Vec<(String, Rule)>,
    /// The documented success status (the lowest 2xx). The client reports it when an
    /// idempotent retry proves the first attempt succeeded (a DELETE that then answers 404).
    pub success_status: u16,
}

/// Every operation's constraints and success status, by operationId.
pub fn collect(document: &Value) -> Vec<OperationRules> {
    let mut out = Vec::new();
    for op in operations(document) {
        let (path, operation) = (op.path, op.operation);
        let mut parameters = Vec::new();
        for parameter in operation
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| refs::deref(document, p))
        {
            let location = match parameter.get("in").and_then(Value::as_str) {
                Some("path") => ParameterLocation::Path,
                Some("query") => ParameterLocation::Query,
                Some("header") => ParameterLocation::Header,
                _ => continue,
            };
            let name = parameter
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(schema) = parameter
                .get("schema")
                .and_then(|s| refs::deref(document, s))
                && let Some(rule) = Rule::from_schema(schema)
            {
                parameters.push(ParameterRules {
                    name: name.to_string(),
                    location,
                    enforced_by_type: enforced_by_type(schema, &rule),
                    rule,
                });
            }
        }
        let mut body = Vec::new();
        if let Some(schema) = operation
            .get("requestBody")
            .and_then(|b| refs::deref(document, b))
            .and_then(|b| b.pointer("/content/application~1json/schema"))
        {
            collect_body(document, schema, "", &mut body, 0);
        }
        body.dedup();
        out.push(OperationRules {
            operation_id: operation
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            path: path.to_string(),
            parameters,
            body,
            success_status: success_status(operation),
        });
    }
    out.sort_by(|a, b| a.operation_id.cmp(&b.operation_id));
    out
}

/// The lowest 2xx status an operation documents (200 when it documents none).
fn success_status(operation: &Value) -> u16 {
    operation
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(status, _)| status.parse::<u16>().ok())
        .filter(|status| (200..300).contains(status))
        .min()
        .unwrap_or(200)
}

fn collect_body(
    document: &Value,
    schema: &Value,
    pointer: &str,
    out: &mut Vec<(String, Rule)>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    let Some(schema) = refs::deref(document, schema) else {
        return;
    };
    if !pointer.is_empty()
        && let Some(rule) = Rule::from_schema(schema)
        && !out.contains(&(pointer.to_string(), rule.clone()))
    {
        out.push((pointer.to_string(), rule));
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for branch in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            collect_body(document, branch, pointer, out, depth + 1);
        }
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            collect_body(
                document,
                property,
                &format!("{pointer}/{name}"),
                out,
                depth + 1,
            );
        }
    }
    if let Some(items) = schema.get("items") {
        collect_body(document, items, &format!("{pointer}/*"), out, depth + 1);
    }
}

fn option<T: quote::ToTokens>(value: &Option<T>) -> TokenStream {
    match value {
        Some(v) => quote! { Some(#v) },
        None => quote! { None },
    }
}

fn render_rule(rule: &Rule) -> TokenStream {
    let minimum = option(&rule.minimum);
    let maximum = option(&rule.maximum);
    let min_length = option(&rule.min_length);
    let max_length = option(&rule.max_length);
    let min_items = option(&rule.min_items);
    let max_items = option(&rule.max_items);
    let pattern = option(&rule.pattern);
    let allowed = &rule.allowed;
    quote! {
        crate::validation::Rule {
            minimum: #minimum,
            maximum: #maximum,
            min_length: #min_length,
            max_length: #max_length,
            min_items: #min_items,
            max_items: #max_items,
            pattern: #pattern,
            allowed: &[#(#allowed),*],
        }
    }
}

/// `pub(crate) static OPERATION_RULES` for the client crate's `validation` module.
pub fn render(rules: &[OperationRules]) -> TokenStream {
    let operations = rules.iter().map(|op| {
        let operation_id = &op.operation_id;
        let path = &op.path;
        let parameters = op.parameters.iter().map(|parameter| {
            let ParameterRules {
                name,
                location,
                rule,
                enforced_by_type,
            } = parameter;
            let location = match location {
                ParameterLocation::Path => quote! { crate::validation::ParameterLocation::Path },
                ParameterLocation::Query => quote! { crate::validation::ParameterLocation::Query },
                ParameterLocation::Header => {
                    quote! { crate::validation::ParameterLocation::Header }
                }
            };
            let rule = render_rule(rule);
            quote! {
                crate::validation::ParameterRule {
                    name: #name,
                    location: #location,
                    rule: #rule,
                    enforced_by_type: #enforced_by_type,
                }
            }
        });
        let body = op.body.iter().map(|(pointer, rule)| {
            let rule = render_rule(rule);
            quote! { crate::validation::BodyRule { pointer: #pointer, rule: #rule } }
        });
        let success_status = op.success_status;
        quote! {
            crate::validation::OperationRules {
                operation_id: #operation_id,
                path: #path,
                parameters: &[#(#parameters),*],
                body: &[#(#body),*],
                success_status: #success_status,
            }
        }
    });
    quote! {
        /// The document's constraints on requests, checked by the client before sending.
        #[doc(hidden)]
        pub(crate) mod request_rules {
            pub(crate) static OPERATION_RULES: &[crate::validation::OperationRules] = &[#(#operations),*];
        }
    }
}
