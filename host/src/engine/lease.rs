//! Who holds a release's operation lock, and until when: a lease written as
//! annotations on the revision Secret the operation created. Helm never
//! reads annotations (it finds revisions by label and decodes `data`), and
//! its own writes replace the whole Secret, so a record helm finishes
//! carries no stale lease.
//!
//! Pure logic: times are passed in.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::release::{HelmTime, Revision, Status, StoredRelease};

pub const HOLDER_ANNOTATION: &str = "k0rdent-mcp.k0rdent.io/lock-holder";
pub const SINCE_ANNOTATION: &str = "k0rdent-mcp.k0rdent.io/lock-since";
pub const RENEWED_ANNOTATION: &str = "k0rdent-mcp.k0rdent.io/lock-renewed";
pub const LEASE_SECONDS_ANNOTATION: &str = "k0rdent-mcp.k0rdent.io/lock-lease-seconds";

/// Who a record without a lease is attributed to.
pub const UNLEASED_HOLDER: &str =
    "helm or another client that writes no lease (its liveness cannot be known)";

/// This process, as lock holders are named: the pod (or host) name, the
/// process id and a random part, so two replicas of one pod template and a
/// restarted process never share an identity.
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let host = ["POD_NAME", "HOSTNAME"]
            .iter()
            .filter_map(|var| std::env::var(var).ok())
            .chain(std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .map(|h| h.trim().to_string())
            .find(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown-host".into());
        let host: String = host
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
            .take(63)
            .collect();
        let mut random = [0u8; 4];
        // Without entropy the pid and host still tell replicas apart.
        let _ = getrandom::fill(&mut random);
        let random: String = random.iter().map(|b| format!("{b:02x}")).collect();
        format!("{host}/{}-{random}", std::process::id())
    })
}

/// A lease as stored: who took the lock, when, when it was last renewed and
/// for how long a renewal keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    /// Unix seconds.
    pub since: i64,
    /// Unix seconds.
    pub renewed: i64,
    pub lease_seconds: u64,
}

impl Lease {
    pub fn new(holder: &str, now: i64, lease_seconds: u64) -> Self {
        Lease {
            holder: holder.to_string(),
            since: now,
            renewed: now,
            lease_seconds,
        }
    }

    pub fn expires(&self) -> i64 {
        self.renewed
            .saturating_add(i64::try_from(self.lease_seconds).unwrap_or(i64::MAX))
    }

    pub fn is_expired(&self, now: i64) -> bool {
        now > self.expires()
    }

    pub fn annotations(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (HOLDER_ANNOTATION.to_string(), self.holder.clone()),
            (SINCE_ANNOTATION.to_string(), rfc3339(self.since)),
            (RENEWED_ANNOTATION.to_string(), rfc3339(self.renewed)),
            (
                LEASE_SECONDS_ANNOTATION.to_string(),
                self.lease_seconds.to_string(),
            ),
        ])
    }

    /// The lease a Secret's annotations hold; a holder with unreadable
    /// times counts as renewed at the epoch (expired), so a damaged lease
    /// can never block a release for ever.
    pub fn from_annotations(annotations: &BTreeMap<String, String>) -> Option<Lease> {
        let holder = annotations.get(HOLDER_ANNOTATION)?;
        let time = |key: &str| {
            annotations
                .get(key)
                .and_then(|t| HelmTime::parse_rfc3339(t).ok())
                .map(HelmTime::unix_seconds)
                .unwrap_or(0)
        };
        Some(Lease {
            holder: holder.clone(),
            since: time(SINCE_ANNOTATION),
            renewed: time(RENEWED_ANNOTATION),
            lease_seconds: annotations
                .get(LEASE_SECONDS_ANNOTATION)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        })
    }
}

pub fn rfc3339(unix_seconds: i64) -> String {
    HelmTime::from_unix(unix_seconds, 0).to_rfc3339_nano()
}

/// Whether an operation may start on a release, from its latest revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockState {
    /// No operation holds the release.
    Free,
    /// A lease on the latest revision.
    Leased {
        revision: u32,
        status: Option<Status>,
        lease: Lease,
        expired: bool,
    },
    /// A pending or uninstalling latest revision without a lease: helm's
    /// own, or one written before leases existed. Never taken to be
    /// abandoned by age; only `unlock` with force recovers it.
    Unleased {
        revision: u32,
        status: Status,
        /// The record's `last_deployed` (when its operation began).
        since: Option<i64>,
    },
}

pub fn lock_state(latest: Option<&StoredRelease>, now: i64) -> LockState {
    let Some(latest) = latest else {
        return LockState::Free;
    };
    if let Some(lease) = Lease::from_annotations(&latest.annotations) {
        let expired = lease.is_expired(now);
        return LockState::Leased {
            revision: latest.revision(),
            status: latest.record.status(),
            lease,
            expired,
        };
    }
    match latest.record.status() {
        Some(status) if status.is_pending() || status == Status::Uninstalling => {
            LockState::Unleased {
                revision: latest.revision(),
                status,
                since: latest
                    .record
                    .info
                    .last_deployed
                    .time()
                    .map(HelmTime::unix_seconds),
            }
        }
        _ => LockState::Free,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{RecordTime, ReleaseRecord};

    fn stored(status: Status, annotations: BTreeMap<String, String>) -> StoredRelease {
        let mut record = ReleaseRecord {
            name: "minio".into(),
            namespace: "kcm-system".into(),
            version: 3,
            ..ReleaseRecord::default()
        };
        record.info.status = Some(status);
        record.info.last_deployed = RecordTime::At(HelmTime::from_unix(1_000, 0));
        StoredRelease {
            secret_name: "sh.helm.release.v1.minio.v3".into(),
            record,
            labels: BTreeMap::new(),
            annotations,
            resource_version: Some("7".into()),
        }
    }

    #[test]
    fn a_lease_round_trips_through_annotations_and_expires_after_its_duration() {
        let lease = Lease::new("pod-a/12-0a0b0c0d", 1_800_000_000, 60);
        let back = Lease::from_annotations(&lease.annotations()).unwrap();
        assert_eq!(back, lease);
        assert_eq!(
            lease.annotations()[SINCE_ANNOTATION],
            "2027-01-15T08:00:00Z"
        );
        assert!(!lease.is_expired(1_800_000_060));
        assert!(lease.is_expired(1_800_000_061));
    }

    #[test]
    fn a_damaged_lease_counts_as_expired() {
        let annotations = BTreeMap::from([
            (HOLDER_ANNOTATION.to_string(), "x".to_string()),
            (RENEWED_ANNOTATION.to_string(), "yesterday".to_string()),
        ]);
        let lease = Lease::from_annotations(&annotations).unwrap();
        assert!(lease.is_expired(1));
    }

    #[test]
    fn lock_state_reads_leases_and_treats_unleased_pending_records_as_held() {
        let now = 2_000;
        assert_eq!(lock_state(None, now), LockState::Free);
        assert_eq!(
            lock_state(Some(&stored(Status::Deployed, BTreeMap::new())), now),
            LockState::Free
        );
        for status in [
            Status::PendingInstall,
            Status::PendingUpgrade,
            Status::PendingRollback,
            Status::Uninstalling,
        ] {
            assert_eq!(
                lock_state(Some(&stored(status, BTreeMap::new())), now),
                LockState::Unleased {
                    revision: 3,
                    status,
                    since: Some(1_000)
                }
            );
        }
        let live = Lease::new("me", 1_990, 60);
        let dead = Lease::new("me", 1_000, 60);
        for (lease, expired) in [(live, false), (dead, true)] {
            // A lease holds whatever the status: recovery keeps it on a
            // record it already marked failed until the rollback is written.
            let state = lock_state(Some(&stored(Status::Failed, lease.annotations())), now);
            assert_eq!(
                state,
                LockState::Leased {
                    revision: 3,
                    status: Some(Status::Failed),
                    lease,
                    expired
                }
            );
        }
    }

    #[test]
    fn instance_ids_name_the_host_and_process_and_stay_fixed() {
        let id = instance_id();
        assert!(id.contains(&format!("/{}-", std::process::id())), "{id}");
        assert_eq!(id, instance_id());
    }
}
