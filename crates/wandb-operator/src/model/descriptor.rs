//! What a component is, independent of the vendor that runs it: the [`ComponentDescriptor`]
//! each component implements once, the [`Plan`] it resolves to, and how a plan is built from a
//! [`Resolution`].

use std::fmt::Debug;

use serde::Serialize;

use super::component::Component;
use super::error::ModelError;
use super::external_service::{ExternalConfig, ExternalService};
use super::fields::validate_dns_label;
use super::placement::{Placed, Placement};
use super::resolution::{Resolution, default_on_delete, instance};
use crate::api::{ComponentCommon, ComponentStatus, WeightsAndBiases, WeightsAndBiasesSpec, WeightsAndBiasesStatus};

/// A component of the `WeightsAndBiases` resource, described once: where its spec and status
/// sit on the resource, how its profile defaults and the user's spec merge into its config,
/// how an `external` block maps to an external service, and the connection keys its status
/// reports. The vendor that runs it implements `vendors::Vendor` for its config; the
/// registry pairs the two.
pub trait ComponentDescriptor: Debug + Clone + PartialEq + Send + Sync + 'static {
    /// Its identity.
    const COMPONENT: Component;
    /// The validated, vendor-neutral configuration of a managed component.
    type Config: Placed + Debug + Clone + PartialEq + Send + Sync;
    /// An external service of this component.
    type External: ExternalService;
    /// The connection keys its status reports.
    type Connection: Serialize + Debug + Clone + PartialEq + Send + Sync;

    /// The settings every component has (`enabled`, `namespace`, …), when the spec names it.
    fn common(spec: &WeightsAndBiasesSpec) -> Option<&ComponentCommon>;
    /// Its slot in the status.
    fn status(status: &WeightsAndBiasesStatus) -> Option<&ComponentStatus<Self::Connection>>;
    /// Its slot in the status, to write.
    fn status_mut(status: &mut WeightsAndBiasesStatus) -> &mut Option<ComponentStatus<Self::Connection>>;
    /// Profile defaults merged with the user's spec: managed, external or disabled.
    fn resolve(resolution: &Resolution) -> Result<Plan<Self>, ModelError>;
    /// The status connection keys of an external service.
    fn external_connection(service: &Self::External) -> Option<Self::Connection>;
}

/// A component's resolved plan: managed with a config, external, or disabled.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan<D: ComponentDescriptor> {
    /// Managed with this configuration.
    Enabled(D::Config),
    /// Run elsewhere: the operator checks it and publishes its connection.
    External(Box<ExternalConfig<D::External>>),
    /// `enabled: false`: not managed; the retention policy applies to what exists.
    Disabled(Placement),
}

impl<D: ComponentDescriptor> Plan<D> {
    /// The enabled config, if any.
    pub fn enabled(&self) -> Option<&D::Config> {
        match self {
            Plan::Enabled(c) => Some(c),
            Plan::External(_) | Plan::Disabled(_) => None,
        }
    }

    /// Where the component lives, whatever the plan.
    pub fn placement(&self) -> &Placement {
        match self {
            Plan::Enabled(c) => c.placement(),
            Plan::External(e) => &e.placement,
            Plan::Disabled(p) => p,
        }
    }
}

/// Settings set beside an `external` block (each a contradiction when set), and how to
/// resolve the block.
pub type ExternalBlock<'a, S> =
    (Vec<(&'static str, bool)>, Box<dyn FnOnce(Placement) -> Result<ExternalConfig<S>, ModelError> + 'a>);

/// A component's placement (namespace and retention policy) even when its spec is otherwise
/// invalid: what deletion needs to find and treat its objects.
pub fn placement_for_deletion<D: ComponentDescriptor>(wandb: &WeightsAndBiases) -> Result<Placement, ModelError> {
    let instance = instance(wandb)?;
    let common = D::common(&wandb.spec);
    Ok(Placement {
        component: D::COMPONENT,
        namespace: common
            .and_then(|c| c.namespace.clone())
            .filter(|ns| validate_dns_label(ns).is_ok())
            .unwrap_or_else(|| instance.namespace.clone()),
        on_delete: common
            .and_then(|c| c.retention_policy.as_ref())
            .and_then(|r| r.on_delete)
            .unwrap_or_else(|| default_on_delete(&wandb.spec)),
        instance,
    })
}

impl Resolution {
    /// Component `D`'s plan.
    pub fn plan<D: ComponentDescriptor>(&self) -> Result<Plan<D>, ModelError> {
        D::resolve(self)
    }

    /// The plan of a component with settings `common`: disabled, external (`external`, when the
    /// spec has the block) or managed (`merge`). Contradictions are reported with the field.
    pub fn plan_with<D: ComponentDescriptor>(
        &self,
        common: &ComponentCommon,
        external: Option<ExternalBlock<'_, D::External>>,
        merge: impl FnOnce(Placement) -> Result<D::Config, ModelError>,
    ) -> Result<Plan<D>, ModelError> {
        let key = D::COMPONENT.key();
        let namespace = match &common.namespace {
            Some(ns) => {
                validate_dns_label(ns).map_err(|m| ModelError::invalid(format!("spec.{key}.namespace"), m))?;
                ns.clone()
            }
            None => self.instance.namespace.clone(),
        };
        let on_delete =
            common.retention_policy.as_ref().and_then(|r| r.on_delete).unwrap_or_else(|| default_on_delete(&self.spec));
        let placement = Placement { instance: self.instance.clone(), component: D::COMPONENT, namespace, on_delete };
        if !common.enabled {
            return Ok(Plan::Disabled(placement));
        }
        let Some((managed_settings, resolve_external)) = external else {
            return merge(placement).map(Plan::Enabled);
        };
        let mut conflicts = vec![("storageSize", common.storage_size.is_some()), ("config", common.config.is_some())];
        conflicts.extend(managed_settings);
        let conflicts: Vec<&str> = conflicts.into_iter().filter(|(_, set)| *set).map(|(n, _)| n).collect();
        if !conflicts.is_empty() {
            return Err(ModelError::invalid(
                format!("spec.{key}.external"),
                format!(
                    "cannot be combined with the managed settings {}: an external component is not run by the operator",
                    conflicts.join(", ")
                ),
            ));
        }
        resolve_external(placement).map(|c| Plan::External(Box::new(c)))
    }
}
