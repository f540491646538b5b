//! End-to-end: the controller against the emulator (with the vendors' real CRDs) and the
//! vendor simulators.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kube::ResourceExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use support::Harness;
use wandb_operator::api::State;

const DEV: &str =
    "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n";

fn pxc() -> ApiResource {
    ApiResource {
        group: "pxc.percona.com".into(),
        version: "v1".into(),
        api_version: "pxc.percona.com/v1".into(),
        kind: "PerconaXtraDBCluster".into(),
        plural: "perconaxtradbclusters".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e01_dev_becomes_ready_with_every_connection_key() {
    let h = Harness::start(&[]).await;
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    let w = h.wait_ready("apps", "wandb").await;
    let s = w.status.unwrap();
    assert!(s.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let mysql = s.mysql_status.unwrap().connection.unwrap();
    assert_eq!((mysql.host.as_str(), mysql.port.as_str()), ("wandb-mysql-pxc.apps.svc.cluster.local", "3306"));
    let redis = s.redis_status.unwrap().connection.unwrap();
    assert_eq!(
        (redis.host.as_deref(), redis.port.as_deref()),
        (Some("wandb-redis.apps.svc.cluster.local"), Some("6379"))
    );
    let kafka = s.kafka_status.unwrap().connection.unwrap();
    assert_eq!((kafka.host.as_str(), kafka.port.as_str()), ("wandb-kafka-kafka-bootstrap.apps.svc", "9092"));
    let minio = s.minio_status.unwrap();
    let conn = minio.connection.unwrap();
    assert_eq!((conn.host.as_str(), conn.port.as_str()), ("minio.apps.svc.cluster.local", "80"));
    assert!(conn.access_key.unwrap().starts_with("wandb-"));
    assert_eq!(minio.credentials_secret.unwrap().name, "wandb-minio-config");
    let ch = s.clickhouse_status.unwrap().connection.unwrap();
    assert_eq!(
        (ch.host.as_str(), ch.port.as_str(), ch.user.as_str()),
        ("clickhouse-wandb-clickhouse.apps.svc.cluster.local", "9000", "wandb")
    );
    assert_eq!(s.observed_generation, w.metadata.generation);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e02_small_builds_the_ha_topology() {
    let h = Harness::start(&[]).await;
    h.namespace("apps").await;
    h.apply_yaml("apps", &DEV.replace("size: dev", "size: small")).await;
    let w = h.wait_ready("apps", "wandb").await;
    let redis = w.status.unwrap().redis_status.unwrap().connection.unwrap();
    assert_eq!(redis.master_name.as_deref(), Some("gorilla"));
    assert_eq!(
        h.names("redis.redis.opstreelabs.in/v1beta2", "RedisSentinel", "redissentinels", "apps").await,
        vec!["wandb-redis"]
    );
    assert_eq!(
        h.names(
            "clickhouse-keeper.altinity.com/v1",
            "ClickHouseKeeperInstallation",
            "clickhousekeeperinstallations",
            "apps"
        )
        .await,
        vec!["wandb-keeper"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e03_drift_on_owned_fields_is_corrected_and_foreign_fields_kept() {
    let h = Harness::start(&[]).await;
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let api: Api<DynamicObject> = Api::namespaced_with(h.client.clone(), "apps", &pxc());
    api.patch("wandb-mysql", &PatchParams::apply("someone-else").force(), &Patch::Apply(serde_json::json!({
        "apiVersion": "pxc.percona.com/v1", "kind": "PerconaXtraDBCluster", "metadata": {"name": "wandb-mysql", "labels": {"team": "data"}},
        "spec": {"pxc": {"size": 5}}}))).await.unwrap();
    h.eventually("size corrected back to 1", || async {
        let o = api.get("wandb-mysql").await.unwrap();
        o.data["spec"]["pxc"]["size"] == 1
    })
    .await;
    let o = api.get("wandb-mysql").await.unwrap();
    assert_eq!(o.labels().get("team").map(String::as_str), Some("data"), "a field we do not own is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e08_missing_strimzi_crds_only_affect_kafka() {
    let h = Harness::start(&["strimzi"]).await;
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    let w = h
        .wait_for("apps", "wandb", "kafka CRDMissing and others ready", |w| {
            let Some(s) = &w.status else { return false };
            let kafka_missing = s
                .kafka_status
                .as_ref()
                .is_some_and(|k| k.state == State::Error && k.details.iter().any(|d| d.code == "CRDMissing"));
            let others = [
                s.mysql_status.as_ref().map(|c| c.ready),
                s.redis_status.as_ref().map(|c| c.ready),
                s.minio_status.as_ref().map(|c| c.ready),
                s.clickhouse_status.as_ref().map(|c| c.ready),
            ];
            kafka_missing && others.iter().all(|r| *r == Some(true))
        })
        .await;
    assert_eq!(w.status.unwrap().state, Some(State::Error));
}

/// Writes the operator made (field manager `wandb-operator`), plus every event write and
/// delete; the simulators write with other managers.
fn operator_writes(log: &[kube_emulator::LoggedRequest]) -> Vec<String> {
    log.iter()
        .filter(|r| {
            r.is_write()
                && (r.query.contains("fieldManager=wandb-operator")
                    || r.path.contains("/events")
                    || r.method == "DELETE")
        })
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e12_steady_state_makes_no_writes() {
    let mut h = Harness::start(&[]).await;
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let converging = operator_writes(&h.emulator.request_log());
    assert!(converging.len() >= 9, "the filter sees the operator's writes while converging: {converging:#?}");
    // Let in-flight work settle, then force a full resync by restarting the operator.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let before = h.emulator.request_log().len();
    h.stop_operator().await;
    h.start_operator();
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let log = h.emulator.request_log();
    let steady = operator_writes(&log[before..]);
    assert!(steady.is_empty(), "writes in steady state: {steady:#?}");
    let reads_of_wandb =
        log[before..].iter().filter(|r| r.method == "GET" && r.path.contains("weightsandbiases")).count();
    assert!(reads_of_wandb >= 1, "the restarted operator listed the resources");
    let w = h.wandb_api("apps").get("wandb").await.unwrap();
    assert_eq!(w.status.unwrap().state, Some(State::Ready));
}
