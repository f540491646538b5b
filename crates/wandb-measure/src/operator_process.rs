//! The real operator binary as its own process (started through the test support's
//! [`ServedCluster`](crate::support::process::ServedCluster)): built with the caller's profile,
//! and measured from `/proc` and its `/metrics`.

use std::path::PathBuf;
use std::process::Command;

use crate::support::process::http_get;

/// Builds the `wandb-operator` binary with this program's profile and returns its path.
/// Cargo is the one that ran us (`CARGO`), so the binary measured is the one in this tree.
pub fn build_operator_binary() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.args(["build", "--locked", "--quiet", "-p", "wandb-operator", "--bin", "wandb-operator"]);
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let status = command.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of wandb-operator failed: {status}"));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let binary = exe.parent().ok_or("no directory for the current executable")?.join("wandb-operator");
    if binary.exists() { Ok(binary) } else { Err(format!("{} not found after the build", binary.display())) }
}

/// Peak resident set size of process `pid` so far (`VmHWM`), in MiB.
pub fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// USER_HZ, the unit of `/proc/<pid>/stat` times: 100 on every Linux architecture we run on.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// CPU time (user + system) process `pid` used so far, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may contain spaces) in parentheses; utime and
    // stime are fields 14 and 15 of the file, 12 and 13 of these.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / CLOCK_TICKS_PER_SECOND
}

/// One sample from an operator's `/metrics` (OpenMetrics text), by name.
pub async fn metric(port: u16, name: &str) -> Option<f64> {
    let (_, body) = http_get(port, "/metrics").await?;
    body.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
}

/// Starts the operator binary against `cluster`, JSON logs at `log_level` appended to `log`;
/// returns it with its `/metrics` port.
pub fn start_operator(
    binary: &std::path::Path,
    cluster: &crate::support::process::ServedCluster,
    log: &std::path::Path,
    log_level: &str,
) -> (crate::support::process::OperatorProcess, u16) {
    let port = crate::support::process::free_port();
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    let mut command = cluster.operator_command(binary, port);
    // A profiler around the operator (e.g. `WANDB_BENCH_WRAPPER="heaptrack -o /tmp/op"`): its
    // figures are then the wrapper's, the profile is what it is for.
    if let Ok(wrapper) = std::env::var("WANDB_BENCH_WRAPPER") {
        let mut words = wrapper.split_whitespace();
        let mut wrapped = Command::new(words.next().unwrap_or("env"));
        wrapped.args(words).arg(binary).args(command.get_args());
        for (key, value) in command.get_envs() {
            if let Some(value) = value {
                wrapped.env(key, value);
            }
        }
        command = wrapped;
        command.stdout(std::process::Stdio::null());
    }
    command.env("LOG_LEVEL", log_level).env("LOG_FORMAT", "json").stderr(log);
    (crate::support::process::OperatorProcess::spawn(command), port)
}
