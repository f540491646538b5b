//! MySQL: what W&B needs from its relational database, whoever runs it.

use std::collections::BTreeMap;

use super::mysql_backup::{self, BackupConfig, RestoreConfig};
use crate::api::{
    ComponentCommon, ComponentStatus, ExternalMySql, MySqlConnection, MySqlSpec, SecretKeyReference, Size,
    WeightsAndBiasesSpec, WeightsAndBiasesStatus,
};
use crate::model::component::{Component, ComponentInfo};
use crate::model::descriptor::{ComponentDescriptor, ExternalBlock, Plan};
use crate::model::error::ModelError;
use crate::model::external_service::ExternalConfig;
use crate::model::external_service::{
    self as ext, ConnectionKeys, Endpoint, ExternalService, Greeting, ProbeTarget, Tls,
};
use crate::model::fields::Resources;
use crate::model::fields::{self, ResourceProfile};
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
    /// The size profile the defaults came from.
    pub size: Size,
    /// Storage per node.
    pub storage: Quantity,
    /// Database nodes.
    pub replicas: i32,
    /// Node resources.
    pub resources: Resources,
    /// The user's image, when set (else the vendor's image for the size).
    pub image: Option<String>,
    /// TLS enabled.
    pub tls: bool,
    /// Proxy replicas, when clients go through a proxy.
    pub proxy: Option<i32>,
    /// Whether a log collector runs beside each node.
    pub log_collector: bool,
    /// Scheduled backups, when on.
    pub backup: Option<BackupConfig>,
    /// Why backups are off although the size turns them on (no default storage).
    pub backup_off_reason: Option<String>,
    /// A restore asked for.
    pub restore: Option<RestoreConfig>,
}

impl Placed for MySqlConfig {
    fn placement(&self) -> &Placement {
        &self.placement
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
    Ok(MySqlConfig {
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
        tls: p.tls,
        proxy: p.proxy,
        log_collector: p.log_collector,
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
                ("backup", spec.backup.is_some()),
                ("restore", spec.restore.is_some()),
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
