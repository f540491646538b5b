//! Writing a managed component's desired state: generated Secrets created once (never
//! overwritten), vendor objects server-side applied only when what we want changed, and what
//! was written read back for the status reader.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::Value;
use tracing::{debug, info};

use super::cache::is_ours;
use super::context::{Context, Progress};
use super::error::ReconcileError;
use crate::api::WeightsAndBiases;
use crate::model::Placement;
use crate::vendors::{Desired, DesiredObject, MANAGER, ObjectKey, Observed};

/// Annotation holding a hash of what we last applied: unchanged desired state is not re-sent.
pub const APPLIED_HASH_ANNOTATION: &str = "apps.wandb.com/applied-hash";

/// Creates the missing generated Secrets and applies every vendor object, in order; returns
/// what the cluster now holds for them.
pub(crate) async fn apply_desired(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    desired: &Desired,
    progress: &Progress,
) -> Result<Observed, ReconcileError> {
    let mut observed = Observed::default();
    for secret in &desired.secrets {
        match ctx.caches.get(&secret.key) {
            Some(live) => observed.insert(secret.key.clone(), serde_json::to_value(&*live).unwrap_or_default()),
            None => {
                // Drawn before the await: the thread-local CSPRNG handle is not Send.
                let materialized = secret.materialize(&mut rand::rng());
                let created = create_secret(ctx, &secret.key, materialized).await?;
                progress.record();
                ctx.event(
                    wandb,
                    EventType::Normal,
                    "Created",
                    format!("created Secret {}/{} with generated credentials", secret.key.namespace, secret.key.name),
                    Some(&secret.key),
                )
                .await;
                observed.insert(secret.key.clone(), created);
            }
        }
    }
    for object in &desired.objects {
        let (live, outcome) = apply(ctx, object, wandb).await?;
        if !matches!(outcome, Outcome::Unchanged) {
            progress.record();
        }
        match outcome {
            Outcome::Created => {
                ctx.event(wandb, EventType::Normal, "Created", format!("created {}", object.key), Some(&object.key))
                    .await
            }
            Outcome::Adopted => {
                ctx.event(wandb, EventType::Normal, "Adopted", format!("adopted {}", object.key), Some(&object.key))
                    .await
            }
            Outcome::Updated | Outcome::Unchanged => {}
        }
        observed.insert(object.key.clone(), live);
    }
    Ok(observed)
}

/// What the cluster holds of ours for `desired`, without writing (a guard refused).
pub(crate) fn observe_without_writing(ctx: &Context, placement: &Placement, desired: &Desired) -> Observed {
    let mut observed = Observed::default();
    let component = placement.component.key();
    for key in desired.objects.iter().map(|o| &o.key).chain(desired.secrets.iter().map(|s| &s.key)) {
        if let Some(live) = ctx.caches.get(key).filter(|l| is_ours(l.labels(), &placement.instance, Some(component))) {
            observed.insert(key.clone(), serde_json::to_value(&*live).unwrap_or_default());
        }
    }
    observed
}

/// Adds the further objects the status reader needs (e.g. the StatefulSets a vendor creates).
pub(crate) fn read_extra(ctx: &Context, desired: &Desired, observed: &mut Observed) {
    for key in &desired.reads {
        if let Some(live) = ctx.caches.get(key) {
            observed.insert(key.clone(), serde_json::to_value(&*live).unwrap_or_default());
        }
    }
}

/// Applies one object (unless it is unchanged); returns what the cluster now holds.
pub(crate) async fn apply_object(
    ctx: &Context,
    object: &DesiredObject,
    wandb: &WeightsAndBiases,
) -> Result<Value, ReconcileError> {
    apply(ctx, object, wandb).await.map(|(live, _)| live)
}

async fn create_secret(ctx: &Context, key: &ObjectKey, secret: Secret) -> Result<Value, ReconcileError> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &key.namespace);
    match api.create(&PostParams { field_manager: Some(MANAGER.to_owned()), ..Default::default() }, &secret).await {
        Ok(created) => Ok(serde_json::to_value(created).unwrap_or_default()),
        // Created meanwhile (e.g. by a previous leader): never overwritten.
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let live = api.get(&key.name).await.map_err(ReconcileError::api(format!("read {key}")))?;
            Ok(serde_json::to_value(live).unwrap_or_default())
        }
        Err(e) => Err(ReconcileError::Api { action: format!("create {key}"), source: e }),
    }
}

enum Outcome {
    Created,
    Adopted,
    Updated,
    Unchanged,
}

/// FNV-1a over the serialized body: stable (serde_json maps are sorted) and cheap. Not a
/// security measure: only detects that our desired state changed.
/// The body we send for a desired object: `desired` with the hash of itself in
/// [`APPLIED_HASH_ANNOTATION`]; and the hash.
pub fn with_applied_hash(desired: &Value) -> (Value, String) {
    let mut body = desired.clone();
    let digest = hash(&body);
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta.entry("annotations").or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(a) = annotations.as_object_mut() {
            a.insert(APPLIED_HASH_ANNOTATION.to_owned(), Value::from(digest.clone()));
        }
    }
    (body, digest)
}

fn hash(body: &Value) -> String {
    crate::model::digest::fnv1a(&body.to_string())
}

/// Whether `live` contains everything `desired` sets, with equal values. Lists must match
/// element by element, except metadata lists others may extend (owner references, finalizers).
pub(crate) fn covers(live: &Value, desired: &Value, path: &mut Vec<String>) -> bool {
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => d.iter().all(|(k, dv)| {
            path.push(k.clone());
            let ok = l.get(k).is_some_and(|lv| covers(lv, dv, path));
            path.pop();
            ok
        }),
        (Value::Array(l), Value::Array(d)) => {
            let extensible =
                path.len() == 2 && path[0] == "metadata" && (path[1] == "ownerReferences" || path[1] == "finalizers");
            if extensible {
                d.iter().all(|dv| l.iter().any(|lv| covers(lv, dv, &mut Vec::new())))
            } else {
                l.len() == d.len() && l.iter().zip(d).all(|(lv, dv)| covers(lv, dv, path))
            }
        }
        (l, d) => l == d,
    }
}

async fn apply(
    ctx: &Context,
    object: &DesiredObject,
    wandb: &WeightsAndBiases,
) -> Result<(Value, Outcome), ReconcileError> {
    let key = &object.key;
    let resource = ctx
        .caches
        .resource(&key.api_version, &key.kind)
        .ok_or_else(|| ReconcileError::UnknownKind(format!("{} {}", key.api_version, key.kind)))?;
    let (body, digest) = with_applied_hash(&object.body);
    let live = ctx.caches.get(key);
    if let Some(live) = &live {
        let live_value = serde_json::to_value(&**live).unwrap_or_default();
        let same_hash = live.annotations().get(APPLIED_HASH_ANNOTATION) == Some(&digest);
        if same_hash && covers(&live_value, &body, &mut Vec::new()) {
            debug!(object = %key, "unchanged");
            return Ok((live_value, Outcome::Unchanged));
        }
    }
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &key.namespace, &resource);
    let applied = api
        .patch(&key.name, &PatchParams::apply(MANAGER).force().validation_strict(), &Patch::Apply(&body))
        .await
        .map_err(ReconcileError::api(format!("apply {key}")))?;
    let uid = wandb.meta().uid.clone();
    let outcome = match &live {
        None => Outcome::Created,
        Some(l)
            if uid.is_some()
                && body.pointer("/metadata/ownerReferences").is_some()
                && !l.owner_references().iter().any(|o| Some(&o.uid) == uid.as_ref()) =>
        {
            Outcome::Adopted
        }
        Some(_) => Outcome::Updated,
    };
    info!(object = %key, "applied");
    Ok((serde_json::to_value(applied).unwrap_or_default(), outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn covers_checks_values_lists_and_extensible_metadata_lists() {
        let desired = json!({"metadata": {"labels": {"a": "1"}, "ownerReferences": [{"uid": "u"}]}, "spec": {"list": [1, 2], "x": {"y": 1}}});
        let live = json!({"metadata": {"labels": {"a": "1", "extra": "2"}, "ownerReferences": [{"uid": "other"}, {"uid": "u", "kind": "K"}]},
                          "spec": {"list": [1, 2], "x": {"y": 1, "z": 2}}, "status": {}});
        assert!(covers(&live, &desired, &mut Vec::new()));
        let drifted = json!({"metadata": {"labels": {"a": "1"}, "ownerReferences": [{"uid": "u"}]}, "spec": {"list": [1, 3], "x": {"y": 1}}});
        assert!(!covers(&drifted, &desired, &mut Vec::new()));
        let longer = json!({"metadata": {"labels": {"a": "1"}, "ownerReferences": [{"uid": "u"}]}, "spec": {"list": [1, 2, 3], "x": {"y": 1}}});
        assert!(!covers(&longer, &desired, &mut Vec::new()));
    }

    #[test]
    fn hash_is_stable_and_sensitive() {
        assert_eq!(hash(&json!({"a": 1, "b": 2})), hash(&json!({"b": 2, "a": 1})));
        assert_ne!(hash(&json!({"a": 1})), hash(&json!({"a": 2})));
    }
}
