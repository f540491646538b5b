//! wandb-operator: W&B's stateful infrastructure from one `WeightsAndBiases` resource.
//!
//! Layers, each calling only the ones below it:
//! - 1 [`api`] — the CRD types;
//! - 2 [`model`] — what each component needs: profiles and the merge into one validated config
//!   per component (pure);
//! - 3 [`vendors`] — desired vendor objects and status readers per vendor (pure);
//! - 3½ [`registry`] — the components, each with its vendor: what "every component" loops over;
//! - 4 [`reconcile`] — the only code with side effects;
//! - 5 [`controller`] — kube-runtime wiring, metrics, health, leader election.
//!
//! [`render`] ties 1–3 together for the `render` command.

pub mod api;
pub mod controller;
pub mod model;
pub mod reconcile;
pub mod registry;
pub mod render;
pub mod vendors;
