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
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use super::{GENERATED_KEYS_ANNOTATION, ObjectKey, meta};
use crate::api::{ComponentStatus, SecretKeyReference};
use crate::model::{Component, Placement};

/// The key holding the composed connection URL.
pub const URL_KEY: &str = "URL";

/// Annotation on the connection Secret: a digest of its plain keys, its sources and the
/// sources' `resourceVersion`s (never of a value), so that an unchanged Secret is not
/// rewritten and a changed source is copied again.
pub const SOURCES_HASH_ANNOTATION: &str = "apps.wandb.com/connection-hash";

/// The name of a component's connection Secret: `<cr>-<component>-connection`.
pub fn name(placement: &Placement) -> String {
    format!("{}-connection", placement.object_name())
}

/// The key that holds the component's password (or secret key) in the connection Secret.
pub fn password_key(component: Component) -> &'static str {
    match component {
        Component::MySql => "MYSQL_PASSWORD",
        Component::Redis => "REDIS_PASSWORD",
        Component::Kafka => "KAFKA_SASL_PASSWORD",
        Component::Minio => "MINIO_SECRET_KEY",
        Component::ClickHouse => "CLICKHOUSE_PASSWORD",
    }
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
        }
    }

    /// Every key the Secret has, `URL` included, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> =
            self.plain.keys().cloned().chain(self.sources.iter().map(|(k, _)| k.clone())).collect();
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
    /// `resourceVersion`s (`versions`: Secret name → version); no value is hashed.
    pub fn digest(&self, versions: &BTreeMap<String, String>) -> String {
        let text = serde_json::json!({
            "plain": self.plain,
            "sources": self.sources.iter().map(|(k, r)| (k, &r.name, &r.key)).collect::<Vec<_>>(),
            "namespace": self.source_namespace,
            "versions": versions,
        })
        .to_string();
        crate::model::digest::fnv1a(&text)
    }

    /// Every key with its value: the plain keys, the copied `values` (our key → value) and the
    /// composed `URL`.
    pub fn compose(&self, values: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut all = self.plain.clone();
        for (key, _) in &self.sources {
            if let Some(v) = values.get(key) {
                all.insert(key.clone(), v.clone());
            }
        }
        if self.with_url {
            let url = url(self.component, &all);
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
        secret.sources.push((password_key(placement.component).to_owned(), reference.clone()));
    }
    Some(secret)
}

// RFC 3986 unreserved characters stay; everything else in a user or password is escaped.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn userinfo(user: Option<&String>, password: Option<&String>) -> String {
    let enc = |s: &str| utf8_percent_encode(s, USERINFO).to_string();
    match (user, password) {
        (Some(u), Some(p)) => format!("{}:{}@", enc(u), enc(p)),
        (Some(u), None) => format!("{}@", enc(u)),
        (None, Some(p)) => format!(":{}@", enc(p)),
        (None, None) => String::new(),
    }
}

fn query(pairs: &[(&str, Option<&String>)]) -> String {
    let parts: Vec<String> = pairs.iter().filter_map(|(k, v)| v.map(|v| format!("{k}={v}"))).collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

fn is_true(keys: &BTreeMap<String, String>, key: &str) -> bool {
    keys.get(key).is_some_and(|v| v == "true")
}

fn bucket_path(keys: &BTreeMap<String, String>) -> String {
    let bucket = keys.get("MINIO_BUCKET").cloned().unwrap_or_default();
    match keys.get("MINIO_PATH").map(|p| p.trim_matches('/')) {
        Some(path) if !path.is_empty() => format!("{bucket}/{path}"),
        _ => bucket,
    }
}

/// The composed URL of a component from its final keys. The forms are documented in
/// `docs/operations.md` ("Connection Secrets").
pub fn url(component: Component, keys: &BTreeMap<String, String>) -> String {
    let get = |k: &str| keys.get(k).cloned().unwrap_or_default();
    let tls_true = "true".to_owned();
    match component {
        Component::MySql => {
            let tls = is_true(keys, "MYSQL_TLS").then_some(&tls_true);
            format!(
                "mysql://{}{}:{}/{}{}",
                userinfo(keys.get("MYSQL_USER"), keys.get("MYSQL_PASSWORD")),
                get("MYSQL_HOST"),
                get("MYSQL_PORT"),
                get("MYSQL_DATABASE"),
                query(&[("tls", tls)])
            )
        }
        Component::Redis => {
            let scheme = if is_true(keys, "REDIS_TLS") { "rediss" } else { "redis" };
            let auth = userinfo(None, keys.get("REDIS_PASSWORD"));
            match keys.get("REDIS_MASTER_NAME") {
                Some(master) => {
                    let hosts = keys
                        .get("REDIS_SENTINEL_HOSTS")
                        .cloned()
                        .unwrap_or_else(|| format!("{}:{}", get("REDIS_SENTINEL_HOST"), get("REDIS_SENTINEL_PORT")));
                    format!("{scheme}://{auth}{hosts}{}", query(&[("master", Some(master))]))
                }
                None => format!("{scheme}://{auth}{}:{}", get("REDIS_HOST"), get("REDIS_PORT")),
            }
        }
        Component::Kafka => {
            let servers = keys
                .get("KAFKA_BOOTSTRAP_SERVERS")
                .cloned()
                .unwrap_or_else(|| format!("{}:{}", get("KAFKA_HOST"), get("KAFKA_PORT")));
            let tls = is_true(keys, "KAFKA_TLS").then_some(&tls_true);
            format!(
                "kafka://{}{servers}{}",
                userinfo(keys.get("KAFKA_SASL_USER"), keys.get("KAFKA_SASL_PASSWORD")),
                query(&[("mechanism", keys.get("KAFKA_SASL_MECHANISM")), ("tls", tls)])
            )
        }
        Component::Minio => match keys.get("MINIO_PROVIDER").map(String::as_str) {
            Some("s3") => format!("s3://{}{}", bucket_path(keys), query(&[("region", keys.get("MINIO_REGION"))])),
            Some("gcs") => format!("gs://{}", bucket_path(keys)),
            Some("azure") => {
                let host = get("MINIO_HOST");
                let account = keys
                    .get("MINIO_ACCESS_KEY")
                    .cloned()
                    .unwrap_or_else(|| host.split('.').next().unwrap_or_default().to_owned());
                format!("az://{account}/{}", bucket_path(keys))
            }
            // The managed MinIO and any S3-compatible endpoint: keys, host and bucket in one URL.
            _ => {
                let tls = is_true(keys, "MINIO_TLS").then_some(&tls_true);
                format!(
                    "s3://{}{}:{}/{}{}",
                    userinfo(keys.get("MINIO_ACCESS_KEY"), keys.get("MINIO_SECRET_KEY")),
                    get("MINIO_HOST"),
                    get("MINIO_PORT"),
                    bucket_path(keys),
                    query(&[("region", keys.get("MINIO_REGION")), ("tls", tls)])
                )
            }
        },
        Component::ClickHouse => {
            let secure = is_true(keys, "CLICKHOUSE_TLS").then_some(&tls_true);
            format!(
                "clickhouse://{}{}:{}/{}{}",
                userinfo(keys.get("CLICKHOUSE_USER"), keys.get("CLICKHOUSE_PASSWORD")),
                get("CLICKHOUSE_HOST"),
                get("CLICKHOUSE_PORT"),
                get("CLICKHOUSE_DATABASE"),
                query(&[("secure", secure)])
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn urls_escape_credentials_and_follow_each_form() {
        let mysql = map(&[
            ("MYSQL_HOST", "db.example.com"),
            ("MYSQL_PORT", "3306"),
            ("MYSQL_USER", "wandb"),
            ("MYSQL_PASSWORD", "p@ss:w/rd"),
            ("MYSQL_DATABASE", "wandb_local"),
            ("MYSQL_TLS", "true"),
        ]);
        assert_eq!(
            url(Component::MySql, &mysql),
            "mysql://wandb:p%40ss%3Aw%2Frd@db.example.com:3306/wandb_local?tls=true"
        );
        let sentinel = map(&[("REDIS_SENTINEL_HOSTS", "a:26379,b:26379"), ("REDIS_MASTER_NAME", "gorilla")]);
        assert_eq!(url(Component::Redis, &sentinel), "redis://a:26379,b:26379?master=gorilla");
        let standalone =
            map(&[("REDIS_HOST", "r"), ("REDIS_PORT", "6380"), ("REDIS_PASSWORD", "x"), ("REDIS_TLS", "true")]);
        assert_eq!(url(Component::Redis, &standalone), "rediss://:x@r:6380");
        let kafka = map(&[
            ("KAFKA_BOOTSTRAP_SERVERS", "b1:9096,b2:9096"),
            ("KAFKA_SASL_USER", "u"),
            ("KAFKA_SASL_PASSWORD", "p"),
            ("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            ("KAFKA_TLS", "true"),
        ]);
        assert_eq!(url(Component::Kafka, &kafka), "kafka://u:p@b1:9096,b2:9096?mechanism=SCRAM-SHA-512&tls=true");
        let s3 = map(&[
            ("MINIO_PROVIDER", "s3"),
            ("MINIO_BUCKET", "b"),
            ("MINIO_PATH", "/wandb/"),
            ("MINIO_REGION", "eu-west-1"),
        ]);
        assert_eq!(url(Component::Minio, &s3), "s3://b/wandb?region=eu-west-1");
        let gcs = map(&[("MINIO_PROVIDER", "gcs"), ("MINIO_BUCKET", "b")]);
        assert_eq!(url(Component::Minio, &gcs), "gs://b");
        let azure =
            map(&[("MINIO_PROVIDER", "azure"), ("MINIO_BUCKET", "c"), ("MINIO_HOST", "acct.blob.core.windows.net")]);
        assert_eq!(url(Component::Minio, &azure), "az://acct/c");
        let minio = map(&[
            ("MINIO_HOST", "minio.ns.svc.cluster.local"),
            ("MINIO_PORT", "80"),
            ("MINIO_ACCESS_KEY", "wandb-x"),
            ("MINIO_SECRET_KEY", "s/k"),
            ("MINIO_BUCKET", "wandb"),
        ]);
        assert_eq!(url(Component::Minio, &minio), "s3://wandb-x:s%2Fk@minio.ns.svc.cluster.local:80/wandb");
        let ch = map(&[
            ("CLICKHOUSE_HOST", "h"),
            ("CLICKHOUSE_PORT", "9440"),
            ("CLICKHOUSE_USER", "u"),
            ("CLICKHOUSE_PASSWORD", "p"),
            ("CLICKHOUSE_DATABASE", "wandb"),
            ("CLICKHOUSE_TLS", "true"),
        ]);
        assert_eq!(url(Component::ClickHouse, &ch), "clickhouse://u:p@h:9440/wandb?secure=true");
    }

    fn placement() -> Placement {
        Placement {
            instance: crate::model::Instance { name: "wandb".into(), namespace: "apps".into(), uid: Some("u".into()) },
            component: Component::MySql,
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
        let secret = managed(&placement(), &status, map(&[("MYSQL_USER", "root")])).unwrap();
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
}
