//! Short, bounded descriptions of where an answer differs from the expected
//! one: the first differing path, with both sides cut to a readable length.

use serde_json::Value;

/// Longest rendering of one side of a difference.
const SIDE_LIMIT: usize = 160;

fn cut(text: &str) -> String {
    match text.char_indices().nth(SIDE_LIMIT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

fn shown(value: Option<&Value>) -> String {
    match value {
        None => "(absent)".into(),
        Some(value) => cut(&value.to_string()),
    }
}

/// The first path where `got` differs from `expected`, or `None` when equal.
pub fn json(expected: &Value, got: &Value) -> Option<String> {
    first_difference(expected, got, "").map(|(path, want, have)| {
        let path = if path.is_empty() { "(root)" } else { &path };
        format!("at {path}: expected {want}, got {have}")
    })
}

fn first_difference(expected: &Value, got: &Value, path: &str) -> Option<(String, String, String)> {
    match (expected, got) {
        (Value::Object(want), Value::Object(have)) => {
            let mut keys: Vec<&String> = want.keys().chain(have.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|key| {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (want.get(key), have.get(key)) {
                    (Some(w), Some(h)) => first_difference(w, h, &child),
                    (w, h) => Some((child, shown(w), shown(h))),
                }
            })
        }
        (Value::Array(want), Value::Array(have)) if want.len() == have.len() => want
            .iter()
            .zip(have)
            .enumerate()
            .find_map(|(i, (w, h))| first_difference(w, h, &format!("{path}[{i}]"))),
        (w, h) if w == h => None,
        (w, h) => Some((path.to_string(), shown(Some(w)), shown(Some(h)))),
    }
}

/// The first differing line of two texts, or `None` when equal.
pub fn text(expected: &str, got: &str) -> Option<String> {
    if expected == got {
        return None;
    }
    let mut want = expected.lines();
    let mut have = got.lines();
    let mut line = 1;
    loop {
        match (want.next(), have.next()) {
            (Some(w), Some(h)) if w == h => line += 1,
            (w, h) => {
                let side =
                    |s: Option<&str>| s.map_or("(end)".to_string(), |s| cut(&format!("{s:?}")));
                return Some(format!(
                    "line {line}: expected {}, got {}",
                    side(w),
                    side(h)
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_first_differing_path() {
        let want = json!({"chart": "minio:14.1.2", "repo": {"url": "a"}});
        let got = json!({"chart": "minio:14.1.2", "repo": {"url": "b"}, "prefix": "p-"});
        assert_eq!(
            json(&want, &got).unwrap(),
            "at prefix: expected (absent), got \"p-\""
        );
        assert_eq!(json(&want, &want), None);
        assert_eq!(
            json(&json!([1, 2]), &json!([1, 3])).unwrap(),
            "at [1]: expected 2, got 3"
        );
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(5000);
        let diff = json(&json!({"a": long}), &json!({"a": 1})).unwrap();
        assert!(diff.len() < 400, "{diff}");
    }

    #[test]
    fn names_the_first_differing_line() {
        assert_eq!(
            text("a\nb\nc", "a\nB\nc").unwrap(),
            "line 2: expected \"b\", got \"B\""
        );
        assert_eq!(
            text("a", "a\nb").unwrap(),
            "line 2: expected (end), got \"b\""
        );
        assert_eq!(text("a", "a"), None);
    }
}
