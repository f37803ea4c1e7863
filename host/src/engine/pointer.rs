//! RFC 6901 JSON pointers: how a plan or a drift report names a field, and
//! how a caller names the fields a drift check should ignore.

use std::fmt;

use crate::quote::quote;

/// Most ignore rules one call may give: each is matched against every
/// changed field, and a caller must not make that unbounded.
pub const MAX_IGNORE_RULES: usize = 100;
/// Longest ignore rule, in bytes.
const MAX_RULE_BYTES: usize = 1024;

/// A parsed pointer: its reference tokens, unescaped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pointer {
    tokens: Vec<String>,
}

impl Pointer {
    /// The whole document (`""`).
    pub fn root() -> Self {
        Pointer::default()
    }

    pub fn child(&self, token: impl Into<String>) -> Self {
        let mut tokens = self.tokens.clone();
        tokens.push(token.into());
        Pointer { tokens }
    }

    /// Whether `self` is `prefix` or a field below it.
    pub fn is_within(&self, prefix: &Pointer) -> bool {
        self.tokens.starts_with(&prefix.tokens)
    }

    /// `""`, or `/`-separated tokens with `~` as `~0` and `/` as `~1`.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Ok(Pointer::root());
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err("a JSON pointer is empty or starts with \"/\"".into());
        };
        let mut tokens = Vec::new();
        for raw in rest.split('/') {
            let mut token = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c != '~' {
                    token.push(c);
                    continue;
                }
                match chars.next() {
                    Some('0') => token.push('~'),
                    Some('1') => token.push('/'),
                    _ => {
                        return Err(
                            "\"~\" in a JSON pointer must be followed by 0 (for ~) or 1 (for /)"
                                .into(),
                        );
                    }
                }
            }
            tokens.push(token);
        }
        Ok(Pointer { tokens })
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for token in &self.tokens {
            write!(f, "/{}", token.replace('~', "~0").replace('/', "~1"))?;
        }
        Ok(())
    }
}

/// One `ignore` entry: `/spec/interval` hides that field in every object;
/// `Kind/name:/spec/interval` only in that object (`Kind/name:` hides the
/// whole object, a missing one included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRule {
    scope: Option<(String, String)>,
    pointer: Pointer,
}

/// A bad `ignore` entry, named with the fix.
#[derive(Debug, thiserror::Error)]
#[error(
    "ignore rule {rule}: {problem}; fix: give a JSON pointer (RFC 6901) such as /spec/interval, \
     or one scoped to an object such as ServiceTemplate/minio-14-1-2:/spec/helm"
)]
pub struct IgnoreError {
    /// The rule as given, quoted and capped.
    pub rule: String,
    pub problem: String,
}

impl IgnoreRule {
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        let bad = |problem: String| IgnoreError {
            rule: quote(text),
            problem,
        };
        if text.len() > MAX_RULE_BYTES {
            return Err(bad(format!("longer than {MAX_RULE_BYTES} bytes")));
        }
        let (scope, pointer) = match text.find(":/").or_else(|| {
            // `Kind/name:` (the whole object) has nothing after the colon.
            text.strip_suffix(':')
                .filter(|s| !s.starts_with('/'))
                .map(str::len)
        }) {
            Some(at) if !text.starts_with('/') => {
                let (kind, name) = text[..at].split_once('/').ok_or_else(|| {
                    bad("the object before \":\" must be written Kind/name".into())
                })?;
                if kind.is_empty() || name.is_empty() || name.contains('/') {
                    return Err(bad(
                        "the object before \":\" must be written Kind/name".into()
                    ));
                }
                (Some((kind.to_string(), name.to_string())), &text[at + 1..])
            }
            _ => (None, text),
        };
        if scope.is_none() && pointer.is_empty() {
            return Err(bad(
                "an empty pointer would ignore every field of every object".into(),
            ));
        }
        let pointer = Pointer::parse(pointer).map_err(bad)?;
        Ok(IgnoreRule { scope, pointer })
    }

    /// Parses every rule, refusing more than [`MAX_IGNORE_RULES`].
    pub fn parse_all(texts: &[String]) -> Result<Vec<Self>, IgnoreError> {
        if texts.len() > MAX_IGNORE_RULES {
            return Err(IgnoreError {
                rule: format!("#{}", MAX_IGNORE_RULES + 1),
                problem: format!(
                    "{} rules given, at most {MAX_IGNORE_RULES} are accepted",
                    texts.len()
                ),
            });
        }
        texts.iter().map(|t| IgnoreRule::parse(t)).collect()
    }

    /// Whether this rule hides `pointer` of the object `kind`/`name`.
    pub fn hides(&self, kind: &str, name: &str, pointer: &Pointer) -> bool {
        let in_scope = self
            .scope
            .as_ref()
            .is_none_or(|(k, n)| k.eq_ignore_ascii_case(kind) && n == name);
        in_scope && pointer.is_within(&self.pointer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_round_trip_with_escapes() {
        let p = Pointer::parse("/metadata/annotations/helm.sh~1resource-policy").unwrap();
        assert_eq!(
            p,
            Pointer::root()
                .child("metadata")
                .child("annotations")
                .child("helm.sh/resource-policy")
        );
        assert_eq!(
            p.to_string(),
            "/metadata/annotations/helm.sh~1resource-policy"
        );
        assert_eq!(Pointer::parse("/a~0b").unwrap().to_string(), "/a~0b");
        assert!(Pointer::parse("spec").unwrap_err().contains("starts with"));
        assert!(
            Pointer::parse("/a~2")
                .unwrap_err()
                .contains("followed by 0")
        );
    }

    #[test]
    fn rules_hide_fields_below_them_in_their_scope() {
        let all = IgnoreRule::parse("/spec/interval").unwrap();
        let field = Pointer::parse("/spec/interval").unwrap();
        assert!(all.hides("HelmRepository", "x", &field));
        assert!(!all.hides("HelmRepository", "x", &Pointer::parse("/spec/url").unwrap()));
        assert!(!all.hides("HelmRepository", "x", &Pointer::parse("/spec").unwrap()));

        let one = IgnoreRule::parse("HelmRepository/x:/spec").unwrap();
        assert!(one.hides("HelmRepository", "x", &field));
        assert!(!one.hides("HelmRepository", "y", &field));
        let whole = IgnoreRule::parse("ServiceTemplate/a:").unwrap();
        assert!(whole.hides("ServiceTemplate", "a", &Pointer::root()));
    }

    #[test]
    fn bad_rules_are_named_with_the_fix() {
        for (rule, problem) in [
            ("spec/interval", "starts with"),
            ("/a~x", "followed by 0"),
            ("", "every field of every object"),
            ("Kind:/spec", "Kind/name"),
            ("a/b/c:/spec", "Kind/name"),
        ] {
            let e = IgnoreRule::parse(rule).unwrap_err().to_string();
            assert!(e.contains(problem), "{rule}: {e}");
            assert!(e.contains("fix: give a JSON pointer"), "{e}");
        }
        let many = vec!["/a".to_string(); MAX_IGNORE_RULES + 1];
        assert!(IgnoreRule::parse_all(&many).is_err());
    }
}
