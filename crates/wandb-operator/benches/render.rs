//! Render time per CR and size: `cargo bench -p wandb-operator --bench render`.
//!
//! Prints, for each size, the mean time of `resolve + desired` (what a reconcile computes) and of
//! the full `render` (plus YAML output). No assertions: figures only.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // a benchmark binary

use std::hint::black_box;
use std::time::Instant;

use wandb_operator::api::{Size, WeightsAndBiases, WeightsAndBiasesSpec};
use wandb_operator::registry::Registry;
use wandb_operator::render::{render_objects, to_yaml_stream};

fn time_per_iteration(iterations: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..iterations / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations)
}

fn main() {
    let vendors = Registry::default();
    let iterations = if std::env::args().any(|a| a == "--quick") { 200 } else { 5_000 };
    println!("{:<6} {:>14} {:>18} {:>9}", "size", "objects_us", "objects+yaml_us", "objects");
    for size in Size::ALL {
        let mut wandb = WeightsAndBiases::new("wandb", WeightsAndBiasesSpec { size, ..Default::default() });
        wandb.metadata.namespace = Some("wandb".to_owned());
        wandb.metadata.uid = Some("0c1e3c5e-0000-4000-8000-000000000001".to_owned());
        let count = render_objects(&wandb, &vendors).unwrap().len();
        let objects_us = time_per_iteration(iterations, || {
            black_box(render_objects(black_box(&wandb), &vendors).unwrap());
        });
        let yaml_us = time_per_iteration(iterations, || {
            let objects = render_objects(black_box(&wandb), &vendors).unwrap();
            black_box(to_yaml_stream(&objects).unwrap());
        });
        println!("{:<6} {:>14.1} {:>18.1} {:>9}", size.as_str(), objects_us, yaml_us, count);
    }
}
