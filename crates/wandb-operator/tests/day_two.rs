//! Day two (issue 21), on both API servers with the vendor simulators: pausing with the
//! annotation `apps.wandb.com/pause`, storage growth, dev to small, version upgrades.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kube::ResourceExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use support::Harness;
use wandb_operator::api::{PAUSE_ANNOTATION, WeightsAndBiases};

const DEV: &str =
    "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n";

async fn annotate_pause(h: &Harness, value: Option<&str>) {
    let patch = json!({"metadata": {"annotations": {PAUSE_ANNOTATION: value}}});
    h.wandb_api("apps").patch("wandb", &PatchParams::default(), &Patch::Merge(patch)).await.unwrap();
}

fn paused_condition(w: &WeightsAndBiases) -> Option<String> {
    let status = w.status.as_ref()?;
    status.conditions.iter().find(|c| c.type_ == "Paused").map(|c| c.status.clone())
}

/// An edit by hand, as `kubectl apply --server-side --force-conflicts` makes it.
async fn edit_by_hand(api: &Api<DynamicObject>, name: &str, body: Value) {
    api.patch(name, &PatchParams::apply("someone-by-hand").force(), &Patch::Apply(body)).await.unwrap();
}

async fn get(api: &Api<DynamicObject>, name: &str, pointer: &str) -> Value {
    api.get(name).await.unwrap().data.pointer(pointer).cloned().unwrap_or(Value::Null)
}

fn writes_to<'a>(writes: &'a [(String, String, String)], resource: &str) -> Vec<&'a (String, String, String)> {
    writes.iter().filter(|(_, r, _)| r == resource).collect()
}

on_both_backends!(p01_a_paused_component_gets_no_write_and_resuming_corrects_its_drift_once);
async fn p01_a_paused_component_gets_no_write_and_resuming_corrects_its_drift_once(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let pxc = h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
    let redis = h.dyn_api("apps", "redis.redis.opstreelabs.in/v1beta2", "Redis", "redis");
    let chi = h.dyn_api("apps", "clickhouse.altinity.com/v1", "ClickHouseInstallation", "clickhouseinstallations");
    let redis_image = get(&redis, "wandb-redis", "/spec/kubernetesConfig/image").await;
    let task_id = get(&chi, "wandb-clickhouse", "/spec/taskID").await;
    assert!(redis_image.is_string() && task_id.is_string(), "{redis_image} {task_id}");

    // Pause MySQL and Redis: Opstree is paused too (its skip-reconcile annotation), Percona has
    // no such pause; ClickHouse is not paused.
    annotate_pause(&h, Some("mysql,redis")).await;
    h.wait_for("apps", "wandb", "Paused=True", |w| paused_condition(w).as_deref() == Some("True")).await;
    h.eventually("Opstree paused", || async {
        redis
            .get("wandb-redis")
            .await
            .unwrap()
            .annotations()
            .get("redis.opstreelabs.in/skip-reconcile")
            .map(String::as_str)
            == Some("true")
    })
    .await;
    assert_eq!(get(&chi, "wandb-clickhouse", "/spec/suspend").await, Value::Null, "ClickHouse is not paused");
    let w = h.wandb_api("apps").get("wandb").await.unwrap();
    let status = w.status.unwrap();
    let paused_detail = |details: &[wandb_operator::api::StatusDetail]| {
        details.iter().find(|d| d.code == "Paused").map(|d| d.message.clone())
    };
    let mysql = paused_detail(&status.mysql_status.as_ref().unwrap().details).expect("MySQL shows Paused");
    assert!(mysql.contains("still reconciles"), "{mysql}");
    let redis_note = paused_detail(&status.redis_status.as_ref().unwrap().details).expect("Redis shows Paused");
    assert!(redis_note.contains("skip-reconcile"), "{redis_note}");
    assert!(paused_detail(&status.clickhouse_status.as_ref().unwrap().details).is_none());
    assert!(status.redis_status.unwrap().ready, "Redis keeps the readiness it had");

    // Edits by hand while paused: none is reverted, nothing is written for MySQL or Redis.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let mark = h.request_mark();
    edit_by_hand(
        &pxc,
        "wandb-mysql",
        json!({"apiVersion": "pxc.percona.com/v1", "kind": "PerconaXtraDBCluster",
        "metadata": {"name": "wandb-mysql"}, "spec": {"pxc": {"size": 3}}}),
    )
    .await;
    edit_by_hand(
        &redis,
        "wandb-redis",
        json!({"apiVersion": "redis.redis.opstreelabs.in/v1beta2", "kind": "Redis",
        "metadata": {"name": "wandb-redis"}, "spec": {"kubernetesConfig": {"image": "quay.io/opstree/redis:by-hand"}}}),
    )
    .await;
    // A control: ClickHouse is not paused, so an edit of it is reverted; once it is, the
    // operator has reconciled the resource after the edits above.
    edit_by_hand(
        &chi,
        "wandb-clickhouse",
        json!({"apiVersion": "clickhouse.altinity.com/v1", "kind": "ClickHouseInstallation",
        "metadata": {"name": "wandb-clickhouse"}, "spec": {"taskID": "by-hand"}}),
    )
    .await;
    h.eventually("the ClickHouse edit reverted", || async {
        get(&chi, "wandb-clickhouse", "/spec/taskID").await == task_id
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let paused_writes = h.operator_writes_since(mark);
    assert!(writes_to(&paused_writes, "perconaxtradbclusters").is_empty(), "{paused_writes:#?}");
    assert!(writes_to(&paused_writes, "redis").is_empty(), "{paused_writes:#?}");
    assert!(!writes_to(&paused_writes, "clickhouseinstallations").is_empty(), "{paused_writes:#?}");
    assert_eq!(get(&pxc, "wandb-mysql", "/spec/pxc/size").await, json!(3), "the edit by hand stays");
    assert_eq!(
        get(&redis, "wandb-redis", "/spec/kubernetesConfig/image").await,
        json!("quay.io/opstree/redis:by-hand")
    );

    // Resume: one apply each reverts the drift and lifts Opstree's pause.
    let mark = h.request_mark();
    annotate_pause(&h, None).await;
    h.eventually("drift corrected", || async {
        get(&pxc, "wandb-mysql", "/spec/pxc/size").await == json!(1)
            && get(&redis, "wandb-redis", "/spec/kubernetesConfig/image").await == redis_image
            && !redis
                .get("wandb-redis")
                .await
                .unwrap()
                .annotations()
                .contains_key("redis.opstreelabs.in/skip-reconcile")
    })
    .await;
    let w = h.wait_for("apps", "wandb", "Paused=False", |w| paused_condition(w).as_deref() == Some("False")).await;
    let status = w.status.unwrap();
    assert!(status.redis_status.unwrap().details.iter().all(|d| d.code != "Paused"));
    h.wait_ready("apps", "wandb").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let resumed = h.operator_writes_since(mark);
    assert_eq!(writes_to(&resumed, "perconaxtradbclusters").len(), 1, "{resumed:#?}");
    assert_eq!(writes_to(&resumed, "redis").len(), 1, "{resumed:#?}");
}

on_both_backends!(p02_a_paused_resource_is_still_purged_on_deletion_past_the_vendors_own_pauses);
async fn p02_a_paused_resource_is_still_purged_on_deletion_past_the_vendors_own_pauses(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", &format!("{DEV}  retentionPolicy:\n    onDelete: purge\n")).await;
    h.wait_ready("apps", "wandb").await;
    annotate_pause(&h, Some("true")).await;
    let kafka = h.dyn_api("apps", "kafka.strimzi.io/v1", "Kafka", "kafkas");
    let chi = h.dyn_api("apps", "clickhouse.altinity.com/v1", "ClickHouseInstallation", "clickhouseinstallations");
    h.eventually("every vendor that has a pause is paused", || async {
        let strimzi =
            kafka.get("wandb-kafka").await.unwrap().annotations().get("strimzi.io/pause-reconciliation").cloned();
        strimzi.as_deref() == Some("true") && get(&chi, "wandb-clickhouse", "/spec/suspend").await == json!("true")
    })
    .await;
    let w = h
        .wait_for("apps", "wandb", "every component Paused", |w| {
            let Some(s) = &w.status else { return false };
            let paused = |d: Option<&[wandb_operator::api::StatusDetail]>| {
                d.is_some_and(|d| d.iter().any(|d| d.code == "Paused"))
            };
            paused(s.mysql_status.as_ref().map(|c| c.details.as_slice()))
                && paused(s.redis_status.as_ref().map(|c| c.details.as_slice()))
                && paused(s.kafka_status.as_ref().map(|c| c.details.as_slice()))
                && paused(s.minio_status.as_ref().map(|c| c.details.as_slice()))
                && paused(s.clickhouse_status.as_ref().map(|c| c.details.as_slice()))
        })
        .await;
    assert_eq!(paused_condition(&w).as_deref(), Some("True"));
    // Deletion honours the retention policy while paused; Altinity would not finalize a
    // suspended installation, so the purge lifts the vendors' pauses first.
    h.wandb_api("apps").delete("wandb", &Default::default()).await.unwrap();
    h.eventually("resource gone", || async { h.wandb_api("apps").get_opt("wandb").await.unwrap().is_none() }).await;
    assert!(h.pvcs("apps").await.is_empty(), "PVCs left: {:?}", h.pvcs("apps").await);
    for (av, kind, plural) in [
        ("kafka.strimzi.io/v1", "Kafka", "kafkas"),
        ("redis.redis.opstreelabs.in/v1beta2", "Redis", "redis"),
        ("clickhouse.altinity.com/v1", "ClickHouseInstallation", "clickhouseinstallations"),
        ("clickhouse-keeper.altinity.com/v1", "ClickHouseKeeperInstallation", "clickhousekeeperinstallations"),
    ] {
        assert!(h.names(av, kind, plural, "apps").await.is_empty(), "{kind} left");
    }
}

on_both_backends!(p03_a_pause_that_names_something_unknown_pauses_everything_and_warns);
async fn p03_a_pause_that_names_something_unknown_pauses_everything_and_warns(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    annotate_pause(&h, Some("mysq")).await;
    let w = h.wait_for("apps", "wandb", "Paused=True", |w| paused_condition(w).as_deref() == Some("True")).await;
    let status = w.status.unwrap();
    let kafka = status.kafka_status.unwrap();
    let detail = kafka.details.iter().find(|d| d.code == "Paused").expect("Kafka is paused too");
    assert!(detail.message.contains("names mysq") && detail.message.contains("mysql, redis"), "{}", detail.message);
    let events: Api<k8s_openapi::api::events::v1::Event> = h.api("apps");
    h.eventually("a Warning event says why", || async {
        events.list(&Default::default()).await.unwrap().items.iter().any(|e| {
            e.reason.as_deref() == Some("PauseUnreadable")
                && e.type_.as_deref() == Some("Warning")
                && e.note.as_deref().is_some_and(|n| n.contains("names mysq"))
        })
    })
    .await;
}

async fn patch_spec(h: &Harness, spec: Value) {
    h.wandb_api("apps").patch("wandb", &PatchParams::default(), &Patch::Merge(json!({ "spec": spec }))).await.unwrap();
}

fn storage_of(w: &WeightsAndBiases, component: &str) -> Option<wandb_operator::api::StorageStatus> {
    let s = w.status.as_ref()?;
    match component {
        "mysql" => s.mysql_status.as_ref()?.storage.clone(),
        "redis" => s.redis_status.as_ref()?.storage.clone(),
        "minio" => s.minio_status.as_ref()?.storage.clone(),
        _ => None,
    }
}

fn details_of(w: &WeightsAndBiases, component: &str) -> Vec<wandb_operator::api::StatusDetail> {
    let Some(s) = w.status.as_ref() else { return vec![] };
    let status = match component {
        "mysql" => s.mysql_status.as_ref().map(|c| c.details.clone()),
        "redis" => s.redis_status.as_ref().map(|c| c.details.clone()),
        "minio" => s.minio_status.as_ref().map(|c| c.details.clone()),
        "kafka" => s.kafka_status.as_ref().map(|c| c.details.clone()),
        "clickhouse" => s.clickhouse_status.as_ref().map(|c| c.details.clone()),
        _ => None,
    };
    status.unwrap_or_default()
}

/// A claim's requested size and its capacity.
async fn claim_sizes(h: &Harness, name: &str) -> (String, Option<String>) {
    let claims: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> = h.api("apps");
    let claim = claims.get(name).await.unwrap();
    let requested = claim.spec.unwrap().resources.unwrap().requests.unwrap()["storage"].0.clone();
    let capacity = claim.status.and_then(|s| s.capacity).and_then(|c| c.get("storage").map(|q| q.0.clone()));
    (requested, capacity)
}

on_both_backends!(s01_a_larger_storage_size_grows_the_claims_and_status_shows_their_capacity);
async fn s01_a_larger_storage_size_grows_the_claims_and_status_shows_their_capacity(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    let w = h
        .wait_for("apps", "wandb", "storage reported", |w| {
            ["mysql", "redis"].iter().all(|c| storage_of(w, c).is_some_and(|s| s.capacity.is_some()))
        })
        .await;
    let mysql = storage_of(&w, "mysql").unwrap();
    assert_eq!((mysql.capacity.as_deref(), mysql.claims), (Some(mysql.requested.as_str()), 1), "{mysql:?}");
    let pxc = h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
    assert_eq!(get(&pxc, "wandb-mysql", "/spec/storageScaling").await, Value::Null, "expansion is off until a growth");

    patch_spec(&h, json!({"mysql": {"storageSize": "30Gi"}, "redis": {"storageSize": "40Gi"}})).await;
    let w = h
        .wait_for("apps", "wandb", "grown", |w| {
            let grown = |c: &str, size: &str| {
                storage_of(w, c).is_some_and(|s| s.requested == size && s.capacity.as_deref() == Some(size))
            };
            grown("mysql", "30Gi") && grown("redis", "40Gi")
        })
        .await;
    assert!(details_of(&w, "mysql").iter().all(|d| d.code != "StorageResizing"));
    // Percona was told to grow its volumes (1.20: storageScaling), and did.
    assert_eq!(get(&pxc, "wandb-mysql", "/spec/storageScaling/enableVolumeScaling").await, json!(true));
    assert_eq!(claim_sizes(&h, "datadir-wandb-mysql-pxc-0").await, ("30Gi".to_owned(), Some("30Gi".to_owned())));
    assert_eq!(claim_sizes(&h, "wandb-redis-wandb-redis-0").await, ("40Gi".to_owned(), Some("40Gi".to_owned())));
    h.wait_ready("apps", "wandb").await;
}

on_both_backends!(s02_a_claim_whose_storage_class_cannot_expand_refuses_the_growth);
async fn s02_a_claim_whose_storage_class_cannot_expand_refuses_the_growth(h: Harness) {
    h.namespace("apps").await;
    // Redis's claim exists beforehand, in the class that does not expand (its StatefulSet
    // adopts it by name).
    let claims: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> = h.api("apps");
    let claim = serde_json::from_value(json!({"metadata": {"name": "wandb-redis-wandb-redis-0"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": kube_control_plane::kubelet::FIXED_CLASS,
            "resources": {"requests": {"storage": "10Gi"}}}}))
    .unwrap();
    claims.create(&Default::default(), &claim).await.unwrap();
    if !h.is_real() {
        let status = json!({"status": {"phase": "Bound", "capacity": {"storage": "10Gi"}}});
        claims
            .patch_status("wandb-redis-wandb-redis-0", &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap();
    }
    h.apply_yaml("apps", &DEV.replace("size: dev\n", "size: dev\n  redis:\n    storageSize: 10Gi\n")).await;
    h.wait_ready("apps", "wandb").await;
    patch_spec(&h, json!({"redis": {"storageSize": "20Gi"}})).await;
    let w = h
        .wait_for("apps", "wandb", "growth refused", |w| {
            details_of(w, "redis").iter().any(|d| d.code == "StorageExpansionUnsupported")
        })
        .await;
    let refusal = details_of(&w, "redis").into_iter().find(|d| d.code == "StorageExpansionUnsupported").unwrap();
    assert!(
        refusal.message.contains("StorageClass fixed") && refusal.message.contains("allowVolumeExpansion"),
        "{}",
        refusal.message
    );
    let redis = h.dyn_api("apps", "redis.redis.opstreelabs.in/v1beta2", "Redis", "redis");
    let applied = get(&redis, "wandb-redis", "/spec/storage/volumeClaimTemplate/spec/resources/requests/storage").await;
    assert_eq!(applied, json!("10Gi"), "nothing applied");
    assert_eq!(claim_sizes(&h, "wandb-redis-wandb-redis-0").await.0, "10Gi");
    assert!(w.status.unwrap().mysql_status.unwrap().ready, "the other components are not held");
}

on_both_backends!(s03_minio_refuses_to_grow_and_says_what_to_do);
async fn s03_minio_refuses_to_grow_and_says_what_to_do(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let tenant = h.dyn_api("apps", "minio.min.io/v2", "Tenant", "tenants");
    let pointer = "/spec/pools/0/volumeClaimTemplate/spec/resources/requests/storage";
    let before = get(&tenant, "wandb-minio", pointer).await;
    patch_spec(&h, json!({"minio": {"storageSize": "500Gi"}})).await;
    let w = h
        .wait_for("apps", "wandb", "growth refused", |w| {
            details_of(w, "minio").iter().any(|d| d.code == "StorageExpansionUnsupported")
        })
        .await;
    let refusal = details_of(&w, "minio").into_iter().find(|d| d.code == "StorageExpansionUnsupported").unwrap();
    assert!(refusal.message.contains("external S3"), "{}", refusal.message);
    assert_eq!(get(&tenant, "wandb-minio", pointer).await, before, "nothing applied");
}

on_both_backends!(s04_dev_to_small_refuses_to_change_minios_pool_geometry);
async fn s04_dev_to_small_refuses_to_change_minios_pool_geometry(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let tenant = h.dyn_api("apps", "minio.min.io/v2", "Tenant", "tenants");
    let pool = get(&tenant, "wandb-minio", "/spec/pools/0").await;
    assert_eq!((pool["servers"].clone(), pool["volumesPerServer"].clone()), (json!(1), json!(1)));
    patch_spec(&h, json!({"size": "small"})).await;
    let w = h
        .wait_for("apps", "wandb", "pool geometry refused", |w| {
            details_of(w, "minio").iter().any(|d| d.code == "PoolGeometryChangeRefused")
        })
        .await;
    let refusal = details_of(&w, "minio").into_iter().find(|d| d.code == "PoolGeometryChangeRefused").unwrap();
    assert!(refusal.message.contains("servers") && refusal.message.contains("external S3"), "{}", refusal.message);
    assert_eq!(get(&tenant, "wandb-minio", "/spec/pools/0").await, pool, "the pool is untouched");

    // The plan in status: per component what changes, what restarts, what is refused; the
    // same plan `render --from` prints offline.
    let w = h.wandb_api("apps").get("wandb").await.unwrap();
    let status = w.status.clone().unwrap();
    assert_eq!(status.size.as_deref(), Some("small"));
    let plan = status.plan.expect("a plan for the size change");
    assert_eq!((plan.from.as_str(), plan.to.as_str()), ("dev", "small"));
    let of = |key: &str| plan.components.iter().find(|c| c.component == key).unwrap().clone();
    assert_eq!(of("minio").refused.unwrap().code, "PoolGeometryChangeRefused");
    assert!(of("redis").refused.is_none(), "Redis grows beside its standalone: {:?}", of("redis"));
    assert_eq!(of("clickhouse").refused.unwrap().code, "ReplicationChangeRefused");
    let mysql = of("mysql");
    assert!(mysql.action == "update" && mysql.restart, "{mysql:?}");
    assert!(mysql.changes.iter().any(|c| c.ends_with("spec.pxc.size: 1 -> 3")), "{:?}", mysql.changes);
    let mut dev = w.clone();
    dev.spec.size = serde_json::from_value(json!("dev")).unwrap();
    let offline = wandb_operator::registry::change_plan::change_plan(
        &dev,
        &w,
        &wandb_operator::registry::Registry::default(),
        wandb_operator::model::Edition::LATEST,
    )
    .unwrap();
    assert_eq!(offline, plan);
    // Kept while something is not ready at the new size.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(h.wandb_api("apps").get("wandb").await.unwrap().status.unwrap().plan.is_some());
}

on_both_backends!(s05_dev_to_small_keeps_clickhouse_on_one_replica_until_replicas_are_asked_for);
async fn s05_dev_to_small_keeps_clickhouse_on_one_replica_until_replicas_are_asked_for(h: Harness) {
    const RESOURCE: &str = "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n  mysql: {enabled: false}\n  redis: {enabled: false}\n  kafka: {enabled: false}\n  minio: {enabled: false}\n";
    h.namespace("apps").await;
    h.apply_yaml("apps", RESOURCE).await;
    h.wait_ready("apps", "wandb").await;
    let chi = h.dyn_api("apps", "clickhouse.altinity.com/v1", "ClickHouseInstallation", "clickhouseinstallations");
    let chk = h.dyn_api(
        "apps",
        "clickhouse-keeper.altinity.com/v1",
        "ClickHouseKeeperInstallation",
        "clickhousekeeperinstallations",
    );
    const REPLICAS: &str = "/spec/configuration/clusters/0/layout/replicasCount";
    let before = chi.get("wandb-clickhouse").await.unwrap();
    assert_eq!(before.data.pointer(REPLICAS), Some(&json!(1)));

    // The size alone: refused, nothing written to ClickHouse (no Keeper either).
    let mark = h.request_mark();
    patch_spec(&h, json!({"size": "small"})).await;
    let w = h
        .wait_for("apps", "wandb", "ReplicationChangeRefused", |w| {
            has_detail(w, "clickhouse", "ReplicationChangeRefused")
        })
        .await;
    let refusal = details_of(&w, "clickhouse").into_iter().find(|d| d.code == "ReplicationChangeRefused").unwrap();
    assert!(
        refusal.message.contains("from 1 to 3") && refusal.message.contains("spec.clickhouse.replicas: 1"),
        "{}",
        refusal.message
    );
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let writes = h.operator_writes_since(mark);
    assert!(writes_to(&writes, "clickhouseinstallations").is_empty(), "{writes:#?}");
    assert!(writes_to(&writes, "clickhousekeeperinstallations").is_empty(), "{writes:#?}");
    assert!(chk.get_opt("wandb-keeper").await.unwrap().is_none());

    let plan = w.status.as_ref().unwrap().plan.clone().expect("the plan of the size change");
    let clickhouse = plan.components.iter().find(|c| c.component == "clickhouse").unwrap();
    assert_eq!(clickhouse.refused.as_ref().unwrap().code, "ReplicationChangeRefused");

    // Keeping one replica: the rest of small applies, and the plan is done with.
    patch_spec(&h, json!({"clickhouse": {"replicas": 1}})).await;
    let w = h.wait_ready("apps", "wandb").await;
    assert_eq!(w.status.unwrap().plan, None, "every component is ready at the new size");
    assert_eq!(get(&chi, "wandb-clickhouse", REPLICAS).await, json!(1));

    // Asked for explicitly: three replicas, with their Keeper.
    patch_spec(&h, json!({"clickhouse": {"replicas": 3}})).await;
    h.eventually("three replicas and a Keeper", || async {
        get(&chi, "wandb-clickhouse", REPLICAS).await == json!(3)
            && chk.get_opt("wandb-keeper").await.unwrap().is_some()
    })
    .await;
    let w = h.wait_ready("apps", "wandb").await;
    assert!(!has_detail(&w, "clickhouse", "ReplicationChangeRefused"));
}

fn upgrade_of(w: &WeightsAndBiases, component: &str) -> Option<wandb_operator::api::UpgradeStatus> {
    let s = w.status.as_ref()?;
    match component {
        "kafka" => s.kafka_status.as_ref()?.upgrade.as_deref().cloned(),
        "mysql" => s.mysql_status.as_ref()?.upgrade.as_deref().cloned(),
        "clickhouse" => s.clickhouse_status.as_ref()?.upgrade.as_deref().cloned(),
        _ => None,
    }
}

fn has_detail(w: &WeightsAndBiases, component: &str, code: &str) -> bool {
    details_of(w, component).iter().any(|d| d.code == code)
}

fn condition_status(w: &WeightsAndBiases, type_: &str) -> Option<String> {
    let status = w.status.as_ref()?;
    status.conditions.iter().find(|c| c.type_ == type_).map(|c| c.status.clone())
}

/// A change that wakes a simulator up (an annotation of another field manager).
async fn touch(api: &Api<DynamicObject>, name: &str, n: u32) {
    let patch = json!({"metadata": {"annotations": {"test.wandb.com/touch": n.to_string()}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch)).await.unwrap();
}

const UPGRADE_RESOURCE: &str = "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: small\n  mysql: {enabled: false}\n  redis: {enabled: false}\n  minio: {enabled: false}\n";
const POD_IMAGE: &str = "/spec/templates/podTemplates/0/spec/containers/0/image";
const NEW_CLICKHOUSE: &str = "26.4.1.1";

/// ClickHouse: the Keeper gets the new version first; the server keeps its version until the
/// Keeper runs the new one (the simulated Altinity holds the Keeper back, as a failed roll
/// would), then follows.
async fn clickhouse_upgrades_keeper_first(h: &Harness) {
    let chk = h.dyn_api(
        "apps",
        "clickhouse-keeper.altinity.com/v1",
        "ClickHouseKeeperInstallation",
        "clickhousekeeperinstallations",
    );
    let chi = h.dyn_api("apps", "clickhouse.altinity.com/v1", "ClickHouseInstallation", "clickhouseinstallations");
    let server_before = get(&chi, "wandb-clickhouse", POD_IMAGE).await;
    h.eventually("the Keeper gets the new version", || async {
        get(&chk, "wandb-keeper", POD_IMAGE).await == json!(format!("clickhouse/clickhouse-keeper:{NEW_CLICKHOUSE}"))
    })
    .await;
    let w = h
        .wait_for("apps", "wandb", "the server waits for the Keeper", |w| {
            upgrade_of(w, "clickhouse").is_some_and(|u| u.message.contains("waiting for ClickHouse Keeper"))
        })
        .await;
    let upgrade = upgrade_of(&w, "clickhouse").unwrap();
    assert_eq!((upgrade.to.as_str(), upgrade.step.as_str()), (NEW_CLICKHOUSE, "1/2 ClickHouse Keeper"), "{upgrade:?}");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(get(&chi, "wandb-clickhouse", POD_IMAGE).await, server_before, "the server waits for the Keeper");
    h.sims.fail("ClickHouseKeeperInstallation", false);
    touch(&chk, "wandb-keeper", 1).await;
    h.eventually("the server follows", || async {
        get(&chi, "wandb-clickhouse", POD_IMAGE).await
            == json!(format!("clickhouse/clickhouse-server:{NEW_CLICKHOUSE}"))
    })
    .await;
}

/// Kafka: the brokers get the new `version`; `metadataVersion` stays until Strimzi reports
/// that they run it (the simulated Strimzi fails the roll first), then follows.
async fn kafka_upgrades_brokers_before_metadata(h: &Harness) {
    let kafka = h.dyn_api("apps", "kafka.strimzi.io/v1", "Kafka", "kafkas");
    h.eventually("the brokers get 4.3.0", || async {
        get(&kafka, "wandb-kafka", "/spec/kafka/version").await == json!("4.3.0")
    })
    .await;
    let w = h
        .wait_for("apps", "wandb", "the metadata version waits for the brokers", |w| {
            upgrade_of(w, "kafka").is_some_and(|u| u.message.contains("waiting for Kafka to run 4.3.0"))
        })
        .await;
    assert_eq!(upgrade_of(&w, "kafka").unwrap().step, "1/2 Kafka");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(get(&kafka, "wandb-kafka", "/spec/kafka/metadataVersion").await, json!("4.2-IV1"));
    h.sims.fail("Kafka", false);
    touch(&kafka, "wandb-kafka", 1).await;
    h.eventually("the metadata version follows", || async {
        get(&kafka, "wandb-kafka", "/spec/kafka/metadataVersion").await == json!("4.3-IV0")
    })
    .await;
}

on_both_backends!(u01_version_changes_upgrade_one_component_at_a_time_in_each_vendors_order);
async fn u01_version_changes_upgrade_one_component_at_a_time_in_each_vendors_order(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", UPGRADE_RESOURCE).await;
    let w = h.wait_ready("apps", "wandb").await;
    assert_eq!(condition_status(&w, "Upgrading"), None, "no Upgrading condition before any upgrade");
    // Both vendors hold their first step back until told otherwise.
    h.sims.fail("ClickHouseKeeperInstallation", true);
    h.sims.fail("Kafka", true);
    let mark = h.request_mark();
    patch_spec(&h, json!({"clickhouse": {"version": NEW_CLICKHOUSE}, "kafka": {"version": "4.3.0"}})).await;
    let w = h
        .wait_for("apps", "wandb", "one upgrades, the other waits", |w| {
            upgrade_of(w, "clickhouse").is_some() && upgrade_of(w, "kafka").is_some()
        })
        .await;
    let clickhouse_first = has_detail(&w, "clickhouse", "Upgrading");
    let (first, second) = if clickhouse_first { ("clickhouse", "kafka") } else { ("kafka", "clickhouse") };
    assert!(has_detail(&w, first, "Upgrading") && has_detail(&w, second, "UpgradeWaiting"), "{:#?}", w.status);
    assert_eq!(upgrade_of(&w, second).unwrap().step, "waiting");
    assert_eq!(condition_status(&w, "Upgrading").as_deref(), Some("True"));
    for component in [first, second] {
        match component {
            "clickhouse" => clickhouse_upgrades_keeper_first(&h).await,
            _ => kafka_upgrades_brokers_before_metadata(&h).await,
        }
    }
    let w = h
        .wait_for("apps", "wandb", "both upgraded", |w| {
            condition_status(w, "Upgrading").as_deref() == Some("False")
                && upgrade_of(w, "clickhouse").is_none()
                && upgrade_of(w, "kafka").is_none()
        })
        .await;
    // The order of the writes (the request log, or the real server's audit log): the Keeper
    // before the server.
    let writes = h.operator_writes_since(mark);
    let first = |resource: &str| writes.iter().position(|(_, r, _)| r == resource);
    let (keeper, server) = (first("clickhousekeeperinstallations"), first("clickhouseinstallations"));
    assert!(
        keeper.is_some() && server.is_some() && keeper < server,
        "Keeper {keeper:?}, server {server:?}: {writes:#?}"
    );
    let status = w.status.unwrap();
    assert_eq!(status.clickhouse_status.unwrap().version.as_deref(), Some(NEW_CLICKHOUSE));
    assert_eq!(status.kafka_status.unwrap().version.as_deref(), Some("4.3.0"));
    h.wait_ready("apps", "wandb").await;
}

on_both_backends!(u02_a_lower_version_is_refused_and_nothing_is_written);
async fn u02_a_lower_version_is_refused_and_nothing_is_written(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", UPGRADE_RESOURCE).await;
    h.wait_ready("apps", "wandb").await;
    let chi = h.dyn_api("apps", "clickhouse.altinity.com/v1", "ClickHouseInstallation", "clickhouseinstallations");
    let server = get(&chi, "wandb-clickhouse", POD_IMAGE).await;
    let mark = h.request_mark();
    patch_spec(&h, json!({"clickhouse": {"version": "25.8.16.34"}})).await;
    let w = h.wait_for("apps", "wandb", "DowngradeRefused", |w| has_detail(w, "clickhouse", "DowngradeRefused")).await;
    let refusal = details_of(&w, "clickhouse").into_iter().find(|d| d.code == "DowngradeRefused").unwrap();
    assert!(refusal.message.contains("runs 26.3") && refusal.message.contains("25.8.16.34"), "{}", refusal.message);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let writes = h.operator_writes_since(mark);
    assert!(!writes.iter().any(|(_, r, _)| r.starts_with("clickhouse")), "{writes:#?}");
    assert_eq!(get(&chi, "wandb-clickhouse", POD_IMAGE).await, server);
    // Back to the running version: nothing to refuse, Ready again.
    patch_spec(&h, json!({"clickhouse": {"version": null}})).await;
    h.wait_ready("apps", "wandb").await;
}

on_both_backends!(u03_mysql_upgrades_in_place_within_its_line_and_refuses_a_new_major_without_backups);
async fn u03_mysql_upgrades_in_place_within_its_line_and_refuses_a_new_major_without_backups(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let pxc = h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
    let running = get(&pxc, "wandb-mysql", "/spec/pxc/image").await;
    assert!(running.as_str().unwrap().contains(":8.4."), "{running}");
    // A new major line without backups (dev): refused, nothing written.
    let mark = h.request_mark();
    patch_spec(&h, json!({"mysql": {"config": {"image": "percona/percona-xtradb-cluster:9.4.0-1.1"}}})).await;
    let w = h.wait_for("apps", "wandb", "BackupRequired", |w| has_detail(w, "mysql", "BackupRequired")).await;
    let refusal = details_of(&w, "mysql").into_iter().find(|d| d.code == "BackupRequired").unwrap();
    assert!(refusal.message.contains("9.4.0-1.1") && refusal.message.contains("backup"), "{}", refusal.message);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let writes = h.operator_writes_since(mark);
    assert!(writes_to(&writes, "perconaxtradbclusters").is_empty(), "{writes:#?}");
    assert_eq!(get(&pxc, "wandb-mysql", "/spec/pxc/image").await, running);
    // A newer patch of the same line: applied (Percona rolls the nodes), shown as an upgrade
    // until the vendor reports the cluster ready again.
    patch_spec(&h, json!({"mysql": {"config": null, "version": "8.4.9-9.1"}})).await;
    h.eventually("the new image applied", || async {
        get(&pxc, "wandb-mysql", "/spec/pxc/image").await == json!("percona/percona-xtradb-cluster:8.4.9-9.1")
    })
    .await;
    let w = h
        .wait_for("apps", "wandb", "the upgrade came and went", |w| {
            condition_status(w, "Upgrading").as_deref() == Some("False")
        })
        .await;
    assert!(!has_detail(&w, "mysql", "BackupRequired"), "{:?}", details_of(&w, "mysql"));
    h.wait_ready("apps", "wandb").await;
}

on_both_backends!(u04_redis_version_moves_servers_and_refuses_to_go_back);
async fn u04_redis_version_moves_servers_and_refuses_to_go_back(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let redis = h.dyn_api("apps", "redis.redis.opstreelabs.in/v1beta2", "Redis", "redis");
    patch_spec(&h, json!({"redis": {"version": "7.4.12"}})).await;
    h.eventually("Redis 7.4.12 applied", || async {
        get(&redis, "wandb-redis", "/spec/kubernetesConfig/image").await == json!("quay.io/opstree/redis:v7.4.12")
    })
    .await;
    let mark = h.request_mark();
    patch_spec(&h, json!({"redis": {"version": "7.4.11"}})).await;
    let w = h.wait_for("apps", "wandb", "DowngradeRefused", |w| has_detail(w, "redis", "DowngradeRefused")).await;
    let refusal = details_of(&w, "redis").into_iter().find(|d| d.code == "DowngradeRefused").unwrap();
    assert!(refusal.message.contains("Redis runs 7.4.12"), "{}", refusal.message);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(writes_to(&h.operator_writes_since(mark), "redis").is_empty());
    assert_eq!(
        get(&redis, "wandb-redis", "/spec/kubernetesConfig/image").await,
        json!("quay.io/opstree/redis:v7.4.12")
    );
}

const MYSQL_80: &str = "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n  redis: {enabled: false}\n  kafka: {enabled: false}\n  clickhouse: {enabled: false}\n  mysql: {version: 8.0.42-33.1}\n";

on_both_backends!(u05_mysql_moves_to_84_only_behind_a_fresh_backup_and_through_the_latest_80);
async fn u05_mysql_moves_to_84_only_behind_a_fresh_backup_and_through_the_latest_80(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", MYSQL_80).await;
    h.wait_ready("apps", "wandb").await;
    let pxc = h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
    let backups = h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBClusterBackup", "perconaxtradbclusterbackups");
    assert_eq!(get(&pxc, "wandb-mysql", "/spec/pxc/image").await, json!("percona/percona-xtradb-cluster:8.0.42-33.1"));

    // Backups off: the major is refused, nothing written.
    let mark = h.request_mark();
    patch_spec(&h, json!({"mysql": {"version": "8.4.8-8.1"}})).await;
    let w = h.wait_for("apps", "wandb", "BackupRequired", |w| has_detail(w, "mysql", "BackupRequired")).await;
    let refusal = details_of(&w, "mysql").into_iter().find(|d| d.code == "BackupRequired").unwrap();
    assert!(
        refusal.message.contains("8.4.8-8.1") && refusal.message.contains("spec.mysql.backup"),
        "{}",
        refusal.message
    );
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let writes = h.operator_writes_since(mark);
    assert!(writes_to(&writes, "perconaxtradbclusters").is_empty(), "{writes:#?}");
    assert!(writes_to(&writes, "perconaxtradbclusterbackups").is_empty(), "{writes:#?}");

    // Backups on, and the backup fails: the upgrade waits, MySQL stays on 8.0 with the
    // XtraBackup of the 8.0 line.
    h.sims.fail("PerconaXtraDBClusterBackup", true);
    patch_spec(&h, json!({"mysql": {"backup": {"enabled": true}}})).await;
    let w = h.wait_for("apps", "wandb", "UpgradeBackupFailed", |w| has_detail(w, "mysql", "UpgradeBackupFailed")).await;
    let upgrade = upgrade_of(&w, "mysql").expect("the upgrade is shown");
    assert_eq!(
        (upgrade.from.as_str(), upgrade.to.as_str(), upgrade.step.as_str()),
        ("8.0.42-33.1", "8.4.8-8.1", "1/3 backup")
    );
    assert_eq!(upgrade.backup, None, "no backup succeeded");
    let failed = backups.list(&Default::default()).await.unwrap().items;
    let failed = failed.iter().find(|b| b.name_any().starts_with("wandb-mysql-now-")).expect("the upgrade's backup");
    assert_eq!(get(&pxc, "wandb-mysql", "/spec/pxc/image").await, json!("percona/percona-xtradb-cluster:8.0.42-33.1"));
    assert_eq!(get(&pxc, "wandb-mysql", "/spec/backup/image").await, json!("percona/percona-xtrabackup:8.0.35-35.1"));

    // Deleting the failed backup takes another; once it succeeded MySQL moves to the latest
    // 8.0 first (held there: the simulated Percona does not report it ready yet).
    h.sims.fail("PerconaXtraDBCluster", true);
    h.sims.fail("PerconaXtraDBClusterBackup", false);
    backups.delete(&failed.name_any(), &Default::default()).await.unwrap();
    let w = h
        .wait_for("apps", "wandb", "at the latest 8.0", |w| {
            upgrade_of(w, "mysql").is_some_and(|u| u.step == "2/3 MySQL 8.0.45-36.1" && u.message.contains("waiting"))
        })
        .await;
    let upgrade = upgrade_of(&w, "mysql").unwrap();
    assert_eq!(upgrade.backup.as_deref(), Some(failed.name_any().as_str()), "the backup it went ahead behind");
    let backup = backups.get(&failed.name_any()).await.unwrap();
    assert_eq!(backup.data.pointer("/status/state"), Some(&json!("Succeeded")));
    assert_eq!(get(&pxc, "wandb-mysql", "/spec/pxc/image").await, json!("percona/percona-xtradb-cluster:8.0.45-36.1"));
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(
        get(&pxc, "wandb-mysql", "/spec/pxc/image").await,
        json!("percona/percona-xtradb-cluster:8.0.45-36.1"),
        "8.4 waits until the latest 8.0 is settled"
    );

    // Ready on the latest 8.0: 8.4 follows, with the XtraBackup of the 8.4 line.
    h.sims.fail("PerconaXtraDBCluster", false);
    touch(&pxc, "wandb-mysql", 1).await;
    let w = h
        .wait_for("apps", "wandb", "upgraded to 8.4", |w| {
            condition_status(w, "Upgrading").as_deref() == Some("False") && upgrade_of(w, "mysql").is_none()
        })
        .await;
    assert_eq!(w.status.unwrap().mysql_status.unwrap().version.as_deref(), Some("8.4.8-8.1"));
    assert_eq!(get(&pxc, "wandb-mysql", "/spec/pxc/image").await, json!("percona/percona-xtradb-cluster:8.4.8-8.1"));
    assert_eq!(get(&pxc, "wandb-mysql", "/spec/backup/image").await, json!("percona/percona-xtrabackup:8.4.0-5.1"));
    h.wait_ready("apps", "wandb").await;
}

const REDIS_DEV: &str = "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n  mysql: {enabled: false}\n  kafka: {enabled: false}\n  minio: {enabled: false}\n  clickhouse: {enabled: false}\n";

fn redis_details(w: &WeightsAndBiases) -> Vec<String> {
    details_of(w, "redis").into_iter().map(|d| d.code).collect()
}

/// dev → small for Redis: the replication + sentinel pair comes up beside the standalone
/// (its replication named apart: the standalone's StatefulSet and Services have the pair's
/// names), the connection Secret keeps naming the standalone until the pair is ready, then
/// switches, then the standalone is retired by the retention policy.
async fn redis_grows_to_small(h: &Harness, purge: bool) {
    h.namespace("apps").await;
    let resource = if purge {
        format!("{REDIS_DEV}  redis: {{retentionPolicy: {{onDelete: purge}}}}\n")
    } else {
        REDIS_DEV.to_owned()
    };
    h.apply_yaml("apps", &resource).await;
    h.wait_ready("apps", "wandb").await;
    let standalone_api = h.dyn_api("apps", "redis.redis.opstreelabs.in/v1beta2", "Redis", "redis");
    let replications = h.dyn_api("apps", "redis.redis.opstreelabs.in/v1beta2", "RedisReplication", "redisreplications");
    let sentinels = h.dyn_api("apps", "redis.redis.opstreelabs.in/v1beta2", "RedisSentinel", "redissentinels");
    let standalone = standalone_api.get("wandb-redis").await.unwrap();
    let before = h.secret_data("apps", "wandb-redis-connection").await.unwrap();
    assert!(before["URL"].contains("@wandb-redis."), "{before:?}");
    let standalone_claims: Vec<String> =
        h.pvcs("apps").await.into_iter().filter(|c| c.starts_with("wandb-redis-wandb-redis-")).collect();
    assert!(!standalone_claims.is_empty());

    // The pair comes up beside the standalone, not ready yet (no master elected).
    h.sims.fail("RedisReplication", true);
    patch_spec(h, json!({"size": "small"})).await;
    let w = h.wait_for("apps", "wandb", "Replacing", |w| redis_details(w).contains(&"Replacing".to_owned())).await;
    let plan = w.status.as_ref().unwrap().plan.clone().expect("the plan of the size change");
    let redis_plan = plan.components.iter().find(|c| c.component == "redis").unwrap();
    assert!(redis_plan.refused.is_none() && redis_plan.connection_changes, "{redis_plan:?}");
    let replication = replications.get("wandb-redis-ha").await.unwrap();
    assert!(replication.owner_references().iter().any(|r| r.kind == "WeightsAndBiases"));
    let sentinel = sentinels.get("wandb-redis").await.unwrap();
    assert_eq!(sentinel.data.pointer("/spec/redisSentinelConfig/redisReplicationName"), Some(&json!("wandb-redis-ha")));
    assert!(replications.get_opt("wandb-redis").await.unwrap().is_none(), "nothing named like the standalone");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(h.secret_data("apps", "wandb-redis-connection").await.unwrap(), before, "clients keep the standalone");
    let still = standalone_api.get("wandb-redis").await.unwrap();
    assert_eq!(
        (still.data["spec"].clone(), still.metadata.deletion_timestamp),
        (standalone.data["spec"].clone(), None)
    );

    // Ready: the Secret names the sentinels, and the standalone is retired.
    h.sims.fail("RedisReplication", false);
    touch(&replications, "wandb-redis-ha", 1).await;
    h.eventually("the connection Secret names the sentinels", || async {
        h.secret_data("apps", "wandb-redis-connection")
            .await
            .is_some_and(|s| s.contains_key("REDIS_SENTINEL_HOST") && s["URL"].contains("master="))
    })
    .await;
    let w = h.wait_ready("apps", "wandb").await;
    let codes = redis_details(&w);
    assert!(!codes.iter().any(|c| c == "Replacing" || c == "Retiring"), "{codes:?}");
    if purge {
        h.eventually("the standalone and its claims deleted", || async {
            standalone_api.get_opt("wandb-redis").await.unwrap().is_none()
                && !h.pvcs("apps").await.iter().any(|c| standalone_claims.contains(c))
        })
        .await;
    } else {
        let kept = standalone_api.get("wandb-redis").await.unwrap();
        assert!(kept.owner_references().is_empty(), "detached: {:?}", kept.owner_references());
        assert!(kept.metadata.deletion_timestamp.is_none());
        let claims = h.pvcs("apps").await;
        assert!(standalone_claims.iter().all(|c| claims.contains(c)), "its data is kept: {claims:?}");
    }
    assert!(h.pvcs("apps").await.iter().any(|c| c.starts_with("wandb-redis-ha-wandb-redis-ha-")), "the pair's claims");
    // Converged: nothing more is written.
    let mark = h.request_mark();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let writes = h.operator_writes_since(mark);
    assert!(writes.is_empty(), "{writes:#?}");
}

on_both_backends!(r01_redis_grows_to_small_beside_the_standalone_which_is_detached);
async fn r01_redis_grows_to_small_beside_the_standalone_which_is_detached(h: Harness) {
    redis_grows_to_small(&h, false).await;
}

on_both_backends!(r02_redis_grows_to_small_and_purges_the_standalone_with_its_claims);
async fn r02_redis_grows_to_small_and_purges_the_standalone_with_its_claims(h: Harness) {
    redis_grows_to_small(&h, true).await;
}
