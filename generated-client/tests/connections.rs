//! Connections on the wire: a body read to its announced length leaves its connection
//! reusable, whether it arrived in one piece or in several.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BODY: &str =
    r#"{"tags": [{"name": "web", "resources": {"count": 0}}], "links": {}, "meta": {"total": 1}}"#;

/// A keep-alive HTTP/1.1 server on 127.0.0.1 that answers every request on a connection
/// with [`BODY`], split into `pieces` writes 20 ms apart; it counts the connections.
async fn server(pieces: usize) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut pending = Vec::new();
                let mut buffer = [0u8; 4096];
                loop {
                    // One request: its head (the calls here send no body).
                    let end = loop {
                        if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            break at + 4;
                        }
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buffer[..n]),
                        }
                    };
                    pending.drain(..end);
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        BODY.len()
                    );
                    if socket.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let size = BODY.len().div_ceil(pieces);
                    for piece in BODY.as_bytes().chunks(size) {
                        if socket.write_all(piece).await.is_err() {
                            return;
                        }
                        socket.flush().await.ok();
                        if pieces > 1 {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            });
        }
    });
    (format!("http://{address}"), connections)
}

async fn five_calls_on(pieces: usize) -> usize {
    let (url, connections) = server(pieces).await;
    let client = support::client(&url);
    for _ in 0..5 {
        let tags = client.tags_list().send().await.expect("a complete answer");
        let tags = tags.tags.clone().expect("the answer lists its tags");
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].name.as_deref(), Some("web"));
    }
    connections.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_body_in_one_piece_leaves_its_connection_reusable() {
    assert_eq!(five_calls_on(1).await, 1, "five calls, one connection");
}

#[tokio::test]
async fn a_body_in_several_pieces_is_read_whole_and_leaves_its_connection_reusable() {
    assert_eq!(five_calls_on(4).await, 1, "five calls, one connection");
}
