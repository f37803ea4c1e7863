//! Helm's install order of Kubernetes kinds (`releaseutil.InstallOrder`).
//! The renderer sorts its output by it and the release engine applies in it;
//! one list keeps the two from drifting apart when Helm changes it.

/// Helm v4's `InstallOrder`.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// A sort key giving Helm's `lessByKind`: known kinds in install order, then
/// unknown kinds by name.
pub fn install_key(kind: &str) -> (usize, &str) {
    match INSTALL_ORDER.iter().position(|k| *k == kind) {
        Some(rank) => (rank, ""),
        None => (INSTALL_ORDER.len(), kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_kinds_come_first_in_order_then_unknown_by_name() {
        let mut kinds = [
            "ServiceTemplate",
            "Job",
            "HelmRepository",
            "Namespace",
            "Secret",
        ];
        kinds.sort_by_key(|k| install_key(k));
        assert_eq!(
            kinds,
            [
                "Namespace",
                "Secret",
                "Job",
                "HelmRepository",
                "ServiceTemplate"
            ]
        );
    }
}
