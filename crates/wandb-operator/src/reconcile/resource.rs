//! One `WeightsAndBiases`, reconciled: deletion (retention, then the finalizer goes) or every
//! component then one status write; the requeue and the backoff after a failure.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use tracing::{debug, info, instrument, warn};

use super::context::{Context, Progress};
use super::error::ReconcileError;
use super::{all_components, finalizers, retention, status_write};
use crate::api::WeightsAndBiases;
use crate::registry::summary::UPGRADING;

/// Reconciles one `WeightsAndBiases`.
#[instrument(skip_all, fields(namespace = wandb.namespace().unwrap_or_default(), name = wandb.name_any()))]
pub async fn reconcile(wandb: Arc<WeightsAndBiases>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let started = Instant::now();
    let progress = Progress::default();
    let result = run(&wandb, &ctx, &progress).await;
    ctx.observer.reconciled(started.elapsed(), result.as_ref().err().map(ReconcileError::reason));
    // A success, or a failed pass that still wrote something, ends the run of failures: the
    // backoff starts again from the shortest delay.
    if result.is_ok() || progress.made() {
        ctx.failing_since.lock().unwrap_or_else(|e| e.into_inner()).remove(&Context::key(&wandb));
    }
    result
}

/// The delay before retrying a resource that has been failing for `failing_for`: that same
/// time, between 1 s and 5 min. Retries without other triggers therefore come after 1, 1, 2, 4,
/// 8 … s (exponential in time), and a burst of failures triggered by watch events does not
/// lengthen the delay the way counting failed passes would.
pub fn backoff_delay(failing_for: Duration) -> Duration {
    failing_for.clamp(Duration::from_secs(1), Duration::from_secs(300))
}

/// On failure: a Warning event with the error chain, and a retry after [`backoff_delay`] of
/// the time this resource has been failing, a time reset by the next success or by a failed
/// pass that still made progress (wrote some object).
pub fn error_policy(wandb: Arc<WeightsAndBiases>, error: &ReconcileError, ctx: Arc<Context>) -> Action {
    let failing_for = {
        let mut map = ctx.failing_since.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(Context::key(&wandb)).or_insert_with(Instant::now).elapsed()
    };
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    let delay = backoff_delay(failing_for);
    warn!(error = %chain, failing_for_seconds = failing_for.as_secs(), retry_in_seconds = delay.as_secs(), "reconcile failed");
    let ctx2 = ctx.clone();
    let reason = error.reason();
    tokio::spawn(async move { ctx2.event(&wandb, EventType::Warning, reason, chain, None).await });
    Action::requeue(delay)
}

async fn run(wandb: &WeightsAndBiases, ctx: &Context, progress: &Progress) -> Result<Action, ReconcileError> {
    let namespace = wandb.namespace().unwrap_or_default();
    let api: Api<WeightsAndBiases> = Api::namespaced(ctx.client.clone(), &namespace);
    let key = Context::key(wandb);
    if wandb.meta().deletion_timestamp.is_some() {
        // Deleted: what was kept for its upgrade goes with it.
        ctx.status_replaced.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        return retention::finalize(wandb, &api, ctx, progress).await;
    }
    // A reconcile triggered before the cache has seen the status this operator last wrote
    // during an upgrade would take the older status for the previous one (and lose the
    // upgrade's progress): wait for the watch event of that write, which triggers a reconcile.
    let stale = {
        let written = ctx.status_replaced.lock().unwrap_or_else(|e| e.into_inner());
        written.get(&key).is_some_and(|replaced| wandb.meta().resource_version.as_ref() == Some(replaced))
    };
    if stale {
        // The watch event of that write triggers the next reconcile; the requeue is a net.
        debug!("the cached resource predates the status last written; waiting for it");
        return Ok(Action::requeue(Duration::from_secs(10)));
    }
    if finalizers::ensure(wandb, &api).await? {
        progress.record();
        info!("added the cleanup finalizer");
    }
    let all_components::Reconciled { status, converging, failure, external } =
        all_components::reconcile_all(wandb, ctx, progress).await;
    if status_write::waiting_for_caches(&ctx.registry, &status) {
        // Not a real state change: reporting it would make the status flap after a restart.
        return match failure {
            Some(error) => Err(error),
            None => Ok(Action::requeue(Duration::from_secs(1))),
        };
    }
    let invalid = status_write::has_invalid_spec(&ctx.registry, &status);
    // Only an upgrade under way depends on seeing its own last status (what it started, which
    // step it took); elsewhere a pass on a stale status is corrected by the next one, and
    // waiting for the write's event would delay every convergence under load.
    let upgrading = status.conditions.iter().any(|c| c.type_ == UPGRADING && c.status == "True");
    let replaced = status_write::write_if_changed(wandb, &api, status).await?;
    {
        let mut written = ctx.status_replaced.lock().unwrap_or_else(|e| e.into_inner());
        match replaced.filter(|_| upgrading) {
            Some(version) => written.insert(key, version),
            None => written.remove(&key),
        };
    }
    if let Some(error) = failure {
        // Reported in status; the controller backs off and emits a Warning event.
        return Err(error);
    }
    // External components are checked again on the probe interval, whatever else happens.
    let probe = |d: Duration| if external { d.min(ctx.settings.probe_interval) } else { d };
    Ok(match (converging, invalid) {
        (true, _) => Action::requeue(probe(ctx.settings.progress_requeue)),
        // Nothing changes an invalid spec but the user: wait for their edit.
        (false, true) if !external => Action::await_change(),
        (false, _) => Action::requeue(probe(ctx.settings.resync)),
    })
}

#[cfg(test)]
mod tests {
    use super::backoff_delay;
    use std::time::Duration;

    #[test]
    fn the_delay_doubles_in_time_and_is_bounded() {
        let secs = |s: u64| Duration::from_secs(s);
        // Retrying only when the delay expires: 1, 1, 2, 4, 8, … s.
        let mut failing_for = Duration::ZERO;
        let mut delays = Vec::new();
        for _ in 0..6 {
            let delay = backoff_delay(failing_for);
            delays.push(delay.as_secs());
            failing_for += delay;
        }
        assert_eq!(delays, vec![1, 1, 2, 4, 8, 16]);
        // Six failures 10 ms apart (watch events) still retry after 1 s, not 32 s.
        assert_eq!(backoff_delay(Duration::from_millis(60)), secs(1));
        assert_eq!(backoff_delay(secs(3600)), secs(300));
    }
}
