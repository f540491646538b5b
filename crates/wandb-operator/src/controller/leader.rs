//! Leader election on a `coordination.k8s.io/v1` Lease: acquire (create, renew or take over an
//! expired lease, always with resourceVersion preconditions so two replicas never both win),
//! then renew; losing the lease stops the controller.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};
use tracing::{info, warn};

/// Lease settings.
#[derive(Debug, Clone)]
pub struct LeaderOptions {
    /// Lease name.
    pub lease_name: String,
    /// Lease namespace.
    pub lease_namespace: String,
    /// This replica's identity.
    pub identity: String,
    /// How long a lease is valid without renewal.
    pub duration: Duration,
}

fn now() -> MicroTime {
    MicroTime(jiff::Timestamp::now())
}

fn expired(lease: &Lease, duration: Duration) -> bool {
    let spec = lease.spec.as_ref();
    let renewed = spec.and_then(|s| s.renew_time.as_ref().or(s.acquire_time.as_ref())).map(|t| t.0);
    let seconds =
        spec.and_then(|s| s.lease_duration_seconds).map_or(duration.as_secs(), |s| u64::try_from(s).unwrap_or(0));
    match renewed {
        None => true,
        Some(t) => jiff::Timestamp::now().as_second() - t.as_second() > i64::try_from(seconds).unwrap_or(i64::MAX),
    }
}

/// One attempt: `Ok(true)` when this replica holds the lease afterwards.
pub async fn try_acquire(api: &Api<Lease>, options: &LeaderOptions) -> Result<bool, kube::Error> {
    let seconds = i32::try_from(options.duration.as_secs()).unwrap_or(15);
    match api.get_opt(&options.lease_name).await? {
        None => {
            let lease = Lease {
                metadata: ObjectMeta { name: Some(options.lease_name.clone()), ..Default::default() },
                spec: Some(LeaseSpec {
                    holder_identity: Some(options.identity.clone()),
                    lease_duration_seconds: Some(seconds),
                    acquire_time: Some(now()),
                    renew_time: Some(now()),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            match api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            }
        }
        Some(mut lease) => {
            let holder = lease.spec.as_ref().and_then(|s| s.holder_identity.clone());
            let ours = holder.as_deref() == Some(options.identity.as_str());
            if !ours && !expired(&lease, options.duration) {
                return Ok(false);
            }
            let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
            if !ours {
                spec.holder_identity = Some(options.identity.clone());
                spec.acquire_time = Some(now());
                spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            }
            spec.renew_time = Some(now());
            spec.lease_duration_seconds = Some(seconds);
            // The resourceVersion in `lease` makes this a conditional update.
            match api.replace(&options.lease_name, &PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            }
        }
    }
}

/// Blocks until this replica holds the lease.
pub async fn acquire(client: &Client, options: &LeaderOptions) {
    let api: Api<Lease> = Api::namespaced(client.clone(), &options.lease_namespace);
    loop {
        match try_acquire(&api, options).await {
            Ok(true) => {
                info!(lease = %options.lease_name, identity = %options.identity, "acquired leadership");
                return;
            }
            Ok(false) => {}
            Err(e) => warn!(error = %e, "leader election attempt failed"),
        }
        tokio::time::sleep(options.duration / 3).await;
    }
}

/// Renews the lease every third of its duration; returns when it is lost.
pub async fn keep(client: Client, options: LeaderOptions) {
    let api: Api<Lease> = Api::namespaced(client, &options.lease_namespace);
    let mut failures = 0;
    loop {
        tokio::time::sleep(options.duration / 3).await;
        match try_acquire(&api, &options).await {
            Ok(true) => failures = 0,
            Ok(false) => {
                warn!("leadership lost to another replica");
                return;
            }
            Err(e) => {
                failures += 1;
                warn!(error = %e, failures, "lease renewal failed");
                if failures >= 2 {
                    return;
                }
            }
        }
    }
}
