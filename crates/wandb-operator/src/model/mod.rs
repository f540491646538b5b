//! Layer 2 — size profiles and the merge of a spec into one validated config per component.
//!
//! Pure: no I/O. [`resolve`] is the only entry point the layers above need. User values win
//! key by key over the profile; an invalid user value is an error naming the field, never
//! silently replaced by the profile's value.

pub mod backup;
mod config;
pub mod digest;
mod error;
pub mod external;
mod merge;
pub mod profile;
pub mod quantity;

pub use config::*;
pub use error::ModelError;
pub use external::{Endpoint, ExternalConfig, ExternalService};
pub use merge::{placements, resolve};
pub use quantity::Quantity;
