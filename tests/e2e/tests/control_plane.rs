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
