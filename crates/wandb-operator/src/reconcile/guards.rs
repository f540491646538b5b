//! The checks that protect data before anything is written for a managed component: the
//! vendor's API is served, every object we would write is ours (or mislabelled by us, and
//! repaired), no object of another topology exists, and no storage would shrink.

use std::collections::BTreeMap;

use kube::ResourceExt;
use kube::api::{Api, DynamicObject};

use super::cache::{KindState, is_ours};
use super::context::{Context, Progress};
use super::error::ReconcileError;
use super::ownership;
use super::status_write::{detail, not_owned};
use crate::api::{State, StatusDetail, WeightsAndBiases};
use crate::model::Placement;
use crate::vendors::{Desired, ObjectKey, ReleaseSource};

/// What the guards found.
pub(crate) enum Guarded {
    /// Nothing can be done yet (the vendor's API is not served or not cached): the component's
    /// status is these details.
    Blocked(Vec<StatusDetail>),
    /// Checked; the refusals (if any) stop every write, and are reported before the vendor's
    /// own details.
    Checked {
        /// Why writing is refused.
        refusals: Vec<StatusDetail>,
    },
}

/// Runs every guard for `desired`, in order.
pub(crate) async fn check(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: (&str, Option<ReleaseSource>),
    placement: &Placement,
    desired: &Desired,
    progress: &Progress,
) -> Result<Guarded, ReconcileError> {
    if let Some(blocked) = vendor_api_served(ctx, vendor, desired) {
        return Ok(Guarded::Blocked(blocked));
    }
    let mut refusals = ownership_refusals(ctx, wandb, placement, desired, progress).await?;
    refusals.extend(topology_refusals(ctx, desired));
    refusals.extend(storage_refusals(ctx, desired));
    refusals.extend(fixed_field_refusals(ctx, desired));
    Ok(Guarded::Checked { refusals })
}

/// The vendor's API must be served (and listed into the caches) before anything is written. A
/// vendor whose CRD is installed but does not serve our API version is too old (or too new).
pub(crate) fn vendor_api_served(
    ctx: &Context,
    (vendor_name, source): (&str, Option<ReleaseSource>),
    desired: &Desired,
) -> Option<Vec<StatusDetail>> {
    let mut waiting = false;
    for object in &desired.objects {
        match ctx.caches.state(&object.key.api_version, &object.key.kind, &object.key.namespace) {
            KindState::Missing if ctx.releases.installed(source) => {
                let serves = source.map(|s| s.serves_our_version).unwrap_or_default();
                return Some(vec![detail(
                    State::Error,
                    "VendorVersionUnsupported",
                    format!(
                        "the installed {vendor_name} CRDs do not serve {} {}: {serves}; nothing is written until it is upgraded",
                        object.key.api_version, object.key.kind
                    ),
                )]);
            }
            KindState::Missing => {
                return Some(vec![detail(
                    State::Error,
                    "CRDMissing",
                    format!(
                        "{} {} is not served: install the {} CRDs",
                        object.key.api_version, object.key.kind, vendor_name
                    ),
                )]);
            }
            KindState::NotWatched => {
                return Some(vec![detail(
                    State::Error,
                    "NamespaceNotWatched",
                    format!("namespace {} is not watched by this operator", object.key.namespace),
                )]);
            }
            KindState::Unknown => waiting = true,
            KindState::Ready => {}
        }
    }
    waiting.then(|| {
        vec![detail(State::Unknown, "WaitingForCache", "the operator is still listing the vendor's objects".to_owned())]
    })
}

/// Every object and generated Secret we would write must carry our labels; one we labelled
/// for another component of ours is repaired, anything else is refused.
async fn ownership_refusals(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    placement: &Placement,
    desired: &Desired,
    progress: &Progress,
) -> Result<Vec<StatusDetail>, ReconcileError> {
    let component = placement.component.key();
    let mut refusals = Vec::new();
    let keys = desired.objects.iter().map(|o| &o.key).chain(desired.secrets.iter().map(|s| &s.key));
    for key in keys {
        let cached = ctx.caches.get(key);
        // The caches only hold objects with our labels: an object we are about to create
        // may exist without them. One read per missing object, never in steady state.
        let read = if cached.is_none() { read_labels(ctx, key).await? } else { None };
        let (labels, version) = match (&cached, &read) {
            (Some(live), _) => (live.labels(), live.metadata.resource_version.as_ref()),
            (None, Some((labels, version))) => (labels, version.as_ref()),
            (None, None) => continue,
        };
        if is_ours(labels, &placement.instance, Some(component)) {
            continue;
        }
        match ownership::mislabelled_as(key, labels, placement, &ctx.registry.components()) {
            Some(other) => {
                ownership::repair_label(ctx, wandb, placement, key, other, version.cloned(), progress).await?
            }
            None => refusals.push(not_owned(key)),
        }
    }
    Ok(refusals)
}

/// Objects of another topology must not exist: switching would leave their data behind.
fn topology_refusals(ctx: &Context, desired: &Desired) -> Vec<StatusDetail> {
    desired
        .exclusive_with
        .iter()
        .filter(|key| ctx.caches.get(key).is_some())
        .map(|key| {
            detail(
                State::Error,
                "TopologyChangeRefused",
                format!("{key} exists: switching topology would leave its data behind; delete it explicitly to switch"),
            )
        })
        .collect()
}

/// A storage size below the live one is refused (volumes do not shrink).
fn storage_refusals(ctx: &Context, desired: &Desired) -> Vec<StatusDetail> {
    super::storage::sizes(ctx, desired)
        .into_iter()
        .filter_map(|(wanted, live)| live.filter(|live| wanted < *live).map(|live| (wanted, live)))
        .map(|(wanted, live)| {
            let (wanted, live) = (wanted.as_str(), live.as_str());
            let message = format!("storageSize cannot shrink from {live} to {wanted}; {live} is kept");
            detail(State::Error, "StorageShrinkRefused", message)
        })
        .collect()
}

/// A field the vendor cannot change may not differ from the live object's.
fn fixed_field_refusals(ctx: &Context, desired: &Desired) -> Vec<StatusDetail> {
    let mut refusals: Vec<StatusDetail> = Vec::new();
    for field in &desired.fixed_fields {
        let wanted = desired.objects.iter().find(|o| o.key == field.key).and_then(|o| o.body.pointer(field.pointer));
        let live = ctx.caches.field(&field.key, field.pointer);
        let live = live.as_ref();
        if let (Some(wanted), Some(live)) = (wanted, live)
            && wanted != live
            && field.from.as_ref().is_none_or(|from| from == live)
        {
            let message =
                format!("{} {} cannot change from {live} to {wanted}: {}", field.key, field.pointer, field.why);
            if !refusals.iter().any(|r| r.code == field.code) {
                refusals.push(detail(State::Error, field.code, message));
            }
        }
    }
    refusals
}

/// The labels and `resourceVersion` of an object read from the API (`None` when it does not
/// exist).
async fn read_labels(
    ctx: &Context,
    key: &ObjectKey,
) -> Result<Option<(BTreeMap<String, String>, Option<String>)>, ReconcileError> {
    let Some(resource) = ctx.caches.resource(&key.api_version, &key.kind) else { return Ok(None) };
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &key.namespace, &resource);
    let live = api.get_metadata_opt(&key.name).await.map_err(ReconcileError::api(format!("read {key}")))?;
    Ok(live.map(|o| (o.metadata.labels.unwrap_or_default(), o.metadata.resource_version)))
}
