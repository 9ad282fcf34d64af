//! The fake's in-memory world: Droplets, their images (snapshots and backups), tags,
//! volumes and volume snapshots, projects, firewalls and destroy jobs, and the JSON each
//! resource has in the spec. Handlers lock it for the duration of one operation.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::droplet_view::{DropletView, RegionView};

/// A DigitalOcean region the fake knows (others are accepted and named after their slug).
pub(crate) const REGIONS: [(&str, &str); 6] = [
    ("nyc1", "New York 1"),
    ("nyc3", "New York 3"),
    ("sfo3", "San Francisco 3"),
    ("ams3", "Amsterdam 3"),
    ("fra1", "Frankfurt 1"),
    ("lon1", "London 1"),
];

pub(crate) const SIZES: [&str; 6] = [
    "s-1vcpu-1gb",
    "s-1vcpu-2gb",
    "s-2vcpu-2gb",
    "s-2vcpu-4gb",
    "s-4vcpu-8gb",
    "gpu-h100x1-80gb",
];

pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn region_json(slug: &str) -> Value {
    to_value(&RegionView::of(slug))
}

/// A view as a `Value`; the views hold nothing a `Value` cannot.
fn to_value<T: serde::Serialize>(view: &T) -> Value {
    serde_json::to_value(view).unwrap_or(Value::Null)
}

/// Memory (MiB), vCPUs and disk (GiB) of a size slug such as `s-2vcpu-4gb`.
pub(crate) fn size_numbers(slug: &str) -> (u64, u64, u64) {
    let number_before = |suffix: &str| {
        slug.split('-').find_map(|part| {
            part.strip_suffix(suffix)
                .and_then(|n| n.parse::<u64>().ok())
        })
    };
    let vcpus = number_before("vcpu").unwrap_or(1);
    let memory_gb = number_before("gb").unwrap_or(1);
    (memory_gb * 1024, vcpus, 25 * memory_gb.max(1))
}

/// A Droplet.
#[derive(Debug, Clone)]
pub(crate) struct Droplet {
    pub id: u64,
    pub name: String,
    pub size: String,
    pub region: String,
    pub image: Value,
    pub tags: Vec<String>,
    pub backups: bool,
    pub backup_policy: Option<Value>,
    pub ipv6: bool,
    pub vpc_uuid: String,
    pub created_at: DateTime<Utc>,
    /// "new" in the create response, "active" afterwards.
    pub fresh: bool,
    pub volume_ids: Vec<String>,
    pub host: u64,
}

impl Droplet {
    pub fn is_gpu(&self) -> bool {
        self.size.starts_with("gpu-")
    }
}

/// A Droplet snapshot or backup.
#[derive(Debug, Clone)]
pub(crate) struct Image {
    pub id: u64,
    pub droplet_id: u64,
    pub name: String,
    pub backup: bool,
    pub region: String,
    pub created_at: DateTime<Utc>,
    pub min_disk_size: u64,
}

impl Image {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "created_at": time(self.created_at),
            "regions": [self.region],
            "min_disk_size": self.min_disk_size,
            "size_gigabytes": 2.34,
            "type": if self.backup { "backup" } else { "snapshot" },
        })
    }
}

/// A tag, and the tagged resources the fake does not model (images, databases).
#[derive(Debug, Clone, Default)]
pub(crate) struct Tag {
    pub name: String,
    pub other: Vec<(String, String)>,
    pub last_tagged: BTreeMap<String, String>,
}

/// A block storage volume.
#[derive(Debug, Clone)]
pub(crate) struct Volume {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub size_gigabytes: u64,
    pub region: String,
    pub created_at: DateTime<Utc>,
    pub droplet_ids: Vec<u64>,
    pub filesystem_type: Option<String>,
    pub filesystem_label: Option<String>,
    pub tags: Vec<String>,
}

impl Volume {
    pub fn json(&self) -> Value {
        let mut volume = json!({
            "id": self.id,
            "name": self.name,
            "size_gigabytes": self.size_gigabytes,
            "region": region_json(&self.region),
            "created_at": time(self.created_at),
            "droplet_ids": self.droplet_ids,
            "tags": self.tags,
        });
        for (key, value) in [
            ("description", &self.description),
            ("filesystem_type", &self.filesystem_type),
            ("filesystem_label", &self.filesystem_label),
        ] {
            if let Some(value) = value {
                volume[key] = json!(value);
            }
        }
        volume
    }
}

/// A snapshot of a volume.
#[derive(Debug, Clone)]
pub(crate) struct VolumeSnapshot {
    pub id: String,
    pub name: String,
    pub volume_id: String,
    pub region: String,
    pub created_at: DateTime<Utc>,
    pub min_disk_size: u64,
    pub tags: Vec<String>,
}

impl VolumeSnapshot {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "created_at": time(self.created_at),
            "regions": [self.region],
            "resource_id": self.volume_id,
            "resource_type": "volume",
            "min_disk_size": self.min_disk_size,
            "size_gigabytes": 0.0,
            "tags": if self.tags.is_empty() { Value::Null } else { json!(self.tags) },
        })
    }
}

/// A project and the URNs assigned to it.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub id: String,
    pub default: bool,
    pub resources: Vec<(String, DateTime<Utc>)>,
}

/// A cloud firewall.
#[derive(Debug, Clone)]
pub(crate) struct Firewall {
    pub id: String,
    pub name: String,
    pub tags: Vec<String>,
    pub droplet_ids: Vec<u64>,
    pub created_at: DateTime<Utc>,
}

/// A destroy-with-associated-resources request and its progress.
#[derive(Debug, Clone)]
pub(crate) struct DestroyJob {
    pub droplet: (u64, String),
    /// Per kind (`volumes`, `snapshots`, …): id and name.
    pub resources: BTreeMap<&'static str, Vec<(String, String)>>,
    pub started_at: DateTime<Utc>,
    /// Status reads so far: the job completes on the second.
    pub reads: u32,
    pub completed_at: Option<DateTime<Utc>>,
}

/// The kinds of associated resources, in the order the API lists them.
pub(crate) const ASSOCIATED_KINDS: [&str; 5] = [
    "reserved_ips",
    "floating_ips",
    "snapshots",
    "volumes",
    "volume_snapshots",
];

/// The whole world.
#[derive(Debug)]
pub(crate) struct Store {
    pub base_url: String,
    next_id: u64,
    next_uuid: u128,
    pub droplets: BTreeMap<u64, Droplet>,
    pub images: Vec<Image>,
    pub tags: BTreeMap<String, Tag>,
    pub volumes: Vec<Volume>,
    pub volume_snapshots: Vec<VolumeSnapshot>,
    pub projects: Vec<Project>,
    pub firewalls: Vec<Firewall>,
    pub destroys: BTreeMap<u64, DestroyJob>,
}

/// The id of the project other than the default one that the fake starts with.
pub const SECOND_PROJECT_ID: &str = "4de7ac8b-495b-4884-9a69-1050c6793cd6";

impl Store {
    pub fn new(base_url: String) -> Self {
        let mut store = Self {
            base_url,
            next_id: 3_164_444,
            next_uuid: 0x506f_78a4_e098_11e5_ad9f_000f_5330_0000,
            droplets: BTreeMap::new(),
            images: Vec::new(),
            tags: BTreeMap::new(),
            volumes: Vec::new(),
            volume_snapshots: Vec::new(),
            projects: Vec::new(),
            firewalls: Vec::new(),
            destroys: BTreeMap::new(),
        };
        let default_id = store.uuid();
        store.projects.push(Project {
            id: default_id,
            default: true,
            resources: Vec::new(),
        });
        store.projects.push(Project {
            id: SECOND_PROJECT_ID.to_string(),
            default: false,
            resources: Vec::new(),
        });
        let firewall_id = store.uuid();
        store.firewalls.push(Firewall {
            id: firewall_id,
            name: "web-traffic".into(),
            tags: vec!["web".into()],
            droplet_ids: Vec::new(),
            created_at: Utc::now(),
        });
        store
    }

    /// A fresh numeric id (Droplets, images, actions).
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A fresh UUID (volumes, snapshots, firewalls, projects), deterministic per server.
    pub fn uuid(&mut self) -> String {
        self.next_uuid += 1;
        let hex = format!("{:032x}", self.next_uuid);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    // ------------------------------------------------------------------ tags

    /// Creates the tag if it does not exist.
    pub fn ensure_tag(&mut self, name: &str) {
        self.tags.entry(name.to_string()).or_insert_with(|| Tag {
            name: name.to_string(),
            ..Tag::default()
        });
    }

    /// Records that `uri` of kind `kind` was tagged with `name`.
    pub fn note_tagged(&mut self, name: &str, kind: &str, uri: String) {
        self.ensure_tag(name);
        if let Some(tag) = self.tags.get_mut(name) {
            tag.last_tagged.insert(kind.to_string(), uri);
        }
    }

    pub fn tag_json(&self, tag: &Tag) -> Value {
        let droplets = self
            .droplets
            .values()
            .filter(|d| d.tags.contains(&tag.name))
            .count();
        let volumes = self
            .volumes
            .iter()
            .filter(|v| v.tags.contains(&tag.name))
            .count();
        let snapshots = self
            .volume_snapshots
            .iter()
            .filter(|s| s.tags.contains(&tag.name))
            .count();
        let other = |kind: &str| tag.other.iter().filter(|(k, _)| k == kind).count();
        let stats = |kind: &str, count: usize| {
            let mut stats = json!({ "count": count });
            if count > 0
                && let Some(uri) = tag.last_tagged.get(kind)
            {
                stats["last_tagged_uri"] = json!(uri);
            }
            stats
        };
        let total = droplets + volumes + snapshots + tag.other.len();
        let mut resources = json!({
            "count": total,
            "droplets": stats("droplet", droplets),
            "images": stats("image", other("image")),
            "volumes": stats("volume", volumes),
            "volume_snapshots": stats("volume_snapshot", snapshots),
            "databases": stats("database", other("database")),
        });
        if total > 0
            && let Some(last) = tag.last_tagged.values().last()
        {
            resources["last_tagged_uri"] = json!(last);
        }
        json!({ "name": tag.name, "resources": resources })
    }

    // ------------------------------------------------------------------ droplets

    /// The Droplets with these ids, as the API shows them.
    pub fn droplets_json(&self, ids: &[u64]) -> Vec<Value> {
        self.droplet_views(ids).iter().map(to_value).collect()
    }

    /// The Droplets with these ids as views to serialize (see [`DropletView`]). The images
    /// are gathered in one pass for the whole page: a scan per Droplet made a page of 200
    /// out of 12,000 Droplets cost the fake about 15 ms, more than the client it serves.
    pub fn droplet_views(&self, ids: &[u64]) -> Vec<DropletView<'_>> {
        let mut images: std::collections::HashMap<u64, (Vec<u64>, Vec<u64>)> =
            ids.iter().map(|&id| (id, Default::default())).collect();
        for image in &self.images {
            if let Some((backups, snapshots)) = images.get_mut(&image.droplet_id) {
                if image.backup {
                    backups.push(image.id);
                } else {
                    snapshots.push(image.id);
                }
            }
        }
        ids.iter()
            .filter_map(|id| self.droplets.get(id))
            .map(|droplet| {
                let (backups, snapshots) = images.remove(&droplet.id).unwrap_or_default();
                DropletView::of(droplet, backups, snapshots)
            })
            .collect()
    }

    /// Removes a Droplet and every trace of it (tags counts, volume attachments, projects).
    pub fn remove_droplet(&mut self, id: u64) -> Option<Droplet> {
        let droplet = self.droplets.remove(&id)?;
        for volume in &mut self.volumes {
            volume.droplet_ids.retain(|d| *d != id);
        }
        // Backups go with the Droplet; snapshots stay (they are images of the account).
        self.images
            .retain(|image| image.droplet_id != id || !image.backup);
        for firewall in &mut self.firewalls {
            firewall.droplet_ids.retain(|d| *d != id);
        }
        let urn = format!("do:droplet:{id}");
        for project in &mut self.projects {
            project.resources.retain(|(u, _)| *u != urn);
        }
        Some(droplet)
    }

    pub fn remove_volume(&mut self, id: &str) -> Option<Volume> {
        let position = self.volumes.iter().position(|v| v.id == id)?;
        let volume = self.volumes.remove(position);
        for droplet in self.droplets.values_mut() {
            droplet.volume_ids.retain(|v| v != id);
        }
        let urn = format!("do:volume:{id}");
        for project in &mut self.projects {
            project.resources.retain(|(u, _)| *u != urn);
        }
        Some(volume)
    }

    /// Assigns a URN to a project (moving it from another one).
    pub fn assign(&mut self, project_index: usize, urn: &str) -> &'static str {
        if self.projects[project_index]
            .resources
            .iter()
            .any(|(u, _)| u == urn)
        {
            return "already_assigned";
        }
        for project in &mut self.projects {
            project.resources.retain(|(u, _)| u != urn);
        }
        self.projects[project_index]
            .resources
            .push((urn.to_string(), Utc::now()));
        "assigned"
    }

    pub fn default_project(&self) -> usize {
        self.projects.iter().position(|p| p.default).unwrap_or(0)
    }

    /// Whether the resource a URN names exists (kinds the fake does not model always do).
    pub fn urn_exists(&self, urn: &str) -> bool {
        let mut parts = urn.splitn(3, ':');
        let (Some("do"), Some(kind), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        match kind {
            "droplet" => id
                .parse()
                .is_ok_and(|id: u64| self.droplets.contains_key(&id)),
            "volume" => self.volumes.iter().any(|v| v.id == id),
            _ => !id.is_empty(),
        }
    }

    pub fn resource_json(&self, urn: &str, assigned_at: DateTime<Utc>, status: &str) -> Value {
        let mut parts = urn.splitn(3, ':');
        let kind = parts.nth(1).unwrap_or("resource");
        let id = parts.next().unwrap_or("");
        let path = match kind {
            "droplet" => format!("/v2/droplets/{id}"),
            "volume" => format!("/v2/volumes/{id}"),
            "domain" => format!("/v2/domains/{id}"),
            other => format!("/v2/{other}s/{id}"),
        };
        json!({
            "urn": urn,
            "assigned_at": time(assigned_at),
            "links": {"self": self.url(&path)},
            "status": status,
        })
    }

    /// The associated resources of a Droplet, per kind: id, name, monthly cost.
    pub fn associated(
        &self,
        droplet_id: u64,
    ) -> BTreeMap<&'static str, Vec<(String, String, String)>> {
        let mut out: BTreeMap<&'static str, Vec<(String, String, String)>> =
            ASSOCIATED_KINDS.iter().map(|k| (*k, Vec::new())).collect();
        let Some(droplet) = self.droplets.get(&droplet_id) else {
            return out;
        };
        for image in self
            .images
            .iter()
            .filter(|i| i.droplet_id == droplet_id && !i.backup)
        {
            out.entry("snapshots").or_default().push((
                image.id.to_string(),
                image.name.clone(),
                "0.05".into(),
            ));
        }
        for volume in self
            .volumes
            .iter()
            .filter(|v| droplet.volume_ids.contains(&v.id))
        {
            out.entry("volumes").or_default().push((
                volume.id.clone(),
                volume.name.clone(),
                format!("{:.2}", volume.size_gigabytes as f64 * 0.10),
            ));
            for snapshot in self
                .volume_snapshots
                .iter()
                .filter(|s| s.volume_id == volume.id)
            {
                out.entry("volume_snapshots").or_default().push((
                    snapshot.id.clone(),
                    snapshot.name.clone(),
                    "0.04".into(),
                ));
            }
        }
        out
    }

    /// Destroys a Droplet with the given associated resources and records the job.
    pub fn start_destroy(
        &mut self,
        droplet_id: u64,
        selected: Option<&BTreeMap<&'static str, Vec<String>>>,
    ) {
        let associated = self.associated(droplet_id);
        let mut resources: BTreeMap<&'static str, Vec<(String, String)>> = BTreeMap::new();
        for (kind, items) in associated {
            for (id, name, _) in items {
                let chosen =
                    selected.is_none_or(|s| s.get(kind).is_some_and(|ids| ids.contains(&id)));
                if chosen {
                    resources.entry(kind).or_default().push((id, name));
                }
            }
        }
        for (kind, items) in &resources {
            for (id, _) in items {
                match *kind {
                    "volumes" => {
                        self.remove_volume(id);
                    }
                    "volume_snapshots" => self.volume_snapshots.retain(|s| &s.id != id),
                    "snapshots" => self.images.retain(|i| &i.id.to_string() != id),
                    _ => {}
                }
            }
        }
        let name = self
            .droplets
            .get(&droplet_id)
            .map(|d| d.name.clone())
            .unwrap_or_default();
        self.remove_droplet(droplet_id);
        self.destroys.insert(
            droplet_id,
            DestroyJob {
                droplet: (droplet_id, name),
                resources,
                started_at: Utc::now(),
                reads: 0,
                completed_at: None,
            },
        );
    }

    /// The status of a destroy job; it completes on its second read.
    pub fn destroy_status(&mut self, droplet_id: u64) -> Option<Value> {
        let job = self.destroys.get_mut(&droplet_id)?;
        job.reads += 1;
        if job.reads >= 2 && job.completed_at.is_none() {
            job.completed_at = Some(Utc::now());
        }
        let destroyed_at = job.completed_at.map(time);
        let item = |id: &str, name: &str| {
            let mut item = json!({"id": id, "name": name});
            if let Some(at) = &destroyed_at {
                item["destroyed_at"] = json!(at);
            }
            item
        };
        let mut resources = json!({});
        for kind in ASSOCIATED_KINDS {
            let items: Vec<Value> = job
                .resources
                .get(kind)
                .into_iter()
                .flatten()
                .map(|(id, name)| item(id, name))
                .collect();
            resources[kind] = json!(items);
        }
        let mut status = json!({
            "droplet": item(&job.droplet.0.to_string(), &job.droplet.1),
            "resources": resources,
            "failures": 0,
        });
        if let Some(at) = job.completed_at {
            status["completed_at"] = json!(time(at));
        }
        Some(status)
    }

    // ------------------------------------------------------------------ seeding

    /// Adds `count` Droplets: several sizes and regions (every sixth a GPU size), tags `seed`
    /// and `web` or `db`, backups on every third, a snapshot on every fourth, three per
    /// physical host.
    pub fn seed_droplets(&mut self, count: usize) {
        for index in 0..count {
            let id = self.id();
            let tags = vec![
                "seed".to_string(),
                if index % 2 == 0 { "web" } else { "db" }.to_string(),
            ];
            for tag in &tags {
                self.note_tagged(
                    tag,
                    "droplet",
                    format!("{}/v2/droplets/{id}", self.base_url),
                );
            }
            let region = REGIONS[index % REGIONS.len()].0.to_string();
            let vpc_uuid = self.uuid();
            let droplet = Droplet {
                id,
                name: format!("seed-droplet-{index:04}"),
                // Every sixth is a GPU Droplet (listed only with type=gpus).
                size: SIZES[index % SIZES.len()].to_string(),
                region: region.clone(),
                image: json!("ubuntu-20-04-x64"),
                tags,
                backups: index % 3 == 0,
                backup_policy: None,
                ipv6: true,
                vpc_uuid,
                created_at: Utc::now(),
                fresh: false,
                volume_ids: Vec::new(),
                host: (index / 3) as u64,
            };
            if droplet.backups {
                let image_id = self.id();
                self.images.push(Image {
                    id: image_id,
                    droplet_id: id,
                    name: format!("{} backup", droplet.name),
                    backup: true,
                    region: region.clone(),
                    created_at: Utc::now(),
                    min_disk_size: 25,
                });
            }
            if index % 4 == 0 {
                let image_id = self.id();
                self.images.push(Image {
                    id: image_id,
                    droplet_id: id,
                    name: format!("{} snapshot", droplet.name),
                    backup: false,
                    region,
                    created_at: Utc::now(),
                    min_disk_size: 25,
                });
            }
            self.droplets.insert(id, droplet);
            // A fresh id is in no project yet: `assign`'s scans of every project (quadratic
            // over a seed of 12,000 Droplets, most of a benchmark run) are not needed.
            let default = self.default_project();
            self.projects[default]
                .resources
                .push((format!("do:droplet:{id}"), Utc::now()));
        }
    }

    /// Adds `count` volumes of 10 to 100 GiB; every third is attached to a seeded Droplet.
    pub fn seed_volumes(&mut self, count: usize) {
        let droplet_ids: Vec<u64> = self.droplets.keys().copied().collect();
        for index in 0..count {
            let id = self.uuid();
            let region = REGIONS[index % REGIONS.len()].0.to_string();
            let mut droplet_ids_of_volume = Vec::new();
            if index % 3 == 0
                && let Some(&droplet_id) = droplet_ids.get(index / 3)
            {
                droplet_ids_of_volume.push(droplet_id);
                if let Some(droplet) = self.droplets.get_mut(&droplet_id) {
                    droplet.volume_ids.push(id.clone());
                }
            }
            self.volumes.push(Volume {
                id: id.clone(),
                name: format!("seed-volume-{index:04}"),
                description: Some("Seeded by the fake".into()),
                size_gigabytes: 10 + (index as u64 * 10) % 100,
                region,
                created_at: Utc::now(),
                droplet_ids: droplet_ids_of_volume,
                filesystem_type: Some("ext4".into()),
                filesystem_label: None,
                tags: vec!["seed".into()],
            });
            self.note_tagged(
                "seed",
                "volume",
                format!("{}/v2/volumes/{id}", self.base_url),
            );
            let default = self.default_project();
            self.assign(default, &format!("do:volume:{id}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_well_formed_and_unique() {
        let mut store = Store::new("http://127.0.0.1:1".into());
        let a = store.uuid();
        let b = store.uuid();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn size_slugs_give_their_numbers() {
        assert_eq!(size_numbers("s-2vcpu-4gb"), (4096, 2, 100));
        assert_eq!(size_numbers("s-1vcpu-1gb"), (1024, 1, 25));
    }

    #[test]
    fn a_destroy_completes_on_its_second_read() {
        let mut store = Store::new("http://127.0.0.1:1".into());
        store.seed_droplets(1);
        let id = *store.droplets.keys().next().unwrap();
        store.start_destroy(id, None);
        assert!(
            store
                .destroy_status(id)
                .unwrap()
                .get("completed_at")
                .is_none()
        );
        assert!(
            store
                .destroy_status(id)
                .unwrap()
                .get("completed_at")
                .is_some()
        );
        assert!(!store.droplets.contains_key(&id));
    }
}
