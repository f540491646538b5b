//! External components: the user's endpoint and Secret references, validated, and what the
//! operator does with them (probe, report, publish). The schema (CEL) rejects most bad input at
//! the API server; the same checks run here so that `render` and an API server without those
//! rules report them too, with the field path. Each component defines its own service type.

use std::collections::BTreeMap;
use std::fmt::Debug;

use super::error::ModelError;
use super::placement::Placement;
use crate::api::{ExternalTls, SecretKeyReference, SecretKeySelector};

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

impl ProbeTarget {
    /// `greeting` at `endpoint`, or a TCP connect when clients use TLS.
    pub fn behind_tls(endpoint: &Endpoint, tls: &Tls, greeting: Greeting) -> Self {
        ProbeTarget { endpoint: endpoint.clone(), greeting: if tls.enabled { Greeting::Tcp } else { greeting } }
    }
}

/// How to ask an external server its version once authenticated, when the probe's greeting
/// carries none (Redis, ClickHouse). Plain connections only: with TLS the version stays unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionQuery {
    /// `AUTH <password>` (when there is one), then `INFO server`: `redis_version`.
    Redis {
        /// The server.
        endpoint: Endpoint,
    },
    /// `SELECT version()` over HTTP, as `user`.
    ClickHouseHttp {
        /// The HTTP endpoint.
        endpoint: Endpoint,
        /// The user.
        user: String,
    },
}

/// A version query and the password it authenticates with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRequest {
    /// The query.
    pub query: VersionQuery,
    /// The password, when the server wants one.
    pub password: Option<SecretKeyReference>,
}

/// The keys of an external component's connection Secret: plain values and values copied from
/// the user's Secrets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionKeys {
    /// Keys whose values are not secret.
    pub plain: BTreeMap<String, String>,
    /// Keys copied from the user's Secrets: `(our key, where the value is)`, in order.
    pub sources: Vec<(String, SecretKeyReference)>,
}

impl ConnectionKeys {
    /// Sets a plain key.
    pub fn plain(&mut self, key: &str, value: impl Into<String>) {
        self.plain.insert(key.to_owned(), value.into());
    }

    /// Copies `reference` into `key`.
    pub fn copy(&mut self, key: &str, reference: &SecretKeyReference) {
        self.sources.push((key.to_owned(), reference.clone()));
    }

    /// `<prefix>_TLS` and, with a CA, `<prefix>_CA_CERT`.
    pub fn tls(&mut self, prefix: &str, tls: &Tls) {
        self.plain(&format!("{prefix}_TLS"), tls.enabled.to_string());
        if let Some(ca) = &tls.ca {
            self.copy(&format!("{prefix}_CA_CERT"), ca);
        }
    }
}

/// What an external service offers the operator: endpoints to probe, Secrets to check, the
/// keys to publish.
pub trait ExternalService: Debug + Clone + PartialEq + Send + Sync {
    /// Every endpoint, with its greeting. Each must answer for the component to be ready.
    fn probe_targets(&self) -> Vec<ProbeTarget>;
    /// Every Secret key the service references (credentials and CA certificates).
    fn secret_references(&self) -> Vec<&SecretKeyReference>;
    /// The Secret key status names for clients' password, when there is one.
    fn credentials_secret(&self) -> Option<SecretKeyReference>;
    /// The connection Secret's keys.
    fn connection_keys(&self) -> ConnectionKeys;

    /// How to read the server's version after authenticating, when its greeting carries none.
    fn version_request(&self) -> Option<VersionRequest> {
        None
    }
}

/// An external component's resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalConfig<S> {
    /// Placement: the namespace of the referenced Secrets and of the connection Secret, and the
    /// retention policy applied to managed objects left from before the switch.
    pub placement: Placement,
    /// What to connect to.
    pub service: S,
}

/// A validated Secret key reference.
pub(crate) fn reference(selector: &SecretKeySelector, field: &str) -> Result<SecretKeyReference, ModelError> {
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

/// A validated host name or IPv4 address.
pub(crate) fn host(value: &str, field: &str) -> Result<String, ModelError> {
    if !valid_host(value) {
        return Err(ModelError::invalid(
            field,
            format!("{value:?} is not a host name or IPv4 address (no scheme, no port, no spaces)"),
        ));
    }
    Ok(value.to_owned())
}

/// A validated port.
pub(crate) fn port(value: i32, field: &str) -> Result<u16, ModelError> {
    u16::try_from(value)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| ModelError::invalid(field, format!("{value} is not a port (1..=65535)")))
}

/// `host:port`, with both parts validated.
pub(crate) fn host_port(value: &str, field: &str) -> Result<Endpoint, ModelError> {
    let (h, p) =
        value.rsplit_once(':').ok_or_else(|| ModelError::invalid(field, format!("{value:?} is not host:port")))?;
    let number: i32 = p.parse().map_err(|_| ModelError::invalid(field, format!("{value:?} has no numeric port")))?;
    Ok(Endpoint { host: host(h, field)?, port: port(number, field)? })
}

/// A value that is not blank.
pub(crate) fn non_empty(value: &str, field: &str) -> Result<String, ModelError> {
    if value.trim().is_empty() {
        return Err(ModelError::invalid(field, "must not be empty"));
    }
    Ok(value.to_owned())
}

/// TLS settings, `default_on` when the block is absent.
pub(crate) fn tls(value: Option<&ExternalTls>, field: &str, default_on: bool) -> Result<Tls, ModelError> {
    Ok(match value {
        None => Tls { enabled: default_on, ca: None },
        Some(t) => Tls {
            enabled: t.enabled,
            ca: t.ca_secret.as_ref().map(|c| reference(c, &format!("{field}.caSecret"))).transpose()?,
        },
    })
}

/// The endpoints joined as `host:port,host:port`.
pub(crate) fn joined(endpoints: &[Endpoint]) -> String {
    endpoints.iter().map(Endpoint::to_string).collect::<Vec<_>>().join(",")
}
