//! An answer that is not valid HTTP (a garbled status line, a head too large, a
//! `content-length` that cannot be read), as a broken proxy or a hostile server may send:
//! the call fails as `TransportFailure::MalformedResponse`, not as a broken connection; a
//! write says it may have been applied and is never sent twice; a read is tried again.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use digitalocean::{ErrorKind, Outcome, Resolution, TransportFailure};
use tokio::io::AsyncWriteExt;

const TAG: &str = r#"{"tag":{"name":"edge","resources":{"count":0}}}"#;

/// Answers a server can send that hyper cannot parse, with what hyper says of each.
fn malformed_heads() -> Vec<(&'static str, Vec<u8>)> {
    let mut many = String::from("HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n");
    for i in 0..150 {
        many.push_str(&format!("x-header-{i}: value\r\n"));
    }
    many.push_str(&format!("content-length: {}\r\n\r\n{TAG}", TAG.len()));
    vec![
        (
            "invalid HTTP version",
            b"<html>captive portal</html>\r\n\r\n".to_vec(),
        ),
        ("message head is too large", many.into_bytes()),
        (
            "message head is too large",
            format!(
                "HTTP/1.1 201 Created\r\nx-long: {}\r\ncontent-length: 0\r\n\r\n",
                "a".repeat(1 << 20)
            )
            .into_bytes(),
        ),
        (
            "invalid content-length",
            format!("HTTP/1.1 201 Created\r\ncontent-length: ab\r\n\r\n{TAG}").into_bytes(),
        ),
        (
            "invalid content-length",
            format!(
                "HTTP/1.1 201 Created\r\ncontent-length: 5\r\ncontent-length: {}\r\n\r\n{TAG}",
                TAG.len()
            )
            .into_bytes(),
        ),
    ]
}

/// What the server saw.
#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    posts: AtomicUsize,
}

/// An HTTP/1.1 server on 127.0.0.1 that answers its first `malformed_first` requests with
/// `answer` and the others with a valid 200 carrying a tag (each on its own connection).
async fn server(answer: Vec<u8>, malformed_first: usize) -> (String, Arc<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let counted = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = counted.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let Some(head) = support::read_request_head(&mut socket).await else {
                    return;
                };
                if head.starts_with(b"POST ") {
                    seen.posts.fetch_add(1, Ordering::SeqCst);
                }
                let answer = if seen.requests.fetch_add(1, Ordering::SeqCst) < malformed_first {
                    answer
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{TAG}",
                        TAG.len()
                    )
                    .into_bytes()
                };
                let _ = socket.write_all(&answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{address}"), seen)
}

fn client(url: &str) -> digitalocean::Client {
    support::client_with(url, |builder| {
        builder.request_timeout(Duration::from_secs(30))
    })
}

#[tokio::test]
async fn a_create_answered_with_a_malformed_head_may_have_been_applied_and_is_sent_once() {
    for (reason, answer) in malformed_heads() {
        let (url, seen) = server(answer, usize::MAX).await;
        let started = Instant::now();
        let error: digitalocean::Error = client(&url)
            .tags_create()
            .body(support::tag_create("edge"))
            .send()
            .await
            .expect_err("nothing valid came back")
            .into();
        assert!(started.elapsed() < Duration::from_secs(10), "{reason}");
        assert_eq!(error.kind(), ErrorKind::Transport, "{reason}: {error}");
        assert_eq!(
            error.transport_failure(),
            Some(TransportFailure::MalformedResponse),
            "{reason}: {error}"
        );
        // The request was written: DigitalOcean may have created the tag.
        assert_eq!(error.outcome(), Outcome::Unknown, "{reason}: {error}");
        assert_eq!(seen.posts.load(Ordering::SeqCst), 1, "{reason}");
        // The client looked the tag up (its lookup got the same garbage, so it stays open).
        let reconciliation = error.reconciliation().expect("a create is looked up");
        assert!(
            matches!(reconciliation.resolution, Resolution::Unsettled(_)),
            "{reason}: {reconciliation:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("the answer was not valid HTTP") && message.contains(reason),
            "{message}"
        );
        assert!(!message.contains("connection broke"), "{message}");
    }
}

#[tokio::test]
async fn a_read_answered_with_a_malformed_head_is_tried_again() {
    for (reason, answer) in malformed_heads() {
        let (url, seen) = server(answer, 1).await;
        let tag = client(&url)
            .tags_get()
            .tag_id("edge")
            .send()
            .await
            .unwrap_or_else(|error| panic!("{reason}: {}", digitalocean::Error::from(error)));
        assert_eq!(
            tag.tag.as_ref().and_then(|t| t.name.as_deref()),
            Some("edge")
        );
        assert_eq!(seen.requests.load(Ordering::SeqCst), 2, "{reason}");
    }
}

#[tokio::test]
async fn the_default_policy_retries_a_malformed_answer() {
    let policy = digitalocean::RetryPolicy::default();
    assert!(policy.retries_transport_failure(TransportFailure::MalformedResponse));
    assert!(TransportFailure::ALL.contains(&TransportFailure::MalformedResponse));
    assert!(TransportFailure::MalformedResponse.reached_server());
}
