//! MySQL backups through Percona (issue 12): `spec.backup` of the `PerconaXtraDBCluster`, the
//! S3 credentials Secret it reads, on-demand `PerconaXtraDBClusterBackup`s, a
//! `PerconaXtraDBClusterRestore`, and the reading of backups into status. Pure.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::connection_secret::ConnectionSecret;
use super::object_key::ObjectKey;
use super::objects::{DesiredObject, VendorError, service_host};
use super::{meta, minio_operator};
use crate::api::{BackupRecord, BackupRequestStatus, BackupStatus, SecretKeyReference, State, StatusDetail};
use crate::model::mysql_backup::{BackupConfig, BackupTarget, RestoreSource};
use crate::model::{MySqlConfig, Placement};

/// The storage name in `spec.backup.storages`.
pub const STORAGE_NAME: &str = "wandb-backups";
/// The schedule name in `spec.backup.schedule`.
pub const SCHEDULE_NAME: &str = "wandb-scheduled";
/// The region sent for the managed MinIO (MinIO accepts any).
const MINIO_REGION: &str = "us-east-1";
/// Keys Percona reads from the S3 credentials Secret.
pub const ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// Keys Percona reads from the S3 credentials Secret.
pub const SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// Finalizers with which Percona deletes a backup's data when its object is deleted.
pub const DATA_DELETING_FINALIZERS: [&str; 2] = ["percona.com/delete-backup", "delete-s3-backup"];

/// `spec.backup` of the `PerconaXtraDBCluster`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PxcBackup {
    /// The XtraBackup image.
    pub image: String,
    /// Image pull Secrets of the backup jobs.
    #[serde(default, rename = "imagePullSecrets", skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<k8s_openapi::api::core::v1::LocalObjectReference>>,
    /// Storages by name.
    pub storages: BTreeMap<String, PxcBackupStorage>,
    /// Schedules.
    pub schedule: Vec<PxcBackupSchedule>,
}

/// One storage.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PxcBackupStorage {
    /// `s3`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Verify the endpoint's certificate.
    #[serde(rename = "verifyTLS", default, skip_serializing_if = "Option::is_none")]
    pub verify_tls: Option<bool>,
    /// S3 settings.
    pub s3: PxcS3,
}

/// S3 settings of a storage, a backup or a restore source.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PxcS3 {
    /// `bucket` or `bucket/prefix`.
    pub bucket: String,
    /// The Secret with `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret: Option<String>,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Endpoint URL (S3-compatible servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// The CA that signed the endpoint's certificate: a key of a Secret (Percona ≥ 1.19).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<SecretKeyReference>,
}

/// One schedule.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PxcBackupSchedule {
    /// Name (scheduled backups are labelled with it).
    pub name: String,
    /// Cron.
    pub schedule: String,
    /// Scheduled backups kept.
    pub keep: i32,
    /// Storage name.
    pub storage_name: String,
}

/// `PerconaXtraDBClusterBackup`: one backup (on-demand when we create it).
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "pxc.percona.com",
    version = "v1",
    kind = "PerconaXtraDBClusterBackup",
    plural = "perconaxtradbclusterbackups",
    namespaced,
    status = "PxcBackupState"
)]
#[serde(rename_all = "camelCase")]
pub struct PerconaXtraDBClusterBackupSpec {
    /// The cluster.
    pub pxc_cluster: String,
    /// The storage name in the cluster's `spec.backup.storages`.
    pub storage_name: String,
}

/// The status of a backup, and of a restore (the fields we read).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PxcBackupState {
    /// `Starting`, `Running`, `Succeeded`, `Failed` (backups); `Starting`, `Stopping Cluster`,
    /// `Restoring`, `Starting Cluster`, `Succeeded`, `Failed` (restores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// When it completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<Time>,
    /// Where the backup is (`s3://…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// The error, when failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Restores: comments (the error of a failed restore).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
}

/// `PerconaXtraDBClusterRestore`: one restore.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "pxc.percona.com",
    version = "v1",
    kind = "PerconaXtraDBClusterRestore",
    plural = "perconaxtradbclusterrestores",
    namespaced,
    status = "PxcBackupState"
)]
#[serde(rename_all = "camelCase")]
pub struct PerconaXtraDBClusterRestoreSpec {
    /// The cluster to restore into.
    pub pxc_cluster: String,
    /// A backup of the cluster by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_name: Option<String>,
    /// A backup by location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_source: Option<PxcBackupSource>,
}

/// `spec.backupSource` of a restore.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PxcBackupSource {
    /// `s3://bucket/prefix/backup`.
    pub destination: String,
    /// Verify the endpoint's certificate.
    #[serde(rename = "verifyTLS", default, skip_serializing_if = "Option::is_none")]
    pub verify_tls: Option<bool>,
    /// S3 settings.
    pub s3: PxcS3,
}

/// The name of the S3 credentials Secret: `<cr>-mysql-backup-s3`.
pub fn credentials_name(config: &MySqlConfig) -> String {
    format!("{}-backup-s3", config.placement.object_name())
}

/// The storage Percona writes to, from the backup target.
fn storage(config: &MySqlConfig, backup: &BackupConfig) -> PxcBackupStorage {
    match &backup.target {
        BackupTarget::ManagedMinio { placement, tls } => {
            let (scheme, port) = if *tls { ("https", 443) } else { ("http", 80) };
            // MinIO's auto-cert chains to the cluster's root CA, which the credentials Secret
            // copies (`managed_minio_ca`). The 2025 edition did not verify; it keeps that.
            let (verify_tls, ca_bundle) = match managed_minio_ca(config, backup) {
                Some(key) => (None, Some(SecretKeyReference { name: credentials_name(config), key: key.to_owned() })),
                None => (Some(false), None),
            };
            PxcBackupStorage {
                type_: "s3".to_owned(),
                verify_tls,
                s3: PxcS3 {
                    bucket: format!("{}/{}", minio_operator::BUCKET, crate::model::mysql_backup::MANAGED_PREFIX),
                    credentials_secret: Some(credentials_name(config)),
                    region: Some(MINIO_REGION.to_owned()),
                    endpoint_url: Some(format!("{scheme}://{}:{port}", service_host("minio", &placement.namespace))),
                    ca_bundle,
                },
            }
        }
        BackupTarget::External { bucket, prefix, region, endpoint_url, credentials } => PxcBackupStorage {
            type_: "s3".to_owned(),
            verify_tls: None,
            s3: PxcS3 {
                bucket: prefix.as_ref().map_or_else(|| bucket.clone(), |p| format!("{bucket}/{p}")),
                credentials_secret: credentials.as_ref().map(|_| credentials_name(config)),
                region: region.clone(),
                endpoint_url: endpoint_url.clone(),
                ca_bundle: None,
            },
        },
    }
}

/// The key of the credentials Secret that holds the cluster's root CA, when backups go to the
/// managed MinIO over TLS and the edition verifies it (2026 on; Percona ≥ 1.19 reads
/// `s3.caBundle`); `None` otherwise.
fn managed_minio_ca(config: &MySqlConfig, backup: &BackupConfig) -> Option<&'static str> {
    let verifies = config.edition >= crate::model::Edition::Y2026;
    matches!(backup.target, BackupTarget::ManagedMinio { tls: true, .. })
        .then_some(super::connection_secret::CLUSTER_CA_KEY)
        .filter(|_| verifies)
}

/// `s3://bucket/prefix`: where backups go, as status reports it.
pub fn destination_prefix(config: &MySqlConfig) -> Option<String> {
    let backup = config.backup.as_ref()?;
    Some(format!("s3://{}", storage(config, backup).s3.bucket))
}

/// `spec.backup` for the cluster, when backups are on.
pub fn backup_section(config: &MySqlConfig) -> Option<PxcBackup> {
    let backup = config.backup.as_ref()?;
    Some(PxcBackup {
        image: config.images.mirrored(super::percona_release::backup_image_for(
            super::percona_release::release(config.edition),
            &super::percona_release::pxc_image(config),
        )),
        image_pull_secrets: meta::pull_secrets(&config.images),
        storages: [(STORAGE_NAME.to_owned(), storage(config, backup))].into(),
        schedule: vec![PxcBackupSchedule {
            name: SCHEDULE_NAME.to_owned(),
            schedule: backup.schedule.as_str().to_owned(),
            keep: backup.keep,
            storage_name: STORAGE_NAME.to_owned(),
        }],
    })
}

/// The S3 credentials Secret Percona reads, copied from MinIO's generated Secret or from the
/// user's; `None` without backups, or for a bucket reached by workload identity.
pub fn credentials_secret(config: &MySqlConfig) -> Option<ConnectionSecret> {
    let backup = config.backup.as_ref()?;
    let (namespace, access, secret) = match &backup.target {
        BackupTarget::ManagedMinio { placement, .. } => {
            let name = minio_operator::secret_name_for(placement);
            (
                placement.namespace.clone(),
                SecretKeyReference { name: name.clone(), key: minio_operator::ROOT_USER_KEY.to_owned() },
                SecretKeyReference { name, key: minio_operator::ROOT_PASSWORD_KEY.to_owned() },
            )
        }
        BackupTarget::External { credentials: Some((access, secret)), .. } => {
            (config.placement.namespace.clone(), access.clone(), secret.clone())
        }
        BackupTarget::External { credentials: None, .. } => return None,
    };
    let mut derived = ConnectionSecret::derived(&config.placement, &credentials_name(config), &namespace);
    derived.sources.push((ACCESS_KEY_ID.to_owned(), access));
    derived.sources.push((SECRET_ACCESS_KEY.to_owned(), secret));
    derived.cluster_ca = managed_minio_ca(config, backup).map(str::to_owned);
    Some(derived)
}

fn one_off_meta(placement: &Placement, name: &str) -> kube::api::ObjectMeta {
    // No owner reference: these records describe data outside the cluster and outlive it.
    let mut m = meta::object_meta(placement, name);
    m.owner_references = None;
    m
}

/// The on-demand backup for the annotation value `request`.
pub fn on_demand_backup(config: &MySqlConfig, request: &str) -> Result<DesiredObject, VendorError> {
    let cluster = config.placement.object_name();
    let name = format!("{cluster}-now-{}", crate::model::mysql_backup::digest(request));
    let mut backup = PerconaXtraDBClusterBackup::new(
        &name,
        PerconaXtraDBClusterBackupSpec { pxc_cluster: cluster, storage_name: STORAGE_NAME.to_owned() },
    );
    *backup.meta_mut() = one_off_meta(&config.placement, &name);
    let key = ObjectKey::new("pxc.percona.com/v1", "PerconaXtraDBClusterBackup", &config.placement.namespace, &name);
    DesiredObject::from_typed(key, &backup)
}

/// The restore asked for, `None` without one. A restore by destination reads the backup
/// storage; without backups configured there is none to read (`Err` explains).
pub fn restore(config: &MySqlConfig) -> Result<Option<DesiredObject>, String> {
    let Some(restore) = &config.restore else { return Ok(None) };
    let cluster = config.placement.object_name();
    let name = format!("{cluster}-restore-{}", restore.request);
    let (backup_name, backup_source) = match &restore.source {
        RestoreSource::BackupName(n) => (Some(n.clone()), None),
        RestoreSource::Destination(d) => {
            let backup = config.backup.as_ref().ok_or_else(|| {
                "spec.mysql.restore.destination needs the backup storage that holds it: configure spec.mysql.backup (its storage and credentials)".to_owned()
            })?;
            let s = storage(config, backup);
            let bucket = s.s3.bucket.split('/').next().unwrap_or_default().to_owned();
            (
                None,
                Some(PxcBackupSource {
                    destination: d.clone(),
                    verify_tls: s.verify_tls,
                    s3: PxcS3 { bucket, ..s.s3 },
                }),
            )
        }
    };
    let mut object = PerconaXtraDBClusterRestore::new(
        &name,
        PerconaXtraDBClusterRestoreSpec { pxc_cluster: cluster, backup_name, backup_source },
    );
    *object.meta_mut() = one_off_meta(&config.placement, &name);
    let key = ObjectKey::new("pxc.percona.com/v1", "PerconaXtraDBClusterRestore", &config.placement.namespace, &name);
    DesiredObject::from_typed(key, &object).map(Some).map_err(|e| e.to_string())
}

fn seconds(t: &Time) -> i64 {
    t.0.as_second()
}

fn time(t: jiff::Timestamp) -> Time {
    Time(t)
}

/// A one-off object's state for status: the vendor's, or `Created` before it reports.
pub fn request_state(request: &str, name: &str, state: Option<&PxcBackupState>) -> BackupRequestStatus {
    BackupRequestStatus {
        request: request.to_owned(),
        name: name.to_owned(),
        state: state.and_then(|s| s.state.clone()).filter(|s| !s.is_empty()).unwrap_or_else(|| "Created".to_owned()),
        message: state.and_then(|s| s.error.clone().or_else(|| s.comments.clone())).filter(|m| !m.is_empty()),
    }
}

/// The backups of the cluster read into status, with the details they imply:
/// `BackupFailed` (informational: the last attempt failed, the message is the vendor's) and
/// `BackupStale` (`Degraded`: no successful backup within twice the schedule interval).
/// `backups` are the cluster's `PerconaXtraDBClusterBackup`s with their creation times.
pub fn summarize(
    config: &MySqlConfig,
    backups: &[(PerconaXtraDBClusterBackup, Option<Time>)],
    previous: Option<&BackupStatus>,
    now: jiff::Timestamp,
) -> (BackupStatus, Vec<StatusDetail>) {
    let mut status = BackupStatus {
        on_demand: previous.and_then(|p| p.on_demand.clone()),
        restore: previous.and_then(|p| p.restore.clone()),
        ..BackupStatus::default()
    };
    let Some(backup) = &config.backup else { return (status, Vec::new()) };
    status.schedule = Some(backup.schedule.as_str().to_owned());
    status.storage = destination_prefix(config);
    status.since = previous.and_then(|p| p.since.clone()).or_else(|| Some(time(now)));
    let state_of = |b: &PerconaXtraDBClusterBackup| b.status.as_ref().and_then(|s| s.state.clone()).unwrap_or_default();
    let success = backups
        .iter()
        .filter(|(b, _)| state_of(b) == "Succeeded")
        .filter_map(|(b, created)| {
            let at = b.status.as_ref().and_then(|s| s.completed.clone()).or_else(|| created.clone())?;
            Some((seconds(&at), b, at))
        })
        .max_by_key(|(s, b, _)| (*s, b.metadata.name.clone()));
    let failure = backups
        .iter()
        .filter(|(b, _)| state_of(b) == "Failed")
        .filter_map(|(b, created)| Some((seconds(created.as_ref()?), b, created.clone()?)))
        .max_by_key(|(s, b, _)| (*s, b.metadata.name.clone()));
    status.last_success = success.as_ref().map(|(_, b, at)| BackupRecord {
        name: b.metadata.name.clone().unwrap_or_default(),
        time: Some(at.clone()),
        destination: b.status.as_ref().and_then(|s| s.destination.clone()),
        message: None,
    });
    status.last_failure = failure.as_ref().map(|(_, b, at)| BackupRecord {
        name: b.metadata.name.clone().unwrap_or_default(),
        time: Some(at.clone()),
        destination: None,
        message: b.status.as_ref().and_then(|s| s.error.clone()).filter(|m| !m.is_empty()),
    });
    status.next_scheduled = backup.schedule.next_after(now).map(time);

    let mut details = Vec::new();
    if let Some((failed_at, b, _)) = &failure
        && success.as_ref().is_none_or(|(ok_at, _, _)| failed_at > ok_at)
    {
        let message = b.status.as_ref().and_then(|s| s.error.clone()).unwrap_or_else(|| "no message".to_owned());
        details.push(StatusDetail {
            state: State::Ready,
            code: "BackupFailed".to_owned(),
            message: format!("the last backup, {}, failed: {message}", b.metadata.name.clone().unwrap_or_default()),
        });
    }
    let reference = success.as_ref().map(|(s, _, _)| *s).or_else(|| status.since.as_ref().map(seconds));
    if let Some(reference) = reference
        && let Ok(from) = jiff::Timestamp::from_second(reference)
        && let Some(interval) = backup.schedule.interval_after(from)
        && now.duration_since(from) > interval * 2
    {
        let what = match &status.last_success {
            Some(ok) => format!("the last successful backup, {}, is from {from}", ok.name),
            None => format!("no backup has succeeded since backups were configured at {from}"),
        };
        details.push(StatusDetail {
            state: State::Degraded,
            code: "BackupStale".to_owned(),
            message: format!(
                "{what}: older than twice the schedule interval ({} h, schedule {:?})",
                interval.as_hours(),
                backup.schedule.as_str()
            ),
        });
    }
    (status, details)
}

/// Percona as the backup vendor of MySQL.
pub struct PerconaBackups;

fn typed<T: serde::de::DeserializeOwned>(object: &serde_json::Value) -> Option<T> {
    serde_json::from_value(object.clone()).ok()
}

impl super::vendor::BackupRecords for PerconaBackups {
    fn backup_kind(&self) -> kube::core::ApiResource {
        super::objects::api_resource_of::<PerconaXtraDBClusterBackup>()
    }

    fn cluster_kind(&self) -> kube::core::ApiResource {
        // By name, not through `percona`, which builds its `spec.backup` from this module.
        kube::core::ApiResource::from_gvk(&kube::core::GroupVersionKind::gvk(
            "pxc.percona.com",
            "v1",
            "PerconaXtraDBCluster",
        ))
    }

    fn cluster_of(&self, record: &serde_json::Value) -> Option<String> {
        record.pointer("/spec/pxcCluster").and_then(serde_json::Value::as_str).map(str::to_owned)
    }

    fn data_deleting_finalizers(&self) -> &'static [&'static str] {
        &DATA_DELETING_FINALIZERS
    }
}

impl super::vendor::BackupVendor for PerconaBackups {
    type Config = MySqlConfig;

    fn settings<'a>(&self, config: &'a MySqlConfig) -> super::vendor::BackupSettings<'a> {
        super::vendor::BackupSettings {
            placement: &config.placement,
            backup: config.backup.as_ref(),
            off_reason: config.backup_off_reason.as_deref(),
            restore: config.restore.as_ref(),
        }
    }

    fn restore_kind(&self) -> kube::core::ApiResource {
        super::objects::api_resource_of::<PerconaXtraDBClusterRestore>()
    }

    fn credentials_secret(&self, config: &MySqlConfig) -> Option<ConnectionSecret> {
        credentials_secret(config)
    }

    fn on_demand(&self, config: &MySqlConfig, request: &str) -> Result<DesiredObject, VendorError> {
        on_demand_backup(config, request)
    }

    fn restore(&self, config: &MySqlConfig) -> Result<Option<DesiredObject>, String> {
        restore(config)
    }

    fn summarize(
        &self,
        config: &MySqlConfig,
        records: &[serde_json::Value],
        previous: Option<&BackupStatus>,
        now: jiff::Timestamp,
    ) -> (BackupStatus, Vec<StatusDetail>) {
        let backups: Vec<(PerconaXtraDBClusterBackup, Option<Time>)> = records
            .iter()
            .filter_map(|r| {
                let backup: PerconaXtraDBClusterBackup = typed(r)?;
                let created = backup.metadata.creation_timestamp.clone();
                Some((backup, created))
            })
            .collect();
        summarize(config, &backups, previous, now)
    }

    fn request_state(&self, request: &str, name: &str, object: Option<&serde_json::Value>) -> BackupRequestStatus {
        let state: Option<PxcBackupState> = object.and_then(|o| o.get("status")).and_then(typed);
        request_state(request, name, state.as_ref())
    }
}
