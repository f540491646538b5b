//! The component stays the unit a reader looks for (issue 18): besides the CRD types, only the
//! registry and the model's module list name every component. A new file that lists them all
//! is a new hand-kept list of components; it should go through the registry instead.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests panic on unexpected errors

mod support;

use std::path::{Path, PathBuf};

use support::fixtures::repo_root;

const COMPONENTS: [&str; 5] = ["mysql", "redis", "kafka", "minio", "clickhouse"];

/// The files allowed to name every component, and why.
const ALLOWED: [&str; 4] = [
    "src/api/spec.rs",                // the CRD spec: one field per component
    "src/api/status.rs",              // the CRD status: one slot per component
    "src/registry/component_list.rs", // the registry: each component with its vendor
    "src/model/components/mod.rs",    // the module list Rust needs
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_the_crd_types_the_registry_and_the_module_list_name_every_component() {
    let crate_dir = repo_root().join("crates/wandb-operator");
    let mut files = Vec::new();
    sources(&crate_dir.join("src"), &mut files);
    assert!(files.len() > 40, "the product's sources were not found under {}", crate_dir.display());
    let mut naming_all: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap().to_lowercase();
            COMPONENTS.iter().all(|c| text.contains(c))
        })
        .map(|path| path.strip_prefix(&crate_dir).unwrap().to_string_lossy().into_owned())
        .collect();
    naming_all.sort();
    let mut allowed: Vec<String> = ALLOWED.iter().map(|s| (*s).to_owned()).collect();
    allowed.sort();
    assert_eq!(naming_all, allowed, "files naming every component (each list of components belongs in the registry)");
}
