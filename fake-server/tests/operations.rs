//! The fake implements all 38 operations, driven through the generated client, and every
//! response it sends (errors included) conforms to the spec.

mod support;

use std::collections::BTreeSet;

use digitalocean::types::{self, DropletStatus, ProjectResourceStatus};
use digitalocean::{Client, Error, WaitOptions};
use digitalocean_fake::{FakeServer, SECOND_PROJECT_ID};
use serde_json::json;

fn body<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("a valid body")
}

/// Calls every operation at least once, checking what the fake answers, plus the documented
/// errors (404, 400 with root causes, 409, 429).
async fn drive_every_operation(client: &Client, fake: &FakeServer) -> Result<(), Error> {
    // ---------------------------------------------------------------- tags
    let created = client
        .tags_create()
        .body(body::<types::TagCreate>(json!({"name": "team:web"})))
        .send()
        .await?;
    assert_eq!(
        created.tag.as_ref().and_then(|t| t.name.as_deref()),
        Some("team:web")
    );
    let bad: Error = client
        .tags_create()
        .body(body::<types::TagCreate>(
            json!({"name": "valid-on-the-client"}),
        ))
        .send()
        .await
        .map(|_| ())
        .err()
        .map_or_else(|| Error::from(progenitor_error()), |e| e.into());
    assert!(bad.root_causes().is_empty(), "a valid name is accepted");

    // ---------------------------------------------------------------- droplets
    let single = client
        .droplets_create()
        .body(body::<types::DropletCreateRequest>(json!({
            "name": "web-1", "region": "nyc3", "size": "s-1vcpu-1gb", "image": "ubuntu-20-04-x64",
            "backups": true, "backup_policy": {"plan": "weekly", "weekday": "MON", "hour": 4},
            "ipv6": true, "tags": ["team:web"]
        })))
        .send()
        .await?
        .into_inner();
    let types::DropletCreateResponse::SingleResponse(single) = single else {
        panic!("one name gives one Droplet");
    };
    assert_eq!(single.droplet.status, DropletStatus::New);
    assert_eq!(single.links.actions.as_ref().map_or(0, Vec::len), 1);
    let web1 = single.droplet.id;

    let many = client
        .droplets_create()
        .body(body::<types::DropletCreateRequest>(json!({
            "names": ["batch-1", "batch-2", "batch-3"], "size": "s-2vcpu-4gb", "image": 63663980, "tags": ["batch"]
        })))
        .send()
        .await?
        .into_inner();
    let types::DropletCreateResponse::MultipleResponse(many) = many else {
        panic!("names give several Droplets");
    };
    assert_eq!(many.droplets.len(), 3);

    let listed = client.droplets_list().tag_name("team:web").send().await?;
    assert_eq!(listed.meta.total, 1);
    assert_eq!(
        listed.droplets.as_ref().unwrap()[0].status,
        DropletStatus::Active,
        "a Droplet is active once read"
    );
    let got = client.droplets_get().droplet_id(web1).send().await?;
    assert_eq!(got.droplet.as_ref().map(|d| d.name.as_str()), Some("web-1"));
    client
        .droplets_list_backups()
        .droplet_id(web1)
        .send()
        .await?;
    client
        .droplets_list_snapshots()
        .droplet_id(web1)
        .send()
        .await?;
    let kernels = client
        .droplets_list_kernels()
        .droplet_id(web1)
        .per_page(2u64)
        .send()
        .await?;
    assert_eq!(
        (
            kernels.kernels.as_ref().map_or(0, Vec::len),
            kernels.meta.total
        ),
        (2, 3)
    );
    assert!(
        kernels
            .links
            .as_ref()
            .and_then(|l| l.pages.as_ref())
            .and_then(|p| p.next.as_deref())
            .is_some()
    );
    client
        .droplets_list_firewalls()
        .droplet_id(web1)
        .send()
        .await?;
    client
        .droplets_list_neighbors()
        .droplet_id(web1)
        .send()
        .await?;
    client.droplets_list_neighbors_ids().send().await?;
    let policies = client.droplets_list_backup_policies().send().await?;
    assert!(
        policies
            .policies
            .values()
            .any(|p| p.droplet_id == Some(web1) && p.backup_enabled == Some(true))
    );
    client
        .droplets_list_supported_backup_policies()
        .send()
        .await?;
    let policy = client
        .droplets_get_backup_policy()
        .droplet_id(web1)
        .send()
        .await?;
    assert_eq!(
        policy
            .policy
            .as_ref()
            .and_then(|p| p.backup_policy.as_ref())
            .and_then(|b| b.weekday.clone()),
        Some(types::Weekday::Mon)
    );

    // ---------------------------------------------------------------- volumes
    let volume = client
        .volumes_create()
        .body(body::<types::VolumeCreateRequest>(json!({
            "size_gigabytes": 10, "name": "data-1", "region": "nyc3", "filesystem_type": "ext4", "tags": ["team:web"]
        })))
        .send()
        .await?
        .into_inner()
        .volume
        .expect("the created volume");
    let volume_id = volume.id.clone().expect("an id");
    let by_name = client
        .volumes_list()
        .name("data-1")
        .region("nyc3")
        .send()
        .await?;
    assert_eq!(by_name.volumes.len(), 1);
    client
        .volumes_get()
        .volume_id(volume_id.as_str())
        .send()
        .await?;
    let snapshot = client
        .volume_snapshots_create()
        .volume_id(volume_id.as_str())
        .body(body::<types::VolumeSnapshotCreate>(
            json!({"name": "data-1-snap"}),
        ))
        .send()
        .await?
        .into_inner()
        .snapshot
        .expect("the created snapshot");
    client
        .volume_snapshots_list()
        .volume_id(volume_id.as_str())
        .send()
        .await?;
    client
        .volume_snapshots_get_by_id()
        .snapshot_id(snapshot.id.as_str())
        .send()
        .await?;
    let restored = client
        .volumes_create()
        .body(body::<types::VolumeCreateRequest>(json!({
            "snapshot_id": snapshot.id, "name": "data-1-restored", "region": "nyc3"
        })))
        .send()
        .await?;
    assert_eq!(
        restored.volume.as_ref().and_then(|v| v.size_gigabytes),
        Some(10)
    );
    client
        .volumes_delete_by_name()
        .name("data-1-restored")
        .region("nyc3")
        .send()
        .await?;

    // ---------------------------------------------------------------- tag bookkeeping
    client
        .tags_assign_resources()
        .tag_id("team:web")
        .body(body::<types::TagResourcesRequest>(json!({"resources": [
            {"resource_id": many.droplets[0].id.to_string(), "resource_type": "droplet"},
            {"resource_id": "7555620", "resource_type": "image"}
        ]})))
        .send()
        .await?;
    let tag = client
        .tags_get()
        .tag_id("team:web")
        .send()
        .await?
        .into_inner()
        .tag
        .expect("the tag");
    let resources = tag.resources.expect("counts");
    assert_eq!(resources.droplets.and_then(|d| d.count), Some(2));
    assert_eq!(resources.volumes.and_then(|v| v.count), Some(1));
    assert_eq!(resources.images.and_then(|i| i.count), Some(1));
    assert_eq!(resources.count, Some(4));
    client
        .tags_unassign_resources()
        .tag_id("team:web")
        .body(body::<types::TagResourcesRequest>(json!({"resources": [
            {"resource_id": "7555620", "resource_type": "image"}
        ]})))
        .send()
        .await?;
    let tags = client.tags_list().send().await?;
    assert!(
        tags.tags
            .iter()
            .flatten()
            .any(|t| t.name.as_deref() == Some("batch")),
        "tags given at creation exist"
    );

    // ---------------------------------------------------------------- projects
    let default = client.projects_list_resources_default().send().await?;
    assert!(
        default
            .resources
            .iter()
            .flatten()
            .any(|r| r.urn.as_deref() == Some(&format!("do:droplet:{web1}")))
    );
    let assigned = client
        .projects_assign_resources()
        .project_id(SECOND_PROJECT_ID)
        .body(body::<types::ProjectAssignRequest>(json!({"resources": [
            format!("do:droplet:{web1}"), "do:droplet:1"
        ]})))
        .send()
        .await?;
    let status_of = |urn: &str| {
        assigned
            .resources
            .iter()
            .flatten()
            .find(|r| r.urn.as_deref() == Some(urn))
            .and_then(|r| r.status.clone())
    };
    assert_eq!(
        status_of(&format!("do:droplet:{web1}")),
        Some(ProjectResourceStatus::Assigned)
    );
    assert_eq!(
        status_of("do:droplet:1"),
        Some(ProjectResourceStatus::NotFound)
    );
    let second = client
        .projects_list_resources()
        .project_id(SECOND_PROJECT_ID)
        .send()
        .await?;
    assert_eq!(second.meta.total, 1);
    let back = client
        .projects_assign_resources_default()
        .body(body::<types::ProjectAssignRequest>(
            json!({"resources": [format!("do:droplet:{web1}")]}),
        ))
        .send()
        .await?;
    assert!(
        back.resources
            .iter()
            .flatten()
            .any(|r| r.status == Some(ProjectResourceStatus::Assigned))
    );

    // ---------------------------------------------------------------- destroy with associated resources
    let attached = client
        .droplets_create()
        .body(body::<types::DropletCreateRequest>(json!({
            "name": "with-volume", "size": "s-1vcpu-1gb", "image": "ubuntu-20-04-x64", "volumes": [volume_id]
        })))
        .send()
        .await?
        .into_inner();
    let types::DropletCreateResponse::SingleResponse(attached) = attached else {
        panic!("one Droplet");
    };
    let associated = client
        .droplets_list_associated_resources()
        .droplet_id(attached.droplet.id)
        .send()
        .await?;
    assert_eq!(associated.volumes.as_ref().map_or(0, Vec::len), 1);
    assert_eq!(associated.volume_snapshots.as_ref().map_or(0, Vec::len), 1);
    client
        .droplets_destroy_with_associated_resources_selective()
        .droplet_id(attached.droplet.id)
        .body(body::<types::SelectiveDestroyRequest>(
            json!({"volumes": [volume_id]}),
        ))
        .send()
        .await?;
    let conflict: Error = client
        .droplets_destroy_retry_with_associated_resources()
        .droplet_id(attached.droplet.id)
        .send()
        .await
        .expect_err("a destroy in progress cannot be retried")
        .into();
    assert_eq!(conflict.status().map(|s| s.as_u16()), Some(409));
    let status = client
        .wait_for_destroy_with_associated_resources(
            attached.droplet.id.get(),
            WaitOptions {
                interval: std::time::Duration::from_millis(10),
                timeout: std::time::Duration::from_secs(5),
            },
        )
        .await?;
    assert!(status.completed_at.is_some());
    assert_eq!(
        status
            .resources
            .map(|r| r.volumes.as_ref().map_or(0, Vec::len)),
        Some(1)
    );
    client
        .droplets_destroy_retry_with_associated_resources()
        .droplet_id(attached.droplet.id)
        .send()
        .await?;
    client
        .droplets_get_destroy_associated_resources_status()
        .droplet_id(attached.droplet.id)
        .send()
        .await?;

    let dangerous = many.droplets[1].id;
    client
        .droplets_destroy_with_associated_resources_dangerous()
        .droplet_id(dangerous)
        .x_dangerous(true)
        .send()
        .await?;
    let gone: Error = client
        .droplets_get()
        .droplet_id(dangerous)
        .send()
        .await
        .expect_err("destroyed")
        .into();
    assert!(gone.is_not_found());

    // ---------------------------------------------------------------- deletes
    let scratch = client
        .volumes_create()
        .body(body::<types::VolumeCreateRequest>(
            json!({"size_gigabytes": 1, "name": "scratch", "region": "ams3"}),
        ))
        .send()
        .await?
        .into_inner()
        .volume
        .and_then(|v| v.id)
        .expect("an id");
    client
        .volumes_delete()
        .volume_id(scratch.as_str())
        .send()
        .await?;
    let deleted: Error = client
        .volumes_get()
        .volume_id(scratch.as_str())
        .send()
        .await
        .expect_err("deleted")
        .into();
    assert!(deleted.is_not_found());
    client
        .volume_snapshots_delete_by_id()
        .snapshot_id(snapshot.id.as_str())
        .send()
        .await?;
    client.droplets_destroy().droplet_id(web1).send().await?;
    client
        .droplets_destroy_by_tag()
        .tag_name("batch")
        .send()
        .await?;
    assert_eq!(
        client
            .droplets_list()
            .tag_name("batch")
            .send()
            .await?
            .meta
            .total,
        0
    );
    client.tags_delete().tag_id("team:web").send().await?;
    let missing: Error = client
        .tags_get()
        .tag_id("team:web")
        .send()
        .await
        .expect_err("deleted")
        .into();
    assert!(missing.is_not_found());
    assert_eq!(
        missing.request_id().map(|r| r.len()),
        Some(36),
        "error bodies carry a request id"
    );

    // ---------------------------------------------------------------- documented error shapes
    let invalid = raw_post(fake.url(), "/v2/tags", json!({"name": "not valid!"})).await;
    assert_eq!(invalid, 400);
    fake.fail_next(&[429]);
    client.tags_list().send().await?;
    Ok(())
}

fn progenitor_error() -> progenitor_client::Error<types::TagsCreateErrorBody> {
    progenitor_client::Error::Custom("no error".into())
}

/// A request the client would refuse to send, sent anyway to see the fake's answer.
async fn raw_post(base: &str, path: &str, body: serde_json::Value) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth("dop_v1_fake")
        .json(&body)
        .send()
        .await
        .expect("the fake answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn all_38_operations_work_through_the_generated_client() {
    let fake = FakeServer::builder()
        .record(true)
        .droplets(4)
        .start()
        .await
        .unwrap();
    let client = support::client(fake.url());
    drive_every_operation(&client, &fake)
        .await
        .expect("every call succeeds");

    let spec = support::spec();
    let exercised: BTreeSet<String> = fake
        .exchanges()
        .iter()
        .filter_map(|e| {
            support::operation_of(&spec, &e.method, &e.path).map(|(id, ..)| id.to_string())
        })
        .collect();
    let documented: BTreeSet<String> = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<_> = documented.difference(&exercised).collect();
    assert!(missing.is_empty(), "operations never called: {missing:?}");
    assert_eq!(exercised.len(), 38);
}

#[tokio::test]
async fn every_response_of_the_fake_conforms_to_the_spec() {
    let fake = FakeServer::builder()
        .record(true)
        .droplets(6)
        .volumes(4)
        .start()
        .await
        .unwrap();
    let client = support::client(fake.url());
    drive_every_operation(&client, &fake)
        .await
        .expect("every call succeeds");
    // Pages of the seeded world, and a refusal of the rate limit.
    client
        .droplets_list()
        .per_page(2u64)
        .page(2u64)
        .send()
        .await
        .unwrap();
    client.volumes_list().per_page(3u64).send().await.unwrap();

    let spec = support::spec();
    let exchanges = fake.exchanges();
    assert!(exchanges.len() >= 50, "{} exchanges", exchanges.len());
    let statuses: BTreeSet<u16> = exchanges.iter().map(|e| e.status).collect();
    for expected in [200, 201, 202, 204, 400, 404, 409, 429] {
        assert!(
            statuses.contains(&expected),
            "no {expected} among {statuses:?}"
        );
    }
    let problems: Vec<String> = exchanges
        .iter()
        .flat_map(|e| support::conformance_problems(&spec, e))
        .collect();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
