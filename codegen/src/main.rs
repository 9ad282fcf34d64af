//! The maintainer's verbs: `codegen check SPEC` and `codegen render SPEC [-o FILE]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "codegen",
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
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Check { spec } => {
            let spec = digitalocean_codegen::load(&spec).map_err(|e| e.to_string())?;
            let report = digitalocean_codegen::check(&spec).map_err(|e| e.to_string())?;
            println!("{}", report.summary());
            Ok(())
        }
        Command::Render { spec, output } => {
            let spec = digitalocean_codegen::load(&spec).map_err(|e| e.to_string())?;
            let code = digitalocean_codegen::render(&spec).map_err(|e| e.to_string())?;
            match output {
                Some(path) => std::fs::write(&path, code)
                    .map_err(|e| format!("cannot write {}: {e}", path.display())),
                None => {
                    print!("{code}");
                    Ok(())
                }
            }
        }
    }
}
