//! `wandb-bench --backend real`: the operator binary on the real control plane (kube-apiserver,
//! etcd, kube-controller-manager from Go modules, with the stand-in kubelet), with the vendor
//! simulators creating real StatefulSets. Requests are counted from the API server's audit log
//! (the operator authenticates as a user of its own), RSS and CPU from `/proc`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kube::api::{Api, ListParams, Patch, PatchParams};
use kube_control_plane::audit::{self, AuditEvent};
use serde_json::{Value, json};
use wandb_operator::api::{State, WeightsAndBiases};

use crate::operator_process::{cpu_seconds, metric, peak_rss_mib};
use crate::support::process::{OperatorProcess, free_port};
use crate::support::{Harness, OPERATOR_USER};

const SMALL: &str =
    "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: small\n";

async fn ready_in(h: &Harness, prefix: &str) -> usize {
    let api: Api<WeightsAndBiases> = Api::all(h.client.clone());
    let list = api.list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default();
    list.iter()
        .filter(|w| w.metadata.namespace.as_deref().is_some_and(|n| n.starts_with(prefix)))
        .filter(|w| w.status.as_ref().and_then(|s| s.state) == Some(State::Ready))
        .count()
}

/// The operator's requests in the audit log from byte `from` on, and the next offset.
/// Pods (Running and Ready of all), claims (Bound of all) and StatefulSets (ready of all) in
/// the cluster: what the node side and the StatefulSet controller have done so far.
async fn node_side(h: &Harness) -> String {
    use k8s_openapi::api::apps::v1::StatefulSet;
    use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
    let pods =
        Api::<Pod>::all(h.client.clone()).list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default();
    let ready = pods
        .iter()
        .filter(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .count();
    let claims = Api::<PersistentVolumeClaim>::all(h.client.clone())
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    let bound = claims.iter().filter(|c| c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound")).count();
    let sets = Api::<StatefulSet>::all(h.client.clone())
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    let sets_ready = sets
        .iter()
        .filter(|s| {
            let want = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            s.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0) >= want
        })
        .count();
    format!(
        "Pods {ready}/{} Ready, claims {bound}/{} Bound, StatefulSets {sets_ready}/{} ready",
        pods.len(),
        claims.len(),
        sets.len()
    )
}

fn operator_events(h: &Harness, from: u64) -> (Vec<AuditEvent>, u64) {
    let (events, next) = audit::read(&h.real().audit_log(), from).unwrap();
    (events.into_iter().filter(|e| e.user.username == OPERATOR_USER).collect(), next)
}

/// Convergence, requests per CR, steady state and RSS for each N on one control plane (each
/// round in namespaces of its own); prints a line per figure and returns them as JSON.
pub async fn run(binary: &Path, sizes: &[usize]) -> Value {
    let h = Harness::real_cluster_wide().await;
    let plane = h.real().clone();
    let dir = std::env::temp_dir().join(format!("wandb-bench-real-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("operator.kubeconfig");
    std::fs::write(&kubeconfig, plane.kubeconfig(OPERATOR_USER, plane.token(OPERATOR_USER), "default")).unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.join("operator.log")).unwrap();
    let mut command = Command::new(binary);
    command
        .arg("run")
        .env("KUBECONFIG", &kubeconfig)
        .env("METRICS_ADDR", format!("127.0.0.1:{port}"))
        .env("RESYNC_SECONDS", "600")
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(log);
    let operator = OperatorProcess::spawn(command);
    let mut rows = vec![];
    let mut rss = serde_json::Map::new();
    for (round, &n) in sizes.iter().enumerate() {
        let prefix = format!("real-{round}-");
        let (_, from) = operator_events(&h, 0);
        let cpu_at_start = cpu_seconds(operator.pid());
        let start = Instant::now();
        for i in 0..n {
            let ns = format!("{prefix}{i}");
            h.namespace(&ns).await;
            h.apply_yaml(&ns, SMALL).await;
        }
        // 8 s per CR beyond the first two minutes: a limit, not a goal (N = 100: 920 s).
        let limit = 120 + 8 * n as u64;
        let deadline = Instant::now() + Duration::from_secs(limit);
        let mut next_report = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = ready_in(&h, &prefix).await;
            if ready >= n {
                break;
            }
            if Instant::now() >= next_report || Instant::now() >= deadline {
                // Where the time goes: the node side (Pods, claims) or the resources.
                println!(
                    "  after {:>4.0} s: {ready}/{n} Ready; {}",
                    start.elapsed().as_secs_f64(),
                    node_side(&h).await
                );
                next_report += Duration::from_secs(60);
            }
            assert!(Instant::now() < deadline, "{n} CRs did not become Ready within {limit} s ({ready} did)");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let seconds = start.elapsed().as_secs_f64();
        // The operator's own share of the convergence time (the rest is the control plane, the
        // stand-in kubelet and the simulators, all on the same 2 cores).
        let cpu_per_cr = (cpu_seconds(operator.pid()) - cpu_at_start) * 1e3 / n as f64;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (converging, settled) = operator_events(&h, from);
        let writes = converging.iter().filter(|e| e.is_write()).count() as f64 / n as f64;
        let reads = converging.iter().filter(|e| e.is_read()).count() as f64 / n as f64;
        let denied = converging.iter().filter(|e| e.code() == 403).count();
        // Steady state: touch every CR of the round and count what the reconciles cost.
        let before = metric(port, "wandb_operator_reconciles_total").await.unwrap_or(0.0);
        let cpu_before = cpu_seconds(operator.pid());
        for i in 0..n {
            let patch = json!({"metadata": {"annotations": {"bench.wandb.com/resync": "1"}}});
            h.wandb_api(&format!("{prefix}{i}"))
                .patch("wandb", &PatchParams::default(), &Patch::Merge(patch))
                .await
                .unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(60 + n as u64);
        while metric(port, "wandb_operator_reconciles_total").await.unwrap_or(0.0) < before + n as f64
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let reconciles = (metric(port, "wandb_operator_reconciles_total").await.unwrap_or(0.0) - before).max(1.0);
        let cpu_ms = (cpu_seconds(operator.pid()) - cpu_before) * 1e3 / reconciles;
        let (steady, _) = operator_events(&h, settled);
        let steady_writes = steady.iter().filter(|e| e.is_write()).count() as f64 / reconciles;
        let steady_reads = steady.iter().filter(|e| e.is_read()).count() as f64 / reconciles;
        let peak = peak_rss_mib(operator.pid());
        println!(
            "real          N={n:<4} {seconds:>7.2} s   operator CPU {cpu_per_cr:.0} ms/CR   reads/CR {reads:>5.1}   writes/CR {writes:>5.1}   403s {denied}   steady: {reconciles} reconciles, writes/reconcile {steady_writes:.3}, reads/reconcile {steady_reads:.3}, CPU {cpu_ms:.2} ms/reconcile   peak RSS {peak:.1} MiB"
        );
        rows.push(
            json!({"n": n, "seconds": seconds, "reads_per_cr": reads, "writes_per_cr": writes, "forbidden": denied,
            "steady_state_writes_per_reconcile": steady_writes, "steady_state_reads_per_reconcile": steady_reads,
            "steady_state_cpu_ms_per_reconcile": cpu_ms, "peak_rss_mb": peak}),
        );
        rss.insert(n.to_string(), json!(peak));
    }
    operator.kill();
    let _ = std::fs::remove_dir_all(&dir);
    json!({"backend": "real", "server": plane.server, "rounds": rows, "peak_rss_mb": rss})
}
