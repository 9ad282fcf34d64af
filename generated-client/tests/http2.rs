//! HTTP/2 (the `http2` feature, on by default): a stream's pages in flight share one
//! connection, and a lost answer says the same over HTTP/2 as over HTTP/1.1. Against the
//! fake on 127.0.0.1, which speaks HTTP/2 in the clear to a client that starts with it.
#![cfg(feature = "http2")]

mod support;

use std::time::Duration;

use digitalocean::{ErrorKind, Outcome, Paginate, Resolution, ResponseExt};
use digitalocean_fake::{FakeServer, Fault};

fn http2(base_url: &str) -> digitalocean::Client {
    support::client_with(base_url, |b| b.http2_prior_knowledge())
}

use support::{droplet_ids as ids, tag_create as tag};

#[tokio::test]
async fn over_http2_every_page_a_stream_keeps_in_flight_shares_one_connection() {
    let fake = FakeServer::builder()
        .droplets(1_000)
        .latency(Duration::from_millis(20))
        .start()
        .await
        .expect("the fake starts");
    let over_http2 = ids(http2(fake.url()).droplets_list().stream()).await;
    assert_eq!(fake.connections(), 1, "one connection for every page");
    let pages = fake.requests();
    assert!(pages >= 5, "{pages} requests");
    assert_eq!(fake.http2_requests(), pages, "every page over HTTP/2");
    assert!(
        fake.max_concurrent_requests() > 1,
        "pages were in flight together"
    );

    // The same list over HTTP/1.1 (plain http and no prior knowledge: no HTTP/2).
    let over_http1 = ids(support::client(fake.url()).droplets_list().stream()).await;
    assert_eq!(fake.http2_requests(), pages, "HTTP/1.1 unless asked");
    assert!(fake.connections() > 1);
    assert!(over_http2.len() > 800, "{} listed", over_http2.len());
    assert!(over_http2.is_sorted(), "in page order");
    assert_eq!(over_http2, over_http1, "every Droplet once, in order");
}

#[tokio::test]
async fn over_http2_a_create_whose_answer_is_lost_after_it_was_applied_is_found_by_a_lookup() {
    let fake = FakeServer::start().await.expect("the fake starts");
    let client = http2(fake.url());
    for (fault, name) in [
        (Fault::ResetAfterApply, "reset-stream"),
        (Fault::CutBodyAfterApply, "cut-stream"),
    ] {
        fake.fault_next(&[fault]);
        let created = client
            .tags_create()
            .body(tag(name))
            .send()
            .await
            .expect("reconciled");
        let reconciliation = created.reconciliation().expect("a reconciliation");
        assert_eq!(reconciliation.resolution, Resolution::Found, "{fault:?}");
        assert_eq!(created.attempts(), 1, "{fault:?}: the create was sent once");
    }
    let mut tags = fake.inventory().tags;
    tags.sort();
    assert_eq!(tags, ["cut-stream", "reset-stream"]);
    assert_eq!(fake.http2_requests(), fake.requests());
}

#[tokio::test]
async fn over_http2_a_lost_answer_without_reconciliation_says_the_write_may_have_happened() {
    let fake = FakeServer::start().await.expect("the fake starts");
    let client = http2(fake.url()).with_reconcile_creates(false);
    fake.fault_next(&[Fault::ResetAfterApply]);
    let error: digitalocean::Error = client
        .tags_create()
        .body(tag("lost"))
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert_eq!(error.outcome(), Outcome::Unknown);
    assert_eq!(error.attempts(), 1);
    assert!(error.to_string().contains("may have applied it"), "{error}");
    assert_eq!(fake.inventory().tags, ["lost"], "it was applied");
    assert_eq!(fake.http2_requests(), 1);
}

#[tokio::test]
async fn over_http2_a_read_is_retried_after_each_kind_of_lost_answer() {
    let fake = FakeServer::start().await.expect("the fake starts");
    support::assert_reads_retried_after_each_lost_answer(&http2(fake.url()), &fake).await;
    assert_eq!(fake.http2_requests(), 6);
}
