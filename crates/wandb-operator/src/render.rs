//! `render`: every object the operator would create for a manifest, without a cluster.
//!
//! Reads a `WeightsAndBiases` manifest (YAML or JSON, one or more documents), resolves it with
//! the model, builds the vendor objects and prints them as a multi-document YAML stream.
//! Generated Secrets are printed without any value. Owner references are omitted, since a
//! manifest that was never applied has no UID.

use kube::ResourceExt;
use serde_json::Value;

use crate::api::WeightsAndBiases;
use crate::model::{self, ComponentDescriptor, Edition, ExternalService, ModelError, Plan, Resolution};
use crate::registry::{ComponentVisitor, Registry, VendorOf};
use crate::vendors::{Desired, VendorError, connection_secret, desired_with_edition};

/// Why a manifest cannot be rendered. Every message names what is wrong; none carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The input is not YAML/JSON.
    #[error("invalid YAML: {0}")]
    Syntax(String),
    /// No document in the input.
    #[error("the input holds no WeightsAndBiases document")]
    Empty,
    /// A document is not an `apps.wandb.com/v2` `WeightsAndBiases`.
    #[error(
        "document {index}: expected apiVersion apps.wandb.com/v2 and kind WeightsAndBiases, found apiVersion {api_version:?} and kind {kind:?}"
    )]
    WrongKind {
        /// Document number (from 1).
        index: usize,
        /// What was found.
        api_version: String,
        /// What was found.
        kind: String,
    },
    /// A field has the wrong type or shape.
    #[error("document {index}: {path}: {message}")]
    Invalid {
        /// Document number (from 1).
        index: usize,
        /// Field path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A value is rejected by the model.
    #[error("document {index}: {source}")]
    Model {
        /// Document number (from 1).
        index: usize,
        /// The model's error (names the field).
        #[source]
        source: ModelError,
    },
    /// A builder failed.
    #[error(transparent)]
    Vendor(#[from] VendorError),
    /// The output could not be written as YAML.
    #[error("cannot write YAML: {0}")]
    Output(String),
    /// The two manifests of `render --from` do not describe the same resources.
    #[error("{0}")]
    Mismatch(String),
    /// A plan could not be made.
    #[error(transparent)]
    Plan(#[from] crate::registry::change_plan::PlanError),
}

/// Parses a manifest into `WeightsAndBiases` resources. Documents without a namespace get
/// `default_namespace` (as `kubectl apply` would). Unknown fields are errors, not ignored.
pub fn parse_manifests(text: &str, default_namespace: &str) -> Result<Vec<WeightsAndBiases>, RenderError> {
    let documents: Vec<Value> =
        serde_saphyr::from_multiple(text).map_err(|e| RenderError::Syntax(first_line(&e.to_string())))?;
    let documents: Vec<Value> = documents.into_iter().filter(|d| !d.is_null()).collect();
    if documents.is_empty() {
        return Err(RenderError::Empty);
    }
    documents.into_iter().enumerate().map(|(i, document)| parse_document(i + 1, document, default_namespace)).collect()
}

fn parse_document(index: usize, document: Value, default_namespace: &str) -> Result<WeightsAndBiases, RenderError> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let api_version = text(document.get("apiVersion"));
    let kind = text(document.get("kind"));
    if api_version != "apps.wandb.com/v2" || kind != "WeightsAndBiases" {
        return Err(RenderError::WrongKind { index, api_version, kind });
    }
    let mut wandb: WeightsAndBiases = serde_path_to_error::deserialize(&document).map_err(|e| {
        let path = e.path().to_string();
        let message = first_line(&e.inner().to_string());
        // serde reports a missing field at its parent: name the field itself.
        match message.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
            Some(field) if path == "." => {
                RenderError::Invalid { index, path: field.to_owned(), message: "required".to_owned() }
            }
            Some(field) => {
                RenderError::Invalid { index, path: format!("{path}.{field}"), message: "required".to_owned() }
            }
            None => RenderError::Invalid { index, path, message },
        }
    })?;
    let reserialized = serde_json::to_value(&wandb).map_err(|e| RenderError::Output(e.to_string()))?;
    if let Some(path) = unknown_fields(&document, &reserialized, String::new()).into_iter().next() {
        return Err(RenderError::Invalid { index, path, message: "unknown field".to_owned() });
    }
    if wandb.metadata.namespace.as_deref().is_none_or(str::is_empty) {
        wandb.metadata.namespace = Some(default_namespace.to_owned());
    }
    Ok(wandb)
}

/// Paths of fields present (and non-null) in `input` that the typed model dropped.
fn unknown_fields(input: &Value, typed: &Value, path: String) -> Vec<String> {
    match (input, typed) {
        (Value::Object(input), Value::Object(typed)) => input
            .iter()
            .filter(|(key, value)| !(value.is_null() || path.is_empty() && *key == "status"))
            .flat_map(|(key, value)| {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match typed.get(key) {
                    None if is_empty_container(value) => vec![],
                    None => vec![child],
                    Some(typed_value) => unknown_fields(value, typed_value, child),
                }
            })
            .collect(),
        (Value::Array(input), Value::Array(typed)) => input
            .iter()
            .zip(typed)
            .enumerate()
            .flat_map(|(i, (a, b))| unknown_fields(a, b, format!("{path}[{i}]")))
            .collect(),
        _ => vec![],
    }
}

fn is_empty_container(value: &Value) -> bool {
    matches!(value, Value::Array(a) if a.is_empty()) || matches!(value, Value::Object(o) if o.is_empty())
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// Every object the operator would create for `wandb`, in a deterministic order: components
/// in registry (status) order, each with its generated Secrets
/// first, then its vendor objects in apply order, then its connection Secret (no values), then
/// what its further steps write (the backup credentials Secret). An external component
/// contributes only its connection Secret; a disabled one nothing.
pub fn render_objects(wandb: &WeightsAndBiases, registry: &Registry) -> Result<Vec<Value>, RenderError> {
    render_objects_at(wandb, registry, Edition::LATEST)
}

/// The objects of `wandb` for components created with the defaults of `edition` (what an
/// existing component of that edition is kept at).
pub fn render_objects_at(
    wandb: &WeightsAndBiases,
    registry: &Registry,
    edition: Edition,
) -> Result<Vec<Value>, RenderError> {
    let model_error = |source| RenderError::Model { index: 1, source };
    let resolution = model::resolve(wandb).map_err(model_error)?.at_edition(edition);
    if let Some(error) = registry.entries().iter().find_map(|e| e.spec_error(&resolution)) {
        return Err(model_error(error));
    }
    let mut render = RenderEach { resolution: &resolution, objects: Vec::new(), failure: None };
    registry.visit(&mut render);
    match render.failure {
        Some(error) => Err(error),
        None => Ok(render.objects),
    }
}

/// Renders each component's objects in turn; the first failure stops the rest.
struct RenderEach<'a> {
    resolution: &'a Resolution,
    objects: Vec<Value>,
    failure: Option<RenderError>,
}

impl ComponentVisitor for RenderEach<'_> {
    fn visit<D: ComponentDescriptor>(&mut self, vendor: &'static VendorOf<D>) {
        if self.failure.is_some() {
            return;
        }
        if let Err(error) = component_objects::<D>(vendor, &self.resolution.plan::<D>(), &mut self.objects) {
            self.failure = Some(error);
        }
    }
}

fn secret_body(secret: k8s_openapi::api::core::v1::Secret) -> Result<Value, RenderError> {
    let mut body = serde_json::to_value(secret).map_err(|e| RenderError::Output(e.to_string()))?;
    body["apiVersion"] = Value::from("v1");
    body["kind"] = Value::from("Secret");
    Ok(body)
}

/// One component's objects: generated Secrets, vendor objects, the connection Secret (without
/// values; for a managed component its keys are those the vendor's status yields), and the
/// backup credentials Secret its vendor reads (copied, so without values here). An external
/// component has only its connection Secret.
fn component_objects<D: ComponentDescriptor>(
    vendor: &VendorOf<D>,
    plan: &Result<Plan<D>, ModelError>,
    objects: &mut Vec<Value>,
) -> Result<(), RenderError> {
    match plan {
        Ok(Plan::Enabled(config)) => {
            let desired: Desired = desired_with_edition(vendor, config)?;
            for secret in &desired.secrets {
                objects.push(secret_body(secret.without_values())?);
            }
            let connection = crate::registry::connection_preview::managed_connection::<D>(vendor, config, &desired)?;
            objects.extend(desired.objects.into_iter().map(|o| o.body));
            if let Some(connection) = connection {
                objects.push(secret_body(connection.without_values())?);
            }
            if let Some(secret) = vendor.backups().and_then(|b| b.credentials_secret(config)) {
                objects.push(secret_body(secret.without_values())?);
            }
        }
        Ok(Plan::External(config)) => {
            let secret = connection_secret::external(&config.placement, config.service.connection_keys());
            objects.push(secret_body(secret.without_values())?);
        }
        Ok(Plan::Disabled(_)) | Err(_) => {}
    }
    Ok(())
}

/// Renders objects as a multi-document YAML stream (`---` before each document).
pub fn to_yaml_stream(objects: &[Value]) -> Result<String, RenderError> {
    let mut out = String::new();
    for object in objects {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(object).map_err(|e| RenderError::Output(e.to_string()))?);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

/// Parses `text` and renders every document in it.
pub fn render_manifest(
    text: &str,
    default_namespace: &str,
    registry: &Registry,
    edition: Edition,
) -> Result<String, RenderError> {
    let mut objects = Vec::new();
    for (i, wandb) in parse_manifests(text, default_namespace)?.iter().enumerate() {
        objects.extend(render_objects_at(wandb, registry, edition).map_err(|e| match e {
            RenderError::Model { source, .. } => RenderError::Model { index: i + 1, source },
            other => other,
        })?);
    }
    to_yaml_stream(&objects)
}

/// What changing each resource of `current` into the one of the same namespace and name in
/// `new` does, per component, as YAML (`render --from CURRENT -f NEW`).
pub fn render_plan(
    current: &str,
    new: &str,
    default_namespace: &str,
    registry: &Registry,
    edition: Edition,
) -> Result<String, RenderError> {
    let (current, new) = (parse_manifests(current, default_namespace)?, parse_manifests(new, default_namespace)?);
    let id = |w: &WeightsAndBiases| format!("{}/{}", w.metadata.namespace.as_deref().unwrap_or_default(), w.name_any());
    let mut plans = Vec::new();
    for after in &new {
        let before = current.iter().find(|w| id(w) == id(after)).ok_or_else(|| {
            RenderError::Mismatch(format!(
                "{} is not in the current manifest: there is nothing to change from",
                id(after)
            ))
        })?;
        let plan = crate::registry::change_plan::change_plan(before, after, registry, edition)?;
        let mut value = serde_json::to_value(&plan).map_err(|e| RenderError::Output(e.to_string()))?;
        if let Some(map) = value.as_object_mut() {
            map.insert("resource".to_owned(), Value::from(id(after)));
        }
        plans.push(value);
    }
    to_yaml_stream(&plans)
}
