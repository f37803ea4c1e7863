//! `.helmignore` rules as Helm evaluates them when it loads a chart folder.
//!
//! Helm's semantics are kept even where they surprise: rules are tried in
//! order and the first positive match ignores the path; a negated rule
//! (`!x`) that does *not* match ignores the path at once, so a lone `!x`
//! hides every other file of the chart. The default rule, appended after
//! the file's rules, hides dotfiles directly under `templates/`.

use crate::glob::{BadPattern, go_match};

/// The file holding the rules, at the top of a chart folder.
pub const HELMIGNORE: &str = ".helmignore";

/// Appended after the file's own rules, as Helm does.
const DEFAULT_RULE: &str = "templates/.?*";

/// A rule Helm refuses; the words after the colon are Helm's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("line {line} ({rule:?}): double-star (**) syntax is not supported")]
    DoubleStar { line: usize, rule: String },
    #[error("line {line} ({rule:?}): syntax error in pattern")]
    Syntax { line: usize, rule: String },
}

/// Which part of the path a rule looks at.
#[derive(Debug, Clone)]
enum Scope {
    /// `/x`: the whole path from the chart's root.
    Rooted,
    /// `a/b`: the whole path, structurally.
    Path,
    /// `x`: the last element only.
    BaseName,
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    negate: bool,
    dirs_only: bool,
    scope: Scope,
}

/// A parsed `.helmignore`, defaults included.
#[derive(Debug, Clone)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Default for Rules {
    /// The rules of a chart folder without a `.helmignore`.
    fn default() -> Self {
        Self::parse("").expect("the default rule is valid")
    }
}

impl Rules {
    /// Parses the contents of a `.helmignore` (a leading UTF-8 BOM is
    /// dropped) and appends Helm's default rule.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rules = Vec::new();
        for (index, line) in text.lines().chain([DEFAULT_RULE]).enumerate() {
            if let Some(rule) = parse_rule(line, index + 1)? {
                rules.push(rule);
            }
        }
        Ok(Self { rules })
    }

    /// Whether Helm leaves out `path` (relative to the chart folder, `/`
    /// separated, no trailing `/`). An ignored directory hides all it holds.
    pub fn ignores(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for rule in &self.rules {
            if rule.dirs_only && !is_dir {
                if rule.negate {
                    return true;
                }
                continue;
            }
            let matched = rule.matches(path);
            if rule.negate {
                if !matched {
                    return true;
                }
            } else if matched {
                return true;
            }
        }
        false
    }
}

impl Rule {
    fn matches(&self, path: &str) -> bool {
        let subject = match self.scope {
            Scope::Rooted | Scope::Path => path,
            Scope::BaseName => path.rsplit('/').next().unwrap_or(path),
        };
        // Rules were checked when parsed; a late syntax error is a miss, as in Helm.
        go_match(&self.pattern, subject).unwrap_or(false)
    }
}

fn parse_rule(line: &str, number: usize) -> Result<Option<Rule>, RuleError> {
    // Go's TrimSpace: ASCII and Unicode white space at both ends.
    let raw = line.trim();
    if raw.is_empty() || raw.starts_with('#') {
        return Ok(None);
    }
    if raw.contains("**") {
        return Err(RuleError::DoubleStar {
            line: number,
            rule: raw.to_string(),
        });
    }
    // Helm test-compiles the rule as written, `!` and all, against a non-empty name.
    go_match(raw, "abc").map_err(|BadPattern| RuleError::Syntax {
        line: number,
        rule: raw.to_string(),
    })?;
    let (negate, rest) = match raw.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let (dirs_only, rest) = match rest.strip_suffix('/') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let (scope, pattern) = if let Some(rooted) = rest.strip_prefix('/') {
        (Scope::Rooted, rooted)
    } else if rest.contains('/') {
        (Scope::Path, rest)
    } else {
        (Scope::BaseName, rest)
    };
    Ok(Some(Rule {
        pattern: pattern.to_string(),
        negate,
        dirs_only,
        scope,
    }))
}
