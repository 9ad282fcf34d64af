//! The crate offers one builder call per operation of the spec: all 38, no more, no less.

mod support;

/// Calls each builder method (this only compiles if every method exists) and returns
/// their names.
macro_rules! builders {
    ($client:ident: $($operation:ident),* $(,)?) => {{
        $( let _ = $client.$operation(); )*
        vec![$(stringify!($operation)),*]
    }};
}

#[test]
fn there_is_a_builder_for_each_of_the_38_operations() {
    let client =
        digitalocean::Client::new("http://127.0.0.1:1", digitalocean::ClientState::default());
    let mut offered = builders![client:
        tags_list, tags_create, tags_get, tags_delete, tags_assign_resources, tags_unassign_resources,
        droplets_list, droplets_create, droplets_destroy_by_tag, droplets_list_backup_policies,
        droplets_list_supported_backup_policies, droplets_get, droplets_destroy, droplets_list_backups,
        droplets_get_backup_policy, droplets_list_associated_resources,
        droplets_destroy_with_associated_resources_dangerous, droplets_destroy_retry_with_associated_resources,
        droplets_destroy_with_associated_resources_selective, droplets_get_destroy_associated_resources_status,
        droplets_list_firewalls, droplets_list_kernels, droplets_list_neighbors, droplets_list_snapshots,
        droplets_list_neighbors_ids,
        projects_list_resources_default, projects_assign_resources_default, projects_list_resources,
        projects_assign_resources,
        volumes_list, volumes_create, volumes_delete_by_name, volume_snapshots_get_by_id,
        volume_snapshots_delete_by_id, volumes_get, volumes_delete, volume_snapshots_list, volume_snapshots_create,
    ];
    offered.sort_unstable();

    let spec = support::spec();
    let mut documented: Vec<String> = spec
        .openapi()
        .operations()
        .map(|(_, _, operation)| {
            operation
                .operation_id
                .clone()
                .expect("every operation has an id")
        })
        .collect();
    documented.sort_unstable();
    assert_eq!(offered.len(), 38);
    assert_eq!(offered, documented);
}
