//! Idioms found in typical Helm charts (`helm create` helpers and friends),
//! with the output Helm produces for them.

use helm_renderer::{
    CapabilitiesInfo, ChartFile, Limits, ReleaseInfo, RenderEnvironment, RenderRequest, render_in,
};

fn render_one(template: &str, values_json: &str) -> Result<String, String> {
    render_one_in(template, values_json, &RenderEnvironment::deterministic())
}

fn render_one_in(
    template: &str,
    values_json: &str,
    environment: &RenderEnvironment,
) -> Result<String, String> {
    let files = [
        (
            "app/Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 0.1.0\nappVersion: \"1.16.0\"\n",
        ),
        (
            "app/values.yaml",
            "image:\n  repository: nginx\n  tag: \"\"\nreplicaCount: 1\nlabels: {}\n",
        ),
        (
            "app/templates/_helpers.tpl",
            r#"{{- define "app.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- define "app.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}"#,
        ),
        ("app/templates/t.yaml", template),
    ];
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
            name: "web".into(),
            namespace: "prod".into(),
            revision: 3,
            is_install: false,
            is_upgrade: true,
            service: "Helm".into(),
        },
        capabilities: CapabilitiesInfo {
            kube_version: "v1.33.4-gke.100".into(),
            api_versions: vec!["networking.k8s.io/v1".into()],
            helm_version: "v4.1.4".into(),
        },
        limits: Limits::default(),
    };
    render_in(&request, environment)
        .map(|o| {
            o.manifests
                .into_iter()
                .map(|m| m.content)
                .collect::<Vec<_>>()
                .join("\n---\n")
        })
        .map_err(|e| e.message)
}

fn check(template: &str, values: &str, want: &str) {
    assert_eq!(
        render_one(template, values).as_deref(),
        Ok(want),
        "template: {template}"
    );
}

#[test]
fn helm_create_helpers() {
    check(
        "name: {{ include \"app.fullname\" . }}\nlabels:\n  {{- include \"app.labels\" . | nindent 2 }}\nimage: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"",
        "{}",
        "name: web-app\nlabels:\n  app.kubernetes.io/name: app\n  app.kubernetes.io/version: \"1.16.0\"\nimage: \"nginx:1.16.0\"",
    );
}

#[test]
fn capabilities_and_release() {
    check(
        "a: {{ semverCompare \">=1.19-0\" .Capabilities.KubeVersion.GitVersion }}\nb: {{ .Capabilities.KubeVersion }}\nc: {{ .Capabilities.KubeVersion.Minor }}\nd: {{ .Capabilities.APIVersions.Has \"networking.k8s.io/v1\" }}\ne: {{ .Release.Revision }}-{{ .Release.IsUpgrade }}",
        "{}",
        "a: true\nb: v1.33.4\nc: 33\nd: true\ne: 3-true",
    );
}

#[test]
fn sprig_strings_lists_dicts() {
    check(
        "a: {{ list 1 \"b\" 3 | join \",\" }}\nb: {{ dict \"z\" 1 \"a\" (list true nil) | toJson }}\nc: {{ regexReplaceAll \"[^a-z]\" \"A-b_c\" \"\" }}\nd: {{ b64enc \"hi\" }}\ne: {{ ternary \"x\" \"y\" false }}\nf: {{ until 3 }}\ng: {{ \"a.b.c\" | splitList \".\" | last }}\nh: '{{ printf \"%d\" 3.0 }}'\ni: {{ sha256sum \"x\" | trunc 8 }}",
        "{}",
        "a: 1,b,3\nb: {\"a\":[true,null],\"z\":1}\nc: bc\nd: aGk=\ne: y\nf: [0 1 2]\ng: c\nh: '%!d(float64=3)'\ni: 2d711642",
    );
}

#[test]
fn set_mutates_and_merge_fills() {
    check(
        "{{- $d := dict \"a\" 1 }}{{- $_ := set $d \"b\" 2 }}{{- $m := merge (dict \"a\" 9 \"c\" 3) $d }}a: {{ $d }}\nb: {{ $m }}\nc: {{ keys $m | sortAlpha }}",
        "{}",
        "a: map[a:1 b:2]\nb: map[a:9 b:2 c:3]\nc: [a b c]",
    );
}

#[test]
fn to_yaml_of_values() {
    check(
        "spec:\n  {{- toYaml .Values | nindent 2 }}",
        r#"{"extra":{"on":"yes","list":[1,2.5,"3"],"long":"word word word word word word word word word word word word word word word word word"}}"#,
        "spec:\n  extra:\n    list:\n    - 1\n    - 2.5\n    - \"3\"\n    long: word word word word word word word word word word word word word word word\n      word word\n    \"on\": \"yes\"\n  image:\n    repository: nginx\n    tag: \"\"\n  labels: {}\n  replicaCount: 1",
    );
}

#[test]
fn tpl_and_required_messages() {
    check(
        "v: {{ tpl .Values.t . }}",
        r#"{"t":"{{ .Release.Name }}-x"}"#,
        "v: web-x",
    );
    assert_eq!(
        render_one("v: {{ required \"set .Values.x\" .Values.x }}", "{}"),
        Err("execution error at (app/templates/t.yaml:1:6): set .Values.x".to_string())
    );
}

#[test]
fn hostile_inputs_fail_cleanly() {
    let err = render_one(
        "{{ $d := dict }}{{ $_ := set $d \"self\" $d }}{{ toYaml $d }}",
        "{}",
    )
    .unwrap_err();
    assert!(
        err.contains("the value contains the dictionary itself"),
        "{err}"
    );
    let err = render_one("{{ repeat 100000000 \"xxxxxxxx\" }}", "{}").unwrap_err();
    assert!(err.contains("exceeds the limit"), "{err}");
    let err = render_one(
        "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}",
        "{}",
    )
    .unwrap_err();
    assert!(err.contains("range iterations exceed the limit"), "{err}");
}

#[test]
fn the_hosts_entropy_and_time_drive_random_functions_and_now() {
    let template = "a: {{ now | date \"2006-01-02\" }}\nb: {{ randAlphaNum 16 }}\nc: {{ uuidv4 }}\nd: {{ randInt 5 10 }}";
    let environment = |seed: u8| RenderEnvironment {
        entropy: vec![seed; 32],
        now_unix_seconds: 1_764_892_800,
    };
    let one = render_one_in(template, "{}", &environment(1)).unwrap();
    assert_eq!(render_one_in(template, "{}", &environment(1)).unwrap(), one);
    let other = render_one_in(template, "{}", &environment(2)).unwrap();
    assert_ne!(one, other);
    for out in [&one, &other] {
        assert!(out.starts_with("a: 2025-12-05\nb: "), "{out}");
        let uuid = out.lines().nth(2).unwrap().trim_start_matches("c: ");
        assert_eq!(uuid.len(), 36, "{uuid}");
        assert_eq!(&uuid[14..15], "4", "{uuid}");
        let d: i64 = out.lines().nth(3).unwrap()[3..].parse().unwrap();
        assert!((5..10).contains(&d), "{d}");
    }
}

#[test]
fn deterministic_stand_ins_for_time_and_randomness() {
    let first = render_one(
        "a: {{ now | date \"2006-01-02\" }}\nb: {{ randAlphaNum 8 }}\nc: {{ uuidv4 }}",
        "{}",
    )
    .unwrap();
    assert!(first.starts_with("a: 1970-01-01\nb: "), "{first}");
    assert_eq!(
        render_one(
            "a: {{ now | date \"2006-01-02\" }}\nb: {{ randAlphaNum 8 }}\nc: {{ uuidv4 }}",
            "{}"
        )
        .unwrap(),
        first
    );
    // Key material comes from the same seeded stream: the same deterministic render, the same key.
    let key = "a: {{ genPrivateKey \"ed25519\" | quote }}";
    let pem = render_one(key, "{}").unwrap();
    assert!(
        pem.starts_with("a: \"-----BEGIN PRIVATE KEY-----\\n"),
        "{pem}"
    );
    assert_eq!(render_one(key, "{}").unwrap(), pem);
}
