//! The emulator handle: one store, its clock and its controls (faults, latency, the request
//! log), shared by every clone. HTTP handling is in `server`, watches in `watch`.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::control::{Control, Fault, LoggedRequest};
use crate::errors::ApiError;
use crate::registry::Registry;
use crate::routes::Query;
use crate::store::State;
use crate::writes::{PatchType, WriteParams};

/// Tunables.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// How many changes the watch history keeps (older resourceVersions get 410).
    pub history_limit: usize,
    /// Interval between BOOKMARK events on watches that allow them.
    pub bookmark_interval: Duration,
    /// Watch timeout when the client sets none.
    pub default_watch_timeout: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            history_limit: 100_000,
            bookmark_interval: Duration::from_secs(1),
            default_watch_timeout: Duration::from_secs(1800),
        }
    }
}

pub(crate) struct Inner {
    pub(crate) state: Mutex<State>,
    pub(crate) sender: broadcast::Sender<crate::store::Broadcast>,
    pub(crate) clock: Clock,
    pub(crate) control: Mutex<Control>,
    pub(crate) config: EmulatorConfig,
}

/// A Kubernetes API server emulator. Cheap to clone; all clones share one store.
#[derive(Clone)]
pub struct Emulator {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").finish_non_exhaustive()
    }
}

impl Default for Emulator {
    fn default() -> Self {
        Self::new(EmulatorConfig::default())
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Emulator {
    /// An emulator with the built-in kinds and the `default` namespace.
    pub fn new(config: EmulatorConfig) -> Self {
        let (sender, _) = broadcast::channel(65_536);
        let state = State::new(Registry::with_builtins(), config.history_limit, sender.clone());
        let emulator = Emulator {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                sender,
                clock: Clock::default(),
                control: Mutex::new(Control::default()),
                config,
            }),
        };
        for ns in ["default", "kube-system", "kube-public"] {
            // Startup: the namespaces always exist in a fresh cluster.
            let _ = emulator.create_object(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        }
        emulator
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    pub(crate) fn params(&self, query: &Query, manager: Option<&str>) -> WriteParams {
        WriteParams {
            manager: query.get("fieldManager").or(manager).unwrap_or("unknown").to_owned(),
            dry_run: query.get("dryRun") == Some("All"),
            strict: query.get("fieldValidation") == Some("Strict"),
            now: self.inner.clock.rfc3339(),
        }
    }

    /// Creates an object directly (as `POST` would), e.g. to seed a test. Returns the stored
    /// object.
    pub fn create_object(&self, object: &Value) -> Result<Value, ApiError> {
        let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
        let mut state = self.state();
        let rt = state
            .registry
            .by_kind(api_version, kind)
            .ok_or_else(|| ApiError::bad_request(format!("no kind {kind} in {api_version}")))?;
        let ns = object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_owned();
        let params = self.params(&Query(vec![]), Some("kube-emulator"));
        state.create(&rt, &ns, object.clone(), &params)
    }

    /// Registers a CRD (creates the CustomResourceDefinition object).
    pub fn register_crd(&self, crd: &Value) -> Result<(), ApiError> {
        let mut crd = crd.clone();
        if let Some(m) = crd.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
            m.remove("uid");
            m.remove("creationTimestamp");
        }
        let name = crd.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_owned();
        let exists = {
            let state = self.state();
            state.objects.keys().any(|k| k.storage.1 == "customresourcedefinitions" && k.name == name)
        };
        if exists {
            let mut state = self.state();
            let rt = state
                .registry
                .by_kind("apiextensions.k8s.io/v1", "CustomResourceDefinition")
                .ok_or_else(|| ApiError::internal("CRD kind missing"))?;
            let params = self.params(&Query(vec![]), Some("kube-emulator"));
            state
                .patch(&rt, "", &name, PatchType::Merge, &json!({"spec": crd["spec"].clone()}), None, false, &params)
                .map(|_| ())
        } else {
            self.create_object(&crd).map(|_| ())
        }
    }

    /// Loads every CRD manifest under `path` (file or directory, recursively).
    pub fn load_crds(&self, path: &std::path::Path) -> Result<usize, String> {
        let crds = crate::crds::load_crds(path).map_err(|e| e.to_string())?;
        for crd in &crds {
            self.register_crd(crd).map_err(|e| e.message)?;
        }
        Ok(crds.len())
    }

    /// The types served now.
    pub fn registry(&self) -> Registry {
        self.state().registry.clone()
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.state().rv
    }

    /// Makes the next `fault.remaining` matching requests fail.
    pub fn inject_fault(&self, fault: Fault) {
        lock(&self.inner.control).faults.push(fault);
    }

    /// Removes every pending fault (e.g. a [`Fault::rate`] that never runs out).
    pub fn clear_faults(&self) {
        lock(&self.inner.control).faults.clear();
    }

    /// Adds latency to every request (`None` removes it).
    pub fn set_latency(&self, latency: Option<Duration>) {
        lock(&self.inner.control).latency = latency;
    }

    /// Closes every open watch stream cleanly (clients re-watch from their last version).
    pub fn drop_watches(&self) {
        let _ = self.inner.sender.send(crate::store::Broadcast::DropWatches);
    }

    /// Forgets the change history: open watches get an in-stream 410 and watches or `continue`
    /// tokens from older resourceVersions are answered with 410.
    pub fn compact(&self) {
        self.state().compact();
    }

    /// Freezes the clock (`None`: system clock).
    pub fn set_time(&self, t: Option<jiff::Timestamp>) {
        self.inner.clock.set(t);
    }

    /// Every request so far.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        lock(&self.inner.control).log.clone()
    }

    /// Clears the request log.
    pub fn clear_request_log(&self) {
        lock(&self.inner.control).log.clear();
    }
}
