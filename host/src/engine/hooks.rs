//! Running one hook event as Helm does: per hook in weight-then-name order,
//! delete the old object (before-hook-creation), record `Running`, create,
//! wait for Jobs, record the phase; afterwards delete hook-succeeded hooks
//! in reverse order. Hooks get no ownership metadata and no ownership check.

use std::time::Duration;

use serde_json::Value;

use crate::cluster::{Cluster, ClusterError, JobOutcome, ObjectKey, wait_for_job};
use crate::release::{HookEvent, HookPhase, RecordTime, ReleaseRecord, delete_policy};

use super::clock;
use super::control::{Control, Step};
use super::documents::execution_order;
use super::error::EngineError;
use super::lock::HeldLock;

/// Kinds whose hooks are never deleted (Helm protects CRDs).
const NEVER_DELETED: &str = "CustomResourceDefinition";

pub(super) struct HookRun<'a> {
    pub cluster: &'a Cluster,
    /// The operation's lock: the record is written through it.
    pub lock: &'a HeldLock<'a>,
    pub timeout: Duration,
    pub control: &'a Control,
}

impl HookRun<'_> {
    /// Runs every hook of `event`; `record` is written (with the hooks'
    /// `last_run`) before each hook is created, as Helm does.
    pub async fn run(
        &self,
        record: &mut ReleaseRecord,
        event: HookEvent,
        created: &mut Vec<ObjectKey>,
    ) -> Result<(), EngineError> {
        let order = execution_order(&record.hooks, event);
        if !order.is_empty() {
            self.control.report(
                Step::Hooks,
                format!("running {} {} hook(s)", order.len(), event.as_str()),
            );
        }
        let limits = self.control.wait_limits(self.timeout);
        let mut succeeded: Vec<(usize, ObjectKey)> = Vec::new();
        for &i in &order {
            let hook = record.hooks[i].clone();
            let fail = |message: String| EngineError::Hook {
                event: event.as_str(),
                path: hook.path.clone(),
                message,
            };
            let mut object = helm_yaml::parse_values(&hook.manifest)
                .map(Value::Object)
                .map_err(|e| fail(format!("its manifest is not YAML: {e}")))?;
            let key = self.cluster.key_for(&mut object, &record.namespace).await?;
            let has = |policy: &str| hook.delete_policies.iter().any(|p| p == policy);
            if has(delete_policy::BEFORE_HOOK_CREATION) && hook.kind != NEVER_DELETED {
                self.cluster
                    .delete_and_wait(&key, &limits)
                    .await
                    .map_err(|e| match e {
                        ClusterError::Cancelled { .. } => EngineError::from(e),
                        stuck => fail(format!(
                            "the previous hook object could not be removed (before-hook-creation): {stuck}"
                        )),
                    })?;
            }
            record.hooks[i].last_run.started_at = RecordTime::At(clock::now());
            record.hooks[i].last_run.completed_at = RecordTime::Absent;
            record.hooks[i].last_run.phase = HookPhase::Running;
            self.lock.save(record).await?;
            record.hooks[i].last_run.phase = HookPhase::Unknown;

            let applied = self.cluster.apply(&key, &object).await;
            if applied.is_ok() {
                created.push(key.clone());
            }
            let outcome = match applied {
                Err(e) => Err(fail(e.to_string())),
                Ok(_) if hook.kind == "Job" => {
                    let ns = key.namespace.clone().unwrap_or_default();
                    self.control.report(
                        Step::VerifyJob,
                        format!("waiting for Job {ns}/{} ({})", key.name, hook.path),
                    );
                    match wait_for_job(self.cluster, &ns, &key.name, &limits).await {
                        Err(e) => Err(EngineError::from(e)),
                        Ok(JobOutcome::Complete) => Ok(()),
                        Ok(failed @ JobOutcome::Failed { .. }) => {
                            let JobOutcome::Failed {
                                reason, message, ..
                            } = &failed
                            else {
                                unreachable!()
                            };
                            Err(fail(format!(
                                "job {} failed: {reason}: {message}\n{}\nfix: see why the Job failed \
                                 (kubectl describe job {} -n {ns}), correct the values, then upgrade again",
                                key.name,
                                failed.details(),
                                key.name
                            )))
                        }
                        Ok(timed_out @ JobOutcome::TimedOut { .. }) => Err(fail(format!(
                            "job {} did not finish within {}s\n{}\nfix: check that the cluster runs Jobs \
                             (controllers, image pulls) or raise the hook timeout",
                            key.name,
                            self.timeout.as_secs(),
                            timed_out.details()
                        ))),
                    }
                }
                // Helm waits only on Jobs and Pods; every other kind is ready
                // once created. (Pod hooks: treated as ready, see module docs
                // of the engine.)
                Ok(_) => Ok(()),
            };
            record.hooks[i].last_run.completed_at = RecordTime::At(clock::now());
            match outcome {
                Ok(()) => {
                    record.hooks[i].last_run.phase = HookPhase::Succeeded;
                    succeeded.push((i, key));
                }
                Err(e) => {
                    record.hooks[i].last_run.phase = HookPhase::Failed;
                    if has(delete_policy::HOOK_FAILED) && hook.kind != NEVER_DELETED {
                        self.cluster.delete(&key).await?;
                    }
                    return Err(e);
                }
            }
        }
        for (i, key) in succeeded.iter().rev() {
            let hook = &record.hooks[*i];
            if hook.kind != NEVER_DELETED
                && hook
                    .delete_policies
                    .iter()
                    .any(|p| p == delete_policy::HOOK_SUCCEEDED)
            {
                self.cluster.delete(key).await?;
            }
        }
        Ok(())
    }
}
