//! Fragments a vendor defines and the reconciler merges into its objects: its own pause
//! ([`super::Vendor::pause_marker`]: Strimzi's and Opstree's annotations, Altinity's
//! `spec.suspend`) and its own volume expansion ([`super::Vendor::expansion_marker`]). Merging,
//! checking, describing and lifting a fragment are here.

use serde_json::{Map, Value};

use super::objects::Desired;

/// Merges `marker(kind)` into each of `desired`'s objects whose kind has one; returns whether
/// any has.
pub fn mark_paused(desired: &mut Desired, marker: impl Fn(&str) -> Option<Value>) -> bool {
    let mut any = false;
    for object in &mut desired.objects {
        if let Some(fragment) = marker(&object.key.kind) {
            merge(&mut object.body, &fragment);
            any = true;
        }
    }
    any
}

/// Whether `live` carries every value of `marker`.
pub fn carries(live: &Value, marker: &Value) -> bool {
    match (live, marker) {
        (Value::Object(l), Value::Object(m)) => m.iter().all(|(k, mv)| l.get(k).is_some_and(|lv| carries(lv, mv))),
        (l, m) => l == m,
    }
}

/// The JSON merge patch that removes `marker` (its leaves set to `null`).
pub fn lift_patch(marker: &Value) -> Value {
    match marker {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), lift_patch(v))).collect::<Map<_, _>>()),
        _ => Value::Null,
    }
}

/// `marker` for messages: `metadata.annotations["a/b"]=true`, joined with `, `.
pub fn describe(marker: &Value) -> String {
    let mut leaves = Vec::new();
    leaves_of(marker, String::new(), &mut leaves);
    leaves.join(", ")
}

fn leaves_of(value: &Value, path: String, out: &mut Vec<String>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                let step = if k.contains('/') || k.contains('.') { format!("[\"{k}\"]") } else { format!(".{k}") };
                let next =
                    if path.is_empty() { step.trim_start_matches('.').to_owned() } else { format!("{path}{step}") };
                leaves_of(v, next, out);
            }
        }
        Value::String(s) => out.push(format!("{path}={s}")),
        other => out.push(format!("{path}={other}")),
    }
}

/// Merges `fragment` into `body` (objects key by key, anything else replaced).
pub fn merge(body: &mut Value, fragment: &Value) {
    match (body, fragment) {
        (Value::Object(b), Value::Object(f)) => {
            for (k, v) in f {
                merge(b.entry(k.clone()).or_insert_with(|| Value::Object(Map::new())), v);
            }
        }
        (b, f) => *b = f.clone(),
    }
}

/// The fragment of an annotation set to `"true"`.
pub fn annotation_true(annotation: &str) -> Value {
    let mut annotations = Map::new();
    annotations.insert(annotation.to_owned(), Value::from("true"));
    serde_json::json!({"metadata": {"annotations": annotations}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendors::{DesiredObject, ObjectKey};
    use serde_json::json;

    #[test]
    fn a_marker_is_merged_checked_described_and_lifted() {
        let key = |kind: &str| ObjectKey::new("v1", kind, "ns", "x");
        let mut desired = Desired {
            objects: vec![
                DesiredObject {
                    key: key("Paused"),
                    body: json!({"metadata": {"name": "x", "annotations": {"a": "1"}}, "spec": {"n": 1}}),
                },
                DesiredObject { key: key("Other"), body: json!({"spec": {}}) },
            ],
            ..Desired::default()
        };
        let marker = annotation_true("vendor.io/pause");
        assert!(mark_paused(&mut desired, |kind| (kind == "Paused").then(|| marker.clone())));
        let paused = &desired.objects[0].body;
        assert_eq!(paused["metadata"]["annotations"], json!({"a": "1", "vendor.io/pause": "true"}));
        assert_eq!(paused["spec"], json!({"n": 1}));
        assert_eq!(desired.objects[1].body, json!({"spec": {}}));
        assert!(carries(paused, &marker));
        assert!(!carries(&json!({"metadata": {"annotations": {"vendor.io/pause": "false"}}}), &marker));
        assert_eq!(lift_patch(&marker), json!({"metadata": {"annotations": {"vendor.io/pause": null}}}));
        assert_eq!(describe(&marker), "metadata.annotations[\"vendor.io/pause\"]=true");
        assert_eq!(describe(&json!({"spec": {"suspend": "true"}})), "spec.suspend=true");
        assert!(!mark_paused(&mut desired, |_| None));
    }
}
