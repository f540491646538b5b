//! "Try it without a cluster": the emulator with the vendor CRDs (served on 127.0.0.1) — or, with
//! `--real`, a real control plane (kube-apiserver, etcd, kube-controller-manager built from Go
//! modules, with the stand-in kubelet) — the vendor simulators and the operator binary. Writes a
//! kubeconfig once everything is up and runs until SIGINT/SIGTERM, then stops everything it
//! started. With `--real --vendors real`, the real operators of Percona, Altinity and Opstree
//! (built from source, as `tests/real_vendors.rs` runs them) watch the namespace `--namespace`
//! in place of their simulators, with the stand-in data plane (MariaDB per PXC Pod,
//! redis-server per Redis Pod); Strimzi and MinIO stay simulated. Run it through
//! `scripts/sandbox [--real [--vendors real]] --kubeconfig PATH`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // a developer tool

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Where to write the kubeconfig.
    #[arg(long)]
    kubeconfig: PathBuf,
    /// The operator binary to run.
    #[arg(long)]
    operator: PathBuf,
    /// Use a real control plane instead of the emulator.
    #[arg(long)]
    real: bool,
    /// `simulated`, or `real`: the real Percona, Altinity and Opstree operators (needs `--real`,
    /// root for their private mount namespaces, and their builds).
    #[arg(long, default_value = "simulated", value_parser = ["simulated", "real"])]
    vendors: String,
    /// The namespace the real vendor operators watch (created); put the `WeightsAndBiases` there.
    #[arg(long, default_value = "wandb")]
    namespace: String,
    /// Delay the simulated vendors wait before reporting status, in milliseconds.
    #[arg(long, default_value_t = 1500)]
    vendor_delay_ms: u64,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let real_vendors = args.vendors == "real";
    assert!(
        !real_vendors || args.real,
        "--vendors real needs --real (the vendor operators run against a real API server)"
    );
    let harness = if real_vendors {
        support::Harness::real_cluster_wide_with_vendors(&[
            "pxc.percona.com",
            "clickhouse.altinity.com",
            "clickhouse-keeper.altinity.com",
            "redis.redis.opstreelabs.in",
        ])
        .await
    } else if args.real {
        support::Harness::real_cluster_wide().await
    } else {
        support::Harness::without_operator(&[]).await
    };
    *harness.sims.delay.lock().unwrap() = Duration::from_millis(args.vendor_delay_ms);
    let (server, kubeconfig, url) = if args.real {
        let plane = harness.real();
        (None, plane.kubeconfig("admin", &plane.admin_token, "default"), format!("{} (real)", plane.server))
    } else {
        let server = harness.emulator().serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let kubeconfig = kube_emulator::front::kubeconfig(&server.url(), "default");
        let url = format!("{} (emulated)", server.url());
        (Some(server), kubeconfig, url)
    };
    // The real vendor operators and the data plane their status needs, in one namespace.
    let mut vendors = Vec::new();
    let mut data_planes = (None, None, None);
    if real_vendors {
        let ns = &args.namespace;
        harness.namespace(ns).await;
        vendors.extend(support::vendor_operators::opstree(&harness, ns));
        vendors.extend(support::vendor_operators::altinity(&harness, ns));
        vendors.extend(support::vendor_operators::percona(&harness, ns).await);
        let hosts = support::vendor_operators::percona_hosts(&harness, ns);
        let clickhouse_hosts = support::vendor_operators::altinity_hosts(&harness, ns);
        data_planes = (
            Some(support::data_plane::redis(harness.client.clone(), ns)),
            Some(support::data_plane::mysql(harness.client.clone(), ns, hosts)),
            Some(support::data_plane::clickhouse(harness.client.clone(), ns, clickhouse_hosts)),
        );
        eprintln!("real vendor operators watching namespace {ns}:");
        for vendor in &vendors {
            eprintln!("  {} (log: {})", vendor.vendor.name(), vendor.log.display());
        }
    }
    let internal = std::env::temp_dir().join(format!("wandb-sandbox-{}.kubeconfig", std::process::id()));
    std::fs::write(&internal, &kubeconfig).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut operator = Command::new(&args.operator)
        .arg("run")
        .env("KUBECONFIG", &internal)
        .env("METRICS_ADDR", format!("127.0.0.1:{port}"))
        .env("LOG_FORMAT", "text")
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cannot start the operator binary");
    // Wait for the operator's /readyz before handing out the kubeconfig.
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let out = Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &format!("http://127.0.0.1:{port}/readyz")])
                .output();
            if out.is_ok_and(|o| o.stdout == b"200") {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::fs::write(&args.kubeconfig, &kubeconfig).unwrap();
    eprintln!(
        "sandbox ready: API {url}, operator metrics http://127.0.0.1:{port}/metrics\nkubeconfig: {}\nPress Ctrl-C to stop.",
        args.kubeconfig.display()
    );
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    let _ = Command::new("kill").arg(operator.id().to_string()).status();
    let _ = operator.wait();
    if let Some(server) = server {
        server.shutdown().await;
    }
    let _ = std::fs::remove_file(&internal);
    for vendor in &mut vendors {
        vendor.stop();
    }
    drop(data_planes);
    drop(harness);
}
