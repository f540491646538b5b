//! The last check of each external component (and of the user's Secrets other steps read), so
//! that endpoints are probed and Secrets read at most once per probe interval, not on every
//! watch event.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::ProbeTarget;

/// What one check of an external component found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Findings {
    /// Referenced Secrets or keys that do not exist, as `Secret ns/name` or `key K of Secret
    /// ns/name`.
    pub missing: Vec<String>,
    /// The referenced Secrets' `resourceVersion`s.
    pub versions: BTreeMap<String, String>,
    /// Each probe: target and the failure, if any.
    pub probes: Vec<(ProbeTarget, Option<String>)>,
    /// The server version the first greeting that carries one reported.
    pub version: Option<String>,
}

struct Entry {
    fingerprint: String,
    at: Instant,
    findings: Findings,
}

/// The last check of each external component, so that endpoints are probed and Secrets read
/// at most once per probe interval, not on every watch event.
#[derive(Default)]
pub struct Checks {
    entries: Mutex<HashMap<(String, String, &'static str), Entry>>,
}

impl Checks {
    pub(super) fn fresh(
        &self,
        key: &(String, String, &'static str),
        fingerprint: &str,
        interval: Duration,
    ) -> Option<Findings> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // A requeue after exactly one interval must find the entry stale: 5 % slack.
        let limit = interval.mul_f32(0.95);
        entries.get(key).filter(|e| e.fingerprint == fingerprint && e.at.elapsed() < limit).map(|e| e.findings.clone())
    }

    pub(super) fn store(&self, key: (String, String, &'static str), fingerprint: String, findings: Findings) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(key, Entry { fingerprint, at: Instant::now(), findings });
    }

    /// Forgets a component's check (it is no longer external, or a source changed).
    pub(crate) fn forget(&self, namespace: &str, name: &str, component: &'static str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&(namespace.to_owned(), name.to_owned(), component));
    }

    /// Forgets every check of a resource (it is deleted).
    pub(crate) fn forget_resource(&self, namespace: &str, name: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(ns, n, _), _| !(ns == namespace && n == name));
    }
}
