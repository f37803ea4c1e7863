//! Crash-point testing of the release engine (issue #14 item 2): the real
//! `k0rdent-mcp` process is SIGKILLed at every write point of install,
//! upgrade, rollback and uninstall, once before the write reaches the
//! apiserver and once after the apiserver committed it; then the user's
//! retry (the same command, once the lock's lease ran out, straight to the
//! apiserver) must converge: see `crash_points/converge.rs`.
//!
//! The process talks to a kill proxy (`k0rdent_test_harness::kill_proxy`) in
//! front of the apiserver's plain-HTTP port. The write points are not
//! hard-coded: each operation first runs through the proxy without a kill,
//! and the writes it makes are the points the matrix covers.
//!
//! Also: the apiserver stopped and started again mid-install, and the
//! registry down mid-upgrade: a clear error, then the next attempt converges.
//!
//! `CRASH_OPS=install,upgrade` restricts the matrix; `CRASH_WORKERS` (4) is
//! how many cases run at once (each waits out a 3 s lease).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k0rdent_test_harness::cluster::ControlPlane;
use k0rdent_test_harness::kill_proxy::{KillMode, KillProxy, Upstream};
use serde_json::Value;

#[path = "crash_points/converge.rs"]
mod converge;
#[path = "crash_points/writes.rs"]
mod writes;
use converge::{Expect, RELEASE, check, records};

const BIN: &str = env!("CARGO_BIN_EXE_k0rdent-mcp");

/// The lock lease of the killed process: short, so the retry need not wait
/// long, and the shortest the CLI accepts.
const LEASE: &str = "3s";
const LEASE_SECONDS: u64 = 3;

/// ConfigMaps only (so no controller is needed), except a Job hook the
/// apiserver-restart test turns on: `a` always, `b` when
/// `withB` (an upgrade or rollback that drops it deletes it), `keep` with
/// `resource-policy: keep`; a `pre` hook (before-hook-creation) and a `post`
/// hook (hook-succeeded) on every event, so each operation writes its
/// record during hooks and deletes hook objects.
fn write_chart(dir: &Path) -> PathBuf {
    let chart = dir.join("crashdemo");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: crashdemo\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("values.yaml"),
        "round: 0\nwithB: false\nwaitJob: false\n",
    )
    .unwrap();
    let cm = |name: &str, extra: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ .Release.Name }}}}-{name}\n{extra}\
             data:\n  round: {{{{ .Values.round | quote }}}}\n"
        )
    };
    let files = [
        ("a.yaml", cm("a", "")),
        (
            "b.yaml",
            format!(
                "{{{{- if .Values.withB }}}}\n{}{{{{- end }}}}\n",
                cm("b", "")
            ),
        ),
        (
            "keep.yaml",
            cm(
                "keep",
                "  annotations:\n    helm.sh/resource-policy: keep\n",
            ),
        ),
        (
            "pre.yaml",
            cm(
                "pre",
                "  annotations:\n    helm.sh/hook: pre-install,pre-upgrade,pre-rollback,pre-delete\n\
                 \x20   helm.sh/hook-delete-policy: before-hook-creation\n",
            ),
        ),
        (
            "post.yaml",
            cm(
                "post",
                "  annotations:\n    helm.sh/hook: post-install,post-upgrade,post-rollback,post-delete\n\
                 \x20   helm.sh/hook-delete-policy: hook-succeeded\n",
            ),
        ),
    ];
    // Only for the apiserver restart: a hook Job the test completes, so the
    // install is surely mid-way (waiting on it) when the apiserver stops.
    let job = [
        "{{- if .Values.waitJob }}",
        "apiVersion: batch/v1",
        "kind: Job",
        "metadata:",
        "  name: {{ .Release.Name }}-wait",
        "  annotations:",
        "    helm.sh/hook: post-install,post-upgrade",
        "    helm.sh/hook-delete-policy: before-hook-creation",
        "spec:",
        "  template:",
        "    spec:",
        "      restartPolicy: Never",
        "      containers:",
        "        - name: wait",
        "          image: busybox",
        "          command: [\"true\"]",
        "{{- end }}",
    ];
    std::fs::write(chart.join("templates/job.yaml"), job.join("\n") + "\n").unwrap();
    for (file, text) in files {
        std::fs::write(chart.join("templates").join(file), text).unwrap();
    }
    chart
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Install,
    Upgrade,
    Rollback,
    Uninstall,
}

const OPS: [Op; 4] = [Op::Install, Op::Upgrade, Op::Rollback, Op::Uninstall];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Install => "install",
            Op::Upgrade => "upgrade",
            Op::Rollback => "rollback",
            Op::Uninstall => "uninstall",
        }
    }

    /// The calls that build the starting state (straight to the apiserver).
    fn setup(self) -> Vec<(u32, bool)> {
        match self {
            Op::Install => vec![],
            Op::Upgrade => vec![(1, true)],
            Op::Rollback => vec![(1, false), (2, true)],
            Op::Uninstall => vec![(1, true), (2, true)],
        }
    }

    /// The operation killed and then retried.
    fn args(self, chart: &str, ns: &str) -> Vec<String> {
        match self {
            Op::Install => upgrade_args(chart, ns, 1, true),
            Op::Upgrade => upgrade_args(chart, ns, 2, false),
            Op::Rollback => ["rollback", RELEASE, "1", "-n", ns]
                .map(String::from)
                .to_vec(),
            Op::Uninstall => ["uninstall", RELEASE, "-n", ns].map(String::from).to_vec(),
        }
    }

    fn expect(self) -> Expect {
        match self {
            Op::Install => Expect::Deployed {
                round: 1,
                with_b: true,
            },
            Op::Upgrade => Expect::Deployed {
                round: 2,
                with_b: false,
            },
            Op::Rollback => Expect::Deployed {
                round: 1,
                with_b: false,
            },
            Op::Uninstall => Expect::Gone,
        }
    }
}

fn upgrade_args(chart: &str, ns: &str, round: u32, with_b: bool) -> Vec<String> {
    [
        "upgrade",
        "--install",
        RELEASE,
        chart,
        "-n",
        ns,
        "--set",
        &format!("round={round}"),
        "--set",
        &format!("withB={with_b}"),
    ]
    .map(String::from)
    .to_vec()
}

struct Suite {
    plane: ControlPlane,
    work: tempfile::TempDir,
    chart: String,
    upstream: Upstream,
}

impl Suite {
    fn start() -> Option<Self> {
        let plane = ControlPlane::start()?;
        let work = tempfile::tempdir().unwrap();
        let chart = write_chart(work.path()).display().to_string();
        let upstream = Upstream::Tls {
            addr: SocketAddr::from(([127, 0, 0, 1], plane.port)),
            ca: plane.ca_cert.clone(),
        };
        let suite = Suite {
            plane,
            work,
            chart,
            upstream,
        };
        // Compile the plugins once, before processes run side by side.
        let warm = suite.command(&["plugins", "list"], None).output().unwrap();
        assert!(warm.status.success(), "{warm:?}");
        Some(suite)
    }

    /// The binary with `args`, against `kubeconfig` (the admin's by default).
    fn command(&self, args: &[&str], kubeconfig: Option<&Path>) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env(
                "K0RDENT_MCP_PLUGIN_CACHE_DIR",
                self.work.path().join("plugins"),
            )
            .env("K0RDENT_MCP_VALIDATION_TIMEOUT", "0s")
            .env("K0RDENT_MCP_HISTORY_MAX", "0")
            .env("K0RDENT_MCP_TIMEOUT", "60s")
            .env("K0RDENT_MCP_LOCK_LEASE", LEASE)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if args.first() != Some(&"plugins") {
            command.arg(format!(
                "--kubeconfig={}",
                kubeconfig.unwrap_or(&self.plane.kubeconfig).display()
            ));
        }
        command
    }

    fn run(&self, args: &[String], kubeconfig: Option<&Path>) -> Output {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(["-o", "json"]);
        self.command(&all, kubeconfig).output().unwrap()
    }

    fn namespace(&self, ns: &str) {
        self.plane.kubectl(&["create", "namespace", ns]);
    }

    fn set_up(&self, op: Op, ns: &str) -> Result<(), String> {
        self.namespace(ns);
        for (round, with_b) in op.setup() {
            let out = self.run(&upgrade_args(&self.chart, ns, round, with_b), None);
            if !out.status.success() {
                return Err(format!(
                    "setting up {ns}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        Ok(())
    }

    /// Runs `op` through a kill proxy; returns the proxy (its writes and kill
    /// point) and how the process ended.
    fn through_proxy(
        &self,
        op: Op,
        ns: &str,
        kill_at: Option<(usize, KillMode)>,
    ) -> (KillProxy, Output) {
        let proxy = KillProxy::start(self.upstream.clone(), kill_at, Box::new(writes::name_write));
        let kubeconfig = self
            .plane
            .kubeconfig_at(&format!("kubeconfig-proxy-{ns}"), &proxy.url());
        let args = op.args(&self.chart, ns);
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(["-o", "json"]);
        let child = self.command(&all, Some(&kubeconfig)).spawn().unwrap();
        proxy.target(child.id());
        let out = child.wait_with_output().unwrap();
        (proxy, out)
    }
}

/// One cell of the matrix.
struct Case {
    op: Op,
    point: usize,
    write: String,
    mode: KillMode,
}

struct CaseResult {
    case: Case,
    outcome: Result<String, String>,
}

/// What the retry did, in words, from its JSON report.
fn describe_retry(report: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(recovered) = report.get("recovered").filter(|r| !r.is_null()) {
        let how = match recovered["rollback_revision"].as_u64() {
            Some(r) => format!("rolled back as v{r}"),
            None => format!(
                "first install's objects removed ({})",
                recovered["deleted"].as_array().map_or(0, Vec::len)
            ),
        };
        parts.push(format!(
            "recovered v{} {}: {how}",
            recovered["revision"],
            recovered["status"].as_str().unwrap_or("?")
        ));
    }
    match report.get("action").and_then(Value::as_str) {
        Some(action) => parts.push(format!("{action} v{}", report["revision"])),
        None => parts.push("uninstalled".into()),
    }
    parts.join("; ")
}

fn run_case(suite: &Suite, case: &Case) -> Result<String, String> {
    let ns = format!("{}-{}-{}", case.op.name(), case.mode.as_str(), case.point);
    suite.set_up(case.op, &ns)?;
    let (proxy, out) = suite.through_proxy(case.op, &ns, Some((case.point, case.mode)));
    let killed_at = Instant::now();
    if out.status.signal() != Some(9) {
        return Err(format!(
            "the process was not killed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if proxy.killed_at().as_deref() != Some(case.write.as_str()) {
        return Err(format!(
            "killed at {:?}, but write {} of the enumeration is {:?}: the write sequence is not deterministic",
            proxy.killed_at(),
            case.point,
            case.write
        ));
    }
    drop(proxy);
    // A record the killed process leased blocks the release until the lease
    // (renewed at most at the kill) runs out; the retry comes after that,
    // as a user's would. Expiry is checked in whole seconds.
    let leased = records(&suite.plane, &ns)?.iter().any(|(s, _)| {
        s.annotations
            .contains_key("k0rdent-mcp.k0rdent.io/lock-holder")
    });
    if leased {
        let wait = Duration::from_millis(LEASE_SECONDS * 1000 + 1100);
        if let Some(left) = wait.checked_sub(killed_at.elapsed()) {
            std::thread::sleep(left);
        }
    }
    let retry = suite.run(&case.op.args(&suite.chart, &ns), None);
    let stderr = String::from_utf8_lossy(&retry.stderr);
    let outcome = if retry.status.success() {
        let report: Value = serde_json::from_slice(&retry.stdout)
            .map_err(|e| format!("the retry printed no JSON ({e})"))?;
        let deleted = report
            .pointer("/recovered/deleted")
            .and_then(Value::as_array);
        // Only an interrupted first install has objects nobody else owns; a
        // later operation's objects belong to the revision that ran before
        // (the final state would hide this: the retry re-creates them).
        if case.op != Op::Install && deleted.is_some_and(|d| !d.is_empty()) {
            return Err(format!(
                "{}: the recovery deleted live objects a deployed revision owns: {deleted:?}",
                describe_retry(&report)
            ));
        }
        describe_retry(&report)
    } else if case.op == Op::Uninstall && stderr.contains("not found") {
        // The kill came after the uninstall's last write: nothing to retry.
        "already gone (retry: not found)".to_string()
    } else {
        return Err(format!("the retry failed: {stderr}"));
    };
    check(&suite.plane, &ns, case.op.expect()).map_err(|e| format!("{outcome}: {e}"))?;
    Ok(outcome)
}

fn selected_ops() -> Vec<Op> {
    match std::env::var("CRASH_OPS") {
        Ok(list) => OPS
            .into_iter()
            .filter(|op| list.split(',').any(|s| s.trim() == op.name()))
            .collect(),
        Err(_) => OPS.to_vec(),
    }
}

#[test]
fn every_write_point_of_every_operation_converges_after_a_kill() {
    let Some(suite) = Suite::start() else {
        return;
    };
    let started = Instant::now();
    let ops = selected_ops();
    // The enumeration: each operation once, unkilled, through the proxy.
    let mut cases = VecDeque::new();
    let mut enumeration = Vec::new();
    for op in &ops {
        let ns = format!("{}-writes", op.name());
        suite.set_up(*op, &ns).unwrap();
        let (proxy, out) = suite.through_proxy(*op, &ns, None);
        assert!(
            out.status.success(),
            "{} through the proxy: {}",
            op.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        check(&suite.plane, &ns, op.expect()).unwrap();
        let writes = proxy.writes();
        assert!(!writes.is_empty(), "{} wrote nothing", op.name());
        enumeration.push(format!(
            "{}: {} write points: {}",
            op.name(),
            writes.len(),
            writes.join(" | ")
        ));
        for (i, write) in writes.iter().enumerate() {
            for mode in [KillMode::Before, KillMode::After] {
                cases.push_back(Case {
                    op: *op,
                    point: i + 1,
                    write: write.clone(),
                    mode,
                });
            }
        }
    }
    eprintln!("WRITE-POINTS\n{}", enumeration.join("\n"));

    let total = cases.len();
    let queue = Mutex::new(cases);
    let results = Mutex::new(Vec::new());
    let workers: usize = std::env::var("CRASH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(4);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let Some(case) = queue.lock().unwrap().pop_front() else {
                        return;
                    };
                    let outcome = run_case(&suite, &case);
                    results.lock().unwrap().push(CaseResult { case, outcome });
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| {
        (
            OPS.iter().position(|o| *o == r.case.op),
            r.case.point,
            r.case.mode.as_str(),
        )
    });
    let mut table = vec![
        "| operation | # | killed at write | mode | retry's outcome | converged |".to_string(),
        "|---|---|---|---|---|---|".to_string(),
    ];
    for r in &results {
        let (outcome, ok) = match &r.outcome {
            Ok(o) => (o.clone(), "yes"),
            Err(e) => (e.replace('\n', " "), "**NO**"),
        };
        table.push(format!(
            "| {} | {} | `{}` | {} | {} | {} |",
            r.case.op.name(),
            r.case.point,
            r.case.write,
            r.case.mode.as_str(),
            outcome,
            ok
        ));
    }
    eprintln!(
        "CRASH-MATRIX ({total} cases, {} s)\n{}",
        started.elapsed().as_secs(),
        table.join("\n")
    );
    let failed: Vec<&CaseResult> = results.iter().filter(|r| r.outcome.is_err()).collect();
    assert!(
        failed.is_empty(),
        "{} of {total} cells did not converge (see CRASH-MATRIX above)",
        failed.len()
    );
}

/// Plays the Job controller: every unfinished Job in `ns` completes.
fn complete_jobs(plane: &ControlPlane, ns: &str) {
    let Ok(jobs) = converge::kubectl_json(plane, &["get", "jobs.batch", "-n", ns, "-o", "json"])
    else {
        return;
    };
    for job in jobs["items"].as_array().cloned().unwrap_or_default() {
        if job.pointer("/status/conditions").is_some() {
            continue;
        }
        let now = "2026-01-01T00:00:00Z";
        let status = serde_json::json!({"status": {"startTime": now, "completionTime": now,
            "succeeded": 1, "conditions": [{"type": "Complete", "status": "True",
            "lastProbeTime": now, "lastTransitionTime": now}]}});
        let name = job["metadata"]["name"].as_str().unwrap_or_default();
        let _ = plane.kubectl_as(
            &plane.kubeconfig,
            &[
                "patch",
                "jobs.batch",
                name,
                "-n",
                ns,
                "--subresource=status",
                "--type=merge",
                "-p",
                &status.to_string(),
            ],
        );
    }
}

/// Runs `args` to the end, completing hook Jobs as they appear.
fn run_completing_jobs(plane: &ControlPlane, mut command: Command, ns: &str) -> Output {
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the operation did not end");
        complete_jobs(plane, ns);
        std::thread::sleep(Duration::from_millis(150));
    }
    child.wait_with_output().unwrap()
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn an_apiserver_restart_mid_install_fails_clearly_and_the_next_attempt_converges() {
    let Some(mut suite) = Suite::start() else {
        return;
    };
    let ns = "restart";
    suite.namespace(ns);
    let mut args = upgrade_args(&suite.chart, ns, 1, true);
    args.extend([
        "--set".to_string(),
        "waitJob=true".to_string(),
        "-o".into(),
        "json".into(),
    ]);
    let all: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut install = suite.command(&all, None).spawn().unwrap();
    // Mid-install: the objects are applied and it waits on its post-install Job.
    let deadline = Instant::now() + Duration::from_secs(60);
    while suite
        .plane
        .kubectl_as(
            &suite.plane.kubeconfig,
            &["get", "jobs.batch", "app-wait", "-n", ns],
        )
        .is_err()
    {
        assert!(
            install.try_wait().unwrap().is_none(),
            "the install ended before its hook"
        );
        assert!(Instant::now() < deadline, "no hook Job appeared");
        std::thread::sleep(Duration::from_millis(100));
    }
    suite.plane.stop_apiserver();
    let stopped = Instant::now();
    let out = loop {
        if install.try_wait().unwrap().is_some() {
            break install.wait_with_output().unwrap();
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(60),
            "the install hangs while the apiserver is down"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let ended = Instant::now();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("ERROR WITH THE APISERVER DOWN: {stderr}");
    assert!(!out.status.success());
    assert!(
        stderr.contains("check that the API server is reachable"),
        "a clear error naming the cause and the fix: {stderr}"
    );
    suite.plane.start_apiserver();
    let before = records(&suite.plane, ns).unwrap();
    assert_eq!(before.len(), 1, "one record, the interrupted install's");
    // It still carries the dead process's lease: the next attempt comes once
    // that ran out (a user is told when, see release_lock.rs).
    std::thread::sleep(
        Duration::from_millis(LEASE_SECONDS * 1000 + 1100).saturating_sub(ended.elapsed()),
    );
    let mut retry = upgrade_args(&suite.chart, ns, 1, true);
    retry.extend([
        "--set".to_string(),
        "waitJob=true".to_string(),
        "-o".into(),
        "json".into(),
    ]);
    let all: Vec<&str> = retry.iter().map(String::as_str).collect();
    let report = json_of(&run_completing_jobs(
        &suite.plane,
        suite.command(&all, None),
        ns,
    ));
    eprintln!("RESTART RETRY: {}", describe_retry(&report));
    assert_eq!(report["recovered"]["revision"], 1, "{report}");
    check(
        &suite.plane,
        ns,
        Expect::Deployed {
            round: 1,
            with_b: true,
        },
    )
    .unwrap();
}

#[test]
fn a_registry_down_mid_upgrade_fails_clearly_and_the_next_attempt_converges() {
    let Some(suite) = Suite::start() else {
        return;
    };
    let Some(mut registry) = k0rdent_test_harness::registry::Registry::plain() else {
        return;
    };
    let host = registry.host();
    // The chart folder as two chart versions in the registry.
    let folder = Path::new(&suite.chart);
    let tgz = |version: &str| {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        for entry in ["Chart.yaml", "values.yaml"]
            .into_iter()
            .map(String::from)
            .chain(
                std::fs::read_dir(folder.join("templates"))
                    .unwrap()
                    .map(|e| format!("templates/{}", e.unwrap().file_name().to_string_lossy())),
            )
        {
            let mut bytes = std::fs::read(folder.join(&entry)).unwrap();
            if entry == "Chart.yaml" {
                bytes =
                    format!("apiVersion: v2\nname: crashdemo\nversion: {version}\n").into_bytes();
            }
            files.push((format!("crashdemo/{entry}"), bytes));
        }
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(p, b)| (p.as_str(), b.as_slice()))
            .collect();
        k0rdent_test_harness::charts::tgz(&refs)
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for version in ["0.1.0", "0.2.0"] {
        let config = format!(r#"{{"apiVersion":"v2","name":"crashdemo","version":"{version}"}}"#);
        runtime
            .block_on(k0rdent_test_harness::charts::push_chart(
                &host,
                "charts/crashdemo",
                version,
                &tgz(version),
                &config,
                &oci_client::secrets::RegistryAuth::Anonymous,
                true,
            ))
            .expect("push");
    }
    let ns = "registry";
    suite.namespace(ns);
    let reference = format!("oci://{host}/charts/crashdemo");
    let upgrade = |version: &str, round: u32, with_b: bool| {
        let mut args = upgrade_args(&reference, ns, round, with_b);
        args.extend([
            "--version".into(),
            version.into(),
            "-o".into(),
            "json".into(),
        ]);
        let all: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut command = suite.command(&all, None);
        command.env("K0RDENT_MCP_PLAIN_HTTP", &host).env(
            "K0RDENT_MCP_CHART_CACHE_DIR",
            suite.work.path().join("charts"),
        );
        command.output().unwrap()
    };
    assert_eq!(json_of(&upgrade("0.1.0", 1, true))["revision"], 1);

    registry.stop();
    let out = upgrade("0.2.0", 2, false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("ERROR WITH THE REGISTRY DOWN: {stderr}");
    assert!(!out.status.success());
    assert!(stderr.contains(&host), "names the registry: {stderr}");
    // The chart is pulled before anything is written: the release is as it was.
    check(
        &suite.plane,
        ns,
        Expect::Deployed {
            round: 1,
            with_b: true,
        },
    )
    .unwrap();
    assert_eq!(records(&suite.plane, ns).unwrap().len(), 1);

    registry.restart();
    let report = json_of(&upgrade("0.2.0", 2, false));
    assert_eq!(
        (&report["action"], &report["revision"]),
        (&"upgraded".into(), &2.into())
    );
    check(
        &suite.plane,
        ns,
        Expect::Deployed {
            round: 2,
            with_b: false,
        },
    )
    .unwrap();
}
