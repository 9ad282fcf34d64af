//! `codegen diff OLD NEW`: what changed between two versions of the document, for a user
//! of the generated crate. Each document is reduced to facts (operations, parameters,
//! bodies, responses, schemas, fields, enum values, each with its type and constraints);
//! the facts are compared and every change is classified:
//!
//! * **breaking**: an operation, parameter, field, schema or success response removed; a
//!   type changed; a constraint narrowed; a parameter or field newly required (or a field's
//!   optionality changed, which changes its Rust type); an enum value removed;
//! * **compatible**: a new operation, optional parameter or field, schema, response code or
//!   enum value (decodable thanks to open enums); a constraint relaxed; an error response
//!   removed (errors decode through the `4XX`/`5XX` ranges anyway).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::load::Spec;
use crate::refs;
use crate::walk::operations;

/// Breaking or compatible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// A user of the crate may have to change code (or gets different wire behaviour).
    Breaking,
    /// Existing code keeps compiling and working.
    Compatible,
}

/// Added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only in the new document.
    Added,
    /// Only in the old document.
    Removed,
    /// In both, different.
    Changed,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Breaking or compatible.
    pub class: Class,
    /// Added, removed or changed.
    pub kind: ChangeKind,
    /// What: `operation tags_list parameter per_page`, `field Droplet.vpc_uuid`, …
    pub subject: String,
    /// Its description in the old document.
    pub before: Option<String>,
    /// Its description in the new document.
    pub after: Option<String>,
    /// Why it is classified so.
    pub reason: String,
}

/// Every difference, breaking ones first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    /// The changes, sorted by class then subject.
    pub changes: Vec<Change>,
}

impl DiffReport {
    /// Number of breaking changes.
    pub fn breaking(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.class == Class::Breaking)
            .count()
    }

    /// Number of compatible changes.
    pub fn compatible(&self) -> usize {
        self.changes.len() - self.breaking()
    }

    /// The human-readable report.
    pub fn render_text(&self) -> String {
        let mut out = format!(
            "{} breaking, {} compatible change(s)\n",
            self.breaking(),
            self.compatible()
        );
        for (class, title) in [
            (Class::Breaking, "breaking"),
            (Class::Compatible, "compatible"),
        ] {
            let changes: Vec<&Change> = self.changes.iter().filter(|c| c.class == class).collect();
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{title}:");
            for change in changes {
                let (mark, word) = match change.kind {
                    ChangeKind::Added => ('+', "added"),
                    ChangeKind::Removed => ('-', "removed"),
                    ChangeKind::Changed => ('~', "changed"),
                };
                let detail = match (&change.before, &change.after) {
                    (Some(before), Some(after)) => format!(": {before} -> {after}"),
                    (Some(before), None) => format!(" (was {before})"),
                    (None, Some(after)) => format!(" ({after})"),
                    (None, None) => String::new(),
                };
                let _ = writeln!(
                    out,
                    "  {mark} {word} {}{detail} [{}]",
                    change.subject, change.reason
                );
            }
        }
        out
    }
}

/// What kind of thing a fact describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FactKind {
    Operation,
    Parameter,
    RequestBody,
    Response { success: bool },
    Schema,
    Field,
    EnumValue,
}

/// One fact of a document.
#[derive(Debug, Clone, PartialEq)]
struct Fact {
    kind: FactKind,
    /// The type signature, without constraints (`string(uuid)`, `array<Droplet>`, `GET /v2/tags`).
    signature: String,
    required: bool,
    nullable: bool,
    constraints: Constraints,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Constraints {
    minimum: Option<f64>,
    maximum: Option<f64>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    pattern: Option<String>,
}

impl Constraints {
    fn of(schema: &Value) -> Self {
        let n = |k: &str| schema.get(k).and_then(Value::as_f64);
        let u = |k: &str| schema.get(k).and_then(Value::as_u64);
        Self {
            minimum: n("minimum"),
            maximum: n("maximum"),
            min_length: u("minLength"),
            max_length: u("maxLength"),
            min_items: u("minItems"),
            max_items: u("maxItems"),
            pattern: schema
                .get("pattern")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut push = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                parts.push(format!("{name} {value}"));
            }
        };
        push("minimum", self.minimum.map(|v| v.to_string()));
        push("maximum", self.maximum.map(|v| v.to_string()));
        push("minLength", self.min_length.map(|v| v.to_string()));
        push("maxLength", self.max_length.map(|v| v.to_string()));
        push("minItems", self.min_items.map(|v| v.to_string()));
        push("maxItems", self.max_items.map(|v| v.to_string()));
        push("pattern", self.pattern.clone());
        parts.join(", ")
    }

    /// Whether `new` accepts less than `self` (for one bound at a time).
    fn narrowed_to(&self, new: &Constraints) -> bool {
        fn lower<T: PartialOrd + Copy>(old: Option<T>, new: Option<T>) -> bool {
            match (old, new) {
                (None, Some(_)) => true,
                (Some(o), Some(n)) => n > o,
                _ => false,
            }
        }
        fn upper<T: PartialOrd + Copy>(old: Option<T>, new: Option<T>) -> bool {
            match (old, new) {
                (None, Some(_)) => true,
                (Some(o), Some(n)) => n < o,
                _ => false,
            }
        }
        lower(self.minimum, new.minimum)
            || upper(self.maximum, new.maximum)
            || lower(self.min_length, new.min_length)
            || upper(self.max_length, new.max_length)
            || lower(self.min_items, new.min_items)
            || upper(self.max_items, new.max_items)
            || (new.pattern.is_some() && new.pattern != self.pattern)
    }
}

impl Fact {
    /// The description shown next to a change; `None` where the subject says it all.
    fn detail(&self) -> Option<String> {
        (self.kind != FactKind::EnumValue).then(|| self.describe())
    }

    fn describe(&self) -> String {
        let mut text = self.signature.clone();
        let mut notes = Vec::new();
        match self.kind {
            FactKind::Parameter | FactKind::RequestBody | FactKind::Field => {
                notes.push(
                    if self.required {
                        "required"
                    } else {
                        "optional"
                    }
                    .to_string(),
                );
            }
            _ => {}
        }
        if self.nullable {
            notes.push("nullable".into());
        }
        let constraints = self.constraints.describe();
        if !constraints.is_empty() {
            notes.push(constraints);
        }
        if !notes.is_empty() {
            let _ = write!(text, " ({})", notes.join(", "));
        }
        text
    }
}

/// The type signature of a schema node (references by name, constraints left out).
fn signature(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference
            .rsplit('/')
            .next()
            .unwrap_or(reference)
            .to_string();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            let names: Vec<String> = branches.iter().map(signature).collect();
            return if key == "allOf" && names.len() == 1 {
                names[0].clone()
            } else {
                format!("{key}({})", names.join(" | "))
            };
        }
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    let mut out = match ty {
        "array" => format!(
            "array<{}>",
            schema.get("items").map_or("any".into(), signature)
        ),
        "object" => match schema.get("additionalProperties") {
            Some(values) if values.is_object() => format!("map<{}>", signature(values)),
            _ => "object".to_string(),
        },
        other => other.to_string(),
    };
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        let _ = write!(out, "({format})");
    }
    if schema.get("enum").is_some() {
        out.push_str(" enum");
    }
    out
}

fn nullable(schema: &Value) -> bool {
    schema.get("nullable") == Some(&Value::Bool(true))
}

/// Facts of a schema's members: fields (recursively through inline objects, array items
/// and allOf parts), oneOf variants and enum values, under `prefix`.
fn schema_facts(
    document: &Value,
    schema: &Value,
    prefix: &str,
    out: &mut BTreeMap<String, Fact>,
    depth: usize,
) {
    if depth > 12 || schema.get("$ref").is_some() {
        return;
    }
    for value in schema
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.insert(
            format!("enum value {prefix} {value}"),
            Fact {
                kind: FactKind::EnumValue,
                signature: value.to_string(),
                required: false,
                nullable: false,
                constraints: Constraints::default(),
            },
        );
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let path = format!("{prefix}.{name}");
            let target = refs::deref(document, property).unwrap_or(property);
            out.insert(
                format!("field {path}"),
                Fact {
                    kind: FactKind::Field,
                    signature: signature(property),
                    required: required.contains(&name.as_str()),
                    nullable: nullable(property),
                    constraints: Constraints::of(if property.get("$ref").is_some() {
                        &Value::Null
                    } else {
                        target
                    }),
                },
            );
            schema_facts(document, property, &path, out, depth + 1);
        }
    }
    if let Some(items) = schema.get("items") {
        schema_facts(document, items, &format!("{prefix}[]"), out, depth + 1);
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        schema_facts(document, part, prefix, out, depth + 1);
    }
    for key in ["oneOf", "anyOf"] {
        for (index, branch) in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            schema_facts(
                document,
                branch,
                &format!("{prefix}|{index}"),
                out,
                depth + 1,
            );
        }
    }
}

fn facts(spec: &Spec) -> BTreeMap<String, Fact> {
    let document = spec.raw();
    let mut out = BTreeMap::new();
    for op in operations(document) {
        let (path, method, operation) = (op.path, op.method, op.operation);
        let id = operation
            .get("operationId")
            .and_then(Value::as_str)
            .map_or_else(
                || format!("{} {path}", method.to_uppercase()),
                str::to_string,
            );
        out.insert(
            format!("operation {id}"),
            Fact {
                kind: FactKind::Operation,
                signature: format!("{} {path}", method.to_uppercase()),
                required: false,
                nullable: false,
                constraints: Constraints::default(),
            },
        );
        let parameters = [op.item.get("parameters"), operation.get("parameters")];
        for parameter in parameters
            .into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
        {
            let Some(parameter) = refs::deref(document, parameter) else {
                continue;
            };
            let name = parameter.get("name").and_then(Value::as_str).unwrap_or("?");
            let schema = parameter.get("schema").cloned().unwrap_or(Value::Null);
            let target = refs::deref(document, &schema).unwrap_or(&schema);
            let location = parameter.get("in").and_then(Value::as_str).unwrap_or("?");
            let subject = format!("operation {id} parameter {name}");
            out.insert(
                subject.clone(),
                Fact {
                    kind: FactKind::Parameter,
                    signature: format!("{location} {}", signature(&schema)),
                    required: parameter.get("required") == Some(&Value::Bool(true)),
                    nullable: false,
                    constraints: Constraints::of(target),
                },
            );
            schema_facts(document, &schema, &format!("{id}.{name}"), &mut out, 0);
        }
        if let Some(body) = operation
            .get("requestBody")
            .and_then(|b| refs::deref(document, b))
        {
            let schema = body
                .pointer("/content/application~1json/schema")
                .cloned()
                .unwrap_or(Value::Null);
            out.insert(
                format!("operation {id} request body"),
                Fact {
                    kind: FactKind::RequestBody,
                    signature: signature(&schema),
                    required: body.get("required") == Some(&Value::Bool(true)),
                    nullable: false,
                    constraints: Constraints::default(),
                },
            );
            schema_facts(document, &schema, &format!("{id}.body"), &mut out, 0);
        }
        for (status, response) in operation
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let Some(response) = refs::deref(document, response) else {
                continue;
            };
            let schema = response.pointer("/content/application~1json/schema");
            out.insert(
                format!("operation {id} response {status}"),
                Fact {
                    kind: FactKind::Response {
                        success: status.starts_with('2'),
                    },
                    signature: schema.map_or_else(|| "(no body)".to_string(), signature),
                    required: false,
                    nullable: false,
                    constraints: Constraints::default(),
                },
            );
            if let Some(schema) = schema {
                schema_facts(document, schema, &format!("{id}.{status}"), &mut out, 0);
            }
        }
    }
    for (name, schema) in document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        out.insert(
            format!("schema {name}"),
            Fact {
                kind: FactKind::Schema,
                signature: signature(schema),
                required: false,
                nullable: nullable(schema),
                constraints: Constraints::of(schema),
            },
        );
        schema_facts(document, schema, name, &mut out, 0);
    }
    out
}

fn classify_added(fact: &Fact) -> (Class, &'static str) {
    match fact.kind {
        FactKind::Parameter | FactKind::RequestBody | FactKind::Field if fact.required => {
            (Class::Breaking, "newly required")
        }
        FactKind::Operation => (Class::Compatible, "new operation"),
        FactKind::EnumValue => (Class::Compatible, "new enum value; open enums decode it"),
        FactKind::Response { .. } => (Class::Compatible, "new response code"),
        FactKind::Schema => (Class::Compatible, "new type"),
        _ => (Class::Compatible, "new optional member"),
    }
}

fn classify_removed(fact: &Fact) -> (Class, &'static str) {
    match fact.kind {
        FactKind::Response { success: false } => (
            Class::Compatible,
            "error response removed; errors still decode through 4XX/5XX",
        ),
        FactKind::EnumValue => (Class::Breaking, "enum value removed"),
        _ => (Class::Breaking, "removed"),
    }
}

fn classify_changed(old: &Fact, new: &Fact) -> (Class, &'static str) {
    if old.signature != new.signature {
        return (Class::Breaking, "type changed");
    }
    if old.nullable != new.nullable {
        return (
            Class::Breaking,
            "nullability changed (the Rust type changes)",
        );
    }
    if old.required != new.required {
        return match (old.kind, new.required) {
            (_, true) => (Class::Breaking, "newly required"),
            (FactKind::Parameter | FactKind::RequestBody, false) => {
                (Class::Compatible, "no longer required")
            }
            _ => (
                Class::Breaking,
                "no longer required (the Rust type becomes an Option)",
            ),
        };
    }
    if old.constraints.narrowed_to(&new.constraints) {
        return (Class::Breaking, "constraint narrowed");
    }
    (Class::Compatible, "constraint relaxed")
}

/// Compares two documents.
pub fn diff(old: &Spec, new: &Spec) -> DiffReport {
    let before = facts(old);
    let after = facts(new);
    let mut changes = Vec::new();
    for (subject, fact) in &before {
        match after.get(subject) {
            None => {
                let (class, reason) = classify_removed(fact);
                changes.push(Change {
                    class,
                    kind: ChangeKind::Removed,
                    subject: subject.clone(),
                    before: fact.detail(),
                    after: None,
                    reason: reason.to_string(),
                });
            }
            Some(new_fact) if new_fact != fact => {
                let (class, reason) = classify_changed(fact, new_fact);
                changes.push(Change {
                    class,
                    kind: ChangeKind::Changed,
                    subject: subject.clone(),
                    before: fact.detail(),
                    after: new_fact.detail(),
                    reason: reason.to_string(),
                });
            }
            Some(_) => {}
        }
    }
    for (subject, fact) in &after {
        if !before.contains_key(subject) {
            let (class, reason) = classify_added(fact);
            changes.push(Change {
                class,
                kind: ChangeKind::Added,
                subject: subject.clone(),
                before: None,
                after: fact.detail(),
                reason: reason.to_string(),
            });
        }
    }
    fold_children(&mut changes);
    changes.sort_by(|a, b| (a.class, &a.subject).cmp(&(b.class, &b.subject)));
    DiffReport { changes }
}

/// An added or removed operation or schema is one change: its parameters, responses,
/// fields and values are not listed again.
fn fold_children(changes: &mut Vec<Change>) {
    let wholes: Vec<(ChangeKind, String, String)> = changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Changed)
        .filter_map(|c| {
            if let Some(id) = c
                .subject
                .strip_prefix("operation ")
                .filter(|rest| !rest.contains(' '))
            {
                Some((c.kind, format!("operation {id} "), format!(" {id}.")))
            } else {
                c.subject.strip_prefix("schema ").map(|name| {
                    (
                        c.kind,
                        format!("field {name}."),
                        format!("enum value {name} "),
                    )
                })
            }
        })
        .collect();
    changes.retain(|change| {
        !wholes.iter().any(|(kind, first, second)| {
            change.kind == *kind
                && (change.subject.starts_with(first.as_str())
                    || change.subject.contains(second.as_str())
                    || change.subject.starts_with(second.trim_start()))
        })
    });
}
