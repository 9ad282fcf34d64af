//! Rust names the way progenitor makes them, so that code generated beside progenitor's
//! output (the pagination glue names progenitor's builders) and the components the passes
//! add get exactly the names progenitor gives them, non-ASCII input included.

use heck::ToPascalCase;
use unicode_ident::{is_xid_continue, is_xid_start};

/// `droplets_list` → `DropletsList`: progenitor's `sanitize(_, Case::Pascal)` (progenitor
/// 0.15, `util.rs`): characters that cannot continue an identifier become word breaks,
/// heck's PascalCase, a leading `_` when the result cannot start an identifier, and a
/// trailing `_` for a keyword.
pub fn pascal_case(input: &str) -> String {
    let out = match input {
        "+1" => "plus1".to_string(),
        "-1" => "minus1".to_string(),
        _ => input
            .replace('\'', "")
            .replace(|c: char| !is_xid_continue(c), "-")
            .to_pascal_case(),
    };
    let out = match out.chars().next() {
        None => "X".to_string(),
        Some(c) if is_xid_start(c) => out,
        Some(_) => format!("_{out}"),
    };
    if syn::parse_str::<syn::Ident>(&out).is_ok() {
        out
    } else {
        format!("{out}_")
    }
}

#[cfg(test)]
mod tests {
    use super::pascal_case;

    #[test]
    fn names_are_progenitors() {
        assert_eq!(pascal_case("droplets_list"), "DropletsList");
        assert_eq!(pascal_case("X-Dangerous"), "XDangerous");
        assert_eq!(pascal_case("type"), "Type");
        assert_eq!(
            pascal_case("volume_snapshots_get_by_id"),
            "VolumeSnapshotsGetById"
        );
        assert_eq!(pascal_case("2fa_list"), "_2faList");
        assert_eq!(pascal_case("éléments_list"), "ÉlémentsList");
        assert_eq!(pascal_case("Self"), "Self_");
    }
}
