//! Waiting for N resources to become Ready, with a limit: a benchmark that waits without end
//! hides the resources that never converge (issue 17). When the limit passes, or when no
//! resource has become Ready for a while, the wait ends with a report of each stuck resource:
//! its state and every component's state and details.

use std::time::{Duration, Instant};

use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use serde_json::Value;
use wandb_operator::api::{State, WeightsAndBiases};

/// How long `n` resources may take to become Ready: 60 s plus 0.25 s per resource in a release
/// build (1,000 converge in about a minute on the 2-core machine; the limit leaves five times
/// that), four times as long in a debug build (what CI runs).
pub fn limit(n: usize) -> Duration {
    let release = Duration::from_secs(60) + Duration::from_millis(250 * n as u64);
    if cfg!(debug_assertions) { release * 4 } else { release }
}

/// How long the Ready count may stay flat before the wait gives up early.
pub const STALL: Duration = Duration::from_secs(90);

fn is_ready(w: &WeightsAndBiases) -> bool {
    w.status.as_ref().and_then(|s| s.state) == Some(State::Ready)
}

/// Waits until `n` resources are Ready, listing them every `interval`. `Err` is the report of
/// the resources that are not, once [`limit`] has passed or the count stayed flat for
/// [`STALL`].
pub async fn wait_ready(client: &Client, n: usize, interval: Duration) -> Result<(), String> {
    let api: Api<WeightsAndBiases> = Api::all(client.clone());
    let start = Instant::now();
    let (mut best, mut best_at) = (0, Instant::now());
    loop {
        let listed = api.list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default();
        let ready = listed.iter().filter(|w| is_ready(w)).count();
        if ready >= n {
            return Ok(());
        }
        if ready > best {
            (best, best_at) = (ready, Instant::now());
        }
        let why = if start.elapsed() > limit(n) {
            Some(format!("the limit of {} s for {n} resources passed", limit(n).as_secs()))
        } else if best_at.elapsed() > STALL {
            Some(format!("no resource became Ready for {} s", STALL.as_secs()))
        } else {
            None
        };
        if let Some(why) = why {
            return Err(format!(
                "{ready} of {n} resources are Ready after {:.0} s: {why}\n{}",
                start.elapsed().as_secs_f64(),
                stuck_report(&listed)
            ));
        }
        tokio::time::sleep(interval).await;
    }
}

/// One line per resource that is not Ready (at most 50, then a count), then an indented line per
/// component that is not Ready with its details.
pub fn stuck_report(resources: &[WeightsAndBiases]) -> String {
    const SHOWN: usize = 50;
    let stuck: Vec<&WeightsAndBiases> = resources.iter().filter(|w| !is_ready(w)).collect();
    let mut lines = Vec::new();
    for w in stuck.iter().take(SHOWN) {
        let state = w.status.as_ref().and_then(|s| s.state).map_or("no status".to_owned(), |s| format!("{s:?}"));
        lines.push(format!("  {}/{}: {state}", w.namespace().unwrap_or_default(), w.name_any()));
        let status = serde_json::to_value(&w.status).unwrap_or_default();
        // Every `<component>Status` of the status, so that a new component is reported too.
        for (key, component) in status.as_object().into_iter().flatten() {
            let Some(name) = key.strip_suffix("Status") else { continue };
            if component["ready"] == Value::Bool(true) {
                continue;
            }
            let details: Vec<String> = component["details"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| format!("{}: {}", d["code"].as_str().unwrap_or("?"), d["message"].as_str().unwrap_or("")))
                .collect();
            let state = component["state"].as_str().unwrap_or("?");
            lines.push(format!("    {name} {state}: {}", details.join("; ")));
        }
    }
    if stuck.len() > SHOWN {
        lines.push(format!("  … and {} more", stuck.len() - SHOWN));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(namespace: &str, status: Value) -> WeightsAndBiases {
        serde_json::from_value(json!({
            "apiVersion": "apps.wandb.com/v2", "kind": "WeightsAndBiases",
            "metadata": {"name": "wandb", "namespace": namespace},
            "spec": {"size": "small"},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn the_report_names_each_stuck_resource_and_its_failing_components_only() {
        let ready = resource("bench-1", json!({"state": "Ready"}));
        let stuck = resource(
            "bench-228",
            json!({"state": "Error",
                   "mysqlStatus": {"ready": true, "state": "Ready"},
                   "minioStatus": {"ready": false, "state": "Error", "details": [
                       {"state": "Error", "code": "NotOwned", "message": "Secret bench-228/wandb-minio-config exists"}]}}),
        );
        let report = stuck_report(&[ready, stuck]);
        assert_eq!(
            report,
            "  bench-228/wandb: Error\n    minio Error: NotOwned: Secret bench-228/wandb-minio-config exists"
        );
    }

    #[test]
    fn the_limit_grows_with_n() {
        assert!(limit(1000) > limit(200));
        let release = Duration::from_secs(310);
        assert_eq!(limit(1000), if cfg!(debug_assertions) { release * 4 } else { release });
    }
}
