//! JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch.
//!
//! Written here rather than taken from the `json-patch` crate because the API server's JSON
//! patch library treats a `test` of a missing member against `null` as success, and
//! kube-runtime's finalizer helper relies on that; the crate reports an invalid pointer instead.

use serde_json::{Map, Value};

/// Why a patch cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The patch document is malformed (HTTP 400).
    #[error("malformed patch: {0}")]
    Malformed(String),
    /// A `test` operation failed or a path does not exist (HTTP 422).
    #[error("{0}")]
    Failed(String),
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn tokens(pointer: &str) -> Result<Vec<String>, PatchError> {
    if pointer.is_empty() {
        return Ok(vec![]);
    }
    if !pointer.starts_with('/') {
        return Err(PatchError::Malformed(format!("invalid JSON pointer {pointer:?}")));
    }
    Ok(pointer[1..].split('/').map(unescape).collect())
}

fn get<'a>(doc: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |node, token| match node {
        Value::Object(m) => m.get(token),
        Value::Array(a) => token.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn get_mut<'a>(doc: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(doc, |node, token| match node {
        Value::Object(m) => m.get_mut(token),
        Value::Array(a) => token.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    })
}

fn missing(path: &[String]) -> PatchError {
    PatchError::Failed(format!("doc is missing path: \"/{}\"", path.join("/")))
}

fn add(doc: &mut Value, path: &[String], value: Value) -> Result<(), PatchError> {
    let Some((last, parent)) = path.split_last() else {
        *doc = value;
        return Ok(());
    };
    match get_mut(doc, parent) {
        Some(Value::Object(m)) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Some(Value::Array(a)) => {
            let index = if last == "-" { a.len() } else { last.parse::<usize>().map_err(|_| missing(path))? };
            if index > a.len() {
                return Err(missing(path));
            }
            a.insert(index, value);
            Ok(())
        }
        _ => Err(missing(path)),
    }
}

fn remove(doc: &mut Value, path: &[String]) -> Result<Value, PatchError> {
    let Some((last, parent)) = path.split_last() else {
        return Err(PatchError::Failed("cannot remove the root".to_owned()));
    };
    match get_mut(doc, parent) {
        Some(Value::Object(m)) => m.remove(last).ok_or_else(|| missing(path)),
        Some(Value::Array(a)) => {
            let index = last.parse::<usize>().map_err(|_| missing(path))?;
            if index >= a.len() {
                return Err(missing(path));
            }
            Ok(a.remove(index))
        }
        _ => Err(missing(path)),
    }
}

/// Applies an RFC 6902 JSON patch.
pub fn json_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    let ops = patch.as_array().ok_or_else(|| PatchError::Malformed("a JSON patch must be an array".to_owned()))?;
    let mut doc = doc.clone();
    for op in ops {
        let name = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or_else(|| PatchError::Malformed("op without \"op\"".to_owned()))?;
        let path = tokens(
            op.get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| PatchError::Malformed("op without \"path\"".to_owned()))?,
        )?;
        let value =
            || op.get("value").cloned().ok_or_else(|| PatchError::Malformed(format!("{name} without \"value\"")));
        let from = || -> Result<Vec<String>, PatchError> {
            tokens(
                op.get("from")
                    .and_then(Value::as_str)
                    .ok_or_else(|| PatchError::Malformed(format!("{name} without \"from\"")))?,
            )
        };
        match name {
            "add" => add(&mut doc, &path, value()?)?,
            "remove" => {
                remove(&mut doc, &path)?;
            }
            "replace" => {
                let v = value()?;
                match get_mut(&mut doc, &path) {
                    Some(target) => *target = v,
                    None => return Err(missing(&path)),
                }
            }
            "move" => {
                let v = remove(&mut doc, &from()?)?;
                add(&mut doc, &path, v)?;
            }
            "copy" => {
                let v = get(&doc, &from()?).cloned().ok_or_else(|| missing(&path))?;
                add(&mut doc, &path, v)?;
            }
            "test" => {
                let expected = value()?;
                // A missing member tests equal to null (the API server's behaviour).
                let actual = get(&doc, &path).cloned().unwrap_or(Value::Null);
                if actual != expected {
                    return Err(PatchError::Failed(format!("testing value /{} failed", path.join("/"))));
                }
            }
            other => return Err(PatchError::Malformed(format!("unknown op {other:?}"))),
        }
    }
    Ok(doc)
}

/// Applies an RFC 7386 JSON merge patch.
pub fn merge_patch(doc: &Value, patch: &Value) -> Value {
    match (doc, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            let mut out = target.clone();
            for (key, value) in patch {
                if value.is_null() {
                    out.remove(key);
                } else {
                    let merged = merge_patch(out.get(key).unwrap_or(&Value::Null), value);
                    out.insert(key.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (_, Value::Object(patch)) => merge_patch(&Value::Object(Map::new()), &Value::Object(patch.clone())),
        (_, patch) => patch.clone(),
    }
}

/// The strategic-merge key of the list at `path` (field names from the root) of a built-in
/// kind, or `None` for lists that are replaced whole. Covers the lists of the kinds served.
pub fn merge_key(path: &[&str]) -> Option<&'static str> {
    let last = *path.last()?;
    let parent = path.len().checked_sub(2).map(|i| path[i]);
    match last {
        "containers" | "initContainers" | "ephemeralContainers" | "env" | "volumes" | "imagePullSecrets" => {
            Some("name")
        }
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "conditions" => Some("type"),
        "ownerReferences" => Some("uid"),
        "ports" if parent == Some("spec") && path.first() == Some(&"spec") && path.len() == 2 => Some("port"),
        "ports" => Some("containerPort"),
        _ => None,
    }
}

/// Applies a strategic merge patch to a built-in object: maps merge, lists with a merge key
/// (see [`merge_key`]) merge by key, other lists are replaced; `$patch: delete|replace|merge`,
/// `$retainKeys`, `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>` are honoured
/// (the element order directive is accepted and the server's order kept).
pub fn strategic_merge(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    smp(doc, patch, &mut Vec::new())
}

fn smp(doc: &Value, patch: &Value, path: &mut Vec<String>) -> Result<Value, PatchError> {
    let Value::Object(patch_map) = patch else { return Ok(patch.clone()) };
    match patch_map.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut replaced = patch_map.clone();
            replaced.remove("$patch");
            return Ok(Value::Object(replaced));
        }
        Some("delete") => return Ok(Value::Null),
        Some("merge") | None => {}
        Some(other) => return Err(PatchError::Malformed(format!("unknown $patch {other:?}"))),
    }
    let mut out = match doc {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    if let Some(keys) = patch_map.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        out.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (key, value) in patch_map {
        if key.starts_with("$setElementOrder/") || key == "$retainKeys" || key == "$patch" {
            continue;
        }
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            let drop: Vec<&Value> = value.as_array().map(|a| a.iter().collect()).unwrap_or_default();
            if let Some(Value::Array(items)) = out.get_mut(field) {
                items.retain(|v| !drop.contains(&v));
            }
            continue;
        }
        if key.starts_with('$') {
            return Err(PatchError::Malformed(format!("unknown directive {key:?}")));
        }
        if value.is_null() {
            out.remove(key);
            continue;
        }
        path.push(key.clone());
        let current = out.get(key).cloned().unwrap_or(Value::Null);
        let merged = match value {
            Value::Object(_) => smp(&current, value, path)?,
            Value::Array(items) => {
                let names: Vec<&str> = path.iter().map(String::as_str).collect();
                match merge_key(&names) {
                    Some(merge_key) => merge_list(&current, items, merge_key, path)?,
                    None => value.clone(),
                }
            }
            _ => value.clone(),
        };
        path.pop();
        if merged.is_null() {
            out.remove(key);
        } else {
            out.insert(key.clone(), merged);
        }
    }
    Ok(Value::Object(out))
}

fn merge_list(current: &Value, patch: &[Value], key: &str, path: &mut Vec<String>) -> Result<Value, PatchError> {
    let mut items: Vec<Value> = current.as_array().cloned().unwrap_or_default();
    if patch.iter().any(|p| p.get("$patch").and_then(Value::as_str) == Some("replace")) {
        return Ok(Value::Array(patch.iter().filter(|p| p.get("$patch").is_none()).cloned().collect()));
    }
    for element in patch {
        let Some(id) = element.get(key) else {
            return Err(PatchError::Malformed(format!("list element without merge key {key:?}")));
        };
        let position = items.iter().position(|i| i.get(key) == Some(id));
        let delete = element.get("$patch").and_then(Value::as_str) == Some("delete");
        match (position, delete) {
            (Some(i), true) => {
                items.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => items[i] = smp(&items[i], element, path)?,
            (None, false) => items.push(smp(&Value::Null, element, path)?),
        }
    }
    Ok(Value::Array(items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // RFC 6902 §4 operations and §5 error handling.
    #[test]
    fn json_patch_operations() {
        let doc = json!({"a": {"b": [1, 2]}, "c": "x"});
        let out = json_patch(
            &doc,
            &json!([
                {"op": "add", "path": "/a/b/-", "value": 3},
                {"op": "replace", "path": "/c", "value": "y"},
                {"op": "copy", "from": "/c", "path": "/d"},
                {"op": "move", "from": "/d", "path": "/e"},
                {"op": "remove", "path": "/a/b/0"},
                {"op": "test", "path": "/e", "value": "y"}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"a": {"b": [2, 3]}, "c": "y", "e": "y"}));
    }

    #[test]
    fn json_patch_failures_and_the_missing_member_rule() {
        let doc = json!({"metadata": {"name": "x"}});
        // kube-runtime's finalizer helper: test a missing list against null, then add it.
        let out = json_patch(
            &doc,
            &json!([{"op": "test", "path": "/metadata/finalizers", "value": null},
                    {"op": "add", "path": "/metadata/finalizers", "value": ["f"]}]),
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["f"]));
        assert!(matches!(
            json_patch(&doc, &json!([{"op": "test", "path": "/metadata/name", "value": "y"}])),
            Err(PatchError::Failed(_))
        ));
        assert!(matches!(json_patch(&doc, &json!([{"op": "remove", "path": "/nope"}])), Err(PatchError::Failed(_))));
        assert!(matches!(json_patch(&doc, &json!({"op": "add"})), Err(PatchError::Malformed(_))));
        assert!(matches!(json_patch(&doc, &json!([{"op": "frob", "path": "/a"}])), Err(PatchError::Malformed(_))));
    }

    // RFC 7386 appendix A examples.
    #[test]
    fn merge_patch_rfc_examples() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": [{"b": "c"}]}), json!({"a": [1]}), json!({"a": [1]})),
            (json!({"a": {"b": "c"}}), json!({"a": {"b": "d", "c": null}}), json!({"a": {"b": "d"}})),
            (json!(["a"]), json!({"a": "c"}), json!({"a": "c"})),
            (json!({}), json!({"a": {"bb": {"ccc": null}}}), json!({"a": {"bb": {}}})),
        ];
        for (doc, patch, expected) in cases {
            assert_eq!(merge_patch(&doc, &patch), expected, "{patch}");
        }
    }

    // Strategic merge: https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/
    #[test]
    fn strategic_merge_merges_keyed_lists_and_honours_directives() {
        let doc = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}],
                          "tolerations": [{"key": "x"}]}}}, "data": {"k": "v", "drop": "me"}});
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b:2"}, {"name": "c", "image": "c:1"}, {"name": "a", "$patch": "delete"}],
                          "tolerations": [{"key": "y"}]}}}, "data": {"drop": null, "new": "n"}});
        let out = strategic_merge(&doc, &patch).unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "b", "image": "b:2"}, {"name": "c", "image": "c:1"}])
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["tolerations"],
            json!([{"key": "y"}]),
            "lists without merge key are replaced"
        );
        assert_eq!(out["data"], json!({"k": "v", "new": "n"}));
        let replaced = strategic_merge(&doc, &json!({"data": {"$patch": "replace", "only": "this"}})).unwrap();
        assert_eq!(replaced["data"], json!({"only": "this"}));
        let retained =
            strategic_merge(&json!({"spec": {"a": 1, "b": 2}}), &json!({"spec": {"$retainKeys": ["b"], "b": 3}}))
                .unwrap();
        assert_eq!(retained["spec"], json!({"b": 3}));
        let prim = strategic_merge(
            &json!({"metadata": {"finalizers": ["a", "b"]}}),
            &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}),
        )
        .unwrap();
        assert_eq!(prim["metadata"]["finalizers"], json!(["b"]));
        assert!(strategic_merge(&doc, &json!({"$bogus": 1})).is_err());
    }
}
