//! The command tree: each operation's generated command under its resource, named from its
//! operationId (`volume_snapshots_create` → `volumes snapshots create`), plus the flags the
//! generator does not know about: `--all` on lists, `--wait` where there is work to wait
//! for, and a working `--json-body-template`.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::capture::Capture;
use crate::generated::{Cli, CliCommand, PAGINATED};
use crate::output::Format;

pub const ALL: &str = "all";
pub const WAIT: &str = "wait";
pub const WAIT_TIMEOUT: &str = "wait-timeout";
pub const POLL_INTERVAL: &str = "poll-interval";
pub const TEMPLATE: &str = "json-body-template";
pub const API_URL: &str = "api-url";
pub const OUTPUT: &str = "output";
pub const TRACE: &str = "trace";

/// The operationId prefixes of the resources and the command groups they belong to,
/// longest first. An operation of a resource not listed here still gets a command: the
/// first word of its operationId is its group.
const RESOURCES: &[(&str, &[&str])] = &[
    ("volume_snapshots_", &["volumes", "snapshots"]),
    ("droplets_", &["droplets"]),
    ("projects_", &["projects"]),
    ("tags_", &["tags"]),
    ("volumes_", &["volumes"]),
];

const GROUP_ABOUT: &[(&str, &str)] = &[
    (
        "droplets",
        "Droplets: virtual machines, their backups, snapshots and neighbours",
    ),
    ("projects", "Project resources: what a project holds"),
    ("snapshots", "Snapshots of block storage volumes"),
    ("tags", "Tags and the resources they label"),
    ("volumes", "Block storage volumes"),
];

/// What `--wait` waits for after an operation succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    /// Every created Droplet is `active` (`droplets create`).
    DropletsActive,
    /// The destruction with associated resources has completed (or failed).
    DestroyCompleted,
}

/// The operations `--wait` applies to.
pub fn wait_for(operation_id: &str) -> Option<WaitFor> {
    match operation_id {
        "droplets_create" => Some(WaitFor::DropletsActive),
        "droplets_destroy_with_associated_resources_dangerous"
        | "droplets_destroy_with_associated_resources_selective"
        | "droplets_destroy_retry_with_associated_resources" => Some(WaitFor::DestroyCompleted),
        _ => None,
    }
}

/// The command path of an operation: its groups, then its verb in kebab case.
pub fn path_of(operation_id: &str) -> Vec<String> {
    let kebab = |words: &str| words.replace('_', "-");
    for (prefix, groups) in RESOURCES {
        if let Some(verb) = operation_id.strip_prefix(prefix) {
            let mut path: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
            path.push(kebab(verb));
            return path;
        }
    }
    match operation_id.split_once('_') {
        Some((group, verb)) => vec![kebab(group), kebab(verb)],
        None => vec![kebab(operation_id)],
    }
}

/// The whole command line.
pub fn root() -> Command {
    let mut tree = Group::default();
    for command in CliCommand::iter() {
        let path = path_of(command.operation_id());
        tree.insert(
            &path,
            leaf(command, path.last().map(String::as_str).unwrap_or("")),
        );
    }
    let root = Command::new("doapi")
        .version(env!("CARGO_PKG_VERSION"))
        .about("The DigitalOcean API from the command line: one command per operation, generated from the same OpenAPI document as the digitalocean crate")
        .after_help(EXIT_CODES)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new(API_URL)
                .long(API_URL)
                .global(true)
                .value_name("URL")
                .help("Where the API is (default: DIGITALOCEAN_API_URL, else https://api.digitalocean.com)"),
        )
        .arg(
            Arg::new(OUTPUT)
                .long(OUTPUT)
                .short('o')
                .global(true)
                .value_parser(clap::value_parser!(Format))
                .default_value("json")
                .help("How answers are printed"),
        )
        .arg(
            Arg::new(TRACE)
                .long(TRACE)
                .global(true)
                .action(ArgAction::SetTrue)
                .help("Print each request to stderr: method, path, status, request id, attempt, rate limit left (never the token)"),
        );
    tree.into_subcommands(root)
}

pub const EXIT_CODES: &str = "\
Token: DIGITALOCEAN_TOKEN (or DIGITALOCEAN_ACCESS_TOKEN).

Exit codes: 0 success · 2 usage (bad arguments, unreadable body file) · 3 configuration
(no token, bad URL) · 4 authentication (401/403) · 5 not found (404) · 6 rate limited
(429, or the budget is spent) · 7 request rejected (other 4xx, or an argument breaks a
documented constraint; nothing applied) · 8 server error (5xx) · 9 no complete answer (the
request may have been applied: check before retrying) · 10 a --wait ran out of time ·
130 interrupted";

/// One operation's generated command, renamed and completed.
fn leaf(command: CliCommand, verb: &str) -> Command {
    let operation_id = command.operation_id();
    let mut leaf = Cli::<Capture>::get_command(command).name(verb.to_string());
    // progenitor puts summary and description into one `about`; listings show the summary
    // (its first line), `--help` the whole text.
    if let Some(text) = leaf.get_about().map(|about| about.to_string()) {
        let summary = text.lines().next().unwrap_or_default().to_string();
        leaf = leaf.about(summary).long_about(text);
    }
    if leaf.get_arguments().any(|a| a.get_id() == TEMPLATE) {
        // The generator declares the flag (with a placeholder help) but leaves it to us.
        // Exclusive: printing the template needs none of the other arguments.
        leaf = leaf.mut_arg(TEMPLATE, |arg| {
            arg.exclusive(true)
                .help("Print the documented example of the body (a starting point for --json-body) and exit")
        });
    }
    if PAGINATED.contains(&operation_id) {
        leaf = leaf.arg(
            Arg::new(ALL)
                .long(ALL)
                .action(ArgAction::SetTrue)
                .conflicts_with_all(["page", "per-page"])
                .help("Every item of every page, streamed (JSON: one item per line), at the pace the rate limit allows"),
        );
    }
    if let Some(wait) = wait_for(operation_id) {
        let what = match wait {
            WaitFor::DropletsActive => "Wait until every created Droplet is active, and print it",
            WaitFor::DestroyCompleted => {
                "Wait until the destruction has completed (or reports failures), and print its status"
            }
        };
        leaf = leaf
            .arg(
                Arg::new(WAIT)
                    .long(WAIT)
                    .action(ArgAction::SetTrue)
                    .help(what),
            )
            .arg(
                Arg::new(WAIT_TIMEOUT)
                    .long(WAIT_TIMEOUT)
                    .value_name("SECONDS")
                    .requires(WAIT)
                    .default_value("600")
                    .value_parser(seconds)
                    .help("Give up waiting after this long"),
            )
            .arg(
                Arg::new(POLL_INTERVAL)
                    .long(POLL_INTERVAL)
                    .value_name("SECONDS")
                    .requires(WAIT)
                    .default_value("5")
                    .value_parser(seconds)
                    .help("The longest pause between two status requests"),
            );
    }
    leaf
}

/// A duration in (possibly fractional) seconds, at most a day.
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(value.is_finite() && value > 0.0 && value <= 86_400.0) {
        return Err(format!(
            "`{text}` must be more than 0 and at most 86400 seconds"
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

/// The operation a parse chose, and the matches of its own command.
pub fn chosen(matches: &ArgMatches) -> Option<(CliCommand, &ArgMatches)> {
    let mut path = Vec::new();
    let mut current = matches;
    while let Some((name, sub)) = current.subcommand() {
        path.push(name.to_string());
        current = sub;
    }
    CliCommand::iter()
        .find(|command| path_of(command.operation_id()) == path)
        .map(|command| (command, current))
}

#[derive(Default)]
struct Group {
    groups: BTreeMap<String, Group>,
    leaves: BTreeMap<String, Command>,
}

impl Group {
    fn insert(&mut self, path: &[String], leaf: Command) {
        match path {
            [] => {}
            [verb] => {
                self.leaves.insert(verb.clone(), leaf);
            }
            [group, rest @ ..] => self
                .groups
                .entry(group.clone())
                .or_default()
                .insert(rest, leaf),
        }
    }

    fn into_subcommands(self, mut parent: Command) -> Command {
        for (name, group) in self.groups {
            let about = GROUP_ABOUT
                .iter()
                .find(|(group, _)| *group == name)
                .map(|(_, about)| about.to_string())
                .unwrap_or_else(|| format!("Operations on {name}"));
            let command = Command::new(name)
                .about(about)
                .subcommand_required(true)
                .arg_required_else_help(true);
            parent = parent.subcommand(group.into_subcommands(command));
        }
        for (_, leaf) in self.leaves {
            parent = parent.subcommand(leaf);
        }
        parent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_by_resource_and_verb() {
        assert_eq!(path_of("tags_list"), ["tags", "list"]);
        assert_eq!(
            path_of("volume_snapshots_create"),
            ["volumes", "snapshots", "create"]
        );
        assert_eq!(
            path_of("droplets_list_backup_policies"),
            ["droplets", "list-backup-policies"]
        );
        assert_eq!(
            path_of("apps_create"),
            ["apps", "create"],
            "an unknown resource"
        );
    }

    #[test]
    fn every_operation_has_its_own_command() {
        let paths: std::collections::BTreeSet<Vec<String>> = CliCommand::iter()
            .map(|c| path_of(c.operation_id()))
            .collect();
        assert_eq!(paths.len(), 38);
        assert_eq!(CliCommand::iter().count(), 38);
    }

    #[test]
    fn the_tree_is_a_valid_clap_command() {
        root().debug_assert();
    }
}
