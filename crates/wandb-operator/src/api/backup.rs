//! MySQL backups and restore (issue 12): what a user asks for, and what status reports.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::external::ExternalObjectStorage;

/// The annotation that asks for one immediate backup per new value, e.g.
/// `kubectl annotate --overwrite wandb/NAME apps.wandb.com/backup-now=$(date +%s)`.
pub const BACKUP_NOW_ANNOTATION: &str = "apps.wandb.com/backup-now";

// A 5-field cron expression (minute hour day-of-month month day-of-week; names allowed in the
// last two) or a descriptor such as `@daily`. The operator checks the values themselves.
pub(crate) const CRON_PATTERN: &str = r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|[0-9*/,-]+\s+[0-9*/,-]+\s+[0-9*/,?LW-]+\s+[0-9A-Za-z*/,-]+\s+[0-9A-Za-z*/,?L#-]+)$";

/// Scheduled backups of MySQL, by the Percona operator, to object storage.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct MySqlBackupSpec {
    /// Whether backups run. Omitted: off for `dev`, on for `small` and `large`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// When backups run, as a 5-field cron expression in UTC (`minute hour day month
    /// weekday`) or `@daily`. Default `0 3 * * *` (daily at 03:00).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = CRON_PATTERN), length(min = 1, max = 100))]
    pub schedule: Option<String>,
    /// How many scheduled backups are kept; older ones are removed by Percona. Default 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub keep: Option<i32>,
    /// Where backups go. Omitted: the managed object storage (MinIO) of this resource, prefix
    /// `backups/mysql/` of its bucket, with its credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<BackupStorageSpec>,
}

/// Backup storage.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct BackupStorageSpec {
    /// An S3 bucket, or an S3-compatible endpoint, outside this resource (the same fields as an
    /// external object storage; provider `s3` or `s3-compatible`). Its credentials are copied
    /// into the Secret `<name>-mysql-backup-s3` Percona reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.provider in ['s3', 's3-compatible']").message("backups go to S3 or an S3-compatible endpoint").field_path(".provider").reason(Reason::FieldValueInvalid))]
    pub external: Option<ExternalObjectStorage>,
}

/// A restore of MySQL from one backup: `backupName` (a backup of this cluster) or
/// `destination` (a backup in the backup storage, e.g. of a cluster that was lost).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.backupName) != has(self.destination)").message("set either backupName or destination").reason(Reason::FieldValueInvalid)
)]
pub struct MySqlRestoreSpec {
    /// The name of a `PerconaXtraDBClusterBackup` in the MySQL namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"), length(min = 1, max = 253))]
    pub backup_name: Option<String>,
    /// A backup's location in the backup storage, as status reports it
    /// (`s3://bucket/prefix/<backup>`); read with the backup storage's credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^s3://[a-z0-9][a-z0-9.-]*[a-z0-9](/.*)?$"), length(min = 6, max = 1024))]
    pub destination: Option<String>,
}

/// One backup, as status reports it.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BackupRecord {
    /// The `PerconaXtraDBClusterBackup`.
    pub name: String,
    /// When it completed (success) or was created (failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    /// Where the backup is (`s3://…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// The vendor's message (failures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A one-off request (on-demand backup or restore) and how it went.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BackupRequestStatus {
    /// What asked for it: the annotation value (backup), or a digest of `spec.mysql.restore`
    /// (restore). A new value asks again; the same value never runs twice.
    pub request: String,
    /// The object created for it (`PerconaXtraDBClusterBackup` or `…Restore`).
    pub name: String,
    /// The vendor's state (`Starting`, `Running`, `Restoring`, `Succeeded`, `Failed`, …), or
    /// `Created` before the vendor reports.
    pub state: String,
    /// The vendor's message, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Backups of a component (MySQL).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct BackupStatus {
    /// The schedule in force (cron, UTC); absent when backups are off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Where backups go (`s3://bucket/prefix`); absent when backups are off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// When backups were first configured: the age reference before the first success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Time>,
    /// The last successful backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<BackupRecord>,
    /// The last failed backup, with the vendor's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<BackupRecord>,
    /// When the schedule runs next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_scheduled: Option<Time>,
    /// The last on-demand backup (`apps.wandb.com/backup-now`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand: Option<BackupRequestStatus>,
    /// The last restore (`spec.mysql.restore`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<BackupRequestStatus>,
}
