//! Flags for reaching the cluster and tuning the engine, shared by `serve`
//! and the release commands.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::cluster::{Cluster, ClusterSource, connect};
use crate::quote::quote;
use crate::release::DEFAULT_MAX_HISTORY;
use crate::engine::EngineOptions;

#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Kubeconfig to use (its current context). Default: $KUBECONFIG, ~/.kube/config,
    /// else the pod's service account.
    #[arg(
        long = "kubeconfig",
        env = "K0RDENT_MCP_KUBECONFIG",
        value_name = "FILE"
    )]
    pub kubeconfig: Option<PathBuf>,
    /// Bearer token to act as, replacing the kubeconfig's credentials.
    #[arg(
        long = "kube-token",
        id = "kube_token",
        env = "K0RDENT_MCP_KUBE_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
}

impl ClusterArgs {
    pub fn source(&self) -> ClusterSource {
        match &self.kubeconfig {
            Some(path) => ClusterSource::Kubeconfig(path.clone()),
            None => ClusterSource::Infer,
        }
    }

    pub async fn connect(&self) -> anyhow::Result<Cluster> {
        Ok(Cluster::new(
            connect(&self.source(), self.token.as_deref()).await?,
        ))
    }
}

#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Time to wait for each hook (the verify Job) and each delete, e.g. 300s or 5m.
    #[arg(
        long = "timeout",
        env = "K0RDENT_MCP_TIMEOUT",
        default_value = "5m",
        value_parser = parse_duration
    )]
    pub timeout: Duration,
    /// Revisions kept per release (0 = no limit), as helm's --history-max.
    #[arg(long = "history-max", env = "K0RDENT_MCP_HISTORY_MAX", default_value_t = DEFAULT_MAX_HISTORY)]
    pub history_max: usize,
    /// Roll a failed upgrade back to the revision it replaced (helm's --rollback-on-failure).
    #[arg(
        long = "rollback-on-failure",
        env = "K0RDENT_MCP_ROLLBACK_ON_FAILURE",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_name = "BOOL"
    )]
    pub rollback_on_failure: bool,
    /// How long to wait for k0rdent to validate a deployed ServiceTemplate (0s: do not wait).
    #[arg(
        long = "validation-timeout",
        env = "K0RDENT_MCP_VALIDATION_TIMEOUT",
        default_value = "60s",
        value_parser = parse_duration
    )]
    pub validation_timeout: Duration,
    /// How long an operation's lock on a release lasts unless renewed (it is renewed every
    /// third of this while the operation runs); a later operation recovers a release whose
    /// lock ran out. At least 3s.
    #[arg(
        long = "lock-lease",
        env = "K0RDENT_MCP_LOCK_LEASE",
        default_value = "60s",
        value_parser = parse_lease
    )]
    pub lock_lease: Duration,
}

fn parse_lease(text: &str) -> Result<Duration, String> {
    let lease = parse_duration(text)?;
    if lease < Duration::from_secs(3) {
        return Err(format!(
            "{} is too short for a lock lease (renewed every third of it); use at least 3s",
            quote(text)
        ));
    }
    Ok(lease)
}

impl EngineArgs {
    pub fn options(&self) -> EngineOptions {
        EngineOptions {
            max_history: self.history_max,
            timeout: self.timeout,
            rollback_on_failure: self.rollback_on_failure,
            validation_timeout: self.validation_timeout,
            lease: self.lock_lease,
            ..EngineOptions::default()
        }
    }
}

/// `90`, `90s`, `5m`, `1h`, `2m30s`: Helm's duration flags, bounded to a day.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "{} is not a duration; use seconds or units s/m/h, e.g. 300s, 5m, 1h30m",
            quote(text)
        )
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    if let Ok(secs) = text.parse::<u64>() {
        total = secs;
    } else {
        let mut number = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => return Err(bad()),
            };
            let n: u64 = number.parse().map_err(|_| bad())?;
            total = total.saturating_add(n.saturating_mul(unit));
            number.clear();
        }
        if !number.is_empty() {
            return Err(bad());
        }
    }
    if total > 86_400 {
        return Err(format!(
            "{} is longer than a day; use at most 24h",
            quote(text)
        ));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_helm_flags() {
        assert_eq!(parse_duration("300").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2m30s").unwrap(), Duration::from_secs(150));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        for bad in ["", "5x", "m", "5m3", "-1"] {
            assert!(
                parse_duration(bad).unwrap_err().contains("not a duration"),
                "{bad}"
            );
        }
        assert!(parse_duration("48h").unwrap_err().contains("at most 24h"));
    }
}
