//! Layer 1 — the `WeightsAndBiases` custom resource (`apps.wandb.com/v2`).
//!
//! The rustdoc on the types in this module becomes the CRD's OpenAPI descriptions, so it is
//! written for users (`kubectl explain wandb.spec`). Rust-only notes use `//` comments.

mod backup;
mod crd;
mod external;
pub mod reference;
mod spec;
mod status;

pub use backup::*;
pub use crd::{FINALIZER, GROUP, LEGACY_FINALIZERS, MAX_NAME_LENGTH, PAUSE_ANNOTATION, crd};
pub use external::*;
pub use spec::*;
pub use status::*;
