//! Layer 3½ — the registry: the only list of the components (besides the CRD types and the
//! model's module list), each paired with the vendor that runs it. Everything that acts on
//! "every component" — the reconcile, status, render, watched kinds, RBAC — goes through
//! [`Registry::visit`] (typed) or [`Registry::entries`] (erased).

pub mod change_plan;
mod component_list;
pub mod connection_preview;
mod entry;
pub mod summary;
mod visitor;

pub use component_list::Registry;
pub use entry::ComponentEntry;
pub use visitor::{ComponentVisitor, VendorOf};
