//! Starting the fake, and what happens around every request: request ids and bearer
//! authentication (tower-http layers), injected latency and faults, the rate limit (with
//! `ratelimit-*` headers on every response and `retry-after` on 429), DigitalOcean's error
//! bodies with the request id, and an optional record of every exchange for conformance tests.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_http::request_id::{MakeRequestId, RequestId, SetRequestIdLayer};
use tower_http::validate_request::{ValidateRequest, ValidateRequestHeaderLayer};

use crate::api_error::ApiError;
use crate::budget::{Budget, Limits};
use crate::drift::{Drift, DriftedAnswer};
use crate::faults::{Fault, Faults, Knobs, cut_body, html_503, reset};
use crate::model::Store;
use crate::routes;
use crate::state::{Exchange, InFlight, ServerState, lock};

/// DigitalOcean's 429: the error body and `retry-after`.
fn too_many_requests(retry_after: u64) -> Response {
    let mut response = ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        id: "too_many_requests",
        message: "API rate limit exceeded.".into(),
        root_causes: false,
    }
    .into_response();
    set(&mut response, "retry-after", retry_after);
    response
}

/// The three `ratelimit-*` headers.
fn set_rate_limit(response: &mut Response, limit: u64, remaining: u64, reset: u64) {
    set(response, "ratelimit-limit", limit);
    set(response, "ratelimit-remaining", remaining);
    set(response, "ratelimit-reset", reset);
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn set(response: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
}

/// The bearer check (tower-http's header validation): any non-empty token, or only the
/// one the builder was given. A refusal is DigitalOcean's 401, made into its documented
/// body by [`finish`] like every other error.
#[derive(Clone)]
struct BearerToken {
    expected: Option<Arc<str>>,
}

impl<B> ValidateRequest<B> for BearerToken {
    type ResponseBody = Body;

    fn validate(&mut self, request: &mut Request<B>) -> Result<(), Response> {
        let token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty());
        match (token, self.expected.as_deref()) {
            (Some(token), Some(expected)) if token == expected => Ok(()),
            (Some(_), None) => Ok(()),
            _ => Err(ApiError {
                status: StatusCode::UNAUTHORIZED,
                id: "unauthorized",
                message: "Unable to authenticate you.".into(),
                root_causes: false,
            }
            .into_response()),
        }
    }
}

/// Request ids in DigitalOcean's UUID shape, numbered in arrival order (tower-http's
/// request-id layer sets them as `x-request-id` on the request, keeping one the client sent).
#[derive(Clone, Default)]
struct SequentialRequestIds(Arc<AtomicU64>);

impl MakeRequestId for SequentialRequestIds {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let number = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        HeaderValue::from_str(&format!("00000000-fa6e-4000-8000-{number:012x}"))
            .ok()
            .map(RequestId::new)
    }
}

/// Marks a response whose answer must be lost on the way back: `finish` breaks the
/// connection (or sends the proxy's page) instead of the response, and records nothing.
#[derive(Debug, Clone, Copy)]
struct LoseAnswer(Fault);

/// Inside the bearer check: the injected faults, the rate-limit budget, then the routes.
async fn admit(State(state): State<Arc<ServerState>>, request: Request, next: Next) -> Response {
    let fault = state.fault();
    match fault {
        Some(Fault::Reset) => {
            let mut response = reset();
            response.extensions_mut().insert(LoseAnswer(Fault::Reset));
            response
        }
        Some(Fault::Fail(429)) => {
            // An injected burst-limit refusal: DigitalOcean's 429 with retry-after.
            let mut response = too_many_requests(1);
            let limit = lock(&state.budget).limits().per_hour;
            set_rate_limit(&mut response, limit, 0, now_unix() + 1);
            response
        }
        Some(Fault::Fail(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            ApiError {
                status,
                id: if status.is_server_error() {
                    "service_unavailable"
                } else {
                    "bad_request"
                },
                message: "The fake was told to fail this request.".into(),
                root_causes: false,
            }
            .into_response()
        }
        None
        | Some(Fault::ResetAfterApply | Fault::CutBodyAfterApply | Fault::Html503AfterApply) => {
            let verdict = lock(&state.budget).spend(SystemTime::now());
            let mut response = match verdict.retry_after {
                Some(seconds) => {
                    state.rate_limited.fetch_add(1, Ordering::Relaxed);
                    too_many_requests(seconds)
                }
                None => {
                    let mut response = next.run(request).await;
                    // The request was applied; its answer is lost on the way back.
                    if let Some(fault) = fault {
                        response.extensions_mut().insert(LoseAnswer(fault));
                    }
                    response
                }
            };
            set_rate_limit(
                &mut response,
                verdict.limit,
                verdict.remaining,
                verdict.reset,
            );
            response
        }
    }
}

/// Around the bearer check: latency, then what every answer gets (the rate-limit headers,
/// the request id, DigitalOcean's error body, the extra headers), the lost answers, and
/// the record of the exchange.
async fn finish(State(state): State<Arc<ServerState>>, request: Request, next: Next) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    if request.version() == axum::http::Version::HTTP_2 {
        state.http2_requests.fetch_add(1, Ordering::Relaxed);
    }
    let _in_flight = InFlight::enter(&state);
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
        .to_string();
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().map(str::to_string);

    let latency = lock(&state.knobs).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let mut response = next.run(request).await;
    let lost = response.extensions_mut().remove::<LoseAnswer>();
    if let Some(LoseAnswer(Fault::Reset)) = lost {
        return reset();
    }
    if !response.headers().contains_key("ratelimit-limit") {
        // Responses refused before the budget (401, injected faults) still carry the headers.
        let limit = lock(&state.budget).limits().per_hour;
        set_rate_limit(&mut response, limit, limit, now_unix());
    }
    set(&mut response, "x-request-id", &request_id);
    let extra_headers = lock(&state.knobs).extra_headers.clone();
    for (name, _) in &extra_headers {
        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
            response.headers_mut().remove(&name);
        }
    }
    for (name, value) in &extra_headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }

    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        let body = if error.root_causes {
            json!({"error": error.message, "messages": null, "root_causes": [error.message]})
        } else {
            json!({"id": error.id, "message": error.message, "request_id": request_id})
        };
        *response.body_mut() = Body::from(body.to_string());
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }

    if let Some(LoseAnswer(fault)) = lost {
        return match fault {
            Fault::CutBodyAfterApply => cut_body(response).await,
            Fault::Html503AfterApply => html_503(),
            _ => reset(),
        };
    }

    if let Some(drift) = &state.drift {
        response = drift.apply(&method, &path, response).await;
    }

    if state.record {
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        lock(&state.exchanges).push(Exchange {
            method,
            path,
            query,
            status: parts.status.as_u16(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                .collect(),
            body: bytes.clone(),
        });
        response = Response::from_parts(parts, Body::from(bytes));
    }
    response
}

/// The resources a [`FakeServer`] holds at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Tag names.
    pub tags: Vec<String>,
    /// Droplets: id, name, tags.
    pub droplets: Vec<(u64, String, Vec<String>)>,
    /// Volumes: id, name, region slug.
    pub volumes: Vec<(String, String, String)>,
    /// Volume snapshots: id, name, volume id.
    pub volume_snapshots: Vec<(String, String, String)>,
}

/// Configures a [`FakeServer`] before it starts.
#[derive(Debug, Clone, Default)]
pub struct FakeServerBuilder {
    port: u16,
    knobs: Knobs,
    limits: Limits,
    droplets: usize,
    volumes: usize,
    token: Option<String>,
    record: bool,
    drift: Option<Drift>,
}

impl FakeServerBuilder {
    /// The loopback port (default 0: an ephemeral port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Latency added to every response.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.knobs.latency = latency;
        self
    }

    /// Share of requests answered 503 (0.0–1.0).
    pub fn error_rate(mut self, rate: f64) -> Self {
        self.knobs.error_rate = rate.clamp(0.0, 1.0);
        self
    }

    /// Share of requests whose connection is dropped mid-response (0.0–1.0).
    pub fn drop_rate(mut self, rate: f64) -> Self {
        self.knobs.drop_rate = rate.clamp(0.0, 1.0);
        self
    }

    /// Share of requests applied and then left without an answer: the connection closes
    /// before the response headers (0.0–1.0).
    pub fn lost_after_apply_rate(mut self, rate: f64) -> Self {
        self.knobs.lost_after_apply_rate = rate.clamp(0.0, 1.0);
        self
    }

    /// Share of requests applied whose response body is cut half-way (0.0–1.0).
    pub fn cut_body_after_apply_rate(mut self, rate: f64) -> Self {
        self.knobs.cut_body_after_apply_rate = rate.clamp(0.0, 1.0);
        self
    }

    /// Share of requests applied and then answered with a proxy's HTML 503 (0.0–1.0).
    pub fn html_503_after_apply_rate(mut self, rate: f64) -> Self {
        self.knobs.html_503_after_apply_rate = rate.clamp(0.0, 1.0);
        self
    }

    /// Seed of the random faults.
    pub fn seed(mut self, seed: u64) -> Self {
        self.knobs.seed = seed;
        self
    }

    /// The rate limit (default: DigitalOcean's 5,000 per hour and 250 per minute).
    pub fn rate_limit(mut self, per_minute: u64, per_hour: u64) -> Self {
        self.limits = Limits {
            per_hour,
            per_minute,
        };
        self
    }

    /// Droplets to create at start (several sizes, regions and tags).
    pub fn droplets(mut self, count: usize) -> Self {
        self.droplets = count;
        self
    }

    /// Volumes to create at start.
    pub fn volumes(mut self, count: usize) -> Self {
        self.volumes = count;
        self
    }

    /// Accept only this bearer token (default: any non-empty token).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Keep every exchange for [`FakeServer::exchanges`].
    pub fn record(mut self, yes: bool) -> Self {
        self.record = yes;
        self
    }

    /// Changes every answer with `drift` before it leaves (status and JSON body), so that
    /// the fake drifts from the document the way the API can: a new field, a new enum
    /// value, `null` for a list, an undocumented status. For tests of drift detection.
    ///
    /// ```
    /// let fake = digitalocean_fake::FakeServer::builder().drift(|answer| {
    ///     if answer.path == "/v2/volumes" && answer.method == "POST" {
    ///         answer.status = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    ///     }
    /// });
    /// ```
    pub fn drift(mut self, drift: impl Fn(&mut DriftedAnswer<'_>) + Send + Sync + 'static) -> Self {
        self.drift = Some(Drift(Arc::new(drift)));
        self
    }

    /// Starts the server on 127.0.0.1 in the current tokio runtime.
    pub async fn start(self) -> std::io::Result<FakeServer> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], self.port))).await?;
        let address = listener.local_addr()?;
        let url = format!("http://{address}");
        let mut store = Store::new(url.clone());
        store.seed_droplets(self.droplets);
        store.seed_volumes(self.volumes);
        let state = Arc::new(ServerState {
            store: Mutex::new(store),
            faults: Mutex::new(Faults {
                random: self.knobs.seed.max(1),
                ..Faults::default()
            }),
            knobs: Mutex::new(self.knobs),
            budget: Mutex::new(Budget::new(self.limits)),
            token: self.token,
            record: self.record,
            exchanges: Mutex::new(Vec::new()),
            requests: AtomicU64::new(0),
            http2_requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            drift: self.drift,
        });
        // Outermost last: request id, then `finish`, the bearer check, `admit`, the routes.
        let app = routes::router(state.clone())
            .layer(middleware::from_fn_with_state(state.clone(), admit))
            .layer(ValidateRequestHeaderLayer::custom(BearerToken {
                expected: state.token.as_deref().map(Arc::from),
            }))
            .layer(middleware::from_fn_with_state(state.clone(), finish))
            .layer(SetRequestIdLayer::x_request_id(
                SequentialRequestIds::default(),
            ));
        let (shutdown, stopped) = oneshot::channel::<()>();
        let counted = state.clone();
        // HTTP/1.1, or HTTP/2 in the clear for a client that speaks it from the first byte
        // (axum tells them apart by HTTP/2's preface). No Nagle delay: over HTTP/2 the rest
        // of a large body follows the client's window update, and a small last segment held
        // back for an ACK would stall it by the peer's delayed-ACK time (about 40 ms).
        let listener = listener.tap_io(move |tcp| {
            counted.connections.fetch_add(1, Ordering::Relaxed);
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = served.await {
                tracing::error!(%error, "the fake DigitalOcean API stopped");
            }
        });
        Ok(FakeServer {
            url,
            state,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }
}

/// A running fake DigitalOcean API on 127.0.0.1. Stops when dropped.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let fake = digitalocean_fake::FakeServer::builder().droplets(50).start().await?;
/// println!("DIGITALOCEAN_API_URL={}", fake.url());
/// # Ok(()) }
/// ```
pub struct FakeServer {
    url: String,
    state: Arc<ServerState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("url", &self.url)
            .finish()
    }
}

impl FakeServer {
    /// A builder with the defaults: ephemeral port, no faults, DigitalOcean's rate limit,
    /// no seeded resources.
    pub fn builder() -> FakeServerBuilder {
        FakeServerBuilder::default()
    }

    /// Starts a server with the defaults.
    pub async fn start() -> std::io::Result<FakeServer> {
        Self::builder().start().await
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answers the next requests with these statuses (one request each), before routing.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.fault_next(&statuses.iter().map(|s| Fault::Fail(*s)).collect::<Vec<_>>());
    }

    /// Closes the connection of the next `count` requests before answering (not applied).
    pub fn drop_next(&self, count: u32) {
        self.fault_next(&vec![Fault::Reset; count as usize]);
    }

    /// Injects these faults into the next requests, one each, in order (before the rates
    /// of the knobs are consulted).
    pub fn fault_next(&self, faults: &[Fault]) {
        lock(&self.state.faults).next.extend(faults.iter().copied());
    }

    /// Changes the latency, the fault rates and the extra headers while running.
    pub fn set_knobs(&self, knobs: Knobs) {
        lock(&self.state.faults).random = knobs.seed.max(1);
        *lock(&self.state.knobs) = knobs;
    }

    /// Replaces the rate limit (and forgets the requests counted so far).
    pub fn set_rate_limit(&self, per_minute: u64, per_hour: u64) {
        *lock(&self.state.budget) = Budget::new(Limits {
            per_hour,
            per_minute,
        });
    }

    /// Adds Droplets as at start.
    pub fn seed_droplets(&self, count: usize) {
        self.state.store().seed_droplets(count);
    }

    /// Adds volumes as at start.
    pub fn seed_volumes(&self, count: usize) {
        self.state.store().seed_volumes(count);
    }

    /// Requests received so far (all of them, refused ones included).
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Of [`requests`](Self::requests), those that came over HTTP/2.
    pub fn http2_requests(&self) -> u64 {
        self.state.http2_requests.load(Ordering::Relaxed)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::Relaxed)
    }

    /// The most requests the server was handling at the same time so far.
    pub fn max_concurrent_requests(&self) -> u64 {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// How many requests the rate-limit budget refused with a 429 so far.
    pub fn rate_limited_requests(&self) -> u64 {
        self.state.rate_limited.load(Ordering::Relaxed)
    }

    /// What the fake holds now: for comparing with what a client was told.
    pub fn inventory(&self) -> Inventory {
        let store = self.state.store();
        Inventory {
            tags: store.tags.keys().cloned().collect(),
            droplets: store
                .droplets
                .values()
                .map(|d| (d.id, d.name.clone(), d.tags.clone()))
                .collect(),
            volumes: store
                .volumes
                .iter()
                .map(|v| (v.id.clone(), v.name.clone(), v.region.clone()))
                .collect(),
            volume_snapshots: store
                .volume_snapshots
                .iter()
                .map(|s| (s.id.clone(), s.name.clone(), s.volume_id.clone()))
                .collect(),
        }
    }

    /// Every exchange so far (only with [`FakeServerBuilder::record`]).
    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.state.exchanges).clone()
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
