//! Storage that grows (PRODUCT, "Day two"): a larger storage size is applied only when every
//! claim it would grow has a StorageClass that allows expansion and the vendor can grow its
//! volumes; the vendor's own expansion is turned on with the first increase. The status shows
//! the size asked for and the claims' capacity, read from the claims only when the component
//! first becomes ready and while a size changes (claims are not cached: see
//! `docs/architecture.md`, "What the caches hold").

use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, ListParams};
use kube::{Resource, ResourceExt};

use super::cache::is_ours;
use super::context::{Context, Progress};
use super::error::ReconcileError;
use super::status_write::detail;
use crate::api::{ComponentStatus, State, StatusDetail, StorageStatus};
use crate::model::{ComponentDescriptor, Placement, Quantity};
use crate::registry::VendorOf;
use crate::vendors::{ClaimMatcher, Desired, fragment};

/// The detail code of a growth the cluster or the vendor cannot make.
pub(crate) const EXPANSION_UNSUPPORTED: &str = "StorageExpansionUnsupported";
/// The detail code of claims still smaller than the size asked for.
pub(crate) const RESIZING: &str = "StorageResizing";

/// The size a storage field of `desired` asks for, and the size its live object has.
pub(crate) fn sizes(ctx: &Context, desired: &Desired) -> Vec<(Quantity, Option<Quantity>)> {
    desired
        .storage_fields
        .iter()
        .filter_map(|(key, pointer)| {
            let wanted = desired.objects.iter().find(|o| &o.key == key)?.body.pointer(pointer)?.as_str()?;
            let live = ctx.caches.field(key, pointer).and_then(|v| v.as_str().and_then(|q| Quantity::parse(q).ok()));
            Some((Quantity::parse(wanted).ok()?, live))
        })
        .collect()
}

/// Checks a storage increase before anything is written, and turns the vendor's own volume
/// expansion on from the first increase on (it stays on). Returns the refusals.
pub(crate) async fn check_growth<D: ComponentDescriptor>(
    ctx: &Context,
    vendor: &'static VendorOf<D>,
    placement: &Placement,
    desired: &mut Desired,
    progress: &Progress,
) -> Result<Vec<StatusDetail>, ReconcileError> {
    let growing = sizes(ctx, desired).iter().any(|(wanted, live)| live.as_ref().is_some_and(|l| wanted > l));
    if growing {
        if let Err(why) = vendor.storage_growth() {
            return Ok(vec![detail(State::Error, EXPANSION_UNSUPPORTED, format!("storageSize cannot grow: {why}"))]);
        }
        let claims = claims(ctx, progress, placement, &vendor.storage_claims(placement)).await?;
        let refusals = classes_refusing(ctx, &claims).await?;
        if !refusals.is_empty() {
            return Ok(refusals);
        }
    }
    let installed = ctx.releases.get(vendor.release_source());
    for object in &mut desired.objects {
        let Some(marker) = vendor.expansion_marker(&object.key.kind, installed) else { continue };
        let on = ctx
            .caches
            .get(&object.key)
            .is_some_and(|l| fragment::carries(&serde_json::to_value(&*l).unwrap_or_default(), &marker));
        if growing || on {
            fragment::merge(&mut object.body, &marker);
        }
    }
    Ok(Vec::new())
}

/// The component's claims (full objects: their class and capacity), from the namespace's
/// claims listed once in the pass.
async fn claims(
    ctx: &Context,
    progress: &Progress,
    placement: &Placement,
    matcher: &ClaimMatcher,
) -> Result<Vec<PersistentVolumeClaim>, ReconcileError> {
    let namespace = &placement.namespace;
    let listed = progress
        .claims(namespace, || async {
            let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), namespace);
            let listed = api
                .list(&ListParams::default())
                .await
                .map_err(ReconcileError::api(format!("list PersistentVolumeClaims in {namespace}")))?;
            Ok::<_, ReconcileError>(listed.items)
        })
        .await?;
    Ok(listed
        .iter()
        .filter(|c| {
            matcher.matches(&c.name_any(), c.labels())
                || is_ours(c.labels(), &placement.instance, Some(placement.component.key()))
        })
        .filter(|c| c.meta().deletion_timestamp.is_none())
        .cloned()
        .collect())
}

/// A refusal for each claim without a StorageClass and each StorageClass that does not allow
/// expansion (read by name; the API server would refuse the claims' growth too).
async fn classes_refusing(
    ctx: &Context,
    claims: &[PersistentVolumeClaim],
) -> Result<Vec<StatusDetail>, ReconcileError> {
    let mut refusals = Vec::new();
    let mut checked: Vec<String> = Vec::new();
    let api: Api<StorageClass> = Api::all(ctx.client.clone());
    for claim in claims {
        let class = claim.spec.as_ref().and_then(|s| s.storage_class_name.clone()).filter(|c| !c.is_empty());
        let Some(class) = class else {
            let message = format!(
                "storageSize cannot grow: claim {} has no StorageClass (a volume bound by hand cannot grow through its claim)",
                claim.name_any()
            );
            refusals.push(detail(State::Error, EXPANSION_UNSUPPORTED, message));
            continue;
        };
        if checked.contains(&class) {
            continue;
        }
        checked.push(class.clone());
        let found = api.get_opt(&class).await.map_err(ReconcileError::api(format!("read StorageClass {class}")))?;
        let why = match found {
            None => "does not exist".to_owned(),
            Some(c) if c.allow_volume_expansion == Some(true) => continue,
            Some(_) => "does not allow volume expansion (allowVolumeExpansion is not true)".to_owned(),
        };
        let message = format!(
            "storageSize cannot grow: StorageClass {class} of claim {} {why}; nothing is applied. Set allowVolumeExpansion: true on it if its provisioner can grow volumes, or keep the size",
            claim.name_any()
        );
        refusals.push(detail(State::Error, EXPANSION_UNSUPPORTED, message));
    }
    Ok(refusals)
}

/// The component's storage status: the size asked for (`applied`: the storage size of what
/// is applied) and the claims' smallest capacity, read from the claims only when the
/// component is ready and their capacity not yet known, when the size changed and while
/// claims are smaller.
/// Adds `StorageResizing` while some claim is smaller than asked.
pub(crate) async fn status<D: ComponentDescriptor>(
    ctx: &Context,
    vendor: &'static VendorOf<D>,
    placement: &Placement,
    applied: Option<Quantity>,
    status: &mut ComponentStatus<D::Connection>,
    (previous, replaced): (Option<&StorageStatus>, Option<&ClaimMatcher>),
    progress: &Progress,
) -> Result<(), ReconcileError> {
    let Some(requested) = applied else { return Ok(()) };
    let smaller = |capacity: &Option<String>| {
        capacity.as_deref().and_then(|c| Quantity::parse(c).ok()).is_some_and(|c| c < requested)
    };
    let read = match previous {
        None => status.ready,
        // A claim reports its capacity a moment after it is bound: read again until it does.
        Some(p) => {
            Quantity::parse(&p.requested).ok().as_ref() != Some(&requested)
                || smaller(&p.capacity)
                || (p.capacity.is_none() && status.ready)
        }
    };
    if !read {
        status.storage = previous.cloned();
        return Ok(());
    }
    let mut claims = claims(ctx, progress, placement, &vendor.storage_claims(placement)).await?;
    // Not the claims of objects a new topology replaced (kept by detach at their size).
    if let Some(replaced) = replaced {
        claims.retain(|c| !replaced.matches(&c.name_any(), &Default::default()));
    }
    let capacities: Vec<Option<Quantity>> = claims
        .iter()
        .map(|c| {
            let capacity = c.status.as_ref()?.capacity.as_ref()?.get("storage")?;
            Quantity::parse(&capacity.0).ok()
        })
        .collect();
    let capacity = if capacities.is_empty() || capacities.iter().any(Option::is_none) {
        None
    } else {
        capacities.iter().flatten().min().cloned()
    };
    let storage = StorageStatus {
        requested: requested.to_string(),
        capacity: capacity.as_ref().map(ToString::to_string),
        claims: u32::try_from(claims.len()).unwrap_or(u32::MAX),
    };
    if smaller(&storage.capacity) {
        let growing: Vec<String> = claims
            .iter()
            .filter(|c| {
                let capacity = c.status.as_ref().and_then(|s| s.capacity.as_ref()).and_then(|m| m.get("storage"));
                capacity.and_then(|q| Quantity::parse(&q.0).ok()).is_some_and(|q| q < requested)
            })
            .map(|c| {
                let conditions: Vec<String> = c
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .map(|cs| cs.iter().filter(|k| k.status == "True").map(|k| k.type_.clone()).collect())
                    .unwrap_or_default();
                if conditions.is_empty() {
                    c.name_any()
                } else {
                    format!("{} ({})", c.name_any(), conditions.join(", "))
                }
            })
            .collect();
        let message = format!(
            "volumes growing to {requested}: {} still smaller (FileSystemResizePending: the file system grows when its Pod restarts)",
            growing.join(", ")
        );
        status.state = status.state.worst(State::Updating);
        status.details.push(detail(State::Updating, RESIZING, message));
    }
    status.storage = Some(storage);
    Ok(())
}

/// The storage size of what is applied: `desired`'s first storage field, or the live object's
/// when writing was refused.
pub(crate) fn applied_size(ctx: &Context, desired: &Desired, refused: bool) -> Option<Quantity> {
    let (wanted, live) = sizes(ctx, desired).into_iter().next()?;
    if refused { live } else { Some(wanted) }
}
