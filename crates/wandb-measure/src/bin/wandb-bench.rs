//! `wandb-bench`: convergence, steady state, reaction latency, peak RSS and render figures,
//! on the emulator with the vendor simulators at zero delay.
//!
//! `cargo run --release --bin wandb-bench -- [--quick] [--json PATH]` (see docs/performance.md).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a failed step aborts the run

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Parser;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use wandb_measure::operator_process::{build_operator_binary, cpu_seconds, metric, peak_rss_mib, start_operator};
use wandb_measure::support::Harness;
use wandb_measure::support::process::ServedCluster;
use wandb_operator::api::{Size, State, WeightsAndBiases, WeightsAndBiasesSpec};
use wandb_operator::registry::Registry;
use wandb_operator::render::render_objects;

/// Benchmark of wandb-operator on the emulated cluster.
#[derive(Parser)]
struct Args {
    /// Small N only (1 and 10; RSS at 10): for CI.
    #[arg(long)]
    quick: bool,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// `emulator` (default) or `real`: the operator binary on a real control plane
    /// (kube-apiserver, etcd, kube-controller-manager from Go modules), N = 10 and 100
    /// (`--quick`: 10), requests counted from the audit log.
    #[arg(long, default_value = "emulator", value_parser = ["emulator", "real"])]
    backend: String,
    /// Objects of other applications (StatefulSets, PVCs, Secrets, ConfigMaps over 100
    /// namespaces) created before the CRs for the foreign-objects RSS figure; 0 skips it.
    #[arg(long, default_value_t = 10_000)]
    foreign: usize,
    /// The CR counts of the operator-process figures (default 100, 500, 1000; `--quick`: 10);
    /// with `--backend real`, the CR counts of its rounds (default 10 and 100).
    #[arg(long, value_delimiter = ',')]
    process_sizes: Option<Vec<usize>>,
    /// Only the operator-process figures (RSS, CPU, foreign objects): skips render, the
    /// in-process convergence rounds, steady state and reaction latency.
    #[arg(long)]
    only_process: bool,
    /// Fail when a figure regresses against this recorded baseline (JSON: `peak_rss_mb` per N
    /// under `debug` and `release`): RSS more than 25 % above it, or foreign objects adding
    /// more than the goal (`crates/wandb-measure/baseline.json`).
    #[arg(long)]
    baseline: Option<std::path::PathBuf>,
}

/// `--backend real`: fails the run when steady state makes a write or a read, or the server
/// refused a request.
async fn real(args: &Args, binary: &std::path::Path) {
    let sizes: &[usize] = match &args.process_sizes {
        Some(sizes) => sizes,
        None if args.quick => &[10],
        None => &[10, 100],
    };
    println!("machine: {} CPUs; real control plane; vendor simulators at zero delay; CRs of size small", cores());
    let report = wandb_measure::real_backend::run(binary, sizes).await;
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
        println!("wrote {}", path.display());
    }
    let rounds = report["rounds"].as_array().cloned().unwrap_or_default();
    let costly = rounds.iter().any(|r| {
        r["steady_state_writes_per_reconcile"].as_f64() != Some(0.0)
            || r["steady_state_reads_per_reconcile"].as_f64() != Some(0.0)
            || r["forbidden"].as_u64() != Some(0)
    });
    if costly {
        eprintln!("FAILED: steady state on the real control plane is not free, or a request was refused");
        std::process::exit(1);
    }
}

fn manifest(size: Size) -> String {
    format!(
        "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: {}\n",
        size.as_str()
    )
}

/// Creates `n` CRs of `size`, one namespace each, and waits until all are Ready; `Err` reports
/// the resources that did not converge within the limit (`wandb_measure::convergence`).
async fn create_and_converge(h: &Harness, n: usize, size: Size) -> Result<f64, String> {
    let start = Instant::now();
    for i in 0..n {
        let ns = format!("bench-{i}");
        h.namespace(&ns).await;
        h.apply_yaml(&ns, &manifest(size)).await;
    }
    // Polled every 50 ms for small N, finer than `wait_until`: N = 1 converges in a fraction
    // of a second. Each poll lists every CR (cloned and encoded by the emulator in this
    // process): every 50 ms at N = 1,000 that list was a large share of the cluster's own CPU,
    // so the interval grows with N (1 ms per CR, at most 1 s; under 2 % of the figure).
    let interval = Duration::from_millis((n as u64).clamp(50, 1000));
    wandb_measure::convergence::wait_ready(&h.client, n, interval).await?;
    Ok(start.elapsed().as_secs_f64())
}

/// The fewest writes one CR can cost: each object and generated Secret once, the finalizer,
/// and one status write.
fn min_writes_per_cr(size: Size) -> usize {
    let mut w = WeightsAndBiases::new("wandb", WeightsAndBiasesSpec { size, ..Default::default() });
    w.metadata.namespace = Some("n".into());
    render_objects(&w, &Registry::default()).unwrap().len() + 2
}

async fn convergence(n: usize) -> Result<(Value, Harness), String> {
    let h = Harness::start(&[]).await;
    let seconds = create_and_converge(&h, n, Size::Small).await?;
    let calls = h.operator_requests(0);
    let writes = calls.iter().filter(|r| r.is_write()).count() as f64 / n as f64;
    let reads = calls.iter().filter(|r| !r.is_write()).count() as f64 / n as f64;
    let min = min_writes_per_cr(Size::Small);
    println!(
        "convergence   N={n:<4} {seconds:>7.2} s   {:>6.1} CR/s   reads/CR {reads:>6.1}   writes/CR {writes:>5.1} (minimum {min})",
        n as f64 / seconds
    );
    Ok((
        json!({"n": n, "seconds": seconds, "reads_per_cr": reads, "writes_per_cr": writes, "min_writes_per_cr": min}),
        h,
    ))
}

/// Touches an annotation on every CR (a metadata-only change: each CR is reconciled once
/// more with nothing to do) and waits until that many reconciles ran.
async fn touch_all(h: &Harness, n: usize, round: usize, reconciles: impl Fn() -> u64) -> u64 {
    let before = reconciles();
    for i in 0..n {
        let patch = json!({"metadata": {"annotations": {"bench.wandb.com/resync": round.to_string()}}});
        h.wandb_api(&format!("bench-{i}")).patch("wandb", &PatchParams::default(), &Patch::Merge(patch)).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60 + n as u64);
    while reconciles() < before + n as u64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let anything the reconciles queued (there should be nothing) reach the log.
    tokio::time::sleep(Duration::from_millis(500)).await;
    reconciles() - before
}

struct SteadyState {
    writes_per_reconcile: f64,
    uncached_reads_per_reconcile: f64,
    reconciles: u64,
}

/// After convergence: a forced resync of every CR. Every request the operator makes in that
/// window is counted: writes, and reads outside its watches (GETs and plain LISTs).
async fn steady_state(h: &Harness, n: usize) -> SteadyState {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let metrics = h.metrics.clone();
    let from = h.emulator().request_log().len();
    let reconciles = touch_all(h, n, 1, || metrics.reconciles()).await.max(1);
    let calls = h.operator_requests(from);
    let writes = calls.iter().filter(|r| r.is_write()).count() as f64;
    let uncached = calls.iter().filter(|r| !r.is_write() && !r.watch).count() as f64;
    let s = SteadyState {
        writes_per_reconcile: writes / reconciles as f64,
        uncached_reads_per_reconcile: uncached / reconciles as f64,
        reconciles,
    };
    println!(
        "steady state  {} reconciles (forced resync of N={n}): writes/reconcile {:.3}, uncached reads/reconcile {:.3}",
        s.reconciles, s.writes_per_reconcile, s.uncached_reads_per_reconcile
    );
    s
}

/// A vendor status change (PXC `ready` ↔ `error`, simulators stopped) until the CR's status
/// shows it, seen through a watch on the CR.
async fn reaction_latency(h: &Harness, samples: usize) -> (f64, f64) {
    use futures::StreamExt;
    use kube::runtime::watcher;
    h.stop_simulators();
    let pxc = wandb_operator::vendors::api_resource_of::<wandb_operator::vendors::percona::PerconaXtraDBCluster>();
    let vendor: Api<kube::api::DynamicObject> = Api::namespaced_with(h.client.clone(), "bench-0", &pxc);
    let wandb = h.wandb_api("bench-0");
    let mut stream = watcher::watcher(wandb, watcher::Config::default().fields("metadata.name=wandb")).boxed();
    let mut latencies = Vec::new();
    for i in 0..samples {
        let (state, target) = if i % 2 == 0 { ("error", State::Error) } else { ("ready", State::Ready) };
        let start = Instant::now();
        let status =
            json!({"status": {"state": state, "message": if state == "error" { json!(["bench"]) } else { json!([]) }}});
        vendor.patch_status("wandb-mysql", &PatchParams::default(), &Patch::Merge(status)).await.unwrap();
        loop {
            let event = tokio::time::timeout(Duration::from_secs(30), stream.next()).await.unwrap();
            let seen = match event {
                Some(Ok(watcher::Event::Apply(w) | watcher::Event::InitApply(w))) => {
                    w.status.and_then(|s| s.mysql_status).map(|m| m.state) == Some(target)
                }
                _ => false,
            };
            if seen {
                break;
            }
        }
        latencies.push(start.elapsed().as_secs_f64() * 1e3);
    }
    latencies.sort_by(f64::total_cmp);
    let median = latencies[latencies.len() / 2];
    let p99 = latencies[((latencies.len() as f64 * 0.99).ceil() as usize).saturating_sub(1)];
    println!(
        "reaction      {samples} samples: median {median:.1} ms, p99 {p99:.1} ms (vendor status change → CR status)"
    );
    (median, p99)
}

struct ProcessFigures {
    peak_rss_mib: f64,
    cpu_ms_per_reconcile: f64,
    converge_seconds: f64,
    operator_cpu_seconds_per_cr: f64,
    cluster_cpu_seconds_per_cr: f64,
}

/// The operator binary as its own process over HTTP: peak RSS after `n` small CRs converged
/// (with `foreign` objects of other applications in the cluster from the start), the CPU time
/// per converged CR of the operator and of this process (the emulator and the simulators),
/// then the operator's CPU time per reconcile over a forced resync of all of them.
async fn operator_process(binary: &std::path::Path, n: usize, foreign: usize) -> Result<ProcessFigures, String> {
    let h = Harness::without_operator(&[]).await;
    wandb_measure::foreign::fill(&h.client, foreign).await.unwrap();
    let cluster = ServedCluster::serve(&h).await;
    // `WANDB_BENCH_LOG=PATH` keeps the operator's log (info level) for a look after the run.
    let (log, level) = match std::env::var("WANDB_BENCH_LOG") {
        Ok(path) => (std::path::PathBuf::from(path), std::env::var("WANDB_BENCH_LOG_LEVEL").unwrap_or("info".into())),
        Err(_) => (cluster.dir.join("operator.log"), "warn".to_owned()),
    };
    let (operator, port) = start_operator(binary, &cluster, &log, &level);
    let (operator_before, cluster_before) = (cpu_seconds(operator.pid()), cpu_seconds(std::process::id()));
    // On failure the operator process is killed as it drops.
    let seconds = create_and_converge(&h, n, Size::Small).await?;
    let operator_cpu = (cpu_seconds(operator.pid()) - operator_before) / n as f64;
    let cluster_cpu = (cpu_seconds(std::process::id()) - cluster_before) / n as f64;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu_before = cpu_seconds(operator.pid());
    let reconciles = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let poller = {
        let reconciles = reconciles.clone();
        tokio::spawn(async move {
            loop {
                if let Some(v) = metric(port, "wandb_operator_reconciles_total").await {
                    reconciles.store(v as u64, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let count = touch_all(&h, n, 1, || reconciles.load(std::sync::atomic::Ordering::Relaxed)).await.max(1);
    poller.abort();
    let cpu_ms = (cpu_seconds(operator.pid()) - cpu_before) * 1e3 / count as f64;
    let rss = peak_rss_mib(operator.pid());
    println!(
        "operator      N={n:<4} foreign {foreign:<6} peak RSS {rss:>6.1} MiB   converged in {seconds:>6.1} s   CPU/CR: operator {:.1} ms, emulator+simulators {:.1} ms   resync CPU {cpu_ms:.2} ms/reconcile ({count})",
        operator_cpu * 1e3,
        cluster_cpu * 1e3
    );
    operator.kill();
    cluster.shutdown().await;
    Ok(ProcessFigures {
        peak_rss_mib: rss,
        cpu_ms_per_reconcile: cpu_ms,
        converge_seconds: seconds,
        operator_cpu_seconds_per_cr: operator_cpu,
        cluster_cpu_seconds_per_cr: cluster_cpu,
    })
}

/// The operator-process figures for each N (no foreign objects), and at the smallest N again
/// with `foreign` objects: `peak_rss_mb`, `rss_foreign_delta_mb` and the CPU split.
async fn process_figures(binary: &std::path::Path, sizes: &[usize], foreign: usize) -> Result<Value, String> {
    let mut rss = BTreeMap::new();
    let mut cpu = BTreeMap::new();
    let mut converge = BTreeMap::new();
    for &n in sizes {
        let figures = operator_process(binary, n, 0).await?;
        rss.insert(n.to_string(), figures.peak_rss_mib);
        cpu.insert(n.to_string(), figures.cpu_ms_per_reconcile);
        converge.insert(
            n.to_string(),
            json!({"seconds": figures.converge_seconds,
                   "operator_cpu_seconds_per_cr": figures.operator_cpu_seconds_per_cr,
                   "emulator_and_simulators_cpu_seconds_per_cr": figures.cluster_cpu_seconds_per_cr}),
        );
    }
    let mut report = json!({
        "peak_rss_mb": rss,
        "steady_state_cpu_ms_per_reconcile": cpu,
        "operator_process_convergence": converge,
    });
    if foreign > 0
        && let Some(&n) = sizes.iter().min()
    {
        let with = operator_process(binary, n, foreign).await?;
        let delta = with.peak_rss_mib - report["peak_rss_mb"][n.to_string()].as_f64().unwrap_or(0.0);
        println!("foreign       N={n:<4} {foreign} objects of other applications add {delta:.1} MiB of RSS");
        report["foreign_objects"] = json!(foreign);
        report["peak_rss_foreign_mb"] = json!({n.to_string(): with.peak_rss_mib});
        report["rss_foreign_delta_mb"] = json!(delta);
    }
    Ok(report)
}

/// RSS may grow at most this much over the recorded figure before the bench fails.
const RSS_REGRESSION_ALLOWED: f64 = 0.25;
/// The goal for foreign objects (issue 10): at most this much RSS for 10,000 of them.
const FOREIGN_DELTA_GOAL_MB: f64 = 5.0;

/// The regressions of `report` against `baseline` (recorded `peak_rss_mb` per N, under the
/// build profile: `debug` or `release`).
fn regressions(report: &Value, baseline: &Value) -> Vec<String> {
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let mut found = Vec::new();
    if let Some(recorded) = baseline[profile]["peak_rss_mb"].as_object() {
        for (n, was) in recorded {
            if let (Some(was), Some(now)) = (was.as_f64(), report["peak_rss_mb"][n].as_f64())
                && now > was * (1.0 + RSS_REGRESSION_ALLOWED)
            {
                found.push(format!(
                    "peak RSS at N={n} is {now:.1} MiB, more than 25 % over the recorded {was:.1} MiB ({profile} build)"
                ));
            }
        }
    }
    if let Some(found_slope) = slope_regression(report, &baseline[profile]["peak_rss_mb"], profile) {
        found.push(found_slope);
    }
    if let Some(delta) = report["rss_foreign_delta_mb"].as_f64()
        && delta > FOREIGN_DELTA_GOAL_MB
    {
        found.push(format!("foreign objects add {delta:.1} MiB of RSS, over the goal of {FOREIGN_DELTA_GOAL_MB} MiB"));
    }
    found
}

/// The memory each further CR costs, between the smallest and the largest N measured both now
/// and in the record: a regression when it grew more than [`RSS_REGRESSION_ALLOWED`]. The
/// figure at one small N stays flat while the cost per CR grows (issue 17: N = 10 did not move
/// while N = 1,000 grew by 40 %).
fn slope_regression(report: &Value, recorded: &Value, profile: &str) -> Option<String> {
    let mut both: Vec<(usize, f64, f64)> = recorded
        .as_object()?
        .iter()
        .filter_map(|(n, was)| Some((n.parse().ok()?, was.as_f64()?, report["peak_rss_mb"][n].as_f64()?)))
        .collect();
    both.sort_by_key(|(n, _, _)| *n);
    let (&(low, was_low, now_low), &(high, was_high, now_high)) = (both.first()?, both.last()?);
    if high == low {
        return None;
    }
    let kib_per_cr = |from: f64, to: f64| (to - from) * 1024.0 / (high - low) as f64;
    let (was, now) = (kib_per_cr(was_low, was_high), kib_per_cr(now_low, now_high));
    (now > was.max(0.0) * (1.0 + RSS_REGRESSION_ALLOWED)).then(|| {
        format!(
            "memory per CR from N={low} to N={high} is {now:.1} KiB, more than 25 % over the recorded {was:.1} KiB ({profile} build)"
        )
    })
}

fn render_us() -> BTreeMap<String, f64> {
    let vendors = Registry::default();
    let mut out = BTreeMap::new();
    for size in Size::ALL {
        let mut w = WeightsAndBiases::new("wandb", WeightsAndBiasesSpec { size, ..Default::default() });
        w.metadata.namespace = Some("wandb".into());
        let iterations = 2000;
        let start = Instant::now();
        for _ in 0..iterations {
            std::hint::black_box(render_objects(std::hint::black_box(&w), &vendors).unwrap());
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
        println!("render        {:<6} {us:>7.1} µs/CR", size.as_str());
        out.insert(size.as_str().to_owned(), us);
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    if cfg!(debug_assertions) && !args.quick {
        eprintln!("note: a debug build; figures are meaningful with --release");
    }
    let (sizes, default_process_sizes, samples): (Vec<usize>, Vec<usize>, usize) =
        if args.quick { (vec![1, 10], vec![10], 20) } else { (vec![1, 10, 100, 500], vec![100, 500, 1000], 100) };
    let process_sizes = args.process_sizes.clone().unwrap_or(default_process_sizes);
    let binary = build_operator_binary().unwrap_or_else(|e| panic!("{e}"));
    if args.backend == "real" {
        real(&args, &binary).await;
        return;
    }
    println!("machine: {} CPUs; vendor simulators at zero delay; CRs of size small, one namespace each", cores());
    let mut report = json!({});
    let mut steady_costly = false;
    if !args.only_process {
        // First, in a clean process: later the emulator's large heap and background tasks would
        // be measured along with render.
        let render = render_us();
        let mut rows = Vec::new();
        let mut last = None;
        for n in &sizes {
            let (row, h) = convergence(*n).await.unwrap_or_else(|stuck| not_converged(&stuck));
            rows.push(row);
            last = Some((h, *n));
        }
        let (h, n) = last.unwrap();
        let steady = steady_state(&h, n).await;
        let (median, p99) = reaction_latency(&h, samples).await;
        drop(h);
        steady_costly = steady.writes_per_reconcile > 0.0 || steady.uncached_reads_per_reconcile > 0.0;
        report = json!({
            "convergence": rows,
            "steady_state_writes_per_reconcile": steady.writes_per_reconcile,
            "steady_state_uncached_reads_per_reconcile": steady.uncached_reads_per_reconcile,
            "steady_state_reconciles": steady.reconciles,
            "reaction_latency_ms": {"median": median, "p99": p99},
            "render_us": render,
        });
    }
    let process =
        process_figures(&binary, &process_sizes, args.foreign).await.unwrap_or_else(|stuck| not_converged(&stuck));
    for (key, value) in process.as_object().cloned().unwrap_or_default() {
        report[key] = value;
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
        println!("wrote {}", path.display());
    }
    let mut failures = Vec::new();
    // Steady state must be free: a regression here fails the run (and CI).
    if steady_costly {
        failures.push("steady state is not free of writes and uncached reads".to_owned());
    }
    if let Some(path) = &args.baseline {
        let recorded: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        failures.extend(regressions(&report, &recorded));
    }
    if !failures.is_empty() {
        for failure in failures {
            eprintln!("FAILED: {failure}");
        }
        std::process::exit(1);
    }
}

/// Ends the run (exit 1) with the report of the resources that did not converge; whatever the
/// run started has been dropped (and so stopped) by then.
fn not_converged(report: &str) -> ! {
    eprintln!("FAILED: not converged: {report}");
    std::process::exit(1);
}

fn cores() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_over_a_quarter_above_the_record_or_foreign_growth_over_the_goal_fails() {
        let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
        let baseline = json!({profile: {"peak_rss_mb": {"10": 20.0, "1000": 50.0}}});
        let within = json!({"peak_rss_mb": {"10": 24.9}, "rss_foreign_delta_mb": 4.9});
        assert!(regressions(&within, &baseline).is_empty());
        let grown = json!({"peak_rss_mb": {"10": 25.1}, "rss_foreign_delta_mb": 0.1});
        assert_eq!(regressions(&grown, &baseline).len(), 1);
        let foreign = json!({"peak_rss_mb": {"10": 20.0}, "rss_foreign_delta_mb": 5.1});
        assert!(regressions(&foreign, &baseline)[0].contains("foreign objects"));
    }

    #[test]
    fn memory_per_cr_over_a_quarter_above_the_recorded_slope_fails_while_n_10_stays_flat() {
        let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
        // Recorded: 20 MiB at 10, 50 MiB at 1,000: about 31 KiB per further CR.
        let baseline = json!({profile: {"peak_rss_mb": {"10": 20.0, "1000": 50.0}}});
        let same_slope = json!({"peak_rss_mb": {"10": 20.0, "1000": 57.0}});
        assert!(regressions(&same_slope, &baseline).is_empty(), "{:?}", regressions(&same_slope, &baseline));
        // N = 10 unchanged, N = 1,000 40 % higher (the regression issue 17 found).
        let steeper = json!({"peak_rss_mb": {"10": 20.0, "1000": 70.0}});
        let found = regressions(&steeper, &baseline);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[1].contains("memory per CR from N=10 to N=1000 is 51.7 KiB"), "{found:?}");
        // One N measured: no slope to compare.
        assert!(
            slope_regression(&json!({"peak_rss_mb": {"10": 20.0}}), &baseline[profile]["peak_rss_mb"], profile)
                .is_none()
        );
    }
}
