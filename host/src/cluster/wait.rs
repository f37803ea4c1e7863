//! The one way the engine waits on the cluster, after kube-runtime's
//! `await_condition`: look, and while the condition does not hold, back off
//! and look again, until it holds, the deadline passes or the caller
//! cancels. The looks themselves race the deadline and the cancellation
//! too, so neither a slow API call nor a long pause delays a stop. The Job
//! wait, the delete-and-wait and the ServiceTemplate verdict are conditions
//! on this loop.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long one wait may last (the operation's `--timeout`) and the token
/// that lets the caller stop it sooner.
#[derive(Debug, Clone)]
pub struct WaitLimits {
    pub timeout: Duration,
    pub cancel: CancellationToken,
}

impl WaitLimits {
    pub fn new(timeout: Duration, cancel: CancellationToken) -> Self {
        WaitLimits { timeout, cancel }
    }
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitEnd<T> {
    /// The condition held; what the last look found.
    Met(T),
    TimedOut,
    Cancelled,
}

/// Looks again after 10 ms, doubling up to 250 ms: most deletes and played
/// Jobs finish within a few tens of milliseconds, and the cap bounds the
/// request rate of long waits to four a second.
#[derive(Debug)]
pub(crate) struct Backoff(Duration);

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_millis(250);

impl Backoff {
    pub fn new() -> Self {
        Backoff(FIRST_PAUSE)
    }

    /// The pause before the next look.
    pub fn next_pause(&mut self) -> Duration {
        let pause = self.0;
        self.0 = (self.0 * 2).min(LONGEST_PAUSE);
        pause
    }
}

/// Calls `look` until it returns `Some` (the condition holds), the timeout
/// of `limits` passes or its token is cancelled. An error of `look` ends the
/// wait with that error.
pub async fn await_condition<T, E, F, Fut>(
    limits: &WaitLimits,
    mut look: F,
) -> Result<WaitEnd<T>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, E>>,
{
    let deadline = Instant::now() + limits.timeout;
    let mut backoff = Backoff::new();
    loop {
        // `biased`: a cancellation that already happened wins over a look
        // that happens to be ready, so a cancelled caller is never kept.
        let seen = tokio::select! {
            biased;
            () = limits.cancel.cancelled() => return Ok(WaitEnd::Cancelled),
            seen = tokio::time::timeout_at(deadline, look()) => match seen {
                Err(_elapsed) => return Ok(WaitEnd::TimedOut),
                Ok(seen) => seen?,
            },
        };
        if let Some(found) = seen {
            return Ok(WaitEnd::Met(found));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(WaitEnd::TimedOut);
        }
        let resume = (now + backoff.next_pause()).min(deadline);
        tokio::select! {
            biased;
            () = limits.cancel.cancelled() => return Ok(WaitEnd::Cancelled),
            () = tokio::time::sleep_until(resume) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn limits(timeout_ms: u64) -> WaitLimits {
        WaitLimits::new(Duration::from_millis(timeout_ms), CancellationToken::new())
    }

    #[test]
    fn the_backoff_doubles_from_ten_milliseconds_up_to_a_quarter_second() {
        let mut backoff = Backoff::new();
        let pauses: Vec<u128> = (0..7).map(|_| backoff.next_pause().as_millis()).collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 250, 250]);
    }

    #[tokio::test]
    async fn a_condition_that_holds_on_the_third_look_is_met_after_three_looks() {
        let looks = AtomicU32::new(0);
        let end = await_condition(&limits(5_000), || async {
            let n = looks.fetch_add(1, Ordering::SeqCst) + 1;
            Ok::<_, ()>((n == 3).then_some(n))
        })
        .await;
        assert_eq!(end, Ok(WaitEnd::Met(3)));
        assert_eq!(looks.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn an_error_of_a_look_ends_the_wait_with_that_error() {
        let end: Result<WaitEnd<()>, &str> =
            await_condition(&limits(5_000), || async { Err("gone") }).await;
        assert_eq!(end, Err("gone"));
    }

    #[tokio::test]
    async fn a_condition_that_never_holds_times_out_at_the_deadline_not_a_backoff_later() {
        let started = std::time::Instant::now();
        let end = await_condition(&limits(300), || async { Ok::<Option<()>, ()>(None) }).await;
        let took = started.elapsed();
        assert_eq!(end, Ok(WaitEnd::TimedOut));
        assert!(took >= Duration::from_millis(300), "{took:?}");
        // The last pause is cut to the deadline (a full pause would be 250 ms).
        assert!(took < Duration::from_millis(500), "{took:?}");
    }

    #[tokio::test]
    async fn a_look_that_hangs_is_cut_at_the_deadline() {
        let started = std::time::Instant::now();
        let end = await_condition(&limits(100), || {
            std::future::pending::<Result<Option<()>, ()>>()
        })
        .await;
        assert_eq!(end, Ok(WaitEnd::TimedOut));
        assert!(started.elapsed() < Duration::from_millis(400));
    }

    #[tokio::test]
    async fn cancelling_stops_a_pause_and_a_hanging_look_at_once() {
        for hangs in [false, true] {
            let limits = limits(60_000);
            let cancel = limits.cancel.clone();
            let cancelled_at = Arc::new(std::sync::Mutex::new(None));
            let at = cancelled_at.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                *at.lock().unwrap() = Some(std::time::Instant::now());
                cancel.cancel();
            });
            let end = await_condition(&limits, || async move {
                if hangs {
                    std::future::pending::<()>().await;
                }
                Ok::<Option<()>, ()>(None)
            })
            .await;
            let stopped_after = cancelled_at.lock().unwrap().unwrap().elapsed();
            assert_eq!(end, Ok(WaitEnd::Cancelled));
            assert!(
                stopped_after < Duration::from_millis(100),
                "hangs={hangs}: {stopped_after:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_already_cancelled_wait_does_not_look() {
        let limits = limits(60_000);
        limits.cancel.cancel();
        let looks = AtomicU32::new(0);
        let end = await_condition(&limits, || async {
            looks.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ()>(Some(()))
        })
        .await;
        assert_eq!(end, Ok(WaitEnd::Cancelled));
        assert_eq!(looks.load(Ordering::SeqCst), 0);
    }
}
