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

/// One operation of the document, as [`operations`] yields it.
#[derive(Debug, Clone, Copy)]
pub struct Operation<'d> {
    /// The path template, e.g. `/v2/droplets/{droplet_id}`.
    pub path: &'d str,
    /// The method, lowercase (`get`, `post`, …).
    pub method: &'static str,
    /// The operationId ("" when missing; `check` reports that).
    pub id: &'d str,
    /// The path item the operation belongs to (for path-level parameters).
    pub item: &'d Value,
    /// The operation object.
    pub operation: &'d Value,
}

impl Operation<'_> {
    /// Where the operation is: `paths."/v2/tags".get`.
    pub fn location(&self) -> Location {
        Location::root()
            .join("paths")
            .join(self.path)
            .join(self.method)
    }
}

/// Every operation of the document, in path order and then [`METHODS`] order: the one walk
/// over the operations that the passes, the tables and the tools share.
pub fn operations(document: &Value) -> impl Iterator<Item = Operation<'_>> {
    document
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            METHODS.into_iter().filter_map(move |method| {
                let operation = item.get(method)?;
                Some(Operation {
                    path,
                    method,
                    id: operation
                        .get("operationId")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    item,
                    operation,
                })
            })
        })
}

/// Calls `visit` for every operation with write access: its location, operationId and the
/// operation object, in the order of [`operations`].
pub fn for_each_operation_mut<E>(
    document: &mut Value,
    mut visit: impl FnMut(&Location, &str, &mut serde_json::Map<String, Value>) -> Result<(), E>,
) -> Result<(), E> {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let location = Location::root().join("paths").join(path).join(method);
            let id = operation
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            visit(&location, &id, operation)?;
        }
    }
    Ok(())
}
