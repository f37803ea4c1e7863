//! Error text with every cause, for messages where the root cause (a TLS or
//! DNS failure deep in a client library) is what the user needs to see.

/// Longest text kept from one cause: library errors can carry what a peer
/// sent, and an error message must stay readable whatever that was.
const MAX_CAUSE_CHARS: usize = 1000;

pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = capped(e.to_string());
    let mut source = e.source();
    while let Some(s) = source {
        let cause = capped(s.to_string());
        // Libraries often repeat their source's text in their own message.
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text
}

fn capped(text: String) -> String {
    match text.char_indices().nth(MAX_CAUSE_CHARS) {
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Loud(String);

    impl std::fmt::Display for Loud {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for Loud {}

    #[test]
    fn each_cause_is_capped() {
        assert_eq!(error_chain(&Loud("short".into())), "short");
        let text = error_chain(&Loud("x".repeat(5_000_000)));
        assert!(text.len() < MAX_CAUSE_CHARS + 40, "{}", text.len());
        assert!(text.ends_with("… (5000000 bytes)"), "{text}");
    }
}
