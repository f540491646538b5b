//! Fault matrix: every flow under every kind of fault ends in the same state as without
//! faults (no duplicate, missing or different object), loses no PVC when it keeps data, and
//! shows no generated password in status, events or logs.

use std::time::Instant;

use super::flows::{self, FaultKind, Flow};
use super::{Report, Scale, Selection};
use crate::logs::LogBuffer;
use crate::world;

/// Data-safety counts over every flow run.
#[derive(Debug, Default)]
pub struct SafetyTally {
    /// Flows run that keep data (everything but delete with purge).
    pub data_keeping_flows: usize,
    /// PVCs lost in those.
    pub pvcs_lost: usize,
    /// Flows whose status, events and logs were scanned.
    pub scanned_flows: usize,
    /// Generated passwords found there.
    pub secret_hits: usize,
}

impl SafetyTally {
    /// Counts one flow: its PVC losses (when it keeps data) and its password hits.
    pub fn record(&mut self, keeps_data: bool, pvcs_lost: usize, secret_hits: usize) {
        if keeps_data {
            self.data_keeping_flows += 1;
            self.pvcs_lost += pvcs_lost;
        }
        self.scanned_flows += 1;
        self.secret_hits += secret_hits;
    }

    fn add(&mut self, flow: Flow, outcome: &flows::Outcome) {
        self.record(flow.keeps_data(), outcome.lost_pvcs.len(), outcome.secret_hits.len());
    }
}

/// The faults of the matrix.
pub fn faults(scale: Scale) -> Vec<FaultKind> {
    let rates: &[f64] = if scale.quick { &[0.2] } else { &[0.05, 0.2, 0.5] };
    let mut out: Vec<FaultKind> = rates.iter().map(|p| FaultKind::ServerErrors(*p)).collect();
    out.extend([FaultKind::ConflictOnWrites, FaultKind::DroppedWatches, FaultKind::ForcedExpiry, FaultKind::Latency]);
    out
}

fn safety_problems(outcome: &flows::Outcome) -> Vec<String> {
    let mut problems = Vec::new();
    if !outcome.lost_pvcs.is_empty() {
        problems.push(format!("PVCs lost: {:?}", outcome.lost_pvcs));
    }
    if !outcome.secret_hits.is_empty() {
        problems.push(format!("generated password visible in: {:?}", outcome.secret_hits));
    }
    problems
}

/// Runs the matrix, adding one check per cell to `report`.
pub async fn run(report: &mut Report, scale: Scale, selection: &Selection, logs: &LogBuffer, tally: &mut SafetyTally) {
    report.section("fault matrix (flow × fault → same end state as without faults)");
    for (i, flow) in Flow::ALL.into_iter().enumerate().filter(|(_, f)| selection.flow(f.name())) {
        let started = Instant::now();
        let _ = logs.take();
        let baseline = match flows::run(flow, None, scale.seed, logs, None).await {
            Ok(outcome) => outcome,
            Err(e) => {
                report.check(&format!("{} without faults", flow.name()), started, Err(e));
                continue;
            }
        };
        tally.add(flow, &baseline);
        let problems = safety_problems(&baseline);
        let note = format!("{} objects in the end state", baseline.snapshot.len());
        report.check(
            &format!("{} without faults", flow.name()),
            started,
            if problems.is_empty() { Ok(note) } else { Err(problems.join("; ")) },
        );
        for (j, fault) in faults(scale).into_iter().enumerate().filter(|(_, f)| selection.fault(&f.name())) {
            let started = Instant::now();
            let _ = logs.take();
            let seed = scale.seed.wrapping_add((i * 100 + j) as u64);
            let result = match flows::run(flow, Some(fault), seed, logs, Some(&baseline.snapshot)).await {
                Err(e) => Err(e),
                Ok(outcome) => {
                    tally.add(flow, &outcome);
                    let mut problems = safety_problems(&outcome);
                    let differences = world::differences(&baseline.snapshot, &outcome.snapshot);
                    if !differences.is_empty() {
                        problems.push(format!("end state differs: {}", differences.join("; ")));
                    }
                    let injects_errors = matches!(fault, FaultKind::ServerErrors(_) | FaultKind::ConflictOnWrites);
                    if injects_errors && outcome.operator_errors == 0 {
                        problems.push("no request of the operator hit the fault".to_owned());
                    }
                    if problems.is_empty() {
                        Ok(if injects_errors {
                            format!("{} failed requests absorbed", outcome.operator_errors)
                        } else {
                            String::new()
                        })
                    } else {
                        Err(problems.join("; "))
                    }
                }
            };
            let cell = format!("{} × {}", flow.name(), fault.name());
            if result.is_err() {
                keep_logs(&cell, logs);
            }
            report.check(&cell, started, result);
        }
    }
}

/// With `RELIABILITY_LOGS=DIR`, a failed cell's operator logs (JSON lines) go to a file there.
fn keep_logs(cell: &str, logs: &LogBuffer) {
    let Some(dir) = std::env::var_os("RELIABILITY_LOGS") else { return };
    let file: String = cell.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let path = std::path::Path::new(&dir).join(format!("{file}.log"));
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, logs.take())) {
        Ok(()) => println!("        operator logs: {}", path.display()),
        Err(e) => println!("        cannot write {}: {e}", path.display()),
    }
}
