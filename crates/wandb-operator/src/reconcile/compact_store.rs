//! The store behind each kind cache: the compact JSON text [`project`](super::projection::project)
//! keeps of every watched object, keyed by `namespace/name` (issue 17).
//!
//! kube-runtime's reflector `Store` keeps, for each object, an `Arc<DynamicObject>` (a typed
//! `ObjectMeta` of about 250 bytes even when only name and namespace are set) and a key that
//! repeats the kind's `ApiResource` (five `String`s) with the name and namespace: at 1,000
//! resources, about 37,000 cached objects, that bookkeeping weighed more than the text itself
//! (heap profile in `docs/performance.md`). Here an object is two boxed strings in one map
//! entry. It applies the watcher's events the way the reflector's writer does: a relist fills
//! a buffer that replaces the map once complete, so a reader never sees a half-listed kind.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::DynamicObject;
use kube::runtime::watcher;
use serde_json::Value;

use super::projection::metadata_of;

#[derive(Default)]
struct Objects {
    /// `namespace/name` → the projected object as JSON text.
    live: HashMap<Box<str>, Box<str>>,
    /// A relist in progress: what it delivered so far.
    relisting: Option<HashMap<Box<str>, Box<str>>>,
}

/// The projected objects of one kind in one watched scope.
#[derive(Clone, Default)]
pub struct CompactStore {
    objects: Arc<RwLock<Objects>>,
}

fn key(namespace: &str, name: &str) -> Box<str> {
    format!("{namespace}/{name}").into_boxed_str()
}

fn key_of(object: &DynamicObject) -> Box<str> {
    key(object.metadata.namespace.as_deref().unwrap_or_default(), object.metadata.name.as_deref().unwrap_or_default())
}

/// The stored text of a projected object (its data is the text); an object that was not
/// projected is stored as its whole JSON.
fn text_of(object: &DynamicObject) -> Box<str> {
    match &object.data {
        Value::String(text) => text.as_str().into(),
        _ => serde_json::to_string(object).unwrap_or_default().into_boxed_str(),
    }
}

impl CompactStore {
    fn read(&self) -> RwLockReadGuard<'_, Objects> {
        // A panic while holding the lock leaves a map that is still whole: keep using it.
        self.objects.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Objects> {
        self.objects.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies one watcher event.
    pub fn apply(&self, event: &watcher::Event<DynamicObject>) {
        let mut objects = self.write();
        match event {
            watcher::Event::Apply(object) => {
                objects.live.insert(key_of(object), text_of(object));
            }
            watcher::Event::Delete(object) => {
                objects.live.remove(&key_of(object));
            }
            watcher::Event::Init => objects.relisting = Some(HashMap::new()),
            watcher::Event::InitApply(object) => {
                objects.relisting.get_or_insert_with(HashMap::new).insert(key_of(object), text_of(object));
            }
            watcher::Event::InitDone => {
                let mut listed = objects.relisting.take().unwrap_or_default();
                listed.shrink_to_fit();
                objects.live = listed;
            }
        }
    }

    /// The object `namespace/name`, parsed back.
    pub fn get(&self, namespace: &str, name: &str) -> Option<DynamicObject> {
        let objects = self.read();
        let text = objects.live.get(&key(namespace, name))?;
        serde_json::from_str(text).ok()
    }

    /// The objects in `namespace` whose metadata satisfies `filter`, parsed back (only those
    /// that match are parsed whole).
    pub fn list(&self, namespace: &str, filter: impl Fn(&ObjectMeta) -> bool) -> Vec<DynamicObject> {
        let prefix = format!("{namespace}/");
        let objects = self.read();
        objects
            .live
            .iter()
            .filter(|(key, _)| key.starts_with(&prefix))
            .filter(|(_, text)| metadata_of(text).is_some_and(|meta| filter(&meta)))
            .filter_map(|(_, text)| serde_json::from_str(text).ok())
            .collect()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.read().live.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::projection::{Projection, project};
    use serde_json::json;

    fn secret(namespace: &str, name: &str, version: &str) -> DynamicObject {
        let mut object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace, "resourceVersion": version,
                         "labels": {"app.kubernetes.io/managed-by": "wandb-operator"}},
            "data": {"password": "c2VjcmV0"},
        }))
        .unwrap();
        project(&mut object, Projection::Secret { public_keys: &[] });
        object
    }

    #[test]
    fn events_apply_as_the_reflector_applies_them_and_reads_parse_back() {
        let store = CompactStore::default();
        store.apply(&watcher::Event::Init);
        store.apply(&watcher::Event::InitApply(secret("a", "one", "1")));
        assert_eq!(store.len(), 0, "a relist in progress is not visible");
        store.apply(&watcher::Event::InitDone);
        store.apply(&watcher::Event::Apply(secret("a", "two", "2")));
        store.apply(&watcher::Event::Apply(secret("b", "one", "3")));
        store.apply(&watcher::Event::Apply(secret("a", "one", "4")));
        assert_eq!(store.len(), 3);
        let one = store.get("a", "one").unwrap();
        assert_eq!(one.metadata.resource_version.as_deref(), Some("4"));
        assert_eq!(one.data["data"]["password"], json!(""), "values stay blanked");
        assert!(store.get("a", "three").is_none());
        let mut names: Vec<String> =
            store.list("a", |_| true).into_iter().map(|o| o.metadata.name.unwrap_or_default()).collect();
        names.sort();
        assert_eq!(names, ["one", "two"]);
        let labelled =
            store.list("b", |m| m.labels.as_ref().is_some_and(|l| l.contains_key("app.kubernetes.io/managed-by")));
        assert_eq!(labelled.len(), 1);
        store.apply(&watcher::Event::Delete(secret("a", "two", "5")));
        assert!(store.get("a", "two").is_none());
        // A relist replaces everything with what it listed.
        store.apply(&watcher::Event::Init);
        store.apply(&watcher::Event::InitApply(secret("c", "only", "6")));
        store.apply(&watcher::Event::InitDone);
        assert_eq!(store.len(), 1);
        assert!(store.get("a", "one").is_none() && store.get("c", "only").is_some());
    }
}
