//! The `CliConfig` of progenitor's generated command line: it keeps what an operation
//! answered (for `app` to print, or to wait on), and turns a paginated list called with
//! `--all` into a stream of every item through the client's paginator.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use digitalocean::Paginate;
use futures_util::TryStreamExt as _;
use serde::Serialize;

use crate::generated::CliConfig;
use crate::output::{Format, ItemWriter};
use crate::sdk::{Error, ResponseValue};

/// What a successful operation answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A JSON body.
    Body(serde_json::Value),
    /// A success without a body (202/204).
    NoBody(u16),
    /// `--all` already wrote this many items.
    Streamed(usize),
}

/// The marker error a paginated `execute_*` returns after `--all` streamed the list, so the
/// generated code stops before sending its own single-page request.
#[derive(Debug, thiserror::Error)]
#[error("the list was streamed")]
pub struct ListStreamed;

/// Where the answer of the one operation a run executes is left (the generated `Cli` owns
/// its config, so the caller keeps the other end of this).
pub type AnswerSlot = Arc<Mutex<Option<Answer>>>;

/// The generated command line's config: keeps the answer, streams `--all`.
#[derive(Debug)]
pub struct Capture {
    format: Format,
    answer: AnswerSlot,
}

impl Capture {
    pub fn new(format: Format) -> (Self, AnswerSlot) {
        let answer = AnswerSlot::default();
        let capture = Self {
            format,
            answer: Arc::clone(&answer),
        };
        (capture, answer)
    }

    fn keep(&self, answer: Answer) {
        if let Ok(mut slot) = self.answer.lock() {
            *slot = Some(answer);
        }
    }

    /// With `--all`, streams every item of the list `request` describes (its filters kept;
    /// `page`/`per_page` are the paginator's) and returns [`ListStreamed`]; without, does
    /// nothing and the generated code sends the one page asked for.
    ///
    /// progenitor calls this override synchronously, with a builder that borrows the
    /// client, so the stream is driven here, on this worker thread, with `block_in_place`.
    fn stream_if_all<'a, B>(
        &self,
        matches: &clap::ArgMatches,
        request: &mut B,
    ) -> anyhow::Result<()>
    where
        B: Paginate<'a>,
        B::Item: Serialize,
    {
        if !matches.get_flag(crate::commands::ALL) {
            return Ok(());
        }
        let items = request.clone().stream();
        let format = self.format;
        let written = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async move {
                let stdout = std::io::stdout();
                let mut writer = ItemWriter::new(format, stdout.lock());
                let mut items = items;
                while let Some(item) = items.try_next().await? {
                    writer.item(&item)?;
                }
                writer.finish()?;
                anyhow::Ok(writer.count())
            })
        })?;
        std::io::stdout().flush()?;
        self.keep(Answer::Streamed(written));
        Err(anyhow::Error::new(ListStreamed))
    }
}

impl CliConfig for Capture {
    fn success_item<T>(&self, value: &ResponseValue<T>)
    where
        T: schemars::JsonSchema + Serialize + std::fmt::Debug,
    {
        // A typed value always serializes; a failure here would be a bug of the types.
        let body = serde_json::to_value(value.as_ref()).unwrap_or(serde_json::Value::Null);
        self.keep(Answer::Body(body));
    }

    fn success_no_item(&self, value: &ResponseValue<()>) {
        self.keep(Answer::NoBody(value.status().as_u16()));
    }

    // Errors travel back as the `Err` of `execute`, where `app` reports them.
    fn error<T>(&self, _: &Error<T>)
    where
        T: schemars::JsonSchema + Serialize + std::fmt::Debug,
    {
    }

    // The `list_*` callbacks serve Dropshot-style pagination, which this API does not use:
    // `--all` (above) streams DigitalOcean's page/per_page lists instead.
    fn list_start<T>(&self)
    where
        T: schemars::JsonSchema + Serialize + std::fmt::Debug,
    {
    }

    fn list_item<T>(&self, _: &T)
    where
        T: schemars::JsonSchema + Serialize + std::fmt::Debug,
    {
    }

    fn list_end_success<T>(&self)
    where
        T: schemars::JsonSchema + Serialize + std::fmt::Debug,
    {
    }

    fn list_end_error<T>(&self, _: &Error<T>)
    where
        T: schemars::JsonSchema + Serialize + std::fmt::Debug,
    {
    }

    list_overrides!();
}
