//! An external component's reconcile (issue 11): no vendor object; the retention policy for
//! what the managed component left; the referenced Secrets checked and the endpoints probed,
//! both at most once per probe interval; the connection Secret kept in sync.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;
use kube::core::ApiResource;
use tracing::{debug, info};

use super::connection::{self, Synced};
use super::status::{detail, not_owned};
use super::{Context, Progress, ReconcileError, retention};
use crate::api::{ComponentStatus, State, WeightsAndBiases};
use crate::model::ExternalConfig;
use crate::vendors::ClaimMatcher;
use crate::vendors::external::{self as plan, ExternalConnection, ProbeTarget};

/// What one check of an external component found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Findings {
    /// Referenced Secrets or keys that do not exist, as `Secret ns/name` or `key K of Secret
    /// ns/name`.
    pub missing: Vec<String>,
    /// The referenced Secrets' `resourceVersion`s.
    pub versions: BTreeMap<String, String>,
    /// Each probe: target and the failure, if any.
    pub probes: Vec<(ProbeTarget, Option<String>)>,
}

struct Entry {
    fingerprint: String,
    at: Instant,
    findings: Findings,
}

/// The last check of each external component, so that endpoints are probed and Secrets read
/// at most once per probe interval, not on every watch event.
#[derive(Default)]
pub struct Checks {
    entries: Mutex<HashMap<(String, String, &'static str), Entry>>,
}

impl Checks {
    fn fresh(&self, key: &(String, String, &'static str), fingerprint: &str, interval: Duration) -> Option<Findings> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // A requeue after exactly one interval must find the entry stale: 5 % slack.
        let limit = interval.mul_f32(0.95);
        entries.get(key).filter(|e| e.fingerprint == fingerprint && e.at.elapsed() < limit).map(|e| e.findings.clone())
    }

    fn store(&self, key: (String, String, &'static str), fingerprint: String, findings: Findings) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(key, Entry { fingerprint, at: Instant::now(), findings });
    }

    /// Forgets a component's check (it is no longer external, or a source changed).
    pub(crate) fn forget(&self, namespace: &str, name: &str, component: &'static str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&(namespace.to_owned(), name.to_owned(), component));
    }

    /// Forgets every check of a resource (it is deleted).
    pub(crate) fn forget_resource(&self, namespace: &str, name: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|(ns, n, _), _| !(ns == namespace && n == name));
    }
}

/// Reads the referenced Secrets (one GET each) and probes every endpoint concurrently.
async fn check(ctx: &Context, config: &ExternalConfig, targets: &[ProbeTarget]) -> Result<Findings, ReconcileError> {
    let namespace = &config.placement.namespace;
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let mut missing = Vec::new();
    let mut versions = BTreeMap::new();
    let mut read: BTreeMap<String, Option<Secret>> = BTreeMap::new();
    for reference in config.secret_references() {
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
    let probes = targets.iter().cloned().zip(outcomes.into_iter().map(Result::err)).collect();
    Ok(Findings { missing, versions, probes })
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
            let mut findings = Findings { missing: Vec::new(), versions: BTreeMap::new(), probes: Vec::new() };
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

fn fingerprint(config: &ExternalConfig, targets: &[ProbeTarget]) -> String {
    format!("{:?}|{:?}", config.service, targets)
}

/// The vendor kinds and claims of the component when it was managed: what retention acts on.
pub(crate) struct Leftovers<'a> {
    /// The vendor's kinds.
    pub kinds: &'a [ApiResource],
    /// The vendor's data claims.
    pub claims: &'a ClaimMatcher,
}

/// Reconciles an external component.
pub(crate) async fn reconcile<K>(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    config: &ExternalConfig,
    leftovers: Leftovers<'_>,
    previous: Option<&ComponentStatus<K>>,
    progress: &Progress,
) -> Result<ComponentStatus<K>, ReconcileError>
where
    K: ExternalConnection,
{
    let placement = &config.placement;
    let component = placement.component.key();
    let spec = plan::connection_secret(config);
    let mut details = Vec::new();

    // What the managed component left: its retention policy applies (detach keeps it all).
    let was_external = previous.is_some_and(|p| p.details.iter().any(|d| EXTERNAL_CODES.contains(&d.code.as_str())));
    let was_purging = previous.is_some_and(|p| p.details.iter().any(|d| d.code == "Purging"));
    let keep = [spec.key.name.clone()];
    let scope = retention::Scope { purged_before: was_external && !was_purging, keep: &keep };
    if let retention::Outcome::InProgress(n) =
        retention::apply(ctx, wandb, placement, (leftovers.kinds, leftovers.claims), scope, progress).await?
    {
        details.push(detail(
            State::Deleting,
            "Purging",
            format!("switched to external: deleting {n} objects and claims of the managed component (retention policy purge)"),
        ));
    }

    let targets = plan::probe_targets(config);
    let key = (wandb.namespace().unwrap_or_default(), wandb.name_any(), component);
    let print = fingerprint(config, &targets);
    let findings = match ctx.checks.fresh(&key, &print, ctx.settings.probe_interval) {
        Some(findings) => findings,
        None => {
            let findings = check(ctx, config, &targets).await?;
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

    let mut connection_secret = None;
    if findings.missing.is_empty() {
        match connection::sync(ctx, wandb, placement, &spec, &findings.versions, progress).await? {
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
        last_reconciled: None,
        connection: K::external(&config.service),
        credentials_secret: plan::credentials_secret(config),
        connection_secret,
        backup: None,
    })
}

/// Detail codes only an external component reports: a previous status with one of them was
/// external, so a finished purge of the managed leftovers is not repeated.
const EXTERNAL_CODES: [&str; 3] = ["Reachable", "Unreachable", "CredentialsMissing"];

/// Whether the resource has at least one external component (its checks are repeated on the
/// probe interval).
pub(crate) fn any_external(config: &crate::model::InfraConfig) -> bool {
    use crate::model::Plan;
    matches!(config.mysql, Ok(Plan::External(_)))
        || matches!(config.redis, Ok(Plan::External(_)))
        || matches!(config.kafka, Ok(Plan::External(_)))
        || matches!(config.minio, Ok(Plan::External(_)))
        || matches!(config.clickhouse, Ok(Plan::External(_)))
}
