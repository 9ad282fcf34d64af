//! `conform --base-url URL [--token-env NAME] [--operations LIST] [--write] [--json FILE]`:
//! drives the client against a server and reports where traffic and document disagree.
//! Exit code 0: conforms; 1: findings; 2: could not run.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use digitalocean_conform::{Document, Options, report};

#[derive(Parser)]
#[command(
    name = "conform",
    about = "Check live DigitalOcean API traffic against the OpenAPI document",
    version
)]
struct Args {
    /// The API's base URL: DigitalOcean's (api.digitalocean.com over https), a proxy, the fake (default:
    /// $DIGITALOCEAN_API_URL).
    #[arg(long)]
    base_url: Option<String>,
    /// The environment variable that holds the token (never printed).
    #[arg(long, default_value = "DIGITALOCEAN_TOKEN")]
    token_env: String,
    /// Only these operations (comma-separated operationIds).
    #[arg(long, value_delimiter = ',')]
    operations: Option<Vec<String>>,
    /// Also create, change and delete resources named with a unique prefix (4 of the
    /// smallest Droplets, 2 volumes of 1 GiB, a snapshot and a tag, for seconds), and
    /// delete them at the end, also after a failure or Ctrl-C.
    #[arg(long)]
    write: bool,
    /// The project for the two per-project operations (none in scope lists projects).
    #[arg(long)]
    project_id: Option<String>,
    /// Never send more requests than this, clean-up included.
    #[arg(long, default_value_t = 200)]
    max_requests: usize,
    /// Write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Check against this document instead of the one the client was generated from.
    #[arg(long)]
    spec: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("conform: could not run: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let raw = match &args.spec {
        Some(path) => digitalocean_codegen::load(path)
            .map(|spec| spec.raw().clone())
            .map_err(|e| e.to_string())?,
        None => digitalocean_conform::bundled_document()?,
    };
    let document = Document::new(raw);
    let base_url = args
        .base_url
        .clone()
        .or_else(|| std::env::var("DIGITALOCEAN_API_URL").ok())
        .ok_or(
            "no base URL: pass --base-url URL (https://api.digitalocean.com for the real API)",
        )?;
    let token = std::env::var(&args.token_env)
        .ok()
        .filter(|token| !token.trim().is_empty())
        .ok_or_else(|| {
            format!(
                "no token: set {} (or pass --token-env NAME)",
                args.token_env
            )
        })?;
    let operations: Option<BTreeSet<String>> =
        args.operations.map(|list| list.into_iter().collect());
    if let Some(unknown) = operations
        .iter()
        .flatten()
        .find(|id| document.operation(id).is_none())
    {
        return Err(format!("the document has no operation `{unknown}`"));
    }
    let options = Options {
        operations,
        write: args.write,
        max_requests: args.max_requests,
        project_id: args.project_id,
        prefix: digitalocean_conform::unique_prefix(),
    };
    let report =
        digitalocean_conform::run(&document, &base_url, token.trim(), options, |operation| {
            let outcome = operation.outcome();
            let statuses: Vec<String> = operation.statuses.iter().map(u16::to_string).collect();
            eprintln!(
                "conform: {} [{}] {outcome}",
                operation.operation,
                statuses.join(",")
            );
        })
        .await?;
    print!("{}", report::render_text(&report));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    // Nothing answered at all: the server is not there, or refused every request.
    let refused = report
        .operations
        .iter()
        .flat_map(|o| &o.statuses)
        .all(|status| *status == 401);
    if report.exercised() == 0 || refused {
        return Err(format!(
            "no usable answer from {base_url} (wrong URL, or the token was refused)"
        ));
    }
    Ok(if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
