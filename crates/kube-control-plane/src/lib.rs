//! A real Kubernetes control plane for tests: etcd, kube-apiserver (RBAC, audit log) and
//! kube-controller-manager, built from their Go modules (`tools/control-plane`), each in its own
//! process on 127.0.0.1, plus a stand-in kubelet and volume provisioner ([`kubelet`]) so that
//! StatefulSets get Running and Ready Pods and bound claims without a node.
//!
//! [`ControlPlane::start`] starts one; [`shared`] gives each test binary one control plane for
//! all its tests (one namespace per test). Everything listens on 127.0.0.1; the processes exit
//! when the process that started them does (see [`process`]).

pub mod audit;
pub mod binary;
pub mod kubelet;
pub mod process;
mod shared;
pub mod vendor_operators;

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Config};
use process::Component;
use serde_json::Value;

pub use shared::{SharedControlPlane, shared};

/// Errors of starting or using the control plane.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `go` could not be run.
    #[error(
        "the real control plane needs Go (1.26) on PATH to build kube-apiserver from modules; `go` could not be run: {source}"
    )]
    GoMissing {
        /// The cause.
        source: std::io::Error,
    },
    /// `go build` failed (its output says which module or package).
    #[error(
        "building the control plane from Go modules failed ({status}); the go output above names the missing module"
    )]
    Build {
        /// The exit status.
        status: String,
    },
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A component exited or never became ready.
    #[error("{component} did not start: {reason}; its log is {log}")]
    NotStarted {
        /// The component.
        component: &'static str,
        /// Why.
        reason: String,
        /// Its log file.
        log: String,
    },
    /// A Kubernetes API call failed.
    #[error("{what}: {source}")]
    Kube {
        /// What was being done.
        what: String,
        /// The cause.
        source: Box<kube::Error>,
    },
}

/// What to start.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// CRDs installed (and established) before kube-controller-manager starts, so the garbage
    /// collector knows their kinds from the start (it rediscovers kinds only every 30 s).
    pub crds: Vec<Value>,
    /// Keep the data folder (logs, audit log) after stopping.
    pub keep_dir: bool,
    /// More users with a bearer token each, in group `system:masters` (so the audit log tells
    /// their requests apart); [`ControlPlane::token`] gives a user's token.
    pub users: Vec<String>,
}

/// A running control plane; stopped (processes ended, data folder removed) on drop.
pub struct ControlPlane {
    dir: PathBuf,
    server: String,
    ca_pem: Vec<u8>,
    admin_token: String,
    tokens: Vec<(String, String)>,
    components: Vec<Component>,
    kubelet: Option<tokio::task::JoinHandle<()>>,
    keep_dir: bool,
}

const CONTROLLERS: &[&str] = &[
    "garbage-collector-controller",
    "namespace-controller",
    "statefulset-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "persistentvolume-binder-controller",
    "persistentvolumeclaim-protection-controller",
    "persistentvolume-protection-controller",
    // Publishes `kube-root-ca.crt` (the CA clients of CSR-signed certificates trust) in every
    // namespace.
    "root-ca-certificate-publisher-controller",
];

const AUDIT_POLICY: &str =
    "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n";

fn free_port() -> Result<u16, Error> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|source| Error::Io { what: "bind 127.0.0.1:0".into(), source })?;
    listener.local_addr().map(|a| a.port()).map_err(|source| Error::Io { what: "local port".into(), source })
}

fn write(path: &Path, content: impl AsRef<[u8]>) -> Result<(), Error> {
    std::fs::write(path, content).map_err(|source| Error::Io { what: path.display().to_string(), source })
}

fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 24] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A kubeconfig for `server` with bearer `token` (CA given as PEM).
pub fn kubeconfig_yaml(server: &str, ca_pem: &[u8], user: &str, token: &str, namespace: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: control-plane\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n\
         users:\n- name: {user}\n  user:\n    token: {token}\ncontexts:\n- name: {user}\n  context:\n    cluster: control-plane\n    user: {user}\n    namespace: {namespace}\n\
         current-context: {user}\n"
    )
}

/// A kube client for `server` with `token`.
pub async fn client_for(server: &str, ca_pem: &[u8], token: &str) -> Result<Client, Error> {
    let yaml = kubeconfig_yaml(server, ca_pem, "user", token, "default");
    let kubeconfig: kube::config::Kubeconfig = serde_saphyr::from_str(&yaml)
        .map_err(|e| Error::Io { what: "kubeconfig".into(), source: std::io::Error::other(e.to_string()) })?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .map_err(|e| Error::Io { what: "kubeconfig".into(), source: std::io::Error::other(e.to_string()) })?;
    Client::try_from(config).map_err(|e| Error::Kube { what: "client".into(), source: Box::new(e) })
}

impl ControlPlane {
    /// Builds the binary if needed, starts etcd, kube-apiserver, installs `options.crds`, starts
    /// kube-controller-manager and the stand-in kubelet (on the current tokio runtime), and
    /// returns once the API server is ready.
    pub async fn start(options: Options) -> Result<ControlPlane, Error> {
        let binary = binary::ensure_built()?;
        let dir = std::env::temp_dir().join(format!("control-plane-{}-{}", std::process::id(), free_port()?));
        std::fs::create_dir_all(dir.join("etcd"))
            .map_err(|source| Error::Io { what: dir.display().to_string(), source })?;
        let mut plane = ControlPlane {
            dir: dir.clone(),
            server: String::new(),
            ca_pem: vec![],
            admin_token: random_token(),
            tokens: options.users.iter().map(|u| (u.clone(), random_token())).collect(),
            components: vec![],
            kubelet: None,
            keep_dir: options.keep_dir,
        };
        let started = std::time::Instant::now();
        let etcd_url = plane.start_etcd(&binary).await?;
        plane.start_apiserver(&binary, &etcd_url).await?;
        let client = plane.admin_client().await?;
        install_crds(&client, &options.crds).await?;
        plane.start_controller_manager(&binary)?;
        // Before anything makes a claim: the default class is given at a claim's creation.
        kubelet::ensure_storage_classes(&client).await;
        let kubelet_port = plane.start_kubelet_logs(&binary)?;
        plane.kubelet = Some(tokio::spawn(kubelet::run(client, kubelet_port)));
        eprintln!(
            "control-plane: ready at {} in {:.1} s ({})",
            plane.server,
            started.elapsed().as_secs_f64(),
            dir.display()
        );
        Ok(plane)
    }

    async fn start_etcd(&mut self, binary: &Path) -> Result<String, Error> {
        let (client_port, peer_port) = (free_port()?, free_port()?);
        let client_url = format!("http://127.0.0.1:{client_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let data = self.dir.join("etcd");
        let args = vec![
            "--name=control-plane".to_owned(),
            format!("--data-dir={}", data.display()),
            format!("--listen-client-urls={client_url}"),
            format!("--advertise-client-urls={client_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=control-plane={peer_url}"),
            "--unsafe-no-fsync=true".to_owned(),
            "--log-level=warn".to_owned(),
        ];
        let remove = (!self.keep_dir).then_some(self.dir.as_path());
        self.components.push(Component::spawn(binary, "etcd", &args, &self.dir, remove)?);
        self.wait("etcd", 60, || async move {
            matches!(http_get(client_port, "/health").await, Some((200, body)) if body.contains("\"health\":\"true\""))
        })
        .await?;
        Ok(client_url)
    }

    async fn start_apiserver(&mut self, binary: &Path, etcd_url: &str) -> Result<(), Error> {
        let port = free_port()?;
        let d = &self.dir;
        let key = d.join("service-account.pem");
        let status = std::process::Command::new(binary)
            .arg("keygen")
            .arg(&key)
            .status()
            .map_err(|source| Error::Io { what: "control-plane keygen".into(), source })?;
        if !status.success() {
            return Err(Error::NotStarted {
                component: "kube-apiserver",
                reason: "keygen failed".into(),
                log: String::new(),
            });
        }
        let mut tokens = format!("{},admin,admin,\"system:masters\"\n", self.admin_token);
        for (user, token) in &self.tokens {
            tokens.push_str(&format!("{token},{user},{user},\"system:masters\"\n"));
        }
        write(&d.join("tokens.csv"), tokens)?;
        write(&d.join("audit-policy.yaml"), AUDIT_POLICY)?;
        let args = vec![
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".to_owned(),
            "--advertise-address=127.0.0.1".to_owned(),
            format!("--secure-port={port}"),
            "--endpoint-reconciler-type=none".to_owned(),
            format!("--cert-dir={}", d.join("pki").display()),
            "--service-cluster-ip-range=10.0.0.0/24".to_owned(),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".to_owned(),
            format!("--service-account-key-file={}", key.display()),
            format!("--service-account-signing-key-file={}", key.display()),
            format!("--token-auth-file={}", d.join("tokens.csv").display()),
            "--authorization-mode=RBAC".to_owned(),
            "--allow-privileged=true".to_owned(),
            format!("--audit-policy-file={}", d.join("audit-policy.yaml").display()),
            format!("--audit-log-path={}", d.join("audit.log").display()),
            "--audit-log-format=json".to_owned(),
            "--audit-log-maxsize=0".to_owned(),
            "--enable-priority-and-fairness=false".to_owned(),
        ];
        self.components.push(Component::spawn(binary, "kube-apiserver", &args, &self.dir, None)?);
        self.server = format!("https://127.0.0.1:{port}");
        let cert = d.join("pki/apiserver.crt");
        self.wait("kube-apiserver", 120, || {
            let cert = cert.clone();
            async move { cert.is_file() }
        })
        .await?;
        // The serving certificate is self-signed at start; its file holds the certificate and
        // its CA, which is what clients trust.
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.ca_pem = std::fs::read(&cert).map_err(|source| Error::Io { what: cert.display().to_string(), source })?;
        let client = self.admin_client().await?;
        self.wait("kube-apiserver", 120, || {
            let client = client.clone();
            async move {
                let request = http::Request::get("/readyz").body(vec![]);
                match request {
                    Ok(request) => client.request_text(request).await.map(|t| t.trim() == "ok").unwrap_or(false),
                    Err(_) => false,
                }
            }
        })
        .await?;
        Ok(())
    }

    /// Starts the stand-in kubelet's HTTPS server for container logs (kube-apiserver proxies
    /// `pods/log` to it) on a free loopback port, serving [`ControlPlane::pod_logs_dir`];
    /// returns the port the Node advertises.
    fn start_kubelet_logs(&mut self, binary: &Path) -> Result<u16, Error> {
        let logs = self.pod_logs_dir();
        std::fs::create_dir_all(&logs).map_err(|source| Error::Io { what: logs.display().to_string(), source })?;
        let port = free_port()?;
        let args = vec![format!("127.0.0.1:{port}"), logs.display().to_string()];
        self.components.push(Component::spawn(binary, "kubelet-logs", &args, &self.dir, None)?);
        Ok(port)
    }

    /// Where the stand-in kubelet reads container logs from: a Pod's container `c` in namespace
    /// `ns` logs the lines of `ns/<pod>/c.log` (no file: nothing logged). Tests write there what
    /// a vendor operator reads from a Pod's logs.
    pub fn pod_logs_dir(&self) -> PathBuf {
        self.dir.join("pod-logs")
    }

    fn start_controller_manager(&mut self, binary: &Path) -> Result<(), Error> {
        let kubeconfig = self.dir.join("admin.kubeconfig");
        self.write_admin_kubeconfig(&kubeconfig)?;
        let args = vec![
            format!("--kubeconfig={}", kubeconfig.display()),
            "--leader-elect=false".to_owned(),
            "--secure-port=0".to_owned(),
            format!("--controllers={}", CONTROLLERS.join(",")),
            format!("--service-account-private-key-file={}", self.dir.join("service-account.pem").display()),
            // The StatefulSet controller at a cluster's pace, not a throttled client's: with
            // the default client rate (20 requests/s, burst 30) it created about 5 Pods a
            // second, and 100 small W&B resources (1,100 StatefulSets) took most of 15
            // minutes while every Pod it had made was long Ready.
            "--concurrent-statefulset-syncs=10".to_owned(),
            "--kube-api-qps=200".to_owned(),
            "--kube-api-burst=400".to_owned(),
            // The serving certificate file holds the certificate and the CA that signed it.
            format!("--root-ca-file={}", self.dir.join("pki/apiserver.crt").display()),
        ];
        self.components.push(Component::spawn(binary, "kube-controller-manager", &args, &self.dir, None)?);
        Ok(())
    }

    async fn wait<F, Fut>(&mut self, component: &'static str, seconds: u64, check: F) -> Result<(), Error>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        let log = self.dir.join(format!("{component}.log")).display().to_string();
        loop {
            if let Some(status) = self.components.iter_mut().find(|c| c.name == component).and_then(|c| c.exited()) {
                return Err(Error::NotStarted { component, reason: format!("exited ({status})"), log: tail(&log) });
            }
            if check().await {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Error::NotStarted {
                    component,
                    reason: format!("not ready after {seconds} s"),
                    log: tail(&log),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The API server's URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The CA (PEM) clients trust.
    pub fn ca_pem(&self) -> &[u8] {
        &self.ca_pem
    }

    /// The admin bearer token (group `system:masters`).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The bearer token of a user of [`Options::users`].
    pub fn token(&self, user: &str) -> Option<&str> {
        self.tokens.iter().find(|(u, _)| u == user).map(|(_, t)| t.as_str())
    }

    /// Every user of [`Options::users`] with its token.
    pub fn tokens(&self) -> &[(String, String)] {
        &self.tokens
    }

    /// The data folder (logs of every component, the audit log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The audit log (JSON lines).
    pub fn audit_log(&self) -> PathBuf {
        self.dir.join("audit.log")
    }

    /// A client with the admin token.
    pub async fn admin_client(&self) -> Result<Client, Error> {
        client_for(&self.server, &self.ca_pem, &self.admin_token).await
    }

    /// Writes an admin kubeconfig to `path`.
    pub fn write_admin_kubeconfig(&self, path: &Path) -> Result<(), Error> {
        write(path, kubeconfig_yaml(&self.server, &self.ca_pem, "admin", &self.admin_token, "default"))
    }

    /// Stops the stand-in kubelet and every process (newest first) and removes the data folder
    /// unless it is kept.
    pub fn stop(&mut self) {
        if let Some(kubelet) = self.kubelet.take() {
            kubelet.abort();
        }
        while let Some(mut component) = self.components.pop() {
            component.stop();
        }
        if !self.keep_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last lines of a log file (for error messages).
fn tail(path: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    format!("{path}; last lines:\n{}", lines[lines.len().saturating_sub(15)..].join("\n"))
}

/// Server-side applies CRDs and waits until each is established.
pub async fn install_crds(client: &Client, crds: &[Value]) -> Result<(), Error> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds {
        let name = crd.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_owned();
        api.patch(&name, &PatchParams::apply("control-plane").force(), &Patch::Apply(crd))
            .await
            .map_err(|e| Error::Kube { what: format!("install CRD {name}"), source: Box::new(e) })?;
    }
    for crd in crds {
        let name = crd.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        let cond = kube::runtime::conditions::is_crd_established();
        let wait = kube::runtime::wait::await_condition(api.clone(), name, cond);
        if tokio::time::timeout(Duration::from_secs(60), wait).await.is_err() {
            return Err(Error::NotStarted {
                component: "kube-apiserver",
                reason: format!("CRD {name} not established in 60 s"),
                log: String::new(),
            });
        }
    }
    Ok(())
}

/// The CustomResourceDefinitions in YAML files (multi-document): each path is a file or a
/// folder whose `.yaml`/`.yml` files are read in name order; other documents are skipped.
pub fn read_crd_files(paths: &[PathBuf]) -> Result<Vec<Value>, Error> {
    let mut crds = vec![];
    for path in paths {
        let files: Vec<PathBuf> = if path.is_dir() {
            let entries =
                std::fs::read_dir(path).map_err(|source| Error::Io { what: path.display().to_string(), source })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            files
        } else {
            vec![path.clone()]
        };
        for file in files {
            let what = file.display().to_string();
            let text = std::fs::read_to_string(&file).map_err(|source| Error::Io { what: what.clone(), source })?;
            let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
                .map_err(|e| Error::Io { what, source: std::io::Error::other(e.to_string()) })?;
            crds.extend(
                docs.into_iter().filter(|d| d.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")),
            );
        }
    }
    Ok(crds)
}

/// `GET path` over plain HTTP on 127.0.0.1:`port`: the status code and the whole response.
pub async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).await.ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await.ok()?;
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, text))
}
