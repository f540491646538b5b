//! Garbage collection and deletion finalization, run synchronously after writes that can
//! affect it: objects whose last finalizer is gone are removed; `orphan` and
//! `foregroundDeletion` finalizers are processed; dependents whose owners are all gone are
//! deleted in the background; terminating namespaces are emptied, then removed.

use serde_json::{Value, json};

use crate::store::{EventType, State, StoreKey};

fn finalizers(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|f| f.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn deleting(object: &Value) -> bool {
    object.pointer("/metadata/deletionTimestamp").is_some()
}

fn owner_uids(object: &Value) -> Vec<(String, bool)> {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|r| {
                    let uid = r.get("uid")?.as_str()?.to_owned();
                    Some((uid, r.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true)))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn set_finalizers(object: &mut Value, list: &[String]) {
    if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            m.remove("finalizers");
        } else {
            m.insert("finalizers".to_owned(), json!(list));
        }
    }
}

impl State {
    /// Whether the owner with `uid` exists for a dependent in `namespace` (a namespaced owner
    /// must be in the dependent's namespace; a cross-namespace reference counts as absent).
    fn owner_present(&self, uid: &str, namespace: &str) -> bool {
        self.uids.get(uid).is_some_and(|k| k.namespace.is_empty() || k.namespace == namespace)
    }

    fn dependents_of(&self, uid: &str) -> Vec<(StoreKey, bool)> {
        self.objects
            .iter()
            .filter_map(|(k, o)| owner_uids(o).into_iter().find(|(u, _)| u == uid).map(|(_, block)| (k.clone(), block)))
            .collect()
    }

    /// Starts a background deletion of `key`: removed now, or marked deleting when it has
    /// finalizers.
    fn delete_in_background(&mut self, key: &StoreKey, now: &str) {
        let Some(mut object) = self.objects.get(key).cloned() else { return };
        if deleting(&object) {
            return;
        }
        if finalizers(&object).is_empty() {
            self.commit(key.clone(), EventType::Deleted, object);
        } else if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("deletionTimestamp".to_owned(), Value::from(now));
            m.insert("deletionGracePeriodSeconds".to_owned(), Value::from(0));
            self.commit(key.clone(), EventType::Modified, object);
        }
    }

    /// Whether every owner of `object` (stored under `key`) is gone; an object without owners
    /// is never orphaned.
    fn orphaned(&self, key: &StoreKey, object: &Value) -> bool {
        let owners = owner_uids(object);
        !owners.is_empty() && owners.iter().all(|(u, _)| !self.owner_present(u, &key.namespace))
    }

    fn being_deleted(&self, uid: &str) -> bool {
        self.uids.get(uid).and_then(|k| self.objects.get(k)).is_some_and(deleting)
    }

    /// After a write of `key` (`previous`: the object before it, for an update): runs
    /// [`State::sweep`] when the write can move deletion or collection — the object is being
    /// deleted, all its owners are gone, or one of its owners (before or after the write) is
    /// being deleted and may be waiting for it. O(owners) otherwise, so writes stay cheap
    /// with many objects.
    pub fn collect_after_write(&mut self, key: &StoreKey, previous: Option<&Value>, now: &str) {
        let Some(object) = self.objects.get(key) else { return };
        let mut owners = owner_uids(object);
        owners.extend(previous.map(owner_uids).unwrap_or_default());
        if deleting(object) || self.orphaned(key, object) || owners.iter().any(|(u, _)| self.being_deleted(u)) {
            self.sweep(now);
        }
    }

    /// Runs deletion finalization and garbage collection until nothing changes.
    pub fn sweep(&mut self, now: &str) {
        loop {
            let mut changed = false;
            let keys: Vec<StoreKey> = self.objects.keys().cloned().collect();
            for key in keys {
                let Some(object) = self.objects.get(&key).cloned() else { continue };
                let fins = finalizers(&object);
                let uid = object.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default().to_owned();
                let is_namespace = key.storage == (String::new(), "namespaces".to_owned());
                if deleting(&object) {
                    if is_namespace {
                        let contents: Vec<StoreKey> =
                            self.objects.keys().filter(|k| k.namespace == key.name).cloned().collect();
                        if contents.is_empty() {
                            self.commit(key.clone(), EventType::Deleted, object);
                            changed = true;
                        } else {
                            for k in contents {
                                if self.objects.get(&k).is_some_and(|o| !deleting(o)) {
                                    self.delete_in_background(&k, now);
                                    changed = true;
                                }
                            }
                        }
                        continue;
                    }
                    if fins.is_empty() {
                        self.commit(key.clone(), EventType::Deleted, object);
                        changed = true;
                        continue;
                    }
                    if fins.iter().any(|f| f == "orphan") {
                        for (dependent, _) in self.dependents_of(&uid) {
                            if let Some(mut d) = self.objects.get(&dependent).cloned() {
                                if let Some(refs) =
                                    d.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut)
                                {
                                    refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
                                    if refs.is_empty()
                                        && let Some(m) = d.get_mut("metadata").and_then(Value::as_object_mut)
                                    {
                                        m.remove("ownerReferences");
                                    }
                                }
                                self.commit(dependent, EventType::Modified, d);
                            }
                        }
                        let mut updated = object.clone();
                        set_finalizers(
                            &mut updated,
                            &fins.iter().filter(|f| *f != "orphan").cloned().collect::<Vec<_>>(),
                        );
                        self.commit(key.clone(), EventType::Modified, updated);
                        changed = true;
                        continue;
                    }
                    if fins.iter().any(|f| f == "foregroundDeletion") {
                        let dependents = self.dependents_of(&uid);
                        for (dependent, _) in &dependents {
                            if self.objects.get(dependent).is_some_and(|o| !deleting(o)) {
                                self.delete_in_background(dependent, now);
                                changed = true;
                            }
                        }
                        let blocking = self.dependents_of(&uid).iter().any(|(_, block)| *block);
                        if !blocking {
                            let mut updated = object.clone();
                            set_finalizers(
                                &mut updated,
                                &fins.iter().filter(|f| *f != "foregroundDeletion").cloned().collect::<Vec<_>>(),
                            );
                            self.commit(key.clone(), EventType::Modified, updated);
                            changed = true;
                        }
                        continue;
                    }
                } else if self.orphaned(&key, &object) {
                    self.delete_in_background(&key, now);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }
}
