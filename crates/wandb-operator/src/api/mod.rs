//! Layer 1 — the `WeightsAndBiases` custom resource (`apps.wandb.com/v2`).
//!
//! The rustdoc on the types in this module becomes the CRD's OpenAPI descriptions, so it is
//! written for users (`kubectl explain wandb.spec`). Rust-only notes use `//` comments.

pub mod reference;
mod spec;
mod status;

pub use spec::*;
pub use status::*;

/// The API group of the `WeightsAndBiases` resource.
pub const GROUP: &str = "apps.wandb.com";
/// The finalizer the operator keeps on every `WeightsAndBiases` it manages.
pub const FINALIZER: &str = "apps.wandb.com/cleanup";
/// Finalizers left by older operator builds; removed so that deletion never hangs on them.
pub const LEGACY_FINALIZERS: [&str; 4] =
    ["db.app.wandb.com", "kafka.app.wandb.com", "minio.app.wandb.com", "clickhouse.app.wandb.com"];
