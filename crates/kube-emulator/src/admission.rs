//! Admission: metadata rules, CRD schema validation with defaulting and pruning, and strict
//! typed validation of the built-in kinds.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::errors::ApiError;
use crate::registry::{Builtin, ResourceType};
use crate::schema::FieldError;

fn field_error(field: &str, reason: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.to_owned(), reason: reason.to_owned(), message: message.into() }
}

/// DNS-1123 subdomain: what most object names must be.
pub fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
        })
}

/// DNS-1123 label (namespace names).
pub fn is_dns_label(name: &str) -> bool {
    name.len() <= 63 && !name.contains('.') && is_dns_subdomain(name)
}

fn is_label_value(value: &str) -> bool {
    value.is_empty()
        || (value.len() <= 63
            && value.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c))
            && value.as_bytes()[0].is_ascii_alphanumeric()
            && value.as_bytes()[value.len() - 1].is_ascii_alphanumeric())
}

fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && is_label_value(name)
}

/// Metadata rules every object obeys (name format, label and annotation keys and values).
pub fn validate_metadata(rt: &ResourceType, object: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let name_ok = if rt.builtin == Some(Builtin::Namespace) { is_dns_label(name) } else { is_dns_subdomain(name) };
    if !name_ok {
        errors.push(field_error(
            "metadata.name",
            "FieldValueInvalid",
            format!("Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
        ));
    }
    if let Some(labels) = object.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if !is_qualified_name(k) {
                errors.push(field_error(
                    "metadata.labels",
                    "FieldValueInvalid",
                    format!("Invalid value: {k:?}: name part must consist of alphanumeric characters, '-', '_' or '.'"),
                ));
            }
            match v.as_str() {
                Some(s) if is_label_value(s) => {}
                _ => errors.push(field_error(
                    "metadata.labels",
                    "FieldValueInvalid",
                    format!("Invalid value: {v}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', at most 63 characters"),
                )),
            }
        }
    }
    if let Some(annotations) = object.pointer("/metadata/annotations").and_then(Value::as_object) {
        let size: usize = annotations.iter().map(|(k, v)| k.len() + v.as_str().map_or(0, str::len)).sum();
        if size > 262_144 {
            errors.push(field_error(
                "metadata.annotations",
                "FieldValueTooLong",
                "Too long: must have at most 262144 bytes",
            ));
        }
        for (k, v) in annotations {
            if !is_qualified_name(k) || !v.is_string() {
                errors.push(field_error("metadata.annotations", "FieldValueInvalid", format!("Invalid value: {k:?}")));
            }
        }
    }
    errors
}

/// Validates and normalises a custom resource: prunes unknown fields (or rejects them when
/// `strict`), applies defaults, then checks the structural schema and CEL rules (transition
/// rules against `old`).
pub fn admit_custom(
    rt: &ResourceType,
    object: Value,
    old: Option<&Value>,
    strict: bool,
) -> Result<Value, Vec<FieldError>> {
    let Some(schema) = &rt.schema else { return Ok(object) };
    let (pruned, unknown) = schema.prune(&object);
    if strict && !unknown.is_empty() {
        return Err(unknown
            .iter()
            .map(|f| field_error(f, "FieldValueUnknown", format!("unknown field \"{f}\"")))
            .collect());
    }
    let defaulted = schema.apply_defaults(&pruned);
    let mut errors = schema.validate_structure(&defaulted);
    if errors.is_empty() {
        errors = schema.validate_cel(&defaulted, old);
    }
    if errors.is_empty() { Ok(defaulted) } else { Err(errors) }
}

fn typed<T: DeserializeOwned + Serialize>(object: &Value, strict: bool) -> Vec<FieldError> {
    match serde_path_to_error::deserialize::<_, T>(object) {
        Err(e) => vec![field_error(&e.path().to_string(), "FieldValueTypeInvalid", e.inner().to_string())],
        Ok(t) if strict => match serde_json::to_value(&t) {
            Ok(round_trip) => unknown_fields(object, &round_trip, String::new())
                .into_iter()
                .map(|f| field_error(&f, "FieldValueUnknown", format!("unknown field \"{f}\"")))
                .collect(),
            Err(e) => vec![field_error("", "InternalError", e.to_string())],
        },
        Ok(_) => vec![],
    }
}

fn unknown_fields(input: &Value, typed: &Value, path: String) -> Vec<String> {
    match (input, typed) {
        (Value::Object(i), Value::Object(t)) => i
            .iter()
            .filter(|(_, v)| !v.is_null())
            .flat_map(|(k, v)| {
                let child = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match t.get(k) {
                    None if matches!(v, Value::Object(m) if m.is_empty())
                        || matches!(v, Value::Array(a) if a.is_empty()) =>
                    {
                        vec![]
                    }
                    None => vec![child],
                    Some(tv) => unknown_fields(v, tv, child),
                }
            })
            .collect(),
        (Value::Array(i), Value::Array(t)) => {
            i.iter().zip(t).enumerate().flat_map(|(n, (a, b))| unknown_fields(a, b, format!("{path}[{n}]"))).collect()
        }
        _ => vec![],
    }
}

/// Strict typed validation of a built-in object (types always; unknown fields when `strict`).
pub fn admit_builtin(builtin: Builtin, object: &Value, strict: bool) -> Vec<FieldError> {
    use k8s_openapi::api::{apps, coordination, core, events};
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiext;
    match builtin {
        Builtin::Namespace => typed::<core::v1::Namespace>(object, strict),
        Builtin::Secret => typed::<core::v1::Secret>(object, strict),
        Builtin::ConfigMap => typed::<core::v1::ConfigMap>(object, strict),
        Builtin::Service => typed::<core::v1::Service>(object, strict),
        Builtin::PersistentVolumeClaim => typed::<core::v1::PersistentVolumeClaim>(object, strict),
        Builtin::StatefulSet => typed::<apps::v1::StatefulSet>(object, strict),
        Builtin::Deployment => typed::<apps::v1::Deployment>(object, strict),
        Builtin::Event => typed::<events::v1::Event>(object, strict),
        Builtin::CoreEvent => typed::<core::v1::Event>(object, strict),
        Builtin::Lease => typed::<coordination::v1::Lease>(object, strict),
        Builtin::CustomResourceDefinition => typed::<apiext::CustomResourceDefinition>(object, strict),
        Builtin::ServiceAccount => typed::<core::v1::ServiceAccount>(object, strict),
        Builtin::Role => typed::<k8s_openapi::api::rbac::v1::Role>(object, strict),
        Builtin::ClusterRole => typed::<k8s_openapi::api::rbac::v1::ClusterRole>(object, strict),
        Builtin::RoleBinding => typed::<k8s_openapi::api::rbac::v1::RoleBinding>(object, strict),
        Builtin::ClusterRoleBinding => typed::<k8s_openapi::api::rbac::v1::ClusterRoleBinding>(object, strict),
        Builtin::StorageClass => typed::<k8s_openapi::api::storage::v1::StorageClass>(object, strict),
    }
}

/// Secret `stringData` is write-only: merged into `data` (base64) on every write.
/// <https://kubernetes.io/docs/concepts/configuration/secret/#restriction-names-data>
fn fold_string_data(mut object: Value) -> Value {
    use base64::Engine;
    let Some(string_data) = object.as_object_mut().and_then(|m| m.remove("stringData")) else { return object };
    if let Value::Object(entries) = string_data {
        let data =
            object.as_object_mut().map(|m| m.entry("data").or_insert_with(|| Value::Object(serde_json::Map::new())));
        if let Some(Value::Object(data)) = data {
            for (k, v) in entries {
                let text = v.as_str().unwrap_or_default().to_owned();
                data.insert(k, Value::from(base64::engine::general_purpose::STANDARD.encode(text)));
            }
        }
    }
    object
}

/// Runs every admission check for `object` of type `rt`; returns the normalised object.
pub fn admit(rt: &ResourceType, object: Value, old: Option<&Value>, strict: bool) -> Result<Value, ApiError> {
    let name = object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_owned();
    let invalid = |errors: &[FieldError]| ApiError::invalid(&rt.kind, &rt.group, &name, errors);
    let meta_errors = validate_metadata(rt, &object);
    if !meta_errors.is_empty() {
        return Err(invalid(&meta_errors));
    }
    match rt.builtin {
        Some(b) => {
            let errors = admit_builtin(b, &object, strict);
            if !errors.is_empty() {
                return Err(invalid(&errors));
            }
            Ok(if b == Builtin::Secret { fold_string_data(object) } else { object })
        }
        None => admit_custom(rt, object, old, strict).map_err(|e| invalid(&e)),
    }
}
