//! ClickHouse: W&B's analytics store, one shard of replicas, with a Keeper ensemble when
//! replicated.

use std::collections::BTreeMap;

use crate::api::{
    ClickHouseConnection, ClickHouseSpec, ComponentCommon, ComponentStatus, ExternalClickHouse, SecretKeyReference,
    Size, WeightsAndBiasesSpec, WeightsAndBiasesStatus,
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
use crate::model::url::{flag, get, query, userinfo};

/// ClickHouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClickHouse;

/// ClickHouse's identity.
pub const CLICKHOUSE: Component = Component::new(&ComponentInfo {
    key: "clickhouse",
    display_name: "ClickHouse",
    password_key: "CLICKHOUSE_PASSWORD",
    url,
    minimum_version: Some(MinimumVersion { version: "25.8", product: "ClickHouse", not: &[] }),
});

/// What an edition sets by default for ClickHouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClickHouseDefaults {
    /// ClickHouse server and Keeper version (Keeper never older than the server).
    pub version: &'static str,
    /// The cluster name (part of pod and claim names: never changed on a running install).
    pub cluster: &'static str,
    /// The database the application uses, with Weave's `db_management`; `None`: not limited.
    pub database: Option<&'static str>,
}

/// The defaults of `edition`. 2025: the 25.8 line under a generic cluster name, the user not
/// limited to any database. 2026: a 26.3 LTS patch at or after the query-condition-cache fix
/// (26.3.13.13) that W&B Server ≥ 0.81 and Weave need, and a cluster and database for Weave.
/// The cluster is `weave`, not Weave's default `weave_cluster`: Altinity's CRD allows only
/// `[a-zA-Z0-9-]{0,15}` (no underscore), and a hyphen would break Weave's unquoted
/// `ON CLUSTER` DDL; the connection Secret tells the application the name
/// (`CLICKHOUSE_REPLICATED_CLUSTER`, for Weave's `WF_CLICKHOUSE_REPLICATED_CLUSTER`).
pub fn defaults(edition: Edition) -> ClickHouseDefaults {
    match edition {
        Edition::Y2025 => ClickHouseDefaults { version: "25.8", cluster: "cluster", database: None },
        Edition::Y2026 => ClickHouseDefaults { version: "26.3.19.3", cluster: "weave", database: Some(WEAVE_DATABASE) },
    }
}

/// The database Weave's documentation names.
pub const WEAVE_DATABASE: &str = "wandb_weave";
/// The database Weave's migrator keeps its bookkeeping in, beside its own.
pub const WEAVE_MANAGEMENT_DATABASE: &str = "db_management";

/// Keeper defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeeperProfile {
    /// Keeper nodes.
    pub replicas: i32,
    /// Storage per node.
    pub storage: &'static str,
    /// Keeper resources.
    pub resources: ResourceProfile,
}

/// ClickHouse defaults of one size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClickHouseProfile {
    /// Storage per replica.
    pub storage: &'static str,
    /// Replicas of the single shard.
    pub replicas: i32,
    /// Server resources.
    pub resources: ResourceProfile,
    /// Keeper used when replicas > 1.
    pub keeper: KeeperProfile,
}

const KEEPER: KeeperProfile = KeeperProfile {
    replicas: 3,
    storage: "20Gi",
    resources: ResourceProfile::new(&[("cpu", "1"), ("memory", "2Gi")], &[("cpu", "1"), ("memory", "2Gi")]),
};
// Dev uses Keeper only if a user asks for more than one replica.
const DEV: ClickHouseProfile =
    ClickHouseProfile { storage: "10Gi", replicas: 1, resources: ResourceProfile::NONE, keeper: KEEPER };
const SMALL: ClickHouseProfile =
    ClickHouseProfile { storage: "10Gi", replicas: 3, resources: ResourceProfile::SMALL, keeper: KEEPER };
const LARGE: ClickHouseProfile = ClickHouseProfile {
    storage: "200Gi",
    replicas: 3,
    resources: ResourceProfile::LARGE_32,
    keeper: KeeperProfile {
        resources: ResourceProfile::new(&[("cpu", "2"), ("memory", "4Gi")], &[("cpu", "2"), ("memory", "4Gi")]),
        ..KEEPER
    },
};

/// ClickHouse's defaults for `size`.
pub fn profile(size: Size) -> &'static ClickHouseProfile {
    match size {
        Size::Dev => &DEV,
        Size::Small => &SMALL,
        Size::Large => &LARGE,
    }
}

/// Keeper.
#[derive(Debug, Clone, PartialEq)]
pub struct KeeperConfig {
    /// Keeper nodes.
    pub replicas: i32,
    /// Storage per node.
    pub storage: Quantity,
    /// Keeper resources.
    pub resources: Resources,
}

/// Managed ClickHouse.
#[derive(Debug, Clone, PartialEq)]
pub struct ClickHouseConfig {
    /// Placement.
    pub placement: Placement,
    /// The edition of defaults it is resolved with.
    pub edition: Edition,
    /// Where its default images are pulled from.
    pub images: ImageSource,
    /// Storage per replica.
    pub storage: Quantity,
    /// Server resources.
    pub resources: Resources,
    /// The user's server image, when set (else the vendor's image for the version).
    pub image: Option<String>,
    /// ClickHouse (and Keeper) version.
    pub version: String,
    /// The cluster name.
    pub cluster: String,
    /// The application's database (it may use it and Weave's `db_management`, nothing
    /// else); `None`: not limited (2025 edition).
    pub database: Option<String>,
    /// Replicas of the single shard.
    pub replicas: i32,
    /// Whether `spec.clickhouse.replicas` asks for them (rather than the size's default):
    /// only then does a single replica become several (its tables are not replicated).
    pub replicas_asked: bool,
    /// Keeper, present when replicas > 1.
    pub keeper: Option<KeeperConfig>,
}

impl Placed for ClickHouseConfig {
    fn placement(&self) -> &Placement {
        &self.placement
    }

    fn edition(&self) -> Edition {
        self.edition
    }
}

fn merge(resolution: &Resolution, spec: &ClickHouseSpec, placement: Placement) -> Result<ClickHouseConfig, ModelError> {
    let (size, edition) = (resolution.size, resolution.edition);
    let p = profile(size);
    let replicas = fields::replicas(spec.replicas, p.replicas, 1, 32, "spec.clickhouse.replicas")?;
    let defaults = defaults(edition);
    let version = spec.version.clone().unwrap_or_else(|| defaults.version.to_owned());
    if version.is_empty() || !version.chars().all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch)) {
        return Err(ModelError::invalid("spec.clickhouse.version", format!("{version:?} is not an image tag")));
    }
    let keeper = (replicas > 1)
        .then(|| -> Result<KeeperConfig, ModelError> {
            Ok(KeeperConfig {
                replicas: p.keeper.replicas,
                storage: Quantity::parse(p.keeper.storage)
                    .map_err(|e| ModelError::invalid("spec.clickhouse", format!("keeper profile: {e}")))?,
                resources: fields::resources(None, &p.keeper.resources, "spec.clickhouse")?,
            })
        })
        .transpose()?;
    Ok(ClickHouseConfig {
        edition,
        images: image_source(&resolution.spec)?,
        storage: fields::storage(&spec.common, p.storage, CLICKHOUSE)?,
        resources: fields::resources(
            fields::user_resources(&spec.common),
            &p.resources,
            "spec.clickhouse.config.resources",
        )?,
        image: fields::image_override(&spec.common, CLICKHOUSE)?,
        version,
        cluster: defaults.cluster.to_owned(),
        database: defaults.database.map(str::to_owned),
        replicas,
        replicas_asked: spec.replicas.is_some(),
        keeper,
        placement,
    })
}

/// An external ClickHouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickHouseService {
    /// Native protocol endpoint.
    pub tcp: Endpoint,
    /// HTTP port (same host).
    pub http_port: u16,
    /// Database.
    pub database: String,
    /// User.
    pub user: String,
    /// Password.
    pub password: SecretKeyReference,
    /// TLS.
    pub tls: Tls,
}

fn external(spec: &ExternalClickHouse, placement: Placement) -> Result<ExternalConfig<ClickHouseService>, ModelError> {
    let f = "spec.clickhouse.external";
    let service = ClickHouseService {
        tcp: Endpoint {
            host: ext::host(&spec.host, &format!("{f}.host"))?,
            port: ext::port(spec.tcp_port, &format!("{f}.tcpPort"))?,
        },
        http_port: ext::port(spec.http_port, &format!("{f}.httpPort"))?,
        database: ext::non_empty(&spec.database, &format!("{f}.database"))?,
        user: ext::non_empty(&spec.user, &format!("{f}.user"))?,
        password: ext::reference(&spec.password_secret, &format!("{f}.passwordSecret"))?,
        tls: ext::tls(spec.tls.as_ref(), &format!("{f}.tls"), false)?,
    };
    Ok(ExternalConfig { placement, service })
}

impl ExternalService for ClickHouseService {
    fn version_request(&self) -> Option<VersionRequest> {
        (!self.tls.enabled).then(|| VersionRequest {
            query: VersionQuery::ClickHouseHttp {
                endpoint: Endpoint { host: self.tcp.host.clone(), port: self.http_port },
                user: self.user.clone(),
            },
            password: Some(self.password.clone()),
        })
    }

    fn probe_targets(&self) -> Vec<ProbeTarget> {
        let http = Endpoint { host: self.tcp.host.clone(), port: self.http_port };
        vec![
            ProbeTarget { endpoint: self.tcp.clone(), greeting: Greeting::Tcp },
            ProbeTarget::behind_tls(&http, &self.tls, Greeting::HttpOk { path: "/ping".to_owned() }),
        ]
    }

    fn secret_references(&self) -> Vec<&SecretKeyReference> {
        [&self.password].into_iter().chain(self.tls.ca.as_ref()).collect()
    }

    fn credentials_secret(&self) -> Option<SecretKeyReference> {
        Some(self.password.clone())
    }

    fn connection_keys(&self) -> ConnectionKeys {
        let mut keys = ConnectionKeys::default();
        keys.plain("CLICKHOUSE_HOST", self.tcp.host.clone());
        keys.plain("CLICKHOUSE_PORT", self.tcp.port.to_string());
        keys.plain("CLICKHOUSE_HTTP_PORT", self.http_port.to_string());
        keys.plain("CLICKHOUSE_DATABASE", self.database.clone());
        keys.plain("CLICKHOUSE_USER", self.user.clone());
        keys.copy(CLICKHOUSE.password_key(), &self.password);
        keys.tls("CLICKHOUSE", &self.tls);
        keys
    }
}

/// `clickhouse://user:password@host:port/database[?secure=true]`.
fn url(keys: &BTreeMap<String, String>) -> String {
    format!(
        "clickhouse://{}{}:{}/{}{}",
        userinfo(keys.get("CLICKHOUSE_USER"), keys.get("CLICKHOUSE_PASSWORD")),
        get(keys, "CLICKHOUSE_HOST"),
        get(keys, "CLICKHOUSE_PORT"),
        get(keys, "CLICKHOUSE_DATABASE"),
        query(&[("secure", flag(keys, "CLICKHOUSE_TLS"))])
    )
}

impl ComponentDescriptor for ClickHouse {
    const COMPONENT: Component = CLICKHOUSE;
    type Config = ClickHouseConfig;
    type External = ClickHouseService;
    type Connection = ClickHouseConnection;

    fn common(spec: &WeightsAndBiasesSpec) -> Option<&ComponentCommon> {
        spec.clickhouse.as_ref().map(|s| &s.common)
    }

    fn status(status: &WeightsAndBiasesStatus) -> Option<&ComponentStatus<ClickHouseConnection>> {
        status.clickhouse_status.as_ref()
    }

    fn status_mut(status: &mut WeightsAndBiasesStatus) -> &mut Option<ComponentStatus<ClickHouseConnection>> {
        &mut status.clickhouse_status
    }

    fn resolve(resolution: &Resolution) -> Result<Plan<ClickHouse>, ModelError> {
        let spec = resolution.spec.clickhouse.clone().unwrap_or_default();
        let block = spec.external.as_ref().map(|e| -> ExternalBlock<'_, ClickHouseService> {
            let managed = vec![("replicas", spec.replicas.is_some()), ("version", spec.version.is_some())];
            (managed, Box::new(move |p| external(e, p)))
        });
        resolution.plan_with(&spec.common, block, |p| merge(resolution, &spec, p))
    }

    fn external_connection(service: &ClickHouseService) -> Option<ClickHouseConnection> {
        Some(ClickHouseConnection {
            host: service.tcp.host.clone(),
            port: service.tcp.port.to_string(),
            user: service.user.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_says_secure_with_tls() {
        let keys: BTreeMap<String, String> = [
            ("CLICKHOUSE_HOST", "h"),
            ("CLICKHOUSE_PORT", "9440"),
            ("CLICKHOUSE_USER", "u"),
            ("CLICKHOUSE_PASSWORD", "p"),
            ("CLICKHOUSE_DATABASE", "wandb"),
            ("CLICKHOUSE_TLS", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(CLICKHOUSE.url(&keys), "clickhouse://u:p@h:9440/wandb?secure=true");
    }
}
