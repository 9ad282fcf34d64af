//! Stage 2, normalize: passes that adapt the document to what progenitor (0.15) and typify
//! (0.8) can take, without changing what goes over the wire. Each pass is a function whose
//! doc comment names the limitation it works around. They run in the order of [`PASSES`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::error::{CodegenError, Result};
use crate::load::Spec;
use crate::location::Location;
use crate::names::pascal_case;
use crate::open_enums::{self, OpenEnum};
use crate::walk::{for_each_operation_mut, walk_schemas};

/// A normalization pass: a name (for messages and docs) and the function.
pub type Pass = (&'static str, fn(&mut Value) -> Result<()>);

/// The passes, in the order they run.
pub const PASSES: [Pass; 7] = [
    ("unify_error_bodies", unify_error_bodies),
    (
        "replace_default_with_error_ranges",
        replace_default_with_error_ranges,
    ),
    ("hoist_inline_enums", hoist_inline_enums),
    (
        "join_parameter_description_lines",
        join_parameter_description_lines,
    ),
    (
        "make_descriptions_rustdoc_safe",
        make_descriptions_rustdoc_safe,
    ),
    ("check_single_success_body", check_single_success_body),
    (
        "accept_null_for_optional_arrays",
        accept_null_for_optional_arrays,
    ),
];

/// The document after every pass, and the enums the client renders as open enums.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// The normalized document (JSON).
    pub document: Value,
    /// Every string enum, now a component schema, that the client renders as an open enum.
    pub open_enums: Vec<OpenEnum>,
}

/// Runs every pass on a copy of the document.
pub fn normalize(spec: &Spec) -> Result<Normalized> {
    let mut document = spec.raw().clone();
    for (_, pass) in PASSES {
        pass(&mut document)?;
    }
    let open_enums = open_enums::collect(&document)?;
    Ok(Normalized {
        document,
        open_enums,
    })
}

fn is_error_status(status: &str) -> bool {
    status.starts_with('4') || status.starts_with('5') || status == "default"
}

fn json_schema_of(response: &Value) -> Option<&Value> {
    response.pointer("/content/application~1json/schema")
}

/// progenitor treats a `default` response as both a success and an error response. When
/// an operation also documents a 2xx whose body differs (or is empty), progenitor's
/// `extract_responses` asserts that one type covers both and panics. Every DigitalOcean
/// operation has such a `default` (the error body). This pass replaces `default` with the
/// ranges `4XX` and `5XX` carrying the same response, so an undocumented error status
/// (a 403, a 502) still decodes into the error body; an undocumented 1xx or 3xx becomes
/// progenitor's `UnexpectedResponse`, which it is.
///
/// progenitor orders the ranges before the explicit codes in the generated `match`, which
/// makes every explicit error code with the same body an unreachable arm (a compiler
/// warning). Those codes are dropped from the normalized document: they decode exactly
/// as the range does. Run after [`unify_error_bodies`], so all error bodies are the same.
pub fn replace_default_with_error_ranges(document: &mut Value) -> Result<()> {
    for_each_operation_mut(document, |_, _, operation| {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            return Ok(());
        };
        let Some(default) = responses.remove("default") else {
            return Ok(());
        };
        for range in ["4XX", "5XX"] {
            if !responses.contains_key(range) {
                responses.insert(range.to_string(), default.clone());
            }
        }
        let range_body = json_schema_of(&default).cloned();
        responses.retain(|status, response| {
            let covered = status.len() == 3
                && (status.starts_with('4') || status.starts_with('5'))
                && status.chars().all(|c| c.is_ascii_digit());
            !(covered && json_schema_of(response).cloned() == range_body)
        });
        Ok(())
    })
}

/// progenitor generates one error type per operation and asserts that every error response
/// has the same body schema. Tag creation answers 400 with a body of its own
/// (`ErrorWithRootCauses`) and every other error with `Error`. This pass gives such an
/// operation one component `<OperationId>ErrorBody` that is a `oneOf` of the distinct error
/// schemas, and points every error response at it; the wire format is unchanged.
pub fn unify_error_bodies(document: &mut Value) -> Result<()> {
    let mut new_components: BTreeMap<String, Value> = BTreeMap::new();
    for_each_operation_mut(document, |location, id, operation| {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            return Ok(());
        };
        let mut distinct: Vec<Value> = Vec::new();
        let mut without_body = Vec::new();
        for (status, response) in responses.iter() {
            if !is_error_status(status) {
                continue;
            }
            match json_schema_of(response) {
                Some(schema) if !distinct.contains(schema) => distinct.push(schema.clone()),
                Some(_) => {}
                None => without_body.push(status.clone()),
            }
        }
        if !distinct.is_empty() && !without_body.is_empty() {
            return Err(CodegenError::Normalize {
                pass: "unify_error_bodies",
                location: location.join("responses").to_string(),
                message: format!(
                    "error responses {} have no JSON body while others do; progenitor needs one error body \
                     type per operation, so give them the error schema",
                    without_body.join(", ")
                ),
            });
        }
        if distinct.len() <= 1 {
            return Ok(());
        }
        let name = format!("{}ErrorBody", pascal_case(id));
        let reference = json!({ "$ref": format!("#/components/schemas/{name}") });
        new_components.insert(
            name,
            json!({
                "description": format!("Any error body that `{id}` documents."),
                "oneOf": distinct,
            }),
        );
        for (status, response) in responses.iter_mut() {
            if is_error_status(status)
                && let Some(schema) = response.pointer_mut("/content/application~1json/schema")
            {
                *schema = reference.clone();
            }
        }
        Ok(())
    })?;
    insert_components(document, new_components, "unify_error_bodies")
}

fn insert_components(
    document: &mut Value,
    new: BTreeMap<String, Value>,
    pass: &'static str,
) -> Result<()> {
    if new.is_empty() {
        return Ok(());
    }
    let schemas = document
        .as_object_mut()
        .map(|root| root.entry("components").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
        .map(|components| components.entry("schemas").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| CodegenError::Normalize {
            pass,
            location: "components.schemas".into(),
            message: "is not an object".into(),
        })?;
    for (name, schema) in new {
        if schemas.contains_key(&name) {
            return Err(CodegenError::Normalize {
                pass,
                location: format!("components.schemas.{name}"),
                message: "already exists; the pass needs this name for a generated component, rename yours".into(),
            });
        }
        schemas.insert(name, schema);
    }
    Ok(())
}

/// String enums are closed in typify: a value the document does not list fails the whole
/// response. The client opens them by replacing each enum component with a generated open
/// enum (see `open_enums`), and typify can only replace *named* (referenced) types. This
/// pass moves every string enum written inline (a property, an array item, a parameter)
/// into a component schema named after its place, e.g. the `type` query parameter of
/// `droplets_list` becomes `DropletsListType`, and references it from where it was.
pub fn hoist_inline_enums(document: &mut Value) -> Result<()> {
    let existing: BTreeSet<String> = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut hoisted: BTreeMap<String, Value> = BTreeMap::new();

    // Component schemas: enums nested below the component root.
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            hoist_below(schema, name, &existing, &mut hoisted, true)?;
        }
    }
    // Parameters, in components and inline in operations.
    if let Some(parameters) = document
        .pointer_mut("/components/parameters")
        .and_then(Value::as_object_mut)
    {
        for parameter in parameters.values_mut() {
            let base = pascal_case(
                parameter
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("Parameter"),
            );
            if let Some(schema) = parameter.get_mut("schema") {
                hoist_below(schema, &base, &existing, &mut hoisted, false)?;
            }
        }
    }
    for_each_operation_mut(document, |_, id, operation| {
        for parameter in operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if parameter.get("$ref").is_some() {
                continue;
            }
            let base = format!(
                "{}{}",
                pascal_case(id),
                pascal_case(
                    parameter
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("Parameter")
                )
            );
            if let Some(schema) = parameter.get_mut("schema") {
                hoist_below(schema, &base, &existing, &mut hoisted, false)?;
            }
        }
        for schema in operation_media_schemas(operation) {
            hoist_below(
                schema,
                &format!("{}Body", pascal_case(id)),
                &existing,
                &mut hoisted,
                false,
            )?;
        }
        Ok(())
    })?;
    insert_components(document, hoisted, "hoist_inline_enums")
}

fn operation_media_schemas(operation: &mut Map<String, Value>) -> Vec<&mut Value> {
    let mut out = Vec::new();
    let (body, responses) = {
        let mut body = None;
        let mut responses = None;
        for (key, value) in operation.iter_mut() {
            match key.as_str() {
                "requestBody" => body = Some(value),
                "responses" => responses = Some(value),
                _ => {}
            }
        }
        (body, responses)
    };
    let holders = body.into_iter().chain(
        responses
            .into_iter()
            .flat_map(|r| r.as_object_mut().into_iter().flat_map(|m| m.values_mut())),
    );
    for holder in holders {
        if let Some(content) = holder.get_mut("content").and_then(Value::as_object_mut) {
            for media in content.values_mut() {
                if let Some(schema) = media.get_mut("schema") {
                    out.push(schema);
                }
            }
        }
    }
    out
}

fn is_string_enum(schema: &Value) -> bool {
    schema.get("enum").is_some() && schema.get("type").and_then(Value::as_str) == Some("string")
}

/// Hoists every inline string enum in `schema` (and `schema` itself unless it is a
/// component root) into `hoisted`, named `base` + the property path.
fn hoist_below(
    schema: &mut Value,
    base: &str,
    existing: &BTreeSet<String>,
    hoisted: &mut BTreeMap<String, Value>,
    is_component_root: bool,
) -> Result<()> {
    if !is_component_root && is_string_enum(schema) {
        let mut component = schema.clone();
        let nullable = component
            .as_object_mut()
            .and_then(|m| m.remove("nullable"))
            .is_some_and(|v| v == Value::Bool(true));
        let name = unique_name(base, &component, existing, hoisted);
        hoisted.insert(name.clone(), component);
        let reference = json!({ "$ref": format!("#/components/schemas/{name}") });
        *schema = if nullable {
            json!({ "allOf": [reference], "nullable": true })
        } else {
            reference
        };
        return Ok(());
    }
    let Some(map) = schema.as_object_mut() else {
        return Ok(());
    };
    if map.contains_key("$ref") {
        return Ok(());
    }
    if let Some(properties) = map.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, property) in properties.iter_mut() {
            hoist_below(
                property,
                &format!("{base}{}", pascal_case(name)),
                existing,
                hoisted,
                false,
            )?;
        }
    }
    if let Some(items) = map.get_mut("items") {
        hoist_below(items, &format!("{base}Item"), existing, hoisted, false)?;
    }
    if let Some(additional) = map.get_mut("additionalProperties")
        && additional.is_object()
    {
        hoist_below(
            additional,
            &format!("{base}Value"),
            existing,
            hoisted,
            false,
        )?;
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for (index, branch) in map
            .get_mut(key)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .enumerate()
        {
            hoist_below(
                branch,
                &format!("{base}Variant{index}"),
                existing,
                hoisted,
                false,
            )?;
        }
    }
    Ok(())
}

fn unique_name(
    base: &str,
    schema: &Value,
    existing: &BTreeSet<String>,
    hoisted: &BTreeMap<String, Value>,
) -> String {
    let mut candidate = base.to_string();
    let mut counter = 2;
    loop {
        match hoisted.get(&candidate) {
            // The same enum hoisted twice (e.g. a shared parameter) is one component.
            Some(previous) if previous == schema => return candidate,
            None if !existing.contains(&candidate) => return candidate,
            _ => {
                candidate = format!("{base}{counter}");
                counter += 1;
            }
        }
    }
}

/// progenitor documents each builder method with a Markdown list of its parameters, one
/// item per parameter description. A line break inside a description ends the list item
/// and leaves a stray paragraph (rustdoc misrenders it; clippy's `doc_lazy_continuation`
/// flags the generated code). This pass joins the lines of parameter descriptions with a
/// space. Documentation only; nothing on the wire changes.
pub fn join_parameter_description_lines(document: &mut Value) -> Result<()> {
    fn join(parameter: &mut Value) {
        if let Some(Value::String(description)) = parameter.get_mut("description") {
            *description = description.split_whitespace().collect::<Vec<_>>().join(" ");
        }
    }
    if let Some(parameters) = document
        .pointer_mut("/components/parameters")
        .and_then(Value::as_object_mut)
    {
        parameters.values_mut().for_each(join);
    }
    for_each_operation_mut(document, |_, _, operation| {
        operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .for_each(join);
        Ok(())
    })
}

/// progenitor copies descriptions into doc comments verbatim, and rustdoc reads them as
/// Markdown: the pages' placeholders such as `<resource type>:update` become unclosed HTML
/// tags and their bare URLs are not links (both are rustdoc warnings, and the placeholder
/// disappears from the rendered page). This pass puts placeholders in code spans and bare
/// URLs in angle brackets, in every description of the document. Documentation only.
pub fn make_descriptions_rustdoc_safe(document: &mut Value) -> Result<()> {
    fn walk(node: &mut Value) {
        match node {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    match child {
                        Value::String(text) if key == "description" || key == "summary" => {
                            *text = rustdoc_safe(text);
                        }
                        _ => walk(child),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(document);
    Ok(())
}

fn rustdoc_safe(text: &str) -> String {
    use std::sync::LazyLock;
    static PLACEHOLDER: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"`?(<[A-Za-z_][A-Za-z_ ]*>)(:[a-z_]+)?`?").expect("valid pattern")
    });
    static BARE_URL: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r#"(^|[\s(])(https?://[^\s)<>`"]*[^\s)<>`".,;:])"#)
            .expect("valid pattern")
    });
    let text = PLACEHOLDER.replace_all(text, "`$1$2`");
    BARE_URL.replace_all(&text, "$1<$2>").into_owned()
}

/// typify decodes an optional array as `Vec<T>` with `#[serde(default)]`: a missing key
/// is an empty list, but a `null` fails the whole response, and DigitalOcean sends `null`
/// for empty lists in places. typify has no attribute for "null means empty", so this pass
/// marks every optional (not `required`) array property `nullable`: typify then generates
/// `Option<Vec<T>>`, and `null` decodes as `None` (absent) like a missing key. Optional
/// objects already decode `null` as `None`; required properties keep their type, since the
/// document promises them. The wire format is unchanged.
pub fn accept_null_for_optional_arrays(document: &mut Value) -> Result<()> {
    fn visit(schema: &mut Value) {
        let Some(map) = schema.as_object_mut() else {
            return;
        };
        let required: BTreeSet<String> = map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        if let Some(properties) = map.get_mut("properties").and_then(Value::as_object_mut) {
            for (name, property) in properties.iter_mut() {
                if !required.contains(name)
                    && let Some(property) = property.as_object_mut()
                    && property.get("type").and_then(Value::as_str) == Some("array")
                {
                    property.insert("nullable".into(), Value::Bool(true));
                }
            }
        }
        for (key, child) in map.iter_mut() {
            match key.as_str() {
                "properties" => {
                    if let Some(properties) = child.as_object_mut() {
                        properties.values_mut().for_each(visit);
                    }
                }
                "items" | "additionalProperties" | "not" => visit(child),
                "allOf" | "oneOf" | "anyOf" => {
                    if let Some(branches) = child.as_array_mut() {
                        branches.iter_mut().for_each(visit);
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.values_mut().for_each(visit);
    }
    for_each_operation_mut(document, |_, _, operation| {
        operation_media_schemas(operation)
            .into_iter()
            .for_each(visit);
        Ok(())
    })
}

/// progenitor generates one success type per operation and asserts that every 2xx response
/// has the same body (or none). It cannot be adapted without changing the API surface, so
/// this pass only turns the assertion into a message that names the operation.
pub fn check_single_success_body(document: &mut Value) -> Result<()> {
    for_each_operation_mut(document, |location, _, operation| {
        let responses = operation.get("responses").and_then(Value::as_object);
        let bodies: BTreeSet<String> = responses
            .into_iter()
            .flatten()
            .filter(|(status, _)| status.starts_with('2'))
            .map(|(_, response)| {
                json_schema_of(response).map_or_else(|| "(none)".into(), Value::to_string)
            })
            .collect();
        if bodies.len() > 1 {
            return Err(CodegenError::Normalize {
                pass: "check_single_success_body",
                location: location.join("responses").to_string(),
                message: "2xx responses with different bodies; progenitor supports one success body per operation"
                    .into(),
            });
        }
        Ok(())
    })
}

/// Schema nodes of the normalized document that are string enums outside components
/// (should be none after [`hoist_inline_enums`]); used by tests.
pub fn inline_string_enums(document: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(schemas) = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            let root = Location::root()
                .join("components")
                .join("schemas")
                .join(name);
            walk_schemas(schema, &root, &mut |node, location| {
                if location != &root && is_string_enum(node) {
                    found.push(location.to_string());
                }
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_bare_urls_are_made_rustdoc_safe() {
        assert_eq!(
            rustdoc_safe("both tag:create and <resource type>:update scopes"),
            "both tag:create and `<resource type>:update` scopes"
        );
        assert_eq!(
            rustdoc_safe(
                "would be https://api.digitalocean.com/v2/tags/PROD/resources (not /v2/tags/prod)."
            ),
            "would be <https://api.digitalocean.com/v2/tags/PROD/resources> (not /v2/tags/prod)."
        );
        let once = rustdoc_safe("See https://x.test/a, and `<b>`.");
        assert_eq!(rustdoc_safe(&once), once, "applying twice changes nothing");
    }

    #[test]
    fn only_optional_arrays_become_nullable() {
        let mut document = json!({"components": {"schemas": {"Page": {
            "type": "object",
            "required": ["must"],
            "properties": {
                "must": {"type": "array", "items": {"type": "string"}},
                "may": {"type": "array", "items": {"type": "object", "properties": {
                    "inner": {"type": "array", "items": {"type": "string"}}
                }}},
                "object": {"type": "object"}
            }
        }}}});
        accept_null_for_optional_arrays(&mut document).unwrap();
        let page = &document["components"]["schemas"]["Page"]["properties"];
        assert_eq!(page["must"].get("nullable"), None);
        assert_eq!(page["may"]["nullable"], json!(true));
        assert_eq!(
            page["may"]["items"]["properties"]["inner"]["nullable"],
            json!(true)
        );
        assert_eq!(page["object"].get("nullable"), None);
    }

    #[test]
    fn default_becomes_error_ranges() {
        let mut document = json!({"paths": {"/x": {"get": {"operationId": "x", "responses": {
            "200": {"description": "ok"}, "default": {"description": "error"}
        }}}}});
        replace_default_with_error_ranges(&mut document).unwrap();
        let responses = &document["paths"]["/x"]["get"]["responses"];
        assert!(responses.get("default").is_none());
        assert_eq!(responses["200"]["description"], "ok");
        assert_eq!(responses["4XX"]["description"], "error");
        assert_eq!(responses["5XX"]["description"], "error");
    }

    #[test]
    fn explicit_error_codes_with_the_range_body_are_dropped() {
        let error = json!({"description": "e", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        let mut document = json!({"paths": {"/x": {"get": {"operationId": "x", "responses": {
            "200": {"description": "ok"}, "404": error.clone(), "default": error
        }}}}});
        replace_default_with_error_ranges(&mut document).unwrap();
        let responses = document["paths"]["/x"]["get"]["responses"]
            .as_object()
            .unwrap();
        let statuses: Vec<&str> = responses.keys().map(String::as_str).collect();
        assert_eq!(statuses, ["200", "4XX", "5XX"]);
    }

    #[test]
    fn distinct_error_bodies_become_one_one_of() {
        let mut document = json!({"paths": {"/x": {"post": {"operationId": "things_create", "responses": {
            "201": {"description": "ok"},
            "400": {"description": "bad", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Bad"}}}},
            "default": {"description": "e", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }}}}, "components": {"schemas": {"Bad": {}, "Error": {}}}});
        unify_error_bodies(&mut document).unwrap();
        let union = &document["components"]["schemas"]["ThingsCreateErrorBody"]["oneOf"];
        assert_eq!(union.as_array().unwrap().len(), 2);
        let responses = &document["paths"]["/x"]["post"]["responses"];
        for status in ["400", "default"] {
            assert_eq!(
                responses[status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ThingsCreateErrorBody"
            );
        }
    }

    #[test]
    fn inline_enum_is_hoisted_and_referenced() {
        let mut document = json!({
            "paths": {"/x": {"get": {"operationId": "things_list", "parameters": [
                {"name": "type", "in": "query", "schema": {"type": "string", "enum": ["a", "b"]}}
            ], "responses": {"200": {"description": "ok"}}}}},
            "components": {"schemas": {"Thing": {"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["x"], "nullable": true}
            }}}}
        });
        hoist_inline_enums(&mut document).unwrap();
        let schemas = &document["components"]["schemas"];
        assert_eq!(schemas["ThingsListType"]["enum"], json!(["a", "b"]));
        assert_eq!(schemas["ThingKind"]["enum"], json!(["x"]));
        assert_eq!(
            schemas["Thing"]["properties"]["kind"],
            json!({"allOf": [{"$ref": "#/components/schemas/ThingKind"}], "nullable": true})
        );
        assert!(inline_string_enums(&document).is_empty());
    }
}
