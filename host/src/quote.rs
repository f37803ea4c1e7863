//! Quoting values that came from outside (archives, registries, catalogs)
//! into error text. A hostile value can be gigabytes long or full of control
//! characters; an error must stay short and must not write terminal escapes,
//! so the value is escaped and cut, and the cut says how long it really was.

/// Longest quoted value, in characters of escaped output (quotes excluded).
pub const QUOTE_MAX_CHARS: usize = 200;

/// `"value"` with control characters escaped, cut at [`QUOTE_MAX_CHARS`]:
/// `"aaaa…" (1610612736 bytes)`.
pub fn quote(value: &str) -> String {
    quote_head(value, false, value.len())
}

/// [`quote`] for bytes that may not be UTF-8; only the head is decoded, so a
/// huge value costs no more than a short one.
pub fn quote_bytes(value: &[u8]) -> String {
    // Four bytes per character is the most UTF-8 needs, so the head holds at
    // least as many characters as fit in the quote.
    let head = &value[..value.len().min(QUOTE_MAX_CHARS * 4)];
    quote_head(
        &String::from_utf8_lossy(head),
        head.len() < value.len(),
        value.len(),
    )
}

/// Quotes `text`, the start of a value of `total_bytes`; `more` says the
/// value goes on after `text`.
fn quote_head(text: &str, more: bool, total_bytes: usize) -> String {
    let mut out = String::with_capacity(QUOTE_MAX_CHARS.min(text.len()) + 32);
    out.push('"');
    let mut written = 0;
    for c in text.chars() {
        // A single quote needs no escape inside double quotes.
        let escaped: String = if c == '\'' {
            c.to_string()
        } else {
            c.escape_debug().collect()
        };
        let width = escaped.chars().count();
        if written + width > QUOTE_MAX_CHARS {
            return format!("{out}…\" ({total_bytes} bytes)");
        }
        written += width;
        out.push_str(&escaped);
    }
    if more {
        return format!("{out}…\" ({total_bytes} bytes)");
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole_and_escaped() {
        assert_eq!(quote("minio"), "\"minio\"");
        assert_eq!(quote("a\"b\nc\u{1b}[2J'"), "\"a\\\"b\\nc\\u{1b}[2J'\"");
    }

    #[test]
    fn long_values_are_cut_and_say_their_length() {
        let huge = "x".repeat(10_000_000);
        let q = quote(&huge);
        assert!(q.len() < QUOTE_MAX_CHARS + 40, "{}", q.len());
        assert!(q.ends_with("…\" (10000000 bytes)"), "{q}");
        let escapes = "\u{1}".repeat(1000);
        assert!(quote(&escapes).chars().count() < QUOTE_MAX_CHARS + 40);
    }

    #[test]
    fn bytes_are_decoded_only_at_the_head() {
        assert_eq!(quote_bytes(b"ok"), "\"ok\"");
        let huge = vec![b'a'; 50_000_000];
        let q = quote_bytes(&huge);
        assert!(q.ends_with("…\" (50000000 bytes)"), "{q}");
        assert!(q.len() < QUOTE_MAX_CHARS + 40);
        let mut invalid = vec![0xff; 3];
        invalid.extend_from_slice(b"tail");
        assert_eq!(quote_bytes(&invalid), "\"\u{fffd}\u{fffd}\u{fffd}tail\"");
    }
}
