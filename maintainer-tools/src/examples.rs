//! Every example of the document, paired with the schema it claims to satisfy, and its
//! validation with a real JSON Schema validator (after translating OpenAPI's dialect).
//!
//! Body examples (request and response media types) are the examples of the reference
//! pages; parameter, header and field-level examples are checked too.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::Problem;
use crate::json_schema;
use crate::location::Location;
use crate::refs;
pub use crate::walk::{METHODS, operations, walk_schemas};

/// What an example is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExampleKind {
    /// A request body media type.
    RequestBody,
    /// A response body media type.
    ResponseBody,
    /// A parameter.
    Parameter,
    /// A response header.
    Header,
    /// A schema (field-level example).
    Schema,
}

impl ExampleKind {
    /// Whether this is a body example (the examples the reference pages print).
    pub fn is_body(self) -> bool {
        matches!(self, Self::RequestBody | Self::ResponseBody)
    }
}

/// One example and the schema it must satisfy.
#[derive(Debug, Clone)]
pub struct Example {
    /// Where the example value sits in the document.
    pub location: Location,
    /// A readable name, e.g. `GET /v2/tags (tags_list) response 200`.
    pub label: String,
    /// What it is attached to.
    pub kind: ExampleKind,
    /// The OpenAPI schema it must satisfy.
    pub schema: Value,
    /// The example value.
    pub value: Value,
}

/// Collects every example of the document.
pub fn collect(document: &Value) -> Vec<Example> {
    let mut out = Vec::new();
    let root = Location::root();

    for op in operations(document) {
        let operation_id = if op.id.is_empty() { "?" } else { op.id };
        let name = format!("{} {} ({operation_id})", op.method.to_uppercase(), op.path);
        collect_operation(document, op.operation, &op.location(), &name, &mut out);
    }
    if let Some(parameters) = document
        .pointer("/components/parameters")
        .and_then(Value::as_object)
    {
        for (name, parameter) in parameters {
            let location = root.join("components").join("parameters").join(name);
            collect_parameter(parameter, &location, &format!("parameter {name}"), &mut out);
        }
    }
    if let Some(headers) = document
        .pointer("/components/headers")
        .and_then(Value::as_object)
    {
        for (name, header) in headers {
            let location = root.join("components").join("headers").join(name);
            collect_header(header, &location, &format!("header {name}"), &mut out);
        }
    }
    if let Some(schemas) = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            let location = root.join("components").join("schemas").join(name);
            collect_schema_examples(schema, &location, name, &mut out);
        }
    }
    out
}

fn collect_operation(
    document: &Value,
    operation: &Value,
    location: &Location,
    name: &str,
    out: &mut Vec<Example>,
) {
    for (index, parameter) in operation
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        // Referenced parameters are collected once, from the components.
        if parameter.get("$ref").is_none() {
            let label = format!(
                "{name} parameter {}",
                parameter.get("name").and_then(Value::as_str).unwrap_or("?")
            );
            collect_parameter(
                parameter,
                &location.join("parameters").join(index),
                &label,
                out,
            );
        }
    }
    if let Some(body) = operation.get("requestBody")
        && let Some(body) = refs::deref(document, body)
    {
        collect_content(
            document,
            body,
            &location.join("requestBody"),
            &format!("{name} request body"),
            ExampleKind::RequestBody,
            out,
        );
    }
    if let Some(responses) = operation.get("responses").and_then(Value::as_object) {
        for (status, response) in responses {
            let Some(response) = refs::deref(document, response) else {
                continue;
            };
            let response_location = location.join("responses").join(status);
            let label = format!("{name} response {status}");
            collect_content(
                document,
                response,
                &response_location,
                &label,
                ExampleKind::ResponseBody,
                out,
            );
            if let Some(headers) = response.get("headers").and_then(Value::as_object) {
                for (header_name, header) in headers {
                    if header.get("$ref").is_none() {
                        collect_header(
                            header,
                            &response_location.join("headers").join(header_name),
                            &format!("{label} header {header_name}"),
                            out,
                        );
                    }
                }
            }
        }
    }
}

fn collect_content(
    document: &Value,
    holder: &Value,
    location: &Location,
    label: &str,
    kind: ExampleKind,
    out: &mut Vec<Example>,
) {
    let Some(content) = holder.get("content").and_then(Value::as_object) else {
        return;
    };
    for (media_type, media) in content {
        let media_location = location.join("content").join(media_type);
        let Some(schema) = media.get("schema") else {
            continue;
        };
        collect_schema_examples(schema, &media_location.join("schema"), label, out);
        if let Some(value) = media.get("example") {
            out.push(Example {
                location: media_location.join("example"),
                label: label.to_string(),
                kind,
                schema: schema.clone(),
                value: value.clone(),
            });
        }
        for (example_name, example) in media
            .get("examples")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let Some(example) = refs::deref(document, example) else {
                continue;
            };
            if let Some(value) = example.get("value") {
                out.push(Example {
                    location: media_location
                        .join("examples")
                        .join(example_name)
                        .join("value"),
                    label: format!("{label} [{example_name}]"),
                    kind,
                    schema: schema.clone(),
                    value: value.clone(),
                });
            }
        }
    }
}

fn collect_parameter(parameter: &Value, location: &Location, label: &str, out: &mut Vec<Example>) {
    if let Some(schema) = parameter.get("schema") {
        collect_schema_examples(schema, &location.join("schema"), label, out);
        if let Some(value) = parameter.get("example") {
            out.push(Example {
                location: location.join("example"),
                label: label.to_string(),
                kind: ExampleKind::Parameter,
                schema: schema.clone(),
                value: value.clone(),
            });
        }
    }
}

fn collect_header(header: &Value, location: &Location, label: &str, out: &mut Vec<Example>) {
    if let Some(schema) = header.get("schema")
        && let Some(value) = header.get("example")
    {
        out.push(Example {
            location: location.join("example"),
            label: label.to_string(),
            kind: ExampleKind::Header,
            schema: schema.clone(),
            value: value.clone(),
        });
    }
}

/// Field-level examples: an `example` keyword inside a schema object.
fn collect_schema_examples(
    schema: &Value,
    location: &Location,
    label: &str,
    out: &mut Vec<Example>,
) {
    walk_schemas(schema, location, &mut |node, node_location| {
        if let Some(value) = node.get("example") {
            out.push(Example {
                location: node_location.join("example"),
                label: format!("{label} (field {node_location})"),
                kind: ExampleKind::Schema,
                schema: node.clone(),
                value: value.clone(),
            });
        }
    });
}

/// Validates every example against its schema. One problem per failing example, listing
/// each violation with its place inside the example.
pub fn validate(document: &Value, examples: &[Example]) -> Vec<Problem> {
    let definitions = Value::Object(json_schema::definitions(document));
    let mut validators: BTreeMap<String, Result<jsonschema::Validator, String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for example in examples {
        let key = example.schema.to_string();
        let validator = validators.entry(key).or_insert_with(|| {
            let mut schema = json_schema::translate(&example.schema);
            if let Some(map) = schema.as_object_mut() {
                map.insert("$defs".into(), definitions.clone());
            }
            jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&schema)
                .map_err(|e| e.to_string())
        });
        match validator {
            Err(message) => problems.push(Problem::new(
                example.location.to_string(),
                format!(
                    "the schema of {} does not compile: {message}",
                    example.label
                ),
            )),
            Ok(validator) => {
                let violations: Vec<String> = validator
                    .iter_errors(&example.value)
                    .map(|error| {
                        let at = error.instance_path().to_string();
                        let at = if at.is_empty() {
                            "(root)".to_string()
                        } else {
                            at
                        };
                        format!("at {at}: {error}")
                    })
                    .collect();
                if !violations.is_empty() {
                    problems.push(Problem::new(
                        example.location.to_string(),
                        format!(
                            "example of {} does not match its schema: {}",
                            example.label,
                            violations.join("; ")
                        ),
                    ));
                }
            }
        }
    }
    problems
}
