//! What a reconcile works with: the client, the registry, the caches, events, metrics, settings
//! and the probes of external components; and the progress one pass made.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Client, Resource, ResourceExt};
use tracing::warn;

use super::cache::Caches;
use super::check_cache::Checks;
use super::probe::{NetworkProber, Prober};
use crate::api::WeightsAndBiases;
use crate::registry::Registry;

/// One reconcile pass, shared by its concurrent components: whether it wrote some object
/// successfully (a failed pass that made progress does not lengthen the backoff), and the
/// claims it listed, per namespace (components that read claims in the same pass list them
/// once).
#[derive(Debug, Default)]
pub(crate) struct Progress {
    wrote: std::sync::atomic::AtomicBool,
    claims: tokio::sync::Mutex<std::collections::HashMap<String, ClaimList>>,
    /// The one component of the resource whose version upgrade may run.
    upgrading: Mutex<Option<crate::model::Component>>,
}

/// The claims of one namespace, as listed once in a pass.
pub(crate) type ClaimList = std::sync::Arc<Vec<k8s_openapi::api::core::v1::PersistentVolumeClaim>>;

impl Progress {
    /// A write succeeded.
    pub(crate) fn record(&self) {
        self.wrote.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether some write succeeded.
    pub(crate) fn made(&self) -> bool {
        self.wrote.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Gives the resource's upgrade slot to the component whose upgrade ran in the previous
    /// pass (it keeps it until it finishes).
    pub(crate) fn seed_upgrade(&self, component: Option<crate::model::Component>) {
        *self.upgrading.lock().unwrap_or_else(|e| e.into_inner()) = component;
    }

    /// Takes the resource's upgrade slot for `component`; `Err` names the component that holds
    /// it.
    pub(crate) fn claim_upgrade(&self, component: crate::model::Component) -> Result<(), crate::model::Component> {
        let mut slot = self.upgrading.lock().unwrap_or_else(|e| e.into_inner());
        match *slot {
            Some(other) if other != component => Err(other),
            _ => {
                *slot = Some(component);
                Ok(())
            }
        }
    }

    /// The claims of `namespace`: listed by `list` the first time in this pass, the same list
    /// after that.
    pub(crate) async fn claims<F, Fut, E>(&self, namespace: &str, list: F) -> Result<ClaimList, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<k8s_openapi::api::core::v1::PersistentVolumeClaim>, E>>,
    {
        // Held across the list: a second component of the pass waits for the first's list.
        let mut listed = self.claims.lock().await;
        if let Some(claims) = listed.get(namespace) {
            return Ok(claims.clone());
        }
        let claims = std::sync::Arc::new(list().await?);
        listed.insert(namespace.to_owned(), claims.clone());
        Ok(claims)
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
    /// Every component with its vendor.
    pub registry: Registry,
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
    /// The vendor operator releases installed (kept up to date by the controller).
    pub releases: Arc<super::releases::InstalledReleases>,
    /// When each failing resource's current run of failures began.
    pub(super) failing_since: Mutex<HashMap<(String, String), Instant>>,
    /// Per resource upgrading, the `resourceVersion` its last status write replaced (see
    /// `resource::run`): a cached resource at that version predates the write.
    pub(super) status_replaced: Mutex<HashMap<(String, String), String>>,
}

impl Context {
    /// A context.
    pub fn new(
        client: Client,
        registry: Registry,
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
            releases: Arc::default(),
            client,
            registry,
            caches,
            recorder,
            reporter,
            observer,
            settings,
            failing_since: Mutex::new(HashMap::new()),
            status_replaced: Mutex::new(HashMap::new()),
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

    pub(super) fn key(wandb: &WeightsAndBiases) -> (String, String) {
        (wandb.namespace().unwrap_or_default(), wandb.name_any())
    }
}
