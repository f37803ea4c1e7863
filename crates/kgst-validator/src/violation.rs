//! What the validator reports, and the value paths it reports them at.

use serde_json::Value;

/// One thing wrong with the values (mirrors the WIT `violation` record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Dotted value path as a user would `--set` it: `repo.spec.url`,
    /// `helm.charts[0].name`; empty for the root.
    pub path: String,
    /// What is wrong, quoting the bad value.
    pub message: String,
    /// How to fix it, with an example of a correct value.
    pub hint: String,
}

impl Violation {
    pub fn new(path: &ValuePath, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Violation {
            path: path.dotted(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// One step into the values tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A location in the values, printable both as Helm's JSON pointer and as a
/// `--set` style dotted path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValuePath(pub Vec<Step>);

impl ValuePath {
    pub fn root() -> Self {
        ValuePath(Vec::new())
    }

    /// `ValuePath::of("repo.spec.url")`; only for fixed, dot-separated keys.
    pub fn of(dotted: &str) -> Self {
        ValuePath(
            dotted
                .split('.')
                .map(|k| Step::Key(k.to_string()))
                .collect(),
        )
    }

    pub fn key(&self, key: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Key(key.to_string()));
        ValuePath(steps)
    }

    pub fn index(&self, index: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Index(index));
        ValuePath(steps)
    }

    pub fn dotted(&self) -> String {
        let mut out = String::new();
        for step in &self.0 {
            match step {
                Step::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// RFC 6901 pointer, as Helm v4 prints it in `at '/repo/name'`.
    pub fn pointer(&self) -> String {
        let mut out = String::new();
        for step in &self.0 {
            out.push('/');
            match step {
                Step::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
                Step::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
    }

    /// The value at this path, if every step exists.
    pub fn lookup<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        let mut here = root;
        for step in &self.0 {
            here = match step {
                Step::Key(k) => here.as_object()?.get(k)?,
                Step::Index(i) => here.as_array()?.get(*i)?,
            };
        }
        Some(here)
    }
}

/// The bad value as it should appear in a message: JSON, so that newlines,
/// quotes and control characters are visible, and cut short if long.
pub fn show(value: &Value) -> String {
    const LIMIT: usize = 120;
    let text = value.to_string();
    if text.chars().count() <= LIMIT {
        text
    } else {
        let cut: String = text.chars().take(LIMIT).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_print_dotted_and_as_pointer() {
        let p = ValuePath::of("helm.charts").index(0).key("name");
        assert_eq!(p.dotted(), "helm.charts[0].name");
        assert_eq!(p.pointer(), "/helm/charts/0/name");
        assert_eq!(ValuePath::root().pointer(), "");
        assert_eq!(ValuePath::root().key("a/b~").pointer(), "/a~1b~0");
    }

    #[test]
    fn lookup_walks_maps_and_lists() {
        let v = json!({"helm": {"charts": [{"name": "minio"}]}});
        let p = ValuePath::of("helm.charts").index(0).key("name");
        assert_eq!(p.lookup(&v), Some(&json!("minio")));
        assert_eq!(ValuePath::of("helm.nope").lookup(&v), None);
    }

    #[test]
    fn shown_values_make_control_characters_visible() {
        assert_eq!(show(&json!("a\nb")), "\"a\\nb\"");
        assert!(show(&json!("x".repeat(500))).ends_with('…'));
    }
}
