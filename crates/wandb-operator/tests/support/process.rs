//! The emulated cluster served over HTTP on 127.0.0.1 for processes (the operator binary,
//! kubectl), and the operator binary as a child process.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::Harness;

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `GET path` on 127.0.0.1:`port`: the status code and the whole response text.
#[allow(unused_imports)] // not every test binary that includes the support uses it
pub use kube_control_plane::http_get;

/// A harness's emulator served over HTTP, with a kubeconfig in a temporary directory (removed
/// on drop, with any logs written there).
pub struct ServedCluster {
    /// The temporary directory.
    pub dir: PathBuf,
    server: Option<kube_emulator::front::HttpServer>,
}

impl ServedCluster {
    /// Serves `harness`'s emulator on 127.0.0.1 (a free port).
    pub async fn serve(harness: &Harness) -> ServedCluster {
        let server = harness.emulator().serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let dir = std::env::temp_dir().join(format!("wandb-served-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("kubeconfig"), kube_emulator::front::kubeconfig(&server.url(), "default")).unwrap();
        ServedCluster { dir, server: Some(server) }
    }

    /// The kubeconfig's path.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// `binary run` against this cluster, `/metrics` on `metrics_port`, stdout discarded;
    /// the caller adds flags, environment and where stderr (the logs) goes.
    pub fn operator_command(&self, binary: &std::path::Path, metrics_port: u16) -> Command {
        let mut command = Command::new(binary);
        command
            .arg("run")
            .env("KUBECONFIG", self.kubeconfig())
            .env("METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
            .env("RESYNC_SECONDS", "600")
            .stdout(Stdio::null());
        command
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

/// A child process, killed (SIGKILL) and reaped on drop.
pub struct OperatorProcess(Child);

impl OperatorProcess {
    /// Spawns `command`.
    pub fn spawn(mut command: Command) -> OperatorProcess {
        OperatorProcess(command.spawn().unwrap())
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }

    /// Kills it (SIGKILL: no graceful shutdown) and reaps it.
    pub fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
