//! Release records against what real helm v3.17.2 and v4.1.4 wrote
//! (../shared/fixtures/helm-lifecycle). Skipped with a notice when the
//! fixtures are absent, except under CI=true where that is a failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k0rdent_mcp::chart::{ArchiveLimits, load_chart_dir};
use k0rdent_mcp::release::*;
use serde_json::{Value, json};

fn shared(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared")
        .join(relative);
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("fixture {} is missing (CI=true)", path.display());
    }
    eprintln!("SKIP: fixture {} not found", path.display());
    None
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn records_dir() -> Option<PathBuf> {
    shared("fixtures/helm-lifecycle/release-records")
}

#[test]
fn decodes_both_install_secrets_exactly() {
    let Some(dir) = records_dir() else { return };
    for helm in ["v3", "v4"] {
        let secret = read_json(&dir.join(format!("{helm}-install-secret.json")));
        let raw = std::fs::read(dir.join(format!("{helm}-install-release.raw.json"))).unwrap();
        let payload = std::fs::read(dir.join(format!("{helm}-install-release.b64"))).unwrap();

        let stored = release_from_secret(&secret).unwrap();
        assert_eq!(stored.secret_name, "sh.helm.release.v1.kgst-minio.v1");
        assert!(stored.labels_match_record(), "{helm}");
        assert!(stored.user_labels().is_empty());
        let record = &stored.record;
        assert_eq!(record.name, "kgst-minio");
        assert_eq!(record.namespace, "kcm-system");
        assert_eq!(record.version, 1);
        assert_eq!(record.status(), Some(Status::Deployed));
        assert_eq!(record.info.description, "Install complete");
        assert_eq!(
            record.config,
            json!({"chart": "minio:14.1.2"})
                .as_object()
                .unwrap()
                .clone()
        );
        assert_eq!(record.chart.name_version().unwrap(), "kgst-2.0.2");
        assert_eq!(record.hooks.len(), 2);
        assert_eq!(
            record.hooks[0].events,
            [HookEvent::PreInstall, HookEvent::PreUpgrade]
        );
        assert_eq!(record.hooks[0].last_run.phase, HookPhase::Succeeded);
        assert!(record.extra.is_empty() && record.info.extra.is_empty());

        // The three layers agree: Secret data, Helm's base64 text, the JSON.
        assert_eq!(&decode_release_payload(&payload).unwrap(), record);
        assert_eq!(&decode_release_json(&raw).unwrap(), record);
        // And we write the JSON byte for byte as Go marshalled it.
        let ours = encode_release_json(record).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(raw).unwrap(),
            "{helm}"
        );
    }
}

#[test]
fn v3_and_v4_install_records_differ_only_where_expected() {
    let Some(dir) = records_dir() else { return };
    let load = |helm: &str| {
        decode_release_json(
            &std::fs::read(dir.join(format!("{helm}-install-release.raw.json"))).unwrap(),
        )
        .unwrap()
    };
    let (v3, v4) = (load("v3"), load("v4"));
    // v3 writes unset times as "", v4 leaves them out.
    assert_eq!(v3.info.deleted, RecordTime::Zero);
    assert_eq!(v4.info.deleted, RecordTime::Absent);
    // v4 only: apply method and file mtimes.
    assert_eq!(v3.apply_method, None);
    assert_eq!(v4.apply_method, Some(ApplyMethod::ServerSide));
    assert!(v3.chart.modtime.is_absent() && v3.chart.schemamodtime.is_absent());
    assert!(v4.chart.modtime.time().is_some() && v4.chart.schemamodtime.time().is_some());
    assert!(
        v4.chart
            .templates
            .iter()
            .flatten()
            .all(|t| t.modtime.time().is_some())
    );
    // Everything else that matters is the same.
    assert_eq!(v3.chart.metadata, v4.chart.metadata);
    assert_eq!(v3.chart.values, v4.chart.values);
    assert_eq!(v3.chart.schema, v4.chart.schema);
    assert_eq!(v3.manifest, v4.manifest);
    assert_eq!(v3.info.notes, v4.info.notes);
    let bare = |r: &ReleaseRecord| -> Vec<(String, String)> {
        r.chart
            .templates
            .iter()
            .flatten()
            .map(|t| (t.name.clone(), t.data.clone()))
            .collect()
    };
    assert_eq!(bare(&v3), bare(&v4));
}

#[test]
fn our_secret_matches_helms_secret_apart_from_gzip_bytes() {
    let Some(dir) = records_dir() else { return };
    for helm in ["v3", "v4"] {
        let theirs = read_json(&dir.join(format!("{helm}-install-secret.json")));
        let stored = release_from_secret(&theirs).unwrap();
        let modified_at: i64 = stored.labels["modifiedAt"].parse().unwrap();
        let ours = release_secret(
            &stored.record,
            &BTreeMap::new(),
            SecretWrite::Update,
            modified_at,
        )
        .unwrap();
        assert_eq!(ours["type"], theirs["type"]);
        assert_eq!(ours["metadata"]["name"], theirs["metadata"]["name"]);
        assert_eq!(
            ours["metadata"]["namespace"],
            theirs["metadata"]["namespace"]
        );
        assert_eq!(ours["metadata"]["labels"], theirs["metadata"]["labels"]);
        let keys = |s: &Value| {
            s["data"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&ours), keys(&theirs));
        assert_eq!(release_from_secret(&ours).unwrap().record, stored.record);
    }
}

#[test]
fn every_traced_release_round_trips_and_its_labels_agree() {
    let Some(traces) = shared("fixtures/helm-lifecycle/traces") else {
        return;
    };
    let mut checked = 0;
    for changed in glob_secrets_changed(&traces) {
        for secret in read_json(&changed).as_array().unwrap() {
            let original = &secret["release"];
            let record: ReleaseRecord = serde_json::from_value(original.clone())
                .unwrap_or_else(|e| panic!("{}: {e}", changed.display()));
            let again: Value =
                serde_json::from_slice(&encode_release_json(&record).unwrap()).unwrap();
            assert_eq!(&again, original, "{}", changed.display());
            let labels = &secret["labels"];
            assert_eq!(labels["status"], record.status().unwrap().as_str());
            assert_eq!(labels["version"], record.version.to_string());
            assert_eq!(secret["name"], secret_name(&record.name, record.version));
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} traced releases");
}

fn glob_secrets_changed(traces: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for scenario in std::fs::read_dir(traces).unwrap().flatten() {
        if let Ok(steps) = std::fs::read_dir(scenario.path()) {
            for step in steps.flatten() {
                let file = step.path().join("secrets_changed.json");
                if file.exists() {
                    found.push(file);
                }
            }
        }
    }
    found.sort();
    found
}

#[test]
fn unknown_fields_survive_at_every_level() {
    let Some(dir) = records_dir() else { return };
    let mut doc = read_json(&dir.join("v4-install-release.raw.json"));
    doc["future"] = json!({"x": [1, 2]});
    doc["info"]["future"] = json!("i");
    doc["chart"]["future"] = json!(true);
    doc["chart"]["metadata"]["future"] = json!(1.5);
    doc["chart"]["templates"][0]["future"] = json!(null);
    doc["hooks"][1]["future"] = json!("h");
    doc["hooks"][1]["last_run"]["future"] = json!("r");
    let record = decode_release_json(&serde_json::to_vec(&doc).unwrap()).unwrap();
    assert_eq!(record.extra["future"], json!({"x": [1, 2]}));
    let payload = encode_release_payload(&record).unwrap();
    let decoded = decode_release_payload(payload.as_bytes()).unwrap();
    assert_eq!(decoded, record);
    let written: Value = serde_json::from_slice(&encode_release_json(&decoded).unwrap()).unwrap();
    assert_eq!(written, doc);
}

/// Removes what differs between two runs of the same install: the times
/// Helm takes from the clock or from file mtimes.
fn without_times(mut record: Value) -> Value {
    let info = record["info"].as_object_mut().unwrap();
    for key in ["first_deployed", "last_deployed", "deleted"] {
        info.remove(key);
    }
    let chart = record["chart"].as_object_mut().unwrap();
    chart.remove("modtime");
    chart.remove("schemamodtime");
    for template in chart["templates"].as_array_mut().unwrap() {
        template.as_object_mut().unwrap().remove("modtime");
    }
    record
}

#[test]
fn builder_output_matches_helms_record_for_the_same_install() {
    let Some(dir) = records_dir() else { return };
    let Some(chart_dir) = shared("fixtures/kgst/charts/2.0.2") else {
        return;
    };
    let chart = load_chart_dir(&chart_dir, &ArchiveLimits::default()).unwrap();
    for (helm, apply_method) in [("v3", None), ("v4", Some(ApplyMethod::ServerSide))] {
        let theirs = decode_release_json(
            &std::fs::read(dir.join(format!("{helm}-install-release.raw.json"))).unwrap(),
        )
        .unwrap();
        let first = theirs.info.first_deployed.time().unwrap();
        let ours = NewRelease {
            name: "kgst-minio".into(),
            namespace: "kcm-system".into(),
            revision: 1,
            status: Status::Deployed,
            description: "Install complete".into(),
            chart: chart_record_from_chart(&chart).unwrap(),
            config: json!({"chart": "minio:14.1.2"})
                .as_object()
                .unwrap()
                .clone(),
            // Rendering is not this module's job: the rendered parts are inputs.
            manifest: theirs.manifest.clone(),
            hooks: theirs.hooks.clone(),
            notes: theirs.info.notes.clone(),
            first_deployed: first,
            last_deployed: first,
            apply_method,
        }
        .into_record()
        .unwrap();

        // Field by field first, for readable failures.
        assert_eq!(
            ours.chart.metadata, theirs.chart.metadata,
            "{helm} metadata"
        );
        assert_eq!(ours.chart.lock, theirs.chart.lock, "{helm} lock");
        assert_eq!(ours.chart.values, theirs.chart.values, "{helm} values");
        assert_eq!(ours.chart.schema, theirs.chart.schema, "{helm} schema");
        assert_eq!(ours.chart.files, theirs.chart.files, "{helm} files");
        let names = |r: &ReleaseRecord| -> Vec<(String, String)> {
            r.chart
                .templates
                .iter()
                .flatten()
                .map(|t| (t.name.clone(), t.data.clone()))
                .collect()
        };
        assert_eq!(names(&ours), names(&theirs), "{helm} templates");
        assert_eq!(ours.config, theirs.config);
        assert_eq!(ours.info.status, theirs.info.status);
        assert_eq!(ours.apply_method, theirs.apply_method);
        assert_eq!(
            ours.info.first_deployed.time(),
            theirs.info.first_deployed.time()
        );

        // Then the whole record, timestamps aside.
        let as_value = |r: &ReleaseRecord| -> Value {
            serde_json::from_slice(&encode_release_json(r).unwrap()).unwrap()
        };
        assert_eq!(
            without_times(as_value(&ours)),
            without_times(as_value(&theirs)),
            "{helm}"
        );
    }
}

/// A revision as `secrets_all.json` lists it: labels only.
struct Listed {
    name: String,
    revision: u32,
    status: Status,
}

impl Revision for Listed {
    fn release_name(&self) -> &str {
        &self.name
    }
    fn release_namespace(&self) -> &str {
        "kcm-system"
    }
    fn revision(&self) -> u32 {
        self.revision
    }
    fn status(&self) -> Option<Status> {
        Some(self.status)
    }
}

fn listed(step: &Path, release: &str) -> Vec<Listed> {
    read_json(&step.join("secrets_all.json"))
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["labels"]["name"] == release)
        .map(|s| Listed {
            name: release.into(),
            revision: s["labels"]["version"].as_str().unwrap().parse().unwrap(),
            status: s["labels"]["status"].as_str().unwrap().parse().unwrap(),
        })
        .collect()
}

#[test]
fn pruning_predicts_what_helm_deleted_in_every_traced_upgrade() {
    let Some(traces) = shared("fixtures/helm-lifecycle/traces") else {
        return;
    };
    let mut predicted_deletions = 0;
    for scenario in ["v3-lifecycle", "v4-lifecycle"] {
        let mut steps: Vec<PathBuf> = std::fs::read_dir(traces.join(scenario))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        steps.sort();
        for pair in steps.windows(2) {
            let command = std::fs::read_to_string(pair[1].join("command")).unwrap();
            let words: Vec<&str> = command.lines().next().unwrap().split_whitespace().collect();
            let Some(at) = words
                .iter()
                .position(|w| *w == "upgrade" || *w == "rollback")
            else {
                continue;
            };
            let release = words[at + 1..]
                .iter()
                .find(|w| !w.starts_with('-'))
                .unwrap();
            let before = listed(&pair[0], release);
            let after = listed(&pair[1], release);
            let new_revisions = after
                .iter()
                .filter(|a| before.iter().all(|b| b.revision != a.revision))
                .count();
            // Only steps that stored exactly one new revision (an atomic
            // rollback stores a second one and prunes again).
            if new_revisions != 1 {
                continue;
            }
            let max = match words.iter().position(|w| *w == "--history-max") {
                Some(i) => words[i + 1].parse().unwrap(),
                None => DEFAULT_MAX_HISTORY,
            };
            let deleted: Vec<u32> = {
                let mut gone: Vec<u32> = before
                    .iter()
                    .filter(|b| after.iter().all(|a| a.revision != b.revision))
                    .map(|b| b.revision)
                    .collect();
                gone.sort_unstable();
                gone
            };
            assert_eq!(
                revisions_to_prune(&before, max),
                deleted,
                "{}",
                pair[1].display()
            );
            predicted_deletions += deleted.len();
        }
    }
    assert_eq!(
        predicted_deletions, 8,
        "the traces delete 4 revisions per helm version"
    );
}

#[test]
fn twelve_revision_secrets_in_api_order_resolve_numerically() {
    let mut secrets: Vec<Value> = (1..=12)
        .map(|revision| {
            let mut record = ReleaseRecord {
                name: "r".into(),
                namespace: "ns".into(),
                version: revision,
                ..Default::default()
            };
            record.info.status = Some(match revision {
                12 => Status::Uninstalled,
                11 => Status::Failed,
                8 => Status::Deployed,
                _ => Status::Superseded,
            });
            release_secret(&record, &BTreeMap::new(), SecretWrite::Update, 0).unwrap()
        })
        .collect();
    // The API lists by name: v1, v10, v11, v12, v2, …, v9.
    secrets.sort_by_key(|s| s["metadata"]["name"].as_str().unwrap().to_string());
    let mut history: Vec<StoredRelease> = secrets
        .iter()
        .map(|s| release_from_secret(s).unwrap())
        .collect();
    assert_eq!(history.last().unwrap().record.version, 9);

    assert_eq!(latest(&history).unwrap().record.version, 12);
    assert_eq!(latest_deployed(&history).unwrap().record.version, 8);
    assert_eq!(next_revision(&history), 13);
    assert!(upgrade_should_install(&history));
    assert_eq!(revisions_to_prune(&history, DEFAULT_MAX_HISTORY), [1, 2, 3]);
    // Capped at 3, two old revisions stay: the deployed 8 and the newest, 12.
    assert_eq!(
        revisions_to_prune(&history, 3),
        [1, 2, 3, 4, 5, 6, 7, 9, 10, 11]
    );
    sort_by_revision(&mut history);
    let order: Vec<u32> = history.iter().map(|s| s.record.version).collect();
    assert_eq!(order, (1..=12).collect::<Vec<_>>());
}
