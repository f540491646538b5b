//! The resolution of one `WeightsAndBiases`: the instance checks. Each component's plan is
//! resolved from it on demand (`Resolution::plan`, with the descriptor).

use super::edition::Edition;
use super::error::ModelError;
use super::placement::Instance;
use crate::api::{OnDelete, Size, WeightsAndBiases, WeightsAndBiasesSpec};

/// The longest CR name that leaves room for every derived name (Percona limits cluster names
/// to 22 characters and `<name>-<component>` with the longest component key must fit).
pub const MAX_NAME_LENGTH: usize = 16;

/// A `WeightsAndBiases` whose instance-level values are valid; each component's plan is
/// resolved from it with [`Resolution::plan`].
#[derive(Debug, Clone)]
pub struct Resolution {
    /// The instance.
    pub instance: Instance,
    /// The size in force.
    pub size: Size,
    /// The spec.
    pub spec: WeightsAndBiasesSpec,
    /// The edition of defaults the plans are resolved with: [`Edition::LATEST`] for a new
    /// component; the reconciler resolves an existing one again with the edition it was
    /// created with ([`Resolution::at_edition`]).
    pub edition: Edition,
    /// Which components the annotation `apps.wandb.com/pause` pauses: none from [`resolve`];
    /// the reconciler reads it with the registry's components ([`super::Pause::of`]).
    pub pause: super::Pause,
}

impl Resolution {
    /// The same resolution with the defaults of `edition`.
    pub fn at_edition(&self, edition: Edition) -> Resolution {
        Resolution { edition, ..self.clone() }
    }
}

/// Checks the instance-level values of `wandb` (name, namespace, name length). An invalid
/// component value fails only that component's [`Resolution::plan`].
pub fn resolve(wandb: &WeightsAndBiases) -> Result<Resolution, ModelError> {
    let instance = instance(wandb)?;
    if instance.name.chars().count() > MAX_NAME_LENGTH {
        return Err(ModelError::invalid(
            "metadata.name",
            format!("must be at most {MAX_NAME_LENGTH} characters so that derived names fit the vendors' limits"),
        ));
    }
    Ok(Resolution {
        instance,
        size: wandb.spec.size,
        spec: wandb.spec.clone(),
        edition: Edition::LATEST,
        pause: super::Pause::None,
    })
}

pub(crate) fn instance(wandb: &WeightsAndBiases) -> Result<Instance, ModelError> {
    let name = wandb.metadata.name.clone().filter(|n| !n.is_empty()).ok_or(ModelError::MissingName)?;
    let namespace = wandb.metadata.namespace.clone().filter(|n| !n.is_empty()).ok_or(ModelError::MissingNamespace)?;
    Ok(Instance { name, namespace, uid: wandb.metadata.uid.clone() })
}

pub(crate) fn default_on_delete(spec: &WeightsAndBiasesSpec) -> OnDelete {
    spec.retention_policy.as_ref().map(|r| r.on_delete).unwrap_or_default()
}
