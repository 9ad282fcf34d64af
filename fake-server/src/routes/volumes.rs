//! Block storage: volumes (list, create, get, delete by id and by name) and their snapshots.

use super::*;

pub(super) async fn volumes_list(
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
    listing("volumes", &volumes, links, meta)
}

#[derive(Deserialize)]
pub(super) struct VolumeCreate {
    size_gigabytes: Option<u64>,
    snapshot_id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    region: String,
    tags: Option<Vec<String>>,
    filesystem_type: Option<String>,
    filesystem_label: Option<String>,
}

pub(super) async fn volumes_create(State(state): State<Shared>, body: Bytes) -> Reply {
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

pub(super) async fn volumes_delete_by_name(
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

pub(super) async fn volumes_get(State(state): State<Shared>, Path(id): Path<String>) -> Reply {
    let store = state.store();
    let volume = store
        .volumes
        .iter()
        .find(|v| v.id == id)
        .ok_or_else(ApiError::not_found)?;
    ok(StatusCode::OK, json!({ "volume": volume.json() }))
}

pub(super) async fn volumes_delete(State(state): State<Shared>, Path(id): Path<String>) -> Reply {
    state
        .store()
        .remove_volume(&id)
        .ok_or_else(ApiError::not_found)?;
    empty(StatusCode::NO_CONTENT)
}

pub(super) async fn volume_snapshots_list(
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
    listing("snapshots", &snapshots, links, meta)
}

#[derive(Deserialize)]
pub(super) struct SnapshotCreate {
    name: String,
    tags: Option<Vec<String>>,
}

pub(super) async fn volume_snapshots_create(
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

pub(super) async fn volume_snapshots_get_by_id(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> Reply {
    let store = state.store();
    let snapshot = store
        .volume_snapshots
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(ApiError::not_found)?;
    ok(StatusCode::OK, json!({ "snapshot": snapshot.json() }))
}

pub(super) async fn volume_snapshots_delete_by_id(
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
