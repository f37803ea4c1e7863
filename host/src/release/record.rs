//! Helm's release JSON (`pkg/release` v3, `pkg/release/v1` v4) as Rust types
//! with Helm's field names and field order.
//!
//! Every object keeps the keys it does not know in `extra`, so a record that
//! a newer or different Helm wrote survives decode → encode unchanged. Keys
//! in `extra` are written after the known ones; never put a known key there.
//!
//! What v3.17 and v4.1 write differently, both accepted here:
//! - unset times: v3 writes `""` (`info.deleted`, `last_run.started_at`…),
//!   v4 leaves them out ([`RecordTime`] keeps which);
//! - v4 only: `apply_method`, `chart.schemamodtime`, `chart.modtime`,
//!   `chart.templates[].modtime`; v3.18+ and v4: `hooks[].output_log_policies`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::status::Status;
use super::time::RecordTime;

/// One revision of a release: what Helm stores per Secret.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReleaseRecord {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default)]
    pub info: ReleaseInfo,
    #[serde(default)]
    pub chart: ChartRecord,
    /// Only the values the user supplied (merged `-f`/`--set`), not the
    /// chart defaults; those live in `chart.values`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Map::is_empty"
    )]
    pub config: Map<String, Value>,
    /// Normal (non-hook) documents, each `---\n# Source: <path>\n<doc>\n`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub manifest: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub hooks: Vec<HookRecord>,
    /// The revision number (Helm calls it `version`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: u32,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub namespace: String,
    /// v4 only: how objects were applied; an upgrade with the default
    /// `--server-side=auto` repeats it (absent means client-side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_method: Option<ApplyMethod>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ReleaseRecord {
    pub fn status(&self) -> Option<Status> {
        self.info.status
    }
}

/// `info`: when and how this revision came to be.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReleaseInfo {
    #[serde(default, skip_serializing_if = "RecordTime::is_absent")]
    pub first_deployed: RecordTime,
    #[serde(default, skip_serializing_if = "RecordTime::is_absent")]
    pub last_deployed: RecordTime,
    #[serde(default, skip_serializing_if = "RecordTime::is_absent")]
    pub deleted: RecordTime,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The rendered `templates/NOTES.txt` of the top chart.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub notes: String,
    /// Only filled in memory by `helm status --show-resources`; kept if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `chart`: the top-level chart as loaded (Helm does not store subcharts).
/// Go writes `null` for the absent pointer/slice/map fields, so they are
/// `Option`s written as `null`, not left out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChartRecord {
    #[serde(default)]
    pub metadata: Option<ChartMetadataRecord>,
    /// Chart.lock (or a v1 chart's requirements.lock).
    #[serde(default)]
    pub lock: Option<ChartLock>,
    #[serde(default)]
    pub templates: Option<Vec<ChartFileRecord>>,
    /// The chart's values.yaml (or, after `--reuse-values`, the previous
    /// release's coalesced values).
    #[serde(default)]
    pub values: Option<Map<String, Value>>,
    /// values.schema.json, standard base64 as Go writes a `[]byte`.
    #[serde(default)]
    pub schema: Option<String>,
    /// v4 only; v4 writes it even when unknown (`0001-01-01T00:00:00Z`).
    #[serde(default, skip_serializing_if = "RecordTime::is_absent")]
    pub schemamodtime: RecordTime,
    #[serde(default)]
    pub files: Option<Vec<ChartFileRecord>>,
    /// v4 only: Chart.yaml's modification time.
    #[serde(default, skip_serializing_if = "RecordTime::is_absent")]
    pub modtime: RecordTime,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChartRecord {
    /// The schema's bytes, if the chart has one.
    pub fn schema_bytes(&self) -> Result<Option<Vec<u8>>, base64::DecodeError> {
        self.schema.as_deref().map(|s| BASE64.decode(s)).transpose()
    }

    /// `name-version`, as `helm list`/`history` print the CHART column.
    pub fn name_version(&self) -> Option<String> {
        self.metadata
            .as_ref()
            .map(|m| format!("{}-{}", m.name, m.version))
    }
}

/// Chart.lock as Helm's `chart.Lock` holds it; every field always written.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChartLock {
    #[serde(default, skip_serializing_if = "RecordTime::is_absent")]
    pub generated: RecordTime,
    #[serde(default, deserialize_with = "null_as_default")]
    pub digest: String,
    #[serde(default)]
    pub dependencies: Option<Vec<ChartDependency>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A chart file (`templates/x.yaml`, README.md…) with its bytes base64'd.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChartFileRecord {
    /// Path inside the chart, e.g. `templates/NOTES.txt`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub data: String,
    /// v4 only: the file's modification time.
    #[serde(default, skip_serializing_if = "RecordTime::is_absent")]
    pub modtime: RecordTime,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChartFileRecord {
    pub fn new(name: impl Into<String>, bytes: &[u8]) -> Self {
        ChartFileRecord {
            name: name.into(),
            data: BASE64.encode(bytes),
            ..Default::default()
        }
    }

    pub fn bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        BASE64.decode(&self.data)
    }
}

/// Chart.yaml as Helm's `chart.Metadata` holds it. Every field is left out
/// when empty, as Go's `omitempty` does.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChartMetadataRecord {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub home: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintainers: Vec<ChartMaintainer>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon: String,
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tags: String,
    #[serde(
        rename = "appVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub app_version: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(
        rename = "kubeVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub kube_version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<ChartDependency>,
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub chart_type: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChartMaintainer {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A Chart.yaml `dependencies` entry; `name` and `repository` are always
/// written (no `omitempty` in Helm).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChartDependency {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default)]
    pub repository: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub enabled: bool,
    #[serde(
        rename = "import-values",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub import_values: Vec<Value>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alias: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A hook document of the release and its last execution.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HookRecord {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The template it came from, e.g. `kgst/templates/verify-job.yaml`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// The bare document (no `# Source:` header).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub events: Vec<HookEvent>,
    /// Always written, even for a hook that never ran.
    #[serde(default)]
    pub last_run: HookRun,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub weight: i64,
    /// Not validated by Helm, so any string may appear; see [`delete_policy`].
    /// Empty until the hook first runs, when Helm stores its default
    /// `before-hook-creation`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub delete_policies: Vec<String>,
    /// v3.18+/v4; see [`output_log_policy`].
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub output_log_policies: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `last_run` of a hook.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HookRun {
    #[serde(default, skip_serializing_if = "RecordTime::is_absent")]
    pub started_at: RecordTime,
    #[serde(default, skip_serializing_if = "RecordTime::is_absent")]
    pub completed_at: RecordTime,
    #[serde(default)]
    pub phase: HookPhase,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The values of `helm.sh/hook-delete-policy` Helm acts on.
pub mod delete_policy {
    pub const HOOK_SUCCEEDED: &str = "hook-succeeded";
    pub const HOOK_FAILED: &str = "hook-failed";
    pub const BEFORE_HOOK_CREATION: &str = "before-hook-creation";
}

/// The values of `helm.sh/hook-output-log-policy` Helm acts on.
pub mod output_log_policy {
    pub const HOOK_SUCCEEDED: &str = "hook-succeeded";
    pub const HOOK_FAILED: &str = "hook-failed";
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(concat!("unknown ", stringify!($name), " {:?}"), s)),
                }
            }
        }
    };
}

string_enum!(
    /// A hook event. Helm drops a document with any other event before it
    /// reaches the release (and maps `test-success` to `test`), so only
    /// these are ever stored.
    HookEvent {
        PreInstall = "pre-install",
        PostInstall = "post-install",
        PreDelete = "pre-delete",
        PostDelete = "post-delete",
        PreUpgrade = "pre-upgrade",
        PostUpgrade = "post-upgrade",
        PreRollback = "pre-rollback",
        PostRollback = "post-rollback",
        Test = "test",
    }
);

string_enum!(
    /// `last_run.phase`; `""` for a hook that has not run.
    #[derive(Default)]
    HookPhase {
        #[default]
        NotRun = "",
        Unknown = "Unknown",
        Running = "Running",
        Succeeded = "Succeeded",
        Failed = "Failed",
    }
);

string_enum!(
    /// v4's `apply_method`.
    ApplyMethod {
        ServerSide = "ssa",
        ClientSide = "csa",
    }
);

/// Go decodes `null` into a slice, map or string as its zero value.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}
