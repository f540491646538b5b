//! Existing installs keep the edition of defaults they were created with (issue 19): a resource
//! whose vendor objects were written with the 2025 defaults (MySQL 8.0 behind ProxySQL as
//! `root`, Redis 7.0, ClickHouse 25.8), as the operator's earlier releases wrote them, is
//! reconciled by this operator with zero writes to its vendor objects; its status reports
//! `UpgradeAvailable` and the versions it keeps. On both API servers.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on unexpected errors

mod support;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use support::Harness;
use wandb_operator::api::{State, WeightsAndBiasesStatus};
use wandb_operator::model::Edition;
use wandb_operator::reconcile::with_applied_hash;
use wandb_operator::registry::Registry;
use wandb_operator::render::render_objects_at;
use wandb_operator::vendors::{ANNOTATION_EDITION, MANAGER};

const DEV: &str =
    "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n";

/// Writes the vendor objects of the 2025 edition for the live resource exactly as the
/// operator's earlier releases applied them (field manager, labels, owner references and the
/// applied hash); returns how many.
async fn write_as_the_2025_release(h: &Harness) -> usize {
    let live = h.wandb_api("apps").get("wandb").await.unwrap();
    let registry = Registry::default();
    let kinds = registry.watched_kinds();
    let objects = render_objects_at(&live, &registry, Edition::Y2025).unwrap();
    let mut written = 0;
    for object in objects.iter().filter(|o| o["apiVersion"] != "v1") {
        assert!(object.pointer(&format!("/metadata/annotations/{}", ANNOTATION_EDITION.replace('/', "~1"))).is_none());
        let resource =
            kinds.iter().find(|k| k.kind == object["kind"] && k.api_version == object["apiVersion"]).unwrap();
        let api: Api<DynamicObject> = Api::namespaced_with(h.client.clone(), &h.ns("apps"), resource);
        let (body, _) = with_applied_hash(object);
        let name = object["metadata"]["name"].as_str().unwrap();
        api.patch(name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&body)).await.unwrap();
        written += 1;
    }
    written
}

/// The operator's writes to vendor objects (not Secrets, events or the resource's status).
fn vendor_writes(h: &Harness) -> Vec<String> {
    let vendor_resource = |resource: &str| !matches!(resource, "secrets" | "events" | "weightsandbiases" | "leases");
    if h.is_real() {
        let (events, _) = h.operator_audit(0);
        events
            .iter()
            .filter(|e| e.is_write() && e.object_ref.as_ref().is_some_and(|o| vendor_resource(&o.resource)))
            .map(|e| e.describe())
            .collect()
    } else {
        h.operator_requests(0)
            .iter()
            .filter(|r| r.is_write())
            .filter(|r| {
                // `/api(s)/…/namespaces/<ns>/<resource>[/<name>[/<subresource>]]`
                let segments: Vec<&str> = r.path.split('/').collect();
                let at = segments.iter().position(|s| *s == "namespaces");
                at.and_then(|i| segments.get(i + 2)).is_some_and(|resource| vendor_resource(resource))
            })
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

fn details(status: &WeightsAndBiasesStatus) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (component, details) in [
        ("mysql", status.mysql_status.as_ref().map(|s| &s.details)),
        ("redis", status.redis_status.as_ref().map(|s| &s.details)),
        ("clickhouse", status.clickhouse_status.as_ref().map(|s| &s.details)),
        ("kafka", status.kafka_status.as_ref().map(|s| &s.details)),
        ("minio", status.minio_status.as_ref().map(|s| &s.details)),
    ] {
        for d in details.into_iter().flatten() {
            out.push((component.to_owned(), format!("{}: {}", d.code, d.message)));
        }
    }
    out
}

async fn an_install_of_the_2025_edition_is_kept_with_zero_writes(mut h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    let written = write_as_the_2025_release(&h).await;
    assert!(written >= 6, "PXC, Redis, Kafka and its pool, Tenant, CHI: {written}");
    h.start_operator();
    let w = h.wait_ready("apps", "wandb").await;
    // Settle, then look: nothing the earlier release wrote was written again.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let writes = vendor_writes(&h);
    assert!(writes.is_empty(), "writes to vendor objects of a 2025 install: {writes:#?}");

    let status = w.status.unwrap();
    let mysql = status.mysql_status.as_ref().unwrap();
    assert_eq!(mysql.version.as_deref(), Some("8.0.42-33.1"), "what the vendor reports it runs");
    let notices = details(&status);
    let upgrade =
        |component: &str| notices.iter().find(|(c, m)| c == component && m.starts_with("UpgradeAvailable")).cloned();
    let mysql_notice = upgrade("mysql").unwrap_or_else(|| panic!("{notices:#?}"));
    assert!(mysql_notice.1.contains("the 2026 defaults run 8.4.8-8.1"), "{mysql_notice:?}");
    assert!(upgrade("redis").unwrap().1.contains("7.4.11"));
    assert!(upgrade("clickhouse").unwrap().1.contains("26.3.19.3"));
    assert!(upgrade("minio").is_none(), "MinIO's objects are the same in both editions: {notices:#?}");
    assert_eq!(mysql.state, State::Ready, "a notice, not an outage");
    let below = notices.iter().find(|(c, m)| c == "mysql" && m.starts_with("VersionBelowMinimum"));
    assert!(below.is_some_and(|(_, m)| m.contains("8.0.42-33.1") && m.contains("8.4")), "{notices:#?}");
    let mysql_keys = h.secret_data("apps", "wandb-mysql-connection").await.unwrap();
    assert_eq!(mysql_keys["MYSQL_USER"], "root", "the 2025 edition's application user is kept");
    let clickhouse_keys = h.secret_data("apps", "wandb-clickhouse-connection").await.unwrap();
    assert_eq!(clickhouse_keys["CLICKHOUSE_REPLICATED_CLUSTER"], "cluster", "the cluster keeps its name");

    // The objects still carry what the 2025 edition wrote.
    let pxc = h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
    let pxc = pxc.get("wandb-mysql").await.unwrap();
    assert_eq!(pxc.data["spec"]["pxc"]["image"], "perconalab/percona-xtradb-cluster-operator:main-pxc8.0");
    assert_eq!(pxc.data["spec"]["crVersion"], "1.18.0");
    assert!(pxc.data["spec"].get("users").is_none());
    h.stop_operator().await;
}

async fn a_new_install_gets_the_latest_edition(h: Harness) {
    h.namespace("apps").await;
    h.apply_yaml("apps", DEV).await;
    let w = h.wait_ready("apps", "wandb").await;
    let status = w.status.unwrap();
    let notices = details(&status);
    assert!(!notices.iter().any(|(_, m)| m.starts_with("UpgradeAvailable")), "{notices:#?}");
    assert_eq!(status.mysql_status.as_ref().unwrap().version.as_deref(), Some("8.4.8-8.1"));
    let pxc = h.dyn_api("apps", "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
    let pxc = pxc.get("wandb-mysql").await.unwrap();
    let annotations = pxc.metadata.annotations.unwrap_or_default();
    assert_eq!(annotations.get(ANNOTATION_EDITION).map(String::as_str), Some(Edition::LATEST.as_str()));
    assert_eq!(pxc.data["spec"]["users"][0]["name"], "wandb_local");
    let keys = h.secret_data("apps", "wandb-mysql-connection").await.unwrap();
    assert_eq!((keys["MYSQL_USER"].as_str(), keys["MYSQL_DATABASE"].as_str()), ("wandb_local", "wandb_local"));
    let password = h.secret_data("apps", "wandb-mysql-app-user").await.unwrap()["password"].clone();
    assert_eq!(keys["MYSQL_PASSWORD"], password, "the application user's password, never root's");
    assert!(keys["URL"].starts_with("mysql://wandb_local:"), "the URL names the user");
    assert!(keys["URL"].ends_with("/wandb_local"), "and the database");
}

mod kept_2025 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn emulator() {
        super::an_install_of_the_2025_edition_is_kept_with_zero_writes(super::Harness::without_operator(&[]).await)
            .await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn real() {
        super::an_install_of_the_2025_edition_is_kept_with_zero_writes(super::Harness::real_without_operator().await)
            .await
    }
}

on_both_backends!(a_new_install_gets_the_latest_edition);
