//! The traffic the client sent and received (seen through its exchange observer), and its
//! check against the document: request bodies, statuses, headers, response bodies.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use digitalocean::ObservedExchange;
use serde_json::Value;

use crate::document::Document;
use crate::findings::{self, Finding, FindingKind, Shape};

/// One attempt as it went over the wire.
#[derive(Debug, Clone)]
pub struct Record {
    pub operation: String,
    /// The query, decoded: name and value, in order.
    pub query: Vec<(String, String)>,
    pub request_body: Option<Bytes>,
    /// `None`: the attempt got no complete answer.
    pub answer: Option<Answer>,
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// The headers conform checks for, by name, with whether they were present.
    pub headers: Vec<(&'static str, bool)>,
    pub body: Bytes,
}

/// Headers every answer of DigitalOcean carries.
pub const REQUIRED_HEADERS: [&str; 4] = [
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-request-id",
];

/// The records of a run, shared with the client's observer.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Record>>>);

impl Recorder {
    pub fn observe(&self, exchange: &ObservedExchange<'_>) {
        let record = Record {
            operation: exchange.operation_id.to_string(),
            query: exchange
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            request_body: exchange.request_body.map(Bytes::copy_from_slice),
            answer: exchange.response.as_ref().map(|response| Answer {
                status: response.status.as_u16(),
                headers: REQUIRED_HEADERS
                    .iter()
                    .map(|name| (*name, response.headers.contains_key(*name)))
                    .collect(),
                body: Bytes::copy_from_slice(response.body),
            }),
        };
        self.records().push(record);
    }

    fn records(&self) -> std::sync::MutexGuard<'_, Vec<Record>> {
        // A panic elsewhere cannot leave the list half-written: pushing is one step.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Attempts sent so far.
    pub fn sent(&self) -> usize {
        self.records().len()
    }

    /// The records from `start` on.
    pub fn since(&self, start: usize) -> Vec<Record> {
        self.records()
            .get(start..)
            .map(<[Record]>::to_vec)
            .unwrap_or_default()
    }
}

/// Every finding of one attempt.
pub fn check(document: &Document, record: &Record) -> Vec<Finding> {
    let Some(operation) = document.operation(&record.operation) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let status = record.answer.as_ref().map(|answer| answer.status);
    let finding = |kind, pointer: String, seen: String, message: String, suggestion| Finding {
        operation: record.operation.clone(),
        kind,
        status,
        pointer,
        seen,
        message,
        suggestion,
        occurrences: 1,
    };

    if let (Some(body), Some(schema)) = (&record.request_body, operation.request_schema()) {
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => {
                for violation in document.violations(schema, &value) {
                    let seen = value
                        .pointer(&violation.pointer)
                        .map(findings::shorten)
                        .unwrap_or_default();
                    out.push(finding(
                        FindingKind::RequestViolation,
                        violation.pointer,
                        seen,
                        violation.message,
                        None,
                    ));
                }
            }
            Err(error) => out.push(finding(
                FindingKind::RequestViolation,
                String::new(),
                String::new(),
                format!("the request body is not JSON: {error}"),
                None,
            )),
        }
    }

    for (name, value) in &record.query {
        let pointer = format!("?{name}");
        match operation
            .query_parameters()
            .iter()
            .find(|(documented, _, _)| documented == name)
        {
            None => out.push(finding(
                FindingKind::RequestViolation,
                pointer,
                serde_json::to_string(value).unwrap_or_default(),
                format!(
                    "the client sent the query parameter `{name}`, which the document does not list"
                ),
                None,
            )),
            Some((_, _, schema)) => {
                let typed = typed(document.raw(), schema, value);
                for violation in document.violations(schema, &typed) {
                    out.push(finding(
                        FindingKind::RequestViolation,
                        pointer.clone(),
                        typed.to_string(),
                        violation.message,
                        None,
                    ));
                }
            }
        }
    }
    for (name, _, _) in operation
        .query_parameters()
        .iter()
        .filter(|(_, required, _)| *required)
    {
        if !record.query.iter().any(|(sent, _)| sent == name) {
            out.push(finding(
                FindingKind::RequestViolation,
                format!("?{name}"),
                String::new(),
                format!("the client did not send the required query parameter `{name}`"),
                None,
            ));
        }
    }

    let Some(answer) = &record.answer else {
        return out;
    };
    if !operation.statuses.contains(&answer.status) {
        let listed: Vec<String> = operation.statuses.iter().map(u16::to_string).collect();
        out.push(finding(
            FindingKind::UndocumentedStatus,
            String::new(),
            answer.status.to_string(),
            format!(
                "{} answered {}, which the document does not list (it lists {}; only `default` covers it)",
                operation.id,
                answer.status,
                listed.join(", ")
            ),
            Some(format!(
                "# under paths.{}.{}.responses:\n\"{}\":\n  $ref: \"#/components/responses/error\"\n",
                operation.path,
                operation.method.to_lowercase(),
                answer.status
            )),
        ));
    }
    for (name, present) in &answer.headers {
        if !present {
            out.push(finding(
                FindingKind::MissingHeader,
                (*name).to_string(),
                String::new(),
                format!("the answer has no `{name}` header"),
                None,
            ));
        }
    }
    if answer.body.is_empty() {
        return out;
    }
    let Some(schema) = operation.response_schema(answer.status) else {
        return out;
    };
    let body: Value = match serde_json::from_slice(&answer.body) {
        Ok(body) => body,
        Err(error) => {
            let excerpt: String = String::from_utf8_lossy(&answer.body)
                .chars()
                .take(80)
                .collect();
            out.push(finding(
                FindingKind::SchemaViolation,
                String::new(),
                serde_json::to_string(&excerpt).unwrap_or_default(),
                format!("the body is not JSON: {error}"),
                None,
            ));
            return out;
        }
    };
    let schema_at = format!(
        "/paths/{}/{}/responses/{}",
        operation.path.replace('~', "~0").replace('/', "~1"),
        operation.method.to_lowercase(),
        if operation.statuses.contains(&answer.status) {
            answer.status.to_string()
        } else {
            "default".into()
        }
    );
    let shapes = findings::walk(document.raw(), schema, &schema_at, &body);
    for violation in document.violations(schema, &body) {
        // The walk names these more precisely: a `null`, an enum value, and the
        // composition errors that only wrap one of them.
        let explained = shapes.iter().any(|shape| {
            shape.pointer == violation.pointer
                || (matches!(violation.keyword.as_str(), "oneOf" | "anyOf")
                    && shape
                        .pointer
                        .starts_with(&format!("{}/", violation.pointer)))
        }) && matches!(
            violation.keyword.as_str(),
            "type" | "enum" | "oneOf" | "anyOf"
        );
        if !explained {
            let seen = body
                .pointer(&violation.pointer)
                .map(findings::shorten)
                .unwrap_or_default();
            out.push(finding(
                FindingKind::SchemaViolation,
                violation.pointer,
                seen,
                violation.message,
                None,
            ));
        }
    }
    for Shape {
        kind,
        pointer,
        seen,
        message,
        suggestion,
    } in shapes
    {
        out.push(finding(
            kind,
            pointer,
            findings::shorten(&seen),
            message,
            suggestion,
        ));
    }
    out
}

/// A query value as JSON of its schema's type (everything travels as text).
fn typed(document: &Value, schema: &Value, text: &str) -> Value {
    let schema = digitalocean_codegen::refs::deref(document, schema).unwrap_or(schema);
    let parsed = match schema.get("type").and_then(Value::as_str) {
        Some("integer") => text.parse::<i64>().ok().map(Value::from),
        Some("number") => text.parse::<f64>().ok().map(Value::from),
        Some("boolean") => text.parse::<bool>().ok().map(Value::from),
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(operation: &str, query: &[(&str, &str)]) -> Record {
        Record {
            operation: operation.into(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            request_body: None,
            answer: None,
        }
    }

    #[test]
    fn a_query_outside_the_document_is_a_request_violation() {
        let document = Document::new(crate::bundled_document().unwrap());
        let ok = check(
            &document,
            &record("tags_list", &[("page", "2"), ("per_page", "20")]),
        );
        assert!(ok.is_empty(), "{ok:#?}");
        let found = check(
            &document,
            &record("tags_list", &[("per_page", "500"), ("colour", "red")]),
        );
        let pointers: Vec<(&str, FindingKind)> =
            found.iter().map(|f| (f.pointer.as_str(), f.kind)).collect();
        assert_eq!(
            pointers,
            [
                ("?per_page", FindingKind::RequestViolation),
                ("?colour", FindingKind::RequestViolation)
            ]
        );
    }

    #[test]
    fn a_missing_required_query_parameter_is_a_request_violation() {
        let document = Document::new(crate::bundled_document().unwrap());
        let found = check(&document, &record("droplets_destroy_by_tag", &[]));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].pointer, "?tag_name");
    }
}
