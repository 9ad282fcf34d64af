//! `codegen docs-coverage DOCS_DIR SPEC`: reads DigitalOcean's reference pages as plain
//! text, finds every operation (method and path) and every JSON example, and reports which
//! are missing from the spec or differ from the spec's example. Differences the spec
//! documents as corrections (`x-example-corrected`, `x-corrected`) are listed separately.
//!
//! The pages come in two renderings (see `shared/seed-notes/operations.md`); what both share
//! is used: an operation starts with a line `METHOD Title` followed by a line holding only
//! its path; a request example is the first JSON block after `Request Body: application/json`;
//! response examples are the JSON blocks after the first status line (`200`, `default`, …),
//! in the order of the statuses whose block lists fields (204s and body-less 202s have none).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{CodegenError, Result};
use crate::load::Spec;
use crate::refs;

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A JSON block cut out of a page.
#[derive(Debug, Clone)]
pub struct Block {
    /// 1-based line where it starts.
    pub line: usize,
    /// The parsed value, or why it is not JSON.
    pub value: std::result::Result<Value, String>,
}

/// An operation found on a page, with its examples.
#[derive(Debug, Clone)]
pub struct PageOperation {
    /// The page file name.
    pub page: String,
    /// 1-based line of the `METHOD Title` line.
    pub line: usize,
    /// `GET`, `POST`, …
    pub method: String,
    /// `/v2/tags/{tag_id}`.
    pub path: String,
    /// The section title.
    pub title: String,
    /// The request example, if the section has a request body.
    pub request: Option<Block>,
    /// Status and example, in page order.
    pub responses: Vec<(String, Block)>,
    /// Anything that prevented a complete reading of the section.
    pub problems: Vec<String>,
}

/// Everything read from a directory of pages.
#[derive(Debug, Clone, Default)]
pub struct Pages {
    /// The operations, page by page.
    pub operations: Vec<PageOperation>,
    /// JSON blocks outside any operation (the API overview's illustrations).
    pub illustrations: Vec<(String, Block)>,
    /// Number of page files read.
    pub files: usize,
}

/// Cuts the JSON value starting at byte `start` (a `{`), string-aware. Returns its end.
fn matching_brace(text: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &byte) in text[start..].iter().enumerate() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(start + offset + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The JSON blocks of `text` that start at the beginning of a line (or right after another
/// block, as rendering A prints them back to back), between byte offsets `from` and `to`.
/// With `indented`, a block may also start after spaces (the overview's illustrations are
/// indented; inside operations an indented brace is sample code).
fn blocks(text: &str, from: usize, to: usize, indented: bool) -> Vec<(usize, Block)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut position = from;
    while position < to {
        if bytes[position] != b'{' {
            position += 1;
            continue;
        }
        let line_start = bytes[..position]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let at_line_start = position == line_start
            || (indented
                && bytes[line_start..position]
                    .iter()
                    .all(|&b| b == b' ' || b == b'\t'));
        if bytes[position] == b'{' && at_line_start {
            let mut start = position;
            while let Some(end) = matching_brace(bytes, start) {
                let line = text[..start].matches('\n').count() + 1;
                let slice = &text[start..end];
                out.push((
                    start,
                    Block {
                        line,
                        value: serde_json::from_str(slice).map_err(|e| e.to_string()),
                    },
                ));
                position = end;
                if end < bytes.len() && bytes[end] == b'{' {
                    start = end;
                } else {
                    break;
                }
            }
        }
        position += 1;
    }
    out
}

fn is_status_line(line: &str) -> bool {
    line == "default" || (line.len() == 3 && line.chars().all(|c| c.is_ascii_digit()))
}

fn lists_fields(line: &str) -> bool {
    line.split_whitespace()
        .any(|word| word == "required" || word == "optional")
}

/// Reads one page.
pub fn read_page(name: &str, text: &str) -> (Vec<PageOperation>, Vec<(String, Block)>) {
    let lines: Vec<&str> = text.split('\n').collect();
    // Byte offset of the start of each line.
    let mut offsets = Vec::with_capacity(lines.len() + 1);
    let mut offset = 0;
    for line in &lines {
        offsets.push(offset);
        offset += line.len() + 1;
    }
    offsets.push(text.len());

    // (line index, byte offset where the section starts, method, path, title). Rendering A
    // glues a header to the end of the previous example (`}GET Retrieve a Tag`): the
    // section starts after those braces, which close the previous section's last block.
    let mut headers = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let braces = line.len() - line.trim_start_matches('}').len();
        let Some((method, title)) = line[braces..].trim_end().split_once(' ') else {
            continue;
        };
        if !METHODS.contains(&method) {
            continue;
        }
        let next = lines[index + 1..]
            .iter()
            .take(3)
            .map(|l| l.trim())
            .find(|l| !l.is_empty());
        let is_path = |p: &&str| {
            p.starts_with("/v")
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_{}-".contains(c))
        };
        if let Some(path) = next.filter(is_path) {
            headers.push((
                index,
                offsets[index] + braces,
                method.to_string(),
                path.to_string(),
                title.to_string(),
            ));
        }
    }

    let mut operations = Vec::new();
    for (position, (index, _, method, path, title)) in headers.iter().enumerate() {
        let end = headers.get(position + 1).map_or(lines.len(), |h| h.0);
        let end_offset = headers.get(position + 1).map_or(text.len(), |h| h.1);
        let section = &lines[*index..end];
        let mut operation = PageOperation {
            page: name.to_string(),
            line: index + 1,
            method: method.clone(),
            path: path.clone(),
            title: title.clone(),
            request: None,
            responses: Vec::new(),
            problems: Vec::new(),
        };
        let status_lines: Vec<usize> = section
            .iter()
            .enumerate()
            .filter(|(_, l)| is_status_line(l.trim()))
            .map(|(i, _)| index + i)
            .collect();
        let first_status = status_lines.first().copied().unwrap_or(end);
        if let Some(body_line) = section
            .iter()
            .position(|l| l.trim().starts_with("Request Body: application/json"))
            .map(|i| index + i)
        {
            operation.request = blocks(text, offsets[body_line], offsets[first_status], false)
                .into_iter()
                .next()
                .map(|(_, block)| block);
            if operation.request.is_none() {
                operation
                    .problems
                    .push("a request body is documented but no request example found".into());
            }
        }
        let response_blocks = blocks(text, offsets[first_status], end_offset, false);
        let first_block_line = response_blocks
            .first()
            .map_or(end, |(start, _)| text[..*start].matches('\n').count());
        let mut with_body = Vec::new();
        for (k, &status_line) in status_lines.iter().enumerate() {
            // A status block runs to the next status line; the last one up to the first
            // example block (rendering A prints the examples after the last status).
            let block_end = status_lines
                .get(k + 1)
                .copied()
                .unwrap_or(first_block_line.max(status_line + 1));
            let has_body = lines[status_line + 1..block_end.min(end)]
                .iter()
                .any(|l| lists_fields(l));
            if has_body {
                with_body.push(lines[status_line].trim().to_string());
            }
        }
        if with_body.len() != response_blocks.len() {
            operation.problems.push(format!(
                "{} statuses declare a body but {} example blocks follow them",
                with_body.len(),
                response_blocks.len()
            ));
        }
        operation.responses = with_body
            .into_iter()
            .zip(response_blocks.into_iter().map(|(_, b)| b))
            .collect();
        operations.push(operation);
    }

    let covered_until = headers.first().map_or(text.len(), |h| h.1);
    let illustrations = if headers.is_empty() {
        blocks(text, 0, text.len(), true)
            .into_iter()
            .map(|(_, b)| (name.to_string(), b))
            .collect()
    } else {
        blocks(text, 0, covered_until, true)
            .into_iter()
            .map(|(_, b)| (name.to_string(), b))
            .collect()
    };
    (operations, illustrations)
}

/// Reads every `*.txt` page of `dir`, in file-name order.
pub fn read_pages(dir: &Path) -> Result<Pages> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| CodegenError::Read {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut pages = Pages::default();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| CodegenError::Read {
            path: file.clone(),
            source,
        })?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (operations, illustrations) = read_page(&name, &text);
        pages.operations.extend(operations);
        pages.illustrations.extend(illustrations);
        pages.files += 1;
    }
    Ok(pages)
}

/// How one page example compares with the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The spec carries it unchanged.
    Identical,
    /// The spec carries a corrected version and documents why.
    Corrected {
        /// The inconsistency ids.
        ids: String,
        /// What was changed.
        change: String,
    },
    /// The spec's example differs and no correction is documented.
    Differs(String),
    /// The spec has no example (or no operation or status) there.
    Missing(String),
    /// The page's block is not JSON.
    NotJson(String),
}

/// One example of the pages, where it is and how it compares.
#[derive(Debug, Clone)]
pub struct ExampleCoverage {
    /// `tags.txt:722 GET /v2/tags/{tag_id} response 200`.
    pub place: String,
    /// The comparison.
    pub outcome: Outcome,
}

/// The whole comparison.
#[derive(Debug, Clone, Default)]
pub struct CoverageReport {
    /// Page files read.
    pub files: usize,
    /// `METHOD path` of every operation on the pages.
    pub page_operations: Vec<String>,
    /// Operations on the pages that the spec lacks.
    pub missing_operations: Vec<String>,
    /// Operations of the spec that no page documents.
    pub extra_operations: Vec<String>,
    /// Every example of the pages.
    pub examples: Vec<ExampleCoverage>,
    /// Sections that could not be read completely.
    pub reading_problems: Vec<String>,
    /// JSON blocks outside operations (illustrations), and how many are not JSON.
    pub illustrations: (usize, usize),
}

impl CoverageReport {
    fn count(&self, test: impl Fn(&Outcome) -> bool) -> usize {
        self.examples.iter().filter(|e| test(&e.outcome)).count()
    }

    /// Whether every operation and example is accounted for.
    pub fn complete(&self) -> bool {
        self.missing_operations.is_empty()
            && self.reading_problems.is_empty()
            && self
                .examples
                .iter()
                .all(|e| matches!(e.outcome, Outcome::Identical | Outcome::Corrected { .. }))
    }

    /// The human-readable report.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let operations = self.page_operations.len();
        let _ = writeln!(
            out,
            "operations: {}/{operations} of the pages are in the spec{}",
            operations - self.missing_operations.len(),
            if self.extra_operations.is_empty() {
                String::new()
            } else {
                format!("; the spec has {} more", self.extra_operations.len())
            }
        );
        let _ = writeln!(
            out,
            "examples: {} on the pages: {} identical, {} corrected as the spec documents, {} differ, {} missing, {} not JSON",
            self.examples.len(),
            self.count(|o| *o == Outcome::Identical),
            self.count(|o| matches!(o, Outcome::Corrected { .. })),
            self.count(|o| matches!(o, Outcome::Differs(_))),
            self.count(|o| matches!(o, Outcome::Missing(_))),
            self.count(|o| matches!(o, Outcome::NotJson(_))),
        );
        let _ = writeln!(
            out,
            "illustrations outside operations: {} ({} not JSON), not compared",
            self.illustrations.0, self.illustrations.1
        );
        let mut section = |title: &str, items: Vec<String>| {
            if !items.is_empty() {
                let _ = writeln!(out, "{title}:");
                for item in items {
                    let _ = writeln!(out, "  {item}");
                }
            }
        };
        section(
            "operations missing from the spec",
            self.missing_operations.clone(),
        );
        section(
            "operations of the spec on no page",
            self.extra_operations.clone(),
        );
        section(
            "sections not read completely",
            self.reading_problems.clone(),
        );
        let pick = |f: fn(&Outcome) -> Option<String>| -> Vec<String> {
            self.examples
                .iter()
                .filter_map(|e| f(&e.outcome).map(|d| format!("{}: {d}", e.place)))
                .collect()
        };
        section(
            "examples missing from the spec",
            pick(|o| match o {
                Outcome::Missing(d) => Some(d.clone()),
                _ => None,
            }),
        );
        section(
            "examples that differ without a documented correction",
            pick(|o| match o {
                Outcome::Differs(d) | Outcome::NotJson(d) => Some(d.clone()),
                _ => None,
            }),
        );
        section(
            "corrections the spec documents",
            pick(|o| match o {
                Outcome::Corrected { ids, change } => Some(format!("{ids}: {change}")),
                _ => None,
            }),
        );
        out
    }
}

/// The first place where two JSON values differ, as a JSON pointer and both values.
pub fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let here = format!("{at}/{key}");
                match (x.get(key), y.get(key)) {
                    (Some(p), Some(q)) => {
                        if let Some(d) = first_difference(p, q, &here) {
                            return Some(d);
                        }
                    }
                    (Some(p), None) => {
                        return Some(format!("{here}: the page has {p}, the spec nothing"));
                    }
                    (None, Some(q)) => {
                        return Some(format!("{here}: the spec has {q}, the page nothing"));
                    }
                    (None, None) => {}
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{at}/{i}"))),
        _ if a == b => None,
        _ => Some(format!(
            "{}: the page has {a}, the spec {b}",
            if at.is_empty() { "/" } else { at }
        )),
    }
}

/// The spec's example(s) of a media type, with the correction note of each.
fn spec_examples(document: &Value, media: &Value) -> Vec<(Value, Option<(String, String)>)> {
    let note = |holder: &Value, key: &str| {
        holder.get(key).map(|c| {
            (
                c.get("ids")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string(),
                c.get("change")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string(),
            )
        })
    };
    let mut out = Vec::new();
    if let Some(example) = media.get("example") {
        out.push((example.clone(), note(media, "x-example-corrected")));
    }
    for example in media
        .get("examples")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.values())
    {
        if let Some(example) = refs::deref(document, example)
            && let Some(value) = example.get("value")
        {
            out.push((value.clone(), note(example, "x-corrected")));
        }
    }
    out
}

fn compare(document: &Value, media: Option<&Value>, page: &Block) -> Outcome {
    let value = match &page.value {
        Ok(value) => value,
        Err(error) => return Outcome::NotJson(format!("not JSON on the page: {error}")),
    };
    let Some(media) = media else {
        return Outcome::Missing("the spec documents no JSON body here".into());
    };
    let candidates = spec_examples(document, media);
    if candidates.is_empty() {
        return Outcome::Missing("the spec has no example here".into());
    }
    if candidates.iter().any(|(example, _)| example == value) {
        return Outcome::Identical;
    }
    // Not identical: the page's example must be the one the spec marks as corrected.
    if let Some((_, Some((ids, change)))) = candidates.iter().find(|(_, note)| note.is_some()) {
        return Outcome::Corrected {
            ids: ids.clone(),
            change: change.clone(),
        };
    }
    let difference = first_difference(value, &candidates[0].0, "").unwrap_or_default();
    Outcome::Differs(difference)
}

/// Compares the pages with the spec.
pub fn coverage(pages: &Pages, spec: &Spec) -> CoverageReport {
    let document = spec.raw();
    let mut report = CoverageReport {
        files: pages.files,
        illustrations: (
            pages.illustrations.len(),
            pages
                .illustrations
                .iter()
                .filter(|(_, b)| b.value.is_err())
                .count(),
        ),
        ..CoverageReport::default()
    };
    let mut seen = Vec::new();
    for operation in &pages.operations {
        let name = format!("{} {}", operation.method, operation.path);
        report.page_operations.push(name.clone());
        for problem in &operation.problems {
            report.reading_problems.push(format!(
                "{}:{} {name}: {problem}",
                operation.page, operation.line
            ));
        }
        let method = operation.method.to_lowercase();
        let Some(spec_operation) = document
            .get("paths")
            .and_then(|p| p.get(&operation.path))
            .and_then(|item| item.get(&method))
        else {
            report
                .missing_operations
                .push(format!("{}:{} {name}", operation.page, operation.line));
            continue;
        };
        seen.push(name.clone());
        if let Some(block) = &operation.request {
            let media = spec_operation
                .get("requestBody")
                .and_then(|b| refs::deref(document, b))
                .and_then(|b| b.pointer("/content/application~1json"));
            report.examples.push(ExampleCoverage {
                place: format!("{}:{} {name} request", operation.page, block.line),
                outcome: compare(document, media, block),
            });
        }
        for (status, block) in &operation.responses {
            let media = spec_operation
                .get("responses")
                .and_then(|r| r.get(status))
                .and_then(|r| refs::deref(document, r))
                .and_then(|r| r.pointer("/content/application~1json"));
            report.examples.push(ExampleCoverage {
                place: format!("{}:{} {name} response {status}", operation.page, block.line),
                outcome: compare(document, media, block),
            });
        }
    }
    for (path, item) in document
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for method in item.as_object().into_iter().flat_map(|m| m.keys()) {
            let name = format!("{} {path}", method.to_uppercase());
            if !seen.contains(&name) && crate::examples::METHODS.contains(&method.as_str()) {
                report.extra_operations.push(name);
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_inside_strings_do_not_count() {
        let text = r#"{"a": "}{", "b": [1, {"c": "\"}"}]}tail"#;
        let end = matching_brace(text.as_bytes(), 0).unwrap();
        assert_eq!(&text[end..], "tail");
    }

    #[test]
    fn back_to_back_blocks_are_split() {
        let text = "Response\n{\n\"a\": 1\n}{\n\"b\": 2\n}next";
        let found = blocks(text, 0, text.len(), false);
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].1.value.as_ref().unwrap()["b"], 2);
    }

    #[test]
    fn the_first_difference_is_named_by_its_pointer() {
        let page = serde_json::json!({"tag": {"tag": {"name": "x"}}});
        let spec = serde_json::json!({"tag": {"name": "x"}});
        let difference = first_difference(&page, &spec, "").unwrap();
        assert!(difference.starts_with("/tag/tag"), "{difference}");
    }
}
