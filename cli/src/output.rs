//! Printing answers: pretty JSON by default (one compact item per line for `--all`, so a
//! list of any length streams in constant memory), or a table for people.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

/// How answers are printed (`--output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON, exactly as the API's fields (default).
    Json,
    /// An aligned table: one row per item, or one line per field of a single object.
    Table,
}

/// Writes one answer body.
pub fn write_body(format: Format, body: &Value, out: &mut impl Write) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, body)?;
            writeln!(out)
        }
        Format::Table => match subject(body) {
            Subject::Rows(items) => write_rows(items, out),
            Subject::Fields(object) => write_fields(object, out),
            Subject::Scalar(value) => writeln!(out, "{}", cell(value)),
        },
    }
}

/// Writes the items of `--all` as they come: JSON lines, or (for a table) rows collected
/// until the end so the columns can be aligned.
pub struct ItemWriter<W: Write> {
    format: Format,
    out: W,
    rows: Vec<Value>,
    count: usize,
}

impl<W: Write> ItemWriter<W> {
    pub fn new(format: Format, out: W) -> Self {
        Self {
            format,
            out,
            rows: Vec::new(),
            count: 0,
        }
    }

    pub fn item(&mut self, item: &impl Serialize) -> anyhow::Result<()> {
        self.count += 1;
        match self.format {
            Format::Json => {
                serde_json::to_writer(&mut self.out, item)?;
                writeln!(self.out)?;
            }
            Format::Table => self.rows.push(serde_json::to_value(item)?),
        }
        Ok(())
    }

    pub fn finish(&mut self) -> io::Result<()> {
        if self.format == Format::Table {
            write_rows(&self.rows, &mut self.out)?;
        }
        self.out.flush()
    }

    pub fn count(&self) -> usize {
        self.count
    }
}

enum Subject<'a> {
    Rows(&'a [Value]),
    Fields(&'a serde_json::Map<String, Value>),
    Scalar(&'a Value),
}

/// What a table shows of a body: without `links` and `meta` (pagination), a body with a
/// single member shows that member (`{"droplets": [...]}` → rows, `{"droplet": {...}}` →
/// its fields); any other object shows its own fields.
fn subject(body: &Value) -> Subject<'_> {
    let Value::Object(object) = body else {
        return match body {
            Value::Array(items) => Subject::Rows(items),
            other => Subject::Scalar(other),
        };
    };
    let mut members = object
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "links" | "meta"));
    match (members.next(), members.next()) {
        (Some((_, Value::Array(items))), None) => Subject::Rows(items),
        (Some((_, Value::Object(inner))), None) => Subject::Fields(inner),
        _ => Subject::Fields(object),
    }
}

/// The columns of a list: `id` and `name` first, then every other member of the first
/// item that fits a cell, by name.
fn columns(items: &[Value]) -> Vec<String> {
    let Some(Value::Object(first)) = items.first() else {
        return Vec::new();
    };
    let mut names: Vec<String> = first
        .iter()
        .filter(|(_, value)| fits_a_cell(value))
        .map(|(name, _)| name.clone())
        .collect();
    names.sort_by_key(|name| (rank(name), name.clone()));
    names
}

fn rank(name: &str) -> u8 {
    match name {
        "id" => 0,
        "name" => 1,
        _ => 2,
    }
}

/// Scalars, lists of scalars, and objects known by a `slug` or `name` (a region, a size).
fn fits_a_cell(value: &Value) -> bool {
    match value {
        Value::Array(items) => items
            .iter()
            .all(|item| !item.is_object() && !item.is_array()),
        Value::Object(object) => object.contains_key("slug") || object.contains_key("name"),
        _ => true,
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.replace(['\n', '\t'], " "),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        Value::Object(object) => match object.get("slug").or_else(|| object.get("name")) {
            Some(known) => cell(known),
            None => Value::Object(object.clone()).to_string(),
        },
        other => other.to_string(),
    }
}

fn write_rows(items: &[Value], out: &mut impl Write) -> io::Result<()> {
    let columns = columns(items);
    if columns.is_empty() {
        for item in items {
            writeln!(out, "{}", cell(item))?;
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|column| item.get(column).map(cell).unwrap_or_default())
                .collect()
        })
        .collect();
    let header: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            rows.iter()
                .map(|row| row[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&rows) {
        writeln!(out, "{}", aligned(row, &widths))?;
    }
    Ok(())
}

fn write_fields(object: &serde_json::Map<String, Value>, out: &mut impl Write) -> io::Result<()> {
    let width = object.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    for (key, value) in object {
        writeln!(out, "{key:<width$}  {}", cell(value))?;
    }
    Ok(())
}

fn aligned(row: &[String], widths: &[usize]) -> String {
    let cells: Vec<String> = row
        .iter()
        .zip(widths)
        .map(|(text, width)| format!("{text:<width$}"))
        .collect();
    cells.join("  ").trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(body: Value) -> String {
        let mut out = Vec::new();
        write_body(Format::Table, &body, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_list_is_rows_with_id_and_name_first_and_pagination_left_out() {
        let text = table(json!({
            "droplets": [
                {"status": "active", "name": "web-1", "id": 1, "region": {"slug": "nyc3", "name": "New York 3"}, "tags": ["a", "b"], "networks": {"v4": []}},
                {"status": "off", "name": "db", "id": 22, "region": {"slug": "ams3"}, "tags": [], "networks": {"v4": []}}
            ],
            "links": {}, "meta": {"total": 2}
        }));
        assert_eq!(
            text,
            "ID  NAME   REGION  STATUS  TAGS\n1   web-1  nyc3    active  a,b\n22  db     ams3    off\n"
        );
    }

    #[test]
    fn a_single_object_is_one_line_per_field() {
        let text = table(json!({"tag": {"name": "web", "resources": {"count": 0}}}));
        assert_eq!(text, "name       web\nresources  {\"count\":0}\n");
    }

    #[test]
    fn items_stream_as_json_lines() {
        let mut writer = ItemWriter::new(Format::Json, Vec::new());
        writer.item(&json!({"id": 1})).unwrap();
        writer.item(&json!({"id": 2})).unwrap();
        writer.finish().unwrap();
        assert_eq!(writer.count(), 2);
        assert_eq!(
            String::from_utf8(writer.out).unwrap(),
            "{\"id\":1}\n{\"id\":2}\n"
        );
    }
}
