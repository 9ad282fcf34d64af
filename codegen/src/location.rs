//! Readable locations inside the document, e.g. `paths."/v2/tags".get.responses."200"`,
//! so that every message can say exactly where a problem is.

use std::fmt;

/// A path from the document root to a node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    segments: Vec<String>,
}

impl Location {
    /// The document root.
    pub fn root() -> Self {
        Self::default()
    }

    /// This location extended by one key or index.
    pub fn join(&self, segment: impl ToString) -> Self {
        let mut segments = self.segments.clone();
        segments.push(segment.to_string());
        Self { segments }
    }

    /// Parses a local JSON pointer such as `#/components/schemas/Droplet`.
    pub fn from_pointer(pointer: &str) -> Self {
        let body = pointer.trim_start_matches('#').trim_start_matches('/');
        Self {
            segments: body
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect(),
        }
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("(document root)");
        }
        for (index, segment) in self.segments.iter().enumerate() {
            if index > 0 {
                f.write_str(".")?;
            }
            let plain = !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !segment.chars().all(|c| c.is_ascii_digit());
            if plain {
                f.write_str(segment)?;
            } else {
                write!(f, "{segment:?}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_paths_and_status_codes_quoted() {
        let location = Location::root()
            .join("paths")
            .join("/v2/tags")
            .join("get")
            .join("responses")
            .join("200");
        assert_eq!(
            location.to_string(),
            r#"paths."/v2/tags".get.responses."200""#
        );
    }

    #[test]
    fn parses_escaped_pointers() {
        let location = Location::from_pointer("#/paths/~1v2~1tags/get");
        assert_eq!(location.segments(), ["paths", "/v2/tags", "get"]);
    }
}
