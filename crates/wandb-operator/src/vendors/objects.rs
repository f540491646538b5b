//! What a vendor builds and reads: object keys, desired objects, what was observed, how a
//! component's claims are recognised, and the vendor layer's error.

use std::collections::BTreeMap;

use serde_json::Value;

use super::object_key::ObjectKey;
use super::secret::GeneratedSecret;

/// An object to server-side apply, as the full JSON body (apiVersion, kind, metadata, spec).
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredObject {
    /// Which object.
    pub key: ObjectKey,
    /// The body to apply.
    pub body: Value,
}

impl DesiredObject {
    /// Serializes a typed object into a desired object.
    pub fn from_typed<K: serde::Serialize>(key: ObjectKey, object: &K) -> Result<Self, VendorError> {
        let body =
            serde_json::to_value(object).map_err(|source| VendorError::Serialize { key: key.to_string(), source })?;
        Ok(DesiredObject { key, body })
    }
}

/// Everything one component needs in the cluster.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Desired {
    /// Vendor objects to apply, in apply order.
    pub objects: Vec<DesiredObject>,
    /// Secrets created once with generated values (never overwritten).
    pub secrets: Vec<GeneratedSecret>,
    /// Further objects the status reader needs (e.g. the StatefulSets Opstree creates).
    pub reads: Vec<ObjectKey>,
    /// Where each object carries its storage size (JSON pointer), so a shrink can be refused.
    pub storage_fields: Vec<(ObjectKey, &'static str)>,
    /// Objects of another topology that must not exist (switching would leave data behind).
    pub exclusive_with: Vec<ObjectKey>,
    /// Objects of the previous topology these objects succeed (Redis's standalone, for the
    /// replication + sentinel pair): left as they are while the new objects come up, the
    /// connection Secret keeps naming them until the new objects are ready, then they are
    /// retired by the component's retention policy.
    pub replaces: Option<Replaced>,
    /// Fields the vendor cannot change once the object exists (JSON pointer), with the
    /// refusal's code and what to do instead: a change is refused and nothing is written.
    pub fixed_fields: Vec<FixedField>,
    /// Where the objects carry the versions they run, in the vendor's upgrade order: a change
    /// is an upgrade, applied one step at a time; a lower version is refused.
    pub versions: Vec<VersionField>,
}

/// Objects of a previous topology that new objects succeed, and their data claims.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Replaced {
    /// The objects.
    pub objects: Vec<ObjectKey>,
    /// Their claims (never the new objects').
    pub claims: ClaimMatcher,
}

/// A field that names the version an object runs (an image whose tag is the version, or a
/// version), and its place in the vendor's upgrade order.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionField {
    /// The object.
    pub key: ObjectKey,
    /// Where the field is (JSON pointer).
    pub pointer: &'static str,
    /// What runs that version, for status (`ClickHouse Keeper`).
    pub what: &'static str,
    /// The upgrade step: a change of a higher step is applied only once every field of the
    /// lower steps runs its new version and its object is settled (see `Vendor::settled`).
    pub step: u8,
    /// How many leading numbers name a major line whose change the operator does not carry
    /// out in place without a fresh backup (MySQL: 2, so 8.0 → 8.4); 0 when every upgrade is
    /// a rolling one.
    pub major: usize,
    /// The value the field takes first in an upgrade to a new major line: the latest version
    /// of the running line, the one the vendor upgrades to the next line from (MySQL: the
    /// latest 8.0 before 8.4). `None`: the new line is applied at once.
    pub bridge: Option<String>,
}

/// A field of a vendor object that its vendor cannot change once the object exists.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedField {
    /// The object.
    pub key: ObjectKey,
    /// Where the field is (JSON pointer).
    pub pointer: &'static str,
    /// The refusal's status code.
    pub code: &'static str,
    /// Why the vendor cannot change it, and the documented manual path.
    pub why: &'static str,
    /// The live value from which a change is refused; `None`: from any value.
    pub from: Option<serde_json::Value>,
}

/// How to recognise a component's PersistentVolumeClaims (the vendors name and label them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaimMatcher {
    /// Claim name prefixes.
    pub prefixes: Vec<String>,
    /// Label pairs, any of which marks a claim.
    pub labels: Vec<(String, String)>,
}

impl ClaimMatcher {
    /// Whether a claim with `name` and `labels` belongs to the component.
    pub fn matches(&self, name: &str, labels: &std::collections::BTreeMap<String, String>) -> bool {
        self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
            || self.labels.iter().any(|(k, v)| labels.get(k) == Some(v))
    }
}

impl Desired {
    /// Every key the status reader may look at: objects, secrets and extra reads.
    pub fn observed_keys(&self) -> Vec<ObjectKey> {
        self.objects
            .iter()
            .map(|o| o.key.clone())
            .chain(self.secrets.iter().map(|s| s.key.clone()))
            .chain(self.reads.iter().cloned())
            .collect()
    }
}

/// The objects read back from the cluster for one component, by key. Absent keys were not found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    objects: BTreeMap<ObjectKey, Value>,
}

impl Observed {
    /// Records an object that was read.
    pub fn insert(&mut self, key: ObjectKey, object: Value) {
        self.objects.insert(key, object);
    }

    /// The object read for `key`, if it exists.
    pub fn get(&self, key: &ObjectKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Reads the object for `key` as a typed value; `None` when absent or not of that shape.
    pub fn typed<T: serde::de::DeserializeOwned>(&self, key: &ObjectKey) -> Option<T> {
        self.get(key).and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

/// Errors of the vendor layer.
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    /// A typed object could not be serialized (a bug, reported rather than panicking).
    #[error("cannot serialize {key}: {source}")]
    Serialize {
        /// The object.
        key: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// The `ApiResource` of a typed kind.
pub fn api_resource_of<K: kube::Resource<DynamicType = ()>>() -> kube::core::ApiResource {
    kube::core::ApiResource::erase::<K>(&())
}

/// `<service>.<namespace>.svc.cluster.local`.
pub(crate) fn service_host(service: &str, namespace: &str) -> String {
    format!("{service}.{namespace}.svc.cluster.local")
}
