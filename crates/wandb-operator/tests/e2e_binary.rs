//! End-to-end through the real binaries: the operator process (and kubectl where available)
//! against the emulator served over HTTP on 127.0.0.1, with the vendor simulators.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::Harness;
use support::process::{OperatorProcess, ServedCluster, free_port, http_get};
use wandb_operator::api::State;

struct Cluster {
    harness: Harness,
    served: ServedCluster,
}

impl Cluster {
    async fn start() -> Cluster {
        let harness = Harness::without_operator(&[]).await;
        let served = ServedCluster::serve(&harness).await;
        Cluster { harness, served }
    }

    fn operator(&self, port: u16, extra: &[&str]) -> OperatorProcess {
        let log = std::fs::File::create(self.served.dir.join(format!("operator-{port}.log"))).unwrap();
        let mut command =
            self.served.operator_command(std::path::Path::new(env!("CARGO_BIN_EXE_wandb-operator")), port);
        command.args(extra).env("LOG_FORMAT", "text").stderr(log);
        OperatorProcess::spawn(command)
    }

    fn kubectl(&self, args: &[&str], seconds: u32) -> (bool, String) {
        let out = Command::new("timeout")
            .arg(seconds.to_string())
            .arg("kubectl")
            .arg("--kubeconfig")
            .arg(self.served.kubeconfig())
            .arg("--cache-dir")
            .arg(self.served.dir.join(format!("cache-{}", free_port())))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    }
}

async fn wait_http_ok(port: u16, path: &str) {
    for _ in 0..300 {
        if let Some((200, _)) = http_get(port, path).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never answered 200");
}

fn kubectl_available() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        eprintln!("NOTICE: kubectl is not installed; skipping the kubectl end-to-end tests");
    }
    ok
}

fn example(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name).to_string_lossy().into_owned()
}

async fn kubectl_flow(example_file: &str) {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::start().await;
    let port = free_port();
    let _operator = c.operator(port, &[]);
    wait_http_ok(port, "/readyz").await;
    let (ok, out) = c.kubectl(&["create", "namespace", "wandb"], 30);
    assert!(ok, "{out}");
    let (ok, out) = c.kubectl(&["apply", "-f", &example(example_file)], 30);
    assert!(ok && out.contains("weightsandbiases.apps.wandb.com/wandb created"), "{out}");
    let (ok, out) = c.kubectl(&["wait", "-n", "wandb", "--for=condition=Ready", "wandb/wandb", "--timeout=90s"], 100);
    assert!(ok && out.contains("condition met"), "{out}");
    let (ok, table) = c.kubectl(&["get", "wandb", "-n", "wandb"], 30);
    assert!(
        ok && table.contains("STATE") && table.lines().nth(1).is_some_and(|l| l.matches("Ready").count() == 6),
        "{table}"
    );
    let (_, metrics) = http_get(port, "/metrics").await.unwrap();
    assert!(metrics.contains("wandb_operator_reconciles_total"), "{metrics}");
    assert!(
        metrics.contains("wandb_operator_component_ready{namespace=\"wandb\",name=\"wandb\",component=\"mysql\"} 1"),
        "{metrics}"
    );
    let (_, healthz) = http_get(port, "/healthz").await.unwrap();
    assert!(healthz.starts_with("HTTP/1.1 200"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_binary01_dev_with_kubectl() {
    kubectl_flow("wandb-dev.yaml").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_binary02_small_with_kubectl() {
    kubectl_flow("wandb-small.yaml").await;
}

const DEV: &str =
    "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: dev\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_binary14_only_the_leader_writes_and_a_standby_takes_over() {
    let c = Cluster::start().await;
    let (p1, p2) = (free_port(), free_port());
    let lease = ["--leader-elect", "--lease-namespace", "default", "--lease-duration-seconds", "3"];
    let first = c.operator(p1, &[&lease[..], &["--identity", "first"]].concat());
    wait_http_ok(p1, "/readyz").await;
    let second = c.operator(p2, &[&lease[..], &["--identity", "second"]].concat());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        http_get(p2, "/readyz").await.is_some_and(|(code, _)| code != 200),
        "the standby must not run its controller"
    );
    c.harness.namespace("apps").await;
    c.harness.apply_yaml("apps", DEV).await;
    c.harness.wait_ready("apps", "wandb").await;
    let holder = |h: &Harness| {
        let client = h.client.clone();
        async move {
            let leases: kube::Api<k8s_openapi::api::coordination::v1::Lease> = kube::Api::namespaced(client, "default");
            leases.get("wandb-operator").await.unwrap().spec.unwrap().holder_identity.unwrap()
        }
    };
    assert_eq!(holder(&c.harness).await, "first");
    drop(first);
    wait_http_ok(p2, "/readyz").await;
    assert_eq!(holder(&c.harness).await, "second");
    // Every lease call the replicas made is covered by the lease RBAC rule.
    let lease_verbs: std::collections::BTreeSet<String> = c
        .harness
        .emulator()
        .request_log()
        .iter()
        .filter(|r| r.path.contains("/leases"))
        .map(|r| match r.method.as_str() {
            "GET" => "get".to_owned(),
            "POST" => "create".to_owned(),
            "PUT" => "update".to_owned(),
            other => other.to_lowercase(),
        })
        .collect();
    assert!(lease_verbs.contains("create") && lease_verbs.contains("update"), "{lease_verbs:?}");
    for verb in &lease_verbs {
        assert!(
            wandb_operator::controller::rbac::LEASE_RULE.verbs.contains(&verb.as_str()),
            "lease verb {verb} not granted"
        );
    }
    // The new leader converges new work.
    c.harness.apply_yaml("apps", &DEV.replace("name: wandb", "name: other")).await;
    c.harness.wait_ready("apps", "other").await;
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_binary15_killed_mid_convergence_and_restarted_converges() {
    let c = Cluster::start().await;
    *c.harness.sims.delay.lock().unwrap() = Duration::from_millis(300);
    let port = free_port();
    let operator = c.operator(port, &[]);
    wait_http_ok(port, "/readyz").await;
    c.harness.namespace("apps").await;
    c.harness.apply_yaml("apps", &DEV.replace("size: dev", "size: small")).await;
    c.harness
        .eventually("some components created", || async {
            !c.harness
                .names("pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters", "apps")
                .await
                .is_empty()
        })
        .await;
    drop(operator);
    let port = free_port();
    let _operator = c.operator(port, &[]);
    let w = c.harness.wait_ready("apps", "wandb").await;
    assert_eq!(w.status.unwrap().state, Some(State::Ready));
    assert_eq!(c.harness.names("v1", "Secret", "secrets", "apps").await, support::expected_secrets(true));
}
