//! Every component of one resource, reconciled concurrently: a component whose API calls fail
//! is reported as such and never stops the others from being reconciled or reported.

use futures::future::{BoxFuture, join_all};
use kube::ResourceExt;
use kube::runtime::events::EventType;
use tracing::{info, warn};

use super::context::{Context, Progress};
use super::error::ReconcileError;
use super::pipeline::reconcile_component;
use super::status_write::{self, detail};
use super::{storage, upgrade};
use crate::api::{ComponentStatus, State, WeightsAndBiases, WeightsAndBiasesStatus};
use crate::model::{self, ComponentDescriptor, Edition, Pause, Plan, Resolution};
use crate::registry::summary::summaries;
use crate::registry::{ComponentVisitor, VendorOf};

/// What reconciling every component produced.
pub struct Reconciled {
    /// The new status (every component reported, including failed ones).
    pub status: WeightsAndBiasesStatus,
    /// Whether some component is still converging.
    pub converging: bool,
    /// The first component's API failure, if any: the reconcile fails with it (backoff and a
    /// Warning event) after the status is written.
    pub failure: Option<ReconcileError>,
    /// Whether some component is external (checked again on the probe interval).
    pub external: bool,
}

/// The statuses gathered so far, the first failure and whether some component is external.
#[derive(Default)]
struct Gathered {
    status: WeightsAndBiasesStatus,
    failure: Option<ReconcileError>,
    external: bool,
}

/// Records one component's outcome into what is gathered.
type Record<'a> = Box<dyn FnOnce(&mut Gathered) + Send + 'a>;

/// Starts one component's reconcile per visit.
struct Launch<'a> {
    ctx: &'a Context,
    wandb: &'a WeightsAndBiases,
    resolution: &'a Resolution,
    previous: &'a WeightsAndBiasesStatus,
    progress: &'a Progress,
    runs: Vec<BoxFuture<'a, Record<'a>>>,
}

impl<'a> ComponentVisitor for Launch<'a> {
    fn visit<D: ComponentDescriptor>(&mut self, vendor: &'static VendorOf<D>) {
        let Launch { ctx, wandb, resolution, previous, progress, .. } = *self;
        self.runs.push(Box::pin(async move {
            let plan = resolution.plan::<D>();
            let external = matches!(plan, Ok(Plan::External(_)));
            let result =
                reconcile_component::<D>(ctx, wandb, vendor, resolution, &plan, D::status(previous), progress).await;
            Box::new(move |gathered: &mut Gathered| {
                gathered.external |= external;
                let status = match result {
                    Ok(status) => status,
                    Err(error) => {
                        let status = failed(&error, D::status(previous));
                        gathered.failure.get_or_insert(error);
                        status
                    }
                };
                *D::status_mut(&mut gathered.status) = Some(status);
            }) as Record<'a>
        }));
    }
}

/// Reconciles every component and folds their statuses. Successful writes are recorded in
/// `progress`.
pub async fn reconcile_all(wandb: &WeightsAndBiases, ctx: &Context, progress: &Progress) -> Reconciled {
    let previous = wandb.status.clone().unwrap_or_default();
    let mut resolution = match model::resolve(wandb) {
        Ok(resolution) => resolution,
        Err(error) => {
            let status = status_write::invalid_resource(&ctx.registry, wandb, &previous, &error);
            return Reconciled { status, converging: false, failure: None, external: false };
        }
    };
    resolution.pause = Pause::of(wandb.annotations(), &ctx.registry.components());
    if let Some(why) = resolution.pause.unreadable() {
        let told = ctx.registry.entries().iter().any(|e| e.details(&previous).iter().any(|d| d.message.contains(why)));
        if !told {
            ctx.event(wandb, EventType::Warning, "PauseUnreadable", why.to_owned(), None).await;
        }
    }
    // One component upgrades at a time: the one whose upgrade ran keeps the slot.
    progress.seed_upgrade(
        ctx.registry
            .entries()
            .iter()
            .find(|e| e.details(&previous).iter().any(|d| d.code == upgrade::UPGRADING))
            .map(|e| e.component()),
    );
    let mut launch = Launch { ctx, wandb, resolution: &resolution, previous: &previous, progress, runs: Vec::new() };
    ctx.registry.visit(&mut launch);
    let mut gathered = Gathered::default();
    for record in join_all(launch.runs).await {
        record(&mut gathered);
    }
    let Gathered { status, failure, external } = gathered;
    let mut next = status_write::fold(&ctx.registry, wandb, &previous, status);
    change_plan(ctx, wandb, &previous, &mut next);
    let summaries = summaries(&next);
    // Claims are not watched: while volumes grow, the resource is checked again on the
    // progress interval.
    // Nor are upgrade steps: a step waits for the vendor, and a waiting upgrade for another.
    let resizing = ctx.registry.entries().iter().any(|e| {
        e.details(&next)
            .iter()
            .any(|d| [storage::RESIZING, upgrade::UPGRADING, upgrade::UPGRADE_WAITING].contains(&d.code.as_str()))
    });
    let converging =
        resizing || summaries.iter().any(|s| !s.ready && s.state != State::Offline && s.state != State::Error);
    for s in &summaries {
        ctx.observer.component_ready(
            &wandb.namespace().unwrap_or_default(),
            &wandb.name_any(),
            s.component.key(),
            s.ready,
        );
    }
    Reconciled { status: next, converging, failure, external }
}

/// `status.size` and `status.plan`: a change of `spec.size` from the size the previous status
/// was written for shows what it does per component (the spec with the previous size against
/// the spec), kept until every component is ready at the new size.
fn change_plan(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    previous: &WeightsAndBiasesStatus,
    next: &mut WeightsAndBiasesStatus,
) {
    let size = wandb.spec.size.as_str();
    next.size = Some(size.to_owned());
    next.plan = match previous.size.as_deref() {
        Some(before) if before != size => {
            let mut current = wandb.clone();
            current.spec.size = match serde_json::from_value(serde_json::Value::from(before)) {
                Ok(size) => size,
                Err(_) => return,
            };
            match crate::registry::change_plan::change_plan(&current, wandb, &ctx.registry, Edition::LATEST) {
                Ok(plan) => {
                    info!(from = before, to = size, "size changed: plan in status");
                    Some(plan)
                }
                Err(error) => {
                    warn!(%error, "no plan for the size change");
                    None
                }
            }
        }
        _ => previous.plan.clone().filter(|plan| plan.to == size && next.state != Some(State::Ready)),
    };
}

/// The message kube-apiserver gives (with a 500) when an applied object does not fit the schema.
const TYPED_PATCH_FAILURE: &str = "failed to create typed patch object";

/// The status of a component whose API calls failed. What the user must fix gets its own code
/// and the `Error` state with the server's message; a transient failure (5xx, conflict,
/// timeout) is `Updating`/`Retrying` with a fixed message and the last known connection, never
/// `Ready` on stale information.
fn failed<K: Clone>(error: &ReconcileError, previous: Option<&ComponentStatus<K>>) -> ComponentStatus<K> {
    let message = error.to_string();
    let (state, code, message) = match error.api_status() {
        Some(s) if s.code == 404 && s.details.as_ref().is_some_and(|d| d.kind == "namespaces") => {
            let namespace = s.details.as_ref().map(|d| d.name.clone()).unwrap_or_default();
            let message = format!(
                "namespace {namespace} does not exist: create it (the operator never creates namespaces) or choose another namespace for this component"
            );
            (State::Error, "NamespaceMissing", message)
        }
        Some(s) if s.code == 403 => (State::Error, "Forbidden", message),
        Some(s) if s.code == 422 || s.code == 400 => (State::Error, "Rejected", message),
        // kube-apiserver answers a server-side apply whose body does not fit the schema (a
        // wrong type, or an unknown field under strict validation) with 500 "failed to create
        // typed patch object": permanent, so it is a rejection, not a transient error.
        Some(s) if s.code == 500 && s.message.contains(TYPED_PATCH_FAILURE) => (State::Error, "Rejected", message),
        // Stable text: transient errors differ from pass to pass (500 or 503, which request),
        // and a status rewritten for each would churn; the Warning events carry each error.
        _ => (
            State::Updating,
            "Retrying",
            "a transient API error (5xx, conflict or timeout) interrupted this component; retrying with backoff (each error is in the Warning events)".to_owned(),
        ),
    };
    ComponentStatus {
        ready: false,
        state,
        details: vec![detail(state, code, message)],
        version: previous.and_then(|p| p.version.clone()),
        connection: previous.and_then(|p| p.connection.clone()),
        credentials_secret: previous.and_then(|p| p.credentials_secret.clone()),
        connection_secret: previous.and_then(|p| p.connection_secret.clone()),
        backup: previous.and_then(|p| p.backup.clone()),
        storage: previous.and_then(|p| p.storage.clone()),
        upgrade: previous.and_then(|p| p.upgrade.clone()),
        last_reconciled: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16, message: &str) -> ReconcileError {
        let status = kube::core::Status { code, message: message.to_owned(), ..Default::default() };
        ReconcileError::Api { action: "apply".to_owned(), source: kube::Error::Api(Box::new(status)) }
    }

    #[test]
    fn a_schema_mismatch_is_rejected_and_other_server_errors_are_retried() {
        let typed = api_error(
            500,
            "failed to create typed patch object (ns/x; pxc.percona.com/v1): .spec.pxc.size: expected numeric",
        );
        let status: ComponentStatus<()> = failed(&typed, None);
        assert_eq!((status.state, status.details[0].code.as_str()), (State::Error, "Rejected"));
        let transient: ComponentStatus<()> = failed(&api_error(500, "etcdserver: request timed out"), None);
        assert_eq!((transient.state, transient.details[0].code.as_str()), (State::Updating, "Retrying"));
        let invalid: ComponentStatus<()> = failed(&api_error(422, "invalid"), None);
        assert_eq!(invalid.details[0].code, "Rejected");
    }
}
