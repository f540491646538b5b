//! The connection Secret `<cr>-<component>-connection` (issue 11): one per enabled component,
//! managed or external, with the connection keys of status, the credentials copied from the
//! vendor's or the user's Secret, and a composed `URL`, so that a W&B Deployment can use
//! `envFrom: secretRef`.
//!
//! Pure: [`ConnectionSecret`] says which keys are plain, which are copied from which Secret,
//! and [`ConnectionSecret::compose`] fills in the values the reconcile layer read. `render`
//! prints [`ConnectionSecret::without_values`].

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::meta;
use super::object_key::ObjectKey;
use super::secret::GENERATED_KEYS_ANNOTATION;
use crate::api::{ComponentStatus, SecretKeyReference};
use crate::model::{Component, ConnectionKeys, Placement};

/// The entry of the `versions` digested for the Secret that holds the CA ConfigMap's
/// `resourceVersion` (no Secret can be named so: `/` is not allowed in names).
pub const CLUSTER_CA_VERSION: &str = "configmap/kube-root-ca.crt";

/// The key holding the composed connection URL.
pub const URL_KEY: &str = "URL";

/// Annotation on the connection Secret: a digest of its plain keys, its sources and the
/// sources' `resourceVersion`s (never of a value), so that an unchanged Secret is not
/// rewritten and a changed source is copied again.
pub const SOURCES_HASH_ANNOTATION: &str = "apps.wandb.com/connection-hash";

/// The ConfigMap in every namespace that holds the cluster's root CA (kube-controller-manager's
/// root-CA publisher writes it): what certificates signed through the Kubernetes CSR API chain
/// to, such as MinIO's auto-cert.
pub const CLUSTER_CA_CONFIG_MAP: &str = "kube-root-ca.crt";

/// The key of [`CLUSTER_CA_CONFIG_MAP`] holding the CA.
pub const CLUSTER_CA_KEY: &str = "ca.crt";

/// The name of a component's connection Secret: `<cr>-<component>-connection`.
pub fn name(placement: &Placement) -> String {
    format!("{}-connection", placement.object_name())
}

/// What the connection Secret of one component holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionSecret {
    /// Which Secret.
    pub key: ObjectKey,
    /// Its labels and owner references.
    pub metadata: ObjectMeta,
    /// Component.
    pub component: Component,
    /// Keys whose values are not secret (hosts, ports, user names).
    pub plain: BTreeMap<String, String>,
    /// Keys copied from another Secret: `(our key, where the value is)`.
    pub sources: Vec<(String, SecretKeyReference)>,
    /// The namespace of the source Secrets.
    pub source_namespace: String,
    /// Whether the sources are the component's own vendor's Secrets (a managed component's
    /// credentials), so that one without our labels may be labelled to be cached; `false`
    /// where they belong to another component (MySQL's backups copy MinIO's keys) or a user.
    pub sources_from_vendor: bool,
    /// Whether the Secret has a composed `URL` (connection Secrets do; derived credentials
    /// Secrets, such as the S3 keys of backups, do not).
    pub with_url: bool,
    /// Our key that holds the cluster's root CA, copied from the ConfigMap
    /// [`CLUSTER_CA_CONFIG_MAP`] of `source_namespace` (`None`: no such key).
    pub cluster_ca: Option<String>,
}

impl ConnectionSecret {
    /// An empty connection Secret for `placement`.
    pub fn new(placement: &Placement) -> Self {
        let name = name(placement);
        ConnectionSecret {
            key: ObjectKey::new("v1", "Secret", &placement.namespace, &name),
            metadata: meta::object_meta(placement, &name),
            component: placement.component,
            plain: BTreeMap::new(),
            sources: Vec::new(),
            source_namespace: placement.namespace.clone(),
            sources_from_vendor: false,
            with_url: true,
            cluster_ca: None,
        }
    }

    /// A Secret named `name` in the component's namespace holding only values copied from
    /// Secrets in `source_namespace` (no `URL`).
    pub fn derived(placement: &Placement, name: &str, source_namespace: &str) -> Self {
        ConnectionSecret {
            key: ObjectKey::new("v1", "Secret", &placement.namespace, name),
            metadata: meta::object_meta(placement, name),
            component: placement.component,
            plain: BTreeMap::new(),
            sources: Vec::new(),
            source_namespace: source_namespace.to_owned(),
            sources_from_vendor: false,
            with_url: false,
            cluster_ca: None,
        }
    }

    /// Every key the Secret has, `URL` included, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .plain
            .keys()
            .cloned()
            .chain(self.sources.iter().map(|(k, _)| k.clone()))
            .chain(self.cluster_ca.clone())
            .collect();
        if self.with_url {
            keys.push(URL_KEY.to_owned());
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// The Secret names the values are copied from, without repeats.
    pub fn source_secrets(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.sources.iter().map(|(_, r)| r.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The digest recorded on the Secret, from the plain keys, the sources and their
    /// `resourceVersion`s (`versions`: Secret name → version, and [`CLUSTER_CA_VERSION`] →
    /// the CA ConfigMap's); no value is hashed.
    pub fn digest(&self, versions: &BTreeMap<String, String>) -> String {
        let text = serde_json::json!({
            "plain": self.plain,
            "sources": self.sources.iter().map(|(k, r)| (k, &r.name, &r.key)).collect::<Vec<_>>(),
            "namespace": self.source_namespace,
            "clusterCA": self.cluster_ca,
            "versions": versions,
        })
        .to_string();
        crate::model::digest::fnv1a(&text)
    }

    /// Every key with its value: the plain keys, the copied `values` (our key → value) and the
    /// composed `URL`.
    pub fn compose(&self, values: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut all = self.plain.clone();
        for key in self.sources.iter().map(|(k, _)| k).chain(&self.cluster_ca) {
            if let Some(v) = values.get(key) {
                all.insert(key.clone(), v.clone());
            }
        }
        if self.with_url {
            let url = self.component.url(&all);
            all.insert(URL_KEY.to_owned(), url);
        }
        all
    }

    /// The Secret with its metadata only, naming its keys: what `render` prints.
    pub fn without_values(&self) -> Secret {
        let mut metadata = self.metadata.clone();
        metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(GENERATED_KEYS_ANNOTATION.to_owned(), self.keys().join(","));
        Secret { metadata, type_: Some("Opaque".to_owned()), ..Default::default() }
    }
}

/// The connection Secret of a managed component, from its status (connection keys and
/// `credentialsSecret`) and the vendor's further plain keys; `None` before the status has a
/// connection.
pub fn managed<K: Serialize>(
    placement: &Placement,
    status: &ComponentStatus<K>,
    extras: BTreeMap<String, String>,
    sources: Vec<(String, SecretKeyReference)>,
    cluster_ca: Option<&str>,
) -> Option<ConnectionSecret> {
    let connection = serde_json::to_value(status.connection.as_ref()?).ok()?;
    let mut secret = ConnectionSecret::new(placement);
    secret.sources_from_vendor = true;
    for (key, value) in connection.as_object()? {
        if let Some(v) = value.as_str() {
            secret.plain.insert(key.clone(), v.to_owned());
        }
    }
    secret.plain.extend(extras);
    if let Some(reference) = &status.credentials_secret {
        secret.sources.push((placement.component.password_key().to_owned(), reference.clone()));
    }
    secret.sources.extend(sources);
    secret.cluster_ca = cluster_ca.map(str::to_owned);
    Some(secret)
}

/// The connection Secret of an external component: its keys, copied from the user's Secrets
/// in the component's namespace.
pub fn external(placement: &Placement, keys: ConnectionKeys) -> ConnectionSecret {
    let mut secret = ConnectionSecret::new(placement);
    secret.plain = keys.plain;
    secret.sources = keys.sources;
    secret
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn placement() -> Placement {
        Placement {
            instance: crate::model::Instance { name: "wandb".into(), namespace: "apps".into(), uid: Some("u".into()) },
            component: crate::model::mysql::MYSQL,
            namespace: "apps".into(),
            on_delete: crate::api::OnDelete::Detach,
        }
    }

    #[test]
    fn the_digest_follows_sources_and_their_versions_and_render_shows_no_value() {
        let status = ComponentStatus {
            connection: Some(crate::api::MySqlConnection { host: "h".into(), port: "3306".into() }),
            credentials_secret: Some(SecretKeyReference { name: "wandb-mysql-secrets".into(), key: "root".into() }),
            ..Default::default()
        };
        let secret = managed(&placement(), &status, map(&[("MYSQL_USER", "root")]), Vec::new(), None).unwrap();
        assert_eq!(secret.key.name, "wandb-mysql-connection");
        assert_eq!(secret.keys(), ["MYSQL_HOST", "MYSQL_PASSWORD", "MYSQL_PORT", "MYSQL_USER", "URL"]);
        let v1 = map(&[("wandb-mysql-secrets", "1")]);
        let v2 = map(&[("wandb-mysql-secrets", "2")]);
        assert_eq!(secret.digest(&v1), secret.digest(&v1.clone()));
        assert_ne!(secret.digest(&v1), secret.digest(&v2));
        let composed = secret.compose(&map(&[("MYSQL_PASSWORD", "pw")]));
        assert_eq!(composed["URL"], "mysql://root:pw@h:3306/");
        let rendered = secret.without_values();
        assert!(rendered.data.is_none() && rendered.string_data.is_none());
        assert_eq!(
            rendered.metadata.annotations.unwrap()[GENERATED_KEYS_ANNOTATION],
            "MYSQL_HOST,MYSQL_PASSWORD,MYSQL_PORT,MYSQL_USER,URL"
        );
        // A derived Secret (backup credentials) has no URL.
        let mut derived = ConnectionSecret::derived(&placement(), "wandb-mysql-backup-s3", "apps");
        derived.sources.push(("AWS_ACCESS_KEY_ID".into(), SecretKeyReference { name: "m".into(), key: "u".into() }));
        assert_eq!(derived.keys(), ["AWS_ACCESS_KEY_ID"]);
        assert_eq!(derived.compose(&map(&[("AWS_ACCESS_KEY_ID", "x")])), map(&[("AWS_ACCESS_KEY_ID", "x")]));
    }

    #[test]
    fn the_cluster_ca_is_one_more_copied_key_and_its_version_is_digested() {
        let status = ComponentStatus {
            connection: Some(crate::api::MySqlConnection { host: "h".into(), port: "3306".into() }),
            ..Default::default()
        };
        let without = managed(&placement(), &status, BTreeMap::new(), Vec::new(), None).unwrap();
        let with = managed(&placement(), &status, BTreeMap::new(), Vec::new(), Some("MYSQL_CA_CERT")).unwrap();
        assert!(!without.keys().contains(&"MYSQL_CA_CERT".to_owned()));
        assert!(with.keys().contains(&"MYSQL_CA_CERT".to_owned()));
        let v1 = map(&[(CLUSTER_CA_VERSION, "1")]);
        assert_ne!(with.digest(&v1), without.digest(&v1), "whether the CA is copied changes the digest");
        assert_ne!(with.digest(&v1), with.digest(&map(&[(CLUSTER_CA_VERSION, "2")])), "a rotated CA is copied again");
        let composed = with.compose(&map(&[("MYSQL_CA_CERT", "PEM")]));
        assert_eq!(composed["MYSQL_CA_CERT"], "PEM");
    }
}
