//! The resource-level summary: overall state (worst wins over enabled components) and the
//! `Ready` / `<Component>Ready` conditions.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use super::component_list::Registry;
use crate::api::{State, StatusDetail, WeightsAndBiasesStatus};
use crate::model::Component;

/// The detail code (and condition type) of a paused component.
pub const PAUSED: &str = "Paused";

/// The detail code (and condition type) of a component whose version upgrade is under way.
pub const UPGRADING: &str = "Upgrading";

/// A component's readiness as far as the summary cares.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentSummary {
    /// Which component.
    pub component: Component,
    /// Ready or not.
    pub ready: bool,
    /// Its state (`Offline` when disabled).
    pub state: State,
    /// Its first detail that is not `Ready`, for the condition message.
    pub blocking_detail: Option<StatusDetail>,
}

/// The per-component summaries of a status, in component order; a missing component status
/// counts as `Unknown`.
pub fn summaries(status: &WeightsAndBiasesStatus) -> Vec<ComponentSummary> {
    // Which vendor runs a component does not change its status slot.
    Registry::default()
        .entries()
        .iter()
        .map(|entry| {
            let (ready, state) = entry.readiness(status);
            ComponentSummary {
                component: entry.component(),
                ready,
                state,
                blocking_detail: entry.details(status).iter().find(|d| d.state != State::Ready).cloned(),
            }
        })
        .collect()
}

/// The worst state over the enabled (not `Offline`) components; `Offline` when none is enabled.
pub fn overall_state(summaries: &[ComponentSummary]) -> State {
    let enabled: Vec<&ComponentSummary> = summaries.iter().filter(|s| s.state != State::Offline).collect();
    if enabled.is_empty() {
        return State::Offline;
    }
    enabled.iter().fold(State::Ready, |worst, s| worst.worst(s.state))
}

/// Sets `state`, `observedGeneration` and `conditions` from the component statuses.
/// `lastTransitionTime` is kept from `previous` conditions whose status did not change, so an
/// unchanged component yields an identical condition (no status churn).
pub fn summarize(status: &mut WeightsAndBiasesStatus, generation: Option<i64>, previous: &[Condition], now: &Time) {
    let summaries = summaries(status);
    let overall = overall_state(&summaries);
    let mut conditions = Vec::with_capacity(6);
    let all_ready = summaries.iter().all(|s| s.state == State::Offline || s.ready);
    let (reason, message) = if all_ready {
        ("AllComponentsReady".to_owned(), "every enabled component is ready".to_owned())
    } else {
        let waiting: Vec<&str> = summaries
            .iter()
            .filter(|s| s.state != State::Offline && !s.ready)
            .map(|s| s.component.display_name())
            .collect();
        (overall.as_str().to_owned(), format!("not ready: {}", waiting.join(", ")))
    };
    conditions.push(condition("Ready", all_ready, reason, message, generation, previous, now));
    for s in &summaries {
        let (reason, message) = match (&s.blocking_detail, s.state) {
            (_, State::Offline) => ("Disabled".to_owned(), "the component is disabled".to_owned()),
            (_, _) if s.ready => ("Ready".to_owned(), "the vendor reports the component ready".to_owned()),
            (Some(detail), _) => (detail.code.clone(), detail.message.clone()),
            (None, state) => (state.as_str().to_owned(), format!("state {}", state.as_str())),
        };
        let type_ = format!("{}Ready", s.component.display_name());
        conditions.push(condition(&type_, s.ready, reason, message, generation, previous, now));
    }
    if let Some(paused) = paused_condition(status, generation, previous, now) {
        conditions.push(paused);
    }
    if let Some(upgrading) = upgrading_condition(status, generation, previous, now) {
        conditions.push(upgrading);
    }
    status.state = Some(overall);
    status.observed_generation = generation;
    status.conditions = conditions;
}

/// `Paused`: `True` while the annotation `apps.wandb.com/pause` pauses some component (their
/// `Paused` details say so), `False` once resumed; absent on a resource never paused.
fn paused_condition(
    status: &WeightsAndBiasesStatus,
    generation: Option<i64>,
    previous: &[Condition],
    now: &Time,
) -> Option<Condition> {
    let paused: Vec<&str> = Registry::default()
        .entries()
        .iter()
        .filter(|e| e.details(status).iter().any(|d| d.code == PAUSED))
        .map(|e| e.component().display_name())
        .collect();
    let was_paused = previous.iter().any(|c| c.type_ == PAUSED);
    if paused.is_empty() && !was_paused {
        return None;
    }
    let (reason, message) = if paused.is_empty() {
        ("Resumed".to_owned(), "no component is paused".to_owned())
    } else {
        (PAUSED.to_owned(), format!("paused: {} (each one's Paused detail says how)", paused.join(", ")))
    };
    Some(condition(PAUSED, !paused.is_empty(), reason, message, generation, previous, now))
}

/// `Upgrading`: `True` while some component's version upgrade runs (their `Upgrading` details
/// say which step), `False` once none does; absent on a resource never upgraded.
fn upgrading_condition(
    status: &WeightsAndBiasesStatus,
    generation: Option<i64>,
    previous: &[Condition],
    now: &Time,
) -> Option<Condition> {
    let upgrading: Vec<String> = Registry::default()
        .entries()
        .iter()
        .flat_map(|e| {
            let name = e.component().display_name();
            e.details(status).iter().filter(|d| d.code == UPGRADING).map(move |d| format!("{name} {}", d.message))
        })
        .collect();
    let was_upgrading = previous.iter().any(|c| c.type_ == UPGRADING);
    if upgrading.is_empty() && !was_upgrading {
        return None;
    }
    let (reason, message) = if upgrading.is_empty() {
        ("UpgradesComplete".to_owned(), "no component is upgrading".to_owned())
    } else {
        ("Upgrading".to_owned(), upgrading.join("; "))
    };
    Some(condition(UPGRADING, !upgrading.is_empty(), reason, message, generation, previous, now))
}

fn condition(
    type_: &str,
    ready: bool,
    reason: String,
    message: String,
    generation: Option<i64>,
    previous: &[Condition],
    now: &Time,
) -> Condition {
    let status = if ready { "True" } else { "False" }.to_owned();
    let last_transition_time = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
    Condition {
        type_: type_.to_owned(),
        status,
        reason,
        message,
        observed_generation: generation,
        last_transition_time,
    }
}
