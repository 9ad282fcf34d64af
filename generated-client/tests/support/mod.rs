//! Helpers shared by the integration tests: the spec, and JSON comparison that tolerates
//! what the generated types legitimately drop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/digitalocean.yaml")
}

pub fn spec() -> digitalocean_codegen::Spec {
    digitalocean_codegen::load(&spec_path()).expect("the spec loads")
}

/// Whether a value is what the generated types leave out when serializing an optional
/// field: `None` (null), an empty `Vec` or an empty map.
fn is_absent_optional(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// Compares `original` and `reencoded` as JSON, except that a key may be missing on one
/// side when its value on the other is null, [] or {} (an absent optional field), and that
/// numbers compare by value (5 and 5.0 are the same price). Returns the first difference.
pub fn json_equivalent(original: &Value, reencoded: &Value) -> Result<(), String> {
    compare(original, reencoded, "")
}

fn compare(a: &Value, b: &Value, at: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Object(left), Value::Object(right)) => {
            for (key, value) in left {
                let here = format!("{at}/{key}");
                match right.get(key) {
                    Some(other) => compare(value, other, &here)?,
                    None if is_absent_optional(value) => {}
                    None => return Err(format!("{here}: missing after re-encoding (was {value})")),
                }
            }
            for (key, value) in right {
                if !left.contains_key(key) && !is_absent_optional(value) {
                    return Err(format!("{at}/{key}: added by re-encoding ({value})"));
                }
            }
            Ok(())
        }
        (Value::Array(left), Value::Array(right)) => {
            if left.len() != right.len() {
                return Err(format!("{at}: {} items became {}", left.len(), right.len()));
            }
            for (index, (x, y)) in left.iter().zip(right).enumerate() {
                compare(x, y, &format!("{at}/{index}"))?;
            }
            Ok(())
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => Ok(()),
        _ if a == b => Ok(()),
        _ => Err(format!("{at}: {a} became {b}")),
    }
}

/// The token of every test client: it must never show up in output.
pub const TOKEN: &str = "dop_v1_4c0ffee5ecret5hou1dnever1eak0123456789abcdef";

/// A client for a loopback server, with quick retries so the tests stay fast.
pub fn client(base_url: &str) -> digitalocean::Client {
    client_with(base_url, |b| b)
}

/// Like [`client`], with changes to the builder.
pub fn client_with(
    base_url: &str,
    configure: impl FnOnce(digitalocean::ClientBuilder) -> digitalocean::ClientBuilder,
) -> digitalocean::Client {
    let builder = digitalocean::Client::builder()
        .token(TOKEN)
        .base_url(base_url)
        .retry_policy(
            digitalocean::RetryPolicy::default()
                .with_initial_backoff(std::time::Duration::from_millis(20))
                .with_max_backoff(std::time::Duration::from_millis(100)),
        );
    configure(builder)
        .build()
        .expect("a valid test configuration")
}

/// The Droplet of the spec's List All Droplets example, with another id and name.
pub fn droplet(id: u64) -> Value {
    let spec = spec();
    let mut droplet = spec.raw()["paths"]["/v2/droplets"]["get"]["responses"]["200"]["content"]["application/json"]
        ["example"]["droplets"][0]
        .clone();
    droplet["id"] = serde_json::json!(id);
    droplet["name"] = serde_json::json!(format!("droplet-{id}"));
    droplet
}

/// A page of the Droplet list.
pub fn droplet_page(ids: std::ops::RangeInclusive<u64>, total: u64, next: Option<&str>) -> Value {
    let mut links = serde_json::json!({"pages": {}});
    if let Some(next) = next {
        links["pages"]["next"] = serde_json::json!(next);
    }
    serde_json::json!({
        "droplets": ids.map(droplet).collect::<Vec<_>>(),
        "links": links,
        "meta": {"total": total},
    })
}

/// Unix time `seconds` from now.
pub fn epoch_in(seconds: u64) -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + seconds
}

/// A JSON response with the three rate-limit headers.
pub fn with_rate_limit(
    status: u16,
    body: Value,
    remaining: u64,
    reset_in: u64,
) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(status)
        .set_body_json(body)
        .insert_header("ratelimit-limit", "5000")
        .insert_header("ratelimit-remaining", remaining.to_string().as_str())
        .insert_header("ratelimit-reset", epoch_in(reset_in).to_string().as_str())
}

/// The documented error body for a status.
pub fn error_body(id: &str, message: &str) -> Value {
    serde_json::json!({"id": id, "message": message, "request_id": format!("req-{id}")})
}

/// Every Droplet id of a stream, in the order it yields them.
pub async fn droplet_ids(
    stream: digitalocean::ItemStream<'_, digitalocean::types::Droplet>,
) -> Vec<u64> {
    use futures::TryStreamExt;
    stream
        .map_ok(|d| d.id.get())
        .try_collect()
        .await
        .expect("every page is fetched")
}

/// The body of a tag create.
pub fn tag_create(name: &str) -> digitalocean::types::TagCreate {
    serde_json::from_value(serde_json::json!({ "name": name })).expect("a valid request body")
}

/// Lists tags once after each way the fake loses an answer (nothing applied, applied and
/// reset, applied and cut), asserting that each read took exactly one retry.
pub async fn assert_reads_retried_after_each_lost_answer(
    client: &digitalocean::Client,
    fake: &digitalocean_fake::FakeServer,
) {
    use digitalocean::ResponseExt;
    use digitalocean_fake::Fault;
    for fault in [
        Fault::Reset,
        Fault::ResetAfterApply,
        Fault::CutBodyAfterApply,
    ] {
        fake.fault_next(&[fault]);
        let tags = client.tags_list().send().await.expect("retried");
        assert_eq!(tags.attempts(), 2, "{fault:?}");
    }
}

/// Reads from `socket` up to the end of a request head: what was read (the head and any
/// bytes after it), or `None` when the client hung up first.
pub async fn read_request_head(socket: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    while !read.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => read.extend_from_slice(&buffer[..n]),
        }
    }
    Some(read)
}
