//! A stand-in data plane (issue 20, item 3): real servers where a real vendor operator must
//! talk to its Pods. The stand-in kubelet gives each Pod a loopback address of its own
//! (127.1.0.0/16); a real server serves each Pod on that address and the engine's port:
//! - `redis-server` for each Redis Pod of an Opstree replication or standalone Redis, with the
//!   password the Pod's `REDIS_PASSWORD` names (if any), so that Opstree can read roles and
//!   elect a master as it does in a cluster (`INFO replication`, `REPLICAOF`). Sentinel Pods
//!   get no server: Opstree configures Sentinel through the Pod's own entrypoint, which
//!   nothing runs here.
//! - MariaDB for each PXC Pod of a Percona cluster, with the cluster's system users, kept per
//!   Pod name (Percona restarts a Pod under its name and expects its data back).
//! - ClickHouse for each server Pod of an Altinity installation, declaring the Pod's cluster,
//!   so that Altinity reads each host's version and cluster membership.
//!
//! Percona and Altinity find the Pods by DNS name: the data plane writes the names into the
//! hosts file each has as `/etc/hosts` in its private mount namespace.
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

/// A Pod served by a server of its own: the Pod's name and address, and the server.
struct PodServer {
    name: String,
    ip: String,
    server: Server,
}

/// Keeps one server per running Pod of `namespace` that `labels` selects, by the Pod's uid (a
/// Pod recreated under its name is another Pod, with a new address and a new server): `start`
/// makes it for a Pod and its address (`None`: not served; it reports why), and `served` sees
/// every Pod served after each start. A Pod deleted or being deleted loses its server.
fn serve_each_pod<Start, Started>(
    client: Client,
    namespace: &str,
    labels: &str,
    mut start: Start,
    mut served: impl FnMut(&HashMap<String, PodServer>) + Send + 'static,
) -> tokio::task::JoinHandle<()>
where
    Start: FnMut(Pod, String) -> Started + Send + 'static,
    Started: std::future::Future<Output = Option<Server>> + Send,
{
    let pods: Api<Pod> = Api::namespaced(client, namespace);
    let config = watcher::Config::default().labels(labels);
    tokio::spawn(async move {
        let mut stream = watcher::watcher(pods, config).default_backoff().boxed();
        let mut servers: HashMap<String, PodServer> = HashMap::new();
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
            let name = pod.name_any();
            if let Some(server) = start(pod, ip.clone()).await {
                servers.insert(uid, PodServer { name, ip, server });
                served(&servers);
            }
        }
    })
}

/// Starts serving the replication and standalone Redis Pods of `namespace`.
pub fn redis(client: Client, namespace: &str) -> RedisDataPlane {
    let labels = "role in (replication,standalone)";
    let secrets = client.clone();
    let start = move |pod: Pod, ip: String| {
        let client = secrets.clone();
        async move {
            let password = match pod_password(&client, &pod).await {
                Ok(password) => password,
                Err(e) => {
                    eprintln!("data plane: Pod {}: {e}; not served", pod.name_any());
                    return None;
                }
            };
            match tokio::task::spawn_blocking(move || redis_pod(&ip, password.as_deref())).await {
                Ok(server) => Some(server),
                Err(e) => {
                    eprintln!("data plane: redis-server for Pod {} did not start: {e}", pod.name_any());
                    None
                }
            }
        }
    };
    RedisDataPlane { task: serve_each_pod(client, namespace, labels, start, |_| {}) }
}

/// Runs a MariaDB for each PXC Pod of one Percona cluster; stops them when dropped.
pub struct MysqlDataPlane {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MysqlDataPlane {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A PXC Pod served by MariaDB: its cluster, the Pod it serves now (uid, address) and its
/// server.
struct ServedPod {
    cluster: String,
    uid: String,
    ip: String,
    server: Server,
}

/// The system users Percona's Pods create from the cluster's internal Secret (its entrypoint
/// does it in a cluster): every key of `internal-<cluster>` is a user with that password.
async fn internal_users(client: &Client, namespace: &str, cluster: &str) -> Option<Vec<(String, String)>> {
    let secret =
        Api::<Secret>::namespaced(client.clone(), namespace).get_opt(&format!("internal-{cluster}")).await.ok()??;
    let data = secret.data?;
    Some(data.into_iter().filter_map(|(user, password)| Some((user, String::from_utf8(password.0).ok()?))).collect())
}

/// MySQL 8's `mysql.user` has `User_attributes` (a user's secondary password, among others),
/// which Percona reads to know whether an old password was discarded; MariaDB's `mysql.user`
/// view lacks it. This adds it to the view as `NULL` (no secondary password), the value of a
/// MySQL user that has only one password.
const USER_ATTRIBUTES: &str = "SELECT VIEW_DEFINITION INTO @d FROM information_schema.VIEWS \
    WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'user'; \
    SET @q = CONCAT('CREATE OR REPLACE DEFINER = `mariadb.sys`@`localhost` SQL SECURITY DEFINER VIEW mysql.user AS ', \
    REPLACE(@d, ' from `mysql`.`global_priv`', ', NULL AS `User_attributes` from `mysql`.`global_priv`')); \
    PREPARE add_column FROM @q; EXECUTE add_column;";

/// A string as a MySQL literal.
fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// The `/etc/hosts` lines (without `localhost`) that stand in for cluster DNS for `cluster`'s Pods at `addresses`
/// (`(pod, address)`): each Pod's own name under the cluster's headless Service, and the
/// cluster's Services (`-pxc`, `-pxc-unready`, `-haproxy`, `-haproxy-replicas`, `-proxysql`)
/// on Pod 0's address: one server stands in for the Galera cluster's writer, which HAProxy's
/// primary Service sends every connection to.
pub fn mysql_hosts(namespace: &str, cluster: &str, addresses: &[(String, String)]) -> String {
    let mut text = String::new();
    let full = |name: String| format!("{name} {name}.svc {name}.svc.cluster.local");
    for (pod, address) in addresses {
        text.push_str(&format!("{address} {}\n", full(format!("{pod}.{cluster}-pxc.{namespace}"))));
        if pod.ends_with("-pxc-0") {
            for service in ["pxc", "pxc-unready", "haproxy", "haproxy-replicas", "proxysql"] {
                text.push_str(&format!("{address} {}\n", full(format!("{cluster}-{service}.{namespace}"))));
            }
        }
    }
    text
}

/// Starts serving the PXC Pods of the Percona clusters in `namespace` with MariaDB (see
/// [`super::servers::mariadb_pod`]): once a Pod runs with an address and Percona has made
/// `internal-<cluster>`, a server on the Pod's address with the system users of that Secret
/// (all privileges, as Percona's entrypoint grants its `root` and `operator`). `hosts` (the
/// file a vendor operator's private mount namespace has as `/etc/hosts`) is rewritten in
/// place with [`mysql_hosts`] as Pods are served. Where MariaDB cannot do what MySQL 8 does,
/// the deviation is marked in the code (two one-time grants of Percona's, and `User_attributes`).
pub fn mysql(client: Client, namespace: &str, hosts: std::path::PathBuf) -> MysqlDataPlane {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let namespace = namespace.to_owned();
    let task = tokio::spawn(async move {
        let labels = "app.kubernetes.io/component=pxc,app.kubernetes.io/managed-by=percona-xtradb-cluster-operator";
        let mut stream = watcher::watcher(pods, watcher::Config::default().labels(labels)).default_backoff().boxed();
        // By Pod name, as its claim is: a Pod recreated (a rolling restart) finds its data.
        let mut servers: HashMap<String, ServedPod> = HashMap::new();
        while let Some(event) = stream.next().await {
            let (pod, gone) = match event {
                Ok(Event::Apply(pod) | Event::InitApply(pod)) => {
                    let gone = pod.metadata.deletion_timestamp.is_some();
                    (pod, gone)
                }
                Ok(Event::Delete(pod)) => (pod, true),
                _ => continue,
            };
            let (name, uid) = (pod.name_any(), pod.uid().unwrap_or_default());
            let Some(cluster) = pod.labels().get("app.kubernetes.io/instance").cloned() else { continue };
            let served = servers.get_mut(&name);
            if gone {
                if let Some(served) = served.filter(|s| s.uid == uid) {
                    let server = &mut served.server;
                    tokio::task::block_in_place(|| server.stop());
                }
                continue;
            }
            let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
            let Some(ip) = pod.status.as_ref().and_then(|s| s.pod_ip.clone()) else { continue };
            if !running || served.as_ref().is_some_and(|s| s.uid == uid) {
                continue;
            }
            if let Some(served) = served {
                // The same Pod name again: its server restarts on the new address, same data.
                served.uid = uid;
                served.ip = ip.clone();
                let server = &mut served.server;
                tokio::task::block_in_place(|| {
                    server.stop();
                    server.move_to(&ip);
                    server.start();
                });
            } else {
                let users = loop {
                    if let Some(users) = internal_users(&client, &namespace, &cluster).await {
                        break users;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                };
                let address = ip.clone();
                let server = tokio::task::spawn_blocking(move || {
                    let server = super::servers::mariadb_pod(&address);
                    // MariaDB's own passwordless `root` for 127.0.0.1 would shadow the cluster's.
                    let mut sql = "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';".to_owned();
                    sql.push_str(USER_ATTRIBUTES);
                    for (user, password) in &users {
                        let (user, password) = (sql_literal(user), sql_literal(password));
                        sql.push_str(&format!(
                            "CREATE USER {user}@'%' IDENTIFIED BY {password}; GRANT ALL ON *.* TO {user}@'%' WITH GRANT OPTION;"
                        ));
                    }
                    server.mariadb_root(&sql);
                    server
                })
                .await;
                // MariaDB has no SYSTEM_USER or AUDIT_ADMIN privilege (MySQL 8's), which Percona
                // grants its monitor user once, recording each grant in an annotation of the
                // internal Secret: recorded here as done, as the Pod's users were made.
                let internal: Api<Secret> = Api::namespaced(client.clone(), &namespace);
                let done = serde_json::json!({"metadata": {"annotations": {
                    "grant-for-1.10.0-system-privilege": "done", "grant-for-1.20.0-audit-admin": "done"}}});
                let patch = kube::api::Patch::Merge(&done);
                if let Err(e) = internal.patch(&format!("internal-{cluster}"), &Default::default(), &patch).await {
                    eprintln!("data plane: annotate internal-{cluster}: {e}");
                }
                match server {
                    Ok(server) => {
                        servers.insert(name.clone(), ServedPod { cluster, uid, ip, server });
                    }
                    Err(e) => {
                        eprintln!("data plane: MariaDB for Pod {name} did not start: {e}");
                        continue;
                    }
                }
            }
            let mut text = "127.0.0.1 localhost\n".to_owned();
            let clusters: std::collections::BTreeSet<&String> = servers.values().map(|s| &s.cluster).collect();
            for cluster in clusters {
                let addresses: Vec<(String, String)> = servers
                    .iter()
                    .filter(|(_, s)| &s.cluster == cluster)
                    .map(|(pod, s)| (pod.clone(), s.ip.clone()))
                    .collect();
                text.push_str(&mysql_hosts(&namespace, cluster, &addresses));
            }
            // In place: a bind mount of the file shows the new content.
            std::fs::write(&hosts, text).unwrap();
        }
    });
    MysqlDataPlane { task }
}

/// Runs a ClickHouse for each server Pod of the Altinity installations in one namespace; stops
/// them when dropped.
pub struct ClickHouseDataPlane {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ClickHouseDataPlane {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts serving the server Pods of Altinity's installations in `namespace` with ClickHouse
/// (see [`super::servers::clickhouse_pod`]), so that Altinity's operator reads each host's
/// version (`SELECT version()` on port 8123) as in a cluster instead of waiting for it. Each
/// host's DNS name (`<host>.<namespace>.svc.cluster.local`, the host being the Pod's
/// StatefulSet) is written, in place, to `hosts`, the file Altinity's operator has as
/// `/etc/hosts`.
pub fn clickhouse(client: Client, namespace: &str, hosts: std::path::PathBuf) -> ClickHouseDataPlane {
    let start = |pod: Pod, ip: String| async move {
        let cluster = pod.labels().get("clickhouse.altinity.com/cluster").cloned().unwrap_or_default();
        match tokio::task::spawn_blocking(move || super::servers::clickhouse_pod(&ip, &cluster)).await {
            Ok(server) => Some(server),
            Err(e) => {
                eprintln!("data plane: ClickHouse for Pod {} did not start: {e}", pod.name_any());
                None
            }
        }
    };
    let suffix = format!("{namespace}.svc.cluster.local");
    let served = move |servers: &HashMap<String, PodServer>| {
        let mut text = "127.0.0.1 localhost\n".to_owned();
        for PodServer { name, ip, .. } in servers.values() {
            // The host is the Pod's StatefulSet: `chi-<chi>-<cluster>-<shard>-<replica>`.
            let host = name.strip_suffix("-0").unwrap_or(name);
            text.push_str(&format!("{ip} {host}.{suffix} {host}\n"));
        }
        if let Err(e) = std::fs::write(&hosts, text) {
            eprintln!("data plane: cannot write {}: {e}", hosts.display());
        }
    };
    ClickHouseDataPlane { task: serve_each_pod(client, namespace, "clickhouse.altinity.com/chi", start, served) }
}
