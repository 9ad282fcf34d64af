//! What every response tells besides its body: the rate limit, the request id, how many
//! attempts the call took, and whether a lost answer was reconciled.

use progenitor_client::ResponseValue;

use crate::error::{ATTEMPTS_HEADER, RECONCILED_HEADER, decode_reconciliation};
use crate::{RateLimit, Reconciliation};

/// Reads the metadata of a response returned by any operation.
///
/// ```no_run
/// use digitalocean::ResponseExt;
/// # async fn run(client: &digitalocean::Client) -> Result<(), digitalocean::Error> {
/// let tags = client.tags_list().send().await?;
/// if let Some(limit) = tags.rate_limit() {
///     println!("{} of {} requests left", limit.remaining, limit.limit);
/// }
/// # Ok(()) }
/// ```
pub trait ResponseExt {
    /// The `ratelimit-*` headers of the response.
    fn rate_limit(&self) -> Option<RateLimit>;
    /// The `x-request-id` header, when the API sent one.
    fn request_id(&self) -> Option<&str>;
    /// How many attempts the call took (1 without retries).
    fn attempts(&self) -> u32;
    /// How the client settled a create whose answer was lost: found by a lookup, or proved
    /// absent and sent again. `None` for a call that needed no reconciliation.
    fn reconciliation(&self) -> Option<Reconciliation>;
}

impl<T> ResponseExt for ResponseValue<T> {
    fn rate_limit(&self) -> Option<RateLimit> {
        RateLimit::from_headers(self.headers())
    }

    fn request_id(&self) -> Option<&str> {
        self.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
    }

    fn attempts(&self) -> u32 {
        self.headers()
            .get(ATTEMPTS_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(1)
    }

    fn reconciliation(&self) -> Option<Reconciliation> {
        self.headers()
            .get(RECONCILED_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(decode_reconciliation)
    }
}
