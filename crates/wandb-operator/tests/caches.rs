//! What the operator watches and caches (issue 10): only objects carrying our labels, never
//! PersistentVolumeClaims, and a start that copes with more cached objects than any queue
//! holds. On the emulator, whose request log shows every request the operator makes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use support::Harness;
use wandb_operator::api::State;

const DEV: &str =
    "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n";

/// Before the fix the watches fed a queue of 4,096 objects that nothing drained until every
/// cache had listed: a start with more objects than that stalled forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_with_more_cached_objects_than_the_trigger_queue_still_converges() {
    let mut h = Harness::without_operator(&[]).await;
    h.namespace("crowded").await;
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(h.client.clone(), "crowded");
    futures::stream::iter(0..4_500)
        .map(|i| {
            let secrets = secrets.clone();
            async move {
                let body = json!({"metadata": {"name": format!("s-{i}"), "labels": {
                    "app.kubernetes.io/managed-by": "wandb-operator",
                    "weightsandbiases.apps.wandb.com/name": "gone", "weightsandbiases.apps.wandb.com/namespace": "crowded"}}});
                secrets.create(&PostParams::default(), &serde_json::from_value(body).unwrap()).await.map(|_| ())
            }
        })
        .buffer_unordered(16)
        .try_collect::<()>()
        .await
        .unwrap();
    h.start_operator();
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_watch_is_narrowed_to_our_labels_and_claims_are_not_watched() {
    let h = Harness::start(&[]).await;
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let requests = h.operator_requests(0);
    let watches: Vec<_> = requests.iter().filter(|r| r.watch).collect();
    assert!(watches.iter().any(|r| r.path.ends_with("/statefulsets")), "StatefulSets are watched: {watches:#?}");
    for watch in &watches {
        if watch.path.ends_with("/weightsandbiases") || watch.path.contains("/leases") {
            continue;
        }
        // The exceptions (docs/architecture.md): Percona's scheduled backups carry
        // Percona's labels, not ours, and are few per cluster.
        // The second: the vendors' CRDs, watched for their release labels (metadata only, a
        // few hundred bytes per CRD; vendors label them their own way).
        if watch.path == "/apis/apiextensions.k8s.io/v1/customresourcedefinitions" {
            continue;
        }
        // The third: the cluster's CA ConfigMap, one per namespace, selected by its name.
        if watch.path.ends_with("/configmaps") {
            assert!(
                watch.query.contains("fieldSelector=metadata.name%3Dkube-root-ca.crt"),
                "ConfigMaps are watched by name only: {}",
                watch.query
            );
            continue;
        }
        if watch.path.ends_with("/perconaxtradbclusterbackups") {
            assert!(!watch.query.contains("labelSelector"), "backups are watched whole: {}", watch.query);
            continue;
        }
        assert!(
            watch.query.contains("labelSelector=app.kubernetes.io%2Fmanaged-by%3Dwandb-operator"),
            "a watch without our label selector: {} ?{}",
            watch.path,
            watch.query
        );
    }
    // Claims are never watched: they are listed (metadata and status) only for the storage
    // status, until each managed component's capacity is known, and then no more.
    let claims: Vec<_> = requests.iter().filter(|r| r.path.contains("persistentvolumeclaims")).collect();
    assert!(claims.iter().all(|r| !r.watch && r.method == "GET"), "claims are only listed: {claims:#?}");
    h.wait_for("apps", "wandb", "every capacity known", |w| {
        let Some(s) = &w.status else { return false };
        [
            s.mysql_status.as_ref().map(|c| &c.storage),
            s.redis_status.as_ref().map(|c| &c.storage),
            s.kafka_status.as_ref().map(|c| &c.storage),
            s.minio_status.as_ref().map(|c| &c.storage),
            s.clickhouse_status.as_ref().map(|c| &c.storage),
        ]
        .iter()
        .all(|storage| storage.and_then(|s| s.as_ref()).is_some_and(|s| s.capacity.is_some()))
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let from = h.emulator().request_log().len();
    let touch = json!({"metadata": {"annotations": {"touched": "1"}}});
    h.wandb_api("apps").patch("wandb", &PatchParams::default(), &Patch::Merge(touch)).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let later: Vec<_> =
        h.operator_requests(from).into_iter().filter(|r| r.path.contains("persistentvolumeclaims")).collect();
    assert!(later.is_empty(), "claims read once every capacity is known: {later:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_purge_lists_claims_no_more() {
    let h = Harness::start(&[]).await;
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let disable = json!({"spec": {"redis": {"enabled": false, "retentionPolicy": {"onDelete": "purge"}}}});
    h.wandb_api("apps").patch("wandb", &PatchParams::default(), &Patch::Merge(disable)).await.unwrap();
    h.wait_for("apps", "wandb", "redis purged", |w| {
        w.status
            .as_ref()
            .and_then(|s| s.redis_status.as_ref())
            .is_some_and(|r| r.state == State::Offline && r.details.iter().any(|d| d.code == "Purged"))
    })
    .await;
    let purging = h.operator_requests(0);
    assert!(
        purging.iter().any(|r| r.method == "GET" && r.path.ends_with("/persistentvolumeclaims")),
        "the purge listed the namespace's claims"
    );
    assert!(!h.pvcs("apps").await.iter().any(|p| p.starts_with("wandb-redis-")), "the Redis claims are gone");
    // Resync: touch the resource several times; the finished purge is not redone.
    let from = h.emulator().request_log().len();
    let reconciles = h.metrics.reconciles();
    for round in 0..3 {
        let touch = json!({"metadata": {"annotations": {"test.wandb.com/touch": round.to_string()}}});
        h.wandb_api("apps").patch("wandb", &PatchParams::default(), &Patch::Merge(touch)).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    h.eventually("the touches were reconciled", || async { h.metrics.reconciles() > reconciles }).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let after: Vec<_> =
        h.operator_requests(from).into_iter().filter(|r| r.path.contains("persistentvolumeclaims")).collect();
    assert!(after.is_empty(), "claims listed again after the purge finished: {after:#?}");
}
