//! The object store: one global resourceVersion, objects by storage key, the bounded event
//! history watches resume from, and the broadcast that feeds open watches.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::registry::Registry;

/// Where an object lives: its kind's storage key, namespace (`""` for cluster-scoped) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreKey {
    /// `(group, plural)` shared by every version of a kind.
    pub storage: (String, String),
    /// Namespace, `""` when cluster-scoped.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// Watch event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

impl EventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// A change, as kept in history and broadcast to watches.
#[derive(Debug, Clone)]
pub struct Change {
    /// resourceVersion of the change.
    pub rv: u64,
    /// Which object.
    pub key: StoreKey,
    /// What happened.
    pub type_: EventType,
    /// The object after the change (before it, for deletions).
    pub object: Value,
    /// The object before the change (for selector transitions).
    pub old: Option<Value>,
}

/// A message to open watches.
#[derive(Debug, Clone)]
pub enum Broadcast {
    /// An object changed.
    Change(Arc<Change>),
    /// Tests asked to close every open watch stream cleanly.
    DropWatches,
    /// Tests compacted history: every open watch gets an in-stream 410.
    Expire,
}

/// A list snapshot kept for `continue` tokens.
#[derive(Debug, Clone)]
pub struct ListSnapshot {
    /// resourceVersion of the first page.
    pub rv: u64,
    /// Items not returned yet.
    pub remaining: Vec<Value>,
}

/// Mutable server state, behind one lock.
pub struct State {
    /// Served kinds.
    pub registry: Registry,
    /// The last resourceVersion handed out.
    pub rv: u64,
    /// Objects.
    pub objects: BTreeMap<StoreKey, Value>,
    /// uid → key.
    pub uids: HashMap<String, StoreKey>,
    /// Recent changes, oldest first.
    pub history: VecDeque<Arc<Change>>,
    /// Changes at or below this resourceVersion are no longer in history.
    pub compacted: u64,
    /// Maximum history length.
    pub history_limit: usize,
    /// `continue` token → snapshot.
    pub snapshots: HashMap<String, ListSnapshot>,
    /// Counter for tokens.
    pub next_token: u64,
    /// Changes every time the set of served kinds changes (OpenAPI hash).
    pub registry_generation: u64,
    /// Feed of open watches.
    pub sender: broadcast::Sender<Broadcast>,
}

impl State {
    /// An empty store serving `registry`.
    pub fn new(registry: Registry, history_limit: usize, sender: broadcast::Sender<Broadcast>) -> Self {
        State {
            registry,
            // Like a fresh etcd, start above zero so "0" never names a real revision.
            rv: 100,
            objects: BTreeMap::new(),
            uids: HashMap::new(),
            history: VecDeque::new(),
            compacted: 100,
            history_limit,
            snapshots: HashMap::new(),
            next_token: 1,
            registry_generation: 1,
            sender,
        }
    }

    /// Records a change: bumps the resourceVersion, stamps it on the object, stores or removes
    /// the object, appends to history and broadcasts. Returns the stored object.
    pub fn commit(&mut self, key: StoreKey, type_: EventType, mut object: Value) -> Value {
        self.rv += 1;
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".to_owned(), Value::from(self.rv.to_string()));
        }
        let old = match type_ {
            EventType::Deleted => {
                let old = self.objects.remove(&key);
                if let Some(uid) = old.as_ref().and_then(|o| o.pointer("/metadata/uid")).and_then(Value::as_str) {
                    self.uids.remove(uid);
                }
                old
            }
            _ => {
                if let Some(uid) = object.pointer("/metadata/uid").and_then(Value::as_str) {
                    self.uids.insert(uid.to_owned(), key.clone());
                }
                self.objects.insert(key.clone(), object.clone())
            }
        };
        let change = Arc::new(Change { rv: self.rv, key, type_, object: object.clone(), old });
        self.history.push_back(change.clone());
        while self.history.len() > self.history_limit {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted = dropped.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.sender.send(Broadcast::Change(change));
        object
    }

    /// Forgets all history (watches from older versions get 410).
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted = self.rv;
        self.snapshots.clear();
        let _ = self.sender.send(Broadcast::Expire);
    }

    /// Objects of a storage key, optionally in one namespace, in key order. A range of the
    /// ordered map (keys sort by storage, then namespace, then name), not a scan of every
    /// object: a namespaced list costs what it returns.
    pub fn list(&self, storage: &(String, String), namespace: Option<&str>) -> Vec<(&StoreKey, &Value)> {
        let from = StoreKey {
            storage: storage.clone(),
            namespace: namespace.unwrap_or_default().to_owned(),
            name: String::new(),
        };
        self.objects
            .range(from..)
            .take_while(|(k, _)| &k.storage == storage && namespace.is_none_or(|ns| k.namespace == ns))
            .collect()
    }

    /// Whether a namespace exists, and whether it is terminating.
    pub fn namespace_state(&self, name: &str) -> Option<bool> {
        let key = StoreKey {
            storage: (String::new(), "namespaces".to_owned()),
            namespace: String::new(),
            name: name.to_owned(),
        };
        self.objects.get(&key).map(|ns| ns.pointer("/metadata/deletionTimestamp").is_some())
    }
}
