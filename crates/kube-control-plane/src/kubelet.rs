//! A stand-in for the node side of a cluster, since the control plane has no kubelet,
//! scheduler or storage provisioner. It does only what those would do for the objects tests
//! make, through the public API:
//!
//! - one Node (`stand-in-node`), Ready, whose kubelet endpoint (127.0.0.1 and the port given) is
//!   the logs server of `tools/control-plane` (`kubelet-logs`), so `pods/log` works: vendor
//!   operators read Pod logs through the API server as in a cluster;
//! - Pods without a node are bound to it (`pods/binding`, as the scheduler does); bound Pods are
//!   marked Running and Ready (`pods/status`, as the kubelet does) once every claim they mount
//!   is bound, each with an address of its own in 127.1.0.0/16; a Pod being deleted is
//!   removed at once (the kubelet's final delete with grace period 0), so StatefulSet
//!   scale-down, garbage collection and namespace deletion finish;
//! - a Pending claim without a volume gets a PersistentVolume pre-bound to it (`claimRef`), which
//!   the real persistent-volume binder binds; a volume released by its claim is deleted (the
//!   `Delete` reclaim policy of a dynamic provisioner);
//! - two StorageClasses: [`EXPANDABLE_CLASS`] (the default, `allowVolumeExpansion: true`) and
//!   [`FIXED_CLASS`] (no expansion); a bound claim whose request grows (the API server admits
//!   that only for a class that allows expansion) gets the larger capacity on its volume and in
//!   its status, as a CSI resizer and the kubelet's file-system resize would give it.

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

/// The Node every Pod is bound to.
pub const NODE: &str = "stand-in-node";
/// The label on volumes the stand-in provisioner made.
pub const PROVISIONED_LABEL: &str = "control-plane.test/provisioned";

/// The default StorageClass: volumes grow.
pub const EXPANDABLE_CLASS: &str = "standard";
/// A StorageClass whose volumes cannot grow.
pub const FIXED_CLASS: &str = "fixed";
/// The provisioner both classes name (the stand-in, not a real one).
const PROVISIONER: &str = "stand-in.control-plane.test/hostpath";

/// Runs until aborted.
pub async fn run(client: Client, logs_port: u16) {
    ensure_node(&client, logs_port).await;
    tokio::join!(pods(client.clone()), claims(client.clone()), volumes(client));
}

async fn ensure_node(client: &Client, logs_port: u16) {
    let nodes: Api<Node> = Api::all(client.clone());
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE}}});
    let params = PatchParams::apply("stand-in-kubelet").force();
    let _ = nodes.patch(NODE, &params, &Patch::Apply(&node)).await;
    let status = json!({"apiVersion": "v1", "kind": "Node", "status": {
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "stand-in kubelet"}],
        "capacity": {"cpu": "64", "memory": "256Gi", "pods": "1000"},
        "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "1000"},
        // The only address: kube-apiserver dials the first of its preferred types it finds.
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": logs_port}}}});
    let _ = nodes.patch_status(NODE, &params, &Patch::Apply(&status)).await;
}

/// How many objects the stand-in works on at once. A real cluster's kubelets and provisioners
/// work in parallel; one request after another, 100 small W&B resources (about 2,000 Pods and
/// 2,000 claims) did not converge within 420 s.
const CONCURRENCY: usize = 16;

/// Handles every object the watch delivers, up to [`CONCURRENCY`] at a time. Each step reads
/// the object as delivered and is idempotent (a step on an outdated copy fails or changes
/// nothing), so the order between two events of one object does not matter.
async fn for_each<K, F, Fut>(api: Api<K>, handle: F)
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
    F: Fn(K) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let config = watcher::Config::default();
    watcher::watcher(api, config)
        .default_backoff()
        .filter_map(|event| async move {
            match event {
                Ok(Event::Apply(object) | Event::InitApply(object)) => Some(object),
                _ => None,
            }
        })
        .for_each_concurrent(CONCURRENCY, handle)
        .await;
}

async fn pods(client: Client) {
    for_each(Api::<Pod>::all(client.clone()), |pod| {
        let client = client.clone();
        async move { pod_step(&client, &pod).await }
    })
    .await;
}

async fn pod_step(client: &Client, pod: &Pod) {
    let Some(namespace) = pod.namespace() else { return };
    let name = pod.name_any();
    let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    if pod.metadata.deletion_timestamp.is_some() {
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions { uid: pod.uid(), resource_version: None }),
            ..Default::default()
        };
        let _ = api.delete(&name, &params).await;
        return;
    }
    let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    if node.is_none() {
        let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
            "target": {"apiVersion": "v1", "kind": "Node", "name": NODE}});
        let _ = api.create_subresource::<Value, Value>("binding", &name, &PostParams::default(), &binding).await;
        return;
    }
    let ready = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    if ready {
        return;
    }
    // As a kubelet: no container starts before every claim the Pod mounts is bound (the claim's
    // step runs this again once it is).
    if !claims_bound(client, &namespace, pod).await {
        return;
    }
    let now = jiff_now();
    let containers: Vec<_> =
        pod.spec.as_ref().map(|s| s.containers.iter().map(|c| c.name.clone()).collect()).unwrap_or_default();
    let statuses: Vec<_> = containers
        .iter()
        .map(|c| json!({"name": c, "image": "stand-in", "imageID": "stand-in", "ready": true, "started": true, "restartCount": 0, "state": {"running": {"startedAt": now}}}))
        .collect();
    let conditions: Vec<_> = ["PodScheduled", "Initialized", "ContainersReady", "Ready"]
        .iter()
        .map(|t| json!({"type": t, "status": "True", "lastTransitionTime": now}))
        .collect();
    // A Pod keeps its address; a new one gets the next free loopback address.
    let ip = pod.status.as_ref().and_then(|s| s.pod_ip.clone()).unwrap_or_else(next_pod_ip);
    let status = json!({"status": {"phase": "Running", "conditions": conditions, "containerStatuses": statuses,
        "hostIP": "127.0.0.1", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": now}});
    let _ = api.patch_status(&name, &PatchParams::default(), &Patch::Strategic(status)).await;
}

/// Pod addresses handed out so far (this process runs one control plane's stand-in).
static POD_IPS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The next Pod address, each one different, in 127.1.0.0/16 (the loopback network: a stand-in
/// data plane can serve a Pod's ports on its address, `docs/testing.md`).
fn next_pod_ip() -> String {
    let n = POD_IPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("127.1.{}.{}", (n / 250) % 256, n % 250 + 1)
}

/// Now in RFC 3339, UTC, at second precision, as the API server writes times.
fn jiff_now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Creates (or keeps) the two StorageClasses tests use: [`EXPANDABLE_CLASS`], the default,
/// and [`FIXED_CLASS`].
pub async fn ensure_storage_classes(client: &Client) {
    let classes: Api<StorageClass> = Api::all(client.clone());
    let params = PatchParams::apply("stand-in-kubelet").force();
    for (name, default, expands) in [(EXPANDABLE_CLASS, true, true), (FIXED_CLASS, false, false)] {
        let class = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": name, "annotations": {"storageclass.kubernetes.io/is-default-class": default.to_string()}},
            "provisioner": PROVISIONER, "allowVolumeExpansion": expands, "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate"});
        let _ = classes.patch(name, &params, &Patch::Apply(&class)).await;
    }
}

/// The claims `pod` mounts.
fn claim_names(pod: &Pod) -> Vec<String> {
    let volumes = pod.spec.as_ref().and_then(|s| s.volumes.as_ref());
    volumes
        .into_iter()
        .flatten()
        .filter_map(|v| v.persistent_volume_claim.as_ref().map(|c| c.claim_name.clone()))
        .collect()
}

/// Whether every claim `pod` mounts is bound.
async fn claims_bound(client: &Client, namespace: &str, pod: &Pod) -> bool {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    for name in claim_names(pod) {
        let Ok(claim) = claims.get(&name).await else { return false };
        if claim.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Bound") {
            return false;
        }
    }
    true
}

/// A claim just bound: the Pods that mount it and waited for it start.
async fn start_waiting_pods(client: &Client, claim: &PersistentVolumeClaim) {
    let Some(namespace) = claim.namespace() else { return };
    let name = claim.name_any();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let Ok(listed) = pods.list(&Default::default()).await else { return };
    for pod in listed.items.iter().filter(|p| claim_names(p).contains(&name)) {
        pod_step(client, pod).await;
    }
}

async fn claims(client: Client) {
    for_each(Api::<PersistentVolumeClaim>::all(client.clone()), |claim| {
        let client = client.clone();
        async move { provision(&client, &claim).await }
    })
    .await;
}

async fn provision(client: &Client, claim: &PersistentVolumeClaim) {
    let Some(spec) = claim.spec.as_ref() else { return };
    if claim.metadata.deletion_timestamp.is_some() {
        return;
    }
    if let Some(volume) = &spec.volume_name {
        if claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound") {
            start_waiting_pods(client, claim).await;
        }
        return resize(client, claim, volume).await;
    }
    let Some(namespace) = claim.namespace() else { return };
    let name = claim.name_any();
    let size = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .map(|q| q.0.clone())
        .unwrap_or_else(|| "1Gi".to_owned());
    let modes = spec.access_modes.clone().unwrap_or_else(|| vec!["ReadWriteOnce".to_owned()]);
    let volume_name = format!("pv-{}", claim.uid().unwrap_or_default());
    let volume = json!({"apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": volume_name, "labels": {PROVISIONED_LABEL: "true"}},
        "spec": {"capacity": {"storage": size}, "accessModes": modes, "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": spec.storage_class_name.clone().unwrap_or_default(),
            "hostPath": {"path": format!("/tmp/stand-in-volumes/{namespace}/{name}")},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": namespace, "name": name, "uid": claim.uid()}}});
    let api: Api<PersistentVolume> = Api::all(client.clone());
    let Ok(volume) = serde_json::from_value::<PersistentVolume>(volume) else { return };
    let _ = api.create(&PostParams::default(), &volume).await;
}

/// A bound claim asking for more than its status has: the volume and the claim's status get
/// the new size (the resizer's and the kubelet's part of an expansion).
async fn resize(client: &Client, claim: &PersistentVolumeClaim, volume: &str) {
    let request = |c: &PersistentVolumeClaim| -> Option<String> {
        Some(c.spec.as_ref()?.resources.as_ref()?.requests.as_ref()?.get("storage")?.0.clone())
    };
    let capacity =
        claim.status.as_ref().and_then(|s| s.capacity.as_ref()).and_then(|c| c.get("storage")).map(|q| q.0.clone());
    let (Some(requested), Some(capacity)) = (request(claim), capacity) else { return };
    if requested == capacity || bytes(&requested) <= bytes(&capacity) {
        return;
    }
    let Some(namespace) = claim.namespace() else { return };
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    let grown = json!({"spec": {"capacity": {"storage": requested}}});
    if volumes.patch(volume, &PatchParams::default(), &Patch::Merge(&grown)).await.is_err() {
        return;
    }
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &namespace);
    let status = json!({"status": {"capacity": {"storage": requested}}});
    let _ = claims.patch_status(&claim.name_any(), &PatchParams::default(), &Patch::Merge(&status)).await;
}

/// A storage quantity in bytes, for the sizes tests use (`Ki`…`Ti` and plain numbers);
/// `None` for anything else, which is then not resized.
fn bytes(quantity: &str) -> Option<u128> {
    let units = [("Ki", 1u128 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("Ti", 1 << 40)];
    for (suffix, factor) in units {
        if let Some(number) = quantity.strip_suffix(suffix) {
            return number.parse::<u128>().ok().map(|n| n * factor);
        }
    }
    quantity.parse().ok()
}

async fn volumes(client: Client) {
    let api = Api::<PersistentVolume>::all(client.clone());
    for_each(api.clone(), |volume| {
        let api = api.clone();
        async move {
            let ours = volume.labels().contains_key(PROVISIONED_LABEL);
            let released = volume.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Released");
            if ours && released {
                let _ = api.delete(&volume.name_any(), &DeleteParams::default()).await;
            }
        }
    })
    .await;
}
