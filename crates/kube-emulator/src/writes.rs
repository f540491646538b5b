//! Create, update, patch and delete, with the API server's metadata, status-split,
//! generation, finalizer and field-ownership rules.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::admission::admit;
use crate::errors::ApiError;
use crate::managed::{self, ApplyRequest, ListTypes};
use crate::patch::{self, PatchError};
use crate::registry::{Builtin, Registry, ResourceType};
use crate::store::{EventType, State, StoreKey};
use crate::views::{from_view, to_view};

/// The ConfigMap kube-controller-manager publishes in every namespace with the cluster's CA.
pub const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";

/// The emulator's `ca.crt` in [`ROOT_CA_CONFIG_MAP`]: PEM-framed, marked as a placeholder (the
/// emulator serves plain HTTP and has no CA).
pub const ROOT_CA_PLACEHOLDER: &str =
    "-----BEGIN CERTIFICATE-----\nkube-emulator placeholder: the emulator has no CA\n-----END CERTIFICATE-----\n";

/// Parameters common to writes.
#[derive(Debug, Clone)]
pub struct WriteParams {
    /// Field manager (from `fieldManager` or the user agent).
    pub manager: String,
    /// `dryRun=All`.
    pub dry_run: bool,
    /// `fieldValidation=Strict`: unknown fields are errors rather than pruned.
    pub strict: bool,
    /// Current time, RFC 3339.
    pub now: String,
}

/// How a patch body is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`.
    Json,
    /// `application/merge-patch+json`.
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml`.
    Apply,
}

/// `DeleteOptions` we honour.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `Background` (default), `Foreground` or `Orphan`.
    pub propagation: Option<String>,
    /// Precondition on uid.
    pub uid: Option<String>,
    /// Precondition on resourceVersion.
    pub resource_version: Option<String>,
}

fn tracks_generation(rt: &ResourceType) -> bool {
    rt.builtin.is_none()
        || matches!(rt.builtin, Some(Builtin::StatefulSet | Builtin::Deployment | Builtin::CustomResourceDefinition))
}

fn list_types(rt: &ResourceType) -> ListTypes<'_> {
    match (&rt.raw_schema, rt.builtin) {
        (Some(schema), _) => ListTypes::Schema(schema),
        (None, Some(_)) => ListTypes::Builtin,
        (None, None) => ListTypes::Atomic,
    }
}

fn meta<'a>(object: &'a Value, field: &str) -> Option<&'a Value> {
    object.get("metadata").and_then(|m| m.get(field))
}

fn set_meta(object: &mut Value, field: &str, value: Option<Value>) {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    if let Some(m) = object["metadata"].as_object_mut() {
        match value {
            Some(v) => {
                m.insert(field.to_owned(), v);
            }
            None => {
                m.remove(field);
            }
        }
    }
}

fn finalizers(object: &Value) -> Vec<String> {
    meta(object, "finalizers")
        .and_then(Value::as_array)
        .map(|f| f.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Whether anything outside `metadata` and `status` differs.
fn spec_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("metadata");
            m.remove("status");
            m.remove("apiVersion");
            m.remove("kind");
        }
        v
    };
    strip(old) != strip(new)
}

/// The object without managedFields timestamps (for no-op detection).
fn without_times(object: &Value) -> Value {
    let mut v = object.clone();
    if let Some(entries) = v.pointer_mut("/metadata/managedFields").and_then(Value::as_array_mut) {
        for e in entries {
            if let Some(m) = e.as_object_mut() {
                m.remove("time");
            }
        }
    }
    v
}

fn random_suffix(len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..len).map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())])).collect()
}

fn new_uid() -> String {
    use rand::Rng;
    let b: [u8; 16] = rand::rng().random();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
        u16::from_be_bytes([b[6], b[7]]) & 0x0fff,
        (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
        u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]])
    )
}

impl State {
    /// The storage key of `name` in `namespace` for `rt`.
    pub fn key(rt: &ResourceType, namespace: &str, name: &str) -> StoreKey {
        StoreKey {
            storage: rt.storage.clone(),
            namespace: if rt.namespaced { namespace.to_owned() } else { String::new() },
            name: name.to_owned(),
        }
    }

    /// Reads an object as `rt` presents it.
    pub fn get(&self, rt: &ResourceType, namespace: &str, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(&Self::key(rt, namespace, name))
            .map(|o| to_view(rt, o))
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
    }

    fn check_kind(rt: &ResourceType, body: &mut Value) -> Result<(), ApiError> {
        if !body.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        for (field, expected) in [("apiVersion", rt.api_version()), ("kind", rt.kind.clone())] {
            match body.get(field).and_then(Value::as_str) {
                Some(found) if found != expected => {
                    return Err(ApiError::bad_request(format!(
                        "the {field} of the object ({found}) does not match the request ({expected})"
                    )));
                }
                _ => body[field] = Value::from(expected),
            }
        }
        Ok(())
    }

    fn check_namespace(&self, rt: &ResourceType, namespace: &str, body: &mut Value) -> Result<(), ApiError> {
        if !rt.namespaced {
            set_meta(body, "namespace", None);
            return Ok(());
        }
        match meta(body, "namespace").and_then(Value::as_str) {
            Some(ns) if !ns.is_empty() && ns != namespace => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => set_meta(body, "namespace", Some(Value::from(namespace))),
        }
        match self.namespace_state(namespace) {
            None => Err(ApiError::not_found("", "namespaces", namespace)),
            Some(true) => Err(ApiError::forbidden(format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ))),
            Some(false) => Ok(()),
        }
    }

    /// Creates an object (`POST` on the collection).
    pub fn create(
        &mut self,
        rt: &Arc<ResourceType>,
        namespace: &str,
        body: Value,
        p: &WriteParams,
    ) -> Result<Value, ApiError> {
        self.create_inner(rt, namespace, body, p, true)
    }

    fn create_inner(
        &mut self,
        rt: &Arc<ResourceType>,
        namespace: &str,
        mut body: Value,
        p: &WriteParams,
        record: bool,
    ) -> Result<Value, ApiError> {
        Self::check_kind(rt, &mut body)?;
        self.check_namespace(rt, namespace, &mut body)?;
        let name = match meta(&body, "name").and_then(Value::as_str).filter(|n| !n.is_empty()) {
            Some(n) => n.to_owned(),
            None => match meta(&body, "generateName").and_then(Value::as_str) {
                Some(prefix) => format!("{prefix}{}", random_suffix(5)),
                None => {
                    let cause = crate::schema::FieldError {
                        field: "metadata.name".to_owned(),
                        reason: "FieldValueRequired".to_owned(),
                        message: "Required value: name or generateName is required".to_owned(),
                    };
                    return Err(ApiError::invalid(&rt.kind, &rt.group, "", &[cause]));
                }
            },
        };
        set_meta(&mut body, "name", Some(Value::from(name.clone())));
        for server_field in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "selfLink",
        ] {
            set_meta(&mut body, server_field, None);
        }
        if rt.status_subresource
            && rt.builtin.is_none()
            && let Some(m) = body.as_object_mut()
        {
            m.remove("status");
        }
        if rt.builtin == Some(Builtin::Namespace) {
            body["status"] = json!({"phase": "Active"});
        }
        let mut object = admit(rt, body, None, p.strict)?;
        let key = Self::key(rt, namespace, &name);
        if self.objects.contains_key(&key) {
            return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
        }
        let crd_types = if rt.builtin == Some(Builtin::CustomResourceDefinition) {
            Some(Registry::types_of_crd(&object).map_err(|e| crd_invalid(rt, &name, &e))?)
        } else {
            None
        };
        set_meta(&mut object, "uid", Some(Value::from(new_uid())));
        set_meta(&mut object, "creationTimestamp", Some(Value::from(p.now.clone())));
        if tracks_generation(rt) {
            set_meta(&mut object, "generation", Some(Value::from(1)));
        }
        if record {
            managed::record_update(None, &mut object, &p.manager, None, rt.status_subresource, &list_types(rt), &p.now);
        }
        if crd_types.is_some() {
            object["status"] = crd_status(&object);
        }
        if p.dry_run {
            return Ok(to_view(rt, &object));
        }
        let stored = from_view(rt, object);
        let stored = self.commit(key.clone(), EventType::Added, stored);
        if crd_types.is_some() {
            self.registry.register_crd(&stored).map_err(|e| ApiError::internal(e.to_string()))?;
            self.registry_generation += 1;
        }
        self.collect_after_write(&key, None, &p.now);
        if rt.builtin == Some(Builtin::Namespace) {
            self.publish_root_ca(&name, &p.now);
        }
        Ok(to_view(rt, &stored))
    }

    /// What kube-controller-manager's root-CA publisher does for a new namespace: the ConfigMap
    /// `kube-root-ca.crt` with the cluster's CA. The emulator serves plain HTTP and has no CA;
    /// the value is a marked placeholder (a known deviation, `docs/testing.md`).
    fn publish_root_ca(&mut self, namespace: &str, now: &str) {
        let Some(rt) = self.registry.by_kind("v1", "ConfigMap") else { return };
        let body = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": ROOT_CA_CONFIG_MAP, "namespace": namespace},
            "data": {"ca.crt": ROOT_CA_PLACEHOLDER},
        });
        let p = WriteParams {
            manager: "kube-controller-manager".to_owned(),
            dry_run: false,
            strict: false,
            now: now.to_owned(),
        };
        let _ = self.create_inner(&rt, namespace, body, &p, true);
    }

    /// Replaces an object (`PUT`), or its status (`subresource = Some("status")`).
    pub fn update(
        &mut self,
        rt: &Arc<ResourceType>,
        namespace: &str,
        name: &str,
        mut body: Value,
        subresource: Option<&str>,
        p: &WriteParams,
    ) -> Result<Value, ApiError> {
        Self::check_kind(rt, &mut body)?;
        let old = self.get(rt, namespace, name)?;
        if let Some(rv) = meta(&body, "resourceVersion").and_then(Value::as_str)
            && Some(rv) != meta(&old, "resourceVersion").and_then(Value::as_str)
        {
            return Err(ApiError::conflict(format!(
                "Operation cannot be fulfilled on {}.{} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                rt.plural, rt.group
            )));
        }
        if meta(&body, "name").and_then(Value::as_str).is_some_and(|n| n != name) {
            return Err(ApiError::bad_request("the name of the object does not match the name on the URL"));
        }
        self.finish_update(rt, namespace, name, &old, body, subresource, p, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_update(
        &mut self,
        rt: &Arc<ResourceType>,
        namespace: &str,
        name: &str,
        old: &Value,
        body: Value,
        subresource: Option<&str>,
        p: &WriteParams,
        record: bool,
    ) -> Result<Value, ApiError> {
        let mut new = if subresource == Some("status") {
            let mut n = old.clone();
            match body.get("status") {
                Some(s) => n["status"] = s.clone(),
                None => {
                    if let Some(m) = n.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            if let Some(mf) = meta(&body, "managedFields") {
                set_meta(&mut n, "managedFields", Some(mf.clone()));
            }
            n
        } else {
            let mut n = body;
            if rt.status_subresource {
                match old.get("status") {
                    Some(s) => n["status"] = s.clone(),
                    None => {
                        if let Some(m) = n.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            n
        };
        for immutable in [
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "resourceVersion",
        ] {
            set_meta(&mut new, immutable, meta(old, immutable).cloned());
        }
        if meta(old, "deletionTimestamp").is_some() {
            let before = finalizers(old);
            if finalizers(&new).iter().any(|f| !before.contains(f)) {
                let cause = crate::schema::FieldError {
                    field: "metadata.finalizers".to_owned(),
                    reason: "FieldValueForbidden".to_owned(),
                    message: "Forbidden: no new finalizers can be added if the object is being deleted".to_owned(),
                };
                return Err(ApiError::invalid(&rt.kind, &rt.group, name, &[cause]));
            }
        }
        let mut new = admit(rt, new, Some(old), p.strict)?;
        if tracks_generation(rt) && spec_changed(old, &new) {
            let generation = meta(old, "generation").and_then(Value::as_i64).unwrap_or(0) + 1;
            set_meta(&mut new, "generation", Some(Value::from(generation)));
        }
        if record {
            managed::record_update(
                Some(old),
                &mut new,
                &p.manager,
                subresource,
                rt.status_subresource,
                &list_types(rt),
                &p.now,
            );
        }
        if without_times(&new) == without_times(old) {
            return Ok(old.clone());
        }
        if rt.builtin == Some(Builtin::CustomResourceDefinition) {
            // Refused before anything is stored, as on create.
            Registry::types_of_crd(&new).map_err(|e| crd_invalid(rt, name, &e))?;
        }
        if p.dry_run {
            return Ok(new);
        }
        let key = Self::key(rt, namespace, name);
        let stored = self.commit(key.clone(), EventType::Modified, from_view(rt, new));
        if rt.builtin == Some(Builtin::CustomResourceDefinition) {
            self.registry.register_crd(&stored).map_err(|e| ApiError::internal(e.to_string()))?;
            self.registry_generation += 1;
        }
        self.collect_after_write(&key, Some(old), &p.now);
        Ok(self.objects.get(&key).map_or_else(|| to_view(rt, &stored), |o| to_view(rt, o)))
    }

    /// Patches an object. Returns the object and whether it was created (server-side apply of
    /// a missing object).
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &mut self,
        rt: &Arc<ResourceType>,
        namespace: &str,
        name: &str,
        patch_type: PatchType,
        body: &Value,
        subresource: Option<&str>,
        force: bool,
        p: &WriteParams,
    ) -> Result<(Value, bool), ApiError> {
        let existing = self.get(rt, namespace, name).ok();
        if patch_type == PatchType::Apply {
            return self.server_side_apply(rt, namespace, name, existing, body, subresource, force, p);
        }
        let old = existing.ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
        let patched = match patch_type {
            PatchType::Json => patch::json_patch(&old, body).map_err(|e| match e {
                PatchError::Malformed(m) => ApiError::bad_request(m),
                PatchError::Failed(m) => ApiError::invalid(
                    &rt.kind,
                    &rt.group,
                    name,
                    &[crate::schema::FieldError {
                        field: String::new(),
                        reason: "FieldValueInvalid".to_owned(),
                        message: m,
                    }],
                ),
            })?,
            PatchType::Merge => patch::merge_patch(&old, body),
            PatchType::Strategic => {
                if rt.builtin.is_none() {
                    return Err(ApiError::unsupported_media_type(
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                    ));
                }
                patch::strategic_merge(&old, body).map_err(|e| ApiError::bad_request(e.to_string()))?
            }
            PatchType::Apply => unreachable!("handled above"),
        };
        if let Some(rv) = meta(&patched, "resourceVersion").and_then(Value::as_str)
            && Some(rv) != meta(&old, "resourceVersion").and_then(Value::as_str)
        {
            return Err(ApiError::conflict(format!(
                "Operation cannot be fulfilled on {}.{} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                rt.plural, rt.group
            )));
        }
        let mut patched = patched;
        Self::check_kind(rt, &mut patched)?;
        self.finish_update(rt, namespace, name, &old, patched, subresource, p, true).map(|v| (v, false))
    }

    #[allow(clippy::too_many_arguments)]
    fn server_side_apply(
        &mut self,
        rt: &Arc<ResourceType>,
        namespace: &str,
        name: &str,
        existing: Option<Value>,
        body: &Value,
        subresource: Option<&str>,
        force: bool,
        p: &WriteParams,
    ) -> Result<(Value, bool), ApiError> {
        let mut applied = body.clone();
        Self::check_kind(rt, &mut applied)?;
        if meta(&applied, "name").and_then(Value::as_str).is_some_and(|n| n != name) {
            return Err(ApiError::bad_request("the name of the object does not match the name on the URL"));
        }
        set_meta(&mut applied, "name", Some(Value::from(name)));
        if rt.namespaced {
            set_meta(&mut applied, "namespace", Some(Value::from(namespace)));
        }
        if let Some(old) = &existing
            && let Some(rv) = meta(&applied, "resourceVersion").and_then(Value::as_str)
            && Some(rv) != meta(old, "resourceVersion").and_then(Value::as_str)
        {
            return Err(ApiError::conflict(format!(
                "Operation cannot be fulfilled on {}.{} \"{name}\": the object has been modified",
                rt.plural, rt.group
            )));
        }
        set_meta(&mut applied, "resourceVersion", None);
        let types = list_types(rt);
        let request = ApplyRequest {
            manager: &p.manager,
            force,
            subresource,
            status_split: rt.status_subresource,
            types,
            now: &p.now,
        };
        let merged = managed::apply(existing.as_ref(), &applied, &request).map_err(|conflicts| {
            let causes: Vec<crate::schema::FieldError> = conflicts
                .iter()
                .map(|c| crate::schema::FieldError {
                    field: c.field.clone(),
                    reason: "FieldManagerConflict".to_owned(),
                    message: format!("conflict with \"{}\"", c.manager),
                })
                .collect();
            let list: Vec<String> = conflicts.iter().map(|c| format!("conflict with \"{}\": {}", c.manager, c.field)).collect();
            ApiError {
                code: 409,
                reason: "Conflict",
                message: format!("Apply failed with {} conflict{}: {}", conflicts.len(), if conflicts.len() == 1 { "" } else { "s" }, list.join(", ")),
                details: Some(json!({"name": name, "group": rt.group, "kind": rt.plural,
                    "causes": causes.iter().map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field})).collect::<Vec<_>>()})),
            }
        })?;
        match existing {
            None => {
                if subresource.is_some() {
                    return Err(ApiError::not_found(&rt.group, &rt.plural, name));
                }
                self.create_inner(rt, namespace, merged, p, false).map(|v| (v, true))
            }
            Some(old) => {
                self.finish_update(rt, namespace, name, &old, merged, subresource, p, false).map(|v| (v, false))
            }
        }
    }

    /// Deletes an object: marks it deleting while finalizers remain, else removes it; then
    /// runs garbage collection.
    pub fn delete(
        &mut self,
        rt: &Arc<ResourceType>,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
        p: &WriteParams,
    ) -> Result<Value, ApiError> {
        let key = Self::key(rt, namespace, name);
        let Some(stored) = self.objects.get(&key).cloned() else {
            return Err(ApiError::not_found(&rt.group, &rt.plural, name));
        };
        let precondition_failed = |what: &str, expected: &str| {
            ApiError::conflict(format!(
                "Precondition failed: {what} in precondition: {expected}, {what} in object meta: {}",
                meta(&stored, what).and_then(Value::as_str).unwrap_or_default()
            ))
        };
        if let Some(uid) = &options.uid
            && meta(&stored, "uid").and_then(Value::as_str) != Some(uid.as_str())
        {
            return Err(precondition_failed("uid", uid));
        }
        if let Some(rv) = &options.resource_version
            && meta(&stored, "resourceVersion").and_then(Value::as_str) != Some(rv.as_str())
        {
            return Err(precondition_failed("resourceVersion", rv));
        }
        if meta(&stored, "deletionTimestamp").is_some() {
            return Ok(to_view(rt, &stored));
        }
        let mut object = stored.clone();
        let mut fins = finalizers(&object);
        match options.propagation.as_deref() {
            Some("Orphan") => fins.push("orphan".to_owned()),
            Some("Foreground") => fins.push("foregroundDeletion".to_owned()),
            Some("Background") | None => {}
            Some(other) => return Err(ApiError::bad_request(format!("unsupported propagationPolicy {other:?}"))),
        }
        if rt.builtin == Some(Builtin::Namespace) {
            object["spec"] = json!({"finalizers": ["kubernetes"]});
            object["status"] = json!({"phase": "Terminating"});
        }
        if p.dry_run {
            return Ok(to_view(rt, &object));
        }
        let result = if fins.is_empty() && rt.builtin != Some(Builtin::Namespace) {
            self.commit(key.clone(), EventType::Deleted, object)
        } else {
            set_meta(&mut object, "finalizers", (!fins.is_empty()).then(|| json!(fins)));
            set_meta(&mut object, "deletionTimestamp", Some(Value::from(p.now.clone())));
            set_meta(&mut object, "deletionGracePeriodSeconds", Some(Value::from(0)));
            if tracks_generation(rt) {
                let generation = meta(&object, "generation").and_then(Value::as_i64).unwrap_or(0) + 1;
                set_meta(&mut object, "generation", Some(Value::from(generation)));
            }
            self.commit(key.clone(), EventType::Modified, object)
        };
        if rt.builtin == Some(Builtin::CustomResourceDefinition) && !self.objects.contains_key(&key) {
            self.remove_crd(&result);
        }
        self.sweep(&p.now);
        Ok(self.objects.get(&key).map_or_else(|| to_view(rt, &result), |o| to_view(rt, o)))
    }

    /// Unregisters a CRD's kinds and removes its objects.
    pub fn remove_crd(&mut self, crd: &Value) {
        let Some(name) = meta(crd, "name").and_then(Value::as_str) else { return };
        let storage =
            self.registry.types().iter().find(|t| t.crd_name.as_deref() == Some(name)).map(|t| t.storage.clone());
        self.registry.unregister_crd(name);
        self.registry_generation += 1;
        if let Some(storage) = storage {
            let keys: Vec<StoreKey> = self.objects.keys().filter(|k| k.storage == storage).cloned().collect();
            for key in keys {
                if let Some(o) = self.objects.get(&key).cloned() {
                    self.commit(key, EventType::Deleted, o);
                }
            }
        }
    }
}

/// The status an accepted CRD reports.
fn crd_status(crd: &Value) -> Value {
    json!({
        "acceptedNames": crd.pointer("/spec/names").cloned().unwrap_or(json!({})),
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": crd.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null)},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": crd.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null)}
        ],
        "storedVersions": crd.pointer("/spec/versions").and_then(Value::as_array).map(|v| v.iter()
            .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
            .filter_map(|v| v.get("name").cloned()).collect::<Vec<_>>()).unwrap_or_default(),
    })
}

/// The 422 for a CustomResourceDefinition the registry cannot serve.
fn crd_invalid(rt: &ResourceType, name: &str, error: &crate::registry::RegistryError) -> ApiError {
    ApiError::invalid(
        &rt.kind,
        &rt.group,
        name,
        &[crate::schema::FieldError {
            field: "spec".to_owned(),
            reason: "FieldValueInvalid".to_owned(),
            message: error.to_string(),
        }],
    )
}
