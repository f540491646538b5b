//! One component's reconcile, in the order the spec gives: resolve its plan; for a managed
//! component build the desired objects, run the guards (vendor API served, ownership,
//! topology, storage), apply, observe the vendor's status and publish the connection Secret;
//! then the component's own further steps (backups). A disabled component gets its retention
//! policy, an external one its checks.

use std::borrow::Cow;

use kube::ResourceExt;
use kube::runtime::events::EventType;

use super::apply::{apply_desired, observe_without_writing, read_extra};
use super::connection_sync::{self, Synced};
use super::context::{Context, Progress};
use super::error::ReconcileError;
use super::guards::{self, Guarded};
use super::major_gate;
use super::retention::{self, Leftovers};
use super::status_write::{detail, not_owned};
use super::succession;
use super::{backups_step, edition, external_check, paused, storage, upgrade, version_check};
use crate::api::{ComponentStatus, State, StatusDetail, WeightsAndBiases};
use crate::model::{ComponentDescriptor, ModelError, Placed, Placement, Plan, Resolution};
use crate::registry::VendorOf;
use crate::vendors::{BackupRecords, Desired, ObjectKey, Observed, connection_secret, desired_with_edition};

/// Reconciles component `D` for its `plan`.
pub(crate) async fn reconcile_component<D: ComponentDescriptor>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: &'static VendorOf<D>,
    resolution: &Resolution,
    plan: &Result<Plan<D>, ModelError>,
    previous: Option<&ComponentStatus<D::Connection>>,
    progress: &Progress,
) -> Result<ComponentStatus<D::Connection>, ReconcileError> {
    if resolution.pause.covers(D::COMPONENT) {
        return reconcile_paused::<D>(ctx, wandb, vendor, resolution, plan, previous, progress).await;
    }
    // A component that is no longer external drops its last check.
    if let Ok(plan) = plan
        && !matches!(plan, Plan::External(_))
    {
        ctx.checks.forget(&wandb.namespace().unwrap_or_default(), &wandb.name_any(), D::COMPONENT.key());
    }
    // The managed config at the edition it keeps, for the steps after the status.
    let mut kept = None;
    let mut status = match plan {
        Err(error) => blocked(vec![detail(State::Error, "InvalidSpec", error.to_string())]),
        Ok(Plan::Disabled(placement)) => {
            let leftovers = leftovers_of::<D>(vendor, placement);
            retention::disabled(ctx, wandb, placement, &leftovers, previous, progress).await?
        }
        Ok(Plan::External(config)) => {
            let leftovers = leftovers_of::<D>(vendor, &config.placement);
            external_check::reconcile::<D>(ctx, wandb, config, &leftovers, previous, progress).await?
        }
        Ok(Plan::Enabled(config)) => {
            let (config, status) = managed::<D>(ctx, wandb, vendor, resolution, config, previous, progress).await?;
            kept = Some(config);
            status
        }
    };
    warn_new_errors(ctx, wandb, &status, previous).await;
    if let Some(config) = &kept
        && let Some(backups) = vendor.backups()
    {
        let previous_backup = previous.and_then(|p| p.backup.as_ref());
        backups_step::reconcile(ctx, wandb, backups, config, &mut status, previous_backup, progress).await?;
    }
    Ok(status)
}

/// A paused component: a managed one is held ([`paused::hold`]); anything else keeps its last
/// status. Nothing else is written, backups included.
async fn reconcile_paused<D: ComponentDescriptor>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: &'static VendorOf<D>,
    resolution: &Resolution,
    plan: &Result<Plan<D>, ModelError>,
    previous: Option<&ComponentStatus<D::Connection>>,
    progress: &Progress,
) -> Result<ComponentStatus<D::Connection>, ReconcileError> {
    let (mut status, how) = match plan {
        Err(error) => (blocked(vec![detail(State::Error, "InvalidSpec", error.to_string())]), None),
        Ok(Plan::Enabled(latest)) => match prepare::<D>(ctx, vendor, resolution, latest)? {
            Prepared::Blocked(_, status) => (*status, None),
            Prepared::Built { config, desired, .. } => {
                let held = paused::hold::<D>(ctx, wandb, vendor, &config, *desired, previous, progress).await?;
                (held.status, Some(paused::managed_note(vendor.name(), held.vendor_pause.as_deref())))
            }
        },
        Ok(_) => (previous.cloned().unwrap_or_default(), None),
    };
    paused::mark(&mut status, &resolution.pause, how.as_deref());
    Ok(status)
}

/// What the component's vendor leaves when it was managed: what retention acts on.
fn leftovers_of<D: ComponentDescriptor>(vendor: &'static VendorOf<D>, placement: &Placement) -> Leftovers {
    Leftovers {
        kinds: vendor.kinds(),
        claims: vendor.data_claims(placement),
        backups: vendor.backups().map(|b| b as &dyn BackupRecords),
        vendor_secrets: vendor.vendor_secrets(placement),
        pause_markers: vendor
            .kinds()
            .iter()
            .filter_map(|k| vendor.pause_marker(&k.kind).map(|m| (k.kind.clone(), m)))
            .collect(),
    }
}

/// A managed component's objects at the edition it keeps, fitted to the installed vendor
/// release; or the status that says why there are none.
enum Prepared<'a, C: Clone, K> {
    /// Nothing can be built: the config it was tried with, and the status.
    Blocked(Cow<'a, C>, Box<ComponentStatus<K>>),
    /// The config at the edition it keeps, its objects, and an `UpgradeAvailable` detail when
    /// a newer edition would change them.
    Built { config: Cow<'a, C>, desired: Box<Desired>, upgrade: Option<StatusDetail> },
}

/// Finds the edition an existing component keeps and builds its objects at that edition.
fn prepare<'a, D: ComponentDescriptor>(
    ctx: &Context,
    vendor: &'static VendorOf<D>,
    resolution: &Resolution,
    latest: &'a D::Config,
) -> Result<Prepared<'a, D::Config, D::Connection>, ReconcileError> {
    let latest_desired = desired_with_edition(vendor, latest)?;
    // An existing component keeps the edition of defaults it was created with.
    let (config, desired, upgrade) = match edition::existing(ctx, &latest_desired) {
        Some(Err(message)) => {
            return Ok(Prepared::Blocked(Cow::Borrowed(latest), Box::new(blocked(vec![edition::unknown(message)]))));
        }
        Some(Ok(kept)) if kept != latest.edition() => match resolution.at_edition(kept).plan::<D>() {
            Ok(Plan::Enabled(config)) => {
                let desired = desired_with_edition(vendor, &config)?;
                let upgrade = edition::upgrade_available(vendor, &config, &desired, latest, &latest_desired);
                (Cow::Owned(config), desired, upgrade)
            }
            // The plan does not depend on the edition, only the config's defaults do; should it
            // ever fail at the kept edition, nothing is written: the latest edition's objects
            // would change what the install runs.
            other => {
                let why = other.err().map_or_else(|| "no managed plan".to_owned(), |e| e.to_string());
                let message = format!("at the {kept} defaults it was created with: {why}");
                let status = Box::new(blocked(vec![detail(State::Error, "InvalidSpec", message)]));
                return Ok(Prepared::Blocked(Cow::Borrowed(latest), status));
            }
        },
        _ => (Cow::Borrowed(latest), latest_desired, None),
    };
    // New objects that succeed a previous topology's run beside them (Redis grown to small).
    let exists = |key: &ObjectKey| ctx.caches.get(key).is_some();
    let (config, mut desired) = match vendor.successor(&config, &exists) {
        Some(successor) => {
            let desired = desired_with_edition(vendor, &successor)?;
            (Cow::Owned(successor), desired)
        }
        None => (config, desired),
    };
    if let Err(message) = vendor.fit_release(&config, &mut desired, ctx.releases.get(vendor.release_source())) {
        let status = blocked(vec![detail(State::Error, "VendorVersionUnsupported", message)]);
        return Ok(Prepared::Blocked(config, Box::new(status)));
    }
    Ok(Prepared::Built { config, desired: Box::new(desired), upgrade })
}

/// A managed component: build, guard, apply, observe, publish. Returns the config at the
/// edition it keeps, with its status.
async fn managed<'a, D: ComponentDescriptor>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: &'static VendorOf<D>,
    resolution: &Resolution,
    latest: &'a D::Config,
    previous: Option<&ComponentStatus<D::Connection>>,
    progress: &Progress,
) -> Result<(Cow<'a, D::Config>, ComponentStatus<D::Connection>), ReconcileError> {
    let (config, mut desired, newer_edition) = match prepare::<D>(ctx, vendor, resolution, latest)? {
        Prepared::Blocked(config, status) => return Ok((config, *status)),
        Prepared::Built { config, desired, upgrade } => (config, *desired, upgrade),
    };
    let placement = config.placement();
    let mut refusals =
        match guards::check(ctx, wandb, (vendor.name(), vendor.release_source()), placement, &desired, progress).await?
        {
            Guarded::Blocked(details) => return Ok((config, blocked(details))),
            Guarded::Checked { refusals } => refusals,
        };
    if refusals.is_empty() {
        refusals = storage::check_growth::<D>(ctx, vendor, placement, &mut desired, progress).await?;
    }
    let mut staged = upgrade::Staged::default();
    if refusals.is_empty() {
        let previous_upgrade = previous.and_then(|p| p.upgrade.as_deref());
        // An upgrade to a new major line goes ahead only behind a fresh backup.
        let gate = match upgrade::major_pending(ctx, &desired) {
            Some(to) => Some(major_gate::ensure(ctx, wandb, vendor.backups(), &*config, &to, previous_upgrade).await?),
            None => None,
        };
        staged =
            upgrade::stage(ctx, vendor, placement.component, &mut desired, previous_upgrade, gate.as_ref(), progress);
        refusals = std::mem::take(&mut staged.refusals);
    }
    let applied_size = storage::applied_size(ctx, &desired, !refusals.is_empty());
    let mut observed: Observed = if refusals.is_empty() {
        apply_desired(ctx, wandb, &desired, progress).await?
    } else {
        observe_without_writing(ctx, placement, &desired)
    };
    read_extra(ctx, &desired, &mut observed);
    let mut status = vendor.observe(&config, &observed, previous.is_some_and(|p| p.ready));
    let component = placement.component;
    status
        .details
        .extend(version_check::below_minimum(ctx, wandb, component, status.version.as_deref(), previous).await);
    status.details.extend(newer_edition);
    status.details.extend(staged.detail);
    status.upgrade = staged.upgrade.map(Box::new);
    let previous_storage = previous.and_then(|p| p.storage.as_ref());
    let replaced_claims = desired.replaces.as_ref().map(|r| &r.claims);
    storage::status::<D>(
        ctx,
        vendor,
        placement,
        applied_size,
        &mut status,
        (previous_storage, replaced_claims),
        progress,
    )
    .await?;
    if refusals.is_empty() {
        succeed::<D>(ctx, wandb, vendor, &config, &desired, previous, &mut status, &mut refusals, progress).await?;
    }
    if !refusals.is_empty() {
        status.ready = false;
        status.state = refusals.iter().fold(status.state, |s, d| s.worst(d.state));
        refusals.extend(status.details);
        status.details = refusals;
    }
    Ok((config, status))
}

/// Publishes the connection Secret, unless new objects come up beside ones they replace and
/// are not ready yet (the Secret keeps naming the old ones); once it names the new ones, the
/// replaced objects are retired by the retention policy.
#[allow(clippy::too_many_arguments)] // the pipeline's state, passed through
async fn succeed<D: ComponentDescriptor>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: &'static VendorOf<D>,
    config: &D::Config,
    desired: &Desired,
    previous: Option<&ComponentStatus<D::Connection>>,
    status: &mut ComponentStatus<D::Connection>,
    refusals: &mut Vec<StatusDetail>,
    progress: &Progress,
) -> Result<(), ReconcileError> {
    let Some(replaced) = &desired.replaces else {
        return publish_connection::<D>(ctx, wandb, vendor, config, status, refusals, progress).await;
    };
    let placement = config.placement();
    let pending = succession::pending(ctx, wandb, replaced);
    let names = |keys: &[&ObjectKey]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ");
    if !pending.is_empty() && !status.ready {
        // Clients keep the old objects until the new ones serve.
        status.connection = previous.and_then(|p| p.connection.clone());
        status.connection_secret = previous.and_then(|p| p.connection_secret.clone());
        let message = format!(
            "the new topology comes up beside {}; the connection Secret keeps naming it until the new one is ready, then it is retired ({})",
            names(&pending),
            policy(placement.on_delete)
        );
        status.details.push(detail(State::Updating, succession::REPLACING, message));
        return Ok(());
    }
    publish_connection::<D>(ctx, wandb, vendor, config, status, refusals, progress).await?;
    let was_retiring = previous.is_some_and(|p| p.details.iter().any(|d| d.code == succession::RETIRING));
    if status.connection_secret.is_some() && (!pending.is_empty() || was_retiring) {
        let outcome = succession::retire(ctx, wandb, placement, replaced, was_retiring, progress).await?;
        if let retention::Outcome::InProgress(n) = outcome {
            let message = format!(
                "the connection Secret names the new topology; retiring what it replaced ({}): {n} objects and claims left",
                policy(placement.on_delete)
            );
            status.ready = false;
            status.state = status.state.worst(State::Updating);
            status.details.push(detail(State::Updating, succession::RETIRING, message));
        }
    }
    Ok(())
}

/// What the retention policy does to replaced objects, for status.
fn policy(on_delete: crate::api::OnDelete) -> &'static str {
    match on_delete {
        crate::api::OnDelete::Detach => "retention policy detach: kept with its data, no longer ours",
        crate::api::OnDelete::Purge => "retention policy purge: deleted with its claims",
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

/// Keeps the managed component's connection Secret in sync with its status and credentials.
/// Until the vendor has created its credentials Secret the component is not ready: clients
/// would find no connection Secret.
async fn publish_connection<D: ComponentDescriptor>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    vendor: &'static VendorOf<D>,
    config: &D::Config,
    status: &mut ComponentStatus<D::Connection>,
    refusals: &mut Vec<StatusDetail>,
    progress: &Progress,
) -> Result<(), ReconcileError> {
    let placement = config.placement();
    let Some(spec) = connection_secret::managed(
        placement,
        status,
        vendor.connection_extras(config),
        vendor.connection_sources(config),
        vendor.cluster_ca_key(config),
    ) else {
        return Ok(());
    };
    let missing = match connection_sync::source_versions(ctx, placement, &spec).await? {
        Ok(versions) => match connection_sync::sync(ctx, wandb, placement, &spec, &versions, progress).await? {
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
