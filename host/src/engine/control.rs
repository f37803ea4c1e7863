//! What a caller can see and steer while an operation runs: progress steps
//! (MCP progress notifications, CLI lines) and cancellation. Work that writes
//! nothing (pulls, validation, rendering, reads) is abandoned at once when
//! the caller cancels; once an operation has written, cancelling stops its
//! *waits* (hook Jobs, before-hook-creation deletes, ServiceTemplate
//! validation) and the operation finishes the way a failure does, so the
//! release is never half-applied.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cluster::WaitLimits;

use super::EngineError;

/// The steps of an install, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Pull,
    Validate,
    Render,
    Hooks,
    VerifyJob,
    Apply,
    Validation,
    Rollback,
    Uninstall,
    Done,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Pull => "pull",
            Step::Validate => "validate",
            Step::Render => "render",
            Step::Hooks => "hooks",
            Step::VerifyJob => "verify-job",
            Step::Apply => "apply",
            Step::Validation => "servicetemplate-validation",
            Step::Rollback => "rollback",
            Step::Uninstall => "uninstall",
            Step::Done => "done",
        }
    }
}

pub type ProgressSink = Arc<dyn Fn(Step, &str) + Send + Sync>;

#[derive(Clone, Default)]
pub struct Control {
    pub cancel: CancellationToken,
    progress: Option<ProgressSink>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("cancelled", &self.cancel.is_cancelled())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Control {
    pub fn new(cancel: CancellationToken, progress: Option<ProgressSink>) -> Self {
        Control { cancel, progress }
    }

    pub fn report(&self, step: Step, message: impl AsRef<str>) {
        if let Some(sink) = &self.progress {
            sink(step, message.as_ref());
        }
    }

    /// A wait of at most `timeout` that this caller can cancel.
    pub fn wait_limits(&self, timeout: Duration) -> WaitLimits {
        WaitLimits::new(timeout, self.cancel.clone())
    }

    /// Runs `work` unless the caller cancels first. Only for work that
    /// writes nothing: on cancellation `work` is dropped midway (an HTTP
    /// request to a registry is aborted with it, instead of running on to
    /// its own timeout).
    pub async fn unless_cancelled<T>(
        &self,
        during: &str,
        work: impl Future<Output = T>,
    ) -> Result<T, EngineError> {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(self.cancelled(during)),
            out = work => Ok(out),
        }
    }

    /// The error of an operation the caller cancelled before it wrote anything.
    pub fn cancelled(&self, during: &str) -> EngineError {
        EngineError::Cancelled {
            during: format!("{during}; nothing was written"),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}
