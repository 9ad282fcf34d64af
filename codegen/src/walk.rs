//! Walking the document: the methods of a path item in a fixed order, and every schema
//! nested in a schema. Shared by the passes, the tables and the maintainer tools.

use serde_json::Value;

use crate::location::Location;

/// The HTTP methods an OpenAPI path item can hold, in a fixed order.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Visits `schema` and every schema nested in it (not following references).
pub fn walk_schemas(schema: &Value, location: &Location, visit: &mut dyn FnMut(&Value, &Location)) {
    let Some(map) = schema.as_object() else {
        return;
    };
    if map.contains_key("$ref") {
        return;
    }
    visit(schema, location);
    if let Some(properties) = map.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            walk_schemas(property, &location.join("properties").join(name), visit);
        }
    }
    for key in ["items", "not", "additionalProperties"] {
        if let Some(child) = map.get(key) {
            walk_schemas(child, &location.join(key), visit);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for (index, child) in map
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            walk_schemas(child, &location.join(key).join(index), visit);
        }
    }
}
