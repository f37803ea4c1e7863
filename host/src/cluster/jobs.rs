//! Waiting for a Job the way Helm waits for a Job hook: until its
//! `Complete` or `Failed` condition is `True`, or the timeout. On failure the
//! report carries the conditions and the logs of the Job's pods, because
//! "job failed: BackoffLimitExceeded" alone never says why.

use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams};

use super::client::Cluster;
use super::error::ClusterError;
use super::wait::{WaitEnd, WaitLimits, await_condition};

/// Most log lines kept per container.
const LOG_TAIL_LINES: i64 = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Complete,
    Failed {
        reason: String,
        message: String,
        /// `Type=Status (reason: message)` per condition.
        conditions: Vec<String>,
        /// `(pod/container, last lines)` of the Job's pods.
        logs: Vec<(String, String)>,
    },
    TimedOut {
        conditions: Vec<String>,
        logs: Vec<(String, String)>,
    },
}

impl JobOutcome {
    /// A multi-line account for error messages: conditions, then pod logs
    /// (or a note that there were no pods).
    pub fn details(&self) -> String {
        let (conditions, logs) = match self {
            JobOutcome::Complete => return String::new(),
            JobOutcome::Failed {
                conditions, logs, ..
            }
            | JobOutcome::TimedOut { conditions, logs } => (conditions, logs),
        };
        let mut out = String::new();
        if conditions.is_empty() {
            out.push_str("conditions: none");
        } else {
            out.push_str("conditions: ");
            out.push_str(&conditions.join("; "));
        }
        if logs.is_empty() {
            out.push_str("\npod logs: no pods of the Job were found");
        }
        for (pod, text) in logs {
            out.push_str(&format!("\nlogs of {pod}:\n{}", text.trim_end()));
        }
        out
    }
}

/// Waits for Job `namespace/name` until it completes or fails, or the
/// wait's deadline passes; a cancelled wait is [`ClusterError::Cancelled`].
pub async fn wait_for_job(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    limits: &WaitLimits,
) -> Result<JobOutcome, ClusterError> {
    let jobs: Api<Job> = Api::namespaced(cluster.client().clone(), namespace);
    let object = format!("Job {name:?} in namespace {namespace:?}");
    let look = || async {
        let job = jobs
            .get_opt(name)
            .await
            .map_err(|e| ClusterError::api("watch", &object, e))?
            .ok_or_else(|| ClusterError::Api {
                action: "wait for",
                object: object.clone(),
                code: 404,
                message: "the Job disappeared while Helm was waiting for it".into(),
                fix: "check who deleted it (a TTL controller or another client) and retry".into(),
            })?;
        let conditions = job.status.and_then(|s| s.conditions).unwrap_or_default();
        let finished =
            holds(&conditions, "Complete").is_some() || holds(&conditions, "Failed").is_some();
        Ok(finished.then_some(conditions))
    };
    let conditions = match await_condition(limits, look).await? {
        WaitEnd::Met(conditions) => conditions,
        WaitEnd::Cancelled => {
            return Err(ClusterError::Cancelled {
                during: format!("the wait for Job {namespace}/{name}"),
            });
        }
        WaitEnd::TimedOut => {
            // The last state, for the report of what the Job was doing.
            let conditions = jobs
                .get_opt(name)
                .await
                .ok()
                .flatten()
                .and_then(|j| j.status)
                .and_then(|s| s.conditions)
                .unwrap_or_default();
            return Ok(JobOutcome::TimedOut {
                conditions: described(&conditions),
                logs: pod_logs(cluster, namespace, name).await,
            });
        }
    };
    match holds(&conditions, "Failed") {
        Some(failed) if holds(&conditions, "Complete").is_none() => Ok(JobOutcome::Failed {
            reason: failed.reason.clone().unwrap_or_default(),
            message: failed.message.clone().unwrap_or_default(),
            conditions: described(&conditions),
            logs: pod_logs(cluster, namespace, name).await,
        }),
        _ => Ok(JobOutcome::Complete),
    }
}

/// The condition of type `kind` when its status is `True`.
fn holds<'c>(conditions: &'c [JobCondition], kind: &str) -> Option<&'c JobCondition> {
    conditions
        .iter()
        .find(|c| c.type_ == kind && c.status == "True")
}

/// `Type=Status (reason: message)` per condition.
fn described(conditions: &[JobCondition]) -> Vec<String> {
    conditions
        .iter()
        .map(|c| {
            format!(
                "{}={} ({}: {})",
                c.type_,
                c.status,
                c.reason.as_deref().unwrap_or(""),
                c.message.as_deref().unwrap_or("")
            )
        })
        .collect()
}

/// Last lines of every container of the Job's pods (label `job-name`, set by
/// the Job controller). Best effort: an error reading logs is reported as
/// the log text, never hides the Job's own failure.
async fn pod_logs(cluster: &Cluster, namespace: &str, job: &str) -> Vec<(String, String)> {
    let pods: Api<Pod> = Api::namespaced(cluster.client().clone(), namespace);
    let list = match pods
        .list(&ListParams::default().labels(&format!("job-name={job}")))
        .await
    {
        Ok(list) => list,
        Err(e) => return vec![("pods".into(), format!("cannot list the Job's pods: {e}"))],
    };
    let mut out = Vec::new();
    for pod in list.items {
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let containers: Vec<String> = pod
            .spec
            .as_ref()
            .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        for container in containers {
            let params = LogParams {
                container: Some(container.clone()),
                tail_lines: Some(LOG_TAIL_LINES),
                ..LogParams::default()
            };
            let text = match pods.logs(&pod_name, &params).await {
                Ok(text) => text,
                Err(e) => format!("(logs unavailable: {e})"),
            };
            out.push((format!("pod {pod_name}/{container}"), text));
        }
    }
    out
}
