//! The spec edit that turns a finding into a documented fact: a YAML fragment and where
//! in `spec/digitalocean.yaml` it goes. After the edit, the snapshots show what changes
//! for users of the client.

use serde_json::Value;

use crate::findings::display_pointer;

/// A property for an undocumented field, its schema inferred from the value seen.
pub fn field(properties_at: &str, name: &str, value: &Value) -> String {
    let mut out = format!(
        "# under {}:\n{}:\n",
        display_pointer(properties_at),
        yaml_key(name)
    );
    infer(value, 1, &mut out);
    out
}

/// The enum with the value seen added.
pub fn enum_value(enum_at: &str, values: &[Value], seen: &Value) -> String {
    let mut out = format!("# under {}:\nenum:\n", display_pointer(enum_at));
    for value in values.iter().chain(std::iter::once(seen)) {
        out.push_str(&format!("  - {}\n", scalar(value)));
    }
    out
}

/// `nullable: true` on the schema that met a `null`.
pub fn nullable(schema_at: &str) -> String {
    format!("# under {}:\nnullable: true\n", display_pointer(schema_at))
}

const INDENT: &str = "  ";

/// The schema of a value, as YAML at `level`: type, and the properties of an object or the
/// items of an array (from the first item), a few levels deep.
fn infer(value: &Value, level: usize, out: &mut String) {
    let pad = INDENT.repeat(level);
    match value {
        Value::Null => out.push_str(&format!("{pad}nullable: true\n")),
        Value::Bool(_) => out.push_str(&format!("{pad}type: boolean\n")),
        Value::Number(number) if number.is_i64() || number.is_u64() => {
            out.push_str(&format!("{pad}type: integer\n"));
        }
        Value::Number(_) => out.push_str(&format!("{pad}type: number\n")),
        Value::String(_) => out.push_str(&format!("{pad}type: string\n")),
        Value::Array(items) => {
            out.push_str(&format!("{pad}type: array\n{pad}items:\n"));
            match items.first() {
                Some(first) if level < 6 => infer(first, level + 1, out),
                _ => out.push_str(&format!("{pad}{INDENT}{{}}\n")),
            }
        }
        Value::Object(fields) => {
            out.push_str(&format!("{pad}type: object\n"));
            if !fields.is_empty() && level < 6 {
                out.push_str(&format!("{pad}properties:\n"));
                for (name, field) in fields {
                    out.push_str(&format!("{pad}{INDENT}{}:\n", yaml_key(name)));
                    infer(field, level + 2, out);
                }
            }
        }
    }
    if !value.is_null() && !value.is_object() && !value.is_array() {
        out.push_str(&format!("{pad}example: {}\n", scalar(value)));
    }
}

/// A scalar as YAML: JSON's quoting is valid YAML for strings.
fn scalar(value: &Value) -> String {
    value.to_string()
}

fn yaml_key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_string()
    } else {
        Value::String(name.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_field_suggestion_is_yaml_that_parses_with_the_inferred_schema() {
        let text = field(
            "/components/schemas/droplet/properties",
            "gpu_info",
            &json!({"count": 1, "model": "h100", "vram": [80]}),
        );
        assert!(text.starts_with("# under components.schemas.droplet.properties:\n"));
        let parsed: Value = serde_yaml_ng_free_parse(&text);
        assert_eq!(parsed["gpu_info"]["type"], "object");
        assert_eq!(parsed["gpu_info"]["properties"]["count"]["type"], "integer");
        assert_eq!(
            parsed["gpu_info"]["properties"]["vram"]["items"]["type"],
            "integer"
        );
    }

    #[test]
    fn an_enum_suggestion_lists_the_old_values_and_the_new_one() {
        let text = enum_value(
            "/components/schemas/volume/properties/status",
            &[json!("available")],
            &json!("resizing"),
        );
        assert_eq!(
            text,
            "# under components.schemas.volume.properties.status:\nenum:\n  - \"available\"\n  - \"resizing\"\n"
        );
    }

    /// The codegen's YAML loader, so the test checks what maintainers' tools would read.
    fn serde_yaml_ng_free_parse(text: &str) -> Value {
        let document = format!(
            "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths: {{}}\nx-fragment:\n{}",
            text.lines()
                .filter(|line| !line.starts_with('#'))
                .map(|line| format!("  {line}\n"))
                .collect::<String>()
        );
        let spec =
            digitalocean_codegen::load_str("fragment", &document).expect("the fragment is YAML");
        spec.raw()["x-fragment"].clone()
    }
}
