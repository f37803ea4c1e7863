//! Which charts may be rendered without a validator: any chart, with a
//! warning, except kgst, whose values decide what the cluster pulls.

use super::cli;

const CONFIG_MAP: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  chart: {{ .Values.chart | default \"none\" | quote }}
";

#[test]
fn a_kgst_version_no_validator_handles_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let chart = cli::chart(dir.path(), "kgst", "9.9.9", CONFIG_MAP);
    let out = cli::run(
        &[
            "template",
            "r",
            chart.to_str().unwrap(),
            "--set",
            "chart=anything",
        ],
        &[],
    );
    let stderr = cli::stderr(&out);
    assert!(
        !out.status.success(),
        "rendered unvalidated:\n{}",
        cli::stdout(&out)
    );
    assert!(
        stderr.contains("no validator plugin handles chart kgst 9.9.9")
            && stderr.contains("--plugin-dir")
            && stderr.contains("kgst-validator-v2 (kgst >=2.0.0, <3.0.0)"),
        "{stderr}"
    );
}

#[test]
fn another_chart_without_a_validator_renders_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let chart = cli::chart(dir.path(), "plain", "1.0.0", CONFIG_MAP);
    let out = cli::run(&["template", "r", chart.to_str().unwrap()], &[]);
    let stderr = cli::stderr(&out);
    let rendered = cli::ok(out);
    assert!(rendered.contains("chart: \"none\""), "{rendered}");
    assert!(
        stderr.contains("no validator plugin handles this chart") && stderr.contains("chart=plain"),
        "{stderr}"
    );
}
