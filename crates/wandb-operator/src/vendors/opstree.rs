//! Redis through the OT-Container-Kit (Opstree) redis-operator:
//! `redis.redis.opstreelabs.in/v1beta2` `Redis`, or `RedisReplication` + `RedisSentinel`.
//!
//! These kinds publish no readiness, so status comes from the StatefulSets the vendor creates
//! (`<name>` and `<name>-sentinel`) and, for replication, `status.masterNode`.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{EnvVarSource, LocalObjectReference, ResourceRequirements, SecretKeySelector};
use kube::{CustomResource, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::meta;
use super::object_key::ObjectKey;
use super::objects::{Desired, DesiredObject, Observed, VendorError, service_host};
use super::readiness::{self, Verdict};
use super::secret::{GeneratedSecret, GeneratedValue};
use super::vendor::Vendor;
use crate::api::{ComponentStatus, RedisConnection, SecretKeyReference};
use crate::model::{Edition, Placement, RedisConfig, RedisTopology, Resources};

const API_VERSION: &str = "redis.redis.opstreelabs.in/v1beta2";
/// The Redis and sentinel images of an edition (Redis unless the user sets one).
/// 2025: an end-of-life 7.0 line, Redis and sentinel at different patches (kept as written).
/// 2026: the patched 7.4 line (after the July 2026 security releases), the same release for
/// Redis and sentinel; W&B requires Redis 7.x.
pub fn images(edition: Edition) -> [&'static str; 2] {
    match edition {
        Edition::Y2025 => ["quay.io/opstree/redis:v7.0.15", "quay.io/opstree/redis-sentinel:v7.0.12"],
        Edition::Y2026 => ["quay.io/opstree/redis:v7.4.11", "quay.io/opstree/redis-sentinel:v7.4.11"],
    }
}

/// The Redis image for `config`: the user's, else the one of the version asked for, else its
/// edition's.
fn redis_image(config: &RedisConfig) -> String {
    let default = match &config.version {
        Some(version) => format!("quay.io/opstree/redis:v{version}"),
        None => images(config.edition)[0].to_owned(),
    };
    config.image.clone().unwrap_or_else(|| config.images.mirrored(&default))
}

/// The sentinel image: the one of the version asked for, else its edition's.
fn sentinel_image(config: &RedisConfig) -> String {
    let default = match &config.version {
        Some(version) => format!("quay.io/opstree/redis-sentinel:v{version}"),
        None => images(config.edition)[1].to_owned(),
    };
    config.images.mirrored(&default)
}
const STORAGE: &str = "/spec/storage/volumeClaimTemplate/spec/resources/requests/storage";

/// `kubernetesConfig`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesConfig {
    /// Image.
    pub image: String,
    /// Pull policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<String>,
    /// Resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Image pull Secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<LocalObjectReference>>,
    /// The Secret key holding the password Redis requires (2026 edition on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis_secret: Option<RedisSecret>,
}

/// `kubernetesConfig.redisSecret`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct RedisSecret {
    /// The Secret.
    pub name: String,
    /// Its key.
    pub key: String,
}

/// `storage`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedisStorage {
    /// Claim template for each replica.
    pub volume_claim_template: meta::ClaimTemplate,
    /// Keep the PVCs when the CR is deleted (the vendor deletes them otherwise).
    pub keep_after_delete: bool,
}

/// Standalone `Redis` spec.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(group = "redis.redis.opstreelabs.in", version = "v1beta2", kind = "Redis", plural = "redis", namespaced)]
#[serde(rename_all = "camelCase")]
pub struct RedisSpec {
    /// Image and resources.
    pub kubernetes_config: KubernetesConfig,
    /// Storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<RedisStorage>,
}

/// `RedisReplication` spec.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "redis.redis.opstreelabs.in",
    version = "v1beta2",
    kind = "RedisReplication",
    plural = "redisreplications",
    namespaced,
    status = "RedisReplicationStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct RedisReplicationSpec {
    /// Replicas (one master).
    pub cluster_size: i32,
    /// Image and resources.
    pub kubernetes_config: KubernetesConfig,
    /// Storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<RedisStorage>,
}

/// `RedisReplication` status.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedisReplicationStatus {
    /// The master pod, once elected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_node: Option<String>,
}

/// `RedisSentinel` spec.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "redis.redis.opstreelabs.in",
    version = "v1beta2",
    kind = "RedisSentinel",
    plural = "redissentinels",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct RedisSentinelSpec {
    /// Sentinels.
    pub cluster_size: i32,
    /// Image and resources.
    pub kubernetes_config: KubernetesConfig,
    /// What to watch.
    pub redis_sentinel_config: RedisSentinelConfig,
}

/// `redisSentinelConfig`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedisSentinelConfig {
    /// The RedisReplication to watch.
    pub redis_replication_name: String,
    /// Master group name (what clients ask the sentinels for).
    pub master_group_name: String,
    /// The password the sentinels use towards the Redis servers (2026 edition on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis_replication_password: Option<EnvVarSource>,
}

/// The Opstree vendor for Redis.
pub struct Opstree;

/// The key of the generated credentials Secret holding Redis's password.
pub const PASSWORD_KEY: &str = "password";

/// `<cr>-redis-credentials`: Redis's password, from the 2026 edition on (the 2025 edition ran
/// Redis without one, and keeps what it runs: found when the real Opstree ran our objects).
fn credentials_name(config: &RedisConfig) -> Option<String> {
    (config.edition >= Edition::Y2026).then(|| format!("{}-credentials", config.placement.object_name()))
}

/// The generated credentials Secret, when the edition has one.
fn credentials(config: &RedisConfig) -> Option<GeneratedSecret> {
    let name = credentials_name(config)?;
    Some(GeneratedSecret {
        key: ObjectKey::new("v1", "Secret", &config.placement.namespace, &name),
        metadata: meta::object_meta(&config.placement, &name),
        values: vec![GeneratedValue {
            name: "password".to_owned(),
            prefix: String::new(),
            length: 40,
            lowercase: false,
        }],
        entries: vec![(PASSWORD_KEY.to_owned(), "${password}".to_owned())],
    })
}

/// `kubernetesConfig` of the Redis servers (`password`: they require the credentials Secret's)
/// or of the sentinels.
fn kubernetes_config(image: &str, resources: &Resources, config: &RedisConfig, password: bool) -> KubernetesConfig {
    KubernetesConfig {
        image: image.to_owned(),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        resources: resources.to_requirements(),
        image_pull_secrets: meta::pull_secrets(&config.images),
        redis_secret: credentials_name(config)
            .filter(|_| password)
            .map(|name| RedisSecret { name, key: PASSWORD_KEY.to_owned() }),
    }
}

fn storage(config: &RedisConfig) -> RedisStorage {
    RedisStorage {
        volume_claim_template: meta::ClaimTemplate {
            metadata: None,
            spec: meta::rwo_claim_spec(config.storage.as_str()),
        },
        // Always on while managed: a stray deletion never takes the data. Purge deletes PVCs
        // explicitly.
        keep_after_delete: true,
    }
}

/// What the replication of a pair made beside a standalone is named after (`<name>-ha`): the
/// standalone's StatefulSet and Services have the names the pair's would have.
const BESIDE_SUFFIX: &str = "-ha";

/// The name of the pair's `RedisReplication` (and of its StatefulSet).
fn replication_name(config: &RedisConfig) -> String {
    let name = config.placement.object_name();
    if config.beside_standalone { format!("{name}{BESIDE_SUFFIX}") } else { name }
}

fn key(placement: &Placement, kind: &str, name: &str) -> ObjectKey {
    ObjectKey::new(API_VERSION, kind, &placement.namespace, name)
}

fn statefulset_key(placement: &Placement, name: &str) -> ObjectKey {
    ObjectKey::new("apps/v1", "StatefulSet", &placement.namespace, name)
}

fn with_meta<K: Resource<DynamicType = ()>>(mut object: K, placement: &Placement, name: &str) -> K {
    *object.meta_mut() = meta::object_meta(placement, name);
    object
}

/// The image (its tag is the version) of an Opstree object.
fn version_field(key: ObjectKey, what: &'static str, step: u8) -> super::objects::VersionField {
    super::objects::VersionField { key, pointer: "/spec/kubernetesConfig/image", what, step, major: 0, bridge: None }
}

impl Vendor for Opstree {
    type Config = RedisConfig;
    type Connection = RedisConnection;

    fn name(&self) -> &'static str {
        "OT-Container-Kit redis-operator"
    }

    fn desired(&self, config: &RedisConfig) -> Result<Desired, VendorError> {
        let p = &config.placement;
        let name = p.object_name();
        let main = kubernetes_config(&redis_image(config), &config.resources, config, true);
        let secrets: Vec<GeneratedSecret> = credentials(config).into_iter().collect();
        match &config.topology {
            RedisTopology::Standalone => {
                let redis = Redis::new(&name, RedisSpec { kubernetes_config: main, storage: Some(storage(config)) });
                Ok(Desired {
                    objects: vec![DesiredObject::from_typed(key(p, "Redis", &name), &with_meta(redis, p, &name))?],
                    secrets,
                    reads: vec![statefulset_key(p, &name)],
                    storage_fields: vec![(key(p, "Redis", &name), STORAGE)],
                    exclusive_with: vec![
                        key(p, "RedisReplication", &name),
                        key(p, "RedisReplication", &format!("{name}{BESIDE_SUFFIX}")),
                        key(p, "RedisSentinel", &name),
                    ],
                    replaces: None,
                    fixed_fields: vec![],
                    versions: vec![version_field(key(p, "Redis", &name), "Redis", 0)],
                })
            }
            RedisTopology::Replication { replicas, sentinel } => {
                let pair = replication_name(config);
                let replication = RedisReplication::new(
                    &pair,
                    RedisReplicationSpec {
                        cluster_size: *replicas,
                        kubernetes_config: main,
                        storage: Some(storage(config)),
                    },
                );
                let sentinel_object = RedisSentinel::new(
                    &name,
                    RedisSentinelSpec {
                        cluster_size: sentinel.replicas,
                        // The sentinels themselves require no password: they name the
                        // master; the servers they name do.
                        kubernetes_config: kubernetes_config(
                            &sentinel_image(config),
                            &sentinel.resources,
                            config,
                            false,
                        ),
                        redis_sentinel_config: RedisSentinelConfig {
                            redis_replication_name: pair.clone(),
                            master_group_name: sentinel.master_name.clone(),
                            redis_replication_password: credentials_name(config).map(|name| EnvVarSource {
                                secret_key_ref: Some(SecretKeySelector {
                                    name,
                                    key: PASSWORD_KEY.to_owned(),
                                    optional: None,
                                }),
                                ..Default::default()
                            }),
                        },
                    },
                );
                Ok(Desired {
                    objects: vec![
                        DesiredObject::from_typed(
                            key(p, "RedisReplication", &pair),
                            &with_meta(replication, p, &pair),
                        )?,
                        DesiredObject::from_typed(
                            key(p, "RedisSentinel", &name),
                            &with_meta(sentinel_object, p, &name),
                        )?,
                    ],
                    secrets,
                    reads: vec![statefulset_key(p, &pair), statefulset_key(p, &format!("{name}-sentinel"))],
                    storage_fields: vec![(key(p, "RedisReplication", &pair), STORAGE)],
                    // Grown from a standalone: the pair comes up beside it and succeeds it.
                    exclusive_with: if config.beside_standalone { vec![] } else { vec![key(p, "Redis", &name)] },
                    replaces: config.beside_standalone.then(|| super::objects::Replaced {
                        objects: vec![key(p, "Redis", &name)],
                        claims: super::objects::ClaimMatcher {
                            prefixes: vec![format!("{name}-{name}-")],
                            labels: vec![],
                        },
                    }),
                    fixed_fields: vec![],
                    // Opstree rolls the replicas itself (replicas before the master); the
                    // sentinels follow the servers they watch.
                    versions: vec![
                        version_field(key(p, "RedisReplication", &pair), "Redis", 0),
                        version_field(key(p, "RedisSentinel", &name), "Redis Sentinel", 1),
                    ],
                })
            }
        }
    }

    fn kinds(&self) -> Vec<kube::core::ApiResource> {
        vec![
            super::objects::api_resource_of::<Redis>(),
            super::objects::api_resource_of::<RedisReplication>(),
            super::objects::api_resource_of::<RedisSentinel>(),
        ]
    }

    /// Opstree's `<kind>.opstreelabs.in/skip-reconcile` (one annotation per kind; Opstree
    /// still handles a deletion while it skips).
    fn pause_marker(&self, kind: &str) -> Option<serde_json::Value> {
        let annotation = match kind {
            "Redis" => "redis.opstreelabs.in/skip-reconcile",
            "RedisReplication" => "redisreplication.opstreelabs.in/skip-reconcile",
            "RedisSentinel" => "redissentinel.opstreelabs.in/skip-reconcile",
            _ => return None,
        };
        Some(super::fragment::annotation_true(annotation))
    }

    fn default_images(&self, edition: Edition) -> Vec<String> {
        images(edition).map(str::to_owned).to_vec()
    }

    fn access_rules(&self) -> &'static [super::access_rule::Rule] {
        &[super::access_rule::Rule {
            group: "redis.redis.opstreelabs.in",
            resources: &["redis", "redisreplications", "redissentinels"],
            verbs: super::access_rule::VENDOR_VERBS,
            why: "Redis: apply, read status, detach, purge",
            resource_names: &[],
        }]
    }

    fn data_claims(&self, placement: &Placement) -> super::objects::ClaimMatcher {
        // The vendor names claims `<template>-<cr>-<ordinal>`, the template defaulting to the CR name.
        let name = placement.object_name();
        let pair = format!("{name}{BESIDE_SUFFIX}");
        super::objects::ClaimMatcher {
            prefixes: vec![format!("{name}-{name}-"), format!("{pair}-{pair}-")],
            labels: vec![],
        }
    }

    /// A standalone grown to `small`: while the standalone (or, once it is retired, the pair
    /// made beside it) exists, the pair's replication is named `<name>-ha`.
    fn successor(&self, config: &RedisConfig, exists: &dyn Fn(&ObjectKey) -> bool) -> Option<RedisConfig> {
        let p = &config.placement;
        let name = p.object_name();
        let grown = matches!(config.topology, RedisTopology::Replication { .. })
            && !config.beside_standalone
            && (exists(&key(p, "Redis", &name))
                || exists(&key(p, "RedisReplication", &format!("{name}{BESIDE_SUFFIX}"))));
        grown.then(|| RedisConfig { beside_standalone: true, ..config.clone() })
    }

    fn applied_version(&self, config: &RedisConfig) -> Option<String> {
        meta::image_version(&redis_image(config))
    }

    fn observe(
        &self,
        config: &RedisConfig,
        observed: &Observed,
        previously_ready: bool,
    ) -> ComponentStatus<RedisConnection> {
        let p = &config.placement;
        let name = p.object_name();
        let ns = &p.namespace;
        let (verdicts, connection) = match &config.topology {
            RedisTopology::Standalone => {
                let cr = key(p, "Redis", &name);
                let verdict = if observed.get(&cr).is_none() {
                    Verdict::Missing
                } else {
                    statefulset_verdict(observed.typed(&statefulset_key(p, &name)))
                };
                let connection = RedisConnection {
                    host: Some(service_host(&name, ns)),
                    port: Some("6379".to_owned()),
                    ..Default::default()
                };
                (vec![(cr.to_string(), verdict)], connection)
            }
            RedisTopology::Replication { sentinel, .. } => {
                let pair = replication_name(config);
                let replication_key = key(p, "RedisReplication", &pair);
                let sentinel_key = key(p, "RedisSentinel", &name);
                let replication_verdict = match observed.typed::<RedisReplication>(&replication_key) {
                    None => Verdict::Missing,
                    Some(replication) => match statefulset_verdict(observed.typed(&statefulset_key(p, &pair))) {
                        Verdict::Ready
                            if replication.status.and_then(|s| s.master_node).is_none_or(|m| m.is_empty()) =>
                        {
                            Verdict::Progressing("no master elected yet".to_owned())
                        }
                        other => other,
                    },
                };
                let sentinel_verdict = if observed.get(&sentinel_key).is_none() {
                    Verdict::Missing
                } else {
                    statefulset_verdict(observed.typed(&statefulset_key(p, &format!("{name}-sentinel"))))
                };
                let connection = RedisConnection {
                    sentinel_host: Some(service_host(&format!("{name}-sentinel"), ns)),
                    sentinel_port: Some("26379".to_owned()),
                    // The same value the sentinels were given.
                    master_name: Some(sentinel.master_name.clone()),
                    ..Default::default()
                };
                (
                    vec![
                        (replication_key.to_string(), replication_verdict),
                        (sentinel_key.to_string(), sentinel_verdict),
                    ],
                    connection,
                )
            }
        };
        let mut status = readiness::fold(verdicts, previously_ready);
        status.connection = Some(connection);
        status.credentials_secret =
            credentials_name(config).map(|name| SecretKeyReference { name, key: PASSWORD_KEY.to_owned() });
        // Opstree reports no version: the image we applied.
        status.version = self.applied_version(config);
        status
    }
}

/// The vendor's StatefulSet gate: observed generation current and every replica ready.
fn statefulset_verdict(statefulset: Option<StatefulSet>) -> Verdict {
    let Some(statefulset) = statefulset else {
        return Verdict::Progressing("the vendor has not created its StatefulSet yet".to_owned());
    };
    let Some(status) = &statefulset.status else { return Verdict::NotReported };
    if let Some(stale) = readiness::stale(status.observed_generation, statefulset.metadata.generation) {
        return stale;
    }
    let desired = statefulset.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let ready = status.ready_replicas.unwrap_or(0);
    if ready >= desired {
        Verdict::Ready
    } else if ready > 0 {
        Verdict::FewerReady(format!("{ready} of {desired} pods ready"))
    } else {
        Verdict::Progressing(format!("0 of {desired} pods ready"))
    }
}
