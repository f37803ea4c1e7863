//! The Kubernetes Secret that holds one release revision, as Helm's Secret
//! driver writes it, and the label selectors Helm reads them back with.
//!
//! Helm never reads `createdAt`/`modifiedAt`; it finds revisions only by the
//! `name`/`owner`/`status`/`version` labels, so those must always agree
//! with the JSON inside.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use super::codec::{CodecError, decode_release_payload, encode_release_payload};
use super::record::ReleaseRecord;

pub const SECRET_TYPE: &str = "helm.sh/release.v1";
/// The one data key of a release Secret.
pub const RELEASE_DATA_KEY: &str = "release";
/// The `owner` label value of every Helm release Secret.
pub const OWNER: &str = "helm";
/// Labels Helm manages; user labels may not use these keys.
pub const SYSTEM_LABELS: [&str; 6] = [
    "name",
    "owner",
    "status",
    "version",
    "createdAt",
    "modifiedAt",
];
/// Kubernetes refuses Secrets whose data exceeds 1 MiB.
pub const MAX_SECRET_DATA_BYTES: usize = 1024 * 1024;
/// `helm list` (all releases in a namespace, or in all namespaces with `-A`).
pub const ALL_RELEASES_SELECTOR: &str = "owner=helm";

/// Which write the Secret is for: Helm labels a created Secret `createdAt`
/// and an updated one `modifiedAt` (never both; an update drops `createdAt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretWrite {
    Create,
    Update,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "user supplied labels contains system reserved label name {0:?}. System labels: {SYSTEM_LABELS:?}"
    )]
    ReservedLabel(String),
    #[error("release record cannot be stored: {0}")]
    IncompleteRecord(&'static str),
    #[error(
        "release {name} v{version} encodes to {bytes} bytes, over the {MAX_SECRET_DATA_BYTES}-byte limit of a Kubernetes Secret"
    )]
    TooLarge {
        name: String,
        version: u32,
        bytes: usize,
    },
    #[error("Secret {secret:?}: {problem}")]
    Malformed { secret: String, problem: String },
    #[error("Secret {secret:?}: {source}")]
    Payload {
        secret: String,
        #[source]
        source: CodecError,
    },
}

/// `sh.helm.release.v1.<release>.v<revision>`.
pub fn secret_name(release: &str, revision: u32) -> String {
    format!("sh.helm.release.v1.{release}.v{revision}")
}

/// Every revision of one release (`helm history`, upgrade, uninstall).
pub fn history_selector(release: &str) -> String {
    format!("name={release},owner={OWNER}")
}

/// The revisions of one release labelled `deployed` (Helm's `Deployed`).
pub fn deployed_selector(release: &str) -> String {
    format!("name={release},owner={OWNER},status=deployed")
}

/// Helm's `--labels` check on install/upgrade.
pub fn validate_user_labels(labels: &BTreeMap<String, String>) -> Result<(), SecretError> {
    match labels.keys().find(|k| SYSTEM_LABELS.contains(&k.as_str())) {
        Some(key) => Err(SecretError::ReservedLabel(key.clone())),
        None => Ok(()),
    }
}

/// The Secret object (Kubernetes JSON) that stores `record`.
/// `unix_seconds` becomes the `createdAt`/`modifiedAt` label.
pub fn release_secret(
    record: &ReleaseRecord,
    user_labels: &BTreeMap<String, String>,
    write: SecretWrite,
    unix_seconds: i64,
) -> Result<Value, SecretError> {
    validate_user_labels(user_labels)?;
    if record.name.is_empty() {
        return Err(SecretError::IncompleteRecord("it has no name"));
    }
    if record.namespace.is_empty() {
        return Err(SecretError::IncompleteRecord("it has no namespace"));
    }
    if record.version == 0 {
        return Err(SecretError::IncompleteRecord("its version (revision) is 0"));
    }
    let Some(status) = record.status() else {
        return Err(SecretError::IncompleteRecord("it has no info.status"));
    };
    let payload = encode_release_payload(record).map_err(|source| SecretError::Payload {
        secret: secret_name(&record.name, record.version),
        source,
    })?;
    if payload.len() > MAX_SECRET_DATA_BYTES {
        return Err(SecretError::TooLarge {
            name: record.name.clone(),
            version: record.version,
            bytes: payload.len(),
        });
    }
    let mut labels: Map<String, Value> = user_labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let stamp_key = match write {
        SecretWrite::Create => "createdAt",
        SecretWrite::Update => "modifiedAt",
    };
    labels.insert(stamp_key.into(), unix_seconds.to_string().into());
    labels.insert("name".into(), record.name.clone().into());
    labels.insert("owner".into(), OWNER.into());
    labels.insert("status".into(), status.as_str().into());
    labels.insert("version".into(), record.version.to_string().into());
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(&record.name, record.version),
            "namespace": record.namespace,
            "labels": labels,
        },
        "type": SECRET_TYPE,
        // Kubernetes' own base64 around Helm's base64 payload text.
        "data": { RELEASE_DATA_KEY: BASE64.encode(payload) },
    }))
}

/// A release revision read back from its Secret.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRelease {
    pub secret_name: String,
    pub record: ReleaseRecord,
    /// All labels of the Secret, system ones included.
    pub labels: BTreeMap<String, String>,
    /// The Secret's annotations (Helm ignores them; the operation lock
    /// lives there, see `engine/lock.rs`).
    pub annotations: BTreeMap<String, String>,
    /// What a conditional write of this Secret must name; `None` for a
    /// Secret that did not come from the API.
    pub resource_version: Option<String>,
}

impl StoredRelease {
    /// The labels a user set with `--labels` (what Helm puts in `Release.Labels`).
    pub fn user_labels(&self) -> BTreeMap<String, String> {
        self.labels
            .iter()
            .filter(|(k, _)| !SYSTEM_LABELS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Whether the labels Helm queries by agree with the JSON; a Secret where
    /// they do not would be found (or missed) by Helm under the wrong status.
    pub fn labels_match_record(&self) -> bool {
        let label = |k: &str| self.labels.get(k).map(String::as_str);
        label("name") == Some(self.record.name.as_str())
            && label("owner") == Some(OWNER)
            && label("status") == self.record.status().map(|s| s.as_str())
            && label("version") == Some(self.record.version.to_string().as_str())
    }
}

/// Decodes a release Secret (Kubernetes JSON, as a GET or LIST returns it).
/// Like Helm, the Secret's `type` is not checked: Helm finds release Secrets
/// by label and decodes whatever `data.release` holds.
pub fn release_from_secret(secret: &Value) -> Result<StoredRelease, SecretError> {
    let secret_name = secret
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let malformed = |problem: String| SecretError::Malformed {
        secret: secret_name.clone(),
        problem,
    };
    let string_map = |field: &str| -> Result<BTreeMap<String, String>, SecretError> {
        match secret.pointer(&format!("/metadata/{field}")) {
            None | Some(Value::Null) => Ok(BTreeMap::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(malformed(format!("{field} {k:?} is not a string"))),
                })
                .collect(),
            Some(_) => Err(malformed(format!("metadata.{field} is not an object"))),
        }
    };
    let labels = string_map("labels")?;
    let annotations = string_map("annotations")?;
    let resource_version = secret
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_string);
    let data = secret
        .pointer(&format!("/data/{RELEASE_DATA_KEY}"))
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(format!("no data.{RELEASE_DATA_KEY} string")))?;
    let payload = BASE64
        .decode(data)
        .map_err(|e| malformed(format!("data.{RELEASE_DATA_KEY} is not base64: {e}")))?;
    let record = decode_release_payload(&payload).map_err(|source| SecretError::Payload {
        secret: secret_name.clone(),
        source,
    })?;
    Ok(StoredRelease {
        secret_name,
        record,
        labels,
        annotations,
        resource_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::Status;

    fn record(status: Status) -> ReleaseRecord {
        let mut record = ReleaseRecord {
            name: "kgst-minio".into(),
            namespace: "kcm-system".into(),
            version: 12,
            ..Default::default()
        };
        record.info.status = Some(status);
        record
    }

    #[test]
    fn names_and_selectors_are_helms() {
        assert_eq!(
            secret_name("kgst-minio", 12),
            "sh.helm.release.v1.kgst-minio.v12"
        );
        assert_eq!(history_selector("kgst-minio"), "name=kgst-minio,owner=helm");
        assert_eq!(
            deployed_selector("kgst-minio"),
            "name=kgst-minio,owner=helm,status=deployed"
        );
        assert_eq!(ALL_RELEASES_SELECTOR, "owner=helm");
    }

    #[test]
    fn secret_carries_system_and_user_labels_and_reads_back() {
        let user = BTreeMap::from([("team".to_string(), "a".to_string())]);
        let secret = release_secret(
            &record(Status::Superseded),
            &user,
            SecretWrite::Update,
            1_795_727_453,
        )
        .unwrap();
        assert_eq!(secret["type"], SECRET_TYPE);
        assert_eq!(
            secret["metadata"]["name"],
            "sh.helm.release.v1.kgst-minio.v12"
        );
        assert_eq!(
            secret["metadata"]["labels"],
            json!({"modifiedAt": "1795727453", "name": "kgst-minio", "owner": "helm",
                   "status": "superseded", "version": "12", "team": "a"})
        );
        // Kubernetes base64 of Helm's base64 of gzip: "H4sI" becomes "SDRzSU".
        assert!(
            secret["data"]["release"]
                .as_str()
                .unwrap()
                .starts_with("SDRzSU")
        );

        let stored = release_from_secret(&secret).unwrap();
        assert_eq!(stored.record, record(Status::Superseded));
        assert_eq!(stored.user_labels(), user);
        assert!(stored.labels_match_record());
    }

    #[test]
    fn create_stamps_created_at_instead_of_modified_at() {
        let secret = release_secret(
            &record(Status::PendingInstall),
            &BTreeMap::new(),
            SecretWrite::Create,
            7,
        )
        .unwrap();
        let labels = &secret["metadata"]["labels"];
        assert_eq!(labels["createdAt"], "7");
        assert!(labels.get("modifiedAt").is_none());
        assert_eq!(labels["status"], "pending-install");
    }

    #[test]
    fn refuses_reserved_labels_and_incomplete_records() {
        let user = BTreeMap::from([("owner".to_string(), "me".to_string())]);
        let err =
            release_secret(&record(Status::Deployed), &user, SecretWrite::Update, 0).unwrap_err();
        assert!(err.to_string().contains("system reserved label"), "{err}");

        let mut no_status = record(Status::Deployed);
        no_status.info.status = None;
        let err = release_secret(&no_status, &BTreeMap::new(), SecretWrite::Update, 0).unwrap_err();
        assert!(err.to_string().contains("info.status"), "{err}");
    }

    #[test]
    fn malformed_secrets_name_the_secret_and_the_problem() {
        let err = release_from_secret(&json!({"metadata": {"name": "s"}, "data": {}})).unwrap_err();
        assert_eq!(err.to_string(), "Secret \"s\": no data.release string");
        let err =
            release_from_secret(&json!({"metadata": {"name": "s"}, "data": {"release": "%%"}}))
                .unwrap_err();
        assert!(err.to_string().contains("not base64"), "{err}");
        let not_helm = BASE64.encode(BASE64.encode("{\"version\": \"x\"}"));
        let err =
            release_from_secret(&json!({"metadata": {"name": "s"}, "data": {"release": not_helm}}))
                .unwrap_err();
        assert!(
            err.to_string().starts_with("Secret \"s\": release JSON"),
            "{err}"
        );
    }

    #[test]
    fn labels_that_disagree_with_the_json_are_detected() {
        let secret = release_secret(
            &record(Status::Deployed),
            &BTreeMap::new(),
            SecretWrite::Update,
            0,
        )
        .unwrap();
        let mut tampered = secret.clone();
        tampered["metadata"]["labels"]["status"] = "superseded".into();
        assert!(
            !release_from_secret(&tampered)
                .unwrap()
                .labels_match_record()
        );
    }
}
