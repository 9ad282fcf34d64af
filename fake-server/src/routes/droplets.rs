//! Droplets: list (by tag, name, type), create one or several, destroy (by id, by tag, with
//! associated resources), backups, snapshots, policies, firewalls, kernels, neighbors.

use super::*;

/// Renders Droplets. Only the create response shows a Droplet as "new": by the next read
/// the fake has finished creating it.
pub(super) fn render_droplets(store: &mut Store, ids: &[u64]) -> Vec<Value> {
    store.droplets_json(ids)
}

pub(super) async fn droplets_list(
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
    let store = state.store();
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
    listing("droplets", &store.droplet_views(&ids), links, meta)
}

#[derive(Deserialize)]
pub(super) struct DropletCreate {
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

pub(super) async fn droplets_create(State(state): State<Shared>, body: Bytes) -> Reply {
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
    let droplets = store.droplets_json(&created);
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

pub(super) async fn droplets_destroy_by_tag(
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

pub(super) fn policy_json(droplet: &Droplet) -> Value {
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

pub(super) async fn droplets_list_backup_policies(
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
    listing("policies", &policies, links, meta)
}

pub(super) async fn droplets_list_supported_backup_policies() -> Reply {
    let days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    ok(
        StatusCode::OK,
        json!({"supported_policies": [
            {"name": "weekly", "possible_days": days, "possible_window_starts": [0, 4, 8, 12, 16, 20], "retention_period_days": 28, "window_length_hours": 4},
            {"name": "daily", "possible_days": [], "possible_window_starts": [0, 4, 8, 12, 16, 20], "retention_period_days": 7, "window_length_hours": 4}
        ]}),
    )
}

pub(super) fn existing_droplet(store: &Store, raw: &str) -> Result<u64, ApiError> {
    let id = droplet_id(raw)?;
    store
        .droplets
        .contains_key(&id)
        .then_some(id)
        .ok_or_else(ApiError::not_found)
}

pub(super) async fn droplets_get(State(state): State<Shared>, Path(raw): Path<String>) -> Reply {
    let mut store = state.store();
    let id = existing_droplet(&store, &raw)?;
    let droplet = render_droplets(&mut store, &[id]).remove(0);
    ok(StatusCode::OK, json!({ "droplet": droplet }))
}

pub(super) async fn droplets_destroy(
    State(state): State<Shared>,
    Path(raw): Path<String>,
) -> Reply {
    let mut store = state.store();
    let id = existing_droplet(&store, &raw)?;
    store.remove_droplet(id);
    Ok((
        StatusCode::NO_CONTENT,
        [("content-type", "application/json")],
    )
        .into_response())
}

pub(super) fn images(
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
    listing(key, &images, links, meta)
}

pub(super) async fn droplets_list_backups(
    State(state): State<Shared>,
    Path(raw): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    images(&state, &raw, &query, true, "backups", "backups")
}

pub(super) async fn droplets_list_snapshots(
    State(state): State<Shared>,
    Path(raw): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    images(&state, &raw, &query, false, "snapshots", "snapshots")
}

pub(super) async fn droplets_get_backup_policy(
    State(state): State<Shared>,
    Path(raw): Path<String>,
) -> Reply {
    let store = state.store();
    let id = existing_droplet(&store, &raw)?;
    ok(
        StatusCode::OK,
        json!({ "policy": policy_json(&store.droplets[&id]) }),
    )
}

pub(super) async fn droplets_list_associated_resources(
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

pub(super) async fn droplets_destroy_dangerous(
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
pub(super) struct Selection {
    reserved_ips: Option<Vec<String>>,
    floating_ips: Option<Vec<String>>,
    snapshots: Option<Vec<String>>,
    volumes: Option<Vec<String>>,
    volume_snapshots: Option<Vec<String>>,
}

pub(super) async fn droplets_destroy_selective(
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

pub(super) async fn droplets_destroy_retry(
    State(state): State<Shared>,
    Path(raw): Path<String>,
) -> Reply {
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

pub(super) async fn droplets_destroy_status(
    State(state): State<Shared>,
    Path(raw): Path<String>,
) -> Reply {
    let id = droplet_id(&raw)?;
    let status = state
        .store()
        .destroy_status(id)
        .ok_or_else(ApiError::not_found)?;
    ok(StatusCode::OK, status)
}

pub(super) async fn droplets_list_firewalls(
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
    listing("firewalls", &firewalls, links, meta)
}

pub(super) async fn droplets_list_kernels(
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
    listing("kernels", &kernels, links, meta)
}

pub(super) async fn droplets_list_neighbors(
    State(state): State<Shared>,
    Path(raw): Path<String>,
) -> Reply {
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

pub(super) async fn droplets_list_neighbors_ids(State(state): State<Shared>) -> Reply {
    let store = state.store();
    let mut hosts: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for droplet in store.droplets.values() {
        hosts.entry(droplet.host).or_default().push(droplet.id);
    }
    let groups: Vec<Vec<u64>> = hosts.into_values().filter(|ids| ids.len() > 1).collect();
    ok(StatusCode::OK, json!({ "neighbor_ids": groups }))
}
