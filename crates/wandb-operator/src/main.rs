//! The `wandb-operator` command: `crd`, `render` and `run`.

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kube::CustomResourceExt;
use wandb_operator::api::WeightsAndBiases;
use wandb_operator::render;
use wandb_operator::vendors::Vendors;

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
    /// Print every object the operator would create for a manifest, without a cluster.
    Render {
        /// The WeightsAndBiases manifest (YAML or JSON); `-` reads standard input.
        #[arg(short = 'f', long = "filename")]
        file: String,
        /// Namespace for documents that name none (as kubectl would use).
        #[arg(short = 'n', long, default_value = "default")]
        namespace: String,
    },
    /// Run the controller (not implemented in this build: see the controller issue).
    Run,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
        Command::Render { file, namespace } => {
            let text = read_input(&file)?;
            render::render_manifest(&text, &namespace, &Vendors::default()).map_err(|e| e.to_string())
        }
        Command::Run => {
            Err("`run` is not implemented yet: the controller is tracked by the controller issue".to_owned())
        }
    }
}

fn crd_yaml() -> Result<String, String> {
    let crd = serde_json::to_value(WeightsAndBiases::crd()).map_err(|e| e.to_string())?;
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
