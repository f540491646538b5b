//! Test support for end-to-end tests: a cluster with the vendors' CRDs — the emulator, or a real
//! control plane shared by the test binary (`kube-control-plane`, one namespace set per test) —
//! vendor operator simulators, and the operator running in-process against it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // shared test helpers

pub mod data_plane;
pub mod fixtures;
pub mod percona_backups;
pub mod process;
pub mod servers;
pub mod simulators;
pub mod vendor_operators;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::api::{Api, PostParams};
use kube::{Client, CustomResourceExt};
use kube_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};
use wandb_operator::api::{State, WeightsAndBiases};
use wandb_operator::controller::RunOptions;
use wandb_operator::reconcile::Settings;
use wandb_operator::vendors::{altinity, minio_operator, opstree, percona, strimzi};

/// Runs each scenario `async fn NAME(h: Harness)` as two tests, `NAME::emulator` and `NAME::real`
/// (the scenario's file must `use support::Harness`).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => { $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn emulator() {
                super::$name(super::Harness::start(&[]).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn real() {
                super::$name(super::Harness::start_real().await).await
            }
        }
    )* };
}

/// Every Secret a resource named `wandb` has in its namespace once Ready: the generated ones
/// (each created once, including the MySQL application user's password), the vendors' own
/// (Percona's users, Strimzi's cluster CA), one connection Secret per component, and with
/// backups (`small`, `large`) the S3 credentials Percona's backups use and Percona's TLS.
pub fn expected_secrets(backups: bool) -> Vec<String> {
    let mut names: Vec<String> = [
        "wandb-clickhouse-connection",
        "wandb-clickhouse-credentials",
        "wandb-kafka-connection",
        "wandb-minio-config",
        "wandb-minio-connection",
        "wandb-mysql-app-user",
        "wandb-mysql-connection",
        "wandb-mysql-secrets",
        "wandb-redis-connection",
        "wandb-redis-credentials",
    ]
    .map(str::to_owned)
    .to_vec();
    // Strimzi's cluster CA (it makes it for every Kafka).
    names.push("wandb-kafka-cluster-ca-cert".to_owned());
    if backups {
        // `small` and `large`: backups, and MySQL with TLS (Percona's certificates).
        names.extend(["wandb-mysql-backup-s3", "wandb-mysql-ssl", "wandb-mysql-ssl-internal"].map(str::to_owned));
    }
    names.sort();
    names
}

/// User agent of the in-process operator's requests.
pub const OPERATOR_USER_AGENT: &str = "wandb-operator-under-test";

/// The in-process operator's client: the emulator's front door marked with
/// [`OPERATOR_USER_AGENT`] (so the request log tells the operator's calls from the simulators')
/// under the retry layer `kube::Client::try_default` puts in the binary's client
/// (`Config::default_retry`: 429, 503 and 504 retried with backoff, other errors returned), so
/// faults reach the operator as they would in production.
pub fn operator_client(emulator: &Emulator) -> Client {
    use kube::client::retry::RetryPolicy;
    let service = tower::ServiceBuilder::new()
        .layer(tower::retry::RetryLayer::new(RetryPolicy::server_retry()))
        .map_err(tower::BoxError::from)
        .service(emulator.service_as(OPERATOR_USER_AGENT));
    kube::client::ClientBuilder::new(service, "default").build()
}

/// Vendor CRD releases the operator targets (one per vendor): the current ones (the operator
/// reads Percona's release from its CRD labels, and MySQL 8.4 needs Percona ≥ 1.19).
pub const VENDOR_RELEASES: [&str; 5] = [
    "percona-xtradb-cluster/v1.20.0",
    "strimzi/1.2.0",
    "opstree-redis/v0.26.0",
    "minio/master-0ee2c254",
    "altinity-clickhouse/0.25.6",
];

pub fn vendor_crds_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("WANDB_VENDOR_CRDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vendor-crds"));
    dir.is_dir().then_some(dir)
}

/// The `ApiResource` of a kind given as strings (`api_version` is `group/version`, or `v1`).
pub fn api_resource(api_version: &str, kind: &str, plural: &str) -> kube::core::ApiResource {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    kube::core::ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        plural: plural.to_owned(),
    }
}

/// Polls `check` every 100 ms until it holds; `Err` names `what` after `seconds`.
pub async fn wait_until<F, Fut>(what: &str, seconds: u64, check: F) -> Result<(), String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("timed out after {seconds} s waiting for {what}"))
}

/// Registers the vendors' real CRDs (or, when `../shared/vendor-crds` is absent, CRDs generated
/// from our own vendor types, saying so). `skip` leaves out releases whose path contains it.
pub fn register_vendor_crds(emulator: &Emulator, skip: &[&str]) {
    match vendor_crds_dir() {
        Some(dir) => {
            for release in VENDOR_RELEASES.iter().filter(|r| !skip.iter().any(|s| r.contains(s))) {
                emulator.load_crds(&dir.join(release)).unwrap();
            }
        }
        None => {
            for (vendor, crd) in generated_vendor_crds() {
                if !skip.iter().any(|s| vendor.contains(s)) {
                    emulator.register_crd(&crd).unwrap();
                }
            }
        }
    }
}

/// The API server a harness runs on.
pub enum Backend {
    /// The in-repo emulator.
    Emulated(Emulator),
    /// The test binary's real control plane.
    Real(kube_control_plane::SharedControlPlane),
}

/// The user the in-process operator authenticates as on the real control plane (its requests are
/// told apart in the audit log by it).
pub const OPERATOR_USER: &str = "wandb-operator-under-test";

/// Namespaces a test may use; on the real control plane each test gets its own copies
/// (`apps-7`, `data-7`, …), which the operator and the simulators watch.
pub const TEST_NAMESPACES: [&str; 3] = ["apps", "data", "later"];

static REAL_TESTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Every CRD a real control plane needs: ours and the vendors'.
fn all_crds() -> kube_control_plane::Options {
    let mut crds = vec![serde_json::to_value(wandb_operator::api::crd()).unwrap()];
    match vendor_crds_dir() {
        Some(dir) => {
            let paths: Vec<PathBuf> = VENDOR_RELEASES.iter().map(|r| dir.join(r)).collect();
            crds.extend(kube_control_plane::read_crd_files(&paths).unwrap());
        }
        None => crds.extend(generated_vendor_crds().into_iter().map(|(_, crd)| crd)),
    }
    kube_control_plane::Options { crds, users: vec![OPERATOR_USER.to_owned()], ..Default::default() }
}

/// CRDs generated from our vendor types, for when `../shared/vendor-crds` is absent.
fn generated_vendor_crds() -> Vec<(&'static str, Value)> {
    eprintln!("NOTICE: ../shared/vendor-crds is absent; using CRDs generated from our vendor types");
    vec![
        ("percona", serde_json::to_value(percona::PerconaXtraDBCluster::crd()).unwrap()),
        ("strimzi", serde_json::to_value(strimzi::Kafka::crd()).unwrap()),
        ("strimzi", serde_json::to_value(strimzi::KafkaNodePool::crd()).unwrap()),
        ("opstree", serde_json::to_value(opstree::Redis::crd()).unwrap()),
        ("opstree", serde_json::to_value(opstree::RedisReplication::crd()).unwrap()),
        ("opstree", serde_json::to_value(opstree::RedisSentinel::crd()).unwrap()),
        ("minio", serde_json::to_value(minio_operator::Tenant::crd()).unwrap()),
        ("altinity", serde_json::to_value(altinity::ClickHouseInstallation::crd()).unwrap()),
        ("altinity", serde_json::to_value(altinity::ClickHouseKeeperInstallation::crd()).unwrap()),
    ]
}

/// The test binary's real control plane (started on first use), with every CRD installed.
pub fn real_control_plane() -> kube_control_plane::SharedControlPlane {
    kube_control_plane::shared(all_crds)
}

/// A cluster (emulated or real) with simulators and the operator running in-process.
pub struct Harness {
    /// The API server.
    pub backend: Backend,
    /// The suffix of this test's namespaces (empty on the emulator).
    suffix: String,
    /// A client on it.
    pub client: Client,
    /// Simulator controls.
    pub sims: Arc<simulators::Controls>,
    /// Metrics of the in-process operator (kept across restarts).
    pub metrics: Arc<wandb_operator::controller::Metrics>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    operator: Option<tokio::task::JoinHandle<()>>,
    sim_task: tokio::task::JoinHandle<()>,
}

impl Harness {
    /// Starts everything; `skip` leaves out vendor CRDs (e.g. `["strimzi"]`).
    pub async fn start(skip: &[&str]) -> Harness {
        let mut harness = Self::without_operator(skip).await;
        harness.start_operator();
        harness
    }

    /// The emulated cluster and simulators, without the operator (tests run the binary).
    pub async fn without_operator(skip: &[&str]) -> Harness {
        let emulator =
            Emulator::new(EmulatorConfig { bookmark_interval: Duration::from_millis(500), ..Default::default() });
        emulator.register_crd(&serde_json::to_value(wandb_operator::api::crd()).unwrap()).unwrap();
        register_vendor_crds(&emulator, skip);
        let client = Client::new(emulator.service(), "default");
        // The classes the real control plane has (the emulator gives claims no default class:
        // the simulators name it).
        kube_control_plane::kubelet::ensure_storage_classes(&client).await;
        let sims = Arc::new(simulators::Controls::default());
        let sim_task = tokio::spawn(simulators::run(client.clone(), sims.clone()));
        let backend = Backend::Emulated(emulator);
        Harness {
            backend,
            suffix: String::new(),
            client,
            sims,
            metrics: Arc::default(),
            stop: None,
            operator: None,
            sim_task,
        }
    }

    /// Starts everything on the test binary's real control plane, in this test's own namespaces.
    pub async fn start_real() -> Harness {
        let mut harness = Self::real_without_operator().await;
        harness.start_operator();
        harness
    }

    /// The real control plane and simulators in this test's namespaces, without the operator.
    pub async fn real_without_operator() -> Harness {
        let suffix = format!("-{}", REAL_TESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let namespaces = TEST_NAMESPACES.iter().map(|n| format!("{n}{suffix}")).collect();
        Self::real_with(suffix, namespaces).await
    }

    /// The real control plane with simulators in every namespace (the sandbox: a person picks
    /// the namespaces), without the operator.
    pub async fn real_cluster_wide() -> Harness {
        Self::real_with(String::new(), vec![]).await
    }

    /// [`Harness::real_cluster_wide`] where the real operators of the vendors in `unsimulated`
    /// (API groups) stand in for their simulators (the sandbox starts them).
    pub async fn real_cluster_wide_with_vendors(unsimulated: &[&'static str]) -> Harness {
        Self::real_with_controls(String::new(), vec![], unsimulated.to_vec()).await
    }

    /// The real control plane without the operator, where the real operators of the vendors
    /// in `unsimulated` (API groups) stand in for their simulators (the test starts them).
    pub async fn real_with_vendors(unsimulated: &[&'static str]) -> Harness {
        let suffix = format!("-{}", REAL_TESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let namespaces = TEST_NAMESPACES.iter().map(|n| format!("{n}{suffix}")).collect();
        Self::real_with_controls(suffix, namespaces, unsimulated.to_vec()).await
    }

    async fn real_with(suffix: String, namespaces: Vec<String>) -> Harness {
        Self::real_with_controls(suffix, namespaces, Vec::new()).await
    }

    async fn real_with_controls(suffix: String, namespaces: Vec<String>, unsimulated: Vec<&'static str>) -> Harness {
        let plane = real_control_plane();
        let client = plane.admin_client().await;
        let sims = Arc::new(simulators::Controls { real: true, namespaces, unsimulated, ..Default::default() });
        let sim_task = tokio::spawn(simulators::run(client.clone(), sims.clone()));
        let backend = Backend::Real(plane);
        Harness { backend, suffix, client, sims, metrics: Arc::default(), stop: None, operator: None, sim_task }
    }

    /// This test's name for namespace `name` (one of [`TEST_NAMESPACES`]).
    pub fn ns(&self, name: &str) -> String {
        format!("{name}{}", self.suffix)
    }

    /// Whether this harness runs on the real control plane.
    pub fn is_real(&self) -> bool {
        matches!(self.backend, Backend::Real(_))
    }

    /// The emulator (panics on the real control plane: the test is emulator-only).
    pub fn emulator(&self) -> &Emulator {
        match &self.backend {
            Backend::Emulated(emulator) => emulator,
            Backend::Real(_) => panic!("this test needs the emulator"),
        }
    }

    /// The real control plane (panics on the emulator).
    pub fn real(&self) -> &kube_control_plane::SharedControlPlane {
        match &self.backend {
            Backend::Real(plane) => plane,
            Backend::Emulated(_) => panic!("this test needs the real control plane"),
        }
    }

    /// The in-process operator's requests about this test's namespaces in the real audit log,
    /// from byte `from` on, and the offset after them.
    pub fn operator_audit(&self, from: u64) -> (Vec<kube_control_plane::audit::AuditEvent>, u64) {
        let (events, next) = kube_control_plane::audit::read(&self.real().audit_log(), from).unwrap();
        let ours: Vec<String> = TEST_NAMESPACES.iter().map(|n| self.ns(n)).collect();
        let mine = |e: &kube_control_plane::audit::AuditEvent| {
            e.user.username == OPERATOR_USER && e.object_ref.as_ref().is_some_and(|o| ours.contains(&o.namespace))
        };
        (events.into_iter().filter(mine).collect(), next)
    }

    /// Starts (or restarts) the operator (on the real control plane it watches only this test's
    /// namespaces).
    pub fn start_operator(&mut self) {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        // On the real control plane a test's operator watches only its namespaces (a cluster-wide
        // harness, with no suffix, watches all).
        let scoped = self.is_real() && !self.suffix.is_empty();
        let namespaces = if scoped { TEST_NAMESPACES.iter().map(|n| self.ns(n)).collect() } else { vec![] };
        let options = RunOptions {
            namespaces,
            metrics_addr: "127.0.0.1:0".parse().unwrap(),
            concurrency: 4,
            settings: Settings {
                resync: Duration::from_secs(600),
                progress_requeue: Duration::from_millis(500),
                probe_interval: Duration::from_secs(1),
                probe_timeout: Duration::from_secs(2),
            },
            leader: None,
            instance: "test".to_owned(),
            metrics: Some(self.metrics.clone()),
        };
        let client = match &self.backend {
            Backend::Emulated(emulator) => Some(operator_client(emulator)),
            Backend::Real(_) => None,
        };
        let real = match &self.backend {
            Backend::Real(plane) => Some(plane.clone()),
            Backend::Emulated(_) => None,
        };
        self.operator = Some(tokio::spawn(async move {
            let client = match (client, real) {
                (Some(client), _) => client,
                (None, Some(plane)) => plane.client_with_token(plane.token(OPERATOR_USER)).await.unwrap(),
                (None, None) => unreachable!(),
            };
            wandb_operator::controller::run(client, options, async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        }));
        self.stop = Some(tx);
    }

    /// Stops the operator and waits for it.
    pub async fn stop_operator(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.operator.take() {
            let _ = tokio::time::timeout(Duration::from_secs(20), task).await;
        }
    }

    /// The requests the in-process operator made, from position `from` of the request log on.
    pub fn operator_requests(&self, from: usize) -> Vec<kube_emulator::LoggedRequest> {
        self.emulator().request_log().into_iter().skip(from).filter(|r| r.user_agent == OPERATOR_USER_AGENT).collect()
    }

    /// Where the operator's request history stands now, for [`Harness::operator_writes_since`].
    pub fn request_mark(&self) -> u64 {
        if self.is_real() { self.operator_audit(0).1 } else { self.emulator().request_log().len() as u64 }
    }

    /// The operator's writes since `mark` (emulator request log, or the real audit log), as
    /// `(verb, resource, name)`; writes to its own resource and Events left out.
    pub fn operator_writes_since(&self, mark: u64) -> Vec<(String, String, String)> {
        let writes: Vec<(String, String, String)> = if self.is_real() {
            self.operator_audit(mark)
                .0
                .into_iter()
                .filter(|e| e.is_write())
                .map(|e| {
                    let o = e.object_ref.clone().unwrap_or_default();
                    (e.verb.clone(), o.resource, o.name)
                })
                .collect()
        } else {
            self.operator_requests(mark as usize)
                .into_iter()
                .filter(|r| r.is_write())
                .map(|r| {
                    let verb = match r.method.as_str() {
                        "POST" => "create",
                        "PUT" => "update",
                        "PATCH" => "patch",
                        "DELETE" => "delete",
                        other => other,
                    };
                    // …/namespaces/<ns>/<resource>/<name>[/<subresource>]
                    let parts: Vec<&str> = r.path.split('/').collect();
                    let at = parts.iter().position(|p| *p == "namespaces").map_or(parts.len(), |i| i + 2);
                    let resource = parts.get(at).copied().unwrap_or_default().to_owned();
                    let name = parts.get(at + 1).copied().unwrap_or_default().to_owned();
                    (verb.to_owned(), resource, name)
                })
                .collect()
        };
        writes.into_iter().filter(|(_, resource, _)| resource != "weightsandbiases" && resource != "events").collect()
    }

    /// Stops the vendor simulators (statuses then change only when a test writes them).
    pub fn stop_simulators(&self) {
        self.sim_task.abort();
    }

    /// Creates this test's namespace `name` (see [`Harness::ns`]; so do the helpers below).
    pub async fn namespace(&self, name: &str) {
        let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(self.client.clone());
        let ns = serde_json::from_value(json!({"metadata": {"name": self.ns(name)}})).unwrap();
        let _ = api.create(&PostParams::default(), &ns).await;
    }

    /// Creates a `WeightsAndBiases` from YAML.
    pub async fn apply_yaml(&self, namespace: &str, yaml: &str) -> WeightsAndBiases {
        let value: Value = serde_saphyr::from_str(yaml).unwrap();
        let wandb: WeightsAndBiases = serde_json::from_value(value).unwrap();
        self.wandb_api(namespace).create(&PostParams::default(), &wandb).await.unwrap()
    }

    /// The resource API in `namespace`.
    pub fn wandb_api(&self, namespace: &str) -> Api<WeightsAndBiases> {
        Api::namespaced(self.client.clone(), &self.ns(namespace))
    }

    /// Waits (bounded) until `check` holds for the resource.
    pub async fn wait_for(
        &self,
        namespace: &str,
        name: &str,
        what: &str,
        check: impl Fn(&WeightsAndBiases) -> bool,
    ) -> WeightsAndBiases {
        let seconds = if self.is_real() { 120 } else { 60 };
        self.wait_for_within(namespace, name, what, seconds, check).await
    }

    /// [`Harness::wait_for`] for up to `seconds` (a real vendor operator's own pace).
    pub async fn wait_for_within(
        &self,
        namespace: &str,
        name: &str,
        what: &str,
        seconds: u64,
        check: impl Fn(&WeightsAndBiases) -> bool,
    ) -> WeightsAndBiases {
        let api = self.wandb_api(namespace);
        let mut last = None;
        let polls = seconds * 10;
        for i in 0..polls {
            if let (49, Backend::Emulated(emulator)) = (i % 50, &self.backend) {
                let log = emulator.request_log();
                eprintln!(
                    "[wait_for {what}] {} requests; last: {:?}",
                    log.len(),
                    log.iter()
                        .rev()
                        .take(5)
                        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
                        .collect::<Vec<_>>()
                );
            }
            if let Ok(Some(w)) = api.get_opt(name).await {
                if check(&w) {
                    return w;
                }
                last = Some(w);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "timed out waiting for {what}; last: {}",
            serde_json::to_string_pretty(&last.map(|w| w.status)).unwrap()
        );
    }

    /// Waits until the resource is Ready.
    pub async fn wait_ready(&self, namespace: &str, name: &str) -> WeightsAndBiases {
        self.wait_for(namespace, name, "Ready", |w| w.status.as_ref().and_then(|s| s.state) == Some(State::Ready)).await
    }

    /// Waits (bounded, 60 s; 120 s on the real control plane) until an async condition holds;
    /// panics otherwise.
    pub async fn eventually<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        if let Err(e) = wait_until(what, if self.is_real() { 120 } else { 60 }, check).await {
            panic!("{e}");
        }
    }

    /// Names of objects of a dynamic kind in a namespace.
    pub async fn names(&self, api_version: &str, kind: &str, plural: &str, namespace: &str) -> Vec<String> {
        let ar = api_resource(api_version, kind, plural);
        let api: Api<kube::api::DynamicObject> = Api::namespaced_with(self.client.clone(), &self.ns(namespace), &ar);
        match api.list(&Default::default()).await {
            Ok(list) => list.items.into_iter().filter_map(|o| o.metadata.name).collect(),
            Err(_) => vec![],
        }
    }

    /// An API for a dynamic kind in this test's namespace `namespace`.
    pub fn dyn_api(
        &self,
        namespace: &str,
        api_version: &str,
        kind: &str,
        plural: &str,
    ) -> Api<kube::api::DynamicObject> {
        Api::namespaced_with(self.client.clone(), &self.ns(namespace), &api_resource(api_version, kind, plural))
    }

    /// A typed API in this test's namespace `namespace`.
    pub fn api<K>(&self, namespace: &str) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.ns(namespace))
    }

    /// Creates (or replaces) an Opaque Secret with `data` in this test's namespace `namespace`.
    pub async fn secret(&self, namespace: &str, name: &str, data: &[(&str, &str)]) {
        let api: Api<k8s_openapi::api::core::v1::Secret> = self.api(namespace);
        let string_data: serde_json::Map<String, Value> =
            data.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))).collect();
        let secret =
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": string_data});
        api.patch(name, &kube::api::PatchParams::apply("test").force(), &kube::api::Patch::Apply(&secret))
            .await
            .unwrap();
    }

    /// A Secret's data as text, if it exists.
    pub async fn secret_data(&self, namespace: &str, name: &str) -> Option<std::collections::BTreeMap<String, String>> {
        let api: Api<k8s_openapi::api::core::v1::Secret> = self.api(namespace);
        let secret = api.get_opt(name).await.unwrap()?;
        Some(secret.data.unwrap_or_default().into_iter().map(|(k, v)| (k, String::from_utf8(v.0).unwrap())).collect())
    }

    /// PVC names in a namespace.
    pub async fn pvcs(&self, namespace: &str) -> Vec<String> {
        self.names("v1", "PersistentVolumeClaim", "persistentvolumeclaims", namespace).await
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.operator.take() {
            task.abort();
        }
        self.sim_task.abort();
    }
}
