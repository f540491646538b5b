//! Folding component statuses into the resource status, and writing it at most once per
//! reconcile, only when it changed.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;

use super::error::ReconcileError;
use crate::api::{State, StatusDetail, WeightsAndBiases, WeightsAndBiasesStatus};
use crate::model::{Component, ModelError};
use crate::registry::Registry;
use crate::registry::summary::summarize;
use crate::vendors::{MANAGER, ObjectKey};

/// Now, at the second precision Kubernetes times have.
pub(crate) fn now() -> Time {
    // Kubernetes times have second precision; sub-second parts would churn the status.
    Time(jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap_or_else(|_| jiff::Timestamp::now()))
}

/// The full status: components stamped (`lastReconciled` kept unless a component's status
/// changed), overall state, observedGeneration and conditions.
pub fn fold(
    registry: &Registry,
    wandb: &WeightsAndBiases,
    previous: &WeightsAndBiasesStatus,
    mut next: WeightsAndBiasesStatus,
) -> WeightsAndBiasesStatus {
    let now = now();
    for entry in registry.entries() {
        entry.stamp(&mut next, previous, &now);
    }
    summarize(&mut next, wandb.meta().generation, &previous.conditions, &now);
    next
}

/// Every component in error when the resource itself is invalid (e.g. a name too long).
pub fn invalid_resource(
    registry: &Registry,
    wandb: &WeightsAndBiases,
    previous: &WeightsAndBiasesStatus,
    error: &ModelError,
) -> WeightsAndBiasesStatus {
    let message = error.to_string();
    let mut next = WeightsAndBiasesStatus::default();
    for entry in registry.entries() {
        entry.set_status(&mut next, State::Error, vec![detail(State::Error, "InvalidSpec", message.clone())]);
    }
    fold(registry, wandb, previous, next)
}

/// The status while deletion purges components.
pub fn deleting(
    registry: &Registry,
    wandb: &WeightsAndBiases,
    purging: &[(Component, usize)],
) -> WeightsAndBiasesStatus {
    let previous = wandb.status.clone().unwrap_or_default();
    let mut next = previous.clone();
    for entry in registry.entries() {
        if let Some((_, n)) = purging.iter().find(|(c, _)| *c == entry.component()) {
            let message = format!("deleting {n} objects and claims");
            entry.mark_status(&mut next, State::Deleting, vec![detail(State::Deleting, "Purging", message)]);
        }
    }
    fold(registry, wandb, &previous, next)
}

fn any_detail(registry: &Registry, status: &WeightsAndBiasesStatus, code: &str) -> bool {
    registry.entries().iter().any(|e| e.details(status).iter().any(|d| d.code == code))
}

/// Whether some component only waits for the operator's caches to fill.
pub fn waiting_for_caches(registry: &Registry, status: &WeightsAndBiasesStatus) -> bool {
    any_detail(registry, status, "WaitingForCache")
}

/// Whether some component's spec is invalid.
pub fn has_invalid_spec(registry: &Registry, status: &WeightsAndBiasesStatus) -> bool {
    any_detail(registry, status, "InvalidSpec")
}

#[derive(Serialize, Debug)]
struct StatusPatch<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    status: &'a WeightsAndBiasesStatus,
}

/// Server-side applies the status when it differs from the resource's current status.
/// Returns the `resourceVersion` the write replaced, when it wrote: until the cache has
/// moved past it, the cached resource does not hold the status just written.
pub async fn write_if_changed(
    wandb: &WeightsAndBiases,
    api: &Api<WeightsAndBiases>,
    status: WeightsAndBiasesStatus,
) -> Result<Option<String>, ReconcileError> {
    if wandb.status.as_ref() == Some(&status) {
        return Ok(None);
    }

    let patch = StatusPatch { api_version: "apps.wandb.com/v2", kind: "WeightsAndBiases", status: &status };
    let written = api
        .patch_status(
            &wandb.name_any(),
            &PatchParams::apply(MANAGER).force().validation_strict(),
            &Patch::Apply(&patch),
        )
        .await
        .map_err(ReconcileError::api("write status"))?;
    // The version the write replaced, when it changed the object (a write the server found
    // identical leaves the version as it was).
    let before = wandb.resource_version();
    Ok(before.filter(|b| written.resource_version().as_ref() != Some(b)))
}

/// A status detail.
pub(crate) fn detail(state: State, code: &str, message: String) -> StatusDetail {
    StatusDetail { state, code: code.to_owned(), message }
}

/// `NotOwned`: an object we would write exists without our labels.
pub(crate) fn not_owned(key: &ObjectKey) -> StatusDetail {
    detail(
        State::Error,
        "NotOwned",
        format!("{key} exists and is not managed by this WeightsAndBiases; it is left untouched"),
    )
}
