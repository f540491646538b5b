//! Layer 3 — one module per vendor operator: typed (partial) vendor resources, the desired
//! objects for a validated config, and the reading of vendor status into component status.
//!
//! Pure: nothing here talks to the API server. Each component has one seam, a [`Vendor`]
//! implementation held in [`Vendors`], so a vendor can be swapped without touching the others.

pub mod altinity;
pub mod connection;
pub mod external;
mod meta;
pub mod minio;
pub mod opstree;
pub mod percona;
pub mod percona_backup;
mod readiness;
mod secret;
pub mod status;
pub mod strimzi;

pub use meta::{
    ClaimTemplate, ClaimTemplateMeta, LABEL_COMPONENT, LABEL_INSTANCE, LABEL_INSTANCE_NAMESPACE, LABEL_MANAGED_BY,
    LABEL_PART_OF, LABEL_VENDOR_SECRET_OF, MANAGER, labels as object_labels, vendor_secret_labels,
};
pub use readiness::Verdict;
pub use secret::{GENERATED_KEYS_ANNOTATION, GeneratedSecret, GeneratedValue, secret_value};

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::{
    ClickHouseConnection, ComponentStatus, KafkaConnection, MinioConnection, MySqlConnection, RedisConnection,
};
use crate::model::{ClickHouseConfig, KafkaConfig, MinioConfig, MySqlConfig, RedisConfig};

/// Identifies one Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// `apiVersion`, e.g. `pxc.percona.com/v1`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// A key from its parts.
    pub fn new(api_version: &str, kind: &str, namespace: &str, name: &str) -> Self {
        ObjectKey {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// An object to server-side apply, as the full JSON body (apiVersion, kind, metadata, spec).
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredObject {
    /// Which object.
    pub key: ObjectKey,
    /// The body to apply.
    pub body: Value,
}

impl DesiredObject {
    /// Serializes a typed object into a desired object.
    pub fn from_typed<K: serde::Serialize>(key: ObjectKey, object: &K) -> Result<Self, VendorError> {
        let body =
            serde_json::to_value(object).map_err(|source| VendorError::Serialize { key: key.to_string(), source })?;
        Ok(DesiredObject { key, body })
    }
}

/// Everything one component needs in the cluster.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Desired {
    /// Vendor objects to apply, in apply order.
    pub objects: Vec<DesiredObject>,
    /// Secrets created once with generated values (never overwritten).
    pub secrets: Vec<GeneratedSecret>,
    /// Further objects the status reader needs (e.g. the StatefulSets Opstree creates).
    pub reads: Vec<ObjectKey>,
    /// Where each object carries its storage size (JSON pointer), so a shrink can be refused.
    pub storage_fields: Vec<(ObjectKey, &'static str)>,
    /// Objects of another topology that must not exist (switching would leave data behind).
    pub exclusive_with: Vec<ObjectKey>,
}

/// How to recognise a component's PersistentVolumeClaims (the vendors name and label them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimMatcher {
    /// Claim name prefixes.
    pub prefixes: Vec<String>,
    /// Label pairs, any of which marks a claim.
    pub labels: Vec<(String, String)>,
}

impl ClaimMatcher {
    /// Whether a claim with `name` and `labels` belongs to the component.
    pub fn matches(&self, name: &str, labels: &std::collections::BTreeMap<String, String>) -> bool {
        self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
            || self.labels.iter().any(|(k, v)| labels.get(k) == Some(v))
    }
}

impl Desired {
    /// Every key the status reader may look at: objects, secrets and extra reads.
    pub fn observed_keys(&self) -> Vec<ObjectKey> {
        self.objects
            .iter()
            .map(|o| o.key.clone())
            .chain(self.secrets.iter().map(|s| s.key.clone()))
            .chain(self.reads.iter().cloned())
            .collect()
    }
}

/// The objects read back from the cluster for one component, by key. Absent keys were not found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    objects: BTreeMap<ObjectKey, Value>,
}

impl Observed {
    /// Records an object that was read.
    pub fn insert(&mut self, key: ObjectKey, object: Value) {
        self.objects.insert(key, object);
    }

    /// The object read for `key`, if it exists.
    pub fn get(&self, key: &ObjectKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Reads the object for `key` as a typed value; `None` when absent or not of that shape.
    pub fn typed<T: serde::de::DeserializeOwned>(&self, key: &ObjectKey) -> Option<T> {
        self.get(key).and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

/// Errors of the vendor layer.
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    /// A typed object could not be serialized (a bug, reported rather than panicking).
    #[error("cannot serialize {key}: {source}")]
    Serialize {
        /// The object.
        key: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// One component's vendor: the seam between the model and a vendor operator.
pub trait Vendor: Send + Sync {
    /// The validated config this vendor consumes.
    type Config;
    /// The connection keys this vendor reports.
    type Connection;

    /// The vendor operator's name, for messages.
    fn name(&self) -> &'static str;

    /// The objects to create or converge for `config`.
    fn desired(&self, config: &Self::Config) -> Result<Desired, VendorError>;

    /// The kinds this vendor writes (for caches, watches and CRD checks).
    fn kinds(&self) -> Vec<kube::core::ApiResource>;

    /// Kinds the vendor makes on its own, without our labels, that status reads (Percona's
    /// scheduled backups). They are watched without a label selector, and retention never
    /// deletes them: they describe data outside the cluster.
    fn record_kinds(&self) -> Vec<kube::core::ApiResource> {
        Vec::new()
    }

    /// The component's data claims, found by the vendor's naming and labels.
    fn data_claims(&self, placement: &crate::model::Placement) -> ClaimMatcher;

    /// Plain keys the connection Secret holds beyond the status connection keys (e.g. the user
    /// name), for a managed component.
    fn connection_extras(&self, _config: &Self::Config) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// Reads the vendor's status into the component status. `previously_ready` tells whether
    /// the component was `Ready` before, so that a loss of capacity reads as `Degraded`.
    fn observe(
        &self,
        config: &Self::Config,
        observed: &Observed,
        previously_ready: bool,
    ) -> ComponentStatus<Self::Connection>;
}

/// Backups and restores of MySQL: the seam to the vendor that takes them.
pub trait BackupVendor: Send + Sync {
    /// The kind of one backup.
    fn backup_kind(&self) -> kube::core::ApiResource;
    /// The kind of one restore.
    fn restore_kind(&self) -> kube::core::ApiResource;
    /// The credentials Secret the vendor reads for the backup storage, copied from the
    /// storage's own Secret; `None` without backups or credentials.
    fn credentials_secret(&self, config: &MySqlConfig) -> Option<connection::ConnectionSecret>;
    /// The on-demand backup for a request.
    fn on_demand(&self, config: &MySqlConfig, request: &str) -> Result<DesiredObject, VendorError>;
    /// The restore asked for in `config`, if any; `Err` says why it cannot be built.
    fn restore(&self, config: &MySqlConfig) -> Result<Option<DesiredObject>, String>;
    /// The kind of the cluster a backup record belongs to.
    fn cluster_kind(&self) -> kube::core::ApiResource;
    /// The name of the cluster a backup record belongs to (same namespace).
    fn cluster_of(&self, record: &Value) -> Option<String>;
    /// The cluster's backup records read into status, with the details they imply.
    fn summarize(
        &self,
        config: &MySqlConfig,
        records: &[Value],
        previous: Option<&crate::api::BackupStatus>,
        now: jiff::Timestamp,
    ) -> (crate::api::BackupStatus, Vec<crate::api::StatusDetail>);
    /// A one-off object's state.
    fn request_state(&self, request: &str, name: &str, object: Option<&Value>) -> crate::api::BackupRequestStatus;
    /// Finalizers with which the vendor deletes a backup's data along with its record.
    fn data_deleting_finalizers(&self) -> &'static [&'static str];
}

/// The vendor chosen for each component.
pub struct Vendors {
    /// MySQL.
    pub mysql: Box<dyn Vendor<Config = MySqlConfig, Connection = MySqlConnection>>,
    /// Redis.
    pub redis: Box<dyn Vendor<Config = RedisConfig, Connection = RedisConnection>>,
    /// Kafka.
    pub kafka: Box<dyn Vendor<Config = KafkaConfig, Connection = KafkaConnection>>,
    /// Object storage.
    pub minio: Box<dyn Vendor<Config = MinioConfig, Connection = MinioConnection>>,
    /// ClickHouse.
    pub clickhouse: Box<dyn Vendor<Config = ClickHouseConfig, Connection = ClickHouseConnection>>,
    /// MySQL backups.
    pub mysql_backups: Box<dyn BackupVendor>,
}

impl Default for Vendors {
    /// Percona, Opstree, Strimzi, MinIO and Altinity.
    fn default() -> Self {
        Vendors {
            mysql: Box::new(percona::Percona),
            redis: Box::new(opstree::Opstree),
            kafka: Box::new(strimzi::Strimzi),
            minio: Box::new(minio::MinioOperator),
            clickhouse: Box::new(altinity::Altinity),
            mysql_backups: Box::new(percona_backup::PerconaBackups),
        }
    }
}

/// The `ApiResource` of a typed kind.
pub fn api_resource_of<K: kube::Resource<DynamicType = ()>>() -> kube::core::ApiResource {
    kube::core::ApiResource::erase::<K>(&())
}

/// Every kind the operator watches and caches besides its own: the vendors' kinds, Secrets
/// and StatefulSets (Opstree readiness). PersistentVolumeClaims are not watched: only purge
/// reads them, from the API (see `docs/architecture.md`, "What the caches hold").
pub fn watched_kinds(vendors: &Vendors) -> Vec<kube::core::ApiResource> {
    use k8s_openapi::api::{apps::v1::StatefulSet, core::v1::Secret};
    let mut kinds = vendors.mysql.kinds();
    kinds.extend(vendors.redis.kinds());
    kinds.extend(vendors.kafka.kinds());
    kinds.extend(vendors.minio.kinds());
    kinds.extend(vendors.clickhouse.kinds());
    kinds.extend(record_kinds(vendors));
    kinds.push(api_resource_of::<Secret>());
    kinds.push(api_resource_of::<StatefulSet>());
    kinds
}

/// The vendors' record kinds (see [`Vendor::record_kinds`]).
pub fn record_kinds(vendors: &Vendors) -> Vec<kube::core::ApiResource> {
    let mut kinds = vendors.mysql.record_kinds();
    kinds.extend(vendors.redis.record_kinds());
    kinds.extend(vendors.kafka.record_kinds());
    kinds.extend(vendors.minio.record_kinds());
    kinds.extend(vendors.clickhouse.record_kinds());
    kinds
}

/// Keys of our generated Secrets whose values are not credentials (user names the status
/// reports): the only values the Secret cache keeps.
pub const NON_SECRET_KEYS: &[&str] = &[minio::ROOT_USER_KEY];

/// `<service>.<namespace>.svc.cluster.local`.
pub(crate) fn service_host(service: &str, namespace: &str) -> String {
    format!("{service}.{namespace}.svc.cluster.local")
}
