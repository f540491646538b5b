//! External components (issue 11): what to probe, what status reports, and what the connection
//! Secret holds. Pure; the probes themselves run in the reconcile layer.

use crate::api::{
    ClickHouseConnection, KafkaConnection, MinioConnection, MySqlConnection, ObjectStorageProvider, RedisConnection,
    SecretKeyReference,
};
use crate::model::external::{ExternalRedisTopology, Tls};
use crate::model::{Endpoint, ExternalConfig, ExternalService};

use super::connection::{ConnectionSecret, password_key};

/// The protocol exchange that shows an endpoint is the service it should be. With TLS the
/// probe is a TCP connect only (a greeting would need the TLS handshake first).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Greeting {
    /// A TCP connect.
    Tcp,
    /// Read the MySQL server handshake (protocol 10), or its error packet.
    MySql,
    /// Send `PING`; expect `+PONG` or an error reply such as `-NOAUTH`.
    Redis,
    /// Send Kafka `ApiVersions` (v0); expect the response with our correlation id.
    Kafka,
    /// `HEAD <path>`; any HTTP response counts (403 without credentials is normal).
    HttpHead {
        /// Request path.
        path: String,
    },
    /// `GET <path>`; expect `200`.
    HttpOk {
        /// Request path.
        path: String,
    },
}

impl Greeting {
    /// What the probe checks, for messages.
    pub fn describe(&self) -> String {
        match self {
            Greeting::Tcp => "TCP connect".to_owned(),
            Greeting::MySql => "MySQL handshake".to_owned(),
            Greeting::Redis => "Redis PING".to_owned(),
            Greeting::Kafka => "Kafka ApiVersions".to_owned(),
            Greeting::HttpHead { path } => format!("HTTP HEAD {path}"),
            Greeting::HttpOk { path } => format!("HTTP GET {path}"),
        }
    }
}

/// One endpoint to probe.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProbeTarget {
    /// Where.
    pub endpoint: Endpoint,
    /// How.
    pub greeting: Greeting,
}

fn target(endpoint: &Endpoint, tls: &Tls, greeting: Greeting) -> ProbeTarget {
    ProbeTarget { endpoint: endpoint.clone(), greeting: if tls.enabled { Greeting::Tcp } else { greeting } }
}

/// Every endpoint of the component, with its greeting. Each must answer for the component to
/// be ready.
pub fn probe_targets(config: &ExternalConfig) -> Vec<ProbeTarget> {
    match &config.service {
        // The MySQL server speaks first, in plain text, even when clients then switch to TLS.
        ExternalService::MySql { endpoint, .. } => {
            vec![ProbeTarget { endpoint: endpoint.clone(), greeting: Greeting::MySql }]
        }
        ExternalService::Redis { topology, tls, .. } => match topology {
            ExternalRedisTopology::Standalone(e) => vec![target(e, tls, Greeting::Redis)],
            ExternalRedisTopology::Sentinel { hosts, .. } => {
                hosts.iter().map(|e| target(e, tls, Greeting::Redis)).collect()
            }
        },
        ExternalService::Kafka { bootstrap, tls, .. } => {
            bootstrap.iter().map(|e| target(e, tls, Greeting::Kafka)).collect()
        }
        ExternalService::ObjectStorage { endpoint, bucket, tls, .. } => {
            vec![target(endpoint, tls, Greeting::HttpHead { path: format!("/{bucket}") })]
        }
        ExternalService::ClickHouse { tcp, http_port, tls, .. } => vec![
            ProbeTarget { endpoint: tcp.clone(), greeting: Greeting::Tcp },
            target(
                &Endpoint { host: tcp.host.clone(), port: *http_port },
                tls,
                Greeting::HttpOk { path: "/ping".to_owned() },
            ),
        ],
    }
}

/// The Secret key status names for clients' password, when there is one.
pub fn credentials_secret(config: &ExternalConfig) -> Option<SecretKeyReference> {
    match &config.service {
        ExternalService::MySql { password, .. } | ExternalService::ClickHouse { password, .. } => {
            Some(password.clone())
        }
        ExternalService::Redis { password, .. } => password.clone(),
        ExternalService::Kafka { sasl, .. } => sasl.as_ref().map(|s| s.password.clone()),
        ExternalService::ObjectStorage { credentials, .. } => credentials.as_ref().map(|c| c.secret_key.clone()),
    }
}

/// A component's status connection keys, for an external service of that component.
pub trait ExternalConnection: Sized {
    /// The keys, or `None` when `service` is another component's (a bug).
    fn external(service: &ExternalService) -> Option<Self>;
}

impl ExternalConnection for MySqlConnection {
    fn external(service: &ExternalService) -> Option<Self> {
        let ExternalService::MySql { endpoint, .. } = service else { return None };
        Some(MySqlConnection { host: endpoint.host.clone(), port: endpoint.port.to_string() })
    }
}

impl ExternalConnection for RedisConnection {
    fn external(service: &ExternalService) -> Option<Self> {
        let ExternalService::Redis { topology, .. } = service else { return None };
        Some(match topology {
            ExternalRedisTopology::Standalone(e) => {
                RedisConnection { host: Some(e.host.clone()), port: Some(e.port.to_string()), ..Default::default() }
            }
            ExternalRedisTopology::Sentinel { hosts, master_name } => RedisConnection {
                sentinel_host: hosts.first().map(|e| e.host.clone()),
                sentinel_port: hosts.first().map(|e| e.port.to_string()),
                master_name: Some(master_name.clone()),
                ..Default::default()
            },
        })
    }
}

impl ExternalConnection for KafkaConnection {
    fn external(service: &ExternalService) -> Option<Self> {
        let ExternalService::Kafka { bootstrap, .. } = service else { return None };
        let first = bootstrap.first()?;
        Some(KafkaConnection { host: first.host.clone(), port: first.port.to_string() })
    }
}

impl ExternalConnection for MinioConnection {
    fn external(service: &ExternalService) -> Option<Self> {
        let ExternalService::ObjectStorage { endpoint, .. } = service else { return None };
        // A cloud access key id is not a password, but it is not published in status either:
        // it is in the connection Secret.
        Some(MinioConnection { host: endpoint.host.clone(), port: endpoint.port.to_string(), access_key: None })
    }
}

impl ExternalConnection for ClickHouseConnection {
    fn external(service: &ExternalService) -> Option<Self> {
        let ExternalService::ClickHouse { tcp, user, .. } = service else { return None };
        Some(ClickHouseConnection { host: tcp.host.clone(), port: tcp.port.to_string(), user: user.clone() })
    }
}

fn flag(value: bool) -> String {
    value.to_string()
}

/// The connection Secret of an external component.
pub fn connection_secret(config: &ExternalConfig) -> ConnectionSecret {
    let mut secret = ConnectionSecret::new(&config.placement);
    let component = config.placement.component;
    let mut plain = |k: &str, v: String| {
        secret.plain.insert(k.to_owned(), v);
    };
    let (prefix, tls) = match &config.service {
        ExternalService::MySql { endpoint, database, user, tls, .. } => {
            plain("MYSQL_HOST", endpoint.host.clone());
            plain("MYSQL_PORT", endpoint.port.to_string());
            plain("MYSQL_DATABASE", database.clone());
            plain("MYSQL_USER", user.clone());
            ("MYSQL", tls)
        }
        ExternalService::Redis { topology, tls, .. } => {
            match topology {
                ExternalRedisTopology::Standalone(e) => {
                    plain("REDIS_HOST", e.host.clone());
                    plain("REDIS_PORT", e.port.to_string());
                }
                ExternalRedisTopology::Sentinel { hosts, master_name } => {
                    if let Some(first) = hosts.first() {
                        plain("REDIS_SENTINEL_HOST", first.host.clone());
                        plain("REDIS_SENTINEL_PORT", first.port.to_string());
                    }
                    plain("REDIS_SENTINEL_HOSTS", hosts.iter().map(Endpoint::to_string).collect::<Vec<_>>().join(","));
                    plain("REDIS_MASTER_NAME", master_name.clone());
                }
            }
            ("REDIS", tls)
        }
        ExternalService::Kafka { bootstrap, sasl, tls } => {
            if let Some(first) = bootstrap.first() {
                plain("KAFKA_HOST", first.host.clone());
                plain("KAFKA_PORT", first.port.to_string());
            }
            plain("KAFKA_BOOTSTRAP_SERVERS", bootstrap.iter().map(Endpoint::to_string).collect::<Vec<_>>().join(","));
            if let Some(s) = sasl {
                plain("KAFKA_SASL_MECHANISM", s.mechanism.as_str().to_owned());
                plain("KAFKA_SASL_USER", s.user.clone());
            }
            ("KAFKA", tls)
        }
        ExternalService::ObjectStorage { provider, bucket, region, endpoint, path, force_path_style, tls, .. } => {
            plain("MINIO_PROVIDER", provider.as_str().to_owned());
            plain("MINIO_HOST", endpoint.host.clone());
            plain("MINIO_PORT", endpoint.port.to_string());
            plain("MINIO_BUCKET", bucket.clone());
            if let Some(r) = region {
                plain("MINIO_REGION", r.clone());
            }
            if let Some(p) = path {
                plain("MINIO_PATH", p.clone());
            }
            if *provider == ObjectStorageProvider::S3Compatible || *force_path_style {
                plain("MINIO_FORCE_PATH_STYLE", flag(*force_path_style));
            }
            ("MINIO", tls)
        }
        ExternalService::ClickHouse { tcp, http_port, database, user, tls, .. } => {
            plain("CLICKHOUSE_HOST", tcp.host.clone());
            plain("CLICKHOUSE_PORT", tcp.port.to_string());
            plain("CLICKHOUSE_HTTP_PORT", http_port.to_string());
            plain("CLICKHOUSE_DATABASE", database.clone());
            plain("CLICKHOUSE_USER", user.clone());
            ("CLICKHOUSE", tls)
        }
    };
    plain(&format!("{prefix}_TLS"), flag(tls.enabled));
    let tls = tls.clone();
    let source = |key: &str, reference: &SecretKeyReference| (key.to_owned(), reference.clone());
    match &config.service {
        ExternalService::MySql { password, .. } | ExternalService::ClickHouse { password, .. } => {
            secret.sources.push(source(password_key(component), password));
        }
        ExternalService::Redis { password, .. } => {
            secret.sources.extend(password.iter().map(|p| source(password_key(component), p)));
        }
        ExternalService::Kafka { sasl, .. } => {
            secret.sources.extend(sasl.iter().map(|s| source(password_key(component), &s.password)));
        }
        ExternalService::ObjectStorage { credentials, .. } => {
            if let Some(c) = credentials {
                secret.sources.push(source("MINIO_ACCESS_KEY", &c.access_key));
                secret.sources.push(source(password_key(component), &c.secret_key));
            }
        }
    }
    if let Some(ca) = &tls.ca {
        secret.sources.push(source(&format!("{prefix}_CA_CERT"), ca));
    }
    secret
}
