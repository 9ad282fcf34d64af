//! Stage 1, load and validate: parse the YAML, check that it is an OpenAPI 3.0 document
//! (with openapiv3, naming the place where it stops being one), and check that every
//! `$ref` resolves. What passes can be handed to the checks and to normalization.

use std::path::Path;

use serde_json::Value;

use crate::error::{CodegenError, Result};
use crate::refs;

/// A loaded and structurally valid document.
#[derive(Debug, Clone)]
pub struct Spec {
    origin: String,
    raw: Value,
    openapi: openapiv3::OpenAPI,
}

impl Spec {
    /// Where the document came from (a path or a fixture name), for messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The document as JSON, exactly as written.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// The document as parsed by openapiv3.
    pub fn openapi(&self) -> &openapiv3::OpenAPI {
        &self.openapi
    }
}

/// Loads and validates the document at `path`.
pub fn load(path: &Path) -> Result<Spec> {
    let text = std::fs::read_to_string(path).map_err(|source| CodegenError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    load_str(&path.display().to_string(), &text)
}

/// Loads and validates a document held in memory; `origin` names it in messages.
pub fn load_str(origin: &str, text: &str) -> Result<Spec> {
    let raw: Value = serde_norway::from_str(text).map_err(|e| CodegenError::Yaml {
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    from_value(origin, raw)
}

/// Validates a document that is already JSON (used by tests that mutate a copy in memory).
pub fn from_value(origin: &str, raw: Value) -> Result<Spec> {
    let version = raw.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.0.") {
        return Err(CodegenError::OpenApi {
            origin: origin.to_string(),
            location: "openapi".to_string(),
            message: format!(
                "found version {version:?}; progenitor reads OpenAPI 3.0.x documents only (write `openapi: 3.0.3`)"
            ),
        });
    }
    let openapi: openapiv3::OpenAPI =
        serde_path_to_error::deserialize(&raw).map_err(|e| CodegenError::OpenApi {
            origin: origin.to_string(),
            location: e.path().to_string(),
            message: e.inner().to_string(),
        })?;
    let problems = refs::unresolved(&raw);
    if !problems.is_empty() {
        return Err(CodegenError::Invalid {
            origin: origin.to_string(),
            problems,
        });
    }
    Ok(Spec {
        origin: origin.to_string(),
        raw,
        openapi,
    })
}
