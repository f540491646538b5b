//! `wandb-reliability`: the reliability suite (see docs/performance.md). Run it with
//! `scripts/reliability [--quick]`; the last line printed is `N passed, N failed`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test program: a failed setup step aborts it

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clap::Parser;
use wandb_measure::logs;
use wandb_measure::operator_process::build_operator_binary;
use wandb_measure::reliability::fault_matrix::{self, SafetyTally};
use wandb_measure::reliability::{Report, Scale, Selection, bad_input, crash_loop, fuzz};

/// The reliability suite of wandb-operator, on the emulated cluster.
#[derive(Parser)]
struct Args {
    /// The CI configuration: one 5xx rate, 20 kills, fewer fuzz cases.
    #[arg(long)]
    quick: bool,
    /// Seed for fault draws, kill points and fuzz inputs (printed, so a run can be repeated).
    #[arg(long, default_value_t = 20261128)]
    seed: u64,
    /// Run only these parts (fuzz, bad-input, faults, crash); default all.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Fault-matrix flows to run, as printed (e.g. `create,delete(purge)`); default all.
    #[arg(long, value_delimiter = ',')]
    flows: Vec<String>,
    /// Fault-matrix faults to run, as printed (e.g. `5xx 50%`); default all.
    #[arg(long, value_delimiter = ',')]
    faults: Vec<String>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let scale = Scale { quick: args.quick, seed: args.seed };
    let wanted = |part: &str| args.only.is_empty() || args.only.iter().any(|o| o == part);
    // Every panic in this process (operator, simulators, emulator) is counted and fails the run.
    let panics = Arc::new(AtomicUsize::new(0));
    let default_hook = std::panic::take_hook();
    let counter = panics.clone();
    std::panic::set_hook(Box::new(move |info| {
        counter.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    let logs = logs::capture();
    let mut report = Report::default();
    println!("wandb-reliability: {} run, seed {}", if scale.quick { "quick" } else { "full" }, scale.seed);

    if wanted("fuzz") {
        report.section("fuzz (arbitrary CR JSON, JSON and text into parse + model + render)");
        let started = Instant::now();
        let cases = if scale.quick { 2_000 } else { 20_000 };
        let before = panics.load(Ordering::SeqCst);
        let result = tokio::task::spawn_blocking(move || fuzz::run(cases, scale.seed)).await.unwrap();
        let panicked = panics.load(Ordering::SeqCst) - before;
        report.check(
            "fuzz: no panic",
            started,
            result.and_then(|f| {
                if panicked == 0 {
                    Ok(format!("{} inputs, {} CR-shaped ones rendered", f.cases, f.rendered))
                } else {
                    Err(format!("{panicked} panics"))
                }
            }),
        );
    }
    if wanted("bad-input") {
        let before = panics.load(Ordering::SeqCst);
        bad_input::run(&mut report).await;
        let panicked = panics.load(Ordering::SeqCst) - before;
        report.check("bad input: the operator never panicked", Instant::now(), zero(panicked, "panics", "the corpus"));
    }
    let mut tally = SafetyTally::default();
    if wanted("faults") {
        let selection = Selection { flows: args.flows.clone(), faults: args.faults.clone() };
        fault_matrix::run(&mut report, scale, &selection, &logs, &mut tally).await;
    }
    if wanted("crash") {
        report.section("crash loop (operator binary killed at random points while 10 CRs converge)");
        let started = Instant::now();
        let result = match build_operator_binary() {
            Err(e) => Err(e),
            Ok(binary) => crash_loop::run(&binary, scale).await.and_then(|r| {
                tally.record(true, r.pvcs_lost.len(), r.secret_hits.len());
                r.verdict()
            }),
        };
        report.check("crash loop converges", started, result);
    }
    if wanted("faults") || wanted("crash") {
        report.section("data safety (over every flow above)");
        let now = Instant::now();
        let pvcs = zero(tally.pvcs_lost, "PVCs lost", &format!("{} flows", tally.data_keeping_flows));
        report.check("data safety: no PVC lost by a data-keeping flow", now, pvcs);
        let hits = zero(tally.secret_hits, "password hits", &format!("{} flows", tally.scanned_flows));
        report.check("data safety: no generated password in logs, events or status", now, hits);
    }
    let total_panics = panics.load(Ordering::SeqCst);
    if total_panics > 0 {
        report.check("no panic anywhere", Instant::now(), zero(total_panics, "panics", "the suite"));
    }
    if !report.all_passed() {
        println!("failed: {}", report.failures().join(", "));
    }
    println!("{}", report.summary());
    std::process::exit(if report.all_passed() { 0 } else { 1 });
}

/// A count that must be zero: `Ok("0 <what> in <within>")`, or the count as the failure.
fn zero(count: usize, what: &str, within: &str) -> Result<String, String> {
    let line = format!("{count} {what} in {within}");
    if count == 0 { Ok(line) } else { Err(line) }
}
