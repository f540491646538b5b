//! Every object rendered for each size and example validates against the vendors' real CRD
//! schemas (the served version's structural `openAPIV3Schema` and its CEL rules), including
//! unknown fields, which a real API server would prune or reject.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on unexpected errors

mod support;

use support::fixtures as common;

use std::collections::BTreeMap;
use std::path::Path;

use kube_emulator::crds::{group_kind, load_crds, served_schema};
use kube_emulator::schema::StructuralSchema;
use serde_json::Value;
use wandb_operator::api::Size;
use wandb_operator::model::{Edition, MySql};
use wandb_operator::registry::Registry;
use wandb_operator::render::{render_objects, render_objects_at};

/// Every vendor release in `../shared/vendor-crds`: each set holds one release per vendor, and
/// every release appears in some set.
const RELEASES: [&[&str]; 3] = [
    &[
        "percona-xtradb-cluster/v1.18.0",
        "strimzi/1.2.0",
        "opstree-redis/v0.22.1",
        "minio/master-0ee2c254",
        "altinity-clickhouse/0.25.6",
    ],
    &["percona-xtradb-cluster/v1.19.0", "strimzi/0.51.0", "opstree-redis/v0.26.0", "minio/v7.1.1"],
    &["percona-xtradb-cluster/v1.20.0"],
];

/// Every release directory in `../shared/vendor-crds` is in [`RELEASES`] (a new one is checked
/// as soon as it is added), except Strimzi 0.48, which does not serve the `v1` API we write.
#[test]
fn every_vendor_release_present_is_checked() {
    let Some(root) = common::vendor_crds_dir() else { return };
    let listed: Vec<&str> = RELEASES.iter().flat_map(|set| set.iter().copied()).collect();
    for vendor in std::fs::read_dir(&root).unwrap() {
        let vendor = vendor.unwrap();
        if !vendor.path().is_dir() {
            continue;
        }
        for release in std::fs::read_dir(vendor.path()).unwrap() {
            let name =
                format!("{}/{}", vendor.file_name().to_string_lossy(), release.unwrap().file_name().to_string_lossy());
            if name != "strimzi/0.48.0" {
                assert!(listed.contains(&name.as_str()), "{name} is not checked");
            }
        }
    }
}

fn schemas(root: &Path, releases: &[&str]) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for release in releases {
        for crd in load_crds(&root.join(release)).unwrap() {
            let (group, kind) = group_kind(&crd).unwrap();
            out.insert((group, kind), crd);
        }
    }
    out
}

fn check(objects: &[Value], crds: &BTreeMap<(String, String), Value>, what: &str) -> usize {
    let mut checked = 0;
    for object in objects {
        let api_version = object["apiVersion"].as_str().unwrap();
        let kind = object["kind"].as_str().unwrap().to_owned();
        let Some((group, version)) = api_version.split_once('/') else { continue };
        let Some(crd) = crds.get(&(group.to_owned(), kind.clone())) else { continue };
        let schema =
            served_schema(crd, version).unwrap_or_else(|| panic!("{what}: {group}/{kind} does not serve {version}"));
        let compiled = StructuralSchema::new(schema).unwrap();
        let errors = compiled.validate(object, None);
        assert!(
            errors.is_empty(),
            "{what}: {kind} {} violates the vendor schema: {errors:#?}",
            object["metadata"]["name"]
        );
        checked += 1;
    }
    checked
}

fn inputs() -> Vec<(String, wandb_operator::api::WeightsAndBiases)> {
    let mut inputs: Vec<_> = Size::ALL.iter().map(|s| (format!("size {}", s.as_str()), common::sized(*s))).collect();
    for example in ["wandb-dev", "wandb-small", "wandb-large", "wandb-overrides"] {
        let text = std::fs::read_to_string(common::repo_root().join(format!("examples/{example}.yaml"))).unwrap();
        inputs.push((example.to_owned(), common::from_yaml(&text)));
    }
    // A mirror registry with pull Secrets: every vendor's pull Secret field.
    let mirrored = "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: wandb, namespace: wandb}\nspec:\n  size: small\n  images: {registry: mirror.example/wandb, pullSecrets: [mirror-pull, other]}\n";
    inputs.push(("mirrored".to_owned(), common::from_yaml(mirrored)));
    inputs
}

#[test]
fn rendered_objects_validate_against_the_real_vendor_crds() {
    let Some(root) = common::vendor_crds_dir() else { return };
    let vendors = Registry::default();
    for releases in RELEASES {
        let crds = schemas(&root, releases);
        for (what, wandb) in inputs() {
            // Every edition: existing components keep theirs.
            for edition in Edition::ALL {
                let mut objects = render_objects_at(&wandb, &vendors, edition).unwrap();
                // What the operator writes for this Percona release: nothing where it refuses
                // the edition (MySQL 8.4 needs Percona ≥ 1.19), which is then asserted.
                if !percona_accepts(&wandb, &vendors, edition, releases) {
                    objects.retain(|o| !o["apiVersion"].as_str().unwrap().starts_with("pxc.percona.com/"));
                }
                let checked = check(&objects, &crds, &format!("{what} ({edition} edition) with {releases:?}"));
                assert!(checked > 0, "{what}: nothing checked against {releases:?}");
                // What the reconciler merges in: the vendors' own pauses, and Percona's volume
                // expansion as the installed release names it.
                let marked = with_markers(&objects, &vendors, releases);
                check(&marked, &crds, &format!("{what} ({edition} edition, paused and growing) with {releases:?}"));
            }
        }
    }
}

/// `objects` with every pause marker and expansion marker their kind has merged in.
fn with_markers(objects: &[Value], vendors: &Registry, releases: &[&str]) -> Vec<Value> {
    use wandb_operator::vendors::{Release, fragment};
    let installed = releases.iter().find_map(|r| r.strip_prefix("percona-xtradb-cluster/")).and_then(Release::parse);
    let mut marked_any = (false, false);
    let marked = objects
        .iter()
        .map(|object| {
            let kind = object["kind"].as_str().unwrap_or_default();
            let mut object = object.clone();
            for entry in vendors.entries() {
                if let Some(marker) = entry.pause_marker(kind) {
                    fragment::merge(&mut object, &marker);
                    marked_any.0 = true;
                }
            }
            if let Some(marker) = vendors.mysql.expansion_marker(kind, installed) {
                fragment::merge(&mut object, &marker);
                marked_any.1 = true;
            }
            object
        })
        .collect();
    assert!(marked_any.0, "no pause marker checked");
    marked
}

/// Whether the operator writes the MySQL objects of `edition` when the Percona release of
/// `releases` is installed (`fit_release`); a set without Percona accepts.
fn percona_accepts(
    wandb: &wandb_operator::api::WeightsAndBiases,
    vendors: &Registry,
    edition: Edition,
    releases: &[&str],
) -> bool {
    use wandb_operator::vendors::{Release, desired_with_edition};
    let Some(installed) = releases.iter().find_map(|r| r.strip_prefix("percona-xtradb-cluster/")) else { return true };
    let resolution = wandb_operator::model::resolve(wandb).unwrap().at_edition(edition);
    let Ok(wandb_operator::model::Plan::Enabled(mysql)) = resolution.plan::<MySql>() else { return true };
    let mut desired = desired_with_edition(vendors.mysql, &mysql).unwrap();
    // MySQL 8.4 needs Percona 1.19: the 2026 edition's default, or a version asked for.
    let image = desired.objects[0].body.pointer("/spec/pxc/image").and_then(Value::as_str).unwrap().to_owned();
    let runs_84 = wandb_operator::vendors::percona_release::line_of(&image).is_some_and(|l| l >= [8, 4]);
    let fits = vendors.mysql.fit_release(&mysql, &mut desired, Release::parse(installed));
    let refused = (edition >= Edition::Y2026 || runs_84) && Release::parse(installed) < Release::parse("1.19.0");
    assert_eq!(fits.is_err(), refused, "{edition} edition on Percona {installed}: {fits:?}");
    fits.is_ok()
}

/// The one-off objects of MySQL backups (issue 12): an on-demand backup and both kinds of
/// restore, for the managed MinIO and for an external bucket, against Percona's real CRDs.
#[test]
fn backup_and_restore_objects_validate_against_the_real_percona_crds() {
    let Some(root) = common::vendor_crds_dir() else { return };
    // The newest Percona: the latest edition needs ≥ 1.19 (and `s3.caBundle` is 1.19's).
    let crds = schemas(&root, RELEASES[2]);
    let vendors = Registry::default();
    let external = "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata: {name: wandb, namespace: ns}\nspec:\n  size: small\n  mysql:\n    backup:\n      schedule: '@daily'\n      storage:\n        external: {provider: s3-compatible, bucket: backups, endpoint: 's3.example.com:9000', path: wandb/mysql, credentialsSecret: {name: bucket-keys}}\n";
    let mut objects = Vec::new();
    for (restore, wandb) in [
        ("backupName: cron-wandb-mysql-wandb-backups-1", common::sized(Size::Small)),
        ("destination: s3://backups/wandb/mysql/cron-x", common::from_yaml(external)),
        ("destination: s3://wandb/mysql-backups/cron-y", common::sized(Size::Small)),
    ] {
        let mut wandb = wandb;
        let mysql = wandb.spec.mysql.get_or_insert_with(Default::default);
        mysql.restore = Some(serde_saphyr::from_str(restore).unwrap());
        let config = wandb_operator::model::resolve(&wandb).unwrap();
        let Ok(wandb_operator::model::Plan::Enabled(mysql)) = &config.plan::<MySql>() else {
            panic!("{:?}", config.plan::<MySql>())
        };
        objects.push(vendors.mysql.backups().unwrap().on_demand(mysql, "1").unwrap().body);
        objects.push(vendors.mysql.backups().unwrap().restore(mysql).unwrap().unwrap().body);
    }
    assert_eq!(check(&objects, &crds, "backups"), 6);
    // From the managed MinIO over TLS, the restore trusts the cluster CA its credentials copy.
    assert_eq!(
        objects[5]["spec"]["backupSource"]["s3"]["caBundle"],
        serde_json::json!({"name": "wandb-mysql-backup-s3", "key": "ca.crt"})
    );
    assert!(objects[5]["spec"]["backupSource"].get("verifyTLS").is_none(), "verified (Percona's default)");
    assert_eq!(objects[3]["spec"]["backupSource"]["s3"]["endpointUrl"], "https://s3.example.com:9000");
    assert_eq!(objects[3]["spec"]["backupSource"]["s3"]["credentialsSecret"], "wandb-mysql-backup-s3");
}

#[test]
fn every_vendor_kind_we_write_is_covered_by_a_real_crd() {
    let Some(root) = common::vendor_crds_dir() else { return };
    // The full first set, with the newest Percona (the latest edition needs ≥ 1.19).
    let mut newest: Vec<&str> = RELEASES[0].to_vec();
    newest.extend(RELEASES[2]);
    let crds = schemas(&root, &newest);
    let objects = render_objects(&common::sized(Size::Small), &Registry::default()).unwrap();
    let uncovered: Vec<String> = objects
        .iter()
        .filter(|o| o["apiVersion"] != "v1")
        .map(|o| {
            (
                o["apiVersion"].as_str().unwrap().split('/').next().unwrap().to_owned(),
                o["kind"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|gk| !crds.contains_key(gk))
        .map(|(g, k)| format!("{g}/{k}"))
        .collect();
    assert!(uncovered.is_empty(), "no vendor CRD for {uncovered:?}");
    assert_eq!(check(&objects, &crds, "small"), objects.iter().filter(|o| o["apiVersion"] != "v1").count());
}

#[test]
fn the_schema_check_catches_a_wrong_object() {
    // Guards the test above: a violation of the real Strimzi schema must be reported.
    let Some(root) = common::vendor_crds_dir() else { return };
    let crds = schemas(&root, &["strimzi/1.2.0"]);
    let objects = render_objects(&common::sized(Size::Dev), &Registry::default()).unwrap();
    let mut pool = common::find(&objects, "KafkaNodePool").clone();
    pool["spec"]["roles"] = serde_json::json!(["leader"]);
    pool["spec"]["replicas"] = serde_json::json!("three");
    let crd = &crds[&("kafka.strimzi.io".to_owned(), "KafkaNodePool".to_owned())];
    let errors = StructuralSchema::new(served_schema(crd, "v1").unwrap()).unwrap().validate(&pool, None);
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert!(fields.contains(&"spec.replicas"), "{errors:?}");
    assert!(fields.contains(&"spec.roles[0]"), "{errors:?}");
    let mut kafka = common::find(&objects, "Kafka").clone();
    kafka["spec"]["kafka"]["replicas"] = serde_json::json!(3);
    let crd = &crds[&("kafka.strimzi.io".to_owned(), "Kafka".to_owned())];
    let errors = StructuralSchema::new(served_schema(crd, "v1").unwrap()).unwrap().validate(&kafka, None);
    assert_eq!(
        errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
        vec!["spec.kafka.replicas"],
        "v1 has no replicas on Kafka"
    );
}
