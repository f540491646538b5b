//! Per-version views of stored objects: `apiVersion` of the requested version, and the
//! `v1` Event view of `events.k8s.io/v1` events (the field mapping Kubernetes' conversion uses).

use serde_json::{Map, Value};

use crate::registry::{Builtin, ResourceType};

// (events.k8s.io/v1 field, core/v1 field)
const EVENT_FIELDS: [(&str, &str); 6] = [
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedCount", "count"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
];

fn rename(object: &Value, pairs: impl Iterator<Item = (&'static str, &'static str)>) -> Value {
    let Value::Object(map) = object else { return object.clone() };
    let mut out: Map<String, Value> = map.clone();
    for (from, to) in pairs {
        if let Some(v) = out.remove(from) {
            out.insert(to.to_owned(), v);
        }
    }
    Value::Object(out)
}

/// The stored object as a client of `rt` sees it.
pub fn to_view(rt: &ResourceType, stored: &Value) -> Value {
    let mut view = if rt.builtin == Some(Builtin::CoreEvent) {
        let mut v = rename(stored, EVENT_FIELDS.iter().copied());
        if let Some(source) = v.as_object_mut().and_then(|m| m.remove("deprecatedSource")) {
            v["source"] = source;
        }
        v
    } else {
        stored.clone()
    };
    if let Value::Object(m) = &mut view {
        m.insert("apiVersion".to_owned(), Value::from(rt.api_version()));
        m.insert("kind".to_owned(), Value::from(rt.kind.clone()));
    }
    view
}

/// A client's object of `rt` in stored form.
pub fn from_view(rt: &ResourceType, object: Value) -> Value {
    if rt.builtin != Some(Builtin::CoreEvent) {
        return object;
    }
    let mut stored = rename(&object, EVENT_FIELDS.iter().map(|(a, b)| (*b, *a)));
    if let Some(source) = stored.as_object_mut().and_then(|m| m.remove("source")) {
        stored["deprecatedSource"] = source;
    }
    stored["apiVersion"] = Value::from("events.k8s.io/v1");
    stored["kind"] = Value::from("Event");
    stored
}
