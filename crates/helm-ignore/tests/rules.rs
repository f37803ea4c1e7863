//! `.helmignore` rules against what helm v4.1.4 loads from a chart folder
//! (checked by hand with `helm template` on the same rules; the recorded
//! conformance case `helmignore` covers the whole load).

use helm_ignore::{RuleError, Rules};

fn rules(text: &str) -> Rules {
    Rules::parse(text).expect("valid rules")
}

#[test]
fn defaults_hide_dotfiles_directly_under_templates() {
    let r = Rules::default();
    assert!(r.ignores("templates/.hidden.yaml", false));
    assert!(r.ignores("templates/.git", true));
    assert!(!r.ignores("templates/sub/.nested.yaml", false));
    assert!(!r.ignores("templates/deploy.yaml", false));
    assert!(!r.ignores(".helmignore", false));
    assert!(!r.ignores("templates/.", false));
}

#[test]
fn plain_rules_match_the_last_element_anywhere() {
    let r = rules("*.txt\nBUILD\n");
    assert!(r.ignores("a.txt", false));
    assert!(r.ignores("docs/deep/a.txt", false));
    assert!(r.ignores("charts/sub/BUILD", false));
    assert!(!r.ignores("a.txt.bak", false));
}

#[test]
fn rules_with_a_slash_match_the_whole_path() {
    let r = rules("templates/*.md\n/notes.md\n");
    assert!(r.ignores("templates/README.md", false));
    assert!(!r.ignores("templates/sub/README.md", false));
    assert!(r.ignores("notes.md", false));
    assert!(!r.ignores("docs/notes.md", false));
}

#[test]
fn a_trailing_slash_matches_directories_only() {
    let r = rules("tests/\n");
    assert!(r.ignores("tests", true));
    assert!(!r.ignores("tests", false));
    assert!(r.ignores("charts/sub/tests", true));
}

#[test]
fn a_negated_rule_ignores_everything_it_does_not_match() {
    // Helm's own evaluation: `!keep.txt` alone leaves out Chart.yaml too.
    let r = rules("!keep.txt\n");
    assert!(r.ignores("Chart.yaml", false));
    assert!(!r.ignores("keep.txt", false));
    // A negated directory rule ignores every file.
    let r = rules("!templates/\n");
    assert!(r.ignores("Chart.yaml", false));
    assert!(!r.ignores("templates", true));
    // A positive rule before it still wins for what it matches.
    let r = rules("*.txt\n!*.txt\n");
    assert!(r.ignores("keep.txt", false));
}

#[test]
fn comments_blank_lines_spaces_and_a_bom_are_skipped() {
    let r = rules("\u{feff}# a comment\n\n   *.bak   \r\n");
    assert!(r.ignores("x.bak", false));
    assert!(!r.ignores("# a comment", false));
}

#[test]
fn helm_refuses_double_stars_and_bad_patterns_naming_the_line() {
    let e = Rules::parse("ok\n**/x\n").unwrap_err();
    assert_eq!(
        e,
        RuleError::DoubleStar {
            line: 2,
            rule: "**/x".into()
        }
    );
    assert!(
        e.to_string()
            .contains("double-star (**) syntax is not supported")
    );
    for bad in ["[", "a\\", "[]", "[a-]", "!["] {
        let e = Rules::parse(bad).unwrap_err();
        assert!(
            matches!(e, RuleError::Syntax { line: 1, .. }),
            "{bad:?} gave {e:?}"
        );
        assert!(e.to_string().ends_with("syntax error in pattern"));
    }
}
