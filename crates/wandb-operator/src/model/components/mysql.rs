//! MySQL: what W&B needs from its relational database, whoever runs it.

use std::collections::BTreeMap;

use super::mysql_backup::{self, BackupConfig, RestoreConfig};
use crate::api::{
    ComponentCommon, ComponentStatus, ExternalMySql, MySqlConnection, MySqlProxy, MySqlSpec, SecretKeyReference, Size,
    WeightsAndBiasesSpec, WeightsAndBiasesStatus,
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
use crate::model::minimum_version::MinimumVersion;
use crate::model::placement::{Placed, Placement};
use crate::model::quantity::Quantity;
use crate::model::resolution::Resolution;
use crate::model::url::{flag, get, query, userinfo};

/// MySQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MySql;

/// MySQL's identity.
pub const MYSQL: Component = Component::new(&ComponentInfo {
    key: "mysql",
    display_name: "MySQL",
    password_key: "MYSQL_PASSWORD",
    url,
    minimum_version: Some(MinimumVersion { version: "8.4", product: "MySQL", not: &["MariaDB"] }),
});

/// MySQL defaults of one size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MySqlProfile {
    /// Storage per node.
    pub storage: &'static str,
    /// Database nodes.
    pub replicas: i32,
    /// Node resources.
    pub resources: ResourceProfile,
    /// TLS on.
    pub tls: bool,
    /// Proxy replicas, when clients go through a proxy.
    pub proxy: Option<i32>,
    /// Whether a log collector runs beside each node.
    pub log_collector: bool,
}

const DEV: MySqlProfile = MySqlProfile {
    storage: "1Gi",
    replicas: 1,
    resources: ResourceProfile::NONE,
    tls: false,
    proxy: None,
    log_collector: true,
};
const SMALL: MySqlProfile = MySqlProfile {
    storage: "10Gi",
    replicas: 3,
    resources: ResourceProfile::SMALL,
    tls: true,
    proxy: Some(3),
    log_collector: false,
};
const LARGE: MySqlProfile = MySqlProfile { storage: "500Gi", resources: ResourceProfile::LARGE_30, ..SMALL };

/// MySQL's defaults for `size`.
pub fn profile(size: Size) -> &'static MySqlProfile {
    match size {
        Size::Dev => &DEV,
        Size::Small => &SMALL,
        Size::Large => &LARGE,
    }
}

/// Managed MySQL.
#[derive(Debug, Clone, PartialEq)]
pub struct MySqlConfig {
    /// Placement.
    pub placement: Placement,
    /// The edition of defaults it is resolved with.
    pub edition: Edition,
    /// Where its default images are pulled from.
    pub images: ImageSource,
    /// The size profile the defaults came from.
    pub size: Size,
    /// Storage per node.
    pub storage: Quantity,
    /// Database nodes.
    pub replicas: i32,
    /// Node resources.
    pub resources: Resources,
    /// The user's image, when set (else the vendor's image for the version or the size).
    pub image: Option<String>,
    /// The version asked for (`spec.mysql.version`); `None`: the edition's.
    pub version: Option<String>,
    /// TLS enabled.
    pub tls: bool,
    /// Whether clients are told to use TLS and given the CA (from the 2026 edition, when TLS is
    /// on; the 2025 edition published neither).
    pub client_tls: bool,
    /// The proxy clients go through, when they go through one.
    pub proxy: Option<Proxy>,
    /// Whether a log collector runs beside each node.
    pub log_collector: bool,
    /// Server settings (`[mysqld]`): the edition's defaults with the user's on top.
    pub settings: BTreeMap<String, String>,
    /// W&B's required settings the user replaced, as `name=value (W&B requires required)`.
    pub overridden: Vec<String>,
    /// The database and user the application gets; `None` in the 2025 edition, whose
    /// application connects as the vendor's administrative user.
    pub app_account: Option<AppAccount>,
    /// Scheduled backups, when on.
    pub backup: Option<BackupConfig>,
    /// Why backups are off although the size turns them on (no default storage).
    pub backup_off_reason: Option<String>,
    /// A restore asked for.
    pub restore: Option<RestoreConfig>,
}

/// Which proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// HAProxy: every connection to one writer node.
    HaProxy,
    /// ProxySQL.
    ProxySql,
}

/// The proxy in front of the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proxy {
    /// Which proxy.
    pub kind: ProxyKind,
    /// Its pods.
    pub replicas: i32,
}

/// The database and user the application connects with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAccount {
    /// User name.
    pub user: String,
    /// Database (utf8mb4, utf8mb4_general_ci), on which the user has every right.
    pub database: String,
}

/// W&B's required MySQL server settings (W&B Self-Managed requirements, "MySQL configuration
/// parameters").
pub const REQUIRED_SETTINGS: [(&str, &str); 7] = [
    ("binlog_format", "ROW"),
    ("binlog_row_image", "MINIMAL"),
    ("innodb_flush_log_at_trx_commit", "1"),
    ("innodb_online_alter_log_max_size", "268435456"),
    ("max_prepared_stmt_count", "1048576"),
    ("sort_buffer_size", "67108864"),
    ("sync_binlog", "1"),
];

/// Server defaults so that the application's database is created with W&B's character set and
/// collation (the vendor creates it without either).
pub const CHARSET_SETTINGS: [(&str, &str); 2] =
    [("character_set_server", "utf8mb4"), ("collation_server", "utf8mb4_general_ci")];

/// The database and user name W&B's documentation uses.
pub const APP_DATABASE: &str = "wandb_local";

/// What an edition sets by default beyond the size profile.
struct EditionDefaults {
    proxy: ProxyKind,
    /// W&B's settings, the character set and the application account.
    wandb_ready: bool,
}

fn edition_defaults(edition: Edition) -> EditionDefaults {
    match edition {
        Edition::Y2025 => EditionDefaults { proxy: ProxyKind::ProxySql, wandb_ready: false },
        Edition::Y2026 => EditionDefaults { proxy: ProxyKind::HaProxy, wandb_ready: true },
    }
}

/// The edition's settings with the user's on top, and the required ones the user replaced.
fn settings(
    wandb_ready: bool,
    user: Option<&BTreeMap<String, String>>,
) -> Result<(BTreeMap<String, String>, Vec<String>), ModelError> {
    let mut settings: BTreeMap<String, String> = BTreeMap::new();
    if wandb_ready {
        for (name, value) in REQUIRED_SETTINGS.iter().chain(CHARSET_SETTINGS.iter()) {
            settings.insert((*name).to_owned(), (*value).to_owned());
        }
    }
    let mut overridden = Vec::new();
    for (name, value) in user.into_iter().flatten() {
        let field = format!("spec.mysql.settings.{name}");
        let valid_name = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid_name {
            return Err(ModelError::invalid(field, "a setting name is a lowercase MySQL variable name"));
        }
        if value.trim().is_empty() || value.contains(['\n', '\r', '[', ']']) {
            return Err(ModelError::invalid(field, "a setting value is one non-empty line without [ or ]"));
        }
        let canonical = name.replace('-', "_");
        if let Some((_, required)) = REQUIRED_SETTINGS.iter().find(|(n, _)| *n == canonical)
            && !value.eq_ignore_ascii_case(required)
        {
            overridden.push(format!("{canonical}={value} (W&B requires {required})"));
        }
        settings.insert(canonical, value.clone());
    }
    Ok((settings, overridden))
}

impl Placed for MySqlConfig {
    fn placement(&self) -> &Placement {
        &self.placement
    }

    fn edition(&self) -> Edition {
        self.edition
    }
}

fn merge(resolution: &Resolution, spec: &MySqlSpec, placement: Placement) -> Result<MySqlConfig, ModelError> {
    let size = resolution.size;
    let p = profile(size);
    let replicas = fields::replicas(spec.replicas, p.replicas, 1, 7, "spec.mysql.replicas")?;
    if replicas % 2 == 0 {
        return Err(ModelError::invalid(
            "spec.mysql.replicas",
            format!("{replicas} is even; Galera needs an odd number"),
        ));
    }
    if replicas == 1 && size != Size::Dev {
        return Err(ModelError::invalid("spec.mysql.replicas", "1 is only allowed with size dev"));
    }
    // Backups default to the managed object storage.
    let managed_storage = resolution
        .plan::<super::minio::Minio>()
        .ok()
        .and_then(|plan| plan.enabled().map(|c| (c.placement.clone(), c.tls)));
    let backups = mysql_backup::resolve(size, spec.backup.as_ref(), managed_storage, &placement)?;
    let defaults = edition_defaults(resolution.edition);
    let proxy = match (spec.proxy, p.proxy) {
        (None, None) => None,
        (None, Some(replicas)) => Some(Proxy { kind: defaults.proxy, replicas }),
        (Some(kind), replicas) => Some(Proxy {
            kind: match kind {
                MySqlProxy::Haproxy => ProxyKind::HaProxy,
                MySqlProxy::Proxysql => ProxyKind::ProxySql,
            },
            replicas: replicas.unwrap_or(1),
        }),
    };
    let (settings, overridden) = settings(defaults.wandb_ready, spec.settings.as_ref())?;
    let app_account =
        defaults.wandb_ready.then(|| AppAccount { user: APP_DATABASE.to_owned(), database: APP_DATABASE.to_owned() });
    Ok(MySqlConfig {
        edition: resolution.edition,
        images: image_source(&resolution.spec)?,
        backup: backups.backup,
        backup_off_reason: backups.off_reason,
        restore: mysql_backup::restore(spec.restore.as_ref())?,
        size,
        storage: fields::storage(&spec.common, p.storage, MYSQL)?,
        replicas,
        resources: fields::resources(
            fields::user_resources(&spec.common),
            &p.resources,
            "spec.mysql.config.resources",
        )?,
        image: fields::image_override(&spec.common, MYSQL)?,
        version: spec.version.clone(),
        tls: p.tls,
        client_tls: p.tls && resolution.edition >= Edition::Y2026,
        proxy,
        log_collector: p.log_collector,
        settings,
        overridden,
        app_account,
        placement,
    })
}

/// An external MySQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MySqlService {
    /// Endpoint.
    pub endpoint: Endpoint,
    /// Database.
    pub database: String,
    /// User.
    pub user: String,
    /// Password.
    pub password: SecretKeyReference,
    /// TLS.
    pub tls: Tls,
}

fn external(spec: &ExternalMySql, placement: Placement) -> Result<ExternalConfig<MySqlService>, ModelError> {
    let f = "spec.mysql.external";
    let service = MySqlService {
        endpoint: Endpoint {
            host: ext::host(&spec.host, &format!("{f}.host"))?,
            port: ext::port(spec.port, &format!("{f}.port"))?,
        },
        database: ext::non_empty(&spec.database, &format!("{f}.database"))?,
        user: ext::non_empty(&spec.user, &format!("{f}.user"))?,
        password: ext::reference(&spec.password_secret, &format!("{f}.passwordSecret"))?,
        tls: ext::tls(spec.tls.as_ref(), &format!("{f}.tls"), false)?,
    };
    Ok(ExternalConfig { placement, service })
}

impl ExternalService for MySqlService {
    fn probe_targets(&self) -> Vec<ProbeTarget> {
        // The MySQL server speaks first, in plain text, even when clients then switch to TLS.
        vec![ProbeTarget { endpoint: self.endpoint.clone(), greeting: Greeting::MySql }]
    }

    fn secret_references(&self) -> Vec<&SecretKeyReference> {
        [&self.password].into_iter().chain(self.tls.ca.as_ref()).collect()
    }

    fn credentials_secret(&self) -> Option<SecretKeyReference> {
        Some(self.password.clone())
    }

    fn connection_keys(&self) -> ConnectionKeys {
        let mut keys = ConnectionKeys::default();
        keys.plain("MYSQL_HOST", self.endpoint.host.clone());
        keys.plain("MYSQL_PORT", self.endpoint.port.to_string());
        keys.plain("MYSQL_DATABASE", self.database.clone());
        keys.plain("MYSQL_USER", self.user.clone());
        keys.copy(MYSQL.password_key(), &self.password);
        keys.tls("MYSQL", &self.tls);
        keys
    }
}

/// `mysql://user:password@host:port/database[?tls=true]`.
fn url(keys: &BTreeMap<String, String>) -> String {
    format!(
        "mysql://{}{}:{}/{}{}",
        userinfo(keys.get("MYSQL_USER"), keys.get("MYSQL_PASSWORD")),
        get(keys, "MYSQL_HOST"),
        get(keys, "MYSQL_PORT"),
        get(keys, "MYSQL_DATABASE"),
        query(&[("tls", flag(keys, "MYSQL_TLS"))])
    )
}

impl ComponentDescriptor for MySql {
    const COMPONENT: Component = MYSQL;
    type Config = MySqlConfig;
    type External = MySqlService;
    type Connection = MySqlConnection;

    fn common(spec: &WeightsAndBiasesSpec) -> Option<&ComponentCommon> {
        spec.mysql.as_ref().map(|s| &s.common)
    }

    fn status(status: &WeightsAndBiasesStatus) -> Option<&ComponentStatus<MySqlConnection>> {
        status.mysql_status.as_ref()
    }

    fn status_mut(status: &mut WeightsAndBiasesStatus) -> &mut Option<ComponentStatus<MySqlConnection>> {
        &mut status.mysql_status
    }

    fn resolve(resolution: &Resolution) -> Result<Plan<MySql>, ModelError> {
        let spec = resolution.spec.mysql.clone().unwrap_or_default();
        let block = spec.external.as_ref().map(|e| -> ExternalBlock<'_, MySqlService> {
            let managed = vec![
                ("replicas", spec.replicas.is_some()),
                ("version", spec.version.is_some()),
                ("backup", spec.backup.is_some()),
                ("restore", spec.restore.is_some()),
                ("proxy", spec.proxy.is_some()),
                ("settings", spec.settings.is_some()),
            ];
            (managed, Box::new(move |p| external(e, p)))
        });
        resolution.plan_with(&spec.common, block, |p| merge(resolution, &spec, p))
    }

    fn external_connection(service: &MySqlService) -> Option<MySqlConnection> {
        Some(MySqlConnection { host: service.endpoint.host.clone(), port: service.endpoint.port.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_escapes_credentials() {
        let keys: BTreeMap<String, String> = [
            ("MYSQL_HOST", "db.example.com"),
            ("MYSQL_PORT", "3306"),
            ("MYSQL_USER", "wandb"),
            ("MYSQL_PASSWORD", "p@ss:w/rd"),
            ("MYSQL_DATABASE", "wandb_local"),
            ("MYSQL_TLS", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(MYSQL.url(&keys), "mysql://wandb:p%40ss%3Aw%2Frd@db.example.com:3306/wandb_local?tls=true");
    }
}
