//! Where a component lives: its instance, namespace and retention policy.

use super::component::Component;
use crate::api::OnDelete;

/// The `WeightsAndBiases` instance the objects belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.uid`; absent when rendering a manifest that was never applied.
    pub uid: Option<String>,
}

/// Where a component lives and what happens to it when it stops being managed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The instance it belongs to.
    pub instance: Instance,
    /// The component.
    pub component: Component,
    /// Namespace of its objects.
    pub namespace: String,
    /// Retention policy in force for it.
    pub on_delete: OnDelete,
}

impl Placement {
    /// The component's main object name: `<cr>-<component>`.
    pub fn object_name(&self) -> String {
        format!("{}-{}", self.instance.name, self.component.key())
    }

    /// Whether the component shares the instance's namespace (owner references possible).
    pub fn same_namespace(&self) -> bool {
        self.namespace == self.instance.namespace
    }
}

/// Access to a component config's placement and edition.
pub trait Placed {
    /// Where the component lives and its retention policy.
    fn placement(&self) -> &Placement;
    /// The edition of defaults the config was resolved with.
    fn edition(&self) -> super::edition::Edition;
}
