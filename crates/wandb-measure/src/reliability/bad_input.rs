//! The bad-input corpus: invalid `WeightsAndBiases` resources sent as `kubectl apply
//! --server-side` does (strict field validation). Each must be rejected by the API server
//! (422 naming the field), or accepted and then reported in status with a clear code, with
//! nothing applied for the component it concerns. The operator runs throughout; a panic
//! anywhere fails the suite (the binary counts them).

use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use kube::{Client, CustomResourceExt};
use serde_json::{Value, json};
use wandb_operator::api::WeightsAndBiases;

use super::Report;
use crate::support::{Harness, api_resource, wait_until};

/// What must happen to one invalid resource.
#[derive(Debug, Clone)]
pub enum Expect {
    /// The API server answers 422 and names this field.
    Rejected(&'static str),
    /// Accepted; this component's status shows `code` (its message naming `field`) and none
    /// of its objects exist.
    Reported {
        /// `mysql`, `redis`, `kafka`, `minio` or `clickhouse`.
        component: &'static str,
        /// The status detail code.
        code: &'static str,
        /// Text the detail's message must contain (the field, or the missing namespace).
        field: &'static str,
    },
}

/// One case of the corpus.
#[derive(Debug, Clone)]
pub struct Case {
    /// What is wrong with it.
    pub title: &'static str,
    /// `metadata.name`.
    pub name: String,
    /// `spec` (any JSON).
    pub spec: Value,
    /// The expected outcome.
    pub expect: Expect,
}

fn case(title: &'static str, spec: Value, expect: Expect) -> Case {
    Case { title, name: "w".to_owned(), spec, expect }
}

fn rejected(title: &'static str, spec: Value, field: &'static str) -> Case {
    case(title, spec, Expect::Rejected(field))
}

fn reported(
    title: &'static str,
    spec: Value,
    component: &'static str,
    code: &'static str,
    field: &'static str,
) -> Case {
    case(title, spec, Expect::Reported { component, code, field })
}

/// The corpus.
pub fn corpus() -> Vec<Case> {
    let long_namespace = "n".repeat(64);
    let mut cases = vec![
        // Unknown sizes and wrong types.
        rejected("unknown size", json!({"size": "huge"}), "spec.size"),
        rejected("size in the wrong case", json!({"size": "Small"}), "spec.size"),
        rejected("size as a number", json!({"size": 3}), "spec.size"),
        rejected("empty size", json!({"size": ""}), "spec.size"),
        rejected("spec as a string", json!("small"), "spec"),
        rejected("component as a list", json!({"mysql": ["replicas", 3]}), "spec.mysql"),
        rejected("replicas as a word", json!({"clickhouse": {"replicas": "three"}}), "spec.clickhouse.replicas"),
        rejected("enabled as a word", json!({"redis": {"enabled": "yes"}}), "spec.redis.enabled"),
        rejected("storage as a number", json!({"kafka": {"storageSize": 10}}), "spec.kafka.storageSize"),
        rejected("retention policy as a string", json!({"retentionPolicy": "purge"}), "spec.retentionPolicy"),
        // Negative, zero and absurd quantities.
        rejected("negative storage", json!({"kafka": {"storageSize": "-5Gi"}}), "spec.kafka.storageSize"),
        rejected("zero storage", json!({"redis": {"storageSize": "0Gi"}}), "spec.redis.storageSize"),
        rejected("storage in a made-up unit", json!({"minio": {"storageSize": "10GB"}}), "spec.minio.storageSize"),
        rejected("storage as words", json!({"mysql": {"storageSize": "ten gigs"}}), "spec.mysql.storageSize"),
        rejected("empty storage", json!({"mysql": {"storageSize": ""}}), "spec.mysql.storageSize"),
        rejected("negative Kafka replicas", json!({"kafka": {"replicas": -1}}), "spec.kafka.replicas"),
        rejected("absurd ClickHouse replicas", json!({"clickhouse": {"replicas": 100000}}), "spec.clickhouse.replicas"),
        reported(
            "negative memory limit",
            json!({"mysql": {"config": {"resources": {"limits": {"memory": "-1Gi"}}}}}),
            "mysql",
            "InvalidSpec",
            "spec.mysql.config.resources",
        ),
        reported(
            "CPU limit as words",
            json!({"kafka": {"config": {"resources": {"limits": {"cpu": "lots"}}}}}),
            "kafka",
            "InvalidSpec",
            "spec.kafka.config.resources",
        ),
        reported(
            "request above its limit",
            json!({"redis": {"config": {"resources": {"requests": {"memory": "8Gi"}, "limits": {"memory": "1Gi"}}}}}),
            "redis",
            "InvalidSpec",
            "spec.redis.config.resources",
        ),
        // MySQL replica rules.
        rejected("even MySQL replicas", json!({"size": "small", "mysql": {"replicas": 2}}), "spec.mysql.replicas"),
        rejected("four MySQL replicas", json!({"size": "large", "mysql": {"replicas": 4}}), "spec.mysql.replicas"),
        rejected("nine MySQL replicas", json!({"size": "small", "mysql": {"replicas": 9}}), "spec.mysql.replicas"),
        rejected(
            "one MySQL replica outside dev",
            json!({"size": "small", "mysql": {"replicas": 1}}),
            "spec.mysql.replicas",
        ),
        // Names and namespaces.
        rejected("bad component namespace", json!({"minio": {"namespace": "Bad_NS"}}), "spec.minio.namespace"),
        rejected(
            "too-long component namespace",
            json!({"redis": {"namespace": long_namespace}}),
            "spec.redis.namespace",
        ),
        rejected("empty component namespace", json!({"kafka": {"namespace": ""}}), "spec.kafka.namespace"),
        // Enums and patterns.
        rejected(
            "unknown retention policy",
            json!({"retentionPolicy": {"onDelete": "destroy"}}),
            "spec.retentionPolicy.onDelete",
        ),
        rejected(
            "unknown component retention policy",
            json!({"clickhouse": {"retentionPolicy": {"onDelete": "keep"}}}),
            "spec.clickhouse.retentionPolicy.onDelete",
        ),
        rejected("Kafka version 'latest'", json!({"kafka": {"version": "latest"}}), "spec.kafka.version"),
        rejected("empty image", json!({"mysql": {"config": {"image": ""}}}), "spec.mysql.config.image"),
        rejected(
            "master name with a space",
            json!({"redis": {"sentinel": {"config": {"masterName": "a b"}}}}),
            "spec.redis.sentinel.config.masterName",
        ),
        rejected(
            "unicode master name",
            json!({"redis": {"sentinel": {"config": {"masterName": "gorilla🦍"}}}}),
            "spec.redis.sentinel.config.masterName",
        ),
        // Unknown fields (strict field validation, as kubectl sends).
        rejected("misspelt component", json!({"mysq": {}}), "spec.mysq"),
        rejected("misspelt field", json!({"kafka": {"replica": 3}}), "spec.kafka.replica"),
        rejected("unknown nested field", json!({"minio": {"config": {"imag": "x"}}}), "spec.minio.config.imag"),
    ];
    let mut named = |title: &'static str, name: &str, field: &'static str| {
        cases.push(Case { title, name: name.to_owned(), spec: json!({}), expect: Expect::Rejected(field) });
    };
    named("name longer than 16 characters", "seventeen-chars-x", "metadata.name");
    named("unicode name", "wändb", "metadata.name");
    cases.push(reported(
        "component in a namespace that does not exist",
        json!({"clickhouse": {"namespace": "nowhere"}}),
        "clickhouse",
        "NamespaceMissing",
        "nowhere",
    ));
    cases
}

/// The vendor kind whose object `<cr>-<component>` a component's reconcile would create.
fn vendor_kind(component: &str) -> ApiResource {
    match component {
        "mysql" => api_resource("pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters"),
        "redis" => api_resource("redis.redis.opstreelabs.in/v1beta2", "Redis", "redis"),
        "kafka" => api_resource("kafka.strimzi.io/v1", "Kafka", "kafkas"),
        "minio" => api_resource("minio.min.io/v2", "Tenant", "tenants"),
        _ => api_resource("clickhouse.altinity.com/v1", "ClickHouseInstallation", "clickhouseinstallations"),
    }
}

async fn apply(client: &Client, namespace: &str, case: &Case) -> Result<(), kube::Error> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &ApiResource::erase::<WeightsAndBiases>(&()));
    let body = json!({"apiVersion": WeightsAndBiases::api_resource().api_version, "kind": "WeightsAndBiases",
        "metadata": {"name": case.name}, "spec": case.spec});
    let params = PatchParams::apply("reliability-suite").validation_strict();
    api.patch(&case.name, &params, &Patch::Apply(body)).await.map(|_| ())
}

async fn check(h: &Harness, namespace: &str, case: &Case) -> Result<String, String> {
    let client = h.client.clone();
    h.namespace(namespace).await;
    let result = apply(&client, namespace, case).await;
    match (&case.expect, result) {
        (Expect::Rejected(field), Err(kube::Error::Api(status))) => {
            let text = format!("{} {:?}", status.message, status.details);
            // kube-apiserver refuses a wrong-typed value while building server-side apply's
            // typed patch, with 500 (the emulator with 422); both name the field.
            let typed_patch = status.code == 500 && text.contains("failed to create typed patch object");
            if (status.code == 422 || typed_patch) && text.contains(field) {
                Ok(format!("{} naming {field}", status.code))
            } else {
                Err(format!("answered {} without naming {field}: {}", status.code, status.message))
            }
        }
        (Expect::Rejected(field), Ok(())) => Err(format!("accepted; expected a 422 naming {field}")),
        (_, Err(e)) => Err(format!("rejected, but the operator should have reported it: {e}")),
        (Expect::Reported { component, code, field }, Ok(())) => {
            let api: Api<WeightsAndBiases> = Api::namespaced(client.clone(), namespace);
            let detail = || async {
                let w = api.get_opt(&case.name).await.ok().flatten()?;
                let status = serde_json::to_value(w.status?).ok()?;
                let details = status[format!("{component}Status")]["details"].as_array()?.clone();
                details.into_iter().find(|d| d["code"] == *code)
            };
            wait_until(&format!("{component} {code}"), 20, || async { detail().await.is_some() }).await?;
            let found = detail().await.unwrap_or_default();
            let message = found["message"].as_str().unwrap_or_default().to_owned();
            if !message.contains(field) {
                return Err(format!("{code} says {message:?}, not naming {field}"));
            }
            // Give the operator time to (wrongly) apply something, then look.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let target_namespace = case.spec[*component]["namespace"].as_str().unwrap_or(namespace).to_owned();
            let kind = vendor_kind(component);
            let objects: Api<DynamicObject> = Api::namespaced_with(client.clone(), &target_namespace, &kind);
            let applied = matches!(objects.get_opt(&format!("{}-{component}", case.name)).await, Ok(Some(_)));
            if applied { Err(format!("applied anyway: {}", kind.kind)) } else { Ok(format!("{code}: {message}")) }
        }
    }
}

/// Runs the corpus with the operator running, on the emulator and on the real control plane
/// (kube-apiserver from Go modules: its validation is the judge).
pub async fn run(report: &mut Report) {
    report.section("bad input corpus (rejected with a field path, or reported with a code; nothing partial)");
    let emulated = Harness::start(&[]).await;
    let mut real = Harness::real_cluster_wide().await;
    real.start_operator();
    for (backend, h) in [("emulator", &emulated), ("real", &real)] {
        for (i, case) in corpus().into_iter().enumerate() {
            let started = Instant::now();
            let namespace = format!("bad-{i}");
            let result = check(h, &namespace, &case).await;
            report.check(&format!("bad input ({backend}): {}", case.title), started, result);
        }
    }
}
