//! The validated configuration the vendor builders consume. Nothing here reads the raw spec.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

use super::{ModelError, Quantity};
use crate::api::{OnDelete, Size};

/// The `WeightsAndBiases` instance the objects belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.uid`; absent when rendering a manifest that was never applied.
    pub uid: Option<String>,
}

/// One of the five components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    /// MySQL.
    MySql,
    /// Redis.
    Redis,
    /// Kafka.
    Kafka,
    /// Object storage.
    Minio,
    /// ClickHouse.
    ClickHouse,
}

impl Component {
    /// Every component, in status order.
    pub const ALL: [Component; 5] =
        [Component::MySql, Component::Redis, Component::Kafka, Component::Minio, Component::ClickHouse];

    /// The spec key and label value: `mysql`, `redis`, `kafka`, `minio`, `clickhouse`.
    pub fn key(self) -> &'static str {
        match self {
            Component::MySql => "mysql",
            Component::Redis => "redis",
            Component::Kafka => "kafka",
            Component::Minio => "minio",
            Component::ClickHouse => "clickhouse",
        }
    }

    /// The name used in condition types: `MySQL`, `Redis`, `Kafka`, `Minio`, `ClickHouse`.
    pub fn display_name(self) -> &'static str {
        match self {
            Component::MySql => "MySQL",
            Component::Redis => "Redis",
            Component::Kafka => "Kafka",
            Component::Minio => "Minio",
            Component::ClickHouse => "ClickHouse",
        }
    }
}

/// Where a component lives and what happens to it when it stops being managed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The instance it belongs to.
    pub instance: Instance,
    /// The component.
    pub component: Component,
    /// Namespace of its objects.
    pub namespace: String,
    /// Retention policy in force for it.
    pub on_delete: OnDelete,
}

impl Placement {
    /// The component's main object name: `<cr>-<component>`.
    pub fn object_name(&self) -> String {
        format!("{}-{}", self.instance.name, self.component.key())
    }

    /// Whether the component shares the instance's namespace (owner references possible).
    pub fn same_namespace(&self) -> bool {
        self.namespace == self.instance.namespace
    }
}

/// Requests and limits after merging the user's keys over the profile's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resources {
    /// Requests by resource name.
    pub requests: BTreeMap<String, Quantity>,
    /// Limits by resource name.
    pub limits: BTreeMap<String, Quantity>,
}

impl Resources {
    /// As Kubernetes `ResourceRequirements`, or `None` when nothing is set.
    pub fn to_requirements(&self) -> Option<ResourceRequirements> {
        if self.requests.is_empty() && self.limits.is_empty() {
            return None;
        }
        let map = |m: &BTreeMap<String, Quantity>| {
            (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), K8sQuantity(v.as_str().to_owned()))).collect())
        };
        Some(ResourceRequirements { requests: map(&self.requests), limits: map(&self.limits), ..Default::default() })
    }
}

/// A component's resolved plan: managed with a config, or disabled.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan<C> {
    /// Managed with this configuration.
    Enabled(C),
    /// Run elsewhere: the operator checks it and publishes its connection.
    External(Box<super::ExternalConfig>),
    /// `enabled: false`: not managed; the retention policy applies to what exists.
    Disabled(Placement),
}

impl<C> Plan<C> {
    /// The enabled config, if any.
    pub fn enabled(&self) -> Option<&C> {
        match self {
            Plan::Enabled(c) => Some(c),
            Plan::External(_) | Plan::Disabled(_) => None,
        }
    }

    /// Where the component lives, whatever the plan.
    pub fn placement(&self) -> &Placement
    where
        C: Placed,
    {
        match self {
            Plan::Enabled(c) => c.placement(),
            Plan::External(e) => &e.placement,
            Plan::Disabled(p) => p,
        }
    }
}

/// Everything the operator decides for one `WeightsAndBiases`, per component. A component whose
/// spec is invalid carries its error; the others are unaffected.
#[derive(Debug, Clone)]
pub struct InfraConfig {
    /// The instance.
    pub instance: Instance,
    /// The size in force.
    pub size: Size,
    /// MySQL.
    pub mysql: Result<Plan<MySqlConfig>, ModelError>,
    /// Redis.
    pub redis: Result<Plan<RedisConfig>, ModelError>,
    /// Kafka.
    pub kafka: Result<Plan<KafkaConfig>, ModelError>,
    /// MinIO.
    pub minio: Result<Plan<MinioConfig>, ModelError>,
    /// ClickHouse.
    pub clickhouse: Result<Plan<ClickHouseConfig>, ModelError>,
}

impl InfraConfig {
    /// All component errors, in component order.
    pub fn errors(&self) -> Vec<&ModelError> {
        [
            self.mysql.as_ref().err(),
            self.redis.as_ref().err(),
            self.kafka.as_ref().err(),
            self.minio.as_ref().err(),
            self.clickhouse.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// Percona `unsafeFlags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PxcUnsafeFlags {
    /// Allow a PXC size outside 3..=5 (or even).
    pub pxc_size: bool,
    /// Allow a proxy size below 2.
    pub proxy_size: bool,
    /// Allow TLS off.
    pub tls: bool,
}

/// ProxySQL in front of PXC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySqlConfig {
    /// ProxySQL pods.
    pub replicas: i32,
    /// ProxySQL image.
    pub image: String,
}

/// MySQL (Percona XtraDB Cluster).
#[derive(Debug, Clone, PartialEq)]
pub struct MySqlConfig {
    /// Placement.
    pub placement: Placement,
    /// Storage per node.
    pub storage: Quantity,
    /// PXC nodes.
    pub replicas: i32,
    /// PXC resources.
    pub resources: Resources,
    /// PXC image.
    pub image: String,
    /// TLS enabled.
    pub tls: bool,
    /// ProxySQL, when clients go through it.
    pub proxysql: Option<ProxySqlConfig>,
    /// Log collector image, when on.
    pub log_collector_image: Option<String>,
    /// Percona unsafe flags.
    pub unsafe_flags: PxcUnsafeFlags,
    /// Percona `crVersion`.
    pub cr_version: String,
    /// Scheduled backups, when on.
    pub backup: Option<super::backup::BackupConfig>,
    /// Why backups are off although the size turns them on (no default storage).
    pub backup_off_reason: Option<String>,
    /// A restore asked for.
    pub restore: Option<super::backup::RestoreConfig>,
}

/// Redis sentinel settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SentinelConfig {
    /// Sentinels.
    pub replicas: i32,
    /// Sentinel image.
    pub image: String,
    /// Sentinel resources.
    pub resources: Resources,
    /// Master group name (also reported to clients).
    pub master_name: String,
}

/// Redis topology.
#[derive(Debug, Clone, PartialEq)]
pub enum RedisTopology {
    /// One `Redis`.
    Standalone,
    /// `RedisReplication` watched by a `RedisSentinel`.
    Replication {
        /// Redis replicas.
        replicas: i32,
        /// Sentinels.
        sentinel: SentinelConfig,
    },
}

/// Redis (Opstree).
#[derive(Debug, Clone, PartialEq)]
pub struct RedisConfig {
    /// Placement.
    pub placement: Placement,
    /// Storage per replica.
    pub storage: Quantity,
    /// Redis resources.
    pub resources: Resources,
    /// Redis image.
    pub image: String,
    /// Topology.
    pub topology: RedisTopology,
}

/// Kafka broker settings that follow the node count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KafkaReplication {
    /// `default.replication.factor`, `offsets.topic.replication.factor`,
    /// `transaction.state.log.replication.factor`.
    pub replication_factor: i32,
    /// `min.insync.replicas`, `transaction.state.log.min.isr`.
    pub min_insync_replicas: i32,
}

impl KafkaReplication {
    /// Replication factor min(nodes, 3); min in-sync replicas 2 from 3 nodes on, else 1.
    pub fn for_nodes(nodes: i32) -> Self {
        KafkaReplication { replication_factor: nodes.min(3), min_insync_replicas: if nodes >= 3 { 2 } else { 1 } }
    }
}

/// Kafka (Strimzi).
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaConfig {
    /// Placement.
    pub placement: Placement,
    /// Storage per node.
    pub storage: Quantity,
    /// Node resources.
    pub resources: Resources,
    /// Image override (else Strimzi's image for the version).
    pub image: Option<String>,
    /// Dual-role nodes.
    pub replicas: i32,
    /// Kafka version.
    pub version: String,
    /// Replication settings.
    pub replication: KafkaReplication,
}

/// MinIO (Tenant).
#[derive(Debug, Clone, PartialEq)]
pub struct MinioConfig {
    /// Placement.
    pub placement: Placement,
    /// Storage per volume.
    pub storage: Quantity,
    /// Server resources.
    pub resources: Resources,
    /// MinIO image.
    pub image: String,
    /// Servers.
    pub servers: i32,
    /// Volumes per server.
    pub volumes_per_server: i32,
    /// TLS via the operator's auto-certificate.
    pub tls: bool,
}

/// ClickHouse Keeper.
#[derive(Debug, Clone, PartialEq)]
pub struct KeeperConfig {
    /// Keeper nodes.
    pub replicas: i32,
    /// Storage per node.
    pub storage: Quantity,
    /// Keeper resources.
    pub resources: Resources,
    /// Keeper image.
    pub image: String,
}

/// ClickHouse (Altinity).
#[derive(Debug, Clone, PartialEq)]
pub struct ClickHouseConfig {
    /// Placement.
    pub placement: Placement,
    /// Storage per replica.
    pub storage: Quantity,
    /// Server resources.
    pub resources: Resources,
    /// Server image.
    pub image: String,
    /// Replicas of the single shard.
    pub replicas: i32,
    /// Keeper, present when replicas > 1.
    pub keeper: Option<KeeperConfig>,
}

/// Access to a component config's placement.
pub trait Placed {
    /// Where the component lives and its retention policy.
    fn placement(&self) -> &Placement;
}

macro_rules! placed {
    ($($t:ty),*) => {$(
        impl Placed for $t {
            fn placement(&self) -> &Placement {
                &self.placement
            }
        }
    )*};
}
placed!(MySqlConfig, RedisConfig, KafkaConfig, MinioConfig, ClickHouseConfig);
