//! The desired state a user writes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::backup::{MySqlBackupSpec, MySqlRestoreSpec};
use super::external::{ExternalClickHouse, ExternalKafka, ExternalMySql, ExternalObjectStorage, ExternalRedis};
use super::status::WeightsAndBiasesStatus;

// A Kubernetes quantity that is strictly positive (the mantissa has a non-zero digit). This is the
// apimachinery quantity grammar without the sign, as an RE2 pattern the API server can enforce.
pub(crate) const POSITIVE_QUANTITY_PATTERN: &str =
    r"^(([0-9]*[1-9][0-9]*(\.[0-9]*)?)|([0-9]*\.[0-9]*[1-9][0-9]*))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$";
// A DNS-1123 label: what a namespace name must be.
pub(crate) const DNS1123_LABEL_PATTERN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/// Weights & Biases stateful infrastructure: MySQL, Redis, Kafka, object storage and ClickHouse,
/// each run by its vendor operator and sized by one profile plus overrides.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[kube(
    group = "apps.wandb.com",
    version = "v2",
    kind = "WeightsAndBiases",
    plural = "weightsandbiases",
    singular = "weightsandbiases",
    shortname = "wandb",
    category = "wandb",
    namespaced,
    status = "WeightsAndBiasesStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "Weights & Biases stateful infrastructure (MySQL, Redis, Kafka, MinIO, ClickHouse) managed through vendor operators.",
    printcolumn(name = "State", type_ = "string", json_path = ".status.state", description = "Worst state over the enabled components"),
    printcolumn(name = "MySQL", type_ = "string", json_path = ".status.mysqlStatus.state"),
    printcolumn(name = "Redis", type_ = "string", json_path = ".status.redisStatus.state"),
    printcolumn(name = "Kafka", type_ = "string", json_path = ".status.kafkaStatus.state"),
    printcolumn(name = "Minio", type_ = "string", json_path = ".status.minioStatus.state"),
    printcolumn(name = "ClickHouse", type_ = "string", json_path = ".status.clickhouseStatus.state"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("self.metadata.name.size() <= 16").message("metadata.name must be at most 16 characters: derived names such as <name>-mysql must fit the vendors' limits").field_path(".metadata.name").reason(Reason::FieldValueInvalid)
)]
#[x_kube(
    validation = Rule::new("!has(self.mysql) || !has(self.mysql.replicas) || self.mysql.replicas != 1 || self.size == 'dev'").message("mysql.replicas: 1 is only allowed with size dev").field_path(".mysql.replicas").reason(Reason::FieldValueInvalid),
    validation = Rule::new("!has(self.mysql) || !has(self.mysql.backup) || !has(self.mysql.backup.enabled) || !self.mysql.backup.enabled || has(self.mysql.backup.storage) || !has(self.minio) || ((!has(self.minio.enabled) || self.minio.enabled) && !has(self.minio.external))").message("mysql.backup: without storage, backups go to the managed MinIO, which is disabled or external here; set mysql.backup.storage.external").field_path(".mysql.backup").reason(Reason::FieldValueInvalid),
    validation = Rule::new("!has(self.minio) || !has(self.minio.replicas) || self.size != 'dev' || self.minio.replicas == 1 || self.minio.replicas >= 6").message("minio.replicas: with size dev (one volume per server) MinIO's erasure coding needs 1 server or at least 6").field_path(".minio.replicas").reason(Reason::FieldValueInvalid)
)]
#[serde(rename_all = "camelCase")]
pub struct WeightsAndBiasesSpec {
    /// The size profile that supplies every default: `dev` (one replica of everything, no
    /// redundancy), `small` (highly available: 3 replicas, replication on) or `large` (the
    /// topology of `small` with more resources and storage).
    #[serde(default)]
    pub size: Size,

    /// What happens to each component's vendor objects and data when this resource is deleted or
    /// a component is disabled. Components may override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_policy: Option<RetentionPolicy>,

    /// Where the images the operator deploys by default are pulled from: a mirror registry
    /// for air-gapped clusters, and pull Secrets for every vendor pod. Images named in a
    /// component's `config.image` are used as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<ImagesSpec>,

    /// MySQL, run by the Percona Operator for MySQL (PerconaXtraDBCluster). Omitted: enabled
    /// with the size's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysql: Option<MySqlSpec>,

    /// Redis, run by the OT-Container-Kit redis-operator (Redis, or RedisReplication +
    /// RedisSentinel). Omitted: enabled with the size's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<RedisSpec>,

    /// Kafka, run by Strimzi in KRaft mode with one node pool. Omitted: enabled with the size's
    /// defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka: Option<KafkaSpec>,

    /// S3-compatible object storage, run by the MinIO operator (Tenant). Omitted: enabled with
    /// the size's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minio: Option<MinioSpec>,

    /// ClickHouse, run by the Altinity clickhouse-operator (ClickHouseInstallation, plus a
    /// ClickHouseKeeperInstallation when replicas > 1). Omitted: enabled with the size's
    /// defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clickhouse: Option<ClickHouseSpec>,
}

/// Where default images come from.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ImagesSpec {
    /// A mirror that replaces the registry of every default image, keeping its repository path
    /// and tag: `percona/haproxy:2.8.18-1` becomes `<registry>/percona/haproxy:2.8.18-1`,
    /// `quay.io/opstree/redis:v7.4.11` becomes `<registry>/opstree/redis:v7.4.11`
    /// (`wandb-operator images --registry <registry>` prints each source and target, to
    /// mirror them). A host with an optional port and path, without a scheme. Kafka's images
    /// are chosen by the Strimzi operator: mirror them with its own settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[A-Za-z0-9._-]+)*/?$"),
        length(max = 253)
    )]
    pub registry: Option<String>,

    /// Image pull Secrets (names, in each component's namespace) given to every vendor pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_secrets: Option<Vec<String>>,
}

/// A size profile.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord,
)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    /// One replica of everything, no redundancy, small storage. For trials and development.
    #[default]
    Dev,
    /// Highly available: three replicas with replication for every component.
    Small,
    /// The topology of `small` with production resources and storage.
    Large,
}

impl Size {
    /// Every size, in profile order.
    pub const ALL: [Size; 3] = [Size::Dev, Size::Small, Size::Large];

    /// The name users write (`dev`, `small`, `large`).
    pub fn as_str(self) -> &'static str {
        match self {
            Size::Dev => "dev",
            Size::Small => "small",
            Size::Large => "large",
        }
    }
}

/// What to do with a component's vendor objects and data when it stops being managed.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnDelete {
    /// Keep the vendor objects, their data and generated Secrets; only remove our owner
    /// references. Re-creating the resource adopts them again. The default: nothing is lost.
    #[default]
    Detach,
    /// Delete the vendor objects, their PersistentVolumeClaims and generated Secrets. Data is
    /// destroyed.
    Purge,
}

/// Retention policy for the whole resource.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPolicy {
    /// `detach` (default) keeps every component's objects and data when this resource is deleted
    /// or a component is disabled; `purge` deletes them.
    #[serde(default)]
    pub on_delete: OnDelete,
}

/// Retention policy override for one component.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ComponentRetentionPolicy {
    /// `detach` or `purge` for this component only. Omitted: the resource-level policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<OnDelete>,
}

/// Settings every component block accepts.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentCommon {
    /// `false` stops managing the component; its retention policy decides what happens to its
    /// objects and data (`detach` keeps them).
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,

    /// Storage per replica (per volume for MinIO), as a Kubernetes quantity such as `10Gi`.
    /// Must be greater than zero. It may grow; a shrink is refused and the applied value kept.
    /// Omitted: the size profile's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = POSITIVE_QUANTITY_PATTERN))]
    pub storage_size: Option<String>,

    /// Namespace to run the component in (a DNS-1123 label). Omitted: this resource's
    /// namespace. In another namespace the objects are tracked by labels instead of owner
    /// references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DNS1123_LABEL_PATTERN), length(min = 1, max = 63))]
    pub namespace: Option<String>,

    /// Resources and image overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ComponentConfig>,

    /// Overrides the resource-level retention policy for this component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_policy: Option<ComponentRetentionPolicy>,
}

impl Default for ComponentCommon {
    fn default() -> Self {
        Self { enabled: true, storage_size: None, namespace: None, config: None, retention_policy: None }
    }
}

fn enabled_by_default() -> bool {
    true
}

/// Resource and image overrides for a component's main workload.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ComponentConfig {
    /// CPU and memory requests and limits, merged key by key over the size profile (your keys
    /// win; keys you omit keep the profile's value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,

    /// Replaces the main container image, e.g. to pull from an air-gapped registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub image: Option<String>,
}

/// MySQL (Percona XtraDB Cluster).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(self.external) || (!has(self.replicas) && !has(self.version) && !has(self.storageSize) && !has(self.config) && !has(self.backup) && !has(self.restore) && !has(self.proxy) && !has(self.settings))").message("external cannot be combined with the managed settings replicas, version, storageSize, config, backup, restore, proxy and settings: an external component is not run by the operator").field_path(".external").reason(Reason::FieldValueForbidden)
)]
pub struct MySqlSpec {
    #[serde(flatten)]
    #[allow(missing_docs)]
    pub common: ComponentCommon,

    /// Percona XtraDB Cluster version: the tag of `percona/percona-xtradb-cluster`, e.g.
    /// `8.4.8-8.1`. Omitted: the version of the component's edition of defaults (a component
    /// keeps the version it was created with). A change is an upgrade that Percona rolls node
    /// by node; a lower version, or a new major line (8.0 to 8.4), is refused. `config.image`
    /// takes precedence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9]+(\.[0-9]+)*)?$"), length(max = 64))]
    pub version: Option<String>,

    /// Use an existing MySQL instead of running one: the operator creates no vendor object,
    /// checks the referenced Secrets and that the endpoint answers, and publishes the
    /// connection Secret. Cannot be combined with the managed settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalMySql>,

    /// Scheduled backups to object storage (Percona `spec.backup`). Omitted: on for `small`
    /// and `large` (to the managed MinIO), off for `dev`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<MySqlBackupSpec>,

    /// Restores MySQL from one backup, once: a new value runs a new restore, the same value
    /// never runs twice. Restoring replaces the cluster's data; it never deletes a backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<MySqlRestoreSpec>,

    /// Number of PXC nodes: odd, 1 to 7; 1 only with size `dev`. Omitted: 1 (dev) or 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 7))]
    #[x_kube(validation = Rule::new("self % 2 == 1").message("must be odd (Galera needs a majority)").reason(Reason::FieldValueInvalid))]
    pub replicas: Option<i32>,

    /// The proxy clients connect through. `haproxy` (the default for installs created from
    /// 2026-12): every connection goes to one writer node, which is what W&B needs (it supports
    /// no read replicas). `proxysql` (the default before): ProxySQL in front of the nodes.
    /// Omitted: the default of the edition the cluster was created with; `dev` runs without a
    /// proxy unless one is named here. Switching the proxy of a running cluster restarts the
    /// proxy pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<MySqlProxy>,

    /// MySQL server settings added to `[mysqld]`, e.g. `{max_connections: "1000"}`. W&B's
    /// required settings (`binlog_format=ROW`, `sync_binlog=1`, …; see
    /// `docs/operations.md#mysql-settings`) are set by default; a value here replaces the
    /// default, and replacing a required one is reported with `RequiredSettingOverridden`.
    /// Changing settings restarts the database nodes one by one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.all(k, k.matches('^[a-z][a-z0-9_-]*$'))").message("setting names are lowercase MySQL variable names (letters, digits, _ and -)").reason(Reason::FieldValueInvalid))]
    pub settings: Option<BTreeMap<String, String>>,
}

/// The proxy in front of a managed MySQL cluster.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum MySqlProxy {
    /// HAProxy: every connection to one writer node (Percona's default since 1.19).
    Haproxy,
    /// ProxySQL.
    Proxysql,
}

/// Redis (OT-Container-Kit redis-operator).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(self.external) || (!has(self.sentinel) && !has(self.version) && !has(self.storageSize) && !has(self.config))").message("external cannot be combined with the managed settings sentinel, version, storageSize and config: an external component is not run by the operator").field_path(".external").reason(Reason::FieldValueForbidden)
)]
pub struct RedisSpec {
    #[serde(flatten)]
    #[allow(missing_docs)]
    pub common: ComponentCommon,

    /// Use an existing Redis instead of running one: the operator creates no vendor object,
    /// checks the referenced Secrets and that the endpoint answers, and publishes the
    /// connection Secret. Cannot be combined with the managed settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalRedis>,

    /// Sentinel (high availability). Omitted: on for `small` and `large`, off for `dev`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentinel: Option<RedisSentinelSpec>,

    /// Redis version, e.g. `7.4.11`: the tag `v<version>` of `quay.io/opstree/redis` and of
    /// the sentinel image `quay.io/opstree/redis-sentinel`. W&B requires Redis 7. Omitted: the
    /// version of the component's edition of defaults (a component keeps the version it was
    /// created with). A change is an upgrade (the servers, then the sentinels); a lower version
    /// is refused. `config.image` takes precedence for the servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+\.[0-9]+\.[0-9]+$"))]
    pub version: Option<String>,
}

/// Redis Sentinel settings.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RedisSentinelSpec {
    /// `true` runs a 3-replica RedisReplication watched by 3 sentinels; `false` a standalone
    /// Redis. Omitted: the size's choice. Cannot be switched once created (data would be left
    /// behind): the switch is refused in status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,

    /// Sentinel settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<RedisSentinelConfig>,
}

/// Sentinel configuration.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RedisSentinelConfig {
    /// The master group name the sentinels use and clients ask for (`REDIS_MASTER_NAME`).
    /// Default `gorilla`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"), length(min = 1, max = 63))]
    pub master_name: Option<String>,

    /// Sentinel CPU and memory, merged key by key over the size profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

/// Kafka (Strimzi, KRaft, one dual-role node pool).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(self.external) || (!has(self.replicas) && !has(self.version) && !has(self.storageSize) && !has(self.config))").message("external cannot be combined with the managed settings replicas, version, storageSize and config: an external component is not run by the operator").field_path(".external").reason(Reason::FieldValueForbidden)
)]
pub struct KafkaSpec {
    #[serde(flatten)]
    #[allow(missing_docs)]
    pub common: ComponentCommon,

    /// Use an existing Kafka instead of running one: the operator creates no vendor object,
    /// checks the referenced Secrets and that the endpoint answers, and publishes the
    /// connection Secret. Cannot be combined with the managed settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalKafka>,

    /// Number of broker+controller nodes (1 to 99). Omitted: 1 (dev) or 3. Replication factors
    /// follow it (at most 3; min in-sync replicas 2 from 3 nodes on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 99))]
    pub replicas: Option<i32>,

    /// Apache Kafka version; must be supported by the installed Strimzi. Default `4.2.0`
    /// (supported by Strimzi 1.0 to 1.2). A change is an upgrade: the brokers first, the
    /// metadata version once they all run the new version; a lower version is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]+\.[0-9]+\.[0-9]+$"))]
    pub version: Option<String>,
}

/// S3-compatible object storage (MinIO Tenant).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(self.external) || (!has(self.replicas) && !has(self.storageSize) && !has(self.config))").message("external cannot be combined with the managed settings replicas, storageSize and config: an external component is not run by the operator").field_path(".external").reason(Reason::FieldValueForbidden)
)]
pub struct MinioSpec {
    #[serde(flatten)]
    #[allow(missing_docs)]
    pub common: ComponentCommon,

    /// Use an existing the bucket instead of running one: the operator creates no vendor object,
    /// checks the referenced Secrets and that the endpoint answers, and publishes the
    /// connection Secret. Cannot be combined with the managed settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalObjectStorage>,

    /// Number of MinIO servers (1 to 32). Omitted: 1 (dev) or 3. Volumes per server come from
    /// the size (1 for dev, 4 otherwise) and must satisfy MinIO's erasure-code limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 32))]
    pub replicas: Option<i32>,
}

/// ClickHouse (Altinity ClickHouseInstallation).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(self.external) || (!has(self.replicas) && !has(self.version) && !has(self.storageSize) && !has(self.config))").message("external cannot be combined with the managed settings replicas, version, storageSize and config: an external component is not run by the operator").field_path(".external").reason(Reason::FieldValueForbidden)
)]
pub struct ClickHouseSpec {
    #[serde(flatten)]
    #[allow(missing_docs)]
    pub common: ComponentCommon,

    /// Use an existing ClickHouse instead of running one: the operator creates no vendor object,
    /// checks the referenced Secrets and that the endpoint answers, and publishes the
    /// connection Secret. Cannot be combined with the managed settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalClickHouse>,

    /// Number of replicas of the single shard (1 to 32). Omitted: 1 (dev) or 3. More than one
    /// adds a 3-node ClickHouse Keeper so that the replicas replicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 32))]
    pub replicas: Option<i32>,

    /// Image tag of `clickhouse/clickhouse-server` and `clickhouse/clickhouse-keeper`, e.g.
    /// `26.3.19.3`. Omitted: the version of the component's edition of defaults (a component
    /// keeps the version it was created with). A change is an upgrade: Keeper first, the server
    /// once Keeper runs it; a lower version is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"), length(max = 128))]
    pub version: Option<String>,
}
