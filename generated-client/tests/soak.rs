//! The concurrent soak: 32 tasks share one client and mix creates, deletes and reads
//! against the fake while 5% of requests get a 503, 5% lose their connection before being
//! applied and 10% are applied and then lose their answer (reset, cut body, a proxy's HTML
//! 503). Afterwards the fake's state is compared with what each caller was told.
//! Run with `--nocapture` to see the counts.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use digitalocean::progenitor_client::ResponseValue;
use digitalocean::{Resolution, ResponseExt, RetryPolicy, types};
use digitalocean_fake::{FakeServer, Knobs};
use serde_json::json;

const TASKS: usize = 32;
const ROUNDS: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Tag,
    Volume,
    Droplet,
}

/// What one call told its caller.
#[derive(Debug)]
enum Told {
    Created {
        kind: Kind,
        name: String,
        reconciled: Option<Resolution>,
    },
    CreateFailed {
        kind: Kind,
        name: String,
        may_have_been_applied: bool,
        message: String,
    },
    Deleted {
        name: String,
    },
    DeleteFailed {
        name: String,
        may_have_been_applied: bool,
    },
    Read {
        ok: bool,
    },
}

fn body<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("a valid request body")
}

fn record_create<T>(
    kind: Kind,
    name: &str,
    result: Result<ResponseValue<T>, digitalocean::Error>,
) -> (Told, Option<T>) {
    match result {
        Ok(response) => {
            let reconciled = response.reconciliation().map(|r| r.resolution);
            (
                Told::Created {
                    kind,
                    name: name.to_string(),
                    reconciled,
                },
                Some(response.into_inner()),
            )
        }
        Err(error) => (
            Told::CreateFailed {
                kind,
                name: name.to_string(),
                may_have_been_applied: error.may_have_been_applied(),
                message: error.to_string(),
            },
            None,
        ),
    }
}

async fn run_task(client: digitalocean::Client, task: usize) -> Vec<Told> {
    let mut told = Vec::new();
    for round in 0..ROUNDS {
        let tag_name = format!("soak-t{task}-{round}");
        let result = client
            .tags_create()
            .body(body::<types::TagCreate>(json!({ "name": tag_name })))
            .send()
            .await
            .map_err(digitalocean::Error::from);
        told.push(record_create(Kind::Tag, &tag_name, result).0);

        let volume_name = format!("soak-v{task}-{round}");
        let result = client
            .volumes_create()
            .body(body::<types::VolumeCreateRequest>(
                json!({"size_gigabytes": 10, "name": volume_name, "region": "nyc3"}),
            ))
            .send()
            .await
            .map_err(digitalocean::Error::from);
        let (entry, volume) = record_create(Kind::Volume, &volume_name, result);
        told.push(entry);

        if round % 2 == 0 {
            let droplet_name = format!("soak-d{task}-{round}");
            let result = client
                .droplets_create()
                .body(body::<types::DropletCreateRequest>(json!({
                    "name": droplet_name, "region": "nyc3", "size": "s-1vcpu-1gb",
                    "image": "ubuntu-22-04-x64", "tags": ["soak"]
                })))
                .send()
                .await
                .map_err(digitalocean::Error::from);
            let (entry, created) = record_create(Kind::Droplet, &droplet_name, result);
            told.push(entry);
            if let Some(types::DropletCreateResponse::SingleResponse(created)) = created {
                let read = client
                    .droplets_get()
                    .droplet_id(created.droplet.id.get())
                    .send()
                    .await;
                told.push(Told::Read { ok: read.is_ok() });
            }
        }

        let read = client.tags_get().tag_id(tag_name.as_str()).send().await;
        told.push(Told::Read { ok: read.is_ok() });

        if round % 3 == 0
            && let Some(id) = volume.and_then(|v| v.volume).and_then(|v| v.id)
        {
            match client
                .volumes_delete()
                .volume_id(id.as_str())
                .send()
                .await
                .map_err(digitalocean::Error::from)
            {
                Ok(_) => told.push(Told::Deleted { name: volume_name }),
                Err(error) => told.push(Told::DeleteFailed {
                    name: volume_name,
                    may_have_been_applied: error.may_have_been_applied(),
                }),
            }
        }
    }
    told
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_soak_with_lost_answers_never_duplicates_loses_or_hides_a_write() {
    let fake = FakeServer::builder()
        .rate_limit(1_000_000, 10_000_000)
        .start()
        .await
        .unwrap();
    fake.set_knobs(Knobs {
        error_rate: 0.05,
        drop_rate: 0.05,
        lost_after_apply_rate: 0.06,
        cut_body_after_apply_rate: 0.02,
        html_503_after_apply_rate: 0.02,
        seed: 20261202,
        ..Knobs::default()
    });
    // Eight attempts: with one request in five faulted, four failures in a row happen.
    let client = support::client_with(fake.url(), |b| {
        b.retry_policy(
            RetryPolicy::default()
                .with_max_attempts(8)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(50)),
        )
    });

    let handles: Vec<_> = (0..TASKS)
        .map(|task| tokio::spawn(run_task(client.clone(), task)))
        .collect();
    let mut told = Vec::new();
    let mut panics = 0;
    for handle in handles {
        match handle.await {
            Ok(entries) => told.extend(entries),
            Err(_) => panics += 1,
        }
    }
    fake.set_knobs(Knobs::default());
    let inventory = fake.inventory();

    let mut present: BTreeMap<(Kind, String), usize> = BTreeMap::new();
    for name in &inventory.tags {
        *present.entry((Kind::Tag, name.clone())).or_default() += 1;
    }
    for (_, name, _) in &inventory.volumes {
        *present.entry((Kind::Volume, name.clone())).or_default() += 1;
    }
    for (_, name, _) in &inventory.droplets {
        *present.entry((Kind::Droplet, name.clone())).or_default() += 1;
    }
    let count =
        |kind: Kind, name: &str| present.get(&(kind, name.to_string())).copied().unwrap_or(0);
    let deleted: Vec<&str> = told
        .iter()
        .filter_map(|t| match t {
            Told::Deleted { name } => Some(name.as_str()),
            _ => None,
        })
        .collect();

    let (mut creates, mut found, mut sent_again) = (0, 0, 0);
    let (mut duplicated, mut lost, mut hidden, mut unresolved_tag_or_volume) = (0, 0, 0, 0);
    let (mut droplet_errors, mut delete_lies, mut reads_failed) = (0, 0, 0);
    let mut problems = Vec::new();
    for entry in &told {
        match entry {
            Told::Created {
                kind,
                name,
                reconciled,
            } => {
                creates += 1;
                match reconciled {
                    Some(Resolution::Found) => found += 1,
                    Some(Resolution::AbsentSentAgain) => sent_again += 1,
                    _ => {}
                }
                let n = count(*kind, name);
                if n > 1 {
                    duplicated += n - 1;
                    problems.push(format!("{kind:?} {name}: {n} exist"));
                }
                if n == 0 && !deleted.contains(&name.as_str()) {
                    lost += 1;
                    problems.push(format!("{kind:?} {name}: told created, absent"));
                }
            }
            Told::CreateFailed {
                kind,
                name,
                may_have_been_applied,
                message,
            } => {
                creates += 1;
                let n = count(*kind, name);
                if n > 1 {
                    duplicated += n - 1;
                }
                if n > 0 && !may_have_been_applied {
                    hidden += 1;
                    problems.push(format!(
                        "{kind:?} {name}: told not applied, exists: {message}"
                    ));
                }
                match kind {
                    Kind::Tag | Kind::Volume => {
                        unresolved_tag_or_volume += 1;
                        problems.push(format!("{kind:?} {name}: unresolved: {message}"));
                    }
                    Kind::Droplet => {
                        droplet_errors += 1;
                        println!("soak: Droplet {name}: {message}");
                    }
                }
            }
            Told::Deleted { name } => {
                if count(Kind::Volume, name) > 0 {
                    delete_lies += 1;
                    problems.push(format!("volume {name}: told deleted, exists"));
                }
            }
            Told::DeleteFailed {
                name,
                may_have_been_applied,
            } => {
                if count(Kind::Volume, name) == 0 && !may_have_been_applied {
                    hidden += 1;
                    problems.push(format!("volume {name}: told not deleted, is gone"));
                }
            }
            Told::Read { ok } => reads_failed += usize::from(!ok),
        }
    }
    println!(
        "soak: {TASKS} tasks, {creates} creates ({found} settled as found, {sent_again} sent again after a lookup proved them absent), \
         {} requests to the fake; duplicated creates: {duplicated}, lost creates: {lost}, panics: {panics}, \
         errors hiding a possibly applied write: {hidden}, unresolved tag/volume creates: {unresolved_tag_or_volume}, \
         Droplet create errors: {droplet_errors}, deletes told done but not done: {delete_lies}, failed reads: {reads_failed}",
        fake.requests()
    );
    assert_eq!(panics, 0);
    assert_eq!(duplicated, 0, "{problems:#?}");
    assert_eq!(lost, 0, "{problems:#?}");
    assert_eq!(hidden, 0, "{problems:#?}");
    assert_eq!(unresolved_tag_or_volume, 0, "{problems:#?}");
    assert_eq!(delete_lies, 0, "{problems:#?}");
    assert!(
        found > 0 && sent_again > 0,
        "the faults exercised both reconciliations ({found} found, {sent_again} sent again)"
    );
}
