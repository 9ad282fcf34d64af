//! The run: the operations in scope, driven through the typed client, with ids discovered
//! from list answers; with `--write`, a lifecycle on resources named with a unique prefix,
//! and a clean-up of everything it made (also after a failure or Ctrl-C).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use digitalocean::{Client, Error, ErrorKind, types};
use serde::Serialize;
use serde_json::{Value, json};

use crate::document::Document;
use crate::findings::{Finding, FindingKind};
use crate::traffic::{self, Recorder};

/// What to run against which server.
#[derive(Debug, Clone)]
pub struct Options {
    /// The operations in scope (`None`: all of the document).
    pub operations: Option<BTreeSet<String>>,
    /// Also create, change and delete resources of its own.
    pub write: bool,
    /// Never send more requests than this (clean-up included).
    pub max_requests: usize,
    /// The project for `projects_list_resources` and `projects_assign_resources` (the
    /// API has no operation in scope that lists projects).
    pub project_id: Option<String>,
    /// The prefix of every name `--write` gives (default: `conform-` and a unique suffix).
    pub prefix: String,
}

/// What happened to one operation.
#[derive(Debug, Clone, Serialize)]
pub struct OperationReport {
    pub operation: String,
    /// The statuses of its answers, in order (attempts included).
    pub statuses: Vec<u16>,
    /// Findings of this operation (after repeats were counted once).
    pub findings: usize,
    /// Why it was not run, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The client's error, when the call failed (a documented error status included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub operations: Vec<OperationReport>,
    pub findings: Vec<Finding>,
    /// Requests sent, attempts and clean-up included.
    pub requests: usize,
    /// Whether the run was cut short by Ctrl-C.
    pub interrupted: bool,
    /// What the clean-up could not delete (names and ids), if anything.
    pub left_behind: Vec<String>,
}

impl OperationReport {
    /// One word or phrase for tables and progress lines.
    pub fn outcome(&self) -> String {
        match (&self.skipped, self.findings, &self.error) {
            (Some(reason), _, _) => format!("skipped: {reason}"),
            (None, _, Some(error)) if self.statuses.is_empty() => format!("no answer: {error}"),
            (None, 0, _) => "pass".to_string(),
            (None, 1, _) => "1 finding".to_string(),
            (None, n, _) => format!("{n} findings"),
        }
    }
}

impl Report {
    /// Operations run that got at least one answer.
    pub fn exercised(&self) -> usize {
        self.operations
            .iter()
            .filter(|o| o.skipped.is_none() && !o.statuses.is_empty())
            .count()
    }
}

/// Something the run created, to delete at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Made {
    Tag(String),
    Droplet(u64),
    Volume(String),
    VolumeSnapshot(String),
}

/// Attempts per call; with the clean-up reserve, what `--max-requests` is checked against.
const ATTEMPTS_PER_CALL: u32 = 3;

pub(crate) struct Run<'d> {
    client: Client,
    document: &'d Document,
    recorder: Recorder,
    options: Options,
    reports: BTreeMap<String, OperationReport>,
    findings: BTreeMap<(String, FindingKind, String, Option<u16>), Finding>,
    made: Vec<Made>,
    progress: Box<dyn FnMut(&OperationReport) + Send + 'd>,
}

impl<'d> Run<'d> {
    pub(crate) fn new(
        client: Client,
        recorder: Recorder,
        document: &'d Document,
        options: Options,
        progress: Box<dyn FnMut(&OperationReport) + Send + 'd>,
    ) -> Self {
        let client = client.with_retry_policy(
            client
                .retry_policy()
                .clone()
                .with_max_attempts(ATTEMPTS_PER_CALL),
        );
        Self {
            client,
            document,
            recorder,
            options,
            reports: BTreeMap::new(),
            findings: BTreeMap::new(),
            made: Vec::new(),
            progress,
        }
    }

    fn in_scope(&self, operation: &str) -> bool {
        self.document.operation(operation).is_some()
            && self
                .options
                .operations
                .as_ref()
                .is_none_or(|wanted| wanted.contains(operation))
    }

    /// Requests to keep for deleting what the run made.
    fn reserve(&self) -> usize {
        // A Droplet sweep and a volume sweep, then one delete per thing made.
        (self.made.len() + 2) * ATTEMPTS_PER_CALL as usize
    }

    fn skip(&mut self, operation: &str, reason: impl Into<String>) {
        if !self.in_scope(operation) || self.reports.contains_key(operation) {
            return;
        }
        let report = OperationReport {
            operation: operation.to_string(),
            statuses: Vec::new(),
            findings: 0,
            skipped: Some(reason.into()),
            error: None,
        };
        (self.progress)(&report);
        self.reports.insert(operation.to_string(), report);
    }

    /// Runs one call of `operation` (once per run) and checks its traffic; the body of a
    /// success, parsed, for the ids it holds.
    async fn call<R, E>(
        &mut self,
        operation: &str,
        send: impl Future<Output = Result<R, E>>,
    ) -> Option<Value>
    where
        Error: From<E>,
    {
        if !self.in_scope(operation) {
            return None;
        }
        if self
            .reports
            .get(operation)
            .is_some_and(|r| r.skipped.is_none())
        {
            return None;
        }
        let budget = self.options.max_requests;
        if self.recorder.sent() + ATTEMPTS_PER_CALL as usize + self.reserve() > budget {
            self.skip(
                operation,
                format!("not run: --max-requests {budget} would be exceeded"),
            );
            return None;
        }
        let start = self.recorder.sent();
        let result = send.await.map_err(Error::from);
        let records = self.recorder.since(start);
        let mut found = Vec::new();
        for record in &records {
            found.extend(traffic::check(self.document, record));
        }
        if let Err(error) = &result
            && error.kind() == ErrorKind::Decode
        {
            found.push(Finding {
                operation: operation.to_string(),
                kind: FindingKind::TypedDecodeFailure,
                status: error.status().map(|s| s.as_u16()),
                pointer: String::new(),
                seen: String::new(),
                message: error.to_string(),
                suggestion: None,
                occurrences: 1,
            });
        }
        let mut distinct = 0;
        for finding in found {
            match self.findings.entry(finding.key()) {
                std::collections::btree_map::Entry::Occupied(mut seen) => {
                    seen.get_mut().occurrences += 1
                }
                std::collections::btree_map::Entry::Vacant(slot) => {
                    distinct += 1;
                    slot.insert(finding);
                }
            }
        }
        let report = OperationReport {
            operation: operation.to_string(),
            statuses: records
                .iter()
                .filter_map(|r| r.answer.as_ref().map(|a| a.status))
                .collect(),
            findings: distinct,
            skipped: None,
            error: result.as_ref().err().map(ToString::to_string),
        };
        (self.progress)(&report);
        self.reports.insert(operation.to_string(), report);
        let last = records.last()?.answer.as_ref()?;
        if result.is_err() || !(200..300).contains(&last.status) {
            return None;
        }
        serde_json::from_slice(&last.body).ok()
    }

    /// Everything in scope, read-only first, then (with `--write`) the lifecycle.
    pub(crate) async fn drive(&mut self) {
        let client = self.client.clone();
        let per_page = 20u64;

        // Lists, and the ids they show.
        let tags = self
            .call("tags_list", client.tags_list().per_page(per_page).send())
            .await;
        let mut tag = first(&tags, "/tags", "name").and_then(|v| v.as_str().map(str::to_string));
        let droplets = self
            .call(
                "droplets_list",
                client.droplets_list().per_page(per_page).send(),
            )
            .await;
        let mut droplet = first(&droplets, "/droplets", "id").and_then(Value::as_u64);
        let volumes = self
            .call(
                "volumes_list",
                client.volumes_list().per_page(per_page).send(),
            )
            .await;
        let mut volume =
            first(&volumes, "/volumes", "id").and_then(|v| v.as_str().map(str::to_string));
        self.call(
            "droplets_list_backup_policies",
            client
                .droplets_list_backup_policies()
                .per_page(per_page)
                .send(),
        )
        .await;
        self.call(
            "droplets_list_supported_backup_policies",
            client.droplets_list_supported_backup_policies().send(),
        )
        .await;
        self.call(
            "droplets_list_neighbors_ids",
            client.droplets_list_neighbors_ids().send(),
        )
        .await;
        self.call(
            "projects_list_resources_default",
            client
                .projects_list_resources_default()
                .per_page(per_page)
                .send(),
        )
        .await;
        match self.options.project_id.clone() {
            Some(project) => {
                self.call(
                    "projects_list_resources",
                    client
                        .projects_list_resources()
                        .project_id(project)
                        .per_page(per_page)
                        .send(),
                )
                .await;
            }
            None => self.skip(
                "projects_list_resources",
                "no project id: pass --project-id",
            ),
        }

        // The lifecycle's resources, when the account shows none to read.
        let prefix = self.options.prefix.clone();
        let mut made_droplets: Vec<u64> = Vec::new();
        let mut made_volume: Option<String> = None;
        let mut snapshot: Option<String> = None;
        if self.options.write {
            let body = json!({"name": prefix});
            if let Ok(body) = serde_json::from_value::<types::TagCreate>(body)
                && self
                    .call("tags_create", client.tags_create().body(body).send())
                    .await
                    .is_some()
            {
                self.made.push(Made::Tag(prefix.clone()));
                tag = Some(prefix.clone());
            }
            let names: Vec<String> = ["selective", "dangerous", "single", "by-tag"]
                .iter()
                .map(|role| format!("{prefix}-{role}"))
                .collect();
            let body = json!({
                "names": names, "region": "nyc3", "size": "s-1vcpu-512mb-10gb",
                "image": "ubuntu-24-04-x64", "tags": [prefix],
            });
            if let Ok(body) = serde_json::from_value::<types::DropletCreateRequest>(body)
                && let Some(created) = self
                    .call(
                        "droplets_create",
                        client.droplets_create().body(body).send(),
                    )
                    .await
            {
                made_droplets = ids(&created, "/droplets", "id")
                    .filter_map(Value::as_u64)
                    .collect();
                self.made
                    .extend(made_droplets.iter().map(|id| Made::Droplet(*id)));
            }
            let body = json!({
                "name": format!("{prefix}-volume"), "size_gigabytes": 1, "region": "nyc3",
                "filesystem_type": "ext4", "tags": [prefix],
            });
            if let Ok(body) = serde_json::from_value::<types::VolumeCreateRequest>(body)
                && let Some(created) = self
                    .call("volumes_create", client.volumes_create().body(body).send())
                    .await
                && let Some(id) = created.pointer("/volume/id").and_then(Value::as_str)
            {
                self.made.push(Made::Volume(id.to_string()));
                made_volume = Some(id.to_string());
            }
            if let Some(id) = &made_volume {
                let body = json!({"name": format!("{prefix}-snapshot"), "tags": [prefix]});
                if let Ok(body) = serde_json::from_value::<types::VolumeSnapshotCreate>(body)
                    && let Some(created) = self
                        .call(
                            "volume_snapshots_create",
                            client
                                .volume_snapshots_create()
                                .volume_id(id.clone())
                                .body(body)
                                .send(),
                        )
                        .await
                    && let Some(id) = created.pointer("/snapshot/id").and_then(Value::as_str)
                {
                    self.made.push(Made::VolumeSnapshot(id.to_string()));
                    snapshot = Some(id.to_string());
                }
            }
            droplet = droplet.or(made_droplets.first().copied());
            volume = volume.or(made_volume.clone());
        }

        // The reads of one resource, with the ids found or made.
        match tag.clone() {
            Some(name) => {
                self.call("tags_get", client.tags_get().tag_id(name).send())
                    .await;
            }
            None => self.skip(
                "tags_get",
                "no tag to read: the account has none (run with --write)",
            ),
        }
        const DROPLET_READS: [&str; 9] = [
            "droplets_list_backups",
            "droplets_get_backup_policy",
            "droplets_list_associated_resources",
            "droplets_get_destroy_associated_resources_status",
            "droplets_list_firewalls",
            "droplets_list_kernels",
            "droplets_list_neighbors",
            "droplets_list_snapshots",
            "droplets_get",
        ];
        match droplet {
            Some(id) => {
                self.call("droplets_get", client.droplets_get().droplet_id(id).send())
                    .await;
                self.call(
                    "droplets_list_backups",
                    client
                        .droplets_list_backups()
                        .droplet_id(id)
                        .per_page(per_page)
                        .send(),
                )
                .await;
                self.call(
                    "droplets_get_backup_policy",
                    client.droplets_get_backup_policy().droplet_id(id).send(),
                )
                .await;
                self.call(
                    "droplets_list_associated_resources",
                    client
                        .droplets_list_associated_resources()
                        .droplet_id(id)
                        .send(),
                )
                .await;
                // 404 while no destroy is running: documented.
                self.call(
                    "droplets_get_destroy_associated_resources_status",
                    client
                        .droplets_get_destroy_associated_resources_status()
                        .droplet_id(id)
                        .send(),
                )
                .await;
                self.call(
                    "droplets_list_firewalls",
                    client
                        .droplets_list_firewalls()
                        .droplet_id(id)
                        .per_page(per_page)
                        .send(),
                )
                .await;
                self.call(
                    "droplets_list_kernels",
                    client
                        .droplets_list_kernels()
                        .droplet_id(id)
                        .per_page(per_page)
                        .send(),
                )
                .await;
                self.call(
                    "droplets_list_neighbors",
                    client.droplets_list_neighbors().droplet_id(id).send(),
                )
                .await;
                self.call(
                    "droplets_list_snapshots",
                    client
                        .droplets_list_snapshots()
                        .droplet_id(id)
                        .per_page(per_page)
                        .send(),
                )
                .await;
            }
            None => {
                for operation in DROPLET_READS {
                    self.skip(
                        operation,
                        "no Droplet to read: the account has none (run with --write)",
                    );
                }
            }
        }
        match volume.clone() {
            Some(id) => {
                self.call(
                    "volumes_get",
                    client.volumes_get().volume_id(id.clone()).send(),
                )
                .await;
                let snapshots = self
                    .call(
                        "volume_snapshots_list",
                        client
                            .volume_snapshots_list()
                            .volume_id(id)
                            .per_page(per_page)
                            .send(),
                    )
                    .await;
                snapshot = snapshot.or_else(|| {
                    first(&snapshots, "/snapshots", "id")
                        .and_then(|v| v.as_str().map(str::to_string))
                });
            }
            None => {
                for operation in ["volumes_get", "volume_snapshots_list"] {
                    self.skip(
                        operation,
                        "no volume to read: the account has none (run with --write)",
                    );
                }
            }
        }
        match snapshot.clone() {
            Some(id) => {
                self.call(
                    "volume_snapshots_get_by_id",
                    client.volume_snapshots_get_by_id().snapshot_id(id).send(),
                )
                .await;
            }
            None => self.skip(
                "volume_snapshots_get_by_id",
                "no volume snapshot to read (run with --write)",
            ),
        }

        if !self.options.write {
            self.skip_writes(
                "read-only: run with --write to create, change and delete resources of its own",
            );
            return;
        }
        self.lifecycle(&prefix, &made_droplets, made_volume, snapshot)
            .await;
    }

    /// Changes and deletes what the run made, each operation on resources of its own.
    async fn lifecycle(
        &mut self,
        prefix: &str,
        droplets: &[u64],
        volume: Option<String>,
        snapshot: Option<String>,
    ) {
        let client = self.client.clone();
        let [selective, dangerous, single, ..] = droplets else {
            self.skip_writes("the lifecycle's Droplets could not be created");
            return;
        };
        let (selective, dangerous, single) = (*selective, *dangerous, *single);
        let resources =
            json!({"resources": [{"resource_id": single.to_string(), "resource_type": "droplet"}]});
        if let Ok(body) = serde_json::from_value::<types::TagResourcesRequest>(resources.clone()) {
            self.call(
                "tags_assign_resources",
                client
                    .tags_assign_resources()
                    .tag_id(prefix.to_string())
                    .body(body)
                    .send(),
            )
            .await;
        }
        if let Ok(body) = serde_json::from_value::<types::TagResourcesRequest>(resources) {
            self.call(
                "tags_unassign_resources",
                client
                    .tags_unassign_resources()
                    .tag_id(prefix.to_string())
                    .body(body)
                    .send(),
            )
            .await;
        }
        let urns = json!({"resources": [format!("do:droplet:{single}")]});
        if let Ok(body) = serde_json::from_value::<types::ProjectAssignRequest>(urns.clone()) {
            self.call(
                "projects_assign_resources_default",
                client.projects_assign_resources_default().body(body).send(),
            )
            .await;
        }
        match self.options.project_id.clone() {
            Some(project) => {
                if let Ok(body) = serde_json::from_value::<types::ProjectAssignRequest>(urns) {
                    self.call(
                        "projects_assign_resources",
                        client
                            .projects_assign_resources()
                            .project_id(project)
                            .body(body)
                            .send(),
                    )
                    .await;
                }
            }
            None => self.skip(
                "projects_assign_resources",
                "no project id: pass --project-id",
            ),
        }
        if let Some(id) =
            snapshot.filter(|id| self.made.contains(&Made::VolumeSnapshot(id.clone())))
            && self
                .call(
                    "volume_snapshots_delete_by_id",
                    client
                        .volume_snapshots_delete_by_id()
                        .snapshot_id(id.clone())
                        .send(),
                )
                .await
                .is_some()
        {
            self.forget(&Made::VolumeSnapshot(id));
        }
        if let Some(id) = volume
            && self
                .call(
                    "volumes_delete",
                    client.volumes_delete().volume_id(id.clone()).send(),
                )
                .await
                .is_some()
        {
            self.forget(&Made::Volume(id));
        }
        // A second volume, deleted by name.
        let name = format!("{prefix}-by-name");
        let body = json!({"name": name, "size_gigabytes": 1, "region": "nyc3"});
        if let Ok(body) = serde_json::from_value::<types::VolumeCreateRequest>(body)
            && let Some(created) = self.raw(client.volumes_create().body(body).send()).await
        {
            let id = created
                .pointer("/volume/id")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(id) = &id {
                self.made.push(Made::Volume(id.clone()));
            }
            if self
                .call(
                    "volumes_delete_by_name",
                    client
                        .volumes_delete_by_name()
                        .name(name)
                        .region("nyc3")
                        .send(),
                )
                .await
                .is_some()
                && let Some(id) = id
            {
                self.forget(&Made::Volume(id));
            }
        }

        let body =
            json!({"volumes": [], "volume_snapshots": [], "snapshots": [], "reserved_ips": []});
        if let Ok(body) = serde_json::from_value::<types::SelectiveDestroyRequest>(body)
            && self
                .call(
                    "droplets_destroy_with_associated_resources_selective",
                    client
                        .droplets_destroy_with_associated_resources_selective()
                        .droplet_id(selective)
                        .body(body)
                        .send(),
                )
                .await
                .is_some()
        {
            self.forget(&Made::Droplet(selective));
        }
        self.call(
            "droplets_get_destroy_associated_resources_status",
            client
                .droplets_get_destroy_associated_resources_status()
                .droplet_id(selective)
                .send(),
        )
        .await;
        // Answers 202, or 409 while the first destroy is still running: both documented.
        self.call(
            "droplets_destroy_retry_with_associated_resources",
            client
                .droplets_destroy_retry_with_associated_resources()
                .droplet_id(selective)
                .send(),
        )
        .await;
        if self
            .call(
                "droplets_destroy_with_associated_resources_dangerous",
                client
                    .droplets_destroy_with_associated_resources_dangerous()
                    .droplet_id(dangerous)
                    .x_dangerous(true)
                    .send(),
            )
            .await
            .is_some()
        {
            self.forget(&Made::Droplet(dangerous));
        }
        if self
            .call(
                "droplets_destroy",
                client.droplets_destroy().droplet_id(single).send(),
            )
            .await
            .is_some()
        {
            self.forget(&Made::Droplet(single));
        }
        // The rest carry the run's own tag, and nothing else does.
        if self
            .call(
                "droplets_destroy_by_tag",
                client
                    .droplets_destroy_by_tag()
                    .tag_name(prefix.to_string())
                    .send(),
            )
            .await
            .is_some()
        {
            self.made.retain(|made| !matches!(made, Made::Droplet(_)));
        }
        if self
            .call(
                "tags_delete",
                client.tags_delete().tag_id(prefix.to_string()).send(),
            )
            .await
            .is_some()
        {
            self.forget(&Made::Tag(prefix.to_string()));
        }
    }

    /// Sends a call outside the checked operations (set-up and clean-up) and returns the
    /// body of its success.
    async fn raw<R, E>(&self, send: impl Future<Output = Result<R, E>>) -> Option<Value> {
        let start = self.recorder.sent();
        let ok = send.await.is_ok();
        let records = self.recorder.since(start);
        let answer = records.last()?.answer.as_ref()?;
        if !ok {
            return None;
        }
        serde_json::from_slice(&answer.body).ok()
    }

    fn skip_writes(&mut self, reason: &str) {
        let writes: Vec<String> = self
            .document
            .operations()
            .filter(|operation| operation.method != "GET")
            .map(|operation| operation.id.clone())
            .collect();
        for operation in writes {
            self.skip(&operation, reason);
        }
    }

    fn forget(&mut self, made: &Made) {
        self.made.retain(|m| m != made);
    }

    /// Deletes what the run made and did not delete itself, and whatever carries its prefix
    /// (a create cut short by Ctrl-C may have made something the run never heard of).
    /// Returns what is left.
    pub(crate) async fn clean_up(&mut self, interrupted: bool) -> Vec<String> {
        if !self.options.write {
            return Vec::new();
        }
        let client = self.client.clone();
        let prefix = self.options.prefix.clone();
        if interrupted || !self.made.is_empty() {
            let tagged = self
                .raw(
                    client
                        .droplets_list()
                        .tag_name(prefix.clone())
                        .per_page(200u64)
                        .send(),
                )
                .await;
            let volumes = self
                .raw(client.volumes_list().per_page(200u64).send())
                .await;
            let found = tagged
                .iter()
                .flat_map(|page| ids(page, "/droplets", "id"))
                .filter_map(Value::as_u64)
                .map(Made::Droplet)
                .chain(
                    volumes
                        .iter()
                        .flat_map(|page| {
                            page.pointer("/volumes")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                        })
                        .filter(|volume| {
                            volume["name"]
                                .as_str()
                                .is_some_and(|name| name.starts_with(&prefix))
                        })
                        .filter_map(|volume| volume["id"].as_str())
                        .map(|id| Made::Volume(id.to_string())),
                )
                .collect::<Vec<_>>();
            // The run's tag may exist without the run knowing; deleting it is harmless
            // when it does not (404 counts as deleted).
            let found = found
                .into_iter()
                .chain(std::iter::once(Made::Tag(prefix.clone())));
            for made in found {
                if !self.made.contains(&made) {
                    self.made.push(made);
                }
            }
        }
        let mut left = Vec::new();
        // Snapshots before their volume; the tag last.
        let mut order = self.made.clone();
        order.sort_by_key(|made| match made {
            Made::VolumeSnapshot(_) => 0,
            Made::Droplet(_) => 1,
            Made::Volume(_) => 2,
            Made::Tag(_) => 3,
        });
        for made in order {
            let gone = match &made {
                Made::VolumeSnapshot(id) => settled(
                    client
                        .volume_snapshots_delete_by_id()
                        .snapshot_id(id.clone())
                        .send()
                        .await,
                ),
                Made::Droplet(id) => {
                    settled(client.droplets_destroy().droplet_id(*id).send().await)
                }
                Made::Volume(id) => {
                    settled(client.volumes_delete().volume_id(id.clone()).send().await)
                }
                Made::Tag(name) => settled(client.tags_delete().tag_id(name.clone()).send().await),
            };
            if gone {
                self.forget(&made);
            } else {
                left.push(format!("{made:?}"));
            }
        }
        left
    }

    pub(crate) fn report(self, interrupted: bool, left_behind: Vec<String>) -> Report {
        let mut operations: Vec<OperationReport> = self.reports.into_values().collect();
        let order: Vec<&str> = self.document.operations().map(|o| o.id.as_str()).collect();
        operations.sort_by_key(|o| order.iter().position(|id| *id == o.operation));
        Report {
            operations,
            findings: self.findings.into_values().collect(),
            requests: self.recorder.sent(),
            interrupted,
            left_behind,
        }
    }
}

/// Deleted, or already gone.
fn settled<R, E>(result: Result<R, E>) -> bool
where
    Error: From<E>,
{
    match result.map_err(Error::from) {
        Ok(_) => true,
        Err(error) => error.is_not_found(),
    }
}

fn ids<'v>(body: &'v Value, list: &str, field: &'v str) -> impl Iterator<Item = &'v Value> + 'v {
    body.pointer(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(move |item| item.get(field))
}

fn first<'v>(body: &'v Option<Value>, list: &str, field: &'v str) -> Option<&'v Value> {
    body.as_ref().and_then(|body| ids(body, list, field).next())
}
