//! The pages of a stream read their bodies in page order, a few at a time.
//!
//! Why: a page in flight that is still waiting on the server costs next to nothing; what
//! costs memory is a page whose answer has arrived: its body (about 300 KB for 200
//! Droplets), then its decoded items (about 500 KB). When the answers to 16 pages in flight
//! arrived together, all 16 were read and decoded at once, and most then waited, decoded,
//! for the oldest to be yielded. Reading in order, at most [`READING_AT_ONCE`] pages ahead
//! of the oldest unread one, keeps that to a few pages while every request stays in
//! flight; an answer not read yet waits in the socket (TCP flow control holds the rest at
//! the server).
//!
//! How: each page future of a stream runs inside a task-local [`Turn`]; the transport asks
//! [`wait_for_turn`] before reading a body, which returns at once outside a stream. A wait
//! lasts until the earlier pages have their answers, and never past [`MOST_PATIENCE`].

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Pages that may be reading (or decoding) their answers at once, counted from the oldest
/// page that has not finished: enough to read the next body while one is decoded.
pub(crate) const READING_AT_ONCE: u64 = 2;

tokio::task_local! {
    static TURN: Turn;
}

/// Which page a request belongs to, and the stream's gate.
#[derive(Clone)]
pub(crate) struct Turn {
    pub page: u64,
    pub gate: Arc<Gate>,
}

/// The order in which a stream's pages read their bodies.
#[derive(Debug)]
pub(crate) struct Gate {
    state: Mutex<GateState>,
    changed: Notify,
}

#[derive(Debug)]
struct GateState {
    /// Every page below this one has finished.
    oldest_unfinished: u64,
    /// Pages at or above `oldest_unfinished` that have finished.
    finished: BTreeSet<u64>,
    /// When each page reading now got its turn.
    reading_since: BTreeMap<u64, Instant>,
    /// The shortest time a page took from its turn to its decoded items.
    quickest_turn: Option<Duration>,
}

impl Gate {
    /// A gate for pages numbered from `first`.
    pub(crate) fn new(first: u64) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(GateState {
                oldest_unfinished: first,
                finished: BTreeSet::new(),
                reading_since: BTreeMap::new(),
                quickest_turn: None,
            }),
            changed: Notify::new(),
        })
    }

    /// Whether `page` may read now; if so, its turn starts.
    fn take_turn(&self, page: u64) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let may = page < state.oldest_unfinished.saturating_add(READING_AT_ONCE);
        if may {
            state.reading_since.insert(page, Instant::now());
        }
        may
    }

    /// `page` reads now, in its turn or not.
    fn start_turn(&self, page: u64) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.reading_since.insert(page, Instant::now());
    }

    /// The shortest time a page of this stream has taken to read and decode its answer
    /// once its turn came: about how often the stream can take in a page.
    pub(crate) fn quickest_turn(&self) -> Option<Duration> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .quickest_turn
    }

    /// `page` has its answer (or gave up): the pages after it may read.
    pub(crate) fn finished(&self, page: u64) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(since) = state.reading_since.remove(&page) {
            let took = since.elapsed();
            state.quickest_turn = Some(state.quickest_turn.map_or(took, |q| q.min(took)));
        }
        if page < state.oldest_unfinished {
            return;
        }
        state.finished.insert(page);
        loop {
            let oldest = state.oldest_unfinished;
            if !state.finished.remove(&oldest) {
                break;
            }
            state.oldest_unfinished = oldest + 1;
        }
        drop(state);
        self.changed.notify_waiters();
    }
}

/// Runs `future` (one page's request) as `turn`'s page.
pub(crate) async fn in_turn<F: Future>(turn: Turn, future: F) -> F::Output {
    TURN.scope(turn, future).await
}

/// The longest a page waits for its turn. Turns keep memory down; they must not hold an
/// answer long enough for its request to time out (and be sent again) while an earlier
/// page is retried or its server is slow: past this, the page reads anyway.
pub(crate) const MOST_PATIENCE: Duration = Duration::from_secs(1);

/// Waits until the current page of a stream may read its body, at most [`MOST_PATIENCE`];
/// returns at once for a request that is not a page of a stream.
pub(crate) async fn wait_for_turn() {
    if let Ok(turn) = TURN.try_with(Turn::clone) {
        // Boxed: this wait (a timer and a notification, about 200 bytes) happens only in
        // streams, and unboxed it would sit in the future of every call.
        Box::pin(wait_for_turn_in_stream(turn)).await;
    }
}

async fn wait_for_turn_in_stream(turn: Turn) {
    if tokio::time::timeout(MOST_PATIENCE, wait_until_may_read(&turn))
        .await
        .is_err()
    {
        // Read out of turn; its time still counts as a turn when it finishes.
        turn.gate.start_turn(turn.page);
    }
}

async fn wait_until_may_read(turn: &Turn) {
    loop {
        // Registered before the check, so that a page finishing in between is not missed.
        let notified = turn.gate.changed.notified();
        let mut notified = std::pin::pin!(notified);
        notified.as_mut().enable();
        if turn.gate.take_turn(turn.page) {
            return;
        }
        notified.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_read_up_to_reading_at_once_ahead_of_the_oldest_unfinished() {
        let gate = Gate::new(2);
        assert!(gate.take_turn(2));
        assert!(gate.take_turn(2 + READING_AT_ONCE - 1));
        assert!(!gate.take_turn(2 + READING_AT_ONCE));
        // A later page finishing first does not open more turns...
        gate.finished(3);
        assert!(!gate.take_turn(2 + READING_AT_ONCE));
        // ...the oldest finishing opens every turn up to the next unfinished page.
        gate.finished(2);
        assert!(gate.take_turn(3 + READING_AT_ONCE));
        assert!(!gate.take_turn(4 + READING_AT_ONCE));
        // Finishing twice, or a page below the watermark, changes nothing.
        gate.finished(2);
        assert!(!gate.take_turn(4 + READING_AT_ONCE));
    }

    #[test]
    fn the_quickest_turn_is_the_shortest_from_a_turn_to_its_finish() {
        let gate = Gate::new(1);
        assert_eq!(gate.quickest_turn(), None, "nothing measured yet");
        assert!(gate.take_turn(1));
        std::thread::sleep(Duration::from_millis(30));
        gate.finished(1);
        let slow = gate.quickest_turn().expect("page 1 measured");
        assert!(slow >= Duration::from_millis(30));
        assert!(gate.take_turn(2));
        gate.finished(2);
        let quick = gate.quickest_turn().expect("page 2 measured");
        assert!(quick < slow, "{quick:?} is the shorter turn");
        // A page that finished without a turn (it failed before an answer) measures nothing.
        gate.finished(3);
        assert_eq!(gate.quickest_turn(), Some(quick));
    }

    #[tokio::test]
    async fn a_request_outside_a_stream_never_waits() {
        tokio::time::timeout(Duration::from_secs(1), wait_for_turn())
            .await
            .expect("no turn to wait for");
    }

    #[tokio::test]
    async fn a_page_waits_until_the_pages_before_it_finish() {
        let gate = Gate::new(1);
        let late = 1 + READING_AT_ONCE;
        let waiting = tokio::spawn(in_turn(
            Turn {
                page: late,
                gate: gate.clone(),
            },
            wait_for_turn(),
        ));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !waiting.is_finished(),
            "page {late} read before page 1 finished"
        );
        gate.finished(1);
        tokio::time::timeout(Duration::from_millis(500), waiting)
            .await
            .expect("page 1 finished, so the next turn opens")
            .expect("no panic");
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_reads_out_of_turn_rather_than_wait_past_its_patience() {
        let gate = Gate::new(1);
        let late = 1 + READING_AT_ONCE;
        let started = tokio::time::Instant::now();
        in_turn(
            Turn {
                page: late,
                gate: gate.clone(),
            },
            wait_for_turn(),
        )
        .await;
        assert_eq!(started.elapsed(), MOST_PATIENCE, "page 1 never finished");
        gate.finished(late);
        assert!(
            gate.quickest_turn().is_some(),
            "its reading counts as a turn"
        );
    }
}
