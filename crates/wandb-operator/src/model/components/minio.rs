//! Object storage: W&B's artifacts and files in an S3-compatible bucket (managed MinIO, or an
//! external S3, GCS, Azure or S3-compatible endpoint).

use std::collections::BTreeMap;

use crate::api::{
    ComponentCommon, ComponentStatus, ExternalObjectStorage, MinioConnection, MinioSpec, ObjectStorageProvider,
    SecretKeyReference, SecretKeySelector, Size, WeightsAndBiasesSpec, WeightsAndBiasesStatus,
};
use crate::model::component::{Component, ComponentInfo};
use crate::model::descriptor::{ComponentDescriptor, ExternalBlock, Plan};
use crate::model::edition::Edition;
use crate::model::error::ModelError;
use crate::model::external_service::ExternalConfig;
use crate::model::external_service::{
    self as ext, ConnectionKeys, Endpoint, ExternalService, Greeting, ProbeTarget, Tls,
};
use crate::model::fields::Resources;
use crate::model::fields::{self, ResourceProfile};
use crate::model::images::{ImageSource, image_source};
use crate::model::placement::{Placed, Placement};
use crate::model::quantity::Quantity;
use crate::model::resolution::Resolution;
use crate::model::url::{flag, get, query, userinfo};

/// Object storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minio;

/// Object storage's identity.
pub const MINIO: Component = Component::new(&ComponentInfo {
    key: "minio",
    display_name: "Minio",
    password_key: "MINIO_SECRET_KEY",
    url,
    minimum_version: None,
});

/// Object storage defaults of one size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinioProfile {
    /// Storage per volume.
    pub storage: &'static str,
    /// Servers.
    pub servers: i32,
    /// Volumes per server.
    pub volumes_per_server: i32,
    /// Server resources.
    pub resources: ResourceProfile,
    /// TLS with a certificate the vendor issues.
    pub tls: bool,
}

const DEV: MinioProfile =
    MinioProfile { storage: "10Gi", servers: 1, volumes_per_server: 1, resources: ResourceProfile::NONE, tls: false };
const SMALL: MinioProfile =
    MinioProfile { storage: "10Gi", servers: 3, volumes_per_server: 4, resources: ResourceProfile::SMALL, tls: true };
const LARGE: MinioProfile = MinioProfile { storage: "200Gi", resources: ResourceProfile::LARGE_32, ..SMALL };

/// Object storage defaults for `size`.
pub fn profile(size: Size) -> &'static MinioProfile {
    match size {
        Size::Dev => &DEV,
        Size::Small => &SMALL,
        Size::Large => &LARGE,
    }
}

/// Managed object storage.
#[derive(Debug, Clone, PartialEq)]
pub struct MinioConfig {
    /// Placement.
    pub placement: Placement,
    /// The edition of defaults it is resolved with.
    pub edition: Edition,
    /// Where its default images are pulled from.
    pub images: ImageSource,
    /// Storage per volume.
    pub storage: Quantity,
    /// Server resources.
    pub resources: Resources,
    /// The user's image, when set (else the vendor's).
    pub image: Option<String>,
    /// Servers.
    pub servers: i32,
    /// Volumes per server.
    pub volumes_per_server: i32,
    /// TLS with a certificate the vendor issues.
    pub tls: bool,
}

impl Placed for MinioConfig {
    fn placement(&self) -> &Placement {
        &self.placement
    }

    fn edition(&self) -> Edition {
        self.edition
    }
}

fn merge(resolution: &Resolution, spec: &MinioSpec, placement: Placement) -> Result<MinioConfig, ModelError> {
    let (size, edition) = (resolution.size, resolution.edition);
    let p = profile(size);
    let servers = fields::replicas(spec.replicas, p.servers, 1, 32, "spec.minio.replicas")?;
    let volumes = p.volumes_per_server;
    let drives = servers * volumes;
    // Erasure-code limits: 1×1 allowed; 2 servers need ≥ 4 drives, 3 or more need ≥ 6.
    let enough = (servers == 1) || (servers == 2 && drives >= 4) || (servers >= 3 && drives >= 6);
    if !enough {
        return Err(ModelError::invalid(
            "spec.minio.replicas",
            format!(
                "{servers} servers × {volumes} volumes (size {}) is below MinIO's erasure-code minimum (2 servers need 4 drives, 3 or more need 6)",
                size.as_str()
            ),
        ));
    }
    Ok(MinioConfig {
        edition,
        images: image_source(&resolution.spec)?,
        storage: fields::storage(&spec.common, p.storage, MINIO)?,
        resources: fields::resources(
            fields::user_resources(&spec.common),
            &p.resources,
            "spec.minio.config.resources",
        )?,
        image: fields::image_override(&spec.common, MINIO)?,
        servers,
        volumes_per_server: volumes,
        tls: p.tls,
        placement,
    })
}

/// Access and secret key of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketCredentials {
    /// The access key (Azure: account name).
    pub access_key: SecretKeyReference,
    /// The secret key.
    pub secret_key: SecretKeyReference,
}

/// An external object storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectStorageService {
    /// Provider.
    pub provider: ObjectStorageProvider,
    /// Bucket (Azure: container).
    pub bucket: String,
    /// Region.
    pub region: Option<String>,
    /// The endpoint (the provider's public one when not given).
    pub endpoint: Endpoint,
    /// Whether the user gave the endpoint.
    pub custom_endpoint: bool,
    /// Prefix in the bucket.
    pub path: Option<String>,
    /// Keys, or `None` for workload identity.
    pub credentials: Option<BucketCredentials>,
    /// Path-style requests.
    pub force_path_style: bool,
    /// TLS (`https`).
    pub tls: Tls,
}

/// Resolves an external object storage block (also used for MySQL's backup storage).
pub(crate) fn external(
    spec: &ExternalObjectStorage,
    placement: Placement,
) -> Result<ExternalConfig<ObjectStorageService>, ModelError> {
    let f = "spec.minio.external";
    let bucket = ext::non_empty(&spec.bucket, &format!("{f}.bucket"))?;
    let tls = ext::tls(spec.tls.as_ref(), &format!("{f}.tls"), true)?;
    let default_port = if tls.enabled { 443 } else { 80 };
    let endpoint = match (&spec.endpoint, spec.provider) {
        (Some(e), _) => match e.rsplit_once(':') {
            Some(_) => ext::host_port(e, &format!("{f}.endpoint"))?,
            None => Endpoint { host: ext::host(e, &format!("{f}.endpoint"))?, port: default_port },
        },
        (None, ObjectStorageProvider::S3Compatible) => {
            return Err(ModelError::invalid(format!("{f}.endpoint"), "is required with provider s3-compatible"));
        }
        (None, ObjectStorageProvider::S3) => Endpoint {
            host: spec
                .region
                .as_ref()
                .map_or_else(|| "s3.amazonaws.com".to_owned(), |r| format!("s3.{r}.amazonaws.com")),
            port: default_port,
        },
        (None, ObjectStorageProvider::Gcs) => {
            Endpoint { host: "storage.googleapis.com".to_owned(), port: default_port }
        }
        (None, ObjectStorageProvider::Azure) => {
            return Err(ModelError::invalid(
                format!("{f}.endpoint"),
                "is required with provider azure: the storage account's endpoint, <account>.blob.core.windows.net",
            ));
        }
    };
    let credentials = spec.credentials_secret.as_ref().map(|c| -> Result<BucketCredentials, ModelError> {
        let selector = |key: &str| SecretKeySelector { name: c.name.clone(), key: key.to_owned() };
        Ok(BucketCredentials {
            access_key: ext::reference(&selector(&c.access_key_key), &format!("{f}.credentialsSecret"))?,
            secret_key: ext::reference(&selector(&c.secret_key_key), &format!("{f}.credentialsSecret"))?,
        })
    });
    let service = ObjectStorageService {
        provider: spec.provider,
        bucket,
        region: spec.region.clone(),
        endpoint,
        custom_endpoint: spec.endpoint.is_some(),
        path: spec.path.clone(),
        credentials: credentials.transpose()?,
        force_path_style: spec.force_path_style,
        tls,
    };
    Ok(ExternalConfig { placement, service })
}

impl ExternalService for ObjectStorageService {
    fn probe_targets(&self) -> Vec<ProbeTarget> {
        vec![ProbeTarget::behind_tls(
            &self.endpoint,
            &self.tls,
            Greeting::HttpHead { path: format!("/{}", self.bucket) },
        )]
    }

    fn secret_references(&self) -> Vec<&SecretKeyReference> {
        let keys = self.credentials.iter().flat_map(|c| [&c.access_key, &c.secret_key]);
        keys.chain(self.tls.ca.as_ref()).collect()
    }

    fn credentials_secret(&self) -> Option<SecretKeyReference> {
        self.credentials.as_ref().map(|c| c.secret_key.clone())
    }

    fn connection_keys(&self) -> ConnectionKeys {
        let mut keys = ConnectionKeys::default();
        keys.plain("MINIO_PROVIDER", self.provider.as_str());
        keys.plain("MINIO_HOST", self.endpoint.host.clone());
        keys.plain("MINIO_PORT", self.endpoint.port.to_string());
        keys.plain("MINIO_BUCKET", self.bucket.clone());
        if let Some(r) = &self.region {
            keys.plain("MINIO_REGION", r.clone());
        }
        if let Some(p) = &self.path {
            keys.plain("MINIO_PATH", p.clone());
        }
        if self.provider == ObjectStorageProvider::S3Compatible || self.force_path_style {
            keys.plain("MINIO_FORCE_PATH_STYLE", self.force_path_style.to_string());
        }
        if let Some(c) = &self.credentials {
            keys.copy("MINIO_ACCESS_KEY", &c.access_key);
            keys.copy(MINIO.password_key(), &c.secret_key);
        }
        keys.tls("MINIO", &self.tls);
        keys
    }
}

fn bucket_path(keys: &BTreeMap<String, String>) -> String {
    let bucket = get(keys, "MINIO_BUCKET");
    match keys.get("MINIO_PATH").map(|p| p.trim_matches('/')) {
        Some(path) if !path.is_empty() => format!("{bucket}/{path}"),
        _ => bucket,
    }
}

/// `s3://`, `gs://` or `az://` by provider; the managed store and any S3-compatible endpoint
/// carry keys, host and bucket in one URL.
fn url(keys: &BTreeMap<String, String>) -> String {
    match keys.get("MINIO_PROVIDER").map(String::as_str) {
        Some("s3") => format!("s3://{}{}", bucket_path(keys), query(&[("region", keys.get("MINIO_REGION"))])),
        Some("gcs") => format!("gs://{}", bucket_path(keys)),
        Some("azure") => {
            let host = get(keys, "MINIO_HOST");
            let account = keys
                .get("MINIO_ACCESS_KEY")
                .cloned()
                .unwrap_or_else(|| host.split('.').next().unwrap_or_default().to_owned());
            format!("az://{account}/{}", bucket_path(keys))
        }
        _ => format!(
            "s3://{}{}:{}/{}{}",
            userinfo(keys.get("MINIO_ACCESS_KEY"), keys.get("MINIO_SECRET_KEY")),
            get(keys, "MINIO_HOST"),
            get(keys, "MINIO_PORT"),
            bucket_path(keys),
            query(&[("region", keys.get("MINIO_REGION")), ("tls", flag(keys, "MINIO_TLS"))])
        ),
    }
}

impl ComponentDescriptor for Minio {
    const COMPONENT: Component = MINIO;
    type Config = MinioConfig;
    type External = ObjectStorageService;
    type Connection = MinioConnection;

    fn common(spec: &WeightsAndBiasesSpec) -> Option<&ComponentCommon> {
        spec.minio.as_ref().map(|s| &s.common)
    }

    fn status(status: &WeightsAndBiasesStatus) -> Option<&ComponentStatus<MinioConnection>> {
        status.minio_status.as_ref()
    }

    fn status_mut(status: &mut WeightsAndBiasesStatus) -> &mut Option<ComponentStatus<MinioConnection>> {
        &mut status.minio_status
    }

    fn resolve(resolution: &Resolution) -> Result<Plan<Minio>, ModelError> {
        let spec = resolution.spec.minio.clone().unwrap_or_default();
        let block = spec.external.as_ref().map(|e| -> ExternalBlock<'_, ObjectStorageService> {
            (vec![("replicas", spec.replicas.is_some())], Box::new(move |p| external(e, p)))
        });
        resolution.plan_with(&spec.common, block, |p| merge(resolution, &spec, p))
    }

    fn external_connection(service: &ObjectStorageService) -> Option<MinioConnection> {
        // A cloud access key id is not a password, but it is not published in status either:
        // it is in the connection Secret.
        Some(MinioConnection {
            host: service.endpoint.host.clone(),
            port: service.endpoint.port.to_string(),
            access_key: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn urls_follow_the_provider() {
        let s3 = map(&[
            ("MINIO_PROVIDER", "s3"),
            ("MINIO_BUCKET", "b"),
            ("MINIO_PATH", "/wandb/"),
            ("MINIO_REGION", "eu-west-1"),
        ]);
        assert_eq!(MINIO.url(&s3), "s3://b/wandb?region=eu-west-1");
        let gcs = map(&[("MINIO_PROVIDER", "gcs"), ("MINIO_BUCKET", "b")]);
        assert_eq!(MINIO.url(&gcs), "gs://b");
        let azure =
            map(&[("MINIO_PROVIDER", "azure"), ("MINIO_BUCKET", "c"), ("MINIO_HOST", "acct.blob.core.windows.net")]);
        assert_eq!(MINIO.url(&azure), "az://acct/c");
        let minio = map(&[
            ("MINIO_HOST", "minio.ns.svc.cluster.local"),
            ("MINIO_PORT", "80"),
            ("MINIO_ACCESS_KEY", "wandb-x"),
            ("MINIO_SECRET_KEY", "s/k"),
            ("MINIO_BUCKET", "wandb"),
        ]);
        assert_eq!(MINIO.url(&minio), "s3://wandb-x:s%2Fk@minio.ns.svc.cluster.local:80/wandb");
    }
}
