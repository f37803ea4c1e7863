//! yaml-rust2's syntax errors worded and placed as go-yaml's, which is what
//! Helm prints (`yaml: line N: <problem>`).
//!
//! go-yaml numbers lines oddly, and Helm users see it: a scanner error shows
//! the 1-based line of the problem, a parser error the 0-based one, and either
//! shows no line at all when the problem is on the first line. yaml-rust2
//! reports some problems go-yaml's parser finds from its scanner (and the
//! other way round), prefixes its parser problems with their context, and
//! places "end of stream" problems at the scalar's start; each case below
//! says which go-yaml check it stands for.

use yaml_rust2::scanner::ScanError;

use crate::reindent::{document_marker, open_flows};

/// Which of go-yaml's two numbering rules applies.
#[derive(Clone, Copy)]
enum Stage {
    Scanner,
    Parser,
}

/// yaml-rust2 parser problems whose go-yaml text is the part after the context.
const PARSER_CONTEXTS: &[&str] = &[
    "while parsing a block mapping, ",
    "while parsing a flow mapping, ",
    "while parsing a block collection, ",
    "while parsing a node, ",
];

/// `yaml: [line N: ]<problem>` as go-yaml words `error` for `text`.
pub fn go_yaml_error(text: &str, error: &ScanError) -> String {
    let (stage, line, problem) = translate(text, error);
    // go-yaml leaves the line out when its 0-based number is 0.
    let shown = match stage {
        Stage::Scanner => line,
        Stage::Parser => line - 1,
    };
    if line <= 1 {
        format!("yaml: {problem}")
    } else {
        format!("yaml: line {shown}: {problem}")
    }
}

/// go-yaml's stage, 1-based problem line and problem text.
fn translate(text: &str, error: &ScanError) -> (Stage, usize, String) {
    let info = error.info();
    let mark = *error.marker();
    if let Some(problem) = PARSER_CONTEXTS.iter().find_map(|c| info.strip_prefix(c)) {
        return (Stage::Parser, mark.line(), problem.to_string());
    }
    match info {
        "while parsing a flow sequence, expected ',' or ']'" => (
            Stage::Parser,
            mark.line(),
            "did not find expected ',' or ']'".into(),
        ),
        "did not find expected <document start>" => (Stage::Parser, mark.line(), info.into()),
        // go-yaml's scanner finds a pending key without ':' when it reads the
        // next line. But an empty `{}` / `[]` in key position drops out of its
        // key bookkeeping, so its parser meets the collection where it wants
        // a key instead.
        "simple key expect ':'" | "simple key expected" => {
            match empty_flow_line_before(text, mark.line()) {
                Some(line) => (Stage::Parser, line, "did not find expected key".into()),
                None => (
                    Stage::Scanner,
                    mark.line(),
                    "could not find expected ':'".into(),
                ),
            }
        }
        // go-yaml places it where the stream ends, not where the scalar starts.
        "while scanning a quoted scalar, found unexpected end of stream" => (
            Stage::Scanner,
            text.matches('\n').count() + 1,
            "found unexpected end of stream".into(),
        ),
        // go-yaml places it at the marker, not where the scalar starts.
        "while scanning a quoted scalar, found unexpected document indicator" => (
            Stage::Scanner,
            text.lines()
                .enumerate()
                .skip(mark.line())
                .find(|(_, l)| document_marker(l))
                .map_or(mark.line(), |(i, _)| i + 1),
            "found unexpected document indicator".into(),
        ),
        // Inside a flow go-yaml's scanner takes such a ':' as a value
        // indicator, and its parser then misses the collection's separator.
        "illegal placement of ':' indicator" => {
            match open_flows(text, mark.index())
                .ok()
                .and_then(|f| f.last().copied())
            {
                Some((_, sequence)) => (
                    Stage::Parser,
                    mark.line(),
                    format!(
                        "did not find expected ',' or '{}'",
                        if sequence { ']' } else { '}' }
                    ),
                ),
                None => (Stage::Scanner, mark.line(), info.into()),
            }
        }
        _ if info.starts_with("unexpected character: ") => (
            Stage::Scanner,
            mark.line(),
            "found character that cannot start any token".into(),
        ),
        // go-yaml keeps a scanner context ("while scanning a directive") apart
        // from the problem and prints only the problem.
        _ => {
            let problem = info
                .strip_prefix("while ")
                .and_then(|rest| rest.split_once(", "))
                .map_or(info, |(_, problem)| problem);
            (Stage::Scanner, mark.line(), problem.into())
        }
    }
}

/// The 1-based line of the last content line before 1-based `line` when it
/// holds only an empty flow collection (comments aside).
fn empty_flow_line_before(text: &str, line: usize) -> Option<usize> {
    let (index, content) = text
        .lines()
        .take(line.saturating_sub(1))
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .last()?;
    let t = content.trim_start();
    let (open, close) = match t.chars().next()? {
        '{' => ('{', '}'),
        '[' => ('[', ']'),
        _ => return None,
    };
    let rest = t[open.len_utf8()..].trim_start();
    rest.starts_with(close).then_some(index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
    use yaml_rust2::scanner::Marker;

    /// Each text with the message helm v4.1.4 and v3.17.2 print for it
    /// (`fromYaml`), so the translation is checked against go-yaml's words.
    const RECORDED: &[(&str, &str)] = &[
        ("a: 1\nb\n", "yaml: line 3: could not find expected ':'"),
        (
            "a:\n  - c: 1\n    x\n",
            "yaml: line 4: could not find expected ':'",
        ),
        (
            "a:\n  - c: 1\n    {}\n",
            "yaml: line 2: did not find expected key",
        ),
        (
            "a:\n  - c: 1\n    {}\n  - d\n",
            "yaml: line 2: did not find expected key",
        ),
        (
            "a: 1\n[] # c\n\n# c\n",
            "yaml: line 1: did not find expected key",
        ),
        ("a: 1\n{} x\n", "yaml: line 1: did not find expected key"),
        (
            "a:\n  - c: 1\n    {a: 1}\n",
            "yaml: line 4: could not find expected ':'",
        ),
        (
            "a: [1, 2\nb: 1\n",
            "yaml: line 1: did not find expected ',' or ']'",
        ),
        (
            "a: {x: 1\n",
            "yaml: line 1: did not find expected ',' or '}'",
        ),
        ("a: \"x\n", "yaml: line 2: found unexpected end of stream"),
        ("a: \"x", "yaml: found unexpected end of stream"),
        (
            "a:\n  b: 1\n c: 2\n",
            "yaml: line 2: did not find expected key",
        ),
        (
            "a:\n- b\nc: d\n  e: f\n",
            "yaml: line 4: mapping values are not allowed in this context",
        ),
        (
            "- a\nb: c\n",
            "yaml: line 1: did not find expected '-' indicator",
        ),
        (
            "a: b: c\n",
            "yaml: mapping values are not allowed in this context",
        ),
        (
            "a:\n  b: c\n  d: [e, f\n",
            "yaml: line 3: did not find expected ',' or ']'",
        ),
        ("a: {b: [1, 2}\n", "yaml: did not find expected ',' or ']'"),
        (
            "a: %x\n",
            "yaml: found character that cannot start any token",
        ),
        (
            "a:\n  b: 1\n  c: %!s(<nil>)\n",
            "yaml: line 3: found character that cannot start any token",
        ),
        (
            "%x: 1\n",
            "yaml: found unexpected non-alphabetical character",
        ),
        (
            "a: [x,\n---\n]\n",
            "yaml: line 1: did not find expected node content",
        ),
        (
            "a: \"x\n...\n\"\n",
            "yaml: line 2: found unexpected document indicator",
        ),
        (
            "a:\n  b: [1,\n2]\n c: 3\n",
            "yaml: line 3: did not find expected key",
        ),
    ];

    /// The error callers report: the re-indented text's when there is one.
    fn error_of(text: &str) -> (String, ScanError) {
        struct Ignore;
        impl MarkedEventReceiver for Ignore {
            fn on_event(&mut self, _: Event, _: Marker) {}
        }
        let text = crate::reindent_like_go_yaml(text).unwrap_or_else(|| text.to_string());
        let error = Parser::new_from_str(&text)
            .load(&mut Ignore, false)
            .expect_err(&text);
        (text, error)
    }

    #[test]
    fn errors_read_as_go_yaml_writes_them() {
        for (text, want) in RECORDED {
            let (parsed, error) = error_of(text);
            assert_eq!(go_yaml_error(&parsed, &error), *want, "{text:?}");
        }
    }
}
