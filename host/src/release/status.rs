//! A release revision's status, spelled as Helm spells it in the release JSON
//! and in the Secret's `status` label.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Helm's `release.Status`. Helm only ever writes these nine strings, so an
/// unrecognised one is refused when decoding rather than guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Unknown,
    Deployed,
    Uninstalled,
    Superseded,
    Failed,
    Uninstalling,
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
}

/// Which Helm major version's behaviour to follow where v3 and v4 differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelmMajor {
    V3,
    V4,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Unknown,
        Status::Deployed,
        Status::Uninstalled,
        Status::Superseded,
        Status::Failed,
        Status::Uninstalling,
        Status::PendingInstall,
        Status::PendingUpgrade,
        Status::PendingRollback,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unknown => "unknown",
            Status::Deployed => "deployed",
            Status::Uninstalled => "uninstalled",
            Status::Superseded => "superseded",
            Status::Failed => "failed",
            Status::Uninstalling => "uninstalling",
            Status::PendingInstall => "pending-install",
            Status::PendingUpgrade => "pending-upgrade",
            Status::PendingRollback => "pending-rollback",
        }
    }

    /// Helm's `IsPending`: another install/upgrade/rollback is in progress, so
    /// an upgrade must refuse to start (`uninstalling` does not count).
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            Status::PendingInstall | Status::PendingUpgrade | Status::PendingRollback
        )
    }

    /// Whether plain `helm list` (no status flags) shows a release whose
    /// latest revision has this status. v3 defaults to `--deployed --failed`;
    /// v4 defaults to every status except `unknown` (its `ListAll` mask).
    pub fn listed_by_default(self, helm: HelmMajor) -> bool {
        match helm {
            HelmMajor::V3 => matches!(self, Status::Deployed | Status::Failed),
            HelmMajor::V4 => self != Status::Unknown,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown release status {s:?}"))
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_unknown_strings_are_refused() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>().unwrap(), status);
        }
        assert_eq!(Status::PendingRollback.as_str(), "pending-rollback");
        assert!("Deployed".parse::<Status>().is_err());
    }

    #[test]
    fn only_the_three_pending_statuses_block_an_upgrade() {
        let pending: Vec<_> = Status::ALL.into_iter().filter(|s| s.is_pending()).collect();
        assert_eq!(
            pending,
            [
                Status::PendingInstall,
                Status::PendingUpgrade,
                Status::PendingRollback
            ]
        );
    }

    #[test]
    fn default_list_differs_between_v3_and_v4() {
        assert!(Status::Failed.listed_by_default(HelmMajor::V3));
        assert!(!Status::Uninstalled.listed_by_default(HelmMajor::V3));
        assert!(Status::Uninstalled.listed_by_default(HelmMajor::V4));
        assert!(Status::PendingUpgrade.listed_by_default(HelmMajor::V4));
        assert!(!Status::Unknown.listed_by_default(HelmMajor::V4));
    }
}
