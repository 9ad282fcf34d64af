//! Pagination as streams. Every list operation with `page`/`per_page` (tags, Droplets,
//! backup policies, backups, firewalls, kernels, snapshots, project resources, volumes,
//! volume snapshots) gets `.stream()` on its request builder: the items of all pages, in
//! order, exactly once, keeping the builder's filters.
//!
//! Pages are walked by number against the configured base URL; `links.pages.next` is only
//! read to know whether another page exists, never followed (a link to another host would
//! otherwise receive the token). Once `meta.total` is known from the first page, the other
//! pages are fetched concurrently (bounded) and still yielded in order.
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

use futures_util::stream::{self, Stream, StreamExt};
use progenitor_client::ResponseValue;

use crate::error::ErrorBody;
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

/// Page size and concurrency of one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageOptions {
    /// Items requested per page (1–200).
    pub per_page: NonZeroU64,
    /// Pages in flight at once once the total is known.
    pub concurrency: NonZeroUsize,
}

impl PageOptions {
    /// The client's defaults (see [`ClientBuilder`](crate::ClientBuilder)).
    pub fn of(client: &Client) -> Self {
        let defaults = client.inner.shared.pages;
        Self {
            per_page: defaults.per_page,
            concurrency: defaults.concurrency,
        }
    }
}

/// `.stream()` for every paginated request builder.
pub trait Paginate<'a>: PageRequest<'a> {
    /// Every item of every page, with the client's page size (default 200) and
    /// concurrency (default 4). The builder's `page` and `per_page` are replaced.
    fn stream(self) -> ItemStream<'a, Self::Item> {
        let options = PageOptions::of(self.client());
        self.stream_with(options)
    }

    /// Like [`stream`](Self::stream) with explicit options.
    fn stream_with(self, options: PageOptions) -> ItemStream<'a, Self::Item> {
        Box::pin(pages(self, options).flat_map(|page| match page {
            Ok(items) => stream::iter(items.into_iter().map(Ok).collect::<Vec<_>>()),
            Err(error) => stream::iter(vec![Err(error)]),
        }))
    }
}

impl<'a, R: PageRequest<'a>> Paginate<'a> for R {}

type PageResult<T> = Result<PageParts<T>, Error>;
type PageFuture<'a, T> = Pin<Box<dyn Future<Output = PageResult<T>> + Send + 'a>>;

fn fetch<'a, R: PageRequest<'a>>(
    request: &R,
    page: u64,
    per_page: NonZeroU64,
) -> PageFuture<'a, R::Item> {
    let request = request.clone();
    Box::pin(async move {
        let page = NonZeroU64::new(page).unwrap_or(NonZeroU64::MIN);
        let response = request
            .for_page(page, per_page)
            .send_page()
            .await
            .map_err(Error::from)?;
        Ok(R::into_parts(response.into_inner()))
    })
}

/// Where the walk is.
enum Walk<'a, R: PageRequest<'a>> {
    /// Nothing fetched yet.
    Start(R),
    /// Pages 2..=last of a known total, fetched concurrently, yielded in order.
    Planned {
        request: R,
        pages: Pin<Box<dyn Stream<Item = PageResult<R::Item>> + Send + 'a>>,
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

fn pages<'a, R: PageRequest<'a>>(
    request: R,
    options: PageOptions,
) -> impl Stream<Item = Result<Vec<R::Item>, Error>> + Send + 'a {
    let per_page = options.per_page;
    let concurrency = options.concurrency.get();
    stream::unfold(Walk::Start(request), move |walk| async move {
        match walk {
            Walk::Done => None,
            Walk::Start(request) => match fetch(&request, 1, per_page).await {
                Err(error) => Some((Err(error), Walk::Done)),
                Ok(first) => {
                    let seen = first.items.len() as u64;
                    warn_about_foreign_link(
                        R::OPERATION_ID,
                        request.client(),
                        first.next.as_deref(),
                    );
                    let next = match (first.total, first.next.is_some()) {
                        (Some(total), _) if seen >= total || first.items.is_empty() => Walk::Done,
                        (Some(total), _) => {
                            let last = total.div_ceil(per_page.get()).max(1);
                            let planned = request.clone();
                            let pages = stream::iter(2..=last)
                                .map(move |page| fetch(&planned, page, per_page))
                                .buffered(concurrency)
                                .boxed();
                            Walk::Planned {
                                request,
                                pages,
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
            },
            Walk::Planned {
                request,
                mut pages,
                last,
                seen,
                total,
            } => match pages.next().await {
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
                    let walk = if seen >= total || page.items.is_empty() || page.next.is_none() {
                        Walk::Done
                    } else {
                        Walk::Planned {
                            request,
                            pages,
                            last,
                            seen,
                            total,
                        }
                    };
                    Some((Ok(page.items), walk))
                }
            },
            Walk::Sequential { request, page } => match fetch(&request, page, per_page).await {
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
