//! `digitalocean-fake`: the fake DigitalOcean API as a program, for trying the client
//! without an account: `cargo run -p digitalocean-fake -- --port 8080 --droplets 500`.

use std::time::Duration;

use clap::Parser;
use digitalocean_fake::FakeServer;

#[derive(Parser)]
#[command(
    name = "digitalocean-fake",
    about = "A fake DigitalOcean API on 127.0.0.1",
    version
)]
struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Droplets to create at start.
    #[arg(long, default_value_t = 0)]
    droplets: usize,
    /// Volumes to create at start.
    #[arg(long, default_value_t = 0)]
    volumes: usize,
    /// Latency added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of requests answered 503 (0.0–1.0).
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Share of requests whose connection is dropped before they are applied (0.0–1.0).
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Share of requests applied whose connection then closes without an answer (0.0–1.0).
    #[arg(long, default_value_t = 0.0)]
    lost_after_apply_rate: f64,
    /// Share of requests applied whose response body is then cut (0.0–1.0).
    #[arg(long, default_value_t = 0.0)]
    cut_body_after_apply_rate: f64,
    /// Share of requests applied and then answered with a proxy's HTML 503 (0.0–1.0).
    #[arg(long, default_value_t = 0.0)]
    html_503_after_apply_rate: f64,
    /// Seed of the random faults.
    #[arg(long, default_value_t = 0x5eed)]
    seed: u64,
    /// Requests allowed per minute.
    #[arg(long, default_value_t = 250)]
    per_minute: u64,
    /// Requests allowed per hour.
    #[arg(long, default_value_t = 5000)]
    per_hour: u64,
    /// Accept only this bearer token (default: any).
    #[arg(long)]
    token: Option<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let mut builder = FakeServer::builder()
        .port(args.port)
        .droplets(args.droplets)
        .volumes(args.volumes)
        .latency(Duration::from_millis(args.latency_ms))
        .error_rate(args.error_rate)
        .drop_rate(args.drop_rate)
        .lost_after_apply_rate(args.lost_after_apply_rate)
        .cut_body_after_apply_rate(args.cut_body_after_apply_rate)
        .html_503_after_apply_rate(args.html_503_after_apply_rate)
        .seed(args.seed)
        .rate_limit(args.per_minute, args.per_hour);
    if let Some(token) = args.token {
        builder = builder.token(token);
    }
    let fake = builder.start().await?;
    println!("fake DigitalOcean API listening on {}", fake.url());
    println!(
        "try: DIGITALOCEAN_API_URL={} DIGITALOCEAN_TOKEN=anything cargo run --example quickstart",
        fake.url()
    );
    tokio::signal::ctrl_c().await?;
    fake.stop().await;
    Ok(())
}
