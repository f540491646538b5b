//! Crash loop: the real operator binary is killed (SIGKILL) at random points while 10 CRs
//! converge, at least 20 times while work is pending (whenever everything has converged, the
//! CRs' storage grows again before the next restart); restarted once more, it must converge to
//! exactly the objects `render` predicts, with every PVC and every generated password kept and
//! no password in its logs, the CRs' status or the events.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use kube::api::{Api, ListParams, Patch, PatchParams};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use wandb_operator::api::{State, WeightsAndBiases};
use wandb_operator::registry::Registry;
use wandb_operator::render::render_objects;

use super::Scale;
use crate::operator_process::start_operator;
use crate::support::Harness;
use crate::support::process::ServedCluster;
use crate::support::wait_until;
use crate::world;

const CRS: usize = 10;
/// The fewest kills that must land while work is pending.
const MIN_KILLS_DURING_CONVERGENCE: usize = 20;

fn manifest() -> &'static str {
    "apiVersion: apps.wandb.com/v2\nkind: WeightsAndBiases\nmetadata:\n  name: wandb\nspec:\n  size: small\n"
}

/// Every CR Ready at its current generation, with the MySQL storage the loop last asked for
/// (`None`: the profile's).
async fn converged(client: &kube::Client, storage: Option<&str>) -> bool {
    let api: Api<WeightsAndBiases> = Api::all(client.clone());
    let Ok(list) = api.list(&ListParams::default()).await else { return false };
    list.items.len() == CRS
        && list.items.iter().all(|w| {
            w.spec.mysql.as_ref().and_then(|m| m.common.storage_size.as_deref()) == storage
                && w.status
                    .as_ref()
                    .is_some_and(|s| s.state == Some(State::Ready) && s.observed_generation == w.metadata.generation)
        })
}

async fn expected_objects(client: &kube::Client) -> BTreeSet<String> {
    let api: Api<WeightsAndBiases> = Api::all(client.clone());
    let mut out = BTreeSet::new();
    for w in api.list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default() {
        for object in render_objects(&w, &Registry::default()).unwrap_or_default() {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
            let metadata = &object["metadata"];
            out.insert(world::object_key(
                &text(&object["kind"]),
                &text(&metadata["namespace"]),
                &text(&metadata["name"]),
            ));
        }
    }
    out
}

/// What the crash loop found.
#[derive(Debug, Default)]
pub struct CrashLoopResult {
    /// Kills made.
    pub kills: usize,
    /// Kills made while not every CR was converged.
    pub kills_during_convergence: usize,
    /// Times the operator exited by itself (a crash).
    pub unexpected_exits: usize,
    /// Seconds to converge after the last restart.
    pub final_convergence_seconds: f64,
    /// PVCs lost (seen once, later gone or replaced).
    pub pvcs_lost: Vec<String>,
    /// Generated passwords that changed after first seen.
    pub passwords_changed: Vec<String>,
    /// Where a generated password was visible.
    pub secret_hits: Vec<String>,
    /// Objects missing from, or extra to, what `render` predicts.
    pub object_differences: Vec<String>,
}

impl CrashLoopResult {
    /// The check's outcome: a summary, or every problem found.
    pub fn verdict(&self) -> Result<String, String> {
        let mut problems = Vec::new();
        if self.unexpected_exits > 0 {
            problems.push(format!("{} unexpected exits", self.unexpected_exits));
        }
        if !self.object_differences.is_empty() {
            problems.push(format!("objects differ from render: {:?}", self.object_differences));
        }
        if !self.passwords_changed.is_empty() {
            problems.push(format!("passwords regenerated: {:?}", self.passwords_changed));
        }
        if !self.pvcs_lost.is_empty() {
            problems.push(format!("PVCs lost: {:?}", self.pvcs_lost));
        }
        if !self.secret_hits.is_empty() {
            problems.push(format!("passwords visible in: {:?}", self.secret_hits));
        }
        if self.kills_during_convergence < MIN_KILLS_DURING_CONVERGENCE {
            problems.push(format!("only {} of the kills hit a converging operator", self.kills_during_convergence));
        }
        if problems.is_empty() {
            Ok(format!(
                "{} kills ({} during convergence), converged {:.1} s after the last restart; objects = render, passwords kept",
                self.kills, self.kills_during_convergence, self.final_convergence_seconds
            ))
        } else {
            Err(problems.join("; "))
        }
    }
}

/// Runs the loop with the operator binary at `binary`.
pub async fn run(binary: &Path, scale: Scale) -> Result<CrashLoopResult, String> {
    let kills_wanted = if scale.quick { MIN_KILLS_DURING_CONVERGENCE } else { 2 * MIN_KILLS_DURING_CONVERGENCE };
    let mut rng = StdRng::seed_from_u64(scale.seed);
    let h = Harness::without_operator(&[]).await;
    let cluster = ServedCluster::serve(&h).await;
    let log = cluster.dir.join("operator.log");
    let client = h.client.clone();
    for i in 0..CRS {
        let ns = format!("crash-{i}");
        h.namespace(&ns).await;
        h.apply_yaml(&ns, manifest()).await;
    }
    let mut result = CrashLoopResult::default();
    let mut pvcs_seen: BTreeMap<String, String> = BTreeMap::new();
    let mut passwords_seen: BTreeMap<String, String> = BTreeMap::new();
    let mut storage: Option<String> = None;
    let mut grown = 20;
    // Vendors take a moment to react, as real ones do: convergence spans several restarts.
    *h.sims.delay.lock().unwrap() = Duration::from_millis(300);
    while result.kills_during_convergence < kills_wanted && result.kills < 3 * kills_wanted {
        if result.kills > 0 && converged(&client, storage.as_deref()).await {
            // New work: every CR's MySQL storage grows (applied to 10 PXCs, then reported).
            grown += 1;
            let size = format!("{grown}Gi");
            for i in 0..CRS {
                let api: Api<WeightsAndBiases> = Api::namespaced(client.clone(), &format!("crash-{i}"));
                let patch = json!({"spec": {"mysql": {"storageSize": size}}});
                api.patch("wandb", &PatchParams::default(), &Patch::Merge(patch)).await.map_err(|e| e.to_string())?;
            }
            storage = Some(size);
        }
        let (mut operator, _) = start_operator(binary, &cluster, &log, "debug");
        // Most kills land within the first second: cache sync, then the reconciles.
        tokio::time::sleep(Duration::from_millis(rng.random_range(30..900))).await;
        if !operator.running() {
            result.unexpected_exits += 1;
        }
        let busy = !converged(&client, storage.as_deref()).await;
        operator.kill();
        result.kills += 1;
        result.kills_during_convergence += usize::from(busy);
        observe_data(&client, &mut pvcs_seen, &mut passwords_seen, &mut result).await;
    }
    let started = Instant::now();
    let (mut operator, _) = start_operator(binary, &cluster, &log, "debug");
    wait_until("10 CRs converged after the last restart", 120, || converged(&client, storage.as_deref())).await?;
    result.final_convergence_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    if !operator.running() {
        result.unexpected_exits += 1;
    }
    observe_data(&client, &mut pvcs_seen, &mut passwords_seen, &mut result).await;
    operator.kill();
    let expected = expected_objects(&client).await;
    let actual: BTreeSet<String> = world::snapshot(&client)
        .await
        .into_keys()
        .filter(|k| !k.starts_with("PersistentVolumeClaim ") && !k.starts_with("WeightsAndBiases "))
        .collect();
    result.object_differences = expected
        .difference(&actual)
        .map(|k| format!("missing {k}"))
        .chain(actual.difference(&expected).map(|k| format!("extra {k}")))
        .collect();
    let passwords: Vec<String> = passwords_seen.values().cloned().collect();
    let mut texts = world::visible_texts(&client).await;
    texts.push(("operator logs".to_owned(), std::fs::read_to_string(&log).unwrap_or_default()));
    result.secret_hits = world::secret_hits(&passwords, &texts);
    cluster.shutdown().await;
    Ok(result)
}

async fn observe_data(
    client: &kube::Client,
    pvcs_seen: &mut BTreeMap<String, String>,
    passwords_seen: &mut BTreeMap<String, String>,
    result: &mut CrashLoopResult,
) {
    let pvcs = world::pvc_uids(client).await;
    for lost in world::lost_pvcs(pvcs_seen, &pvcs) {
        if !result.pvcs_lost.contains(&lost) {
            result.pvcs_lost.push(lost);
        }
    }
    for (name, uid) in pvcs {
        pvcs_seen.entry(name).or_insert(uid);
    }
    for (name, password) in world::generated_passwords_by_secret(client).await {
        match passwords_seen.get(&name) {
            Some(first) if *first != password => {
                if !result.passwords_changed.contains(&name) {
                    result.passwords_changed.push(name);
                }
            }
            Some(_) => {}
            None => {
                passwords_seen.insert(name, password);
            }
        }
    }
}
