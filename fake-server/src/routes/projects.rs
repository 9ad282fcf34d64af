//! Project resources: list and assign, for the default project and by id.

use super::*;

pub(super) fn project_index(store: &Store, raw: &str) -> Result<usize, ApiError> {
    store
        .projects
        .iter()
        .position(|p| p.id == raw)
        .ok_or_else(ApiError::not_found)
}

pub(super) fn list_project(
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
    listing("resources", &resources, links, meta)
}

#[derive(Deserialize)]
pub(super) struct Assign {
    resources: Vec<String>,
}

pub(super) fn assign(state: &Shared, index: Option<usize>, raw: &str, body: &Bytes) -> Reply {
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

pub(super) async fn projects_list_resources_default(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    let index = state.store().default_project();
    list_project(&state, Some(index), "default", &query)
}

pub(super) async fn projects_assign_resources_default(
    State(state): State<Shared>,
    body: Bytes,
) -> Reply {
    let index = state.store().default_project();
    assign(&state, Some(index), "default", &body)
}

pub(super) async fn projects_list_resources(
    State(state): State<Shared>,
    Path(raw): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Reply {
    list_project(&state, None, &raw, &query)
}

pub(super) async fn projects_assign_resources(
    State(state): State<Shared>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Reply {
    assign(&state, None, &raw, &body)
}
