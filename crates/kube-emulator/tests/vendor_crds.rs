//! Every vendor CRD under `../shared/vendor-crds` loads (one release directory per vendor at a
//! time); a valid object of each served kind is accepted and one that violates the vendor's
//! schema gets 422 with the field path — on the emulator and on a real kube-apiserver (which
//! checks structural schemas and compiles CEL within its cost budget). Skips with a notice when
//! the folder is absent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::backend::Backend;
use kube_emulator::{ApiRequest, ApiResponse, Emulator};
use serde_json::{Value, json};

async fn create(emu: &Backend, api_version: &str, plural: &str, object: &Value) -> (u16, Value) {
    let prefix = if api_version.contains('/') { format!("/apis/{api_version}") } else { format!("/api/{api_version}") };
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, "application/json".parse().unwrap());
    let request = ApiRequest {
        method: http::Method::POST,
        path: format!("{prefix}/namespaces/default/{plural}"),
        query: "fieldValidation=Strict".to_owned(),
        headers,
        body: Bytes::from(object.to_string()),
    };
    match emu.handle(request).await {
        ApiResponse::Full { status, body, .. } => (status, serde_json::from_slice(&body).unwrap()),
        ApiResponse::Stream { .. } => unreachable!(),
    }
}

/// (release dir, apiVersion, plural, valid spec, invalid spec, expected field of the error)
fn cases() -> Vec<(&'static str, &'static str, &'static str, Value, Value, &'static str)> {
    let listeners = json!([{"name": "plain", "port": 9092, "type": "internal", "tls": false}]);
    let mut out = Vec::new();
    for (release, version) in [
        ("strimzi/0.48.0", "v1beta2"),
        ("strimzi/0.51.0", "v1beta2"),
        ("strimzi/0.51.0", "v1"),
        ("strimzi/1.2.0", "v1"),
    ] {
        let av: &'static str = Box::leak(format!("kafka.strimzi.io/{version}").into_boxed_str());
        out.push((
            release,
            av,
            "kafkas",
            json!({"kafka": {"listeners": listeners}}),
            json!({"kafka": {"listeners": [{"name": "plain", "port": 9092, "type": "bogus", "tls": false}]}}),
            "spec.kafka.listeners[0].type",
        ));
        out.push((
            release,
            av,
            "kafkanodepools",
            json!({"replicas": 1, "roles": ["broker"], "storage": {"type": "ephemeral"}}),
            json!({"replicas": 1, "roles": ["leader"], "storage": {"type": "ephemeral"}}),
            "spec.roles[0]",
        ));
    }
    out.push((
        "percona-xtradb-cluster/v1.18.0",
        "pxc.percona.com/v1",
        "perconaxtradbclusters",
        json!({"crVersion": "1.18.0", "pxc": {"size": 3, "image": "percona/percona-xtradb-cluster:8.0"}}),
        json!({"pxc": {"size": "three"}}),
        "spec.pxc.size",
    ));
    for release in ["opstree-redis/v0.22.1", "opstree-redis/v0.26.0"] {
        out.push((
            release,
            "redis.redis.opstreelabs.in/v1beta2",
            "redis",
            json!({"kubernetesConfig": {"image": "quay.io/opstree/redis:v7.0.15"}}),
            json!({"kubernetesConfig": {}}),
            "spec.kubernetesConfig.image",
        ));
        out.push((
            release,
            "redis.redis.opstreelabs.in/v1beta2",
            "redisreplications",
            json!({"clusterSize": 3, "kubernetesConfig": {"image": "r"}}),
            json!({"kubernetesConfig": {"image": "r"}}),
            "spec.clusterSize",
        ));
        out.push((release, "redis.redis.opstreelabs.in/v1beta2", "redissentinels", json!({"clusterSize": 3, "kubernetesConfig": {"image": "s"}, "redisSentinelConfig": {"redisReplicationName": "r"}}), json!({"clusterSize": 3, "kubernetesConfig": {"image": "s"}, "redisSentinelConfig": {}}), "spec.redisSentinelConfig.redisReplicationName"));
    }
    out.push(("minio/master-0ee2c254", "minio.min.io/v2", "tenants", json!({"pools": [{"name": "pool-0", "servers": 1, "volumesPerServer": 1, "volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}]}), json!({"pools": [{"name": "pool-0", "volumesPerServer": 1, "volumeClaimTemplate": {}}]}), "spec.pools[0].servers"));
    out.push((
        "altinity-clickhouse/0.25.6",
        "clickhouse.altinity.com/v1",
        "clickhouseinstallations",
        json!({"configuration": {"clusters": [{"name": "cluster", "layout": {"shardsCount": 1, "replicasCount": 1}}]}}),
        json!({"configuration": {"clusters": [{"name": "this-name-is-too-long-for-altinity"}]}}),
        "spec.configuration.clusters[0].name",
    ));
    out.push((
        "altinity-clickhouse/0.25.6",
        "clickhouse-keeper.altinity.com/v1",
        "clickhousekeeperinstallations",
        json!({"configuration": {"clusters": [{"name": "keeper", "layout": {"replicasCount": 3}}]}}),
        json!({"configuration": {"clusters": [{"name": "keeper", "layout": {"replicasCount": "three"}}]}}),
        "spec.configuration.clusters[0].layout.replicasCount",
    ));
    out
}

#[tokio::test]
async fn every_vendor_crd_loads_and_enforces_its_schema() {
    let Some(root) = common::vendor_crds_dir() else { return };
    // Every release directory loads on its own.
    for vendor in std::fs::read_dir(&root).unwrap().flatten().filter(|e| e.path().is_dir()) {
        for release in std::fs::read_dir(vendor.path()).unwrap().flatten().filter(|e| e.path().is_dir()) {
            let emu = Emulator::default();
            let count = emu.load_crds(&release.path()).unwrap_or_else(|e| panic!("{}: {e}", release.path().display()));
            assert!(count > 0, "{}", release.path().display());
        }
    }
    let mut checked = 0;
    for (release, api_version, plural, valid, invalid, field) in cases() {
        let emu = Emulator::default();
        emu.load_crds(&root.join(release)).unwrap();
        let kind = emu
            .registry()
            .types()
            .iter()
            .find(|t| t.plural == plural && t.api_version() == api_version)
            .unwrap_or_else(|| panic!("{release}: {api_version} {plural} not served"))
            .kind
            .clone();
        check_case(&Backend::Emulated(emu), release, api_version, plural, &kind, (&valid, &invalid, field)).await;
        checked += 1;
    }
    assert_eq!(checked, cases().len());
}

/// A valid object is created (201), an invalid one refused with 422 naming `field`.
async fn check_case(
    backend: &Backend,
    release: &str,
    api_version: &str,
    plural: &str,
    kind: &str,
    (valid, invalid, field): (&Value, &Value, &str),
) {
    let object = |spec: &Value, name: &str| json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, "spec": spec});
    let (code, body) = create(
        backend,
        api_version,
        plural,
        &object(valid, &format!("good-{}", api_version.rsplit('/').next().unwrap_or("v"))),
    )
    .await;
    assert_eq!(code, 201, "{release} {plural}: valid object rejected: {body}");
    let (code, body) = create(backend, api_version, plural, &object(invalid, "bad")).await;
    assert_eq!(code, 422, "{release} {plural}: invalid object accepted: {body}");
    let causes = body["details"]["causes"].as_array().cloned().unwrap_or_default();
    let fields: Vec<&str> = causes.iter().filter_map(|c| c["field"].as_str()).collect();
    assert!(fields.contains(&field), "{release} {plural}: expected {field}, got {fields:?}");
}

/// Each release on a real control plane of its own (a later release may drop a version an
/// earlier one stored, which a real server refuses to replace).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vendor_crd_installs_on_a_real_api_server_and_enforces_its_schema() {
    let Some(root) = common::vendor_crds_dir() else { return };
    let mut releases: Vec<std::path::PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|vendor| std::fs::read_dir(vendor.path()).unwrap().flatten().map(|r| r.path()))
        .filter(|p| p.is_dir())
        .collect();
    releases.sort();
    let mut checked = 0;
    for release in releases {
        let backend = Backend::real().await;
        let Backend::Real { client, .. } = &backend else { unreachable!() };
        let crds = kube_control_plane::read_crd_files(std::slice::from_ref(&release)).unwrap();
        assert!(!crds.is_empty(), "{}", release.display());
        kube_control_plane::install_crds(client, &crds).await.unwrap_or_else(|e| panic!("{}: {e}", release.display()));
        let name = release.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        for (case_release, api_version, plural, valid, invalid, field) in cases() {
            if case_release != name {
                continue;
            }
            let kind = crds
                .iter()
                .find(|c| c["spec"]["names"]["plural"] == plural)
                .and_then(|c| c["spec"]["names"]["kind"].as_str())
                .unwrap_or_else(|| panic!("{name}: {plural} not in the CRDs"))
                .to_owned();
            check_case(&backend, &name, api_version, plural, &kind, (&valid, &invalid, field)).await;
            checked += 1;
        }
    }
    assert_eq!(checked, cases().len(), "every case ran on the real server");
}
