//! Vendor operator simulators: for each vendor kind, watch the cluster and write the vendor's
//! real status shapes, create the vendor-side PVCs with the vendor's naming, and reproduce the
//! vendor's deletion behaviour (its finalizers, PVCs kept or deleted as the vendor would).
//!
//! On the emulator (no controllers) they create the claims themselves and write StatefulSet
//! status. On a real control plane ([`Controls::real`]) they create what the vendors create —
//! StatefulSets owned by the vendor object, with volume claim templates that give the vendors'
//! claim names — and leave Pods, claims and StatefulSet status to the real controllers (and the
//! stand-in kubelet); a vendor reports ready only once its StatefulSets are.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use super::api_resource as ar;
use wandb_operator::model::Quantity;

/// What tests can tell the simulators.
#[derive(Default)]
pub struct Controls {
    /// Kinds whose simulator reports a vendor error instead of readiness.
    pub failing: Mutex<HashSet<String>>,
    /// Delay before writing status.
    pub delay: Mutex<Duration>,
    /// On a real control plane: StatefulSets with claim templates, status from the real
    /// controllers.
    pub real: bool,
    /// Namespaces to watch (empty: all).
    pub namespaces: Vec<String>,
    /// API groups whose real vendor operator runs (`support::vendor_operators`): not simulated.
    pub unsimulated: Vec<&'static str>,
    /// Percona's backup schedule makes no backup (tests of staleness).
    pub schedule_off: std::sync::atomic::AtomicBool,
    /// Restores started (one per restore object).
    pub restores: std::sync::atomic::AtomicU32,
    /// The restore objects whose restore started (by uid).
    pub restored: Mutex<HashSet<String>>,
    /// The claim size each set's claims were made or last grown with (`ns/set/template`): the
    /// claims are read only when it changes.
    pub claim_sizes: Mutex<std::collections::HashMap<String, String>>,
}

impl Controls {
    /// Makes `kind`'s simulator report an error (or stop doing so).
    pub fn fail(&self, kind: &str, on: bool) {
        let mut f = self.failing.lock().unwrap();
        if on {
            f.insert(kind.to_owned());
        } else {
            f.remove(kind);
        }
    }

    pub(crate) fn failing(&self, kind: &str) -> bool {
        self.failing.lock().unwrap().contains(kind)
    }
}

const OPSTREE_FINALIZERS: [(&str, &str); 3] = [
    ("Redis", "redisFinalizer"),
    ("RedisReplication", "redisReplicationFinalizer"),
    ("RedisSentinel", "redisSentinelFinalizer"),
];
const CHI_FINALIZER: &str = "finalizer.clickhouseinstallation.altinity.com";

/// Runs every simulator until aborted.
pub async fn run(client: Client, controls: std::sync::Arc<Controls>) {
    let kinds = vec![
        ar("pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters"),
        ar("pxc.percona.com/v1", "PerconaXtraDBClusterBackup", "perconaxtradbclusterbackups"),
        ar("pxc.percona.com/v1", "PerconaXtraDBClusterRestore", "perconaxtradbclusterrestores"),
        ar("kafka.strimzi.io/v1", "Kafka", "kafkas"),
        ar("kafka.strimzi.io/v1", "KafkaNodePool", "kafkanodepools"),
        ar("redis.redis.opstreelabs.in/v1beta2", "Redis", "redis"),
        ar("redis.redis.opstreelabs.in/v1beta2", "RedisReplication", "redisreplications"),
        ar("redis.redis.opstreelabs.in/v1beta2", "RedisSentinel", "redissentinels"),
        ar("minio.min.io/v2", "Tenant", "tenants"),
        ar("clickhouse.altinity.com/v1", "ClickHouseInstallation", "clickhouseinstallations"),
        ar("clickhouse-keeper.altinity.com/v1", "ClickHouseKeeperInstallation", "clickhousekeeperinstallations"),
    ];
    let kinds: Vec<ApiResource> =
        kinds.into_iter().filter(|k| !controls.unsimulated.contains(&k.group.as_str())).collect();
    let scopes: Vec<Option<String>> = if controls.namespaces.is_empty() {
        vec![None]
    } else {
        controls.namespaces.iter().cloned().map(Some).collect()
    };
    let mut tasks: Vec<tokio::task::JoinHandle<()>> = vec![];
    for scope in &scopes {
        for kind in &kinds {
            let (client, controls, kind) = (client.clone(), controls.clone(), kind.clone());
            let api: Api<DynamicObject> = match scope {
                Some(ns) => Api::namespaced_with(client.clone(), ns, &kind),
                None => Api::all_with(client.clone(), &kind),
            };
            tasks.push(tokio::spawn(async move {
                let mut stream = watcher::watcher(api, watcher::Config::default()).default_backoff().boxed();
                while let Some(event) = stream.next().await {
                    if let Ok(Event::Apply(object) | Event::InitApply(object)) = event {
                        let delay = *controls.delay.lock().unwrap();
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        let _ = simulate(&client, &kind, &object, &controls).await;
                    }
                }
            }));
        }
        if controls.real {
            // A vendor reacts to its StatefulSets' status: re-simulate the owner on each change.
            let (client, controls, kinds) = (client.clone(), controls.clone(), kinds.clone());
            let sts = ar("apps/v1", "StatefulSet", "statefulsets");
            let api: Api<DynamicObject> = match scope {
                Some(ns) => Api::namespaced_with(client.clone(), ns, &sts),
                None => Api::all_with(client.clone(), &sts),
            };
            tasks.push(tokio::spawn(async move {
                let mut stream = watcher::watcher(api, watcher::Config::default()).default_backoff().boxed();
                while let Some(event) = stream.next().await {
                    let Ok(Event::Apply(set) | Event::InitApply(set)) = event else { continue };
                    let ns = set.namespace().unwrap_or_default();
                    for owner in set.owner_references() {
                        let Some(kind) = kinds.iter().find(|k| k.kind == owner.kind) else { continue };
                        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, kind);
                        if let Ok(object) = api.get(&owner.name).await {
                            let _ = simulate(&client, kind, &object, &controls).await;
                        }
                    }
                }
            }));
        }
    }
    // Aborting `run` (Harness::stop_simulators, or dropping the harness) stops every simulator.
    let mut guard = AbortOnDrop(tasks);
    futures::future::join_all(guard.0.iter_mut()).await;
}

/// Aborts the simulator tasks when dropped.
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// A claim template of a vendor's StatefulSet: its name, labels and size.
pub(crate) struct ClaimTemplate {
    name: String,
    labels: Value,
    size: String,
}

fn claim_template(name: impl Into<String>, labels: Value, size: &str) -> ClaimTemplate {
    ClaimTemplate { name: name.into(), labels, size: size.to_owned() }
}

/// The size at `pointer` in a vendor object's spec (`1Gi` when it names none).
fn size_at(spec: &Value, pointer: &str) -> String {
    spec.pointer(pointer).and_then(Value::as_str).unwrap_or("1Gi").to_owned()
}

/// On the emulator, the claim a StatefulSet would make: with the default StorageClass (which
/// the real API server's admission names) and, bound at once, its capacity.
async fn ensure_pvc(client: &Client, namespace: &str, name: &str, template: &ClaimTemplate) {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    let pvc = serde_json::from_value(json!({"metadata": {"name": name, "labels": template.labels},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": kube_control_plane::kubelet::EXPANDABLE_CLASS,
            "resources": {"requests": {"storage": template.size}}}}))
    .unwrap();
    if api.create(&PostParams::default(), &pvc).await.is_ok() {
        let status = json!({"status": {"phase": "Bound", "capacity": {"storage": template.size}}});
        let _ = api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status)).await;
    }
}

/// Grows the set's claims to their template's size, as the vendors do when the storage size
/// grows (the real API server refuses it unless the claim's class allows expansion; the
/// stand-in kubelet then gives the volume its size). On the emulator the capacity follows at
/// once.
async fn grow_claims(
    client: &Client,
    controls: &Controls,
    namespace: &str,
    set: &str,
    (replicas, expands): (i64, bool),
    templates: &[ClaimTemplate],
) {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    for template in templates {
        let key = format!("{namespace}/{set}/{}", template.name);
        let previous = controls.claim_sizes.lock().unwrap().get(&key).cloned();
        // First seen: the claims were made at this size. Unchanged: nothing to grow. A vendor
        // told not to grow its claims leaves them (and tries again once told).
        let Some(previous) = previous else {
            controls.claim_sizes.lock().unwrap().insert(key, template.size.clone());
            continue;
        };
        if previous == template.size || !expands {
            continue;
        }
        let mut grown_all = true;
        for i in 0..replicas {
            let name = format!("{}-{set}-{i}", template.name);
            let Ok(claim) = api.get(&name).await else { continue };
            let requested = claim.spec.as_ref().and_then(|s| s.resources.as_ref()).and_then(|r| r.requests.as_ref());
            let requested = requested.and_then(|r| r.get("storage")).map(|q| q.0.clone()).unwrap_or_default();
            let (Ok(wanted), Ok(have)) = (Quantity::parse(&template.size), Quantity::parse(&requested)) else {
                continue;
            };
            if wanted <= have {
                continue;
            }
            let grown = json!({"spec": {"resources": {"requests": {"storage": template.size}}}});
            match api.patch(&name, &PatchParams::default(), &Patch::Merge(&grown)).await {
                Ok(_) if !controls.real => {
                    let status = json!({"status": {"capacity": {"storage": template.size}}});
                    let _ = api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status)).await;
                }
                Ok(_) => {}
                // Refused (a class that does not expand) or failed: tried again on the next pass.
                Err(_) => grown_all = false,
            }
        }
        if grown_all {
            controls.claim_sizes.lock().unwrap().insert(key, template.size.clone());
        }
    }
}

/// Percona creates `<secretsName>` (default `<cluster>-secrets`) with a password per system
/// user when it does not exist, without labels of ours.
async fn ensure_pxc_secrets(client: &Client, namespace: &str, name: &str) {
    let api: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), namespace);
    if api.get_metadata_opt(name).await.ok().flatten().is_some() {
        return;
    }
    let mut data = serde_json::Map::new();
    for user in ["root", "xtrabackup", "monitor", "operator", "replication", "proxyadmin"] {
        let password: String = (0..20).map(|i| char::from(b'a' + ((user.len() * 7 + i * 13) % 26) as u8)).collect();
        data.insert(user.to_owned(), json!(password));
    }
    let secret = serde_json::from_value(json!({"metadata": {"name": name}, "stringData": data})).unwrap();
    let _ = api.create(&PostParams::default(), &secret).await;
}

/// Creates the Secret `name` with `data` unless it exists (vendors create theirs once).
async fn ensure_secret(client: &Client, namespace: &str, name: &str, data: &[(&str, &str)], owners: Option<Value>) {
    let api: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), namespace);
    if api.get_metadata_opt(name).await.ok().flatten().is_some() {
        return;
    }
    let data: serde_json::Map<String, Value> = data.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    let mut metadata = json!({"name": name});
    if let Some(owners) = owners {
        metadata["ownerReferences"] = owners;
    }
    let secret = serde_json::from_value(json!({"metadata": metadata, "stringData": data})).unwrap();
    let _ = api.create(&PostParams::default(), &secret).await;
}

/// A PEM-shaped stand-in for a certificate (the simulators sign nothing).
fn fake_pem(what: &str, owner: &str) -> String {
    format!("-----BEGIN CERTIFICATE-----\nc2ltdWxhdGVk {what} of {owner}\n-----END CERTIFICATE-----\n")
}

async fn delete_pvcs(client: &Client, namespace: &str, prefix: &str) {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    if let Ok(list) = api.list(&Default::default()).await {
        for pvc in list.items.iter().filter(|p| p.name_any().starts_with(prefix)) {
            let _ = api.delete(&pvc.name_any(), &DeleteParams::default()).await;
        }
    }
}

pub(crate) async fn write_status(client: &Client, kind: &ApiResource, object: &DynamicObject, status: Value) {
    if object.data.get("status") == Some(&status) {
        return;
    }
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &object.namespace().unwrap_or_default(), kind);
    let patch = Patch::Merge(json!({"status": status}));
    if api.patch_status(&object.name_any(), &PatchParams::default(), &patch).await.is_err() {
        let _ = api.patch(&object.name_any(), &PatchParams::default(), &patch).await;
    }
}

async fn set_finalizers(client: &Client, kind: &ApiResource, object: &DynamicObject, finalizers: Vec<String>) {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &object.namespace().unwrap_or_default(), kind);
    let _ = api
        .patch(
            &object.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": finalizers}})),
        )
        .await;
}

async fn statefulset(
    client: &Client,
    namespace: &str,
    name: &str,
    replicas: i64,
    owner: &DynamicObject,
    kind: &ApiResource,
    labels: &Value,
) {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &ar("apps/v1", "StatefulSet", "statefulsets"));
    let body = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "labels": labels, "ownerReferences": [{"apiVersion": kind.api_version, "kind": kind.kind, "name": owner.name_any(), "uid": owner.metadata.uid, "controller": true}]},
        "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "redis", "image": "redis"}]}}}});
    let sts = api.patch(name, &PatchParams::apply("opstree-simulator").force(), &Patch::Apply(&body)).await;
    if let Ok(sts) = sts {
        let generation = sts.metadata.generation.unwrap_or(1);
        let status = json!({"replicas": replicas, "readyReplicas": replicas, "updatedReplicas": replicas, "observedGeneration": generation});
        if sts.data.get("status") != Some(&status) {
            let _ = api.patch_status(name, &PatchParams::default(), &Patch::Merge(json!({"status": status}))).await;
        }
    }
}

/// The vendor's pods and storage for one set: claims `TEMPLATE-SET-ORDINAL` for each
/// `(TEMPLATE, labels)`. On the emulator the claims are created directly (no StatefulSet
/// controller runs); on a real control plane a StatefulSet owned by `owner` is applied and the
/// real controller makes the Pods and claims. Returns whether the set is ready (always on the
/// emulator).
async fn workload(
    client: &Client,
    controls: &Controls,
    namespace: &str,
    set: &str,
    replicas: i64,
    (owner, kind, set_labels): (&DynamicObject, &ApiResource, &Value),
    templates: &[ClaimTemplate],
) -> bool {
    if !controls.real {
        for i in 0..replicas {
            for template in templates {
                ensure_pvc(client, namespace, &format!("{}-{set}-{i}", template.name), template).await;
            }
        }
        return true;
    }
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &ar("apps/v1", "StatefulSet", "statefulsets"));
    // A StatefulSet's claim templates cannot change: an existing set keeps its own.
    let existing =
        api.get_opt(set).await.ok().flatten().and_then(|s| s.data.pointer("/spec/volumeClaimTemplates").cloned());
    let claims = existing.unwrap_or_else(|| {
        templates
            .iter()
            .map(|t| {
                json!({"metadata": {"name": t.name, "labels": t.labels},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": t.size}}}})
            })
            .collect()
    });
    let body = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": set, "labels": set_labels, "ownerReferences": [{"apiVersion": kind.api_version, "kind": kind.kind, "name": owner.name_any(), "uid": owner.metadata.uid, "controller": true}]},
        "spec": {"replicas": replicas, "serviceName": set, "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"simulator.test/set": set}},
            "template": {"metadata": {"labels": {"simulator.test/set": set}}, "spec": {"containers": [{"name": "main", "image": "stand-in"}]}},
            "volumeClaimTemplates": claims}});
    let params = PatchParams::apply(&format!("{}-simulator", kind.kind.to_lowercase())).force();
    let Ok(applied) = api.patch(set, &params, &Patch::Apply(&body)).await else { return false };
    let generation = applied.metadata.generation.unwrap_or(1);
    let status = applied.data.get("status").cloned().unwrap_or(Value::Null);
    status.get("observedGeneration").and_then(Value::as_i64) == Some(generation)
        && status.get("readyReplicas").and_then(Value::as_i64).unwrap_or(0) >= replicas
}

/// The labels Opstree puts on a StatefulSet (and its claim templates): `app`,
/// `redis_setup_type` and `role`, then every label of the Redis resource itself
/// (`getRedisLabels` in the vendor's `internal/k8sutils/labels.go`).
fn opstree_labels(object: &DynamicObject, kind: &str, set: &str) -> Value {
    let setup = match kind {
        "RedisReplication" => "replication",
        "RedisSentinel" => "sentinel",
        _ => "standalone",
    };
    let mut labels = json!({"app": set, "redis_setup_type": setup, "role": setup});
    for (key, value) in object.labels() {
        labels[key] = json!(value);
    }
    labels
}

/// The vendors' own pauses, as the real operators read them: Opstree skips a paused object
/// but still finalizes its deletion (`internal/controller/*/…_controller.go` at v0.26.0);
/// Altinity does not even enqueue a suspended installation, deletion included
/// (`shouldEnqueue`, 0.25.6); Strimzi pauses the Kafka and, with it, its node pools.
async fn vendor_paused(client: &Client, kind: &ApiResource, object: &DynamicObject, deleting: bool) -> bool {
    let annotated = |o: &DynamicObject, a: &str| o.annotations().get(a).map(String::as_str) == Some("true");
    match kind.kind.as_str() {
        "Redis" => !deleting && annotated(object, "redis.opstreelabs.in/skip-reconcile"),
        "RedisReplication" => !deleting && annotated(object, "redisreplication.opstreelabs.in/skip-reconcile"),
        "RedisSentinel" => !deleting && annotated(object, "redissentinel.opstreelabs.in/skip-reconcile"),
        "ClickHouseInstallation" | "ClickHouseKeeperInstallation" => {
            matches!(object.data.pointer("/spec/suspend").and_then(Value::as_str), Some("true" | "1" | "yes" | "on"))
        }
        "Kafka" => annotated(object, "strimzi.io/pause-reconciliation"),
        "KafkaNodePool" => {
            let Some(cluster) = object.labels().get("strimzi.io/cluster") else { return false };
            let kafkas: Api<DynamicObject> = Api::namespaced_with(
                client.clone(),
                &object.namespace().unwrap_or_default(),
                &ar("kafka.strimzi.io/v1", "Kafka", "kafkas"),
            );
            kafkas.get(cluster).await.is_ok_and(|k| annotated(&k, "strimzi.io/pause-reconciliation"))
        }
        _ => false,
    }
}

async fn simulate(client: &Client, kind: &ApiResource, object: &DynamicObject, controls: &Controls) -> Option<()> {
    let ns = object.namespace()?;
    let name = object.name_any();
    let generation = object.metadata.generation.unwrap_or(1);
    let spec = object.data.get("spec").cloned().unwrap_or(Value::Null);
    let deleting = object.metadata.deletion_timestamp.is_some();
    let failing = controls.failing(&kind.kind);
    if vendor_paused(client, kind, object, deleting).await {
        return Some(());
    }
    match kind.kind.as_str() {
        "PerconaXtraDBCluster" => {
            let size = spec.pointer("/pxc/size").and_then(Value::as_i64).unwrap_or(1);
            if deleting {
                // Percona deletes data only through the creator's `percona.com/delete-pxc-pvc`.
                let mut finalizers = object.finalizers().to_vec();
                if finalizers.iter().any(|f| f == "percona.com/delete-pxc-pvc") {
                    delete_pvcs(client, &ns, &format!("datadir-{name}-pxc-")).await;
                    finalizers.retain(|f| f != "percona.com/delete-pxc-pvc");
                    set_finalizers(client, kind, object, finalizers).await;
                }
                return Some(());
            }
            // Percona 1.20 validates the cluster before anything else (`CheckNSetDefaults`).
            let proxied = ["/haproxy/enabled", "/proxysql/enabled"]
                .iter()
                .any(|p| spec.pointer(p).and_then(Value::as_bool) == Some(true));
            if spec.pointer("/updateStrategy").and_then(Value::as_str) == Some("SmartUpdate") && !proxied {
                let message =
                    "wrong PXC options: validate cr: ProxySQL or HAProxy should be enabled if SmartUpdate set";
                write_status(
                    client,
                    kind,
                    object,
                    json!({"state": "error", "message": ["Error: ".to_owned() + message]}),
                )
                .await;
                return Some(());
            }
            let secrets = spec
                .get("secretsName")
                .and_then(Value::as_str)
                .map_or_else(|| format!("{name}-secrets"), str::to_owned);
            ensure_pxc_secrets(client, &ns, &secrets).await;
            // With TLS on, Percona generates its CA and certificates into `<c>-ssl` (clients)
            // and `<c>-ssl-internal` (replication).
            if spec.pointer("/tls/enabled").and_then(Value::as_bool).unwrap_or(true) {
                for secret in [format!("{name}-ssl"), format!("{name}-ssl-internal")] {
                    let ca = fake_pem("percona CA", &secret);
                    ensure_secret(client, &ns, &secret, &[("ca.crt", &ca), ("tls.crt", &ca), ("tls.key", "key")], None)
                        .await;
                }
            }
            let storage = size_at(&spec, "/pxc/volumeSpec/persistentVolumeClaim/resources/requests/storage");
            let templates = [claim_template("datadir", json!({"app.kubernetes.io/instance": name}), &storage)];
            let set = format!("{name}-pxc");
            let ready = workload(client, controls, &ns, &set, size, (object, kind, &json!({})), &templates).await;
            // Percona grows its claims only when told to (`enableVolumeExpansion`, or from 1.20
            // `storageScaling.enableVolumeScaling`).
            let expands = [spec.pointer("/enableVolumeExpansion"), spec.pointer("/storageScaling/enableVolumeScaling")]
                .iter()
                .any(|v| v.and_then(Value::as_bool) == Some(true));
            grow_claims(client, controls, &ns, &set, (size, expands), &templates).await;
            if !ready {
                return Some(());
            }
            let status = if failing {
                json!({"state": "error", "message": ["simulated PXC failure"], "observedGeneration": generation})
            } else {
                // Percona reports the image and the version mysqld runs: an exact tag's version
                // (`8.4.8-8.1`), or for a floating line tag (`8.0`) a patch release of the line
                // (here always the simulated `.42-33.1`).
                let image = spec.pointer("/pxc/image").and_then(Value::as_str).unwrap_or_default();
                let tag = image.rsplit(':').next().unwrap_or_default().trim_start_matches("main-pxc");
                let version = if tag.contains('-') { tag.to_owned() } else { format!("{tag}.42-33.1") };
                json!({"state": "ready", "observedGeneration": generation, "pxc": {"size": size, "ready": size, "status": "ready", "image": image, "version": version}, "host": format!("{name}-pxc.{ns}"), "ready": size, "size": size})
            };
            write_status(client, kind, object, status).await;
            if !failing {
                let backups = ar("pxc.percona.com/v1", "PerconaXtraDBClusterBackup", "perconaxtradbclusterbackups");
                super::percona_backups::ensure_scheduled(client, &backups, object, controls).await;
            }
        }
        "PerconaXtraDBClusterBackup" if !deleting => {
            super::percona_backups::backup(client, kind, object, controls).await
        }
        "PerconaXtraDBClusterRestore" if !deleting => {
            super::percona_backups::restore(client, kind, object, controls).await
        }
        "Kafka" => {
            if deleting {
                return Some(());
            }
            let condition = if failing {
                json!({"type": "NotReady", "status": "True", "reason": "InvalidResourceException", "message": "simulated Strimzi failure"})
            } else {
                json!({"type": "Ready", "status": "True"})
            };
            // What the brokers run: the new version once they rolled to it; a failed roll
            // leaves them on the version they ran.
            let kafka_version = if failing { object.data.pointer("/status/kafkaVersion") } else { None }
                .or_else(|| object.data.pointer("/spec/kafka/version"))
                .cloned()
                .unwrap_or(Value::Null);
            // Strimzi's cluster CA (it signs the brokers' certificates) and one status entry
            // per listener.
            // Strimzi's CA Secrets are owned by the Kafka (the garbage collector removes them).
            let owner = json!([{"apiVersion": kind.api_version, "kind": kind.kind, "name": name, "uid": object.metadata.uid, "controller": false}]);
            let ca = fake_pem("strimzi cluster CA", &name);
            ensure_secret(
                client,
                &ns,
                &format!("{name}-cluster-ca-cert"),
                &[("ca.crt", &ca), ("ca.password", "x")],
                Some(owner),
            )
            .await;
            let listeners: Vec<Value> = spec
                .pointer("/kafka/listeners")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|l| {
                    let (listener, port) = (l["name"].as_str().unwrap_or_default(), l["port"].as_i64().unwrap_or_default());
                    json!({"name": listener, "bootstrapServers": format!("{name}-kafka-bootstrap.{ns}.svc:{port}"), "addresses": [{"host": format!("{name}-kafka-bootstrap.{ns}.svc"), "port": port}]})
                })
                .collect();
            let status = json!({"observedGeneration": generation, "conditions": [condition], "kafkaVersion": kafka_version, "listeners": listeners});
            write_status(client, kind, object, status).await;
        }
        "KafkaNodePool" => {
            if deleting {
                return Some(());
            }
            let replicas = spec.get("replicas").and_then(Value::as_i64).unwrap_or(1);
            let cluster = object.labels().get("strimzi.io/cluster").cloned().unwrap_or_default();
            // Strimzi owns a claim by its Kafka only with `deleteClaim: true` (then GC removes it).
            let delete_claim = spec.pointer("/storage/volumes/0/deleteClaim").and_then(Value::as_bool).unwrap_or(false);
            let kafka_uid = if delete_claim {
                let kafka: Api<DynamicObject> =
                    Api::namespaced_with(client.clone(), &ns, &ar("kafka.strimzi.io/v1", "Kafka", "kafkas"));
                kafka.get(&cluster).await.ok().and_then(|k| k.metadata.uid)
            } else {
                None
            };
            let templates = [claim_template(
                "data-0",
                json!({"strimzi.io/cluster": cluster}),
                &size_at(&spec, "/storage/volumes/0/size"),
            )];
            let set = format!("{cluster}-{name}");
            let ready = workload(client, controls, &ns, &set, replicas, (object, kind, &json!({})), &templates).await;
            grow_claims(client, controls, &ns, &set, (replicas, true), &templates).await;
            for i in 0..replicas {
                let pvc = format!("data-0-{cluster}-{name}-{i}");
                if let Some(uid) = &kafka_uid {
                    let owner = json!({"metadata": {"ownerReferences": [{"apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka", "name": cluster, "uid": uid}]}});
                    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
                    let _ = claims.patch(&pvc, &PatchParams::default(), &Patch::Merge(owner)).await;
                }
            }
            if !ready {
                return Some(());
            }
            write_status(client, kind, object, json!({"observedGeneration": generation, "replicas": replicas, "nodeIds": (0..replicas).collect::<Vec<_>>()})).await;
        }
        "Redis" | "RedisReplication" | "RedisSentinel" => {
            let finalizer = OPSTREE_FINALIZERS.iter().find(|(k, _)| *k == kind.kind).map(|(_, f)| (*f).to_owned())?;
            let mut finalizers = object.finalizers().to_vec();
            if deleting {
                if finalizers.contains(&finalizer) {
                    let keep = spec.pointer("/storage/keepAfterDelete").and_then(Value::as_bool).unwrap_or(false);
                    if !keep && kind.kind != "RedisSentinel" {
                        delete_pvcs(client, &ns, &format!("{name}-{name}-")).await;
                    }
                    finalizers.retain(|f| f != &finalizer);
                    set_finalizers(client, kind, object, finalizers).await;
                }
                return Some(());
            }
            if !finalizers.contains(&finalizer) {
                finalizers.push(finalizer);
                set_finalizers(client, kind, object, finalizers).await;
            }
            let replicas = spec.get("clusterSize").and_then(Value::as_i64).unwrap_or(1);
            let sts = if kind.kind == "RedisSentinel" { format!("{name}-sentinel") } else { name.clone() };
            let labels = opstree_labels(object, &kind.kind, &sts);
            // Opstree's claim templates carry the StatefulSet's labels.
            let storage = size_at(&spec, "/storage/volumeClaimTemplate/spec/resources/requests/storage");
            let templates = if kind.kind == "RedisSentinel" {
                vec![]
            } else {
                vec![claim_template(name.clone(), labels.clone(), &storage)]
            };
            if controls.real {
                // The operator reads readiness from this StatefulSet; the real controller writes it.
                workload(client, controls, &ns, &sts, replicas, (object, kind, &labels), &templates).await;
            } else {
                statefulset(client, &ns, &sts, replicas, object, kind, &labels).await;
                workload(client, controls, &ns, &sts, replicas, (object, kind, &labels), &templates).await;
            }
            // Opstree grows the claims of a set whose claim template grew (`HandlePVCResizing`).
            grow_claims(client, controls, &ns, &sts, (replicas, true), &templates).await;
            if kind.kind == "RedisReplication" {
                // Failing: no master elected (what the real Opstree reports when it cannot
                // reach the servers).
                let master = if failing { String::new() } else { format!("{name}-0") };
                write_status(client, kind, object, json!({"masterNode": master})).await;
            }
        }
        "Tenant" => {
            if deleting {
                return Some(());
            }
            let servers = spec.pointer("/pools/0/servers").and_then(Value::as_i64).unwrap_or(1);
            let volumes = spec.pointer("/pools/0/volumesPerServer").and_then(Value::as_i64).unwrap_or(1);
            // The MinIO operator never grows a pool's claims.
            let storage = size_at(&spec, "/pools/0/volumeClaimTemplate/spec/resources/requests/storage");
            let templates: Vec<ClaimTemplate> = (0..volumes)
                .map(|v| claim_template(format!("data{v}"), json!({"v1.min.io/tenant": name}), &storage))
                .collect();
            if !workload(
                client,
                controls,
                &ns,
                &format!("{name}-pool-0"),
                servers,
                (object, kind, &json!({})),
                &templates,
            )
            .await
            {
                return Some(());
            }
            let status = if failing {
                json!({"currentState": "Another MinIO Tenant already exists in the namespace", "availableReplicas": 0, "certificates": {}, "pools": [], "revision": 0, "syncVersion": ""})
            } else {
                json!({"currentState": "Initialized", "healthStatus": "green", "availableReplicas": servers, "certificates": {}, "pools": [], "revision": 0, "syncVersion": "v7"})
            };
            write_status(client, kind, object, status).await;
        }
        "ClickHouseInstallation" | "ClickHouseKeeperInstallation" => {
            let chi = kind.kind == "ClickHouseInstallation";
            let replicas =
                spec.pointer("/configuration/clusters/0/layout/replicasCount").and_then(Value::as_i64).unwrap_or(1);
            let cluster =
                spec.pointer("/configuration/clusters/0/name").and_then(Value::as_str).unwrap_or("cluster").to_owned();
            let prefix =
                if chi { format!("data-chi-{name}-{cluster}-0-") } else { format!("data-chk-{name}-{cluster}-0-") };
            let mut finalizers = object.finalizers().to_vec();
            if deleting {
                if chi && finalizers.iter().any(|f| f == CHI_FINALIZER) {
                    let retain =
                        spec.pointer("/templates/volumeClaimTemplates/0/reclaimPolicy").and_then(Value::as_str)
                            == Some("Retain");
                    if !retain {
                        delete_pvcs(client, &ns, &prefix).await;
                    }
                    finalizers.retain(|f| f != CHI_FINALIZER);
                    set_finalizers(client, kind, object, finalizers).await;
                }
                return Some(());
            }
            if chi && !finalizers.iter().any(|f| f == CHI_FINALIZER) {
                finalizers.push(CHI_FINALIZER.to_owned());
                set_finalizers(client, kind, object, finalizers).await;
            }
            let mut ready = true;
            let set_prefix = prefix.trim_start_matches("data-").to_owned();
            let storage = size_at(&spec, "/templates/volumeClaimTemplates/0/spec/resources/requests/storage");
            for r in 0..replicas {
                let templates = [claim_template("data", json!({}), &storage)];
                let set = format!("{set_prefix}{r}");
                ready &= workload(client, controls, &ns, &set, 1, (object, kind, &json!({})), &templates).await;
                // Altinity grows each host's claims itself (`reconcilePVC`, 0.25.6).
                grow_claims(client, controls, &ns, &set, (1, true), &templates).await;
            }
            if !ready {
                return Some(());
            }
            let state = if failing { "Aborted" } else { "Completed" };
            // As the real 0.25.6 reports (tests/real_vendors.rs): a Keeper installation carries
            // `normalizedCompleted` and empty task IDs; a server installation carries no
            // `normalizedCompleted`, and completes `spec.taskID` (or an `auto-…` one of its own).
            let mut status = json!({"status": state, "error": if failing { "simulated Altinity failure" } else { "" },
                "hosts": replicas, "hostsCompleted": replicas});
            if chi {
                let task = spec
                    .get("taskID")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("auto-{generation}"), str::to_owned);
                status["taskID"] = json!(task);
                status["taskIDsCompleted"] = json!([task]);
            } else {
                status["normalizedCompleted"] = json!({"metadata": {"generation": generation}});
                status["taskIDsCompleted"] = json!([""]);
            }
            write_status(client, kind, object, status).await;
        }
        _ => {}
    }
    Some(())
}
