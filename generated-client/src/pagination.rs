//! Pagination as streams. Every list operation with `page`/`per_page` (tags, Droplets,
//! backup policies, backups, firewalls, kernels, snapshots, project resources, volumes,
//! volume snapshots) gets `.stream()` on its request builder: the items of all pages, in
//! order, exactly once, keeping the builder's filters.
//!
//! Pages are walked by number against the configured base URL; `links.pages.next` is only
//! read to know whether another page exists, never followed (a link to another host would
//! otherwise receive the token). Once `meta.total` is known from the first page, the other
//! pages are fetched concurrently and still yielded in order. How many are in flight follows
//! the rate-limit budget (see [`Paginate::stream`]); memory is bounded by that number. The
//! answers are read in page order, two at a time, and requests go out no closer together
//! than the stream's quickest page takes to read and decode: answers then arrive about as
//! fast as the stream takes them in, instead of all at once to wait, buffered, for the
//! oldest.
//!
//! ```no_run
//! use digitalocean::Paginate;
//! use futures::TryStreamExt;
//! # async fn run(client: &digitalocean::Client) -> Result<(), digitalocean::Error> {
//! let web: Vec<_> = client.droplets_list().tag_name("web").stream().try_collect().await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::num::{NonZeroU64, NonZeroUsize};
use std::pin::Pin;
use std::sync::Arc;

use futures_util::future::{self, Either};
use futures_util::stream::{self, FuturesOrdered, Stream, StreamExt};
use progenitor_client::ResponseValue;
use tokio::time::Instant;

use crate::error::ErrorBody;
use crate::read_turns::{Gate, Turn, in_turn};
use crate::{Client, Error};

/// What the pagination layer needs from one page.
#[derive(Debug)]
pub struct PageParts<T> {
    /// The page's items.
    pub items: Vec<T>,
    /// `meta.total`, when the operation documents it.
    pub total: Option<u64>,
    /// `links.pages.next`, when present.
    pub next: Option<String>,
}

/// A request builder of a paginated operation. Implemented by the generated code for
/// every operation with `page` and `per_page` parameters.
pub trait PageRequest<'a>: Clone + Send + Sized + 'a {
    /// The response of one page.
    type Page: Send + 'a;
    /// One item.
    type Item: Send + 'a;
    /// The operation's error body.
    type ErrorBody: ErrorBody;
    /// The operationId.
    const OPERATION_ID: &'static str;

    /// The client the builder belongs to.
    fn client(&self) -> &'a Client;

    /// The same request for another page.
    fn for_page(self, page: NonZeroU64, per_page: NonZeroU64) -> Self;

    /// Sends the request.
    fn send_page(
        self,
    ) -> impl Future<
        Output = Result<ResponseValue<Self::Page>, progenitor_client::Error<Self::ErrorBody>>,
    > + Send
    + 'a;

    /// Splits a page into its items and pagination data.
    fn into_parts(page: Self::Page) -> PageParts<Self::Item>;
}

/// A stream of items across pages; ends after the first error.
pub type ItemStream<'a, T> = Pin<Box<dyn Stream<Item = Result<T, Error>> + Send + 'a>>;

/// Page size and a fixed number of pages in flight, for [`Paginate::stream_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageOptions {
    /// Items requested per page (1–200).
    pub per_page: NonZeroU64,
    /// Pages in flight at once once the total is known, whatever the rate limit says.
    pub concurrency: NonZeroUsize,
}

impl PageOptions {
    /// The client's page size, and its most pages in flight as a fixed number (see
    /// [`ClientBuilder`](crate::ClientBuilder)).
    pub fn of(client: &Client) -> Self {
        let defaults = client.inner.shared.pages;
        Self {
            per_page: defaults.per_page,
            concurrency: defaults.max_in_flight,
        }
    }
}

/// Requests of rate-limit headroom (the budget left before pacing starts) that each page in
/// flight of an adaptive stream needs. Pages in flight are requests already committed, so
/// a window at most 1/8 of the headroom can never carry the client past the pacing line
/// however many streams share the budget, and shrinks smoothly as the budget drains.
pub const HEADROOM_PER_PAGE_IN_FLIGHT: u64 = 8;

/// How many pages a stream keeps in flight.
#[derive(Debug, Clone, Copy)]
enum Window {
    /// Always this many.
    Fixed(usize),
    /// Up to `max`, following the rate-limit budget the client has seen.
    Adaptive { max: usize },
}

impl Window {
    /// Pages that may be in flight now.
    fn size(self, client: &Client) -> usize {
        match self {
            Window::Fixed(size) => size,
            Window::Adaptive { max } => {
                let shared = &client.inner.shared;
                match shared.rate_limit.headroom(&shared.rate_limit_policy) {
                    // Nothing known (or the window reset): the budget is not in question.
                    None => max,
                    Some(headroom) => usize::try_from(headroom / HEADROOM_PER_PAGE_IN_FLIGHT)
                        .unwrap_or(usize::MAX)
                        .clamp(1, max),
                }
            }
        }
    }
}

/// `.stream()` for every paginated request builder.
pub trait Paginate<'a>: PageRequest<'a> {
    /// Every item of every page, with the client's page size (default 200). The builder's
    /// `page` and `per_page` are replaced.
    ///
    /// After the first page, the pages in flight follow the rate-limit budget: up to the
    /// client's [`max_pages_in_flight`](crate::ClientBuilder::max_pages_in_flight)
    /// (default 16) while it is plentiful, one page per
    /// [`HEADROOM_PER_PAGE_IN_FLIGHT`] requests left before pacing starts as it drains,
    /// and one at a time once pacing has started.
    fn stream(self) -> ItemStream<'a, Self::Item> {
        let client = self.client();
        let defaults = client.inner.shared.pages;
        let window = Window::Adaptive {
            max: defaults.max_in_flight.get(),
        };
        items(pages(self, defaults.per_page, window))
    }

    /// Like [`stream`](Self::stream) with a page size and a fixed number of pages in flight.
    fn stream_with(self, options: PageOptions) -> ItemStream<'a, Self::Item> {
        let window = Window::Fixed(options.concurrency.get());
        items(pages(self, options.per_page, window))
    }
}

fn items<'a, T: Send + 'a>(
    pages: impl Stream<Item = Result<Vec<T>, Error>> + Send + 'a,
) -> ItemStream<'a, T> {
    // Each page's items are moved out one by one (no second vector of results per page).
    Box::pin(pages.flat_map(|page| {
        let (items, error) = match page {
            Ok(items) => (items, None),
            Err(error) => (Vec::new(), Some(Err(error))),
        };
        stream::iter(items.into_iter().map(Ok).chain(error))
    }))
}

impl<'a, R: PageRequest<'a>> Paginate<'a> for R {}

type PageResult<T> = Result<PageParts<T>, Error>;
type PageFuture<'a, T> = Pin<Box<dyn Future<Output = PageResult<T>> + Send + 'a>>;

/// Requests page `page`; with a gate, the page reads its answer in its turn (see
/// [`read_turns`](crate::read_turns)).
fn fetch<'a, R: PageRequest<'a>>(
    request: &R,
    page: u64,
    per_page: NonZeroU64,
    gate: Option<&Arc<Gate>>,
) -> PageFuture<'a, R::Item> {
    let request = request.clone();
    let gate = gate.cloned();
    Box::pin(async move {
        let send = request
            .for_page(NonZeroU64::new(page).unwrap_or(NonZeroU64::MIN), per_page)
            .send_page();
        let response = match &gate {
            None => send.await,
            Some(gate) => {
                let turn = Turn {
                    page,
                    gate: gate.clone(),
                };
                let response = in_turn(turn, send).await;
                gate.finished(page);
                response
            }
        };
        Ok(R::into_parts(response.map_err(Error::from)?.into_inner()))
    })
}

/// Where the walk is.
enum Walk<'a, R: PageRequest<'a>> {
    /// Nothing fetched yet.
    Start(R),
    /// Pages 2..=last of a known total, fetched concurrently, yielded in order.
    Planned {
        request: R,
        ahead: Ahead<'a, R::Item>,
        last: u64,
        seen: u64,
        total: u64,
    },
    /// Following `next` one page at a time (no total, or more pages than planned).
    Sequential {
        request: R,
        page: u64,
    },
    Done,
}

/// The planned pages in flight, oldest first, the next page to request, the order in which
/// they read their answers, and when the last request went out.
struct Ahead<'a, T> {
    in_flight: FuturesOrdered<PageFuture<'a, T>>,
    next: u64,
    gate: Arc<Gate>,
    last_sent: Option<Instant>,
}

impl<'a, T> Ahead<'a, T> {
    /// Requests more pages, up to `last`, until the window is full. Called before every
    /// wait, so the window follows the budget that the pages which came back reported.
    ///
    /// Requests go out no closer together than the stream's quickest page (the time from an
    /// answer's arrival to its decoded items): sent all at once, their answers also arrived
    /// all at once and waited, whole, in the connections' buffers (16 pages in flight held
    /// about 5 MB more than 4), while the stream could only take them in one by one. Spaced,
    /// they arrive about as fast as they are taken in, which costs no time: the stream was
    /// the bottleneck. Returns when the next request is due, if one is held back.
    fn fill<R: PageRequest<'a, Item = T>>(
        &mut self,
        request: &R,
        per_page: NonZeroU64,
        window: Window,
        last: u64,
    ) -> Option<Instant> {
        let size = window.size(request.client());
        let spacing = self.gate.quickest_turn();
        while self.in_flight.len() < size && self.next <= last {
            let now = Instant::now();
            if let (Some(sent), Some(spacing)) = (self.last_sent, spacing) {
                let due = sent + spacing;
                // With nothing in flight there is nothing to wait for: send now.
                if due > now && !self.in_flight.is_empty() {
                    return Some(due);
                }
            }
            self.in_flight
                .push_back(fetch(request, self.next, per_page, Some(&self.gate)));
            self.next += 1;
            self.last_sent = Some(now);
        }
        None
    }

    /// The oldest page in flight, or the time the next held-back request falls due,
    /// whichever comes first.
    async fn next_or_due(&mut self, due: Instant) -> Option<Option<PageResult<T>>> {
        let due = std::pin::pin!(tokio::time::sleep_until(due));
        match future::select(self.in_flight.next(), due).await {
            Either::Left((page, _)) => Some(page),
            Either::Right(((), _)) => None,
        }
    }
}

fn pages<'a, R: PageRequest<'a>>(
    request: R,
    per_page: NonZeroU64,
    window: Window,
) -> impl Stream<Item = Result<Vec<R::Item>, Error>> + Send + 'a {
    stream::unfold(Walk::Start(request), move |walk| async move {
        match walk {
            Walk::Done => None,
            Walk::Start(request) => {
                // The first page has a turn too: its time from answer to items paces the rest.
                let gate = Gate::new(1);
                match fetch(&request, 1, per_page, Some(&gate)).await {
                    Err(error) => Some((Err(error), Walk::Done)),
                    Ok(first) => {
                        let seen = first.items.len() as u64;
                        warn_about_foreign_link(
                            R::OPERATION_ID,
                            request.client(),
                            first.next.as_deref(),
                        );
                        let next = match (first.total, first.next.is_some()) {
                            (Some(total), _) if seen >= total || first.items.is_empty() => {
                                Walk::Done
                            }
                            (Some(total), _) => {
                                let last = total.div_ceil(per_page.get()).max(1);
                                let ahead = Ahead {
                                    in_flight: FuturesOrdered::new(),
                                    next: 2,
                                    gate,
                                    last_sent: None,
                                };
                                Walk::Planned {
                                    request,
                                    ahead,
                                    last,
                                    seen,
                                    total,
                                }
                            }
                            (None, true) => Walk::Sequential { request, page: 2 },
                            (None, false) => Walk::Done,
                        };
                        Some((Ok(first.items), next))
                    }
                }
            }
            Walk::Planned {
                request,
                mut ahead,
                last,
                seen,
                total,
            } => {
                let next = loop {
                    match ahead.fill(&request, per_page, window, last) {
                        None => break ahead.in_flight.next().await,
                        Some(due) => {
                            if let Some(page) = ahead.next_or_due(due).await {
                                break page;
                            }
                        }
                    }
                };
                match next {
                    // Every planned page was read and the last one still announced a next
                    // page: the collection grew since the first page; go on one at a time.
                    None => Some((
                        Ok(Vec::new()),
                        Walk::Sequential {
                            request,
                            page: last + 1,
                        },
                    )),
                    Some(Err(error)) => Some((Err(error), Walk::Done)),
                    Some(Ok(page)) => {
                        warn_about_foreign_link(
                            R::OPERATION_ID,
                            request.client(),
                            page.next.as_deref(),
                        );
                        let seen = seen + page.items.len() as u64;
                        // Stop when the total was seen, or the server says there is no next page
                        // (the collection shrank): the pages still in flight are dropped.
                        let walk = if seen >= total || page.items.is_empty() || page.next.is_none()
                        {
                            Walk::Done
                        } else {
                            Walk::Planned {
                                request,
                                ahead,
                                last,
                                seen,
                                total,
                            }
                        };
                        Some((Ok(page.items), walk))
                    }
                }
            }
            Walk::Sequential { request, page } => match fetch(&request, page, per_page, None).await
            {
                Err(error) => Some((Err(error), Walk::Done)),
                Ok(parts) => {
                    warn_about_foreign_link(
                        R::OPERATION_ID,
                        request.client(),
                        parts.next.as_deref(),
                    );
                    let walk = if parts.next.is_some() && !parts.items.is_empty() {
                        Walk::Sequential {
                            request,
                            page: page + 1,
                        }
                    } else {
                        Walk::Done
                    };
                    Some((Ok(parts.items), walk))
                }
            },
        }
    })
}

/// A `next` link to another host is suspicious (and never followed); say so.
fn warn_about_foreign_link(operation: &str, client: &Client, next: Option<&str>) {
    use progenitor_client::ClientInfo;
    let Some(next) = next else {
        return;
    };
    let ours = reqwest::Url::parse(client.baseurl()).ok();
    let theirs = reqwest::Url::parse(next).ok();
    let same = match (&ours, &theirs) {
        (Some(a), Some(b)) => {
            a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
        }
        _ => false,
    };
    if !same {
        tracing::warn!(
            operation,
            "ignoring a next-page link to another host; pages are requested from the configured base URL"
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::RateLimit;

    fn client_that_saw(remaining: Option<u64>) -> Client {
        let client = Client::builder()
            .token("dop_v1_test")
            .base_url("http://127.0.0.1:1")
            .max_pages_in_flight(16)
            .build()
            .unwrap();
        if let Some(remaining) = remaining {
            client.inner.shared.rate_limit.observe(RateLimit {
                limit: 5000,
                remaining,
                reset: SystemTime::now() + Duration::from_secs(600),
            });
        }
        client
    }

    fn adaptive(remaining: Option<u64>) -> usize {
        Window::Adaptive { max: 16 }.size(&client_that_saw(remaining))
    }

    #[test]
    fn the_adaptive_window_is_full_while_no_limit_is_known_or_plenty_is_left() {
        assert_eq!(adaptive(None), 16);
        assert_eq!(adaptive(Some(5000)), 16);
        assert_eq!(adaptive(Some(250 + 8 * 16)), 16);
    }

    #[test]
    fn the_adaptive_window_shrinks_with_the_headroom_before_pacing() {
        assert_eq!(adaptive(Some(250 + 8 * 16 - 1)), 15);
        assert_eq!(adaptive(Some(250 + 8 * 4)), 4);
        assert_eq!(adaptive(Some(250 + 8)), 1);
    }

    #[test]
    fn the_adaptive_window_is_one_page_once_pacing_starts() {
        assert_eq!(adaptive(Some(250)), 1);
        assert_eq!(adaptive(Some(3)), 1);
        assert_eq!(adaptive(Some(0)), 1);
    }

    #[test]
    fn a_fixed_window_ignores_the_budget() {
        assert_eq!(Window::Fixed(3).size(&client_that_saw(Some(0))), 3);
        assert_eq!(Window::Fixed(3).size(&client_that_saw(None)), 3);
    }
}
