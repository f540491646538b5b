//! Server-side apply: field ownership (`metadata.managedFields`, `FieldsV1`), value-aware
//! conflicts, `force`, and removal of fields a manager stops applying.
//!
//! Field paths use the FieldsV1 element syntax: `f:<field>`, `k:<json of the key fields>` for
//! elements of map-type lists, `v:<json value>` for elements of set-type lists, and `.` for a
//! node itself. List semantics come from `x-kubernetes-list-type`/`-list-map-keys` (custom
//! resources) or the strategic-merge keys of the built-in kinds; other lists are atomic.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::patch::merge_key;

/// A path of FieldsV1 elements.
pub type FieldPath = Vec<String>;
/// A set of owned fields.
pub type FieldSet = BTreeSet<FieldPath>;

/// How a list is merged and tracked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// Replaced and owned as a whole.
    Atomic,
    /// Elements are scalars, tracked by value.
    Set,
    /// Elements are objects, tracked by these key fields.
    Map(Vec<String>),
}

/// Where list semantics come from.
pub enum ListTypes<'a> {
    /// A custom resource's `openAPIV3Schema`.
    Schema(&'a Value),
    /// A built-in kind: strategic-merge keys.
    Builtin,
    /// Unknown: every list is atomic.
    Atomic,
}

impl ListTypes<'_> {
    /// The list type at the field path `names` (field names only).
    pub fn list_type(&self, names: &[&str]) -> ListType {
        // metadata lists are the same for every kind.
        match names {
            ["metadata", "finalizers"] => return ListType::Set,
            ["metadata", "ownerReferences"] => return ListType::Map(vec!["uid".to_owned()]),
            _ => {}
        }
        match self {
            ListTypes::Atomic => ListType::Atomic,
            ListTypes::Builtin => match merge_key(names) {
                Some(key) => ListType::Map(vec![key.to_owned()]),
                None => ListType::Atomic,
            },
            ListTypes::Schema(schema) => {
                let mut node = *schema;
                for name in names {
                    // Names skip list elements: step into the items of an array first.
                    while node.get("type") == Some(&json!("array")) {
                        match node.get("items") {
                            Some(items) => node = items,
                            None => return ListType::Atomic,
                        }
                    }
                    let next = node
                        .pointer(&format!("/properties/{}", name.replace('~', "~0").replace('/', "~1")))
                        .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()));
                    match next {
                        Some(n) => node = n,
                        None => return ListType::Atomic,
                    }
                }
                match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
                    Some("set") => ListType::Set,
                    Some("map") => ListType::Map(
                        node.get("x-kubernetes-list-map-keys")
                            .and_then(Value::as_array)
                            .map(|k| k.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect())
                            .unwrap_or_default(),
                    ),
                    _ => ListType::Atomic,
                }
            }
        }
    }
}

// Metadata fields the server owns; never tracked.
const UNTRACKED_METADATA: [&str; 9] = [
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The fields set in `object` for `subresource` (`None` = main resource, which excludes
/// `status` when the kind has a status subresource; `Some("status")` = only `status`).
pub fn fields_of(object: &Value, types: &ListTypes<'_>, status_split: bool, subresource: Option<&str>) -> FieldSet {
    let mut set = FieldSet::new();
    let Value::Object(root) = object else { return set };
    for (key, value) in root {
        let include = match (key.as_str(), subresource) {
            ("apiVersion" | "kind", _) => false,
            ("status", Some("status")) => true,
            (_, Some("status")) => false,
            ("status", None) => !status_split,
            _ => true,
        };
        if !include {
            continue;
        }
        if key == "metadata" {
            if let Value::Object(meta) = value {
                for (mk, mv) in meta {
                    if UNTRACKED_METADATA.contains(&mk.as_str()) {
                        continue;
                    }
                    walk(
                        mv,
                        &mut vec!["f:metadata".to_owned(), format!("f:{mk}")],
                        &mut vec!["metadata", mk],
                        types,
                        &mut set,
                    );
                }
            }
            continue;
        }
        walk(value, &mut vec![format!("f:{key}")], &mut vec![key.as_str()], types, &mut set);
    }
    set
}

fn key_element(item: &Value, keys: &[String]) -> String {
    let mut m = Map::new();
    for k in keys {
        if let Some(v) = item.get(k) {
            m.insert(k.clone(), v.clone());
        }
    }
    format!("k:{}", Value::Object(m))
}

fn walk<'a>(
    value: &'a Value,
    path: &mut FieldPath,
    names: &mut Vec<&'a str>,
    types: &ListTypes<'_>,
    set: &mut FieldSet,
) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            let mut marker = path.clone();
            marker.push(".".to_owned());
            set.insert(marker);
            for (k, v) in m {
                path.push(format!("f:{k}"));
                names.push(k);
                walk(v, path, names, types, set);
                names.pop();
                path.pop();
            }
        }
        Value::Array(items) => match types.list_type(names) {
            ListType::Atomic => {
                set.insert(path.clone());
            }
            ListType::Set => {
                for item in items {
                    let mut p = path.clone();
                    p.push(format!("v:{item}"));
                    set.insert(p);
                }
            }
            ListType::Map(keys) => {
                for item in items {
                    // An element is walked like any value below its key element.
                    path.push(key_element(item, &keys));
                    walk(item, path, names, types, set);
                    path.pop();
                }
            }
        },
        _ => {
            set.insert(path.clone());
        }
    }
}

/// The value at a field path, if present.
pub fn value_at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut node = object;
    for element in path {
        if element == "." {
            return Some(node);
        }
        node = step(node, element)?;
    }
    Some(node)
}

fn element_matches(item: &Value, element: &str) -> bool {
    if let Some(key) = element.strip_prefix("k:") {
        let Ok(Value::Object(keys)) = serde_json::from_str::<Value>(key) else { return false };
        keys.iter().all(|(k, v)| item.get(k) == Some(v))
    } else if let Some(v) = element.strip_prefix("v:") {
        serde_json::from_str::<Value>(v).is_ok_and(|v| &v == item)
    } else {
        false
    }
}

fn step<'a>(node: &'a Value, element: &str) -> Option<&'a Value> {
    if let Some(field) = element.strip_prefix("f:") {
        return node.get(field);
    }
    node.as_array()?.iter().find(|i| element_matches(i, element))
}

/// Removes the field at `path` (a `.` path removes the node itself).
pub fn remove_at(object: &mut Value, path: &[String]) {
    let path: Vec<&String> = path.iter().filter(|e| *e != ".").collect();
    let Some((last, parent)) = path.split_last() else { return };
    let mut node = object;
    for element in parent {
        let next = if let Some(field) = element.strip_prefix("f:") {
            node.get_mut(field)
        } else {
            node.as_array_mut().and_then(|a| a.iter_mut().find(|i| element_matches(i, element)))
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    if let Some(field) = last.strip_prefix("f:") {
        if let Value::Object(m) = node {
            m.remove(field);
        }
    } else if let Value::Array(items) = node {
        items.retain(|i| !element_matches(i, last));
    }
}

/// Merges an applied configuration into the live object (maps recursively, lists by type).
pub fn merge_applied(live: &Value, applied: &Value, types: &ListTypes<'_>, names: &mut Vec<String>) -> Value {
    match (live, applied) {
        (Value::Object(l), Value::Object(a)) => {
            let mut out = l.clone();
            for (k, v) in a {
                names.push(k.clone());
                let merged = match out.get(k) {
                    Some(existing) => merge_applied(existing, v, types, names),
                    None => v.clone(),
                };
                names.pop();
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(a)) => {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            match types.list_type(&refs) {
                ListType::Atomic => applied.clone(),
                ListType::Set => {
                    let mut out = l.clone();
                    out.extend(a.iter().filter(|v| !l.contains(v)).cloned());
                    Value::Array(out)
                }
                ListType::Map(keys) => {
                    let mut out = l.clone();
                    for item in a {
                        let element = key_element(item, &keys);
                        match out.iter().position(|i| element_matches(i, &element)) {
                            Some(i) => out[i] = merge_applied(&out[i], item, types, names),
                            None => out.push(item.clone()),
                        }
                    }
                    Value::Array(out)
                }
            }
        }
        _ => applied.clone(),
    }
}

/// FieldsV1 JSON of a field set.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for element in path {
            let entry = node.entry(element.clone()).or_insert_with(|| Value::Object(Map::new()));
            node = match entry {
                Value::Object(m) => m,
                _ => unreachable!("fieldsV1 nodes are objects"),
            };
        }
    }
    Value::Object(root)
}

/// The field set of FieldsV1 JSON.
pub fn from_fields_v1(fields: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    fn walk(node: &Value, path: &mut FieldPath, set: &mut FieldSet) {
        match node {
            Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    path.push(k.clone());
                    walk(v, path, set);
                    path.pop();
                }
            }
            _ => {
                if !path.is_empty() {
                    set.insert(path.clone());
                }
            }
        }
    }
    walk(fields, &mut Vec::new(), &mut set);
    set
}

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    /// Field manager.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// apiVersion of the object when written.
    pub api_version: String,
    /// RFC 3339 time of the last change.
    pub time: String,
    /// Subresource (`status`) or none.
    pub subresource: Option<String>,
    /// The fields.
    pub fields: FieldSet,
}

impl ManagedEntry {
    /// Parses `metadata.managedFields`.
    pub fn read_all(object: &Value) -> Vec<ManagedEntry> {
        object
            .pointer("/metadata/managedFields")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| ManagedEntry {
                        manager: e["manager"].as_str().unwrap_or_default().to_owned(),
                        operation: e["operation"].as_str().unwrap_or("Update").to_owned(),
                        api_version: e["apiVersion"].as_str().unwrap_or_default().to_owned(),
                        time: e["time"].as_str().unwrap_or_default().to_owned(),
                        subresource: e["subresource"].as_str().map(str::to_owned),
                        fields: from_fields_v1(e.get("fieldsV1").unwrap_or(&Value::Null)),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Writes entries into `metadata.managedFields` (dropping empty ones).
    pub fn write_all(object: &mut Value, entries: &[ManagedEntry]) {
        let list: Vec<Value> = entries
            .iter()
            .filter(|e| !e.fields.is_empty())
            .map(|e| {
                let mut v = json!({"manager": e.manager, "operation": e.operation, "apiVersion": e.api_version,
                                    "time": e.time, "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(&e.fields)});
                if let Some(s) = &e.subresource {
                    v["subresource"] = json!(s);
                }
                v
            })
            .collect();
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            if list.is_empty() {
                meta.remove("managedFields");
            } else {
                meta.insert("managedFields".to_owned(), Value::Array(list));
            }
        }
    }
}

/// A field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager.
    pub manager: String,
    /// The field, as `.spec.replicas`.
    pub field: String,
}

/// Renders a field path as `.spec.list[name="a"].x`.
pub fn display_path(path: &[String]) -> String {
    let mut out = String::new();
    for element in path {
        if element == "." {
            continue;
        }
        if let Some(f) = element.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = element.strip_prefix("k:") {
            let keys: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let inner: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push_str(&format!("[{}]", inner.join(",")));
        } else if let Some(v) = element.strip_prefix("v:") {
            out.push_str(&format!("[{v}]"));
        }
    }
    out
}

/// What a server-side apply needs to know.
pub struct ApplyRequest<'a> {
    /// The field manager.
    pub manager: &'a str,
    /// `force=true`.
    pub force: bool,
    /// `status` for `/status`, else none.
    pub subresource: Option<&'a str>,
    /// Whether the kind has a status subresource.
    pub status_split: bool,
    /// List semantics.
    pub types: ListTypes<'a>,
    /// Timestamp for the entry.
    pub now: &'a str,
}

/// Applies `applied` over `live` (None = create). Returns the merged object with its
/// managedFields, or the conflicts.
pub fn apply(live: Option<&Value>, applied: &Value, request: &ApplyRequest<'_>) -> Result<Value, Vec<Conflict>> {
    let empty = json!({});
    let live = live.unwrap_or(&empty);
    let mut entries = ManagedEntry::read_all(live);
    let sub = request.subresource.map(str::to_owned);
    let applied_fields = fields_of(applied, &request.types, request.status_split, request.subresource);
    let mut conflicts = Vec::new();
    let mut taken: Vec<(usize, FieldPath)> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if entry.subresource != sub || (entry.manager == request.manager && entry.operation == "Apply") {
            continue;
        }
        for path in applied_fields.intersection(&entry.fields) {
            if path.last().is_some_and(|e| e == ".") {
                continue;
            }
            if value_at(live, path) != value_at(applied, path) {
                if request.force {
                    taken.push((index, path.clone()));
                } else {
                    conflicts.push(Conflict { manager: entry.manager.clone(), field: display_path(path) });
                }
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(conflicts);
    }
    for (index, path) in taken {
        entries[index].fields.remove(&path);
    }
    let previous: FieldSet = entries
        .iter()
        .find(|e| e.manager == request.manager && e.operation == "Apply" && e.subresource == sub)
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let mut merged = merge_applied(live, applied, &request.types, &mut Vec::new());
    // Remove what this manager applied before, no longer applies, and nobody else owns.
    let others: FieldSet = entries
        .iter()
        .filter(|e| !(e.manager == request.manager && e.operation == "Apply" && e.subresource == sub))
        .flat_map(|e| e.fields.iter().cloned())
        .collect();
    let mut stale: Vec<&FieldPath> = previous.difference(&applied_fields).filter(|p| !others.contains(*p)).collect();
    stale.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for path in stale {
        let is_node = path.last().is_some_and(|e| e == ".");
        let prefix = &path[..path.len() - usize::from(is_node)];
        let still_owned = others.iter().any(|o| o.len() > prefix.len() && o.starts_with(prefix))
            || applied_fields.iter().any(|a| a.len() > prefix.len() && a.starts_with(prefix));
        if !still_owned {
            remove_at(&mut merged, prefix);
        }
    }
    entries.retain(|e| !(e.manager == request.manager && e.operation == "Apply" && e.subresource == sub));
    entries.push(ManagedEntry {
        manager: request.manager.to_owned(),
        operation: "Apply".to_owned(),
        api_version: applied["apiVersion"].as_str().unwrap_or_default().to_owned(),
        time: request.now.to_owned(),
        subresource: sub,
        fields: applied_fields,
    });
    prune_entries(&mut entries, &merged, &request.types, request.status_split);
    ManagedEntry::write_all(&mut merged, &entries);
    Ok(merged)
}

/// Records an Update-operation write (create, update, patch) by `manager`: fields it changed
/// become its own and are taken from other managers; fields gone from the object are dropped.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: Option<&str>,
    status_split: bool,
    types: &ListTypes<'_>,
    now: &str,
) {
    let empty = json!({});
    let old = old.unwrap_or(&empty);
    let mut entries = ManagedEntry::read_all(old);
    let before = fields_of(old, types, status_split, subresource);
    let after = fields_of(new, types, status_split, subresource);
    let changed: FieldSet =
        after.iter().filter(|p| !before.contains(*p) || value_at(old, p) != value_at(new, p)).cloned().collect();
    let sub = subresource.map(str::to_owned);
    if !changed.is_empty() {
        for entry in entries.iter_mut().filter(|e| e.subresource == sub) {
            entry.fields.retain(|p| !changed.contains(p) || p.last().is_some_and(|e| e == "."));
        }
        match entries.iter_mut().find(|e| e.manager == manager && e.operation == "Update" && e.subresource == sub) {
            Some(entry) => {
                entry.fields.extend(changed);
                entry.time = now.to_owned();
            }
            None => entries.push(ManagedEntry {
                manager: manager.to_owned(),
                operation: "Update".to_owned(),
                api_version: new["apiVersion"].as_str().unwrap_or_default().to_owned(),
                time: now.to_owned(),
                subresource: sub,
                fields: changed,
            }),
        }
    }
    prune_entries(&mut entries, new, types, status_split);
    ManagedEntry::write_all(new, &entries);
}

fn prune_entries(entries: &mut Vec<ManagedEntry>, object: &Value, types: &ListTypes<'_>, status_split: bool) {
    let main = fields_of(object, types, status_split, None);
    let status = fields_of(object, types, status_split, Some("status"));
    for entry in entries.iter_mut() {
        let present = if entry.subresource.as_deref() == Some("status") { &status } else { &main };
        entry.fields.retain(|p| present.contains(p));
    }
    entries.retain(|e| !e.fields.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(manager: &'a str, force: bool, types: ListTypes<'a>) -> ApplyRequest<'a> {
        ApplyRequest { manager, force, subresource: None, status_split: true, types, now: "2026-01-01T00:00:00Z" }
    }

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data})
    }

    // https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts
    #[test]
    fn conflicts_only_when_another_manager_owns_a_field_with_a_different_value() {
        let a = apply(None, &cm(json!({"x": "1", "y": "2"})), &req("a", false, ListTypes::Builtin)).unwrap();
        // Same value: shared ownership, no conflict.
        let shared = apply(Some(&a), &cm(json!({"x": "1"})), &req("b", false, ListTypes::Builtin)).unwrap();
        let entries = ManagedEntry::read_all(&shared);
        assert!(entries.iter().all(|e| e.fields.contains(&vec!["f:data".to_owned(), "f:x".to_owned()])));
        // Different value: conflict naming the owner and field.
        let err = apply(Some(&shared), &cm(json!({"y": "3"})), &req("b", false, ListTypes::Builtin)).unwrap_err();
        assert_eq!(err, vec![Conflict { manager: "a".to_owned(), field: ".data.y".to_owned() }]);
        // force takes ownership.
        let forced = apply(Some(&shared), &cm(json!({"y": "3"})), &req("b", true, ListTypes::Builtin)).unwrap();
        assert_eq!(forced["data"]["y"], "3");
        let a_entry = ManagedEntry::read_all(&forced).into_iter().find(|e| e.manager == "a").unwrap();
        assert!(!a_entry.fields.contains(&vec!["f:data".to_owned(), "f:y".to_owned()]));
    }

    // https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management
    #[test]
    fn fields_a_manager_stops_applying_are_removed_unless_owned_elsewhere() {
        let a = apply(None, &cm(json!({"x": "1", "y": "2", "z": "3"})), &req("a", false, ListTypes::Builtin)).unwrap();
        let b = apply(Some(&a), &cm(json!({"z": "3"})), &req("b", false, ListTypes::Builtin)).unwrap();
        let a2 = apply(Some(&b), &cm(json!({"x": "1"})), &req("a", false, ListTypes::Builtin)).unwrap();
        assert_eq!(a2["data"], json!({"x": "1", "z": "3"}), "y removed, z kept (b owns it)");
    }

    #[test]
    fn update_operations_take_ownership_of_changed_fields() {
        let a = apply(None, &cm(json!({"x": "1"})), &req("a", false, ListTypes::Builtin)).unwrap();
        let mut edited = a.clone();
        edited["data"]["x"] = json!("9");
        record_update(Some(&a), &mut edited, "kubectl-edit", None, true, &ListTypes::Builtin, "t");
        let entries = ManagedEntry::read_all(&edited);
        let editor = entries.iter().find(|e| e.manager == "kubectl-edit").unwrap();
        assert_eq!(editor.operation, "Update");
        assert!(editor.fields.contains(&vec!["f:data".to_owned(), "f:x".to_owned()]));
        // Re-applying the old value now conflicts with the editor.
        assert!(apply(Some(&edited), &cm(json!({"x": "1"})), &req("a", false, ListTypes::Builtin)).is_err());
    }

    #[test]
    fn map_lists_merge_by_key_and_sets_by_value() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                      "items": {"type": "object", "properties": {"name": {"type": "string"}, "v": {"type": "integer"}}}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}}}}});
        let obj = |items: Value, tags: Value| json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "o"}, "spec": {"items": items, "tags": tags}});
        let a = apply(
            None,
            &obj(json!([{"name": "a", "v": 1}]), json!(["t1"])),
            &req("a", false, ListTypes::Schema(&schema)),
        )
        .unwrap();
        let b = apply(
            Some(&a),
            &obj(json!([{"name": "b", "v": 2}]), json!(["t2"])),
            &req("b", false, ListTypes::Schema(&schema)),
        )
        .unwrap();
        assert_eq!(b["spec"]["items"], json!([{"name": "a", "v": 1}, {"name": "b", "v": 2}]));
        assert_eq!(b["spec"]["tags"], json!(["t1", "t2"]));
        let fields = to_fields_v1(&ManagedEntry::read_all(&b).into_iter().find(|e| e.manager == "b").unwrap().fields);
        assert!(fields["f:spec"]["f:items"].get("k:{\"name\":\"b\"}").is_some(), "{fields}");
        assert!(fields["f:spec"]["f:tags"].get("v:\"t2\"").is_some(), "{fields}");
        // a stops applying its element: removed; b's stays.
        let a2 = apply(Some(&b), &obj(json!([]), json!(["t1"])), &req("a", false, ListTypes::Schema(&schema))).unwrap();
        assert_eq!(a2["spec"]["items"], json!([{"name": "b", "v": 2}]));
    }

    #[test]
    fn fields_v1_round_trips() {
        let set: FieldSet = [vec!["f:spec".to_owned(), ".".to_owned()], vec!["f:spec".to_owned(), "f:a".to_owned()]]
            .into_iter()
            .collect();
        assert_eq!(to_fields_v1(&set), json!({"f:spec": {".": {}, "f:a": {}}}));
        assert_eq!(from_fields_v1(&to_fields_v1(&set)), set);
    }
}
