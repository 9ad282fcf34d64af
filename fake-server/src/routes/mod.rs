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
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api_error::ApiError;
use crate::model::{ASSOCIATED_KINDS, Droplet, Store, Volume, VolumeSnapshot, time};
use crate::state::ServerState;

type Shared = Arc<ServerState>;
type Reply = Result<Response, ApiError>;

mod droplets;
mod pagination;
mod projects;
mod tags;
mod volumes;

use droplets::*;
use pagination::*;
use projects::*;
use tags::*;
use volumes::*;

pub(super) fn ok(status: StatusCode, body: Value) -> Reply {
    Ok((status, axum::Json(body)).into_response())
}

pub(super) fn empty(status: StatusCode) -> Reply {
    Ok(status.into_response())
}

pub(super) fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error parsing request body: {e}")))
}

pub(super) fn droplet_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>()
        .ok()
        .filter(|id| *id >= 1)
        .ok_or_else(ApiError::not_found)
}

pub(super) fn valid_tag_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
}

pub(super) fn valid_volume_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

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
