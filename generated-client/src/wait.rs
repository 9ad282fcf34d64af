//! Waiting on work DigitalOcean does after answering: a created Droplet becomes `active`
//! some time after the 202, and a Droplet destroyed with its associated resources has a
//! status endpoint that tells when the work is done.

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use crate::{Client, Error, ErrorKind, types};

/// How often and how long to poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// Time between two status requests (default 5 s).
    pub interval: Duration,
    /// Give up after this long (default 10 minutes).
    pub timeout: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(600),
        }
    }
}

impl Client {
    /// Polls the status of a destroy-with-associated-resources request until it has
    /// completed (`completed_at` set) or reports failures, and returns that final status.
    /// A status with failures is returned, not an error: inspect
    /// `resources.*[].error_message`, then retry with
    /// `droplets_destroy_retry_with_associated_resources`.
    ///
    /// ```no_run
    /// # async fn run(client: &digitalocean::Client) -> Result<(), digitalocean::Error> {
    /// let status = client
    ///     .wait_for_destroy_with_associated_resources(187000742, digitalocean::WaitOptions::default())
    ///     .await?;
    /// println!("done at {:?}, {} failures", status.completed_at, status.failures.unwrap_or(0));
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_destroy_with_associated_resources(
        &self,
        droplet_id: u64,
        options: WaitOptions,
    ) -> Result<types::DestroyAssociatedResourcesStatus, Error> {
        let droplet_id = droplet_id_argument(droplet_id)?;
        let started = Instant::now();
        loop {
            let status = self
                .droplets_get_destroy_associated_resources_status()
                .droplet_id(droplet_id)
                .send()
                .await?
                .into_inner();
            if status.completed_at.is_some() || status.failures.is_some_and(|failures| failures > 0)
            {
                return Ok(status);
            }
            if started.elapsed().saturating_add(options.interval) > options.timeout {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the destruction of Droplet {droplet_id} with its associated resources did not complete within {} s",
                        options.timeout.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(options.interval).await;
        }
    }

    /// Polls a Droplet until its status is `active` and returns it, for instance after
    /// `droplets_create` (which answers while the Droplet is still `new`). The first poll
    /// is immediate; then the pause starts at an eighth of `options.interval` and doubles up
    /// to it, so a quick boot is seen quickly without polling a slow one often. Gives up
    /// with [`ErrorKind::Timeout`] (naming the last status seen) rather than sleep past
    /// `options.timeout`; a Droplet that disappears ends the wait with the 404.
    ///
    /// ```no_run
    /// # async fn run(client: &digitalocean::Client) -> Result<(), digitalocean::Error> {
    /// let droplet = client.wait_for_droplet_active(3164444, digitalocean::WaitOptions::default()).await?;
    /// println!("{} is up", droplet.name);
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_droplet_active(
        &self,
        droplet_id: u64,
        options: WaitOptions,
    ) -> Result<types::Droplet, Error> {
        let droplet_id = droplet_id_argument(droplet_id)?;
        let started = Instant::now();
        let mut pause = options.interval / 8;
        loop {
            let droplet = self
                .droplets_get()
                .droplet_id(droplet_id)
                .send()
                .await?
                .into_inner()
                .droplet
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Decode,
                        format!("the answer for Droplet {droplet_id} has no `droplet`"),
                    )
                })?;
            if droplet.status == types::DropletStatus::Active {
                return Ok(droplet);
            }
            if started.elapsed().saturating_add(pause) > options.timeout {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "Droplet {droplet_id} was still `{}` after {} s; it may become active later",
                        droplet.status,
                        options.timeout.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(pause).await;
            pause = pause.saturating_mul(2).min(options.interval);
        }
    }
}

/// The documented constraint of a Droplet id, checked before anything is sent.
fn droplet_id_argument(droplet_id: u64) -> Result<NonZeroU64, Error> {
    NonZeroU64::new(droplet_id).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            "invalid argument `droplet_id` = 0: it must be at least 1; nothing was sent",
        )
    })
}
