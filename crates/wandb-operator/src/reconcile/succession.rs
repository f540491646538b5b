//! A topology that succeeds another (issue 21, item 5: Redis grown from a standalone into a
//! replication + sentinel pair). The new objects come up beside the old ones, which are left
//! as they are; the connection Secret keeps naming the old ones until the new ones are ready,
//! then switches; then the old ones are retired by the component's retention policy: detach
//! takes our ownership off (they keep running with their data), purge deletes them and then
//! their claims.

use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::context::{Context, Progress};
use super::error::ReconcileError;
use super::retention::Outcome;
use crate::api::{OnDelete, WeightsAndBiases};
use crate::model::Placement;
use crate::vendors::{MANAGER, ObjectKey, Replaced};

/// The detail of a component whose new objects come up beside the ones they replace.
pub(crate) const REPLACING: &str = "Replacing";
/// The detail of a component whose replaced objects are being retired.
pub(crate) const RETIRING: &str = "Retiring";

/// The replaced objects still ours: in the caches and owned by `wandb` (a detached one is
/// not; a purged one is gone).
pub(crate) fn pending<'a>(ctx: &Context, wandb: &WeightsAndBiases, replaced: &'a Replaced) -> Vec<&'a ObjectKey> {
    let uid = wandb.meta().uid.clone().unwrap_or_default();
    replaced
        .objects
        .iter()
        .filter(|key| ctx.caches.get(key).is_some_and(|o| o.owner_references().iter().any(|r| r.uid == uid)))
        .collect()
}

/// Retires the replaced objects by the retention policy. `claims_too`: list and delete their
/// claims (a purge under way; not in steady state, where nothing is listed). A purge asks for
/// the claims' deletion in the same pass as the objects' (after them): the next pass may read
/// a status written before this one (a vendor's finalizer can remove the objects before our
/// own status update reaches the cache), and would then see nothing left to retire, leaving
/// the claims behind (found by `real_vendors` `rv10`, with Opstree's fast finalizer). A claim
/// a Pod still mounts waits for it (claim protection), so nothing is removed under a running
/// server.
pub(crate) async fn retire(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    placement: &Placement,
    replaced: &Replaced,
    claims_too: bool,
    progress: &Progress,
) -> Result<Outcome, ReconcileError> {
    let uid = wandb.meta().uid.clone().unwrap_or_default();
    let mut remaining = 0;
    for key in &replaced.objects {
        let Some(object) = ctx.caches.get(key) else { continue };
        let Some(resource) = ctx.caches.resource(&key.api_version, &key.kind) else { continue };
        let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &key.namespace, &resource);
        match placement.on_delete {
            OnDelete::Detach => {
                let refs = object.owner_references();
                if !refs.iter().any(|r| r.uid == uid) {
                    continue;
                }
                let kept: Vec<_> = refs.iter().filter(|r| r.uid != uid).cloned().collect();
                let patch =
                    json!({"metadata": {"ownerReferences": if kept.is_empty() { json!(null) } else { json!(kept) }}});
                let params = PatchParams { field_manager: Some(MANAGER.to_owned()), ..Default::default() };
                api.patch(&key.name, &params, &Patch::Merge(patch))
                    .await
                    .map_err(ReconcileError::api(format!("detach {key}")))?;
                progress.record();
                let note = format!("detached {key}, which the new topology replaced: it keeps running with its data");
                ctx.event(wandb, EventType::Normal, "Detached", note, Some(key)).await;
            }
            OnDelete::Purge => {
                remaining += 1;
                if object.meta().deletion_timestamp.is_some() {
                    continue;
                }
                match api.delete(&key.name, &DeleteParams::background()).await {
                    Ok(_) => {
                        progress.record();
                        let note = format!("deleted {key}, which the new topology replaced");
                        ctx.event(wandb, EventType::Normal, "Purged", note, Some(key)).await;
                    }
                    Err(kube::Error::Api(e)) if e.code == 404 => {}
                    Err(source) => return Err(ReconcileError::Api { action: format!("delete {key}"), source }),
                }
            }
        }
    }
    if placement.on_delete == OnDelete::Purge && (remaining > 0 || claims_too) {
        // Their claims, by name only (the new objects' claims may carry our labels too).
        let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &placement.namespace);
        let listed = api
            .list_metadata(&ListParams::default())
            .await
            .map_err(ReconcileError::api(format!("list PersistentVolumeClaims in {}", placement.namespace)))?;
        let no_labels = Default::default();
        for claim in listed.items.iter().filter(|c| replaced.claims.matches(&c.name_any(), &no_labels)) {
            remaining += 1;
            if claim.metadata.deletion_timestamp.is_some() {
                continue;
            }
            match api.delete(&claim.name_any(), &DeleteParams::background()).await {
                Ok(_) => progress.record(),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(source) => {
                    let action = format!("delete PersistentVolumeClaim {}/{}", placement.namespace, claim.name_any());
                    return Err(ReconcileError::Api { action, source });
                }
            }
        }
    }
    Ok(if remaining == 0 { Outcome::Done } else { Outcome::InProgress(remaining) })
}
