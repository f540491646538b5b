//! What Percona does with backups, as far as the operator can see it: the schedule makes a
//! `PerconaXtraDBClusterBackup` (labelled Percona's way, not ours), every backup runs and
//! succeeds (or fails when the test says so), and a restore runs once.

use kube::api::{Api, DynamicObject, PostParams};
use kube::core::ApiResource;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use super::simulators::{Controls, write_status};

fn now() -> String {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap().to_string()
}

/// A ready cluster with a schedule gets one scheduled backup (what the first tick makes),
/// unless the test turned the schedule off.
pub async fn ensure_scheduled(client: &Client, backups: &ApiResource, cluster: &DynamicObject, controls: &Controls) {
    if controls.schedule_off.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let Some(schedule) = cluster.data.pointer("/spec/backup/schedule/0") else { return };
    let (Some(name), Some(storage)) = (schedule["name"].as_str(), schedule["storageName"].as_str()) else { return };
    let ns = cluster.namespace().unwrap_or_default();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, backups);
    let object = format!("cron-{}-{}-1", cluster.name_any(), storage);
    if api.get_metadata_opt(&object).await.ok().flatten().is_some() {
        return;
    }
    let backup = json!({
        "apiVersion": "pxc.percona.com/v1", "kind": "PerconaXtraDBClusterBackup",
        "metadata": {"name": object, "labels": {
            "percona.com/backup-type": "cron", "percona.com/cluster": cluster.name_any(),
            "percona.com/backup-ancestor": name}},
        "spec": {"pxcCluster": cluster.name_any(), "storageName": storage},
    });
    let _ = api.create(&PostParams::default(), &serde_json::from_value(backup).unwrap()).await;
}

async fn bucket_of(client: &Client, ns: &str, cluster: &str, storage: &str) -> String {
    let kind = super::api_resource("pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &kind);
    let Ok(object) = api.get(cluster).await else { return "unknown".to_owned() };
    object
        .data
        .pointer(&format!("/spec/backup/storages/{storage}/s3/bucket"))
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned()
}

/// A label with which a test keeps a backup away from the simulator (a record it wrote itself).
pub const HANDS_OFF: &str = "test.wandb.com/hands-off";

/// A backup: `Running`, then `Succeeded` with its destination (or `Failed`).
pub async fn backup(client: &Client, kind: &ApiResource, object: &DynamicObject, controls: &Controls) {
    if object.labels().contains_key(HANDS_OFF) {
        return;
    }
    let state = object.data.pointer("/status/state").and_then(Value::as_str).unwrap_or_default();
    let storage = object.data.pointer("/spec/storageName").and_then(Value::as_str).unwrap_or_default().to_owned();
    let status = match state {
        "" => json!({"state": "Running", "storageName": storage}),
        "Running" if controls.failing("PerconaXtraDBClusterBackup") => {
            json!({"state": "Failed", "storageName": storage, "error": "simulated xtrabackup failure: access denied to the bucket"})
        }
        "Running" => {
            let ns = object.namespace().unwrap_or_default();
            let cluster = object.data.pointer("/spec/pxcCluster").and_then(Value::as_str).unwrap_or_default();
            let bucket = bucket_of(client, &ns, cluster, &storage).await;
            json!({"state": "Succeeded", "storageName": storage, "completed": now(),
                   "destination": format!("s3://{bucket}/{}", object.name_any())})
        }
        _ => return,
    };
    write_status(client, kind, object, status).await;
}

/// A restore: `Restoring`, then `Succeeded` (or `Failed`).
pub async fn restore(client: &Client, kind: &ApiResource, object: &DynamicObject, controls: &Controls) {
    let state = object.data.pointer("/status/state").and_then(Value::as_str).unwrap_or_default();
    let status = match state {
        "" => json!({"state": "Restoring"}),
        "Restoring" if controls.failing("PerconaXtraDBClusterRestore") => {
            json!({"state": "Failed", "comments": "simulated restore failure: backup not found"})
        }
        "Restoring" => json!({"state": "Succeeded", "completed": now()}),
        _ => return,
    };
    // One restore per restore object: its first (empty) state may be delivered twice (its
    // creation and a metadata change) before the status write lands.
    let uid = object.metadata.uid.clone().unwrap_or_default();
    if state.is_empty() && controls.restored.lock().unwrap().insert(uid) {
        controls.restores.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    write_status(client, kind, object, status).await;
}
