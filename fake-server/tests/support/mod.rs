//! Matching exchanges to the spec's operations and validating them against the spec.
#![allow(dead_code)]

use std::path::Path;

use digitalocean_codegen::refs;
use digitalocean_fake::Exchange;
use serde_json::Value;

pub fn spec() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/digitalocean.yaml");
    digitalocean_codegen::load(&path)
        .expect("the spec loads")
        .raw()
        .clone()
}

pub fn client(url: &str) -> digitalocean::Client {
    digitalocean::Client::builder()
        .token("dop_v1_fake")
        .base_url(url)
        .retry_policy(
            digitalocean::RetryPolicy::default()
                .with_initial_backoff(std::time::Duration::from_millis(20))
                .with_max_backoff(std::time::Duration::from_millis(100)),
        )
        .build()
        .expect("a valid configuration")
}

/// The operation (`operationId`, path template, method) a request was for: same method,
/// literal segments equal, the most literal template wins.
pub fn operation_of<'s>(
    spec: &'s Value,
    method: &str,
    path: &str,
) -> Option<(&'s str, &'s str, &'s Value)> {
    let actual: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut best: Option<(usize, &str, &str, &Value)> = None;
    for (template, item) in spec["paths"].as_object()? {
        let Some(operation) = item.get(method.to_lowercase()) else {
            continue;
        };
        let segments: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        if segments.len() != actual.len() {
            continue;
        }
        let mut literal = 0;
        let mut matches = true;
        for (t, a) in segments.iter().zip(&actual) {
            if t.starts_with('{') {
                continue;
            }
            if t != a {
                matches = false;
                break;
            }
            literal += 1;
        }
        if matches && best.is_none_or(|(l, ..)| literal > l) {
            let id = operation["operationId"].as_str()?;
            best = Some((literal, id, template.as_str(), operation));
        }
    }
    best.map(|(_, id, template, operation)| (id, template, operation))
}

/// Everything about one response that departs from the spec.
pub fn conformance_problems(spec: &Value, exchange: &Exchange) -> Vec<String> {
    let mut problems = Vec::new();
    let Some((id, _, operation)) = operation_of(spec, &exchange.method, &exchange.path) else {
        return vec![format!(
            "{} {} is no documented operation",
            exchange.method, exchange.path
        )];
    };
    let status = exchange.status.to_string();
    let responses = &operation["responses"];
    let Some(response) = responses.get(&status).or_else(|| responses.get("default")) else {
        return vec![format!("{id}: status {status} is not documented")];
    };
    let response = refs::deref(spec, response).unwrap_or(response);
    let header = |name: &str| {
        exchange
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut required = vec!["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"];
    if exchange.status == 429 {
        required.push("retry-after");
    }
    for name in required {
        match header(name) {
            None => problems.push(format!("{id} {status}: no {name} header")),
            Some(value) if value.parse::<u64>().is_err() => {
                problems.push(format!("{id} {status}: {name} is not an integer: {value}"))
            }
            Some(_) => {}
        }
    }
    match response.pointer("/content/application~1json/schema") {
        None if !exchange.body.is_empty() => {
            problems.push(format!("{id} {status}: a body where none is documented"))
        }
        None => {}
        Some(schema) => match serde_json::from_slice::<Value>(&exchange.body) {
            Err(e) => problems.push(format!("{id} {status}: the body is not JSON: {e}")),
            Ok(body) => {
                let schema = digitalocean_maintainer_tools::json_schema::for_schema(spec, schema);
                let validator = jsonschema::draft202012::options()
                    .should_validate_formats(true)
                    .build(&schema)
                    .expect("the spec's schemas compile");
                for error in validator.iter_errors(&body) {
                    problems.push(format!(
                        "{id} {status}: at {}: {error}",
                        error.instance_path()
                    ));
                }
            }
        },
    }
    problems
}

pub fn client_with_policies(
    url: &str,
    retry: digitalocean::RetryPolicy,
    rate_limit: digitalocean::RateLimitPolicy,
) -> digitalocean::Client {
    digitalocean::Client::builder()
        .token("dop_v1_fake")
        .base_url(url)
        .retry_policy(retry)
        .rate_limit_policy(rate_limit)
        .build()
        .expect("a valid configuration")
}
