//! Kubernetes naming rules the host checks in more than one place, and how
//! an untrusted name is quoted back in an error.

/// Longest part of an untrusted value an error quotes back: enough to
/// recognise it, too little for a hostile caller to bloat errors and logs.
pub const QUOTE_MAX_CHARS: usize = 200;

/// `value` as a quoted string for an error message, cut after
/// [`QUOTE_MAX_CHARS`] characters with a note of how much was left out.
pub fn quoted(value: &str) -> String {
    let total = value.chars().count();
    if total <= QUOTE_MAX_CHARS {
        return format!("{value:?}");
    }
    let head: String = value.chars().take(QUOTE_MAX_CHARS).collect();
    format!("{head:?}… ({} more characters)", total - QUOTE_MAX_CHARS)
}

/// A DNS-1123 label: 1–63 of `[a-z0-9-]`, starting and ending alphanumeric
/// (namespaces, plugin names, each dot-separated part of a release name).
pub fn is_dns_label(text: &str) -> bool {
    let alphanumeric = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = text.as_bytes();
    bytes.len() <= 63
        && bytes.first().is_some_and(alphanumeric)
        && bytes.last().is_some_and(alphanumeric)
        && bytes.iter().all(|b| alphanumeric(b) || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_dns_1123() {
        assert!(is_dns_label("kcm-system"));
        assert!(is_dns_label("a"));
        assert!(is_dns_label(&"a".repeat(63)));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(!is_dns_label(""));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label("a-"));
        assert!(!is_dns_label("KCM"));
        assert!(!is_dns_label("a.b"));
    }

    #[test]
    fn quoted_values_are_capped() {
        assert_eq!(quoted("minio,name"), "\"minio,name\"");
        let long = "x".repeat(QUOTE_MAX_CHARS + 1000);
        let q = quoted(&long);
        assert!(q.len() < QUOTE_MAX_CHARS + 40, "{q}");
        assert!(q.ends_with("… (1000 more characters)"), "{q}");
        // Cut on characters, never inside one.
        assert!(quoted(&"é".repeat(300)).starts_with("\"éé"));
    }
}
