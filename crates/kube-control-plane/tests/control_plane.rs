//! The control plane itself: the real server version, RBAC on, the controllers the product's
//! tests rely on (StatefulSet with claims, garbage collection, namespace deletion, claim
//! protection), the stand-in kubelet and provisioner, the audit log, and a clean stop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, LogParams, PostParams};
use kube_control_plane::{ControlPlane, Options};
use serde_json::json;

async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn create<K>(api: &Api<K>, value: serde_json::Value) -> K
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    api.create(&PostParams::default(), &serde_json::from_value(value).unwrap()).await.unwrap()
}

async fn statefulset_flow(plane: &ControlPlane, client: &Client) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    create(&namespaces, json!({"metadata": {"name": "flow"}})).await;
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), "flow");
    let set = create(&sets, json!({"metadata": {"name": "db"}, "spec": {"replicas": 2, "serviceName": "db",
        "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "db"}]}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}})).await;
    eventually("2 ready replicas", || async {
        sets.get("db").await.unwrap().status.and_then(|s| s.ready_replicas) == Some(2)
    })
    .await;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "flow");
    let bound = claims.get("data-db-0").await.unwrap();
    assert_eq!(
        bound.status.and_then(|s| s.phase).as_deref(),
        Some("Bound"),
        "the stand-in provisioner's volume is bound"
    );
    assert!(
        bound.metadata.finalizers.unwrap_or_default().iter().any(|f| f == "kubernetes.io/pvc-protection"),
        "claim protection is on"
    );
    let pods: Api<Pod> = Api::namespaced(client.clone(), "flow");
    let pod = pods.get("db-0").await.unwrap();
    assert_eq!(pod.spec.unwrap().node_name.as_deref(), Some(kube_control_plane::kubelet::NODE));
    // `pods/log` goes through kube-apiserver to the stand-in kubelet's logs server, which
    // serves what a test wrote for the container, honouring `tailLines`.
    let params = LogParams { container: Some("db".to_owned()), ..Default::default() };
    assert_eq!(pods.logs("db-0", &params).await.unwrap(), "", "a container that logged nothing");
    let folder = plane.pod_logs_dir().join("flow/db-0");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("db.log"), "one\ntwo\nthree\n").unwrap();
    let tail = LogParams { tail_lines: Some(2), ..params.clone() };
    assert_eq!(pods.logs("db-0", &tail).await.unwrap(), "two\nthree\n");
    assert_eq!(pods.logs("db-0", &params).await.unwrap(), "one\ntwo\nthree\n");
    // Garbage collection: a ConfigMap owned by the StatefulSet goes with it, and so do its Pods.
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "flow");
    let uid = set.metadata.uid.unwrap();
    create(&maps, json!({"metadata": {"name": "owned", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": uid}]}})).await;
    sets.delete("db", &DeleteParams::background()).await.unwrap();
    eventually("dependents collected", || async {
        maps.get_opt("owned").await.unwrap().is_none() && pods.list(&Default::default()).await.unwrap().items.is_empty()
    })
    .await;
    assert!(claims.get_opt("data-db-0").await.unwrap().is_some(), "claims outlive their StatefulSet (Retain)");
    // Deleting a claim no Pod uses finishes (protection lifted), and the namespace goes.
    claims.delete("data-db-0", &DeleteParams::default()).await.unwrap();
    eventually("claim deleted", || async { claims.get_opt("data-db-0").await.unwrap().is_none() }).await;
    namespaces.delete("flow", &DeleteParams::default()).await.unwrap();
    eventually("namespace deleted", || async { namespaces.get_opt("flow").await.unwrap().is_none() }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_plane_runs_the_controllers_and_stops_cleanly() {
    let mut plane =
        ControlPlane::start(Options { users: vec!["nobody".to_owned()], ..Default::default() }).await.unwrap();
    let client = plane.admin_client().await.unwrap();
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(version.git_version, kube_control_plane::binary::KUBERNETES_VERSION, "the stamped real server version");
    statefulset_flow(&plane, &client).await;
    // Authentication is on: a user of Options::users may, an unknown token may not.
    let (_, user_token) = plane.tokens()[0].clone();
    let user = kube_control_plane::client_for(plane.server(), plane.ca_pem(), &user_token).await.unwrap();
    let stranger = kube_control_plane::client_for(plane.server(), plane.ca_pem(), "not-a-token").await.unwrap();
    let refused = Api::<ConfigMap>::namespaced(stranger, "default").list(&Default::default()).await;
    assert!(matches!(refused, Err(kube::Error::Api(ref e)) if e.code == 401), "unknown token refused: {refused:?}");
    assert!(Api::<ConfigMap>::namespaced(user, "default").list(&Default::default()).await.is_ok());
    // The audit log has the requests, with who made them and the answer.
    let (events, _) = kube_control_plane::audit::read(&plane.audit_log(), 0).unwrap();
    assert!(events.iter().any(|e| e.user.username == "admin" && e.verb == "create" && e.code() == 201));
    assert!(events.iter().any(|e| e.user.username == "nobody" && e.verb == "list"));
    let dir = plane.dir().to_owned();
    let port: u16 = plane.server().rsplit(':').next().unwrap().parse().unwrap();
    plane.stop();
    assert!(!dir.exists(), "the data folder is removed");
    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err(), "nothing listens on the API port");
}
