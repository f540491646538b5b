//! Folding component statuses into the resource status, and writing it at most once per
//! reconcile, only when it changed.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;

use super::ReconcileError;
use crate::api::{ComponentStatus, State, StatusDetail, WeightsAndBiases, WeightsAndBiasesStatus};
use crate::model::{Component, ModelError};
use crate::vendors::status::summarize;
use crate::vendors::{MANAGER, ObjectKey};

fn now() -> Time {
    // Kubernetes times have second precision; sub-second parts would churn the status.
    Time(jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap_or_else(|_| jiff::Timestamp::now()))
}

/// Keeps `lastReconciled` unless the component's status changed.
fn stamp<K: PartialEq + Clone>(
    next: &mut Option<ComponentStatus<K>>,
    previous: Option<&ComponentStatus<K>>,
    now: &Time,
) {
    let Some(next) = next else { return };
    let unchanged = previous.is_some_and(|p| {
        let mut p = p.clone();
        p.last_reconciled = None;
        let mut n = next.clone();
        n.last_reconciled = None;
        p == n
    });
    next.last_reconciled = match (unchanged, previous) {
        (true, Some(p)) => p.last_reconciled.clone(),
        _ => Some(now.clone()),
    };
}

/// The full status: components stamped, overall state, observedGeneration and conditions.
pub fn fold(
    wandb: &WeightsAndBiases,
    previous: &WeightsAndBiasesStatus,
    mut next: WeightsAndBiasesStatus,
) -> WeightsAndBiasesStatus {
    let now = now();
    stamp(&mut next.mysql_status, previous.mysql_status.as_ref(), &now);
    stamp(&mut next.redis_status, previous.redis_status.as_ref(), &now);
    stamp(&mut next.kafka_status, previous.kafka_status.as_ref(), &now);
    stamp(&mut next.minio_status, previous.minio_status.as_ref(), &now);
    stamp(&mut next.clickhouse_status, previous.clickhouse_status.as_ref(), &now);
    summarize(&mut next, wandb.meta().generation, &previous.conditions, &now);
    next
}

fn error_status<K>(code: &str, message: &str) -> Option<ComponentStatus<K>> {
    Some(ComponentStatus {
        ready: false,
        state: State::Error,
        details: vec![StatusDetail { state: State::Error, code: code.to_owned(), message: message.to_owned() }],
        ..ComponentStatus::default()
    })
}

/// Every component in error when the resource itself is invalid (e.g. a name too long).
pub fn invalid_resource(
    wandb: &WeightsAndBiases,
    previous: &WeightsAndBiasesStatus,
    error: &ModelError,
) -> WeightsAndBiasesStatus {
    let message = error.to_string();
    let next = WeightsAndBiasesStatus {
        mysql_status: error_status("InvalidSpec", &message),
        redis_status: error_status("InvalidSpec", &message),
        kafka_status: error_status("InvalidSpec", &message),
        minio_status: error_status("InvalidSpec", &message),
        clickhouse_status: error_status("InvalidSpec", &message),
        ..Default::default()
    };
    fold(wandb, previous, next)
}

/// The status while deletion purges components.
pub fn deleting(wandb: &WeightsAndBiases, purging: &[(Component, usize)]) -> WeightsAndBiasesStatus {
    let previous = wandb.status.clone().unwrap_or_default();
    let mut next = previous.clone();
    fn set<K>(slot: &mut Option<ComponentStatus<K>>, n: usize) {
        let s = slot.get_or_insert_with(ComponentStatus::default);
        s.ready = false;
        s.state = State::Deleting;
        s.details = vec![StatusDetail {
            state: State::Deleting,
            code: "Purging".to_owned(),
            message: format!("deleting {n} objects and claims"),
        }];
    }
    for (component, n) in purging {
        match component {
            Component::MySql => set(&mut next.mysql_status, *n),
            Component::Redis => set(&mut next.redis_status, *n),
            Component::Kafka => set(&mut next.kafka_status, *n),
            Component::Minio => set(&mut next.minio_status, *n),
            Component::ClickHouse => set(&mut next.clickhouse_status, *n),
        }
    }
    fold(wandb, &previous, next)
}

fn any_detail(status: &WeightsAndBiasesStatus, code: &str) -> bool {
    let has = |details: Option<&Vec<StatusDetail>>| details.is_some_and(|d| d.iter().any(|d| d.code == code));
    has(status.mysql_status.as_ref().map(|s| &s.details))
        || has(status.redis_status.as_ref().map(|s| &s.details))
        || has(status.kafka_status.as_ref().map(|s| &s.details))
        || has(status.minio_status.as_ref().map(|s| &s.details))
        || has(status.clickhouse_status.as_ref().map(|s| &s.details))
}

/// Whether some component only waits for the operator's caches to fill.
pub fn waiting_for_caches(status: &WeightsAndBiasesStatus) -> bool {
    any_detail(status, "WaitingForCache")
}

/// Whether some component's spec is invalid.
pub fn has_invalid_spec(status: &WeightsAndBiasesStatus) -> bool {
    any_detail(status, "InvalidSpec")
}

#[derive(Serialize, Debug)]
struct StatusPatch<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    status: &'a WeightsAndBiasesStatus,
}

/// Server-side applies the status when it differs from the resource's current status.
pub async fn write_if_changed(
    wandb: &WeightsAndBiases,
    api: &Api<WeightsAndBiases>,
    status: WeightsAndBiasesStatus,
) -> Result<(), ReconcileError> {
    if wandb.status.as_ref() == Some(&status) {
        return Ok(());
    }

    let patch = StatusPatch { api_version: "apps.wandb.com/v2", kind: "WeightsAndBiases", status: &status };
    api.patch_status(
        &wandb.name_any(),
        &PatchParams::apply(MANAGER).force().validation_strict(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(ReconcileError::api("write status"))?;
    Ok(())
}

/// A status detail.
pub(crate) fn detail(state: State, code: &str, message: String) -> StatusDetail {
    StatusDetail { state, code: code.to_owned(), message }
}

/// `NotOwned`: an object we would write exists without our labels.
pub(crate) fn not_owned(key: &ObjectKey) -> StatusDetail {
    detail(
        State::Error,
        "NotOwned",
        format!("{key} exists and is not managed by this WeightsAndBiases; it is left untouched"),
    )
}
