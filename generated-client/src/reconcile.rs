//! Settling a create whose outcome is unknown. DigitalOcean has no idempotency keys: after
//! a create was sent and its answer lost, the only safe next step is to look for what the
//! request named. This module says what each create in scope named ([`Create::of`]), looks
//! it up, and decides: found exactly what was asked (the call returns it), proved absent
//! (the create may be sent again), or unsettled (the error says so and names the lookup).
//!
//! What makes a lookup unambiguous:
//! * a tag: its name (tags are unique by name);
//! * a volume: its name and region (unique together), created after the request was sent,
//!   of the requested size; a volume without a name cannot be looked up;
//! * Droplets: each requested name, with every tag of the request, created after the request
//!   was sent (names are not unique: older Droplets of the same name are ignored, and two new
//!   ones of one name leave it unsettled). Add a tag unique to the call to make this strict;
//! * a volume snapshot: its name on the volume, created after the request was sent.
//!
//! "After the request was sent" is judged on DigitalOcean's clock: the lookup response's
//! `Date` header minus the time since the create was sent, minus 2 s for the one-second
//! resolution of both clocks' readings.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::rate_limit::RateLimit;
use crate::{Client, types};

/// The slack on "created after the request was sent".
const CLOCK_SLACK: Duration = Duration::from_secs(2);
/// Pages of a list read at most while looking for a snapshot.
const MAX_PAGES: u32 = 20;

/// What a create in scope asked for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Create {
    Tag {
        name: String,
    },
    Droplets {
        names: Vec<String>,
        tags: Vec<String>,
        gpu: bool,
        multiple: bool,
    },
    Volume {
        name: Option<String>,
        region: String,
        size_gigabytes: Option<u64>,
    },
    VolumeSnapshot {
        volume_id: String,
        name: String,
    },
}

/// What the lookup showed.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Exactly what was asked exists: the body of the create's success response.
    Found(Bytes, HeaderMap),
    /// Nothing the create would have made exists.
    Absent,
    /// Neither: why.
    Unsettled(String),
}

impl Create {
    /// What the create `operation_id` asked for, read from the request the client sent;
    /// `None` for operations that are not creates in scope.
    pub(crate) fn of(operation_id: &str, request: &reqwest::Request) -> Option<Create> {
        let body: Value = request
            .body()
            .and_then(|b| b.as_bytes())
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
        let texts = |key: &str| -> Vec<String> {
            body.get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        match operation_id {
            "tags_create" => Some(Create::Tag {
                name: text("name")?,
            }),
            "droplets_create" => {
                let (names, multiple) = match text("name") {
                    Some(name) => (vec![name], false),
                    None => (texts("names"), true),
                };
                Some(Create::Droplets {
                    names,
                    tags: texts("tags"),
                    gpu: text("size").is_some_and(|s| s.starts_with("gpu-")),
                    multiple,
                })
            }
            "volumes_create" => Some(Create::Volume {
                name: text("name"),
                region: text("region")?,
                size_gigabytes: body.get("size_gigabytes").and_then(Value::as_u64),
            }),
            "volume_snapshots_create" => {
                // The path is /v2/volumes/{volume_id}/snapshots.
                let segments: Vec<&str> = request.url().path_segments()?.collect();
                let volume_id = segments.iter().rev().nth(1)?.to_string();
                Some(Create::VolumeSnapshot {
                    volume_id,
                    name: text("name")?,
                })
            }
            _ => None,
        }
    }

    /// The lookup as requests a person can run (paths relative to the API's base URL).
    pub(crate) fn describe_lookup(&self) -> String {
        match self {
            Create::Tag { name } => format!("GET {}", tag_path(name)),
            Create::Droplets {
                names, tags, gpu, ..
            } => {
                let queries: Vec<String> = names
                    .iter()
                    .map(|name| format!("GET {}", droplets_path(name, *gpu)))
                    .collect();
                let tags = if tags.is_empty() {
                    String::new()
                } else {
                    let tags: Vec<String> = tags.iter().map(|t| encode(t)).collect();
                    format!(" with tags {}", tags.join(","))
                };
                format!("{}{tags}, created after the request", queries.join(" + "))
            }
            Create::Volume { name, region, .. } => match name {
                Some(name) => format!("GET {}", volume_path(name, region)),
                None => format!("GET /v2/volumes?region={}", encode(region)),
            },
            Create::VolumeSnapshot { volume_id, name } => format!(
                "GET {} for the name {}, created after the request",
                snapshots_path(volume_id, 1),
                encode(name)
            ),
        }
    }
}

/// Everything but the unreserved characters of RFC 3986, percent-encoded: safe in a path
/// segment and in a query value.
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, NOT_UNRESERVED).to_string()
}

/// The lookup of a tag.
fn tag_path(name: &str) -> String {
    format!("/v2/tags/{}", encode(name))
}

/// The lookup of a volume by name and region (unique together).
fn volume_path(name: &str, region: &str) -> String {
    format!(
        "/v2/volumes?name={}&region={}",
        encode(name),
        encode(region)
    )
}

/// The lookup of the Droplets of one name (GPU Droplets are listed only with `type=gpus`).
fn droplets_path(name: &str, gpu: bool) -> String {
    let gpu = if gpu { "&type=gpus" } else { "" };
    format!("/v2/droplets?name={}&per_page=200{gpu}", encode(name))
}

/// The snapshots of a volume, one page; the id is used as the create's path had it.
fn snapshots_path(volume_id: &str, page: u32) -> String {
    let page = if page > 1 {
        format!("&page={page}")
    } else {
        String::new()
    };
    format!("/v2/volumes/{volume_id}/snapshots?per_page=200{page}")
}

/// One lookup response, decoded.
struct Page<T> {
    value: T,
    headers: HeaderMap,
}

impl Client {
    /// Looks up what `create` asked for. `sent` is when the first attempt of the create
    /// was sent; `deadline` bounds the lookup (the call's time budget).
    pub(crate) async fn look_up(
        &self,
        create: &Create,
        sent: Instant,
        deadline: Option<Instant>,
    ) -> Verdict {
        match self.look_up_inner(create, sent, deadline).await {
            Ok(verdict) => verdict,
            Err(reason) => Verdict::Unsettled(format!("the lookup failed: {reason}")),
        }
    }

    async fn look_up_inner(
        &self,
        create: &Create,
        sent: Instant,
        deadline: Option<Instant>,
    ) -> Result<Verdict, String> {
        match create {
            Create::Tag { name } => {
                let path = tag_path(name);
                match self.get_json::<types::TagResponse>(&path, deadline).await? {
                    Some(page) if page.value.tag.is_some() => {
                        Ok(Verdict::Found(to_json(&page.value)?, page.headers))
                    }
                    Some(_) => Ok(Verdict::Unsettled(format!(
                        "the lookup of tag {name:?} answered no tag"
                    ))),
                    None => Ok(Verdict::Absent),
                }
            }
            Create::Volume {
                name,
                region,
                size_gigabytes,
            } => {
                let Some(name) = name else {
                    return Ok(Verdict::Unsettled(
                        "the request named no volume, so no lookup can find it".into(),
                    ));
                };
                let path = volume_path(name, region);
                let Some(page) = self.get_json::<types::VolumeList>(&path, deadline).await? else {
                    return Err("the volume list answered 404".into());
                };
                let since = created_after(&page.headers, sent);
                let same: Vec<&types::Volume> = page
                    .value
                    .volumes
                    .iter()
                    .filter(|v| {
                        v.name.as_deref() == Some(name.as_str())
                            && v.region.as_ref().is_some_and(|r| &r.slug == region)
                    })
                    .collect();
                match same.as_slice() {
                    [] => Ok(Verdict::Absent),
                    [volume] => {
                        if volume.created_at.is_none_or(|at| at < since) {
                            Ok(Verdict::Unsettled(format!(
                                "a volume named {name:?} in {region} exists but was not created after the request"
                            )))
                        } else if size_gigabytes
                            .is_some_and(|size| volume.size_gigabytes != Some(size))
                        {
                            Ok(Verdict::Unsettled(format!(
                                "the volume named {name:?} in {region} has another size than requested"
                            )))
                        } else {
                            let body = types::VolumeResponse {
                                volume: Some((*volume).clone()),
                            };
                            Ok(Verdict::Found(to_json(&body)?, page.headers))
                        }
                    }
                    _ => Ok(Verdict::Unsettled(format!(
                        "{} volumes named {name:?} in {region}",
                        same.len()
                    ))),
                }
            }
            Create::Droplets {
                names,
                tags,
                gpu,
                multiple,
            } => {
                let mut found = Vec::new();
                let mut headers = HeaderMap::new();
                let mut missing = 0;
                for name in names {
                    let path = droplets_path(name, *gpu);
                    let Some(page) = self.get_json::<types::DropletList>(&path, deadline).await?
                    else {
                        return Err("the Droplet list answered 404".into());
                    };
                    let since = created_after(&page.headers, sent);
                    let mut matches: Vec<types::Droplet> = page
                        .value
                        .droplets
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|d| {
                            &d.name == name
                                && d.created_at >= since
                                && tags.iter().all(|t| d.tags.contains(t))
                        })
                        .collect();
                    headers = page.headers;
                    match matches.len() {
                        0 => missing += 1,
                        1 => found.extend(matches.pop()),
                        n => {
                            return Ok(Verdict::Unsettled(format!(
                                "{n} Droplets named {name:?} were created after the request"
                            )));
                        }
                    }
                }
                if missing == names.len() {
                    return Ok(Verdict::Absent);
                }
                if missing > 0 {
                    return Ok(Verdict::Unsettled(format!(
                        "{} of {} requested Droplets were found",
                        found.len(),
                        names.len()
                    )));
                }
                let links = types::DropletCreateLinks { actions: None };
                let body = if *multiple {
                    to_json(&types::DropletCreateMultipleResponse {
                        droplets: found,
                        links,
                    })?
                } else {
                    let Some(droplet) = found.pop() else {
                        return Ok(Verdict::Absent);
                    };
                    to_json(&types::DropletCreateSingleResponse { droplet, links })?
                };
                Ok(Verdict::Found(body, headers))
            }
            Create::VolumeSnapshot { volume_id, name } => {
                let mut path = snapshots_path(volume_id, 1);
                let mut matches = Vec::new();
                let mut last_headers = HeaderMap::new();
                for page_number in 1..=MAX_PAGES {
                    let Some(page) = self
                        .get_json::<types::VolumeSnapshotList>(&path, deadline)
                        .await?
                    else {
                        return Ok(Verdict::Unsettled(format!(
                            "the volume {volume_id} does not exist (404)"
                        )));
                    };
                    let since = created_after(&page.headers, sent);
                    matches.extend(
                        page.value
                            .snapshots
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|s| &s.name == name && s.created_at >= since),
                    );
                    last_headers = page.headers;
                    let has_next = page
                        .value
                        .links
                        .and_then(|l| l.pages)
                        .and_then(|p| p.next)
                        .is_some();
                    if !has_next {
                        break;
                    }
                    path = snapshots_path(volume_id, page_number + 1);
                }
                match matches.len() {
                    0 => Ok(Verdict::Absent),
                    1 => {
                        let body = types::VolumeSnapshotResponse {
                            snapshot: matches.pop(),
                        };
                        Ok(Verdict::Found(to_json(&body)?, last_headers))
                    }
                    n => Ok(Verdict::Unsettled(format!(
                        "{n} snapshots named {name:?} were created after the request"
                    ))),
                }
            }
        }
    }

    /// One GET of a lookup, tried again after transport failures, 429 and 5xx as often as
    /// the retry policy allows a GET, within the deadline. `Ok(None)` for a 404.
    async fn get_json<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
        deadline: Option<Instant>,
    ) -> Result<Option<Page<T>>, String> {
        let url = format!("{}{path_and_query}", self.baseurl);
        let mut last_problem = String::new();
        let policy = &self.inner.retry;
        for try_number in 0..policy.max_attempts() {
            if try_number > 0 {
                let pause = policy.backoff(try_number, crate::retry::random());
                if deadline.is_some_and(|d| Instant::now() + pause >= d) {
                    break;
                }
                tokio::time::sleep(pause).await;
            }
            let request = self
                .client
                .get(&url)
                .header(reqwest::header::ACCEPT, "application/json")
                .build()
                .map_err(|e| format!("cannot build GET {path_and_query}: {e}"))?;
            let now = Instant::now();
            let limit =
                crate::hooks::attempt_limit(self.inner.shared.request_timeout, deadline, now);
            let response = match crate::transport::send(self, request, None, limit, now).await {
                Ok(response) => response,
                Err(failure) => {
                    last_problem = format!("GET {path_and_query}: {failure}");
                    continue;
                }
            };
            if let Some(limit) = RateLimit::from_headers(&response.headers) {
                self.inner.shared.rate_limit.observe(limit);
            }
            match response.status.as_u16() {
                200..=299 => {
                    let value = serde_json::from_slice(&response.body).map_err(|e| {
                        format!("GET {path_and_query} answered a body of another shape: {e}")
                    })?;
                    return Ok(Some(Page {
                        value,
                        headers: response.headers,
                    }));
                }
                404 => return Ok(None),
                429 | 500..=599 => {
                    last_problem = format!("GET {path_and_query} answered {}", response.status);
                }
                _ => {
                    return Err(format!("GET {path_and_query} answered {}", response.status));
                }
            }
        }
        Err(if last_problem.is_empty() {
            "no time was left for it".into()
        } else {
            last_problem
        })
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Bytes, String> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| format!("cannot encode the found resource: {e}"))
}

/// The earliest creation time, on DigitalOcean's clock, of a resource the create made.
fn created_after(headers: &HeaderMap, sent: Instant) -> DateTime<Utc> {
    let server_now = headers
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .unwrap_or_else(SystemTime::now);
    let since = server_now
        .checked_sub(sent.elapsed())
        .and_then(|t| t.checked_sub(CLOCK_SLACK))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    // Whole seconds, as DigitalOcean's timestamps are.
    let seconds = since
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(seconds)
        .ok()
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, body: Value) -> reqwest::Request {
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:1{path}"))
            .json(&body)
            .build()
            .unwrap()
    }

    #[test]
    fn a_multiple_droplet_create_names_every_droplet_and_its_tags() {
        let create = Create::of(
            "droplets_create",
            &request(
                "/v2/droplets",
                serde_json::json!({"names": ["a", "b"], "size": "s-1vcpu-1gb", "image": "ubuntu", "tags": ["web"]}),
            ),
        );
        assert_eq!(
            create,
            Some(Create::Droplets {
                names: vec!["a".into(), "b".into()],
                tags: vec!["web".into()],
                gpu: false,
                multiple: true
            })
        );
    }

    #[test]
    fn a_snapshot_create_is_looked_up_on_its_volume() {
        let create = Create::of(
            "volume_snapshots_create",
            &request(
                "/v2/volumes/7724db7c-e098/snapshots",
                serde_json::json!({"name": "nightly"}),
            ),
        )
        .unwrap();
        assert_eq!(
            create,
            Create::VolumeSnapshot {
                volume_id: "7724db7c-e098".into(),
                name: "nightly".into()
            }
        );
        assert!(
            create
                .describe_lookup()
                .contains("/v2/volumes/7724db7c-e098/snapshots")
        );
    }

    #[test]
    fn other_operations_are_not_reconciled() {
        let request = request("/v2/tags/web/resources", serde_json::json!({}));
        assert!(Create::of("tags_assign_resources", &request).is_none());
    }

    #[test]
    fn the_creation_bound_uses_the_servers_clock_with_slack() {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::DATE,
            "Wed, 02 Dec 2026 15:00:10 GMT".parse().unwrap(),
        );
        let since = created_after(&headers, Instant::now());
        let text = since.to_rfc3339();
        assert!(
            text == "2026-12-02T15:00:08+00:00" || text == "2026-12-02T15:00:07+00:00",
            "{text}"
        );
        let far = created_after(&HeaderMap::new(), Instant::now());
        assert!(far <= Utc::now());
    }
}
