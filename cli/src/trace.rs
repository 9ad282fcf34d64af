//! `--trace`: one line on stderr per attempt, from the client's exchange observer (which
//! never sees the `Authorization` header).

use digitalocean::ObservedExchange;

/// `trace: GET /v2/droplets?page=1 -> 200 (request id …, attempt 1, rate limit 4999 left)`.
pub fn line(exchange: &ObservedExchange<'_>) -> String {
    let url = exchange.url;
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let Some(response) = &exchange.response else {
        return format!(
            "trace: {} {target} -> no complete answer (attempt {})",
            exchange.method, exchange.attempt
        );
    };
    let header = |name: &str| {
        response
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.chars()
                    .filter(|c| !c.is_control())
                    .take(80)
                    .collect::<String>()
            })
    };
    let mut notes = Vec::new();
    if let Some(id) = header("x-request-id") {
        notes.push(format!("request id {id}"));
    }
    notes.push(format!("attempt {}", exchange.attempt));
    if let Some(remaining) = header("ratelimit-remaining") {
        notes.push(format!("rate limit {remaining} left"));
    }
    format!(
        "trace: {} {target} -> {} ({})",
        exchange.method,
        response.status.as_u16(),
        notes.join(", ")
    )
}
