//! Read caches: compact stores (`compact_store.rs`) per kind and watched scope (all namespaces, or one per
//! watched namespace), so that reconciles read from memory (no API reads in steady state),
//! plus whether each kind is served at all.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::DynamicObject;
use kube::core::ApiResource;

use super::compact_store::CompactStore;
use crate::model::Instance;
use crate::vendors::{
    LABEL_COMPONENT, LABEL_INSTANCE, LABEL_INSTANCE_NAMESPACE, LABEL_MANAGED_BY, LABEL_VENDOR_SECRET_OF, MANAGER,
    ObjectKey,
};

/// Whether a kind's watch has listed successfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindState {
    /// Not listed yet.
    Unknown,
    /// Listed: the store is complete.
    Ready,
    /// The API server does not serve the kind (its CRD is not installed).
    Missing,
    /// The namespace is not watched by this operator.
    NotWatched,
}

/// The cache of one kind in one scope.
#[derive(Clone)]
pub struct KindCache {
    /// The kind.
    pub resource: ApiResource,
    /// `None` for all namespaces, else the watched namespace.
    pub scope: Option<String>,
    /// Its objects.
    pub store: CompactStore,
    state: Arc<AtomicU8>,
}

impl KindCache {
    /// A cache over `store`.
    pub fn new(resource: ApiResource, scope: Option<String>, store: CompactStore) -> Self {
        KindCache { resource, scope, store, state: Arc::new(AtomicU8::new(0)) }
    }

    /// The kind's state.
    pub fn state(&self) -> KindState {
        match self.state.load(Ordering::Acquire) {
            1 => KindState::Ready,
            2 => KindState::Missing,
            _ => KindState::Unknown,
        }
    }

    /// Records the kind's state (from its watch stream).
    pub fn set_state(&self, state: KindState) {
        let encoded = match state {
            KindState::Ready => 1,
            KindState::Missing => 2,
            KindState::Unknown | KindState::NotWatched => 0,
        };
        self.state.store(encoded, Ordering::Release);
    }

    fn covers(&self, namespace: &str) -> bool {
        self.scope.as_deref().is_none_or(|s| s == namespace)
    }
}

/// All kind caches, by `(apiVersion, kind)`.
#[derive(Clone, Default)]
pub struct Caches {
    kinds: Arc<HashMap<(String, String), Vec<KindCache>>>,
}

/// Whether the labels mark an object as this operator's (of any instance and component).
pub fn carries_our_labels(labels: &BTreeMap<String, String>) -> bool {
    labels.get(LABEL_MANAGED_BY).map(String::as_str) == Some(MANAGER)
}

/// Whether the labels mark an object of `instance` (and of `component`, when given).
pub fn is_ours(labels: &BTreeMap<String, String>, instance: &Instance, component: Option<&str>) -> bool {
    carries_our_labels(labels)
        && labels.get(LABEL_INSTANCE) == Some(&instance.name)
        && labels.get(LABEL_INSTANCE_NAMESPACE) == Some(&instance.namespace)
        && component.is_none_or(|c| labels.get(LABEL_COMPONENT).map(String::as_str) == Some(c))
}

/// Whether the labels mark an object that `component` of `instance` answers for: one of its
/// own (component label), or a Secret its vendor made that we labelled to cache it.
pub fn belongs_to(labels: &BTreeMap<String, String>, instance: &Instance, component: &str) -> bool {
    is_ours(labels, instance, Some(component))
        || (is_ours(labels, instance, None)
            && labels.get(LABEL_VENDOR_SECRET_OF).map(String::as_str) == Some(component))
}

impl Caches {
    /// Caches from kind caches.
    pub fn new(caches: Vec<KindCache>) -> Self {
        let mut kinds: HashMap<(String, String), Vec<KindCache>> = HashMap::new();
        for c in caches {
            kinds.entry((c.resource.api_version.clone(), c.resource.kind.clone())).or_default().push(c);
        }
        Caches { kinds: Arc::new(kinds) }
    }

    fn scoped(&self, api_version: &str, kind: &str, namespace: &str) -> Option<&KindCache> {
        self.kinds.get(&(api_version.to_owned(), kind.to_owned()))?.iter().find(|c| c.covers(namespace))
    }

    /// The resource of a kind.
    pub fn resource(&self, api_version: &str, kind: &str) -> Option<ApiResource> {
        self.kinds.get(&(api_version.to_owned(), kind.to_owned()))?.first().map(|c| c.resource.clone())
    }

    /// Every kind cache.
    pub fn all(&self) -> impl Iterator<Item = &KindCache> {
        self.kinds.values().flatten()
    }

    /// The state of a kind in a namespace.
    pub fn state(&self, api_version: &str, kind: &str, namespace: &str) -> KindState {
        match self.kinds.get(&(api_version.to_owned(), kind.to_owned())) {
            None => KindState::Missing,
            Some(caches) => caches.iter().find(|c| c.covers(namespace)).map_or(KindState::NotWatched, KindCache::state),
        }
    }

    /// The cached object for `key`, as projected (`projection`) and parsed back.
    pub fn get(&self, key: &ObjectKey) -> Option<Arc<DynamicObject>> {
        let cache = self.scoped(&key.api_version, &key.kind, &key.namespace)?;
        cache.store.get(&key.namespace, &key.name).map(Arc::new)
    }

    /// A field of a cached object's body (a pointer under `/spec`), read without serializing
    /// the whole object.
    pub fn field(&self, key: &ObjectKey, pointer: &str) -> Option<serde_json::Value> {
        self.get(key)?.data.pointer(pointer).cloned()
    }

    /// Cached objects of a kind in `namespace` whose metadata satisfies `filter`, parsed back
    /// (only those that match are parsed whole).
    pub fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        filter: impl Fn(&ObjectMeta) -> bool,
    ) -> Vec<Arc<DynamicObject>> {
        self.scoped(api_version, kind, namespace)
            .map(|c| c.store.list(namespace, filter))
            .unwrap_or_default()
            .into_iter()
            .map(Arc::new)
            .collect()
    }
}
