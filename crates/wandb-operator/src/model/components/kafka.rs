//! Kafka: W&B's event stream, in KRaft mode with dual-role nodes.

use std::collections::BTreeMap;

use crate::api::{
    ComponentCommon, ComponentStatus, ExternalKafka, KafkaConnection, KafkaSpec, SaslMechanism, SecretKeyReference,
    Size, WeightsAndBiasesSpec, WeightsAndBiasesStatus,
};
use crate::model::component::{Component, ComponentInfo};
use crate::model::descriptor::{ComponentDescriptor, ExternalBlock, Plan};
use crate::model::edition::Edition;
use crate::model::error::ModelError;
use crate::model::external_service::ExternalConfig;
use crate::model::external_service::{
    self as ext, ConnectionKeys, Endpoint, ExternalService, Greeting, ProbeTarget, Tls,
};
use crate::model::fields::Resources;
use crate::model::fields::{self, ResourceProfile};
use crate::model::images::{ImageSource, image_source};
use crate::model::placement::{Placed, Placement};
use crate::model::quantity::Quantity;
use crate::model::resolution::Resolution;
use crate::model::url::{flag, get, query, userinfo};

/// Kafka.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kafka;

/// Kafka's identity.
pub const KAFKA: Component = Component::new(&ComponentInfo {
    key: "kafka",
    display_name: "Kafka",
    password_key: "KAFKA_SASL_PASSWORD",
    url,
    minimum_version: None,
});

/// Default Kafka version.
pub const KAFKA_VERSION: &str = "4.2.0";

/// Kafka defaults of one size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KafkaProfile {
    /// Storage per node.
    pub storage: &'static str,
    /// Dual-role nodes.
    pub replicas: i32,
    /// Node resources.
    pub resources: ResourceProfile,
}

const DEV: KafkaProfile = KafkaProfile { storage: "1Gi", replicas: 1, resources: ResourceProfile::NONE };
const SMALL: KafkaProfile = KafkaProfile { storage: "5Gi", replicas: 3, resources: ResourceProfile::SMALL };
const LARGE: KafkaProfile = KafkaProfile { storage: "100Gi", replicas: 3, resources: ResourceProfile::LARGE_30 };

/// Kafka's defaults for `size`.
pub fn profile(size: Size) -> &'static KafkaProfile {
    match size {
        Size::Dev => &DEV,
        Size::Small => &SMALL,
        Size::Large => &LARGE,
    }
}

/// Broker settings that follow the node count.
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

/// Managed Kafka.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaConfig {
    /// Placement.
    pub placement: Placement,
    /// The edition of defaults it is resolved with.
    pub edition: Edition,
    /// Where its default images are pulled from.
    pub images: ImageSource,
    /// Storage per node.
    pub storage: Quantity,
    /// Node resources.
    pub resources: Resources,
    /// The user's image, when set (else the vendor's image for the version).
    pub image: Option<String>,
    /// Dual-role nodes.
    pub replicas: i32,
    /// Kafka version.
    pub version: String,
    /// Replication settings.
    pub replication: KafkaReplication,
    /// Whether clients connect over TLS (the TLS listener, trusting the cluster CA): from the
    /// 2026 edition for `small` and `large`; the 2025 edition published the plain listener.
    pub client_tls: bool,
}

impl Placed for KafkaConfig {
    fn placement(&self) -> &Placement {
        &self.placement
    }

    fn edition(&self) -> Edition {
        self.edition
    }
}

fn merge(resolution: &Resolution, spec: &KafkaSpec, placement: Placement) -> Result<KafkaConfig, ModelError> {
    let (size, edition) = (resolution.size, resolution.edition);
    let p = profile(size);
    let replicas = fields::replicas(spec.replicas, p.replicas, 1, 99, "spec.kafka.replicas")?;
    let version = spec.version.clone().unwrap_or_else(|| KAFKA_VERSION.to_owned());
    let parts: Vec<&str> = version.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(ModelError::invalid("spec.kafka.version", format!("{version:?} is not a version like 4.2.0")));
    }
    Ok(KafkaConfig {
        client_tls: edition >= Edition::Y2026 && size != Size::Dev,
        edition,
        images: image_source(&resolution.spec)?,
        storage: fields::storage(&spec.common, p.storage, KAFKA)?,
        resources: fields::resources(
            fields::user_resources(&spec.common),
            &p.resources,
            "spec.kafka.config.resources",
        )?,
        image: fields::image_override(&spec.common, KAFKA)?,
        replicas,
        version,
        replication: KafkaReplication::for_nodes(replicas),
        placement,
    })
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

/// An external Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaService {
    /// Bootstrap brokers.
    pub bootstrap: Vec<Endpoint>,
    /// SASL, if any.
    pub sasl: Option<Sasl>,
    /// TLS.
    pub tls: Tls,
}

fn external(spec: &ExternalKafka, placement: Placement) -> Result<ExternalConfig<KafkaService>, ModelError> {
    let f = "spec.kafka.external";
    if spec.bootstrap_servers.is_empty() {
        return Err(ModelError::invalid(format!("{f}.bootstrapServers"), "needs at least one host:port"));
    }
    let bootstrap = spec
        .bootstrap_servers
        .iter()
        .enumerate()
        .map(|(i, s)| ext::host_port(s, &format!("{f}.bootstrapServers[{i}]")))
        .collect::<Result<_, _>>()?;
    let sasl = spec
        .sasl
        .as_ref()
        .map(|s| -> Result<Sasl, ModelError> {
            Ok(Sasl {
                mechanism: s.mechanism,
                user: ext::non_empty(&s.user, &format!("{f}.sasl.user"))?,
                password: ext::reference(&s.password_secret, &format!("{f}.sasl.passwordSecret"))?,
            })
        })
        .transpose()?;
    let service = KafkaService { bootstrap, sasl, tls: ext::tls(spec.tls.as_ref(), &format!("{f}.tls"), false)? };
    Ok(ExternalConfig { placement, service })
}

impl ExternalService for KafkaService {
    fn probe_targets(&self) -> Vec<ProbeTarget> {
        self.bootstrap.iter().map(|e| ProbeTarget::behind_tls(e, &self.tls, Greeting::Kafka)).collect()
    }

    fn secret_references(&self) -> Vec<&SecretKeyReference> {
        self.sasl.iter().map(|s| &s.password).chain(self.tls.ca.as_ref()).collect()
    }

    fn credentials_secret(&self) -> Option<SecretKeyReference> {
        self.sasl.as_ref().map(|s| s.password.clone())
    }

    fn connection_keys(&self) -> ConnectionKeys {
        let mut keys = ConnectionKeys::default();
        if let Some(first) = self.bootstrap.first() {
            keys.plain("KAFKA_HOST", first.host.clone());
            keys.plain("KAFKA_PORT", first.port.to_string());
        }
        keys.plain("KAFKA_BOOTSTRAP_SERVERS", ext::joined(&self.bootstrap));
        if let Some(s) = &self.sasl {
            keys.plain("KAFKA_SASL_MECHANISM", s.mechanism.as_str());
            keys.plain("KAFKA_SASL_USER", s.user.clone());
            keys.copy(KAFKA.password_key(), &s.password);
        }
        keys.tls("KAFKA", &self.tls);
        keys
    }
}

/// `kafka://[user:password@]broker,broker[?mechanism=…&tls=true]`.
fn url(keys: &BTreeMap<String, String>) -> String {
    let servers = keys
        .get("KAFKA_BOOTSTRAP_SERVERS")
        .cloned()
        .unwrap_or_else(|| format!("{}:{}", get(keys, "KAFKA_HOST"), get(keys, "KAFKA_PORT")));
    format!(
        "kafka://{}{servers}{}",
        userinfo(keys.get("KAFKA_SASL_USER"), keys.get("KAFKA_SASL_PASSWORD")),
        query(&[("mechanism", keys.get("KAFKA_SASL_MECHANISM")), ("tls", flag(keys, "KAFKA_TLS"))])
    )
}

impl ComponentDescriptor for Kafka {
    const COMPONENT: Component = KAFKA;
    type Config = KafkaConfig;
    type External = KafkaService;
    type Connection = KafkaConnection;

    fn common(spec: &WeightsAndBiasesSpec) -> Option<&ComponentCommon> {
        spec.kafka.as_ref().map(|s| &s.common)
    }

    fn status(status: &WeightsAndBiasesStatus) -> Option<&ComponentStatus<KafkaConnection>> {
        status.kafka_status.as_ref()
    }

    fn status_mut(status: &mut WeightsAndBiasesStatus) -> &mut Option<ComponentStatus<KafkaConnection>> {
        &mut status.kafka_status
    }

    fn resolve(resolution: &Resolution) -> Result<Plan<Kafka>, ModelError> {
        let spec = resolution.spec.kafka.clone().unwrap_or_default();
        let block = spec.external.as_ref().map(|e| -> ExternalBlock<'_, KafkaService> {
            let managed = vec![("replicas", spec.replicas.is_some()), ("version", spec.version.is_some())];
            (managed, Box::new(move |p| external(e, p)))
        });
        resolution.plan_with(&spec.common, block, |p| merge(resolution, &spec, p))
    }

    fn external_connection(service: &KafkaService) -> Option<KafkaConnection> {
        let first = service.bootstrap.first()?;
        Some(KafkaConnection { host: first.host.clone(), port: first.port.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_lists_the_brokers_and_the_mechanism() {
        let keys: BTreeMap<String, String> = [
            ("KAFKA_BOOTSTRAP_SERVERS", "b1:9096,b2:9096"),
            ("KAFKA_SASL_USER", "u"),
            ("KAFKA_SASL_PASSWORD", "p"),
            ("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            ("KAFKA_TLS", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(KAFKA.url(&keys), "kafka://u:p@b1:9096,b2:9096?mechanism=SCRAM-SHA-512&tls=true");
    }
}
