//! The observed state the operator reports.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::KubeSchema;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// What the operator last observed.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct WeightsAndBiasesStatus {
    /// The worst state over the enabled components (`Error` worst, then `Degraded`, `Updating`,
    /// `Deleting`, `Offline`, `Unknown`, `Ready`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,

    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// `Ready` (every enabled component is ready) and one `<Component>Ready` per component
    /// (`MySQLReady`, `RedisReady`, `KafkaReady`, `MinioReady`, `ClickHouseReady`); `Paused`
    /// while the annotation `apps.wandb.com/pause` pauses some component (`False` once resumed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "conditions_schema")]
    pub conditions: Vec<Condition>,

    /// MySQL status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysql_status: Option<ComponentStatus<MySqlConnection>>,
    /// Redis status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis_status: Option<ComponentStatus<RedisConnection>>,
    /// Kafka status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka_status: Option<ComponentStatus<KafkaConnection>>,
    /// Object storage (MinIO) status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minio_status: Option<ComponentStatus<MinioConnection>>,
    /// ClickHouse status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clickhouse_status: Option<ComponentStatus<ClickHouseConnection>>,

    /// The `size` this status was written for: a change of `spec.size` from it produces
    /// `plan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,

    /// What the last change of `size` does, per component: what changes, what restarts, what
    /// is refused and why. Kept until every component is ready at the new size
    /// (`wandb-operator render --from CURRENT.yaml -f NEW.yaml` prints the same, offline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<ChangePlan>,
}

/// What a change of the spec does, per component.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ChangePlan {
    /// The size before (`dev`, `small`, `large`).
    pub from: String,
    /// The size after.
    pub to: String,
    /// Each component, in status order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ComponentPlan>,
}

/// What a change does to one component.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ComponentPlan {
    /// `mysql`, `redis`, `kafka`, `minio` or `clickhouse`.
    pub component: String,
    /// `unchanged`, `update`, `create`, `remove` (by the retention policy), `external` (to an
    /// external service), `managed` (from an external service) or `refused`.
    pub action: String,
    /// The fields that change, as `Kind/name path: before -> after` (at most 20, then how many
    /// more), and the objects created or removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// Whether the vendor restarts the component's pods for it (a rolling restart): a change
    /// beyond replica counts and storage sizes.
    #[serde(default)]
    pub restart: bool,
    /// Whether the connection Secret changes (a host, a port, TLS, a key): W&B must be
    /// restarted with the new one.
    #[serde(default)]
    pub connection_changes: bool,
    /// What the change leaves for you to do that its objects do not show (e.g. Kafka's topics
    /// made before keep their replication factor).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why it is refused (nothing is written to the component), with the status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<StatusDetail>,
}

// Conditions are a map keyed by `type`, so that server-side apply merges them per type.
fn conditions_schema(generator: &mut SchemaGenerator) -> Schema {
    let item = generator.subschema_for::<Condition>();
    json_schema!({
        "type": "array",
        "items": item,
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
    })
}

/// A component's (or the whole resource's) state.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum State {
    /// The vendor reports the component ready.
    Ready,
    /// Not yet known (e.g. the vendor has not reported yet).
    #[default]
    Unknown,
    /// Disabled: not managed.
    Offline,
    /// Being removed (purge in progress).
    Deleting,
    /// Being created or changed; the vendor is working.
    Updating,
    /// Was ready and lost capacity (fewer ready members than desired).
    Degraded,
    /// Cannot proceed: the details say why (vendor error, CRD missing, refusal, ...).
    Error,
}

impl State {
    /// Severity rank: higher is worse. Implements PRODUCT §2.2's order from worst:
    /// Error, Degraded, Updating, Deleting, Offline, Unknown, Ready.
    pub fn severity(self) -> u8 {
        match self {
            State::Ready => 0,
            State::Unknown => 1,
            State::Offline => 2,
            State::Deleting => 3,
            State::Updating => 4,
            State::Degraded => 5,
            State::Error => 6,
        }
    }

    /// The worse of two states.
    pub fn worst(self, other: State) -> State {
        if other.severity() > self.severity() { other } else { self }
    }

    /// The name written in status.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ready => "Ready",
            State::Unknown => "Unknown",
            State::Offline => "Offline",
            State::Deleting => "Deleting",
            State::Updating => "Updating",
            State::Degraded => "Degraded",
            State::Error => "Error",
        }
    }
}

/// One fact about a component: what is happening and why.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct StatusDetail {
    /// The state this fact implies.
    pub state: State,
    /// A stable machine-readable code, e.g. `Created`, `WaitingForVendor`, `VendorError`,
    /// `CRDMissing`, `NotOwned`, `StorageShrinkRefused`, `TopologyChangeRefused`, `Paused`,
    /// `Upgrading`, `BackupRequired`, `Replacing` (every code: docs/operations.md,
    /// "Troubleshooting by status detail code").
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}

/// Where clients find a password; never the password itself.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct SecretKeyReference {
    /// Secret name, in the component's namespace.
    pub name: String,
    /// Key inside the Secret.
    pub key: String,
}

/// Status of one component.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentStatus<C> {
    /// Whether the vendor reports the component ready for clients.
    pub ready: bool,
    /// The component's state.
    pub state: State,
    /// What is happening and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<StatusDetail>,
    /// The server version. Managed: what the vendor reports running (Percona, Strimzi), else
    /// the image tag applied. External: what the server announces (MySQL's handshake); absent
    /// when not known. An external server below W&B's minimum gets a `VersionBelowMinimum`
    /// detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When this component's status last changed (not every reconcile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reconciled: Option<Time>,
    /// How clients connect (environment-variable names as keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<C>,
    /// The Secret and key holding the client password, when the component has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<SecretKeyReference>,
    /// The Secret `<name>-<component>-connection` in the component's namespace that holds the
    /// connection keys, the credentials and a composed `URL`, for `envFrom: secretRef`. Set once
    /// the operator has written it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_secret: Option<String>,
    /// Backups and restores (MySQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<super::backup::BackupStatus>,
    /// A managed component's data volumes: the size asked for and what its claims have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<StorageStatus>,
    /// The version upgrade under way (a changed `spec.<component>.version` or image), step by
    /// step in the vendor's safe order; absent when none runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // Boxed: absent on nearly every status the operator keeps in its cache.
    pub upgrade: Option<Box<UpgradeStatus>>,
}

/// A version upgrade of one component, applied one step at a time (e.g. ClickHouse Keeper
/// before the server, Kafka's `metadataVersion` after the brokers).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeStatus {
    /// The version running when the upgrade started.
    pub from: String,
    /// The version asked for.
    pub to: String,
    /// The step under way, e.g. `1/2 ClickHouse Keeper`.
    pub step: String,
    /// When the upgrade started.
    pub started: Time,
    /// What the step waits for.
    pub message: String,
    /// The backup the upgrade went ahead behind: an upgrade to a new major line (MySQL 8.0 →
    /// 8.4) starts only once a backup taken for it succeeded (a `PerconaXtraDBClusterBackup`
    /// in the component's namespace, kept after the upgrade).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
}

/// A managed component's data volumes. Read from its claims when the component first becomes
/// ready and while a size change is under way, not in steady state.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
pub struct StorageStatus {
    /// The size each data volume is asked to have (`storageSize`, as applied).
    pub requested: String,
    /// The smallest capacity among the component's claims, as the cluster reports it (absent
    /// until every claim reports one). Below `requested` while volumes grow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<String>,
    /// How many data claims the component has.
    pub claims: u32,
}

impl<C> Default for ComponentStatus<C> {
    fn default() -> Self {
        Self {
            ready: false,
            state: State::Unknown,
            details: Vec::new(),
            version: None,
            last_reconciled: None,
            connection: None,
            credentials_secret: None,
            connection_secret: None,
            backup: None,
            storage: None,
            upgrade: None,
        }
    }
}

/// MySQL connection.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, Default)]
pub struct MySqlConnection {
    /// MySQL host (ProxySQL service when highly available, else the PXC service).
    #[serde(rename = "MYSQL_HOST")]
    pub host: String,
    /// MySQL port.
    #[serde(rename = "MYSQL_PORT")]
    pub port: String,
}

/// Redis connection: `REDIS_HOST`/`REDIS_PORT` for standalone, sentinel keys with sentinel.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, Default)]
pub struct RedisConnection {
    /// Redis host (standalone).
    #[serde(rename = "REDIS_HOST", default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Redis port (standalone).
    #[serde(rename = "REDIS_PORT", default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Sentinel host.
    #[serde(rename = "REDIS_SENTINEL_HOST", default, skip_serializing_if = "Option::is_none")]
    pub sentinel_host: Option<String>,
    /// Sentinel port.
    #[serde(rename = "REDIS_SENTINEL_PORT", default, skip_serializing_if = "Option::is_none")]
    pub sentinel_port: Option<String>,
    /// The master group name to ask the sentinels for.
    #[serde(rename = "REDIS_MASTER_NAME", default, skip_serializing_if = "Option::is_none")]
    pub master_name: Option<String>,
}

/// Kafka connection (the `plain` listener).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, Default)]
pub struct KafkaConnection {
    /// Bootstrap host.
    #[serde(rename = "KAFKA_HOST")]
    pub host: String,
    /// Bootstrap port.
    #[serde(rename = "KAFKA_PORT")]
    pub port: String,
}

/// MinIO (S3) connection.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, Default)]
pub struct MinioConnection {
    /// S3 endpoint host (the tenant's `minio` service).
    #[serde(rename = "MINIO_HOST")]
    pub host: String,
    /// S3 endpoint port (443 with TLS, 80 without).
    #[serde(rename = "MINIO_PORT")]
    pub port: String,
    /// Access key (root user). The secret key is in `credentialsSecret`.
    #[serde(rename = "MINIO_ACCESS_KEY", default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
}

/// ClickHouse connection (native protocol).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, Default)]
pub struct ClickHouseConnection {
    /// ClickHouse host.
    #[serde(rename = "CLICKHOUSE_HOST")]
    pub host: String,
    /// Native protocol port.
    #[serde(rename = "CLICKHOUSE_PORT")]
    pub port: String,
    /// User name; the password is in `credentialsSecret`.
    #[serde(rename = "CLICKHOUSE_USER")]
    pub user: String,
}
