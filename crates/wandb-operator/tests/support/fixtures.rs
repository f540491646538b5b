//! Fixtures shared by the integration tests: resources, manifests and paths, without a cluster.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // shared test helpers

use std::path::PathBuf;

use serde_json::Value;
use wandb_operator::api::{Size, WeightsAndBiases, WeightsAndBiasesSpec};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/vendor-crds` beside the repository (or `$WANDB_VENDOR_CRDS`), if present.
/// Prints a notice and returns `None` when absent, so the caller can skip.
pub fn vendor_crds_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("WANDB_VENDOR_CRDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/vendor-crds"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("NOTICE: {} is absent; skipping checks against the vendors' real CRDs", dir.display());
        None
    }
}

/// A `WeightsAndBiases` with a name, namespace and UID, as the API server would hand it over.
pub fn wandb(name: &str, namespace: &str, spec: WeightsAndBiasesSpec) -> WeightsAndBiases {
    let mut w = WeightsAndBiases::new(name, spec);
    w.metadata.namespace = Some(namespace.to_owned());
    w.metadata.uid = Some("0c1e3c5e-0000-4000-8000-000000000001".to_owned());
    w
}

/// A `WeightsAndBiases` of one size with no overrides.
pub fn sized(size: Size) -> WeightsAndBiases {
    wandb("wandb", "wandb", WeightsAndBiasesSpec { size, ..Default::default() })
}

/// Parses a YAML manifest.
pub fn from_yaml(text: &str) -> WeightsAndBiases {
    let mut docs = wandb_operator::render::parse_manifests(text, "default").unwrap();
    docs.remove(0)
}

/// Finds the rendered object of `kind`.
pub fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects.iter().find(|o| o["kind"] == kind).unwrap_or_else(|| panic!("no {kind} rendered"))
}
