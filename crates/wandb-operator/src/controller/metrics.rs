//! Prometheus metrics in OpenMetrics text: reconciles, errors by reason, reconcile duration,
//! per-component readiness, and the time of the last successful MySQL backup.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::reconcile::Observer;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResourceLabels {
    namespace: String,
    name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComponentLabels {
    namespace: String,
    name: String,
    component: String,
}

/// The operator's metrics.
pub struct Metrics {
    registry: Mutex<Registry>,
    reconciles: Counter,
    errors: Family<ErrorLabels, Counter>,
    duration: Histogram,
    ready: Family<ComponentLabels, Gauge>,
    last_backup: Family<ResourceLabels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("reconciles", &self.reconciles.get()).finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("wandb_operator");
        let reconciles = Counter::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let duration = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        let ready = Family::<ComponentLabels, Gauge>::default();
        registry.register("reconciles", "Reconciles run", reconciles.clone());
        registry.register("reconcile_errors", "Failed reconciles by reason", errors.clone());
        registry.register("reconcile_duration_seconds", "Reconcile duration", duration.clone());
        registry.register("component_ready", "1 when a component is ready", ready.clone());
        let last_backup = Family::<ResourceLabels, Gauge>::default();
        registry.register(
            "mysql_last_backup_timestamp_seconds",
            "Completion time (Unix seconds) of the last successful MySQL backup",
            last_backup.clone(),
        );
        Metrics { registry: Mutex::new(registry), reconciles, errors, duration, ready, last_backup }
    }
}

impl Metrics {
    /// Reconciles run so far.
    pub fn reconciles(&self) -> u64 {
        self.reconciles.get()
    }

    /// The OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

impl Observer for Metrics {
    fn reconciled(&self, duration: Duration, error: Option<&'static str>) {
        self.reconciles.inc();
        self.duration.observe(duration.as_secs_f64());
        if let Some(reason) = error {
            self.errors.get_or_create(&ErrorLabels { reason: reason.to_owned() }).inc();
        }
    }

    fn component_ready(&self, namespace: &str, name: &str, component: &str, ready: bool) {
        let labels =
            ComponentLabels { namespace: namespace.to_owned(), name: name.to_owned(), component: component.to_owned() };
        self.ready.get_or_create(&labels).set(i64::from(ready));
    }

    fn backup_succeeded(&self, namespace: &str, name: &str, unix_seconds: i64) {
        let labels = ResourceLabels { namespace: namespace.to_owned(), name: name.to_owned() };
        self.last_backup.get_or_create(&labels).set(unix_seconds);
    }
}
