//! `cargo bench -p digitalocean --bench client`: what the hand-written layer costs and what
//! concurrent pagination buys, each measured against a baseline in the same run, against
//! the fake API on 127.0.0.1 (nothing leaves the machine). Prints ratios; asserts nothing.

use std::num::{NonZeroU64, NonZeroUsize};
use std::time::{Duration, Instant};

use digitalocean::{Client, PageOptions, Paginate};
use digitalocean_fake::FakeServer;
use futures::TryStreamExt;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn client(url: &str) -> Client {
    Client::builder()
        .token("dop_v1_bench")
        .base_url(url)
        .build()
        .expect("a valid configuration")
}

async fn pagination() {
    let fake = FakeServer::builder()
        .droplets(1000)
        .latency(Duration::from_millis(20))
        .rate_limit(1_000_000, 1_000_000)
        .start()
        .await
        .expect("the fake starts");
    let client = client(fake.url());
    let mut results = Vec::new();
    for concurrency in [1usize, 4, 8] {
        let options = PageOptions {
            per_page: NonZeroU64::new(100).expect("not zero"),
            concurrency: NonZeroUsize::new(concurrency).expect("not zero"),
        };
        let mut samples = Vec::new();
        let mut count = 0;
        for _ in 0..5 {
            let started = Instant::now();
            let all: Vec<_> = client
                .droplets_list()
                .stream_with(options)
                .try_collect()
                .await
                .expect("pages");
            samples.push(started.elapsed());
            count = all.len();
        }
        results.push((concurrency, median(samples), count));
    }
    let (_, baseline, count) = results[0];
    println!(
        "pagination: {count} Droplets in {} pages of 100, 20 ms latency per request (median of 5)",
        count.div_ceil(100)
    );
    for (concurrency, time, _) in &results {
        println!(
            "  {concurrency} page(s) in flight {:>10.1} ms   {:.2}x the sequential walk's speed",
            time.as_secs_f64() * 1000.0,
            baseline.as_secs_f64() / time.as_secs_f64()
        );
    }
}

async fn hook_overhead() {
    let fake = FakeServer::builder()
        .droplets(10)
        .rate_limit(1_000_000, 1_000_000)
        .start()
        .await
        .expect("the fake starts");
    let client = client(fake.url());
    let droplet = client
        .droplets_list()
        .send()
        .await
        .expect("a page")
        .into_inner()
        .droplets
        .and_then(|d| d.into_iter().next())
        .expect("a seeded Droplet")
        .id;
    let raw = reqwest::Client::new();
    let url = format!("{}/v2/droplets/{droplet}", fake.url());
    const CALLS: u32 = 2000;
    // Warm both connections.
    raw.get(&url)
        .bearer_auth("t")
        .send()
        .await
        .expect("raw")
        .bytes()
        .await
        .expect("body");
    client
        .droplets_get()
        .droplet_id(droplet)
        .send()
        .await
        .expect("client");

    let mut raw_samples = Vec::new();
    let mut client_samples = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        for _ in 0..CALLS {
            let body = raw
                .get(&url)
                .bearer_auth("t")
                .send()
                .await
                .expect("raw")
                .bytes()
                .await
                .expect("body");
            let _: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        }
        raw_samples.push(started.elapsed() / CALLS);
        let started = Instant::now();
        for _ in 0..CALLS {
            client
                .droplets_get()
                .droplet_id(droplet)
                .send()
                .await
                .expect("client");
        }
        client_samples.push(started.elapsed() / CALLS);
    }
    let (raw, typed) = (median(raw_samples), median(client_samples));
    println!(
        "hooks: {CALLS} GETs of one Droplet against the fake, no latency (median of 3 rounds)"
    );
    println!(
        "  reqwest + serde_json::Value (baseline) {:>8.1} µs per call",
        raw.as_secs_f64() * 1e6
    );
    println!(
        "  digitalocean client (typed, hooks)     {:>8.1} µs per call   {:.2}x the baseline",
        typed.as_secs_f64() * 1e6,
        typed.as_secs_f64() / raw.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    pagination().await;
    hook_overhead().await;
}
