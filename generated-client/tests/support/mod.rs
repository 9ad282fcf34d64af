//! Helpers shared by the integration tests: the spec, and JSON comparison that tolerates
//! what the generated types legitimately drop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/digitalocean.yaml")
}

pub fn spec() -> digitalocean_codegen::Spec {
    digitalocean_codegen::load(&spec_path()).expect("the spec loads")
}

/// Whether a value is what the generated types leave out when serializing an optional
/// field: `None` (null), an empty `Vec` or an empty map.
fn is_absent_optional(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// Compares `original` and `reencoded` as JSON, except that a key may be missing on one
/// side when its value on the other is null, [] or {} (an absent optional field), and that
/// numbers compare by value (5 and 5.0 are the same price). Returns the first difference.
pub fn json_equivalent(original: &Value, reencoded: &Value) -> Result<(), String> {
    compare(original, reencoded, "")
}

fn compare(a: &Value, b: &Value, at: &str) -> Result<(), String> {
    match (a, b) {
        (Value::Object(left), Value::Object(right)) => {
            for (key, value) in left {
                let here = format!("{at}/{key}");
                match right.get(key) {
                    Some(other) => compare(value, other, &here)?,
                    None if is_absent_optional(value) => {}
                    None => return Err(format!("{here}: missing after re-encoding (was {value})")),
                }
            }
            for (key, value) in right {
                if !left.contains_key(key) && !is_absent_optional(value) {
                    return Err(format!("{at}/{key}: added by re-encoding ({value})"));
                }
            }
            Ok(())
        }
        (Value::Array(left), Value::Array(right)) => {
            if left.len() != right.len() {
                return Err(format!("{at}: {} items became {}", left.len(), right.len()));
            }
            for (index, (x, y)) in left.iter().zip(right).enumerate() {
                compare(x, y, &format!("{at}/{index}"))?;
            }
            Ok(())
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => Ok(()),
        _ if a == b => Ok(()),
        _ => Err(format!("{at}: {a} became {b}")),
    }
}
