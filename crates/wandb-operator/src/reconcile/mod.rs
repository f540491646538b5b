//! Layer 4 — the only code with side effects: read caches, server-side apply the desired
//! objects, create generated Secrets once, apply retention, write status (at most once per
//! reconcile and only when it changed).
//!
//! [`resource`] reconciles one `WeightsAndBiases`; [`all_components`] runs every component's
//! [`pipeline`] concurrently.

mod all_components;
mod apply;
mod backups_step;
pub mod cache;
mod check_cache;
pub mod compact_store;
pub mod connection_sync;
mod context;
mod edition;
mod error;
mod external_check;
mod finalizers;
mod guards;
mod major_gate;
mod ownership;
mod paused;
mod pipeline;
pub mod probe;
pub mod projection;
pub mod releases;
mod resource;
mod retention;
mod status_write;
mod storage;
mod succession;
mod upgrade;
mod version_check;
mod version_query;

pub use apply::{APPLIED_HASH_ANNOTATION, with_applied_hash};
pub use cache::{Caches, KindCache, KindState};
pub use check_cache::Checks;
pub use context::{Context, Observer, Settings};
pub use error::ReconcileError;
pub use probe::{NetworkProber, Prober};
pub use resource::{backoff_delay, error_policy, reconcile};
