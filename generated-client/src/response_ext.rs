//! What every response tells besides its body: the rate limit, the request id, and how
//! many attempts the call took.

use progenitor_client::ResponseValue;

use crate::RateLimit;
use crate::error::ATTEMPTS_HEADER;

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
}
