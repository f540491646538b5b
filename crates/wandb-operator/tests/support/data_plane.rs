//! A stand-in data plane (issue 20, item 3): real servers where a real vendor operator must
//! talk to its Pods. The stand-in kubelet gives each Pod a loopback address of its own
//! (127.1.0.0/16); here a real `redis-server` serves each Redis Pod of an Opstree replication
//! or standalone Redis on that address and Redis's port, with the password the Pod's `REDIS_PASSWORD` names (if any), so that
//! Opstree can read roles and elect a master as it does in a cluster (`INFO replication`,
//! `REPLICAOF`). Sentinel Pods get no server: Opstree configures Sentinel through the Pod's own
//! entrypoint, which nothing runs here.
#![allow(dead_code)] // each test binary uses part of the support module

use std::collections::HashMap;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};

use super::servers::{Server, redis_pod};

/// Runs the Redis servers of one namespace's Redis Pods; stops them when dropped.
pub struct RedisDataPlane {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RedisDataPlane {
    fn drop(&mut self) {
        // Dropping the task's map drops each `Server`, which stops its process.
        self.task.abort();
    }
}

/// The password a Redis Pod's `REDIS_PASSWORD` names: `Ok(None)` when it has none (Opstree
/// then runs Redis without one), `Err` when the Secret it names cannot be read.
async fn pod_password(client: &Client, pod: &Pod) -> Result<Option<String>, String> {
    let Some(reference) = pod
        .spec
        .as_ref()
        .into_iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.env.iter().flatten())
        .find(|e| e.name == "REDIS_PASSWORD")
        .and_then(|e| e.value_from.as_ref()?.secret_key_ref.clone())
    else {
        return Ok(None);
    };
    let namespace = pod.namespace().unwrap_or_default();
    let secret = Api::<Secret>::namespaced(client.clone(), &namespace)
        .get(&reference.name)
        .await
        .map_err(|e| format!("Secret {}: {e}", reference.name))?;
    let value = secret.data.and_then(|d| d.get(&reference.key).cloned()).ok_or("no such key")?;
    String::from_utf8(value.0).map(Some).map_err(|e| e.to_string())
}

/// Starts serving the replication and standalone Redis Pods of `namespace`.
pub fn redis(client: Client, namespace: &str) -> RedisDataPlane {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let task = tokio::spawn(async move {
        let config = watcher::Config::default().labels("role in (replication,standalone)");
        let mut stream = watcher::watcher(pods, config).default_backoff().boxed();
        let mut servers: HashMap<String, Server> = HashMap::new();
        while let Some(event) = stream.next().await {
            let pod = match event {
                Ok(Event::Apply(pod) | Event::InitApply(pod)) => pod,
                Ok(Event::Delete(pod)) => {
                    servers.remove(&pod.uid().unwrap_or_default());
                    continue;
                }
                _ => continue,
            };
            let uid = pod.uid().unwrap_or_default();
            if pod.metadata.deletion_timestamp.is_some() {
                servers.remove(&uid);
                continue;
            }
            let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
            let Some(ip) = pod.status.as_ref().and_then(|s| s.pod_ip.clone()) else { continue };
            if !running || servers.contains_key(&uid) {
                continue;
            }
            let password = match pod_password(&client, &pod).await {
                Ok(password) => password,
                Err(e) => {
                    eprintln!("data plane: Pod {}: {e}; not served", pod.name_any());
                    continue;
                }
            };
            let server = tokio::task::spawn_blocking(move || redis_pod(&ip, password.as_deref())).await;
            match server {
                Ok(server) => {
                    servers.insert(uid, server);
                }
                Err(e) => eprintln!("data plane: redis-server for Pod {} did not start: {e}", pod.name_any()),
            }
        }
    });
    RedisDataPlane { task }
}
