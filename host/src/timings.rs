//! `--timings` (`K0RDENT_MCP_TIMINGS`): where a one-shot CLI process spends its time, printed to
//! stderr when the command ends: each phase's start (from the top of `main`) and duration, the
//! in-process total, and the number of Kubernetes API requests the process sent.
//!
//! Process-wide on purpose: phases are scattered over the CLI, the plugin host, the cluster client
//! and the engine, and threading a recorder through all of them would cost every caller a parameter
//! for a diagnostic. The server never enables it (concurrent calls would interleave their phases).
//! When off, a phase costs one relaxed atomic load and no allocation.
//!
//! What it cannot see: the time before `main` (exec, dynamic linking, the runtime's start-up) and
//! after it (process exit). A caller that measures the whole process gets those as its wall time
//! minus the in-process total printed here.

use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

static ENABLED: AtomicBool = AtomicBool::new(false);
static ORIGIN: OnceLock<Instant> = OnceLock::new();
static PHASES: Mutex<Vec<Phase>> = Mutex::new(Vec::new());
static API_REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Prefix of every line the report prints; the process-level bench parses these lines.
pub const LINE_PREFIX: &str = "[timings]";

struct Phase {
    name: Cow<'static, str>,
    start: Duration,
    took: Duration,
}

/// Marks the top of `main`: every offset is measured from here. Call it first thing.
pub fn mark_origin() {
    let _ = ORIGIN.set(Instant::now());
}

/// The instant [`mark_origin`] recorded.
pub fn origin_instant() -> Instant {
    origin()
}

fn origin() -> Instant {
    *ORIGIN.get_or_init(Instant::now)
}

/// Turns recording on for the rest of the process.
pub fn enable() {
    origin();
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Records a phase that already ran, from `started` until now.
pub fn record_since(name: impl Into<Cow<'static, str>>, started: Instant) {
    if !enabled() {
        return;
    }
    let took = started.elapsed();
    let start = started.saturating_duration_since(origin());
    PHASES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Phase {
            name: name.into(),
            start,
            took,
        });
}

/// A phase that ends when the guard drops.
#[must_use = "the phase ends when this guard is dropped"]
pub struct PhaseGuard {
    open: Option<(Cow<'static, str>, Instant)>,
}

impl Drop for PhaseGuard {
    fn drop(&mut self) {
        if let Some((name, started)) = self.open.take() {
            record_since(name, started);
        }
    }
}

/// Starts a phase; `name` is only built when recording is on.
pub fn phase<N: Into<Cow<'static, str>>>(name: impl FnOnce() -> N) -> PhaseGuard {
    PhaseGuard {
        open: enabled().then(|| (name().into(), Instant::now())),
    }
}

/// Runs `future` as one phase.
pub async fn timed<F: Future>(name: &'static str, future: F) -> F::Output {
    let _phase = phase(|| name);
    future.await
}

/// Counts one request sent to the Kubernetes API server (see `cluster::connect`).
pub fn count_api_request() {
    API_REQUESTS.fetch_add(1, Ordering::Relaxed);
}

/// The report: one line per phase in start order, then the total and the request count. Empty when
/// recording is off.
pub fn report() -> String {
    if !enabled() {
        return String::new();
    }
    let total = origin().elapsed();
    let mut phases = std::mem::take(&mut *PHASES.lock().unwrap_or_else(|e| e.into_inner()));
    phases.sort_by_key(|p| p.start);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut out = format!("{LINE_PREFIX} phase | start ms | took ms\n");
    for p in &phases {
        out.push_str(&format!(
            "{LINE_PREFIX} {} | {:.2} | {:.2}\n",
            p.name,
            ms(p.start),
            ms(p.took)
        ));
    }
    out.push_str(&format!(
        "{LINE_PREFIX} total in process (main to exit) | 0.00 | {:.2}\n",
        ms(total)
    ));
    out.push_str(&format!(
        "{LINE_PREFIX} api requests | {}\n",
        API_REQUESTS.load(Ordering::Relaxed)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test, since the recorder is process-wide: off records nothing and never builds a
    /// name; on, phases appear in start order with the request count.
    #[test]
    fn records_phases_only_when_enabled() {
        {
            let _p = phase(|| -> &'static str { panic!("a name built while off") });
        }
        assert_eq!(report(), "");
        enable();
        {
            let _outer = phase(|| "outer");
            std::thread::sleep(Duration::from_millis(2));
            let _inner = phase(|| format!("inner {}", 1));
        }
        count_api_request();
        count_api_request();
        let text = report();
        let outer = text.find("outer |").expect(&text);
        let inner = text.find("inner 1 |").expect(&text);
        assert!(outer < inner, "{text}");
        assert!(text.contains("[timings] api requests | 2"), "{text}");
        assert!(text.contains("total in process"), "{text}");
    }
}
