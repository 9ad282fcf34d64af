//! `$ref` handling over the raw document: resolution, the list of references that do
//! not resolve, and reachability (which components the operations actually use).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::error::Problem;
use crate::location::Location;

/// Resolves a local reference (`#/components/...`) against the document.
pub fn resolve<'a>(document: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    document.pointer(pointer)
}

/// Follows references until a non-reference node (at most 32 hops, against cycles).
pub fn deref<'a>(document: &'a Value, node: &'a Value) -> Option<&'a Value> {
    let mut current = node;
    for _ in 0..32 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(reference) => current = resolve(document, reference)?,
            None => return Some(current),
        }
    }
    None
}

/// Every `$ref` that is not local or does not point at an existing node.
pub fn unresolved(document: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    walk_refs(document, &Location::root(), &mut |location, reference| {
        if !reference.starts_with("#/") {
            problems.push(Problem::new(
                location.to_string(),
                format!("reference {reference:?} is not local; only `#/components/...` references are supported"),
            ));
        } else if resolve(document, reference).is_none() {
            problems.push(Problem::new(
                location.to_string(),
                format!(
                    "reference {reference:?} does not resolve: there is no {}",
                    Location::from_pointer(reference)
                ),
            ));
        }
    });
    problems
}

/// Calls `visit` with the location and target of every `$ref` under `node`.
pub fn walk_refs(node: &Value, location: &Location, visit: &mut dyn FnMut(&Location, &str)) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                visit(location, reference);
            }
            for (key, child) in map {
                walk_refs(child, &location.join(key), visit);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk_refs(child, &location.join(index), visit);
            }
        }
        _ => {}
    }
}

/// The components (`#/components/<kind>/<name>` pointers) reachable from the paths and
/// the top-level security requirements, following references transitively.
pub fn reachable_components(document: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: Vec<String> = Vec::new();
    let collect = |node: &Value, queue: &mut Vec<String>| {
        walk_refs(node, &Location::root(), &mut |_, reference| {
            queue.push(reference.to_string());
        });
    };
    if let Some(paths) = document.get("paths") {
        collect(paths, &mut queue);
    }
    // Security schemes are referenced by name, not by `$ref`.
    let mut security_names = BTreeSet::new();
    let mut note_security = |requirements: Option<&Value>| {
        for requirement in requirements.and_then(Value::as_array).into_iter().flatten() {
            if let Some(map) = requirement.as_object() {
                security_names.extend(map.keys().cloned());
            }
        }
    };
    note_security(document.get("security"));
    if let Some(paths) = document.get("paths").and_then(Value::as_object) {
        for item in paths.values() {
            for operation in item.as_object().into_iter().flat_map(|m| m.values()) {
                note_security(operation.get("security"));
            }
        }
    }
    for name in security_names {
        seen.insert(format!("#/components/securitySchemes/{name}"));
    }
    while let Some(reference) = queue.pop() {
        if !seen.insert(reference.clone()) {
            continue;
        }
        if let Some(target) = resolve(document, &reference) {
            collect(target, &mut queue);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_a_dangling_reference_with_its_place() {
        let document = json!({
            "components": {"schemas": {"A": {"properties": {"b": {"$ref": "#/components/schemas/B"}}}}}
        });
        let problems = unresolved(&document);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].location, "components.schemas.A.properties.b");
        assert!(problems[0].message.contains("components.schemas.B"));
    }

    #[test]
    fn reachability_follows_references_transitively() {
        let document = json!({
            "paths": {"/x": {"get": {"responses": {"200": {"$ref": "#/components/responses/R"}}}}},
            "components": {
                "responses": {"R": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}},
                "schemas": {"A": {"items": {"$ref": "#/components/schemas/B"}}, "B": {}, "Unused": {}}
            }
        });
        let reachable = reachable_components(&document);
        assert!(reachable.contains("#/components/schemas/B"));
        assert!(!reachable.contains("#/components/schemas/Unused"));
    }
}
