//! Measurement tooling for wandb-operator: the `wandb-bench` benchmark and the
//! `wandb-reliability` suite, both on the Kubernetes API emulator with the vendor simulators.
//!
//! This crate is test tooling, not product: it reuses the product's test support (the emulated
//! cluster harness and the vendor simulators) so that the benchmark, the reliability suite and
//! the e2e tests all run against the same simulated vendors.
// A measurement harness: a failed setup step (emulator, namespace, CR) aborts the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The product's e2e test support: emulated cluster harness and vendor simulators.
#[path = "../../wandb-operator/tests/support/mod.rs"]
#[allow(missing_docs)]
pub mod support;

pub mod convergence;
pub mod foreign;
pub mod logs;
pub mod operator_process;
pub mod real_backend;
pub mod reliability;
pub mod world;
