//! MySQL through the Percona Operator for MySQL: `pxc.percona.com/v1` `PerconaXtraDBCluster`.

use k8s_openapi::api::core::v1::{EmptyDirVolumeSource, PersistentVolumeClaimSpec, ResourceRequirements};
use kube::{CustomResource, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::meta;
use super::object_key::ObjectKey;
use super::objects::{Desired, DesiredObject, Observed, VendorError, service_host};
use super::readiness::{self, Verdict};
use super::vendor::Vendor;
use crate::api::Size;
use crate::api::{ComponentStatus, MySqlConnection, SecretKeyReference};
use crate::model::MySqlConfig;

/// Percona `crVersion` written on every `PerconaXtraDBCluster`.
pub const CR_VERSION: &str = "1.18.0";
/// PXC image of the release for `small` and `large`.
const PXC_IMAGE: &str = "percona/percona-xtradb-cluster:8.0";
/// PXC image for `dev`.
const DEV_PXC_IMAGE: &str = "perconalab/percona-xtradb-cluster-operator:main-pxc8.0";
/// ProxySQL image.
const PROXYSQL_IMAGE: &str = "percona/proxysql2:2.7.3";
/// Log collector image (`dev`).
const LOG_COLLECTOR_IMAGE: &str = "perconalab/percona-xtradb-cluster-operator:main-logcollector";

/// The PXC image for `config`: the user's, else the one for its size.
pub fn pxc_image(config: &MySqlConfig) -> String {
    let default = if config.size == Size::Dev { DEV_PXC_IMAGE } else { PXC_IMAGE };
    config.image.clone().unwrap_or_else(|| default.to_owned())
}

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
        let spec = PerconaXtraDBClusterSpec {
            cr_version: CR_VERSION.to_owned(),
            unsafe_flags: Some(unsafe_flags(config)),
            tls: Some(PxcTls { enabled: config.tls }),
            pxc: PxcNodes {
                size: config.replicas,
                image: pxc_image(config),
                resources: config.resources.to_requirements(),
                volume_spec: PxcVolumeSpec {
                    persistent_volume_claim: Some(meta::rwo_claim_spec(config.storage.as_str())),
                    empty_dir: None,
                },
            },
            proxysql: config.proxy.map(|replicas| PxcProxy {
                enabled: true,
                size: Some(replicas),
                image: Some(PROXYSQL_IMAGE.to_owned()),
                volume_spec: Some(PxcVolumeSpec {
                    empty_dir: Some(EmptyDirVolumeSource::default()),
                    persistent_volume_claim: None,
                }),
            }),
            haproxy: config.proxy.is_none().then(|| PxcProxy { enabled: false, ..Default::default() }),
            logcollector: config
                .log_collector
                .then(|| PxcLogCollector { enabled: true, image: LOG_COLLECTOR_IMAGE.to_owned() }),
            backup: super::percona_backup::backup_section(config),
        };
        let mut cluster = PerconaXtraDBCluster::new(&name, spec);
        *cluster.meta_mut() = meta::object_meta(&config.placement, &name);
        cluster
    }
}

impl Vendor for Percona {
    type Config = MySqlConfig;
    type Connection = MySqlConnection;

    fn name(&self) -> &'static str {
        "Percona Operator for MySQL"
    }

    fn desired(&self, config: &MySqlConfig) -> Result<Desired, VendorError> {
        Ok(Desired {
            objects: vec![DesiredObject::from_typed(cluster_key(config), &Self::cluster(config))?],
            storage_fields: vec![(
                cluster_key(config),
                "/spec/pxc/volumeSpec/persistentVolumeClaim/resources/requests/storage",
            )],
            ..Desired::default()
        })
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
            },
            super::access_rule::Rule {
                group: "pxc.percona.com",
                resources: &["perconaxtradbclusterbackups"],
                verbs: &["get", "list", "watch", "create", "patch"],
                why: "MySQL backups: read the schedule's backups, create on-demand ones, keep their data out of a purge (never deleted)",
            },
            super::access_rule::Rule {
                group: "pxc.percona.com",
                resources: &["perconaxtradbclusterrestores"],
                verbs: super::access_rule::VENDOR_VERBS,
                why: "MySQL restore: create once, read progress, detach, purge",
            },
        ]
    }

    fn default_images(&self) -> Vec<String> {
        [PXC_IMAGE, DEV_PXC_IMAGE, PROXYSQL_IMAGE, LOG_COLLECTOR_IMAGE, super::percona_backup::BACKUP_IMAGE]
            .map(str::to_owned)
            .to_vec()
    }

    fn backups(&self) -> Option<&dyn super::vendor::BackupVendor<Config = MySqlConfig>> {
        Some(&super::percona_backup::PerconaBackups)
    }

    fn connection_extras(&self, _config: &MySqlConfig) -> std::collections::BTreeMap<String, String> {
        // `credentialsSecret` holds the password of Percona's `root` user.
        [("MYSQL_USER".to_owned(), "root".to_owned())].into()
    }

    fn data_claims(&self, placement: &crate::model::Placement) -> super::objects::ClaimMatcher {
        let name = placement.object_name();
        super::objects::ClaimMatcher {
            prefixes: vec![format!("datadir-{name}-pxc-"), format!("proxydata-{name}-proxysql-")],
            labels: vec![],
        }
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
        status.version = reported.or_else(|| meta::image_version(&pxc_image(config)));
        let name = config.placement.object_name();
        let service = if config.proxy.is_some() { format!("{name}-proxysql") } else { format!("{name}-pxc") };
        status.connection = Some(MySqlConnection {
            host: service_host(&service, &config.placement.namespace),
            port: "3306".to_owned(),
        });
        // Percona creates `<name>-secrets` with the `root` user's password.
        status.credentials_secret =
            Some(SecretKeyReference { name: format!("{name}-secrets"), key: "root".to_owned() });
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
