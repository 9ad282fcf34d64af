//! Rendering: deterministic to the byte, formatted Rust, one builder per operation, every
//! enum open.

use std::path::{Path, PathBuf};

use digitalocean_codegen::{load, normalize, render};

fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/digitalocean.yaml")
}

#[test]
fn two_renders_in_one_process_are_identical() {
    let spec = load(&spec_path()).unwrap();
    let first = render(&spec).unwrap();
    let second = render(&spec).unwrap();
    assert!(first == second, "two renders differ");
}

#[test]
fn every_operation_gets_a_builder_method() {
    let spec = load(&spec_path()).unwrap();
    let code = render(&spec).unwrap();
    let mut ids = Vec::new();
    for item in spec.openapi().paths.paths.values() {
        let item = item.as_item().unwrap();
        for (_, operation) in item.iter() {
            ids.push(operation.operation_id.clone().unwrap());
        }
    }
    assert_eq!(ids.len(), 38);
    let file = syn::parse_file(&code).unwrap();
    let mut methods = Vec::new();
    for item in &file.items {
        if let syn::Item::Impl(block) = item
            && block.trait_.is_none()
            && matches!(&*block.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"))
        {
            for item in &block.items {
                if let syn::ImplItem::Fn(f) = item {
                    methods.push(f.sig.ident.to_string());
                }
            }
        }
    }
    for id in ids {
        assert!(methods.contains(&id), "no builder method Client::{id}");
    }
}

#[test]
fn the_output_is_marked_generated_and_parses_as_rust() {
    let code = render(&load(&spec_path()).unwrap()).unwrap();
    assert!(code.starts_with("// @generated"));
    syn::parse_file(&code).expect("the output is a Rust file");
}

#[test]
fn no_string_enum_is_left_closed() {
    let spec = load(&spec_path()).unwrap();
    let normalized = normalize::normalize(&spec).unwrap();
    assert!(normalize::inline_string_enums(&normalized.document).is_empty());
    let code = render(&spec).unwrap();
    for open in &normalized.open_enums {
        assert!(
            code.contains(&format!("pub enum {} {{", open.name)),
            "{} is not rendered as an open enum",
            open.name
        );
    }
    // Every other enum of `types` is a oneOf union (untagged), never a closed string enum.
    let file = syn::parse_file(&code).unwrap();
    let types = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref(),
            _ => None,
        })
        .expect("a types module");
    for item in &types.1 {
        if let syn::Item::Enum(e) = item {
            let name = e.ident.to_string();
            let open = normalized.open_enums.iter().any(|o| o.name == name);
            let untagged = e
                .attrs
                .iter()
                .any(|a| quote::quote!(#a).to_string().contains("untagged"));
            assert!(
                open || untagged,
                "enum {name} is neither open nor a oneOf union"
            );
        }
    }
}

#[test]
fn rules_left_to_types_are_those_of_non_zero_arguments() {
    // The client skips the check of a rule its argument's type enforces; that is only
    // right if typify did give each such parameter a NonZero type, in its operation's own
    // builder (`builder::DropletsGet` for `droplets_get`).
    let spec = load(&spec_path()).unwrap();
    let normalized = normalize::normalize(&spec).unwrap();
    let file = syn::parse_file(&render(&spec).unwrap()).unwrap();
    let builders = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_ref(),
            _ => None,
        })
        .expect("a builder module");
    let field_type = |operation_id: &str, field: &str| -> Option<String> {
        let name: String = operation_id
            .split('_')
            .map(|word| word[..1].to_uppercase() + &word[1..])
            .collect();
        builders.1.iter().find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == name => s.fields.iter().find_map(|f| {
                let ty = &f.ty;
                (f.ident.as_ref()? == field).then(|| quote::quote!(#ty).to_string())
            }),
            _ => None,
        })
    };
    let rules = digitalocean_codegen::request_rules::collect(&normalized.document);
    let mut left_to_types = 0;
    for operation in &rules {
        for parameter in &operation.parameters {
            if parameter.enforced_by_type {
                left_to_types += 1;
                let ty =
                    field_type(&operation.operation_id, &parameter.name).unwrap_or_else(|| {
                        panic!(
                            "{}: no builder field `{}`",
                            operation.operation_id, parameter.name
                        )
                    });
                assert!(
                    ty.contains("NonZero"),
                    "{}: `{}` is left to its type, `{ty}`, which is not NonZero",
                    operation.operation_id,
                    parameter.name
                );
            }
            if parameter.name == "per_page" {
                assert!(
                    !parameter.enforced_by_type,
                    "{}: per_page's maximum is not enforced by any type",
                    operation.operation_id
                );
            }
        }
    }
    assert!(
        left_to_types > 0,
        "droplet_id (minimum 1) is left to NonZeroU64"
    );
}
