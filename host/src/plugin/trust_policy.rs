//! What an OCI plugin must prove before it is compiled.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SignaturePolicy {
    /// A signature by a `--plugin-trusted-key` over the manifest digest.
    #[default]
    RequireSignature,
    /// A `@sha256:` reference is trusted as pinned by whoever configured it;
    /// a tag reference, which the registry may move, still needs a signature.
    DigestOnly,
    /// Anything the registry serves (digests still checked). Local development only.
    None,
}

/// What the policy asks of one reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    Signature,
    Nothing,
}

impl SignaturePolicy {
    pub fn requirement(self, pinned_by_digest: bool) -> Requirement {
        match self {
            SignaturePolicy::RequireSignature => Requirement::Signature,
            SignaturePolicy::DigestOnly if pinned_by_digest => Requirement::Nothing,
            SignaturePolicy::DigestOnly => Requirement::Signature,
            SignaturePolicy::None => Requirement::Nothing,
        }
    }

    /// Whether `self` asks less of a plugin than `floor`.
    pub fn is_weaker_than(self, floor: SignaturePolicy) -> bool {
        let rank = |policy| match policy {
            SignaturePolicy::RequireSignature => 2,
            SignaturePolicy::DigestOnly => 1,
            SignaturePolicy::None => 0,
        };
        rank(self) < rank(floor)
    }

    pub fn name(self) -> &'static str {
        match self {
            SignaturePolicy::RequireSignature => "require-signature",
            SignaturePolicy::DigestOnly => "digest-only",
            SignaturePolicy::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_looser_policy_is_weaker() {
        use SignaturePolicy::*;
        assert!(None.is_weaker_than(RequireSignature));
        assert!(DigestOnly.is_weaker_than(RequireSignature));
        assert!(None.is_weaker_than(DigestOnly));
        assert!(!RequireSignature.is_weaker_than(None));
        assert!(!DigestOnly.is_weaker_than(DigestOnly));
    }

    #[test]
    fn tags_need_signatures_unless_the_policy_is_none() {
        use SignaturePolicy::*;
        assert_eq!(RequireSignature.requirement(true), Requirement::Signature);
        assert_eq!(DigestOnly.requirement(true), Requirement::Nothing);
        assert_eq!(DigestOnly.requirement(false), Requirement::Signature);
        assert_eq!(None.requirement(false), Requirement::Nothing);
    }
}
