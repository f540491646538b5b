//! An external component's reconcile (issue 11): no vendor object; the retention policy for
//! what the managed component left; the referenced Secrets checked and the endpoints probed,
//! both at most once per probe interval; the connection Secret kept in sync.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;
use tracing::{debug, info};

use super::check_cache::Findings;
use super::connection_sync::{self, Synced};
use super::context::{Context, Progress};
use super::error::ReconcileError;
use super::retention;
use super::retention::Leftovers;
use super::status_write::{detail, not_owned};
use super::version_check;
use crate::api::{ComponentStatus, State, WeightsAndBiases};
use crate::model::{ComponentDescriptor, ExternalConfig, ExternalService, ProbeTarget};
use crate::vendors::connection_secret;

/// Reads the referenced Secrets (one GET each) and probes every endpoint concurrently.
async fn check<S: ExternalService>(
    ctx: &Context,
    config: &ExternalConfig<S>,
    targets: &[ProbeTarget],
) -> Result<Findings, ReconcileError> {
    let namespace = &config.placement.namespace;
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let mut missing = Vec::new();
    let mut versions = BTreeMap::new();
    let mut read: BTreeMap<String, Option<Secret>> = BTreeMap::new();
    for reference in config.service.secret_references() {
        if !read.contains_key(&reference.name) {
            let action = format!("read Secret {namespace}/{}", reference.name);
            let secret = api.get_opt(&reference.name).await.map_err(ReconcileError::api(action))?;
            if let Some(s) = &secret {
                versions.insert(reference.name.clone(), s.resource_version().unwrap_or_default());
            }
            read.insert(reference.name.clone(), secret);
        }
        match read.get(&reference.name).and_then(Option::as_ref) {
            None => missing.push(format!("Secret {namespace}/{}", reference.name)),
            Some(secret) => {
                let has = secret.data.as_ref().is_some_and(|d| d.contains_key(&reference.key))
                    || secret.string_data.as_ref().is_some_and(|d| d.contains_key(&reference.key));
                if !has {
                    missing.push(format!("key {} of Secret {namespace}/{}", reference.key, reference.name));
                }
            }
        }
    }
    missing.dedup();
    let outcomes = futures::future::join_all(targets.iter().map(|t| ctx.prober.probe(t))).await;
    let mut version = outcomes.iter().find_map(|o| o.as_ref().ok().cloned().flatten());
    // Servers whose greeting carries no version are asked once authenticated (never with a
    // password that is missing, and only when every endpoint answered).
    if version.is_none()
        && missing.is_empty()
        && outcomes.iter().all(Result::is_ok)
        && let Some(request) = config.service.version_request()
    {
        let password = request.password.as_ref().and_then(|r| {
            read.get(&r.name).and_then(Option::as_ref).and_then(|s| crate::vendors::secret_value(s, &r.key))
        });
        if request.password.is_none() || password.is_some() {
            version = ctx.prober.version(&request.query, password.as_deref()).await;
        }
    }
    let probes = targets.iter().cloned().zip(outcomes.into_iter().map(Result::err)).collect();
    Ok(Findings { missing, versions, probes, version })
}

/// The `resourceVersion`s of Secrets the user owns (not watched, never labelled: labelling
/// would make them ours, and purge would delete them), read at most once per probe interval.
/// `Err` lists those that do not exist.
pub(crate) async fn user_secret_versions(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    purpose: &'static str,
    namespace: &str,
    names: &[&str],
) -> Result<Result<BTreeMap<String, String>, Vec<String>>, ReconcileError> {
    let key = (wandb.namespace().unwrap_or_default(), wandb.name_any(), purpose);
    let print = format!("{namespace}|{names:?}");
    let findings = match ctx.checks.fresh(&key, &print, ctx.settings.probe_interval) {
        Some(findings) => findings,
        None => {
            let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
            let mut findings =
                Findings { missing: Vec::new(), versions: BTreeMap::new(), probes: Vec::new(), version: None };
            for name in names {
                let action = format!("read Secret {namespace}/{name}");
                match api.get_metadata_opt(name).await.map_err(ReconcileError::api(action))? {
                    Some(secret) => {
                        findings.versions.insert((*name).to_owned(), secret.resource_version().unwrap_or_default());
                    }
                    None => findings.missing.push(format!("Secret {namespace}/{name}")),
                }
            }
            ctx.checks.store(key, print, findings.clone());
            findings
        }
    };
    Ok(if findings.missing.is_empty() { Ok(findings.versions) } else { Err(findings.missing) })
}

fn fingerprint<S: ExternalService>(config: &ExternalConfig<S>, targets: &[ProbeTarget]) -> String {
    format!("{:?}|{:?}", config.service, targets)
}

/// Reconciles external component `D`.
pub(crate) async fn reconcile<D: ComponentDescriptor>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    config: &ExternalConfig<D::External>,
    leftovers: &Leftovers,
    previous: Option<&ComponentStatus<D::Connection>>,
    progress: &Progress,
) -> Result<ComponentStatus<D::Connection>, ReconcileError> {
    let placement = &config.placement;
    let component = placement.component.key();
    let spec = connection_secret::external(placement, config.service.connection_keys());
    let mut details = Vec::new();

    // What the managed component left: its retention policy applies (detach keeps it all).
    let was_external = previous.is_some_and(|p| p.details.iter().any(|d| EXTERNAL_CODES.contains(&d.code.as_str())));
    let was_purging = previous.is_some_and(|p| p.details.iter().any(|d| d.code == "Purging"));
    let keep = [spec.key.name.clone()];
    let scope = retention::Scope { purged_before: was_external && !was_purging, keep: &keep };
    if let retention::Outcome::InProgress(n) =
        retention::apply(ctx, wandb, placement, leftovers, scope, progress).await?
    {
        details.push(detail(
            State::Deleting,
            "Purging",
            format!("switched to external: deleting {n} objects and claims of the managed component (retention policy purge)"),
        ));
    }

    let targets = config.service.probe_targets();
    let key = (wandb.namespace().unwrap_or_default(), wandb.name_any(), component);
    let print = fingerprint(config, &targets);
    let findings = match ctx.checks.fresh(&key, &print, ctx.settings.probe_interval) {
        Some(findings) => findings,
        None => {
            let mut findings = check(ctx, config, &targets).await?;
            // Every endpoint answered but the version could not be read this time (a query
            // that timed out): the version last read stands, so the status does not flap.
            if findings.version.is_none() && findings.probes.iter().all(|(_, failure)| failure.is_none()) {
                findings.version = ctx.checks.last_version(&key, &print);
            }
            debug!(component, missing = findings.missing.len(), "checked the external component");
            ctx.checks.store(key.clone(), print, findings.clone());
            findings
        }
    };

    for what in &findings.missing {
        details.push(detail(
            State::Error,
            "CredentialsMissing",
            format!(
                "{what} does not exist: create it in namespace {} (re-checked every {} s)",
                placement.namespace,
                ctx.settings.probe_interval.as_secs()
            ),
        ));
    }
    let was_ready = previous.is_some_and(|p| p.ready || p.state == State::Degraded);
    let lost = if was_ready { State::Degraded } else { State::Updating };
    for (target, failure) in &findings.probes {
        let greeting = target.greeting.describe();
        details.push(match failure {
            None => detail(State::Ready, "Reachable", format!("{} answers ({greeting})", target.endpoint)),
            Some(reason) => {
                detail(lost, "Unreachable", format!("{} does not answer ({greeting}): {reason}", target.endpoint))
            }
        });
    }

    // A warning, not an outage: the state stays what the probes say.
    details.extend(
        version_check::below_minimum(ctx, wandb, placement.component, findings.version.as_deref(), previous).await,
    );

    let mut connection_secret = None;
    if findings.missing.is_empty() {
        match connection_sync::sync(ctx, wandb, placement, &spec, &findings.versions, progress).await? {
            Synced::SourcesMissing(missing) => {
                // Changed since the check: check again on the next pass.
                ctx.checks.forget(&key.0, &key.1, component);
                for what in missing {
                    details.push(detail(State::Error, "CredentialsMissing", format!("{what} does not exist")));
                }
            }
            Synced::NotOwned => details.push(not_owned(&spec.key)),
            synced => {
                if synced == Synced::Written {
                    info!(component, "connection Secret written");
                }
                connection_secret = Some(spec.key.name.clone());
            }
        }
    }

    let state = details.iter().fold(State::Ready, |s, d| s.worst(d.state));
    Ok(ComponentStatus {
        ready: details.iter().all(|d| d.state == State::Ready),
        state,
        details,
        version: findings.version.clone(),
        last_reconciled: None,
        connection: D::external_connection(&config.service),
        credentials_secret: config.service.credentials_secret(),
        connection_secret,
        backup: None,
        storage: None,
        upgrade: None,
    })
}

/// Detail codes only an external component reports: a previous status with one of them was
/// external, so a finished purge of the managed leftovers is not repeated.
const EXTERNAL_CODES: [&str; 3] = ["Reachable", "Unreachable", "CredentialsMissing"];
