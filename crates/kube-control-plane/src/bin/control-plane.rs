//! `control-plane up --kubeconfig PATH`: starts a real control plane (etcd, kube-apiserver,
//! kube-controller-manager, the stand-in kubelet) on 127.0.0.1, writes an admin kubeconfig once
//! it is ready, and runs until SIGTERM or Ctrl-C, then stops every process and removes its data.
//! `control-plane build` only builds the Go binary.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use kube_control_plane::{ControlPlane, Options, binary};

#[derive(Parser)]
#[command(about = "A real Kubernetes control plane for tests, built from Go modules")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start it and run until SIGTERM or Ctrl-C.
    Up {
        /// Where to write the admin kubeconfig.
        #[arg(long)]
        kubeconfig: PathBuf,
        /// CRD files (YAML, one or more documents) to install before the controller manager starts.
        #[arg(long = "crds")]
        crds: Vec<PathBuf>,
        /// Keep the data folder (logs, audit log) after stopping.
        #[arg(long)]
        keep: bool,
    },
    /// Build (or reuse) the Go binary and print its path.
    Build,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match Cli::parse().command {
        Command::Build => match binary::ensure_built() {
            Ok(path) => {
                println!("{}", path.display());
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Up { kubeconfig, crds, keep } => {
            let crds = match kube_control_plane::read_crd_files(&crds) {
                Ok(crds) => crds,
                Err(e) => {
                    eprintln!("error: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            let mut plane = match ControlPlane::start(Options { crds, keep_dir: keep, users: vec![] }).await {
                Ok(plane) => plane,
                Err(e) => {
                    eprintln!("error: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            if let Err(e) = plane.write_admin_kubeconfig(&kubeconfig) {
                eprintln!("error: {e}");
                return std::process::ExitCode::FAILURE;
            }
            eprintln!("control-plane: kubeconfig written to {}; SIGTERM or Ctrl-C stops it", kubeconfig.display());
            wait_for_signal().await;
            eprintln!("control-plane: stopping");
            plane.stop();
            std::process::ExitCode::SUCCESS
        }
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
