//! One component never writes the labels of an object another component owns (issue 17), on
//! both backends.
//!
//! At 1,000 resources MySQL's backup path found MinIO's freshly created `<cr>-minio-config`
//! missing from its cache and labelled it as MySQL's: MinIO then refused its own Secret
//! (`NotOwned`) and a purge of MySQL alone would have deleted MinIO's root credentials. The
//! first scenario forces that order without a race: the reading step runs with caches that hold
//! nothing, against a real API server that holds the Secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::events::Reporter;
use serde_json::json;
use support::Harness;
use wandb_operator::api::{ComponentStatus, SecretKeyReference, State, WeightsAndBiases};
use wandb_operator::model::{self, MySqlConfig, Placement};
use wandb_operator::model::{Minio, MySql};
use wandb_operator::reconcile::connection_sync::source_versions;
use wandb_operator::reconcile::{Caches, Context, Settings};
use wandb_operator::registry::Registry;
use wandb_operator::vendors::connection_secret::{self as connection, ConnectionSecret};
use wandb_operator::vendors::{LABEL_COMPONENT, LABEL_VENDOR_SECRET_OF, minio_operator, object_labels, percona_backup};

/// Only MySQL and MinIO, dev-sized, MySQL backed up to the managed MinIO.
const WITH_BACKUPS: &str = "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n  redis: {enabled: false}\n  kafka: {enabled: false}\n  clickhouse: {enabled: false}\n  mysql:\n    backup: {enabled: true}\n";

/// A reconcile context whose caches hold nothing: every object is "not in the cache yet".
fn context_with_an_empty_cache(h: &Harness) -> Context {
    let reporter = Reporter { controller: "ownership-test".to_owned(), instance: None };
    let observer = Arc::new(wandb_operator::controller::Metrics::default());
    Context::new(h.client.clone(), Registry::default(), Caches::default(), reporter, observer, Settings::default())
}

/// The MySQL and MinIO configs of [`WITH_BACKUPS`] in this test's `apps` namespace.
fn configs(h: &Harness) -> (MySqlConfig, Placement) {
    let mut wandb: WeightsAndBiases =
        serde_json::from_value(serde_saphyr::from_str::<serde_json::Value>(WITH_BACKUPS).unwrap()).unwrap();
    wandb.metadata.namespace = Some(h.ns("apps"));
    let infra = model::resolve(&wandb).unwrap();
    let mysql = infra.plan::<MySql>().unwrap().enabled().cloned().unwrap();
    let minio = infra.plan::<Minio>().unwrap().enabled().unwrap().placement.clone();
    (mysql, minio)
}

async fn labels_of(h: &Harness, name: &str) -> (BTreeMap<String, String>, String) {
    let secret = h.api::<Secret>("apps").get(name).await.unwrap();
    (secret.labels().clone(), secret.resource_version().unwrap())
}

async fn create_secret(h: &Harness, name: &str, labels: BTreeMap<String, String>, data: &[(&str, &str)]) {
    let string_data: BTreeMap<String, String> = data.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let secret = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "stringData": string_data,
    }))
    .unwrap();
    h.api::<Secret>("apps").create(&PostParams::default(), &secret).await.unwrap();
}

on_both_backends!(own01_a_source_of_another_component_is_never_relabelled);
async fn own01_a_source_of_another_component_is_never_relabelled(h: Harness) {
    h.namespace("apps").await;
    let (mysql, minio) = configs(&h);
    let ctx = context_with_an_empty_cache(&h);
    // MinIO has just created its generated Secret; MySQL's backup path reads it before the
    // watch has delivered it.
    let minio_config = minio_operator::secret_name_for(&minio);
    create_secret(
        &h,
        &minio_config,
        object_labels(&minio),
        &[(minio_operator::ROOT_USER_KEY, "root-user"), (minio_operator::ROOT_PASSWORD_KEY, "root-password")],
    )
    .await;
    let before = labels_of(&h, &minio_config).await;
    let backup_keys = percona_backup::credentials_secret(&mysql).unwrap();
    assert_eq!(backup_keys.source_secrets(), vec![minio_config.as_str()]);
    let versions = source_versions(&ctx, &mysql.placement, &backup_keys).await.unwrap().unwrap();
    assert_eq!(versions.get(&minio_config), Some(&before.1), "read as it is");
    assert_eq!(labels_of(&h, &minio_config).await, before, "MinIO's Secret is not written: labels and version stay");
    assert_eq!(before.0.get(LABEL_COMPONENT).map(String::as_str), Some("minio"));

    // Another component's Secret without our labels is not labelled by the reader either:
    // it is missing until its owner labels it.
    let foreign = "wandb-minio-foreign";
    create_secret(&h, foreign, BTreeMap::new(), &[("k", "v")]).await;
    let mut reads_foreign = ConnectionSecret::derived(&mysql.placement, "wandb-mysql-copy", &h.ns("apps"));
    reads_foreign.sources.push(("K".to_owned(), SecretKeyReference { name: foreign.to_owned(), key: "k".to_owned() }));
    let missing = source_versions(&ctx, &mysql.placement, &reads_foreign).await.unwrap().unwrap_err();
    assert_eq!(missing.len(), 1);
    assert!(missing[0].contains(foreign), "{missing:?}");
    assert!(
        labels_of(&h, foreign).await.0.is_empty(),
        "a Secret without our labels that is not the vendor's stays as it is"
    );
}

on_both_backends!(own02_the_vendors_own_secret_is_labelled_once_without_a_component_label);
async fn own02_the_vendors_own_secret_is_labelled_once_without_a_component_label(h: Harness) {
    h.namespace("apps").await;
    let (mysql, _) = configs(&h);
    let ctx = context_with_an_empty_cache(&h);
    // Percona creates `<name>-secrets` without any label of ours.
    create_secret(&h, "wandb-mysql-secrets", BTreeMap::new(), &[("root", "root-password")]).await;
    let status = ComponentStatus::<serde_json::Value> {
        connection: Some(json!({"MYSQL_HOST": "wandb-mysql-pxc"})),
        credentials_secret: Some(SecretKeyReference { name: "wandb-mysql-secrets".into(), key: "root".into() }),
        ..Default::default()
    };
    let spec = connection::managed(&mysql.placement, &status, BTreeMap::new(), Vec::new(), None).unwrap();
    let versions = source_versions(&ctx, &mysql.placement, &spec).await.unwrap().unwrap();
    let (labels, version) = labels_of(&h, "wandb-mysql-secrets").await;
    assert_eq!(versions["wandb-mysql-secrets"], version);
    assert_eq!(
        labels.get("app.kubernetes.io/managed-by").map(String::as_str),
        Some("wandb-operator"),
        "cached from now on"
    );
    assert_eq!(labels.get(LABEL_VENDOR_SECRET_OF).map(String::as_str), Some("mysql"));
    assert_eq!(labels.get(LABEL_COMPONENT), None, "never taken for one of our generated Secrets");
    // Read again (still not in the cache): nothing more is written.
    source_versions(&ctx, &mysql.placement, &spec).await.unwrap().unwrap();
    assert_eq!(labels_of(&h, "wandb-mysql-secrets").await.1, version);
}

on_both_backends!(own03_an_install_hit_by_the_relabelling_converges_again_with_its_credentials);
async fn own03_an_install_hit_by_the_relabelling_converges_again_with_its_credentials(mut h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", WITH_BACKUPS).await;
    h.wait_ready("apps", "wandb").await;
    let secrets: Api<Secret> = h.api("apps");
    h.eventually("the backup credentials exist", || async {
        h.secret_data("apps", "wandb-mysql-backup-s3").await.is_some()
    })
    .await;
    let credentials = h.secret_data("apps", "wandb-minio-config").await.unwrap();
    // What the old build did to MinIO's Secret, while the operator is down.
    h.stop_operator().await;
    let relabel = json!({"metadata": {"labels": {LABEL_COMPONENT: "mysql"}}});
    secrets.patch_metadata("wandb-minio-config", &PatchParams::default(), &Patch::Merge(&relabel)).await.unwrap();
    h.start_operator();
    h.eventually("MinIO's Secret labelled as MinIO's again", || async {
        secrets.get("wandb-minio-config").await.unwrap().labels().get(LABEL_COMPONENT).map(String::as_str)
            == Some("minio")
    })
    .await;
    let w = h
        .wait_for("apps", "wandb", "MinIO Ready without NotOwned", |w| {
            w.status
                .as_ref()
                .and_then(|s| s.minio_status.as_ref())
                .is_some_and(|m| m.state == State::Ready && !m.details.iter().any(|d| d.code == "NotOwned"))
                && w.status.as_ref().and_then(|s| s.state) == Some(State::Ready)
        })
        .await;
    assert!(w.status.unwrap().minio_status.unwrap().ready);
    assert_eq!(h.secret_data("apps", "wandb-minio-config").await.unwrap(), credentials, "no credential regenerated");

    // The consequence the relabelling made possible: purging MySQL alone keeps MinIO's Secret.
    let patch = json!({"spec": {"mysql": {"enabled": false, "retentionPolicy": {"onDelete": "purge"}}}});
    h.wandb_api("apps").patch("wandb", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    h.eventually("MySQL purged", || async {
        h.names("pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters", "apps").await.is_empty()
            && h.secret_data("apps", "wandb-mysql-backup-s3").await.is_none()
            // Percona's own Secret, labelled as MySQL's vendor's, goes with it.
            && h.secret_data("apps", "wandb-mysql-secrets").await.is_none()
    })
    .await;
    assert_eq!(h.secret_data("apps", "wandb-minio-config").await.unwrap(), credentials, "MinIO's credentials stay");
}
