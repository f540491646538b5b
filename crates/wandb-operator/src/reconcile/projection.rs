//! What the caches keep of each watched object: only what a reconcile reads (issue 10).
//!
//! The watch delivers whole objects; before one enters a cache it is cut down to
//! - its identity and relations: name, namespace, uid, resourceVersion, generation, labels,
//!   owner references, finalizers, deletion timestamp, and our own `apps.wandb.com/`
//!   annotations (the applied-state hash);
//! - for the vendor objects we server-side apply: the fields our field manager owns, read from
//!   the object's `managedFields` (so drift detection compares exactly what we set: a field
//!   another manager changed has left our set and is missing, which drift detection treats as
//!   drifted), plus the whole `status` the readiness rules read;
//! - for StatefulSets (read for Opstree readiness only): `spec.replicas`, `spec.updateStrategy`
//!   and `status`;
//! - for the cluster-CA ConfigMap (`kube-root-ca.crt`): nothing beyond its identity (its
//!   `resourceVersion` tells whether the CA was copied);
//! - for our generated Secrets: their keys, with every value blanked except the few that are
//!   not credentials (user names the status reports); for connection Secrets, only the keys
//!   our field manager owns (a value someone edited by hand is then missing, and applied again).
//!
//! What is kept is stored as compact JSON text and parsed back when read ([`expand`]).
//!
//! Pure: no I/O, unit-tested below.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;
use kube::api::DynamicObject;
use serde_json::{Map, Value};

use crate::vendors::MANAGER;
use crate::vendors::connection_secret::SOURCES_HASH_ANNOTATION;

/// How a kind is cut down before it is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    /// A vendor object we apply: the fields we own, and its status.
    Applied,
    /// A StatefulSet a vendor made: replicas, update strategy and status.
    StatefulSet,
    /// A record a vendor makes on its own (Percona's backups): `spec`, `status` and the
    /// creation time, which status reports.
    Record,
    /// An object read only for its `resourceVersion` (the cluster-CA ConfigMap): identity only.
    Identity,
    /// A Secret we generated: keys without values, except `public_keys`.
    Secret {
        /// Keys whose values are not credentials and are kept (e.g. a user name).
        public_keys: &'static [&'static str],
    },
}

/// The annotation prefix of our own annotations (the only ones kept).
const OWN_ANNOTATION_PREFIX: &str = "apps.wandb.com/";

/// Cuts `object` down according to `projection`, in place.
pub fn project(object: &mut DynamicObject, projection: Projection) {
    let owned = match projection {
        Projection::Applied => owned_fields(object),
        // A connection Secret (it carries our connection digest): its values are copies we
        // apply, so a key another manager took over (`kubectl edit` of a value) leaves the
        // cached keys, and the reconcile sees the Secret as not current and applies it again.
        // Generated Secrets keep every key: their values are never rewritten.
        Projection::Secret { .. } if object.annotations().contains_key(SOURCES_HASH_ANNOTATION) => owned_fields(object),
        Projection::StatefulSet | Projection::Secret { .. } | Projection::Record | Projection::Identity => None,
    };
    // Annotations: ours by prefix, and any other we set through apply.
    let owned_annotations: Vec<String> = owned
        .as_ref()
        .and_then(|o| o.get("f:metadata")?.get("f:annotations")?.as_object().cloned())
        .map(|set| set.keys().filter_map(|k| k.strip_prefix("f:")).map(str::to_owned).collect())
        .unwrap_or_default();
    let meta = &mut object.metadata;
    meta.managed_fields = None;
    meta.annotations = meta
        .annotations
        .take()
        .map(|all| {
            all.into_iter()
                .filter(|(k, _)| k.starts_with(OWN_ANNOTATION_PREFIX) || owned_annotations.contains(k))
                .collect::<std::collections::BTreeMap<_, _>>()
        })
        .filter(|kept| !kept.is_empty());
    if projection != Projection::Record {
        meta.creation_timestamp = None;
    }
    meta.generate_name = None;
    let Value::Object(data) = std::mem::take(&mut object.data) else { return };
    let mut kept = Map::new();
    match projection {
        Projection::Identity => {}
        Projection::Applied => {
            if let Some(owned) = owned {
                for (key, value) in &data {
                    if key == "status" {
                        continue;
                    }
                    if let Some(set) = owned.get(&format!("f:{key}")).and_then(Value::as_object)
                        && let Some(projected) = keep_owned(value, set)
                    {
                        kept.insert(key.clone(), projected);
                    }
                }
            }
            if let Some(status) = data.get("status") {
                kept.insert("status".to_owned(), status.clone());
            }
        }
        Projection::Record => {
            for field in ["spec", "status"] {
                if let Some(value) = data.get(field) {
                    kept.insert(field.to_owned(), value.clone());
                }
            }
        }
        Projection::StatefulSet => {
            let mut spec = Map::new();
            for field in ["replicas", "updateStrategy"] {
                if let Some(value) = data.get("spec").and_then(|s| s.get(field)) {
                    spec.insert(field.to_owned(), value.clone());
                }
            }
            kept.insert("spec".to_owned(), Value::Object(spec));
            if let Some(status) = data.get("status") {
                kept.insert("status".to_owned(), status.clone());
            }
        }
        Projection::Secret { public_keys } => {
            if let Some(kind) = data.get("type") {
                kept.insert("type".to_owned(), kind.clone());
            }
            if let Some(Value::Object(values)) = data.get("data") {
                // Of a connection Secret, only the keys we own (none when we own no `data`).
                let empty = Map::new();
                let owned_keys = owned.as_ref().map(|o| o.get("f:data").and_then(Value::as_object).unwrap_or(&empty));
                let blanked: Map<String, Value> = values
                    .iter()
                    .filter(|(k, _)| owned_keys.is_none_or(|keys| keys.contains_key(&format!("f:{k}"))))
                    .map(|(k, v)| {
                        let keep = public_keys.contains(&k.as_str());
                        (k.clone(), if keep { v.clone() } else { Value::from("") })
                    })
                    .collect();
                kept.insert("data".to_owned(), Value::Object(blanked));
            }
        }
    }
    object.data = Value::Object(kept);
    // Kept as compact JSON text, not as typed metadata and a `Value` tree: those spend a
    // B-tree node (about half a KiB) on every small map (labels, each nested spec map) and a
    // dozen small allocations on each object, several times the text's size. What stays
    // typed is what the store is keyed by: name and namespace. A reconcile reads a handful
    // of cached objects and parses them back (`expand`).
    let text = serde_json::to_string(&*object).unwrap_or_default();
    object.types = None;
    object.metadata = ObjectMeta {
        name: object.metadata.name.take(),
        namespace: object.metadata.namespace.take(),
        ..ObjectMeta::default()
    };
    object.data = Value::String(text);
}

/// The metadata of a cached object, parsed back without its data: what the trigger path and
/// cache filters look at (labels, owner references), at the cost of the metadata alone.
pub fn metadata(cached: &DynamicObject) -> ObjectMeta {
    match &cached.data {
        Value::String(text) => metadata_of(text).unwrap_or_else(|| cached.metadata.clone()),
        _ => cached.metadata.clone(),
    }
}

/// The metadata of a projected object's text; serde skips the rest without building it.
pub fn metadata_of(text: &str) -> Option<ObjectMeta> {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(default)]
        metadata: ObjectMeta,
    }
    serde_json::from_str::<Head>(text).ok().map(|h| h.metadata)
}

/// A cached object as a reconcile reads it: parsed back from the text [`project`] kept (an
/// object that was never projected is returned as it is).
pub fn expand(cached: &DynamicObject) -> DynamicObject {
    match &cached.data {
        Value::String(text) => serde_json::from_str(text).unwrap_or_else(|_| cached.clone()),
        _ => cached.clone(),
    }
}

/// The union of the field sets our manager owns through server-side apply (its `Apply`
/// entries; an `Update` entry of ours, from a detach, owns no field we compare).
fn owned_fields(object: &DynamicObject) -> Option<Map<String, Value>> {
    let entries = object.metadata.managed_fields.as_ref()?;
    let mut union: Option<Map<String, Value>> = None;
    for entry in entries {
        if entry.manager.as_deref() != Some(MANAGER) || entry.operation.as_deref() != Some("Apply") {
            continue;
        }
        let Some(Value::Object(set)) = entry.fields_v1.as_ref().map(|f| f.0.clone()) else { continue };
        match &mut union {
            None => union = Some(set),
            Some(existing) => merge_sets(existing, set),
        }
    }
    union
}

fn merge_sets(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(more)) => merge_sets(existing, more),
            (None, value) => {
                into.insert(key, value);
            }
            _ => {}
        }
    }
}

/// Whether a field set is a leaf: the whole value is owned (a scalar, an atomic list or map,
/// or a field set to `{}`).
fn is_leaf(set: &Map<String, Value>) -> bool {
    set.keys().all(|k| k == ".")
}

/// `value` restricted to the field set `set` (`f:` fields of maps; `k:` keys, `v:` values
/// and `i:` indexes of list items), `None` when nothing of it is owned.
fn keep_owned(value: &Value, set: &Map<String, Value>) -> Option<Value> {
    if is_leaf(set) {
        return Some(value.clone());
    }
    match value {
        Value::Object(fields) => {
            let mut kept = Map::new();
            for (key, sub) in set {
                let (Some(name), Some(sub)) = (key.strip_prefix("f:"), sub.as_object()) else { continue };
                if let Some(projected) = fields.get(name).and_then(|v| keep_owned(v, sub)) {
                    kept.insert(name.to_owned(), projected);
                }
            }
            Some(Value::Object(kept))
        }
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    set.iter().find_map(|(key, sub)| {
                        let sub = sub.as_object()?;
                        item_matches(key, index, item).then(|| keep_owned(item, sub)).flatten()
                    })
                })
                .collect();
            Some(Value::Array(kept))
        }
        scalar => Some(scalar.clone()),
    }
}

/// Whether list item `item` at `index` is the one a field-set key names.
fn item_matches(key: &str, index: usize, item: &Value) -> bool {
    if let Some(fields) = key.strip_prefix("k:") {
        let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields) else { return false };
        fields.iter().all(|(k, v)| item.get(k) == Some(v))
    } else if let Some(expected) = key.strip_prefix("v:") {
        serde_json::from_str::<Value>(expected).is_ok_and(|v| &v == item)
    } else if let Some(i) = key.strip_prefix("i:") {
        i.parse::<usize>().is_ok_and(|i| i == index)
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> DynamicObject {
        serde_json::from_value(value).unwrap()
    }

    fn applied_object() -> DynamicObject {
        object(json!({
            "apiVersion": "pxc.percona.com/v1", "kind": "PerconaXtraDBCluster",
            "metadata": {
                "name": "wandb-mysql", "namespace": "ns", "uid": "u1", "resourceVersion": "7", "generation": 2,
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {"app.kubernetes.io/managed-by": "wandb-operator"},
                "annotations": {"apps.wandb.com/applied-hash": "h", "kubectl.kubernetes.io/last-applied-configuration": "{…}"},
                "ownerReferences": [{"apiVersion": "apps.wandb.com/v2", "kind": "WeightsAndBiases", "name": "wandb", "uid": "w1"}],
                "managedFields": [
                    {"manager": MANAGER, "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {
                        "f:metadata": {"f:annotations": {"f:apps.wandb.com/applied-hash": {}}},
                        "f:spec": {"f:pxc": {"f:size": {}, "f:image": {}}, "f:users": {},
                                   "f:pools": {"k:{\"name\":\"a\"}": {".": {}, "f:name": {}, "f:servers": {}}}}}},
                    {"manager": "percona-xtradb-cluster-operator", "operation": "Update", "fieldsType": "FieldsV1",
                     "fieldsV1": {"f:spec": {"f:pxc": {"f:resources": {}}}}}
                ]
            },
            "spec": {"pxc": {"size": 3, "image": "i", "resources": {"limits": {}}, "defaulted": true},
                     "users": [{"name": "x"}, {"name": "y"}],
                     "pools": [{"name": "a", "servers": 3, "extra": 1}, {"name": "b", "servers": 1}],
                     "vendorDefault": {"big": "x"}},
            "status": {"state": "ready", "host": "h"}
        }))
    }

    #[test]
    fn an_applied_object_keeps_the_fields_we_own_and_its_status() {
        let mut o = applied_object();
        project(&mut o, Projection::Applied);
        assert_eq!(
            expand(&o).data,
            json!({"spec": {"pxc": {"size": 3, "image": "i"}, "users": [{"name": "x"}, {"name": "y"}],
                            "pools": [{"name": "a", "servers": 3}]},
                   "status": {"state": "ready", "host": "h"}})
        );
        assert!(o.metadata.labels.is_none() && o.data.is_string(), "stored as text, keyed by name: {o:?}");
        assert_eq!(o.metadata.name.as_deref(), Some("wandb-mysql"));
        assert_eq!(metadata(&o), expand(&o).metadata, "the metadata alone parses back the same");
        let o = expand(&o);
        assert!(o.metadata.managed_fields.is_none());
        assert_eq!(o.metadata.annotations.unwrap().keys().collect::<Vec<_>>(), ["apps.wandb.com/applied-hash"]);
        assert_eq!(o.metadata.uid.as_deref(), Some("u1"));
        assert_eq!(o.metadata.generation, Some(2));
        assert_eq!(o.metadata.owner_references.unwrap().len(), 1);
        assert!(o.metadata.labels.is_some());
    }

    #[test]
    fn an_object_we_never_applied_keeps_no_spec_so_that_it_counts_as_drifted() {
        let mut o = applied_object();
        o.metadata.managed_fields.as_mut().unwrap().remove(0);
        project(&mut o, Projection::Applied);
        assert_eq!(expand(&o).data, json!({"status": {"state": "ready", "host": "h"}}));
    }

    #[test]
    fn a_field_another_manager_took_over_leaves_the_projection() {
        // After `kubectl edit` of spec.pxc.size, the field is the editor's, no longer ours.
        let mut o = applied_object();
        let fields = &mut o.metadata.managed_fields.as_mut().unwrap()[0];
        let mut set = fields.fields_v1.clone().unwrap().0;
        set["f:spec"]["f:pxc"].as_object_mut().unwrap().remove("f:size");
        fields.fields_v1 = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::FieldsV1(set));
        project(&mut o, Projection::Applied);
        assert_eq!(expand(&o).data["spec"]["pxc"], json!({"image": "i"}));
    }

    #[test]
    fn list_items_are_matched_by_key_value_and_index() {
        let value = json!([{"name": "a", "x": 1}, "plain", {"name": "b"}]);
        let set = json!({"k:{\"name\":\"b\"}": {}, "v:\"plain\"": {}, "i:0": {"f:x": {}}});
        assert_eq!(keep_owned(&value, set.as_object().unwrap()), Some(json!([{"x": 1}, "plain", {"name": "b"}])));
    }

    #[test]
    fn a_statefulset_keeps_replicas_strategy_and_status_only() {
        let mut o = object(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "r", "namespace": "ns", "generation": 3},
            "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}, "template": {"spec": {"containers": []}},
                     "selector": {"matchLabels": {"a": "b"}}},
            "status": {"readyReplicas": 3, "observedGeneration": 3}}));
        project(&mut o, Projection::StatefulSet);
        let o = expand(&o);
        assert_eq!(
            o.data,
            json!({"spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}},
                   "status": {"readyReplicas": 3, "observedGeneration": 3}})
        );
        let typed: k8s_openapi::api::apps::v1::StatefulSet =
            serde_json::from_value(serde_json::to_value(&o).unwrap()).unwrap();
        assert_eq!(typed.spec.unwrap().replicas, Some(3));
    }

    #[test]
    fn a_secret_keeps_its_keys_and_only_public_values() {
        let mut o = object(json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "s", "namespace": "ns"},
            "data": {"MINIO_ROOT_USER": "dXNlcg==", "MINIO_ROOT_PASSWORD": "c2VjcmV0", "config.env": "ZXhwb3J0"}}));
        project(&mut o, Projection::Secret { public_keys: &["MINIO_ROOT_USER"] });
        assert_eq!(
            expand(&o).data,
            json!({"type": "Opaque", "data": {"MINIO_ROOT_USER": "dXNlcg==", "MINIO_ROOT_PASSWORD": "", "config.env": ""}})
        );
    }

    fn secret_with_managers(annotations: Value, managers: Value) -> DynamicObject {
        object(json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "s", "namespace": "ns", "annotations": annotations, "managedFields": managers},
            "data": {"REDIS_HOST": "aA==", "REDIS_PASSWORD": "cA==", "URL": "dQ=="}}))
    }

    #[test]
    fn a_connection_secret_keeps_only_the_keys_we_own_and_a_generated_secret_keeps_all() {
        // `kubectl edit` of REDIS_PASSWORD: the editor's Update entry owns it, ours no longer.
        let managers = json!([
            {"manager": MANAGER, "operation": "Apply", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:data": {"f:REDIS_HOST": {}, "f:URL": {}}}},
            {"manager": "kubectl-edit", "operation": "Update", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:data": {"f:REDIS_PASSWORD": {}}}}
        ]);
        let mut connection = secret_with_managers(json!({SOURCES_HASH_ANNOTATION: "d"}), managers.clone());
        project(&mut connection, Projection::Secret { public_keys: &[] });
        assert_eq!(expand(&connection).data["data"], json!({"REDIS_HOST": "", "URL": ""}));
        let mut generated = secret_with_managers(json!({"apps.wandb.com/generated-keys": "x"}), managers);
        project(&mut generated, Projection::Secret { public_keys: &[] });
        assert_eq!(expand(&generated).data["data"], json!({"REDIS_HOST": "", "REDIS_PASSWORD": "", "URL": ""}));
    }
}
