//! Object storage through the MinIO operator: `minio.min.io/v2` `Tenant` `<cr>-minio` and its
//! configuration Secret `<cr>-minio-config` (root credentials generated once).

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::{CustomResource, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::meta;
use super::object_key::ObjectKey;
use super::objects::{Desired, DesiredObject, Observed, VendorError, service_host};
use super::readiness::{self, Verdict};
use super::secret::{GeneratedSecret, GeneratedValue};
use super::vendor::Vendor;
use crate::api::{ComponentStatus, MinioConnection, SecretKeyReference};
use crate::model::MinioConfig;

/// Key of the root user in the configuration Secret (also inside `config.env`).
pub const ROOT_USER_KEY: &str = "MINIO_ROOT_USER";
/// MinIO image (pinned, never `latest`) unless the user sets one.
const MINIO_IMAGE: &str = "quay.io/minio/minio:RELEASE.2025-04-08T15-41-24Z";

/// The MinIO image for `config`: the user's, else ours from its registry.
fn minio_image(config: &MinioConfig) -> String {
    config.image.clone().unwrap_or_else(|| config.images.mirrored(MINIO_IMAGE))
}
/// Key of the root password in the configuration Secret (also inside `config.env`).
pub const ROOT_PASSWORD_KEY: &str = "MINIO_ROOT_PASSWORD";
/// The bucket created for W&B.
pub const BUCKET: &str = "wandb";

/// `Tenant` spec.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "minio.min.io",
    version = "v2",
    kind = "Tenant",
    plural = "tenants",
    shortname = "tenant",
    namespaced,
    status = "TenantStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct TenantSpec {
    /// MinIO image (pinned).
    pub image: String,
    /// The Secret holding `config.env`.
    pub configuration: LocalObjectName,
    /// The image pull Secret (the Tenant takes one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secret: Option<LocalObjectName>,
    /// Server pools.
    pub pools: Vec<TenantPool>,
    /// TLS through a certificate signed by the cluster.
    pub request_auto_cert: bool,
    /// Buckets created once healthy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<TenantBucket>,
}

/// A reference by name.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct LocalObjectName {
    /// Name.
    pub name: String,
}

/// A server pool.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantPool {
    /// Pool name.
    pub name: String,
    /// Servers.
    pub servers: i32,
    /// Volumes per server.
    pub volumes_per_server: i32,
    /// Claim template (its name prefixes the PVC names).
    pub volume_claim_template: meta::ClaimTemplate,
    /// Resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

/// A bucket.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct TenantBucket {
    /// Name.
    pub name: String,
}

/// `Tenant` status fields we read.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantStatus {
    /// Provisioning step, `Initialized`, or an error text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
    /// `green`, `yellow` or `red`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_status: Option<String>,
    /// Available servers over all pools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_replicas: Option<i32>,
}

/// The MinIO operator vendor for object storage.
pub struct MinioOperator;

fn tenant_key(config: &MinioConfig) -> ObjectKey {
    ObjectKey::new("minio.min.io/v2", "Tenant", &config.placement.namespace, &config.placement.object_name())
}

fn secret_name(config: &MinioConfig) -> String {
    secret_name_for(&config.placement)
}

/// The generated configuration Secret of the MinIO component at `placement`: `<cr>-minio-config`
/// (root user and password; MySQL backups copy them).
pub fn secret_name_for(placement: &crate::model::Placement) -> String {
    format!("{}-config", placement.object_name())
}

impl MinioOperator {
    /// The `Tenant`.
    pub fn tenant(config: &MinioConfig) -> Tenant {
        let name = config.placement.object_name();
        let mut tenant = Tenant::new(
            &name,
            TenantSpec {
                image: minio_image(config),
                // The Tenant takes one pull Secret: the first.
                image_pull_secret: config
                    .images
                    .pull_secrets
                    .first()
                    .map(|name| LocalObjectName { name: name.clone() }),
                configuration: LocalObjectName { name: secret_name(config) },
                pools: vec![TenantPool {
                    name: "pool-0".to_owned(),
                    servers: config.servers,
                    volumes_per_server: config.volumes_per_server,
                    volume_claim_template: meta::ClaimTemplate {
                        metadata: Some(meta::ClaimTemplateMeta { name: "data".to_owned() }),
                        spec: meta::rwo_claim_spec(config.storage.as_str()),
                    },
                    resources: config.resources.to_requirements(),
                }],
                request_auto_cert: config.tls,
                buckets: vec![TenantBucket { name: BUCKET.to_owned() }],
            },
        );
        *tenant.meta_mut() = meta::object_meta(&config.placement, &name);
        tenant
    }

    /// The configuration Secret: root user and password drawn at apply time.
    pub fn config_secret(config: &MinioConfig) -> GeneratedSecret {
        let name = secret_name(config);
        GeneratedSecret {
            key: ObjectKey::new("v1", "Secret", &config.placement.namespace, &name),
            metadata: meta::object_meta(&config.placement, &name),
            values: vec![
                GeneratedValue { name: "user".to_owned(), prefix: "wandb-".to_owned(), length: 12, lowercase: true },
                GeneratedValue { name: "password".to_owned(), prefix: String::new(), length: 40, lowercase: false },
            ],
            entries: vec![
                (
                    "config.env".to_owned(),
                    format!(
                        "export {ROOT_USER_KEY}=${{user}}\nexport {ROOT_PASSWORD_KEY}=${{password}}\nexport MINIO_BROWSER=on\n"
                    ),
                ),
                (ROOT_USER_KEY.to_owned(), "${user}".to_owned()),
                (ROOT_PASSWORD_KEY.to_owned(), "${password}".to_owned()),
            ],
        }
    }
}

impl Vendor for MinioOperator {
    type Config = MinioConfig;
    type Connection = MinioConnection;

    fn name(&self) -> &'static str {
        "MinIO operator"
    }

    fn desired(&self, config: &MinioConfig) -> Result<Desired, VendorError> {
        Ok(Desired {
            objects: vec![DesiredObject::from_typed(tenant_key(config), &Self::tenant(config))?],
            secrets: vec![Self::config_secret(config)],
            reads: vec![],
            storage_fields: vec![(
                tenant_key(config),
                "/spec/pools/0/volumeClaimTemplate/spec/resources/requests/storage",
            )],
            exclusive_with: vec![],
            replaces: None,
            fixed_fields: ["/spec/pools/0/servers", "/spec/pools/0/volumesPerServer"]
                .into_iter()
                .map(|pointer| super::objects::FixedField {
                    key: tenant_key(config),
                    pointer,
                    code: "PoolGeometryChangeRefused",
                    why: "the MinIO operator cannot change a pool's servers or volumes per server (its erasure sets are fixed when the pool is made); the tenant keeps its pool: move to external S3-compatible storage (recommended), or add a second pool to the Tenant by hand (docs/operations.md, \"Growing from dev to small\")",
                    from: None,
                })
                .collect(),
            versions: vec![super::objects::VersionField {
                key: tenant_key(config),
                pointer: "/spec/image",
                what: "MinIO",
                step: 0,
                major: 0,
            bridge: None,
            }],
        })
    }

    fn kinds(&self) -> Vec<kube::core::ApiResource> {
        vec![super::objects::api_resource_of::<Tenant>()]
    }

    fn storage_growth(&self) -> Result<(), &'static str> {
        Err(
            "the MinIO operator cannot grow a pool's volumes (a tenant's pools are fixed once created, and the operator is archived upstream): move the data to external S3-compatible storage (recommended), or add a pool to the Tenant by hand",
        )
    }

    fn connection_extras(&self, config: &MinioConfig) -> std::collections::BTreeMap<String, String> {
        [
            ("MINIO_BUCKET".to_owned(), BUCKET.to_owned()),
            ("MINIO_TLS".to_owned(), config.tls.to_string()),
            // The tenant's service name is not a bucket host: clients address buckets by path.
            ("MINIO_FORCE_PATH_STYLE".to_owned(), "true".to_owned()),
        ]
        .into()
    }

    fn cluster_ca_key(&self, config: &MinioConfig) -> Option<&'static str> {
        // Auto-cert: the MinIO operator has the tenant's certificate signed through the
        // Kubernetes CSR API, so it chains to the cluster's root CA (on EKS, to EKS's signer
        // instead: docs/operations.md, "Connection Secrets").
        config.tls.then_some("MINIO_CA_CERT")
    }

    fn release_source(&self) -> Option<super::release::ReleaseSource> {
        Some(super::release::ReleaseSource {
            crd: "tenants.minio.min.io",
            key: "operator.min.io/version",
            serves_our_version: "the supported MinIO operator (7.1) serves minio.min.io/v2",
        })
    }

    fn default_images(&self, _edition: crate::model::Edition) -> Vec<String> {
        // The same in every edition: the last MinIO release with an image on quay.io.
        vec![MINIO_IMAGE.to_owned()]
    }

    fn access_rules(&self) -> &'static [super::access_rule::Rule] {
        &[super::access_rule::Rule {
            group: "minio.min.io",
            resources: &["tenants"],
            verbs: super::access_rule::VENDOR_VERBS,
            why: "MinIO: apply, read status, detach, purge",
            resource_names: &[],
        }]
    }

    fn data_claims(&self, placement: &crate::model::Placement) -> super::objects::ClaimMatcher {
        let name = placement.object_name();
        super::objects::ClaimMatcher { prefixes: vec![], labels: vec![("v1.min.io/tenant".to_owned(), name)] }
    }

    fn applied_version(&self, config: &MinioConfig) -> Option<String> {
        meta::image_version(&minio_image(config))
    }

    fn observe(
        &self,
        config: &MinioConfig,
        observed: &Observed,
        previously_ready: bool,
    ) -> ComponentStatus<MinioConnection> {
        let key = tenant_key(config);
        let verdict = observed.typed::<Tenant>(&key).map_or(Verdict::Missing, |t| verdict(&t, config.servers));
        let mut status = readiness::fold(vec![(key.to_string(), verdict)], previously_ready);
        let secret = Self::config_secret(config);
        let access_key = observed.get(&secret.key).and_then(|s| GeneratedSecret::read_key(s, ROOT_USER_KEY));
        status.connection = Some(MinioConnection {
            // The tenant's client Service is always `minio`.
            host: service_host("minio", &config.placement.namespace),
            port: if config.tls { "443" } else { "80" }.to_owned(),
            access_key,
        });
        status.credentials_secret =
            Some(SecretKeyReference { name: secret.key.name, key: ROOT_PASSWORD_KEY.to_owned() });
        // The Tenant reports no server version: the image we applied.
        status.version = self.applied_version(config);
        status
    }
}

// `currentState` texts that mean the vendor gave up rather than is still working.
const FAILURE_STATES: [&str; 3] =
    ["Another MinIO Tenant already exists", "Tenant credentials are not set properly", "Error"];

/// MinIO's rule: `Initialized`, health `green`, and every server available.
fn verdict(tenant: &Tenant, servers: i32) -> Verdict {
    let Some(status) = &tenant.status else { return Verdict::NotReported };
    let Some(state) = status.current_state.as_deref().filter(|s| !s.is_empty()) else { return Verdict::NotReported };
    if FAILURE_STATES.iter().any(|f| state.starts_with(f)) {
        return Verdict::Failed(state.to_owned());
    }
    if state != "Initialized" {
        return Verdict::Progressing(state.to_owned());
    }
    let health = status.health_status.as_deref().unwrap_or("unknown");
    let available = status.available_replicas.unwrap_or(0);
    if health == "green" && available >= servers {
        Verdict::Ready
    } else {
        Verdict::FewerReady(format!("health {health}, {available} of {servers} servers available"))
    }
}
