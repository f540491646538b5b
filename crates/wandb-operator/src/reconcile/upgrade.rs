//! Version upgrades in the vendor's safe order (issue 21, item 1).
//!
//! A managed component's desired objects name the versions they run ([`VersionField`]s, in
//! steps: ClickHouse Keeper before the server, Kafka's brokers before its `metadataVersion`,
//! Redis before its Sentinels). Against the live objects (from the caches: no request):
//!
//! - a lower version than the one running is refused (`DowngradeRefused`), nothing is written;
//! - a changed version is an upgrade: only the lowest step that differs is applied, and only
//!   once every lower step's objects are settled (the vendor reports them ready at their
//!   generation and running what they name); higher steps keep their live versions meanwhile;
//! - one component of a resource upgrades at a time: another one's change waits
//!   (`UpgradeWaiting`) until the first has finished.
//!
//! Status shows the upgrade (`status.<component>Status.upgrade`) and an `Upgrading` detail
//! until the last step is settled; the resource's `Upgrading` condition follows the details.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use kube::api::DynamicObject;

use serde_json::Value;

use super::context::{Context, Progress};
use super::major_gate::BackupGate;
use super::status_write::{detail, now};
use crate::api::{State, StatusDetail, UpgradeStatus};
use crate::model::Component;
use crate::vendors::{Desired, ObjectKey, Vendor, VersionField, version_of};

/// The detail code (and condition type) of a component whose upgrade is under way.
pub(crate) const UPGRADING: &str = crate::registry::summary::UPGRADING;
/// The refusal of a lower version than the one running.
pub(crate) const DOWNGRADE_REFUSED: &str = "DowngradeRefused";
/// The refusal of a major upgrade the operator does not carry out (a component whose vendor
/// takes no backups).
pub(crate) const MAJOR_UPGRADE_UNSUPPORTED: &str = "MajorUpgradeUnsupported";
/// The refusal of a major upgrade (MySQL 8.0 → 8.4) while backups are off.
pub(crate) const BACKUP_REQUIRED: &str = "BackupRequired";
/// The backup a major upgrade waits for failed.
pub(crate) const UPGRADE_BACKUP_FAILED: &str = "UpgradeBackupFailed";
/// The detail of a component whose upgrade waits for another component's.
pub(crate) const UPGRADE_WAITING: &str = "UpgradeWaiting";

/// What the upgrade stage decided for one pass.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    /// Why nothing may be written (a downgrade).
    pub refusals: Vec<StatusDetail>,
    /// The upgrade status, while one runs.
    pub upgrade: Option<UpgradeStatus>,
    /// The `Upgrading` or `UpgradeWaiting` detail.
    pub detail: Option<StatusDetail>,
}

/// The version a pending upgrade to a new major line asks for (its first field's), read from
/// the caches: such an upgrade needs a fresh backup first ([`BackupGate`]).
pub(crate) fn major_pending(ctx: &Context, desired: &Desired) -> Option<String> {
    desired.versions.iter().filter(|f| f.major > 0).find_map(|field| {
        let live = ctx.caches.field(&field.key, field.pointer)?;
        let running = version_of(live.as_str()?);
        let wanted = desired
            .objects
            .iter()
            .find(|o| o.key == field.key)
            .and_then(|o| o.body.pointer(field.pointer))
            .and_then(Value::as_str)
            .map(version_of)?;
        crosses_major(field.major, &running, &wanted).then_some(wanted)
    })
}

/// One version field whose desired value differs from the live one.
struct Change {
    field: VersionField,
    /// The live value (`None`: the live object does not set the field).
    live_raw: Option<Value>,
    live: Option<String>,
    wanted: String,
    /// The change moves to a new major line.
    major: bool,
}

/// Decides what of `desired` this pass may apply, holding back the version fields of later
/// steps (set to their live values), and what status shows.
pub(crate) fn stage<V: Vendor + ?Sized>(
    ctx: &Context,
    vendor: &V,
    component: Component,
    desired: &mut Desired,
    previous: Option<&UpgradeStatus>,
    gate: Option<&BackupGate>,
    progress: &Progress,
) -> Staged {
    // Each live object once (several fields can be on one object); as JSON only where a
    // vendor must judge it (during an upgrade).
    let mut lives: HashMap<ObjectKey, Arc<DynamicObject>> = HashMap::new();
    for field in &desired.versions {
        if !lives.contains_key(&field.key)
            && let Some(object) = ctx.caches.get(&field.key)
        {
            lives.insert(field.key.clone(), object);
        }
    }
    let live = |key: &ObjectKey| lives.get(key);
    let unsettled = |key: &ObjectKey| {
        live(key).and_then(|o| serde_json::to_value(&**o).ok()).is_some_and(|o| vendor.settled(&o) == Some(false))
    };
    let mut changes = Vec::new();
    let mut refusals = Vec::new();
    for field in &desired.versions {
        let Some(object) = live(&field.key) else { continue }; // created with what it asks for
        let Some(wanted) = desired
            .objects
            .iter()
            .find(|o| o.key == field.key)
            .and_then(|o| o.body.pointer(field.pointer))
            .and_then(Value::as_str)
            .map(version_of)
        else {
            continue;
        };
        // The version fields are under `spec`, which `data` holds.
        let live_raw = object.data.pointer(field.pointer).cloned();
        let live_version = live_raw.as_ref().and_then(Value::as_str).map(version_of);
        if live_version.as_deref() == Some(wanted.as_str()) {
            continue;
        }
        if let Some(running) = &live_version
            && compare(&wanted, running) == Some(Ordering::Less)
        {
            refusals.push(detail(
                State::Error,
                DOWNGRADE_REFUSED,
                format!(
                    "{} runs {running}; the spec asks for {wanted}: a downgrade is refused (data written by the newer version may not be readable by the older one) and nothing is written. Set the version back to {running} or remove it (docs/operations.md#upgrades)",
                    field.what
                ),
            ));
            continue;
        }
        let major = live_version.as_deref().is_some_and(|running| crosses_major(field.major, running, &wanted));
        if let (true, Some(running)) = (major, &live_version) {
            match gate {
                None | Some(BackupGate::Unsupported) => {
                    refusals.push(detail(
                        State::Error,
                        MAJOR_UPGRADE_UNSUPPORTED,
                        format!(
                            "{} runs {running}; the spec asks for {wanted}, a new major line: the operator does not upgrade it in place and nothing is written. Take a backup and restore it into a new cluster of the new version (docs/operations.md#upgrades)",
                            field.what
                        ),
                    ));
                    continue;
                }
                Some(BackupGate::Off) => {
                    refusals.push(detail(
                        State::Error,
                        BACKUP_REQUIRED,
                        format!(
                            "{} runs {running}; the spec asks for {wanted}, a new major line, which the operator starts only behind a fresh backup, and backups are off: nothing is written. Configure spec.{}.backup (enabled, with a storage) and the operator takes one before it upgrades; or set the version back to {running} (docs/operations.md#mysql-80-to-84)",
                            field.what,
                            component.key()
                        ),
                    ));
                    continue;
                }
                Some(_) => {}
            }
        }
        changes.push(Change { field: field.clone(), live_raw, live: live_version, wanted, major });
    }
    if !refusals.is_empty() {
        return Staged { refusals, ..Staged::default() };
    }
    let steps: BTreeSet<u8> = desired.versions.iter().map(|f| f.step).collect();
    let step_label = |step: u8, what: &str| {
        let index = steps.iter().position(|s| *s == step).unwrap_or_default() + 1;
        format!("{index}/{} {what}", steps.len())
    };
    let now = now();
    let Some(first) = changes.iter().min_by_key(|c| c.field.step) else {
        // Nothing differs: an upgrade that was under way ends once its objects are settled.
        let Some(previous) = previous.cloned() else { return Staged::default() };
        let unsettled: Vec<&VersionField> = desired.versions.iter().filter(|f| unsettled(&f.key)).collect();
        let Some(last) = unsettled.last() else { return Staged::default() };
        let _ = progress.claim_upgrade(component);
        let message = format!("applied; waiting for the vendor to run {} {}", last.what, previous.to);
        let step = match previous.backup {
            Some(_) => format!("3/3 {}", last.what),
            None => step_label(last.step, last.what),
        };
        return in_progress(UpgradeStatus { step, message, ..previous });
    };
    // The upgrade is named by its first field's version (Keeper and server share it; Kafka's
    // `version`, not its metadata version); one that is under way keeps its name.
    let primary = desired.versions.first().and_then(|f| {
        let object = desired.objects.iter().find(|o| o.key == f.key)?;
        object.body.pointer(f.pointer).and_then(Value::as_str).map(version_of)
    });
    let (from, to) = match previous {
        Some(p) if p.to == first.wanted || Some(&p.to) == primary.as_ref() => (p.from.clone(), p.to.clone()),
        _ => (first.live.clone().unwrap_or_else(|| "unknown".to_owned()), first.wanted.clone()),
    };
    let started = previous.filter(|p| p.to == to).map_or(now, |p| p.started.clone());
    let mut upgrade = UpgradeStatus { from, to, step: String::new(), started, message: String::new(), backup: None };
    if let Err(other) = progress.claim_upgrade(component) {
        hold(desired, changes.iter());
        vendor.rederive(desired);
        upgrade.step = "waiting".to_owned();
        upgrade.message = format!("waits for the {} upgrade to finish (one component at a time)", other.display_name());
        let detail = detail(State::Ready, UPGRADE_WAITING, format!("{} {}", component.display_name(), upgrade.message));
        return Staged { refusals: vec![], upgrade: Some(upgrade), detail: Some(detail) };
    }
    if changes.iter().any(|c| c.major) {
        match major_step(desired, &changes, gate, unsettled, &mut upgrade) {
            MajorStep::Hold(problem) => {
                hold(desired, changes.iter());
                vendor.rederive(desired);
                let mut staged = in_progress(upgrade);
                if let Some(problem) = problem {
                    staged.detail = Some(problem);
                }
                return staged;
            }
            MajorStep::Bridge => {
                vendor.rederive(desired);
                return in_progress(upgrade);
            }
            MajorStep::Final => {}
        }
    }
    let step = first.field.step;
    // Every lower step must be settled before this one is applied.
    let unsettled = desired.versions.iter().filter(|f| f.step < step).find(|f| unsettled(&f.key)).cloned();
    let message = match unsettled {
        Some(waiting) => {
            hold(desired, changes.iter());
            upgrade.step = step_label(waiting.step, waiting.what);
            format!("waiting for {} to run {} (applied) before {}", waiting.what, upgrade.to, first.field.what)
        }
        None => {
            hold(desired, changes.iter().filter(|c| c.field.step > step));
            if upgrade.backup.is_none() {
                upgrade.step = step_label(step, first.field.what);
            }
            format!(
                "applying {} {} -> {}",
                first.field.what,
                first.live.as_deref().unwrap_or("its default"),
                first.wanted
            )
        }
    };
    vendor.rederive(desired);
    upgrade.message = message;
    in_progress(upgrade)
}

/// What a pass of an upgrade to a new major line does.
enum MajorStep {
    /// Nothing of the upgrade is applied (the backup is being taken or failed: the detail
    /// says so; or the bridge version is not settled yet).
    Hold(Option<StatusDetail>),
    /// The fields with a bridge are set to it; the rest is held.
    Bridge,
    /// The new line is applied.
    Final,
}

/// An upgrade to a new major line: (1) a fresh backup, (2) the latest version of the running
/// line where the vendor needs it (MySQL: the latest 8.0), settled, (3) the new line.
fn major_step(
    desired: &mut Desired,
    changes: &[Change],
    gate: Option<&BackupGate>,
    unsettled: impl Fn(&ObjectKey) -> bool,
    upgrade: &mut UpgradeStatus,
) -> MajorStep {
    let what = changes.iter().find(|c| c.major).map_or("it", |c| c.field.what);
    match gate {
        Some(BackupGate::Succeeded { name }) => upgrade.backup = Some(name.clone()),
        Some(BackupGate::Failed { kind, name, message }) => {
            upgrade.step = "1/3 backup".to_owned();
            upgrade.message = format!("backup {name} failed");
            let problem = detail(
                State::Error,
                UPGRADE_BACKUP_FAILED,
                format!(
                    "backup {name}, taken before {what} moves to {}, failed: {message}. Nothing of the upgrade is applied; delete the {kind} {name} to take another",
                    upgrade.to
                ),
            );
            return MajorStep::Hold(Some(problem));
        }
        Some(BackupGate::Pending { name, state }) => {
            upgrade.step = "1/3 backup".to_owned();
            upgrade.message = format!("taking backup {name} before {what} moves to a new major line ({state})");
            return MajorStep::Hold(None);
        }
        // Refused before (no backup, or none possible).
        None | Some(BackupGate::Off | BackupGate::Unsupported) => return MajorStep::Hold(None),
    }
    // To the latest version of the running line first, where the vendor needs it.
    let mut bridged = false;
    for change in changes.iter().filter(|c| c.major) {
        let Some(bridge) = &change.field.bridge else { continue };
        let target = version_of(bridge);
        let running = change.live.as_deref().unwrap_or_default();
        // Only from the bridge's own line (MySQL 8.0 to 8.4; not 8.4 to a later line).
        if !same_line(change.field.major, running, &target) {
            continue;
        }
        match compare(running, &target) {
            Some(Ordering::Less) => {
                set(desired, &change.field, Value::String(bridge.clone()));
                upgrade.step = format!("2/3 {what} {target}");
                upgrade.message = format!(
                    "applying {what} {running} -> {target}: the latest of its line, from which it upgrades to {}",
                    upgrade.to
                );
                bridged = true;
            }
            _ if unsettled(&change.field.key) => {
                upgrade.step = format!("2/3 {what} {target}");
                upgrade.message =
                    format!("waiting for the vendor to run {what} {target} (applied) before {}", upgrade.to);
                return MajorStep::Hold(None);
            }
            _ => {}
        }
    }
    if bridged {
        hold(desired, changes.iter().filter(|c| !(c.major && c.field.bridge.is_some())));
        return MajorStep::Bridge;
    }
    upgrade.step = format!("3/3 {what}");
    MajorStep::Final
}

/// Sets a version field in its desired object.
fn set(desired: &mut Desired, field: &VersionField, value: Value) {
    let Some(object) = desired.objects.iter_mut().find(|o| o.key == field.key) else { return };
    if let Some(slot) = object.body.pointer_mut(field.pointer) {
        *slot = value;
    }
}

fn in_progress(upgrade: UpgradeStatus) -> Staged {
    let message = format!("{} -> {}: step {}: {}", upgrade.from, upgrade.to, upgrade.step, upgrade.message);
    Staged { refusals: vec![], upgrade: Some(upgrade), detail: Some(detail(State::Ready, UPGRADING, message)) }
}

/// Sets each change's field back to its live value (or removes it where the live object does
/// not set it): that step is not applied in this pass.
fn hold<'a>(desired: &mut Desired, changes: impl Iterator<Item = &'a Change>) {
    for change in changes {
        let Some(object) = desired.objects.iter_mut().find(|o| o.key == change.field.key) else { continue };
        let (parent, leaf) = change.field.pointer.rsplit_once('/').unwrap_or(("", change.field.pointer));
        let Some(parent) = object.body.pointer_mut(parent).and_then(Value::as_object_mut) else { continue };
        match &change.live_raw {
            Some(live) => {
                parent.insert(leaf.to_owned(), live.clone());
            }
            None => {
                parent.remove(leaf);
            }
        }
    }
}

/// Whether `wanted` is on a later major line than `running`: their first `major` numbers
/// differ (never when `major` is 0 or either names fewer numbers).
fn crosses_major(major: usize, running: &str, wanted: &str) -> bool {
    let line = |text: &str| -> Vec<u64> { numbers(text).into_iter().take(major).collect() };
    let (running, wanted) = (line(running), line(wanted));
    major > 0 && running.len() == major && wanted.len() == major && wanted > running
}

/// Whether two versions are on the same major line (their first `major` numbers).
fn same_line(major: usize, a: &str, b: &str) -> bool {
    let line = |text: &str| -> Vec<u64> { numbers(text).into_iter().take(major).collect() };
    major > 0 && line(a).len() == major && line(a) == line(b)
}

fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect()
}

/// Orders two versions by their numbers (`8.4.8-8.1`, `4.2-IV1`, `RELEASE.2025-04-08T…`);
/// `None` when either names none.
pub(crate) fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (numbers(a), numbers(b));
    (!a.is_empty() && !b.is_empty()).then(|| a.cmp(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_their_numbers() {
        assert_eq!(compare("26.3.19.3", "25.8"), Some(Ordering::Greater));
        assert_eq!(compare("8.0", "8.4.8-8.1"), Some(Ordering::Less));
        assert_eq!(compare("4.2-IV1", "4.1-IV3"), Some(Ordering::Greater));
        assert_eq!(compare("7.4.11", "7.4.11"), Some(Ordering::Equal));
        assert_eq!(compare("RELEASE.2025-04-08T15-41-24Z", "RELEASE.2024-12-18T13-15-44Z"), Some(Ordering::Greater));
        assert_eq!(compare("latest", "8.0"), None);
    }

    #[test]
    fn a_bridge_serves_only_its_own_line() {
        assert!(same_line(2, "8.0.42-33.1", "8.0.45-36.1"));
        assert!(same_line(2, "8.0", "8.0.45-36.1"));
        assert!(!same_line(2, "8.4.8-8.1", "8.0.45-36.1"));
        assert!(!same_line(2, "custom", "8.0.45-36.1"));
        assert!(!same_line(0, "8.0.42-33.1", "8.0.45-36.1"));
    }

    #[test]
    fn a_major_line_is_its_leading_numbers() {
        assert!(crosses_major(2, "8.0", "8.4.8-8.1"));
        assert!(crosses_major(2, "8.0.36-28.1", "8.4.8-8.1"));
        assert!(!crosses_major(2, "8.4.7-7.1", "8.4.8-8.1"));
        assert!(!crosses_major(0, "8.0", "8.4.8-8.1"));
        assert!(!crosses_major(2, "custom", "8.4.8-8.1"));
    }
}
