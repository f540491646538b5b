//! `meta.k8s.io/v1` `Table` responses for `kubectl get`: Name, the CRD's printer columns (or
//! Age), evaluated with simple JSONPaths.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::registry::ResourceType;

/// Evaluates a simple JSONPath (`.a.b`, `.a[0].b`, `.a['x.y']`).
pub fn simple_json_path<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = object;
    let mut rest = path.trim().trim_start_matches('{').trim_end_matches('}').trim_start_matches('$');
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            node = node.get(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = r[..end].trim_matches(|c| c == '\'' || c == '"');
            node = match inner.parse::<usize>() {
                Ok(i) => node.get(i)?,
                Err(_) => node.get(inner)?,
            };
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(node)
}

/// `5s`, `3m`, `2h`, `4d` as kubectl prints ages.
pub fn human_age(created: &str, now: Timestamp) -> String {
    let Ok(t) = created.parse::<Timestamp>() else { return "<unknown>".to_owned() };
    let secs = (now.as_second() - t.as_second()).max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 * 2 => format!("{}m", s / 60),
        s if s < 86_400 * 2 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn cell(value: Option<&Value>, type_: &str, now: Timestamp) -> Value {
    match value {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) if type_ == "date" => Value::from(human_age(s, now)),
        Some(v) => v.clone(),
    }
}

fn partial_metadata(object: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object.get("metadata").cloned().unwrap_or(json!({}))})
}

/// A Table of `objects`.
pub fn table(
    rt: &ResourceType,
    objects: &[Value],
    resource_version: &str,
    continue_token: Option<&str>,
    now: Timestamp,
) -> Value {
    let mut columns = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}),
    ];
    let printer: Vec<(String, String, String)> = if rt.printer_columns.is_empty() {
        vec![("Age".to_owned(), "date".to_owned(), ".metadata.creationTimestamp".to_owned())]
    } else {
        rt.printer_columns.iter().map(|c| (c.name.clone(), c.type_.clone(), c.json_path.clone())).collect()
    };
    for (name, type_, _) in &printer {
        columns.push(json!({"name": name, "type": type_, "format": "", "description": "", "priority": 0}));
    }
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut cells = vec![o.pointer("/metadata/name").cloned().unwrap_or(Value::Null)];
            cells.extend(printer.iter().map(|(_, type_, path)| cell(simple_json_path(o, path), type_, now)));
            json!({"cells": cells, "object": partial_metadata(o)})
        })
        .collect();
    let mut metadata = json!({"resourceVersion": resource_version});
    if let Some(c) = continue_token {
        metadata["continue"] = json!(c);
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": columns, "rows": rows})
}

/// The metadata-only form of an object.
pub fn metadata_only(object: &Value) -> Value {
    partial_metadata(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_and_ages() {
        let o = json!({"status": {"state": "Ready", "list": [{"a": 1}], "x.y": 2}});
        assert_eq!(simple_json_path(&o, ".status.state"), Some(&json!("Ready")));
        assert_eq!(simple_json_path(&o, ".status.list[0].a"), Some(&json!(1)));
        assert_eq!(simple_json_path(&o, ".status['x.y']"), Some(&json!(2)));
        assert_eq!(simple_json_path(&o, ".status.nope"), None);
        let now: Timestamp = "2026-01-01T01:00:00Z".parse().unwrap();
        assert_eq!(human_age("2026-01-01T00:59:30Z", now), "30s");
        assert_eq!(human_age("2026-01-01T00:00:00Z", now), "60m");
    }
}
