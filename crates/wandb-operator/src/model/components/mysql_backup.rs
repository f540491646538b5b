//! MySQL backups and restore (issue 12): the schedule, where backups go, and a restore asked
//! for, validated. Pure.

use std::str::FromStr;

use super::minio::ObjectStorageService;
use crate::api::{MySqlBackupSpec, MySqlRestoreSpec, ObjectStorageProvider, SecretKeyReference, Size};
use crate::model::error::ModelError;
use crate::model::external_service::ExternalConfig;
use crate::model::placement::Placement;

/// The default schedule: daily at 03:00 UTC.
pub const DEFAULT_SCHEDULE: &str = "0 3 * * *";
/// Scheduled backups kept by default.
pub const DEFAULT_KEEP: i32 = 7;
/// The prefix of the managed object storage's bucket that holds MySQL backups.
pub const MANAGED_PREFIX: &str = "backups/mysql";

/// A validated 5-field cron schedule (UTC).
#[derive(Debug, Clone)]
pub struct Schedule {
    text: String,
    cron: croner::Cron,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

fn chrono_of(t: jiff::Timestamp) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.as_second(), 0)
}

impl Schedule {
    /// Parses a 5-field cron expression or an `@` descriptor (`@daily`, …).
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let text = text.trim();
        let fields = text.split_whitespace().count();
        if !text.starts_with('@') && fields != 5 {
            return Err(format!("{text:?} is not a 5-field cron expression (minute hour day month weekday)"));
        }
        let cron = croner::Cron::from_str(text).map_err(|e| format!("{text:?} is not a valid cron expression: {e}"))?;
        let schedule = Schedule { text: text.to_owned(), cron };
        // A schedule that never fires (e.g. 30 February) is no schedule. Checked from a fixed
        // instant, not the clock: the model stays pure.
        if schedule.next_after(jiff::Timestamp::UNIX_EPOCH).is_none() {
            return Err(format!("{text:?} never fires"));
        }
        Ok(schedule)
    }

    /// The expression.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first run strictly after `t`.
    pub fn next_after(&self, t: jiff::Timestamp) -> Option<jiff::Timestamp> {
        let next = self.cron.find_next_occurrence(&chrono_of(t)?, false).ok()?;
        jiff::Timestamp::from_second(next.timestamp()).ok()
    }

    /// The longest gap between the runs that follow `t` (the next three): what "the schedule
    /// interval" means for a schedule whose gaps vary (e.g. weekdays only).
    pub fn interval_after(&self, t: jiff::Timestamp) -> Option<jiff::SignedDuration> {
        let a = self.next_after(t)?;
        let b = self.next_after(a)?;
        let c = self.next_after(b)?;
        Some(b.duration_since(a).max(c.duration_since(b)))
    }
}

/// Where backups go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupTarget {
    /// The managed MinIO of this resource (its placement: namespace and names).
    ManagedMinio {
        /// The MinIO component's placement.
        placement: Placement,
        /// Whether MinIO serves TLS (its own certificate).
        tls: bool,
    },
    /// An S3 bucket or S3-compatible endpoint.
    External {
        /// Bucket.
        bucket: String,
        /// Prefix inside the bucket, without slashes at either end.
        prefix: Option<String>,
        /// Region.
        region: Option<String>,
        /// `https://host:port` (or `http://` without TLS); `None` for AWS's own endpoint.
        endpoint_url: Option<String>,
        /// The Secret keys to copy (in the MySQL namespace), or `None` for workload identity.
        credentials: Option<(SecretKeyReference, SecretKeyReference)>,
    },
}

/// Scheduled backups.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupConfig {
    /// When.
    pub schedule: Schedule,
    /// How many scheduled backups are kept.
    pub keep: i32,
    /// Where.
    pub target: BackupTarget,
}

/// What a restore reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreSource {
    /// A `PerconaXtraDBClusterBackup` by name.
    BackupName(String),
    /// A location in the backup storage.
    Destination(String),
}

/// A restore asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreConfig {
    /// A digest of the request: the same request never runs twice.
    pub request: String,
    /// What to restore.
    pub source: RestoreSource,
}

/// The backup settings of MySQL: `Ok(None)` when backups are off; `off_reason` explains a
/// default that could not be honoured.
pub(super) struct Resolved {
    pub backup: Option<BackupConfig>,
    pub off_reason: Option<String>,
}

/// Resolves `spec.mysql.backup`. `minio` is the managed MinIO's placement and TLS, when MinIO
/// is managed.
pub(super) fn resolve(
    size: Size,
    spec: Option<&MySqlBackupSpec>,
    minio: Option<(Placement, bool)>,
    mysql: &Placement,
) -> Result<Resolved, ModelError> {
    let f = "spec.mysql.backup";
    let explicit = spec.and_then(|s| s.enabled);
    let enabled = explicit.unwrap_or(size != Size::Dev);
    if !enabled {
        return Ok(Resolved { backup: None, off_reason: None });
    }
    let schedule = Schedule::parse(spec.and_then(|s| s.schedule.as_deref()).unwrap_or(DEFAULT_SCHEDULE))
        .map_err(|m| ModelError::invalid(format!("{f}.schedule"), m))?;
    let keep = spec.and_then(|s| s.keep).unwrap_or(DEFAULT_KEEP);
    if keep < 1 {
        return Err(ModelError::invalid(format!("{f}.keep"), format!("{keep} is below 1")));
    }
    let target = match spec.and_then(|s| s.storage.as_ref()).and_then(|s| s.external.as_ref()) {
        Some(bucket) => external_target(bucket, mysql)?,
        None => match minio {
            Some((placement, tls)) => BackupTarget::ManagedMinio { placement, tls },
            None if explicit == Some(true) => {
                return Err(ModelError::invalid(
                    f,
                    "without storage, backups go to the managed MinIO, which is disabled or external here; set spec.mysql.backup.storage.external",
                ));
            }
            None => {
                return Ok(Resolved {
                    backup: None,
                    off_reason: Some(
                        "backups are off: MinIO is not managed by this resource, so there is no default backup storage; set spec.mysql.backup.storage.external (or spec.mysql.backup.enabled: false to silence this)".to_owned(),
                    ),
                });
            }
        },
    };
    Ok(Resolved { backup: Some(BackupConfig { schedule, keep, target }), off_reason: None })
}

fn external_target(spec: &crate::api::ExternalObjectStorage, mysql: &Placement) -> Result<BackupTarget, ModelError> {
    let f = "spec.mysql.backup.storage.external";
    if !matches!(spec.provider, ObjectStorageProvider::S3 | ObjectStorageProvider::S3Compatible) {
        return Err(ModelError::invalid(format!("{f}.provider"), "backups go to S3 or an S3-compatible endpoint"));
    }
    // The same resolution as an external object storage, with the field paths of this block.
    let ExternalConfig { service, .. } = super::minio::external(spec, mysql.clone())
        .map_err(|e| ModelError::invalid(e.field().replacen("spec.minio.external", f, 1), message_of(&e)))?;
    let ObjectStorageService { bucket, region, endpoint, custom_endpoint, path, credentials, tls, .. } = service;
    let scheme = if tls.enabled { "https" } else { "http" };
    Ok(BackupTarget::External {
        bucket,
        prefix: path.map(|p| p.trim_matches('/').to_owned()).filter(|p| !p.is_empty()),
        region,
        endpoint_url: custom_endpoint.then(|| format!("{scheme}://{endpoint}")),
        credentials: credentials.map(|c| (c.access_key, c.secret_key)),
    })
}

fn message_of(error: &ModelError) -> String {
    match error {
        ModelError::InvalidField { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// Resolves `spec.mysql.restore`.
pub(super) fn restore(spec: Option<&MySqlRestoreSpec>) -> Result<Option<RestoreConfig>, ModelError> {
    let Some(spec) = spec else { return Ok(None) };
    let f = "spec.mysql.restore";
    let source = match (&spec.backup_name, &spec.destination) {
        (Some(name), None) if !name.trim().is_empty() => RestoreSource::BackupName(name.clone()),
        (None, Some(destination)) if destination.starts_with("s3://") && destination.len() > 5 => {
            RestoreSource::Destination(destination.clone())
        }
        (None, Some(destination)) => {
            return Err(ModelError::invalid(
                format!("{f}.destination"),
                format!("{destination:?} is not s3://bucket/…"),
            ));
        }
        _ => return Err(ModelError::invalid(f, "set either backupName or destination")),
    };
    let text = match &source {
        RestoreSource::BackupName(n) => format!("backupName={n}"),
        RestoreSource::Destination(d) => format!("destination={d}"),
    };
    Ok(Some(RestoreConfig { request: digest(&text), source }))
}

/// 8 hex digits of the request's digest: names one-off objects after their request.
pub fn digest(text: &str) -> String {
    crate::model::digest::fnv1a(text)[..8].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_and_give_their_interval() {
        let t = jiff::Timestamp::from_second(1_764_633_600).unwrap(); // 2025-12-02T00:00:00Z
        let daily = Schedule::parse("0 3 * * *").unwrap();
        assert_eq!(daily.next_after(t).unwrap().as_second(), 1_764_633_600 + 3 * 3600);
        assert_eq!(daily.interval_after(t).unwrap(), jiff::SignedDuration::from_hours(24));
        let weekdays = Schedule::parse("0 0 * * 1-5").unwrap();
        // From Thursday 2025-12-04: Friday, then Monday (72 h), then Tuesday.
        let thursday = jiff::Timestamp::from_second(1_764_806_400).unwrap();
        assert_eq!(weekdays.interval_after(thursday).unwrap().as_hours(), 72);
        assert!(Schedule::parse("@daily").is_ok());
        for bad in ["61 * * * *", "* * *", "0 0 0 * *", "0 0 30 2 *", "* * * * * *"] {
            assert!(Schedule::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn the_digest_is_stable_and_short() {
        assert_eq!(digest("backupName=a"), digest("backupName=a"));
        assert_ne!(digest("backupName=a"), digest("backupName=b"));
        assert_eq!(digest("x").len(), 8);
    }
}
