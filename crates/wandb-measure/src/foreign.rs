//! Objects of other applications: what a cluster that runs W&B beside other services holds.
//! `wandb-bench --foreign N` creates them before the CRs, so the operator's memory can be
//! measured against a cluster that is not only ours.

use futures::{StreamExt, TryStreamExt};
use kube::Client;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{Value, json};

/// How many namespaces the foreign objects are spread over.
pub const FOREIGN_NAMESPACES: usize = 100;

/// The kinds created, in rotation: a quarter of the objects each.
const KINDS: [(&str, &str, &str); 4] = [
    ("apps/v1", "StatefulSet", "statefulsets"),
    ("v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    ("v1", "Secret", "secrets"),
    ("v1", "ConfigMap", "configmaps"),
];

/// A body of the size other applications' objects typically have (a pod template with
/// resources and environment, a claim with its class, a certificate-sized Secret, a config
/// file), labelled the way Helm charts label theirs.
fn body(kind: &str, name: &str, app: &str) -> Value {
    let labels = json!({"app.kubernetes.io/name": app, "app.kubernetes.io/instance": name,
                        "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": format!("{app}-1.2.3")});
    let filler = "x".repeat(1536);
    match kind {
        "StatefulSet" => json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": 3, "serviceName": name, "selector": {"matchLabels": {"app.kubernetes.io/instance": name}},
                "template": {"metadata": {"labels": labels},
                    "spec": {"containers": [{"name": app, "image": format!("registry.example.com/{app}:1.2.3"),
                        "env": (0..12).map(|i| json!({"name": format!("SETTING_{i}"), "value": format!("value-{i}-{name}")})).collect::<Vec<_>>(),
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5}}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}}]}}),
        "PersistentVolumeClaim" => json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "labels": labels,
                "annotations": {"volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"}},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                "resources": {"requests": {"storage": "10Gi"}}}}),
        "Secret" => json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "labels": labels},
            "stringData": {"tls.crt": filler, "password": format!("secret-of-{name}")}}),
        _ => json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": labels},
            "data": {"config.yaml": filler}}),
    }
}

/// Creates `count` objects of other applications (StatefulSets, PVCs, Secrets and ConfigMaps
/// in rotation) over [`FOREIGN_NAMESPACES`] namespaces `other-0…`, creating those namespaces.
pub async fn fill(client: &Client, count: usize) -> Result<(), kube::Error> {
    if count == 0 {
        return Ok(());
    }
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    for n in 0..FOREIGN_NAMESPACES.min(count) {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("other-{n}")}});
        match namespaces.create(&PostParams::default(), &serde_json::from_value(ns).unwrap()).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    futures::stream::iter(0..count)
        .map(|i| {
            let client = client.clone();
            async move {
                let (api_version, kind, plural) = KINDS[i % KINDS.len()];
                let namespace = format!("other-{}", i % FOREIGN_NAMESPACES);
                let api: Api<DynamicObject> =
                    Api::namespaced_with(client, &namespace, &crate::support::api_resource(api_version, kind, plural));
                let app = ["billing", "search", "ledger", "queue"][i % 4];
                let object: DynamicObject = serde_json::from_value(body(kind, &format!("{app}-{i}"), app)).unwrap();
                api.create(&PostParams::default(), &object).await.map(|_| ())
            }
        })
        .buffer_unordered(16)
        .try_collect::<()>()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_body_parses_as_an_object_of_its_kind() {
        for (api_version, kind, _) in KINDS {
            let object: DynamicObject = serde_json::from_value(body(kind, "a-1", "a")).unwrap();
            let types = object.types.unwrap();
            assert_eq!((types.api_version.as_str(), types.kind.as_str()), (api_version, kind));
        }
    }
}
