//! What every request of a running fake shares: the store, the knobs and queued faults,
//! the rate-limit budget, the record of exchanges and the request counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use axum::body::Bytes;

use crate::budget::Budget;
use crate::faults::{Faults, Knobs};
use crate::model::Store;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked cannot leave the plain data inconsistent: keep serving.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One request and the response the fake sent, when recording is on.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The response status.
    pub status: u16,
    /// The response headers, lowercase names.
    pub headers: Vec<(String, String)>,
    /// The response body.
    pub body: Bytes,
}

pub(crate) struct ServerState {
    pub(crate) store: Mutex<Store>,
    pub(crate) knobs: Mutex<Knobs>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) budget: Mutex<Budget>,
    pub(crate) token: Option<String>,
    pub(crate) record: bool,
    pub(crate) exchanges: Mutex<Vec<Exchange>>,
    pub(crate) requests: AtomicU64,
    /// Of them, those that came over HTTP/2.
    pub(crate) http2_requests: AtomicU64,
    /// TCP connections accepted.
    pub(crate) connections: AtomicU64,
    pub(crate) in_flight: AtomicU64,
    pub(crate) max_in_flight: AtomicU64,
    /// Requests the budget refused with a 429 (injected 429s not counted).
    pub(crate) rate_limited: AtomicU64,
    /// Applied to every answer, when set.
    pub(crate) drift: Option<crate::drift::Drift>,
}

/// Counts a request as in flight until dropped (whatever path the pipeline takes).
pub(crate) struct InFlight<'s>(&'s ServerState);

impl<'s> InFlight<'s> {
    pub(crate) fn enter(state: &'s ServerState) -> Self {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ServerState {
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }
}
