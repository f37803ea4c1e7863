//! go-yaml's indentation leniency on top of yaml-rust2.
//!
//! go-yaml (what Helm reads YAML with, through sigs.k8s.io/yaml) checks
//! indentation only in block context: inside a flow collection (`[...]`,
//! `{...}`) and on the continuation lines of a quoted scalar any column is
//! accepted, so charts close `command: [..., '...multi-line...'` with a `]` at
//! the key's column. yaml-rust2 follows YAML 1.2 and refuses those lines
//! ("invalid indentation", "invalid indentation in flow construct", "invalid
//! indentation in quoted scalar", tab variants).
//!
//! Why a re-indenting retry and not a scanner of our own: yaml-rust2 already
//! knows exactly where a flow collection or quoted scalar is open, and line
//! positions are all go-yaml reports in its errors. So when yaml-rust2 stops
//! on one of those indentation errors, we ask it (by scanning the text up to
//! the error, where every token is released) which flow collection or quoted
//! scalar is open and where it closes, push its lines right of its opening
//! column, and parse again. Leading blanks on those lines carry no
//! meaning in either construct (a flow is free-form, a quoted scalar's line
//! folding drops them), so values are unchanged, and line numbers in later
//! errors stay those of the original text. Lines that go-yaml itself refuses
//! there (`---` / `...` document markers at column 0) are never moved.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, ScanError, Scanner, TokenType};

/// Each retry parses the whole text again (one retry per refused flow or
/// quoted scalar); this bounds the work on a document with many of them.
/// Beyond it the last error stands.
const MAX_REPAIRS: usize = 64;
/// Retries of a large document are further limited so that all of them
/// together scan at most this many bytes (a chart's values file or a rendered
/// manifest is untrusted, and the host parses them too).
const MAX_RESCANNED_BYTES: usize = 64 << 20;
/// Moving lines right adds `column` bytes per moved line: a flow opened far to
/// the right with many lines after it would turn a small document into a huge
/// copy. Real charts move a few lines by a few dozen columns; a repair (and
/// the scan copy that finds a flow's end) that would add more than this is
/// not made, and yaml-rust2's refusal stands.
const MAX_GROWTH: usize = 32 << 20;

const TOKEN_INDENT_ERRORS: &[&str] = &[
    "invalid indentation",
    "invalid indentation in flow construct",
    "tabs disallowed within this context (block indentation)",
];
const QUOTED_INDENT_ERROR: &str = "invalid indentation in quoted scalar";
const QUOTED_TAB_ERROR: &str = "tab cannot be used as indentation";
const QUOTED_EOF_ERROR: &str = "while scanning a quoted scalar, found unexpected end of stream";

/// `src` with the lines go-yaml lets through at any column re-indented so
/// yaml-rust2 accepts them too; `None` when no such line stopped yaml-rust2.
/// The copy may still fail to parse, with the error go-yaml would report next.
pub fn reindent_like_go_yaml(src: &str) -> Option<String> {
    let mut lines: Vec<String> = src.split_inclusive('\n').map(String::from).collect();
    let mut moved = vec![false; lines.len()];
    let mut text: Option<String> = None;
    let repairs = MAX_REPAIRS.min((MAX_RESCANNED_BYTES / src.len().max(1)).max(1));
    let mut growth = 0usize;
    for _ in 0..repairs {
        let current = text.as_deref().unwrap_or(src);
        let Some(error) = first_error(current) else {
            break;
        };
        let Some((first, last, column)) = lines_to_move(current, &error) else {
            break;
        };
        let range = first..=last.min(lines.len().saturating_sub(1));
        let to_move = range
            .clone()
            .filter(|&line| !moved[line] && movable(&lines[line]))
            .count();
        growth = growth.saturating_add(to_move.saturating_mul(column));
        if to_move == 0 || growth > MAX_GROWTH {
            break;
        }
        for line in range {
            if moved[line] || !movable(&lines[line]) {
                continue;
            }
            lines[line].insert_str(0, &" ".repeat(column));
            moved[line] = true;
        }
        text = Some(lines.concat());
    }
    text
}

/// The first error yaml-rust2's parser reports, if any. Events are pulled one
/// at a time: `Parser::load` recurses once per nesting level, and a deeply
/// nested document must not overflow the host's stack here.
fn first_error(text: &str) -> Option<ScanError> {
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => return None,
            Ok(_) => {}
            Err(e) => return Some(e),
        }
    }
}

/// For an indentation error go-yaml would not raise: the 0-based lines to
/// move (from the line after the open construct's start to its close, or at
/// least to the error) and the column that puts them right of its start.
fn lines_to_move(text: &str, error: &ScanError) -> Option<(usize, usize, usize)> {
    let info = error.info();
    let mark = *error.marker();
    // The quoted-scalar errors name a mark inside the scalar; where it starts
    // is what the scanner reports when the text is cut there.
    let (cut, quoted_start) = if info == QUOTED_INDENT_ERROR {
        (mark.index(), Some(mark))
    } else if info == QUOTED_TAB_ERROR {
        let start = match open_flows(text, mark.index() - mark.col()) {
            Err(e) if e.info() == QUOTED_EOF_ERROR => *e.marker(),
            _ => return None,
        };
        (start.index(), Some(start))
    } else if TOKEN_INDENT_ERRORS.contains(&info) {
        (mark.index(), None)
    } else {
        return None;
    };
    let open_flow = open_flows(text, cut).ok()?.first().map(|f| f.0);
    let mut last = match quoted_start {
        Some(start) => quoted_end_line(text, start.index()),
        None => mark.line() - 1,
    };
    let start = open_flow.or(quoted_start)?;
    let column = start.col() + 1;
    if let Some(opener) = open_flow {
        last = last.max(flow_end_line(text, opener, column).unwrap_or(0));
    }
    Some((start.line(), last, column))
}

/// 0-based line of the bracket closing the flow opened at `opener`, found by
/// scanning a copy with every later line moved right by `column`: the flow's
/// own lines then pass yaml-rust2's checks and scan as go-yaml reads them,
/// so one retry covers the whole flow instead of one per refused line. What
/// the move does to the block lines after it is never kept.
fn flow_end_line(text: &str, opener: Marker, column: usize) -> Option<usize> {
    let later_lines = text
        .split_inclusive('\n')
        .skip(opener.line())
        .filter(|line| movable(line))
        .count();
    if later_lines.saturating_mul(column) > MAX_GROWTH {
        return None;
    }
    let pad = " ".repeat(column);
    let moved: String = text
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, line)| {
            if i >= opener.line() && movable(line) {
                format!("{pad}{line}")
            } else {
                line.to_string()
            }
        })
        .collect();
    let mut depth = 0usize;
    for token in Scanner::new(moved.chars()) {
        match token.1 {
            TokenType::FlowSequenceStart | TokenType::FlowMappingStart
                if depth > 0 || token.0.index() == opener.index() =>
            {
                depth += 1;
            }
            TokenType::FlowSequenceEnd | TokenType::FlowMappingEnd if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Some(token.0.line() - 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Scans `text` up to char `cut` (there every token is released, where a
/// failing scan would hold back those that might still start a key) and
/// returns the flow collections still open, outermost first, each with its
/// opening mark and whether it is a sequence.
pub(crate) fn open_flows(text: &str, cut: usize) -> Result<Vec<(Marker, bool)>, ScanError> {
    let mut scanner = Scanner::new(text.chars().take(cut));
    let mut open = Vec::new();
    for token in scanner.by_ref() {
        match token.1 {
            TokenType::FlowSequenceStart => open.push((token.0, true)),
            TokenType::FlowMappingStart => open.push((token.0, false)),
            TokenType::FlowSequenceEnd | TokenType::FlowMappingEnd => {
                open.pop();
            }
            _ => {}
        }
    }
    match scanner.get_error() {
        Some(e) => Err(e),
        None => Ok(open),
    }
}

/// 0-based line on which the quoted scalar starting at char `start` closes
/// (the last line when it never does).
fn quoted_end_line(text: &str, start: usize) -> usize {
    let mut chars = text.chars().skip(start);
    let quote = chars.next();
    let mut line = text.chars().take(start).filter(|&c| c == '\n').count();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\n') => line += 1,
            // An escaped character (an escaped line break counts as a line).
            (Some('"'), '\\') => line += usize::from(chars.next() == Some('\n')),
            (Some('\''), '\'') => {
                // `''` is an escaped quote inside the scalar.
                let mut rest = chars.clone();
                if rest.next() != Some('\'') {
                    break;
                }
                chars = rest;
            }
            (Some(q), c) if c == q => break,
            _ => {}
        }
    }
    line
}

/// Blank lines need no move, and document markers at column 0 end the flow
/// or scalar for go-yaml too, so they must keep failing.
fn movable(line: &str) -> bool {
    !line.trim().is_empty() && !document_marker(line)
}

/// `---` or `...` at column 0, followed by a blank or the line's end.
pub(crate) fn document_marker(line: &str) -> bool {
    let content = line.trim_end_matches(['\n', '\r']);
    (content.starts_with("---") || content.starts_with("..."))
        && content[3..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == '\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(src: &str) -> String {
        reindent_like_go_yaml(src).expect("a repair")
    }

    #[test]
    fn flow_closed_at_the_key_column_is_moved_right_of_the_bracket() {
        let src = "a:\n  c: [\"a\",\n    'x\n    y'\n  ]\nb: 1\n";
        let out = fixed(src);
        assert!(first_error(&out).is_none(), "{out}");
        assert_eq!(out.lines().count(), src.lines().count());
        assert!(out.ends_with("b: 1\n"));
    }

    #[test]
    fn nested_flows_and_column_zero_lines_are_moved() {
        for src in [
            "a:\n  c: [a, [b,\nc],\nd]\ne: 1\n",
            "a:\n  m: {a: 1,\nb: 2\n}\n",
            "a:\n  - [a,\nb]\n",
            "a: [it's,\nb]\n",
            "k:\n  x: {a: [1,\n2], b: \"q\n r\"\n}\n  y: 2\n",
        ] {
            assert!(first_error(&fixed(src)).is_none(), "{src:?}");
        }
    }

    #[test]
    fn a_long_flow_at_column_0_is_moved_in_one_pass() {
        let items: String = (0..500).map(|i| format!("\"item{i}\",\n")).collect();
        let src = format!("a:\n  list: [\n{items}\"last\"\n]\n  b: 1\n");
        let out = fixed(&src);
        assert!(first_error(&out).is_none());
        assert!(out.ends_with("\n  b: 1\n"), "lines after the flow stay put");
    }

    #[test]
    fn quoted_scalar_continuation_lines_are_moved() {
        for src in [
            "a:\n  c: \"x\ny\"\n",
            "a:\n  c: 'x\n  y'\n",
            "a:\n  b: \"x\n\ty\"\n",
        ] {
            assert!(first_error(&fixed(src)).is_none(), "{src:?}");
        }
    }

    #[test]
    fn valid_text_and_other_errors_are_left_alone() {
        assert_eq!(reindent_like_go_yaml("a: [1,\n  2]\n"), None);
        assert_eq!(reindent_like_go_yaml("a:\n  b: 1\n c: 2\n"), None);
        assert_eq!(reindent_like_go_yaml("a: 1\n{}\n"), None);
    }

    #[test]
    fn a_flow_opened_far_right_with_many_lines_after_it_is_not_copied_wide() {
        // A flow opened at column 4 000 (under 2 000 nested sequence entries)
        // with 20 000 lines at column 0 in it: moving them would add 80 MB to a
        // 64 kB document.
        let src = format!("{}[1,\n{}]\n", "- ".repeat(2_000), "2,\n".repeat(20_000));
        let out = reindent_like_go_yaml(&src);
        assert!(
            out.as_ref()
                .is_none_or(|t| t.len() <= src.len() + MAX_GROWTH),
            "grew to {} bytes",
            out.map_or(0, |t| t.len())
        );
    }

    #[test]
    fn document_markers_inside_a_flow_still_fail() {
        let out = reindent_like_go_yaml("a:\n  c: [x,\n---\n  ]\n");
        assert!(out.as_deref().is_none_or(|t| first_error(t).is_some()));
    }
}
