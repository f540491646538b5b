//! The backups step of a component whose vendor takes backups (MySQL, issue 12): the S3
//! credentials Secret the vendor reads, the backup records read into status, one on-demand
//! backup per new `apps.wandb.com/backup-now` value, and one restore per new
//! `spec.mysql.restore`. The schedule itself is part of the cluster object (the vendor's).
//! Runs after the component's own steps (`pipeline`).

use kube::ResourceExt;
use kube::api::{Api, DynamicObject, PostParams};
use kube::runtime::events::EventType;
use serde_json::Value;
use tracing::info;

use super::connection_sync::{self, Synced};
use super::context::{Context, Progress};
use super::error::ReconcileError;
use super::status_write::{detail, not_owned};
use crate::api::{BACKUP_NOW_ANNOTATION, BackupStatus, ComponentStatus, State, StatusDetail, WeightsAndBiases};
use crate::model::Placement;
use crate::model::mysql_backup::BackupTarget;
use crate::vendors::{BackupRecords, BackupVendor, DesiredObject, MANAGER, ObjectKey};

/// The cluster's backup records in the cache, as JSON (with their creation times).
fn records(ctx: &Context, vendor: &dyn BackupRecords, placement: &Placement) -> Vec<Value> {
    let kind = vendor.backup_kind();
    let cluster = placement.object_name();
    ctx.caches
        .list(&kind.api_version, &kind.kind, &placement.namespace, |_| true)
        .into_iter()
        .filter_map(|o| serde_json::to_value(&*o).ok())
        .filter(|v| vendor.cluster_of(v).as_deref() == Some(cluster.as_str()))
        .collect()
}

/// Creates a one-off object once (an existing one is kept as it is).
pub(super) async fn create_once(ctx: &Context, object: &DesiredObject) -> Result<bool, ReconcileError> {
    let key = &object.key;
    let resource = ctx
        .caches
        .resource(&key.api_version, &key.kind)
        .ok_or_else(|| ReconcileError::UnknownKind(format!("{} {}", key.api_version, key.kind)))?;
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &key.namespace, &resource);
    let body: DynamicObject = serde_json::from_value(object.body.clone())
        .map_err(|source| crate::vendors::VendorError::Serialize { key: key.to_string(), source })?;
    let params = PostParams { field_manager: Some(MANAGER.to_owned()), ..Default::default() };
    match api.create(&params, &body).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
        Err(source) => Err(ReconcileError::Api { action: format!("create {key}"), source }),
    }
}

/// A cached object as JSON.
pub(super) fn cached(ctx: &Context, key: &ObjectKey) -> Option<Value> {
    ctx.caches.get(key).and_then(|o| serde_json::to_value(&*o).ok())
}

/// Reconciles the component's backups and restore into `status` (its `backup` field and
/// details).
pub(crate) async fn reconcile<C, K>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: &dyn BackupVendor<Config = C>,
    config: &C,
    status: &mut ComponentStatus<K>,
    previous: Option<&BackupStatus>,
    progress: &Progress,
) -> Result<(), ReconcileError> {
    let settings = vendor.settings(config);
    let placement = settings.placement;
    let mut details = Vec::new();
    if let Some(reason) = settings.off_reason {
        details.push(detail(State::Ready, "BackupsOff", reason.to_owned()));
    }

    // The S3 credentials Secret the vendor reads, copied from the storage's Secret.
    if let Some(secret) = vendor.credentials_secret(config) {
        // The managed MinIO's Secret is ours (cached and watched); a bucket's credentials are
        // the user's, read on the probe interval.
        let sources = match settings.backup.map(|b| &b.target) {
            Some(BackupTarget::External { .. }) => {
                let names = secret.source_secrets();
                super::external_check::user_secret_versions(
                    ctx,
                    wandb,
                    "mysql-backup",
                    &secret.source_namespace,
                    &names,
                )
                .await?
            }
            _ => connection_sync::source_versions(ctx, placement, &secret).await?,
        };
        let missing = match sources {
            Err(missing) => Some(missing),
            Ok(versions) => match connection_sync::sync(ctx, wandb, placement, &secret, &versions, progress).await? {
                Synced::Current | Synced::Written => None,
                Synced::SourcesMissing(missing) => Some(missing),
                Synced::NotOwned => {
                    details.push(not_owned(&secret.key));
                    None
                }
            },
        };
        if let Some(missing) = missing {
            let message = format!("{} does not exist yet; backups need it", missing.join(", "));
            details.push(detail(State::Updating, "WaitingForCredentials", message));
        }
    }

    let now = jiff::Timestamp::now();
    let (mut backup, found) = vendor.summarize(config, &records(ctx, vendor, placement), previous, now);
    let new_failure = backup
        .last_failure
        .as_ref()
        .is_some_and(|f| previous.and_then(|p| p.last_failure.as_ref()).is_none_or(|p| p.name != f.name));
    if new_failure && let Some(failure) = &backup.last_failure {
        let note = format!(
            "backup {} failed: {}",
            failure.name,
            failure.message.clone().unwrap_or_else(|| "no message".to_owned())
        );
        ctx.event(wandb, EventType::Warning, "BackupFailed", note, None).await;
    }
    details.extend(found);
    if let Some(ok) = backup.last_success.as_ref().and_then(|s| s.time.as_ref()) {
        ctx.observer.backup_succeeded(&wandb.namespace().unwrap_or_default(), &wandb.name_any(), ok.0.as_second());
    }

    on_demand(ctx, wandb, vendor, config, &mut backup, &mut details).await?;
    restore(ctx, wandb, vendor, config, &mut backup, &mut details).await?;

    let has_anything = settings.backup.is_some() || backup.on_demand.is_some() || backup.restore.is_some();
    status.backup = has_anything.then_some(backup);
    if !details.is_empty() {
        status.ready &= details.iter().all(|d| d.state == State::Ready);
        status.state = details.iter().fold(status.state, |s, d| s.worst(d.state));
        status.details.extend(details);
    }
    Ok(())
}

/// One on-demand backup per new value of the annotation.
async fn on_demand<C>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: &dyn BackupVendor<Config = C>,
    config: &C,
    backup: &mut BackupStatus,
    details: &mut Vec<StatusDetail>,
) -> Result<(), ReconcileError> {
    let settings = vendor.settings(config);
    let Some(request) = wandb.annotations().get(BACKUP_NOW_ANNOTATION).filter(|v| !v.is_empty()) else {
        if let Some(last) = backup.on_demand.take() {
            let key = ObjectKey::new(
                &vendor.backup_kind().api_version,
                &vendor.backup_kind().kind,
                &settings.placement.namespace,
                &last.name,
            );
            backup.on_demand = Some(vendor.request_state(&last.request, &last.name, cached(ctx, &key).as_ref()));
        }
        return Ok(());
    };
    let asked_before = backup.on_demand.as_ref().is_some_and(|d| &d.request == request);
    if !asked_before && settings.backup.is_none() {
        details.push(detail(
            State::Error,
            "BackupNotConfigured",
            format!("{BACKUP_NOW_ANNOTATION}={request} asks for a backup, but backups are off: enable spec.mysql.backup (with a storage)"),
        ));
        return Ok(());
    }
    let object = vendor.on_demand(config, request)?;
    if !asked_before {
        let created = create_once(ctx, &object).await?;
        if created {
            info!(backup = %object.key, "on-demand backup requested");
            let note = format!("requested backup {} ({BACKUP_NOW_ANNOTATION}={request})", object.key.name);
            ctx.event(wandb, EventType::Normal, "BackupRequested", note, Some(&object.key)).await;
        }
    }
    backup.on_demand = Some(vendor.request_state(request, &object.key.name, cached(ctx, &object.key).as_ref()));
    Ok(())
}

/// One restore per new `spec.mysql.restore`; never again for the same request.
async fn restore<C>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: &dyn BackupVendor<Config = C>,
    config: &C,
    backup: &mut BackupStatus,
    details: &mut Vec<StatusDetail>,
) -> Result<(), ReconcileError> {
    let settings = vendor.settings(config);
    let object = match vendor.restore(config) {
        Ok(object) => object,
        Err(message) => {
            details.push(detail(State::Error, "InvalidSpec", message));
            return Ok(());
        }
    };
    let (request, key) = match (settings.restore, &object, &backup.restore) {
        (Some(r), Some(o), _) => (r.request.clone(), o.key.clone()),
        // No restore asked for now: the last one stays reported.
        (None, _, Some(last)) => {
            let kind = vendor.restore_kind();
            (
                last.request.clone(),
                ObjectKey::new(&kind.api_version, &kind.kind, &settings.placement.namespace, &last.name),
            )
        }
        _ => return Ok(()),
    };
    let asked_before = backup.restore.as_ref().is_some_and(|r| r.request == request);
    if let (false, Some(object)) = (asked_before, &object)
        && create_once(ctx, object).await?
    {
        info!(restore = %object.key, "restore requested");
        let note = format!("requested restore {}: the cluster's data will be replaced", object.key.name);
        ctx.event(wandb, EventType::Normal, "RestoreRequested", note, Some(&object.key)).await;
    }
    let state = vendor.request_state(&request, &key.name, cached(ctx, &key).as_ref());
    if settings.restore.is_some() {
        match state.state.as_str() {
            "Succeeded" => details.push(detail(State::Ready, "Restored", format!("restore {} succeeded", key.name))),
            "Failed" => details.push(detail(
                State::Error,
                "RestoreFailed",
                format!(
                    "restore {} failed: {}",
                    key.name,
                    state.message.clone().unwrap_or_else(|| "no message".to_owned())
                ),
            )),
            other => details.push(detail(State::Updating, "Restoring", format!("restore {}: {other}", key.name))),
        }
    }
    backup.restore = Some(state);
    Ok(())
}
