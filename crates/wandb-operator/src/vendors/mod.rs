//! Layer 3 — one module per vendor operator: typed (partial) vendor resources, the desired
//! objects for a validated config, and the reading of vendor status into component status.
//!
//! Pure: nothing here talks to the API server. Each vendor implements [`Vendor`] for the config
//! of the component it runs; the registry pairs them, so a vendor can be swapped by changing
//! its module and one registry line.

mod access_rule;
pub mod altinity;
pub mod connection_secret;
pub mod fragment;
mod meta;
pub mod minio_operator;
mod object_key;
mod objects;
pub mod opstree;
pub mod percona;
pub mod percona_backup;
pub mod percona_release;
mod readiness;
mod release;
mod secret;
pub mod strimzi;
mod vendor;

pub use access_rule::{Rule, VENDOR_VERBS};
pub use meta::{
    ANNOTATION_EDITION, ClaimTemplate, ClaimTemplateMeta, LABEL_COMPONENT, LABEL_INSTANCE, LABEL_INSTANCE_NAMESPACE,
    LABEL_MANAGED_BY, LABEL_PART_OF, LABEL_VENDOR_SECRET_OF, MANAGER, edition_of, labels as object_labels,
    vendor_secret_labels, version_of,
};
pub use object_key::ObjectKey;
pub use objects::{
    ClaimMatcher, Desired, DesiredObject, FixedField, Observed, Replaced, VendorError, VersionField, api_resource_of,
};
pub use readiness::Verdict;
pub use release::{Release, ReleaseSource};
pub use secret::{GENERATED_KEYS_ANNOTATION, GeneratedSecret, GeneratedValue, secret_value};
pub use vendor::{BackupRecords, BackupSettings, BackupVendor, Vendor, desired_with_edition};

/// Kinds every component's status may read besides the vendors' own: Secrets, StatefulSets
/// (readiness of vendors that report it only there) and the cluster-CA ConfigMap
/// `kube-root-ca.crt` (watched by name; MinIO's clients trust it). PersistentVolumeClaims are not watched:
/// only purge reads them, from the API (see `docs/architecture.md`, "What the caches hold").
pub fn core_kinds() -> Vec<kube::core::ApiResource> {
    use k8s_openapi::api::{
        apps::v1::StatefulSet,
        core::v1::{ConfigMap, Secret},
    };
    vec![api_resource_of::<Secret>(), api_resource_of::<StatefulSet>(), api_resource_of::<ConfigMap>()]
}

/// Keys of our generated Secrets whose values are not credentials (user names the status
/// reports): the only values the Secret cache keeps.
pub const NON_SECRET_KEYS: &[&str] = &[minio_operator::ROOT_USER_KEY];
