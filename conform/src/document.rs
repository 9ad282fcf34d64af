//! What `conform` needs of the document: per operation, its method and path, the schema
//! of each documented status (and of `default`), the request body's schema; and compiled
//! JSON Schema validators for them.

use std::collections::BTreeMap;

use digitalocean_maintainer_tools::json_schema;
use serde_json::Value;

/// One operation of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub method: String,
    pub path: String,
    /// Statuses the document lists explicitly (`default` not included).
    pub statuses: Vec<u16>,
    /// The JSON Schema of each status's body (`None` key: `default`).
    responses: BTreeMap<Option<u16>, Value>,
    request: Option<Value>,
    /// Query parameters: name, required, schema.
    query: Vec<(String, bool, Value)>,
}

impl Operation {
    /// The OpenAPI schema of the body answered with `status` (the `default` one when the
    /// status is not listed), and the JSON pointer of that schema in the document.
    pub fn response_schema(&self, status: u16) -> Option<&Value> {
        let key = if self.statuses.contains(&status) {
            Some(status)
        } else {
            None
        };
        self.responses.get(&key)
    }

    pub fn request_schema(&self) -> Option<&Value> {
        self.request.as_ref()
    }

    /// The query parameters the document lists: name, whether required, schema.
    pub fn query_parameters(&self) -> &[(String, bool, Value)] {
        &self.query
    }
}

/// The document and its operations.
pub struct Document {
    raw: Value,
    operations: BTreeMap<String, Operation>,
    definitions: Value,
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

impl Document {
    pub fn new(raw: Value) -> Self {
        let mut operations = BTreeMap::new();
        for (path, item) in raw
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            for method in METHODS {
                let Some(operation) = item.get(method) else {
                    continue;
                };
                let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                let mut statuses = Vec::new();
                let mut responses = BTreeMap::new();
                for (status, response) in operation
                    .get("responses")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let key = match status.as_str() {
                        "default" => None,
                        code => match code.parse::<u16>() {
                            Ok(code) => {
                                statuses.push(code);
                                Some(code)
                            }
                            Err(_) => continue,
                        },
                    };
                    let response =
                        digitalocean_codegen::refs::deref(&raw, response).unwrap_or(response);
                    if let Some(schema) = response.pointer("/content/application~1json/schema") {
                        responses.insert(key, schema.clone());
                    }
                }
                let request = operation
                    .get("requestBody")
                    .and_then(|body| digitalocean_codegen::refs::deref(&raw, body))
                    .and_then(|body| body.pointer("/content/application~1json/schema"))
                    .cloned();
                let query = item
                    .get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .chain(
                        operation
                            .get("parameters")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten(),
                    )
                    .filter_map(|parameter| digitalocean_codegen::refs::deref(&raw, parameter))
                    .filter(|parameter| parameter["in"] == "query")
                    .filter_map(|parameter| {
                        Some((
                            parameter["name"].as_str()?.to_string(),
                            parameter["required"] == true,
                            parameter
                                .get("schema")
                                .cloned()
                                .unwrap_or(Value::Bool(true)),
                        ))
                    })
                    .collect();
                operations.insert(
                    id.to_string(),
                    Operation {
                        id: id.to_string(),
                        method: method.to_uppercase(),
                        path: path.clone(),
                        statuses,
                        responses,
                        request,
                        query,
                    },
                );
            }
        }
        let definitions = Value::Object(json_schema::definitions(&raw));
        Self {
            raw,
            operations,
            definitions,
        }
    }

    pub fn raw(&self) -> &Value {
        &self.raw
    }

    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.get(id)
    }

    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.operations.values()
    }

    /// Every way `instance` breaks `schema` (an OpenAPI schema of this document): the JSON
    /// pointer into the instance, the keyword, and the validator's message.
    pub fn violations(&self, schema: &Value, instance: &Value) -> Vec<Violation> {
        let mut translated = json_schema::translate(schema);
        if let Some(map) = translated.as_object_mut() {
            map.insert("$defs".into(), self.definitions.clone());
        }
        let validator = match jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&translated)
        {
            Ok(validator) => validator,
            Err(error) => {
                return vec![Violation {
                    pointer: String::new(),
                    keyword: "$schema".into(),
                    message: format!("the document's schema does not compile: {error}"),
                }];
            }
        };
        validator
            .iter_errors(instance)
            .map(|error| Violation {
                pointer: error.instance_path().as_str().to_string(),
                keyword: error.kind().keyword().to_string(),
                message: error.to_string(),
            })
            .collect()
    }
}

/// One JSON Schema violation.
#[derive(Debug, Clone)]
pub struct Violation {
    pub pointer: String,
    pub keyword: String,
    pub message: String,
}
