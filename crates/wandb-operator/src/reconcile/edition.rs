//! The edition of defaults an existing component was created with, and what a newer edition
//! would change (`UpgradeAvailable`).
//!
//! Read from the first desired object that exists (in the caches, so no request): its edition
//! annotation, or none for objects of the 2025 edition, which predate it. A component with no
//! object yet is new and takes the latest edition.

use kube::ResourceExt;
use serde_json::Value;

use super::context::Context;
use super::status_write::detail;
use crate::api::{State, StatusDetail};
use crate::model::{Edition, Placed};
use crate::vendors::{ANNOTATION_EDITION, Desired, Vendor};

/// The edition the component's existing objects were written with; `None` when none exists
/// yet; `Err` when an object names an edition this operator does not know.
pub(crate) fn existing(ctx: &Context, desired: &Desired) -> Option<Result<Edition, String>> {
    let live = desired.objects.iter().find_map(|o| ctx.caches.get(&o.key))?;
    Some(Edition::from_annotation(live.annotations().get(ANNOTATION_EDITION).map(String::as_str)))
}

/// The detail of an object written by a newer operator: nothing is written over it.
pub(crate) fn unknown(message: String) -> StatusDetail {
    detail(
        State::Error,
        "UnknownEdition",
        format!(
            "{message}; nothing is written until an operator that knows it runs (docs/operations.md#editions-of-the-defaults)"
        ),
    )
}

/// `UpgradeAvailable` when `config` keeps an older edition whose objects differ from those of
/// the latest edition (`latest`): it names the version the component runs by default and the
/// one the latest edition runs. A notice, not a change: moving it is an upgrade.
pub(crate) fn upgrade_available<V>(
    vendor: &V,
    config: &V::Config,
    kept: &Desired,
    latest_config: &V::Config,
    latest: &Desired,
) -> Option<StatusDetail>
where
    V: Vendor + ?Sized,
    V::Config: Placed,
{
    let edition = config.edition();
    if edition == Edition::LATEST || same_objects(kept, latest) {
        return None;
    }
    let product = config.placement().component.display_name();
    let versions = match (vendor.applied_version(config), vendor.applied_version(latest_config)) {
        (Some(now), Some(target)) if now != target => {
            format!("{product} {now}; the {} defaults run {target}", Edition::LATEST)
        }
        _ => format!("the {} defaults change its settings", Edition::LATEST),
    };
    Some(detail(
        State::Ready,
        "UpgradeAvailable",
        format!(
            "created with the {edition} defaults, which it keeps: {versions}. Nothing changes until it is upgraded (docs/operations.md#editions-of-the-defaults)"
        ),
    ))
}

/// Whether two desired sets are the same objects apart from the edition annotation.
fn same_objects(a: &Desired, b: &Desired) -> bool {
    let strip = |d: &Desired| -> Vec<Value> {
        d.objects
            .iter()
            .map(|o| {
                let mut body = o.body.clone();
                if let Some(annotations) = body.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) {
                    annotations.remove(ANNOTATION_EDITION);
                    if annotations.is_empty()
                        && let Some(meta) = body.pointer_mut("/metadata").and_then(Value::as_object_mut)
                    {
                        meta.remove("annotations");
                    }
                }
                body
            })
            .collect()
    };
    strip(a) == strip(b)
}
