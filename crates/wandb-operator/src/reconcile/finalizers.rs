//! The cleanup finalizer and the removal of legacy finalizers, written with a merge patch
//! guarded by the object's resourceVersion (a concurrent change gives 409 and a retry).

use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::error::ReconcileError;
use crate::api::{FINALIZER, LEGACY_FINALIZERS, WeightsAndBiases};

async fn set(wandb: &WeightsAndBiases, api: &Api<WeightsAndBiases>, next: &[String]) -> Result<(), ReconcileError> {
    let patch = json!({"metadata": {"finalizers": next, "resourceVersion": wandb.meta().resource_version}});
    api.patch(
        &wandb.name_any(),
        &PatchParams { field_manager: Some(crate::vendors::MANAGER.to_owned()), ..Default::default() },
        &Patch::Merge(patch),
    )
    .await
    .map_err(ReconcileError::api("update finalizers"))?;
    Ok(())
}

/// Ensures the cleanup finalizer is present and legacy finalizers are gone. Returns whether it
/// wrote.
pub async fn ensure(wandb: &WeightsAndBiases, api: &Api<WeightsAndBiases>) -> Result<bool, ReconcileError> {
    let current = wandb.finalizers();
    let mut next: Vec<String> = current.iter().filter(|f| !LEGACY_FINALIZERS.contains(&f.as_str())).cloned().collect();
    if !next.iter().any(|f| f == FINALIZER) {
        next.push(FINALIZER.to_owned());
    }
    if next == current {
        return Ok(false);
    }
    set(wandb, api, &next).await.map(|()| true)
}

/// Removes ours and the legacy finalizers, so that deletion proceeds.
pub async fn release(wandb: &WeightsAndBiases, api: &Api<WeightsAndBiases>) -> Result<(), ReconcileError> {
    let current = wandb.finalizers();
    let next: Vec<String> =
        current.iter().filter(|f| *f != FINALIZER && !LEGACY_FINALIZERS.contains(&f.as_str())).cloned().collect();
    if next.len() == current.len() {
        return Ok(());
    }
    set(wandb, api, &next).await
}
