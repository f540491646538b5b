//! MySQL backups and restore (issue 12), end to end on both backends, with the Percona
//! simulator doing what Percona does with a schedule (`support::percona_backups`): a scheduled
//! backup appears, runs and succeeds or fails; a restore runs once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kube::ResourceExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::json;
use support::Harness;
use wandb_operator::api::{BackupStatus, State, WeightsAndBiases};

fn backup_status(w: &WeightsAndBiases) -> Option<BackupStatus> {
    w.status.as_ref()?.mysql_status.as_ref()?.backup.clone()
}

fn mysql_codes(w: &WeightsAndBiases) -> Vec<String> {
    w.status
        .as_ref()
        .and_then(|s| s.mysql_status.as_ref())
        .map(|m| m.details.iter().map(|d| d.code.clone()).collect())
        .unwrap_or_default()
}

/// Only MySQL and MinIO (the backup storage), dev-sized, backups on.
fn with_backups(extra: &str) -> String {
    format!(
        "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n  redis: {{enabled: false}}\n  kafka: {{enabled: false}}\n  clickhouse: {{enabled: false}}\n  mysql:\n    backup: {{enabled: true}}\n{extra}"
    )
}

fn backups_api(h: &Harness) -> Api<DynamicObject> {
    h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBClusterBackup", "perconaxtradbclusterbackups")
}

on_both_backends!(bk01_a_small_install_backs_itself_up_on_a_schedule_by_default);
async fn bk01_a_small_install_backs_itself_up_on_a_schedule_by_default(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml(
        "apps",
        "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: small\n",
    )
    .await;
    let w = h
        .wait_for("apps", "wandb", "a successful backup", |w| {
            backup_status(w).is_some_and(|b| b.last_success.is_some())
                && w.status.as_ref().and_then(|s| s.state) == Some(State::Ready)
        })
        .await;
    let b = backup_status(&w).unwrap();
    assert_eq!(b.schedule.as_deref(), Some("0 3 * * *"));
    assert_eq!(b.storage.as_deref(), Some("s3://wandb/backups/mysql"));
    let ok = b.last_success.unwrap();
    assert_eq!(ok.name, "cron-wandb-mysql-wandb-backups-1");
    assert_eq!(ok.destination.as_deref(), Some("s3://wandb/backups/mysql/cron-wandb-mysql-wandb-backups-1"));
    assert!(b.next_scheduled.is_some() && b.since.is_some());

    // Percona's spec.backup, pinned image, keep 7, to the managed MinIO over TLS (small).
    let pxc = h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
    let cluster = pxc.get("wandb-mysql").await.unwrap();
    let backup = &cluster.data["spec"]["backup"];
    assert_eq!(backup["image"], "percona/percona-xtrabackup:8.4.0-5.1", "the XtraBackup of the 8.4 line");
    assert_eq!(
        backup["schedule"][0],
        json!({"name": "wandb-scheduled", "schedule": "0 3 * * *", "keep": 7, "storageName": "wandb-backups"})
    );
    let s3 = &backup["storages"]["wandb-backups"]["s3"];
    assert_eq!(s3["bucket"], "wandb/backups/mysql");
    assert_eq!(s3["endpointUrl"], format!("https://minio.{}.svc.cluster.local:443", h.ns("apps")));
    assert_eq!(s3["credentialsSecret"], "wandb-mysql-backup-s3");
    // The credentials Percona reads are MinIO's, copied.
    let copied = h.secret_data("apps", "wandb-mysql-backup-s3").await.unwrap();
    let minio = h.secret_data("apps", "wandb-minio-config").await.unwrap();
    assert_eq!(copied["AWS_ACCESS_KEY_ID"], minio["MINIO_ROOT_USER"]);
    assert_eq!(copied["AWS_SECRET_ACCESS_KEY"], minio["MINIO_ROOT_PASSWORD"]);
    // MinIO's auto-cert chains to the cluster's root CA: the backups verify TLS against it
    // (Percona's default), through the copy in the same Secret, as does the app.
    let roots: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(h.client.clone(), &h.ns("apps"));
    let root_ca = roots.get("kube-root-ca.crt").await.unwrap().data.unwrap()["ca.crt"].clone();
    assert!(root_ca.contains("-----BEGIN CERTIFICATE-----"), "{root_ca}");
    assert_eq!(copied["ca.crt"], root_ca);
    assert_eq!(copied.len(), 3);
    assert_eq!(s3["caBundle"], json!({"name": "wandb-mysql-backup-s3", "key": "ca.crt"}));
    assert!(backup["storages"]["wandb-backups"].get("verifyTLS").is_none(), "{backup}");
    let connection = h.secret_data("apps", "wandb-minio-connection").await.unwrap();
    assert_eq!(connection["MINIO_CA_CERT"], root_ca);
    assert_eq!(connection["MINIO_TLS"], "true");
    // The metric of the last successful backup.
    let metrics = h.metrics.encode();
    let namespace = h.ns("apps");
    assert!(
        metrics.lines().any(|l| l.starts_with("wandb_operator_mysql_last_backup_timestamp_seconds")
            && l.contains(&format!("namespace=\"{namespace}\""))
            && !l.ends_with(" 0")),
        "{metrics}"
    );
}

on_both_backends!(bk02_a_failed_backup_surfaces_and_an_old_one_is_stale);
async fn bk02_a_failed_backup_surfaces_and_an_old_one_is_stale(h: Harness) {
    h.sims.fail("PerconaXtraDBClusterBackup", true);
    h.namespace("apps").await;
    h.apply_yaml("apps", &with_backups("")).await;
    let w = h
        .wait_for("apps", "wandb", "a failed backup", |w| backup_status(w).is_some_and(|b| b.last_failure.is_some()))
        .await;
    let failure = backup_status(&w).unwrap().last_failure.unwrap();
    assert_eq!(failure.message.as_deref(), Some("simulated xtrabackup failure: access denied to the bucket"));
    assert!(mysql_codes(&w).contains(&"BackupFailed".to_owned()));
    let w = h.wait_ready("apps", "wandb").await;
    assert!(mysql_codes(&w).contains(&"BackupFailed".to_owned()), "one failure is reported, not an outage");
    let events: Api<k8s_openapi::api::events::v1::Event> = h.api("apps");
    h.eventually("a BackupFailed warning", || async {
        events
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("BackupFailed"))
    })
    .await;

    // A backup that succeeded three days ago, on a daily schedule, and nothing since: stale.
    let api = backups_api(&h);
    let old = json!({
        "apiVersion": "pxc.percona.com/v1", "kind": "PerconaXtraDBClusterBackup",
        "metadata": {"name": "three-days-old", "labels": {support::percona_backups::HANDS_OFF: "true"}},
        "spec": {"pxcCluster": "wandb-mysql", "storageName": "wandb-backups"},
    });
    api.create(&PostParams::default(), &serde_json::from_value(old).unwrap()).await.unwrap();
    let three_days_ago = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() - 3 * 86_400).unwrap();
    let status = json!({"status": {"state": "Succeeded", "completed": three_days_ago.to_string(), "destination": "s3://wandb/backups/mysql/three-days-old"}});
    api.patch_status("three-days-old", &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();
    let w = h.wait_for("apps", "wandb", "BackupStale", |w| mysql_codes(w).contains(&"BackupStale".to_owned())).await;
    let mysql = w.status.unwrap().mysql_status.unwrap();
    assert_eq!(mysql.state, State::Degraded);
    assert!(!mysql.ready);
    assert_eq!(mysql.backup.unwrap().last_success.unwrap().name, "three-days-old");
    // A fresh backup clears it.
    h.sims.fail("PerconaXtraDBClusterBackup", false);
    h.wandb_api("apps")
        .patch(
            "wandb",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"apps.wandb.com/backup-now": "fix"}}})),
        )
        .await
        .unwrap();
    let w = h.wait_ready("apps", "wandb").await;
    assert!(!mysql_codes(&w).contains(&"BackupStale".to_owned()));
}

on_both_backends!(bk03_each_new_backup_now_value_asks_for_one_backup);
async fn bk03_each_new_backup_now_value_asks_for_one_backup(h: Harness) {
    h.sims.schedule_off.store(true, std::sync::atomic::Ordering::Relaxed);
    h.namespace("apps").await;
    h.apply_yaml("apps", &with_backups("")).await;
    h.wait_ready("apps", "wandb").await;
    let api = h.wandb_api("apps");
    let annotate = |value: &'static str| {
        let api = api.clone();
        async move {
            let patch = json!({"metadata": {"annotations": {"apps.wandb.com/backup-now": value}}});
            api.patch("wandb", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
        }
    };
    annotate("1").await;
    let w = h
        .wait_for("apps", "wandb", "the on-demand backup done", |w| {
            backup_status(w).and_then(|b| b.on_demand).is_some_and(|d| d.request == "1" && d.state == "Succeeded")
        })
        .await;
    let first = backup_status(&w).unwrap().on_demand.unwrap().name;
    assert!(first.starts_with("wandb-mysql-now-"), "{first}");
    assert_eq!(backup_status(&w).unwrap().last_success.unwrap().name, first);
    // The same value again (another edit of the resource) asks for nothing more.
    let label = json!({"metadata": {"labels": {"touched": "yes"}}});
    h.wandb_api("apps").patch("wandb", &PatchParams::default(), &Patch::Merge(&label)).await.unwrap();
    annotate("1").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let names =
        h.names("pxc.percona.com/v1", "PerconaXtraDBClusterBackup", "perconaxtradbclusterbackups", "apps").await;
    assert_eq!(names, vec![first.clone()]);
    // A new value asks for one more.
    annotate("2").await;
    h.wait_for("apps", "wandb", "the second on-demand backup done", |w| {
        backup_status(w).and_then(|b| b.on_demand).is_some_and(|d| d.request == "2" && d.state == "Succeeded")
    })
    .await;
    let names =
        h.names("pxc.percona.com/v1", "PerconaXtraDBClusterBackup", "perconaxtradbclusterbackups", "apps").await;
    assert_eq!(names.len(), 2, "{names:?}");
}

on_both_backends!(bk04_a_restore_runs_once_and_reports_done);
async fn bk04_a_restore_runs_once_and_reports_done(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", &with_backups("")).await;
    let w = h
        .wait_for("apps", "wandb", "a successful backup", |w| {
            backup_status(w).is_some_and(|b| b.last_success.is_some())
        })
        .await;
    let backup = backup_status(&w).unwrap().last_success.unwrap().name;
    let patch = json!({"spec": {"mysql": {"restore": {"backupName": backup}}}});
    h.wandb_api("apps").patch("wandb", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    let w = h
        .wait_for("apps", "wandb", "the restore done", |w| {
            backup_status(w).and_then(|b| b.restore).is_some_and(|r| r.state == "Succeeded")
                && w.status.as_ref().and_then(|s| s.state) == Some(State::Ready)
        })
        .await;
    assert!(mysql_codes(&w).contains(&"Restored".to_owned()));
    let restores =
        h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBClusterRestore", "perconaxtradbclusterrestores");
    let created = restores.list(&Default::default()).await.unwrap().items;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].data["spec"], json!({"pxcCluster": "wandb-mysql", "backupName": backup}));
    // Later reconciles (an edit, the restore object deleted) never run it again.
    restores.delete(&created[0].name_any(), &Default::default()).await.unwrap();
    let label = json!({"metadata": {"labels": {"touched": "yes"}}});
    h.wandb_api("apps").patch("wandb", &PatchParams::default(), &Patch::Merge(&label)).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(restores.list(&Default::default()).await.unwrap().items.is_empty(), "the restore ran again");
    assert_eq!(h.sims.restores.load(std::sync::atomic::Ordering::Relaxed), 1);
    // Restoring deleted no backup.
    assert!(backups_api(&h).get_opt(&backup).await.unwrap().is_some());
}

on_both_backends!(bk05_purge_removes_the_cluster_but_never_the_backups);
async fn bk05_purge_removes_the_cluster_but_never_the_backups(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", &with_backups("  retentionPolicy: {onDelete: purge}\n")).await;
    let w = h
        .wait_for("apps", "wandb", "a successful backup", |w| {
            backup_status(w).is_some_and(|b| b.last_success.is_some())
        })
        .await;
    let name = backup_status(&w).unwrap().last_success.unwrap().name;
    // As Percona may do: the record owned by the cluster, with the finalizer that deletes its data.
    let api = backups_api(&h);
    let cluster = h
        .dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters")
        .get("wandb-mysql")
        .await
        .unwrap();
    let patch = json!({"metadata": {
        "finalizers": ["percona.com/delete-backup"],
        "ownerReferences": [{"apiVersion": "pxc.percona.com/v1", "kind": "PerconaXtraDBCluster", "name": "wandb-mysql", "uid": cluster.uid().unwrap(), "controller": true}],
    }});
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    h.wandb_api("apps").delete("wandb", &Default::default()).await.unwrap();
    h.eventually("the resource gone", || async { h.wandb_api("apps").get_opt("wandb").await.unwrap().is_none() }).await;
    assert!(h.names("pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters", "apps").await.is_empty());
    assert!(!h.pvcs("apps").await.iter().any(|c| c.contains("wandb-mysql")), "the cluster's claims are purged");
    let kept = api.get(&name).await.unwrap();
    assert!(kept.finalizers().is_empty() && kept.owner_references().is_empty(), "{:?}", kept.metadata);
    assert!(kept.metadata.deletion_timestamp.is_none());
}

/// A rotated cluster CA reaches both copies (MinIO's connection Secret and the backup
/// credentials): the operator watches `kube-root-ca.crt` by name and reconciles the resources
/// whose copies live in its namespace. On the emulator only: a real kube-controller-manager
/// puts its own CA back at once, which is the point of its publisher, so a hand edit there
/// cannot stand for a rotation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bk06_a_rotated_cluster_ca_is_copied_again() {
    let h = Harness::start(&[]).await;
    h.namespace("apps").await;
    h.apply_yaml(
        "apps",
        "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: small\n",
    )
    .await;
    h.wait_ready("apps", "wandb").await;
    let roots: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(h.client.clone(), &h.ns("apps"));
    let rotated = "-----BEGIN CERTIFICATE-----\nrotated\n-----END CERTIFICATE-----\n";
    roots
        .patch(
            "kube-root-ca.crt",
            &PatchParams::apply("kube-controller-manager").force(),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"ca.crt": rotated}})),
        )
        .await
        .unwrap();
    for _ in 0..200 {
        let connection = h.secret_data("apps", "wandb-minio-connection").await.unwrap();
        let backup = h.secret_data("apps", "wandb-mysql-backup-s3").await.unwrap();
        if connection["MINIO_CA_CERT"] == rotated && backup["ca.crt"] == rotated {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the rotated CA was not copied within 20 s");
}
