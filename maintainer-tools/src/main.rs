//! The maintainer's verbs: `maintainer-tools check SPEC`, `diff OLD NEW`, `docs-coverage PAGES SPEC`,
//! `render SPEC [-o FILE]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "maintainer-tools",
    about = "Check and render the DigitalOcean OpenAPI document",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate and lint the document: structure, references, operations, unused
    /// components, every example against its schema, and that the client can be generated.
    Check {
        /// The OpenAPI document, e.g. spec/digitalocean.yaml.
        spec: PathBuf,
    },
    /// Compare two versions of the document and classify every change for users of the
    /// crate as breaking or compatible. Exits 1 when anything is breaking.
    Diff {
        /// The previous document (e.g. `git show HEAD:spec/digitalocean.yaml > /tmp/old.yaml`).
        old: PathBuf,
        /// The new document.
        new: PathBuf,
        /// Print the changes as JSON for tools.
        #[arg(long)]
        json: bool,
    },
    /// Compare the reference pages (plain text, as in shared/seeds) with the document:
    /// every operation and every JSON example. Exits 1 if something is missing or differs
    /// without a correction the document records.
    DocsCoverage {
        /// The directory of pages (`*.txt`).
        docs_dir: PathBuf,
        /// The OpenAPI document.
        spec: PathBuf,
    },
    /// Print the generated client code (what build.rs writes to OUT_DIR), for review.
    Render {
        /// The OpenAPI document, e.g. spec/digitalocean.yaml.
        spec: PathBuf,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            // 1 is reserved for "breaking changes found" by `diff`.
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Diff { old, new, json } => {
            let old = digitalocean_codegen::load(&old).map_err(|e| e.to_string())?;
            let new = digitalocean_codegen::load(&new).map_err(|e| e.to_string())?;
            let report = digitalocean_maintainer_tools::diff::diff(&old, &new);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
                );
            } else {
                print!("{}", report.render_text());
            }
            Ok(if report.breaking() > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Check { spec } => {
            let spec = digitalocean_codegen::load(&spec).map_err(|e| e.to_string())?;
            let report = digitalocean_maintainer_tools::check(&spec).map_err(|e| e.to_string())?;
            println!("{}", report.summary());
            Ok(ExitCode::SUCCESS)
        }
        Command::DocsCoverage { docs_dir, spec } => {
            let spec = digitalocean_codegen::load(&spec).map_err(|e| e.to_string())?;
            let pages = digitalocean_maintainer_tools::docs_coverage::read_pages(&docs_dir)
                .map_err(|e| e.to_string())?;
            let report = digitalocean_maintainer_tools::docs_coverage::coverage(&pages, &spec);
            println!(
                "docs coverage of {} ({} pages) against {}",
                docs_dir.display(),
                report.files,
                spec.origin()
            );
            print!("{}", report.render_text());
            Ok(if report.complete() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Render { spec, output } => {
            let spec = digitalocean_codegen::load(&spec).map_err(|e| e.to_string())?;
            let code = digitalocean_codegen::render(&spec).map_err(|e| e.to_string())?;
            match output {
                Some(path) => std::fs::write(&path, code)
                    .map(|()| ExitCode::SUCCESS)
                    .map_err(|e| format!("cannot write {}: {e}", path.display())),
                None => {
                    print!("{code}");
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}
