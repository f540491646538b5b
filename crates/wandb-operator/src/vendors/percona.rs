//! MySQL through the Percona Operator for MySQL: `pxc.percona.com/v1` `PerconaXtraDBCluster`.

use k8s_openapi::api::core::v1::{
    EmptyDirVolumeSource, LocalObjectReference, PersistentVolumeClaimSpec, ResourceRequirements,
};
use kube::{CustomResource, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::meta;
use super::object_key::ObjectKey;
use super::objects::{Desired, DesiredObject, Observed, VendorError, service_host};
use super::percona_release::{pxc_image, release};
use super::readiness::{self, Verdict};
use super::release::{Release, ReleaseSource};
use super::secret::{GeneratedSecret, GeneratedValue};
use super::vendor::Vendor;
use crate::api::Size;
use crate::api::{ComponentStatus, MySqlConnection, SecretKeyReference};
use crate::model::mysql::ProxyKind;
use crate::model::{Edition, MySqlConfig};

/// How Percona changes images: `SmartUpdate` (replicas first, the writer last, switched over
/// through the proxy) where a proxy runs; without one (`dev`), `RollingUpdate`: the real
/// Percona refuses `SmartUpdate` there ("ProxySQL or HAProxy should be enabled if SmartUpdate
/// set", found by `real_vendors` `rv11`), and a single node has no writer to switch.
fn update_strategy(config: &MySqlConfig) -> &'static str {
    if config.proxy.is_some() { "SmartUpdate" } else { "RollingUpdate" }
}

/// The Secret of ours holding the application user's password (Percona reads it).
pub fn app_user_secret_name(config: &MySqlConfig) -> String {
    format!("{}-app-user", config.placement.object_name())
}

/// The first Percona release that supports MySQL 8.4 fully (a technology preview before).
pub const MYSQL_84_MINIMUM: Release = Release::new(1, 19, 0);

/// The key of the password in [`app_user_secret_name`].
pub const APP_USER_PASSWORD_KEY: &str = "password";

/// Percona's `unsafeFlags` for `config`: `dev` sets all three (one node, no proxy, no TLS);
/// otherwise only a node count outside Percona's safe 3..=5 needs `pxcSize`.
pub fn unsafe_flags(config: &MySqlConfig) -> UnsafeFlags {
    let dev = config.size == Size::Dev;
    UnsafeFlags { pxc_size: dev || !(3..=5).contains(&config.replicas), proxy_size: dev, tls: dev }
}

/// `PerconaXtraDBCluster` spec: the fields we set.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "pxc.percona.com",
    version = "v1",
    kind = "PerconaXtraDBCluster",
    plural = "perconaxtradbclusters",
    shortname = "pxc",
    namespaced,
    status = "PerconaXtraDBClusterStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct PerconaXtraDBClusterSpec {
    /// Operator version the CR is written for.
    pub cr_version: String,
    /// Safety checks to relax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafe_flags: Option<UnsafeFlags>,
    /// TLS between clients, proxies and nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<PxcTls>,
    /// The database nodes.
    pub pxc: PxcNodes,
    /// ProxySQL in front of the nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxysql: Option<PxcProxy>,
    /// HAProxy in front of the nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub haproxy: Option<PxcProxy>,
    /// Log collector sidecar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logcollector: Option<PxcLogCollector>,
    /// Scheduled backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<super::percona_backup::PxcBackup>,
    /// Users and their databases, created by Percona once the cluster is ready (≥ 1.16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<PxcUser>>,
    /// How images change: `SmartUpdate` restarts replicas first and the writer last (only with
    /// a proxy; `RollingUpdate` without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy: Option<String>,
    /// Percona's version service: `disabled` so that nothing changes the images we pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_options: Option<PxcUpgradeOptions>,
}

/// `spec.users[]`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PxcUser {
    /// User name.
    pub name: String,
    /// Databases created (`CREATE DATABASE IF NOT EXISTS`) and granted on.
    pub dbs: Vec<String>,
    /// Hosts the user connects from.
    pub hosts: Vec<String>,
    /// Grants on each database.
    pub grants: Vec<String>,
    /// Whether the user may grant its rights on.
    pub with_grant_option: bool,
    /// Where the password is.
    pub password_secret_ref: PxcSecretKeyRef,
}

/// A key of a Secret in the cluster's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PxcSecretKeyRef {
    /// Secret.
    pub name: String,
    /// Key.
    pub key: String,
}

/// `spec.upgradeOptions`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PxcUpgradeOptions {
    /// `disabled`, `recommended`, `latest` or a version.
    pub apply: String,
}

/// `spec.unsafeFlags`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnsafeFlags {
    /// Allow a node count outside 3..=5.
    pub pxc_size: bool,
    /// Allow a proxy size below 2.
    pub proxy_size: bool,
    /// Allow TLS off.
    pub tls: bool,
}

/// `spec.tls`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PxcTls {
    /// TLS on.
    pub enabled: bool,
}

/// `spec.pxc`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PxcNodes {
    /// Nodes.
    pub size: i32,
    /// Image.
    pub image: String,
    /// Image pull Secrets (the nodes and their sidecars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<LocalObjectReference>>,
    /// Server configuration (`my.cnf` text); a change restarts the nodes one by one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<String>,
    /// Resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Data volume.
    pub volume_spec: PxcVolumeSpec,
}

/// `volumeSpec`: exactly one of the sources.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PxcVolumeSpec {
    /// A PVC per node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<PersistentVolumeClaimSpec>,
    /// Scratch space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDirVolumeSource>,
}

/// `spec.proxysql` / `spec.haproxy`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PxcProxy {
    /// On or off.
    pub enabled: bool,
    /// Pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i32>,
    /// Image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Volume (ProxySQL needs one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_spec: Option<PxcVolumeSpec>,
    /// Image pull Secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<LocalObjectReference>>,
}

/// `spec.logcollector`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PxcLogCollector {
    /// On or off.
    pub enabled: bool,
    /// Image.
    pub image: String,
}

/// The status fields we read.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerconaXtraDBClusterStatus {
    /// `initializing`, `ready`, `error`, `paused`, `stopping`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Generation of the last non-error status write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Error messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Vec<String>>,
    /// Node counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pxc: Option<PxcAppStatus>,
}

/// `status.pxc`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PxcAppStatus {
    /// Desired nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i32>,
    /// Ready nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<i32>,
    /// The MySQL version the nodes run (e.g. `8.0.42-33.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The Percona vendor for MySQL.
pub struct Percona;

fn cluster_key(config: &MySqlConfig) -> ObjectKey {
    ObjectKey::new(
        "pxc.percona.com/v1",
        "PerconaXtraDBCluster",
        &config.placement.namespace,
        &config.placement.object_name(),
    )
}

impl Percona {
    /// The `PerconaXtraDBCluster` for `config`. Never carries `percona.com/delete-pxc-pvc`:
    /// data is removed only by an explicit purge.
    pub fn cluster(config: &MySqlConfig) -> PerconaXtraDBCluster {
        let name = config.placement.object_name();
        let release = release(config.edition);
        let proxy = |kind: ProxyKind| -> Option<PxcProxy> {
            let enabled = config.proxy.filter(|p| p.kind == kind);
            Some(match (enabled, kind) {
                (Some(p), ProxyKind::ProxySql) => PxcProxy {
                    enabled: true,
                    size: Some(p.replicas),
                    image: Some(config.images.mirrored(release.proxysql)),
                    volume_spec: Some(PxcVolumeSpec {
                        empty_dir: Some(EmptyDirVolumeSource::default()),
                        persistent_volume_claim: None,
                    }),
                    image_pull_secrets: meta::pull_secrets(&config.images),
                },
                (Some(p), ProxyKind::HaProxy) => PxcProxy {
                    enabled: true,
                    size: Some(p.replicas),
                    image: Some(config.images.mirrored(release.haproxy)),
                    volume_spec: None,
                    image_pull_secrets: meta::pull_secrets(&config.images),
                },
                (None, _) => PxcProxy { enabled: false, ..Default::default() },
            })
        };
        // From 2026 both proxies are written, one enabled; the 2025 edition wrote ProxySQL only
        // when it ran and HAProxy (disabled) only when ProxySQL did not.
        let legacy = config.edition == Edition::Y2025;
        let proxysql = proxy(ProxyKind::ProxySql).filter(|p| p.enabled || !legacy);
        let haproxy = proxy(ProxyKind::HaProxy).filter(|p| !legacy || p.enabled || config.proxy.is_none());
        let wandb_ready = config.app_account.is_some();
        let spec = PerconaXtraDBClusterSpec {
            cr_version: release.cr_version.to_owned(),
            unsafe_flags: Some(unsafe_flags(config)),
            tls: Some(PxcTls { enabled: config.tls }),
            pxc: PxcNodes {
                size: config.replicas,
                image: pxc_image(config),
                image_pull_secrets: meta::pull_secrets(&config.images),
                configuration: configuration(config),
                resources: config.resources.to_requirements(),
                volume_spec: PxcVolumeSpec {
                    persistent_volume_claim: Some(meta::rwo_claim_spec(config.storage.as_str())),
                    empty_dir: None,
                },
            },
            proxysql,
            haproxy,
            logcollector: config
                .log_collector
                .then(|| PxcLogCollector { enabled: true, image: config.images.mirrored(release.log_collector) }),
            backup: super::percona_backup::backup_section(config),
            users: config.app_account.as_ref().map(|account| {
                vec![PxcUser {
                    name: account.user.clone(),
                    dbs: vec![account.database.clone()],
                    hosts: vec!["%".to_owned()],
                    grants: vec!["ALL".to_owned()],
                    with_grant_option: true,
                    password_secret_ref: PxcSecretKeyRef {
                        name: app_user_secret_name(config),
                        key: APP_USER_PASSWORD_KEY.to_owned(),
                    },
                }]
            }),
            update_strategy: wandb_ready.then(|| update_strategy(config).to_owned()),
            upgrade_options: wandb_ready.then(|| PxcUpgradeOptions { apply: "disabled".to_owned() }),
        };
        let mut cluster = PerconaXtraDBCluster::new(&name, spec);
        *cluster.meta_mut() = meta::object_meta(&config.placement, &name);
        cluster
    }

    /// The application user's password, generated once.
    pub fn app_user_secret(config: &MySqlConfig) -> GeneratedSecret {
        let name = app_user_secret_name(config);
        GeneratedSecret {
            key: ObjectKey::new("v1", "Secret", &config.placement.namespace, &name),
            metadata: meta::object_meta(&config.placement, &name),
            values: vec![GeneratedValue {
                name: "password".to_owned(),
                prefix: String::new(),
                length: 32,
                lowercase: false,
            }],
            entries: vec![(APP_USER_PASSWORD_KEY.to_owned(), "${password}".to_owned())],
        }
    }
}

/// `pxc.configuration`: the settings under `[mysqld]`, one per line, in name order; `None`
/// without settings.
fn configuration(config: &MySqlConfig) -> Option<String> {
    (!config.settings.is_empty()).then(|| {
        config.settings.iter().fold("[mysqld]\n".to_owned(), |text, (name, value)| format!("{text}{name}={value}\n"))
    })
}

/// The first Percona release with `spec.storageScaling`.
const STORAGE_SCALING_MINIMUM: Release = Release::new(1, 20, 0);

impl Vendor for Percona {
    type Config = MySqlConfig;
    type Connection = MySqlConnection;

    fn name(&self) -> &'static str {
        "Percona Operator for MySQL"
    }

    fn desired(&self, config: &MySqlConfig) -> Result<Desired, VendorError> {
        Ok(Desired {
            objects: vec![DesiredObject::from_typed(cluster_key(config), &Self::cluster(config))?],
            secrets: config.app_account.iter().map(|_| Self::app_user_secret(config)).collect(),
            storage_fields: vec![(
                cluster_key(config),
                "/spec/pxc/volumeSpec/persistentVolumeClaim/resources/requests/storage",
            )],
            // Percona's own rolling update upgrades the nodes (its `updateStrategy`).
            versions: vec![super::objects::VersionField {
                key: cluster_key(config),
                pointer: "/spec/pxc/image",
                what: "MySQL",
                step: 0,
                major: 2,
                bridge: Some(config.images.mirrored(super::percona_release::LATEST_80)),
            }],
            ..Desired::default()
        })
    }

    /// Percona reports the cluster `ready` at its generation with every node ready (its
    /// rolling update of a new image done).
    fn settled(&self, live: &serde_json::Value) -> Option<bool> {
        if live.get("kind").and_then(serde_json::Value::as_str) != Some("PerconaXtraDBCluster") {
            return None;
        }
        let cluster: PerconaXtraDBCluster = serde_json::from_value(live.clone()).ok()?;
        Some(verdict(&cluster) == Verdict::Ready)
    }

    /// XtraBackup backs up only its own line: the backup image follows the PXC image an
    /// upgrade step leaves in the body (held at 8.0, or 8.4 once applied), keeping the
    /// registry it was written with.
    fn rederive(&self, desired: &mut Desired) {
        for object in &mut desired.objects {
            if object.key.kind != "PerconaXtraDBCluster" {
                continue;
            }
            let Ok(edition) = super::meta::edition_of(&object.body) else { continue };
            let Some(pxc) = object.body.pointer("/spec/pxc/image").and_then(serde_json::Value::as_str) else {
                continue;
            };
            let on_80 = super::percona_release::line_of(pxc) == Some([8, 0]);
            let wanted = super::percona_release::backup_image_for(release(edition), pxc);
            // The 2025 edition's `crVersion` moves only with its MySQL to 8.4 (`fit_release`).
            if edition == Edition::Y2025
                && on_80
                && let Some(slot) = object.body.pointer_mut("/spec/crVersion")
            {
                *slot = serde_json::Value::from(release(edition).cr_version);
            }
            let Some((_, tag)) = wanted.rsplit_once(':') else { continue };
            if let Some(serde_json::Value::String(image)) = object.body.pointer_mut("/spec/backup/image")
                && let Some((repository, _)) = image.rsplit_once(':')
            {
                *image = format!("{repository}:{tag}");
            }
        }
    }

    fn kinds(&self) -> Vec<kube::core::ApiResource> {
        vec![
            super::objects::api_resource_of::<PerconaXtraDBCluster>(),
            super::objects::api_resource_of::<super::percona_backup::PerconaXtraDBClusterRestore>(),
        ]
    }

    fn record_kinds(&self) -> Vec<kube::core::ApiResource> {
        // Scheduled backups are made by Percona without our labels.
        vec![super::objects::api_resource_of::<super::percona_backup::PerconaXtraDBClusterBackup>()]
    }

    fn access_rules(&self) -> &'static [super::access_rule::Rule] {
        &[
            super::access_rule::Rule {
                group: "pxc.percona.com",
                resources: &["perconaxtradbclusters"],
                verbs: super::access_rule::VENDOR_VERBS,
                why: "MySQL: apply, read status, detach, purge",
                resource_names: &[],
            },
            super::access_rule::Rule {
                group: "pxc.percona.com",
                resources: &["perconaxtradbclusterbackups"],
                verbs: &["get", "list", "watch", "create", "patch"],
                why: "MySQL backups: read the schedule's backups, create on-demand ones, keep their data out of a purge (never deleted)",
                resource_names: &[],
            },
            super::access_rule::Rule {
                group: "pxc.percona.com",
                resources: &["perconaxtradbclusterrestores"],
                verbs: super::access_rule::VENDOR_VERBS,
                why: "MySQL restore: create once, read progress, detach, purge",
                resource_names: &[],
            },
        ]
    }

    fn release_source(&self) -> Option<ReleaseSource> {
        Some(ReleaseSource {
            crd: "perconaxtradbclusters.pxc.percona.com",
            key: "app.kubernetes.io/version",
            serves_our_version: "every supported Percona release (1.18 to 1.20) serves pxc.percona.com/v1",
        })
    }

    fn fit_release(
        &self,
        config: &MySqlConfig,
        desired: &mut Desired,
        installed: Option<Release>,
    ) -> Result<(), String> {
        let image = pxc_image(config);
        let runs_84 = super::percona_release::line_of(&image).is_some_and(|line| line >= [8, 4]);
        // The 2025 edition is kept exactly as it was written, unless its MySQL moves to 8.4.
        if config.edition == Edition::Y2025 && !runs_84 {
            return Ok(());
        }
        let Some(installed) = installed else { return Ok(()) };
        if installed < MYSQL_84_MINIMUM {
            let what = if runs_84 {
                format!("MySQL {}", super::meta::version_of(&image))
            } else {
                format!("the {} defaults", config.edition)
            };
            return Err(format!(
                "{what} needs the Percona operator {MYSQL_84_MINIMUM} or newer, and {installed} is installed: upgrade it one minor release at a time (1.18 → 1.19 → 1.20); nothing is written until then (docs/operations.md#supported-versions)",
            ));
        }
        if config.edition == Edition::Y2025 {
            // Its MySQL moves to 8.4: the `crVersion` of the installed release (≥ 1.19) comes
            // with it, as Percona's own upgrade patches both (an 8.4 cluster written for 1.18
            // would get 1.18's behaviour: `mysql_native_password` behind ProxySQL, which 8.4
            // disables). Held back with the image while the upgrade waits (`rederive`).
            if let Some(cluster) = desired.objects.iter_mut().find(|o| o.key == cluster_key(config))
                && let Some(spec) = cluster.body.get_mut("spec").and_then(serde_json::Value::as_object_mut)
            {
                spec.insert("crVersion".to_owned(), installed.to_string().into());
            }
            return Ok(());
        }
        // Write the `crVersion` the installed operator knows, never a newer one.
        let written = Release::parse(release(config.edition).cr_version);
        if written.is_some_and(|written| installed < written)
            && let Some(cluster) = desired.objects.iter_mut().find(|o| o.key == cluster_key(config))
            && let Some(spec) = cluster.body.get_mut("spec").and_then(serde_json::Value::as_object_mut)
        {
            spec.insert("crVersion".to_owned(), installed.to_string().into());
        }
        Ok(())
    }

    fn default_images(&self, edition: Edition) -> Vec<String> {
        // With the latest 8.0, which an upgrade from 8.0 to 8.4 passes through (mirrors need it).
        let mut images: Vec<String> = release(edition).images().map(str::to_owned).to_vec();
        images.push(super::percona_release::LATEST_80.to_owned());
        images
    }

    /// Percona grows its claims only when told: `storageScaling.enableVolumeScaling` from
    /// 1.20, `enableVolumeExpansion` before (deprecated in 1.20). No pause marker: its
    /// `spec.pause` stops the cluster.
    fn expansion_marker(&self, kind: &str, installed: Option<Release>) -> Option<serde_json::Value> {
        if kind != "PerconaXtraDBCluster" {
            return None;
        }
        Some(if installed.is_some_and(|r| r < STORAGE_SCALING_MINIMUM) {
            serde_json::json!({"spec": {"enableVolumeExpansion": true}})
        } else {
            serde_json::json!({"spec": {"storageScaling": {"enableVolumeScaling": true}}})
        })
    }

    fn backups(&self) -> Option<&dyn super::vendor::BackupVendor<Config = MySqlConfig>> {
        Some(&super::percona_backup::PerconaBackups)
    }

    fn connection_extras(&self, config: &MySqlConfig) -> std::collections::BTreeMap<String, String> {
        let mut extras: std::collections::BTreeMap<String, String> = match &config.app_account {
            Some(account) => [
                ("MYSQL_USER".to_owned(), account.user.clone()),
                ("MYSQL_DATABASE".to_owned(), account.database.clone()),
            ]
            .into(),
            // The 2025 edition: `credentialsSecret` holds the password of Percona's `root` user.
            None => [("MYSQL_USER".to_owned(), "root".to_owned())].into(),
        };
        if config.client_tls {
            extras.insert("MYSQL_TLS".to_owned(), "true".to_owned());
        }
        extras
    }

    fn connection_sources(&self, config: &MySqlConfig) -> Vec<(String, SecretKeyReference)> {
        // Percona's `<cluster>-ssl` holds the CA that signed the servers' certificates.
        let ssl =
            SecretKeyReference { name: format!("{}-ssl", config.placement.object_name()), key: "ca.crt".to_owned() };
        config.client_tls.then(|| ("MYSQL_CA_CERT".to_owned(), ssl)).into_iter().collect()
    }

    fn vendor_secrets(&self, placement: &crate::model::Placement) -> Vec<String> {
        // The system users' passwords, which the data on the claims goes with, and the TLS
        // material Percona generates.
        let name = placement.object_name();
        vec![format!("{name}-secrets"), format!("{name}-ssl"), format!("{name}-ssl-internal")]
    }

    fn data_claims(&self, placement: &crate::model::Placement) -> super::objects::ClaimMatcher {
        let name = placement.object_name();
        super::objects::ClaimMatcher {
            prefixes: vec![format!("datadir-{name}-pxc-"), format!("proxydata-{name}-proxysql-")],
            labels: vec![],
        }
    }

    fn applied_version(&self, config: &MySqlConfig) -> Option<String> {
        meta::image_version(&pxc_image(config))
    }

    fn observe(
        &self,
        config: &MySqlConfig,
        observed: &Observed,
        previously_ready: bool,
    ) -> ComponentStatus<MySqlConnection> {
        let key = cluster_key(config);
        let cluster = observed.typed::<PerconaXtraDBCluster>(&key);
        let verdict = cluster.as_ref().map_or(Verdict::Missing, verdict);
        let mut status = readiness::fold(vec![(key.to_string(), verdict)], previously_ready);
        // What Percona reports the nodes run; until it does, the image we applied.
        let reported = cluster.as_ref().and_then(|c| c.status.as_ref()?.pxc.as_ref()?.version.clone());
        status.version = reported.or_else(|| self.applied_version(config));
        let name = config.placement.object_name();
        let service = match config.proxy.map(|p| p.kind) {
            Some(ProxyKind::HaProxy) => format!("{name}-haproxy"),
            Some(ProxyKind::ProxySql) => format!("{name}-proxysql"),
            None => format!("{name}-pxc"),
        };
        status.connection = Some(MySqlConnection {
            host: service_host(&service, &config.placement.namespace),
            port: "3306".to_owned(),
        });
        status.credentials_secret = Some(match &config.app_account {
            Some(_) => SecretKeyReference { name: app_user_secret_name(config), key: APP_USER_PASSWORD_KEY.to_owned() },
            // The 2025 edition: Percona creates `<name>-secrets` with the `root` user's password.
            None => SecretKeyReference { name: format!("{name}-secrets"), key: "root".to_owned() },
        });
        for overridden in &config.overridden {
            status.details.push(readiness::notice(
                "RequiredSettingOverridden",
                format!("spec.mysql.settings sets {overridden}: W&B may misbehave (docs/operations.md#mysql-settings)"),
            ));
        }
        status
    }
}

/// Percona's readiness rule: `state == ready` at the current generation with every node ready;
/// `state == error` is an error with the vendor's message.
fn verdict(cluster: &PerconaXtraDBCluster) -> Verdict {
    let Some(status) = &cluster.status else { return Verdict::NotReported };
    let Some(state) = status.state.as_deref() else { return Verdict::NotReported };
    if state == "error" {
        let message = status.message.as_ref().map(|m| m.join("; ")).filter(|m| !m.is_empty());
        return Verdict::Failed(message.unwrap_or_else(|| "the cluster is in state error".to_owned()));
    }
    if let Some(stale) = readiness::stale(status.observed_generation, cluster.metadata.generation) {
        return stale;
    }
    let desired = cluster.spec.pxc.size;
    let ready_nodes = status.pxc.as_ref().and_then(|p| p.ready).unwrap_or(0);
    match state {
        "ready" if ready_nodes >= desired => Verdict::Ready,
        "ready" | "initializing" if ready_nodes < desired && ready_nodes > 0 => {
            Verdict::FewerReady(format!("{ready_nodes} of {desired} nodes ready"))
        }
        other => Verdict::Progressing(format!("state {other}, {ready_nodes} of {desired} nodes ready")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backup_seam_names_the_cluster_kind_this_module_types() {
        // `percona_backup` spells the kind out (it cannot import this module); they must agree.
        let named =
            crate::vendors::vendor::BackupRecords::cluster_kind(&crate::vendors::percona_backup::PerconaBackups);
        assert_eq!(named, crate::vendors::objects::api_resource_of::<PerconaXtraDBCluster>());
    }
}
