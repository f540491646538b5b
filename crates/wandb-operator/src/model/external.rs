//! External components: the user's endpoint and Secret references, validated. The schema (CEL)
//! rejects most bad input at the API server; the same checks run here so that `render` and an
//! API server without those rules report them too, with the field path.

use super::{ModelError, Placement};
use crate::api::{
    ExternalClickHouse, ExternalKafka, ExternalMySql, ExternalObjectStorage, ExternalRedis, ExternalTls,
    ObjectStorageProvider, SaslMechanism, SecretKeyReference, SecretKeySelector,
};

/// A `host` and `port`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// Host name or IPv4 address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// TLS towards an external endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tls {
    /// Clients use TLS.
    pub enabled: bool,
    /// The CA certificate, when not a public CA.
    pub ca: Option<SecretKeyReference>,
}

/// Redis topology of an external Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalRedisTopology {
    /// One endpoint.
    Standalone(Endpoint),
    /// Sentinels and the master group name.
    Sentinel {
        /// The sentinels.
        hosts: Vec<Endpoint>,
        /// Master group name.
        master_name: String,
    },
}

/// Kafka SASL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sasl {
    /// Mechanism.
    pub mechanism: SaslMechanism,
    /// User.
    pub user: String,
    /// Password.
    pub password: SecretKeyReference,
}

/// Access and secret key of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketCredentials {
    /// The access key (Azure: account name).
    pub access_key: SecretKeyReference,
    /// The secret key.
    pub secret_key: SecretKeyReference,
}

/// One external service, by component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalService {
    /// MySQL.
    MySql {
        /// Endpoint.
        endpoint: Endpoint,
        /// Database.
        database: String,
        /// User.
        user: String,
        /// Password.
        password: SecretKeyReference,
        /// TLS.
        tls: Tls,
    },
    /// Redis.
    Redis {
        /// Standalone or sentinel.
        topology: ExternalRedisTopology,
        /// Password, if any.
        password: Option<SecretKeyReference>,
        /// TLS.
        tls: Tls,
    },
    /// Kafka.
    Kafka {
        /// Bootstrap brokers.
        bootstrap: Vec<Endpoint>,
        /// SASL, if any.
        sasl: Option<Sasl>,
        /// TLS.
        tls: Tls,
    },
    /// Object storage.
    ObjectStorage {
        /// Provider.
        provider: ObjectStorageProvider,
        /// Bucket (Azure: container).
        bucket: String,
        /// Region.
        region: Option<String>,
        /// The endpoint (the provider's public one when not given).
        endpoint: Endpoint,
        /// Whether the user gave the endpoint.
        custom_endpoint: bool,
        /// Prefix in the bucket.
        path: Option<String>,
        /// Keys, or `None` for workload identity.
        credentials: Option<BucketCredentials>,
        /// Path-style requests.
        force_path_style: bool,
        /// TLS (`https`).
        tls: Tls,
    },
    /// ClickHouse.
    ClickHouse {
        /// Native protocol endpoint.
        tcp: Endpoint,
        /// HTTP port (same host).
        http_port: u16,
        /// Database.
        database: String,
        /// User.
        user: String,
        /// Password.
        password: SecretKeyReference,
        /// TLS.
        tls: Tls,
    },
}

/// An external component's resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalConfig {
    /// Placement: the namespace of the referenced Secrets and of the connection Secret, and the
    /// retention policy applied to managed objects left from before the switch.
    pub placement: Placement,
    /// What to connect to.
    pub service: ExternalService,
}

impl ExternalConfig {
    /// Every Secret key the component references (credentials and CA certificates).
    pub fn secret_references(&self) -> Vec<&SecretKeyReference> {
        let mut refs: Vec<&SecretKeyReference> = Vec::new();
        let tls = match &self.service {
            ExternalService::MySql { password, tls, .. } | ExternalService::ClickHouse { password, tls, .. } => {
                refs.push(password);
                tls
            }
            ExternalService::Redis { password, tls, .. } => {
                refs.extend(password);
                tls
            }
            ExternalService::Kafka { sasl, tls, .. } => {
                refs.extend(sasl.as_ref().map(|s| &s.password));
                tls
            }
            ExternalService::ObjectStorage { credentials, tls, .. } => {
                if let Some(c) = credentials {
                    refs.push(&c.access_key);
                    refs.push(&c.secret_key);
                }
                tls
            }
        };
        refs.extend(tls.ca.as_ref());
        refs
    }
}

fn reference(selector: &SecretKeySelector, field: &str) -> Result<SecretKeyReference, ModelError> {
    if selector.name.trim().is_empty() {
        return Err(ModelError::invalid(format!("{field}.name"), "must name a Secret"));
    }
    if selector.key.trim().is_empty() {
        return Err(ModelError::invalid(format!("{field}.key"), "must name a key of the Secret"));
    }
    Ok(SecretKeyReference { name: selector.name.clone(), key: selector.key.clone() })
}

fn valid_host(host: &str) -> bool {
    let bytes = host.as_bytes();
    let edge = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    !host.is_empty()
        && host.len() <= 253
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'-')
        && edge(bytes.first())
        && edge(bytes.last())
}

fn host(value: &str, field: &str) -> Result<String, ModelError> {
    if !valid_host(value) {
        return Err(ModelError::invalid(
            field,
            format!("{value:?} is not a host name or IPv4 address (no scheme, no port, no spaces)"),
        ));
    }
    Ok(value.to_owned())
}

fn port(value: i32, field: &str) -> Result<u16, ModelError> {
    u16::try_from(value)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| ModelError::invalid(field, format!("{value} is not a port (1..=65535)")))
}

/// `host:port`, with both parts validated.
fn host_port(value: &str, field: &str) -> Result<Endpoint, ModelError> {
    let (h, p) =
        value.rsplit_once(':').ok_or_else(|| ModelError::invalid(field, format!("{value:?} is not host:port")))?;
    let number: i32 = p.parse().map_err(|_| ModelError::invalid(field, format!("{value:?} has no numeric port")))?;
    Ok(Endpoint { host: host(h, field)?, port: port(number, field)? })
}

fn non_empty(value: &str, field: &str) -> Result<String, ModelError> {
    if value.trim().is_empty() {
        return Err(ModelError::invalid(field, "must not be empty"));
    }
    Ok(value.to_owned())
}

fn tls(value: Option<&ExternalTls>, field: &str, default_on: bool) -> Result<Tls, ModelError> {
    Ok(match value {
        None => Tls { enabled: default_on, ca: None },
        Some(t) => Tls {
            enabled: t.enabled,
            ca: t.ca_secret.as_ref().map(|c| reference(c, &format!("{field}.caSecret"))).transpose()?,
        },
    })
}

/// External MySQL.
pub fn mysql(spec: &ExternalMySql, placement: Placement) -> Result<ExternalConfig, ModelError> {
    let f = "spec.mysql.external";
    let service = ExternalService::MySql {
        endpoint: Endpoint {
            host: host(&spec.host, &format!("{f}.host"))?,
            port: port(spec.port, &format!("{f}.port"))?,
        },
        database: non_empty(&spec.database, &format!("{f}.database"))?,
        user: non_empty(&spec.user, &format!("{f}.user"))?,
        password: reference(&spec.password_secret, &format!("{f}.passwordSecret"))?,
        tls: tls(spec.tls.as_ref(), &format!("{f}.tls"), false)?,
    };
    Ok(ExternalConfig { placement, service })
}

/// External Redis.
pub fn redis(spec: &ExternalRedis, placement: Placement) -> Result<ExternalConfig, ModelError> {
    let f = "spec.redis.external";
    let topology = match (&spec.host, &spec.sentinel) {
        (Some(h), None) => ExternalRedisTopology::Standalone(Endpoint {
            host: host(h, &format!("{f}.host"))?,
            port: port(spec.port, &format!("{f}.port"))?,
        }),
        (None, Some(sentinel)) => {
            if sentinel.hosts.is_empty() {
                return Err(ModelError::invalid(format!("{f}.sentinel.hosts"), "needs at least one host:port"));
            }
            let hosts = sentinel
                .hosts
                .iter()
                .enumerate()
                .map(|(i, h)| host_port(h, &format!("{f}.sentinel.hosts[{i}]")))
                .collect::<Result<_, _>>()?;
            let master_name = non_empty(&sentinel.master_name, &format!("{f}.sentinel.masterName"))?;
            ExternalRedisTopology::Sentinel { hosts, master_name }
        }
        _ => {
            return Err(ModelError::invalid(
                f,
                "set either host (one Redis endpoint) or sentinel (hosts and masterName), not both and not neither",
            ));
        }
    };
    let service = ExternalService::Redis {
        topology,
        password: spec.password_secret.as_ref().map(|s| reference(s, &format!("{f}.passwordSecret"))).transpose()?,
        tls: tls(spec.tls.as_ref(), &format!("{f}.tls"), false)?,
    };
    Ok(ExternalConfig { placement, service })
}

/// External Kafka.
pub fn kafka(spec: &ExternalKafka, placement: Placement) -> Result<ExternalConfig, ModelError> {
    let f = "spec.kafka.external";
    if spec.bootstrap_servers.is_empty() {
        return Err(ModelError::invalid(format!("{f}.bootstrapServers"), "needs at least one host:port"));
    }
    let bootstrap = spec
        .bootstrap_servers
        .iter()
        .enumerate()
        .map(|(i, s)| host_port(s, &format!("{f}.bootstrapServers[{i}]")))
        .collect::<Result<_, _>>()?;
    let sasl = spec
        .sasl
        .as_ref()
        .map(|s| -> Result<Sasl, ModelError> {
            Ok(Sasl {
                mechanism: s.mechanism,
                user: non_empty(&s.user, &format!("{f}.sasl.user"))?,
                password: reference(&s.password_secret, &format!("{f}.sasl.passwordSecret"))?,
            })
        })
        .transpose()?;
    let service = ExternalService::Kafka { bootstrap, sasl, tls: tls(spec.tls.as_ref(), &format!("{f}.tls"), false)? };
    Ok(ExternalConfig { placement, service })
}

/// External object storage.
pub fn object_storage(spec: &ExternalObjectStorage, placement: Placement) -> Result<ExternalConfig, ModelError> {
    let f = "spec.minio.external";
    let bucket = non_empty(&spec.bucket, &format!("{f}.bucket"))?;
    let tls = tls(spec.tls.as_ref(), &format!("{f}.tls"), true)?;
    let default_port = if tls.enabled { 443 } else { 80 };
    let endpoint = match (&spec.endpoint, spec.provider) {
        (Some(e), _) => match e.rsplit_once(':') {
            Some(_) => host_port(e, &format!("{f}.endpoint"))?,
            None => Endpoint { host: host(e, &format!("{f}.endpoint"))?, port: default_port },
        },
        (None, ObjectStorageProvider::S3Compatible) => {
            return Err(ModelError::invalid(format!("{f}.endpoint"), "is required with provider s3-compatible"));
        }
        (None, ObjectStorageProvider::S3) => Endpoint {
            host: spec
                .region
                .as_ref()
                .map_or_else(|| "s3.amazonaws.com".to_owned(), |r| format!("s3.{r}.amazonaws.com")),
            port: default_port,
        },
        (None, ObjectStorageProvider::Gcs) => {
            Endpoint { host: "storage.googleapis.com".to_owned(), port: default_port }
        }
        (None, ObjectStorageProvider::Azure) => {
            return Err(ModelError::invalid(
                format!("{f}.endpoint"),
                "is required with provider azure: the storage account's endpoint, <account>.blob.core.windows.net",
            ));
        }
    };
    let credentials = spec.credentials_secret.as_ref().map(|c| -> Result<BucketCredentials, ModelError> {
        let selector = |key: &str| SecretKeySelector { name: c.name.clone(), key: key.to_owned() };
        Ok(BucketCredentials {
            access_key: reference(&selector(&c.access_key_key), &format!("{f}.credentialsSecret"))?,
            secret_key: reference(&selector(&c.secret_key_key), &format!("{f}.credentialsSecret"))?,
        })
    });
    let service = ExternalService::ObjectStorage {
        provider: spec.provider,
        bucket,
        region: spec.region.clone(),
        endpoint,
        custom_endpoint: spec.endpoint.is_some(),
        path: spec.path.clone(),
        credentials: credentials.transpose()?,
        force_path_style: spec.force_path_style,
        tls,
    };
    Ok(ExternalConfig { placement, service })
}

/// External ClickHouse.
pub fn clickhouse(spec: &ExternalClickHouse, placement: Placement) -> Result<ExternalConfig, ModelError> {
    let f = "spec.clickhouse.external";
    let service = ExternalService::ClickHouse {
        tcp: Endpoint {
            host: host(&spec.host, &format!("{f}.host"))?,
            port: port(spec.tcp_port, &format!("{f}.tcpPort"))?,
        },
        http_port: port(spec.http_port, &format!("{f}.httpPort"))?,
        database: non_empty(&spec.database, &format!("{f}.database"))?,
        user: non_empty(&spec.user, &format!("{f}.user"))?,
        password: reference(&spec.password_secret, &format!("{f}.passwordSecret"))?,
        tls: tls(spec.tls.as_ref(), &format!("{f}.tls"), false)?,
    };
    Ok(ExternalConfig { placement, service })
}
