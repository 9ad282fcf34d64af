//! Tags: list, create, get, delete, and tagging resources.

use super::*;

pub(super) async fn tags_list(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let paging = paging(&query)?;
    let store = state.store();
    let tags: Vec<Value> = store.tags.values().map(|t| store.tag_json(t)).collect();
    let (tags, links, meta) = page_of(&tags, &paging, &store.base_url, "/v2/tags", &[]);
    listing("tags", &tags, links, meta)
}

#[derive(Deserialize)]
pub(super) struct TagCreate {
    name: Option<String>,
}

pub(super) async fn tags_create(State(state): State<Shared>, body: Bytes) -> Reply {
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

pub(super) async fn tags_get(State(state): State<Shared>, Path(tag_id): Path<String>) -> Reply {
    let store = state.store();
    let tag = store.tags.get(&tag_id).ok_or_else(ApiError::not_found)?;
    ok(StatusCode::OK, json!({ "tag": store.tag_json(tag) }))
}

pub(super) async fn tags_delete(State(state): State<Shared>, Path(tag_id): Path<String>) -> Reply {
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
pub(super) struct TaggedResource {
    resource_id: String,
    resource_type: String,
}

#[derive(Deserialize)]
pub(super) struct TagResources {
    resources: Vec<TaggedResource>,
}

pub(super) fn tag_or_untag(
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

pub(super) async fn tags_assign_resources(
    State(state): State<Shared>,
    Path(tag_id): Path<String>,
    body: Bytes,
) -> Reply {
    let body: TagResources = parse_body(&body)?;
    tag_or_untag(&mut state.store(), &tag_id, &body, true)?;
    empty(StatusCode::NO_CONTENT)
}

pub(super) async fn tags_unassign_resources(
    State(state): State<Shared>,
    Path(tag_id): Path<String>,
    body: Bytes,
) -> Reply {
    let body: TagResources = parse_body(&body)?;
    tag_or_untag(&mut state.store(), &tag_id, &body, false)?;
    empty(StatusCode::NO_CONTENT)
}
