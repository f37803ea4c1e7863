//! The operation lock across processes, against a real kube-apiserver: real
//! `k0rdent-mcp` processes killed mid-operation (their lease then expires
//! and the next call recovers the release), a live lock reported with its
//! holder, `unlock` with and without force, helm's own stuck pending record,
//! and two processes racing on one release for 20 rounds. Real helm v4 reads
//! every record. No Job controller runs: the test finishes hook Jobs itself,
//! so an operation holds its lock exactly as long as the test wants.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use k0rdent_test_harness::cluster::ControlPlane;
use serde_json::{Value, json};

mod support;
use support::{BIN, helm};

const NS: &str = "kcm-system";

/// A chart whose every operation waits on a hook Job: `post-install` (so a
/// first install has applied its ConfigMap when it waits), `pre-upgrade`,
/// `pre-rollback`, `pre-delete`.
fn write_chart(dir: &Path) -> PathBuf {
    let chart = dir.join("lockdemo");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: lockdemo\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(chart.join("values.yaml"), "round: \"0\"\nwho: \"\"\n").unwrap();
    std::fs::write(
        chart.join("templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n\
         data:\n  round: {{ .Values.round | quote }}\n  who: {{ .Values.who | quote }}\n",
    )
    .unwrap();
    let hook = [
        "apiVersion: batch/v1",
        "kind: Job",
        "metadata:",
        "  name: {{ .Release.Name }}-hook",
        "  annotations:",
        "    helm.sh/hook: post-install,pre-upgrade,pre-rollback,pre-delete",
        "    helm.sh/hook-delete-policy: before-hook-creation",
        "spec:",
        "  template:",
        "    spec:",
        "      restartPolicy: Never",
        "      containers:",
        "        - name: wait",
        "          image: busybox",
        "          command: [\"true\"]",
    ];
    std::fs::write(chart.join("templates/hook.yaml"), hook.join("\n") + "\n").unwrap();
    chart
}

struct Cli<'a> {
    plane: &'a ControlPlane,
    cache: PathBuf,
    chart: String,
}

impl Cli<'_> {
    fn command(&self, args: &[&str], lease: &str) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .arg(format!("--kubeconfig={}", self.plane.kubeconfig.display()))
            .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", self.cache.join("plugins"))
            .env("K0RDENT_MCP_VALIDATION_TIMEOUT", "0s")
            .env("K0RDENT_MCP_HISTORY_MAX", "0")
            .env("K0RDENT_MCP_TIMEOUT", "120s")
            .env("K0RDENT_MCP_LOCK_LEASE", lease)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn spawn(&self, args: &[&str], lease: &str) -> Child {
        self.command(args, lease)
            .spawn()
            .expect("starting k0rdent-mcp")
    }

    /// Runs to the end, finishing every hook Job it starts.
    fn run(&self, args: &[&str]) -> Output {
        let mut child = self.spawn(args, "60s");
        loop {
            complete_hook_jobs(self.plane);
            if child.try_wait().unwrap().is_some() {
                return child.wait_with_output().unwrap();
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend_from_slice(&["-o", "json"]);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Runs a call expected to fail before any hook (hook Jobs left alone).
    fn error(&self, args: &[&str]) -> String {
        let out = self.command(args, "60s").output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn upgrade(&self, release: &str, round: &str) -> Vec<String> {
        [
            "upgrade",
            "--install",
            release,
            &self.chart,
            "-n",
            NS,
            "--set",
            &format!("round={round}"),
        ]
        .map(String::from)
        .to_vec()
    }
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn kubectl_json(plane: &ControlPlane, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["-n", NS, "-o", "json"]);
    serde_json::from_str(&plane.kubectl(&all)).unwrap()
}

/// Plays the Job controller for hook Jobs, when the test says so.
fn complete_hook_jobs(plane: &ControlPlane) {
    let jobs = kubectl_json(plane, &["get", "jobs.batch"]);
    for job in jobs["items"].as_array().unwrap() {
        if job.pointer("/status/conditions").is_some() {
            continue;
        }
        let now = "2026-01-01T00:00:00Z";
        let status = json!({"status": {"startTime": now, "completionTime": now, "succeeded": 1,
            "conditions": [{"type": "Complete", "status": "True",
            "lastProbeTime": now, "lastTransitionTime": now}]}});
        let name = job["metadata"]["name"].as_str().unwrap();
        let _ = plane.kubectl_as(
            &plane.kubeconfig,
            &[
                "patch",
                "jobs.batch",
                name,
                "-n",
                NS,
                "--subresource=status",
                "--type=merge",
                "-p",
                &status.to_string(),
            ],
        );
    }
}

/// Waits until `release`'s hook Job exists unfinished: the operation that
/// created it holds the lock and waits on it.
fn wait_for_waiting_hook(plane: &ControlPlane, release: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let name = format!("{release}-hook");
    loop {
        let jobs = kubectl_json(plane, &["get", "jobs.batch"]);
        if jobs["items"].as_array().unwrap().iter().any(|j| {
            j["metadata"]["name"] == name.as_str() && j.pointer("/status/conditions").is_none()
        }) {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.stderr.take().map(std::io::read_to_string);
            panic!("the operation ended ({status}) before its hook: {out:?}");
        }
        assert!(Instant::now() < deadline, "no hook Job appeared");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `(revision, status)` of every release Secret, as the labels helm queries say.
fn secrets(plane: &ControlPlane, release: &str) -> Vec<(u32, String)> {
    let list = kubectl_json(
        plane,
        &[
            "get",
            "secrets",
            "-l",
            &format!("name={release},owner=helm"),
        ],
    );
    let mut out: Vec<(u32, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["metadata"]["labels"]["version"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
                s["metadata"]["labels"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// `(revision, status)` as real helm v4 `history` reports them.
fn helm_history(plane: &ControlPlane, release: &str) -> Vec<(u32, String)> {
    let text = helm(plane, &["history", release, "-n", NS, "-o", "json"]);
    let rows: Value = serde_json::from_str(&text).unwrap();
    let mut out: Vec<(u32, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_u64().unwrap() as u32,
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn setup() -> Option<(ControlPlane, tempfile::TempDir, String)> {
    let plane = ControlPlane::start()?;
    plane.kubectl(&["create", "namespace", NS]);
    let work = tempfile::tempdir().unwrap();
    let chart = write_chart(work.path()).display().to_string();
    Some((plane, work, chart))
}

#[test]
fn an_abandoned_upgrade_is_recovered_after_its_lease_expires_and_a_live_one_is_reported() {
    let Some((plane, work, chart)) = setup() else {
        return;
    };
    let cli = Cli {
        plane: &plane,
        cache: work.path().to_path_buf(),
        chart,
    };
    let first = cli.json(&args(&cli.upgrade("app", "1")));
    assert_eq!(first["revision"], 1, "{first}");

    // An upgrade with a 3 s lease takes the lock and waits on its hook.
    let mut upgrade = cli.spawn(&args(&cli.upgrade("app", "2")), "3s");
    wait_for_waiting_hook(&plane, "app", &mut upgrade);
    let holder_pid = format!("/{}-", upgrade.id());

    // Live lease: another process is told who holds it and since when.
    let mut other = cli.spawn(&args(&cli.upgrade("app", "3")), "60s");
    let out = {
        let status = other.wait().unwrap();
        assert!(!status.success());
        std::io::read_to_string(other.stderr.take().unwrap()).unwrap()
    };
    assert!(
        out.contains("another operation is in progress since "),
        "{out}"
    );
    assert!(out.contains(&holder_pid), "names the holder process: {out}");
    assert!(out.contains("pending-upgrade, lease renewed"), "{out}");
    // The renewal keeps a 3 s lease alive for as long as the operation runs.
    std::thread::sleep(Duration::from_secs(5));
    let err = cli.error(&["unlock", "app", "-n", NS]);
    assert!(err.contains("unlock refused"), "{err}");
    assert!(
        err.contains(&holder_pid) && err.contains("lease is live"),
        "{err}"
    );
    assert_eq!(
        secrets(&plane, "app"),
        [(1, "deployed".into()), (2, "pending-upgrade".into())]
    );

    // The process dies mid-operation; its lease runs out.
    upgrade.kill().unwrap();
    upgrade.wait().unwrap();
    std::thread::sleep(Duration::from_secs(5));
    // helm v4 reads the record that carries the lease annotations.
    assert_eq!(
        helm_history(&plane, "app"),
        [(1, "deployed".into()), (2, "pending-upgrade".into())]
    );
    assert!(helm(&plane, &["status", "app", "-n", NS]).contains("STATUS: pending-upgrade"));

    // The next call recovers the release by itself, says so, and goes on.
    let next = cli.json(&args(&cli.upgrade("app", "3")));
    let recovered = &next["recovered"];
    assert_eq!(recovered["revision"], 2, "{next}");
    assert_eq!(recovered["status"], "pending-upgrade");
    assert!(
        recovered["holder"].as_str().unwrap().contains(&holder_pid),
        "{recovered}"
    );
    assert!(recovered["since"].as_str().unwrap().ends_with('Z'));
    assert!(recovered["expired_at"].is_string(), "{recovered}");
    assert_eq!(recovered["rollback_revision"], 3, "{recovered}");
    assert_eq!(
        (&next["action"], &next["revision"]),
        (&json!("upgraded"), &json!(4))
    );
    let expected = [
        (1, "superseded".to_string()),
        (2, "failed".into()),
        (3, "superseded".into()),
        (4, "deployed".into()),
    ];
    assert_eq!(secrets(&plane, "app"), expected);
    assert_eq!(helm_history(&plane, "app"), expected);
    let described = helm(&plane, &["history", "app", "-n", NS, "-o", "json"]);
    assert!(
        described.contains("upgrade interrupted (pending-upgrade"),
        "{described}"
    );
    let cm = kubectl_json(&plane, &["get", "configmap", "app-cm"]);
    assert_eq!(cm["data"]["round"], "3");
    // No record keeps a lease once its operation is over.
    let all = kubectl_json(&plane, &["get", "secrets", "-l", "name=app,owner=helm"]);
    for secret in all["items"].as_array().unwrap() {
        assert!(
            secret.pointer("/metadata/annotations").is_none_or(|a| a
                .as_object()
                .unwrap()
                .keys()
                .all(|k| !k.starts_with("k0rdent-mcp.k0rdent.io/"))),
            "{secret}"
        );
    }
    // And helm v4 upgrades the release afterwards.
    helm(
        &plane,
        &[
            "upgrade",
            "app",
            &cli.chart,
            "-n",
            NS,
            "--set",
            "round=5",
            "--no-hooks",
        ],
    );
    assert_eq!(
        secrets(&plane, "app").last().unwrap(),
        &(5, "deployed".into())
    );
}

#[test]
fn unlock_recovers_a_first_install_and_helms_own_pending_record_only_with_force() {
    let Some((plane, work, chart)) = setup() else {
        return;
    };
    let cli = Cli {
        plane: &plane,
        cache: work.path().to_path_buf(),
        chart,
    };
    // A first install dies in its post-install hook: its ConfigMap exists.
    let mut install = cli.spawn(&args(&cli.upgrade("fresh", "1")), "60s");
    wait_for_waiting_hook(&plane, "fresh", &mut install);
    let holder_pid = format!("/{}-", install.id());
    install.kill().unwrap();
    install.wait().unwrap();
    assert!(kubectl_json(&plane, &["get", "configmap", "fresh-cm"])["data"].is_object());

    let err = cli.error(&["unlock", "fresh", "-n", NS]);
    assert!(
        err.contains("unlock refused: revision 1 is held by"),
        "{err}"
    );
    assert!(
        err.contains(&holder_pid) && err.contains(" since "),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");

    let unlocked = cli.json(&["unlock", "fresh", "-n", NS, "--force"]);
    assert_eq!(unlocked["lease"], "live", "{unlocked}");
    let recovered = &unlocked["recovered"];
    assert_eq!(recovered["revision"], 1);
    assert_eq!(recovered["status"], "pending-install");
    assert_eq!(
        recovered["deleted"],
        json!(["kcm-system/ConfigMap/fresh-cm"])
    );
    assert!(recovered["expired_at"].is_null());
    assert_eq!(secrets(&plane, "fresh"), [(1, "failed".into())]);
    assert_eq!(helm_history(&plane, "fresh"), [(1, "failed".into())]);
    assert!(
        plane
            .kubectl_as(
                &plane.kubeconfig,
                &["get", "configmap", "fresh-cm", "-n", NS]
            )
            .is_err(),
        "the failed first install's object is removed"
    );
    let err = cli.error(&["unlock", "fresh", "-n", NS]);
    assert!(err.contains("is not locked"), "{err}");

    // helm's own pending record (helm v4 killed while it waits on a hook)
    // carries no lease: held by helm, never recovered by age, only with force.
    let helm_bin = std::env::var_os("K0RDENT_MCP_HELM")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/var/tmp/k0rdent-mcp-cache/tools/helm".into());
    let mut by_helm = plane
        .helm_command(&helm_bin)
        .args([
            "install",
            "byhelm",
            &cli.chart,
            "-n",
            NS,
            "--timeout",
            "10m",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_waiting_hook(&plane, "byhelm", &mut by_helm);
    by_helm.kill().unwrap();
    by_helm.wait().unwrap();
    assert_eq!(secrets(&plane, "byhelm"), [(1, "pending-install".into())]);
    let err = cli.error(&args(&cli.upgrade("byhelm", "2")));
    assert!(
        err.contains("in progress since ") && err.contains("by helm or another client"),
        "{err}"
    );
    assert!(err.contains("no lease"), "{err}");
    let err = cli.error(&["unlock", "byhelm", "-n", NS]);
    assert!(
        err.contains("unlock refused") && err.contains("pending-install, no lease"),
        "{err}"
    );
    let unlocked = cli.json(&["unlock", "byhelm", "-n", NS, "--force"]);
    assert_eq!(unlocked["lease"], "none", "{unlocked}");
    assert_eq!(
        unlocked["recovered"]["deleted"],
        json!(["kcm-system/ConfigMap/byhelm-cm"])
    );
    assert_eq!(helm_history(&plane, "byhelm"), [(1, "failed".into())]);
}

/// What one racer did.
struct Finished {
    who: &'static str,
    ok: bool,
    stderr: String,
    stdout: String,
}

#[test]
fn two_processes_racing_on_one_release_for_20_rounds_proceed_one_at_a_time() {
    let Some((plane, work, chart)) = setup() else {
        return;
    };
    let cli = Cli {
        plane: &plane,
        cache: work.path().to_path_buf(),
        chart,
    };
    // Compile the plugins once, so both racers start equally fast.
    let warm = Command::new(BIN)
        .args(["plugins", "list"])
        .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", cli.cache.join("plugins"))
        .output()
        .unwrap();
    assert!(warm.status.success(), "{warm:?}");
    let started = Instant::now();
    let mut installed = false;
    let mut expected: Vec<(u32, String)> = Vec::new();
    let mut table = Vec::new();
    for round in 0..20 {
        let r = round.to_string();
        let upgrade = |who: &str| {
            let mut a = cli.upgrade("race", &r);
            a.extend(["--set".to_string(), format!("who={who}")]);
            a
        };
        let uninstall = || ["uninstall", "race", "-n", NS].map(String::from).to_vec();
        let (a, b) = match (installed, round % 3) {
            (false, _) | (true, 0) => (upgrade("a"), upgrade("b")),
            (true, 1) => (upgrade("a"), uninstall()),
            _ => (uninstall(), upgrade("b")),
        };
        let mut racers = vec![
            ("a", cli.spawn(&args(&a), "60s"), a),
            ("b", cli.spawn(&args(&b), "60s"), b),
        ];
        // The winner waits on its hook until the loser has given up, so the
        // two operations overlap for certain.
        let mut done: Vec<Finished> = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !racers.is_empty() {
            let mut i = 0;
            while i < racers.len() {
                if racers[i].1.try_wait().unwrap().is_some() {
                    let (who, child, _) = racers.remove(i);
                    let out = child.wait_with_output().unwrap();
                    done.push(Finished {
                        who,
                        ok: out.status.success(),
                        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                    });
                } else {
                    i += 1;
                }
            }
            if done.len() == 1 {
                complete_hook_jobs(&plane);
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: both operations are still running: both took the lock"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let winners: Vec<&Finished> = done.iter().filter(|f| f.ok).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one proceeds: {:?}",
            done.iter()
                .map(|f| (&f.who, f.ok, &f.stderr))
                .collect::<Vec<_>>()
        );
        let loser = done.iter().find(|f| !f.ok).unwrap();
        assert!(
            loser
                .stderr
                .contains("another operation is in progress since "),
            "round {round}: the loser is told: {}",
            loser.stderr
        );
        let winner = winners[0];
        let what = if winner.stdout.contains("uninstalled") {
            installed = false;
            expected.clear();
            "uninstall"
        } else {
            installed = true;
            if let Some(last) = expected.last_mut() {
                last.1 = "superseded".into();
            }
            expected.push((expected.len() as u32 + 1, "deployed".into()));
            "upgrade --install"
        };
        assert_eq!(
            secrets(&plane, "race"),
            expected,
            "round {round}: revisions strictly sequential, none lost or left behind"
        );
        if installed {
            assert_eq!(helm_history(&plane, "race"), expected, "round {round}");
        }
        table.push(format!(
            "| {round} | {} ({what}) | {} | {} |",
            winner.who,
            loser.who,
            expected.len()
        ));
    }
    eprintln!(
        "RACE-TABLE ({} s)\n| round | proceeded | refused \"in progress\" | revisions after |\n|---|---|---|---|\n{}",
        started.elapsed().as_secs(),
        table.join("\n")
    );
}
