//! Go text/template behaviours Helm charts depend on.

use super::{Budget, ExecEnv, Limits, TemplateSet, execute};
use crate::value::{Map, Value};

fn values(json: &str) -> Value {
    let mut root = Map::new();
    root.insert(
        "Values".into(),
        crate::value::from_json(&serde_json::from_str(json).unwrap()),
    );
    Value::map(root)
}

/// Runs on a big stack like `render` does, so deep recursion tests are meaningful.
fn run_with(files: &[(&str, &str)], name: &str, data: Value) -> Result<String, String> {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let name = name.to_string();
    let data = crate::json::encode(&data, false, None).expect("test data is JSON");
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            let data = crate::value::from_json(&serde_json::from_str(&data).unwrap());
            let refs: Vec<(&str, &str)> = files
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            run_inline(&refs, &name, data)
        })
        .unwrap()
        .join()
        .unwrap()
}

fn run_inline(files: &[(&str, &str)], name: &str, data: Value) -> Result<String, String> {
    let mut set = TemplateSet::default();
    for (n, src) in files {
        set.add_file(n, src).map_err(|e| e.0)?;
    }
    let budget = Budget::default();
    let env = ExecEnv {
        limits: Limits::default(),
        budget: &budget,
    };
    execute(&set, &env, name, data).map_err(|e| e.message().to_string())
}

fn run(src: &str, json: &str) -> Result<String, String> {
    run_with(&[("t", src)], "t", values(json))
}

#[test]
fn trim_markers() {
    assert_eq!(run("A{{ \" x \" }}B", "{}").unwrap(), "A x B");
    assert_eq!(run("C {{- \" x \" -}} D", "{}").unwrap(), "C x D");
    assert_eq!(
        run("L {{- \"\" }}   \n   {{- \"\" -}}   M", "{}").unwrap(),
        "LM"
    );
    assert_eq!(run("a {{- /* c */ -}} b", "{}").unwrap(), "ab");
}

#[test]
fn range_variables_and_scoping() {
    assert_eq!(
        run(
            "{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}",
            r#"{"m":{"b":2,"a":1}}"#
        )
        .unwrap(),
        "a=1;b=2;"
    );
    assert_eq!(
        run(
            "{{ $x := 1 }}{{ range .Values.l }}{{ $x = . }}{{ end }}{{ $x }}",
            r#"{"l":[3,4]}"#
        )
        .unwrap(),
        "4"
    );
    assert_eq!(
        run("{{ range .Values.none }}x{{ else }}empty{{ end }}", "{}").unwrap(),
        "empty"
    );
    assert_eq!(
        run(
            "{{ range .Values.l }}{{ if eq . 2 }}{{ break }}{{ end }}{{ . }}{{ end }}",
            r#"{"l":[1,2,3]}"#
        )
        .unwrap(),
        "1"
    );
    assert_eq!(run("{{ range 3 }}{{ . }}{{ end }}", "{}").unwrap(), "012");
    assert_eq!(
        run(
            "{{ with .Values.a }}{{ . }}{{ else }}none{{ end }}",
            r#"{"a":""}"#
        )
        .unwrap(),
        "none"
    );
}

#[test]
fn printing_follows_fmt() {
    assert_eq!(run("{{ .Values.missing }}", "{}").unwrap(), "<no value>");
    assert_eq!(run("{{ print .Values.missing }}", "{}").unwrap(), "<nil>");
    assert_eq!(
        run(
            "{{ .Values.m }} {{ .Values.l }}",
            r#"{"m":{"b":"x","a":1.5},"l":["c","a"]}"#
        )
        .unwrap(),
        "map[a:1.5 b:x] [c a]"
    );
    assert_eq!(
        run("{{ 1000000.0 }} {{ 3 }} {{ 1e3 }}", "{}").unwrap(),
        "1e+06 3 1000"
    );
}

#[test]
fn and_or_return_deciding_value() {
    assert_eq!(
        run(
            r#"{{ and 1 "x" }}|{{ and 0 "x" }}|{{ or 0 "" }}|{{ or .Values.m "fb" }}"#,
            "{}"
        )
        .unwrap(),
        "x|0||fb"
    );
    assert_eq!(
        run("{{ and .Values.missing .Values.missing.deeper }}", "{}").unwrap(),
        "<no value>"
    );
}

#[test]
fn errors_carry_go_positions() {
    let err = run("x\n  {{ $.Values.repo.spec.url }}", r#"{"repo":{}}"#).unwrap_err();
    assert_eq!(
        err,
        "template: t:2:6: executing \"t\" at <$.Values.repo.spec.url>: nil pointer evaluating interface {}.url"
    );
    let err = run("{{ hasPrefix \"oci\" .Values.repo.url }}", r#"{"repo":{}}"#).unwrap_err();
    assert_eq!(
        err,
        "template: t:1:26: executing \"t\" at <.Values.repo.url>: wrong type for value; expected string; got interface {}"
    );
    let err = run("  {{ fail \"boom\" }}", "{}").unwrap_err();
    assert_eq!(
        err,
        "template: t:1:5: executing \"t\" at <fail \"boom\">: error calling fail: HELM_ERR_STARTboomHELM_ERR_END"
    );
    assert!(
        run("{{ .Values.s.x }}", r#"{"s":"str"}"#)
            .unwrap_err()
            .ends_with("can't evaluate field x in type interface {}")
    );
    assert!(run("{{ $x := .Values.missing }}{{ $x.foo }}", "{}").is_ok());
}

#[test]
fn parse_errors_match_go() {
    assert_eq!(
        run("a\n{{ env \"x\" }}", "{}").unwrap_err(),
        "template: t:2: function \"env\" not defined"
    );
    assert_eq!(
        run("{{ $y }}", "{}").unwrap_err(),
        "template: t:1: undefined variable \"$y\""
    );
    assert!(
        run("{{ if 1 }}", "{}")
            .unwrap_err()
            .contains("unexpected EOF")
    );
}

#[test]
fn include_defines_and_recursion_cap() {
    let files = [(
        "a",
        r#"{{ define "x" }}[{{ . }}]{{ end }}{{ include "x" "v" | upper }}"#,
    )];
    assert_eq!(run_with(&files, "a", Value::Nil).unwrap(), "[V]");
    let files = [(
        "a",
        r#"{{ define "loop" }}{{ include "loop" . }}{{ end }}{{ include "loop" . }}"#,
    )];
    let err = run_with(&files, "a", Value::Nil).unwrap_err();
    assert!(err.contains("nested reference name: loop"), "{err}");
}

#[test]
fn tpl_renders_strings() {
    assert_eq!(
        run(
            r#"{{ tpl "{{ .Values.a }}-{{ .Values.b }}" . }}"#,
            r#"{"a":"x"}"#
        )
        .unwrap(),
        "x-"
    );
}

#[test]
fn range_budget_stops_runaway_loops() {
    let mut set = TemplateSet::default();
    set.add_file(
        "t",
        "{{ range until 1000 }}{{ range until 1000 }}{{ end }}{{ end }}",
    )
    .unwrap();
    let budget = Budget::default();
    let env = ExecEnv {
        limits: Limits {
            max_range_iterations: 10_000,
            ..Limits::default()
        },
        budget: &budget,
    };
    let err = execute(&set, &env, "t", Value::Nil).unwrap_err();
    assert!(
        err.message().contains("range iterations exceed"),
        "{}",
        err.message()
    );
}
