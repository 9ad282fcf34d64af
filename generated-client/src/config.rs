//! Building a client: the token (from the environment or given), the base URL (https, or
//! plain http only to a loopback address), the user agent, timeouts and policies. The
//! Authorization header is marked sensitive and the token appears in no `Debug` output.

use std::fmt;
use std::net::IpAddr;
use std::num::{NonZeroU64, NonZeroUsize};
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::observe::{ExchangeObserver, ObservedExchange};
use crate::rate_limit::{RateLimit, RateLimitPolicy};
use crate::retry::RetryPolicy;
use crate::state::{ClientState, PageDefaults};
use crate::{Client, Error};

/// The production API.
pub const DEFAULT_BASE_URL: &str = "https://api.digitalocean.com";
/// The variables [`Client::from_env`] reads the token from, in order.
pub const TOKEN_VARIABLES: [&str; 2] = ["DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"];
/// The variable [`Client::from_env`] reads the base URL from.
pub const BASE_URL_VARIABLE: &str = "DIGITALOCEAN_API_URL";
/// The user agent of this crate, sent after the caller's.
pub const USER_AGENT: &str = concat!("digitalocean-rust/", env!("CARGO_PKG_VERSION"));

/// An access token. `Debug` shows only its kind (the `dop_v1_`-style prefix), never the secret.
#[derive(Clone)]
struct Token(String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = ["dop_v1_", "doo_v1_", "dor_v1_"]
            .into_iter()
            .find(|p| self.0.starts_with(p))
            .unwrap_or("");
        write!(f, "Token({prefix}<redacted>)")
    }
}

/// Builds a [`Client`]. Defaults: base URL [`DEFAULT_BASE_URL`], connect timeout 10 s,
/// request timeout 60 s (per attempt), [`RetryPolicy::default`],
/// [`RateLimitPolicy::default`], streams of 200 items per page with up to 16 pages in flight,
/// response bodies of at most 32 MiB.
///
/// ```no_run
/// use std::time::Duration;
/// let client = digitalocean::Client::builder()
///     .token("dop_v1_…")
///     .user_agent("my-deployer/1.2")
///     .request_timeout(Duration::from_secs(30))
///     .retry_policy(digitalocean::RetryPolicy::default().with_max_attempts(6))
///     .build()?;
/// # Ok::<(), digitalocean::Error>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    token: Option<Token>,
    base_url: String,
    user_agent: Option<String>,
    connect_timeout: Duration,
    request_timeout: Duration,
    retry: RetryPolicy,
    rate_limit: RateLimitPolicy,
    per_page: u64,
    max_pages_in_flight: usize,
    max_response_body: usize,
    reconcile_creates: bool,
    observer: Option<ExchangeObserver>,
    #[cfg(feature = "http2")]
    http2_prior_knowledge: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut f = f.debug_struct("ClientBuilder");
        f.field("token", &self.token)
            .field("base_url", &self.base_url)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .field("per_page", &self.per_page)
            .field("max_pages_in_flight", &self.max_pages_in_flight)
            .field("max_response_body", &self.max_response_body)
            .field("reconcile_creates", &self.reconcile_creates)
            .field("observer", &self.observer.is_some());
        #[cfg(feature = "http2")]
        f.field("http2_prior_knowledge", &self.http2_prior_knowledge);
        f.finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            token: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            user_agent: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            rate_limit: RateLimitPolicy::default(),
            per_page: 200,
            max_pages_in_flight: 16,
            max_response_body: crate::state::DEFAULT_MAX_RESPONSE_BODY,
            reconcile_creates: true,
            observer: None,
            #[cfg(feature = "http2")]
            http2_prior_knowledge: false,
        }
    }
}

/// Removes surrounding whitespace and one pair of matching quotes (`export TOKEN="…"`
/// pasted into a .env file keeps them).
fn clean(value: &str) -> &str {
    let value = value.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner.trim();
        }
    }
    value
}

impl ClientBuilder {
    /// A builder with the defaults and no token.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder configured from the process environment; see [`Client::from_env`].
    pub fn from_env() -> Result<Self, Error> {
        Self::from_env_vars(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` (for tests,
    /// or a configuration source other than the process environment).
    pub fn from_env_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let token = TOKEN_VARIABLES
            .iter()
            .filter_map(|name| lookup(name))
            .map(|value| clean(&value).to_string())
            .find(|value| !value.is_empty())
            .ok_or_else(|| {
                Error::configuration(format!(
                    "no DigitalOcean token: set {} (or {}) to a personal access token",
                    TOKEN_VARIABLES[0], TOKEN_VARIABLES[1]
                ))
            })?;
        let mut builder = Self::new().token(token);
        if let Some(url) = lookup(BASE_URL_VARIABLE)
            .map(|v| clean(&v).to_string())
            .filter(|v| !v.is_empty())
        {
            builder = builder.base_url(url);
        }
        Ok(builder)
    }

    /// The access token (`dop_v1_…`); whitespace and surrounding quotes are removed.
    pub fn token(mut self, token: impl AsRef<str>) -> Self {
        self.token = Some(Token(clean(token.as_ref()).to_string()));
        self
    }

    /// The API base URL. Must be https, except for a loopback host (tests, local fakes).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Your application's user agent; sent as `<yours> digitalocean-rust/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// How long to wait for a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt may take, from sending to the end of the body (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Retries of failed calls (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Pacing under the rate limit (default [`RateLimitPolicy::default`]).
    pub fn rate_limit_policy(mut self, policy: RateLimitPolicy) -> Self {
        self.rate_limit = policy;
        self
    }

    /// Items per page requested by streams (1–200, default 200).
    pub fn per_page(mut self, per_page: u64) -> Self {
        self.per_page = per_page;
        self
    }

    /// The most pages a [`stream()`](crate::Paginate::stream) keeps in flight once the
    /// total is known (default 16). The stream adapts below it: all of them while the
    /// rate-limit budget is plentiful, fewer as it drains, one once pacing starts.
    pub fn max_pages_in_flight(mut self, pages: usize) -> Self {
        self.max_pages_in_flight = pages;
        self
    }

    /// The most bytes a response body may have (default 32 MiB, about 30 times the largest
    /// page the API answers). A longer body, announced by its `content-length` or arriving
    /// without end, ends the attempt with [`TransportFailure::BodyTooLarge`] without being
    /// read further, so that no server can fill the memory; the error keeps the status and
    /// request id, and its [`outcome`](crate::Error::outcome) says whether a write was
    /// applied (a 2xx: it was).
    ///
    /// [`TransportFailure::BodyTooLarge`]: crate::TransportFailure::BodyTooLarge
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// Speaks HTTP/2 from the first byte, without asking (off by default). Over https the
    /// client needs no such thing: with the `http2` feature (on by default) TLS offers
    /// HTTP/2 and the server picks it, and then every request, the pages a stream keeps in
    /// flight among them, shares one connection. This is for a plain-http loopback server
    /// known to speak HTTP/2 in the clear (a local proxy, the crate's fake); a server that
    /// does not fails every request with a protocol error.
    #[cfg(feature = "http2")]
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.http2_prior_knowledge = true;
        self
    }

    /// Whether a create whose outcome is unknown (sent, then no usable answer) is settled
    /// by looking up what it named (default: on). See the crate's README, "When a write
    /// fails", for the lookups and what makes them unambiguous; every reconciliation shows
    /// in [`ResponseExt::reconciliation`](crate::ResponseExt::reconciliation) or
    /// [`Error::reconciliation`](crate::Error::reconciliation) and in a tracing event.
    pub fn reconcile_creates(mut self, yes: bool) -> Self {
        self.reconcile_creates = yes;
        self
    }

    /// Shows `observer` every attempt the client sends, with its complete answer as the
    /// server sent it (before decoding, before the client's retries decide anything), or
    /// without one when the attempt got none. The token is never shown. For tools that
    /// check traffic against the document, record it or debug it; the observer runs on the
    /// calling task, so it should be quick.
    ///
    /// ```
    /// let client = digitalocean::Client::builder()
    ///     .token("dop_v1_example")
    ///     .observe_exchanges(|exchange| {
    ///         if let Some(response) = &exchange.response {
    ///             eprintln!("{} {} -> {}", exchange.method, exchange.url.path(), response.status);
    ///         }
    ///     })
    ///     .build()?;
    /// # Ok::<(), digitalocean::Error>(())
    /// ```
    pub fn observe_exchanges(
        mut self,
        observer: impl Fn(&ObservedExchange<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(ExchangeObserver(std::sync::Arc::new(observer)));
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let token = self.token.ok_or_else(|| {
            Error::configuration(format!(
                "no DigitalOcean token: call ClientBuilder::token, or set {}",
                TOKEN_VARIABLES[0]
            ))
        })?;
        if token.0.is_empty() {
            return Err(Error::configuration("the DigitalOcean token is empty"));
        }
        let base_url = validate_base_url(&self.base_url)?;
        let per_page = NonZeroU64::new(self.per_page)
            .filter(|n| n.get() <= 200)
            .ok_or_else(|| {
                Error::configuration(format!(
                    "per_page must be from 1 to 200, not {}",
                    self.per_page
                ))
            })?;
        let max_in_flight = NonZeroUsize::new(self.max_pages_in_flight)
            .ok_or_else(|| Error::configuration("max_pages_in_flight must be at least 1"))?;
        if self.max_response_body == 0 {
            return Err(Error::configuration(
                "max_response_body must be at least 1 byte (the default is 32 MiB)",
            ));
        }

        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {}", token.0)).map_err(|_| {
                Error::configuration(
                    "the DigitalOcean token contains characters that cannot be sent in a header",
                )
            })?;
        authorization.set_sensitive(true);
        let user_agent = match &self.user_agent {
            Some(theirs) => format!("{theirs} {USER_AGENT}"),
            None => USER_AGENT.to_string(),
        };
        // Redirects are followed by the client's own transport, for GET and HEAD only and
        // with the token only for the base URL's origin, and the request timeout is its
        // own timer over the whole attempt (see `transport`).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent)
            .connect_timeout(self.connect_timeout);
        #[cfg(feature = "http2")]
        let http = {
            let http = http
                .http2_initial_stream_window_size(HTTP2_STREAM_WINDOW)
                .http2_initial_connection_window_size(HTTP2_CONNECTION_WINDOW);
            if self.http2_prior_knowledge {
                http.http2_prior_knowledge()
            } else {
                http
            }
        };
        let http = http
            .build()
            .map_err(|e| Error::configuration(format!("cannot build the HTTP client: {e}")))?;
        let mut state = ClientState::new(
            self.retry,
            self.rate_limit,
            PageDefaults {
                per_page,
                max_in_flight,
            },
        )
        .with_transport(self.request_timeout, authorization)
        .with_max_response_body(self.max_response_body)
        .with_observer(self.observer);
        state.reconcile_creates = self.reconcile_creates;
        Ok(Client::new_with_client(&base_url, http, state))
    }
}

/// What one HTTP/2 request may have received and not yet read: hyper's own default, 2 MiB,
/// several pages of 200 Droplets.
#[cfg(feature = "http2")]
const HTTP2_STREAM_WINDOW: u32 = 2 << 20;

/// What all requests of the connection together may have received and not yet read: 1 GiB
/// (as Go's HTTP/2 client), so that only the stream window bounds each request. A stream
/// reads its pages' bodies in page order (`read_turns`): the pages waiting for their turn
/// keep what they received, and with hyper's default of 5 MiB for the whole connection,
/// 16 pages of 300 KB nearly fill it, leaving the page whose turn it is starved until its
/// patience runs out. Tried with a 1 MiB window: the 10,000 Droplets of the bench took
/// 2.4 s instead of 0.29 s.
#[cfg(feature = "http2")]
const HTTP2_CONNECTION_WINDOW: u32 = 1 << 30;

/// Checks the base URL and returns it without a trailing slash.
fn validate_base_url(raw: &str) -> Result<String, Error> {
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| Error::configuration(format!("the base URL {raw:?} is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::configuration(format!(
                "refusing to send the token over plain http to {}: use https (http is allowed only for a loopback host)",
                url.host_str().unwrap_or("?")
            )));
        }
        other => {
            return Err(Error::configuration(format!(
                "the base URL must be https, not {other}:"
            )));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::configuration(
            "the base URL must not have a query or fragment",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

impl Client {
    /// A builder for everything the client can be configured with.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the environment: the token from `DIGITALOCEAN_TOKEN`, else
    /// `DIGITALOCEAN_ACCESS_TOKEN` (whitespace and quotes trimmed), the base URL from
    /// `DIGITALOCEAN_API_URL`, else [`DEFAULT_BASE_URL`]. A missing or empty token is an
    /// error of kind [`Configuration`](crate::ErrorKind::Configuration) naming both variables.
    ///
    /// ```no_run
    /// let client = digitalocean::Client::from_env()?;
    /// # Ok::<(), digitalocean::Error>(())
    /// ```
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// The latest rate limit any response reported (shared by every clone of this client).
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner.shared.rate_limit.latest()
    }

    /// The retry policy of this handle.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// A handle with another retry policy for the calls made through it; it shares the
    /// connection pool and rate-limit state with `self`. To retry a POST that may have
    /// reached the server (only when repeating it is harmless):
    ///
    /// ```no_run
    /// # fn run(client: &digitalocean::Client) {
    /// let retrying = client.with_retry_policy(client.retry_policy().clone().retry_posts_after_send(true));
    /// # }
    /// ```
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Client {
        let mut client = self.clone();
        client.inner.retry = policy;
        client
    }

    /// A handle that settles creates with unknown outcomes by a lookup (`true`, the
    /// default) or reports them as errors of outcome
    /// [`Unknown`](crate::Outcome::Unknown) (`false`); it shares everything else with `self`.
    pub fn with_reconcile_creates(&self, yes: bool) -> Client {
        let mut client = self.clone();
        client.inner.reconcile_creates = yes;
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_whitespace_are_trimmed() {
        assert_eq!(clean("  \"dop_v1_abc\"\n"), "dop_v1_abc");
        assert_eq!(clean("'dop_v1_abc'"), "dop_v1_abc");
        assert_eq!(clean("dop_v1_abc"), "dop_v1_abc");
    }

    #[test]
    fn base_urls_must_be_https_unless_loopback() {
        assert_eq!(
            validate_base_url("https://api.digitalocean.com/").unwrap(),
            "https://api.digitalocean.com"
        );
        assert!(validate_base_url("http://127.0.0.1:8080").is_ok());
        assert!(validate_base_url("http://[::1]:8080").is_ok());
        assert!(validate_base_url("http://localhost:3000/prefix").is_ok());
        let error = validate_base_url("http://api.digitalocean.com").unwrap_err();
        assert!(error.to_string().contains("plain http"), "{error}");
        assert!(validate_base_url("ftp://x").is_err());
        assert!(validate_base_url("not a url").is_err());
    }

    #[test]
    fn the_token_is_redacted_in_debug() {
        let token = Token("dop_v1_secret".into());
        assert_eq!(format!("{token:?}"), "Token(dop_v1_<redacted>)");
    }
}
