//! One run of `doapi`: parse, print a body template or build the client, execute the
//! operation through progenitor's generated code, wait if asked, print, and map the
//! outcome to an exit code.

use std::ffi::OsString;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use clap::ArgMatches;
use digitalocean::{Client, ClientBuilder, WaitOptions};
use serde_json::{Value, json};

use crate::capture::{Answer, Capture, ListStreamed};
use crate::commands::{self, WaitFor};
use crate::exit::Exit;
use crate::generated::{Cli, body_example};
use crate::output::{Format, write_body};
use crate::sdk::types;

/// What Ctrl-C reports before exiting: what may already have happened.
type InterruptNote = Arc<Mutex<String>>;

const SENT_NOTE: &str =
    "a request already sent may have been applied: check before running the command again";

pub async fn run(args: impl IntoIterator<Item = OsString>) -> Exit {
    let matches = match commands::root().try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(error) => {
            // --help and --version are "errors" that print to stdout and succeed.
            let _ = error.print();
            return if error.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            };
        }
    };
    let Some((command, leaf)) = commands::chosen(&matches) else {
        eprintln!("doapi: error: no such command; see `doapi --help`");
        return Exit::Usage;
    };
    let operation_id = command.operation_id();

    if leaf.try_get_one::<bool>(commands::TEMPLATE).ok().flatten() == Some(&true) {
        return print_template(operation_id);
    }

    let format = leaf
        .get_one::<Format>(commands::OUTPUT)
        .copied()
        .unwrap_or(Format::Json);
    let client = match client(leaf) {
        Ok(client) => client,
        Err(error) => return report_client_error(&error),
    };

    let note = InterruptNote::default();
    *lock(&note) = SENT_NOTE.to_string();
    exit_on_ctrl_c(Arc::clone(&note));

    let (capture, answer) = Capture::new(format);
    let cli = Cli::new(client.clone(), capture);
    if let Err(error) = cli.execute(command, leaf).await
        && !error.is::<ListStreamed>()
    {
        return report(error);
    }
    let Some(answer) = lock(&answer).take() else {
        eprintln!("doapi: error: {operation_id} finished without an answer");
        return Exit::NoCompleteAnswer;
    };

    let waiting = leaf.try_get_one::<bool>(commands::WAIT).ok().flatten() == Some(&true);
    let answer = match commands::wait_for(operation_id).filter(|_| waiting) {
        Some(wait) => match wait_on(&client, wait, leaf, answer, &note).await {
            Ok(answer) => answer,
            Err(error) => return report_client_error(&error),
        },
        None => answer,
    };
    match print(format, &answer) {
        Ok(()) => Exit::Success,
        Err(error) => report(error.into()),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn print_template(operation_id: &str) -> Exit {
    match body_example(operation_id) {
        Some(example) => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{example}");
            Exit::Success
        }
        None => {
            eprintln!("doapi: error: the document has no example body for this command");
            Exit::Usage
        }
    }
}

/// The client: token and URL from the environment, `--api-url` over both, the command
/// line's user agent, and `--trace` as an exchange observer.
fn client(leaf: &ArgMatches) -> Result<Client, digitalocean::Error> {
    let mut builder = ClientBuilder::from_env()?.user_agent(format!(
        "doapi/{} {}",
        env!("CARGO_PKG_VERSION"),
        digitalocean::USER_AGENT
    ));
    if let Some(url) = leaf.get_one::<String>(commands::API_URL) {
        builder = builder.base_url(url.clone());
    }
    if leaf.get_flag(commands::TRACE) {
        builder = builder.observe_exchanges(|exchange| {
            eprintln!("{}", crate::trace::line(exchange));
        });
    }
    builder.build()
}

/// Ctrl-C ends the process at once with code 130, saying what may already have happened.
fn exit_on_ctrl_c(note: InterruptNote) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = std::io::stdout().flush();
            eprintln!("doapi: interrupted; {}", lock(&note));
            std::process::exit(i32::from(Exit::Interrupted as u8));
        }
    });
}

async fn wait_on(
    client: &Client,
    wait: WaitFor,
    leaf: &ArgMatches,
    answer: Answer,
    note: &InterruptNote,
) -> Result<Answer, digitalocean::Error> {
    let duration = |name| leaf.get_one::<std::time::Duration>(name).copied();
    let defaults = WaitOptions::default();
    let options = WaitOptions {
        interval: duration(commands::POLL_INTERVAL).unwrap_or(defaults.interval),
        timeout: duration(commands::WAIT_TIMEOUT).unwrap_or(defaults.timeout),
    };
    match wait {
        WaitFor::DropletsActive => {
            let Answer::Body(body) = &answer else {
                return Ok(answer);
            };
            let ids = created_droplet_ids(body);
            let listed: Vec<String> = ids.iter().map(u64::to_string).collect();
            *lock(note) = format!(
                "Droplet {} was created and may still be booting",
                listed.join(", ")
            );
            let mut droplets = Vec::new();
            for id in &ids {
                droplets.push(client.wait_for_droplet_active(*id, options).await?);
            }
            Ok(Answer::Body(if body.get("droplets").is_some() {
                json!({ "droplets": droplets })
            } else {
                json!({ "droplet": droplets.first() })
            }))
        }
        WaitFor::DestroyCompleted => {
            let droplet_id = leaf
                .get_raw("droplet-id")
                .into_iter()
                .flatten()
                .find_map(|raw| raw.to_str()?.parse::<u64>().ok())
                .unwrap_or(0);
            *lock(note) = format!(
                "the destruction of Droplet {droplet_id} was accepted and goes on without us"
            );
            let status: types::DestroyAssociatedResourcesStatus = client
                .wait_for_destroy_with_associated_resources(droplet_id, options)
                .await?;
            Ok(Answer::Body(
                serde_json::to_value(status).unwrap_or(Value::Null),
            ))
        }
    }
}

/// The ids of the Droplets a create answered with (one, or several for `names`).
fn created_droplet_ids(body: &Value) -> Vec<u64> {
    let one = body.pointer("/droplet/id").and_then(Value::as_u64);
    let many = body
        .get("droplets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("id").and_then(Value::as_u64));
    one.into_iter().chain(many).collect()
}

fn print(format: Format, answer: &Answer) -> std::io::Result<()> {
    match answer {
        Answer::Body(body) => {
            let mut out = std::io::stdout().lock();
            write_body(format, body, &mut out)?;
            out.flush()
        }
        // Nothing to print: the status says it all (see it with --trace).
        Answer::NoBody(_) | Answer::Streamed(_) => Ok(()),
    }
}

fn report_client_error(error: &digitalocean::Error) -> Exit {
    eprintln!("doapi: error: {error}");
    Exit::of(error)
}

/// Reports what `execute` returned: the client's errors by class, a closed stdout (`| head`)
/// as success, anything else (an unreadable or invalid body file) as a usage error.
fn report(error: anyhow::Error) -> Exit {
    if let Some(error) = error.downcast_ref::<digitalocean::Error>() {
        return report_client_error(error);
    }
    let broken_pipe = Some(std::io::ErrorKind::BrokenPipe);
    let is_broken_pipe = error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().map(|io| io.kind()) == broken_pipe
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == broken_pipe
    });
    if is_broken_pipe {
        return Exit::Success;
    }
    match error.downcast::<crate::sdk::Error<types::Error>>() {
        Ok(error) => report_client_error(&digitalocean::Error::from(error)),
        Err(other) => {
            eprintln!("doapi: error: {other:#}");
            Exit::Usage
        }
    }
}
