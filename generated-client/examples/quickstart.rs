//! A tour of the client: `cargo run --example quickstart`.
//!
//! Without `DIGITALOCEAN_TOKEN` it starts a fake DigitalOcean API on 127.0.0.1 in this
//! process and creates, tags, streams, snapshots, assigns and cleans up against it: nothing
//! leaves the machine. With `DIGITALOCEAN_TOKEN` set it only reads from the configured API
//! (`DIGITALOCEAN_API_URL`, default https://api.digitalocean.com): nothing is created.

use std::num::{NonZeroU64, NonZeroUsize};

use digitalocean::{Client, PageOptions, Paginate, RateLimit, types};
use futures::TryStreamExt;
use serde_json::json;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn step(number: u32, what: &str, outcome: impl std::fmt::Display) {
    println!("{number:>2}. {what:.<28} {outcome}");
}

fn describe(limit: Option<RateLimit>) -> String {
    match limit {
        Some(limit) => format!(
            "{} of {} requests left; the oldest expires in {} s",
            limit.remaining,
            limit.limit,
            limit.resets_in().as_secs()
        ),
        None => "no rate-limit headers seen".into(),
    }
}

fn body<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    Ok(serde_json::from_value(value)?)
}

/// The tour (also run by tests/quickstart.rs).
pub async fn tour(client: &Client, project_id: &str) -> Result {
    // 1. A tag.
    let tag = client
        .tags_create()
        .body(body::<types::TagCreate>(json!({"name": "quickstart-web"}))?)
        .send()
        .await?;
    let tag_name = tag
        .tag
        .as_ref()
        .and_then(|t| t.name.clone())
        .unwrap_or_default();
    step(1, "Create a tag", &tag_name);

    // 2. Three Droplets at once.
    let created = client
        .droplets_create()
        .body(body::<types::DropletCreateRequest>(json!({
            "names": ["quickstart-1", "quickstart-2", "quickstart-3"],
            "region": "nyc3", "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64"
        }))?)
        .send()
        .await?
        .into_inner();
    let types::DropletCreateResponse::MultipleResponse(created) = created else {
        return Err("expected one Droplet per name".into());
    };
    let ids: Vec<u64> = created.droplets.iter().map(|d| d.id.get()).collect();
    step(
        2,
        "Create 3 Droplets",
        format!("ids {ids:?}, status {}", created.droplets[0].status),
    );

    // 3. Tag them.
    let resources: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| json!({"resource_id": id.to_string(), "resource_type": "droplet"}))
        .collect();
    client
        .tags_assign_resources()
        .tag_id(tag_name.as_str())
        .body(body::<types::TagResourcesRequest>(
            json!({ "resources": resources }),
        )?)
        .send()
        .await?;
    let counted = client.tags_get().tag_id(tag_name.as_str()).send().await?;
    let count = counted
        .tag
        .as_ref()
        .and_then(|t| t.resources.as_ref())
        .and_then(|r| r.droplets.as_ref())
        .and_then(|d| d.count)
        .unwrap_or(0);
    step(
        3,
        "Tag them",
        format!("{tag_name} now tags {count} Droplets"),
    );

    // 4. Every Droplet, across pages (10 per page here to show the paging).
    let options = PageOptions {
        per_page: NonZeroU64::new(10).ok_or("10 is not zero")?,
        concurrency: NonZeroUsize::new(4).ok_or("4 is not zero")?,
    };
    let all: Vec<types::Droplet> = client
        .droplets_list()
        .stream_with(options)
        .try_collect()
        .await?;
    let pages = all.len().div_ceil(10);
    step(
        4,
        "Stream all Droplets",
        format!("{} Droplets from {pages} pages, in order", all.len()),
    );

    // 5. A volume and a snapshot of it.
    let volume = client
        .volumes_create()
        .body(body::<types::VolumeCreateRequest>(json!({
            "size_gigabytes": 10, "name": "quickstart-data", "region": "nyc3", "filesystem_type": "ext4"
        }))?)
        .send()
        .await?
        .into_inner()
        .volume
        .ok_or("the API returned no volume")?;
    let volume_id = volume.id.clone().ok_or("the volume has no id")?;
    step(
        5,
        "Create a volume",
        format!(
            "{} ({} GiB)",
            volume.name.as_deref().unwrap_or("?"),
            volume.size_gigabytes.unwrap_or(0)
        ),
    );
    let snapshot = client
        .volume_snapshots_create()
        .volume_id(volume_id.as_str())
        .body(body::<types::VolumeSnapshotCreate>(
            json!({"name": "quickstart-data-snapshot"}),
        )?)
        .send()
        .await?
        .into_inner()
        .snapshot
        .ok_or("the API returned no snapshot")?;
    step(6, "Snapshot it", &snapshot.name);

    // 7. Assign resources to a project, then list it.
    let urns = vec![
        format!("do:droplet:{}", ids[0]),
        format!("do:volume:{volume_id}"),
    ];
    let assigned = client
        .projects_assign_resources()
        .project_id(project_id)
        .body(body::<types::ProjectAssignRequest>(
            json!({ "resources": urns }),
        )?)
        .send()
        .await?;
    let statuses: Vec<String> = assigned
        .resources
        .iter()
        .flatten() // `None` when the API sends `null` for an empty list
        .filter_map(|r| Some(format!("{} {}", r.urn.as_deref()?, r.status.as_ref()?)))
        .collect();
    step(7, "Assign to a project", statuses.join(", "));
    let listed = client
        .projects_list_resources()
        .project_id(project_id)
        .send()
        .await?;
    step(
        8,
        "List the project",
        format!("{} resources", listed.meta.total),
    );

    // 9. The rate limit, as the client last saw it.
    step(9, "Rate limit", describe(client.rate_limit()));

    // 10. Clean up.
    client
        .volume_snapshots_delete_by_id()
        .snapshot_id(snapshot.id.as_str())
        .send()
        .await?;
    client
        .volumes_delete()
        .volume_id(volume_id.as_str())
        .send()
        .await?;
    for id in &ids {
        client.droplets_destroy().droplet_id(*id).send().await?;
    }
    client
        .tags_delete()
        .tag_id(tag_name.as_str())
        .send()
        .await?;
    step(
        10,
        "Clean up",
        format!(
            "deleted {} Droplets, the volume, its snapshot and the tag",
            ids.len()
        ),
    );
    Ok(())
}

async fn read_only(client: &Client) -> Result {
    let tags = client.tags_list().per_page(200u64).send().await?;
    step(1, "Tags", format!("{} tags", tags.meta.total));
    let droplets = client.droplets_list().per_page(20u64).send().await?;
    step(
        2,
        "Droplets",
        format!(
            "{} Droplets ({} on the first page)",
            droplets.meta.total,
            droplets.droplets.as_ref().map_or(0, Vec::len)
        ),
    );
    for droplet in droplets.droplets.iter().flatten().take(5) {
        println!(
            "   - {} {} ({}, {})",
            droplet.id, droplet.name, droplet.size_slug, droplet.status
        );
    }
    let volumes = client.volumes_list().per_page(20u64).send().await?;
    step(3, "Volumes", format!("{} volumes", volumes.meta.total));
    let resources = client
        .projects_list_resources_default()
        .per_page(20u64)
        .send()
        .await?;
    step(
        4,
        "Default project",
        format!("{} resources", resources.meta.total),
    );
    step(5, "Rate limit", describe(client.rate_limit()));
    Ok(())
}

#[tokio::main]
async fn main() -> Result {
    let has_token = ["DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty()));
    if has_token {
        let client = Client::from_env()?;
        println!("DIGITALOCEAN_TOKEN is set: read-only calls against the configured API.\n");
        if let Err(error) = read_only(&client).await {
            eprintln!("\nerror: {error}");
            std::process::exit(1);
        }
        return Ok(());
    }

    let fake = digitalocean_fake::FakeServer::builder()
        .droplets(40)
        .volumes(5)
        .start()
        .await?;
    println!(
        "No DIGITALOCEAN_TOKEN: touring a fake DigitalOcean API at {} (in this process;\n\
         nothing leaves this machine). Set DIGITALOCEAN_TOKEN to read your real account instead.\n",
        fake.url()
    );
    let client = Client::builder()
        .token("dop_v1_quickstart")
        .base_url(fake.url())
        .user_agent("quickstart")
        .build()?;
    if let Err(error) = tour(&client, digitalocean_fake::SECOND_PROJECT_ID).await {
        eprintln!("\nerror: {error}");
        std::process::exit(1);
    }
    println!(
        "\nDone. Next: README.md, or `cargo run -p digitalocean-fake -- --droplets 500` for a fake to play with."
    );
    Ok(())
}
