//! Error text with every cause, for messages where the root cause (a TLS or
//! DNS failure deep in a client library) is what the user needs to see.

pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let cause = s.to_string();
        // Libraries often repeat their source's text in their own message.
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = s.source();
    }
    text
}
