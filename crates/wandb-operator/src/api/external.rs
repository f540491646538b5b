//! External infrastructure: a component the user runs elsewhere (a managed cloud service or
//! any server the operator can reach), given by endpoint and Secret references instead of
//! being run by a vendor operator.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

// A host name or IPv4 address: no scheme, no port, no spaces.
pub(crate) const HOST_PATTERN: &str = r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$";
// `host:port`.
pub(crate) const HOST_PORT_PATTERN: &str = r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:[0-9]{1,5}$";
// A Secret name (DNS-1123 subdomain) and a Secret key.
pub(crate) const SECRET_NAME_PATTERN: &str = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$";
const SECRET_KEY_PATTERN: &str = r"^[-._a-zA-Z0-9]+$";

/// A key of a Secret in the component's namespace (`namespace`, or this resource's).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeySelector {
    /// The Secret's name.
    #[schemars(regex(pattern = SECRET_NAME_PATTERN), length(min = 1, max = 253))]
    pub name: String,
    /// The key inside the Secret.
    #[schemars(regex(pattern = SECRET_KEY_PATTERN), length(min = 1, max = 253))]
    pub key: String,
}

/// TLS towards an external endpoint.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalTls {
    /// Whether clients use TLS. Default `true` when the `tls` block is given.
    #[serde(default = "tls_on")]
    pub enabled: bool,
    /// The CA certificate (PEM) that signs the server's certificate, when it is not a public
    /// CA. Copied into the connection Secret as `<COMPONENT>_CA_CERT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret: Option<SecretKeySelector>,
}

fn tls_on() -> bool {
    true
}

/// An external MySQL (e.g. Amazon RDS or Aurora, Cloud SQL, Azure Database for MySQL).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalMySql {
    /// Host name or IPv4 address (no scheme, no port).
    #[schemars(regex(pattern = HOST_PATTERN), length(min = 1, max = 253))]
    pub host: String,
    /// Port. Default 3306.
    #[serde(default = "mysql_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// The database W&B uses.
    #[schemars(length(min = 1, max = 64))]
    pub database: String,
    /// The user W&B connects as.
    #[schemars(length(min = 1, max = 128))]
    pub user: String,
    /// Where the user's password is.
    pub password_secret: SecretKeySelector,
    /// TLS. Omitted: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ExternalTls>,
}

fn mysql_port() -> i32 {
    3306
}

/// An external Redis (e.g. Amazon ElastiCache, Google Memorystore): one `host`, or `sentinel`.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.host) != has(self.sentinel)").message("set either host (one Redis endpoint) or sentinel (hosts and masterName), not both and not neither").reason(Reason::FieldValueInvalid)
)]
pub struct ExternalRedis {
    /// Host name or IPv4 address of the Redis endpoint (no scheme, no port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = HOST_PATTERN), length(min = 1, max = 253))]
    pub host: Option<String>,
    /// Port of `host`. Default 6379.
    #[serde(default = "redis_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// Where the password is (`AUTH`). Omitted: no password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<SecretKeySelector>,
    /// TLS. Omitted: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ExternalTls>,
    /// Redis Sentinel instead of one endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentinel: Option<ExternalRedisSentinel>,
}

fn redis_port() -> i32 {
    6379
}

/// External Redis Sentinel.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalRedisSentinel {
    /// The sentinels, as `host:port`.
    #[schemars(length(min = 1, max = 16), inner(regex(pattern = HOST_PORT_PATTERN)))]
    pub hosts: Vec<String>,
    /// The master group name the sentinels know.
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+$"), length(min = 1, max = 63))]
    pub master_name: String,
}

/// An external Kafka (e.g. Amazon MSK, Confluent Cloud).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalKafka {
    /// Bootstrap brokers, as `host:port`.
    #[schemars(length(min = 1, max = 16), inner(regex(pattern = HOST_PORT_PATTERN)))]
    pub bootstrap_servers: Vec<String>,
    /// SASL authentication. Omitted: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sasl: Option<ExternalKafkaSasl>,
    /// TLS. Omitted: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ExternalTls>,
}

/// A SASL mechanism.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaslMechanism {
    /// `PLAIN` (only over TLS in production).
    #[serde(rename = "PLAIN")]
    Plain,
    /// `SCRAM-SHA-256`.
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    /// `SCRAM-SHA-512` (Amazon MSK's SASL/SCRAM).
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    /// The name Kafka clients use.
    pub fn as_str(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// Kafka SASL settings.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalKafkaSasl {
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: SaslMechanism,
    /// The SASL user.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
    /// Where the SASL password is.
    pub password_secret: SecretKeySelector,
}

/// An object storage provider.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectStorageProvider {
    /// Amazon S3.
    #[default]
    S3,
    /// Google Cloud Storage.
    Gcs,
    /// Azure Blob Storage (`bucket` is the container).
    Azure,
    /// Any S3-compatible endpoint (`endpoint` required).
    S3Compatible,
}

impl ObjectStorageProvider {
    /// The name users write.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectStorageProvider::S3 => "s3",
            ObjectStorageProvider::Gcs => "gcs",
            ObjectStorageProvider::Azure => "azure",
            ObjectStorageProvider::S3Compatible => "s3-compatible",
        }
    }
}

/// Access and secret key of an object storage.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStorageCredentials {
    /// The Secret's name, in the component's namespace.
    #[schemars(regex(pattern = SECRET_NAME_PATTERN), length(min = 1, max = 253))]
    pub name: String,
    /// The key holding the access key (Azure: the storage account name). Default `accessKey`.
    #[serde(default = "access_key")]
    #[schemars(regex(pattern = SECRET_KEY_PATTERN), length(min = 1, max = 253))]
    pub access_key_key: String,
    /// The key holding the secret key (Azure: the account key). Default `secretKey`.
    #[serde(default = "secret_key")]
    #[schemars(regex(pattern = SECRET_KEY_PATTERN), length(min = 1, max = 253))]
    pub secret_key_key: String,
}

fn access_key() -> String {
    "accessKey".to_owned()
}

fn secret_key() -> String {
    "secretKey".to_owned()
}

/// An external object storage bucket (S3, GCS, Azure Blob, or any S3-compatible endpoint).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!(self.provider in ['s3-compatible', 'azure']) || has(self.endpoint)").message("endpoint is required with provider s3-compatible, and with azure (<account>.blob.core.windows.net)").field_path(".endpoint").reason(Reason::FieldValueRequired)
)]
pub struct ExternalObjectStorage {
    /// `s3` (default), `gcs`, `azure` or `s3-compatible`.
    #[serde(default)]
    pub provider: ObjectStorageProvider,
    /// The bucket (Azure: the container).
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9._-]*[a-z0-9]$"), length(min = 3, max = 63))]
    pub bucket: String,
    /// The bucket's region (S3), e.g. `us-east-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9-]+$"), length(min = 1, max = 64))]
    pub region: Option<String>,
    /// The endpoint as `host` or `host:port`, without a scheme (TLS decides `https`). Required
    /// for `s3-compatible` and `azure` (`<account>.blob.core.windows.net`). Omitted: the
    /// provider's public endpoint (`s3.<region>.amazonaws.com`, `storage.googleapis.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$"),
        length(min = 1, max = 253)
    )]
    pub endpoint: Option<String>,
    /// A prefix inside the bucket, e.g. `wandb/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9!_.*'()/-]+$"), length(min = 1, max = 512))]
    pub path: Option<String>,
    /// Access and secret key. Omitted: workload identity (IRSA, GKE Workload Identity, Azure
    /// Workload Identity) gives the W&B pods access; the operator checks only reachability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<ObjectStorageCredentials>,
    /// Path-style requests (`https://host/bucket`), as many S3-compatible servers need.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force_path_style: bool,
    /// TLS. Omitted: on (`https`); `enabled: false` for a plain-HTTP S3-compatible server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ExternalTls>,
}

/// An external ClickHouse (e.g. ClickHouse Cloud).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalClickHouse {
    /// Host name or IPv4 address (no scheme, no port).
    #[schemars(regex(pattern = HOST_PATTERN), length(min = 1, max = 253))]
    pub host: String,
    /// Native protocol port. Default 9000 (ClickHouse Cloud: 9440 with TLS).
    #[serde(default = "clickhouse_tcp_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub tcp_port: i32,
    /// HTTP port. Default 8123 (ClickHouse Cloud: 8443 with TLS).
    #[serde(default = "clickhouse_http_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub http_port: i32,
    /// The database W&B uses.
    #[schemars(length(min = 1, max = 128))]
    pub database: String,
    /// The user W&B connects as.
    #[schemars(length(min = 1, max = 128))]
    pub user: String,
    /// Where the user's password is.
    pub password_secret: SecretKeySelector,
    /// TLS. Omitted: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ExternalTls>,
}

fn clickhouse_tcp_port() -> i32 {
    9000
}

fn clickhouse_http_port() -> i32 {
    8123
}
