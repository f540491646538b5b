//! Fuzz target (proptest): arbitrary CR-shaped JSON, arbitrary JSON and arbitrary text through
//! manifest parsing, the model and render must never panic. Every input is either rendered or
//! rejected with an error.

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};
use wandb_operator::registry::Registry;
use wandb_operator::render::{parse_manifests, render_objects};

const FIELDS: &[&str] = &[
    "size",
    "mysql",
    "redis",
    "kafka",
    "minio",
    "clickhouse",
    "enabled",
    "storageSize",
    "namespace",
    "replicas",
    "config",
    "resources",
    "limits",
    "requests",
    "memory",
    "cpu",
    "image",
    "retentionPolicy",
    "onDelete",
    "sentinel",
    "masterName",
    "version",
    "spec",
    "metadata",
    "name",
];
const VALUES: &[&str] = &[
    "dev",
    "small",
    "large",
    "huge",
    "purge",
    "detach",
    "10Gi",
    "0",
    "-1Gi",
    "1e3",
    "1e400",
    "999999999999999Ei",
    "0.000001m",
    "1.5",
    "",
    " ",
    "wandb",
    "Bad_NS",
    "ns",
    "gorilla",
    "4.2.0",
    "25.8",
    "ünïcödé",
    "🦍",
    "\u{0}",
    "null",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![4 => prop::sample::select(FIELDS).prop_map(str::to_owned), 1 => ".{0,12}"]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-10i64..10).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(VALUES).prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map(key(), inner, 0..7).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn cr_document() -> impl Strategy<Value = Value> {
    let name = prop_oneof![Just(json!("wandb")), "[a-z0-9-]{0,20}".prop_map(Value::from), leaf()];
    let namespace = prop_oneof![Just(json!("apps")), leaf()];
    (name, namespace, json_value()).prop_map(|(name, namespace, spec)| {
        json!({"apiVersion": "apps.wandb.com/v2", "kind": "WeightsAndBiases",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec})
    })
}

/// Parses and renders `text`; either outcome is fine, a panic is not.
fn parse_and_render(text: &str) -> usize {
    let vendors = Registry::default();
    match parse_manifests(text, "default") {
        Ok(resources) => resources.iter().map(|w| render_objects(w, &vendors).map_or(0, |o| o.len())).sum(),
        Err(_) => 0,
    }
}

/// Counts of the run.
#[derive(Debug, Default)]
pub struct FuzzFigures {
    /// Inputs tried.
    pub cases: u32,
    /// Inputs that rendered at least one object.
    pub rendered: u32,
}

/// Runs `cases` inputs of each kind; `Err` carries the minimal failing input.
pub fn run(cases: u32, seed: u64) -> Result<FuzzFigures, String> {
    let mut figures = FuzzFigures::default();
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let runner = || TestRunner::new_with_rng(config.clone(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
    let rendered = std::cell::Cell::new(0u32);
    runner()
        .run(&cr_document(), |doc| {
            if parse_and_render(&doc.to_string()) > 0 {
                rendered.set(rendered.get() + 1);
            }
            Ok(())
        })
        .map_err(|e| format!("CR-shaped JSON: {e}"))?;
    runner()
        .run(&json_value(), |doc| {
            parse_and_render(&doc.to_string());
            Ok(())
        })
        .map_err(|e| format!("arbitrary JSON: {e}"))?;
    runner()
        .run(&"(.|\n){0,200}", |text| {
            parse_and_render(&text);
            Ok(())
        })
        .map_err(|e| format!("arbitrary text: {e}"))?;
    figures.cases = cases * 3;
    figures.rendered = rendered.get();
    Ok(figures)
}
