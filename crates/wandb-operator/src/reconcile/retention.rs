//! Retention (PRODUCT §6): `detach` removes our owner references and keeps everything;
//! `purge` deletes the vendor objects, their PVCs and the generated Secrets. Applied to a
//! disabled component, and to every component when the resource is deleted.

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Secret};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::ApiResource;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::json;
use std::time::Duration;

use super::cache::{belongs_to, is_ours};
use super::context::{Context, Progress};
use super::error::ReconcileError;
use super::{finalizers, status_write};
use crate::api::{ComponentStatus, OnDelete, State, StatusDetail, WeightsAndBiases};
use crate::model::Placement;
use crate::vendors::{BackupRecords, ClaimMatcher, ObjectKey, api_resource_of, fragment};

/// What a component left in the cluster when it was managed: what retention acts on.
pub(crate) struct Leftovers {
    /// The vendor's kinds.
    pub kinds: Vec<ApiResource>,
    /// The vendor's data claims.
    pub claims: ClaimMatcher,
    /// The vendor's backup records, when it takes backups.
    pub backups: Option<&'static dyn BackupRecords>,
    /// Secrets the vendor makes for the component (found by name, whether or not we labelled
    /// them): a purge deletes them too.
    pub vendor_secrets: Vec<String>,
    /// The vendor's own pause per kind ([`crate::vendors::Vendor::pause_marker`]): lifted
    /// before a purge (a paused vendor would not finalize its object) and on detach (what is
    /// left runs under its vendor again).
    pub pause_markers: Vec<(String, serde_json::Value)>,
}

impl Leftovers {
    /// The merge patch that lifts the vendor's pause from `object`, when it carries one.
    fn pause_lift(&self, kind: &ApiResource, object: &DynamicObject) -> Option<serde_json::Value> {
        let (_, marker) = self.pause_markers.iter().find(|(k, _)| *k == kind.kind)?;
        let live = serde_json::to_value(object).ok()?;
        fragment::carries(&live, marker).then(|| fragment::lift_patch(marker))
    }
}

/// What retention achieved.
pub(crate) enum Outcome {
    /// Nothing of ours is left to act on.
    Done,
    /// Deletions are in progress.
    InProgress(usize),
}

/// The status code of a component whose purge has finished.
const PURGED: &str = "Purged";

/// How one retention pass runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    /// A purge finished before and no vendor object is left: claims are not listed again.
    pub purged_before: bool,
    /// Secrets of the component that stay whatever the policy (the connection Secret of a
    /// component that switched to external).
    pub keep: &'a [String],
}

fn objects_of(
    ctx: &Context,
    placement: &Placement,
    kinds: &[ApiResource],
    keep: &[String],
) -> Vec<(ApiResource, DynamicObject)> {
    let secret = api_resource_of::<Secret>();
    kinds
        .iter()
        .chain(std::iter::once(&secret))
        .flat_map(|kind| {
            ctx.caches
                .list(&kind.api_version, &kind.kind, &placement.namespace, |meta| {
                    belongs_to(
                        meta.labels.as_ref().unwrap_or(&Default::default()),
                        &placement.instance,
                        placement.component.key(),
                    )
                })
                .into_iter()
                .filter(|o| kind.kind != "Secret" || !keep.contains(&o.name_any()))
                .map(move |o| (kind.clone(), (*o).clone()))
        })
        .collect()
}

fn key_of(kind: &ApiResource, placement: &Placement, object: &DynamicObject) -> ObjectKey {
    ObjectKey::new(&kind.api_version, &kind.kind, &placement.namespace, &object.name_any())
}

/// The component's claims, read from the API (metadata only). Claims are not cached: only a
/// purge reads them, and a cache of every claim in the watched namespaces would grow with
/// other applications' storage (`docs/architecture.md`, "What the caches hold").
async fn list_claims(
    ctx: &Context,
    placement: &Placement,
    claims: &ClaimMatcher,
) -> Result<Vec<(ApiResource, DynamicObject)>, ReconcileError> {
    let kind = api_resource_of::<PersistentVolumeClaim>();
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &placement.namespace);
    let listed = api
        .list_metadata(&ListParams::default())
        .await
        .map_err(ReconcileError::api(format!("list PersistentVolumeClaims in {}", placement.namespace)))?;
    Ok(listed
        .items
        .into_iter()
        .filter(|claim| {
            claims.matches(&claim.name_any(), claim.labels())
                || is_ours(claim.labels(), &placement.instance, Some(placement.component.key()))
        })
        .map(|claim| {
            (kind.clone(), DynamicObject { types: None, metadata: claim.metadata, data: serde_json::Value::Null })
        })
        .collect())
}

/// The vendor's Secrets for the component that exist but are not among `objects` (we never
/// labelled them: their component reads its credentials elsewhere), read by name.
async fn unlabelled_vendor_secrets(
    ctx: &Context,
    placement: &Placement,
    names: &[String],
    objects: &[(ApiResource, DynamicObject)],
) -> Result<Vec<(ApiResource, DynamicObject)>, ReconcileError> {
    let kind = api_resource_of::<Secret>();
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &placement.namespace);
    let mut found = Vec::new();
    for name in names {
        if objects.iter().any(|(k, o)| k.kind == "Secret" && &o.name_any() == name) {
            continue;
        }
        let action = format!("read Secret {}/{name}", placement.namespace);
        if let Some(meta) = api.get_metadata_opt(name).await.map_err(ReconcileError::api(action))? {
            found.push((
                kind.clone(),
                DynamicObject { types: None, metadata: meta.metadata, data: serde_json::Value::Null },
            ));
        }
    }
    Ok(found)
}

/// Applies the component's retention policy to what it has in the cluster.
pub(crate) async fn apply(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    placement: &Placement,
    leftovers: &Leftovers,
    scope: Scope<'_>,
    progress: &Progress,
) -> Result<Outcome, ReconcileError> {
    let purged_before = scope.purged_before;
    // A vendor API that is not served has nothing of ours to act on.
    let served: Vec<ApiResource> = leftovers
        .kinds
        .iter()
        .filter(|k| ctx.caches.state(&k.api_version, &k.kind, &placement.namespace) == super::cache::KindState::Ready)
        .cloned()
        .collect();
    let objects = objects_of(ctx, placement, &served, scope.keep);
    let uid = wandb.meta().uid.clone().unwrap_or_default();
    // Every object is attempted in each pass, and the first failure is returned at the end:
    // under flaky API conditions each pass shrinks the remaining work instead of stopping at
    // the first object that failed.
    let mut first_error: Option<ReconcileError> = None;
    match placement.on_delete {
        OnDelete::Detach => {
            for (kind, object) in objects {
                let refs = object.owner_references();
                let lift = leftovers.pause_lift(&kind, &object);
                let owned = refs.iter().any(|r| r.uid == uid);
                if !owned && lift.is_none() {
                    continue;
                }
                let key = key_of(&kind, placement, &object);
                let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &placement.namespace, &kind);
                let mut patch = lift.unwrap_or_else(|| json!({}));
                if owned {
                    let kept: Vec<_> = refs.iter().filter(|r| r.uid != uid).cloned().collect();
                    patch["metadata"]["ownerReferences"] =
                        if kept.is_empty() { serde_json::Value::Null } else { json!(kept) };
                }
                let patched = api
                    .patch(
                        &key.name,
                        &PatchParams { field_manager: Some(crate::vendors::MANAGER.to_owned()), ..Default::default() },
                        &Patch::Merge(patch),
                    )
                    .await
                    .map_err(ReconcileError::api(format!("detach {key}")));
                if let Err(error) = patched {
                    first_error.get_or_insert(error);
                    continue;
                }
                progress.record();
                let note = format!("detached {key}: it keeps running with its data");
                ctx.event(wandb, EventType::Normal, "Detached", note, Some(&key)).await;
            }
            first_error.map_or(Ok(Outcome::Done), Err)
        }
        OnDelete::Purge => {
            // Once a purge has finished and no vendor object of ours is left, nothing can make
            // new claims for this component: the claims are not listed again.
            if objects.is_empty() && purged_before {
                return Ok(Outcome::Done);
            }
            if let Some(backups) = leftovers.backups
                && !objects.is_empty()
            {
                protect_backups(ctx, placement, backups).await?;
            }
            let claims = list_claims(ctx, placement, &leftovers.claims).await?;
            let vendor_secrets = unlabelled_vendor_secrets(ctx, placement, &leftovers.vendor_secrets, &objects).await?;
            let claims: Vec<_> = claims.into_iter().chain(vendor_secrets).collect();
            let remaining = objects.len() + claims.len();
            if remaining == 0 {
                return Ok(Outcome::Done);
            }
            for (kind, object) in objects.into_iter().chain(claims) {
                let key = key_of(&kind, placement, &object);
                let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &placement.namespace, &kind);
                // Lifted even from an object already being deleted (by hand): its vendor
                // finalizes it only once it is no longer paused.
                if let Some(lift) = leftovers.pause_lift(&kind, &object) {
                    let params =
                        PatchParams { field_manager: Some(crate::vendors::MANAGER.to_owned()), ..Default::default() };
                    match api.patch(&key.name, &params, &Patch::Merge(lift)).await {
                        Ok(_) => progress.record(),
                        Err(kube::Error::Api(e)) if e.code == 404 => continue,
                        Err(source) => {
                            first_error.get_or_insert(ReconcileError::Api { action: format!("resume {key}"), source });
                            continue;
                        }
                    }
                }
                if object.meta().deletion_timestamp.is_some() {
                    continue;
                }
                match api.delete(&key.name, &DeleteParams::background()).await {
                    Ok(_) => {
                        progress.record();
                        ctx.event(wandb, EventType::Normal, "Purged", format!("deleted {key}"), Some(&key)).await
                    }
                    Err(kube::Error::Api(e)) if e.code == 404 => {}
                    Err(source) => {
                        first_error.get_or_insert(ReconcileError::Api { action: format!("delete {key}"), source });
                    }
                }
            }
            first_error.map_or(Ok(Outcome::InProgress(remaining)), Err)
        }
    }
}

/// The status of a disabled component after applying its retention policy; `previous` is its
/// status before this pass (a finished purge is not repeated).
pub async fn disabled<K>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    placement: &Placement,
    leftovers: &Leftovers,
    previous: Option<&ComponentStatus<K>>,
    progress: &Progress,
) -> Result<ComponentStatus<K>, ReconcileError> {
    let purged_before = previous.is_some_and(|p| p.details.iter().any(|d| d.code == PURGED));
    let (state, code, message) =
        match apply(ctx, wandb, placement, leftovers, Scope { purged_before, keep: &[] }, progress).await? {
            Outcome::InProgress(n) => {
                (State::Deleting, "Purging", format!("component disabled: deleting {n} objects and claims"))
            }
            Outcome::Done if placement.on_delete == OnDelete::Purge => {
                (State::Offline, PURGED, "component disabled; its objects and data were deleted".to_owned())
            }
            Outcome::Done => {
                (State::Offline, "Detached", "component disabled; its objects and data are kept".to_owned())
            }
        };
    Ok(ComponentStatus {
        ready: false,
        state,
        details: vec![StatusDetail { state, code: code.to_owned(), message }],
        ..ComponentStatus::default()
    })
}

/// Deletion of the resource: every component's retention policy, then the finalizers go.
pub async fn finalize(
    wandb: &WeightsAndBiases,
    api: &Api<WeightsAndBiases>,
    ctx: &Context,
    progress: &Progress,
) -> Result<Action, ReconcileError> {
    let entries = ctx.registry.entries();
    let mut deleting = Vec::new();
    let mut first_error = None;
    for entry in &entries {
        let placement = &entry.placement_for_deletion(wandb)?;
        let leftovers = Leftovers {
            kinds: entry.kinds(),
            claims: entry.data_claims(placement),
            backups: entry.backup_records(),
            vendor_secrets: entry.vendor_secrets(placement),
            pause_markers: entry
                .kinds()
                .iter()
                .filter_map(|k| entry.pause_marker(&k.kind).map(|m| (k.kind.clone(), m)))
                .collect(),
        };
        // A component that fails does not stop the others' retention in this pass.
        match apply(ctx, wandb, placement, &leftovers, Scope { purged_before: false, keep: &[] }, progress).await {
            Ok(Outcome::InProgress(n)) => deleting.push((placement.component, n)),
            Ok(Outcome::Done) => {}
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    if deleting.is_empty() {
        finalizers::release(wandb, api).await?;
        ctx.checks.forget_resource(&wandb.namespace().unwrap_or_default(), &wandb.name_any());
        return Ok(Action::await_change());
    }
    status_write::write_if_changed(wandb, api, status_write::deleting(&ctx.registry, wandb, &deleting)).await?;
    Ok(Action::requeue(Duration::from_secs(2)))
}

/// Before a purge deletes the cluster, its backup records are detached from it and lose the
/// finalizers with which the vendor would delete their data: a purge never deletes backups
/// in object storage.
async fn protect_backups(
    ctx: &Context,
    placement: &Placement,
    vendor: &dyn BackupRecords,
) -> Result<(), ReconcileError> {
    let kind = vendor.backup_kind();
    let cluster = placement.object_name();
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &placement.namespace, &kind);
    for record in ctx.caches.list(&kind.api_version, &kind.kind, &placement.namespace, |_| true) {
        let value = serde_json::to_value(&*record).unwrap_or_default();
        if vendor.cluster_of(&value).as_deref() != Some(cluster.as_str()) {
            continue;
        }
        let finalizers = record.finalizers();
        let owners = record.owner_references();
        let deleting = finalizers.iter().any(|f| vendor.data_deleting_finalizers().contains(&f.as_str()));
        if !deleting && owners.is_empty() {
            continue;
        }
        let kept: Vec<&String> =
            finalizers.iter().filter(|f| !vendor.data_deleting_finalizers().contains(&f.as_str())).collect();
        let patch = json!({"metadata": {
            "finalizers": kept,
            "ownerReferences": serde_json::Value::Null,
            "resourceVersion": record.meta().resource_version,
        }});
        let name = record.name_any();
        api.patch(
            &name,
            &PatchParams { field_manager: Some(crate::vendors::MANAGER.to_owned()), ..Default::default() },
            &Patch::Merge(patch),
        )
        .await
        .map_err(ReconcileError::api(format!("protect backup {}/{name}", placement.namespace)))?;
        tracing::info!(backup = %name, "kept the backup record and its data out of the purge");
    }
    Ok(())
}
