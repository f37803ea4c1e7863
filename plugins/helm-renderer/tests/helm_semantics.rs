//! Helm rendering semantics beyond what kgst exercises: values coalescing
//! with subcharts and globals, `.Files`, partials, NOTES, output order and
//! error locations. Expected texts follow Helm v4 behaviour.

use helm_renderer::{
    CapabilitiesInfo, ChartFile, Limits, ReleaseInfo, RenderError, RenderRequest, RenderedChart,
    render,
};

fn render_files(files: &[(&str, &str)], values_json: &str) -> Result<RenderedChart, RenderError> {
    let request = RenderRequest {
        files: files
            .iter()
            .map(|(p, d)| ChartFile {
                path: p,
                data: d.as_bytes(),
            })
            .collect(),
        values_json,
        release: ReleaseInfo {
            name: "rel".into(),
            namespace: "ns".into(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
            service: "Helm".into(),
        },
        capabilities: CapabilitiesInfo {
            kube_version: "v1.33.0".into(),
            api_versions: vec!["apps/v1".into(), "apps/v1/Deployment".into()],
            helm_version: "v4.1.4".into(),
        },
        limits: Limits::default(),
    };
    render(&request)
}

fn print(out: &RenderedChart) -> String {
    out.manifests
        .iter()
        .map(|m| format!("---\n# Source: {}\n{}\n", m.source, m.content))
        .collect()
}

const CHART: &str = "apiVersion: v2\nname: app\nversion: 1.2.3\nappVersion: \"9.9\"\n";

#[test]
fn values_coalesce_with_subcharts_and_globals() {
    let files = [
        ("app/Chart.yaml", CHART),
        (
            "app/values.yaml",
            "global:\n  region: eu\nreplicas: 2\nnested:\n  keep: yes\n  drop: x\nsub:\n  fromParent: p\n",
        ),
        (
            "app/templates/cm.yaml",
            "a: {{ .Values.replicas }}\nb: {{ .Values.nested | toYaml | nindent 2 }}\n",
        ),
        (
            "app/charts/sub/Chart.yaml",
            "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
        ),
        (
            "app/charts/sub/values.yaml",
            "own: o\nfromParent: default\n",
        ),
        (
            "app/charts/sub/templates/s.yaml",
            "region: {{ .Values.global.region }}\nown: {{ .Values.own }}\np: {{ .Values.fromParent }}\nchart: {{ .Chart.Name }}-{{ .Chart.IsRoot }}\n",
        ),
    ];
    let out = render_files(
        &files,
        r#"{"nested":{"drop":null,"add":1000000},"global":{"region":"us"}}"#,
    )
    .unwrap();
    assert_eq!(
        print(&out),
        "---\n# Source: app/charts/sub/templates/s.yaml\nregion: us\nown: o\np: p\nchart: sub-false\n---\n# Source: app/templates/cm.yaml\na: 2\nb: \n  add: 1000000\n  keep: true\n"
    );
}

#[test]
fn partials_notes_blank_files_and_template_info() {
    let files = [
        ("app/Chart.yaml", CHART),
        (
            "app/templates/_helpers.tpl",
            "{{- define \"app.name\" -}}{{ .Chart.Name }}-{{ .Release.Name }}{{- end -}}",
        ),
        (
            "app/templates/NOTES.txt",
            "Installed {{ include \"app.name\" . }} in {{ .Release.Namespace }}",
        ),
        (
            "app/templates/empty.yaml",
            "{{- if false }}\nkind: X\n{{- end }}\n  \n",
        ),
        (
            "app/templates/info.yaml",
            "name: {{ .Template.Name }}\nbase: {{ .Template.BasePath }}\nkube: {{ .Capabilities.KubeVersion }}\nhas: {{ .Capabilities.APIVersions.Has \"apps/v1\" }}\napp: {{ .Chart.AppVersion }}\n",
        ),
    ];
    let out = render_files(&files, "{}").unwrap();
    assert_eq!(out.notes.as_deref(), Some("Installed app-rel in ns"));
    assert_eq!(out.manifests.len(), 1);
    assert_eq!(
        out.manifests[0].content,
        "name: app/templates/info.yaml\nbase: app/templates\nkube: v1.33.0\nhas: true\napp: 9.9"
    );
}

#[test]
fn files_object() {
    let files = [
        ("app/Chart.yaml", CHART),
        ("app/conf/a.conf", "x=1\n"),
        ("app/conf/b.conf", "y=2\n"),
        (
            "app/templates/cm.yaml",
            "data:\n{{ (.Files.Glob \"conf/*.conf\").AsConfig | indent 2 }}\nlines: {{ .Files.Lines \"conf/a.conf\" }}\nraw: {{ .Files.Get \"conf/b.conf\" | quote }}\nsecret: {{ (.Files.Glob \"conf/a.conf\").AsSecrets | quote }}\n",
        ),
    ];
    let out = render_files(&files, "{}").unwrap();
    assert_eq!(
        out.manifests[0].content,
        "data:\n  a.conf: |\n    x=1\n  b.conf: |\n    y=2\nlines: [x=1]\nraw: \"y=2\\n\"\nsecret: \"a.conf: eD0xCg==\""
    );
}

#[test]
fn documents_sorted_by_kind_with_hooks_last() {
    let files = [
        ("app/Chart.yaml", CHART),
        (
            "app/templates/a.yaml",
            "kind: Deployment\n---\nkind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: post-install\n",
        ),
        (
            "app/templates/b.yaml",
            "# only a comment\nkind: ConfigMap\n---\n---\nkind: Service\n",
        ),
    ];
    let out = render_files(&files, "{}").unwrap();
    let seen: Vec<(&str, &str)> = out
        .manifests
        .iter()
        .map(|m| (m.source.as_str(), m.content.lines().last().unwrap()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("app/templates/b.yaml", "kind: ConfigMap"),
            ("app/templates/b.yaml", "kind: Service"),
            ("app/templates/a.yaml", "kind: Deployment"),
            ("app/templates/a.yaml", "    helm.sh/hook: post-install"),
        ]
    );
}

#[test]
fn fail_inside_include_reports_the_outer_call_site() {
    let files = [
        ("app/Chart.yaml", CHART),
        (
            "app/templates/_h.tpl",
            "{{ define \"boom\" }}{{ fail \"nope\" }}{{ end }}",
        ),
        (
            "app/templates/x.yaml",
            "a: 1\nb: {{ include \"boom\" . }}\n",
        ),
    ];
    let err = render_files(&files, "{}").unwrap_err();
    assert_eq!(
        err.message,
        "execution error at (app/templates/x.yaml:2:6): nope"
    );
    assert_eq!(
        (err.template.as_deref(), err.line, err.column),
        (Some("app/templates/x.yaml"), Some(2), Some(6))
    );
}

#[test]
fn exec_errors_use_helm_v4_trace_format() {
    let files = [
        ("app/Chart.yaml", CHART),
        (
            "app/templates/_h.tpl",
            "{{ define \"inner\" }}{{ .missing.field }}{{ end }}",
        ),
        (
            "app/templates/x.yaml",
            "v: {{ include \"inner\" .Values }}\n",
        ),
    ];
    let err = render_files(&files, "{}").unwrap_err();
    assert_eq!(
        err.message,
        "app/templates/x.yaml:1:6\n  executing \"app/templates/x.yaml\" at <include \"inner\" .Values>:\n    error calling include:\napp/templates/_h.tpl:1:31\n  executing \"inner\" at <.missing.field>:\n    nil pointer evaluating interface {}.field"
    );
}

#[test]
fn parse_errors_and_unknown_functions() {
    let files = [
        ("app/Chart.yaml", CHART),
        ("app/templates/x.yaml", "a\n{{ env \"HOME\" }}\n"),
    ];
    let err = render_files(&files, "{}").unwrap_err();
    assert_eq!(
        err.message,
        "parse error at (app/templates/x.yaml:2): function \"env\" not defined"
    );
}

#[test]
fn disabled_dependency_is_not_rendered() {
    let files = [
        (
            "app/Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: sub\n  version: 0.1.0\n  condition: sub.enabled\n",
        ),
        (
            "app/charts/sub/Chart.yaml",
            "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
        ),
        ("app/charts/sub/templates/s.yaml", "kind: Sub\n"),
    ];
    assert_eq!(
        render_files(&files, r#"{"sub":{"enabled":false}}"#)
            .unwrap()
            .manifests
            .len(),
        0
    );
    assert_eq!(
        render_files(&files, r#"{"sub":{"enabled":true}}"#)
            .unwrap()
            .manifests
            .len(),
        1
    );
}

#[test]
fn runaway_include_recursion_is_bounded() {
    let files = [
        ("app/Chart.yaml", CHART),
        (
            "app/templates/x.yaml",
            "{{ define \"r\" }}{{ include \"r\" . }}{{ end }}{{ include \"r\" . }}",
        ),
    ];
    let err = render_files(&files, "{}").unwrap_err();
    assert!(
        err.message.contains(
            "rendering template has a nested reference name: r: unable to execute template"
        ),
        "{}",
        &err.message[..200.min(err.message.len())]
    );
}

/// `charts/db-1.0.0.tgz` as `helm package` would store it (chart `db`, value `port: 5432`).
const PACKAGED_DB: &[u8] = include_bytes!("fixtures/db-1.0.0.tgz");

fn render_bytes(files: &[(&str, &[u8])], values_json: &str) -> Result<RenderedChart, RenderError> {
    let request = RenderRequest {
        files: files
            .iter()
            .map(|(p, d)| ChartFile { path: p, data: d })
            .collect(),
        values_json,
        release: ReleaseInfo {
            name: "rel".into(),
            namespace: "ns".into(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
            service: "Helm".into(),
        },
        capabilities: CapabilitiesInfo {
            kube_version: "v1.33.0".into(),
            api_versions: Vec::new(),
            helm_version: "v4.1.4".into(),
        },
        limits: Limits::default(),
    };
    render(&request)
}

#[test]
fn packaged_subcharts_and_aliases() {
    let chart = b"apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: db\n  version: 1.0.0\n- name: db\n  version: 1.0.0\n  alias: replica\n";
    let files: [(&str, &[u8]); 2] = [
        ("app/Chart.yaml", chart),
        ("app/charts/db-1.0.0.tgz", PACKAGED_DB),
    ];
    let out = render_bytes(&files, r#"{"replica":{"port":6000}}"#).unwrap();
    let got: Vec<(String, String)> = out
        .manifests
        .into_iter()
        .map(|m| (m.source, m.content))
        .collect();
    assert_eq!(
        got,
        vec![
            ("app/charts/db/templates/cm.yaml".to_string(), "kind: ConfigMap\nport: 5432\nname: db\npath: app/charts/db/templates/cm.yaml".to_string()),
            (
                "app/charts/replica/templates/cm.yaml".to_string(),
                "kind: ConfigMap\nport: 6000\nname: replica\npath: app/charts/replica/templates/cm.yaml".to_string()
            ),
        ]
    );
}
