//! OIDC_REQUIRED without --oidc-issuer: the API server is the only judge of a
//! bearer token, so each call's token is shown to it before any tool work,
//! cluster tool or not (render pulls with the server's registry credentials,
//! a catalog refresh fetches up to 32 MiB). The probe is a
//! SelfSubjectAccessReview created with the token: every authenticated
//! identity may create one (the default system:basic-user role), and the
//! v1.20 API server has no SelfSubjectReview. Accepted tokens are remembered
//! briefly by their SHA-256; the token itself is never stored or logged.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use sha2::{Digest, Sha256};

use super::AuthnError;

/// Long enough to spare the API server one review per call of a busy agent,
/// short enough that a revoked token stops working within seconds.
const REMEMBER: Duration = Duration::from_secs(10);
const MAX_REMEMBERED: usize = 4096;

/// Hashes of tokens the API server accepted, and when.
#[derive(Default)]
pub struct AcceptedTokens {
    seen: Mutex<HashMap<[u8; 32], Instant>>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl AcceptedTokens {
    pub fn contains(&self, token: &str) -> bool {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(&digest(token))
            .is_some_and(|at| at.elapsed() < REMEMBER)
    }

    pub fn insert(&self, token: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= MAX_REMEMBERED {
            seen.retain(|_, at| at.elapsed() < REMEMBER);
        }
        // Still full of fresh entries: forgetting them costs only reviews.
        if seen.len() >= MAX_REMEMBERED {
            seen.clear();
        }
        seen.insert(digest(token), Instant::now());
    }
}

/// Ok when `client` (built with the caller's token) is an identity the API
/// server authenticates; 401 and 403 refuse the token, anything else means
/// the API server could not be asked.
pub async fn review(client: kube::Client) -> Result<(), AuthnError> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            non_resource_attributes: Some(NonResourceAttributes {
                path: Some("/version".into()),
                verb: Some("get".into()),
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    match Api::<SelfSubjectAccessReview>::all(client)
        .create(&PostParams::default(), &review)
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 401 => Err(AuthnError::Rejected(
            "the Kubernetes API server does not accept this bearer token (401 Unauthorized); \
             fix: send a valid, unexpired token for this cluster"
                .to_string(),
        )),
        // Anonymous, or an identity stripped of system:basic-user: either
        // way not a caller this server acts for.
        Err(kube::Error::Api(status)) if status.code == 403 => Err(AuthnError::Rejected(
            "the Kubernetes API server let this bearer token act only as an identity that may not \
             create a SelfSubjectAccessReview (403: anonymous, or a user without the default \
             system:basic-user role); fix: send the token of a real user or ServiceAccount"
                .to_string(),
        )),
        Err(e) => Err(AuthnError::Unavailable(format!(
            "cannot ask the Kubernetes API server whether the bearer token is valid: {e}; \
             fix: retry, and check that the API server is reachable from k0rdent-mcp"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_tokens_are_kept_by_hash_and_bounded() {
        let tokens = AcceptedTokens::default();
        assert!(!tokens.contains("a"));
        tokens.insert("a");
        assert!(tokens.contains("a"));
        assert!(!tokens.contains("b"));
        for i in 0..MAX_REMEMBERED + 10 {
            tokens.insert(&i.to_string());
        }
        let seen = tokens.seen.lock().unwrap();
        assert!(seen.len() <= MAX_REMEMBERED, "{}", seen.len());
        assert!(!seen.contains_key(&[0; 32]));
    }
}
