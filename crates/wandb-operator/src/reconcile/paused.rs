//! A paused component (annotation `apps.wandb.com/pause`): nothing is written for it, except
//! the vendor's own pause on the objects we manage, set once, so that the vendor operator
//! keeps its hands off too. Removing the pause resumes with the normal pipeline, whose one
//! apply per object lifts the vendor's pause (we own that field) and reverts what drifted.

use kube::ResourceExt;
use kube::runtime::events::EventType;

use super::apply::{apply_object, observe_without_writing, read_extra};
use super::cache::is_ours;
use super::context::{Context, Progress};
use super::error::ReconcileError;
use super::guards;
use super::status_write::detail;
use crate::api::{ComponentStatus, PAUSE_ANNOTATION, State, WeightsAndBiases};
use crate::model::{ComponentDescriptor, Pause, Placed};
use crate::registry::VendorOf;
use crate::registry::summary::PAUSED;
use crate::vendors::{Desired, fragment};

/// How a paused managed component was held.
pub(crate) struct Held<K> {
    /// Its status.
    pub status: ComponentStatus<K>,
    /// The vendor's own pause, described, when the vendor has one.
    pub vendor_pause: Option<String>,
}

/// Holds a paused managed component: sets the vendor's own pause on the objects of ours that
/// lack it, writes nothing else, and reports the status (observed, or the last one before the
/// pause when the vendor's pause stops its status too).
pub(crate) async fn hold<D: ComponentDescriptor>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: &'static VendorOf<D>,
    config: &D::Config,
    mut desired: Desired,
    previous: Option<&ComponentStatus<D::Connection>>,
    progress: &Progress,
) -> Result<Held<D::Connection>, ReconcileError> {
    let placement = config.placement();
    if let Some(details) = guards::vendor_api_served(ctx, (vendor.name(), vendor.release_source()), &desired) {
        let state = details.iter().fold(State::Ready, |s, d| s.worst(d.state));
        return Ok(Held {
            status: ComponentStatus { state, details, ..ComponentStatus::default() },
            vendor_pause: None,
        });
    }
    let self_pausing = fragment::mark_paused(&mut desired, |kind| vendor.pause_marker(kind));
    let mut described = Vec::new();
    for object in &desired.objects {
        let Some(marker) = vendor.pause_marker(&object.key.kind) else { continue };
        described.push(fragment::describe(&marker));
        let Some(live) = ctx
            .caches
            .get(&object.key)
            .filter(|l| is_ours(l.labels(), &placement.instance, Some(placement.component.key())))
        else {
            continue;
        };
        if fragment::carries(&serde_json::to_value(&*live).unwrap_or_default(), &marker) {
            continue;
        }
        // The whole object is applied (with its marker): a partial apply by our field manager
        // would give up every field it leaves out.
        apply_object(ctx, object, wandb).await?;
        progress.record();
        let note = format!("paused {}: set {}", object.key, fragment::describe(&marker));
        ctx.event(wandb, EventType::Normal, "Paused", note, Some(&object.key)).await;
    }
    described.dedup();
    let status = if self_pausing {
        previous.cloned().unwrap_or_default()
    } else {
        let mut observed = observe_without_writing(ctx, placement, &desired);
        read_extra(ctx, &desired, &mut observed);
        let mut status = vendor.observe(config, &observed, previous.is_some_and(|p| p.ready));
        status.connection_secret = previous.and_then(|p| p.connection_secret.clone());
        status.backup = previous.and_then(|p| p.backup.clone());
        status.storage = previous.and_then(|p| p.storage.clone());
        status
    };
    let vendor_pause = self_pausing.then(|| format!("{} ({})", vendor.name(), described.join("; ")));
    Ok(Held { status, vendor_pause })
}

/// The `Paused` detail added to a paused component's status (replacing an older one).
pub(crate) fn mark<K>(status: &mut ComponentStatus<K>, pause: &Pause, how: Option<&str>) {
    status.details.retain(|d| d.code != PAUSED);
    let mut message = format!("{PAUSE_ANNOTATION} pauses this component: the operator writes nothing for it; ");
    message.push_str(how.unwrap_or("the status is the last one before the pause"));
    message.push_str("; remove it from the annotation to resume");
    if let Some(why) = pause.unreadable() {
        message = format!("{why}. {message}");
    }
    status.details.push(detail(status.state, PAUSED, message));
}

/// How a managed component is held, for its `Paused` detail.
pub(crate) fn managed_note(vendor_name: &str, vendor_pause: Option<&str>) -> String {
    match vendor_pause {
        Some(paused) => format!(
            "its vendor is paused too, {paused}, and reports nothing while paused, so the status is the last one before the pause"
        ),
        None => format!(
            "{vendor_name} has no pause that keeps the component running and still reconciles its objects; the status is observed as usual"
        ),
    }
}
