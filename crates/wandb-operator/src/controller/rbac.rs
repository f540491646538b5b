//! The one source of truth for the operator's permissions: every kind it reads or writes and
//! the verbs it uses, assembled from the operator's own rows and each vendor's. The Helm chart
//! and the kustomize base are generated from this table (tests fail on drift), and the
//! end-to-end tests check every API call against it.

pub use crate::vendors::Rule;

/// The operator's own permissions (its resource, Secrets, claims, StatefulSets, events), besides
/// those each vendor lists for its kinds.
const OWN_RULES: &[Rule] = &[
    Rule {
        group: "apps.wandb.com",
        resources: &["weightsandbiases"],
        verbs: &["get", "list", "watch", "patch"],
        why: "watch resources; add and remove the cleanup finalizer",
        resource_names: &[],
    },
    Rule {
        group: "apps.wandb.com",
        resources: &["weightsandbiases/status"],
        verbs: &["get", "patch"],
        why: "write status (server-side apply)",
        resource_names: &[],
    },
    Rule {
        group: "apps.wandb.com",
        resources: &["weightsandbiases/finalizers"],
        verbs: &["update"],
        why: "owner references with blockOwnerDeletion (OwnerReferencesPermissionEnforcement)",
        resource_names: &[],
    },
    Rule {
        group: "",
        resources: &["secrets"],
        verbs: &["get", "list", "watch", "create", "patch", "delete"],
        why: "generated credentials and connection Secrets: create once or apply, label the vendor's credentials Secret, read credential sources and external components' Secrets, detach, purge",
        resource_names: &[],
    },
    Rule {
        group: "",
        resources: &["persistentvolumeclaims"],
        verbs: &["list", "delete"],
        why: "purge lists and deletes a component's claims; status lists their capacity and a storage increase their StorageClasses (never watched)",
        resource_names: &[],
    },
    STORAGE_CLASS_RULE,
    Rule {
        group: "",
        resources: &["configmaps"],
        verbs: &["get", "list", "watch"],
        why: "copy the cluster's root CA (kube-root-ca.crt) into MinIO's connection Secret and backups: watched and read by name only",
        resource_names: &[crate::vendors::connection_secret::CLUSTER_CA_CONFIG_MAP],
    },
    Rule {
        group: "apps",
        resources: &["statefulsets"],
        verbs: &["get", "list", "watch"],
        why: "Redis readiness comes from the vendor's StatefulSets",
        resource_names: &[],
    },
    CRD_METADATA_RULE,
    Rule {
        group: "events.k8s.io",
        resources: &["events"],
        verbs: &["create", "patch"],
        why: "Normal and Warning events",
        resource_names: &[],
    },
];

/// Every permission the operator needs, cluster-wide or per watched namespace: its resource,
/// each vendor's kinds (in component order), then Secrets, claims, StatefulSets and events.
/// Leases are separate ([`LEASE_RULE`]): only in the operator's own namespace.
pub fn rules() -> Vec<Rule> {
    let registry = crate::registry::Registry::default();
    let (resource, core) = OWN_RULES.split_at(OWN_RESOURCE_RULES);
    resource.iter().copied().chain(registry.access_rules()).chain(core.iter().copied()).collect()
}

/// How many of [`OWN_RULES`] are about the `WeightsAndBiases` resource (they come first).
const OWN_RESOURCE_RULES: usize = 3;

/// Reading the vendors' CRD metadata (which release is installed). Cluster-scoped: a
/// namespace-scoped install grants it with a ClusterRole of its own.
pub const CRD_METADATA_RULE: Rule = Rule {
    group: "apiextensions.k8s.io",
    resources: &["customresourcedefinitions"],
    verbs: &["list", "watch"],
    why: "read which vendor operator release is installed (the metadata of its CRDs: labels and annotations)",
    resource_names: &[],
};

/// Reading StorageClasses by name: a storage increase is applied only if the claims' classes
/// allow volume expansion. Cluster-scoped, like [`CRD_METADATA_RULE`].
pub const STORAGE_CLASS_RULE: Rule = Rule {
    group: "storage.k8s.io",
    resources: &["storageclasses"],
    verbs: &["get"],
    why: "a storage increase is applied only if the claims' StorageClasses allow volume expansion (read by name)",
    resource_names: &[],
};

/// The rules on cluster-scoped kinds: a namespace-scoped install grants them with a
/// ClusterRole of their own.
pub const CLUSTER_SCOPED_RULES: [Rule; 2] = [CRD_METADATA_RULE, STORAGE_CLASS_RULE];

/// Leader election, in the operator's namespace only.
pub const LEASE_RULE: Rule = Rule {
    group: "coordination.k8s.io",
    resources: &["leases"],
    verbs: &["get", "create", "update"],
    why: "leader election",
    resource_names: &[],
};

/// The rules as a YAML list (`rules:` body of a Role or ClusterRole).
pub fn rules_yaml(rules: &[Rule]) -> String {
    let mut out = String::new();
    for rule in rules {
        out.push_str(&format!("# {}\n", rule.why));
        out.push_str(&format!("- apiGroups: [\"{}\"]\n", rule.group));
        out.push_str(&format!(
            "  resources: [{}]\n",
            rule.resources.iter().map(|r| format!("\"{r}\"")).collect::<Vec<_>>().join(", ")
        ));
        out.push_str(&format!(
            "  verbs: [{}]\n",
            rule.verbs.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ")
        ));
        if !rule.resource_names.is_empty() {
            out.push_str(&format!(
                "  resourceNames: [{}]\n",
                rule.resource_names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    out
}

/// Whether `(group, resource, verb)` is allowed by `rules`.
pub fn allows(rules: &[Rule], group: &str, resource: &str, verb: &str) -> bool {
    rules.iter().any(|r| r.group == group && r.resources.contains(&resource) && r.verbs.contains(&verb))
}
