//! The plan of a change (issue 21, item 5), from two specs: what each component does, what
//! restarts, what is refused and why (`registry::change_plan`; the operator writes the same
//! into `status.plan`, `render --from` prints it).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on unexpected errors

use wandb_operator::api::{ChangePlan, ComponentPlan, WeightsAndBiases};
use wandb_operator::model::Edition;
use wandb_operator::registry::Registry;
use wandb_operator::registry::change_plan::change_plan;

fn manifest(spec: &str) -> WeightsAndBiases {
    let text = format!(
        "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {{name: wandb, namespace: apps}}\nspec:\n{spec}"
    );
    serde_saphyr::from_str(&text).unwrap()
}

fn component<'a>(plan: &'a ChangePlan, key: &str) -> &'a ComponentPlan {
    plan.components.iter().find(|c| c.component == key).unwrap()
}

#[test]
fn dev_to_small_shows_what_changes_restarts_and_is_refused() {
    let plan =
        change_plan(&manifest("  size: dev\n"), &manifest("  size: small\n"), &Registry::default(), Edition::LATEST)
            .unwrap();
    assert_eq!((plan.from.as_str(), plan.to.as_str()), ("dev", "small"));
    let mysql = component(&plan, "mysql");
    assert_eq!(mysql.action, "update");
    assert!(mysql.restart, "{mysql:?}");
    assert!(mysql.changes.iter().any(|c| c.contains("spec.pxc.size: 1 -> 3")), "{:#?}", mysql.changes);
    // TLS on and the endpoint moves to HAProxy: clients must pick the new Secret up.
    assert!(mysql.connection_changes, "{mysql:#?}");
    assert!(mysql.changes.iter().any(|c| c.contains("MYSQL_TLS")), "{:#?}", mysql.changes);
    assert!(!component(&plan, "kafka").changes.iter().any(|c| c.contains("PASSWORD:")), "no credential value");
    let kafka = component(&plan, "kafka");
    assert!(kafka.notes.iter().any(|n| n.contains("keep replication factor 1")), "{kafka:#?}");
    let minio = component(&plan, "minio");
    assert_eq!(minio.action, "refused");
    assert_eq!(minio.refused.as_ref().unwrap().code, "PoolGeometryChangeRefused");
    let clickhouse = component(&plan, "clickhouse");
    assert_eq!(clickhouse.refused.as_ref().unwrap().code, "ReplicationChangeRefused");
    // Redis: the pair beside the standalone, which it replaces.
    let redis = component(&plan, "redis");
    assert_eq!((redis.action.as_str(), redis.refused.as_ref()), ("update", None), "{redis:#?}");
    assert!(redis.changes.iter().any(|c| c.starts_with("RedisReplication/wandb-redis-ha created")), "{redis:#?}");
    assert!(redis.changes.iter().any(|c| c.starts_with("Redis/wandb-redis kept until")), "{redis:#?}");
    assert!(redis.connection_changes);
}

#[test]
fn no_change_is_unchanged_and_replicas_alone_restart_nothing() {
    let registry = Registry::default();
    let same =
        change_plan(&manifest("  size: small\n"), &manifest("  size: small\n"), &registry, Edition::LATEST).unwrap();
    assert!(same.components.iter().all(|c| c.action == "unchanged" && c.changes.is_empty()), "{same:#?}");
    let more = change_plan(
        &manifest("  size: small\n"),
        &manifest("  size: small\n  kafka: {replicas: 5}\n"),
        &registry,
        Edition::LATEST,
    )
    .unwrap();
    let kafka = component(&more, "kafka");
    assert_eq!(kafka.action, "update");
    assert!(!kafka.restart, "{kafka:#?}");
    let off = change_plan(
        &manifest("  size: small\n"),
        &manifest("  size: small\n  kafka: {enabled: false}\n"),
        &registry,
        Edition::LATEST,
    )
    .unwrap();
    assert_eq!(component(&off, "kafka").action, "remove");
}
