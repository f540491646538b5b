//! One RBAC rule: a kind the operator reads or writes, the verbs it uses and why. Each vendor
//! lists its own; `controller::rbac` adds the operator's and assembles the table.

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
    /// The only objects it covers, by name (`[]`: every object). List and watch are allowed
    /// with such a rule only when they select that name (`fieldSelector=metadata.name=…`).
    pub resource_names: &'static [&'static str],
}

/// The verbs on a vendor kind the operator applies, reads, detaches and purges.
pub const VENDOR_VERBS: &[&str] = &["get", "list", "watch", "create", "patch", "delete"];
