//! The catalog half of `/readyz`. The index is read in the background, one
//! read at a time, and the probe answers from the last result: a catalog host
//! that hangs (or a long refresh holding the catalog) must not make the probe
//! slow, or the orchestrator would pull a healthy replica out of service.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::mcp::Context;

/// How long a probe waits for a read it started when it has no answer yet;
/// below Kubernetes' default probe timeout of one second.
const FIRST_ANSWER_WAIT: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub enum CatalogState {
    /// No read has finished yet.
    Unknown,
    Ready {
        location: String,
        /// Seconds since the epoch when this copy was fetched.
        fetched_at: u64,
        warning: Option<String>,
    },
    Failed(String),
}

pub struct Readiness {
    state: watch::Sender<CatalogState>,
    reading: AtomicBool,
}

impl Readiness {
    pub fn new() -> Arc<Self> {
        Arc::new(Readiness {
            state: watch::Sender::new(CatalogState::Unknown),
            reading: AtomicBool::new(false),
        })
    }

    /// Starts reading the index unless a read is already running.
    pub fn refresh(self: &Arc<Self>, context: Arc<Context>) {
        if self.reading.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let state = match context.catalog.get(false).await {
                Ok(snapshot) => CatalogState::Ready {
                    location: snapshot.location,
                    fetched_at: snapshot.fetched_at,
                    warning: snapshot.warning,
                },
                Err(e) => CatalogState::Failed(e.to_string()),
            };
            this.state.send_replace(state);
            this.reading.store(false, Ordering::Release);
        });
    }

    /// The last result, after starting a fresh read. A probe with only a
    /// failure or nothing to report waits briefly for that read.
    pub async fn current(self: &Arc<Self>, context: Arc<Context>) -> CatalogState {
        let mut changes = self.state.subscribe();
        self.refresh(context);
        let last = changes.borrow_and_update().clone();
        if matches!(last, CatalogState::Ready { .. }) {
            return last;
        }
        match tokio::time::timeout(FIRST_ANSWER_WAIT, changes.changed()).await {
            Ok(Ok(())) => changes.borrow().clone(),
            _ => last,
        }
    }
}
