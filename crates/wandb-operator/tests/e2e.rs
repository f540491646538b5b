//! End-to-end: the controller against the emulator and against a real control plane
//! (kube-apiserver, etcd and kube-controller-manager built from Go modules, shared by this test
//! binary, one set of namespaces per test), both with the vendors' real CRDs and the vendor
//! simulators. Scenarios that hold on both run on both (`…::emulator` and `…::real`); fault
//! injection, missing CRDs and the request-log checks are the emulator's alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kube::ResourceExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use support::Harness;
use wandb_operator::api::State;

const DEV: &str =
    "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n";

on_both_backends!(e2e01_dev_becomes_ready_with_every_connection_key);
async fn e2e01_dev_becomes_ready_with_every_connection_key(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    let w = h.wait_ready("apps", "wandb").await;
    let s = w.status.unwrap();
    assert!(s.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let apps = h.ns("apps");
    let mysql = s.mysql_status.unwrap().connection.unwrap();
    assert_eq!((mysql.host, mysql.port.as_str()), (format!("wandb-mysql-pxc.{apps}.svc.cluster.local"), "3306"));
    let redis = s.redis_status.unwrap().connection.unwrap();
    assert_eq!(
        (redis.host, redis.port.as_deref()),
        (Some(format!("wandb-redis.{apps}.svc.cluster.local")), Some("6379"))
    );
    let kafka = s.kafka_status.unwrap().connection.unwrap();
    assert_eq!((kafka.host, kafka.port.as_str()), (format!("wandb-kafka-kafka-bootstrap.{apps}.svc"), "9092"));
    let minio = s.minio_status.unwrap();
    let conn = minio.connection.unwrap();
    assert_eq!((conn.host, conn.port.as_str()), (format!("minio.{apps}.svc.cluster.local"), "80"));
    assert!(conn.access_key.unwrap().starts_with("wandb-"));
    assert_eq!(minio.credentials_secret.unwrap().name, "wandb-minio-config");
    let ch = s.clickhouse_status.unwrap().connection.unwrap();
    assert_eq!(
        (ch.host, ch.port.as_str(), ch.user.as_str()),
        (format!("clickhouse-wandb-clickhouse.{apps}.svc.cluster.local"), "9000", "wandb")
    );
    assert_eq!(s.observed_generation, w.metadata.generation);
    // Each object created has its own event (its own series: `related` is the object).
    let events: Api<k8s_openapi::api::events::v1::Event> = h.api("apps");
    let notes: Vec<String> = events
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("Created"))
        .filter_map(|e| e.note)
        .collect();
    for expected in [
        "created PerconaXtraDBCluster apps/wandb-mysql",
        "created Redis apps/wandb-redis",
        "created Kafka apps/wandb-kafka",
        "created KafkaNodePool apps/wandb-kafka-pool",
        "created Tenant apps/wandb-minio",
        "created ClickHouseInstallation apps/wandb-clickhouse",
        "created Secret apps/wandb-minio-config with generated credentials",
        "created Secret apps/wandb-clickhouse-credentials with generated credentials",
    ] {
        let expected = expected.replace(" apps/", &format!(" {apps}/"));
        assert!(notes.contains(&expected), "no event {expected:?} in {notes:#?}");
    }
}

on_both_backends!(e2e02_small_builds_the_ha_topology);
async fn e2e02_small_builds_the_ha_topology(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", &DEV.replace("size: dev", "size: small")).await;
    let w = h.wait_ready("apps", "wandb").await;
    let status = w.status.unwrap();
    // Versions: what the vendor reports running (Percona's `status.pxc.version`, Strimzi's
    // `status.kafkaVersion`), else the image applied (Opstree, Altinity, MinIO report none).
    let version = |s: Option<String>| s.unwrap_or_default();
    assert_eq!(version(status.mysql_status.as_ref().unwrap().version.clone()), "8.4.8-8.1");
    assert_eq!(version(status.kafka_status.as_ref().unwrap().version.clone()), "4.2.0");
    assert_eq!(version(status.redis_status.as_ref().unwrap().version.clone()), "7.4.11");
    assert_eq!(version(status.clickhouse_status.as_ref().unwrap().version.clone()), "26.3.19.3");
    assert!(version(status.minio_status.as_ref().unwrap().version.clone()).starts_with("RELEASE."));
    // Trust: the CA each vendor made, copied into the connection Secrets; Kafka's TLS listener.
    let mysql = h.secret_data("apps", "wandb-mysql-connection").await.unwrap();
    let percona_ssl = h.secret_data("apps", "wandb-mysql-ssl").await.unwrap();
    assert_eq!((mysql["MYSQL_TLS"].as_str(), &mysql["MYSQL_CA_CERT"]), ("true", &percona_ssl["ca.crt"]));
    assert!(mysql["URL"].ends_with("/wandb_local?tls=true"), "{}", mysql["URL"].split('@').nth(1).unwrap_or_default());
    assert!(mysql["MYSQL_HOST"].starts_with("wandb-mysql-haproxy."), "one writer, through HAProxy");
    let kafka = h.secret_data("apps", "wandb-kafka-connection").await.unwrap();
    let cluster_ca = h.secret_data("apps", "wandb-kafka-cluster-ca-cert").await.unwrap();
    assert_eq!((kafka["KAFKA_TLS"].as_str(), &kafka["KAFKA_CA_CERT"]), ("true", &cluster_ca["ca.crt"]));
    assert_eq!(kafka["KAFKA_PORT"], "9093");
    let redis = status.redis_status.unwrap().connection.unwrap();
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

on_both_backends!(e2e03_drift_on_owned_fields_is_corrected_and_foreign_fields_kept);
async fn e2e03_drift_on_owned_fields_is_corrected_and_foreign_fields_kept(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let api = h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
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
    let converging = operator_writes(&h.emulator().request_log());
    assert!(converging.len() >= 9, "the filter sees the operator's writes while converging: {converging:#?}");
    // Let in-flight work settle, then force a full resync by restarting the operator.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let before = h.emulator().request_log().len();
    h.stop_operator().await;
    h.start_operator();
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let log = h.emulator().request_log();
    let steady = operator_writes(&log[before..]);
    assert!(steady.is_empty(), "writes in steady state: {steady:#?}");
    let reads_of_wandb =
        log[before..].iter().filter(|r| r.method == "GET" && r.path.contains("weightsandbiases")).count();
    assert!(reads_of_wandb >= 1, "the restarted operator listed the resources");
    let w = h.wandb_api("apps").get("wandb").await.unwrap();
    assert_eq!(w.status.unwrap().state, Some(State::Ready));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e12_real_steady_state_counted_from_the_audit_log() {
    let mut h = Harness::start_real().await;
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let describe = |events: &[kube_control_plane::audit::AuditEvent]| -> Vec<String> {
        events.iter().map(|e| e.describe()).collect()
    };
    let (converging, _) = h.operator_audit(0);
    let writes = converging.iter().filter(|e| e.is_write()).count();
    assert!(writes >= 9, "the audit log shows the operator's writes while converging: {:#?}", describe(&converging));
    // Let in-flight work settle, then force a full resync by restarting the operator.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let (_, before_restart) = h.operator_audit(0);
    h.stop_operator().await;
    h.start_operator();
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let (restart, after_restart) = h.operator_audit(before_restart);
    let writes: Vec<_> = restart.iter().filter(|e| e.is_write()).collect();
    assert!(writes.is_empty(), "writes after a restart in steady state: {:#?}", describe(&restart));
    let gets: Vec<_> = restart.iter().filter(|e| e.verb == "get").collect();
    assert!(gets.is_empty(), "uncached reads after a restart: {:#?}", describe(&restart));
    assert!(
        restart.iter().any(|e| e.verb == "list"),
        "the restarted operator listed its kinds: {:#?}",
        describe(&restart)
    );
    // Quiet period: nothing but the open watches.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let (quiet, _) = h.operator_audit(after_restart);
    let busy: Vec<_> = quiet.iter().filter(|e| e.is_write() || e.is_read()).collect();
    assert!(busy.is_empty(), "requests in steady state: {:#?}", describe(&quiet));
    assert_eq!(h.wandb_api("apps").get("wandb").await.unwrap().status.unwrap().state, Some(State::Ready));
    let denied: Vec<_> = restart.iter().chain(&converging).filter(|e| e.code() == 403).collect();
    assert!(denied.is_empty(), "forbidden requests: {denied:#?}");
}

async fn patch_spec(h: &Harness, patch: serde_json::Value) {
    h.wandb_api("apps")
        .patch("wandb", &PatchParams::default(), &Patch::Merge(serde_json::json!({"spec": patch})))
        .await
        .unwrap();
}

on_both_backends!(e2e04_storage_grows_and_a_shrink_is_refused);
async fn e2e04_storage_grows_and_a_shrink_is_refused(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let pxc = h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
    let storage = |o: &DynamicObject| {
        o.data["spec"]["pxc"]["volumeSpec"]["persistentVolumeClaim"]["resources"]["requests"]["storage"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    patch_spec(&h, serde_json::json!({"mysql": {"storageSize": "5Gi"}})).await;
    h.eventually("grown to 5Gi", || async { storage(&pxc.get("wandb-mysql").await.unwrap()) == "5Gi" }).await;
    patch_spec(&h, serde_json::json!({"mysql": {"storageSize": "2Gi"}})).await;
    let w = h
        .wait_for("apps", "wandb", "shrink refused", |w| {
            w.status
                .as_ref()
                .and_then(|s| s.mysql_status.as_ref())
                .is_some_and(|m| m.details.iter().any(|d| d.code == "StorageShrinkRefused"))
        })
        .await;
    assert_eq!(w.status.unwrap().mysql_status.unwrap().state, State::Error);
    assert_eq!(storage(&pxc.get("wandb-mysql").await.unwrap()), "5Gi", "nothing applied");
}

on_both_backends!(e2e05_disabling_detaches_or_purges_a_component);
async fn e2e05_disabling_detaches_or_purges_a_component(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    // detach (default): the Kafka objects stay, without our owner reference.
    patch_spec(&h, serde_json::json!({"kafka": {"enabled": false}})).await;
    h.wait_for("apps", "wandb", "kafka Offline", |w| {
        w.status.as_ref().and_then(|s| s.kafka_status.as_ref()).is_some_and(|k| k.state == State::Offline)
    })
    .await;
    let kafka = h.dyn_api("apps", "kafka.strimzi.io/v1", "Kafka", "kafkas");
    h.eventually("owner reference removed", || async {
        kafka.get("wandb-kafka").await.unwrap().owner_references().is_empty()
    })
    .await;
    let w = h.wait_ready("apps", "wandb").await;
    assert_eq!(w.status.unwrap().state, Some(State::Ready), "a disabled component does not drag the state down");
    // purge: the Redis objects and their PVCs are deleted.
    assert!(h.pvcs("apps").await.iter().any(|p| p.starts_with("wandb-redis-wandb-redis-")));
    patch_spec(&h, serde_json::json!({"redis": {"enabled": false, "retentionPolicy": {"onDelete": "purge"}}})).await;
    h.eventually("redis purged", || async {
        h.names("redis.redis.opstreelabs.in/v1beta2", "Redis", "redis", "apps").await.is_empty()
            && !h.pvcs("apps").await.iter().any(|p| p.starts_with("wandb-redis-wandb-redis-"))
    })
    .await;
    h.wait_for("apps", "wandb", "redis Offline", |w| {
        w.status.as_ref().and_then(|s| s.redis_status.as_ref()).is_some_and(|r| r.state == State::Offline)
    })
    .await;
    assert!(!h.pvcs("apps").await.is_empty(), "other components' claims are untouched");
}

on_both_backends!(e2e06_delete_with_detach_keeps_everything_and_recreate_adopts);
async fn e2e06_delete_with_detach_keeps_everything_and_recreate_adopts(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = h.api("apps");
    let password = secrets.get("wandb-clickhouse-credentials").await.unwrap().data.unwrap()["password"].clone();
    let pvcs_before = h.pvcs("apps").await;
    h.wandb_api("apps").delete("wandb", &Default::default()).await.unwrap();
    h.eventually("resource gone", || async { h.wandb_api("apps").get_opt("wandb").await.unwrap().is_none() }).await;
    assert_eq!(
        h.names("pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters", "apps").await,
        vec!["wandb-mysql"]
    );
    assert_eq!(h.pvcs("apps").await, pvcs_before, "no PVC lost");
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    assert_eq!(
        h.names("pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters", "apps").await,
        vec!["wandb-mysql"],
        "no duplicates"
    );
    let pxc = h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
    let uid = h.wandb_api("apps").get("wandb").await.unwrap().metadata.uid.unwrap();
    h.eventually("re-adopted", || async {
        pxc.get("wandb-mysql").await.unwrap().owner_references().iter().any(|o| o.uid == uid)
    })
    .await;
    assert_eq!(
        secrets.get("wandb-clickhouse-credentials").await.unwrap().data.unwrap()["password"],
        password,
        "credentials never regenerated"
    );
}

on_both_backends!(e2e07_delete_with_purge_removes_everything_then_the_resource);
async fn e2e07_delete_with_purge_removes_everything_then_the_resource(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", &format!("{DEV}  retentionPolicy:\n    onDelete: purge\n")).await;
    h.wait_ready("apps", "wandb").await;
    assert!(!h.pvcs("apps").await.is_empty());
    h.wandb_api("apps").delete("wandb", &Default::default()).await.unwrap();
    h.eventually("resource gone", || async { h.wandb_api("apps").get_opt("wandb").await.unwrap().is_none() }).await;
    assert!(h.pvcs("apps").await.is_empty(), "PVCs left: {:?}", h.pvcs("apps").await);
    for (av, kind, plural) in [
        ("pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters"),
        ("kafka.strimzi.io/v1", "Kafka", "kafkas"),
        ("redis.redis.opstreelabs.in/v1beta2", "Redis", "redis"),
        ("minio.min.io/v2", "Tenant", "tenants"),
        ("clickhouse.altinity.com/v1", "ClickHouseInstallation", "clickhouseinstallations"),
        ("v1", "Secret", "secrets"),
    ] {
        assert!(h.names(av, kind, plural, "apps").await.is_empty(), "{kind} left");
    }
}

on_both_backends!(e2e09_an_existing_object_without_our_labels_is_not_owned);
async fn e2e09_an_existing_object_without_our_labels_is_not_owned(h: Harness) {
    h.namespace("apps").await;
    let pxc = h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
    let foreign: DynamicObject = serde_json::from_value(serde_json::json!({"apiVersion": "pxc.percona.com/v1", "kind": "PerconaXtraDBCluster",
        "metadata": {"name": "wandb-mysql"}, "spec": {"crVersion": "1.17.0", "pxc": {"size": 3, "image": "someone/else"}}})).unwrap();
    pxc.create(&Default::default(), &foreign).await.unwrap();
    h.apply_yaml("apps", DEV).await;
    h.wait_for("apps", "wandb", "mysql NotOwned", |w| {
        w.status
            .as_ref()
            .and_then(|s| s.mysql_status.as_ref())
            .is_some_and(|m| m.details.iter().any(|d| d.code == "NotOwned"))
    })
    .await;
    let live = pxc.get("wandb-mysql").await.unwrap();
    assert_eq!(live.data["spec"]["pxc"]["image"], "someone/else", "untouched");
    assert_eq!(live.data["spec"]["crVersion"], "1.17.0");
}

on_both_backends!(e2e10_a_component_in_another_namespace_is_managed_by_labels);
async fn e2e10_a_component_in_another_namespace_is_managed_by_labels(h: Harness) {
    h.namespace("apps").await;
    h.namespace("data").await;
    h.apply_yaml(
        "apps",
        &format!("{DEV}  retentionPolicy:\n    onDelete: purge\n  clickhouse:\n    namespace: {}\n", h.ns("data")),
    )
    .await;
    let w = h.wait_ready("apps", "wandb").await;
    assert_eq!(
        w.status.unwrap().clickhouse_status.unwrap().connection.unwrap().host,
        format!("clickhouse-wandb-clickhouse.{}.svc.cluster.local", h.ns("data"))
    );
    let chi = h
        .dyn_api("data", "clickhouse.altinity.com/v1", "ClickHouseInstallation", "clickhouseinstallations")
        .get("wandb-clickhouse")
        .await
        .unwrap();
    assert!(chi.owner_references().is_empty(), "no cross-namespace owner reference");
    assert_eq!(chi.labels()["weightsandbiases.apps.wandb.com/namespace"], h.ns("apps"));
    h.wandb_api("apps").delete("wandb", &Default::default()).await.unwrap();
    h.eventually("purged in the other namespace too", || async {
        h.wandb_api("apps").get_opt("wandb").await.unwrap().is_none()
            && h.names("clickhouse.altinity.com/v1", "ClickHouseInstallation", "clickhouseinstallations", "data")
                .await
                .is_empty()
    })
    .await;
}

on_both_backends!(e2e11_legacy_finalizers_do_not_block_deletion);
async fn e2e11_legacy_finalizers_do_not_block_deletion(h: Harness) {
    h.namespace("apps").await;
    let legacy =
        DEV.replace("  name: wandb\n", "  name: wandb\n  finalizers:\n  - db.app.wandb.com\n  - kafka.app.wandb.com\n");
    h.apply_yaml("apps", &legacy).await;
    let w = h.wait_ready("apps", "wandb").await;
    assert_eq!(w.metadata.finalizers.unwrap(), vec!["apps.wandb.com/cleanup"], "legacy finalizers replaced");
    h.wandb_api("apps").delete("wandb", &Default::default()).await.unwrap();
    h.eventually("deleted", || async { h.wandb_api("apps").get_opt("wandb").await.unwrap().is_none() }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e13_faults_converge_to_the_same_end_state() {
    let h = Harness::start(&[]).await;
    h.namespace("apps").await;
    h.emulator().inject_fault(kube_emulator::Fault::new(Some("PATCH"), Some("perconaxtradbclusters"), 3, 500));
    h.emulator().inject_fault(kube_emulator::Fault::new(Some("POST"), Some("/secrets"), 2, 503));
    h.emulator().inject_fault(kube_emulator::Fault::new(Some("PATCH"), Some("weightsandbiases"), 2, 409));
    h.apply_yaml("apps", DEV).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    h.emulator().drop_watches();
    h.emulator().compact();
    h.wait_ready("apps", "wandb").await;
    for (av, kind, plural) in
        [("pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters"), ("v1", "Secret", "secrets")]
    {
        let names = h.names(av, kind, plural, "apps").await;
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique, "duplicates of {kind}");
    }
    assert_eq!(h.names("v1", "Secret", "secrets", "apps").await, support::expected_secrets(false));
    let failed: Vec<u16> =
        h.emulator().request_log().iter().map(|r| r.status).filter(|s| *s >= 500 || *s == 409).collect();
    assert!(failed.len() >= 7, "the faults were hit: {failed:?}");
}

/// `(group, resource[/subresource], verb)` of a logged request.
fn authorization(r: &kube_emulator::LoggedRequest) -> (String, String, String) {
    let parts: Vec<&str> = r.path.trim_matches('/').split('/').collect();
    let (group, rest) =
        if parts[0] == "api" { (String::new(), &parts[2..]) } else { (parts[1].to_owned(), &parts[3..]) };
    let rest: Vec<&str> =
        if rest.first() == Some(&"namespaces") && rest.len() > 2 { rest[2..].to_vec() } else { rest.to_vec() };
    let resource = match rest.as_slice() {
        [plural, _, sub] => format!("{plural}/{sub}"),
        [plural, ..] => (*plural).to_owned(),
        [] => String::new(),
    };
    let verb = match (r.method.as_str(), rest.len()) {
        ("GET", _) if r.watch => "watch",
        ("GET", 1) => "list",
        ("GET", _) => "get",
        ("POST", _) => "create",
        ("PATCH", _) => "patch",
        ("PUT", _) => "update",
        ("DELETE", _) => "delete",
        (m, _) => m,
    };
    (group, resource, verb.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e16_every_api_call_is_covered_by_the_rbac_table() {
    use wandb_operator::controller::rbac::{LEASE_RULE, allows, rules};
    let h = Harness::start(&[]).await;
    h.namespace("apps").await;
    h.apply_yaml("apps", &format!("{DEV}  retentionPolicy:\n    onDelete: purge\n")).await;
    h.wait_ready("apps", "wandb").await;
    patch_spec(&h, serde_json::json!({"kafka": {"enabled": false}})).await;
    h.wait_for("apps", "wandb", "kafka Offline", |w| {
        w.status.as_ref().and_then(|s| s.kafka_status.as_ref()).is_some_and(|k| k.state == State::Offline)
    })
    .await;
    h.wandb_api("apps").delete("wandb", &Default::default()).await.unwrap();
    h.eventually("deleted", || async { h.wandb_api("apps").get_opt("wandb").await.unwrap().is_none() }).await;
    let calls: Vec<_> = h.operator_requests(0);
    assert!(calls.len() > 20, "the operator's calls are in the log");
    let mut rules = rules();
    rules.push(LEASE_RULE);
    let uncovered: Vec<_> = calls.iter().map(authorization).filter(|(g, r, v)| !allows(&rules, g, r, v)).collect();
    assert!(uncovered.is_empty(), "calls not covered by RBAC: {uncovered:#?}");
    let used: std::collections::BTreeSet<_> = calls.iter().map(authorization).collect();
    for verb in ["list", "watch", "patch", "create", "delete"] {
        assert!(used.iter().any(|(_, _, v)| v == verb), "the flow exercised {verb}");
    }
}

on_both_backends!(e2e17_a_component_whose_namespace_is_missing_is_reported_and_the_others_converge);
async fn e2e17_a_component_whose_namespace_is_missing_is_reported_and_the_others_converge(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", &format!("{DEV}  clickhouse:\n    namespace: {}\n", h.ns("later"))).await;
    let w = h
        .wait_for("apps", "wandb", "clickhouse NamespaceMissing, the others ready", |w| {
            let Some(s) = &w.status else { return false };
            let missing = s.clickhouse_status.as_ref().is_some_and(|c| {
                c.state == State::Error
                    && c.details.iter().any(|d| d.code == "NamespaceMissing" && d.message.contains("later"))
            });
            let others = [
                s.mysql_status.as_ref().map(|c| c.ready),
                s.redis_status.as_ref().map(|c| c.ready),
                s.kafka_status.as_ref().map(|c| c.ready),
                s.minio_status.as_ref().map(|c| c.ready),
            ]
            .iter()
            .all(|r| *r == Some(true));
            missing && others
        })
        .await;
    assert_eq!(w.status.unwrap().state, Some(State::Error));
    // Creating the namespace is all it takes (the failed reconcile retries with backoff).
    h.namespace("later").await;
    h.wait_ready("apps", "wandb").await;
}
