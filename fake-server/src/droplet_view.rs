//! A Droplet as the API shows it, serialized straight from the store.
//!
//! Why typed and not `json!`: a page of 200 Droplets built as `serde_json::Value` trees
//! (a map and a string allocation per field, then serialized, then dropped) cost the fake
//! about 9 ms, more than the client spends decoding the page, and the benchmark of
//! pagination measured the fake instead of the client. These views borrow from the store
//! and serialize in one pass. Fields are declared in alphabetical order, the order a
//! `Value` map serializes in, so the bytes are the same as before.

use serde::Serialize;

use crate::model::{Droplet, REGIONS, SIZES, size_numbers, time};

/// Features of every region the fake knows.
const REGION_FEATURES: [&str; 6] = [
    "backups",
    "ipv6",
    "metadata",
    "install_agent",
    "storage",
    "image_transfer",
];

#[derive(Serialize)]
pub(crate) struct DropletView<'a> {
    backup_ids: Vec<u64>,
    created_at: String,
    disk: u64,
    disk_info: [DiskInfo; 1],
    features: &'static [&'static str],
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_info: Option<GpuInfo>,
    id: u64,
    image: ImageView<'a>,
    kernel: Option<()>,
    locked: bool,
    memory: u64,
    name: &'a str,
    networks: Networks,
    next_backup_window: Option<BackupWindow>,
    region: RegionView<'a>,
    size: SizeView<'a>,
    size_slug: &'a str,
    snapshot_ids: Vec<u64>,
    status: &'static str,
    tags: &'a [String],
    vcpus: u64,
    volume_ids: &'a [String],
    vpc_uuid: &'a str,
}

#[derive(Serialize)]
struct Amount {
    amount: u64,
    unit: &'static str,
}

#[derive(Serialize)]
struct DiskInfo {
    size: Amount,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct GpuInfo {
    count: u64,
    model: &'static str,
    vram: Amount,
}

#[derive(Serialize)]
struct ImageView<'a> {
    created_at: &'static str,
    description: &'static str,
    distribution: &'static str,
    error_message: &'static str,
    id: u64,
    min_disk_size: u64,
    name: &'static str,
    public: bool,
    regions: [&'a str; 1],
    size_gigabytes: f64,
    slug: &'a str,
    status: &'static str,
    tags: [&'static str; 0],
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Networks {
    v4: [V4; 2],
    v6: Vec<V6>,
}

#[derive(Serialize)]
struct V4 {
    gateway: Option<&'static str>,
    ip_address: String,
    netmask: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct V6 {
    gateway: &'static str,
    ip_address: String,
    netmask: u64,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct BackupWindow {
    end: String,
    start: String,
}

#[derive(Serialize)]
pub(crate) struct RegionView<'a> {
    available: bool,
    features: &'static [&'static str],
    name: std::borrow::Cow<'static, str>,
    sizes: &'static [&'static str],
    slug: &'a str,
}

#[derive(Serialize)]
pub(crate) struct SizeView<'a> {
    available: bool,
    description: &'static str,
    disk: u64,
    memory: u64,
    price_hourly: f64,
    price_monthly: f64,
    regions: [&'static str; REGIONS.len()],
    slug: &'a str,
    transfer: f64,
    vcpus: u64,
}

impl<'a> RegionView<'a> {
    pub(crate) fn of(slug: &'a str) -> Self {
        let name = REGIONS
            .iter()
            .find(|(s, _)| *s == slug)
            .map_or_else(|| slug.to_uppercase().into(), |(_, name)| (*name).into());
        Self {
            available: true,
            features: &REGION_FEATURES,
            name,
            sizes: &SIZES,
            slug,
        }
    }
}

impl<'a> SizeView<'a> {
    pub(crate) fn of(slug: &'a str) -> Self {
        let (memory, vcpus, disk) = size_numbers(slug);
        let monthly = (memory / 1024).max(1) * 6;
        Self {
            available: true,
            description: if slug.starts_with("gpu-") {
                "GPU"
            } else {
                "Basic"
            },
            disk,
            memory,
            price_hourly: monthly as f64 / 672.0,
            price_monthly: monthly as f64,
            regions: REGIONS.map(|(s, _)| s),
            slug,
            transfer: 1.0,
            vcpus,
        }
    }
}

impl<'a> DropletView<'a> {
    /// `droplet` with the ids of its backups and snapshots.
    pub(crate) fn of(droplet: &'a Droplet, backup_ids: Vec<u64>, snapshot_ids: Vec<u64>) -> Self {
        let (memory, vcpus, disk) = size_numbers(&droplet.size);
        let host_octet = droplet.id % 250 + 2;
        let v6 = if droplet.ipv6 {
            vec![V6 {
                gateway: "2604:a880:0:1010::1",
                ip_address: format!("2604:a880:0:1010::{:x}", droplet.id % 0xffff),
                netmask: 64,
                kind: "public",
            }]
        } else {
            Vec::new()
        };
        let next_backup_window = droplet.backups.then(|| {
            let start = chrono::Utc::now() + chrono::Duration::days(1);
            BackupWindow {
                end: time(start + chrono::Duration::hours(4)),
                start: time(start),
            }
        });
        Self {
            backup_ids,
            created_at: time(droplet.created_at),
            disk,
            disk_info: [DiskInfo {
                size: Amount {
                    amount: disk,
                    unit: "gib",
                },
                kind: "local",
            }],
            features: if droplet.backups {
                &["backups", "ipv6"]
            } else {
                &["ipv6"]
            },
            gpu_info: droplet.is_gpu().then_some(GpuInfo {
                count: 1,
                model: "nvidia_h100",
                vram: Amount {
                    amount: 80,
                    unit: "gib",
                },
            }),
            id: droplet.id,
            image: ImageView {
                created_at: "2020-05-15T05:47:50Z",
                description: "",
                distribution: "Ubuntu",
                error_message: "",
                id: 63663980,
                min_disk_size: 20,
                name: "20.04 (LTS) x64",
                public: true,
                regions: [&droplet.region],
                size_gigabytes: 2.36,
                slug: droplet.image.as_str().unwrap_or("ubuntu-20-04-x64"),
                status: "available",
                tags: [],
                kind: "snapshot",
            },
            kernel: None,
            locked: false,
            memory,
            name: &droplet.name,
            networks: Networks {
                v4: [
                    V4 {
                        gateway: None,
                        ip_address: format!("10.128.0.{host_octet}"),
                        netmask: "255.255.0.0",
                        kind: "private",
                    },
                    V4 {
                        gateway: Some("192.241.165.1"),
                        ip_address: format!("192.241.165.{host_octet}"),
                        netmask: "255.255.255.0",
                        kind: "public",
                    },
                ],
                v6,
            },
            next_backup_window,
            region: RegionView::of(&droplet.region),
            size: SizeView::of(&droplet.size),
            size_slug: &droplet.size,
            snapshot_ids,
            status: if droplet.fresh { "new" } else { "active" },
            tags: &droplet.tags,
            vcpus,
            volume_ids: &droplet.volume_ids,
            vpc_uuid: &droplet.vpc_uuid,
        }
    }
}
