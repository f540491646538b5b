//! The one source of truth for the operator's permissions: every kind it reads or writes and
//! the verbs it uses. The Helm chart and the kustomize base are generated from this table
//! (tests fail on drift), and the end-to-end tests check every API call against it.

/// One RBAC rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// API group (`""` for core).
    pub group: &'static str,
    /// Resources (with `/subresource`).
    pub resources: &'static [&'static str],
    /// Verbs.
    pub verbs: &'static [&'static str],
    /// Why the operator needs it.
    pub why: &'static str,
}

const VENDOR: &[&str] = &["get", "list", "watch", "create", "patch", "delete"];

/// Every permission the operator needs, cluster-wide or per watched namespace. Leases are
/// separate ([`LEASE_RULE`]): only in the operator's own namespace.
pub const RULES: &[Rule] = &[
    Rule {
        group: "apps.wandb.com",
        resources: &["weightsandbiases"],
        verbs: &["get", "list", "watch", "patch"],
        why: "watch resources; add and remove the cleanup finalizer",
    },
    Rule {
        group: "apps.wandb.com",
        resources: &["weightsandbiases/status"],
        verbs: &["get", "patch"],
        why: "write status (server-side apply)",
    },
    Rule {
        group: "apps.wandb.com",
        resources: &["weightsandbiases/finalizers"],
        verbs: &["update"],
        why: "owner references with blockOwnerDeletion (OwnerReferencesPermissionEnforcement)",
    },
    Rule {
        group: "pxc.percona.com",
        resources: &["perconaxtradbclusters"],
        verbs: VENDOR,
        why: "MySQL: apply, read status, detach, purge",
    },
    Rule {
        group: "pxc.percona.com",
        resources: &["perconaxtradbclusterbackups"],
        verbs: &["get", "list", "watch", "create", "patch"],
        why: "MySQL backups: read the schedule's backups, create on-demand ones, keep their data out of a purge (never deleted)",
    },
    Rule {
        group: "pxc.percona.com",
        resources: &["perconaxtradbclusterrestores"],
        verbs: VENDOR,
        why: "MySQL restore: create once, read progress, detach, purge",
    },
    Rule {
        group: "kafka.strimzi.io",
        resources: &["kafkas", "kafkanodepools"],
        verbs: VENDOR,
        why: "Kafka: apply, read status, detach, purge",
    },
    Rule {
        group: "redis.redis.opstreelabs.in",
        resources: &["redis", "redisreplications", "redissentinels"],
        verbs: VENDOR,
        why: "Redis: apply, read status, detach, purge",
    },
    Rule {
        group: "minio.min.io",
        resources: &["tenants"],
        verbs: VENDOR,
        why: "MinIO: apply, read status, detach, purge",
    },
    Rule {
        group: "clickhouse.altinity.com",
        resources: &["clickhouseinstallations"],
        verbs: VENDOR,
        why: "ClickHouse: apply, read status, detach, purge",
    },
    Rule {
        group: "clickhouse-keeper.altinity.com",
        resources: &["clickhousekeeperinstallations"],
        verbs: VENDOR,
        why: "ClickHouse Keeper: apply, read status, detach, purge",
    },
    Rule {
        group: "",
        resources: &["secrets"],
        verbs: &["get", "list", "watch", "create", "patch", "delete"],
        why: "generated credentials and connection Secrets: create once or apply, label the vendor's credentials Secret, read credential sources and external components' Secrets, detach, purge",
    },
    Rule {
        group: "",
        resources: &["persistentvolumeclaims"],
        verbs: &["list", "delete"],
        why: "purge lists and deletes a component's claims (never watched)",
    },
    Rule {
        group: "apps",
        resources: &["statefulsets"],
        verbs: &["get", "list", "watch"],
        why: "Redis readiness comes from the vendor's StatefulSets",
    },
    Rule {
        group: "events.k8s.io",
        resources: &["events"],
        verbs: &["create", "patch"],
        why: "Normal and Warning events",
    },
];

/// Leader election, in the operator's namespace only.
pub const LEASE_RULE: Rule = Rule {
    group: "coordination.k8s.io",
    resources: &["leases"],
    verbs: &["get", "create", "update"],
    why: "leader election",
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
    }
    out
}

/// Whether `(group, resource, verb)` is allowed by `rules`.
pub fn allows(rules: &[Rule], group: &str, resource: &str, verb: &str) -> bool {
    rules.iter().any(|r| r.group == group && r.resources.contains(&resource) && r.verbs.contains(&verb))
}
