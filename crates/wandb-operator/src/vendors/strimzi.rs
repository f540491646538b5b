//! Kafka through Strimzi on `kafka.strimzi.io/v1`: a `Kafka` (KRaft) and one dual-role
//! `KafkaNodePool` `<cr>-kafka-pool`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::{CustomResource, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::meta;
use super::object_key::ObjectKey;
use super::objects::{Desired, DesiredObject, Observed, VendorError, service_host};
use super::readiness::{self, Verdict};
use super::vendor::Vendor;
use crate::api::{ComponentStatus, KafkaConnection};
use crate::model::Edition;
use crate::model::KafkaConfig;

const API_VERSION: &str = "kafka.strimzi.io/v1";
/// Label tying a node pool to its Kafka cluster.
pub const CLUSTER_LABEL: &str = "strimzi.io/cluster";

/// `Kafka` spec.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "kafka.strimzi.io",
    version = "v1",
    kind = "Kafka",
    plural = "kafkas",
    shortname = "k",
    namespaced,
    status = "KafkaStatus"
)]
pub struct KafkaSpec {
    /// Broker settings (no replicas, storage or resources in v1: node pools carry them).
    pub kafka: KafkaClusterSpec,
}

/// `spec.kafka`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct KafkaClusterSpec {
    /// Apache Kafka version.
    pub version: String,
    /// The KRaft metadata version (quoted string); pinned so that a Strimzi upgrade never
    /// moves it (moving it may not be undone).
    #[serde(default, rename = "metadataVersion", skip_serializing_if = "Option::is_none")]
    pub metadata_version: Option<String>,
    /// Image override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Listeners.
    pub listeners: Vec<KafkaListener>,
    /// Broker configuration.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, serde_json::Value>,
}

/// One listener.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct KafkaListener {
    /// Name (`plain`, `tls`).
    pub name: String,
    /// Port.
    pub port: i32,
    /// `internal`.
    #[serde(rename = "type")]
    pub type_: String,
    /// TLS on this listener.
    pub tls: bool,
}

/// `Kafka` status fields we read.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaStatus {
    /// The Kafka version the brokers run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka_version: Option<String>,
    /// Conditions (`Ready` or `NotReady`, plus `Warning`s).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<StrimziCondition>,
    /// Generation of the last reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Listener addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<ListenerStatus>,
}

/// A Strimzi condition.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct StrimziCondition {
    /// Type.
    #[serde(rename = "type", default)]
    pub type_: String,
    /// `True`/`False`.
    #[serde(default)]
    pub status: String,
    /// Reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `status.listeners[]`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListenerStatus {
    /// Listener name.
    #[serde(default)]
    pub name: String,
    /// `host:port[,host:port...]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_servers: Option<String>,
}

/// `KafkaNodePool` spec.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "kafka.strimzi.io",
    version = "v1",
    kind = "KafkaNodePool",
    plural = "kafkanodepools",
    shortname = "knp",
    namespaced,
    status = "KafkaNodePoolStatus"
)]
pub struct KafkaNodePoolSpec {
    /// Nodes.
    pub replicas: i32,
    /// `controller`, `broker`.
    pub roles: Vec<String>,
    /// Storage.
    pub storage: NodePoolStorage,
    /// Resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Pod template (image pull Secrets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<NodePoolTemplate>,
}

/// `template` of a node pool.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct NodePoolTemplate {
    /// The brokers' pods.
    pub pod: PodTemplate,
}

/// `template.pod`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplate {
    /// Image pull Secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<k8s_openapi::api::core::v1::LocalObjectReference>>,
}

/// `storage` (jbod).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct NodePoolStorage {
    /// `jbod`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Volumes.
    pub volumes: Vec<NodePoolVolume>,
}

/// A jbod volume.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodePoolVolume {
    /// Volume id.
    pub id: i32,
    /// `persistent-claim`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Size.
    pub size: String,
    /// Delete the PVC with the cluster (always false while managed).
    pub delete_claim: bool,
    /// `shared`: KRaft metadata lives on this volume.
    pub kraft_metadata: String,
}

/// `KafkaNodePool` status fields we read.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaNodePoolStatus {
    /// Generation last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Nodes running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
}

/// The Strimzi vendor for Kafka.
pub struct Strimzi;

fn kafka_key(config: &KafkaConfig) -> ObjectKey {
    ObjectKey::new(API_VERSION, "Kafka", &config.placement.namespace, &config.placement.object_name())
}

fn pool_key(config: &KafkaConfig) -> ObjectKey {
    ObjectKey::new(
        API_VERSION,
        "KafkaNodePool",
        &config.placement.namespace,
        &format!("{}-pool", config.placement.object_name()),
    )
}

fn listener(name: &str, port: i32, tls: bool) -> KafkaListener {
    KafkaListener { name: name.to_owned(), port, type_: "internal".to_owned(), tls }
}

impl Strimzi {
    /// The `Kafka` cluster.
    pub fn kafka(config: &KafkaConfig) -> Kafka {
        let name = config.placement.object_name();
        let r = config.replication;
        let config_map: BTreeMap<String, serde_json::Value> = [
            ("default.replication.factor", r.replication_factor),
            ("offsets.topic.replication.factor", r.replication_factor),
            ("transaction.state.log.replication.factor", r.replication_factor),
            ("min.insync.replicas", r.min_insync_replicas),
            ("transaction.state.log.min.isr", r.min_insync_replicas),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
        .collect();
        let mut kafka = Kafka::new(
            &name,
            KafkaSpec {
                kafka: KafkaClusterSpec {
                    version: config.version.clone(),
                    metadata_version: metadata_version(config),
                    image: config.image.clone(),
                    listeners: vec![listener("plain", 9092, false), listener("tls", 9093, true)],
                    config: config_map,
                },
            },
        );
        *kafka.meta_mut() = meta::object_meta(&config.placement, &name);
        kafka
    }

    /// The dual-role node pool.
    pub fn pool(config: &KafkaConfig) -> KafkaNodePool {
        let name = format!("{}-pool", config.placement.object_name());
        let mut pool = KafkaNodePool::new(
            &name,
            KafkaNodePoolSpec {
                replicas: config.replicas,
                roles: vec!["controller".to_owned(), "broker".to_owned()],
                storage: NodePoolStorage {
                    type_: "jbod".to_owned(),
                    volumes: vec![NodePoolVolume {
                        id: 0,
                        type_: "persistent-claim".to_owned(),
                        size: config.storage.as_str().to_owned(),
                        // Always false while managed; purge deletes PVCs explicitly.
                        delete_claim: false,
                        kraft_metadata: "shared".to_owned(),
                    }],
                },
                resources: config.resources.to_requirements(),
                template: meta::pull_secrets(&config.images)
                    .map(|secrets| NodePoolTemplate { pod: PodTemplate { image_pull_secrets: Some(secrets) } }),
            },
        );
        let mut metadata = meta::object_meta(&config.placement, &name);
        metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(CLUSTER_LABEL.to_owned(), config.placement.object_name());
        *pool.meta_mut() = metadata;
        pool
    }
}

/// The metadata version pinned for `config`: from the 2026 edition, that of the Kafka line the
/// brokers run (Strimzi's `kafka-versions.yaml`); the 2025 edition left it to Strimzi. A
/// version outside the table is left to Strimzi too.
fn metadata_version(config: &KafkaConfig) -> Option<String> {
    if config.edition == Edition::Y2025 {
        return None;
    }
    let line: Vec<&str> = config.version.splitn(3, '.').take(2).collect();
    let metadata = match line.as_slice() {
        ["4", "2"] => "4.2-IV1",
        ["4", "3"] => "4.3-IV0",
        _ => return None,
    };
    Some(metadata.to_owned())
}

impl Vendor for Strimzi {
    type Config = KafkaConfig;
    type Connection = KafkaConnection;

    /// Kafka applies a new default replication factor to topics created from then on only.
    fn change_notes(&self, before: &KafkaConfig, after: &KafkaConfig) -> Vec<String> {
        let (was, now) = (before.replication.replication_factor, after.replication.replication_factor);
        if now <= was {
            return Vec::new();
        }
        vec![format!(
            "topics created before keep replication factor {was} (Kafka applies the new default, {now}, to new topics only): raise theirs with kafka-reassign-partitions once the brokers run (docs/operations.md, \"Growing from dev to small\")"
        )]
    }

    fn name(&self) -> &'static str {
        "Strimzi"
    }

    fn desired(&self, config: &KafkaConfig) -> Result<Desired, VendorError> {
        Ok(Desired {
            objects: vec![
                DesiredObject::from_typed(kafka_key(config), &Self::kafka(config))?,
                DesiredObject::from_typed(pool_key(config), &Self::pool(config))?,
            ],
            storage_fields: vec![(pool_key(config), "/spec/storage/volumes/0/size")],
            // Strimzi's procedure: the brokers roll to the new `version` first; the
            // `metadataVersion` (which may not be reversible) only once they all run it.
            versions: vec![
                super::objects::VersionField {
                    key: kafka_key(config),
                    pointer: "/spec/kafka/version",
                    what: "Kafka",
                    step: 0,
                    major: 0,
                    bridge: None,
                },
                super::objects::VersionField {
                    key: kafka_key(config),
                    pointer: "/spec/kafka/metadataVersion",
                    what: "Kafka metadata version",
                    step: 1,
                    major: 0,
                    bridge: None,
                },
            ],
            ..Desired::default()
        })
    }

    fn kinds(&self) -> Vec<kube::core::ApiResource> {
        vec![super::objects::api_resource_of::<Kafka>(), super::objects::api_resource_of::<KafkaNodePool>()]
    }

    /// Strimzi's `strimzi.io/pause-reconciliation` on the Kafka: its node pools are
    /// reconciled with it, so they pause with it.
    fn pause_marker(&self, kind: &str) -> Option<serde_json::Value> {
        (kind == "Kafka").then(|| super::fragment::annotation_true("strimzi.io/pause-reconciliation"))
    }

    fn release_source(&self) -> Option<super::release::ReleaseSource> {
        // Strimzi labels no release; its CRD's presence tells an old release from none.
        Some(super::release::ReleaseSource {
            crd: "kafkas.kafka.strimzi.io",
            key: "",
            serves_our_version: "Strimzi 0.49 or newer serves kafka.strimzi.io/v1 (0.51 to 1.2 are supported)",
        })
    }

    fn default_images(&self, _edition: crate::model::Edition) -> Vec<String> {
        // Strimzi picks the broker image for the Kafka version from its own configuration.
        Vec::new()
    }

    fn access_rules(&self) -> &'static [super::access_rule::Rule] {
        &[super::access_rule::Rule {
            group: "kafka.strimzi.io",
            resources: &["kafkas", "kafkanodepools"],
            verbs: super::access_rule::VENDOR_VERBS,
            why: "Kafka: apply, read status, detach, purge",
            resource_names: &[],
        }]
    }

    fn data_claims(&self, placement: &crate::model::Placement) -> super::objects::ClaimMatcher {
        let name = placement.object_name();
        super::objects::ClaimMatcher {
            prefixes: vec![format!("data-0-{name}-{name}-pool-"), format!("data-{name}-{name}-pool-")],
            labels: vec![(CLUSTER_LABEL.to_owned(), name)],
        }
    }

    fn applied_version(&self, config: &KafkaConfig) -> Option<String> {
        Some(config.version.clone())
    }

    fn connection_extras(&self, config: &KafkaConfig) -> BTreeMap<String, String> {
        [("KAFKA_TLS".to_owned(), config.client_tls.to_string())].into()
    }

    fn connection_sources(&self, config: &KafkaConfig) -> Vec<(String, crate::api::SecretKeyReference)> {
        // Strimzi's cluster CA signed the brokers' certificates.
        let ca = crate::api::SecretKeyReference {
            name: format!("{}-cluster-ca-cert", config.placement.object_name()),
            key: "ca.crt".to_owned(),
        };
        config.client_tls.then(|| ("KAFKA_CA_CERT".to_owned(), ca)).into_iter().collect()
    }

    /// The Kafka: ready at its generation with every broker on its `version` (Strimzi's
    /// `status.kafkaVersion`); node pools: their nodes running at their generation.
    fn settled(&self, live: &serde_json::Value) -> Option<bool> {
        match live.get("kind").and_then(serde_json::Value::as_str)? {
            "Kafka" => {
                let kafka: Kafka = serde_json::from_value(live.clone()).ok()?;
                let running = kafka.status.as_ref().and_then(|s| s.kafka_version.as_deref());
                Some(kafka_verdict(&kafka) == Verdict::Ready && running == Some(kafka.spec.kafka.version.as_str()))
            }
            "KafkaNodePool" => {
                let pool: KafkaNodePool = serde_json::from_value(live.clone()).ok()?;
                Some(pool_verdict(&pool) == Verdict::Ready)
            }
            _ => None,
        }
    }

    fn observe(
        &self,
        config: &KafkaConfig,
        observed: &Observed,
        previously_ready: bool,
    ) -> ComponentStatus<KafkaConnection> {
        let kafka = observed.typed::<Kafka>(&kafka_key(config));
        let pool = observed.typed::<KafkaNodePool>(&pool_key(config));
        let kafka_verdict = kafka.as_ref().map_or(Verdict::Missing, kafka_verdict);
        let pool_verdict = pool.as_ref().map_or(Verdict::Missing, pool_verdict);
        let mut status = readiness::fold(
            vec![(kafka_key(config).to_string(), kafka_verdict), (pool_key(config).to_string(), pool_verdict)],
            previously_ready,
        );
        // The listener clients are given: TLS (trusting the cluster CA) or plain.
        let (listener, default_port) = if config.client_tls { ("tls", "9093") } else { ("plain", "9092") };
        let reported = kafka
            .as_ref()
            .and_then(|k| k.status.as_ref())
            .and_then(|s| s.listeners.iter().find(|l| l.name == listener))
            .and_then(|l| l.bootstrap_servers.as_deref())
            .and_then(first_host_port);
        let (host, port) = reported.unwrap_or_else(|| {
            // Strimzi's bootstrap service, until the vendor reports the listener.
            let service = format!("{}-kafka-bootstrap", config.placement.object_name());
            (service_host(&service, &config.placement.namespace), default_port.to_owned())
        });
        status.connection = Some(KafkaConnection { host, port });
        // What Strimzi reports the brokers run; until it does, the version we asked for.
        let reported = kafka.as_ref().and_then(|k| k.status.as_ref()?.kafka_version.clone());
        status.version = reported.or_else(|| self.applied_version(config));
        status
    }
}

/// The first `host:port` of a bootstrap list.
fn first_host_port(servers: &str) -> Option<(String, String)> {
    let first = servers.split(',').next()?.trim();
    let (host, port) = first.rsplit_once(':')?;
    (!host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        .then(|| (host.to_owned(), port.to_owned()))
}

/// Strimzi's rule: condition `Ready=True` at the current generation. `NotReady` with a reason
/// other than `Creating` is a failed reconcile.
fn kafka_verdict(kafka: &Kafka) -> Verdict {
    let Some(status) = &kafka.status else { return Verdict::NotReported };
    let not_ready = status.conditions.iter().find(|c| c.type_ == "NotReady" && c.status == "True");
    if let Some(c) = not_ready
        && c.reason.as_deref() != Some("Creating")
    {
        let reason = c.reason.clone().unwrap_or_default();
        return Verdict::Failed(format!("{reason}: {}", c.message.clone().unwrap_or_default()));
    }
    if let Some(stale) = readiness::stale(status.observed_generation, kafka.metadata.generation) {
        return stale;
    }
    if status.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True") {
        Verdict::Ready
    } else if status.conditions.is_empty() {
        Verdict::NotReported
    } else {
        Verdict::Progressing("the cluster is not ready yet".to_owned())
    }
}

/// Node pool: observed generation current and as many nodes as desired.
fn pool_verdict(pool: &KafkaNodePool) -> Verdict {
    let Some(status) = &pool.status else { return Verdict::NotReported };
    if let Some(stale) = readiness::stale(status.observed_generation, pool.metadata.generation) {
        return stale;
    }
    let running = status.replicas.unwrap_or(0);
    if running >= pool.spec.replicas {
        Verdict::Ready
    } else {
        Verdict::FewerReady(format!("{running} of {} nodes", pool.spec.replicas))
    }
}

#[cfg(test)]
mod tests {
    use super::first_host_port;

    #[test]
    fn bootstrap_servers_are_split_into_host_and_port() {
        assert_eq!(
            first_host_port("w-kafka-kafka-bootstrap.ns.svc:9092"),
            Some(("w-kafka-kafka-bootstrap.ns.svc".into(), "9092".into()))
        );
        assert_eq!(first_host_port("a:1,b:2"), Some(("a".into(), "1".into())));
        assert_eq!(first_host_port("nonsense"), None);
        assert_eq!(first_host_port("host:port"), None);
    }
}
