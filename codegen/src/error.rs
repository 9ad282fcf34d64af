//! The one error type of the code generator. Every variant names the place in the
//! document (or the file) it is about and, where there is one, what to do next.

use std::fmt;
use std::path::PathBuf;

/// A problem found at one place of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: a readable path into the document, e.g. `paths."/v2/tags".get.responses."200"`.
    pub location: String,
    /// What is wrong there.
    pub message: String,
}

impl Problem {
    /// A problem at `location`.
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Everything that can go wrong while loading, checking, normalizing or rendering.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not YAML (or JSON).
    #[error("{origin} is not valid YAML: {message}")]
    Yaml {
        /// The file or fixture name.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The document is YAML but not an OpenAPI 3.0 document.
    #[error("{origin} is not a valid OpenAPI 3.0 document at {location}: {message}")]
    OpenApi {
        /// The file or fixture name.
        origin: String,
        /// Where the document stops matching the OpenAPI schema.
        location: String,
        /// What was expected there.
        message: String,
    },
    /// The document parses, but breaks rules the rest of the pipeline relies on.
    #[error("{origin} has {} problem(s):\n{}", problems.len(), list(problems))]
    Invalid {
        /// The file or fixture name.
        origin: String,
        /// Every problem found, in document order.
        problems: Vec<Problem>,
    },
    /// A normalization pass met something it cannot adapt for progenitor.
    #[error("normalization pass `{pass}` cannot handle {location}: {message}")]
    Normalize {
        /// The name of the pass (a function in `normalize`).
        pass: &'static str,
        /// The place in the document.
        location: String,
        /// What it met, and what to change in the document.
        message: String,
    },
    /// progenitor rejected (or panicked on) the normalized document.
    #[error(
        "progenitor could not generate the client: {message}\n\
         (if the document is valid, add a normalization pass in codegen/src/normalize.rs)"
    )]
    Generate {
        /// progenitor's message.
        message: String,
    },
    /// The generated tokens do not parse as a Rust file.
    #[error("the generated code is not a valid Rust file: {message}")]
    Syntax {
        /// syn's message.
        message: String,
    },
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Result alias of this crate.
pub type Result<T, E = CodegenError> = std::result::Result<T, E>;
