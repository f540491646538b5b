//! Shared test fixtures: a small custom resource and a client on an emulator.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod backend;

use kube::{Client, CustomResource, CustomResourceExt};
use kube_emulator::{Emulator, EmulatorConfig};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A test kind with a status subresource, a CEL rule and a map-type list.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Widget", namespaced, status = "WidgetStatus", shortname = "wd")]
#[kube(printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"))]
pub struct WidgetSpec {
    /// Replicas.
    pub replicas: i32,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Status.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
pub struct WidgetStatus {
    /// Phase.
    pub phase: String,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>>,
}

/// The Widget CRD as JSON.
pub fn widget_crd() -> serde_json::Value {
    serde_json::to_value(Widget::crd()).unwrap()
}

/// An emulator serving Widgets, with fast bookmarks.
pub fn emulator() -> Emulator {
    let emulator = Emulator::new(EmulatorConfig {
        bookmark_interval: std::time::Duration::from_millis(200),
        ..Default::default()
    });
    emulator.register_crd(&widget_crd()).unwrap();
    emulator
}

/// An in-process kube client on `emulator`.
pub fn client(emulator: &Emulator) -> Client {
    Client::new(emulator.service(), "default")
}

/// A Widget.
pub fn widget(name: &str, replicas: i32) -> Widget {
    Widget::new(name, WidgetSpec { replicas, note: None })
}

/// `../shared/vendor-crds` beside the repository (or `$WANDB_VENDOR_CRDS`), if present; prints
/// a notice and returns `None` when absent.
pub fn vendor_crds_dir() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("WANDB_VENDOR_CRDS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vendor-crds"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("NOTICE: {} is absent; skipping checks with the vendors' real CRDs", dir.display());
        None
    }
}
