//! The real kubectl (from the machine image) against the `kube-emulator` binary and against a
//! real control plane (kube-apiserver, etcd, kube-controller-manager built from Go modules):
//! every flow runs on both (`…_on_the_emulator`, `…_on_a_real_api_server`), every call has a
//! timeout and a fresh cache directory; outputs are asserted. Skips with a notice when kubectl
//! is not installed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The API server kubectl talks to.
enum Server {
    /// The `kube-emulator` binary.
    Emulator(Child),
    /// A real control plane, with the runtime its stand-in kubelet runs on (held so it runs).
    Real(Box<kube_control_plane::ControlPlane>, #[allow(dead_code)] tokio::runtime::Runtime),
}

struct Cluster {
    server: Server,
    dir: PathBuf,
    cache: AtomicU32,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        match &mut self.server {
            Server::Emulator(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Server::Real(plane, _) => plane.stop(),
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn kubectl_available() -> bool {
    let found = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        eprintln!("NOTICE: kubectl is not installed; skipping the kubectl tests");
    }
    found
}

fn test_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kube-emulator-kubectl-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Cluster {
    /// `real`: a control plane with `crds` installed; otherwise the emulator binary with
    /// `--crds` for each.
    fn start_on(real: bool, crds: &[&Path]) -> Cluster {
        if !real {
            let extra: Vec<&str> = crds.iter().flat_map(|c| ["--crds", path(c)]).collect();
            return Cluster::start(&extra);
        }
        let dir = test_dir();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let crd_paths: Vec<PathBuf> = crds.iter().map(|c| c.to_path_buf()).collect();
        let options = kube_control_plane::Options {
            crds: kube_control_plane::read_crd_files(&crd_paths).unwrap(),
            ..Default::default()
        };
        let plane = runtime
            .block_on(kube_control_plane::ControlPlane::start(options))
            .unwrap_or_else(|e| panic!("the real control plane could not start: {e}"));
        plane.write_admin_kubeconfig(&dir.join("kubeconfig.yaml")).unwrap();
        Cluster { server: Server::Real(Box::new(plane), runtime), dir, cache: AtomicU32::new(0) }
    }

    fn start(extra: &[&str]) -> Cluster {
        let dir = test_dir();
        let kubeconfig = dir.join("kubeconfig.yaml");
        let mut child = Command::new(env!("CARGO_BIN_EXE_kube-emulator"))
            .args(["--listen", "127.0.0.1:0", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("kube-emulator listening on http://127.0.0.1:"), "{line}");
        Cluster { server: Server::Emulator(child), dir, cache: AtomicU32::new(0) }
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Runs kubectl with a 30 s limit and a fresh discovery cache; returns (success, stdout+stderr).
    fn kubectl(&self, args: &[&str]) -> (bool, String) {
        self.kubectl_with_timeout(args, 30)
    }

    fn kubectl_with_timeout(&self, args: &[&str], seconds: u32) -> (bool, String) {
        let cache = self.dir.join(format!("cache-{}", self.cache.fetch_add(1, Ordering::SeqCst)));
        let out = Command::new("timeout")
            .arg(seconds.to_string())
            .arg("kubectl")
            .arg("--kubeconfig")
            .arg(self.dir.join("kubeconfig.yaml"))
            .arg("--cache-dir")
            .arg(&cache)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    }

    /// Starts kubectl in the background (limited to `seconds`), e.g. a watch or a waiting
    /// delete; the caller collects it with `wait_with_output`.
    fn background(&self, seconds: u32, args: &[&str]) -> Child {
        let cache = self.dir.join(format!("cache-{}", self.cache.fetch_add(1, Ordering::SeqCst)));
        Command::new("timeout")
            .arg(seconds.to_string())
            .arg("kubectl")
            .arg("--kubeconfig")
            .arg(self.dir.join("kubeconfig.yaml"))
            .arg("--cache-dir")
            .arg(&cache)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out) = self.kubectl(args);
        assert!(ok, "kubectl {args:?} failed: {out}");
        out
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

const WIDGET: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  replicas: 1\n";

#[test]
fn kubectl_crd_and_custom_resource_lifecycle_on_the_emulator() {
    crd_and_custom_resource_lifecycle(false);
}

#[test]
fn kubectl_crd_and_custom_resource_lifecycle_on_a_real_api_server() {
    crd_and_custom_resource_lifecycle(true);
}

fn crd_and_custom_resource_lifecycle(real: bool) {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::start_on(real, &[]);
    let crd = c.file("crd.json", &common::widget_crd().to_string());
    assert!(
        c.ok(&["apply", "-f", path(&crd)])
            .contains("customresourcedefinition.apiextensions.k8s.io/widgets.example.com created")
    );
    c.ok(&["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=30s"]);

    // Client-side apply: create, then a change (merge patch).
    let w = c.file("w.yaml", WIDGET);
    assert!(c.ok(&["apply", "-f", path(&w)]).contains("widget.example.com/w1 created"));
    let w2 = c.file("w2.yaml", &WIDGET.replace("replicas: 1", "replicas: 2"));
    assert!(c.ok(&["apply", "-f", path(&w2)]).contains("widget.example.com/w1 configured"));
    assert_eq!(c.ok(&["get", "widget", "w1", "-o", "jsonpath={.spec.replicas}"]), "2");

    // Server-side apply of another object, then a conflicting one without and with force.
    let w3 = c.file("w3.yaml", &WIDGET.replace("w1", "w3"));
    assert!(c.ok(&["apply", "--server-side", "-f", path(&w3)]).contains("widget.example.com/w3 serverside-applied"));
    let (ok, out) = c.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "-f",
        path(&c.file("w3b.yaml", &WIDGET.replace("w1", "w3").replace("replicas: 1", "replicas: 5"))),
    ]);
    assert!(!ok && out.contains("conflict"), "{out}");
    assert!(
        c.ok(&[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=other",
            "-f",
            path(&c.dir.join("w3b.yaml"))
        ])
        .contains("serverside-applied")
    );

    // get with the CRD's printer column, -o yaml, describe.
    let table = c.ok(&["get", "widgets"]);
    assert!(
        table.starts_with("NAME") && table.contains("PHASE") && table.contains("w1") && table.contains("w3"),
        "{table}"
    );
    let yaml = c.ok(&["get", "widget", "w1", "-o", "yaml"]);
    assert!(yaml.contains("kind: Widget") && yaml.contains("replicas: 2") && yaml.contains("uid:"), "{yaml}");
    // An events.k8s.io event about w1 shows in describe (through the core/v1 Event view).
    let uid = c.ok(&["get", "widget", "w1", "-o", "jsonpath={.metadata.uid}"]);
    let event = serde_json::json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "w1.evt", "namespace": "default"},
        "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "widget-controller", "reportingInstance": "widget-controller-0",
        "action": "Reconcile", "reason": "Scaled", "type": "Normal", "note": "scaled to 2 replicas",
        "regarding": {"apiVersion": "example.com/v1", "kind": "Widget", "name": "w1", "namespace": "default", "uid": uid}});
    c.ok(&["create", "-f", path(&c.file("event.json", &event.to_string()))]);
    let described = c.ok(&["describe", "widget", "w1"]);
    assert!(
        described.contains("Name:         w1") && described.contains("Replicas:  2") && described.contains("Events:"),
        "{described}"
    );
    assert!(described.contains("Scaled") && described.contains("scaled to 2 replicas"), "{described}");

    // Status patch, then wait for the condition.
    c.ok(&["patch", "widget", "w1", "--subresource=status", "--type=merge", "-p", r#"{"status":{"phase":"Ready"}}"#]);
    assert_eq!(c.ok(&["get", "widget", "w1", "-o", "jsonpath={.status.phase}"]), "Ready");
    assert!(
        c.ok(&["wait", "--for=jsonpath={.status.phase}=Ready", "widget/w1", "--timeout=10s"]).contains("condition met")
    );

    // explain reads the CRD schema through OpenAPI v3.
    let explained = c.ok(&["explain", "widget.spec.replicas"]);
    assert!(explained.contains("KIND:       Widget") && explained.contains("replicas"), "{explained}");

    // get -w sees a change made while it watches.
    let watcher = c.background(8, &["get", "widgets", "-w"]);
    std::thread::sleep(std::time::Duration::from_secs(3));
    c.ok(&["patch", "widget", "w3", "--subresource=status", "--type=merge", "-p", r#"{"status":{"phase":"Moving"}}"#]);
    let watched = String::from_utf8(watcher.wait_with_output().unwrap().stdout).unwrap();
    assert!(watched.contains("Moving"), "get -w did not show the change: {watched}");

    // delete waits while a finalizer holds the object, and returns once it is removed.
    c.ok(&[
        "patch",
        "widget",
        "w1",
        "--type=json",
        "-p",
        r#"[{"op":"add","path":"/metadata/finalizers","value":["example.com/hold"]}]"#,
    ]);
    let deleter = c.background(20, &["delete", "widget", "w1"]);
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(c.ok(&["get", "widget", "w1", "-o", "jsonpath={.metadata.deletionTimestamp}"]).ends_with('Z'), "deleting");
    c.ok(&["patch", "widget", "w1", "--type=json", "-p", r#"[{"op":"remove","path":"/metadata/finalizers"}]"#]);
    let deleted = deleter.wait_with_output().unwrap();
    assert!(deleted.status.success(), "{}", String::from_utf8_lossy(&deleted.stderr));
    assert!(String::from_utf8_lossy(&deleted.stdout).contains("widget.example.com \"w1\" deleted"));
    let (ok, out) = c.kubectl(&["get", "widget", "w1"]);
    assert!(!ok && out.contains("NotFound"), "{out}");
}

#[test]
fn kubectl_builtin_kinds_and_wait_for_condition_on_the_emulator() {
    builtin_kinds_and_wait_for_condition(false);
}

#[test]
fn kubectl_builtin_kinds_and_wait_for_condition_on_a_real_api_server() {
    builtin_kinds_and_wait_for_condition(true);
}

fn builtin_kinds_and_wait_for_condition(real: bool) {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::start_on(real, &[]);
    assert!(c.ok(&["create", "namespace", "team"]).contains("namespace/team created"));
    c.ok(&["create", "configmap", "cm1", "-n", "team", "--from-literal=a=b"]);
    // Client-side apply of a change to a built-in uses a strategic merge patch.
    let cm = c.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm2\n  namespace: team\ndata:\n  k: v1\n",
    );
    c.ok(&["apply", "-f", path(&cm)]);
    let cm2 = c.file(
        "cm2.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm2\n  namespace: team\ndata:\n  k: v2\n",
    );
    assert!(c.ok(&["apply", "-f", path(&cm2)]).contains("configmap/cm2 configured"));
    assert_eq!(c.ok(&["get", "cm", "cm2", "-n", "team", "-o", "jsonpath={.data.k}"]), "v2");
    let listed = c.ok(&["get", "configmaps", "-n", "team", "-o", "name"]);
    // Besides `kube-root-ca.crt`, which kube-controller-manager publishes in every namespace
    // (asynchronously on a real server).
    let ours: Vec<&str> = listed.lines().filter(|l| *l != "configmap/kube-root-ca.crt").collect();
    assert_eq!(ours, vec!["configmap/cm1", "configmap/cm2"]);

    // wait --for=condition on a custom resource's status conditions.
    let crd = c.file("crd.json", &common::widget_crd().to_string());
    c.ok(&["apply", "-f", path(&crd)]);
    c.ok(&["wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=30s"]);
    c.ok(&["apply", "-n", "team", "-f", path(&c.file("w.yaml", WIDGET))]);
    let waiter = c.background(20, &["wait", "-n", "team", "--for=condition=Ready", "widget/w1", "--timeout=15s"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    c.ok(&["patch", "-n", "team", "widget", "w1", "--subresource=status", "--type=merge", "-p",
        r#"{"status":{"phase":"Ready","conditions":[{"type":"Ready","status":"True","reason":"Ok","message":"ok","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}"#]);
    let waited = waiter.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&waited.stdout), String::from_utf8_lossy(&waited.stderr));
    assert!(waited.status.success() && text.contains("condition met"), "{text}");

    // Deleting the namespace removes its contents.
    c.ok(&["delete", "namespace", "team"]);
    let (ok, out) = c.kubectl(&["get", "namespace", "team"]);
    assert!(!ok && out.contains("NotFound"), "{out}");
}

#[test]
fn kubectl_against_vendor_crds_loaded_at_start_on_the_emulator() {
    against_vendor_crds_loaded_at_start(false);
}

#[test]
fn kubectl_against_vendor_crds_loaded_at_start_on_a_real_api_server() {
    against_vendor_crds_loaded_at_start(true);
}

fn against_vendor_crds_loaded_at_start(real: bool) {
    if !kubectl_available() {
        return;
    }
    let Some(strimzi) = common::vendor_crds_dir().map(|d| d.join("strimzi/1.2.0")) else { return };
    let c = Cluster::start_on(real, &[&strimzi]);
    let crds = c.ok(&["get", "crds", "-o", "name"]);
    assert!(crds.contains("kafkas.kafka.strimzi.io") && crds.contains("kafkanodepools.kafka.strimzi.io"), "{crds}");
    let kafka = c.file("k.yaml", "apiVersion: kafka.strimzi.io/v1\nkind: Kafka\nmetadata:\n  name: k\nspec:\n  kafka:\n    listeners:\n    - name: plain\n      port: 9092\n      type: internal\n      tls: false\n");
    assert!(
        c.ok(&["apply", "--server-side", "-f", path(&kafka)]).contains("kafka.kafka.strimzi.io/k serverside-applied")
    );
    let bad = c.file("bad.yaml", "apiVersion: kafka.strimzi.io/v1\nkind: Kafka\nmetadata:\n  name: bad\nspec:\n  kafka:\n    replicas: 3\n    listeners: []\n");
    let (ok, out) = c.kubectl(&["apply", "--server-side", "-f", path(&bad)]);
    assert!(!ok && out.contains("replicas"), "{out}");
    assert!(c.ok(&["get", "k"]).contains("k"));
}
