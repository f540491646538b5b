//! One component's reconcile: checks that protect data (CRD served, ownership, topology,
//! storage shrink), generated Secrets created once, server-side apply of what changed, and the
//! vendor's status read back. Components run concurrently and never stop each other.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::Value;
use tracing::{debug, info};

use super::cache::{KindState, is_ours};
use super::connection::{self, Synced};
use super::status::{detail, not_owned};
use super::{Context, Progress, ReconcileError, external, ownership, retention, status};
use crate::api::{ComponentStatus, State, StatusDetail, WeightsAndBiases, WeightsAndBiasesStatus};
use crate::model::{self, ModelError, Placed, Plan, Quantity};
use crate::vendors::external::ExternalConnection;
use crate::vendors::{DesiredObject, MANAGER, ObjectKey, Observed, Vendor};
use serde::Serialize;

/// Annotation holding a hash of what we last applied: unchanged desired state is not re-sent.
pub const APPLIED_HASH_ANNOTATION: &str = "apps.wandb.com/applied-hash";

/// What reconciling every component produced.
pub struct Reconciled {
    /// The new status (every component reported, including failed ones).
    pub status: WeightsAndBiasesStatus,
    /// Whether some component is still converging.
    pub converging: bool,
    /// The first component's API failure, if any: the reconcile fails with it (backoff and a
    /// Warning event) after the status is written.
    pub failure: Option<ReconcileError>,
    /// Whether some component is external (checked again on the probe interval).
    pub external: bool,
}

/// Reconciles every component and folds their statuses. A component whose API calls fail is
/// reported as such and never stops the others from being reconciled or reported.
/// Successful writes are recorded in `progress`.
pub async fn reconcile_all(wandb: &WeightsAndBiases, ctx: &Context, progress: &Progress) -> Reconciled {
    let previous = wandb.status.clone().unwrap_or_default();
    let config = match model::resolve(wandb) {
        Ok(config) => config,
        Err(error) => {
            let status = status::invalid_resource(wandb, &previous, &error);
            return Reconciled { status, converging: false, failure: None, external: false };
        }
    };
    let v = &ctx.vendors;
    let p = progress;
    let (mysql, redis, kafka, minio, clickhouse) = tokio::join!(
        one(ctx, wandb, &*v.mysql, &config.mysql, previous.mysql_status.as_ref(), p),
        one(ctx, wandb, &*v.redis, &config.redis, previous.redis_status.as_ref(), p),
        one(ctx, wandb, &*v.kafka, &config.kafka, previous.kafka_status.as_ref(), p),
        one(ctx, wandb, &*v.minio, &config.minio, previous.minio_status.as_ref(), p),
        one(ctx, wandb, &*v.clickhouse, &config.clickhouse, previous.clickhouse_status.as_ref(), p),
    );
    // MySQL's backups and restore, once its cluster is reconciled.
    let mysql = match (mysql, &config.mysql) {
        (Ok(mut status), Ok(Plan::Enabled(c))) => {
            let previous_backup = previous.mysql_status.as_ref().and_then(|s| s.backup.as_ref());
            super::backup::reconcile(ctx, wandb, c, &mut status, previous_backup, p).await.map(|()| status)
        }
        (other, _) => other,
    };
    let mut failure = None;
    let next = WeightsAndBiasesStatus {
        mysql_status: settle(&mut failure, mysql, previous.mysql_status.as_ref()),
        redis_status: settle(&mut failure, redis, previous.redis_status.as_ref()),
        kafka_status: settle(&mut failure, kafka, previous.kafka_status.as_ref()),
        minio_status: settle(&mut failure, minio, previous.minio_status.as_ref()),
        clickhouse_status: settle(&mut failure, clickhouse, previous.clickhouse_status.as_ref()),
        ..Default::default()
    };
    let next = status::fold(wandb, &previous, next);
    let converging = crate::vendors::status::summaries(&next)
        .iter()
        .any(|s| !s.ready && s.state != State::Offline && s.state != State::Error);
    for s in crate::vendors::status::summaries(&next) {
        ctx.observer.component_ready(
            &wandb.namespace().unwrap_or_default(),
            &wandb.name_any(),
            s.component.key(),
            s.ready,
        );
    }
    Reconciled { status: next, converging, failure, external: super::external::any_external(&config) }
}

/// A component's status from its reconcile result; a failure is kept in `failure` (the first
/// one wins) and reported through [`failed`].
fn settle<K: Clone>(
    failure: &mut Option<ReconcileError>,
    result: Result<ComponentStatus<K>, ReconcileError>,
    previous: Option<&ComponentStatus<K>>,
) -> Option<ComponentStatus<K>> {
    Some(match result {
        Ok(status) => status,
        Err(error) => {
            let status = failed(&error, previous);
            failure.get_or_insert(error);
            status
        }
    })
}

/// The message kube-apiserver gives (with a 500) when an applied object does not fit the schema.
const TYPED_PATCH_FAILURE: &str = "failed to create typed patch object";

/// The status of a component whose API calls failed. What the user must fix gets its own code
/// and the `Error` state with the server's message; a transient failure (5xx, conflict,
/// timeout) is `Updating`/`Retrying` with a fixed message and the last known connection, never
/// `Ready` on stale information.
fn failed<K: Clone>(error: &ReconcileError, previous: Option<&ComponentStatus<K>>) -> ComponentStatus<K> {
    let message = error.to_string();
    let (state, code, message) = match error.api_status() {
        Some(s) if s.code == 404 && s.details.as_ref().is_some_and(|d| d.kind == "namespaces") => {
            let namespace = s.details.as_ref().map(|d| d.name.clone()).unwrap_or_default();
            let message = format!(
                "namespace {namespace} does not exist: create it (the operator never creates namespaces) or choose another namespace for this component"
            );
            (State::Error, "NamespaceMissing", message)
        }
        Some(s) if s.code == 403 => (State::Error, "Forbidden", message),
        Some(s) if s.code == 422 || s.code == 400 => (State::Error, "Rejected", message),
        // kube-apiserver answers a server-side apply whose body does not fit the schema (a
        // wrong type, or an unknown field under strict validation) with 500 "failed to create
        // typed patch object": permanent, so it is a rejection, not a transient error.
        Some(s) if s.code == 500 && s.message.contains(TYPED_PATCH_FAILURE) => (State::Error, "Rejected", message),
        // Stable text: transient errors differ from pass to pass (500 or 503, which request),
        // and a status rewritten for each would churn; the Warning events carry each error.
        _ => (
            State::Updating,
            "Retrying",
            "a transient API error (5xx, conflict or timeout) interrupted this component; retrying with backoff (each error is in the Warning events)".to_owned(),
        ),
    };
    ComponentStatus {
        ready: false,
        state,
        details: vec![detail(state, code, message)],
        connection: previous.and_then(|p| p.connection.clone()),
        credentials_secret: previous.and_then(|p| p.credentials_secret.clone()),
        connection_secret: previous.and_then(|p| p.connection_secret.clone()),
        backup: previous.and_then(|p| p.backup.clone()),
        last_reconciled: None,
    }
}

fn blocked<K>(details: Vec<StatusDetail>) -> ComponentStatus<K> {
    let state = details.iter().fold(State::Ready, |s, d| s.worst(d.state));
    ComponentStatus { ready: false, state, details, ..ComponentStatus::default() }
}

/// Warning events for error details that are new since the previous status (no repeats in
/// steady state).
async fn warn_new_errors<K>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    status: &ComponentStatus<K>,
    previous: Option<&ComponentStatus<K>>,
) {
    for d in status.details.iter().filter(|d| d.state == State::Error) {
        let seen = previous.is_some_and(|p| p.details.iter().any(|q| q.code == d.code && q.message == d.message));
        if !seen {
            ctx.event(wandb, EventType::Warning, &d.code, d.message.clone(), None).await;
        }
    }
}

async fn one<C, K>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: &dyn Vendor<Config = C, Connection = K>,
    plan: &Result<Plan<C>, ModelError>,
    previous: Option<&ComponentStatus<K>>,
    progress: &Progress,
) -> Result<ComponentStatus<K>, ReconcileError>
where
    C: Placed,
    K: Serialize + ExternalConnection,
{
    // A component that is no longer external drops its last check.
    if let Ok(plan) = plan
        && !matches!(plan, Plan::External(_))
    {
        let key = plan.placement().component.key();
        ctx.checks.forget(&wandb.namespace().unwrap_or_default(), &wandb.name_any(), key);
    }
    let status = match plan {
        Err(error) => blocked(vec![detail(State::Error, "InvalidSpec", error.to_string())]),
        Ok(Plan::Disabled(placement)) => {
            let kinds = vendor.kinds();
            let claims = vendor.data_claims(placement);
            retention::disabled(ctx, wandb, placement, &kinds, &claims, previous, progress).await?
        }
        Ok(Plan::External(config)) => {
            let kinds = vendor.kinds();
            let claims = vendor.data_claims(&config.placement);
            let leftovers = external::Leftovers { kinds: &kinds, claims: &claims };
            external::reconcile(ctx, wandb, config, leftovers, previous, progress).await?
        }
        Ok(Plan::Enabled(config)) => enabled(ctx, wandb, vendor, config, previous, progress).await?,
    };
    warn_new_errors(ctx, wandb, &status, previous).await;
    Ok(status)
}

async fn enabled<C, K>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: &dyn Vendor<Config = C, Connection = K>,
    config: &C,
    previous: Option<&ComponentStatus<K>>,
    progress: &Progress,
) -> Result<ComponentStatus<K>, ReconcileError>
where
    C: Placed,
    K: Serialize,
{
    let placement = config.placement();
    let desired = vendor.desired(config)?;
    let component = placement.component.key();

    // The vendor's API must be served before anything is written.
    let mut waiting = false;
    for object in &desired.objects {
        match ctx.caches.state(&object.key.api_version, &object.key.kind, &object.key.namespace) {
            KindState::Missing => {
                return Ok(blocked(vec![detail(
                    State::Error,
                    "CRDMissing",
                    format!(
                        "{} {} is not served: install the {} CRDs",
                        object.key.api_version,
                        object.key.kind,
                        vendor.name()
                    ),
                )]));
            }
            KindState::NotWatched => {
                return Ok(blocked(vec![detail(
                    State::Error,
                    "NamespaceNotWatched",
                    format!("namespace {} is not watched by this operator", object.key.namespace),
                )]));
            }
            KindState::Unknown => waiting = true,
            KindState::Ready => {}
        }
    }
    if waiting {
        return Ok(blocked(vec![detail(
            State::Unknown,
            "WaitingForCache",
            "the operator is still listing the vendor's objects".to_owned(),
        )]));
    }

    let mut refusals = Vec::new();
    let keys: Vec<&ObjectKey> =
        desired.objects.iter().map(|o| &o.key).chain(desired.secrets.iter().map(|s| &s.key)).collect();
    for key in keys {
        let cached = ctx.caches.get(key);
        // The caches only hold objects with our labels: an object we are about to create
        // may exist without them. One read per missing object, never in steady state.
        let read = if cached.is_none() { read_labels(ctx, key).await? } else { None };
        let (labels, version) = match (&cached, &read) {
            (Some(live), _) => (live.labels(), live.metadata.resource_version.as_ref()),
            (None, Some((labels, version))) => (labels, version.as_ref()),
            (None, None) => continue,
        };
        if is_ours(labels, &placement.instance, Some(component)) {
            continue;
        }
        match ownership::mislabelled_as(key, labels, placement) {
            Some(other) => {
                ownership::repair_label(ctx, wandb, placement, key, other, version.cloned(), progress).await?
            }
            None => refusals.push(not_owned(key)),
        }
    }
    for key in &desired.exclusive_with {
        if ctx.caches.get(key).is_some() {
            refusals.push(detail(
                State::Error,
                "TopologyChangeRefused",
                format!("{key} exists: switching topology would leave its data behind; delete it explicitly to switch"),
            ));
        }
    }
    for (key, pointer) in &desired.storage_fields {
        let wanted = desired
            .objects
            .iter()
            .find(|o| &o.key == key)
            .and_then(|o| o.body.pointer(pointer))
            .and_then(Value::as_str);
        let live = ctx
            .caches
            .get(key)
            .and_then(|l| serde_json::to_value(&*l).ok())
            .and_then(|v| v.pointer(pointer).and_then(Value::as_str).map(str::to_owned));
        if let (Some(wanted), Some(live)) = (wanted, live)
            && let (Ok(w), Ok(l)) = (Quantity::parse(wanted), Quantity::parse(&live))
            && w < l
        {
            refusals.push(detail(
                State::Error,
                "StorageShrinkRefused",
                format!("storageSize cannot shrink from {live} to {wanted}; {live} is kept"),
            ));
        }
    }

    let mut observed = Observed::default();
    if refusals.is_empty() {
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
                        format!(
                            "created Secret {}/{} with generated credentials",
                            secret.key.namespace, secret.key.name
                        ),
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
    } else {
        for key in desired.objects.iter().map(|o| &o.key).chain(desired.secrets.iter().map(|s| &s.key)) {
            if let Some(live) =
                ctx.caches.get(key).filter(|l| is_ours(l.labels(), &placement.instance, Some(component)))
            {
                observed.insert(key.clone(), serde_json::to_value(&*live).unwrap_or_default());
            }
        }
    }
    for key in &desired.reads {
        if let Some(live) = ctx.caches.get(key) {
            observed.insert(key.clone(), serde_json::to_value(&*live).unwrap_or_default());
        }
    }
    let previously_ready = previous.is_some_and(|p| p.ready);
    let mut status = vendor.observe(config, &observed, previously_ready);
    if refusals.is_empty() {
        publish_connection(ctx, wandb, vendor, config, &mut status, &mut refusals, progress).await?;
    }
    if !refusals.is_empty() {
        status.ready = false;
        status.state = refusals.iter().fold(status.state, |s, d| s.worst(d.state));
        refusals.extend(status.details);
        status.details = refusals;
    }
    Ok(status)
}

/// Keeps the managed component's connection Secret in sync with its status and credentials.
/// Until the vendor has created its credentials Secret the component is not ready: clients
/// would find no connection Secret.
async fn publish_connection<C, K>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: &dyn Vendor<Config = C, Connection = K>,
    config: &C,
    status: &mut ComponentStatus<K>,
    refusals: &mut Vec<StatusDetail>,
    progress: &Progress,
) -> Result<(), ReconcileError>
where
    C: Placed,
    K: Serialize,
{
    let placement = config.placement();
    let Some(spec) = crate::vendors::connection::managed(placement, status, vendor.connection_extras(config)) else {
        return Ok(());
    };
    let missing = match connection::source_versions(ctx, placement, &spec).await? {
        Ok(versions) => match connection::sync(ctx, wandb, placement, &spec, &versions, progress).await? {
            Synced::NotOwned => {
                refusals.push(not_owned(&spec.key));
                return Ok(());
            }
            Synced::SourcesMissing(missing) => missing,
            Synced::Current | Synced::Written => {
                status.connection_secret = Some(spec.key.name.clone());
                return Ok(());
            }
        },
        Err(missing) => missing,
    };
    status.ready = false;
    status.state = status.state.worst(State::Updating);
    status.details.push(detail(
        State::Updating,
        "WaitingForCredentials",
        format!(
            "{} does not exist yet ({} creates it); the connection Secret {} follows",
            missing.join(", "),
            vendor.name(),
            spec.key.name
        ),
    ));
    Ok(())
}

/// The labels and `resourceVersion` of an object read from the API (`None` when it does not
/// exist).
async fn read_labels(
    ctx: &Context,
    key: &ObjectKey,
) -> Result<Option<(std::collections::BTreeMap<String, String>, Option<String>)>, ReconcileError> {
    let Some(resource) = ctx.caches.resource(&key.api_version, &key.kind) else { return Ok(None) };
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &key.namespace, &resource);
    let live = api.get_metadata_opt(&key.name).await.map_err(ReconcileError::api(format!("read {key}")))?;
    Ok(live.map(|o| (o.metadata.labels.unwrap_or_default(), o.metadata.resource_version)))
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
    let mut body = object.body.clone();
    let digest = hash(&body);
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta.entry("annotations").or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Some(a) = annotations.as_object_mut() {
            a.insert(APPLIED_HASH_ANNOTATION.to_owned(), Value::from(digest.clone()));
        }
    }
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

    fn api_error(code: u16, message: &str) -> ReconcileError {
        let status = kube::core::Status { code, message: message.to_owned(), ..Default::default() };
        ReconcileError::Api { action: "apply".to_owned(), source: kube::Error::Api(Box::new(status)) }
    }

    #[test]
    fn a_schema_mismatch_is_rejected_and_other_server_errors_are_retried() {
        let typed = api_error(
            500,
            "failed to create typed patch object (ns/x; pxc.percona.com/v1): .spec.pxc.size: expected numeric",
        );
        let status: ComponentStatus<()> = failed(&typed, None);
        assert_eq!((status.state, status.details[0].code.as_str()), (State::Error, "Rejected"));
        let transient: ComponentStatus<()> = failed(&api_error(500, "etcdserver: request timed out"), None);
        assert_eq!((transient.state, transient.details[0].code.as_str()), (State::Updating, "Retrying"));
        let invalid: ComponentStatus<()> = failed(&api_error(422, "invalid"), None);
        assert_eq!(invalid.details[0].code, "Rejected");
    }

    #[test]
    fn hash_is_stable_and_sensitive() {
        assert_eq!(hash(&json!({"a": 1, "b": 2})), hash(&json!({"b": 2, "a": 1})));
        assert_ne!(hash(&json!({"a": 1})), hash(&json!({"a": 2})));
    }
}
