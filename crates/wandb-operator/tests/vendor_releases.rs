//! The operator reads which vendor operator release is installed from the vendors' CRDs (issue
//! 19): Percona's `app.kubernetes.io/version`. MySQL 8.4 needs Percona ≥ 1.19: with 1.18 a new
//! MySQL is refused with `VendorVersionUnsupported` (nothing written) while the other
//! components converge; with 1.19 the `crVersion` written is 1.19.0; after an upgrade of the
//! CRDs to 1.20 it follows without a restart. Strimzi's CRDs of a release that does not serve
//! the `v1` API we write (0.48) are an unsupported release, not missing CRDs.
//!
//! On the emulator only: every test on the shared real control plane sees the same CRDs, and
//! swapping them would change every other test's vendor release. What the emulator claims here
//! is plain CRD metadata (labels, read through a metadata watch); every test on the real
//! control plane runs the same watch against Percona 1.20's CRD.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on unexpected errors

mod support;

use kube::api::{Api, Patch, PatchParams};
use support::Harness;
use wandb_operator::api::State;

const DEV: &str =
    "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n";

/// A harness whose `vendor` CRDs are those of `release` (e.g. `percona-xtradb-cluster`,
/// `v1.18.0`), or `None` when `../shared/vendor-crds` is absent (the test is then skipped,
/// saying so).
async fn with_release(vendor: &str, release: &str) -> Option<Harness> {
    let Some(dir) = support::vendor_crds_dir() else {
        eprintln!("NOTICE: ../shared/vendor-crds is absent; skipping the vendor release test");
        return None;
    };
    let mut h = Harness::without_operator(&[vendor]).await;
    h.emulator().load_crds(&dir.join(vendor).join(release)).unwrap();
    h.start_operator();
    Some(h)
}

async fn with_percona(release: &str) -> Option<Harness> {
    with_release("percona-xtradb-cluster", release).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strimzi_crds_without_the_v1_api_are_an_unsupported_release_not_missing_crds() {
    // Strimzi 0.48 serves kafka.strimzi.io/v1beta2 only; we write v1.
    let Some(h) = with_release("strimzi", "0.48.0").await else { return };
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    let w = h
        .wait_for("apps", "wandb", "Kafka refused, MySQL ready", |w| {
            let s = w.status.as_ref();
            let kafka = s.and_then(|s| s.kafka_status.as_ref());
            let mysql_ready = s.and_then(|s| s.mysql_status.as_ref()).is_some_and(|m| m.ready);
            mysql_ready && kafka.is_some_and(|k| k.details.iter().any(|d| d.code == "VendorVersionUnsupported"))
        })
        .await;
    let kafka = w.status.unwrap().kafka_status.unwrap();
    assert_eq!(kafka.state, State::Error);
    assert!(kafka.details[0].message.contains("Strimzi 0.49 or newer"), "{}", kafka.details[0].message);
}

fn pxc(h: &Harness) -> Api<kube::api::DynamicObject> {
    h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percona_1_18_cannot_run_mysql_8_4_and_nothing_is_written() {
    let Some(h) = with_percona("v1.18.0").await else { return };
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    let w = h
        .wait_for("apps", "wandb", "MySQL refused, Redis ready", |w| {
            let s = w.status.as_ref();
            let mysql = s.and_then(|s| s.mysql_status.as_ref());
            let redis_ready = s.and_then(|s| s.redis_status.as_ref()).is_some_and(|r| r.ready);
            redis_ready && mysql.is_some_and(|m| m.details.iter().any(|d| d.code == "VendorVersionUnsupported"))
        })
        .await;
    let mysql = w.status.unwrap().mysql_status.unwrap();
    assert_eq!(mysql.state, State::Error);
    let message = &mysql.details[0].message;
    assert!(message.contains("1.19.0") && message.contains("1.18.0 is installed"), "{message}");
    assert!(pxc(&h).get_opt("wandb-mysql").await.unwrap().is_none(), "no cluster written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cr_version_is_the_installed_release_and_follows_an_upgrade() {
    let Some(h) = with_percona("v1.19.0").await else { return };
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    h.wait_ready("apps", "wandb").await;
    let cluster = pxc(&h).get("wandb-mysql").await.unwrap();
    assert_eq!(cluster.data["spec"]["crVersion"], "1.19.0");
    assert_eq!(cluster.data["spec"]["pxc"]["image"], "percona/percona-xtradb-cluster:8.4.8-8.1");

    // The platform team upgrades Percona's CRDs to 1.20 (new labels): the operator follows.
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(h.client.clone());
    let relabel = serde_json::json!({"metadata": {"labels": {"app.kubernetes.io/version": "v1.20.0"}}});
    crds.patch("perconaxtradbclusters.pxc.percona.com", &PatchParams::default(), &Patch::Merge(&relabel))
        .await
        .unwrap();
    h.eventually("crVersion 1.20.0 written", || async {
        pxc(&h).get("wandb-mysql").await.unwrap().data["spec"]["crVersion"] == "1.20.0"
    })
    .await;
}

/// A 2025-edition MySQL (`crVersion: 1.18.0`) moved to 8.4 by `spec.mysql.version` gets the
/// installed release's `crVersion` with it (Percona's own upgrade patches both), and keeps
/// 1.18.0 while an upgrade step holds its image on 8.0 (with the 8.0 XtraBackup).
#[test]
fn a_2025_mysql_moving_to_8_4_takes_the_installed_cr_version_with_its_image_only() {
    use wandb_operator::model::components::MySql;
    use wandb_operator::model::{Edition, Plan};
    use wandb_operator::vendors::{Release, desired_with_edition};
    let wandb = support::fixtures::from_yaml(
        "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: wandb, namespace: apps}\nspec:\n  size: small\n  mysql: {version: 8.4.8-8.1}\n",
    );
    let registry = wandb_operator::registry::Registry::default();
    let resolution = wandb_operator::model::resolve(&wandb).unwrap().at_edition(Edition::Y2025);
    let Ok(Plan::Enabled(config)) = resolution.plan::<MySql>() else { panic!("MySQL is managed") };
    let mut desired = desired_with_edition(registry.mysql, &config).unwrap();
    registry.mysql.fit_release(&config, &mut desired, Release::parse("1.20.0")).unwrap();
    let spec =
        |d: &wandb_operator::vendors::Desired, pointer: &str| d.objects[0].body["spec"].pointer(pointer).cloned();
    assert_eq!(spec(&desired, "/crVersion"), Some(serde_json::json!("1.20.0")));
    assert_eq!(spec(&desired, "/backup/image"), Some(serde_json::json!("percona/percona-xtrabackup:8.4.0-5.1")));
    // An upgrade step holds the image on 8.0: crVersion and XtraBackup follow it back.
    *desired.objects[0].body.pointer_mut("/spec/pxc/image").unwrap() =
        serde_json::json!("percona/percona-xtradb-cluster:8.0.45-36.1");
    registry.mysql.rederive(&mut desired);
    assert_eq!(spec(&desired, "/crVersion"), Some(serde_json::json!("1.18.0")));
    assert_eq!(spec(&desired, "/backup/image"), Some(serde_json::json!("percona/percona-xtrabackup:8.0.35-34.1")));
}
