//! ClickHouse through the Altinity clickhouse-operator: `clickhouse.altinity.com/v1`
//! `ClickHouseInstallation` `<cr>-clickhouse`, plus `clickhouse-keeper.altinity.com/v1`
//! `ClickHouseKeeperInstallation` `<cr>-keeper` when replicas > 1.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, PersistentVolumeClaimSpec, PodSpec};
use kube::{CustomResource, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::meta;
use super::object_key::ObjectKey;
use super::objects::{Desired, DesiredObject, Observed, VendorError, service_host};
use super::readiness::{self, Verdict};
use super::secret::{GeneratedSecret, GeneratedValue};
use super::vendor::Vendor;
use crate::api::{ClickHouseConnection, ComponentStatus, SecretKeyReference};
use crate::model::{ClickHouseConfig, Placement, Quantity, Resources};

/// The application user.
pub const USER: &str = "wandb";
/// Where the server's and Keeper's pod template names its image.
const POD_IMAGE: &str = "/spec/templates/podTemplates/0/spec/containers/0/image";

/// ClickHouse server image repository; the tag is the version.
pub const SERVER_IMAGE_REPOSITORY: &str = "clickhouse/clickhouse-server";
/// ClickHouse Keeper image repository; the tag is the version.
pub const KEEPER_IMAGE_REPOSITORY: &str = "clickhouse/clickhouse-keeper";

/// The server image: the user's, else the repository's image for the version.
fn server_image(config: &ClickHouseConfig) -> String {
    config
        .image
        .clone()
        .unwrap_or_else(|| config.images.mirrored(&format!("{SERVER_IMAGE_REPOSITORY}:{}", config.version)))
}
/// Key of the password in the credentials Secret.
pub const PASSWORD_KEY: &str = "password";
/// Networks the application user may connect from: private ranges used by pod networks,
/// never `::/0`.
pub const USER_NETWORKS: [&str; 7] =
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "127.0.0.1", "::1"];

/// Pod and volume templates shared by CHI and CHK.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Templates {
    /// Pod templates.
    pub pod_templates: Vec<PodTemplate>,
    /// Volume claim templates.
    pub volume_claim_templates: Vec<VolumeClaimTemplate>,
}

/// A named pod template.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PodTemplate {
    /// Name.
    pub name: String,
    /// Pod spec (its main container always sets `image`).
    pub spec: PodSpec,
}

/// A named volume claim template.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeClaimTemplate {
    /// Name (PVCs are `<name>-chi-<chi>-<cluster>-<shard>-<replica>-0`).
    pub name: String,
    /// `Retain` keeps the PVC when the installation is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reclaim_policy: Option<String>,
    /// Claim spec.
    pub spec: PersistentVolumeClaimSpec,
}

/// `defaults`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct Defaults {
    /// Default templates.
    pub templates: DefaultTemplates,
}

/// `defaults.templates`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefaultTemplates {
    /// Pod template name.
    pub pod_template: String,
    /// Data volume claim template name.
    pub data_volume_claim_template: String,
}

/// A cluster.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct Cluster {
    /// Name.
    pub name: String,
    /// Layout.
    pub layout: Layout,
}

/// `layout`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    /// Shards (CHI only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards_count: Option<i32>,
    /// Replicas.
    pub replicas_count: i32,
}

/// `ClickHouseInstallation` spec.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "clickhouse.altinity.com",
    version = "v1",
    kind = "ClickHouseInstallation",
    plural = "clickhouseinstallations",
    shortname = "chi",
    namespaced,
    status = "InstallationStatus"
)]
pub struct ClickHouseInstallationSpec {
    /// Default templates.
    pub defaults: Defaults,
    /// Users, clusters and ZooKeeper/Keeper.
    pub configuration: ChiConfiguration,
    /// Templates.
    pub templates: Templates,
    /// The task this spec is (2026 edition on): a digest of the rest of the spec, so that the
    /// vendor's `status.taskIDsCompleted` says when this very spec was completed.
    #[serde(rename = "taskID", default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
}

/// CHI `configuration`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ChiConfiguration {
    /// Flat `<user>/<setting>` keys.
    pub users: BTreeMap<String, Value>,
    /// Keeper endpoints (replicas > 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zookeeper: Option<Zookeeper>,
    /// Clusters.
    pub clusters: Vec<Cluster>,
}

/// `configuration.zookeeper`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct Zookeeper {
    /// Nodes.
    pub nodes: Vec<ZookeeperNode>,
}

/// A Keeper/ZooKeeper node.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ZookeeperNode {
    /// Host.
    pub host: String,
    /// Port.
    pub port: i32,
}

/// `ClickHouseKeeperInstallation` spec.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "clickhouse-keeper.altinity.com",
    version = "v1",
    kind = "ClickHouseKeeperInstallation",
    plural = "clickhousekeeperinstallations",
    shortname = "chk",
    namespaced,
    status = "InstallationStatus"
)]
pub struct ClickHouseKeeperInstallationSpec {
    /// Default templates.
    pub defaults: Defaults,
    /// Clusters.
    pub configuration: ChkConfiguration,
    /// Templates.
    pub templates: Templates,
}

/// CHK `configuration`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ChkConfiguration {
    /// Clusters.
    pub clusters: Vec<Cluster>,
}

/// CHI/CHK status fields we read.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstallationStatus {
    /// `InProgress`, `Completed`, `Aborted`, `Terminating`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Last error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The CR as of the last completed reconcile (we read its generation). Altinity 0.25.6
    /// writes it into a Keeper installation's status but not into a server installation's
    /// (it keeps that in the ConfigMap `chi-storage-<chi>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalized_completed: Option<Value>,
    /// The tasks (`spec.taskID`s) completed, newest first.
    #[serde(rename = "taskIDsCompleted", default, skip_serializing_if = "Option::is_none")]
    pub task_ids_completed: Option<Vec<String>>,
}

/// The Altinity vendor for ClickHouse.
pub struct Altinity;

fn chi_key(config: &ClickHouseConfig) -> ObjectKey {
    ObjectKey::new(
        "clickhouse.altinity.com/v1",
        "ClickHouseInstallation",
        &config.placement.namespace,
        &config.placement.object_name(),
    )
}

fn keeper_name(placement: &Placement) -> String {
    format!("{}-keeper", placement.instance.name)
}

fn chk_key(config: &ClickHouseConfig) -> ObjectKey {
    ObjectKey::new(
        "clickhouse-keeper.altinity.com/v1",
        "ClickHouseKeeperInstallation",
        &config.placement.namespace,
        &keeper_name(&config.placement),
    )
}

fn credentials_name(config: &ClickHouseConfig) -> String {
    format!("{}-credentials", config.placement.object_name())
}

fn templates(
    container: &str,
    image: &str,
    resources: &Resources,
    storage: &Quantity,
    images: &crate::model::ImageSource,
) -> Templates {
    Templates {
        pod_templates: vec![PodTemplate {
            name: container.to_owned(),
            spec: PodSpec {
                containers: vec![Container {
                    name: container.to_owned(),
                    // Always set: the vendor injects its `latest` default only into an empty template.
                    image: Some(image.to_owned()),
                    resources: resources.to_requirements(),
                    ..Default::default()
                }],
                image_pull_secrets: meta::pull_secrets(images),
                ..Default::default()
            },
        }],
        volume_claim_templates: vec![VolumeClaimTemplate {
            name: "data".to_owned(),
            // Always Retain while managed; purge deletes PVCs explicitly.
            reclaim_policy: Some("Retain".to_owned()),
            spec: meta::rwo_claim_spec(storage.as_str()),
        }],
    }
}

fn defaults(container: &str) -> Defaults {
    Defaults {
        templates: DefaultTemplates {
            pod_template: container.to_owned(),
            data_volume_claim_template: "data".to_owned(),
        },
    }
}

impl Altinity {
    /// The `ClickHouseInstallation`.
    pub fn installation(config: &ClickHouseConfig) -> ClickHouseInstallation {
        let name = config.placement.object_name();
        let mut users = BTreeMap::from([
            (
                format!("{USER}/password"),
                json!({"valueFrom": {"secretKeyRef": {"name": credentials_name(config), "key": PASSWORD_KEY}}}),
            ),
            (format!("{USER}/networks/ip"), json!(USER_NETWORKS)),
            (format!("{USER}/profile"), json!("default")),
        ]);
        if let Some(database) = &config.database {
            // The application's database and Weave's bookkeeping one, nothing else.
            users.insert(
                format!("{USER}/allow_databases/database"),
                json!([database, crate::model::clickhouse::WEAVE_MANAGEMENT_DATABASE]),
            );
        }
        let zookeeper = config.keeper.as_ref().map(|_| Zookeeper {
            nodes: vec![ZookeeperNode { host: format!("keeper-{}", keeper_name(&config.placement)), port: 2181 }],
        });
        let mut chi = ClickHouseInstallation::new(
            &name,
            ClickHouseInstallationSpec {
                defaults: defaults("clickhouse"),
                configuration: ChiConfiguration {
                    users,
                    zookeeper,
                    clusters: vec![Cluster {
                        // At most 15 characters (Altinity); part of pod and claim names.
                        name: config.cluster.clone(),
                        layout: Layout { shards_count: Some(1), replicas_count: config.replicas },
                    }],
                },
                templates: templates(
                    "clickhouse",
                    &server_image(config),
                    &config.resources,
                    &config.storage,
                    &config.images,
                ),
                task_id: None,
            },
        );
        if config.edition >= crate::model::Edition::Y2026 {
            chi.spec.task_id = Some(task_id(&chi.spec));
        }
        *chi.meta_mut() = meta::object_meta(&config.placement, &name);
        chi
    }

    /// The `ClickHouseKeeperInstallation`, when replicas > 1.
    pub fn keeper(config: &ClickHouseConfig) -> Option<ClickHouseKeeperInstallation> {
        let keeper = config.keeper.as_ref()?;
        let name = keeper_name(&config.placement);
        let mut chk = ClickHouseKeeperInstallation::new(
            &name,
            ClickHouseKeeperInstallationSpec {
                defaults: defaults("clickhouse-keeper"),
                configuration: ChkConfiguration {
                    clusters: vec![Cluster {
                        name: "keeper".to_owned(),
                        layout: Layout { shards_count: None, replicas_count: keeper.replicas },
                    }],
                },
                templates: templates(
                    "clickhouse-keeper",
                    &config.images.mirrored(&format!("{KEEPER_IMAGE_REPOSITORY}:{}", config.version)),
                    &keeper.resources,
                    &keeper.storage,
                    &config.images,
                ),
            },
        );
        *chk.meta_mut() = meta::object_meta(&config.placement, &name);
        Some(chk)
    }

    /// The credentials Secret: the `wandb` user's password, drawn at apply time.
    pub fn credentials(config: &ClickHouseConfig) -> GeneratedSecret {
        let name = credentials_name(config);
        GeneratedSecret {
            key: ObjectKey::new("v1", "Secret", &config.placement.namespace, &name),
            metadata: meta::object_meta(&config.placement, &name),
            values: vec![GeneratedValue {
                name: "password".to_owned(),
                prefix: String::new(),
                length: 40,
                lowercase: false,
            }],
            entries: vec![(PASSWORD_KEY.to_owned(), "${password}".to_owned())],
        }
    }
}

/// A single replica becomes several only when `spec.clickhouse.replicas` asks for it: the
/// tables W&B made on one replica are not replicated (`MergeTree`, not `ReplicatedMergeTree`),
/// so new replicas would start empty and serve partial data. A size change alone (dev →
/// small) is refused.
fn single_replica_kept(config: &ClickHouseConfig) -> Vec<super::objects::FixedField> {
    if config.replicas <= 1 || config.replicas_asked {
        return Vec::new();
    }
    vec![super::objects::FixedField {
        key: chi_key(config),
        pointer: "/spec/configuration/clusters/0/layout/replicasCount",
        code: "ReplicationChangeRefused",
        why: "ClickHouse runs one replica, and the tables W&B made on it are not replicated, so new replicas would start empty and answer with part of the data. Keep one replica (spec.clickhouse.replicas: 1; the rest of the size applies), or plan the conversion of the tables to Replicated engines and then ask for the replicas explicitly (spec.clickhouse.replicas: 3) (docs/operations.md, \"Growing from dev to small\")",
        from: Some(serde_json::json!(1)),
    }]
}

impl Vendor for Altinity {
    type Config = ClickHouseConfig;
    type Connection = ClickHouseConnection;

    fn name(&self) -> &'static str {
        "Altinity clickhouse-operator"
    }

    fn desired(&self, config: &ClickHouseConfig) -> Result<Desired, VendorError> {
        let mut objects = Vec::new();
        // Keeper first: the installation needs it to replicate.
        if let Some(chk) = Self::keeper(config) {
            objects.push(DesiredObject::from_typed(chk_key(config), &chk)?);
        }
        objects.push(DesiredObject::from_typed(chi_key(config), &Self::installation(config))?);
        let storage = "/spec/templates/volumeClaimTemplates/0/spec/resources/requests/storage";
        let keeper_and_server = objects.iter().map(|o| o.key.clone()).collect::<Vec<_>>();
        Ok(Desired {
            objects,
            secrets: vec![Self::credentials(config)],
            reads: vec![],
            storage_fields: vec![(chi_key(config), storage)],
            exclusive_with: vec![],
            replaces: None,
            fixed_fields: single_replica_kept(config),
            // W&B and Altinity: Keeper at least the server's version, so Keeper first.
            versions: [(chk_key(config), "ClickHouse Keeper", 0), (chi_key(config), "ClickHouse server", 1)]
                .into_iter()
                .filter(|(key, _, _)| keeper_and_server.contains(key))
                .map(|(key, what, step)| super::objects::VersionField {
                    key,
                    pointer: POD_IMAGE,
                    what,
                    step,
                    major: 0,
                    bridge: None,
                })
                .collect(),
        })
    }

    fn kinds(&self) -> Vec<kube::core::ApiResource> {
        vec![
            super::objects::api_resource_of::<ClickHouseInstallation>(),
            super::objects::api_resource_of::<ClickHouseKeeperInstallation>(),
        ]
    }

    /// Altinity's `spec.suspend` on the installation and the Keeper. A suspended installation
    /// is not even finalized on deletion, so retention lifts it first.
    fn pause_marker(&self, kind: &str) -> Option<serde_json::Value> {
        matches!(kind, "ClickHouseInstallation" | "ClickHouseKeeperInstallation")
            .then(|| serde_json::json!({"spec": {"suspend": "true"}}))
    }

    fn connection_extras(&self, config: &ClickHouseConfig) -> std::collections::BTreeMap<String, String> {
        let mut extras: std::collections::BTreeMap<String, String> = [
            ("CLICKHOUSE_HTTP_PORT".to_owned(), "8123".to_owned()),
            // What Weave needs to issue its DDL `ON CLUSTER` (the name an existing install
            // keeps, whatever it is).
            ("CLICKHOUSE_REPLICATED".to_owned(), (config.replicas > 1).to_string()),
            ("CLICKHOUSE_REPLICATED_CLUSTER".to_owned(), config.cluster.clone()),
        ]
        .into();
        if let Some(database) = &config.database {
            extras.insert("CLICKHOUSE_DATABASE".to_owned(), database.clone());
        }
        extras
    }

    fn release_source(&self) -> Option<super::release::ReleaseSource> {
        Some(super::release::ReleaseSource {
            crd: "clickhouseinstallations.clickhouse.altinity.com",
            key: "clickhouse.altinity.com/chop",
            serves_our_version: "every supported Altinity release (0.25.6 and later) serves clickhouse.altinity.com/v1",
        })
    }

    fn default_images(&self, edition: crate::model::Edition) -> Vec<String> {
        let version = crate::model::clickhouse::defaults(edition).version;
        vec![format!("{SERVER_IMAGE_REPOSITORY}:{version}"), format!("{KEEPER_IMAGE_REPOSITORY}:{version}")]
    }

    fn access_rules(&self) -> &'static [super::access_rule::Rule] {
        &[
            super::access_rule::Rule {
                group: "clickhouse.altinity.com",
                resources: &["clickhouseinstallations"],
                verbs: super::access_rule::VENDOR_VERBS,
                why: "ClickHouse: apply, read status, detach, purge",
                resource_names: &[],
            },
            super::access_rule::Rule {
                group: "clickhouse-keeper.altinity.com",
                resources: &["clickhousekeeperinstallations"],
                verbs: super::access_rule::VENDOR_VERBS,
                why: "ClickHouse Keeper: apply, read status, detach, purge",
                resource_names: &[],
            },
        ]
    }

    fn data_claims(&self, placement: &Placement) -> super::objects::ClaimMatcher {
        let name = placement.object_name();
        let keeper = keeper_name(placement);
        super::objects::ClaimMatcher {
            prefixes: vec![format!("data-chi-{name}-"), format!("data-chk-{keeper}-")],
            labels: vec![],
        }
    }

    /// The server's claims only: Keeper's are sized by its own profile.
    fn storage_claims(&self, placement: &Placement) -> super::objects::ClaimMatcher {
        super::objects::ClaimMatcher {
            prefixes: vec![format!("data-chi-{}-", placement.object_name())],
            labels: vec![],
        }
    }

    fn applied_version(&self, config: &ClickHouseConfig) -> Option<String> {
        meta::image_version(&server_image(config))
    }

    /// Completed for the spec it holds (the Keeper at its generation, the server for its task).
    fn settled(&self, live: &Value) -> Option<bool> {
        let verdict = match live.get("kind").and_then(Value::as_str)? {
            "ClickHouseKeeperInstallation" => {
                let chk: ClickHouseKeeperInstallation = serde_json::from_value(live.clone()).ok()?;
                verdict(chk.status.as_ref(), chk.metadata.generation, None)
            }
            "ClickHouseInstallation" => {
                let chi: ClickHouseInstallation = serde_json::from_value(live.clone()).ok()?;
                verdict(chi.status.as_ref(), chi.metadata.generation, chi.spec.task_id.as_deref())
            }
            _ => return None,
        };
        Some(verdict == Verdict::Ready)
    }

    /// The server installation's `taskID` is a digest of the rest of its spec.
    fn rederive(&self, desired: &mut Desired) {
        for object in &mut desired.objects {
            if object.key.kind != "ClickHouseInstallation" {
                continue;
            }
            let Some(spec) = object.body.get("spec").cloned() else { continue };
            let Ok(spec) = serde_json::from_value::<ClickHouseInstallationSpec>(spec) else { continue };
            if let Some(slot) = object.body.pointer_mut("/spec/taskID") {
                *slot = Value::String(task_id(&spec));
            }
        }
    }

    fn observe(
        &self,
        config: &ClickHouseConfig,
        observed: &Observed,
        previously_ready: bool,
    ) -> ComponentStatus<ClickHouseConnection> {
        let mut verdicts = Vec::new();
        if config.keeper.is_some() {
            let key = chk_key(config);
            let verdict = observed
                .typed::<ClickHouseKeeperInstallation>(&key)
                .map_or(Verdict::Missing, |chk| verdict(chk.status.as_ref(), chk.metadata.generation, None));
            verdicts.push((key.to_string(), verdict));
        }
        let key = chi_key(config);
        let chi_verdict = observed.typed::<ClickHouseInstallation>(&key).map_or(Verdict::Missing, |chi| {
            verdict(chi.status.as_ref(), chi.metadata.generation, chi.spec.task_id.as_deref())
        });
        verdicts.push((key.to_string(), chi_verdict));
        let mut status = readiness::fold(verdicts, previously_ready);
        let service = format!("clickhouse-{}", config.placement.object_name());
        status.connection = Some(ClickHouseConnection {
            host: service_host(&service, &config.placement.namespace),
            port: "9000".to_owned(),
            user: USER.to_owned(),
        });
        status.credentials_secret =
            Some(SecretKeyReference { name: credentials_name(config), key: PASSWORD_KEY.to_owned() });
        // Altinity reports its own version, not the server's: the image we applied (during an
        // upgrade, what the live installation names).
        let applied = observed
            .typed::<ClickHouseInstallation>(&key)
            .and_then(|chi| chi.spec.templates.pod_templates.first()?.spec.containers.first()?.image.clone());
        status.version = applied.as_deref().and_then(meta::image_version).or_else(|| self.applied_version(config));
        status
    }
}

/// `spec.taskID` of a server installation: `wandb-` and a digest of the rest of its spec. A
/// new spec is a new task; Altinity reports it in `status.taskIDsCompleted` once it completed
/// that spec (a task ID we set is kept through its normalization, where its own `auto-…` IDs
/// are drawn afresh: seen with the real operator, `taskIDsStarted` and `taskIDsCompleted` then
/// name different tasks).
fn task_id(spec: &ClickHouseInstallationSpec) -> String {
    let without = ClickHouseInstallationSpec { task_id: None, ..spec.clone() };
    let text = serde_json::to_string(&without).unwrap_or_default();
    format!("wandb-{}", crate::model::digest::fnv1a(&text))
}

/// Altinity's rule: `status.status == Completed`, for the spec we wrote: when it names a task
/// (`spec.taskID`, 2026 edition on), the newest completed task must be that one; otherwise,
/// for the current generation when the vendor reports which generation it completed
/// (`normalizedCompleted.metadata.generation`: Keeper installations; server installations of
/// the 2025 edition are read from `status` alone, as that edition always did).
fn verdict(status: Option<&InstallationStatus>, generation: Option<i64>, task: Option<&str>) -> Verdict {
    let Some(status) = status else { return Verdict::NotReported };
    match status.status.as_deref() {
        None | Some("") => Verdict::NotReported,
        Some("Aborted") => Verdict::Failed(status.error.clone().unwrap_or_else(|| "reconcile aborted".to_owned())),
        Some("Completed") if task.is_some() => {
            let newest = status.task_ids_completed.as_ref().and_then(|t| t.first()).map(String::as_str);
            if newest == task {
                Verdict::Ready
            } else {
                Verdict::Progressing(format!(
                    "the vendor completed an earlier spec (task {}); waiting for task {}",
                    newest.unwrap_or("none"),
                    task.unwrap_or_default()
                ))
            }
        }
        Some("Completed") => {
            let completed = status
                .normalized_completed
                .as_ref()
                .and_then(|n| n.pointer("/metadata/generation"))
                .and_then(Value::as_i64);
            match completed.and_then(|c| readiness::stale(Some(c), generation)) {
                Some(stale) => stale,
                None => Verdict::Ready,
            }
        }
        Some(other) => Verdict::Progressing(format!("status {other}")),
    }
}
