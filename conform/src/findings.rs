//! The ways traffic can disagree with the document, and the walk that finds those a JSON
//! Schema validator does not name: a field the document does not list (OpenAPI objects
//! are open, so a validator accepts it), an enum value it does not list, a `null` where it
//! has no `nullable`. Each comes with the document location a spec edit would change.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::suggest;

/// What kind of disagreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The response body breaks its schema.
    SchemaViolation,
    /// A field the document does not list.
    UndocumentedField,
    /// An enum value the document does not list.
    UnknownEnumValue,
    /// `null` where the document has no `nullable`.
    UnexpectedNull,
    /// A status the document does not list for the operation (only `default` covers it).
    UndocumentedStatus,
    /// A `ratelimit-*` or `x-request-id` header is missing.
    MissingHeader,
    /// The typed client could not decode the response.
    TypedDecodeFailure,
    /// The request the client sent breaks the document.
    RequestViolation,
}

impl FindingKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::SchemaViolation => "schema violation",
            Self::UndocumentedField => "undocumented field",
            Self::UnknownEnumValue => "unknown enum value",
            Self::UnexpectedNull => "null without nullable",
            Self::UndocumentedStatus => "undocumented status",
            Self::MissingHeader => "missing header",
            Self::TypedDecodeFailure => "typed decode failure",
            Self::RequestViolation => "request violation",
        }
    }
}

/// One disagreement between the traffic and the document.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub operation: String,
    pub kind: FindingKind,
    /// The status of the answer (none for request-side findings made before an answer).
    pub status: Option<u16>,
    /// JSON pointer into the body (the request's for request violations), or the header.
    pub pointer: String,
    /// The value seen, as JSON (shortened when long).
    pub seen: String,
    pub message: String,
    /// The YAML a maintainer would add to the document, when one edit settles it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// How many times the same finding was seen (array items, pages, attempts).
    pub occurrences: u32,
}

impl Finding {
    /// The key under which repeats of one finding are counted once: array indices do not
    /// count, so the same field on every Droplet of a page is one finding.
    pub fn key(&self) -> (String, FindingKind, String, Option<u16>) {
        let pointer = self
            .pointer
            .split('/')
            .map(|segment| {
                if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
                    "*"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        (self.operation.clone(), self.kind, pointer, self.status)
    }
}

/// A finding of the walk, before it knows its operation and status.
#[derive(Debug, Clone)]
pub struct Shape {
    pub kind: FindingKind,
    pub pointer: String,
    pub seen: Value,
    pub message: String,
    pub suggestion: Option<String>,
}

/// The value, as JSON, cut to a readable length.
pub fn shorten(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 120 {
        return text;
    }
    let cut: String = text.chars().take(117).collect();
    format!("{cut}...")
}

/// A schema with its references followed, `allOf` merged, and `oneOf`/`anyOf` merged as
/// alternatives: what the walk needs to know about one place of the instance.
#[derive(Default)]
struct Flat<'d> {
    nullable: bool,
    /// Some branch declares properties (so a field outside them is undocumented).
    closed: bool,
    properties: BTreeMap<String, (&'d Value, String)>,
    /// The document pointer of the `properties` an undocumented field would be added to.
    properties_at: Option<String>,
    additional: Option<(&'d Value, String)>,
    /// Some branch allows any additional property.
    open: bool,
    items: Vec<(&'d Value, String)>,
    enumeration: Option<(Vec<Value>, String)>,
}

fn flatten<'d>(
    document: &'d Value,
    schema: &'d Value,
    at: String,
    flat: &mut Flat<'d>,
    depth: u32,
) {
    if depth > 32 {
        return;
    }
    let Some(map) = schema.as_object() else {
        flat.open = true;
        return;
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        if let Some(target) = digitalocean_codegen::refs::resolve(document, reference) {
            let at = reference.trim_start_matches('#').to_string();
            flatten(document, target, at, flat, depth + 1);
        }
        return;
    }
    if map.get("nullable") == Some(&Value::Bool(true)) {
        flat.nullable = true;
    }
    if let Some(properties) = map.get("properties").and_then(Value::as_object) {
        flat.closed = true;
        flat.properties_at
            .get_or_insert_with(|| format!("{at}/properties"));
        for (name, property) in properties {
            flat.properties
                .entry(name.clone())
                .or_insert_with(|| (property, format!("{at}/properties/{}", escape(name))));
        }
    }
    match map.get("additionalProperties") {
        Some(Value::Bool(true)) => flat.open = true,
        Some(schema @ Value::Object(_)) => {
            flat.additional = Some((schema, format!("{at}/additionalProperties")));
        }
        _ => {}
    }
    if let Some(items) = map.get("items") {
        flat.items.push((items, format!("{at}/items")));
    }
    if let Some(values) = map.get("enum").and_then(Value::as_array) {
        flat.enumeration = Some((values.clone(), at.clone()));
    }
    for composition in ["allOf", "oneOf", "anyOf"] {
        for (index, branch) in map
            .get(composition)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            flatten(
                document,
                branch,
                format!("{at}/{composition}/{index}"),
                flat,
                depth + 1,
            );
        }
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Every undocumented field, unknown enum value and unexpected `null` of `instance` under
/// `schema` (found at document pointer `at`).
pub fn walk(document: &Value, schema: &Value, at: &str, instance: &Value) -> Vec<Shape> {
    let mut shapes = Vec::new();
    visit(
        document,
        schema,
        at.to_string(),
        instance,
        String::new(),
        &mut shapes,
        0,
    );
    shapes
}

fn visit(
    document: &Value,
    schema: &Value,
    at: String,
    instance: &Value,
    pointer: String,
    shapes: &mut Vec<Shape>,
    depth: u32,
) {
    if depth > 64 {
        return;
    }
    let mut flat = Flat::default();
    flatten(document, schema, at.clone(), &mut flat, 0);
    match instance {
        Value::Null => {
            if !flat.nullable && !flat.open_to_anything() {
                shapes.push(Shape {
                    kind: FindingKind::UnexpectedNull,
                    pointer: pointer.clone(),
                    seen: Value::Null,
                    message: format!(
                        "null, but the document's schema ({}) has no `nullable: true`",
                        display_pointer(&at)
                    ),
                    suggestion: Some(suggest::nullable(&at)),
                });
            }
        }
        Value::Object(fields) => {
            for (name, value) in fields {
                let here = format!("{pointer}/{}", escape(name));
                if let Some((property, property_at)) = flat.properties.get(name) {
                    visit(
                        document,
                        property,
                        property_at.clone(),
                        value,
                        here,
                        shapes,
                        depth + 1,
                    );
                } else if let Some((additional, additional_at)) = &flat.additional {
                    visit(
                        document,
                        additional,
                        additional_at.clone(),
                        value,
                        here,
                        shapes,
                        depth + 1,
                    );
                } else if flat.closed && !flat.open {
                    let target = flat.properties_at.clone().unwrap_or_else(|| at.clone());
                    shapes.push(Shape {
                        kind: FindingKind::UndocumentedField,
                        pointer: here,
                        seen: value.clone(),
                        message: format!(
                            "`{name}` is not among the properties of {}",
                            display_pointer(&target)
                        ),
                        suggestion: Some(suggest::field(&target, name, value)),
                    });
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let here = format!("{pointer}/{index}");
                for (items_schema, items_at) in &flat.items {
                    visit(
                        document,
                        items_schema,
                        items_at.clone(),
                        item,
                        here.clone(),
                        shapes,
                        depth + 1,
                    );
                }
            }
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            if let Some((values, enum_at)) = &flat.enumeration
                && !values.contains(instance)
            {
                shapes.push(Shape {
                    kind: FindingKind::UnknownEnumValue,
                    pointer,
                    seen: instance.clone(),
                    message: format!(
                        "{} is not among the values of {}",
                        instance,
                        display_pointer(enum_at)
                    ),
                    suggestion: Some(suggest::enum_value(enum_at, values, instance)),
                });
            }
        }
    }
}

impl Flat<'_> {
    /// A schema with no constraint at all (`{}`): null is one of anything.
    fn open_to_anything(&self) -> bool {
        self.open && !self.closed && self.items.is_empty() && self.enumeration.is_none()
    }
}

/// A document pointer as a maintainer reads it: `components.schemas.droplet.properties`.
pub fn display_pointer(pointer: &str) -> String {
    let path: Vec<String> = pointer
        .trim_start_matches('/')
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    path.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document() -> Value {
        json!({"components": {"schemas": {
            "droplet": {"type": "object", "properties": {
                "id": {"type": "integer"},
                "status": {"type": "string", "enum": ["new", "active"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "kernel": {"allOf": [{"$ref": "#/components/schemas/kernel"}], "nullable": true}
            }},
            "kernel": {"type": "object", "properties": {"id": {"type": "integer"}}}
        }}})
    }

    fn kinds(instance: Value) -> Vec<(FindingKind, String)> {
        let document = document();
        let schema = json!({"type": "object", "properties": {"droplets": {"type": "array", "items": {"$ref": "#/components/schemas/droplet"}}}});
        walk(&document, &schema, "/paths/~1v2~1droplets/get", &instance)
            .into_iter()
            .map(|shape| (shape.kind, shape.pointer))
            .collect()
    }

    #[test]
    fn a_conforming_body_has_no_shapes() {
        assert!(
            kinds(json!({"droplets": [{"id": 1, "status": "active", "tags": [], "kernel": null}]}))
                .is_empty()
        );
    }

    #[test]
    fn an_extra_field_is_undocumented_and_points_at_the_component() {
        let document = document();
        let schema = json!({"$ref": "#/components/schemas/droplet"});
        let shapes = walk(
            &document,
            &schema,
            "",
            &json!({"id": 1, "gpu_info": {"count": 1}}),
        );
        assert_eq!(shapes.len(), 1);
        assert_eq!(shapes[0].kind, FindingKind::UndocumentedField);
        assert_eq!(shapes[0].pointer, "/gpu_info");
        let suggestion = shapes[0].suggestion.as_deref().unwrap();
        assert!(
            suggestion.contains("components.schemas.droplet.properties"),
            "{suggestion}"
        );
        assert!(suggestion.contains("gpu_info:"), "{suggestion}");
    }

    #[test]
    fn an_unknown_enum_value_and_a_null_list_are_found_where_they_are() {
        assert_eq!(
            kinds(json!({"droplets": [{"id": 1, "status": "archived", "tags": null}]})),
            vec![
                (
                    FindingKind::UnknownEnumValue,
                    "/droplets/0/status".to_string()
                ),
                (FindingKind::UnexpectedNull, "/droplets/0/tags".to_string()),
            ]
        );
    }

    #[test]
    fn repeats_across_array_items_share_one_key() {
        let finding = |pointer: &str| Finding {
            operation: "droplets_list".into(),
            kind: FindingKind::UndocumentedField,
            status: Some(200),
            pointer: pointer.into(),
            seen: "1".into(),
            message: String::new(),
            suggestion: None,
            occurrences: 1,
        };
        assert_eq!(
            finding("/droplets/0/x").key(),
            finding("/droplets/7/x").key()
        );
        assert_ne!(
            finding("/droplets/0/x").key(),
            finding("/droplets/0/y").key()
        );
    }
}
