//! Rate limits: parsed from every response (success and error), remembered by the client
//! across clones, and used to pace requests instead of running into 429s.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use digitalocean::{ErrorKind, RateLimitPolicy, ResponseExt, RetryPolicy, WhenExhausted};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

fn tags() -> serde_json::Value {
    json!({"tags": [], "meta": {"total": 0}})
}

#[tokio::test]
async fn rate_limit_headers_are_parsed_on_success() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(support::with_rate_limit(200, tags(), 4816, 600))
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let response = client.tags_list().send().await.unwrap();
    let limit = response.rate_limit().expect("the headers are there");
    assert_eq!((limit.limit, limit.remaining), (5000, 4816));
    let reset = limit.reset.duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(support::epoch_in(600).abs_diff(reset) <= 1, "reset {reset}");
    assert!(limit.resets_in() > Duration::from_secs(590));
}

#[tokio::test]
async fn rate_limit_headers_are_parsed_on_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets/1"))
        .respond_with(support::with_rate_limit(
            404,
            support::error_body("not_found", "gone"),
            17,
            60,
        ))
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let error: digitalocean::Error = client
        .droplets_get()
        .droplet_id(1u64)
        .send()
        .await
        .unwrap_err()
        .into();
    let limit = error.rate_limit().expect("the error keeps the rate limit");
    assert_eq!(limit.remaining, 17);
}

#[tokio::test]
async fn the_client_and_its_clones_share_the_latest_rate_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(support::with_rate_limit(200, tags(), 4321, 600))
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let clone = client.clone();
    assert!(client.rate_limit().is_none());
    let task = tokio::spawn(async move { clone.tags_list().send().await.map(|_| ()) });
    task.await.unwrap().unwrap();
    assert_eq!(client.rate_limit().map(|l| l.remaining), Some(4321));
}

async fn time_four_requests(policy: RateLimitPolicy) -> Duration {
    let server = MockServer::start().await;
    // Three requests left, the oldest expiring in (3, 4] s (whole seconds): spread out, the
    // third of them starts at least 2 s after the first.
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(support::with_rate_limit(200, tags(), 3, 4))
        .mount(&server)
        .await;
    let client = support::client_with(&server.uri(), |b| b.rate_limit_policy(policy));
    client.tags_list().send().await.unwrap();
    let started = Instant::now();
    for _ in 0..3 {
        client.tags_list().send().await.unwrap();
    }
    started.elapsed()
}

#[tokio::test]
async fn pacing_spaces_requests_when_few_remain() {
    let paced = time_four_requests(RateLimitPolicy::default()).await;
    let unpaced = time_four_requests(RateLimitPolicy::disabled()).await;
    assert!(
        paced >= Duration::from_millis(1500),
        "three paced requests took {paced:?}"
    );
    assert!(
        unpaced < Duration::from_millis(1200),
        "three unpaced requests took {unpaced:?}"
    );
}

#[tokio::test]
async fn pacing_is_shared_by_concurrent_tasks() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        // Four requests left over about four seconds (the header has whole seconds).
        .respond_with(support::with_rate_limit(200, tags(), 4, 4))
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    client.tags_list().send().await.unwrap();
    let started = Instant::now();
    let calls = (0..3).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.tags_list().send().await.map(|_| Instant::now()) })
    });
    let mut finished = Vec::new();
    for call in calls {
        finished.push(call.await.unwrap().unwrap());
    }
    // The three concurrent calls got distinct slots, not one burst.
    let last = finished.iter().max().unwrap().duration_since(started);
    assert!(
        last >= Duration::from_millis(1200),
        "the concurrent calls were not spread: {last:?}"
    );
}

#[tokio::test]
async fn an_exhausted_budget_fails_fast_when_configured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(support::with_rate_limit(200, tags(), 0, 120))
        .mount(&server)
        .await;
    let client = support::client_with(&server.uri(), |b| {
        b.rate_limit_policy(RateLimitPolicy::default().with_when_exhausted(WhenExhausted::FailFast))
            .retry_policy(RetryPolicy::disabled())
    });
    client.tags_list().send().await.unwrap();
    let error: digitalocean::Error = client.tags_list().send().await.unwrap_err().into();
    assert_eq!(error.kind(), ErrorKind::RateLimitExhausted);
    assert!(error.is_rate_limited());
    assert_eq!(error.attempts(), 0);
    assert!(error.to_string().contains("nothing was sent"), "{error}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_exhausted_budget_waits_for_the_reset() {
    let server = MockServer::start().await;
    // Reset at the next full second (the header has whole seconds).
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let reset_in = if now.subsec_millis() > 500 { 2 } else { 1 };
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(support::with_rate_limit(200, tags(), 0, reset_in))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(support::with_rate_limit(200, tags(), 4999, 3600))
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    client.tags_list().send().await.unwrap();
    let started = Instant::now();
    client
        .tags_list()
        .send()
        .await
        .expect("sent after the reset");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "did not wait: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn with_rate_limiting_disabled_an_exhausted_budget_still_sends() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(support::with_rate_limit(200, tags(), 0, 120))
        .mount(&server)
        .await;
    let client = support::client_with(&server.uri(), |b| {
        b.rate_limit_policy(RateLimitPolicy::disabled())
    });
    client.tags_list().send().await.unwrap();
    let started = Instant::now();
    client
        .tags_list()
        .send()
        .await
        .expect("sent although the budget is spent");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "waited for the reset"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn five_left_and_a_reset_an_hour_away_never_wait_past_max_wait() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(support::with_rate_limit(200, tags(), 5, 3600))
        .mount(&server)
        .await;
    let bound = Duration::from_millis(300);
    for (when, sends) in [
        (WhenExhausted::Wait, true),
        (WhenExhausted::FailFast, false),
        (WhenExhausted::Send, true),
    ] {
        let client = support::client_with(&server.uri(), |b| {
            b.rate_limit_policy(
                RateLimitPolicy::default()
                    .with_max_wait(bound)
                    .with_when_exhausted(when),
            )
        });
        client.tags_list().send().await.unwrap(); // learns: 5 left, reset in an hour
        // Pacing spreads the 5 requests over the hour: 12 minutes apart.
        let _ = client.tags_list().send().await;
        let started = Instant::now();
        let result = client.tags_list().send().await;
        let waited = started.elapsed();
        assert!(
            waited < bound + Duration::from_millis(700),
            "{when:?} waited {waited:?}"
        );
        assert_eq!(result.is_ok(), sends, "{when:?}");
        if let Err(error) = result {
            let error = digitalocean::Error::from(error);
            assert_eq!(error.kind(), ErrorKind::RateLimitExhausted);
            assert_eq!(error.outcome(), digitalocean::Outcome::NotSent);
        }
    }
}
