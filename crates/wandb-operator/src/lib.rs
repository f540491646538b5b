//! wandb-operator: W&B's stateful infrastructure from one `WeightsAndBiases` resource.
//!
//! Layers, each calling only the ones below it:
//! 1. [`api`] — the CRD types;
//! 2. [`model`] — size profiles and the merge into one validated config per component (pure);
//! 3. [`vendors`] — desired vendor objects and status readers per vendor (pure);
//! 4. reconcile and 5. controller — side effects and wiring (see the controller issue).
//!
//! [`render`] ties 1–3 together for the `render` command.

pub mod api;
pub mod model;
pub mod render;
pub mod vendors;
