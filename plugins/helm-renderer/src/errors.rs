//! The renderer's error type, [`RenderError`], and the conversion of Go-style template errors into
//! the text Helm v4 prints after `Error: ` (`engine.cleanupParseError` and `engine.reformatExecErrorMsg`).

use crate::funcs::{WARN_END, WARN_START};
use crate::template::ExecError;

/// A failed render: where (when known) and Helm's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    pub template: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// The text Helm prints after `Error: ` (without `helm template`'s
    /// trailing "Use --debug flag to render out invalid YAML" hint).
    pub message: String,
}

impl RenderError {
    pub fn plain(message: impl Into<String>) -> RenderError {
        RenderError {
            template: None,
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

/// `file:line[:col]` → (file, line, col).
fn split_location(location: &str) -> (Option<String>, Option<u32>, Option<u32>) {
    let mut parts = location.rsplitn(3, ':').collect::<Vec<_>>();
    parts.reverse();
    let nums: Vec<Option<u32>> = parts.iter().map(|p| p.parse().ok()).collect();
    match (parts.len(), nums.as_slice()) {
        (3, [_, Some(l), Some(c)]) => (Some(parts[0].to_string()), Some(*l), Some(*c)),
        (3, [_, _, Some(l)]) => (Some(format!("{}:{}", parts[0], parts[1])), Some(*l), None),
        (2, [_, Some(l)]) => (Some(parts[0].to_string()), Some(*l), None),
        _ => (None, None, None),
    }
}

fn with_location(location: &str, fallback: &str, message: String) -> RenderError {
    let (template, line, column) = split_location(location);
    RenderError {
        template: template.or_else(|| Some(fallback.to_string())),
        line,
        column,
        message,
    }
}

/// Helm's `cleanupParseError`.
pub fn parse_error(filename: &str, go_message: &str) -> RenderError {
    let tokens: Vec<&str> = go_message.split(": ").collect();
    if tokens.len() == 1 {
        return RenderError {
            template: Some(filename.into()),
            line: None,
            column: None,
            message: format!("parse error in ({filename}): {go_message}"),
        };
    }
    let location = tokens[1];
    let message = format!("parse error at ({location}): {}", tokens[tokens.len() - 1]);
    with_location(location, filename, message)
}

/// Text between Helm's warn markers (greedy, like its regex).
fn warn_text(s: &str) -> Option<&str> {
    let start = s.find(WARN_START)? + WARN_START.len();
    let end = s.rfind(WARN_END)?;
    (end >= start).then(|| &s[start..end])
}

#[derive(PartialEq)]
struct Traceable {
    location: String,
    message: String,
    executed_function: String,
}

impl Traceable {
    fn render(&self, out: &mut String) {
        if !self.location.is_empty() {
            out.push_str(&self.location);
            out.push_str("\n  ");
        }
        if !self.executed_function.is_empty() {
            out.push_str(&self.executed_function);
            out.push_str("\n    ");
        }
        if !self.message.is_empty() {
            out.push_str(&self.message);
            out.push('\n');
        }
    }
}

fn cut_template(msg: &str) -> &str {
    msg.find(" template:").map_or(msg, |i| &msg[..i])
}

/// Helm's `parseTemplateExecErrorString`.
fn parse_traceable(s: &str) -> Option<Traceable> {
    let rem = s.strip_prefix("template: ")?;
    if rem.starts_with("no template ") {
        return Some(Traceable {
            location: String::new(),
            message: s.to_string(),
            executed_function: String::new(),
        });
    }
    if let Some(t) = parse_executing(rem) {
        return Some(t);
    }
    let sep = rem.rfind(": ")?;
    Some(Traceable {
        location: rem[..sep].to_string(),
        message: cut_template(&rem[sep + 2..]).to_string(),
        executed_function: String::new(),
    })
}

fn parse_executing(rem: &str) -> Option<Traceable> {
    let idx = rem.find(": executing ")?;
    let name = &rem[..idx];
    let after = &rem[idx + ": executing ".len()..];
    let after = after.strip_prefix('"')?;
    let end_quote = after.find('"')?;
    let function = &after[..end_quote];
    let after_at = after[end_quote + 1..].strip_prefix(" at <")?;
    let end_loc = after_at.find(">: ")?;
    let loc = &after_at[..end_loc];
    let msg = cut_template(&after_at[end_loc + 3..]);
    Some(Traceable {
        location: name.to_string(),
        message: msg.to_string(),
        executed_function: format!("executing \"{function}\" at <{loc}>:"),
    })
}

/// Helm's `reformatExecErrorMsg`.
pub fn exec_error(filename: &str, err: &ExecError) -> RenderError {
    let top = err.message();
    if !top.starts_with("template: ") {
        return RenderError {
            template: Some(filename.into()),
            line: None,
            column: None,
            message: top.to_string(),
        };
    }
    let tokens: Vec<&str> = top.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return RenderError {
            template: Some(filename.into()),
            line: None,
            column: None,
            message: format!("execution error in ({filename}): {top}"),
        };
    }
    let location = tokens[1];
    if let Some(msg) = warn_text(tokens[2]) {
        return with_location(
            location,
            filename,
            format!("execution error at ({location}): {msg}"),
        );
    }
    let mut trace: Vec<Traceable> = Vec::new();
    for msg in &err.chain {
        match parse_traceable(msg) {
            Some(t) => {
                if trace.last() != Some(&t) {
                    trace.push(t);
                }
            }
            None => return with_location(location, filename, top.to_string()),
        }
    }
    let mut out = String::new();
    for t in &trace {
        t.render(&mut out);
    }
    with_location(location, filename, out.trim().to_string())
}
