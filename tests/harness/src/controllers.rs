//! The controllers the test control plane lacks, played as envtest suites do:
//! a background thread that finishes every Job (the status subresource is
//! patched to `Complete`, or to `Failed` with a reason: for kgst's verify Job
//! against a local test registry, when the chart it checks is not there;
//! otherwise when the Job's name contains the failure marker) and validates every ServiceTemplate
//! (`status.valid`, or `valid=false` with a `validationError`).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

/// Reason the played Job controller gives a failed Job.
pub const FAILED_JOB_REASON: &str = "BackoffLimitExceeded";
pub const FAILED_JOB_MESSAGE: &str = "Job has reached the specified backoff limit";
/// A Job whose name contains this is never finished (a stuck verify Job).
pub const HANGING_JOB_MARKER: &str = "hang";

/// Stops the played controllers when dropped.
pub struct PlayedControllers {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for PlayedControllers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Kubectl {
    program: PathBuf,
    kubeconfig: PathBuf,
}

impl Kubectl {
    fn run(&self, args: &[&str]) -> Option<String> {
        let out = Command::new(&self.program)
            .arg(format!("--kubeconfig={}", self.kubeconfig.display()))
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn items(&self, resource: &str) -> Vec<Value> {
        self.run(&["get", resource, "-A", "-o", "json"])
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|list| list.get("items").cloned())
            .and_then(|items| items.as_array().cloned())
            .unwrap_or_default()
    }

    fn patch_status(&self, resource: &str, item: &Value, patch: &Value) {
        let text = |p: &str| item.pointer(p).and_then(Value::as_str).unwrap_or_default();
        let _ = self.run(&[
            "patch",
            resource,
            text("/metadata/name"),
            "-n",
            text("/metadata/namespace"),
            "--subresource=status",
            "--type=merge",
            "-p",
            &patch.to_string(),
        ]);
    }
}

/// What kgst's verify Job would find: for a Job whose script checks an
/// `oci://127.0.0.1:<port>/…` chart (a test registry), whether that chart
/// version's manifest exists there; `None` for any other Job.
fn chart_in_local_registry(job: &Value) -> Option<bool> {
    let script = job
        .pointer("/spec/template/spec/containers/0/command")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("\n");
    let quoted = |var: &str| {
        let start = script.find(&format!("{var}=\""))? + var.len() + 2;
        let end = script[start..].find('"')? + start;
        Some(script[start..end].to_string())
    };
    let chart = quoted("CHART_FULL")?;
    let version = quoted("VERSION")?;
    let rest = chart.strip_prefix("oci://127.0.0.1:")?;
    let (port, repository) = rest.split_once('/')?;
    let url = format!("http://127.0.0.1:{port}/v2/{repository}/manifests/{version}");
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-I"])
        .args([
            "-H",
            "Accept: application/vnd.oci.image.manifest.v1+json",
            &url,
        ])
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout) == "200")
}

/// Starts the played controllers; `job_marker` in a Job name makes it fail,
/// `template_marker` in a ServiceTemplate name makes it invalid.
pub fn play(
    program: PathBuf,
    kubeconfig: PathBuf,
    job_marker: &str,
    template_marker: &str,
) -> PlayedControllers {
    let stop = Arc::new(AtomicBool::new(false));
    let kubectl = Kubectl {
        program,
        kubeconfig,
    };
    let (job_marker, template_marker) = (job_marker.to_string(), template_marker.to_string());
    let thread = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for job in kubectl.items("jobs.batch") {
                    if job.pointer("/status/conditions").is_some() {
                        continue;
                    }
                    let name = job
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    if name.contains(HANGING_JOB_MARKER) {
                        continue;
                    }
                    let now = "2026-01-01T00:00:00Z";
                    let fails = match chart_in_local_registry(&job) {
                        Some(exists) => !exists,
                        None => name.contains(&job_marker),
                    };
                    let status = if fails {
                        json!({"status": {"startTime": now, "failed": 1, "conditions": [{
                            "type": "Failed", "status": "True", "reason": FAILED_JOB_REASON,
                            "message": FAILED_JOB_MESSAGE, "lastProbeTime": now, "lastTransitionTime": now}]}})
                    } else {
                        json!({"status": {"startTime": now, "completionTime": now, "succeeded": 1,
                            "conditions": [{"type": "Complete", "status": "True",
                            "lastProbeTime": now, "lastTransitionTime": now}]}})
                    };
                    kubectl.patch_status("jobs.batch", &job, &status);
                }
                let templates = "servicetemplates.k0rdent.mirantis.com";
                for st in kubectl.items(templates) {
                    if st.pointer("/status/valid").is_some() {
                        continue;
                    }
                    let name = st
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let status = if name.contains(&template_marker) {
                        json!({"status": {"valid": false, "validationError": format!("chart {name} not found")}})
                    } else {
                        json!({"status": {"valid": true}})
                    };
                    kubectl.patch_status(templates, &st, &status);
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        })
    };
    PlayedControllers {
        stop,
        thread: Some(thread),
    }
}
