//! MCP logging for the protocol revisions that have it (`logging/setLevel`,
//! `notifications/message`; SEP-2577 retires it later). Quiet until the
//! client asks: nothing is sent before it sets a level, and each session has
//! its own level. What is sent is one line per tool call, the same facts the
//! server's own log and `/metrics` record, never values or credentials.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::service::{Peer, RoleServer};
use serde_json::json;

use super::metrics::Outcome;

/// The logger name clients see on our messages.
const LOGGER: &str = "k0rdent-mcp";

/// One session's level; a fresh one per session (see `K0rdentMcp::for_session`).
#[derive(Clone, Default)]
pub struct ClientLog {
    level: Arc<Mutex<Option<LoggingLevel>>>,
}

impl ClientLog {
    pub fn set_level(&self, level: LoggingLevel) {
        *self.level.lock().expect("log level lock") = Some(level);
    }

    fn wants(&self, level: LoggingLevel) -> bool {
        self.level
            .lock()
            .expect("log level lock")
            .is_some_and(|min| rank(level) >= rank(min))
    }

    /// Tells the client how a tool call ended: `info` when it succeeded,
    /// `warning` when the tool reported an error, `error` for a protocol error.
    pub async fn tool_finished(
        &self,
        peer: &Peer<RoleServer>,
        tool: &str,
        outcome: Outcome,
        took: Duration,
    ) {
        let (outcome, level) = match outcome {
            Outcome::Ok => ("ok", LoggingLevel::Info),
            Outcome::ToolError => ("tool error", LoggingLevel::Warning),
            Outcome::ProtocolError => ("protocol error", LoggingLevel::Error),
        };
        if !self.wants(level) {
            return;
        }
        let data = json!({
            "message": format!("{tool} finished: {outcome} in {} ms", took.as_millis()),
            "tool": tool,
            "outcome": outcome,
            "ms": took.as_millis() as u64,
        });
        let mut param = LoggingMessageNotificationParam::new(level, data);
        param.logger = Some(LOGGER.into());
        // A client that went away cannot be told; the call's result is what matters.
        let _ = peer.notify_logging_message(param).await;
    }
}

/// RFC 5424 order, as MCP defines it.
fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silent_until_a_level_is_set_then_filters_by_severity() {
        let log = ClientLog::default();
        assert!(!log.wants(LoggingLevel::Emergency));
        log.set_level(LoggingLevel::Warning);
        assert!(!log.wants(LoggingLevel::Info));
        assert!(log.wants(LoggingLevel::Warning));
        assert!(log.wants(LoggingLevel::Error));
    }

    #[test]
    fn sessions_do_not_share_a_level() {
        let a = ClientLog::default();
        let b = ClientLog::default();
        a.set_level(LoggingLevel::Debug);
        assert!(a.wants(LoggingLevel::Info));
        assert!(!b.wants(LoggingLevel::Info));
    }
}
