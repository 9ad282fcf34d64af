//! Arguments are checked against the document's constraints before anything is sent.
//! The table of constraints is generated from the spec (`crate::request_rules`); this
//! module holds its types and the check, run by the `pre` hook for every operation.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

/// The constraints on one value (a subset of JSON Schema: what typify's types do not
/// already enforce, plus patterns and lengths for the messages).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rule {
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub pattern: Option<&'static str>,
    /// The only values a boolean may take ("true").
    pub allowed: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParameterLocation {
    Path,
    Query,
    Header,
}

#[derive(Debug)]
pub(crate) struct ParameterRule {
    pub name: &'static str,
    pub location: ParameterLocation,
    pub rule: Rule,
    /// The argument's type refuses what the rule refuses (a `NonZeroU64` for `minimum: 1`):
    /// not checked before sending, only used to describe a failed conversion.
    pub enforced_by_type: bool,
}

#[derive(Debug)]
pub(crate) struct BodyRule {
    /// `/names`, `/backup_policy/hour`, `/tags/*` (every item).
    pub pointer: &'static str,
    pub rule: Rule,
}

#[derive(Debug)]
pub(crate) struct OperationRules {
    pub operation_id: &'static str,
    pub path: &'static str,
    pub parameters: &'static [ParameterRule],
    pub body: &'static [BodyRule],
    pub success_status: u16,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let number = |n: f64| {
            if n.fract() == 0.0 {
                format!("{}", n as i64)
            } else {
                n.to_string()
            }
        };
        match (self.minimum, self.maximum) {
            (Some(min), Some(max)) => {
                parts.push(format!("must be from {} to {}", number(min), number(max)))
            }
            (Some(min), None) => parts.push(format!("must be at least {}", number(min))),
            (None, Some(max)) => parts.push(format!("must be at most {}", number(max))),
            (None, None) => {}
        }
        match (self.min_length, self.max_length) {
            (Some(min), Some(max)) => parts.push(format!("must be {min} to {max} characters long")),
            (Some(min), None) => parts.push(format!("must be at least {min} characters long")),
            (None, Some(max)) => parts.push(format!("must be at most {max} characters long")),
            (None, None) => {}
        }
        match (self.min_items, self.max_items) {
            (Some(min), Some(max)) => parts.push(format!("must have {min} to {max} items")),
            (Some(min), None) => parts.push(format!("must have at least {min} item(s)")),
            (None, Some(max)) => parts.push(format!("must have at most {max} items")),
            (None, None) => {}
        }
        if let Some(pattern) = self.pattern {
            parts.push(format!("must match `{pattern}`"));
        }
        if !self.allowed.is_empty() {
            parts.push(format!("must be {}", self.allowed.join(" or ")));
        }
        f.write_str(&parts.join(" and "))
    }
}

impl Rule {
    /// The violation of this rule by `value`, if any. Patterns are not checked here:
    /// typify's constrained string types already refuse values that do not match.
    fn violation(&self, value: &Value) -> bool {
        match value {
            Value::Number(n) => self.out_of_range(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => {
                let length = s.chars().count() as u64;
                self.min_length.is_some_and(|min| length < min)
                    || self.max_length.is_some_and(|max| length > max)
            }
            Value::Array(items) => {
                let count = items.len() as u64;
                self.min_items.is_some_and(|min| count < min)
                    || self.max_items.is_some_and(|max| count > max)
            }
            Value::Bool(b) => {
                !self.allowed.is_empty()
                    && !self.allowed.contains(&if *b { "true" } else { "false" })
            }
            _ => false,
        }
    }

    /// Whether a number is below the minimum or above the maximum.
    fn out_of_range(&self, n: f64) -> bool {
        self.minimum.is_some_and(|min| n < min) || self.maximum.is_some_and(|max| n > max)
    }

    /// Checks a parameter as it travels (text): numbers are compared as numbers.
    fn violated_by_text(&self, text: &str) -> bool {
        if self.minimum.is_some() || self.maximum.is_some() {
            // An integer (every numeric parameter of this API) is read as one: parsing it
            // as a float was most of this check's cost per call.
            let number = match text.parse::<i64>() {
                Ok(n) => n as f64,
                Err(_) => match text.parse::<f64>() {
                    Ok(n) => n,
                    Err(_) => return false,
                },
            };
            return self.out_of_range(number);
        }
        if !self.allowed.is_empty() {
            return !self.allowed.contains(&text);
        }
        self.violation(&Value::String(text.to_string()))
    }
}

fn rules_of(operation_id: &str) -> Option<&'static OperationRules> {
    crate::request_rules::OPERATION_RULES
        .iter()
        .find(|rules| rules.operation_id == operation_id)
}

/// The documented success status of an operation (from the document; 200 if unknown).
pub(crate) fn success_status(operation_id: &str) -> u16 {
    rules_of(operation_id).map_or(200, |rules| rules.success_status)
}

/// The rule, as text, of a parameter called `name` in any operation (parameters with the
/// same name share their constraints in this API).
pub(crate) fn describe_parameter(name: &str) -> Option<String> {
    crate::request_rules::OPERATION_RULES
        .iter()
        .flat_map(|op| op.parameters.iter())
        .find(|p| p.name == name)
        .map(|p| p.rule.to_string())
}

/// Checks the request `operation_id` is about to send. `Err` names the argument, its value
/// and the rule.
pub(crate) fn check(operation_id: &str, request: &reqwest::Request) -> Result<(), String> {
    let Some(rules) = rules_of(operation_id) else {
        return Ok(());
    };
    let fail = |name: &str, value: &str, rule: &Rule| {
        Err(format!(
            "invalid argument `{name}` = {value} for {operation_id}: it {rule}; nothing was sent"
        ))
    };
    let url = request.url();
    for parameter in rules.parameters.iter().filter(|p| !p.enforced_by_type) {
        // Borrowed where the text needs no decoding: this runs before every request.
        let value: Option<Cow<'_, str>> = match parameter.location {
            ParameterLocation::Query => url
                .query_pairs()
                .find(|(k, _)| k == parameter.name)
                .map(|(_, v)| v),
            ParameterLocation::Header => request
                .headers()
                .get(parameter.name)
                .and_then(|v| v.to_str().ok())
                .map(Cow::Borrowed),
            ParameterLocation::Path => {
                path_segment(rules.path, url.path(), parameter.name).map(percent_decode)
            }
        };
        if let Some(value) = value
            && parameter.rule.violated_by_text(&value)
        {
            return fail(parameter.name, &value, &parameter.rule);
        }
    }
    if rules.body.is_empty() {
        return Ok(());
    }
    let Some(bytes) = request.body().and_then(|b| b.as_bytes()) else {
        return Ok(());
    };
    let Ok(body) = serde_json::from_slice::<Value>(bytes) else {
        return Ok(());
    };
    for rule in rules.body {
        for (place, value) in select(&body, rule.pointer) {
            if rule.rule.violation(value) {
                let shown = match value {
                    Value::Array(items) => format!("{} items", items.len()),
                    Value::String(s) if s.chars().count() > 40 => {
                        format!("a string of {} characters", s.chars().count())
                    }
                    other => other.to_string(),
                };
                return fail(&format!("body{place}"), &shown, &rule.rule);
            }
        }
    }
    Ok(())
}

/// The nodes a pointer with `*` wildcards selects, with their concrete places.
fn select<'v>(value: &'v Value, pointer: &str) -> Vec<(String, &'v Value)> {
    let mut current = vec![(String::new(), value)];
    for segment in pointer.split('/').skip(1) {
        let mut next = Vec::new();
        for (place, node) in current {
            if segment == "*" {
                if let Value::Array(items) = node {
                    for (index, item) in items.iter().enumerate() {
                        next.push((format!("{place}/{index}"), item));
                    }
                }
            } else if let Some(child) = node.get(segment) {
                next.push((format!("{place}/{segment}"), child));
            }
        }
        current = next;
    }
    current
}

fn percent_decode(segment: &str) -> Cow<'_, str> {
    // Most segments (ids) have nothing to decode: borrowed without running the decoder.
    if !segment.contains('%') {
        return Cow::Borrowed(segment);
    }
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy()
}

/// The segment of `path` that stands where `template` has `{name}`. The template is
/// matched against the tail of the path: the base URL may add a prefix. (Split on a char
/// predicate: splitting on the char `'/'` called `memrchr` for each segment, and this runs
/// before every request.)
fn path_segment<'p>(template: &str, path: &'p str, name: &str) -> Option<&'p str> {
    let slash = |c: char| c == '/';
    let placeholder =
        |segment: &str| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) == Some(name);
    // Both from the end at once: the placeholder's segment is the path's at the same place.
    let mut segments = path.trim_start_matches('/').rsplit(slash);
    for part in template.trim_start_matches('/').rsplit(slash) {
        let segment = segments.next()?;
        if placeholder(part) {
            return Some(segment);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PER_PAGE: Rule = Rule {
        minimum: Some(1.0),
        maximum: Some(200.0),
        min_length: None,
        max_length: None,
        min_items: None,
        max_items: None,
        pattern: None,
        allowed: &[],
    };

    #[test]
    fn rules_read_as_sentences() {
        assert_eq!(PER_PAGE.to_string(), "must be from 1 to 200");
        let names = Rule {
            minimum: None,
            maximum: None,
            min_items: Some(1),
            max_items: Some(10),
            ..PER_PAGE
        };
        assert_eq!(names.to_string(), "must have 1 to 10 items");
    }

    #[test]
    fn numbers_in_text_are_compared_as_numbers() {
        assert!(PER_PAGE.violated_by_text("500"));
        assert!(!PER_PAGE.violated_by_text("200"));
        assert!(PER_PAGE.violated_by_text("0"));
        assert!(PER_PAGE.violated_by_text("-3"));
        assert!(PER_PAGE.violated_by_text("200.5"));
        assert!(!PER_PAGE.violated_by_text("1.0"));
        assert!(
            PER_PAGE.violated_by_text("99999999999999999999"),
            "beyond i64"
        );
        // Not a number: left to the server, which answers with its own message.
        assert!(!PER_PAGE.violated_by_text("many"));
    }

    #[test]
    fn wildcards_select_every_item() {
        let body = serde_json::json!({"tags": ["a", "b"]});
        let places: Vec<String> = select(&body, "/tags/*")
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(places, ["/tags/0", "/tags/1"]);
    }

    #[test]
    fn path_parameters_are_found_from_the_end_of_the_path() {
        let template = "/v2/droplets/{droplet_id}/actions/{action_id}";
        let path = "/v2/droplets/42/actions/7";
        assert_eq!(path_segment(template, path, "droplet_id"), Some("42"));
        assert_eq!(path_segment(template, path, "action_id"), Some("7"));
        // A base URL with a path prefix.
        let prefixed = "/proxy/do/v2/droplets/42/actions/7";
        assert_eq!(path_segment(template, prefixed, "droplet_id"), Some("42"));
        assert_eq!(path_segment(template, path, "tag_id"), None);
        assert_eq!(
            path_segment(template, path, "droplet"),
            None,
            "a prefix of a name"
        );
        let tag = "/v2/tags/{tag_id}";
        assert_eq!(
            path_segment(tag, "/v2/tags/caf%C3%A9", "tag_id"),
            Some("caf%C3%A9")
        );
        assert_eq!(path_segment(tag, "/v2/tags/", "tag_id"), Some(""));
    }

    #[test]
    fn path_segments_are_percent_decoded() {
        assert_eq!(percent_decode("env%3Aprod"), "env:prod");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("caf%C3%A9"), "café");
        assert!(matches!(percent_decode("42"), Cow::Borrowed("42")));
    }
}
