//! Layer 2 — what each component needs, whoever runs it: size profiles and the merge of a spec
//! into one validated, vendor-neutral config per component.
//!
//! Pure: no I/O. [`resolve`] checks the instance; [`Resolution::plan`] resolves one component.
//! User values win key by key over the profile; an invalid user value is an error naming the
//! field, never silently replaced by the profile's value. Each component is a module of
//! [`components`] implementing [`ComponentDescriptor`].

mod component;
pub mod components;
mod descriptor;
pub mod digest;
mod edition;
mod error;
pub mod external_service;
pub mod fields;
mod images;
mod minimum_version;
mod pause;
mod placement;
pub mod quantity;
mod resolution;
mod url;

pub use component::{Component, ComponentInfo};
pub use components::*;
pub use descriptor::{ComponentDescriptor, ExternalBlock, Plan, placement_for_deletion};
pub use edition::Edition;
pub use error::ModelError;
pub use external_service::{
    ConnectionKeys, Endpoint, ExternalConfig, ExternalService, Greeting, ProbeTarget, Tls, VersionQuery, VersionRequest,
};
pub use fields::Resources;
pub use images::{ImageSource, image_source};
pub use minimum_version::MinimumVersion;
pub use pause::Pause;
pub use placement::{Instance, Placed, Placement};
pub use quantity::Quantity;
pub use resolution::{MAX_NAME_LENGTH, Resolution, resolve};
