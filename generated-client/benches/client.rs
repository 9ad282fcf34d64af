//! `cargo bench -p digitalocean --bench client`: what adaptive pagination buys, what its
//! memory costs, and what the hand-written layer costs, each measured against a baseline in
//! the same run, against the fake API on 127.0.0.1 (nothing leaves the machine). Prints
//! ratios; asserts only that every Droplet was listed.
//!
//! `-- --pagination`, `-- --memory` and `-- --hook-cost` take one part only (the hook cost
//! in CPU time and, when `valgrind` is installed, in instructions; `-- --instructions` the
//! count alone; `-- --cache-model` the counts of callgrind's cache and branch model);
//! `-- --calls client|reqwest N` makes only N calls one way, which the counts run under
//! callgrind.

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
    client_over(url, Protocol::Http1)
}

/// How the client talks to the fake. Over https (DigitalOcean) TLS negotiates HTTP/2 with
/// a server that offers it; to the plain-http fake the client must start with it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Http1,
    #[cfg(feature = "http2")]
    Http2,
}

impl Protocol {
    const ALL: &[Protocol] = &[
        Protocol::Http1,
        #[cfg(feature = "http2")]
        Protocol::Http2,
    ];

    fn name(self) -> &'static str {
        match self {
            Protocol::Http1 => "HTTP/1.1",
            #[cfg(feature = "http2")]
            Protocol::Http2 => "HTTP/2",
        }
    }

    fn parse(name: &str) -> Protocol {
        *Self::ALL
            .iter()
            .find(|p| p.name() == name)
            .unwrap_or_else(|| panic!("no protocol {name:?} in this build"))
    }
}

fn client_over(url: &str, protocol: Protocol) -> Client {
    let builder = Client::builder().token("dop_v1_bench").base_url(url);
    let builder = match protocol {
        Protocol::Http1 => builder,
        #[cfg(feature = "http2")]
        Protocol::Http2 => builder.http2_prior_knowledge(),
    };
    builder.build().expect("a valid configuration")
}

/// Seeded Droplets for `listed` in a list: every sixth seeded Droplet is a GPU Droplet,
/// which `droplets_list` leaves out.
fn seeded_for(listed: usize) -> usize {
    listed / 5 * 6
}

/// A fake with DigitalOcean's own budget (250 a minute, 5,000 an hour) and 50 ms per request.
async fn budgeted_fake(listed: usize) -> FakeServer {
    FakeServer::builder()
        .droplets(seeded_for(listed))
        .latency(Duration::from_millis(50))
        .start()
        .await
        .expect("the fake starts")
}

/// How a run walks the pages.
#[derive(Clone, Copy)]
enum Walk {
    Fixed(usize),
    Adaptive,
}

async fn pagination() {
    const LISTED: usize = 10_000;
    const RUNS: usize = 3;
    #[cfg_attr(not(feature = "http2"), allow(unused_mut))]
    let mut walks = vec![
        (
            "one page at a time (baseline)",
            Walk::Fixed(1),
            Protocol::Http1,
        ),
        ("4 pages in flight, fixed", Walk::Fixed(4), Protocol::Http1),
        ("8 pages in flight, fixed", Walk::Fixed(8), Protocol::Http1),
        (
            "stream(): adaptive, up to 16",
            Walk::Adaptive,
            Protocol::Http1,
        ),
    ];
    #[cfg(feature = "http2")]
    walks.push(("stream() over HTTP/2", Walk::Adaptive, Protocol::Http2));
    let mut results = Vec::new();
    for (name, walk, protocol) in walks {
        let mut samples = Vec::new();
        let (mut requests, mut refused, mut peak, mut connections) = (0, 0, 0, 0);
        for _ in 0..RUNS {
            // A fresh fake per run: each run starts with the whole budget, as a real
            // list-all would, and no run is slowed by the one before it.
            let fake = budgeted_fake(LISTED).await;
            let client = client_over(fake.url(), protocol);
            let request = client.droplets_list();
            let started = Instant::now();
            let count = match walk {
                Walk::Fixed(pages) => {
                    let options = PageOptions {
                        per_page: NonZeroU64::new(200).expect("not zero"),
                        concurrency: NonZeroUsize::new(pages).expect("not zero"),
                    };
                    count(request.stream_with(options)).await
                }
                Walk::Adaptive => count(request.stream()).await,
            };
            samples.push(started.elapsed());
            assert_eq!(count, LISTED, "every Droplet listed once");
            requests = fake.requests();
            refused += fake.rate_limited_requests();
            peak = peak.max(fake.max_concurrent_requests());
            connections = connections.max(fake.connections());
        }
        results.push((name, median(samples), requests, refused, peak, connections));
    }
    let baseline = results[0].1;
    println!(
        "pagination: {LISTED} Droplets in {} pages of 200, 50 ms per request, the fake enforcing 250 a minute (median of {RUNS}, a fresh fake per run)",
        LISTED.div_ceil(200)
    );
    for (name, time, requests, refused, peak, connections) in &results {
        println!(
            "  {name:<31} {:>8.1} ms   {:.2}x the baseline's time   {requests} requests, {refused} refused (429), at most {peak} in flight, TCP connections: {connections}",
            time.as_secs_f64() * 1000.0,
            time.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}

async fn count<T>(stream: digitalocean::ItemStream<'_, T>) -> usize {
    stream
        .try_fold(0, |n, _| async move { Ok(n + 1) })
        .await
        .expect("every page")
}

/// The process's peak resident memory (Linux: VmHWM), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// In a child process (so that the fake's memory is not counted): stream every Droplet of
/// the fake at `url` with `stream()` and print the peak resident memory.
async fn memory_probe(url: &str, protocol: Protocol) {
    let client = client_over(url, protocol);
    let listed = count(client.droplets_list().stream()).await;
    println!("{listed} {}", peak_rss_kib().unwrap_or(0));
}

/// Peak memory of a process that streams `listed` Droplets from a fake answering after
/// `latency`, measured in a child process.
async fn streamed_peak(
    listed: usize,
    latency: Duration,
    protocol: Protocol,
) -> Option<(usize, u64)> {
    let fake = FakeServer::builder()
        .droplets(seeded_for(listed))
        .latency(latency)
        .start()
        .await
        .expect("the fake starts");
    let exe = std::env::current_exe().ok()?;
    let output = tokio::process::Command::new(exe)
        .args(["--memory-probe", fake.url(), protocol.name()])
        .output()
        .await
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let mut words = text.split_whitespace();
    let count = words.next()?.parse().ok()?;
    let kib = words.next()?.parse().ok()?;
    Some((count, kib))
}

/// The median of five peaks of [`streamed_peak`] (a peak varies from run to run with how
/// the answers happened to arrive).
async fn median_peak(listed: usize, latency: Duration, protocol: Protocol) -> Option<(usize, u64)> {
    const RUNS: usize = 5;
    let mut peaks = Vec::new();
    for _ in 0..RUNS {
        peaks.push(streamed_peak(listed, latency, protocol).await?);
    }
    peaks.sort_by_key(|&(_, kib)| kib);
    peaks.get(RUNS / 2).copied()
}

async fn memory() {
    println!(
        "memory: peak resident memory of a process streaming every Droplet with stream() (median of 5)"
    );
    for &protocol in Protocol::ALL {
        for latency in [Duration::ZERO, Duration::from_millis(50)] {
            memory_row(protocol, latency).await;
        }
    }
}

async fn memory_row(protocol: Protocol, latency: Duration) {
    let small = median_peak(200, latency, protocol).await;
    let large = median_peak(10_000, latency, protocol).await;
    let ms = latency.as_millis();
    let name = protocol.name();
    match (small, large) {
        (Some((n_small, small)), Some((n_large, large))) if small > 0 => {
            println!(
                "  {name:<8} {ms:>2} ms per request: {n_small:>6} Droplets (baseline) {:>6.1} MiB, {n_large} Droplets {:>6.1} MiB   {:.2}x the baseline",
                small as f64 / 1024.0,
                large as f64 / 1024.0,
                large as f64 / small as f64
            );
        }
        _ => println!("  not measured: needs /proc/self/status (Linux)"),
    }
}

/// CPU time this thread has spent on a CPU so far (Linux: /proc/thread-self/schedstat, in
/// nanoseconds), so that the fake's work on other threads is not counted.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        text.split_whitespace().next()?.parse().ok()?,
    ))
}

/// The two ways of getting one Droplet that the hook figure compares: reqwest decoding
/// into the generated type (the baseline), and the client.
struct OneDroplet {
    client: Client,
    droplet: NonZeroU64,
    raw: reqwest::Client,
    raw_url: String,
}

impl OneDroplet {
    async fn new(url: &str) -> Self {
        let client = client(url);
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
        let this = Self {
            raw_url: format!("{url}/v2/droplets/{droplet}"),
            raw: reqwest::Client::new(),
            client,
            droplet,
        };
        // Warm both connections.
        this.raw_call().await;
        this.client_call().await;
        this
    }

    async fn raw_call(&self) {
        let body = self
            .raw
            .get(&self.raw_url)
            .bearer_auth("dop_v1_bench")
            .send()
            .await
            .expect("raw")
            .bytes()
            .await
            .expect("body");
        let _: digitalocean::types::DropletResponse =
            serde_json::from_slice(&body).expect("a Droplet");
    }

    async fn client_call(&self) {
        self.client
            .droplets_get()
            .droplet_id(self.droplet)
            .send()
            .await
            .expect("client");
    }
}

/// Runs `calls` on a current-thread runtime on this thread, against a fake that runs on a
/// runtime of its own on other threads, so that the fake's work is not counted.
fn against_fake_elsewhere(calls: impl AsyncFnOnce(OneDroplet)) {
    let (url_sender, url_receiver) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async move {
            let fake = FakeServer::builder()
                .droplets(10)
                .rate_limit(1_000_000, 1_000_000)
                .start()
                .await
                .expect("the fake starts");
            url_sender
                .send(fake.url().to_string())
                .expect("the bench waits");
            let _ = stopped.await;
        });
    });
    let url = url_receiver.recv().expect("the fake's URL");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async { calls(OneDroplet::new(&url).await).await });
    let _ = stop.send(());
    let _ = server.join();
}

/// `--calls client|reqwest N`: only N calls one way, for counting instructions with
/// callgrind (the difference between two counts of calls is the cost per call; see README).
fn calls_only(way: &str, calls: u32) {
    let client = match way {
        "client" => true,
        "reqwest" => false,
        other => panic!("--calls takes client or reqwest, not {other:?}"),
    };
    against_fake_elsewhere(async |bench| {
        for _ in 0..calls {
            if client {
                bench.client_call().await;
            } else {
                bench.raw_call().await;
            }
        }
    });
}

/// Client-side CPU per call of `droplets_get`: the client against reqwest decoding into the
/// same generated type, on this thread only.
fn hook_overhead() {
    against_fake_elsewhere(async |bench| {
        const CALLS: u32 = 1000;
        // Rounds pair the two back to back and the figure is the median of the pairs'
        // ratios: this machine's speed drifts between rounds (the medians of five rounds
        // each gave ratios from 1.10x to 1.44x in four runs of one build), a pair sees one
        // speed.
        const ROUNDS: usize = 15;
        let mut rounds = Vec::new();
        for round in 0..ROUNDS {
            // Which way goes first alternates: the second of a pair would otherwise always
            // run on caches the first left, and on the drift of the pair's second half.
            let raw_first = round % 2 == 0;
            let mut raw = None;
            let mut typed = None;
            for raw_turn in [raw_first, !raw_first] {
                let (cpu, wall) = (thread_cpu(), Instant::now());
                for _ in 0..CALLS {
                    if raw_turn {
                        bench.raw_call().await;
                    } else {
                        bench.client_call().await;
                    }
                }
                let taken = (
                    thread_cpu().zip(cpu).map(|(b, a)| (b - a) / CALLS),
                    wall.elapsed() / CALLS,
                );
                if raw_turn {
                    raw = Some(taken);
                } else {
                    typed = Some(taken);
                }
            }
            rounds.push((raw.expect("a raw half"), typed.expect("a client half")));
        }
        println!(
            "hooks: {ROUNDS} rounds of {CALLS} GETs of one Droplet each way against the fake, no latency (the median round's ratio, and the spread)"
        );
        let cpu: Option<Vec<(Duration, Duration)>> = rounds
            .iter()
            .map(|((raw, _), (typed, _))| raw.zip(*typed))
            .collect();
        let wall: Vec<(Duration, Duration)> = rounds
            .iter()
            .map(|((_, raw), (_, typed))| (*raw, *typed))
            .collect();
        for (what, pairs) in [
            ("client CPU per call", cpu),
            ("wall time per call ", Some(wall)),
        ] {
            let Some(mut pairs) = pairs else {
                println!("  {what}: not measured (needs /proc/thread-self/schedstat)");
                continue;
            };
            let ratio =
                |(raw, typed): &(Duration, Duration)| typed.as_secs_f64() / raw.as_secs_f64();
            pairs.sort_by(|a, b| ratio(a).total_cmp(&ratio(b)));
            let middle = pairs[ROUNDS / 2];
            println!(
                "  {what}: reqwest + typed decoding (baseline) {:>7.1} µs, digitalocean client {:>7.1} µs   {:.2}x the baseline (rounds {:.2}x to {:.2}x)",
                middle.0.as_secs_f64() * 1e6,
                middle.1.as_secs_f64() * 1e6,
                ratio(&middle),
                ratio(&pairs[0]),
                ratio(&pairs[ROUNDS - 1])
            );
        }
    });
}

/// Instructions per call of `droplets_get` on the client's thread, the client against
/// reqwest decoding into the same generated type, counted by callgrind. CPU time on this
/// 2-core VM moves by more than the difference between the two from one run to the next;
/// a count of instructions does not. Each way runs twice, 1,000 and 3,000 calls, and the
/// difference over 2,000 is one call, without the start-up both runs share.
fn hook_instructions() {
    println!(
        "hooks, in instructions: callgrind counts of GETs of one Droplet on the client's thread, (3,000 calls - 1,000 calls) / 2,000"
    );
    match per_call_both(Counting::Instructions) {
        Ok(counts) => {
            let (raw, client) = (counts.baseline("Ir"), counts.client("Ir"));
            println!(
                "  instructions per call: reqwest + typed decoding (baseline) {raw:>9.0}, digitalocean client {client:>9.0}   {:.3}x the baseline",
                client / raw
            );
        }
        Err(why) => println!("  not measured: {why}"),
    }
}

/// `--cache-model`: the same calls under callgrind's cache and branch simulation, to see
/// why CPU time runs above the instruction ratio. Prints each counter per call beside the
/// baseline's, and cycles as a model weighs them: an instruction 1, a first-level cache
/// miss 10, a mispredicted branch 15. A model, not a measurement (this VM's `perf stat`
/// cannot count cycles), but repeatable to the count, as CPU time here is not.
fn hook_cache_model() {
    println!(
        "hooks, cache model: callgrind --cache-sim --branch-sim, GETs of one Droplet on the client's thread, (3,000 calls - 1,000 calls) / 2,000"
    );
    let counts = match per_call_both(Counting::CacheModel) {
        Ok(counts) => counts,
        Err(why) => {
            println!("  not measured: {why}");
            return;
        }
    };
    let rows = [
        ("Ir", "instructions"),
        ("I1mr", "L1 instruction misses"),
        ("D1mr", "L1 data read misses"),
        ("D1mw", "L1 data write misses"),
        ("Bcm", "conditional branches mispredicted"),
        ("Bim", "indirect branches mispredicted"),
    ];
    for (event, name) in rows {
        let (raw, client) = (counts.baseline(event), counts.client(event));
        println!(
            "  {name:<34}: baseline {raw:>9.0}, client {client:>9.0}   {:.3}x",
            client / raw.max(1.0)
        );
    }
    let cycles = |of: &dyn Fn(&str) -> f64| {
        of("Ir") + 10.0 * (of("I1mr") + of("D1mr") + of("D1mw")) + 15.0 * (of("Bcm") + of("Bim"))
    };
    let raw = cycles(&|event| counts.baseline(event));
    let client = cycles(&|event| counts.client(event));
    println!(
        "  {:<34}: baseline {raw:>9.0}, client {client:>9.0}   {:.3}x the baseline",
        "cycles, modelled",
        client / raw
    );
}

/// What callgrind is asked to count.
#[derive(Clone, Copy)]
enum Counting {
    Instructions,
    CacheModel,
}

/// Per-call counts of each event, both ways.
struct PerCall {
    client: Vec<(String, f64)>,
    baseline: Vec<(String, f64)>,
}

impl PerCall {
    fn client(&self, event: &str) -> f64 {
        count_of(&self.client, event)
    }

    fn baseline(&self, event: &str) -> f64 {
        count_of(&self.baseline, event)
    }
}

/// The count of `event` among `counts` (0 when callgrind did not count it).
fn count_of(counts: &[(String, f64)], event: &str) -> f64 {
    counts
        .iter()
        .find(|(name, _)| name == event)
        .map_or(0.0, |&(_, count)| count)
}

/// Each event per call, both ways: (3,000 calls - 1,000 calls) / 2,000.
fn per_call_both(counting: Counting) -> Result<PerCall, String> {
    let per_call = |way: &str| -> Result<Vec<(String, f64)>, String> {
        let few = callgrind_counts(way, 1_000, counting)?;
        let many = callgrind_counts(way, 3_000, counting)?;
        let per_call: Vec<(String, f64)> = many
            .iter()
            .zip(&few)
            .map(|((event, many), (_, few))| {
                (event.clone(), (*many as f64 - *few as f64) / 2_000.0)
            })
            .collect();
        let instructions = count_of(&per_call, "Ir");
        if instructions <= 0.0 {
            return Err(format!(
                "{way}: (3,000 calls - 1,000 calls) / 2,000 gave {instructions} instructions a call, not a positive count"
            ));
        }
        Ok(per_call)
    };
    let baseline = per_call("reqwest")?;
    let client = per_call("client")?;
    Ok(PerCall { client, baseline })
}

/// The counts of each event this bench's thread 1 (the client's: see [`calls_only`]) has
/// for `--calls way calls` under callgrind, or why they could not be counted.
fn callgrind_counts(
    way: &str,
    calls: u32,
    counting: Counting,
) -> Result<Vec<(String, u64)>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("this bench's path: {e}"))?;
    let dir = std::env::temp_dir().join(format!(
        "digitalocean-bench-callgrind-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = dir.join(format!("{way}-{calls}"));
    let simulation: &[&str] = match counting {
        Counting::Instructions => &[],
        Counting::CacheModel => &["--cache-sim=yes", "--branch-sim=yes"],
    };
    let status = std::process::Command::new("valgrind")
        .args(["--tool=callgrind", "--separate-threads=yes"])
        .args(simulation)
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .args(["--calls", way, &calls.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    // With --separate-threads, each thread's counts go to a file of its own, `-01` the
    // first thread's.
    let first_thread = format!("{}-01", out.display());
    let counted = std::fs::read_to_string(&first_thread);
    let _ = std::fs::remove_dir_all(&dir);
    match status {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("needs valgrind (callgrind) on PATH".to_string());
        }
        Err(e) => return Err(format!("valgrind could not be started: {e}")),
        Ok(status) if !status.success() => {
            return Err(format!(
                "valgrind --tool=callgrind ... --calls {way} {calls} failed ({status}); run it by hand to see why"
            ));
        }
        Ok(_) => {}
    }
    let counted = counted.map_err(|e| format!("callgrind wrote no {first_thread}: {e}"))?;
    events_and_totals(&counted).ok_or_else(|| {
        format!("no `events:` line and `totals:` line of as many counts in {first_thread}")
    })
}

/// A callgrind file's `events:` names paired with its `totals:` counts.
fn events_and_totals(file: &str) -> Option<Vec<(String, u64)>> {
    let line = |prefix: &str| file.lines().find_map(|line| line.strip_prefix(prefix));
    let events = line("events:")?.split_whitespace();
    let totals = line("totals:")?
        .split_whitespace()
        .map(|count| count.parse().ok())
        .collect::<Option<Vec<u64>>>()?;
    let paired: Vec<(String, u64)> = events.map(str::to_string).zip(totals).collect();
    (!paired.is_empty()).then_some(paired)
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--calls") {
        let way = args.get(at + 1).expect("--calls client|reqwest N");
        let calls = args
            .get(at + 2)
            .and_then(|n| n.parse().ok())
            .expect("--calls client|reqwest N");
        drop(runtime);
        calls_only(way, calls);
        return;
    }
    if args.iter().any(|a| a == "--hook-cost") {
        // Only the per-call cost of the layer (the quickest figure to re-take).
        drop(runtime);
        hook_overhead();
        hook_instructions();
        return;
    }
    if args.iter().any(|a| a == "--instructions") {
        drop(runtime);
        hook_instructions();
        return;
    }
    if args.iter().any(|a| a == "--cache-model") {
        drop(runtime);
        hook_cache_model();
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "--memory-probe") {
        let url = args.get(at + 1).expect("--memory-probe URL PROTOCOL");
        let protocol = Protocol::parse(args.get(at + 2).expect("--memory-probe URL PROTOCOL"));
        runtime.block_on(memory_probe(url, protocol));
        return;
    }
    if args.iter().any(|a| a == "--memory") {
        runtime.block_on(memory());
        return;
    }
    if args.iter().any(|a| a == "--pagination") {
        runtime.block_on(pagination());
        return;
    }
    runtime.block_on(async {
        pagination().await;
        memory().await;
    });
    drop(runtime);
    // Its own runtimes: the client's on this thread, the fake's on others.
    hook_overhead();
    hook_instructions();
}
