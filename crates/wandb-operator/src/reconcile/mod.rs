//! Layer 4 — the only code with side effects: read caches, server-side apply the desired
//! objects, create generated Secrets once, apply retention, write status (at most once per
//! reconcile and only when it changed).

mod backup;
pub mod cache;
pub mod compact_store;
mod component;
pub mod connection;
mod external;
mod finalizers;
mod ownership;
pub mod probe;
pub mod projection;
mod retention;
mod status;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource, ResourceExt};
use tracing::{info, instrument, warn};

pub use cache::{Caches, KindCache, KindState};
pub use component::APPLIED_HASH_ANNOTATION;
pub use external::Checks;
pub use probe::{NetworkProber, Prober};

use crate::api::WeightsAndBiases;
use crate::vendors::Vendors;

/// Errors of a reconcile. Each variant has a stable name used as metric label and event reason.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// An API request failed.
    #[error("{action}: {source}")]
    Api {
        /// What was being done.
        action: String,
        /// The client error.
        #[source]
        source: kube::Error,
    },
    /// A builder failed (a bug).
    #[error(transparent)]
    Vendor(#[from] crate::vendors::VendorError),
    /// The resource lacks a name or namespace.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// A kind the operator has no cache for (a bug: every written kind is watched).
    #[error("no cache for {0}")]
    UnknownKind(String),
}

impl ReconcileError {
    /// A stable reason label.
    pub fn reason(&self) -> &'static str {
        match self {
            ReconcileError::Api { .. } => "ApiError",
            ReconcileError::Vendor(_) => "BuildError",
            ReconcileError::Model(_) => "InvalidResource",
            ReconcileError::UnknownKind(_) => "UnknownKind",
        }
    }

    /// The API server's answer, when the error is one.
    pub fn api_status(&self) -> Option<&kube::core::Status> {
        match self {
            ReconcileError::Api { source: kube::Error::Api(status), .. } => Some(status),
            _ => None,
        }
    }

    pub(crate) fn api(action: impl Into<String>) -> impl FnOnce(kube::Error) -> ReconcileError {
        let action = action.into();
        move |source| ReconcileError::Api { action, source }
    }
}

/// Whether a reconcile pass wrote some object successfully (shared by the concurrent
/// components of one pass). A failed pass that made progress does not lengthen the backoff.
#[derive(Debug, Default)]
pub(crate) struct Progress(std::sync::atomic::AtomicBool);

impl Progress {
    /// A write succeeded.
    pub(crate) fn record(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether some write succeeded.
    pub(crate) fn made(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Settings of the reconciler.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Safety-net resync of a converged resource.
    pub resync: Duration,
    /// Requeue while some component is still converging.
    pub progress_requeue: Duration,
    /// How often an external component's Secrets are read and its endpoints probed (not more
    /// often, whatever the watch events).
    pub probe_interval: Duration,
    /// The limit of one probe (connect and greeting).
    pub probe_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            resync: Duration::from_secs(600),
            progress_requeue: Duration::from_secs(30),
            probe_interval: Duration::from_secs(60),
            probe_timeout: Duration::from_secs(3),
        }
    }
}

/// Observations a reconcile reports (metrics are kept by the controller layer).
pub trait Observer: Send + Sync {
    /// A reconcile finished.
    fn reconciled(&self, duration: Duration, error: Option<&'static str>);
    /// A component's readiness.
    fn component_ready(&self, namespace: &str, name: &str, component: &str, ready: bool);
    /// The completion time of a resource's last successful MySQL backup.
    fn backup_succeeded(&self, namespace: &str, name: &str, unix_seconds: i64);
}

/// Everything a reconcile needs.
pub struct Context {
    /// API client.
    pub client: Client,
    /// The vendor of each component.
    pub vendors: Vendors,
    /// Read caches.
    pub caches: Caches,
    /// Event recorder for Warning events (it folds repeats into series).
    pub recorder: Recorder,
    /// Who publishes events.
    reporter: Reporter,
    /// Metrics sink.
    pub observer: Arc<dyn Observer>,
    /// Settings.
    pub settings: Settings,
    /// Reachability probes of external endpoints.
    pub prober: Arc<dyn Prober>,
    /// The last check of each external component.
    pub checks: Checks,
    /// When each failing resource's current run of failures began.
    failing_since: Mutex<HashMap<(String, String), Instant>>,
}

impl Context {
    /// A context.
    pub fn new(
        client: Client,
        vendors: Vendors,
        caches: Caches,
        reporter: Reporter,
        observer: Arc<dyn Observer>,
        settings: Settings,
    ) -> Self {
        let recorder = Recorder::new(client.clone(), reporter.clone());
        let prober = Arc::new(NetworkProber { timeout: settings.probe_timeout });
        Context {
            prober,
            checks: Checks::default(),
            client,
            vendors,
            caches,
            recorder,
            reporter,
            observer,
            settings,
            failing_since: Mutex::new(HashMap::new()),
        }
    }

    /// Publishes an event on `wandb`. `about` names the object it concerns (the event's
    /// `related`): events are grouped into series by type, reason and both references, not by
    /// note, so without it every `Created` on one resource would fold into a single series
    /// showing only the last object.
    pub(crate) async fn event(
        &self,
        wandb: &WeightsAndBiases,
        type_: EventType,
        reason: &str,
        note: String,
        about: Option<&crate::vendors::ObjectKey>,
    ) {
        let reference = wandb.object_ref(&());
        let event = Event {
            type_,
            reason: reason.to_owned(),
            note: Some(note),
            action: "Reconcile".to_owned(),
            secondary: about.map(|key| k8s_openapi::api::core::v1::ObjectReference {
                api_version: Some(key.api_version.clone()),
                kind: Some(key.kind.clone()),
                namespace: Some(key.namespace.clone()),
                name: Some(key.name.clone()),
                ..Default::default()
            }),
        };
        // kube's Recorder keeps every event it published for six minutes to fold repeats into
        // series: at a thousand resources the `Created` events of a first convergence alone
        // held tens of MiB. Normal events here happen once per object (created, adopted,
        // detached, purged), so they go through a recorder of their own with nothing to keep;
        // Warnings, which repeat, keep their series.
        let published = match type_ {
            EventType::Normal => {
                Recorder::new(self.client.clone(), self.reporter.clone()).publish(&event, &reference).await
            }
            EventType::Warning => self.recorder.publish(&event, &reference).await,
        };
        if let Err(e) = published {
            warn!(error = %e, "cannot publish event");
        }
    }

    fn key(wandb: &WeightsAndBiases) -> (String, String) {
        (wandb.namespace().unwrap_or_default(), wandb.name_any())
    }
}

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
    if wandb.meta().deletion_timestamp.is_some() {
        return retention::finalize(wandb, &api, ctx, progress).await;
    }
    if finalizers::ensure(wandb, &api).await? {
        progress.record();
        info!("added the cleanup finalizer");
    }
    let component::Reconciled { status, converging, failure, external } =
        component::reconcile_all(wandb, ctx, progress).await;
    if status::waiting_for_caches(&status) {
        // Not a real state change: reporting it would make the status flap after a restart.
        return match failure {
            Some(error) => Err(error),
            None => Ok(Action::requeue(Duration::from_secs(1))),
        };
    }
    let invalid = status::has_invalid_spec(&status);
    status::write_if_changed(wandb, &api, status).await?;
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
