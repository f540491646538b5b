//! `kube-emulator`: serve the emulator over HTTP until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use kube_emulator::front::kubeconfig;
use kube_emulator::{Emulator, EmulatorConfig};

/// A Kubernetes API server emulator for tests (no authentication; loopback only).
#[derive(Parser)]
#[command(name = "kube-emulator", version, about)]
struct Cli {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0", env = "KUBE_EMULATOR_LISTEN")]
    listen: SocketAddr,
    /// Write a kubeconfig for kubectl and kube clients here once listening.
    #[arg(long, env = "KUBE_EMULATOR_KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// Load every CRD manifest under this file or directory at start (repeatable).
    #[arg(long)]
    crds: Vec<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("kube-emulator: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let emulator = Emulator::new(EmulatorConfig::default());
    for dir in &cli.crds {
        let count = emulator.load_crds(dir).map_err(|e| format!("loading CRDs from {}: {e}", dir.display()))?;
        eprintln!("kube-emulator: loaded {count} CRDs from {}", dir.display());
    }
    let server = emulator.serve(cli.listen).await.map_err(|e| format!("cannot listen on {}: {e}", cli.listen))?;
    if let Some(path) = &cli.kubeconfig {
        std::fs::write(path, kubeconfig(&server.url(), "default"))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    // Tests read this line to learn the port.
    println!("kube-emulator listening on {}", server.url());
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    server.shutdown().await;
    Ok(())
}
