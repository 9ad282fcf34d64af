//! Translation of OpenAPI 3.0 schema objects into JSON Schema (draft 2020-12), so that a
//! real JSON Schema validator can check examples, requests and responses.
//!
//! OpenAPI 3.0 is a dialect: `nullable: true` means "or null" (JSON Schema has no such
//! keyword and would ignore it), `exclusiveMinimum` is a boolean modifier, `example` and
//! `x-*` are annotations, and references point into `#/components/schemas`.

use serde_json::{Map, Value, json};

const COMPONENT_PREFIX: &str = "#/components/schemas/";

/// JSON Schema for one OpenAPI schema of `document`, with every component schema of the
/// document under `$defs` so that references resolve.
pub fn for_schema(document: &Value, schema: &Value) -> Value {
    let mut root = match translate(schema) {
        Value::Object(map) => map,
        other => {
            let mut map = Map::new();
            map.insert("allOf".into(), json!([other]));
            map
        }
    };
    root.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    root.insert("$defs".into(), Value::Object(definitions(document)));
    Value::Object(root)
}

/// Every component schema of `document`, translated.
pub fn definitions(document: &Value) -> Map<String, Value> {
    document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .iter()
                .map(|(name, schema)| (name.clone(), translate(schema)))
                .collect()
        })
        .unwrap_or_default()
}

/// Translates one OpenAPI 3.0 schema object (recursively).
pub fn translate(schema: &Value) -> Value {
    let Some(source) = schema.as_object() else {
        // `true`/`false` schemas and malformed nodes are passed through.
        return schema.clone();
    };
    if let Some(Value::String(reference)) = source.get("$ref") {
        // In OpenAPI 3.0 the siblings of `$ref` are ignored.
        let target = match reference.strip_prefix(COMPONENT_PREFIX) {
            Some(name) => format!("#/$defs/{name}"),
            None => reference.clone(),
        };
        return json!({ "$ref": target });
    }

    let mut out = Map::new();
    for (key, value) in source {
        match key.as_str() {
            // Annotations that JSON Schema does not know or that carry no constraint.
            "nullable" | "example" | "discriminator" | "xml" | "externalDocs" => {}
            k if k.starts_with("x-") => {}
            "properties" => {
                let properties = value
                    .as_object()
                    .map(|props| {
                        props
                            .iter()
                            .map(|(name, s)| (name.clone(), translate(s)))
                            .collect::<Map<_, _>>()
                    })
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(properties));
            }
            "items" | "not" => {
                out.insert(key.clone(), translate(value));
            }
            "additionalProperties" => {
                let translated = if value.is_object() {
                    translate(value)
                } else {
                    value.clone()
                };
                out.insert(key.clone(), translated);
            }
            "allOf" | "oneOf" | "anyOf" => {
                let branches = value
                    .as_array()
                    .map(|items| items.iter().map(translate).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Array(branches));
            }
            // OpenAPI 3.0 (like draft 4) has boolean exclusive bounds.
            "exclusiveMinimum" | "exclusiveMaximum" => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if source.get(flag) == Some(&Value::Bool(true))
            && let Some(limit) = out.remove(bound)
        {
            out.insert(flag.into(), limit);
        }
    }

    if source.get("nullable") == Some(&Value::Bool(true)) {
        return make_nullable(out);
    }
    Value::Object(out)
}

fn make_nullable(mut schema: Map<String, Value>) -> Value {
    if let Some(enumeration) = schema.get_mut("enum").and_then(Value::as_array_mut)
        && !enumeration.contains(&Value::Null)
    {
        enumeration.push(Value::Null);
    }
    match schema.get("type").cloned() {
        Some(Value::String(single)) => {
            schema.insert("type".into(), json!([single, "null"]));
            Value::Object(schema)
        }
        Some(Value::Array(mut several)) => {
            if !several.contains(&json!("null")) {
                several.push(json!("null"));
            }
            schema.insert("type".into(), Value::Array(several));
            Value::Object(schema)
        }
        // No `type`: a composition such as `allOf: [$ref]`. Null is one more alternative.
        _ => json!({ "anyOf": [Value::Object(schema), { "type": "null" }] }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(schema: &Value, instance: &Value) -> bool {
        let document = json!({"components": {"schemas": {"Window": {"type": "object", "required": ["start"], "properties": {"start": {"type": "string"}}}}}});
        jsonschema::draft202012::options()
            .build(&for_schema(&document, schema))
            .expect("schema compiles")
            .is_valid(instance)
    }

    #[test]
    fn nullable_typed_schema_accepts_null() {
        let schema = json!({"type": "string", "nullable": true});
        assert!(validate(&schema, &json!(null)));
        assert!(validate(&schema, &json!("x")));
        assert!(!validate(&schema, &json!(1)));
    }

    #[test]
    fn not_nullable_schema_rejects_null() {
        assert!(!validate(&json!({"type": "string"}), &json!(null)));
    }

    #[test]
    fn nullable_reference_accepts_null_and_the_referenced_shape() {
        let schema = json!({"allOf": [{"$ref": "#/components/schemas/Window"}], "nullable": true});
        assert!(validate(&schema, &json!(null)));
        assert!(validate(&schema, &json!({"start": "now"})));
        assert!(!validate(&schema, &json!({})));
    }

    #[test]
    fn nullable_enum_accepts_null() {
        let schema = json!({"type": "string", "enum": ["a"], "nullable": true});
        assert!(validate(&schema, &json!(null)));
        assert!(!validate(&schema, &json!("b")));
    }

    #[test]
    fn boolean_exclusive_minimum_becomes_numeric() {
        let schema = json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true});
        assert!(!validate(&schema, &json!(0)));
        assert!(validate(&schema, &json!(1)));
    }
}
