//! The MCP tasks this server process runs for its callers (the
//! `io.modelcontextprotocol/tasks` extension, SEP-2663): who owns each, how
//! far it got, its outcome, and the bounds that keep a caller from filling
//! memory with them.
//!
//! The store lives in the process, not in an MCP session: over stateless
//! HTTP every request is a session of its own, and a task must outlive the
//! request that created it. A task is seen only by its [`Owner`]; to anyone
//! else it does not exist (the same "unknown task" error as a wrong id), so
//! an id that leaks gives nothing away.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{DetailedTask, JsonObject, Task, TaskPayload, TaskStatus};
use rmcp::task_manager::current_timestamp;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

/// Who may see and cancel a task.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Owner(String);

impl Owner {
    /// A call without credentials: the stdio client (the process is its
    /// one caller) or an HTTP request in DEV_ALLOW_ANY mode without a token.
    pub fn local() -> Owner {
        Owner("local".to_string())
    }

    /// A call that carries a bearer token: tasks are bound to the token
    /// itself (by its digest, so the store holds no credential). A caller
    /// whose token is renewed no longer sees the tasks of the old one.
    pub fn bearer(token: &str) -> Owner {
        Owner(format!("bearer:{}", hex::encode(Sha256::digest(token))))
    }
}

/// How many tasks are kept and for how long.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Tasks one owner may have: running, or finished and not yet fetched.
    pub per_owner: usize,
    /// Tasks all owners together may have.
    pub total: usize,
    /// How long a finished task (and its result) is kept after it ends.
    pub retention: Duration,
    /// The polling interval suggested to clients.
    pub poll_interval: Duration,
}

/// The bounds this server runs with (documented in docs/mcp-protocol.md).
pub const LIMITS: Limits = Limits {
    per_owner: 16,
    total: 256,
    retention: Duration::from_secs(15 * 60),
    poll_interval: Duration::from_secs(1),
};

/// Longest status message kept: it quotes progress text that can name
/// untrusted objects and errors.
pub const MAX_STATUS_MESSAGE_BYTES: usize = 1024;

/// Why no task was created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreFull {
    #[error(
        "too many tasks: this caller already has {limit} (running, or finished with a result not yet \
         fetched), the most one caller may have; fix: fetch finished results with tasks/get, cancel \
         tasks you no longer need with tasks/cancel, or wait until one ends — or call the tool \
         without the tasks extension to run it in the request"
    )]
    Owner { limit: usize },
    #[error(
        "too many tasks: this server already holds {limit} for all its callers, the most it keeps; \
         fix: retry when some have ended, or call the tool without the tasks extension to run it \
         in the request"
    )]
    Total { limit: usize },
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The tool's result (tool errors included), as the `CallToolResult` JSON.
    Completed(JsonObject),
    /// A JSON-RPC error, as its JSON.
    Failed(JsonObject),
    /// Stopped by `tasks/cancel`; the message says what was left behind.
    Cancelled(String),
}

struct Entry {
    owner: Owner,
    created: Instant,
    created_at: String,
    updated_at: String,
    message: Option<String>,
    outcome: Option<Outcome>,
    ended: Option<Instant>,
    /// The owner has seen the outcome: the entry may make room for a new task.
    fetched: bool,
    cancel: CancellationToken,
}

impl Entry {
    fn detailed(&self, id: &str, limits: &Limits, now: Instant) -> DetailedTask {
        let lived = self
            .ended
            .unwrap_or(now)
            .saturating_duration_since(self.created);
        let mut task = Task::new(
            id,
            TaskStatus::Working,
            self.created_at.clone(),
            self.updated_at.clone(),
        )
        .with_ttl_ms(millis(lived + limits.retention))
        .with_poll_interval_ms(millis(limits.poll_interval));
        task.status_message = self.message.clone();
        let payload = match &self.outcome {
            None => TaskPayload::Working,
            Some(Outcome::Completed(result)) => TaskPayload::Completed {
                result: result.clone(),
            },
            Some(Outcome::Failed(error)) => TaskPayload::Failed {
                error: error.clone(),
            },
            Some(Outcome::Cancelled(_)) => TaskPayload::Cancelled,
        };
        DetailedTask::new(task, payload)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Cuts `text` to [`MAX_STATUS_MESSAGE_BYTES`] on a character boundary.
fn bounded(mut text: String) -> String {
    if text.len() > MAX_STATUS_MESSAGE_BYTES {
        let mut end = MAX_STATUS_MESSAGE_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// A task id nobody can guess: 128 random bits.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source");
    hex::encode(bytes)
}

pub struct TaskStore {
    limits: Limits,
    entries: Mutex<HashMap<String, Entry>>,
}

/// The running side of a task: its cancellation token, and where it
/// reports progress and its outcome.
#[derive(Clone)]
pub struct TaskHandle {
    store: Arc<TaskStore>,
    id: String,
    pub cancel: CancellationToken,
}

impl std::fmt::Debug for TaskHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskHandle").field("id", &self.id).finish()
    }
}

impl TaskHandle {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The task's status message, shown by `tasks/get` while it works.
    pub fn set_message(&self, message: impl Into<String>) {
        let mut entries = self.store.lock();
        if let Some(entry) = entries.get_mut(&self.id)
            && entry.outcome.is_none()
        {
            entry.message = Some(bounded(message.into()));
            entry.updated_at = current_timestamp();
        }
    }

    /// Records how the task ended; later calls change nothing.
    pub fn finish(&self, outcome: Outcome) {
        let mut entries = self.store.lock();
        if let Some(entry) = entries.get_mut(&self.id)
            && entry.outcome.is_none()
        {
            if let Outcome::Cancelled(message) = &outcome {
                entry.message = Some(bounded(message.clone()));
            }
            entry.outcome = Some(outcome);
            entry.ended = Some(Instant::now());
            entry.updated_at = current_timestamp();
        }
    }
}

impl TaskStore {
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(TaskStore {
            limits,
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops finished tasks whose retention has passed.
    fn sweep(&self, entries: &mut HashMap<String, Entry>, now: Instant) {
        let retention = self.limits.retention;
        entries.retain(|_, e| {
            e.ended
                .is_none_or(|ended| now.saturating_duration_since(ended) < retention)
        });
    }

    /// Frees one slot among the entries `matches` selects, if one of them
    /// ended and was fetched (the oldest such goes first).
    fn evict_fetched(
        entries: &mut HashMap<String, Entry>,
        matches: impl Fn(&Entry) -> bool,
    ) -> bool {
        let oldest = entries
            .iter()
            .filter(|(_, e)| e.fetched && matches(e))
            .min_by_key(|(_, e)| e.ended)
            .map(|(id, _)| id.clone());
        oldest.is_some_and(|id| entries.remove(&id).is_some())
    }

    /// A new working task for `owner`, or why there is no room for one.
    pub fn create(
        self: &Arc<Self>,
        owner: Owner,
        message: impl Into<String>,
    ) -> Result<(Task, TaskHandle), StoreFull> {
        let now = Instant::now();
        let mut entries = self.lock();
        self.sweep(&mut entries, now);
        let owned = |entries: &HashMap<String, Entry>| {
            entries.values().filter(|e| e.owner == owner).count()
        };
        if owned(&entries) >= self.limits.per_owner
            && !Self::evict_fetched(&mut entries, |e| e.owner == owner)
        {
            return Err(StoreFull::Owner {
                limit: self.limits.per_owner,
            });
        }
        if entries.len() >= self.limits.total && !Self::evict_fetched(&mut entries, |_| true) {
            return Err(StoreFull::Total {
                limit: self.limits.total,
            });
        }
        let id = new_id();
        let stamp = current_timestamp();
        let cancel = CancellationToken::new();
        let entry = Entry {
            owner,
            created: now,
            created_at: stamp.clone(),
            updated_at: stamp,
            message: Some(bounded(message.into())),
            outcome: None,
            ended: None,
            fetched: false,
            cancel: cancel.clone(),
        };
        let task = entry.detailed(&id, &self.limits, now).task;
        entries.insert(id.clone(), entry);
        Ok((
            task,
            TaskHandle {
                store: self.clone(),
                id,
                cancel,
            },
        ))
    }

    /// The task as `owner` may see it; `None` for an unknown id, an expired
    /// task or another owner's. Seeing a finished task marks its result fetched.
    pub fn get(&self, owner: &Owner, id: &str) -> Option<DetailedTask> {
        let now = Instant::now();
        let mut entries = self.lock();
        self.sweep(&mut entries, now);
        let entry = entries.get_mut(id).filter(|e| e.owner == *owner)?;
        if entry.outcome.is_some() {
            entry.fetched = true;
        }
        Some(entry.detailed(id, &self.limits, now))
    }

    /// Asks `owner`'s task to stop; `false` when there is no such task. A
    /// finished task stays as it ended.
    pub fn cancel(&self, owner: &Owner, id: &str) -> bool {
        let mut entries = self.lock();
        self.sweep(&mut entries, Instant::now());
        match entries.get_mut(id).filter(|e| e.owner == *owner) {
            Some(entry) => {
                if entry.outcome.is_none() && !entry.cancel.is_cancelled() {
                    entry.cancel.cancel();
                    entry.message = Some("cancellation requested; stopping".to_string());
                    entry.updated_at = current_timestamp();
                }
                true
            }
            None => false,
        }
    }

    /// Whether `owner` has a task `id` (for `tasks/update`, which has nothing to deliver).
    pub fn contains(&self, owner: &Owner, id: &str) -> bool {
        let mut entries = self.lock();
        self.sweep(&mut entries, Instant::now());
        entries.get(id).is_some_and(|e| e.owner == *owner)
    }

    /// Stops every running task (server shutdown): their operations end
    /// the way a cancelled call does.
    pub fn cancel_all(&self) {
        for entry in self.lock().values() {
            entry.cancel.cancel();
        }
    }

    /// How many tasks are still working.
    pub fn running(&self) -> usize {
        self.lock().values().filter(|e| e.outcome.is_none()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(per_owner: usize, total: usize, retention: Duration) -> Arc<TaskStore> {
        TaskStore::new(Limits {
            per_owner,
            total,
            retention,
            poll_interval: Duration::from_millis(500),
        })
    }

    fn done() -> Outcome {
        Outcome::Completed(JsonObject::new())
    }

    #[test]
    fn a_task_is_seen_only_by_its_owner() {
        let store = small(4, 8, Duration::from_secs(60));
        let alice = Owner::bearer("alice-token");
        let bob = Owner::bearer("bob-token");
        let (task, handle) = store.create(alice.clone(), "started").unwrap();
        assert_eq!(task.status, TaskStatus::Working);
        assert_eq!(task.task_id.len(), 32);
        assert!(store.get(&bob, &task.task_id).is_none());
        assert!(!store.cancel(&bob, &task.task_id));
        assert!(
            !handle.cancel.is_cancelled(),
            "bob's cancel reached alice's task"
        );
        assert!(!store.contains(&Owner::local(), &task.task_id));
        let seen = store.get(&alice, &task.task_id).unwrap();
        assert_eq!(seen.status(), TaskStatus::Working);
        assert_eq!(seen.task.status_message.as_deref(), Some("started"));
        assert!(store.cancel(&alice, &task.task_id));
        assert!(handle.cancel.is_cancelled());
    }

    #[test]
    fn progress_and_outcome_show_in_the_task() {
        let store = small(4, 8, Duration::from_secs(60));
        let owner = Owner::local();
        let (task, handle) = store.create(owner.clone(), "started").unwrap();
        handle.set_message("apply: namespace 2/3");
        let seen = store.get(&owner, &task.task_id).unwrap();
        assert_eq!(
            seen.task.status_message.as_deref(),
            Some("apply: namespace 2/3")
        );
        handle.set_message("x".repeat(5000));
        let long = store
            .get(&owner, &task.task_id)
            .unwrap()
            .task
            .status_message
            .unwrap();
        assert!(long.len() <= MAX_STATUS_MESSAGE_BYTES + 3, "{}", long.len());
        let mut result = JsonObject::new();
        result.insert("isError".into(), false.into());
        handle.finish(Outcome::Completed(result.clone()));
        handle.finish(Outcome::Cancelled("late".into()));
        let seen = store.get(&owner, &task.task_id).unwrap();
        assert_eq!(seen.payload, TaskPayload::Completed { result });
        // The TTL covers the run and the retention after it.
        assert!(seen.task.ttl_ms.unwrap() >= 60_000);
        assert_eq!(seen.task.poll_interval_ms, Some(500));
    }

    #[test]
    fn a_cancelled_task_keeps_what_it_left_behind_in_its_message() {
        let store = small(4, 8, Duration::from_secs(60));
        let owner = Owner::local();
        let (task, handle) = store.create(owner.clone(), "started").unwrap();
        assert!(store.cancel(&owner, &task.task_id));
        handle.finish(Outcome::Cancelled("nothing was written".into()));
        let seen = store.get(&owner, &task.task_id).unwrap();
        assert_eq!(seen.status(), TaskStatus::Cancelled);
        assert_eq!(
            seen.task.status_message.as_deref(),
            Some("nothing was written")
        );
    }

    #[test]
    fn the_bounds_refuse_clearly_and_fetched_results_make_room() {
        let store = small(2, 3, Duration::from_secs(60));
        let alice = Owner::bearer("a");
        let bob = Owner::bearer("b");
        let (first, first_handle) = store.create(alice.clone(), "1").unwrap();
        let (_second, _h2) = store.create(alice.clone(), "2").unwrap();
        let refused = store.create(alice.clone(), "3").unwrap_err();
        assert_eq!(refused, StoreFull::Owner { limit: 2 });
        assert!(refused.to_string().contains("tasks/get"), "{refused}");
        // Finished but not fetched: still held.
        first_handle.finish(done());
        assert!(store.create(alice.clone(), "3").is_err());
        // Fetched: its slot is free.
        store.get(&alice, &first.task_id).unwrap();
        let (_third, _h3) = store.create(alice.clone(), "3").unwrap();
        assert!(store.get(&alice, &first.task_id).is_none(), "evicted");
        // The total bound.
        let (_b1, _hb1) = store.create(bob.clone(), "b1").unwrap();
        assert_eq!(
            store.create(bob.clone(), "b2").unwrap_err(),
            StoreFull::Total { limit: 3 }
        );
    }

    #[test]
    fn finished_tasks_expire_after_their_retention() {
        let store = small(1, 4, Duration::from_millis(30));
        let owner = Owner::local();
        let (task, handle) = store.create(owner.clone(), "1").unwrap();
        std::thread::sleep(Duration::from_millis(60));
        assert!(
            store.get(&owner, &task.task_id).is_some(),
            "running tasks never expire"
        );
        handle.finish(done());
        std::thread::sleep(Duration::from_millis(60));
        assert!(store.get(&owner, &task.task_id).is_none());
        // Its slot is free again, unfetched as it was.
        store.create(owner, "2").unwrap();
    }

    #[test]
    fn owners_by_token_differ_and_hold_no_token() {
        let a = Owner::bearer("secret-token");
        assert_eq!(a, Owner::bearer("secret-token"));
        assert_ne!(a, Owner::bearer("other"));
        assert_ne!(a, Owner::local());
        assert!(!format!("{a:?}").contains("secret-token"));
    }
}
