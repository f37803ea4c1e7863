//! What `/metrics` reports: tool calls by tool and outcome, how long they
//! took, and when the process started. Recorded on every transport (the
//! counters are cheap), exposed only by `serve --http`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// How a tool call ended, as seen by the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A result without `isError`.
    Ok,
    /// A tool error (`isError: true`): a wrong argument, a registry that said no, ….
    ToolError,
    /// A JSON-RPC error: malformed arguments or an unknown tool.
    ProtocolError,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ToolError => "tool_error",
            Outcome::ProtocolError => "protocol_error",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    tool: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabel {
    tool: String,
}

/// Seconds; renders pull charts over the network, so the buckets reach a minute.
const DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 15.0, 60.0,
];

pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    durations: Family<ToolLabel, Histogram>,
    connections_refused: Counter,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Self::build(|_| {})
    }

    /// Also reports the plugin set's hot swaps (reloads and generation).
    pub fn with_plugins(plugins: &crate::plugin::active::ActivePlugins) -> Arc<Self> {
        Self::build(|registry| plugins.register_metrics(registry))
    }

    fn build(extra: impl FnOnce(&mut Registry)) -> Arc<Self> {
        let mut registry = Registry::default();
        extra(&mut registry);
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "k0rdent_mcp_tool_calls",
            "MCP tool calls by tool and outcome (ok, tool_error, protocol_error)",
            calls.clone(),
        );
        let durations = Family::<ToolLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(DURATION_BUCKETS)
        });
        registry.register(
            "k0rdent_mcp_tool_call_duration_seconds",
            "Wall time of MCP tool calls",
            durations.clone(),
        );
        let connections_refused = Counter::default();
        registry.register(
            "k0rdent_mcp_http_connections_refused",
            "HTTP connections closed on arrival because --http-max-connections were open",
            connections_refused.clone(),
        );
        // `process_start_time_seconds`, the name every Prometheus client
        // library uses, so uptime dashboards work unchanged.
        let started = Gauge::<i64>::default();
        started.set(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        );
        registry.register_with_unit(
            "process_start_time",
            "Start time of the process since the Unix epoch",
            prometheus_client::registry::Unit::Seconds,
            started,
        );
        Arc::new(Metrics {
            registry,
            calls,
            durations,
            connections_refused,
        })
    }

    pub fn record(&self, tool: &str, outcome: Outcome, took: Duration) {
        self.calls
            .get_or_create(&CallLabels {
                tool: tool.to_string(),
                outcome: outcome.label(),
            })
            .inc();
        self.durations
            .get_or_create(&ToolLabel {
                tool: tool.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    pub fn connection_refused(&self) {
        self.connections_refused.inc();
    }

    /// The text exposition (OpenMetrics 1.0, which Prometheus scrapes natively).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing metrics to a String cannot fail");
        out
    }
}

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
