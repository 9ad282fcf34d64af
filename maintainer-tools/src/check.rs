//! `codegen check`: the rules a maintainer's edit must keep. Each operation has a
//! snake_case operationId, one declared tag, a summary and the statuses and headers every
//! DigitalOcean operation documents; no component is unused; path templates and path
//! parameters agree; every example validates against its schema; and the client can be
//! generated from the document.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::error::{CodegenError, Problem, Result};
use crate::examples;
use crate::load::Spec;
use crate::location::Location;
use crate::refs;
use crate::walk::operations;

/// Statuses every operation of the reference pages documents (api-overview and every page).
pub const REQUIRED_ERROR_STATUSES: [&str; 4] = ["401", "429", "500", "default"];

/// Response headers every response documents.
pub const RATE_LIMIT_HEADERS: [&str; 3] =
    ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"];

/// What `check` found in a valid document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Number of operations.
    pub operations: usize,
    /// Number of component schemas.
    pub schemas: usize,
    /// Number of request and response body examples (the examples of the pages).
    pub body_examples: usize,
    /// Number of parameter, header and field-level examples, also validated.
    pub other_examples: usize,
}

impl CheckReport {
    /// The one-line summary `codegen check` prints.
    pub fn summary(&self) -> String {
        format!(
            "{} operations, {} schemas, {} examples: all valid ({} parameter, header and field examples also valid)",
            self.operations, self.schemas, self.body_examples, self.other_examples
        )
    }
}

/// Runs every check. `Err(CodegenError::Invalid)` lists all problems found.
pub fn check(spec: &Spec) -> Result<CheckReport> {
    let document = spec.raw();
    let mut problems = Vec::new();
    let operations = lint_operations(document, &mut problems);
    lint_unused_components(document, &mut problems);

    let collected = examples::collect(document);
    problems.extend(examples::validate(document, &collected));

    if problems.is_empty() {
        // The document is only useful if the client can be generated from it.
        if let Err(error) = crate::render::render(spec) {
            problems.push(Problem::new(
                "(whole document)",
                format!("the client cannot be generated: {error}"),
            ));
        }
    }

    if !problems.is_empty() {
        return Err(CodegenError::Invalid {
            origin: spec.origin().to_string(),
            problems,
        });
    }
    let schemas = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map_or(0, |m| m.len());
    let body_examples = collected.iter().filter(|e| e.kind.is_body()).count();
    Ok(CheckReport {
        operations,
        schemas,
        body_examples,
        other_examples: collected.len() - body_examples,
    })
}

fn is_snake_case(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.ends_with('_')
        && !name.contains("__")
}

fn lint_operations(document: &Value, problems: &mut Vec<Problem>) -> usize {
    let declared_tags: BTreeSet<&str> = document
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .collect();
    let mut seen_ids: BTreeMap<String, String> = BTreeMap::new();
    let mut count = 0;
    let root = Location::root();
    if document.get("paths").and_then(Value::as_object).is_none() {
        problems.push(Problem::new("paths", "the document has no paths"));
        return 0;
    }
    for op in operations(document) {
        let (path, method, operation) = (op.path, op.method, op.operation);
        count += 1;
        let location = root.join("paths").join(path).join(method);
        let here = |message: String| Problem::new(location.to_string(), message);

        match operation.get("operationId").and_then(Value::as_str) {
                None => problems.push(here(
                    "no operationId; add one in snake_case after the Python SDK sample (e.g. tags_list)".into(),
                )),
                Some(id) => {
                    if !is_snake_case(id) {
                        problems.push(here(format!("operationId {id:?} is not snake_case")));
                    }
                    if let Some(previous) = seen_ids.insert(id.to_string(), location.to_string()) {
                        problems.push(here(format!(
                            "operationId {id:?} is already used by {previous}"
                        )));
                    }
                }
            }
        let tags: Vec<&str> = operation
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        match tags.as_slice() {
            [tag] if declared_tags.contains(tag) => {}
            [tag] => problems.push(here(format!(
                "tag {tag:?} is not declared in the top-level tags list"
            ))),
            _ => problems.push(here(format!(
                "has {} tags; each operation belongs to exactly one resource family",
                tags.len()
            ))),
        }
        if operation
            .get("summary")
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            problems.push(here(
                "no summary (the title of the reference page section)".into(),
            ));
        }
        lint_responses(document, operation, &location, problems);
        lint_path_parameters(document, path, operation, op.item, &location, problems);
    }
    count
}

fn lint_responses(
    document: &Value,
    operation: &Value,
    location: &Location,
    problems: &mut Vec<Problem>,
) {
    let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
        problems.push(Problem::new(location.to_string(), "no responses"));
        return;
    };
    if !responses.keys().any(|status| status.starts_with('2')) {
        problems.push(Problem::new(
            location.join("responses").to_string(),
            "no success (2xx) response",
        ));
    }
    for status in REQUIRED_ERROR_STATUSES {
        if !responses.contains_key(status) {
            problems.push(Problem::new(
                location.join("responses").to_string(),
                format!("missing the {status} response every DigitalOcean operation documents"),
            ));
        }
    }
    for (status, response) in responses {
        let response_location = location.join("responses").join(status);
        let Some(response) = refs::deref(document, response) else {
            continue;
        };
        if response
            .get("description")
            .and_then(Value::as_str)
            .is_none_or(|d| d.trim().is_empty())
        {
            problems.push(Problem::new(
                response_location.to_string(),
                "no description",
            ));
        }
        let headers = response.get("headers").and_then(Value::as_object);
        let mut expected: Vec<&str> = RATE_LIMIT_HEADERS.to_vec();
        if status == "429" {
            expected.push("retry-after");
        }
        for header in expected {
            if !headers.is_some_and(|h| h.contains_key(header)) {
                problems.push(Problem::new(
                    response_location.to_string(),
                    format!("does not document the {header} header"),
                ));
            }
        }
    }
}

fn lint_path_parameters(
    document: &Value,
    path: &str,
    operation: &Value,
    item: &Value,
    location: &Location,
    problems: &mut Vec<Problem>,
) {
    let in_template: BTreeSet<&str> = path
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect();
    let declared: BTreeSet<String> = [item.get("parameters"), operation.get("parameters")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|p| refs::deref(document, p))
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
        .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    for name in &in_template {
        if !declared.contains(*name) {
            problems.push(Problem::new(
                location.to_string(),
                format!("path template has {{{name}}} but no path parameter {name:?} is declared"),
            ));
        }
    }
    for name in &declared {
        if !in_template.contains(name.as_str()) {
            problems.push(Problem::new(
                location.to_string(),
                format!("path parameter {name:?} does not appear in the path {path}"),
            ));
        }
    }
}

fn lint_unused_components(document: &Value, problems: &mut Vec<Problem>) {
    let reachable = refs::reachable_components(document);
    let Some(components) = document.get("components").and_then(Value::as_object) else {
        return;
    };
    for (kind, entries) in components {
        for name in entries.as_object().into_iter().flat_map(|m| m.keys()) {
            let pointer = format!("#/components/{kind}/{name}");
            if !reachable.contains(&pointer) {
                problems.push(Problem::new(
                    Location::root()
                        .join("components")
                        .join(kind)
                        .join(name)
                        .to_string(),
                    "is not used by any operation; remove it or reference it",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_snake_case;

    #[test]
    fn snake_case_rule() {
        assert!(is_snake_case("tags_list"));
        assert!(is_snake_case("droplets_list_neighbors_ids"));
        assert!(!is_snake_case("tagsList"));
        assert!(!is_snake_case("tags__list"));
        assert!(!is_snake_case("_tags"));
    }
}
