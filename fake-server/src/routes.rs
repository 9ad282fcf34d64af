//! The 38 operations over HTTP, following the spec: paths, query parameters, bodies,
//! statuses, pagination (`page`, `per_page` 1–200 default 20, absolute `links.pages`,
//! `meta.total`) and DigitalOcean's error bodies. The error body gets its request id from
//! the middleware in `server`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::model::{ASSOCIATED_KINDS, Droplet, Store, Volume, VolumeSnapshot, time};
use crate::server::ServerState;

type Shared = Arc<ServerState>;
type Reply = Result<Response, ApiError>;

/// An error the middleware turns into DigitalOcean's body (with the request id).
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub id: &'static str,
    pub message: String,
    /// Tag creation answers 400 with `{error, messages, root_causes}` instead.
    pub root_causes: bool,
}

impl ApiError {
    fn new(status: StatusCode, id: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            id,
            message: message.into(),
            root_causes: false,
        }
    }

    pub(crate) fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "The resource you requested could not be found.",
        )
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable_entity",
            message,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

fn ok(status: StatusCode, body: Value) -> Reply {
    Ok((status, axum::Json(body)).into_response())
}

fn empty(status: StatusCode) -> Reply {
    Ok(status.into_response())
}

fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error parsing request body: {e}")))
}

fn droplet_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>()
        .ok()
        .filter(|id| *id >= 1)
        .ok_or_else(ApiError::not_found)
}

fn valid_tag_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
}

fn valid_volume_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

// ---------------------------------------------------------------------- pagination

struct Paging {
    page: u64,
    per_page: u64,
}

fn paging(query: &HashMap<String, String>) -> Result<Paging, ApiError> {
    let number = |name: &str, default: u64| -> Result<u64, ApiError> {
        match query.get(name) {
            None => Ok(default),
            Some(text) => text
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("{name} must be a positive integer"))),
        }
    };
    let page = number("page", 1)?;
    let per_page = number("per_page", 20)?;
    if page < 1 {
        return Err(ApiError::bad_request("page must be at least 1"));
    }
    if !(1..=200).contains(&per_page) {
        return Err(ApiError::bad_request("per_page must be between 1 and 200"));
    }
    Ok(Paging { page, per_page })
}

/// One page of `items` with `links` (absolute, to this server, keeping the filters) and
/// `meta`. The pages object only holds the links that make sense.
fn page_of<T: Clone>(
    items: &[T],
    paging: &Paging,
    base_url: &str,
    path: &str,
    filters: &[(&str, &str)],
) -> (Vec<T>, Value, Value) {
    let total = items.len() as u64;
    let last = total.div_ceil(paging.per_page).max(1);
    let start = ((paging.page - 1) * paging.per_page).min(total) as usize;
    let end = (start as u64 + paging.per_page).min(total) as usize;
    let url = |page: u64| {
        let mut query: Vec<String> = filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        query.push(format!("page={page}"));
        query.push(format!("per_page={}", paging.per_page));
        format!("{base_url}{path}?{}", query.join("&"))
    };
    let mut pages = serde_json::Map::new();
    if paging.page > 1 {
        pages.insert("first".into(), json!(url(1)));
        pages.insert("prev".into(), json!(url((paging.page - 1).min(last))));
    }
    if paging.page < last {
        pages.insert("next".into(), json!(url(paging.page + 1)));
        pages.insert("last".into(), json!(url(last)));
    }
    let links = if pages.is_empty() {
        json!({})
    } else {
        json!({ "pages": pages })
    };
    (items[start..end].to_vec(), links, json!({ "total": total }))
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------- router

pub(crate) fn router(state: Shared) -> Router {
    use axum::routing::{delete, post};
    Router::new()
        .route("/v2/tags", get(tags_list).post(tags_create))
        .route("/v2/tags/{tag_id}", get(tags_get).delete(tags_delete))
        .route(
            "/v2/tags/{tag_id}/resources",
            post(tags_assign_resources).delete(tags_unassign_resources),
        )
        .route(
            "/v2/droplets",
            get(droplets_list)
                .post(droplets_create)
                .delete(droplets_destroy_by_tag),
        )
        .route(
            "/v2/droplets/backups/policies",
            get(droplets_list_backup_policies),
        )
        .route(
            "/v2/droplets/backups/supported_policies",
            get(droplets_list_supported_backup_policies),
        )
        .route(
            "/v2/droplets/{droplet_id}",
            get(droplets_get).delete(droplets_destroy),
        )
        .route(
            "/v2/droplets/{droplet_id}/backups",
            get(droplets_list_backups),
        )
        .route(
            "/v2/droplets/{droplet_id}/backups/policy",
            get(droplets_get_backup_policy),
        )
        .route(
            "/v2/droplets/{droplet_id}/destroy_with_associated_resources",
            get(droplets_list_associated_resources),
        )
        .route(
            "/v2/droplets/{droplet_id}/destroy_with_associated_resources/dangerous",
            delete(droplets_destroy_dangerous),
        )
        .route(
            "/v2/droplets/{droplet_id}/destroy_with_associated_resources/retry",
            post(droplets_destroy_retry),
        )
        .route(
            "/v2/droplets/{droplet_id}/destroy_with_associated_resources/selective",
            delete(droplets_destroy_selective),
        )
        .route(
            "/v2/droplets/{droplet_id}/destroy_with_associated_resources/status",
            get(droplets_destroy_status),
        )
        .route(
            "/v2/droplets/{droplet_id}/firewalls",
            get(droplets_list_firewalls),
        )
        .route(
            "/v2/droplets/{droplet_id}/kernels",
            get(droplets_list_kernels),
        )
        .route(
            "/v2/droplets/{droplet_id}/neighbors",
            get(droplets_list_neighbors),
        )
        .route(
            "/v2/droplets/{droplet_id}/snapshots",
            get(droplets_list_snapshots),
        )
        .route(
            "/v2/reports/droplet_neighbors_ids",
            get(droplets_list_neighbors_ids),
        )
        .route(
            "/v2/projects/default/resources",
            get(projects_list_resources_default).post(projects_assign_resources_default),
        )
        .route(
            "/v2/projects/{project_id}/resources",
            get(projects_list_resources).post(projects_assign_resources),
        )
        .route(
            "/v2/volumes",
            get(volumes_list)
                .post(volumes_create)
                .delete(volumes_delete_by_name),
        )
        .route(
            "/v2/volumes/snapshots/{snapshot_id}",
            get(volume_snapshots_get_by_id).delete(volume_snapshots_delete_by_id),
        )
        .route(
            "/v2/volumes/{volume_id}",
            get(volumes_get).delete(volumes_delete),
        )
        .route(
            "/v2/volumes/{volume_id}/snapshots",
            get(volume_snapshots_list).post(volume_snapshots_create),
        )
        .fallback(|| async { ApiError::not_found() })
        .with_state(state)
}

// ---------------------------------------------------------------------- tags

async fn tags_list(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let paging = paging(&query)?;
    let store = state.store();
    let tags: Vec<Value> = store.tags.values().map(|t| store.tag_json(t)).collect();
    let (tags, links, meta) = page_of(&tags, &paging, &store.base_url, "/v2/tags", &[]);
    ok(
        StatusCode::OK,
        json!({"tags": tags, "links": links, "meta": meta}),
    )
}

#[derive(Deserialize)]
struct TagCreate {
    name: Option<String>,
}

async fn tags_create(State(state): State<Shared>, body: Bytes) -> Reply {
    let body: TagCreate = parse_body(&body)?;
    let name = body.name.unwrap_or_default();
    if !valid_tag_name(&name) {
        let message = format!(
            "Error validating resource tag: \"tag-name \\\"{name}\\\" contains invalid characters\" \
             (letters, numbers, colons, dashes and underscores; at most 255)"
        );
        return Err(ApiError {
            root_causes: true,
            ..ApiError::bad_request(message)
        });
    }
    let mut store = state.store();
    store.ensure_tag(&name);
    let tag = store.tag_json(&store.tags[&name]);
    ok(StatusCode::CREATED, json!({ "tag": tag }))
}

async fn tags_get(State(state): State<Shared>, Path(tag_id): Path<String>) -> Reply {
    let store = state.store();
    let tag = store.tags.get(&tag_id).ok_or_else(ApiError::not_found)?;
    ok(StatusCode::OK, json!({ "tag": store.tag_json(tag) }))
}

async fn tags_delete(State(state): State<Shared>, Path(tag_id): Path<String>) -> Reply {
    let mut store = state.store();
    store.tags.remove(&tag_id).ok_or_else(ApiError::not_found)?;
    // Deleting a tag untags every resource tagged with it.
    for droplet in store.droplets.values_mut() {
        droplet.tags.retain(|t| *t != tag_id);
    }
    for volume in &mut store.volumes {
        volume.tags.retain(|t| *t != tag_id);
    }
    for snapshot in &mut store.volume_snapshots {
        snapshot.tags.retain(|t| *t != tag_id);
    }
    empty(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct TaggedResource {
    resource_id: String,
    resource_type: String,
}

#[derive(Deserialize)]
struct TagResources {
    resources: Vec<TaggedResource>,
}

fn tag_or_untag(
    store: &mut Store,
    tag: &str,
    body: &TagResources,
    tag_it: bool,
) -> Result<(), ApiError> {
    if !store.tags.contains_key(tag) {
        return Err(ApiError::not_found());
    }
    if body.resources.is_empty() {
        return Err(ApiError::bad_request("resources must not be empty"));
    }
    for resource in &body.resources {
        let kind = resource.resource_type.as_str();
        let id = resource.resource_id.as_str();
        let edit = |tags: &mut Vec<String>| {
            if tag_it {
                if !tags.iter().any(|t| t == tag) {
                    tags.push(tag.to_string());
                }
            } else {
                tags.retain(|t| t != tag);
            }
        };
        let uri = match kind {
            "droplet" => {
                let droplet = id
                    .parse::<u64>()
                    .ok()
                    .and_then(|id| store.droplets.get_mut(&id))
                    .ok_or_else(ApiError::not_found)?;
                edit(&mut droplet.tags);
                store.url(&format!("/v2/droplets/{id}"))
            }
            "volume" => {
                let volume = store
                    .volumes
                    .iter_mut()
                    .find(|v| v.id == id)
                    .ok_or_else(ApiError::not_found)?;
                edit(&mut volume.tags);
                store.url(&format!("/v2/volumes/{id}"))
            }
            "volume_snapshot" => {
                let snapshot = store
                    .volume_snapshots
                    .iter_mut()
                    .find(|s| s.id == id)
                    .ok_or_else(ApiError::not_found)?;
                edit(&mut snapshot.tags);
                store.url(&format!("/v2/snapshots/{id}"))
            }
            "image" | "database" => {
                let entry = (kind.to_string(), id.to_string());
                if let Some(record) = store.tags.get_mut(tag) {
                    record.other.retain(|other| *other != entry);
                    if tag_it {
                        record.other.push(entry);
                    }
                }
                store.url(&format!("/v2/{kind}s/{id}"))
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "resource_type {other:?} cannot be tagged"
                )));
            }
        };
        if tag_it {
            store.note_tagged(tag, kind, uri);
        }
    }
    Ok(())
}

async fn tags_assign_resources(
    State(state): State<Shared>,
    Path(tag_id): Path<String>,
    body: Bytes,
) -> Reply {
    let body: TagResources = parse_body(&body)?;
    tag_or_untag(&mut state.store(), &tag_id, &body, true)?;
    empty(StatusCode::NO_CONTENT)
}

async fn tags_unassign_resources(
    State(state): State<Shared>,
    Path(tag_id): Path<String>,
    body: Bytes,
) -> Reply {
    let body: TagResources = parse_body(&body)?;
    tag_or_untag(&mut state.store(), &tag_id, &body, false)?;
    empty(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------- droplets

/// Renders Droplets. Only the create response shows a Droplet as "new": by the next read
/// the fake has finished creating it.
fn render_droplets(store: &mut Store, ids: &[u64]) -> Vec<Value> {
    ids.iter()
        .filter_map(|id| store.droplets.get(id))
        .map(|d| store.droplet_json(d))
        .collect()
}

async fn droplets_list(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let paging = paging(&query)?;
    let tag_name = query.get("tag_name");
    let name = query.get("name");
    let kind = query.get("type");
    if tag_name.is_some() && (name.is_some() || kind.is_some()) {
        return Err(ApiError::bad_request(
            "tag_name can not be combined with name or type",
        ));
    }
    let mut store = state.store();
    let ids: Vec<u64> = store
        .droplets
        .values()
        .filter(|d| tag_name.is_none_or(|t| d.tags.contains(t)))
        .filter(|d| name.is_none_or(|n| d.name.eq_ignore_ascii_case(n)))
        .filter(|d| match kind.map(String::as_str) {
            Some("gpus") => d.is_gpu(),
            _ => tag_name.is_some() || !d.is_gpu(),
        })
        .map(|d| d.id)
        .collect();
    let mut filters: Vec<(&str, String)> = Vec::new();
    for (key, value) in [("tag_name", tag_name), ("name", name), ("type", kind)] {
        if let Some(value) = value {
            filters.push((key, encode(value)));
        }
    }
    let filters: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (ids, links, meta) = page_of(
        &ids,
        &paging,
        &store.base_url.clone(),
        "/v2/droplets",
        &filters,
    );
    let droplets = render_droplets(&mut store, &ids);
    ok(
        StatusCode::OK,
        json!({"droplets": droplets, "links": links, "meta": meta}),
    )
}

#[derive(Deserialize)]
struct DropletCreate {
    name: Option<String>,
    names: Option<Vec<String>>,
    region: Option<String>,
    size: String,
    image: Value,
    backups: Option<bool>,
    backup_policy: Option<Value>,
    ipv6: Option<bool>,
    tags: Option<Vec<String>>,
    user_data: Option<String>,
    volumes: Option<Vec<String>>,
    vpc_uuid: Option<String>,
}

async fn droplets_create(State(state): State<Shared>, body: Bytes) -> Reply {
    let body: DropletCreate = parse_body(&body)?;
    let names = match (&body.name, &body.names) {
        (Some(name), None) => vec![name.clone()],
        (None, Some(names)) if (1..=10).contains(&names.len()) => names.clone(),
        (None, Some(_)) => return Err(ApiError::unprocessable("names must have 1 to 10 items")),
        _ => return Err(ApiError::unprocessable("send either name or names")),
    };
    if names.iter().any(String::is_empty) {
        return Err(ApiError::unprocessable("a name must not be empty"));
    }
    if !(body.image.is_string() || body.image.is_u64()) {
        return Err(ApiError::unprocessable("image must be an image id or slug"));
    }
    if body
        .user_data
        .as_ref()
        .is_some_and(|u| u.chars().count() > 65536)
    {
        return Err(ApiError::unprocessable("user_data may not exceed 64 KiB"));
    }
    let tags = body.tags.clone().unwrap_or_default();
    if let Some(bad) = tags.iter().find(|t| !valid_tag_name(t)) {
        return Err(ApiError::unprocessable(format!("invalid tag name {bad:?}")));
    }
    let mut store = state.store();
    let volumes = body.volumes.clone().unwrap_or_default();
    for volume_id in &volumes {
        let volume = store
            .volumes
            .iter()
            .find(|v| &v.id == volume_id)
            .ok_or_else(ApiError::not_found)?;
        if !volume.droplet_ids.is_empty() {
            return Err(ApiError::unprocessable(format!(
                "volume {volume_id} is already attached"
            )));
        }
    }
    if !volumes.is_empty() && names.len() > 1 {
        return Err(ApiError::unprocessable(
            "volumes can only be attached to a single Droplet",
        ));
    }
    let mut created = Vec::new();
    let mut actions = Vec::new();
    for name in names {
        let id = store.id();
        let vpc_uuid = match &body.vpc_uuid {
            Some(v) => v.clone(),
            None => store.uuid(),
        };
        let droplet = Droplet {
            id,
            name,
            size: body.size.clone(),
            region: body.region.clone().unwrap_or_else(|| "nyc3".into()),
            image: body.image.clone(),
            tags: tags.clone(),
            backups: body.backups.unwrap_or(false),
            backup_policy: body.backup_policy.clone(),
            ipv6: body.ipv6.unwrap_or(false),
            vpc_uuid,
            created_at: Utc::now(),
            fresh: true,
            volume_ids: volumes.clone(),
            host: id / 3,
        };
        for tag in &tags {
            let uri = store.url(&format!("/v2/droplets/{id}"));
            store.note_tagged(tag, "droplet", uri);
        }
        for volume in store.volumes.iter_mut().filter(|v| volumes.contains(&v.id)) {
            volume.droplet_ids.push(id);
        }
        store.droplets.insert(id, droplet);
        let default = store.default_project();
        store.assign(default, &format!("do:droplet:{id}"));
        let action = store.id();
        actions.push(json!({"id": action, "rel": "create", "href": store.url(&format!("/v2/actions/{action}"))}));
        created.push(id);
    }
    let droplets: Vec<Value> = created
        .iter()
        .filter_map(|id| store.droplets.get(id))
        .map(|d| store.droplet_json(d))
        .collect();
    for id in &created {
        if let Some(droplet) = store.droplets.get_mut(id) {
            droplet.fresh = false;
        }
    }
    let links = json!({ "actions": actions });
    if body.names.is_some() {
        ok(
            StatusCode::ACCEPTED,
            json!({"droplets": droplets, "links": links}),
        )
    } else {
        ok(
            StatusCode::ACCEPTED,
            json!({"droplet": droplets[0], "links": links}),
        )
    }
}

async fn droplets_destroy_by_tag(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let tag = query
        .get("tag_name")
        .ok_or_else(|| ApiError::bad_request("tag_name is required"))?;
    let mut store = state.store();
    let ids: Vec<u64> = store
        .droplets
        .values()
        .filter(|d| d.tags.contains(tag))
        .map(|d| d.id)
        .collect();
    for id in ids {
        store.remove_droplet(id);
    }
    Ok((
        StatusCode::NO_CONTENT,
        [("content-type", "application/json")],
    )
        .into_response())
}

fn policy_json(droplet: &Droplet) -> Value {
    let mut policy = json!({"droplet_id": droplet.id, "backup_enabled": droplet.backups});
    if droplet.backups {
        let plan = droplet
            .backup_policy
            .as_ref()
            .and_then(|p| p.get("plan"))
            .and_then(Value::as_str)
            .unwrap_or("daily");
        let mut backup_policy = json!({
            "plan": plan,
            "hour": droplet.backup_policy.as_ref().and_then(|p| p.get("hour")).cloned().unwrap_or(json!(20)),
            "window_length_hours": 4,
            "retention_period_days": if plan == "weekly" { 28 } else { 7 },
        });
        if plan == "weekly" {
            backup_policy["weekday"] = droplet
                .backup_policy
                .as_ref()
                .and_then(|p| p.get("weekday"))
                .cloned()
                .unwrap_or(json!("SUN"));
        }
        policy["backup_policy"] = backup_policy;
        let start = Utc::now() + chrono::Duration::days(1);
        policy["next_backup_window"] =
            json!({"start": time(start), "end": time(start + chrono::Duration::hours(4))});
    }
    policy
}

async fn droplets_list_backup_policies(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let paging = paging(&query)?;
    let store = state.store();
    let droplets: Vec<&Droplet> = store.droplets.values().collect();
    let (droplets, links, meta) = page_of(
        &droplets,
        &paging,
        &store.base_url,
        "/v2/droplets/backups/policies",
        &[],
    );
    let policies: serde_json::Map<String, Value> = droplets
        .into_iter()
        .map(|d| (d.id.to_string(), policy_json(d)))
        .collect();
    ok(
        StatusCode::OK,
        json!({"policies": policies, "links": links, "meta": meta}),
    )
}

async fn droplets_list_supported_backup_policies() -> Reply {
    let days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    ok(
        StatusCode::OK,
        json!({"supported_policies": [
            {"name": "weekly", "possible_days": days, "possible_window_starts": [0, 4, 8, 12, 16, 20], "retention_period_days": 28, "window_length_hours": 4},
            {"name": "daily", "possible_days": [], "possible_window_starts": [0, 4, 8, 12, 16, 20], "retention_period_days": 7, "window_length_hours": 4}
        ]}),
    )
}

fn existing_droplet(store: &Store, raw: &str) -> Result<u64, ApiError> {
    let id = droplet_id(raw)?;
    store
        .droplets
        .contains_key(&id)
        .then_some(id)
        .ok_or_else(ApiError::not_found)
}

async fn droplets_get(State(state): State<Shared>, Path(raw): Path<String>) -> Reply {
    let mut store = state.store();
    let id = existing_droplet(&store, &raw)?;
    let droplet = render_droplets(&mut store, &[id]).remove(0);
    ok(StatusCode::OK, json!({ "droplet": droplet }))
}

async fn droplets_destroy(State(state): State<Shared>, Path(raw): Path<String>) -> Reply {
    let mut store = state.store();
    let id = existing_droplet(&store, &raw)?;
    store.remove_droplet(id);
    Ok((
        StatusCode::NO_CONTENT,
        [("content-type", "application/json")],
    )
        .into_response())
}

fn images(
    state: &Shared,
    raw: &str,
    query: &HashMap<String, String>,
    backups: bool,
    key: &str,
    path: &str,
) -> Reply {
    let paging = paging(query)?;
    let store = state.store();
    let id = existing_droplet(&store, raw)?;
    let images: Vec<Value> = store
        .images
        .iter()
        .filter(|i| i.droplet_id == id && i.backup == backups)
        .map(|i| i.json())
        .collect();
    let (images, links, meta) = page_of(
        &images,
        &paging,
        &store.base_url,
        &format!("/v2/droplets/{id}/{path}"),
        &[],
    );
    ok(
        StatusCode::OK,
        json!({ key: images, "links": links, "meta": meta }),
    )
}

async fn droplets_list_backups(
    State(state): State<Shared>,
    Path(raw): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    images(&state, &raw, &query, true, "backups", "backups")
}

async fn droplets_list_snapshots(
    State(state): State<Shared>,
    Path(raw): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    images(&state, &raw, &query, false, "snapshots", "snapshots")
}

async fn droplets_get_backup_policy(State(state): State<Shared>, Path(raw): Path<String>) -> Reply {
    let store = state.store();
    let id = existing_droplet(&store, &raw)?;
    ok(
        StatusCode::OK,
        json!({ "policy": policy_json(&store.droplets[&id]) }),
    )
}

async fn droplets_list_associated_resources(
    State(state): State<Shared>,
    Path(raw): Path<String>,
) -> Reply {
    let store = state.store();
    let id = existing_droplet(&store, &raw)?;
    let mut body = json!({});
    for (kind, items) in store.associated(id) {
        body[kind] = json!(
            items
                .into_iter()
                .map(|(id, name, cost)| json!({"id": id, "name": name, "cost": cost}))
                .collect::<Vec<_>>()
        );
    }
    ok(StatusCode::OK, body)
}

async fn droplets_destroy_dangerous(
    State(state): State<Shared>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let acknowledged = headers
        .get("x-dangerous")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !acknowledged {
        return Err(ApiError::bad_request(
            "the X-Dangerous header must be set to true",
        ));
    }
    let mut store = state.store();
    let id = existing_droplet(&store, &raw)?;
    store.start_destroy(id, None);
    empty(StatusCode::ACCEPTED)
}

#[derive(Deserialize, Default)]
struct Selection {
    reserved_ips: Option<Vec<String>>,
    floating_ips: Option<Vec<String>>,
    snapshots: Option<Vec<String>>,
    volumes: Option<Vec<String>>,
    volume_snapshots: Option<Vec<String>>,
}

async fn droplets_destroy_selective(
    State(state): State<Shared>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Reply {
    let selection: Selection = if body.is_empty() {
        Selection::default()
    } else {
        parse_body(&body)?
    };
    let mut chosen: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for (kind, ids) in ASSOCIATED_KINDS.iter().zip([
        selection.reserved_ips,
        selection.floating_ips,
        selection.snapshots,
        selection.volumes,
        selection.volume_snapshots,
    ]) {
        chosen.insert(kind, ids.unwrap_or_default());
    }
    let mut store = state.store();
    let id = existing_droplet(&store, &raw)?;
    store.start_destroy(id, Some(&chosen));
    empty(StatusCode::ACCEPTED)
}

async fn droplets_destroy_retry(State(state): State<Shared>, Path(raw): Path<String>) -> Reply {
    let id = droplet_id(&raw)?;
    let mut store = state.store();
    let job = store
        .destroys
        .get_mut(&id)
        .ok_or_else(ApiError::not_found)?;
    if job.completed_at.is_none() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "The request could not be completed due to a conflict.",
        ));
    }
    job.reads = 0;
    job.completed_at = None;
    job.started_at = Utc::now();
    empty(StatusCode::ACCEPTED)
}

async fn droplets_destroy_status(State(state): State<Shared>, Path(raw): Path<String>) -> Reply {
    let id = droplet_id(&raw)?;
    let status = state
        .store()
        .destroy_status(id)
        .ok_or_else(ApiError::not_found)?;
    ok(StatusCode::OK, status)
}

async fn droplets_list_firewalls(
    State(state): State<Shared>,
    Path(raw): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let paging = paging(&query)?;
    let store = state.store();
    let id = existing_droplet(&store, &raw)?;
    let droplet = &store.droplets[&id];
    let firewalls: Vec<Value> = store
        .firewalls
        .iter()
        .filter(|f| f.droplet_ids.contains(&id) || f.tags.iter().any(|t| droplet.tags.contains(t)))
        .map(|f| {
            json!({
                "id": f.id,
                "name": f.name,
                "status": "succeeded",
                "created_at": time(f.created_at),
                "pending_changes": [],
                "droplet_ids": f.droplet_ids,
                "tags": f.tags,
                "inbound_rules": [{"protocol": "tcp", "ports": "443", "sources": {"addresses": ["0.0.0.0/0", "::/0"]}}],
                "outbound_rules": [{"protocol": "tcp", "ports": "0", "destinations": {"addresses": ["0.0.0.0/0", "::/0"]}}],
            })
        })
        .collect();
    let (firewalls, links, meta) = page_of(
        &firewalls,
        &paging,
        &store.base_url,
        &format!("/v2/droplets/{id}/firewalls"),
        &[],
    );
    ok(
        StatusCode::OK,
        json!({"firewalls": firewalls, "links": links, "meta": meta}),
    )
}

async fn droplets_list_kernels(
    State(state): State<Shared>,
    Path(raw): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let paging = paging(&query)?;
    let store = state.store();
    let id = existing_droplet(&store, &raw)?;
    let kernels: Vec<Value> = (0..3)
        .map(|i| {
            json!({
                "id": 7515 + i,
                "name": format!("DigitalOcean GrubLoader v0.{} (20160714)", 2 + i),
                "version": format!("2016.07.13-DigitalOcean_loader_Ubuntu.{i}"),
            })
        })
        .collect();
    let (kernels, links, meta) = page_of(
        &kernels,
        &paging,
        &store.base_url,
        &format!("/v2/droplets/{id}/kernels"),
        &[],
    );
    ok(
        StatusCode::OK,
        json!({"kernels": kernels, "links": links, "meta": meta}),
    )
}

async fn droplets_list_neighbors(State(state): State<Shared>, Path(raw): Path<String>) -> Reply {
    let mut store = state.store();
    let id = existing_droplet(&store, &raw)?;
    let host = store.droplets[&id].host;
    let ids: Vec<u64> = store
        .droplets
        .values()
        .filter(|d| d.host == host && d.id != id)
        .map(|d| d.id)
        .collect();
    let droplets = render_droplets(&mut store, &ids);
    ok(StatusCode::OK, json!({ "droplets": droplets }))
}

async fn droplets_list_neighbors_ids(State(state): State<Shared>) -> Reply {
    let store = state.store();
    let mut hosts: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for droplet in store.droplets.values() {
        hosts.entry(droplet.host).or_default().push(droplet.id);
    }
    let groups: Vec<Vec<u64>> = hosts.into_values().filter(|ids| ids.len() > 1).collect();
    ok(StatusCode::OK, json!({ "neighbor_ids": groups }))
}

// ---------------------------------------------------------------------- projects

fn project_index(store: &Store, raw: &str) -> Result<usize, ApiError> {
    store
        .projects
        .iter()
        .position(|p| p.id == raw)
        .ok_or_else(ApiError::not_found)
}

fn list_project(
    state: &Shared,
    index: Option<usize>,
    raw: &str,
    query: &HashMap<String, String>,
) -> Reply {
    let paging = paging(query)?;
    let store = state.store();
    let index = match index {
        Some(index) => index,
        None => project_index(&store, raw)?,
    };
    let resources: Vec<Value> = store.projects[index]
        .resources
        .iter()
        .map(|(urn, at)| store.resource_json(urn, *at, "ok"))
        .collect();
    let path = if store.projects[index].default {
        "/v2/projects/default/resources".to_string()
    } else {
        format!("/v2/projects/{}/resources", store.projects[index].id)
    };
    let (resources, links, meta) = page_of(&resources, &paging, &store.base_url, &path, &[]);
    ok(
        StatusCode::OK,
        json!({"resources": resources, "links": links, "meta": meta}),
    )
}

#[derive(Deserialize)]
struct Assign {
    resources: Vec<String>,
}

fn assign(state: &Shared, index: Option<usize>, raw: &str, body: &Bytes) -> Reply {
    let body: Assign = parse_body(body)?;
    if body.resources.is_empty() {
        return Err(ApiError::bad_request("resources must not be empty"));
    }
    let mut store = state.store();
    let index = match index {
        Some(index) => index,
        None => project_index(&store, raw)?,
    };
    let mut statuses: BTreeMap<String, &'static str> = BTreeMap::new();
    for urn in &body.resources {
        let parts: Vec<&str> = urn.splitn(3, ':').collect();
        if parts.len() != 3 || parts[0] != "do" || parts[2].is_empty() {
            return Err(ApiError::bad_request(format!(
                "{urn:?} is not a URN (do:resource_type:resource_id)"
            )));
        }
        let status = if store.urn_exists(urn) {
            store.assign(index, urn)
        } else {
            "not_found"
        };
        statuses.insert(urn.clone(), status);
    }
    let now = Utc::now();
    let mut resources: Vec<Value> = store.projects[index]
        .resources
        .iter()
        .map(|(urn, at)| store.resource_json(urn, *at, statuses.get(urn).copied().unwrap_or("ok")))
        .collect();
    for (urn, status) in statuses.iter().filter(|(_, s)| **s == "not_found") {
        resources.push(store.resource_json(urn, now, status));
    }
    ok(StatusCode::OK, json!({ "resources": resources }))
}

async fn projects_list_resources_default(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let index = state.store().default_project();
    list_project(&state, Some(index), "default", &query)
}

async fn projects_assign_resources_default(State(state): State<Shared>, body: Bytes) -> Reply {
    let index = state.store().default_project();
    assign(&state, Some(index), "default", &body)
}

async fn projects_list_resources(
    State(state): State<Shared>,
    Path(raw): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    list_project(&state, None, &raw, &query)
}

async fn projects_assign_resources(
    State(state): State<Shared>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Reply {
    assign(&state, None, &raw, &body)
}

// ---------------------------------------------------------------------- volumes

async fn volumes_list(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let paging = paging(&query)?;
    let name = query.get("name");
    let region = query.get("region");
    let store = state.store();
    let volumes: Vec<Value> = store
        .volumes
        .iter()
        .filter(|v| name.is_none_or(|n| v.name == *n))
        .filter(|v| region.is_none_or(|r| v.region == *r))
        .map(Volume::json)
        .collect();
    let mut filters: Vec<(&str, String)> = Vec::new();
    for (key, value) in [("name", name), ("region", region)] {
        if let Some(value) = value {
            filters.push((key, encode(value)));
        }
    }
    let filters: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (volumes, links, meta) =
        page_of(&volumes, &paging, &store.base_url, "/v2/volumes", &filters);
    ok(
        StatusCode::OK,
        json!({"volumes": volumes, "links": links, "meta": meta}),
    )
}

#[derive(Deserialize)]
struct VolumeCreate {
    size_gigabytes: Option<u64>,
    snapshot_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    region: String,
    tags: Option<Vec<String>>,
    filesystem_type: Option<String>,
    filesystem_label: Option<String>,
}

async fn volumes_create(State(state): State<Shared>, body: Bytes) -> Reply {
    let body: VolumeCreate = parse_body(&body)?;
    let name = body
        .name
        .clone()
        .unwrap_or_else(|| format!("volume-{}", body.region));
    if !valid_volume_name(&name) {
        return Err(ApiError::bad_request(format!(
            "name {name:?} must be lowercase letters, numbers and '-', start with a letter, at most 64 characters"
        )));
    }
    let tags = body.tags.clone().unwrap_or_default();
    if let Some(bad) = tags.iter().find(|t| !valid_tag_name(t)) {
        return Err(ApiError::bad_request(format!("invalid tag name {bad:?}")));
    }
    let mut store = state.store();
    let size_gigabytes = match (&body.snapshot_id, body.size_gigabytes) {
        (Some(snapshot_id), _) => {
            store
                .volume_snapshots
                .iter()
                .find(|s| &s.id == snapshot_id)
                .ok_or_else(ApiError::not_found)?
                .min_disk_size
        }
        (None, Some(size)) if (1..=16384).contains(&size) => size,
        (None, Some(size)) => {
            return Err(ApiError::bad_request(format!(
                "size_gigabytes {size} must be from 1 to 16384"
            )));
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "size_gigabytes or snapshot_id is required",
            ));
        }
    };
    if store
        .volumes
        .iter()
        .any(|v| v.name == name && v.region == body.region)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("a volume named {name} already exists in {}", body.region),
        ));
    }
    let id = store.uuid();
    for tag in &tags {
        let uri = store.url(&format!("/v2/volumes/{id}"));
        store.note_tagged(tag, "volume", uri);
    }
    let volume = Volume {
        id: id.clone(),
        name,
        description: body.description,
        size_gigabytes,
        region: body.region,
        created_at: Utc::now(),
        droplet_ids: Vec::new(),
        filesystem_type: body.filesystem_type,
        filesystem_label: body.filesystem_label,
        tags,
    };
    let value = volume.json();
    store.volumes.push(volume);
    let default = store.default_project();
    store.assign(default, &format!("do:volume:{id}"));
    ok(StatusCode::CREATED, json!({ "volume": value }))
}

async fn volumes_delete_by_name(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let (Some(name), Some(region)) = (query.get("name"), query.get("region")) else {
        return Err(ApiError::bad_request("name and region are required"));
    };
    let mut store = state.store();
    let id = store
        .volumes
        .iter()
        .find(|v| &v.name == name && &v.region == region)
        .map(|v| v.id.clone())
        .ok_or_else(ApiError::not_found)?;
    store.remove_volume(&id);
    empty(StatusCode::NO_CONTENT)
}

async fn volumes_get(State(state): State<Shared>, Path(id): Path<String>) -> Reply {
    let store = state.store();
    let volume = store
        .volumes
        .iter()
        .find(|v| v.id == id)
        .ok_or_else(ApiError::not_found)?;
    ok(StatusCode::OK, json!({ "volume": volume.json() }))
}

async fn volumes_delete(State(state): State<Shared>, Path(id): Path<String>) -> Reply {
    state
        .store()
        .remove_volume(&id)
        .ok_or_else(ApiError::not_found)?;
    empty(StatusCode::NO_CONTENT)
}

async fn volume_snapshots_list(
    State(state): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let paging = paging(&query)?;
    let store = state.store();
    if !store.volumes.iter().any(|v| v.id == id) {
        return Err(ApiError::not_found());
    }
    let snapshots: Vec<Value> = store
        .volume_snapshots
        .iter()
        .filter(|s| s.volume_id == id)
        .map(VolumeSnapshot::json)
        .collect();
    let (snapshots, links, meta) = page_of(
        &snapshots,
        &paging,
        &store.base_url,
        &format!("/v2/volumes/{id}/snapshots"),
        &[],
    );
    ok(
        StatusCode::OK,
        json!({"snapshots": snapshots, "links": links, "meta": meta}),
    )
}

#[derive(Deserialize)]
struct SnapshotCreate {
    name: String,
    tags: Option<Vec<String>>,
}

async fn volume_snapshots_create(
    State(state): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let body: SnapshotCreate = parse_body(&body)?;
    if body.name.is_empty() {
        return Err(ApiError::bad_request("name is required"));
    }
    let tags = body.tags.unwrap_or_default();
    if let Some(bad) = tags.iter().find(|t| !valid_tag_name(t)) {
        return Err(ApiError::bad_request(format!("invalid tag name {bad:?}")));
    }
    let mut store = state.store();
    let volume = store
        .volumes
        .iter()
        .find(|v| v.id == id)
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    let snapshot_id = store.uuid();
    for tag in &tags {
        let uri = store.url(&format!("/v2/snapshots/{snapshot_id}"));
        store.note_tagged(tag, "volume_snapshot", uri);
    }
    let snapshot = VolumeSnapshot {
        id: snapshot_id,
        name: body.name,
        volume_id: volume.id,
        region: volume.region,
        created_at: Utc::now(),
        min_disk_size: volume.size_gigabytes,
        tags,
    };
    let value = snapshot.json();
    store.volume_snapshots.push(snapshot);
    ok(StatusCode::CREATED, json!({ "snapshot": value }))
}

async fn volume_snapshots_get_by_id(State(state): State<Shared>, Path(id): Path<String>) -> Reply {
    let store = state.store();
    let snapshot = store
        .volume_snapshots
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(ApiError::not_found)?;
    ok(StatusCode::OK, json!({ "snapshot": snapshot.json() }))
}

async fn volume_snapshots_delete_by_id(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> Reply {
    let mut store = state.store();
    let before = store.volume_snapshots.len();
    store.volume_snapshots.retain(|s| s.id != id);
    if store.volume_snapshots.len() == before {
        return Err(ApiError::not_found());
    }
    empty(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_link_only_where_it_makes_sense() {
        let items: Vec<u32> = (1..=5).collect();
        let first = Paging {
            page: 1,
            per_page: 2,
        };
        let (page, links, meta) = page_of(
            &items,
            &first,
            "http://127.0.0.1:9",
            "/v2/x",
            &[("tag_name", "web")],
        );
        assert_eq!(page, [1, 2]);
        assert_eq!(meta["total"], 5);
        assert!(links["pages"].get("first").is_none() && links["pages"].get("prev").is_none());
        assert_eq!(
            links["pages"]["next"],
            "http://127.0.0.1:9/v2/x?tag_name=web&page=2&per_page=2"
        );
        assert_eq!(
            links["pages"]["last"],
            "http://127.0.0.1:9/v2/x?tag_name=web&page=3&per_page=2"
        );
        let last = Paging {
            page: 3,
            per_page: 2,
        };
        let (page, links, _) = page_of(&items, &last, "http://127.0.0.1:9", "/v2/x", &[]);
        assert_eq!(page, [5]);
        assert!(links["pages"].get("next").is_none());
        assert!(links["pages"].get("prev").is_some());
        let single = Paging {
            page: 1,
            per_page: 20,
        };
        assert_eq!(page_of(&items, &single, "h", "/x", &[]).1, json!({}));
    }

    #[test]
    fn per_page_outside_1_to_200_is_refused() {
        let query = |v: &str| HashMap::from([("per_page".to_string(), v.to_string())]);
        assert!(paging(&query("0")).is_err());
        assert!(paging(&query("201")).is_err());
        assert!(paging(&query("200")).is_ok());
    }

    #[test]
    fn names_follow_the_documented_rules() {
        assert!(valid_tag_name("env:prod-1_a"));
        assert!(!valid_tag_name("здорово"));
        assert!(!valid_tag_name(&"x".repeat(256)));
        assert!(valid_volume_name("ext4-ex"));
        assert!(!valid_volume_name("Snapshot_example"));
        assert!(!valid_volume_name("1abc"));
    }
}
