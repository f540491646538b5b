//! Writing the connection Secret `<cr>-<component>-connection` (issue 11).
//!
//! The Secret cache keeps key names but no values, so whether the Secret is current is decided
//! without reading any value: the digest on it covers its plain keys, its sources and the
//! sources' `resourceVersion`s. Only when that digest differs are the sources read (one GET
//! each) and the Secret applied: in steady state this makes no request at all.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::EventType;
use serde_json::json;
use tracing::info;

use super::cache::{carries_our_labels, is_ours};
use super::context::{Context, Progress};
use super::error::ReconcileError;
use crate::api::WeightsAndBiases;
use crate::model::Placement;
use crate::vendors::connection_secret::{
    CLUSTER_CA_CONFIG_MAP, CLUSTER_CA_KEY, CLUSTER_CA_VERSION, ConnectionSecret, SOURCES_HASH_ANNOTATION,
};
use crate::vendors::{GENERATED_KEYS_ANNOTATION, MANAGER, ObjectKey, secret_value, vendor_secret_labels};

/// What became of the connection Secret in this pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Synced {
    /// It holds what it should; nothing was written.
    Current,
    /// It was created or updated.
    Written,
    /// A source Secret or key does not exist (`Secret ns/name` or `key K of Secret ns/name`).
    SourcesMissing(Vec<String>),
    /// A Secret of that name exists and is not ours: left untouched.
    NotOwned,
}

fn secret_key(namespace: &str, name: &str) -> ObjectKey {
    ObjectKey::new("v1", "Secret", namespace, name)
}

/// The cluster-CA ConfigMap of `namespace`, as the cache keys it.
pub(crate) fn cluster_ca_key(namespace: &str) -> ObjectKey {
    ObjectKey::new("v1", "ConfigMap", namespace, CLUSTER_CA_CONFIG_MAP)
}

/// Why the cluster CA is missing, in the words of `SourcesMissing`.
fn cluster_ca_missing(namespace: &str) -> String {
    format!("ConfigMap {namespace}/{CLUSTER_CA_CONFIG_MAP} (kube-controller-manager publishes it in every namespace)")
}

/// The `resourceVersion`s of a managed component's source Secrets, from the cache. `Err`
/// lists the sources that do not exist yet.
///
/// A source the cache does not hold is read (metadata only, once: from then on the watch
/// delivers it):
/// - when it carries our labels it is ours (any component's: MySQL's backups copy MinIO's
///   keys) and only late in the cache: its metadata is never written;
/// - when it carries none, and the component's vendor made it (Percona's `<name>-secrets`,
///   `spec.sources_from_vendor`), it gets the vendor-Secret labels (a merge patch, once), so
///   that it is cached and watched; never a component label, which would make it one of our
///   generated Secrets;
/// - anything else (another component's source without our labels) is not written and counts
///   as missing until its owner labels it.
pub async fn source_versions(
    ctx: &Context,
    placement: &Placement,
    spec: &ConnectionSecret,
) -> Result<Result<BTreeMap<String, String>, Vec<String>>, ReconcileError> {
    let mut versions = BTreeMap::new();
    let mut missing = Vec::new();
    let namespace = &spec.source_namespace;
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    for name in spec.source_secrets() {
        let key = secret_key(namespace, name);
        if let Some(live) = ctx.caches.get(&key) {
            versions.insert(name.to_owned(), live.resource_version().unwrap_or_default());
            continue;
        }
        let Some(live) = api.get_metadata_opt(name).await.map_err(ReconcileError::api(format!("read {key}")))? else {
            missing.push(format!("Secret {namespace}/{name}"));
            continue;
        };
        if carries_our_labels(live.labels()) {
            versions.insert(name.to_owned(), live.resource_version().unwrap_or_default());
        } else if spec.sources_from_vendor {
            let patch = json!({"metadata": {
                "labels": vendor_secret_labels(placement),
                // Labelled as read: a concurrent change by its owner is read again first.
                "resourceVersion": live.resource_version(),
            }});
            let params = PatchParams { field_manager: Some(MANAGER.to_owned()), ..Default::default() };
            let labelled = api
                .patch_metadata(name, &params, &Patch::Merge(patch))
                .await
                .map_err(ReconcileError::api(format!("label {key}")))?;
            info!(secret = %key, "labelled the vendor's Secret so that it is cached");
            versions.insert(name.to_owned(), labelled.resource_version().unwrap_or_default());
        } else {
            missing.push(format!("Secret {namespace}/{name} (not labelled by this operator)"));
        }
    }
    // The CA ConfigMap is watched in every namespace (by name): the cache knows it.
    if spec.cluster_ca.is_some() {
        match ctx.caches.get(&cluster_ca_key(namespace)) {
            Some(live) => {
                versions.insert(CLUSTER_CA_VERSION.to_owned(), live.resource_version().unwrap_or_default());
            }
            None => missing.push(cluster_ca_missing(namespace)),
        }
    }
    Ok(if missing.is_empty() { Ok(versions) } else { Err(missing) })
}

/// The data keys of a cached Secret (values are not cached).
fn cached_keys(live: &kube::api::DynamicObject) -> Vec<String> {
    let mut keys: Vec<String> =
        live.data.get("data").and_then(|d| d.as_object()).map(|d| d.keys().cloned().collect()).unwrap_or_default();
    keys.sort();
    keys
}

/// Makes the connection Secret hold `spec` with the sources' current values. `versions` are
/// the sources' `resourceVersion`s as last seen (cache or bounded read): when they and the
/// plain keys match the digest on the live Secret, nothing is read or written.
pub(crate) async fn sync(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    placement: &Placement,
    spec: &ConnectionSecret,
    versions: &BTreeMap<String, String>,
    progress: &Progress,
) -> Result<Synced, ReconcileError> {
    let namespace = &spec.key.namespace;
    let live = ctx.caches.get(&spec.key);
    if let Some(live) = &live
        && live.annotations().get(SOURCES_HASH_ANNOTATION) == Some(&spec.digest(versions))
        && cached_keys(live) == spec.keys()
    {
        return Ok(Synced::Current);
    }
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    if live.is_none()
        && let Some(existing) =
            api.get_metadata_opt(&spec.key.name).await.map_err(ReconcileError::api(format!("read {}", spec.key)))?
        && !is_ours(existing.labels(), &placement.instance, Some(spec.component.key()))
    {
        return Ok(Synced::NotOwned);
    }
    // Read each source once; values stay in this function.
    let sources: Api<Secret> = Api::namespaced(ctx.client.clone(), &spec.source_namespace);
    let source_ns = &spec.source_namespace;
    let mut read = BTreeMap::new();
    let mut read_versions = BTreeMap::new();
    let mut missing = Vec::new();
    for name in spec.source_secrets() {
        let action = format!("read {}", secret_key(source_ns, name));
        match sources.get_opt(name).await.map_err(ReconcileError::api(action))? {
            Some(secret) => {
                read_versions.insert(name.to_owned(), secret.resource_version().unwrap_or_default());
                read.insert(name.to_owned(), secret);
            }
            None => missing.push(format!("Secret {source_ns}/{name}")),
        }
    }
    let mut values = BTreeMap::new();
    if let Some(ours) = &spec.cluster_ca {
        let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), source_ns);
        let key = cluster_ca_key(source_ns);
        let ca = api.get_opt(CLUSTER_CA_CONFIG_MAP).await.map_err(ReconcileError::api(format!("read {key}")))?;
        match ca.as_ref().and_then(|c| Some((c.resource_version(), c.data.as_ref()?.get(CLUSTER_CA_KEY)?.clone()))) {
            Some((version, pem)) => {
                read_versions.insert(CLUSTER_CA_VERSION.to_owned(), version.unwrap_or_default());
                values.insert(ours.clone(), pem);
            }
            None => missing.push(cluster_ca_missing(source_ns)),
        }
    }
    for (ours, reference) in &spec.sources {
        let Some(secret) = read.get(&reference.name) else { continue };
        match secret_value(secret, &reference.key) {
            Some(value) => {
                values.insert(ours.clone(), value);
            }
            None => missing.push(format!("key {} of Secret {source_ns}/{}", reference.key, reference.name)),
        }
    }
    if !missing.is_empty() {
        missing.dedup();
        return Ok(Synced::SourcesMissing(missing));
    }
    let data: BTreeMap<String, ByteString> =
        spec.compose(&values).into_iter().map(|(k, v)| (k, ByteString(v.into_bytes()))).collect();
    let mut metadata = spec.metadata.clone();
    let annotations = metadata.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert(SOURCES_HASH_ANNOTATION.to_owned(), spec.digest(&read_versions));
    annotations.insert(GENERATED_KEYS_ANNOTATION.to_owned(), spec.keys().join(","));
    let body = Secret { metadata, type_: Some("Opaque".to_owned()), data: Some(data), ..Default::default() };
    let body = serde_json::to_value(&body)
        .map(|mut v| {
            v["apiVersion"] = json!("v1");
            v["kind"] = json!("Secret");
            v
        })
        .map_err(|source| crate::vendors::VendorError::Serialize { key: spec.key.to_string(), source })?;
    api.patch(&spec.key.name, &PatchParams::apply(MANAGER).force(), &Patch::Apply(&body))
        .await
        .map_err(ReconcileError::api(format!("apply {}", spec.key)))?;
    progress.record();
    if live.is_none() {
        let what = if spec.with_url { "the connection details" } else { "copied credentials" };
        let note = format!("created Secret {namespace}/{} with {what}", spec.key.name);
        ctx.event(wandb, EventType::Normal, "Created", note, Some(&spec.key)).await;
    } else {
        info!(secret = %spec.key, "updated the connection Secret");
    }
    Ok(Synced::Written)
}
