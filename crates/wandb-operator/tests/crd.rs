//! The CRD: committed copy in sync with the code, and invalid resources rejected by its schema
//! and CEL rules with the offending field's path (what the API server would answer with 422).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on unexpected errors

use support::fixtures as common;
mod support;

use kube_emulator::schema::{FieldError, StructuralSchema};
use serde_json::{Value, json};

const COMMITTED: &str = "deploy/crds/weightsandbiases.apps.wandb.com.yaml";

fn crd_value() -> Value {
    serde_json::to_value(wandb_operator::api::crd()).unwrap()
}

fn schema() -> StructuralSchema {
    let crd = crd_value();
    StructuralSchema::new(&crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]).unwrap()
}

fn resource(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "apps.wandb.com/v2", "kind": "WeightsAndBiases", "metadata": {"name": name, "namespace": "wandb"}, "spec": spec})
}

fn errors(object: &Value) -> Vec<FieldError> {
    schema().validate(object, None)
}

#[test]
fn committed_crd_matches_the_generated_one() {
    let generated = std::process::Command::new(env!("CARGO_BIN_EXE_wandb-operator")).arg("crd").output().unwrap();
    assert!(generated.status.success());
    let committed = std::fs::read_to_string(common::repo_root().join(COMMITTED)).unwrap();
    assert!(
        committed == String::from_utf8(generated.stdout).unwrap(),
        "{COMMITTED} is stale: regenerate it with `cargo run -- crd > {COMMITTED}`"
    );
}

#[test]
fn crd_identity_matches_the_product_spec() {
    let crd = crd_value();
    assert_eq!(crd["metadata"]["name"], "weightsandbiases.apps.wandb.com");
    let names = &crd["spec"]["names"];
    assert_eq!(names["plural"], "weightsandbiases");
    assert_eq!(names["singular"], "weightsandbiases");
    assert_eq!(names["shortNames"], json!(["wandb"]));
    assert_eq!(names["categories"], json!(["wandb"]));
    assert_eq!(crd["spec"]["scope"], "Namespaced");
    let version = &crd["spec"]["versions"][0];
    assert_eq!(version["name"], "v2");
    assert_eq!(version["subresources"], json!({"status": {}}));
    let columns: Vec<(&str, &str)> = version["additionalPrinterColumns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["jsonPath"].as_str().unwrap()))
        .collect();
    assert_eq!(
        columns,
        vec![
            ("State", ".status.state"),
            ("MySQL", ".status.mysqlStatus.state"),
            ("Redis", ".status.redisStatus.state"),
            ("Kafka", ".status.kafkaStatus.state"),
            ("Minio", ".status.minioStatus.state"),
            ("ClickHouse", ".status.clickhouseStatus.state"),
            ("Age", ".metadata.creationTimestamp"),
        ]
    );
    let spec = &version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
    assert_eq!(spec["size"]["enum"], json!(["dev", "small", "large"]));
    assert_eq!(spec["size"]["default"], "dev");
    assert_eq!(spec["retentionPolicy"]["properties"]["onDelete"]["enum"], json!(["detach", "purge"]));
    let conditions = &version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]["conditions"];
    assert_eq!(conditions["x-kubernetes-list-type"], "map");
}

#[test]
fn defaults_fill_size_and_retention() {
    let defaulted = schema().apply_defaults(&resource("w", json!({"retentionPolicy": {}, "mysql": {}})));
    assert_eq!(defaulted["spec"]["size"], "dev");
    assert_eq!(defaulted["spec"]["retentionPolicy"]["onDelete"], "detach");
    assert_eq!(defaulted["spec"]["mysql"]["enabled"], true);
}

#[test]
fn valid_examples_are_accepted() {
    for example in ["wandb-dev", "wandb-small", "wandb-large", "wandb-overrides", "wandb-external"] {
        let text = std::fs::read_to_string(common::repo_root().join(format!("examples/{example}.yaml"))).unwrap();
        let object: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(errors(&object), vec![], "{example} rejected");
    }
    // Boundary values that must pass.
    for spec in [
        json!({"size": "dev", "mysql": {"replicas": 1}, "minio": {"replicas": 6}}),
        json!({"size": "small", "mysql": {"replicas": 7}, "kafka": {"replicas": 1}}),
        json!({"mysql": {"storageSize": "1.5Gi"}, "redis": {"storageSize": "500M"}, "kafka": {"storageSize": "1e9"}}),
    ] {
        assert_eq!(errors(&resource("sixteen-chars-ok", spec.clone())), vec![], "{spec} rejected");
    }
}

fn mysql_external() -> Value {
    json!({"host": "db.example.com", "database": "wandb", "user": "wandb", "passwordSecret": {"name": "db", "key": "password"}})
}

/// Invalid resources, each with the field its error must name.
fn invalid_cases() -> Vec<(&'static str, Value, &'static str)> {
    let long_namespace = "n".repeat(64);
    vec![
        ("w", json!({"size": "huge"}), "spec.size"),
        ("w", json!({"size": ""}), "spec.size"),
        ("w", json!({"mysql": {"storageSize": "ten"}}), "spec.mysql.storageSize"),
        ("w", json!({"redis": {"storageSize": "0Gi"}}), "spec.redis.storageSize"),
        ("w", json!({"kafka": {"storageSize": "-5Gi"}}), "spec.kafka.storageSize"),
        ("w", json!({"minio": {"storageSize": "10GB"}}), "spec.minio.storageSize"),
        ("w", json!({"size": "small", "mysql": {"replicas": 2}}), "spec.mysql.replicas"),
        ("w", json!({"size": "small", "mysql": {"replicas": 9}}), "spec.mysql.replicas"),
        ("w", json!({"size": "small", "mysql": {"replicas": 1}}), "spec.mysql.replicas"),
        ("seventeen-chars-x", json!({}), "metadata.name"),
        ("w", json!({"minio": {"namespace": "Bad_NS"}}), "spec.minio.namespace"),
        ("w", json!({"redis": {"namespace": long_namespace}}), "spec.redis.namespace"),
        ("w", json!({"retentionPolicy": {"onDelete": "destroy"}}), "spec.retentionPolicy.onDelete"),
        (
            "w",
            json!({"clickhouse": {"retentionPolicy": {"onDelete": "keep"}}}),
            "spec.clickhouse.retentionPolicy.onDelete",
        ),
        ("w", json!({"kafka": {"replicas": 0}}), "spec.kafka.replicas"),
        ("w", json!({"size": "dev", "minio": {"replicas": 3}}), "spec.minio.replicas"),
        ("w", json!({"clickhouse": {"replicas": "three"}}), "spec.clickhouse.replicas"),
        ("w", json!({"mysq": {}}), "spec.mysq"),
        ("w", json!({"kafka": {"version": "latest"}}), "spec.kafka.version"),
        ("w", json!({"redis": {"enabled": "yes"}}), "spec.redis.enabled"),
        ("w", json!({"mysql": {"config": {"image": ""}}}), "spec.mysql.config.image"),
        (
            "w",
            json!({"redis": {"sentinel": {"config": {"masterName": "a b"}}}}),
            "spec.redis.sentinel.config.masterName",
        ),
        ("w", json!({"clickhouse": {"replicas": 33}}), "spec.clickhouse.replicas"),
        // W&B-ready infrastructure (issue 19).
        ("w", json!({"mysql": {"proxy": "nginx"}}), "spec.mysql.proxy"),
        ("w", json!({"mysql": {"settings": {"Max Connections": "1"}}}), "spec.mysql.settings"),
        ("w", json!({"images": {"registry": "https://mirror.example"}}), "spec.images.registry"),
        // MySQL backups and restore (issue 12).
        ("w", json!({"mysql": {"backup": {"schedule": "every day"}}}), "spec.mysql.backup.schedule"),
        ("w", json!({"mysql": {"backup": {"keep": 0}}}), "spec.mysql.backup.keep"),
        ("w", json!({"mysql": {"backup": {"enabled": true}}, "minio": {"enabled": false}}), "spec.mysql.backup"),
        (
            "w",
            json!({"mysql": {"backup": {"storage": {"external": {"provider": "gcs", "bucket": "backups"}}}}}),
            "spec.mysql.backup.storage.external.provider",
        ),
        ("w", json!({"mysql": {"restore": {"backupName": "a", "destination": "s3://bucket/c"}}}), "spec.mysql.restore"),
        ("w", json!({"mysql": {"restore": {"destination": "/local/path"}}}), "spec.mysql.restore.destination"),
        ("w", json!({"mysql": {"backup": {"enabled": true}, "external": mysql_external()}}), "spec.mysql.external"),
        // External infrastructure (issue 11).
        ("w", json!({"mysql": {"replicas": 3, "external": mysql_external()}}), "spec.mysql.external"),
        (
            "w",
            json!({"kafka": {"storageSize": "10Gi", "external": {"bootstrapServers": ["k:9092"]}}}),
            "spec.kafka.external",
        ),
        (
            "w",
            json!({"mysql": {"external": {"database": "d", "user": "u", "passwordSecret": {"name": "s", "key": "k"}}}}),
            "spec.mysql.external.host",
        ),
        (
            "w",
            json!({"mysql": {"external": {"host": "db", "port": 70000, "database": "d", "user": "u", "passwordSecret": {"name": "s", "key": "k"}}}}),
            "spec.mysql.external.port",
        ),
        (
            "w",
            json!({"mysql": {"external": {"host": "db:3306", "database": "d", "user": "u", "passwordSecret": {"name": "s", "key": "k"}}}}),
            "spec.mysql.external.host",
        ),
        (
            "w",
            json!({"mysql": {"external": {"host": "db", "database": "d", "user": "u"}}}),
            "spec.mysql.external.passwordSecret",
        ),
        ("w", json!({"minio": {"external": {"provider": "s3", "region": "us-east-1"}}}), "spec.minio.external.bucket"),
        (
            "w",
            json!({"minio": {"external": {"provider": "s3-compatible", "bucket": "wandb"}}}),
            "spec.minio.external.endpoint",
        ),
        (
            "w",
            json!({"minio": {"external": {"provider": "dropbox", "bucket": "wandb"}}}),
            "spec.minio.external.provider",
        ),
        ("w", json!({"redis": {"external": {"port": 6379}}}), "spec.redis.external"),
        (
            "w",
            json!({"redis": {"external": {"host": "r", "sentinel": {"hosts": ["s:26379"], "masterName": "m"}}}}),
            "spec.redis.external",
        ),
        (
            "w",
            json!({"kafka": {"external": {"bootstrapServers": ["no-port"]}}}),
            "spec.kafka.external.bootstrapServers[0]",
        ),
        ("w", json!({"kafka": {"external": {"bootstrapServers": []}}}), "spec.kafka.external.bootstrapServers"),
        (
            "w",
            json!({"clickhouse": {"external": {"host": "ch", "httpPort": 0, "database": "d", "user": "u", "passwordSecret": {"name": "s", "key": "k"}}}}),
            "spec.clickhouse.external.httpPort",
        ),
    ]
}

#[test]
fn invalid_resources_are_rejected_with_the_field_path() {
    let cases = invalid_cases();
    assert!(cases.len() >= 15);
    for (name, spec, field) in cases {
        let found = errors(&resource(name, spec.clone()));
        assert!(found.iter().any(|e| e.field == field), "{spec}: expected an error at {field}, got {found:#?}");
    }
}

#[test]
fn configuration_reference_is_regenerated_from_the_crd() {
    let committed = std::fs::read_to_string(common::repo_root().join("docs/configuration.md")).unwrap();
    assert!(
        committed == wandb_operator::api::reference::configuration_reference(),
        "docs/configuration.md is stale: regenerate it with `cargo run -- reference > docs/configuration.md`"
    );
    for field in
        ["spec.size", "spec.mysql.replicas", "spec.redis.sentinel.config.masterName", "spec.retentionPolicy.onDelete"]
    {
        assert!(committed.contains(&format!("`{field}`")), "{field} missing");
    }
}

/// The same resources against the real kube-apiserver (the test binary's control plane): its
/// schema validation and CEL (with the server's cost budget) answer 422 naming the field.
/// Server-side apply with strict field validation, as the docs tell users to apply, so an
/// unknown field is an error, not a warning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_resources_are_rejected_by_the_real_api_server_with_the_field_path() {
    use kube::api::{Api, DynamicObject, Patch, PatchParams};
    let plane = support::real_control_plane();
    let client = plane.admin_client().await;
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns = serde_json::from_value(json!({"metadata": {"name": "wandb"}})).unwrap();
    let _ = namespaces.create(&Default::default(), &ns).await;
    let kind = support::api_resource("apps.wandb.com/v2", "WeightsAndBiases", "weightsandbiases");
    let api: Api<DynamicObject> = Api::namespaced_with(client, "wandb", &kind);
    let mut params = PatchParams::apply("crd-test").validation_strict();
    params.dry_run = true;
    for (name, spec, field) in invalid_cases() {
        match api.patch(name, &params, &Patch::Apply(resource(name, spec.clone()))).await {
            Err(kube::Error::Api(e)) => {
                // A value of the wrong type fails before validation, when server-side apply
                // builds its typed patch: the real server answers 500 for that, not 422.
                let typed_patch = e.code == 500 && e.message.contains("failed to create typed patch object");
                assert!(e.code == 422 || typed_patch, "{spec}: {e:?}");
                assert!(e.message.contains(field), "{spec}: expected an error at {field}, got {}", e.message);
            }
            other => panic!("{spec}: accepted by the real API server: {other:?}"),
        }
    }
    for spec in [json!({"size": "small", "mysql": {"replicas": 7}}), json!({"mysql": {"storageSize": "1.5Gi"}})] {
        let accepted =
            api.patch("sixteen-chars-ok", &params, &Patch::Apply(resource("sixteen-chars-ok", spec.clone()))).await;
        assert!(accepted.is_ok(), "{spec} rejected: {accepted:?}");
    }
}
