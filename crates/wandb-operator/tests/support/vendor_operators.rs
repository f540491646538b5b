//! Starting the real vendor operators (issue 20) against the shared real control plane, each
//! watching one of the test's namespaces, with the environment
//! `../shared/reference/vendor-operators-live.md` measured. Built on first use from the
//! archives in `../shared/vendor-src` (sha256 checked); absent archives skip the test with a
//! notice, as absent vendor CRDs do; a failed build panics with its log.
#![allow(dead_code)] // each test binary uses part of the support module

use kube_control_plane::vendor_operators::{self, VendorError, VendorOperator, VendorProcess};

use super::Harness;

/// A running vendor operator, holding its turn when it listens on a fixed address (Percona's
/// webhook server on `:9443` and its certificates under `/tmp/k8s-webhook-server`, Altinity's
/// Keeper metrics on `:8080`): a second instance would fail to bind, so the tests of one
/// binary that start it run one at a time. Stopped, then the turn passed on, when dropped.
pub struct Exclusive {
    process: VendorProcess,
    _turn: Option<std::sync::MutexGuard<'static, ()>>,
}

impl std::ops::Deref for Exclusive {
    type Target = VendorProcess;
    fn deref(&self) -> &VendorProcess {
        &self.process
    }
}

impl std::ops::DerefMut for Exclusive {
    fn deref_mut(&mut self) -> &mut VendorProcess {
        &mut self.process
    }
}

static PERCONA_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
static ALTINITY_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Waits for the turn (a test that panicked while holding it passes it on all the same).
fn turn(lock: &'static std::sync::Mutex<()>) -> std::sync::MutexGuard<'static, ()> {
    lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Builds `vendor` (cached), or `None` with a notice when its source archive is absent.
fn built(vendor: VendorOperator) -> Option<std::path::PathBuf> {
    match vendor_operators::ensure_built(vendor) {
        Ok(binary) => Some(binary),
        Err(VendorError::ArchiveMissing { path, .. }) => {
            eprintln!("NOTICE: {path} is absent; skipping the test with the real {}", vendor.name());
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// An admin kubeconfig file for a vendor operator in `namespace`.
fn kubeconfig(h: &Harness, namespace: &str) -> String {
    let plane = h.real();
    let path = plane.dir.join(format!("vendor-{namespace}.kubeconfig"));
    std::fs::write(&path, plane.kubeconfig("admin", &plane.admin_token, namespace)).unwrap();
    path.display().to_string()
}

fn log_path(h: &Harness, vendor: VendorOperator, namespace: &str) -> std::path::PathBuf {
    h.real().dir.join(format!("{}-{namespace}.log", vendor.name()))
}

/// Opstree's redis-operator watching `namespace` (webhooks off: they need certificates).
pub fn opstree(h: &Harness, namespace: &str) -> Option<Exclusive> {
    let vendor = VendorOperator::Opstree;
    let binary = built(vendor)?;
    let env = [
        ("KUBECONFIG".to_owned(), kubeconfig(h, namespace)),
        ("WATCH_NAMESPACE".to_owned(), namespace.to_owned()),
        ("ENABLE_WEBHOOKS".to_owned(), "false".to_owned()),
    ];
    let args = ["manager", "--metrics-bind-address=0", "--health-probe-bind-address=0"].map(str::to_owned);
    let process = VendorProcess::spawn(vendor, &binary, &args, &env, &log_path(h, vendor, namespace)).unwrap();
    Some(Exclusive { process, _turn: None })
}

/// Starts a vendor operator (`command`: its binary and arguments) in a private mount namespace
/// (`unshare -m`; needs root) where `hosts` (created here, with `localhost` only; the data plane
/// fills it) is `/etc/hosts`, after the shell commands of `prelude` (empty, or ending in `&&`).
fn spawn_with_hosts(
    h: &Harness,
    namespace: &str,
    vendor: VendorOperator,
    command: (&std::path::Path, &[String]),
    env: &[(String, String)],
    hosts: &std::path::Path,
    prelude: &str,
) -> VendorProcess {
    let (binary, args) = command;
    std::fs::write(hosts, "127.0.0.1 localhost\n").unwrap();
    let mut env = env.to_vec();
    env.push(("WANDB_TEST_HOSTS".to_owned(), hosts.display().to_string()));
    env.push(("WANDB_TEST_BINARY".to_owned(), binary.display().to_string()));
    let script =
        format!("{prelude}mount --bind \"$WANDB_TEST_HOSTS\" /etc/hosts && exec \"$WANDB_TEST_BINARY\" \"$@\"");
    let mut unshare_args = vec!["-m".to_owned(), "sh".to_owned(), "-c".to_owned(), script, vendor.name().to_owned()];
    unshare_args.extend(args.iter().cloned());
    let unshare = std::path::Path::new("unshare");
    VendorProcess::spawn(vendor, unshare, &unshare_args, &env, &log_path(h, vendor, namespace)).unwrap()
}

/// The file Altinity's operator for `namespace` has as `/etc/hosts` (the stand-in for cluster
/// DNS: it asks each host's server for its version by name); the ClickHouse data plane writes
/// it.
pub fn altinity_hosts(h: &Harness, namespace: &str) -> std::path::PathBuf {
    h.real().dir.join(format!("altinity-hosts-{namespace}"))
}

/// Altinity's clickhouse-operator watching `namespace`, with its own `config.yaml` except the
/// namespaces watched. Before it counts a host completed it asks the host's server, by DNS
/// name, for its version and whether it is in the cluster, for up to
/// `reconcile.statefulSet.update.timeout` (300 s) per host: start the ClickHouse data plane
/// ([`crate::support::data_plane::clickhouse`]) to answer. It runs in a private mount
/// namespace (`unshare -m`; needs root) where [`altinity_hosts`] is `/etc/hosts`.
///
/// Its Keeper controller's manager serves metrics on `:8080` (every address): 0.25.6 gives
/// controller-runtime no bind address and has no flag for one. One Altinity runs at a time (a
/// second would fail to bind); `docs/testing.md` lists it among the vendors' limits here.
pub fn altinity(h: &Harness, namespace: &str) -> Option<Exclusive> {
    let vendor = VendorOperator::Altinity;
    let binary = built(vendor)?;
    let turn = turn(&ALTINITY_TURN);
    let config_dir = vendor_operators::source_tree(vendor).join("config");
    let original = std::fs::read_to_string(config_dir.join("config.yaml")).unwrap();
    let mut watched = false;
    let config: String = original
        .lines()
        .map(|line| {
            if !watched && line == "  namespaces: []" {
                watched = true;
                format!("  namespaces: [\"{namespace}\"]")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(watched, "Altinity's config.yaml changed: no `namespaces: []` to fill");
    // Beside the original: its relative paths (chi/config.d, …) resolve from there.
    let path = config_dir.join(format!("test-{namespace}.yaml"));
    std::fs::write(&path, config).unwrap();
    let env = [
        ("KUBECONFIG".to_owned(), kubeconfig(h, namespace)),
        ("WATCH_NAMESPACE".to_owned(), namespace.to_owned()),
        ("OPERATOR_POD_NAMESPACE".to_owned(), namespace.to_owned()),
    ];
    // Its metrics listen on :9999 by default (every address): a free loopback port instead.
    let metrics = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let args = [format!("-config={}", path.display()), format!("-metrics-endpoint={metrics}")];
    let hosts = altinity_hosts(h, namespace);
    let process = spawn_with_hosts(h, namespace, vendor, (&binary, &args), &env, &hosts, "");
    Some(Exclusive { process, _turn: Some(turn) })
}

/// The Pod the Percona operator takes for its own (`HOSTNAME`): it reads the image of its
/// container `percona-xtradb-cluster-operator` to use as the init image of the clusters' Pods.
pub const PERCONA_POD: &str = "percona-xtradb-cluster-operator";

/// The file Percona's operator for `namespace` has as `/etc/hosts` (the stand-in for cluster
/// DNS: it dials each PXC Pod by name); the MySQL data plane writes it.
pub fn percona_hosts(h: &Harness, namespace: &str) -> std::path::PathBuf {
    h.real().dir.join(format!("hosts-{namespace}"))
}

/// Percona's operator watching `namespace`, as it runs in a Pod there: `HOSTNAME` names a Pod
/// of that namespace with its container (created here), and the service-account namespace file
/// it reads from its fixed path is provided in a private mount namespace (`unshare -m`, a tmpfs
/// on `/run`; needs root, which fails loudly otherwise), where [`percona_hosts`] is mounted
/// over `/etc/hosts`. Metrics and health listen on free
/// loopback ports; its webhook server listens on `:9443` (every address: 1.20.0 has no flag for
/// it), and stays unregistered (no Deployment of its own exists).
pub async fn percona(h: &Harness, namespace: &str) -> Option<Exclusive> {
    percona_release(h, namespace, VendorOperator::Percona).await
}

/// [`percona`] of a given release ([`VendorOperator::Percona`] or
/// [`VendorOperator::Percona118`]).
pub async fn percona_release(h: &Harness, namespace: &str, vendor: VendorOperator) -> Option<Exclusive> {
    let release = match vendor {
        VendorOperator::Percona118 => "1.18.0",
        _ => "1.20.0",
    };
    let binary = built(vendor)?;
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(h.client.clone(), namespace);
    let image = format!("percona/percona-xtradb-cluster-operator:{release}");
    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": PERCONA_POD},
        "spec": {"containers": [{"name": "percona-xtradb-cluster-operator", "image": image}]}});
    pods.create(&Default::default(), &serde_json::from_value(pod).unwrap()).await.unwrap();
    let turn = turn(&PERCONA_TURN);
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let env = [
        ("KUBECONFIG".to_owned(), kubeconfig(h, namespace)),
        ("WATCH_NAMESPACE".to_owned(), namespace.to_owned()),
        ("DISABLE_TELEMETRY".to_owned(), "true".to_owned()),
        ("HOSTNAME".to_owned(), PERCONA_POD.to_owned()),
        ("WANDB_TEST_NAMESPACE".to_owned(), namespace.to_owned()),
    ];
    // A tmpfs over /run (/var/run) holding the service-account namespace file.
    let prelude = "mount -t tmpfs tmpfs /run && d=/run/secrets/kubernetes.io/serviceaccount && mkdir -p $d \
        && printf %s \"$WANDB_TEST_NAMESPACE\" > $d/namespace && ";
    let args = [format!("--metrics-bind-address={}", free()), format!("--health-probe-bind-address={}", free())];
    let hosts = percona_hosts(h, namespace);
    let process = spawn_with_hosts(h, namespace, vendor, (&binary, &args), &env, &hosts, prelude);
    Some(Exclusive { process, _turn: Some(turn) })
}
