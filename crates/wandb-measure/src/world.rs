//! What an emulated cluster holds, normalised so that two runs of the same flow (one with
//! faults, one without) can be compared, plus the facts the data-safety checks count: PVCs by
//! UID and the generated secret values.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::ApiResource;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use wandb_operator::api::WeightsAndBiases;
use wandb_operator::registry::Registry;
use wandb_operator::vendors::{GENERATED_KEYS_ANNOTATION, api_resource_of};

/// Every kind whose objects make up the end state: the vendors' kinds, Secrets and PVCs
/// (StatefulSets are the simulators' own, so they are left out).
pub fn end_state_kinds() -> Vec<ApiResource> {
    let claims = api_resource_of::<k8s_openapi::api::core::v1::PersistentVolumeClaim>();
    // StatefulSets are the vendors'; the one ConfigMap watched is the cluster's CA
    // (`kube-root-ca.crt`), which the operator only reads.
    Registry::default()
        .watched_kinds()
        .into_iter()
        .filter(|k| k.kind != "StatefulSet" && k.kind != "ConfigMap")
        .chain([claims])
        .collect()
}

/// How the end state names an object: `Kind namespace/name`.
pub fn object_key(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind} {namespace}/{name}")
}

/// Every object of a kind, in all namespaces (none when the kind is not served).
pub async fn list_all(client: &Client, kind: &ApiResource) -> Vec<DynamicObject> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), kind);
    api.list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default()
}

fn owners(object: &DynamicObject) -> Vec<String> {
    object.owner_references().iter().map(|o| format!("{}/{} controller={:?}", o.kind, o.name, o.controller)).collect()
}

fn normalise(kind: &ApiResource, object: &DynamicObject) -> Value {
    let mut annotations = object.annotations().clone();
    annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    // A hash of the desired object including the owner's UID, which differs between runs.
    annotations.remove(wandb_operator::reconcile::APPLIED_HASH_ANNOTATION);
    // It covers the sources' resourceVersions, which differ from run to run.
    annotations.remove(wandb_operator::vendors::connection_secret::SOURCES_HASH_ANNOTATION);
    let common = json!({
        "labels": object.labels(),
        "annotations": annotations,
        "owners": owners(object),
        "finalizers": object.finalizers(),
        "deleting": object.metadata.deletion_timestamp.is_some(),
    });
    match kind.kind.as_str() {
        // Generated values differ between runs: compare which keys exist, not their values.
        "Secret" => {
            let keys: BTreeSet<&String> =
                object.data.get("data").and_then(Value::as_object).map(|d| d.keys().collect()).unwrap_or_default();
            json!({"meta": common, "keys": keys})
        }
        "PersistentVolumeClaim" => json!({"meta": common}),
        _ => json!({"meta": common, "spec": object.data.get("spec")}),
    }
}

fn wandb_summary(w: &WeightsAndBiases) -> Value {
    let status = w.status.as_ref().map(|s| serde_json::to_value(s).unwrap_or(Value::Null)).unwrap_or(Value::Null);
    let component = |key: &str| {
        let mut c = status[key].clone();
        // The MinIO root user is generated per installation: compare its presence only.
        if let Some(access_key) = c.pointer_mut("/connection/MINIO_ACCESS_KEY") {
            *access_key = json!(access_key.as_str().map(|k| k.starts_with("wandb-")));
        }
        let codes: BTreeSet<&str> =
            c["details"].as_array().into_iter().flatten().filter_map(|d| d["code"].as_str()).collect();
        json!({"state": c["state"], "ready": c["ready"], "connection": c["connection"], "credentialsSecret": c["credentialsSecret"], "codes": codes})
    };
    json!({
        "finalizers": w.finalizers(),
        "deleting": w.metadata.deletion_timestamp.is_some(),
        "state": status["state"],
        "observedCurrentGeneration": status["observedGeneration"].as_i64() == w.metadata.generation,
        "mysql": component("mysqlStatus"),
        "redis": component("redisStatus"),
        "kafka": component("kafkaStatus"),
        "minio": component("minioStatus"),
        "clickhouse": component("clickhouseStatus"),
    })
}

/// The end state: `Kind namespace/name` → the object's comparable content (spec, labels,
/// annotations, owners, finalizers; key names only for Secrets; the CRs' status summary).
pub async fn snapshot(client: &Client) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    // What the vendors make themselves (their records, such as Percona's scheduled backups, and
    // Secrets such as Percona's users Secret, here from the simulator) is not the operator's end
    // state, and `render` omits it. Every Secret the operator writes names its keys in
    // `apps.wandb.com/generated-keys`; a Secret without it is a vendor's.
    let records = Registry::default().record_kinds();
    for kind in end_state_kinds().into_iter().filter(|k| !records.contains(k)) {
        for object in list_all(client, &kind).await {
            let key = object_key(&kind.kind, &object.namespace().unwrap_or_default(), &object.name_any());
            if kind.kind == "Secret" && !object.annotations().contains_key(GENERATED_KEYS_ANNOTATION) {
                continue;
            }
            out.insert(key, normalise(&kind, &object));
        }
    }
    let wandbs: Api<WeightsAndBiases> = Api::all(client.clone());
    for w in wandbs.list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default() {
        out.insert(
            object_key("WeightsAndBiases", &w.namespace().unwrap_or_default(), &w.name_any()),
            wandb_summary(&w),
        );
    }
    out
}

/// Human-readable differences between two snapshots (empty when equal).
pub fn differences(expected: &BTreeMap<String, Value>, actual: &BTreeMap<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for (key, value) in expected {
        match actual.get(key) {
            None => out.push(format!("missing {key}")),
            Some(v) if v != value => out.push(format!("differs {key}: expected {value} got {v}")),
            Some(_) => {}
        }
    }
    for key in actual.keys().filter(|k| !expected.contains_key(*k)) {
        out.push(format!("extra {key}"));
    }
    out
}

/// PVCs by `namespace/name` → UID (a PVC deleted and re-created under the same name is lost
/// data, so identity is the UID).
pub async fn pvc_uids(client: &Client) -> BTreeMap<String, String> {
    let kind = ApiResource::erase::<k8s_openapi::api::core::v1::PersistentVolumeClaim>(&());
    list_all(client, &kind)
        .await
        .into_iter()
        .map(|p| (format!("{}/{}", p.namespace().unwrap_or_default(), p.name_any()), p.uid().unwrap_or_default()))
        .collect()
}

/// PVCs of `before` that are gone (or were replaced by a new UID) in `after`.
pub fn lost_pvcs(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    before.iter().filter(|(name, uid)| after.get(*name) != Some(uid)).map(|(name, _)| name.clone()).collect()
}

/// Every generated secret value (the passwords) in the cluster: the keys named in each
/// generated Secret's `apps.wandb.com/generated-keys` annotation whose name says password.
/// User names are not secret (the MinIO root user is the status' `MINIO_ACCESS_KEY`).
pub async fn generated_passwords(client: &Client) -> Vec<String> {
    generated_passwords_by_secret(client).await.into_values().collect()
}

/// The generated passwords by `namespace/secret/key`.
pub async fn generated_passwords_by_secret(client: &Client) -> BTreeMap<String, String> {
    let kind = ApiResource::erase::<k8s_openapi::api::core::v1::Secret>(&());
    let mut out = BTreeMap::new();
    for secret in list_all(client, &kind).await {
        let Some(keys) = secret.annotations().get(GENERATED_KEYS_ANNOTATION) else { continue };
        for key in keys.split(',').filter(|k| k.to_ascii_lowercase().contains("password")) {
            let encoded = secret.data.pointer(&format!("/data/{key}")).and_then(Value::as_str).unwrap_or_default();
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded)
                && let Ok(value) = String::from_utf8(bytes)
                && value.len() >= 8
            {
                let name = format!("{}/{}/{key}", secret.namespace().unwrap_or_default(), secret.name_any());
                out.insert(name, value);
            }
        }
    }
    out
}

/// Where each of `secrets` occurs in `texts` (`(label, text)` pairs): one entry per hit.
pub fn secret_hits(secrets: &[String], texts: &[(String, String)]) -> Vec<String> {
    let mut hits = Vec::new();
    for (label, text) in texts {
        for secret in secrets {
            if text.contains(secret.as_str()) {
                hits.push(label.clone());
            }
        }
    }
    hits
}

/// Texts an operator shows to people: every CR's status and every Event (both APIs' views).
pub async fn visible_texts(client: &Client) -> Vec<(String, String)> {
    let mut texts = Vec::new();
    let wandbs: Api<WeightsAndBiases> = Api::all(client.clone());
    for w in wandbs.list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default() {
        let status = serde_json::to_string(&w.status).unwrap_or_default();
        texts.push((format!("status of {}/{}", w.namespace().unwrap_or_default(), w.name_any()), status));
    }
    let events = ApiResource::erase::<k8s_openapi::api::events::v1::Event>(&());
    for e in list_all(client, &events).await {
        texts.push((format!("event {}", e.name_any()), serde_json::to_string(&e.data).unwrap_or_default()));
    }
    texts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, Value)]) -> BTreeMap<String, Value> {
        entries.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    #[test]
    fn differences_name_missing_extra_and_changed_objects() {
        let expected = map(&[("Kafka apps/a", json!({"spec": 1})), ("Secret apps/s", json!({"keys": ["p"]}))]);
        assert!(differences(&expected, &expected).is_empty());
        let actual = map(&[("Kafka apps/a", json!({"spec": 2})), ("Kafka apps/b", json!({}))]);
        let found = differences(&expected, &actual);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("differs Kafka apps/a"));
        assert_eq!(found[1], "missing Secret apps/s");
        assert_eq!(found[2], "extra Kafka apps/b");
    }

    #[test]
    fn a_pvc_replaced_under_the_same_name_is_lost() {
        let before: BTreeMap<String, String> =
            [("apps/data-0", "uid-1"), ("apps/data-1", "uid-2")].map(|(a, b)| (a.to_owned(), b.to_owned())).into();
        let after: BTreeMap<String, String> =
            [("apps/data-0", "uid-1"), ("apps/data-1", "uid-9"), ("apps/new", "uid-3")]
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .into();
        assert_eq!(lost_pvcs(&before, &after), vec!["apps/data-1"]);
        assert!(lost_pvcs(&before, &before).is_empty());
    }

    #[test]
    fn secret_hits_report_every_place_a_password_appears() {
        let secrets = vec!["s3cr3t-value-1".to_owned()];
        let texts = vec![
            ("status".to_owned(), "{\"ready\":true}".to_owned()),
            ("logs".to_owned(), "password=s3cr3t-value-1".to_owned()),
        ];
        assert_eq!(secret_hits(&secrets, &texts), vec!["logs"]);
    }
}
