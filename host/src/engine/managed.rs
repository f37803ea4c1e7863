//! Which stored releases an operation may act on. The CLI acts on any
//! release, as helm does: its user chose the release and the credentials.
//! The MCP tools act for a remote caller inside a namespace filter, and a
//! release record is only data in a Secret — a foreign chart's record (k0rdent's
//! own `kcm`, say) or a tampered one can name objects in any namespace or
//! cluster-scoped ones, which uninstall would delete and rollback apply. So
//! there an operation first checks every stored revision: the chart is kgst,
//! the record belongs where it was found, and every object it names
//! (manifest and hooks) is of a kind kgst renders, in the release namespace
//! or one the caller's filter allows.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::quote::quote;
use crate::release::{ReleaseRecord, StoredRelease};

use super::documents::parse_manifest_text;
use super::error::EngineError;
use super::validity::{SERVICE_TEMPLATE_GROUP, SERVICE_TEMPLATE_KIND};

/// The chart the MCP tools install (`name` in kgst's Chart.yaml), whoever
/// installed it: releases helm made from kgst stay manageable.
pub const KGST_CHART: &str = "kgst";

/// (API group, kind) of every object any kgst version renders.
const KGST_KINDS: [(&str, &str); 3] = [
    ("source.toolkit.fluxcd.io", "HelmRepository"),
    (SERVICE_TEMPLATE_GROUP, SERVICE_TEMPLATE_KIND),
    ("batch", "Job"),
];

/// Whether a namespace other than the release's own may hold its objects
/// (kgst's `namespace` value can place them elsewhere).
pub type NamespaceCheck = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Only kgst releases, whose objects stay where the caller may act.
#[derive(Clone)]
pub struct KgstOnly {
    pub other_namespaces: NamespaceCheck,
}

impl fmt::Debug for KgstOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KgstOnly")
    }
}

impl KgstOnly {
    /// Every revision of `release` in `namespace` passes, or the first
    /// reason it does not.
    pub fn check_history(
        &self,
        release: &str,
        namespace: &str,
        history: &[StoredRelease],
    ) -> Result<(), EngineError> {
        for stored in history {
            self.check_record(&stored.record, release, namespace)
                .map_err(|reason| refusal(release, namespace, stored.record.version, reason))?;
        }
        Ok(())
    }

    /// The chart a new revision is made from.
    pub fn check_chart(
        &self,
        release: &str,
        namespace: &str,
        chart_name: &str,
    ) -> Result<(), EngineError> {
        if chart_name == KGST_CHART {
            return Ok(());
        }
        Err(EngineError::OutOfScope {
            release: release.to_string(),
            namespace: namespace.to_string(),
            reason: format!(
                "the chart to install is {}, and this server installs only the {KGST_CHART} chart",
                quote(chart_name)
            ),
            fix: format!("configure --kgst-chart to point at the {KGST_CHART} chart"),
        })
    }

    fn check_record(
        &self,
        record: &ReleaseRecord,
        release: &str,
        namespace: &str,
    ) -> Result<(), Reason> {
        let chart = record.chart.metadata.as_ref().map(|m| m.name.as_str());
        if chart != Some(KGST_CHART) {
            return Err(Reason::Foreign(
                record
                    .chart
                    .name_version()
                    .unwrap_or_else(|| "unnamed".into()),
            ));
        }
        if record.name != release || record.namespace != namespace {
            return Err(Reason::Misplaced {
                name: record.name.clone(),
                namespace: record.namespace.clone(),
            });
        }
        let mut objects: Vec<(String, Value)> = parse_manifest_text(&record.manifest)
            .map_err(|e| Reason::Unreadable(e.to_string()))?
            .into_iter()
            .map(|d| ("manifest".to_string(), d.object))
            .collect();
        for hook in &record.hooks {
            let object = helm_yaml::parse_values(&hook.manifest)
                .map_err(|e| Reason::Unreadable(format!("hook {}: {e}", quote(&hook.path))))?;
            objects.push((format!("hook {}", quote(&hook.path)), Value::Object(object)));
        }
        for (place, object) in &objects {
            self.check_object(object, namespace)
                .map_err(|problem| Reason::Object {
                    place: place.clone(),
                    object: describe(object),
                    problem,
                })?;
        }
        Ok(())
    }

    fn check_object(&self, object: &Value, namespace: &str) -> Result<(), String> {
        let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
        let api_version = text("/apiVersion").unwrap_or_default();
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let kind = text("/kind").unwrap_or_default();
        if !KGST_KINDS.contains(&(group, kind)) {
            return Err(format!(
                "{KGST_CHART} never renders a {} of API group {}",
                quote(kind),
                quote(group)
            ));
        }
        // Every kgst kind is namespaced: no namespace means the release's.
        let at = text("/metadata/namespace")
            .filter(|ns| !ns.is_empty())
            .unwrap_or(namespace);
        if at != namespace && !(self.other_namespaces)(at) {
            return Err(format!(
                "namespace {} is neither the release namespace nor one this server's namespace filter allows",
                quote(at)
            ));
        }
        Ok(())
    }
}

enum Reason {
    Foreign(String),
    Misplaced {
        name: String,
        namespace: String,
    },
    Unreadable(String),
    Object {
        place: String,
        object: String,
        problem: String,
    },
}

fn describe(object: &Value) -> String {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    format!("{} {}", quote(text("/kind")), quote(text("/metadata/name")))
}

fn refusal(release: &str, namespace: &str, revision: u32, reason: Reason) -> EngineError {
    let inspect = format!("helm get all {release} -n {namespace} --revision {revision}");
    let (reason, fix) = match reason {
        Reason::Foreign(chart) => (
            format!(
                "it is a release of chart {}, and the MCP tools manage only releases of the {KGST_CHART} chart",
                quote(&chart)
            ),
            format!("manage it with helm (helm history {release} -n {namespace})"),
        ),
        Reason::Misplaced {
            name,
            namespace: at,
        } => (
            format!(
                "revision {revision}'s record names release {} in namespace {}, not the Secret it is stored in",
                quote(&name),
                quote(&at)
            ),
            format!(
                "the record was altered; inspect it ({inspect}) and repair or delete it by hand"
            ),
        ),
        Reason::Unreadable(problem) => (
            format!("revision {revision}'s stored objects cannot be read: {problem}"),
            format!("inspect it ({inspect}) and repair or delete it by hand"),
        ),
        Reason::Object {
            place,
            object,
            problem,
        } => (
            format!("revision {revision}'s {place} names {object}: {problem}"),
            format!(
                "the record names objects the {KGST_CHART} chart does not make; inspect it ({inspect}) \
                 and repair or delete it by hand"
            ),
        ),
    };
    EngineError::OutOfScope {
        release: release.to_string(),
        namespace: namespace.to_string(),
        reason,
        fix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{ChartMetadataRecord, HookRecord};

    fn record(chart: &str, manifest: &str) -> StoredRelease {
        let mut record = ReleaseRecord {
            name: "minio".into(),
            namespace: "team-a".into(),
            manifest: manifest.into(),
            version: 1,
            ..ReleaseRecord::default()
        };
        record.chart.metadata = Some(ChartMetadataRecord {
            name: chart.into(),
            version: "2.0.2".into(),
            ..ChartMetadataRecord::default()
        });
        StoredRelease {
            secret_name: "sh.helm.release.v1.minio.v1".into(),
            record,
            labels: Default::default(),
            annotations: Default::default(),
            resource_version: None,
        }
    }

    fn scope() -> KgstOnly {
        KgstOnly {
            other_namespaces: Arc::new(|ns| ns == "team-b"),
        }
    }

    const TEMPLATE: &str = "---\n# Source: kgst/templates/service-template.yaml\n\
        apiVersion: k0rdent.mirantis.com/v1beta1\nkind: ServiceTemplate\nmetadata:\n  name: minio-14-1-2\n";

    fn refused(history: &[StoredRelease]) -> String {
        scope()
            .check_history("minio", "team-a", history)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn kgst_releases_pass() {
        let mut ok = record("kgst", TEMPLATE);
        ok.record.hooks.push(HookRecord {
            path: "kgst/templates/verify-job.yaml".into(),
            manifest:
                "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: verify\n  namespace: team-b\n"
                    .into(),
            ..HookRecord::default()
        });
        scope().check_history("minio", "team-a", &[ok]).unwrap();
        scope().check_chart("minio", "team-a", "kgst").unwrap();
        assert!(
            scope()
                .check_chart("minio", "team-a", "other")
                .unwrap_err()
                .to_string()
                .contains("only the kgst chart")
        );
    }

    #[test]
    fn foreign_charts_are_refused() {
        let e = refused(&[record("kcm", TEMPLATE)]);
        assert!(e.contains("chart \"kcm-2.0.2\""), "{e}");
        assert!(e.contains("manage it with helm"), "{e}");
    }

    #[test]
    fn objects_kgst_does_not_make_are_refused() {
        let cluster_role = format!(
            "{TEMPLATE}---\n# Source: kgst/templates/x.yaml\napiVersion: rbac.authorization.k8s.io/v1\n\
             kind: ClusterRole\nmetadata:\n  name: victim\n"
        );
        let e = refused(&[record("kgst", &cluster_role)]);
        assert!(e.contains("\"ClusterRole\" \"victim\""), "{e}");
        assert!(e.contains("never renders"), "{e}");

        let elsewhere = TEMPLATE.replace("name: minio-14-1-2", "name: x\n  namespace: kube-system");
        let e = refused(&[record("kgst", &elsewhere)]);
        assert!(e.contains("namespace \"kube-system\""), "{e}");
        let allowed = TEMPLATE.replace("name: minio-14-1-2", "name: x\n  namespace: team-b");
        scope()
            .check_history("minio", "team-a", &[record("kgst", &allowed)])
            .unwrap();

        let mut hook = record("kgst", TEMPLATE);
        hook.record.hooks.push(HookRecord {
            path: "kgst/templates/x.yaml".into(),
            manifest: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n".into(),
            ..HookRecord::default()
        });
        let e = refused(&[hook]);
        assert!(e.contains("hook \"kgst/templates/x.yaml\""), "{e}");
    }

    #[test]
    fn records_stored_under_another_name_are_refused() {
        let mut moved = record("kgst", TEMPLATE);
        moved.record.namespace = "kube-system".into();
        let e = refused(&[moved]);
        assert!(e.contains("not the Secret it is stored in"), "{e}");
    }
}
