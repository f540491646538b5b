//! The real operator binary as its own process, against the emulator served over HTTP: built
//! (with the same profile as the caller) by `cargo build`, started, killed, and measured
//! (peak RSS, CPU time) from `/proc`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::Harness;

/// Builds the `wandb-operator` binary with this program's profile and returns its path.
/// Cargo is the one that ran us (`CARGO`), so the binary measured is the one in this tree.
pub fn build_operator_binary() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let release = !cfg!(debug_assertions);
    let mut command = Command::new(cargo);
    command.args(["build", "--locked", "--quiet", "-p", "wandb-operator", "--bin", "wandb-operator"]);
    if release {
        command.arg("--release");
    }
    let status = command.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of wandb-operator failed: {status}"));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("no directory for the current executable")?;
    let binary = dir.join("wandb-operator");
    if binary.exists() { Ok(binary) } else { Err(format!("{} not found after the build", binary.display())) }
}

/// The emulator of a harness, served on 127.0.0.1 with a kubeconfig in a temporary directory.
pub struct ServedCluster {
    /// Temporary directory (kubeconfig, logs); removed on drop.
    pub dir: PathBuf,
    server: Option<kube_emulator::front::HttpServer>,
}

impl ServedCluster {
    /// Serves `harness`'s emulator over HTTP.
    pub async fn serve(harness: &Harness) -> ServedCluster {
        let server = harness.emulator.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let dir = std::env::temp_dir().join(format!("wandb-measure-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("kubeconfig"), kube_emulator::front::kubeconfig(&server.url(), "default")).unwrap();
        ServedCluster { dir, server: Some(server) }
    }

    /// Stops serving.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

impl Drop for ServedCluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// A running operator process; killed (SIGKILL) and reaped on drop.
pub struct OperatorProcess {
    child: Child,
    /// Its `/metrics` address.
    pub metrics_port: u16,
}

impl OperatorProcess {
    /// Starts `binary run` against the cluster; stderr (logs, `LOG_LEVEL`) goes to `log`.
    pub fn start(binary: &Path, cluster: &ServedCluster, log: &Path, log_level: &str) -> OperatorProcess {
        let metrics_port = free_port();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = Command::new(binary)
            .arg("run")
            .env("KUBECONFIG", cluster.dir.join("kubeconfig"))
            .env("METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
            .env("LOG_LEVEL", log_level)
            .env("LOG_FORMAT", "json")
            .env("RESYNC_SECONDS", "600")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        OperatorProcess { child, metrics_port }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Peak resident set size so far (`VmHWM`), in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    }

    /// CPU time (user + system) used so far, in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(&format!("/proc/{}/stat", self.pid()))
    }

    /// Kills it (SIGKILL: no graceful shutdown) and reaps it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (utime + stime) from a `/proc/<pid>/stat` file.
pub fn cpu_seconds_of(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    // Fields after the command name (which may contain spaces) in parentheses.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name; 100 Hz.
    (ticks(11) + ticks(12)) / clock_ticks_per_second()
}

fn clock_ticks_per_second() -> f64 {
    // USER_HZ is 100 on every Linux architecture we run on.
    100.0
}

/// Reads one counter from an operator's `/metrics` (OpenMetrics text).
pub async fn metric(port: u16, name: &str) -> Option<f64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.ok()?;
    let mut body = String::new();
    stream.read_to_string(&mut body).await.ok()?;
    body.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
}
