//! The `wandb-operator` command: `crd`, `render` and `run`.

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wandb_operator::model::Edition;
use wandb_operator::registry::Registry;
use wandb_operator::render;

/// Runs W&B's stateful infrastructure through vendor operators from one WeightsAndBiases
/// resource.
#[derive(Parser)]
#[command(name = "wandb-operator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the WeightsAndBiases CustomResourceDefinition as YAML.
    Crd,
    /// Print the RBAC rules the operator needs (cluster-wide rules, then the lease rule).
    Rbac,
    /// Print the configuration reference (Markdown) generated from the CRD.
    Reference,
    /// Print every image the operator can deploy by default, one per line (to mirror them).
    Images {
        /// The edition of defaults: the latest (components created now), or an earlier one that
        /// existing components keep (e.g. `2025`).
        #[arg(long)]
        edition: Option<Edition>,
        /// A mirror registry (as in `spec.images.registry`): print each image and, after a
        /// space, its name in the mirror (what to copy where).
        #[arg(long)]
        registry: Option<String>,
    },
    /// Print every object the operator would create for a manifest, without a cluster.
    Render {
        /// The WeightsAndBiases manifest (YAML or JSON); `-` reads standard input.
        #[arg(short = 'f', long = "filename")]
        file: String,
        /// Namespace for documents that name none (as kubectl would use).
        #[arg(short = 'n', long, default_value = "default")]
        namespace: String,
        /// The edition of defaults: the latest (components created now), or an earlier one, to
        /// see what a component created with it is kept at (e.g. `2025`).
        #[arg(long)]
        edition: Option<Edition>,
        /// The manifest as it is now: print what changing it into `-f` does, per component
        /// (the plan the operator shows in `status.plan` for a size change), not the objects.
        #[arg(long = "from")]
        from: Option<String>,
    },
    /// Run the controller (uses KUBECONFIG or the in-cluster service account).
    Run(RunArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Namespaces to watch, comma-separated; empty watches all namespaces.
    #[arg(long, env = "WATCH_NAMESPACES", value_delimiter = ',', default_value = "")]
    namespaces: Vec<String>,
    /// Listen address of /metrics, /healthz and /readyz.
    #[arg(long, env = "METRICS_ADDR", default_value = "0.0.0.0:8080")]
    metrics_addr: std::net::SocketAddr,
    /// Reconciles in parallel.
    #[arg(long, env = "CONCURRENCY", default_value_t = 4)]
    concurrency: u16,
    /// Safety-net resync of converged resources, in seconds.
    #[arg(long, env = "RESYNC_SECONDS", default_value_t = 600)]
    resync_seconds: u64,
    /// How often external components' Secrets are read and endpoints probed, in seconds.
    #[arg(long, env = "PROBE_INTERVAL_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    probe_interval_seconds: u64,
    /// The limit of one reachability probe, in seconds.
    #[arg(long, env = "PROBE_TIMEOUT_SECONDS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=60))]
    probe_timeout_seconds: u64,
    /// Elect a leader on a Lease so that only one replica writes.
    #[arg(long, env = "LEADER_ELECT", default_value_t = false)]
    leader_elect: bool,
    /// Lease name for leader election.
    #[arg(long, env = "LEASE_NAME", default_value = "wandb-operator")]
    lease_name: String,
    /// Lease namespace for leader election.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    lease_namespace: String,
    /// Lease duration in seconds.
    #[arg(long, env = "LEASE_DURATION_SECONDS", default_value_t = 15)]
    lease_duration_seconds: u64,
    /// This replica's identity (defaults to the host name).
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", default_value = "json", value_parser = ["json", "text"])]
    log_format: String,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `wandb_operator=debug`.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    log_level: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Run(args) = cli.command {
        return run_controller(args);
    }
    match run(cli.command) {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<String, String> {
    match command {
        Command::Crd => crd_yaml(),
        Command::Reference => Ok(wandb_operator::api::reference::configuration_reference()),
        Command::Images { edition, registry } => {
            let mirror = wandb_operator::model::ImageSource { registry, pull_secrets: Vec::new() };
            Ok(Registry::default()
                .default_images(edition.unwrap_or(Edition::LATEST))
                .iter()
                .map(|image| match &mirror.registry {
                    Some(_) => format!("{image} {}\n", mirror.mirrored(image)),
                    None => format!("{image}\n"),
                })
                .collect())
        }
        Command::Rbac => {
            use wandb_operator::controller::rbac::{LEASE_RULE, rules, rules_yaml};
            Ok(format!(
                "# Cluster-wide, or per watched namespace\n{}# In the operator's namespace\n{}",
                rules_yaml(&rules()),
                rules_yaml(&[LEASE_RULE])
            ))
        }
        Command::Render { file, namespace, edition, from: None } => {
            let text = read_input(&file)?;
            render::render_manifest(&text, &namespace, &Registry::default(), edition.unwrap_or(Edition::LATEST))
                .map_err(|e| e.to_string())
        }
        Command::Render { file, namespace, edition, from: Some(current) } => {
            if current == "-" && file == "-" {
                return Err("--from and -f cannot both read standard input".to_owned());
            }
            let (current, new) = (read_input(&current)?, read_input(&file)?);
            render::render_plan(&current, &new, &namespace, &Registry::default(), edition.unwrap_or(Edition::LATEST))
                .map_err(|e| e.to_string())
        }
        Command::Run(_) => Err("run is handled by run_controller".to_owned()),
    }
}

fn crd_yaml() -> Result<String, String> {
    let crd = serde_json::to_value(wandb_operator::api::crd()).map_err(|e| e.to_string())?;
    render::to_yaml_stream(&[crd]).map_err(|e| e.to_string())
}

fn read_input(file: &str) -> Result<String, String> {
    if file == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(text)
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))
    }
}

fn run_controller(args: RunArgs) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if args.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    // Startup: failing to build the runtime is fatal.
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let client = match kube::Client::try_default().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot create a Kubernetes client");
                return ExitCode::FAILURE;
            }
        };
        let identity = args
            .identity
            .clone()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| format!("wandb-operator-{}", std::process::id()));
        let options = wandb_operator::controller::RunOptions {
            namespaces: args.namespaces.iter().filter(|n| !n.is_empty()).cloned().collect(),
            metrics_addr: args.metrics_addr,
            concurrency: args.concurrency.max(1),
            settings: wandb_operator::reconcile::Settings {
                resync: std::time::Duration::from_secs(args.resync_seconds),
                probe_interval: std::time::Duration::from_secs(args.probe_interval_seconds),
                probe_timeout: std::time::Duration::from_secs(args.probe_timeout_seconds),
                ..Default::default()
            },
            leader: args.leader_elect.then(|| wandb_operator::controller::LeaderOptions {
                lease_name: args.lease_name.clone(),
                lease_namespace: args.lease_namespace.clone(),
                identity: identity.clone(),
                duration: std::time::Duration::from_secs(args.lease_duration_seconds.max(3)),
            }),
            instance: identity,
            metrics: None,
        };
        let shutdown = async {
            let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            tracing::info!("shutdown requested");
        };
        match wandb_operator::controller::run(client, options, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "controller stopped");
                ExitCode::FAILURE
            }
        }
    })
}
