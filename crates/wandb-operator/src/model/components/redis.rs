//! Redis: W&B's cache and queue, standalone or replicated behind sentinels.

use std::collections::BTreeMap;

use crate::api::{
    ComponentCommon, ComponentStatus, ExternalRedis, RedisConnection, RedisSpec, SecretKeyReference, Size,
    WeightsAndBiasesSpec, WeightsAndBiasesStatus,
};
use crate::model::component::{Component, ComponentInfo};
use crate::model::descriptor::{ComponentDescriptor, ExternalBlock, Plan};
use crate::model::edition::Edition;
use crate::model::error::ModelError;
use crate::model::external_service::ExternalConfig;
use crate::model::external_service::{
    self as ext, ConnectionKeys, Endpoint, ExternalService, Greeting, ProbeTarget, Tls, VersionQuery, VersionRequest,
};
use crate::model::fields::Resources;
use crate::model::fields::{self, ResourceProfile};
use crate::model::images::{ImageSource, image_source};
use crate::model::minimum_version::MinimumVersion;
use crate::model::placement::{Placed, Placement};
use crate::model::quantity::Quantity;
use crate::model::resolution::Resolution;
use crate::model::url::{get, is_true, query, userinfo};

/// Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redis;

/// Redis's identity.
pub const REDIS: Component = Component::new(&ComponentInfo {
    key: "redis",
    display_name: "Redis",
    password_key: "REDIS_PASSWORD",
    url,
    minimum_version: Some(MinimumVersion { version: "7.0", product: "Redis", not: &[] }),
});

/// Default sentinel master group name.
pub const REDIS_MASTER_NAME: &str = "gorilla";
/// Redis replicas and sentinels when sentinel is on.
pub const REDIS_HA_REPLICAS: i32 = 3;

/// Redis defaults of one size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisProfile {
    /// Storage per Redis replica.
    pub storage: &'static str,
    /// Redis resources.
    pub resources: ResourceProfile,
    /// Replication + sentinel (3 + 3) instead of standalone.
    pub sentinel: bool,
    /// Sentinel resources.
    pub sentinel_resources: ResourceProfile,
}

const SENTINEL_SMALL: ResourceProfile =
    ResourceProfile::new(&[("cpu", "125m"), ("memory", "128Mi")], &[("cpu", "256m"), ("memory", "256Mi")]);
const DEV: RedisProfile = RedisProfile {
    storage: "100Mi",
    resources: ResourceProfile::NONE,
    sentinel: false,
    sentinel_resources: ResourceProfile::NONE,
};
const SMALL: RedisProfile = RedisProfile {
    storage: "2Gi",
    resources: ResourceProfile::new(&[("cpu", "250m"), ("memory", "256Mi")], &[("cpu", "500m"), ("memory", "512Mi")]),
    sentinel: true,
    sentinel_resources: SENTINEL_SMALL,
};
const LARGE: RedisProfile = RedisProfile { storage: "64Gi", resources: ResourceProfile::LARGE_30, ..SMALL };

/// Redis's defaults for `size`.
pub fn profile(size: Size) -> &'static RedisProfile {
    match size {
        Size::Dev => &DEV,
        Size::Small => &SMALL,
        Size::Large => &LARGE,
    }
}

/// Sentinel settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SentinelConfig {
    /// Sentinels.
    pub replicas: i32,
    /// Sentinel resources.
    pub resources: Resources,
    /// Master group name (also reported to clients).
    pub master_name: String,
}

/// Redis topology.
#[derive(Debug, Clone, PartialEq)]
pub enum RedisTopology {
    /// One Redis.
    Standalone,
    /// Replicas watched by sentinels.
    Replication {
        /// Redis replicas.
        replicas: i32,
        /// Sentinels.
        sentinel: SentinelConfig,
    },
}

/// Managed Redis.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisConfig {
    /// Placement.
    pub placement: Placement,
    /// The edition of defaults it is resolved with.
    pub edition: Edition,
    /// Where its default images are pulled from.
    pub images: ImageSource,
    /// Storage per replica.
    pub storage: Quantity,
    /// Redis resources.
    pub resources: Resources,
    /// The user's image, when set (else the vendor's).
    pub image: Option<String>,
    /// The version asked for (`spec.redis.version`); `None`: the edition's.
    pub version: Option<String>,
    /// Topology.
    pub topology: RedisTopology,
    /// The replication + sentinel pair runs beside the standalone it replaces (a `dev`
    /// install grown to `small`): its replication is named apart from the standalone's, whose
    /// StatefulSet and Services have the name the pair's would have. Set by the reconcile
    /// from what exists (`Vendor::successor`); `false` from the spec.
    pub beside_standalone: bool,
}

impl Placed for RedisConfig {
    fn placement(&self) -> &Placement {
        &self.placement
    }

    fn edition(&self) -> Edition {
        self.edition
    }
}

fn merge(resolution: &Resolution, spec: &RedisSpec, placement: Placement) -> Result<RedisConfig, ModelError> {
    let (size, edition) = (resolution.size, resolution.edition);
    let p = profile(size);
    let sentinel = spec.sentinel.as_ref();
    let sentinel_on = sentinel.and_then(|s| s.enabled).unwrap_or(p.sentinel);
    let sentinel_config = sentinel.and_then(|s| s.config.as_ref());
    let topology = if sentinel_on {
        let master_name = sentinel_config.and_then(|c| c.master_name.clone());
        if let Some(name) = &master_name
            && (name.is_empty() || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch)))
        {
            return Err(ModelError::invalid(
                "spec.redis.sentinel.config.masterName",
                "must be non-empty letters, digits, '.', '_' or '-'",
            ));
        }
        RedisTopology::Replication {
            replicas: REDIS_HA_REPLICAS,
            sentinel: SentinelConfig {
                replicas: REDIS_HA_REPLICAS,
                resources: fields::resources(
                    sentinel_config.and_then(|c| c.resources.as_ref()),
                    &p.sentinel_resources,
                    "spec.redis.sentinel.config.resources",
                )?,
                master_name: master_name.unwrap_or_else(|| REDIS_MASTER_NAME.to_owned()),
            },
        }
    } else {
        RedisTopology::Standalone
    };
    Ok(RedisConfig {
        edition,
        images: image_source(&resolution.spec)?,
        storage: fields::storage(&spec.common, p.storage, REDIS)?,
        resources: fields::resources(
            fields::user_resources(&spec.common),
            &p.resources,
            "spec.redis.config.resources",
        )?,
        image: fields::image_override(&spec.common, REDIS)?,
        version: spec.version.clone(),
        topology,
        placement,
        beside_standalone: false,
    })
}

/// Topology of an external Redis.
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

/// An external Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisService {
    /// Standalone or sentinel.
    pub topology: ExternalRedisTopology,
    /// Password, if any.
    pub password: Option<SecretKeyReference>,
    /// TLS.
    pub tls: Tls,
}

fn external(spec: &ExternalRedis, placement: Placement) -> Result<ExternalConfig<RedisService>, ModelError> {
    let f = "spec.redis.external";
    let topology = match (&spec.host, &spec.sentinel) {
        (Some(h), None) => ExternalRedisTopology::Standalone(Endpoint {
            host: ext::host(h, &format!("{f}.host"))?,
            port: ext::port(spec.port, &format!("{f}.port"))?,
        }),
        (None, Some(sentinel)) => {
            if sentinel.hosts.is_empty() {
                return Err(ModelError::invalid(format!("{f}.sentinel.hosts"), "needs at least one host:port"));
            }
            let hosts = sentinel
                .hosts
                .iter()
                .enumerate()
                .map(|(i, h)| ext::host_port(h, &format!("{f}.sentinel.hosts[{i}]")))
                .collect::<Result<_, _>>()?;
            let master_name = ext::non_empty(&sentinel.master_name, &format!("{f}.sentinel.masterName"))?;
            ExternalRedisTopology::Sentinel { hosts, master_name }
        }
        _ => {
            return Err(ModelError::invalid(
                f,
                "set either host (one Redis endpoint) or sentinel (hosts and masterName), not both and not neither",
            ));
        }
    };
    let service = RedisService {
        topology,
        password: spec
            .password_secret
            .as_ref()
            .map(|s| ext::reference(s, &format!("{f}.passwordSecret")))
            .transpose()?,
        tls: ext::tls(spec.tls.as_ref(), &format!("{f}.tls"), false)?,
    };
    Ok(ExternalConfig { placement, service })
}

impl ExternalService for RedisService {
    fn version_request(&self) -> Option<VersionRequest> {
        // A standalone server over a plain connection (a sentinel reports its own version).
        match (&self.topology, self.tls.enabled) {
            (ExternalRedisTopology::Standalone(endpoint), false) => Some(VersionRequest {
                query: VersionQuery::Redis { endpoint: endpoint.clone() },
                password: self.password.clone(),
            }),
            _ => None,
        }
    }

    fn probe_targets(&self) -> Vec<ProbeTarget> {
        match &self.topology {
            ExternalRedisTopology::Standalone(e) => vec![ProbeTarget::behind_tls(e, &self.tls, Greeting::Redis)],
            ExternalRedisTopology::Sentinel { hosts, .. } => {
                hosts.iter().map(|e| ProbeTarget::behind_tls(e, &self.tls, Greeting::Redis)).collect()
            }
        }
    }

    fn secret_references(&self) -> Vec<&SecretKeyReference> {
        self.password.iter().chain(self.tls.ca.as_ref()).collect()
    }

    fn credentials_secret(&self) -> Option<SecretKeyReference> {
        self.password.clone()
    }

    fn connection_keys(&self) -> ConnectionKeys {
        let mut keys = ConnectionKeys::default();
        match &self.topology {
            ExternalRedisTopology::Standalone(e) => {
                keys.plain("REDIS_HOST", e.host.clone());
                keys.plain("REDIS_PORT", e.port.to_string());
            }
            ExternalRedisTopology::Sentinel { hosts, master_name } => {
                if let Some(first) = hosts.first() {
                    keys.plain("REDIS_SENTINEL_HOST", first.host.clone());
                    keys.plain("REDIS_SENTINEL_PORT", first.port.to_string());
                }
                keys.plain("REDIS_SENTINEL_HOSTS", ext::joined(hosts));
                keys.plain("REDIS_MASTER_NAME", master_name.clone());
            }
        }
        if let Some(password) = &self.password {
            keys.copy(REDIS.password_key(), password);
        }
        keys.tls("REDIS", &self.tls);
        keys
    }
}

/// `redis[s]://[:password@]host:port`, or the sentinels with `?master=`.
fn url(keys: &BTreeMap<String, String>) -> String {
    let scheme = if is_true(keys, "REDIS_TLS") { "rediss" } else { "redis" };
    // With a password, the user `default` (which Redis 7 always has) is named: redis-cli reads
    // `redis://:password@` as the user "" and fails with WRONGPASS; redis-py, go-redis and
    // redis-cli all accept `redis://default:password@`.
    let password = keys.get("REDIS_PASSWORD");
    let user = password.map(|_| "default".to_owned());
    let auth = userinfo(user.as_ref(), password);
    match keys.get("REDIS_MASTER_NAME") {
        Some(master) => {
            let hosts = keys.get("REDIS_SENTINEL_HOSTS").cloned().unwrap_or_else(|| {
                format!("{}:{}", get(keys, "REDIS_SENTINEL_HOST"), get(keys, "REDIS_SENTINEL_PORT"))
            });
            format!("{scheme}://{auth}{hosts}{}", query(&[("master", Some(master))]))
        }
        None => format!("{scheme}://{auth}{}:{}", get(keys, "REDIS_HOST"), get(keys, "REDIS_PORT")),
    }
}

impl ComponentDescriptor for Redis {
    const COMPONENT: Component = REDIS;
    type Config = RedisConfig;
    type External = RedisService;
    type Connection = RedisConnection;

    fn common(spec: &WeightsAndBiasesSpec) -> Option<&ComponentCommon> {
        spec.redis.as_ref().map(|s| &s.common)
    }

    fn status(status: &WeightsAndBiasesStatus) -> Option<&ComponentStatus<RedisConnection>> {
        status.redis_status.as_ref()
    }

    fn status_mut(status: &mut WeightsAndBiasesStatus) -> &mut Option<ComponentStatus<RedisConnection>> {
        &mut status.redis_status
    }

    fn resolve(resolution: &Resolution) -> Result<Plan<Redis>, ModelError> {
        let spec = resolution.spec.redis.clone().unwrap_or_default();
        let block = spec.external.as_ref().map(|e| -> ExternalBlock<'_, RedisService> {
            let managed = vec![("sentinel", spec.sentinel.is_some()), ("version", spec.version.is_some())];
            (managed, Box::new(move |p| external(e, p)))
        });
        resolution.plan_with(&spec.common, block, |p| merge(resolution, &spec, p))
    }

    fn external_connection(service: &RedisService) -> Option<RedisConnection> {
        Some(match &service.topology {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn urls_name_the_sentinels_or_the_server() {
        let sentinel = map(&[("REDIS_SENTINEL_HOSTS", "a:26379,b:26379"), ("REDIS_MASTER_NAME", "gorilla")]);
        assert_eq!(REDIS.url(&sentinel), "redis://a:26379,b:26379?master=gorilla");
        let standalone =
            map(&[("REDIS_HOST", "r"), ("REDIS_PORT", "6380"), ("REDIS_PASSWORD", "x"), ("REDIS_TLS", "true")]);
        assert_eq!(REDIS.url(&standalone), "rediss://default:x@r:6380");
        let open = map(&[("REDIS_HOST", "r"), ("REDIS_PORT", "6379")]);
        assert_eq!(REDIS.url(&open), "redis://r:6379", "no password, no user");
    }
}
