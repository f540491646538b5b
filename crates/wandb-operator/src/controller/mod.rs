//! Layer 5 — kube-runtime wiring: caches and watches for every kind we touch, the controller
//! on `WeightsAndBiases`, metrics, health, leader election and graceful shutdown.

mod health;
pub mod leader;
pub mod metrics;
pub mod rbac;
mod releases;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::{StreamExt, stream::BoxStream};
use kube::api::{Api, DynamicObject};
use kube::core::ApiResource;
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::events::Reporter;
use kube::runtime::reflector::{ObjectRef, reflector, store::Writer};
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::api::WeightsAndBiases;
use crate::reconcile::compact_store::CompactStore;
use crate::reconcile::projection::{Projection, expand, metadata, project};
use crate::reconcile::{Caches, Context, KindCache, KindState, Settings, error_policy, reconcile};
use crate::registry::Registry;
use crate::vendors::connection_secret;
use crate::vendors::{BackupRecords, LABEL_INSTANCE, LABEL_INSTANCE_NAMESPACE, LABEL_MANAGED_BY, MANAGER, ObjectKey};

pub use leader::LeaderOptions;
pub use metrics::Metrics;

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Namespaces to watch; empty means all.
    pub namespaces: Vec<String>,
    /// Address of `/metrics`, `/healthz` and `/readyz`.
    pub metrics_addr: SocketAddr,
    /// Reconciles in parallel.
    pub concurrency: u16,
    /// Reconcile settings.
    pub settings: Settings,
    /// Leader election, when enabled.
    pub leader: Option<LeaderOptions>,
    /// This replica's name (event reporter instance).
    pub instance: String,
    /// Metrics to record into (a fresh set when `None`); lets an embedding program read them.
    pub metrics: Option<Arc<Metrics>>,
}

/// Why the controller stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The health/metrics listener could not start.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// Address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Leadership was lost; the process should restart.
    #[error("leadership lost")]
    LeadershipLost,
}

/// How a watched kind is cut down before it is cached (`reconcile::projection`).
fn projection_of(kind: &ApiResource, records: &[ApiResource]) -> Projection {
    match (kind.api_version.as_str(), kind.kind.as_str()) {
        ("v1", "Secret") => Projection::Secret { public_keys: crate::vendors::NON_SECRET_KEYS },
        ("apps/v1", "StatefulSet") => Projection::StatefulSet,
        ("v1", "ConfigMap") => Projection::Identity,
        _ if records.contains(kind) => Projection::Record,
        _ => Projection::Applied,
    }
}

/// The `WeightsAndBiases` an object belongs to: from our labels, or for vendor-made
/// StatefulSets through their owning vendor object.
fn owner_of(
    cached: &DynamicObject,
    caches: &Caches,
    backups: &[&'static dyn BackupRecords],
) -> Option<ObjectRef<WeightsAndBiases>> {
    let meta = metadata(cached);
    let labels = meta.labels.unwrap_or_default();
    if labels.get(LABEL_MANAGED_BY).map(String::as_str) == Some(MANAGER)
        && let (Some(name), Some(ns)) = (labels.get(LABEL_INSTANCE), labels.get(LABEL_INSTANCE_NAMESPACE))
    {
        return Some(ObjectRef::new(name).within(ns));
    }
    let namespace = meta.namespace?;
    let resource_of = |key: ObjectKey| {
        let parent = caches.get(&key)?;
        let labels = parent.labels();
        Some(ObjectRef::new(labels.get(LABEL_INSTANCE)?).within(labels.get(LABEL_INSTANCE_NAMESPACE)?))
    };
    let owned = meta
        .owner_references
        .unwrap_or_default()
        .iter()
        .find_map(|owner| resource_of(ObjectKey::new(&owner.api_version, &owner.kind, &namespace, &owner.name)));
    // A backup record the vendor made names its cluster.
    owned.or_else(|| {
        let record = serde_json::to_value(expand(cached)).ok()?;
        backups.iter().find_map(|backups| {
            let cluster = backups.cluster_of(&record)?;
            let kind = backups.cluster_kind();
            resource_of(ObjectKey::new(&kind.api_version, &kind.kind, &namespace, &cluster))
        })
    })
}

/// The resources whose copied Secrets (connection Secrets, backup credentials) live in the
/// namespace of `object`, when it is the cluster-CA ConfigMap: a rotated CA is copied again.
fn users_of_cluster_ca(object: &DynamicObject, caches: &Caches) -> Vec<ObjectRef<WeightsAndBiases>> {
    let meta = metadata(object);
    let (Some(name), Some(namespace)) = (meta.name, meta.namespace) else { return Vec::new() };
    if name != connection_secret::CLUSTER_CA_CONFIG_MAP {
        return Vec::new();
    }
    let copies = caches.list("v1", "Secret", &namespace, |m| {
        m.annotations.as_ref().is_some_and(|a| a.contains_key(connection_secret::SOURCES_HASH_ANNOTATION))
    });
    let mut targets: Vec<ObjectRef<WeightsAndBiases>> = copies
        .iter()
        .filter_map(|secret| {
            let labels = secret.labels();
            Some(ObjectRef::new(labels.get(LABEL_INSTANCE)?).within(labels.get(LABEL_INSTANCE_NAMESPACE)?))
        })
        .collect();
    targets.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    targets.dedup();
    targets
}

fn kind_stream(
    client: &Client,
    kind: &ApiResource,
    scope: Option<&str>,
    records: &[ApiResource],
) -> (KindCache, BoxStream<'static, DynamicObject>) {
    let store = CompactStore::default();
    let cache = KindCache::new(kind.clone(), scope.map(str::to_owned), store.clone());
    let api: Api<DynamicObject> = match scope {
        Some(ns) => Api::namespaced_with(client.clone(), ns, kind),
        None => Api::all_with(client.clone(), kind),
    };
    // Every kind we watch carries our labels: the objects we write, and the StatefulSets
    // Opstree makes, which copy the labels of their Redis resource. Other applications'
    // objects never reach the operator.
    // The exception: records a vendor makes on its own (Percona's scheduled backups), few per
    // cluster, watched whole.
    // And the cluster-CA ConfigMap, one per namespace, watched by name.
    let config = if records.contains(kind) {
        watcher::Config::default()
    } else if (kind.api_version.as_str(), kind.kind.as_str()) == ("v1", "ConfigMap") {
        watcher::Config::default().fields(&format!("metadata.name={}", connection_secret::CLUSTER_CA_CONFIG_MAP))
    } else {
        watcher::Config::default().labels(&format!("{LABEL_MANAGED_BY}={MANAGER}"))
    };
    let state = cache.clone();
    let name = format!("{} {}", kind.api_version, kind.kind);
    let projection = projection_of(kind, records);
    let watch = watcher::watcher(api, config).default_backoff().modify(move |o| project(o, projection));
    let stream = watch
        .inspect(move |event| match event {
            Ok(event) => {
                store.apply(event);
                if matches!(event, Event::InitDone) {
                    state.set_state(KindState::Ready);
                }
            }
            Err(watcher::Error::InitialListFailed(kube::Error::Api(e))) if e.code == 404 => {
                if state.state() != KindState::Missing {
                    warn!(kind = %name, "kind not served (CRD not installed?)");
                }
                state.set_state(KindState::Missing);
            }
            _ => {}
        })
        .touched_objects()
        .filter_map(|r| async move { r.ok() })
        .boxed();
    (cache, stream)
}

/// Runs the controller until `shutdown` resolves (or leadership is lost).
pub async fn run(
    client: Client,
    options: RunOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ControllerError> {
    let metrics = options.metrics.clone().unwrap_or_default();
    let ready = Arc::new(AtomicBool::new(false));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let addr = health::serve(options.metrics_addr, metrics.clone(), ready.clone(), stop_rx.clone())
        .await
        .map_err(|source| ControllerError::Listen { addr: options.metrics_addr, source })?;
    info!(%addr, "serving /metrics, /healthz and /readyz");
    let stop = stop_tx.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });

    let lost = Arc::new(AtomicBool::new(false));
    if let Some(leader) = &options.leader {
        let mut stopped = stop_rx.clone();
        tokio::select! {
            _ = leader::acquire(&client, leader) => {}
            _ = stopped.changed() => return Ok(()),
        }
        let (client, leader, stop, lost) = (client.clone(), leader.clone(), stop_tx.clone(), lost.clone());
        tokio::spawn(async move {
            leader::keep(client, leader).await;
            lost.store(true, Ordering::Release);
            let _ = stop.send(true);
        });
    }

    let registry = Registry::default();
    let scopes: Vec<Option<String>> =
        if options.namespaces.is_empty() { vec![None] } else { options.namespaces.iter().cloned().map(Some).collect() };
    let mut caches = Vec::new();
    let mut triggers = Vec::new();
    let records = registry.record_kinds();
    for kind in registry.watched_kinds() {
        for scope in &scopes {
            let (cache, stream) = kind_stream(&client, &kind, scope.as_deref(), &records);
            caches.push(cache);
            triggers.push(stream);
        }
    }
    let caches = Caches::new(caches);
    let reporter = Reporter { controller: MANAGER.to_owned(), instance: Some(options.instance.clone()) };
    let release_sources = registry.release_sources();
    let ctx = Arc::new(Context::new(
        client.clone(),
        registry,
        caches.clone(),
        reporter,
        metrics.clone(),
        options.settings.clone(),
    ));
    let (releases_listed, release_changes) = releases::watch(client.clone(), release_sources, ctx.releases.clone());

    // Drive the caches first: reconciling before they are complete would report objects as
    // missing and make statuses flap after every restart. Changes seen while the caches fill
    // are not forwarded: every resource is reconciled once the controllers start, against the
    // complete caches, so they would only repeat that work — and holding them (a cluster
    // lists more objects than any channel holds) would stall every watch behind them.
    let primed = Arc::new(AtomicBool::new(false));
    let (trigger_tx, mut trigger_rx) = mpsc::channel::<DynamicObject>(4096);
    let forwarding = primed.clone();
    tokio::spawn(futures::stream::select_all(triggers).for_each(move |object| {
        let tx = trigger_tx.clone();
        let forward = forwarding.load(Ordering::Acquire);
        async move {
            if forward {
                let _ = tx.send(object).await;
            }
        }
    }));
    let mut stopped = stop_rx.clone();
    let mut waited = 0u32;
    loop {
        let pending: Vec<String> = caches
            .all()
            .filter(|c| c.state() == KindState::Unknown)
            .map(|c| format!("{} {}", c.resource.api_version, c.resource.kind))
            .collect();
        if pending.is_empty() && releases_listed.load(Ordering::Acquire) {
            break;
        }
        waited += 1;
        if waited.is_multiple_of(200) {
            info!(?pending, "waiting for caches");
        }
        tokio::select! {
            _ = stopped.changed() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }

    primed.store(true, Ordering::Release);

    // One controller per scope; a dispatcher maps every watched object to its resource.
    let mut senders = Vec::new();
    let mut controllers = Vec::new();
    for scope in &scopes {
        let (tx, rx) = mpsc::channel::<ObjectRef<WeightsAndBiases>>(1024);
        senders.push((scope.clone(), tx));
        let api: Api<WeightsAndBiases> = match scope {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        };
        let mut stopped = stop_rx.clone();
        // Our own reflector rather than `Controller::new`'s, to drop managedFields (never read)
        // before the resources enter the store.
        let writer = Writer::<WeightsAndBiases>::default();
        let store = writer.as_reader();
        let resources = reflector(
            writer,
            watcher::watcher(api, watcher::Config::default()).default_backoff().modify(|w| {
                w.managed_fields_mut().clear();
            }),
        )
        .applied_objects();
        let controller = Controller::for_stream(resources, store)
            .with_config(ControllerConfig::default().concurrency(options.concurrency))
            .reconcile_on(futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) }))
            // A vendor release changed: what fits it may differ for every resource.
            .reconcile_all_on(futures::stream::unfold(release_changes.clone(), |mut rx| async move {
                rx.changed().await.ok().map(|_| ((), rx))
            }))
            .graceful_shutdown_on(async move {
                let _ = stopped.changed().await;
            });
        let store = controller.store();
        controllers.push((store, controller.run(reconcile, error_policy, ctx.clone())));
    }
    let dispatch_caches = caches.clone();
    let backups: Vec<&'static dyn BackupRecords> =
        ctx.registry.entries().iter().filter_map(|e| e.backup_records()).collect();
    tokio::spawn(async move {
        while let Some(object) = trigger_rx.recv().await {
            let targets = match owner_of(&object, &dispatch_caches, &backups) {
                Some(owner) => vec![owner],
                None => users_of_cluster_ca(&object, &dispatch_caches),
            };
            for target in targets {
                let ns = target.namespace.clone().unwrap_or_default();
                if let Some((_, tx)) = senders.iter().find(|(scope, _)| scope.as_deref().is_none_or(|s| s == ns)) {
                    let _ = tx.send(target).await;
                }
            }
        }
    });

    // Ready once the resource caches and every kind cache have listed (or found the kind missing).
    let stores: Vec<_> = controllers.iter().map(|(s, _)| s.clone()).collect();
    let ready_flag = ready.clone();
    tokio::spawn(async move {
        for store in stores {
            // Re-polled: a second waiter on the store's readiness is not always woken
            // (observed with kube-runtime 5 when the controller waits on the same store).
            while tokio::time::timeout(Duration::from_millis(200), store.wait_until_ready()).await.is_err() {}
        }
        ready_flag.store(true, Ordering::Release);
        info!("caches synced: ready");
    });

    let runs = controllers.into_iter().map(|(_, run)| {
        run.for_each(|result| async move {
            match result {
                Ok((object, _)) => tracing::debug!(object = %object, "reconciled"),
                Err(e) => tracing::debug!(error = %e, "controller event"),
            }
        })
    });
    futures::future::join_all(runs).await;
    if lost.load(Ordering::Acquire) {
        return Err(ControllerError::LeadershipLost);
    }
    info!("stopped");
    Ok(())
}
