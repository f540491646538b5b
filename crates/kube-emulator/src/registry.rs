//! The kinds the emulator serves: a table of built-in kinds plus every registered CRD version.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::schema::{SchemaError, StructuralSchema};

/// Which built-in kind a resource type is (they get strategic merge, typed strict validation
/// and known list semantics). `None` for custom resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `v1` Namespace.
    Namespace,
    /// `v1` Secret.
    Secret,
    /// `v1` ConfigMap.
    ConfigMap,
    /// `v1` Service.
    Service,
    /// `v1` PersistentVolumeClaim.
    PersistentVolumeClaim,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` Deployment.
    Deployment,
    /// `events.k8s.io/v1` Event (stored form of every event).
    Event,
    /// `v1` Event: a view of the `events.k8s.io/v1` store.
    CoreEvent,
    /// `coordination.k8s.io/v1` Lease.
    Lease,
    /// `apiextensions.k8s.io/v1` CustomResourceDefinition.
    CustomResourceDefinition,
    /// `v1` ServiceAccount.
    ServiceAccount,
    /// `rbac.authorization.k8s.io/v1` Role.
    Role,
    /// `rbac.authorization.k8s.io/v1` ClusterRole.
    ClusterRole,
    /// `rbac.authorization.k8s.io/v1` RoleBinding.
    RoleBinding,
    /// `rbac.authorization.k8s.io/v1` ClusterRoleBinding.
    ClusterRoleBinding,
    /// `storage.k8s.io/v1` StorageClass.
    StorageClass,
}

/// An additional printer column of a CRD.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    /// Header.
    pub name: String,
    /// OpenAPI type (`string`, `date`, ...).
    pub type_: String,
    /// JSONPath, e.g. `.status.state`.
    pub json_path: String,
    /// Description.
    pub description: String,
}

/// One served group/version/kind.
#[derive(Debug)]
pub struct ResourceType {
    /// API group (`""` for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Plural resource name.
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Short names.
    pub short_names: Vec<String>,
    /// Categories.
    pub categories: Vec<String>,
    /// Whether `/status` is a subresource (writes to the main resource ignore `.status`).
    pub status_subresource: bool,
    /// Compiled structural schema (custom resources).
    pub schema: Option<Arc<StructuralSchema>>,
    /// The raw `openAPIV3Schema` (custom resources), for OpenAPI documents and list types.
    pub raw_schema: Option<Value>,
    /// Built-in kind, if any.
    pub builtin: Option<Builtin>,
    /// Printer columns.
    pub printer_columns: Vec<PrinterColumn>,
    /// Field paths usable in field selectors besides `metadata.name`/`metadata.namespace`.
    pub selectable_fields: Vec<String>,
    /// Objects of all versions of a kind share one storage key (no conversion: only
    /// `apiVersion` changes between versions).
    pub storage: (String, String),
    /// The CRD that defines it.
    pub crd_name: Option<String>,
}

impl ResourceType {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The URL prefix: `/api/v1` or `/apis/G/V`.
    pub fn prefix(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }
}

/// The registry of served kinds.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    types: Vec<Arc<ResourceType>>,
}

#[allow(clippy::too_many_arguments)] // a table row
fn builtin(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    namespaced: bool,
    short: &[&str],
    status: bool,
    b: Builtin,
) -> ResourceType {
    let storage = if b == Builtin::CoreEvent {
        ("events.k8s.io".to_owned(), "events".to_owned())
    } else {
        (group.to_owned(), plural.to_owned())
    };
    ResourceType {
        group: group.to_owned(),
        version: version.to_owned(),
        kind: kind.to_owned(),
        plural: plural.to_owned(),
        singular: kind.to_lowercase(),
        namespaced,
        short_names: short.iter().map(|s| (*s).to_owned()).collect(),
        categories: if matches!(b, Builtin::Service | Builtin::StatefulSet | Builtin::Deployment) {
            vec!["all".to_owned()]
        } else {
            vec![]
        },
        status_subresource: status,
        schema: None,
        raw_schema: None,
        builtin: Some(b),
        printer_columns: vec![],
        selectable_fields: if b == Builtin::CoreEvent {
            [
                "involvedObject.kind",
                "involvedObject.name",
                "involvedObject.namespace",
                "involvedObject.uid",
                "reason",
                "type",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
        } else {
            vec![]
        },
        storage,
        crd_name: None,
    }
}

/// Why a CRD cannot be registered.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A required field is missing.
    #[error("invalid CustomResourceDefinition: {0}")]
    Invalid(String),
    /// A version's schema does not compile.
    #[error("CustomResourceDefinition {name} version {version}: {source}")]
    Schema {
        /// CRD name.
        name: String,
        /// Version.
        version: String,
        /// Why.
        #[source]
        source: SchemaError,
    },
}

impl Registry {
    /// The built-in kinds.
    pub fn with_builtins() -> Self {
        use Builtin::*;
        let types = vec![
            builtin("", "v1", "Namespace", "namespaces", false, &["ns"], true, Namespace),
            builtin("", "v1", "Secret", "secrets", true, &[], false, Secret),
            builtin("", "v1", "ConfigMap", "configmaps", true, &["cm"], false, ConfigMap),
            builtin("", "v1", "Service", "services", true, &["svc"], true, Service),
            builtin(
                "",
                "v1",
                "PersistentVolumeClaim",
                "persistentvolumeclaims",
                true,
                &["pvc"],
                true,
                PersistentVolumeClaim,
            ),
            builtin("", "v1", "Event", "events", true, &["ev"], false, CoreEvent),
            builtin("apps", "v1", "StatefulSet", "statefulsets", true, &["sts"], true, StatefulSet),
            builtin("apps", "v1", "Deployment", "deployments", true, &["deploy"], true, Deployment),
            builtin("events.k8s.io", "v1", "Event", "events", true, &["ev"], false, Event),
            builtin("coordination.k8s.io", "v1", "Lease", "leases", true, &[], false, Lease),
            builtin("", "v1", "ServiceAccount", "serviceaccounts", true, &["sa"], false, ServiceAccount),
            builtin("rbac.authorization.k8s.io", "v1", "Role", "roles", true, &[], false, Role),
            builtin("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, &[], false, ClusterRole),
            builtin("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, &[], false, RoleBinding),
            builtin(
                "rbac.authorization.k8s.io",
                "v1",
                "ClusterRoleBinding",
                "clusterrolebindings",
                false,
                &[],
                false,
                ClusterRoleBinding,
            ),
            builtin("storage.k8s.io", "v1", "StorageClass", "storageclasses", false, &["sc"], false, StorageClass),
            builtin(
                "apiextensions.k8s.io",
                "v1",
                "CustomResourceDefinition",
                "customresourcedefinitions",
                false,
                &["crd", "crds"],
                true,
                CustomResourceDefinition,
            ),
        ];
        Registry { types: types.into_iter().map(Arc::new).collect() }
    }

    /// Every served type.
    pub fn types(&self) -> &[Arc<ResourceType>] {
        &self.types
    }

    /// The type served at `group/version/plural`.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.types.iter().find(|t| t.group == group && t.version == version && t.plural == plural).cloned()
    }

    /// The type for `apiVersion` + `kind`.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<Arc<ResourceType>> {
        self.types.iter().find(|t| t.api_version() == api_version && t.kind == kind).cloned()
    }

    /// The served types of a storage key (all versions of a kind).
    pub fn by_storage(&self, storage: &(String, String)) -> Vec<Arc<ResourceType>> {
        self.types.iter().filter(|t| &t.storage == storage).cloned().collect()
    }

    /// Parses a CRD into the types it serves (without registering them).
    pub fn types_of_crd(crd: &Value) -> Result<Vec<ResourceType>, RegistryError> {
        let text = |p: &str| crd.pointer(p).and_then(Value::as_str).map(str::to_owned);
        let strings = |p: &str| -> Vec<String> {
            crd.pointer(p)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let missing = |what: &str| RegistryError::Invalid(format!("{what} is required"));
        let name = text("/metadata/name").ok_or_else(|| missing("metadata.name"))?;
        let group = text("/spec/group").ok_or_else(|| missing("spec.group"))?;
        let kind = text("/spec/names/kind").ok_or_else(|| missing("spec.names.kind"))?;
        let plural = text("/spec/names/plural").ok_or_else(|| missing("spec.names.plural"))?;
        if name != format!("{plural}.{group}") {
            return Err(RegistryError::Invalid(format!("metadata.name must be {plural}.{group}")));
        }
        let singular = text("/spec/names/singular").unwrap_or_else(|| kind.to_lowercase());
        let namespaced = text("/spec/scope").as_deref() != Some("Cluster");
        let versions =
            crd.pointer("/spec/versions").and_then(Value::as_array).ok_or_else(|| missing("spec.versions"))?;
        let mut out = Vec::new();
        for v in versions {
            if v.get("served").and_then(Value::as_bool) != Some(true) {
                continue;
            }
            let version =
                v.get("name").and_then(Value::as_str).ok_or_else(|| missing("spec.versions[].name"))?.to_owned();
            let raw_schema = v.pointer("/schema/openAPIV3Schema").cloned();
            if let Some(raw) = &raw_schema {
                let at = format!("spec.versions[{}].schema.openAPIV3Schema", out.len());
                check_field_paths(raw, &at)?;
            }
            let schema = raw_schema
                .as_ref()
                .map(|s| {
                    StructuralSchema::new(s).map(Arc::new).map_err(|source| RegistryError::Schema {
                        name: name.clone(),
                        version: version.clone(),
                        source,
                    })
                })
                .transpose()?;
            let printer_columns = v
                .get("additionalPrinterColumns")
                .and_then(Value::as_array)
                .map(|cols| {
                    cols.iter()
                        .map(|c| PrinterColumn {
                            name: c["name"].as_str().unwrap_or_default().to_owned(),
                            type_: c["type"].as_str().unwrap_or("string").to_owned(),
                            json_path: c["jsonPath"].as_str().unwrap_or_default().to_owned(),
                            description: c["description"].as_str().unwrap_or_default().to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let selectable_fields = v
                .get("selectableFields")
                .and_then(Value::as_array)
                .map(|f| {
                    f.iter()
                        .filter_map(|f| f["jsonPath"].as_str())
                        .map(|p| p.trim_start_matches('.').to_owned())
                        .collect()
                })
                .unwrap_or_default();
            out.push(ResourceType {
                group: group.clone(),
                version,
                kind: kind.clone(),
                plural: plural.clone(),
                singular: singular.clone(),
                namespaced,
                short_names: strings("/spec/names/shortNames"),
                categories: strings("/spec/names/categories"),
                status_subresource: v.pointer("/subresources/status").is_some(),
                schema,
                raw_schema,
                builtin: None,
                printer_columns,
                selectable_fields,
                storage: (group.clone(), plural.clone()),
                crd_name: Some(name.clone()),
            });
        }
        Ok(out)
    }

    /// Registers (or replaces) the types a CRD serves.
    ///
    /// A CRD is refused (422) when a CEL rule's `fieldPath` names a field its schema does not
    /// declare, as kube-apiserver refuses it ("must be a valid path").
    pub fn register_crd(&mut self, crd: &Value) -> Result<(), RegistryError> {
        let types = Self::types_of_crd(crd)?;
        let name = crd.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_owned();
        self.unregister_crd(&name);
        self.types.extend(types.into_iter().map(Arc::new));
        Ok(())
    }

    /// Removes the types a CRD served.
    pub fn unregister_crd(&mut self, name: &str) {
        self.types.retain(|t| t.crd_name.as_deref() != Some(name));
    }

    /// Groups and their versions, in registration order (for discovery).
    pub fn groups(&self) -> BTreeMap<String, Vec<String>> {
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in &self.types {
            let versions = groups.entry(t.group.clone()).or_default();
            if !versions.contains(&t.version) {
                versions.push(t.version.clone());
            }
        }
        groups
    }
}

/// Checks every `x-kubernetes-validations[].fieldPath` below `schema`: it must resolve, from the
/// node carrying the rule, through declared `properties` (or `additionalProperties`, for map
/// keys), written as `.name` or `['name']` segments.
fn check_field_paths(schema: &Value, at: &str) -> Result<(), RegistryError> {
    if let Some(rules) = schema.get("x-kubernetes-validations").and_then(Value::as_array) {
        for (i, rule) in rules.iter().enumerate() {
            let Some(path) = rule.get("fieldPath").and_then(Value::as_str) else { continue };
            if resolve_field_path(schema, path).is_none() {
                return Err(RegistryError::Invalid(format!(
                    "{at}.x-kubernetes-validations[{i}].fieldPath: Invalid value: \"{path}\": must be a valid path"
                )));
            }
        }
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, child) in properties {
            check_field_paths(child, &format!("{at}.properties[{name}]"))?;
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child) = schema.get(key).filter(|c| c.is_object()) {
            check_field_paths(child, &format!("{at}.{key}"))?;
        }
    }
    Ok(())
}

/// The schema node a `fieldPath` leads to from `schema`, if every segment is declared.
fn resolve_field_path<'a>(schema: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = schema;
    let mut rest = path;
    while !rest.is_empty() {
        let (segment, tail) = if let Some(after) = rest.strip_prefix("['") {
            let end = after.find("']")?;
            (&after[..end], &after[end + 2..])
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            (&after[..end], &after[end..])
        } else {
            return None;
        };
        if segment.is_empty() {
            return None;
        }
        node = match node.pointer(&format!("/properties/{}", segment.replace('~', "~0").replace('/', "~1"))) {
            Some(child) => child,
            None => node.get("additionalProperties").filter(|a| a.is_object())?,
        };
        rest = tail;
    }
    Some(node)
}
