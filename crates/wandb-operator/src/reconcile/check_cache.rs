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

    /// The version the last check of the same configuration read, however old (a server
    /// whose version query failed once, e.g. timed out under load, keeps the version it had).
    pub(super) fn last_version(&self, key: &(String, String, &'static str), fingerprint: &str) -> Option<String> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).filter(|e| e.fingerprint == fingerprint).and_then(|e| e.findings.version.clone())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(version: Option<&str>) -> Findings {
        Findings {
            missing: Vec::new(),
            versions: BTreeMap::new(),
            probes: Vec::new(),
            version: version.map(str::to_owned),
        }
    }

    #[test]
    fn the_last_version_is_kept_per_configuration_however_old() {
        let checks = Checks::default();
        let key = ("apps".to_owned(), "wandb".to_owned(), "redis");
        assert_eq!(checks.last_version(&key, "a"), None);
        checks.store(key.clone(), "a".to_owned(), findings(Some("7.4.2")));
        assert_eq!(checks.last_version(&key, "a").as_deref(), Some("7.4.2"));
        // Stale for probing, still the version last read.
        assert!(checks.fresh(&key, "a", Duration::ZERO).is_none());
        assert_eq!(checks.last_version(&key, "a").as_deref(), Some("7.4.2"));
        // Another server (host or port changed): its version is not known.
        assert_eq!(checks.last_version(&key, "b"), None);
        checks.forget("apps", "wandb", "redis");
        assert_eq!(checks.last_version(&key, "a"), None);
    }
}
