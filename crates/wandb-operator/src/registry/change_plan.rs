//! What a change of the spec does, per component (issue 21, item 5): the objects of the spec
//! before and after, compared, with the vendors' own limits (fields they cannot change,
//! topologies that exclude each other) as refusals. Pure: the operator shows it in
//! `status.plan` when `size` changes, and `render --from CURRENT -f NEW` prints it offline.

use serde_json::Value;

use super::{ComponentVisitor, Registry, VendorOf};
use crate::api::{ChangePlan, ComponentPlan, State, StatusDetail, WeightsAndBiases};
use crate::model::{self, ComponentDescriptor, Edition, ModelError, Plan, Resolution};
use crate::vendors::{Desired, DesiredObject, VendorError, desired_with_edition};

/// At most this many changed fields are listed per component.
const MAX_CHANGES: usize = 20;

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A spec is rejected by the model.
    #[error("{which} spec: {source}")]
    Model {
        /// `current` or `new`.
        which: &'static str,
        /// The model's error (names the field).
        #[source]
        source: ModelError,
    },
    /// A vendor object could not be built.
    #[error(transparent)]
    Vendor(#[from] VendorError),
}

/// What changing `current` into `new` does, per component, with the defaults of `edition`
/// on both sides (so that only the change itself shows).
pub fn change_plan(
    current: &WeightsAndBiases,
    new: &WeightsAndBiases,
    registry: &Registry,
    edition: Edition,
) -> Result<ChangePlan, PlanError> {
    let resolve = |which, wandb: &WeightsAndBiases| -> Result<Resolution, PlanError> {
        let resolution =
            model::resolve(wandb).map_err(|source| PlanError::Model { which, source })?.at_edition(edition);
        match registry.entries().iter().find_map(|e| e.spec_error(&resolution)) {
            Some(source) => Err(PlanError::Model { which, source }),
            None => Ok(resolution),
        }
    };
    let (before, after) = (resolve("current", current)?, resolve("new", new)?);
    let mut compare = Compare { before: &before, after: &after, components: Vec::new(), failure: None };
    registry.visit(&mut compare);
    if let Some(failure) = compare.failure {
        return Err(failure);
    }
    Ok(ChangePlan {
        from: current.spec.size.as_str().to_owned(),
        to: new.spec.size.as_str().to_owned(),
        components: compare.components,
    })
}

struct Compare<'a> {
    before: &'a Resolution,
    after: &'a Resolution,
    components: Vec<ComponentPlan>,
    failure: Option<PlanError>,
}

impl ComponentVisitor for Compare<'_> {
    fn visit<D: ComponentDescriptor>(&mut self, vendor: &'static VendorOf<D>) {
        if self.failure.is_some() {
            return;
        }
        match component_plan::<D>(vendor, self.before, self.after) {
            Ok(plan) => self.components.push(plan),
            Err(error) => self.failure = Some(error),
        }
    }
}

fn component_plan<D: ComponentDescriptor>(
    vendor: &'static VendorOf<D>,
    before: &Resolution,
    after: &Resolution,
) -> Result<ComponentPlan, PlanError> {
    let plan = |action: &str| ComponentPlan {
        component: D::COMPONENT.key().to_owned(),
        action: action.to_owned(),
        ..ComponentPlan::default()
    };
    let (old, new) = match (before.plan::<D>(), after.plan::<D>()) {
        (Ok(Plan::Enabled(old)), Ok(Plan::Enabled(new))) => (old, new),
        (Ok(Plan::Enabled(_)), Ok(Plan::Disabled(_))) => return Ok(plan("remove")),
        (Ok(Plan::Enabled(_)), Ok(Plan::External(_))) => return Ok(plan("external")),
        (Ok(Plan::Disabled(_)), Ok(Plan::Enabled(_))) => return Ok(plan("create")),
        (Ok(Plan::External(_)), Ok(Plan::Enabled(_))) => return Ok(plan("managed")),
        _ => return Ok(plan("unchanged")),
    };
    let old_config = old;
    let old = desired_with_edition(vendor, &old_config)?;
    // As the reconcile builds it: beside the objects of the previous topology that exist.
    let exists = |key: &crate::vendors::ObjectKey| old.objects.iter().any(|o| &o.key == key);
    let new_config = vendor.successor(&new, &exists).unwrap_or(new);
    let notes = vendor.change_notes(&old_config, &new_config);
    let new = desired_with_edition(vendor, &new_config)?;
    let connections = (
        super::connection_preview::managed_connection::<D>(vendor, &old_config, &old)?,
        super::connection_preview::managed_connection::<D>(vendor, &new_config, &new)?,
    );
    let mut result = plan("unchanged");
    result.notes = notes;
    if let Some(refusal) = refusal(&old, &new) {
        result.action = "refused".to_owned();
        result.refused = Some(refusal);
    }
    let mut changes = Vec::new();
    for object in &new.objects {
        match old.objects.iter().find(|o| o.key == object.key) {
            None => changes.push(Change::Created(object)),
            Some(before) => diff(&before.body["spec"], &object.body["spec"], "spec", &mut |path, a, b| {
                changes.push(Change::Field(object, path, a.clone(), b.clone()))
            }),
        }
    }
    let replaced = |key| new.replaces.as_ref().is_some_and(|r| r.objects.contains(key));
    for object in old.objects.iter().filter(|o| !new.objects.iter().any(|n| n.key == o.key)) {
        changes.push(if replaced(&object.key) { Change::Replaced(object) } else { Change::Removed(object) });
    }
    if let (Some(before), Some(after)) = &connections {
        let name = &after.key.name;
        let (was, now) = (before.keys(), after.keys());
        for key in now.iter().filter(|k| !was.contains(k)) {
            changes.push(Change::Connection(name.clone(), key.clone(), None, after.plain.get(key).cloned()));
        }
        for key in was.iter().filter(|k| !now.contains(k)) {
            changes.push(Change::Connection(name.clone(), key.clone(), before.plain.get(key).cloned(), None));
        }
        for (key, value) in &after.plain {
            if let Some(old) = before.plain.get(key).filter(|old| *old != value) {
                changes.push(Change::Connection(name.clone(), key.clone(), Some(old.clone()), Some(value.clone())));
            }
        }
    }
    // What clients see first.
    changes.sort_by_key(|c| !matches!(c, Change::Connection(..)));
    result.connection_changes = changes.iter().any(|c| matches!(c, Change::Connection(..)));
    result.restart = changes.iter().any(Change::restarts);
    if !changes.is_empty() && result.refused.is_none() {
        result.action = "update".to_owned();
    }
    let total = changes.len();
    result.changes = changes.iter().take(MAX_CHANGES).map(Change::describe).collect();
    if total > MAX_CHANGES {
        result.changes.push(format!("… and {} more", total - MAX_CHANGES));
    }
    Ok(result)
}

/// What the vendor cannot do: a fixed field that would change (from the value it is fixed
/// from), or an object of the old topology the new one excludes.
fn refusal(old: &Desired, new: &Desired) -> Option<StatusDetail> {
    let value = |desired: &Desired, key, pointer: &str| {
        desired.objects.iter().find(|o| &o.key == key).and_then(|o| o.body.pointer(pointer)).cloned()
    };
    for field in &new.fixed_fields {
        if let (Some(before), Some(after)) =
            (value(old, &field.key, field.pointer), value(new, &field.key, field.pointer))
            && before != after
            && field.from.as_ref().is_none_or(|from| *from == before)
        {
            let message =
                format!("{} {} cannot change from {before} to {after}: {}", field.key, field.pointer, field.why);
            return Some(StatusDetail { state: State::Error, code: field.code.to_owned(), message });
        }
    }
    new.exclusive_with.iter().find(|key| old.objects.iter().any(|o| &o.key == *key)).map(|key| StatusDetail {
        state: State::Error,
        code: "TopologyChangeRefused".to_owned(),
        message: format!(
            "{key} exists: switching topology would leave its data behind; delete it explicitly to switch"
        ),
    })
}

enum Change<'a> {
    Created(&'a DesiredObject),
    Removed(&'a DesiredObject),
    /// Kept until the objects that succeed it are ready, then retired.
    Replaced(&'a DesiredObject),
    Field(&'a DesiredObject, String, Value, Value),
    /// A key of the connection Secret: its name, the key, the value before and after (values
    /// of plain keys only: hosts, ports, users; never a credential).
    Connection(String, String, Option<String>, Option<String>),
}

/// Fields whose change the vendors apply without restarting pods: counts (pods added or
/// removed) and storage requests (claims expanded in place).
const WITHOUT_RESTART: [&str; 5] = ["size", "replicas", "replicasCount", "storage", "servers"];

impl Change<'_> {
    fn restarts(&self) -> bool {
        match self {
            Change::Created(_) | Change::Removed(_) | Change::Replaced(_) | Change::Connection(..) => false,
            Change::Field(_, path, _, _) => !WITHOUT_RESTART.iter().any(|leaf| path.ends_with(&format!(".{leaf}"))),
        }
    }

    fn describe(&self) -> String {
        match self {
            Change::Created(o) => format!("{}/{} created", o.key.kind, o.key.name),
            Change::Removed(o) => format!("{}/{} removed (retention policy)", o.key.kind, o.key.name),
            Change::Replaced(o) => format!(
                "{}/{} kept until what replaces it is ready (the connection Secret names it until then), then retired (retention policy)",
                o.key.kind, o.key.name
            ),
            Change::Field(o, path, a, b) => {
                format!("{}/{} {path}: {} -> {}", o.key.kind, o.key.name, short(a), short(b))
            }
            Change::Connection(name, key, before, after) => match (before, after) {
                (Some(a), Some(b)) => format!("Secret/{name} {key}: {a} -> {b}"),
                (None, Some(b)) => format!("Secret/{name} {key} added: {b}"),
                (None, None) => format!("Secret/{name} {key} added"),
                (Some(_), None) => format!("Secret/{name} {key} removed"),
            },
        }
    }
}

/// A value in at most 60 characters (`absent` for none).
fn short(value: &Value) -> String {
    let text = match value {
        Value::Null => "absent".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// Calls `found` with each path (`spec.a.b[0].c`) whose value differs, leaf by leaf.
fn diff(a: &Value, b: &Value, path: &str, found: &mut impl FnMut(String, &Value, &Value)) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let (u, v) = (x.get(key).unwrap_or(&Value::Null), y.get(key).unwrap_or(&Value::Null));
                diff(u, v, &format!("{path}.{key}"), found);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                diff(u, v, &format!("{path}[{i}]"), found);
            }
        }
        _ if a != b => found(path.to_owned(), a, b),
        _ => {}
    }
}
