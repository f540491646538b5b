//! Which vendor operator releases are installed: a watch of CRD metadata (labels and
//! annotations only, never the schemas) keeps [`InstalledReleases`] up to date, and tells the
//! controllers when a release changed, so that every resource is reconciled against it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::reconcile::releases::InstalledReleases;
use crate::vendors::ReleaseSource;

/// Watches the CRDs of `sources`; returns whether the first listing is done (or failed: the
/// releases are then unknown, and the newest supported one is assumed) and a channel that
/// ticks when a release changed after it.
pub(super) fn watch(
    client: Client,
    sources: Vec<ReleaseSource>,
    releases: Arc<InstalledReleases>,
) -> (Arc<AtomicBool>, watch::Receiver<u64>) {
    let listed = Arc::new(AtomicBool::new(false));
    let (changed_tx, changed_rx) = watch::channel(0u64);
    let done = listed.clone();
    // Metadata-only requests: never the CRDs' schemas.
    let api: Api<PartialObjectMeta<CustomResourceDefinition>> = Api::all(client);
    tokio::spawn(async move {
        let mut warned = false;
        let mut events = watcher::watcher(api, watcher::Config::default()).default_backoff().boxed();
        while let Some(event) = events.next().await {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    // Without permission to read CRDs (a namespace-scoped install), releases
                    // stay unknown: the newest supported release is assumed.
                    if !warned {
                        warn!(%error, "cannot read the vendors' CRDs; their releases are unknown (the newest supported are assumed)");
                        warned = true;
                    }
                    done.store(true, Ordering::Release);
                    continue;
                }
            };
            let (crd, present) = match &event {
                Event::Apply(crd) | Event::InitApply(crd) => (Some(crd), true),
                Event::Delete(crd) => (Some(crd), false),
                Event::Init => (None, true),
                Event::InitDone => {
                    done.store(true, Ordering::Release);
                    (None, true)
                }
            };
            let Some(crd) = crd else { continue };
            let name = crd.name_any();
            let Some(source) = sources.iter().find(|s| s.crd == name) else { continue };
            releases.set_present(&name, present);
            let release = if present {
                source.read(crd.metadata.labels.as_ref().unwrap_or(&Default::default()), crd.annotations())
            } else {
                None
            };
            if releases.set(&name, release) {
                info!(crd = %name, release = ?release.map(|r| r.to_string()), "vendor release");
                if done.load(Ordering::Acquire) {
                    changed_tx.send_modify(|n| *n += 1);
                }
            }
        }
    });
    (listed, changed_rx)
}
