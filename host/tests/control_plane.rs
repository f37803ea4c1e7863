//! The test control plane itself: a real kube-apiserver with RBAC and the
//! product's CRDs, so later suites can trust it.

use k0rdent_test_harness::cluster::{ControlPlane, TEST_IDENTITIES};

#[test]
fn a_real_apiserver_with_rbac_and_the_products_crds() {
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    let version = plane.kubectl(&["version", "-o", "json"]);
    assert!(version.contains("\"gitVersion\": \"v1.20.2\""), "{version}");

    let resources = plane.kubectl(&[
        "api-resources",
        "--api-group=k0rdent.mirantis.com",
        "-o",
        "name",
    ]);
    assert!(
        resources.contains("servicetemplates.k0rdent.mirantis.com"),
        "{resources}"
    );

    plane.kubectl(&["create", "namespace", "kcm-system"]);
    plane.apply(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: k0rdent-catalog, namespace: kcm-system}\nspec: {type: oci, url: oci://ghcr.io/k0rdent/catalog/charts}\n",
    );
    plane.apply(
        "apiVersion: k0rdent.mirantis.com/v1beta1\nkind: ServiceTemplate\nmetadata: {name: minio-14-1-2, namespace: kcm-system}\nspec: {helm: {chartSpec: {chart: minio, version: 14.1.2, interval: 10m0s, sourceRef: {kind: HelmRepository, name: k0rdent-catalog}}}}\n",
    );
    let st = plane.kubectl(&[
        "get",
        "servicetemplates.v1beta1.k0rdent.mirantis.com",
        "-n",
        "kcm-system",
        "-o",
        "name",
    ]);
    assert_eq!(
        st.trim(),
        "servicetemplate.k0rdent.mirantis.com/minio-14-1-2"
    );

    // The CRD's schema is enforced by the server.
    let bad = plane.dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: bad, namespace: kcm-system}\nspec: {url: ftp://nope}\n").unwrap();
    let err = plane
        .kubectl_as(
            &plane.kubeconfig,
            &[
                "apply",
                "--validate=false",
                "-f",
                &bad.display().to_string(),
            ],
        )
        .unwrap_err();
    assert!(err.contains("spec.url"), "{err}");

    // RBAC decides: an identity with no bindings is forbidden.
    let (nobody_token, _, _) = TEST_IDENTITIES[2];
    let err = plane
        .kubectl_as(
            &plane.kubeconfig_for(nobody_token),
            &["get", "secrets", "-n", "kcm-system"],
        )
        .unwrap_err();
    assert!(
        err.contains("Forbidden") && err.contains("\"nobody\""),
        "{err}"
    );
}

/// The played Job controller finishes kgst's verify Job the way the real Job
/// would end: Complete when the chart it checks is in the (test) registry,
/// Failed otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_jobs_pass_only_for_charts_the_test_registry_holds() {
    use k0rdent_test_harness::charts;
    use k0rdent_test_harness::registry::Registry;

    let Some(registry) = Registry::plain() else {
        return;
    };
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    charts::push_chart(
        &registry.host(),
        "charts/present",
        "1.0.0",
        &charts::simple_chart("present", "1.0.0"),
        r#"{"apiVersion":"v2","name":"present","version":"1.0.0"}"#,
        &oci_client::secrets::RegistryAuth::Anonymous,
        true,
    )
    .await
    .unwrap();
    plane.kubectl(&["create", "namespace", "kcm-system"]);
    let job = |name: &str, chart: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: {name}, namespace: kcm-system}}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: verify-job\n        image: helm\n        command: [/bin/sh, -c, \"CHART_FULL=\\\"oci://{}/charts/{chart}\\\"\\nVERSION=\\\"1.0.0\\\"\\nhelm pull $CHART_FULL --version $VERSION\"]\n",
            registry.host()
        )
    };
    plane.apply(&job("verify-present", "present"));
    plane.apply(&job("verify-absent", "absent"));
    let _controllers = plane.play_controllers("no-marker");
    let condition = |name: &str| {
        plane.kubectl(&[
            "get",
            "job",
            name,
            "-n",
            "kcm-system",
            "-o",
            "jsonpath={.status.conditions[0].type}",
        ])
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while (condition("verify-present").is_empty() || condition("verify-absent").is_empty())
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(condition("verify-present"), "Complete");
    assert_eq!(condition("verify-absent"), "Failed");
}
