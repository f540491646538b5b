//! The operator's flows (create, update, disable, delete with detach, delete with purge) on the
//! in-process operator, each optionally under one kind of fault, ending in a normalised
//! snapshot of the cluster plus the data-safety facts.

use std::collections::BTreeMap;
use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::{Client, ResourceExt};
use kube_emulator::Fault;
use serde_json::{Value, json};
use wandb_operator::api::{State, WeightsAndBiases};

use crate::logs::LogBuffer;
use crate::support::{Harness, OPERATOR_USER_AGENT, api_resource, wait_until};
use crate::world;

/// The namespace and name of the CR every flow uses.
pub const NAMESPACE: &str = "apps";
const NAME: &str = "wandb";

/// One of the operator's flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// A new CR becomes Ready.
    Create,
    /// A Ready CR's spec changes (MySQL storage grows, ClickHouse memory limit changes).
    Update,
    /// A component is disabled (detach: its objects stay, without our owner reference).
    Disable,
    /// The CR is deleted with the default `detach`: everything stays.
    DeleteDetach,
    /// The CR is deleted with `purge`: everything labelled for it goes, then the CR.
    DeletePurge,
}

impl Flow {
    /// Every flow.
    pub const ALL: [Flow; 5] = [Flow::Create, Flow::Update, Flow::Disable, Flow::DeleteDetach, Flow::DeletePurge];

    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Flow::Create => "create",
            Flow::Update => "update",
            Flow::Disable => "disable",
            Flow::DeleteDetach => "delete(detach)",
            Flow::DeletePurge => "delete(purge)",
        }
    }

    /// Whether the flow keeps data (every PVC must survive it).
    pub fn keeps_data(self) -> bool {
        self != Flow::DeletePurge
    }
}

/// A kind of fault, active while the flow's action runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// The operator's first write, and then each of its requests with this probability,
    /// fails with a 5xx (500/503).
    ServerErrors(f64),
    /// The operator's first write and then a third of its writes get 409 Conflict.
    ConflictOnWrites,
    /// Every watch stream is closed every 150 ms.
    DroppedWatches,
    /// History is compacted every 250 ms: open watches get an in-stream 410 and re-list.
    ForcedExpiry,
    /// 25 ms added to every request.
    Latency,
}

impl FaultKind {
    /// Its name in the report.
    pub fn name(self) -> String {
        match self {
            FaultKind::ServerErrors(p) => format!("5xx {:.0}%", p * 100.0),
            FaultKind::ConflictOnWrites => "409 on writes".to_owned(),
            FaultKind::DroppedWatches => "dropped watches".to_owned(),
            FaultKind::ForcedExpiry => "forced 410".to_owned(),
            FaultKind::Latency => "latency 25ms".to_owned(),
        }
    }
}

/// What a flow left behind.
#[derive(Debug)]
pub struct Outcome {
    /// The normalised end state.
    pub snapshot: BTreeMap<String, Value>,
    /// PVCs that existed before the action and are gone or replaced after it.
    pub lost_pvcs: Vec<String>,
    /// Places (status, events, logs) where a generated password appeared.
    pub secret_hits: Vec<String>,
    /// Requests the emulator answered with an injected or real error (≥ 409), by the operator.
    pub operator_errors: usize,
}

fn manifest(purge: bool) -> String {
    let mut text = format!(
        "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: {NAME}\nspec:\n  size: dev\n"
    );
    if purge {
        text.push_str("  retentionPolicy:\n    onDelete: purge\n");
    }
    text
}

fn is_ready(w: &WeightsAndBiases) -> bool {
    w.status.as_ref().is_some_and(|s| s.state == Some(State::Ready) && s.observed_generation == w.metadata.generation)
}

async fn get_cr(client: &Client) -> Option<WeightsAndBiases> {
    let api: Api<WeightsAndBiases> = Api::namespaced(client.clone(), NAMESPACE);
    api.get_opt(NAME).await.ok().flatten()
}

async fn ready(client: &Client) -> bool {
    get_cr(client).await.is_some_and(|w| is_ready(&w))
}

async fn gone(client: &Client) -> bool {
    let api: Api<WeightsAndBiases> = Api::namespaced(client.clone(), NAMESPACE);
    matches!(api.get_opt(NAME).await, Ok(None))
}

fn dynamic(client: &Client, api_version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), NAMESPACE, &api_resource(api_version, kind, plural))
}

async fn patch_spec(client: &Client, spec: Value) -> Result<(), String> {
    let api: Api<WeightsAndBiases> = Api::namespaced(client.clone(), NAMESPACE);
    api.patch(NAME, &PatchParams::default(), &Patch::Merge(json!({ "spec": spec })))
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Runs `flow` on a fresh emulated cluster; `fault` is active during the action only. With
/// `expected` (the fault-free run's end state), waits up to 30 s for the cluster to reach it.
pub async fn run(
    flow: Flow,
    fault: Option<FaultKind>,
    seed: u64,
    logs: &LogBuffer,
    expected: Option<&BTreeMap<String, Value>>,
) -> Result<Outcome, String> {
    let h = Harness::start(&[]).await;
    let client = h.client.clone();
    h.namespace(NAMESPACE).await;
    // Setup, without faults: the operator watches every kind (its caches are synced), so the
    // fault hits the flow, not the operator's start-up (which kube-runtime's watcher backoff,
    // 0.8 s doubling to 30 s, stretches under heavy error rates).
    wait_until("the operator watching every kind", 60, || async { watching_every_kind(&h) }).await?;
    if flow != Flow::Create {
        h.apply_yaml(NAMESPACE, &manifest(flow == Flow::DeletePurge)).await;
        wait_until("setup: Ready", 60, || ready(&client)).await?;
    }
    let pvcs_before = world::pvc_uids(&client).await;
    // Purge deletes the generated Secrets: remember their passwords before the action.
    let mut passwords = world::generated_passwords(&client).await;
    let log_from = h.emulator().request_log().len();
    let disruptor = start_fault(&h, fault, seed);
    let action = act(&h, flow).await.map_err(|e| format!("{e}; {}", diagnosis(&h, log_from)));
    if let Some(task) = disruptor {
        task.abort();
    }
    h.emulator().clear_faults();
    h.emulator().set_latency(None);
    action?;
    // Whatever is still in flight settles without faults.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut snapshot = world::snapshot(&client).await;
    if let Some(expected) = expected {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !world::differences(expected, &snapshot).is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(250)).await;
            snapshot = world::snapshot(&client).await;
        }
    }
    let pvcs_after = world::pvc_uids(&client).await;
    passwords.extend(world::generated_passwords(&client).await);
    let mut texts = world::visible_texts(&client).await;
    texts.push(("operator logs".to_owned(), logs.contents()));
    let operator_errors = h.operator_requests(log_from).iter().filter(|r| r.status >= 409).count();
    Ok(Outcome {
        snapshot,
        lost_pvcs: if flow.keeps_data() { world::lost_pvcs(&pvcs_before, &pvcs_after) } else { vec![] },
        secret_hits: world::secret_hits(&passwords, &texts),
        operator_errors,
    })
}

/// Whether the operator has started a watch (after a successful list) on every kind it caches.
fn watching_every_kind(h: &Harness) -> bool {
    let watched: std::collections::BTreeSet<String> =
        h.operator_requests(0).into_iter().filter(|r| r.watch && r.status == 200).map(|r| r.path).collect();
    let plurals = wandb_operator::registry::Registry::default()
        .watched_kinds()
        .into_iter()
        .map(|k| k.plural)
        .chain(std::iter::once("weightsandbiases".to_owned()));
    plurals.into_iter().all(|plural| watched.iter().any(|p| p.ends_with(&format!("/{plural}"))))
}

/// What the operator did since `log_from` and where its resource stands: for a flow that
/// timed out.
fn diagnosis(h: &Harness, log_from: usize) -> String {
    let calls = h.operator_requests(log_from);
    let mut by_status = BTreeMap::<u16, usize>::new();
    for c in &calls {
        *by_status.entry(c.status).or_default() += 1;
    }
    let last_failures: Vec<String> = calls
        .iter()
        .rev()
        .filter(|c| c.status >= 400)
        .take(3)
        .map(|c| format!("{} {}{} → {}", c.method, c.path, if c.watch { " (watch)" } else { "" }, c.status))
        .collect();
    format!("operator requests {} by status {by_status:?}, last failures {last_failures:?}", calls.len())
}

fn start_fault(h: &Harness, fault: Option<FaultKind>, seed: u64) -> Option<tokio::task::JoinHandle<()>> {
    let emulator = h.emulator().clone();
    match fault? {
        FaultKind::ServerErrors(p) => {
            // The first write always fails with a 500, which no client layer retries (short
            // flows would otherwise often draw no failure that reaches the reconcile); then half
            // 500 Internal Server Error, half 503 Service Unavailable (retried by the client's
            // retry layer, as in the binary, so fewer of them reach the reconcile).
            h.emulator().inject_fault(Fault::new(None, None, 1, 500).writes().from_user_agent(OPERATOR_USER_AGENT));
            h.emulator().inject_fault(Fault::rate(None, None, p / 2.0, 500, seed).from_user_agent(OPERATOR_USER_AGENT));
            h.emulator().inject_fault(
                Fault::rate(None, None, p / (2.0 - p), 503, seed ^ 0x5eed).from_user_agent(OPERATOR_USER_AGENT),
            );
            None
        }
        FaultKind::ConflictOnWrites => {
            h.emulator().inject_fault(Fault::new(None, None, 1, 409).writes().from_user_agent(OPERATOR_USER_AGENT));
            h.emulator().inject_fault(
                Fault::rate(None, None, 1.0 / 3.0, 409, seed).writes().from_user_agent(OPERATOR_USER_AGENT),
            );
            None
        }
        FaultKind::Latency => {
            h.emulator().set_latency(Some(Duration::from_millis(25)));
            None
        }
        FaultKind::DroppedWatches => Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(150)).await;
                emulator.drop_watches();
            }
        })),
        FaultKind::ForcedExpiry => Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                emulator.compact();
            }
        })),
    }
}

async fn act(h: &Harness, flow: Flow) -> Result<(), String> {
    let client = h.client.clone();
    let cr: Api<WeightsAndBiases> = Api::namespaced(client.clone(), NAMESPACE);
    match flow {
        Flow::Create => {
            h.apply_yaml(NAMESPACE, &manifest(false)).await;
            wait_until("Ready", 90, || ready(&client)).await
        }
        Flow::Update => {
            patch_spec(&client, json!({"mysql": {"storageSize": "5Gi"}, "clickhouse": {"config": {"resources": {"limits": {"memory": "3Gi"}}}}})).await?;
            let pxc = dynamic(&client, "pxc.percona.com/v1", "PerconaXtraDBCluster", "perconaxtradbclusters");
            wait_until("storage grown and Ready", 90, || async {
                let grown = pxc.get("wandb-mysql").await.ok().is_some_and(|o| {
                    o.data.pointer("/spec/pxc/volumeSpec/persistentVolumeClaim/resources/requests/storage")
                        == Some(&json!("5Gi"))
                });
                grown && ready(&client).await
            })
            .await
        }
        Flow::Disable => {
            patch_spec(&client, json!({"kafka": {"enabled": false}})).await?;
            let kafka = dynamic(&client, "kafka.strimzi.io/v1", "Kafka", "kafkas");
            wait_until("Kafka Offline, detached, Ready", 90, || async {
                let detached = kafka.get("wandb-kafka").await.ok().is_some_and(|o| o.owner_references().is_empty());
                let offline = get_cr(&client).await.is_some_and(|w| {
                    is_ready(&w) && w.status.and_then(|s| s.kafka_status).is_some_and(|k| k.state == State::Offline)
                });
                detached && offline
            })
            .await
        }
        Flow::DeleteDetach | Flow::DeletePurge => {
            cr.delete(NAME, &Default::default()).await.map_err(|e| e.to_string())?;
            wait_until("the CR gone", 90, || gone(&client)).await
        }
    }
}
