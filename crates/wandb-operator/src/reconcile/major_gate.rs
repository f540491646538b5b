//! The backup a major upgrade waits for (issue 21, item 2). Before a component moves to a new
//! major line (MySQL 8.0 → 8.4) the operator takes an on-demand backup through the vendor
//! and lets the upgrade go ahead only once the vendor reports it succeeded. Without backups
//! configured the upgrade is refused (`BackupRequired`, decided by the upgrade stage).

use kube::runtime::events::EventType;
use tracing::info;

use super::backups_step::{cached, create_once};
use super::context::Context;
use super::error::ReconcileError;
use crate::api::{UpgradeStatus, WeightsAndBiases};
use crate::vendors::BackupVendor;

/// Where the backup a major upgrade needs stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BackupGate {
    /// The component's vendor takes no backups: a major upgrade is not carried out.
    Unsupported,
    /// Backups are off: a major upgrade is refused until they are configured.
    Off,
    /// The backup is being taken: its name and the vendor's state.
    Pending { name: String, state: String },
    /// The backup failed: its kind, its name and the vendor's message.
    Failed { kind: String, name: String, message: String },
    /// The backup succeeded: the upgrade may go ahead.
    Succeeded { name: String },
}

/// The request (and so the backup's name) of the backup taken before upgrading to `to`.
fn request(to: &str) -> String {
    format!("upgrade-to-{to}")
}

/// Takes (once) the backup before the upgrade to `to` and reports where it stands. An upgrade
/// whose previous status names its backup has it already (the record may since be gone).
pub(crate) async fn ensure<C>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    backups: Option<&dyn BackupVendor<Config = C>>,
    config: &C,
    to: &str,
    previous: Option<&UpgradeStatus>,
) -> Result<BackupGate, ReconcileError> {
    let Some(vendor) = backups else { return Ok(BackupGate::Unsupported) };
    if let Some(previous) = previous
        && previous.to == to
        && let Some(name) = &previous.backup
    {
        return Ok(BackupGate::Succeeded { name: name.clone() });
    }
    if vendor.settings(config).backup.is_none() {
        return Ok(BackupGate::Off);
    }
    let request = request(to);
    let object = vendor.on_demand(config, &request)?;
    let live = cached(ctx, &object.key);
    // Created when the cache has none: once, and again after the user deleted a failed one.
    if live.is_none() && create_once(ctx, &object).await? {
        info!(backup = %object.key, to, "backup before a major upgrade requested");
        let note = format!("taking backup {} before the upgrade to {to}", object.key.name);
        ctx.event(wandb, EventType::Normal, "BackupRequested", note, Some(&object.key)).await;
    }
    let state = vendor.request_state(&request, &object.key.name, live.as_ref());
    let name = object.key.name.clone();
    Ok(match state.state.as_str() {
        "Succeeded" => BackupGate::Succeeded { name },
        "Failed" | "Error" => {
            let message = state.message.unwrap_or_else(|| "no message".to_owned());
            BackupGate::Failed { kind: vendor.backup_kind().kind, name, message }
        }
        other => BackupGate::Pending { name, state: other.to_owned() },
    })
}
