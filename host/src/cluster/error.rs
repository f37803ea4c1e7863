//! Cluster errors. Each one names the object and says what to do about it,
//! because the reader is usually an operator (or an AI agent) who cannot see
//! the API server's logs.

use super::objects::ObjectKey;
use crate::quote::quote;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot configure the Kubernetes client from {source_desc}: {message}; fix: {fix}")]
    Config {
        source_desc: String,
        message: String,
        fix: String,
    },
    #[error("{action} {object}: {message}; fix: {fix}")]
    Api {
        action: &'static str,
        object: String,
        /// HTTP status, 0 when the server was not reached.
        code: u16,
        message: String,
        fix: String,
    },
    #[error(
        "{object} exists and cannot be imported into the current release: invalid ownership metadata; {problems}; \
         fix: it belongs to {owner}: uninstall that release or delete the object, or install under that release name"
    )]
    NotOwned {
        object: Box<ObjectKey>,
        problems: String,
        owner: String,
    },
    #[error(
        "{object} is not a Kubernetes object: {problem}; fix: correct the chart template that renders it"
    )]
    BadObject { object: String, problem: String },
    /// A delete did not finish within the wait: something (nearly always a
    /// finalizer nobody removes) holds the object.
    #[error("{}", stuck_deleting(object, finalizers, *seconds))]
    StuckDeleting {
        object: Box<ObjectKey>,
        /// The object's finalizers at the end of the wait.
        finalizers: Vec<String>,
        seconds: u64,
    },
    /// The caller cancelled while this layer was waiting.
    #[error("cancelled by the caller during {during}")]
    Cancelled { during: String },
}

impl ClusterError {
    /// Maps a kube error to one that names the object and a fix.
    pub(crate) fn api(action: &'static str, object: impl ToString, err: kube::Error) -> Self {
        let object = object.to_string();
        match err {
            kube::Error::Api(status) => {
                let code = status.code;
                let fix = match code {
                    401 => "check the credentials (token or kubeconfig user) given to k0rdent-mcp".to_string(),
                    403 => format!(
                        "grant the caller's identity RBAC rights to {action} {object} (a Role/ClusterRole and binding)"
                    ),
                    404 => format!(
                        "make sure {object} exists, and that its API (CRD) is installed on the cluster"
                    ),
                    409 => "another field manager owns fields helm wants to set; remove the conflicting \
                            manager's fields (kubectl apply --server-side --force-conflicts --field-manager=helm) \
                            or stop the other writer"
                        .to_string(),
                    422 => "the rendered object is invalid for this cluster; change the chart values so it \
                            passes the API's validation"
                        .to_string(),
                    _ => "retry; if it persists, check the API server's health".to_string(),
                };
                ClusterError::Api {
                    action,
                    object,
                    code,
                    message: status.message.clone(),
                    fix,
                }
            }
            other => ClusterError::Api {
                action,
                object,
                code: 0,
                message: other.to_string(),
                fix: "check that the API server is reachable and its certificate trusted (kubeconfig \
                      server and certificate-authority)"
                    .to_string(),
            },
        }
    }

    /// The HTTP status of an API error.
    pub fn code(&self) -> Option<u16> {
        match self {
            ClusterError::Api { code, .. } if *code != 0 => Some(*code),
            _ => None,
        }
    }
}

/// Most finalizers a stuck-delete error lists.
const FINALIZERS_NAMED: usize = 5;

/// `ns/Kind/name was still present 5s after it was deleted: finalizer
/// "x" holds it; fix: …`, with the kubectl command that removes the
/// finalizers (finalizer names are quoted: any client may set them).
fn stuck_deleting(object: &ObjectKey, finalizers: &[String], seconds: u64) -> String {
    let (resource, ns) = (object.kubectl_resource(), object.kubectl_namespace_flag());
    let path = object.path();
    if finalizers.is_empty() {
        return format!(
            "{path} was still present {seconds}s after it was deleted (no finalizers left: its deletion \
             is still in progress); fix: check it (kubectl get {resource}{ns} -o yaml) and retry"
        );
    }
    // Any client can add finalizers; a handful names the culprit.
    let mut named: Vec<String> = finalizers
        .iter()
        .take(FINALIZERS_NAMED)
        .map(|f| quote(f))
        .collect();
    if finalizers.len() > FINALIZERS_NAMED {
        named.push(format!("and {} more", finalizers.len() - FINALIZERS_NAMED));
    }
    let noun = if finalizers.len() == 1 {
        "finalizer"
    } else {
        "finalizers"
    };
    format!(
        "{path} was still present {seconds}s after it was deleted: {noun} {} {} it; fix: remove the \
         finalizer once what it guards is released (kubectl patch {resource}{ns} --type=merge -p \
         '{{\"metadata\":{{\"finalizers\":null}}}}') or repair the controller that should remove it, then retry",
        named.join(", "),
        if finalizers.len() == 1 {
            "holds"
        } else {
            "hold"
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> ObjectKey {
        ObjectKey {
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            namespace: Some("kcm-system".into()),
            name: "verify".into(),
        }
    }

    #[test]
    fn a_stuck_delete_names_the_object_its_finalizers_and_the_command_that_frees_it() {
        let text = stuck_deleting(&job(), &["example.com/\u{1b}[31mred".into()], 3);
        assert!(
            text.starts_with("kcm-system/Job/verify was still present 3s after it was deleted: finalizer \"example.com/\\u{1b}[31mred\" holds it"),
            "{text}"
        );
        assert!(
            text.contains("kubectl patch job.batch/verify -n kcm-system --type=merge"),
            "{text}"
        );
    }

    #[test]
    fn a_flood_of_finalizers_is_cut_to_a_few() {
        let many: Vec<String> = (0..1000).map(|i| format!("f.example/{i}")).collect();
        let text = stuck_deleting(&job(), &many, 3);
        assert!(
            text.contains("\"f.example/4\", and 995 more hold it"),
            "{text}"
        );
        assert!(!text.contains("f.example/5\""), "{text}");
    }
}
