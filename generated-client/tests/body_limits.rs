//! A response body longer than the client accepts (`ClientBuilder::max_response_body`):
//! announced by its `content-length` or arriving without end, it ends the attempt with
//! `TransportFailure::BodyTooLarge` instead of filling the memory, keeps the status and the
//! request id, says whether a write was applied, and is not sent again.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use digitalocean::{ErrorKind, Outcome, Resolution, RetryPolicy, TransportFailure};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const REQUEST_ID: &str = "5f1c6a2e-0000-4000-8000-00000000b0d1";

/// How the test server answers every request.
#[derive(Clone, Copy)]
enum Answer {
    /// `status`, then a chunked body of `{"tag": ` and spaces that never ends.
    Endless { status: u16 },
    /// `status` with a `content-length` of `announced`, then nothing more.
    Announced { status: u16, announced: u64 },
    /// 200 with a tag as its body, padded with spaces to exactly `length` bytes.
    Exactly { length: usize },
}

/// What the server saw.
#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    posts: AtomicUsize,
    /// Body bytes written to the client, all requests together.
    written: AtomicU64,
}

/// An HTTP/1.1 server on 127.0.0.1 answering every request with `answer`.
async fn server(answer: Answer) -> (String, Arc<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let counted = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = counted.clone();
            tokio::spawn(async move {
                let Some(post) = read_request(&mut socket).await else {
                    return;
                };
                seen.requests.fetch_add(1, Ordering::SeqCst);
                if post {
                    seen.posts.fetch_add(1, Ordering::SeqCst);
                }
                let _ = respond(&mut socket, answer, &seen).await;
            });
        }
    });
    (format!("http://{address}"), seen)
}

/// Reads one request, its head and the body its `content-length` announces; whether it was
/// a POST.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<bool> {
    let mut pending = Vec::new();
    let mut buffer = [0u8; 4096];
    let end = loop {
        if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&buffer[..n]),
        }
    };
    let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    while pending.len() < end + length {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&buffer[..n]),
        }
    }
    Some(head.starts_with("post "))
}

async fn respond(
    socket: &mut tokio::net::TcpStream,
    answer: Answer,
    seen: &Seen,
) -> std::io::Result<()> {
    let head = |status: u16, framing: String| {
        format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\nx-request-id: {REQUEST_ID}\r\n{framing}\r\n\r\n"
        )
    };
    match answer {
        Answer::Endless { status } => {
            socket
                .write_all(head(status, "transfer-encoding: chunked".into()).as_bytes())
                .await?;
            let start = b"{\"tag\": ";
            socket
                .write_all(format!("{:x}\r\n", start.len()).as_bytes())
                .await?;
            socket.write_all(start).await?;
            socket.write_all(b"\r\n").await?;
            let spaces = vec![b' '; 64 << 10];
            let chunk = [
                format!("{:x}\r\n", spaces.len()).into_bytes(),
                spaces,
                b"\r\n".to_vec(),
            ]
            .concat();
            // Until the client hangs up (or 1 GiB, so that a client without a bound
            // fails this test on its attempt's timeout rather than on the memory).
            while seen.written.load(Ordering::SeqCst) < 1 << 30 {
                socket.write_all(&chunk).await?;
                seen.written.fetch_add(64 << 10, Ordering::SeqCst);
            }
            Ok(())
        }
        Answer::Announced { status, announced } => {
            socket
                .write_all(head(status, format!("content-length: {announced}")).as_bytes())
                .await?;
            socket.write_all(b"{\"tag\": ").await?;
            // Hold the connection open: the client must not wait for the rest.
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        }
        Answer::Exactly { length } => {
            let tag = br#"{"tag": {"name": "big", "resources": {"count": 0}}}"#;
            let mut body = tag.to_vec();
            body.resize(length, b' ');
            socket
                .write_all(head(200, format!("content-length: {length}")).as_bytes())
                .await?;
            socket.write_all(&body).await?;
            seen.written.fetch_add(length as u64, Ordering::SeqCst);
            Ok(())
        }
    }
}

const LIMIT: usize = 1 << 20;

fn client(url: &str, limit: usize) -> digitalocean::Client {
    support::client_with(url, |builder| {
        builder
            .max_response_body(limit)
            .request_timeout(Duration::from_secs(30))
    })
}

async fn get_tag(client: &digitalocean::Client) -> Result<(), digitalocean::Error> {
    client
        .tags_get()
        .tag_id("big")
        .send()
        .await
        .map(drop)
        .map_err(Into::into)
}

async fn create_tag(client: &digitalocean::Client) -> Result<(), digitalocean::Error> {
    client
        .tags_create()
        .body(support::tag_create("big"))
        .send()
        .await
        .map(drop)
        .map_err(Into::into)
}

#[tokio::test]
async fn a_body_without_end_stops_at_the_limit_and_is_not_read_again() {
    let (url, seen) = server(Answer::Endless { status: 200 }).await;
    let client = client(&url, LIMIT);
    let started = Instant::now();
    let error = get_tag(&client).await.unwrap_err();

    // Well before the attempt's 30 s timeout: the bound, not the timer, ended it.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert_eq!(
        error.transport_failure(),
        Some(TransportFailure::BodyTooLarge)
    );
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(error.request_id(), Some(REQUEST_ID));
    // The same answer would come again: a GET is not retried after it by default.
    assert_eq!(error.attempts(), 1);
    assert_eq!(seen.requests.load(Ordering::SeqCst), 1);
    let message = error.to_string();
    assert!(
        message.contains("more than 1048576 bytes arrived"),
        "{message}"
    );
    assert!(
        message.contains("ClientBuilder::max_response_body"),
        "{message}"
    );
    // What the server wrote before the client hung up: the limit, and what the sockets
    // held (not the 1 GiB the server would have sent).
    let written = seen.written.load(Ordering::SeqCst);
    assert!(written < 64 << 20, "{written} bytes written");
}

#[tokio::test]
async fn an_announced_length_above_the_limit_fails_without_waiting_for_the_body() {
    let (url, seen) = server(Answer::Announced {
        status: 200,
        announced: 1 << 40,
    })
    .await;
    let client = client(&url, LIMIT);
    let started = Instant::now();
    let error = get_tag(&client).await.unwrap_err();

    // The server holds the connection for 30 s after the head: the client did not wait.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        error.transport_failure(),
        Some(TransportFailure::BodyTooLarge)
    );
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(seen.requests.load(Ordering::SeqCst), 1);
    let message = error.to_string();
    assert!(
        message.contains("the server announced 1099511627776 bytes"),
        "{message}"
    );
}

#[tokio::test]
async fn a_create_answered_with_a_body_too_large_was_applied_and_is_not_sent_again() {
    let (url, seen) = server(Answer::Endless { status: 201 }).await;
    let client = client(&url, LIMIT);
    let error = create_tag(&client).await.unwrap_err();

    assert_eq!(
        error.transport_failure(),
        Some(TransportFailure::BodyTooLarge)
    );
    assert_eq!(error.status().map(|s| s.as_u16()), Some(201));
    // A 2xx: DigitalOcean created the tag. The create is not sent again; the client looks
    // the tag up to return it (here the lookup meets the same endless body, and says so).
    assert_eq!(error.outcome(), Outcome::Applied);
    assert!(error.may_have_been_applied());
    assert_eq!(seen.posts.load(Ordering::SeqCst), 1);
    let reconciliation = error.reconciliation().expect("the create was looked up");
    assert_eq!(reconciliation.lookup, "GET /v2/tags/big");
    assert!(
        matches!(&reconciliation.resolution, Resolution::Unsettled(why) if why.contains("max_response_body")),
        "{reconciliation:?}"
    );
    assert_eq!(error.request_id(), Some(REQUEST_ID));
}

#[tokio::test]
async fn an_error_status_with_a_body_too_large_keeps_its_outcome() {
    let (url, seen) = server(Answer::Endless { status: 422 }).await;
    let client = client(&url, LIMIT);
    let error = create_tag(&client).await.unwrap_err();

    assert_eq!(
        error.transport_failure(),
        Some(TransportFailure::BodyTooLarge)
    );
    assert_eq!(error.status().map(|s| s.as_u16()), Some(422));
    assert_eq!(error.outcome(), Outcome::Rejected);
    assert!(!error.may_have_been_applied());
    assert_eq!(error.reconciliation(), None);
    assert_eq!(seen.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_is_accepted_and_one_byte_more_is_not() {
    let length = 64 << 10;
    let (url, _) = server(Answer::Exactly { length }).await;

    get_tag(&client(&url, length))
        .await
        .expect("a body of exactly the limit");
    let error = get_tag(&client(&url, length - 1)).await.unwrap_err();
    assert_eq!(
        error.transport_failure(),
        Some(TransportFailure::BodyTooLarge)
    );
    assert!(
        error
            .to_string()
            .contains(&format!("the server announced {length} bytes")),
        "{error}"
    );
}

#[tokio::test]
async fn the_default_limit_takes_the_largest_pages() {
    // 4 MiB: more than ten times a page of 200 Droplets.
    let length = 4 << 20;
    let (url, _) = server(Answer::Exactly { length }).await;
    let client = support::client(&url);
    get_tag(&client).await.expect("within the default limit");
}

#[tokio::test]
async fn a_policy_that_names_body_too_large_retries_it() {
    let (url, seen) = server(Answer::Announced {
        status: 200,
        announced: 1 << 40,
    })
    .await;
    let client = client(&url, LIMIT).with_retry_policy(
        RetryPolicy::default()
            .with_max_attempts(2)
            .with_initial_backoff(Duration::from_millis(10))
            .with_transport_failures(TransportFailure::ALL),
    );
    let error = get_tag(&client).await.unwrap_err();
    assert_eq!(
        error.transport_failure(),
        Some(TransportFailure::BodyTooLarge)
    );
    assert_eq!(error.attempts(), 2);
    assert_eq!(seen.requests.load(Ordering::SeqCst), 2);
}

#[test]
fn the_default_policy_retries_every_transient_failure_but_not_a_body_too_large() {
    let policy = RetryPolicy::default();
    for kind in TransportFailure::TRANSIENT {
        assert!(policy.retries_transport_failure(kind), "{kind:?}");
    }
    assert!(!policy.retries_transport_failure(TransportFailure::BodyTooLarge));
    assert!(TransportFailure::ALL.contains(&TransportFailure::BodyTooLarge));
}

#[test]
fn a_limit_of_zero_is_a_configuration_error() {
    let error = digitalocean::Client::builder()
        .token(support::TOKEN)
        .max_response_body(0)
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Configuration);
    assert!(error.to_string().contains("max_response_body"), "{error}");
}
