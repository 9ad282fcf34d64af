//! Requests on the wire. For each of the 38 operations, a representative call is captured
//! by a loopback server that answers with the spec's own success example. Each captured
//! request must conform to the spec (path, query and header parameters, body) and is
//! recorded as a snapshot: a change of serialization shows up as a diff there.

mod support;

use std::collections::BTreeMap;

use digitalocean::{Client, Error, types};
use digitalocean_codegen::refs;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// One documented operation: how to recognise its requests and what to answer.
#[derive(Clone)]
struct Route {
    operation_id: String,
    method: String,
    template: String,
    status: u16,
    body: Option<Value>,
}

fn routes(spec: &Value) -> Vec<Route> {
    let mut out = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let (status, response) = operation["responses"]
                .as_object()
                .unwrap()
                .iter()
                .find(|(status, _)| status.starts_with('2'))
                .expect("every operation documents a success");
            let media = &response["content"]["application/json"];
            let body = media
                .get("example")
                .or_else(|| media.pointer("/examples/page/value"))
                .cloned();
            out.push(Route {
                operation_id: operation["operationId"].as_str().unwrap().to_string(),
                method: method.to_uppercase(),
                template: template.clone(),
                status: status.parse().unwrap(),
                body,
            });
        }
    }
    out
}

/// The route matching a request: same method, same number of segments, literal segments
/// equal; the most literal match wins (`/v2/projects/default/…` over `{project_id}`).
fn find_route<'r>(routes: &'r [Route], method: &str, path: &str) -> Option<&'r Route> {
    let actual: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    routes
        .iter()
        .filter(|route| route.method == method)
        .filter_map(|route| {
            let template: Vec<&str> = route.template.trim_start_matches('/').split('/').collect();
            if template.len() != actual.len() {
                return None;
            }
            let mut literal = 0;
            for (t, a) in template.iter().zip(&actual) {
                if t.starts_with('{') {
                    continue;
                }
                if t != a {
                    return None;
                }
                literal += 1;
            }
            Some((literal, route))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, route)| route)
}

struct SpecResponder(Vec<Route>);

impl Respond for SpecResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match find_route(&self.0, request.method.as_str(), request.url.path()) {
            Some(route) => {
                let template = ResponseTemplate::new(route.status)
                    .insert_header("ratelimit-limit", "5000")
                    .insert_header("ratelimit-remaining", "4999")
                    .insert_header(
                        "ratelimit-reset",
                        support::epoch_in(3600).to_string().as_str(),
                    );
                match &route.body {
                    Some(body) => template.set_body_json(body),
                    None => template,
                }
            }
            None => ResponseTemplate::new(404)
                .set_body_json(json!({"id": "not_found", "message": "no such route"})),
        }
    }
}

/// A request example of the spec, decoded into the body type of the operation.
fn request_example<T: DeserializeOwned>(
    spec: &Value,
    path: &str,
    method: &str,
    name: Option<&str>,
) -> T {
    let media = &spec["paths"][path][method]["requestBody"]["content"]["application/json"];
    let value = match name {
        Some(name) => &media["examples"][name]["value"],
        None => media
            .get("example")
            .unwrap_or(&media["examples"]["page"]["value"]),
    };
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{method} {path} example: {e}"))
}

const DROPLET: u64 = 3164444;
const VOLUME: &str = "7724db7c-e098-11e5-b522-000f53304e51";
const PROJECT: &str = "4de7ac8b-495b-4884-9a69-1050c6793cd6";
const SNAPSHOT: &str = "fbe805e8-866b-11e6-96bf-000f53315a41";

/// The representative call of each operation.
async fn call(operation_id: &str, client: &Client, spec: &Value) -> Result<(), Error> {
    macro_rules! send {
        ($builder:expr) => {
            $builder.send().await.map(|_| ()).map_err(Error::from)
        };
    }
    match operation_id {
        "tags_list" => send!(client.tags_list().page(2u64).per_page(20u64)),
        "tags_create" => send!(
            client
                .tags_create()
                .body(request_example::<types::TagCreate>(
                    spec, "/v2/tags", "post", None
                ))
        ),
        "tags_get" => send!(client.tags_get().tag_id("env:prod")),
        "tags_delete" => send!(client.tags_delete().tag_id("awesome")),
        "tags_assign_resources" => send!(client.tags_assign_resources().tag_id("awesome").body(
            request_example::<types::TagResourcesRequest>(
                spec,
                "/v2/tags/{tag_id}/resources",
                "post",
                None
            )
        )),
        "tags_unassign_resources" => send!(
            client
                .tags_unassign_resources()
                .tag_id("awesome")
                .body(request_example::<types::TagResourcesRequest>(
                    spec,
                    "/v2/tags/{tag_id}/resources",
                    "delete",
                    None
                ))
        ),
        "droplets_list" => send!(
            client
                .droplets_list()
                .tag_name("env:prod")
                .page(1u64)
                .per_page(50u64)
        ),
        "droplets_create" => send!(client.droplets_create().body(request_example::<
            types::DropletCreateRequest,
        >(
            spec,
            "/v2/droplets",
            "post",
            Some("page")
        ))),
        "droplets_destroy_by_tag" => send!(client.droplets_destroy_by_tag().tag_name("env:test")),
        "droplets_list_backup_policies" => send!(
            client
                .droplets_list_backup_policies()
                .page(1u64)
                .per_page(2u64)
        ),
        "droplets_list_supported_backup_policies" => {
            send!(client.droplets_list_supported_backup_policies())
        }
        "droplets_get" => send!(client.droplets_get().droplet_id(DROPLET)),
        "droplets_destroy" => send!(client.droplets_destroy().droplet_id(DROPLET)),
        "droplets_list_backups" => send!(
            client
                .droplets_list_backups()
                .droplet_id(DROPLET)
                .per_page(10u64)
        ),
        "droplets_get_backup_policy" => {
            send!(client.droplets_get_backup_policy().droplet_id(DROPLET))
        }
        "droplets_list_associated_resources" => send!(
            client
                .droplets_list_associated_resources()
                .droplet_id(DROPLET)
        ),
        "droplets_destroy_with_associated_resources_dangerous" => send!(
            client
                .droplets_destroy_with_associated_resources_dangerous()
                .droplet_id(DROPLET)
                .x_dangerous(true)
        ),
        "droplets_destroy_retry_with_associated_resources" => {
            send!(
                client
                    .droplets_destroy_retry_with_associated_resources()
                    .droplet_id(DROPLET)
            )
        }
        "droplets_destroy_with_associated_resources_selective" => send!(
            client
                .droplets_destroy_with_associated_resources_selective()
                .droplet_id(DROPLET)
                .body(request_example::<types::SelectiveDestroyRequest>(
                    spec,
                    "/v2/droplets/{droplet_id}/destroy_with_associated_resources/selective",
                    "delete",
                    None
                ))
        ),
        "droplets_get_destroy_associated_resources_status" => {
            send!(
                client
                    .droplets_get_destroy_associated_resources_status()
                    .droplet_id(DROPLET)
            )
        }
        "droplets_list_firewalls" => send!(
            client
                .droplets_list_firewalls()
                .droplet_id(DROPLET)
                .page(1u64)
        ),
        "droplets_list_kernels" => send!(
            client
                .droplets_list_kernels()
                .droplet_id(DROPLET)
                .page(1u64)
                .per_page(1u64)
        ),
        "droplets_list_neighbors" => send!(client.droplets_list_neighbors().droplet_id(DROPLET)),
        "droplets_list_snapshots" => send!(
            client
                .droplets_list_snapshots()
                .droplet_id(DROPLET)
                .per_page(1u64)
        ),
        "droplets_list_neighbors_ids" => send!(client.droplets_list_neighbors_ids()),
        "projects_list_resources_default" => {
            send!(client.projects_list_resources_default().per_page(100u64))
        }
        "projects_assign_resources_default" => send!(
            client
                .projects_assign_resources_default()
                .body(request_example::<types::ProjectAssignRequest>(
                    spec,
                    "/v2/projects/default/resources",
                    "post",
                    None
                ))
        ),
        "projects_list_resources" => send!(
            client
                .projects_list_resources()
                .project_id(PROJECT)
                .page(1u64)
        ),
        "projects_assign_resources" => send!(
            client
                .projects_assign_resources()
                .project_id(PROJECT)
                .body(request_example::<types::ProjectAssignRequest>(
                    spec,
                    "/v2/projects/{project_id}/resources",
                    "post",
                    None
                ))
        ),
        "volumes_list" => send!(client.volumes_list().name("example").region("nyc1")),
        "volumes_create" => send!(client.volumes_create().body(request_example::<
            types::VolumeCreateRequest,
        >(
            spec,
            "/v2/volumes",
            "post",
            Some("from_size")
        ))),
        "volumes_delete_by_name" => send!(
            client
                .volumes_delete_by_name()
                .name("example")
                .region("nyc1")
        ),
        "volume_snapshots_get_by_id" => {
            send!(client.volume_snapshots_get_by_id().snapshot_id(SNAPSHOT))
        }
        "volume_snapshots_delete_by_id" => {
            send!(client.volume_snapshots_delete_by_id().snapshot_id(SNAPSHOT))
        }
        "volumes_get" => send!(client.volumes_get().volume_id(VOLUME)),
        "volumes_delete" => send!(client.volumes_delete().volume_id(VOLUME)),
        "volume_snapshots_list" => send!(
            client
                .volume_snapshots_list()
                .volume_id(VOLUME)
                .per_page(25u64)
        ),
        "volume_snapshots_create" => send!(
            client
                .volume_snapshots_create()
                .volume_id(VOLUME)
                .body(request_example::<types::VolumeSnapshotCreate>(
                    spec,
                    "/v2/volumes/{volume_id}/snapshots",
                    "post",
                    None
                ))
        ),
        other => panic!("no representative call for {other}: add one to requests.rs"),
    }
}

/// The request as the snapshot shows it: what varies between runs (host, port, user-agent
/// version, content length) and the Authorization value are left out.
fn describe(request: &Request) -> String {
    let mut out = format!("{} {}", request.method, request.url.path());
    if let Some(query) = request.url.query() {
        out.push('?');
        out.push_str(query);
    }
    out.push('\n');
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in &request.headers {
        let name = name.as_str().to_ascii_lowercase();
        match name.as_str() {
            "host" | "user-agent" | "content-length" => {}
            "authorization" => {
                let scheme = value
                    .to_str()
                    .unwrap_or("")
                    .split(' ')
                    .next()
                    .unwrap_or("")
                    .to_string();
                headers.insert(name, format!("{scheme} <token>"));
            }
            _ => {
                headers.insert(name, value.to_str().unwrap_or("<binary>").to_string());
            }
        }
    }
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\n"));
    }
    if !request.body.is_empty() {
        let body: Value = serde_json::from_slice(&request.body).expect("bodies are JSON");
        out.push('\n');
        out.push_str(&serde_json::to_string_pretty(&body).unwrap());
        out.push('\n');
    }
    out
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// A parameter value as JSON, typed after its schema (everything travels as text).
fn typed(text: &str, schema: &Value, spec: &Value) -> Value {
    let schema = refs::deref(spec, schema).unwrap_or(schema);
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") => text
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| json!(text)),
        Some("number") => text
            .parse::<f64>()
            .map(Value::from)
            .unwrap_or_else(|_| json!(text)),
        Some("boolean") => text
            .parse::<bool>()
            .map(Value::from)
            .unwrap_or_else(|_| json!(text)),
        _ => json!(text),
    }
}

fn validate(spec: &Value, schema: &Value, instance: &Value) -> Vec<String> {
    let schema = digitalocean_maintainer_tools::json_schema::for_schema(spec, schema);
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the spec's schemas compile");
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Every way the request departs from the spec's description of its operation.
fn conformance_problems(spec: &Value, route: &Route, request: &Request) -> Vec<String> {
    let operation = &spec["paths"][route.template.as_str()][route.method.to_lowercase().as_str()];
    let mut problems = Vec::new();
    let template: Vec<&str> = route.template.trim_start_matches('/').split('/').collect();
    let actual: Vec<&str> = request
        .url
        .path()
        .trim_start_matches('/')
        .split('/')
        .collect();
    let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    let parameters: Vec<&Value> = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| refs::deref(spec, p))
        .collect();
    for (name, _) in &query {
        if !parameters
            .iter()
            .any(|p| p["in"] == "query" && p["name"] == name.as_str())
        {
            problems.push(format!("query parameter {name} is not documented"));
        }
    }
    for parameter in &parameters {
        let name = parameter["name"].as_str().unwrap();
        let required = parameter["required"].as_bool().unwrap_or(false);
        let value: Option<String> = match parameter["in"].as_str() {
            Some("path") => template
                .iter()
                .position(|t| *t == format!("{{{name}}}"))
                .map(|i| percent_decode(actual[i])),
            Some("query") => query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            Some("header") => request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            _ => None,
        };
        match value {
            None if required => problems.push(format!("required parameter {name} is missing")),
            None => {}
            Some(text) => {
                let instance = typed(&text, &parameter["schema"], spec);
                for problem in validate(spec, &parameter["schema"], &instance) {
                    problems.push(format!("parameter {name} = {text:?}: {problem}"));
                }
            }
        }
    }
    let body = &operation["requestBody"];
    if body.is_object() {
        if request.body.is_empty() {
            if body["required"].as_bool().unwrap_or(false) {
                problems.push("the required body is missing".into());
            }
        } else {
            let instance: Value = serde_json::from_slice(&request.body).unwrap();
            for problem in validate(
                spec,
                &body["content"]["application/json"]["schema"],
                &instance,
            ) {
                problems.push(format!("body {problem}"));
            }
        }
    } else if !request.body.is_empty() {
        problems.push("a body was sent to an operation that takes none".into());
    }
    problems
}

#[tokio::test]
async fn every_operation_sends_a_request_that_conforms_to_the_spec() {
    let spec = support::spec().raw().clone();
    let routes = routes(&spec);
    assert_eq!(routes.len(), 38);
    let mut failures = Vec::new();
    for route in &routes {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(SpecResponder(routes.clone()))
            .mount(&server)
            .await;
        let client = support::client(&server.uri());
        if let Err(error) = call(&route.operation_id, &client, &spec).await {
            failures.push(format!("{}: the call failed: {error}", route.operation_id));
            continue;
        }
        let received = server.received_requests().await.unwrap();
        let [request] = received.as_slice() else {
            failures.push(format!(
                "{}: {} requests were sent",
                route.operation_id,
                received.len()
            ));
            continue;
        };
        let matched = find_route(&routes, request.method.as_str(), request.url.path());
        if matched.map(|r| r.operation_id.as_str()) != Some(route.operation_id.as_str()) {
            failures.push(format!(
                "{}: the request went to {}",
                route.operation_id,
                request.url.path()
            ));
            continue;
        }
        for problem in conformance_problems(&spec, route, request) {
            failures.push(format!("{}: {problem}", route.operation_id));
        }
        insta::assert_snapshot!(format!("request_{}", route.operation_id), describe(request));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn conformance_catches_an_undocumented_query_parameter_and_a_bad_body() {
    let spec = support::spec().raw().clone();
    let routes = routes(&spec);
    let route = routes
        .iter()
        .find(|r| r.operation_id == "volumes_create")
        .unwrap();
    let request = Request {
        url: "http://127.0.0.1/v2/volumes?verbose=1".parse().unwrap(),
        method: wiremock::http::Method::POST,
        headers: Default::default(),
        body: br#"{"size_gigabytes": 0, "region": "nyc1"}"#.to_vec(),
    };
    let problems = conformance_problems(&spec, route, &request);
    assert!(
        problems.iter().any(|p| p.contains("verbose")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("body")),
        "{problems:?}"
    );
}
