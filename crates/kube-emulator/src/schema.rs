//! Structural schema validation, CEL rules, defaulting and pruning for custom resources.
//!
//! Structural checks are delegated to the `jsonschema` crate after translating the OpenAPI v3
//! dialect Kubernetes uses (`nullable`, `x-kubernetes-int-or-string`,
//! `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-embedded-resource`) into JSON Schema.
//! Unknown fields are reported (what strict field validation rejects and pruning would drop).
//! CEL rules are evaluated by `kube-cel`, which implements the Kubernetes CEL libraries.

use serde_json::{Map, Value};

/// One invalid field, as the API server reports it in `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Field path, e.g. `spec.pools[0].servers`.
    pub field: String,
    /// Kubernetes cause type: `FieldValueInvalid`, `FieldValueRequired`,
    /// `FieldValueNotSupported`, `FieldValueTypeInvalid` or `FieldValueUnknown` (unknown field).
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A schema that cannot be compiled.
#[derive(Debug, thiserror::Error)]
#[error("invalid schema: {0}")]
pub struct SchemaError(String);

/// A compiled CRD version schema.
pub struct StructuralSchema {
    openapi: Value,
    validator: jsonschema::Validator,
    cel: kube_cel::CompiledSchema,
}

impl std::fmt::Debug for StructuralSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StructuralSchema").finish_non_exhaustive()
    }
}

impl StructuralSchema {
    /// Compiles an `openAPIV3Schema`.
    pub fn new(openapi: &Value) -> Result<Self, SchemaError> {
        let mut json_schema = translate(openapi, true);
        if let Value::Object(root) = &mut json_schema {
            root.insert("$schema".to_owned(), Value::from("http://json-schema.org/draft-04/schema#"));
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(&json_schema)
            .map_err(|e| SchemaError(e.to_string()))?;
        let cel = kube_cel::compile_schema(openapi);
        if cel.has_errors() {
            let errors: Vec<String> = cel.compilation_errors().iter().map(|e| e.to_string()).collect();
            return Err(SchemaError(format!("CEL rules do not compile: {}", errors.join("; "))));
        }
        Ok(StructuralSchema { openapi: openapi.clone(), validator, cel })
    }

    /// Structural errors (types, required, enums, patterns, bounds, unknown fields).
    pub fn validate_structure(&self, object: &Value) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = self
            .validator
            .iter_errors(object)
            .map(|e| {
                use jsonschema::error::ValidationErrorKind as K;
                let mut field = pointer_to_field_path(e.instance_path().as_str());
                let reason = match e.kind() {
                    K::Required { property } => {
                        let property = property.as_str().map(str::to_owned).unwrap_or_else(|| property.to_string());
                        field = join_field(&field, &property);
                        "FieldValueRequired"
                    }
                    K::Enum { .. } | K::Constant { .. } => "FieldValueNotSupported",
                    K::Type { .. } => "FieldValueTypeInvalid",
                    K::AdditionalProperties { unexpected } => {
                        if let Some(first) = unexpected.first() {
                            field = join_field(&field, first);
                        }
                        "FieldValueUnknown"
                    }
                    _ => "FieldValueInvalid",
                };
                FieldError { field, reason: reason.to_owned(), message: e.to_string() }
            })
            .collect();
        errors.sort_by(|a, b| a.field.cmp(&b.field).then(a.message.cmp(&b.message)));
        errors.dedup();
        errors
    }

    /// CEL `x-kubernetes-validations` errors (after defaulting, as the API server does).
    /// `old` enables transition rules on update.
    pub fn validate_cel(&self, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
        match kube_cel::Validator::new().validate_compiled(&self.cel, object, old) {
            Ok(()) => vec![],
            Err(errors) => errors
                .into_vec()
                .into_iter()
                .map(|e| FieldError {
                    field: e.field_path.trim_start_matches('.').to_owned(),
                    reason: e.reason.clone().unwrap_or_else(|| "FieldValueInvalid".to_owned()),
                    message: e.message.clone(),
                })
                .collect(),
        }
    }

    /// Structural then CEL errors; CEL runs only on a structurally valid object (as the API
    /// server skips rules on invalid input).
    pub fn validate(&self, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let structural = self.validate_structure(object);
        if structural.is_empty() { self.validate_cel(object, old) } else { structural }
    }

    /// The object with schema `default`s applied.
    pub fn apply_defaults(&self, object: &Value) -> Value {
        kube_cel::apply_defaults(&self.openapi, object)
    }

    /// The object without fields the schema does not know (what the API server prunes), and
    /// the paths that were pruned.
    pub fn prune(&self, object: &Value) -> (Value, Vec<String>) {
        let mut pruned = Vec::new();
        let value = prune_value(&self.openapi, object, String::new(), true, &mut pruned);
        (value, pruned)
    }
}

fn join_field(parent: &str, child: &str) -> String {
    if parent.is_empty() { child.to_owned() } else { format!("{parent}.{child}") }
}

/// `/spec/pools/0/servers` → `spec.pools[0].servers`.
pub fn pointer_to_field_path(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

fn flag(schema: &Map<String, Value>, key: &str) -> bool {
    schema.get(key).and_then(Value::as_bool) == Some(true)
}

/// Translates a Kubernetes structural schema node into JSON Schema draft 4.
fn translate(schema: &Value, root: bool) -> Value {
    let Value::Object(node) = schema else { return schema.clone() };
    let mut out = Map::new();
    let nullable = flag(node, "nullable");
    let int_or_string = flag(node, "x-kubernetes-int-or-string");
    let preserve_unknown = flag(node, "x-kubernetes-preserve-unknown-fields");
    let embedded = flag(node, "x-kubernetes-embedded-resource");
    for (key, value) in node {
        match key.as_str() {
            "properties" | "patternProperties" | "definitions" => {
                let children = value
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), translate(v, false))).collect::<Map<_, _>>())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(children));
            }
            "items" | "additionalProperties" | "not" if value.is_object() => {
                out.insert(key.clone(), translate(value, false));
            }
            "allOf" | "anyOf" | "oneOf" => {
                let list =
                    value.as_array().map(|a| a.iter().map(|v| translate(v, false)).collect()).unwrap_or_default();
                out.insert(key.clone(), Value::Array(list));
            }
            // Descriptions and Kubernetes extensions do not constrain the JSON Schema check.
            "description" | "default" | "example" | "nullable" | "format" => {}
            k if k.starts_with("x-kubernetes-") => {}
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if int_or_string {
        out.remove("type");
        out.insert("type".to_owned(), Value::from(vec!["integer", "string"]));
        // The usual anyOf [{type: integer}, {type: string}] adds nothing once the type says it.
        out.remove("anyOf");
    }
    if nullable {
        match out.get("type").cloned() {
            Some(Value::String(t)) => {
                out.insert("type".to_owned(), Value::from(vec![t, "null".to_owned()]));
            }
            Some(Value::Array(mut types)) => {
                types.push(Value::from("null"));
                out.insert("type".to_owned(), Value::Array(types));
            }
            _ => {}
        }
    }
    let is_object = out
        .get("type")
        .is_some_and(|t| t == "object" || t.as_array().is_some_and(|a| a.contains(&Value::from("object"))));
    if is_object && (root || embedded) {
        // apiVersion, kind and metadata are always allowed on a resource.
        let props = out.entry("properties").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(props) = props {
            for key in ["apiVersion", "kind"] {
                props.entry(key.to_owned()).or_insert_with(|| serde_json::json!({"type": "string"}));
            }
            // ObjectMeta is validated by the API server's own rules, not the CRD schema.
            props.insert("metadata".to_owned(), serde_json::json!({"type": "object"}));
        }
    }
    if is_object && !preserve_unknown && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".to_owned(), Value::Bool(false));
    }
    out.into_iter().collect::<Map<_, _>>().into()
}

fn prune_value(schema: &Value, value: &Value, path: String, root: bool, pruned: &mut Vec<String>) -> Value {
    let (Value::Object(node), Value::Object(object)) = (schema, value) else {
        if let (Value::Object(node), Value::Array(items)) = (schema, value)
            && let Some(item_schema) = node.get("items")
        {
            return Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| prune_value(item_schema, item, format!("{path}[{i}]"), false, pruned))
                    .collect(),
            );
        }
        return value.clone();
    };
    if flag(node, "x-kubernetes-preserve-unknown-fields") && !node.contains_key("properties") {
        return value.clone();
    }
    let properties = node.get("properties").and_then(Value::as_object);
    let additional = node.get("additionalProperties").filter(|a| a.is_object());
    let keep_unknown = flag(node, "x-kubernetes-preserve-unknown-fields");
    let mut out = Map::new();
    for (key, child) in object {
        let child_path = join_field(&path, key);
        let resource_field = (root || flag(node, "x-kubernetes-embedded-resource"))
            && ["apiVersion", "kind", "metadata"].contains(&key.as_str());
        if resource_field {
            // ObjectMeta is the API server's own type: the CRD schema never prunes it.
            out.insert(key.clone(), child.clone());
            continue;
        }
        match (properties.and_then(|p| p.get(key)), additional) {
            (Some(child_schema), _) => {
                out.insert(key.clone(), prune_value(child_schema, child, child_path, false, pruned));
            }
            (None, Some(additional_schema)) => {
                out.insert(key.clone(), prune_value(additional_schema, child, child_path, false, pruned));
            }
            (None, None) if keep_unknown => {
                out.insert(key.clone(), child.clone());
            }
            (None, None) => pruned.push(child_path),
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> StructuralSchema {
        // Documented CRD schema features: https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation
        StructuralSchema::new(&json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["size"],
                    "x-kubernetes-validations": [{"rule": "self.size % 2 == 1", "message": "size must be odd"}],
                    "properties": {
                        "size": {"type": "integer", "minimum": 1, "maximum": 7},
                        "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
                        "name": {"type": "string", "pattern": "^[a-z]+$", "nullable": true},
                        "port": {"x-kubernetes-int-or-string": true},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                        "items": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}}}
                    }
                }
            }
        }))
        .unwrap()
    }

    #[test]
    fn valid_object_passes_with_int_or_string_nullable_and_preserved_fields() {
        let s = schema();
        for port in [json!(80), json!("http")] {
            let object = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"},
                "spec": {"size": 3, "name": null, "port": port, "free": {"anything": {"goes": 1}}}});
            assert_eq!(s.validate(&object, None), vec![]);
        }
    }

    #[test]
    fn structural_errors_carry_field_paths_and_reasons() {
        let s = schema();
        let errors = s.validate_structure(
            &json!({"spec": {"size": 9, "mode": "c", "name": "A1", "bogus": 1, "items": [{"id": "x"}]}}),
        );
        let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.reason.as_str())).collect();
        assert!(found.contains(&("spec.size", "FieldValueInvalid")), "{found:?}");
        assert!(found.contains(&("spec.mode", "FieldValueNotSupported")), "{found:?}");
        assert!(found.contains(&("spec.name", "FieldValueInvalid")), "{found:?}");
        assert!(found.contains(&("spec.bogus", "FieldValueUnknown")), "{found:?}");
        assert!(found.contains(&("spec.items[0].id", "FieldValueTypeInvalid")), "{found:?}");
        let missing = s.validate_structure(&json!({"spec": {}}));
        assert_eq!(missing[0].field, "spec.size");
        assert_eq!(missing[0].reason, "FieldValueRequired");
    }

    #[test]
    fn cel_rules_run_on_structurally_valid_objects() {
        let s = schema();
        let errors = s.validate(&json!({"spec": {"size": 2}}), None);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "spec");
        assert!(errors[0].message.contains("size must be odd"));
    }

    #[test]
    fn defaults_are_applied_and_unknown_fields_pruned() {
        let s = schema();
        let defaulted = s.apply_defaults(&json!({"spec": {"size": 1}}));
        assert_eq!(defaulted["spec"]["mode"], "a");
        let (pruned, paths) = s.prune(&json!({"metadata": {"name": "x"}, "spec": {"size": 1, "bogus": 2, "free": {"k": 1}, "items": [{"id": 1, "extra": 2}]}}));
        assert_eq!(paths, vec!["spec.bogus".to_owned(), "spec.items[0].extra".to_owned()]);
        assert_eq!(pruned["spec"]["free"]["k"], 1);
        assert_eq!(pruned["metadata"]["name"], "x");
        assert!(pruned["spec"].get("bogus").is_none());
    }

    #[test]
    fn root_metadata_is_never_pruned_even_when_the_schema_declares_it() {
        // Vendor CRDs (e.g. Strimzi) declare `metadata: {type: object}` at the root.
        let s = StructuralSchema::new(
            &json!({"type": "object", "properties": {"metadata": {"type": "object"}, "spec": {"type": "object"}}}),
        )
        .unwrap();
        let object = json!({"metadata": {"name": "x", "labels": {"a": "b"}}, "spec": {}});
        assert_eq!(s.prune(&object), (object.clone(), vec![]));
        assert_eq!(s.validate(&object, None), vec![]);
    }

    #[test]
    fn pointers_become_kubernetes_field_paths() {
        assert_eq!(pointer_to_field_path("/spec/pools/0/servers"), "spec.pools[0].servers");
        assert_eq!(pointer_to_field_path(""), "");
        assert_eq!(pointer_to_field_path("/metadata/labels/a~1b"), "metadata.labels.a/b");
    }
}
