//! The value every generated `Client` carries (progenitor's "inner" type): the policies of
//! the hand-written layer, and the rate-limit state that clones of a client and concurrent
//! tasks share. It never holds the token (that lives, marked sensitive, in the HTTP
//! client's default headers).

use std::fmt;
use std::num::{NonZeroU64, NonZeroUsize};
use std::sync::Arc;

use crate::rate_limit::{RateLimitPolicy, RateLimitTracker};
use crate::retry::RetryPolicy;

/// Defaults of the pagination streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageDefaults {
    /// Items per page requested by streams (`per_page`, 1–200; default 200).
    pub per_page: NonZeroU64,
    /// The most pages a [`stream()`](crate::Paginate::stream) keeps in flight once the
    /// total is known (default 16); below it the stream follows the rate-limit budget.
    pub max_in_flight: NonZeroUsize,
}

// Evaluated at compile time: the defaults cannot fail at run time.
const DEFAULT_PER_PAGE: NonZeroU64 = NonZeroU64::new(200).unwrap();
const DEFAULT_MAX_PAGES_IN_FLIGHT: NonZeroUsize = NonZeroUsize::new(16).unwrap();

/// The most bytes a response body may have by default: 32 MiB. The largest answers of the
/// API are pages of 200 items (a page of 200 Droplets is about 300 KB to 1 MB); the bound
/// keeps a broken or hostile server (a body without end, a `content-length` of terabytes)
/// from filling the memory while the attempt's timer runs.
pub(crate) const DEFAULT_MAX_RESPONSE_BODY: usize = 32 << 20;

impl Default for PageDefaults {
    fn default() -> Self {
        Self {
            per_page: DEFAULT_PER_PAGE,
            max_in_flight: DEFAULT_MAX_PAGES_IN_FLIGHT,
        }
    }
}

pub(crate) struct Shared {
    pub(crate) rate_limit_policy: RateLimitPolicy,
    pub(crate) pages: PageDefaults,
    pub(crate) rate_limit: RateLimitTracker,
    /// How long one attempt may take, enforced by the transport's own timer (`None`: a
    /// client built by hand, whose HTTP client applies its own timeout if it has one).
    pub(crate) request_timeout: Option<std::time::Duration>,
    /// `Bearer <token>`, marked sensitive, sent only to the base URL's origin (a client
    /// built by hand may carry it in its HTTP client's default headers instead).
    pub(crate) authorization: Option<reqwest::header::HeaderValue>,
    /// The most bytes a response body may have (see
    /// [`ClientBuilder::max_response_body`](crate::ClientBuilder::max_response_body)).
    pub(crate) max_response_body: usize,
    /// Shown every attempt, when set.
    pub(crate) observer: Option<crate::observe::ExchangeObserver>,
    /// The origin of the client's base URL, parsed at the first request.
    pub(crate) base_origin: crate::transport::BaseOrigin,
}

/// The state of a [`Client`](crate::Client): policies and shared rate-limit tracking.
/// Build clients with [`Client::builder`](crate::Client::builder); `ClientState::default()`
/// is for tests against a local server.
#[derive(Clone)]
pub struct ClientState {
    pub(crate) shared: Arc<Shared>,
    /// Per handle: [`Client::with_retry_policy`](crate::Client::with_retry_policy) makes a
    /// handle with another policy that still shares the rate-limit state.
    pub(crate) retry: RetryPolicy,
    /// Per handle: whether creates whose outcome is unknown are looked up (default on).
    pub(crate) reconcile_creates: bool,
}

impl ClientState {
    pub(crate) fn new(
        retry: RetryPolicy,
        rate_limit_policy: RateLimitPolicy,
        pages: PageDefaults,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                rate_limit_policy,
                pages,
                rate_limit: RateLimitTracker::default(),
                request_timeout: None,
                authorization: None,
                max_response_body: DEFAULT_MAX_RESPONSE_BODY,
                observer: None,
                base_origin: Default::default(),
            }),
            retry,
            reconcile_creates: true,
        }
    }

    /// The same state, showing every attempt to `observer`.
    pub(crate) fn with_observer(
        mut self,
        observer: Option<crate::observe::ExchangeObserver>,
    ) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.observer = observer;
        }
        self
    }

    /// The same state, accepting response bodies of at most `bytes`.
    pub(crate) fn with_max_response_body(mut self, bytes: usize) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.max_response_body = bytes;
        }
        self
    }

    /// The same state, with the per-attempt timeout and the token.
    pub(crate) fn with_transport(
        mut self,
        timeout: std::time::Duration,
        authorization: reqwest::header::HeaderValue,
    ) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.request_timeout = Some(timeout);
            shared.authorization = Some(authorization);
        }
        self
    }
}

impl Default for ClientState {
    fn default() -> Self {
        Self::new(
            RetryPolicy::default(),
            RateLimitPolicy::default(),
            PageDefaults::default(),
        )
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientState")
            .field("retry", &self.retry)
            .field("reconcile_creates", &self.reconcile_creates)
            .field("rate_limit_policy", &self.shared.rate_limit_policy)
            .field("pages", &self.shared.pages)
            .field("max_response_body", &self.shared.max_response_body)
            .field("latest_rate_limit", &self.shared.rate_limit.latest())
            .finish()
    }
}
