//! W&B's minimum versions, checked against what a component runs (managed: what the vendor
//! reports or the image applied; external: what the server announces): below the minimum, or
//! another product, a `VersionBelowMinimum` notice and, when it first appears, a Warning event.
//! A warning, not an outage: the component's state stays what its checks say.

use kube::runtime::events::EventType;

use super::context::Context;
use super::status_write::detail;
use crate::api::{ComponentStatus, State, StatusDetail, WeightsAndBiases};
use crate::model::Component;

/// The detail (and Warning event) of a server older than W&B supports, or another product.
pub(crate) const VERSION_BELOW_MINIMUM: &str = "VersionBelowMinimum";

/// The `VersionBelowMinimum` notice for `version` of `component`, if it is below W&B's minimum;
/// a Warning event the first time (not in `previous`).
pub(crate) async fn below_minimum<C>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    component: Component,
    version: Option<&str>,
    previous: Option<&ComponentStatus<C>>,
) -> Option<StatusDetail> {
    let shortfall = component.minimum_version()?.shortfall(version?)?;
    let seen = previous.is_some_and(|p| p.details.iter().any(|d| d.code == VERSION_BELOW_MINIMUM));
    if !seen {
        ctx.event(wandb, EventType::Warning, VERSION_BELOW_MINIMUM, shortfall.clone(), None).await;
    }
    Some(detail(State::Ready, VERSION_BELOW_MINIMUM, shortfall))
}
