//! Spec + size profile → one validated config per component.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;

use super::backup;
use super::external::{self, ExternalConfig};
use super::profile::{self, ResourceProfile};
use super::{
    ClickHouseConfig, Component, InfraConfig, Instance, KafkaConfig, KafkaReplication, KeeperConfig, MinioConfig,
    ModelError, MySqlConfig, Placement, Plan, ProxySqlConfig, PxcUnsafeFlags, Quantity, RedisConfig, RedisTopology,
    Resources, SentinelConfig,
};
use crate::api::{ComponentCommon, OnDelete, Size, WeightsAndBiases};

/// The longest CR name that leaves room for every derived name (Percona limits cluster names
/// to 22 characters and `<name>-mysql` is the longest).
pub const MAX_NAME_LENGTH: usize = 16;

/// Resolves a `WeightsAndBiases` into one validated config per component.
///
/// Errors about the instance itself (no name, no namespace, name too long) fail the whole
/// resolution; an invalid component value fails only that component.
pub fn resolve(wandb: &WeightsAndBiases) -> Result<InfraConfig, ModelError> {
    let name = wandb.metadata.name.clone().filter(|n| !n.is_empty()).ok_or(ModelError::MissingName)?;
    let namespace = wandb.metadata.namespace.clone().filter(|n| !n.is_empty()).ok_or(ModelError::MissingNamespace)?;
    if name.chars().count() > MAX_NAME_LENGTH {
        return Err(ModelError::invalid(
            "metadata.name",
            format!("must be at most {MAX_NAME_LENGTH} characters so that derived names fit the vendors' limits"),
        ));
    }
    let instance = Instance { name, namespace, uid: wandb.metadata.uid.clone() };
    let spec = &wandb.spec;
    let size = spec.size;
    let profile = profile::profile(size);
    let default_on_delete = spec.retention_policy.as_ref().map(|r| r.on_delete).unwrap_or_default();
    let ctx = MergeContext { instance: &instance, default_on_delete };

    let mysql = spec.mysql.clone().unwrap_or_default();
    let redis = spec.redis.clone().unwrap_or_default();
    let kafka = spec.kafka.clone().unwrap_or_default();
    let minio = spec.minio.clone().unwrap_or_default();
    let clickhouse = spec.clickhouse.clone().unwrap_or_default();

    let ext = |conflicts: Vec<(&'static str, bool)>| -> Vec<&'static str> {
        conflicts.into_iter().filter(|(_, set)| *set).map(|(n, _)| n).collect()
    };
    let common_set = |c: &ComponentCommon| -> Vec<(&'static str, bool)> {
        vec![("storageSize", c.storage_size.is_some()), ("config", c.config.is_some())]
    };
    let with = |mut v: Vec<(&'static str, bool)>, more: Vec<(&'static str, bool)>| {
        v.extend(more);
        v
    };
    // MySQL backups default to the managed MinIO: resolve it first.
    let minio_plan = ctx.plan(
        Component::Minio,
        &minio.common,
        minio.external.as_ref().map(|e| {
            (ext(with(common_set(&minio.common), vec![("replicas", minio.replicas.is_some())])), move |p| {
                external::object_storage(e, p)
            })
        }),
        |p| merge_minio(size, &profile.minio, &minio, p),
    );
    let managed_minio = minio_plan.as_ref().ok().and_then(Plan::enabled).map(|c| (c.placement.clone(), c.tls));
    Ok(InfraConfig {
        mysql: ctx.plan(
            Component::MySql,
            &mysql.common,
            mysql.external.as_ref().map(|e| {
                (
                    ext(with(
                        common_set(&mysql.common),
                        vec![
                            ("replicas", mysql.replicas.is_some()),
                            ("backup", mysql.backup.is_some()),
                            ("restore", mysql.restore.is_some()),
                        ],
                    )),
                    move |p| external::mysql(e, p),
                )
            }),
            |p| merge_mysql(size, &profile.mysql, &mysql, managed_minio, p),
        ),
        redis: ctx.plan(
            Component::Redis,
            &redis.common,
            redis.external.as_ref().map(|e| {
                (ext(with(common_set(&redis.common), vec![("sentinel", redis.sentinel.is_some())])), move |p| {
                    external::redis(e, p)
                })
            }),
            |p| merge_redis(&profile.redis, &redis, p),
        ),
        kafka: ctx.plan(
            Component::Kafka,
            &kafka.common,
            kafka.external.as_ref().map(|e| {
                let managed = vec![("replicas", kafka.replicas.is_some()), ("version", kafka.version.is_some())];
                (ext(with(common_set(&kafka.common), managed)), move |p| external::kafka(e, p))
            }),
            |p| merge_kafka(&profile.kafka, &kafka, p),
        ),
        minio: minio_plan,
        clickhouse: ctx.plan(
            Component::ClickHouse,
            &clickhouse.common,
            clickhouse.external.as_ref().map(|e| {
                let managed =
                    vec![("replicas", clickhouse.replicas.is_some()), ("version", clickhouse.version.is_some())];
                (ext(with(common_set(&clickhouse.common), managed)), move |p| external::clickhouse(e, p))
            }),
            |p| merge_clickhouse(&profile.clickhouse, &clickhouse, p),
        ),
        instance,
        size,
    })
}

/// Every component's placement (namespace and retention policy), even when its spec is
/// otherwise invalid: what deletion needs to find and treat its objects.
pub fn placements(wandb: &WeightsAndBiases) -> Result<Vec<Placement>, ModelError> {
    let name = wandb.metadata.name.clone().filter(|n| !n.is_empty()).ok_or(ModelError::MissingName)?;
    let namespace = wandb.metadata.namespace.clone().filter(|n| !n.is_empty()).ok_or(ModelError::MissingNamespace)?;
    let instance = Instance { name, namespace, uid: wandb.metadata.uid.clone() };
    let spec = &wandb.spec;
    let default_on_delete = spec.retention_policy.as_ref().map(|r| r.on_delete).unwrap_or_default();
    let commons = [
        spec.mysql.as_ref().map(|c| &c.common),
        spec.redis.as_ref().map(|c| &c.common),
        spec.kafka.as_ref().map(|c| &c.common),
        spec.minio.as_ref().map(|c| &c.common),
        spec.clickhouse.as_ref().map(|c| &c.common),
    ];
    Ok(Component::ALL
        .iter()
        .zip(commons)
        .map(|(component, common)| Placement {
            instance: instance.clone(),
            component: *component,
            namespace: common
                .and_then(|c| c.namespace.clone())
                .filter(|ns| validate_dns_label(ns).is_ok())
                .unwrap_or_else(|| instance.namespace.clone()),
            on_delete: common
                .and_then(|c| c.retention_policy.as_ref())
                .and_then(|r| r.on_delete)
                .unwrap_or(default_on_delete),
        })
        .collect())
}

struct MergeContext<'a> {
    instance: &'a Instance,
    default_on_delete: OnDelete,
}

impl MergeContext<'_> {
    /// The component's plan. `external` carries the managed settings set beside an `external`
    /// block (a contradiction, reported with the field) and the external resolution.
    fn plan<C, E>(
        &self,
        component: Component,
        common: &ComponentCommon,
        external: Option<(Vec<&str>, E)>,
        merge: impl FnOnce(Placement) -> Result<C, ModelError>,
    ) -> Result<Plan<C>, ModelError>
    where
        E: FnOnce(Placement) -> Result<ExternalConfig, ModelError>,
    {
        let key = component.key();
        let namespace = match &common.namespace {
            Some(ns) => {
                validate_dns_label(ns).map_err(|m| ModelError::invalid(format!("spec.{key}.namespace"), m))?;
                ns.clone()
            }
            None => self.instance.namespace.clone(),
        };
        let on_delete = common.retention_policy.as_ref().and_then(|r| r.on_delete).unwrap_or(self.default_on_delete);
        let placement = Placement { instance: self.instance.clone(), component, namespace, on_delete };
        if !common.enabled {
            return Ok(Plan::Disabled(placement));
        }
        match external {
            Some((conflicts, _)) if !conflicts.is_empty() => Err(ModelError::invalid(
                format!("spec.{key}.external"),
                format!(
                    "cannot be combined with the managed settings {}: an external component is not run by the operator",
                    conflicts.join(", ")
                ),
            )),
            Some((_, resolve)) => resolve(placement).map(|c| Plan::External(Box::new(c))),
            None => merge(placement).map(Plan::Enabled),
        }
    }
}

fn validate_dns_label(value: &str) -> Result<(), String> {
    let bytes = value.as_bytes();
    let valid_chars = bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    let alnum = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if value.is_empty() || value.len() > 63 || !valid_chars || !alnum(bytes.first()) || !alnum(bytes.last()) {
        return Err(format!(
            "{value:?} is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending alphanumeric, at most 63 characters)"
        ));
    }
    Ok(())
}

/// The user's storage size, or the profile's; must parse and be greater than zero.
fn storage(common: &ComponentCommon, default: &str, component: Component) -> Result<Quantity, ModelError> {
    let field = format!("spec.{}.storageSize", component.key());
    let text = common.storage_size.as_deref().unwrap_or(default);
    let quantity = Quantity::parse(text).map_err(|e| ModelError::invalid(&field, e.to_string()))?;
    if quantity.is_zero() {
        return Err(ModelError::invalid(field, "must be greater than zero"));
    }
    Ok(quantity)
}

fn image(common: &ComponentCommon, default: &str, component: Component) -> Result<String, ModelError> {
    match common.config.as_ref().and_then(|c| c.image.as_deref()) {
        Some(image) if image.trim().is_empty() || image.chars().any(char::is_whitespace) => Err(ModelError::invalid(
            format!("spec.{}.config.image", component.key()),
            "must be a non-empty image reference without spaces",
        )),
        Some(image) => Ok(image.to_owned()),
        None => Ok(default.to_owned()),
    }
}

/// Merges user resources over the profile key by key (user keys win) and validates the result.
fn resources(
    user: Option<&ResourceRequirements>,
    default: &ResourceProfile,
    field: &str,
) -> Result<Resources, ModelError> {
    let seed = |pairs: &[(&str, &str)]| -> Result<BTreeMap<String, Quantity>, ModelError> {
        pairs
            .iter()
            .map(|(k, v)| Quantity::parse(v).map(|q| ((*k).to_owned(), q)))
            .collect::<Result<_, _>>()
            .map_err(|e| ModelError::invalid(field, format!("profile value invalid: {e}")))
    };
    let mut merged = Resources { requests: seed(default.requests)?, limits: seed(default.limits)? };
    if let Some(user) = user {
        if user.claims.as_ref().is_some_and(|c| !c.is_empty()) {
            return Err(ModelError::invalid(format!("{field}.claims"), "resource claims are not supported here"));
        }
        for (kind, user_map, target) in
            [("requests", &user.requests, &mut merged.requests), ("limits", &user.limits, &mut merged.limits)]
        {
            for (key, value) in user_map.iter().flatten() {
                let q = Quantity::parse(&value.0)
                    .map_err(|e| ModelError::invalid(format!("{field}.{kind}.{key}"), e.to_string()))?;
                target.insert(key.clone(), q);
            }
        }
    }
    for (key, request) in &merged.requests {
        if let Some(limit) = merged.limits.get(key)
            && request > limit
        {
            return Err(ModelError::invalid(
                format!("{field}.requests.{key}"),
                format!("request {request} is greater than the limit {limit} (after merging over the size profile)"),
            ));
        }
    }
    Ok(merged)
}

fn user_resources(common: &ComponentCommon) -> Option<&ResourceRequirements> {
    common.config.as_ref().and_then(|c| c.resources.as_ref())
}

fn replicas(user: Option<i32>, default: i32, min: i32, max: i32, field: &str) -> Result<i32, ModelError> {
    let value = user.unwrap_or(default);
    if !(min..=max).contains(&value) {
        return Err(ModelError::invalid(field, format!("{value} is out of range {min}..={max}")));
    }
    Ok(value)
}

fn merge_mysql(
    size: Size,
    p: &profile::MySqlProfile,
    spec: &crate::api::MySqlSpec,
    minio: Option<(Placement, bool)>,
    placement: Placement,
) -> Result<MySqlConfig, ModelError> {
    let c = Component::MySql;
    let replicas = replicas(spec.replicas, p.replicas, 1, 7, "spec.mysql.replicas")?;
    if replicas % 2 == 0 {
        return Err(ModelError::invalid(
            "spec.mysql.replicas",
            format!("{replicas} is even; Galera needs an odd number"),
        ));
    }
    if replicas == 1 && size != Size::Dev {
        return Err(ModelError::invalid("spec.mysql.replicas", "1 is only allowed with size dev"));
    }
    // Percona refuses sizes outside 3..=5 unless `unsafeFlags.pxcSize` is set: 7 nodes need it.
    let pxc_size_unsafe = p.unsafe_flags || !(3..=5).contains(&replicas);
    let backups = backup::resolve(size, spec.backup.as_ref(), minio, &placement)?;
    Ok(MySqlConfig {
        backup: backups.backup,
        backup_off_reason: backups.off_reason,
        restore: backup::restore(spec.restore.as_ref())?,
        storage: storage(&spec.common, p.storage, c)?,
        replicas,
        resources: resources(user_resources(&spec.common), &p.resources, "spec.mysql.config.resources")?,
        image: image(&spec.common, p.image, c)?,
        tls: p.tls,
        proxysql: p.proxysql.map(|(replicas, image)| ProxySqlConfig { replicas, image: image.to_owned() }),
        log_collector_image: p.log_collector.map(str::to_owned),
        unsafe_flags: PxcUnsafeFlags { pxc_size: pxc_size_unsafe, proxy_size: p.unsafe_flags, tls: p.unsafe_flags },
        cr_version: profile::PXC_CR_VERSION.to_owned(),
        placement,
    })
}

fn merge_redis(
    p: &profile::RedisProfile,
    spec: &crate::api::RedisSpec,
    placement: Placement,
) -> Result<RedisConfig, ModelError> {
    let c = Component::Redis;
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
            replicas: profile::REDIS_HA_REPLICAS,
            sentinel: SentinelConfig {
                replicas: profile::REDIS_HA_REPLICAS,
                image: p.sentinel_image.to_owned(),
                resources: resources(
                    sentinel_config.and_then(|c| c.resources.as_ref()),
                    &p.sentinel_resources,
                    "spec.redis.sentinel.config.resources",
                )?,
                master_name: master_name.unwrap_or_else(|| profile::REDIS_MASTER_NAME.to_owned()),
            },
        }
    } else {
        RedisTopology::Standalone
    };
    Ok(RedisConfig {
        storage: storage(&spec.common, p.storage, c)?,
        resources: resources(user_resources(&spec.common), &p.resources, "spec.redis.config.resources")?,
        image: image(&spec.common, p.image, c)?,
        topology,
        placement,
    })
}

fn merge_kafka(
    p: &profile::KafkaProfile,
    spec: &crate::api::KafkaSpec,
    placement: Placement,
) -> Result<KafkaConfig, ModelError> {
    let c = Component::Kafka;
    let replicas = replicas(spec.replicas, p.replicas, 1, 99, "spec.kafka.replicas")?;
    let version = spec.version.clone().unwrap_or_else(|| profile::KAFKA_VERSION.to_owned());
    let parts: Vec<&str> = version.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(ModelError::invalid("spec.kafka.version", format!("{version:?} is not a version like 4.2.0")));
    }
    Ok(KafkaConfig {
        storage: storage(&spec.common, p.storage, c)?,
        resources: resources(user_resources(&spec.common), &p.resources, "spec.kafka.config.resources")?,
        // Without an override Strimzi picks the image matching `version`.
        image: match spec.common.config.as_ref().and_then(|cfg| cfg.image.as_ref()) {
            Some(_) => Some(image(&spec.common, "", c)?),
            None => None,
        },
        replicas,
        version,
        replication: KafkaReplication::for_nodes(replicas),
        placement,
    })
}

fn merge_minio(
    size: Size,
    p: &profile::MinioProfile,
    spec: &crate::api::MinioSpec,
    placement: Placement,
) -> Result<MinioConfig, ModelError> {
    let c = Component::Minio;
    let servers = replicas(spec.replicas, p.servers, 1, 32, "spec.minio.replicas")?;
    let volumes = p.volumes_per_server;
    let drives = servers * volumes;
    // MinIO's erasure-code limits: 1×1 allowed; 2 servers need ≥ 4 drives, 3 or more need ≥ 6.
    let enough = (servers == 1) || (servers == 2 && drives >= 4) || (servers >= 3 && drives >= 6);
    if !enough {
        return Err(ModelError::invalid(
            "spec.minio.replicas",
            format!(
                "{servers} servers × {volumes} volumes (size {}) is below MinIO's erasure-code minimum (2 servers need 4 drives, 3 or more need 6)",
                size.as_str()
            ),
        ));
    }
    Ok(MinioConfig {
        storage: storage(&spec.common, p.storage, c)?,
        resources: resources(user_resources(&spec.common), &p.resources, "spec.minio.config.resources")?,
        image: image(&spec.common, p.image, c)?,
        servers,
        volumes_per_server: volumes,
        tls: p.tls,
        placement,
    })
}

fn merge_clickhouse(
    p: &profile::ClickHouseProfile,
    spec: &crate::api::ClickHouseSpec,
    placement: Placement,
) -> Result<ClickHouseConfig, ModelError> {
    let c = Component::ClickHouse;
    let replicas = replicas(spec.replicas, p.replicas, 1, 32, "spec.clickhouse.replicas")?;
    let version = spec.version.clone().unwrap_or_else(|| profile::CLICKHOUSE_VERSION.to_owned());
    if version.is_empty() || !version.chars().all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch)) {
        return Err(ModelError::invalid("spec.clickhouse.version", format!("{version:?} is not an image tag")));
    }
    let keeper = (replicas > 1)
        .then(|| -> Result<KeeperConfig, ModelError> {
            Ok(KeeperConfig {
                replicas: p.keeper.replicas,
                storage: Quantity::parse(p.keeper.storage)
                    .map_err(|e| ModelError::invalid("spec.clickhouse", format!("keeper profile: {e}")))?,
                resources: resources(None, &p.keeper.resources, "spec.clickhouse")?,
                image: format!("{}:{version}", profile::CLICKHOUSE_KEEPER_IMAGE_REPOSITORY),
            })
        })
        .transpose()?;
    Ok(ClickHouseConfig {
        storage: storage(&spec.common, p.storage, c)?,
        resources: resources(user_resources(&spec.common), &p.resources, "spec.clickhouse.config.resources")?,
        image: image(&spec.common, &format!("{}:{version}", profile::CLICKHOUSE_IMAGE_REPOSITORY), c)?,
        replicas,
        keeper,
        placement,
    })
}
