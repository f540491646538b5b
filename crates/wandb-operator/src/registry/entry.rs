//! One component behind a trait object: what code that loops over every component needs
//! without its types (kinds, claims, placement, status slot).

use std::marker::PhantomData;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::core::ApiResource;

use super::visitor::VendorOf;
use crate::api::{ComponentStatus, State, StatusDetail, WeightsAndBiases, WeightsAndBiasesStatus};
use crate::model::{Component, ComponentDescriptor, ModelError, Placement, Resolution, placement_for_deletion};
use crate::vendors::{BackupRecords, ClaimMatcher, Rule};

/// One component and its vendor, erased.
pub trait ComponentEntry: Send + Sync {
    /// Which component.
    fn component(&self) -> Component;
    /// The kinds the vendor writes.
    fn kinds(&self) -> Vec<ApiResource>;
    /// The kinds the vendor makes on its own that status reads.
    fn record_kinds(&self) -> Vec<ApiResource>;
    /// The vendor's RBAC rows.
    fn access_rules(&self) -> &'static [Rule];
    /// Every image the vendor's objects can name by default.
    fn default_images(&self, edition: crate::model::Edition) -> Vec<String>;
    /// Where the vendor's CRDs name its release.
    fn release_source(&self) -> Option<crate::vendors::ReleaseSource>;
    /// The component's data claims.
    fn data_claims(&self, placement: &Placement) -> ClaimMatcher;
    /// Secrets the vendor makes for the component, by name.
    fn vendor_secrets(&self, placement: &Placement) -> Vec<String>;
    /// The vendor's backup records, when it takes backups of this component.
    fn backup_records(&self) -> Option<&'static dyn BackupRecords>;
    /// The vendor's own pause for objects of `kind`.
    fn pause_marker(&self, kind: &str) -> Option<serde_json::Value>;
    /// Where the component lives, even when its spec is invalid (deletion).
    fn placement_for_deletion(&self, wandb: &WeightsAndBiases) -> Result<Placement, ModelError>;
    /// The component's spec error, if any.
    fn spec_error(&self, resolution: &Resolution) -> Option<ModelError>;
    /// The component's details in `status`.
    fn details<'a>(&self, status: &'a WeightsAndBiasesStatus) -> &'a [StatusDetail];
    /// Whether the component is ready, and its state (`Unknown` without a status).
    fn readiness(&self, status: &WeightsAndBiasesStatus) -> (bool, State);
    /// Replaces the component's status with one in `state` with `details`.
    fn set_status(&self, status: &mut WeightsAndBiasesStatus, state: State, details: Vec<StatusDetail>);
    /// Marks the component not ready in `state` with `details`, keeping what else it reports.
    fn mark_status(&self, status: &mut WeightsAndBiasesStatus, state: State, details: Vec<StatusDetail>);
    /// Keeps `lastReconciled` from `previous` unless the component's status changed.
    fn stamp(&self, next: &mut WeightsAndBiasesStatus, previous: &WeightsAndBiasesStatus, now: &Time);
}

/// Component `D` with its vendor.
pub(super) struct Entry<D: ComponentDescriptor> {
    vendor: &'static VendorOf<D>,
    component: PhantomData<D>,
}

impl<D: ComponentDescriptor> Entry<D> {
    pub(super) fn new(vendor: &'static VendorOf<D>) -> Self {
        Entry { vendor, component: PhantomData }
    }
}

impl<D: ComponentDescriptor> ComponentEntry for Entry<D> {
    fn component(&self) -> Component {
        D::COMPONENT
    }

    fn kinds(&self) -> Vec<ApiResource> {
        self.vendor.kinds()
    }

    fn record_kinds(&self) -> Vec<ApiResource> {
        self.vendor.record_kinds()
    }

    fn access_rules(&self) -> &'static [Rule] {
        self.vendor.access_rules()
    }

    fn default_images(&self, edition: crate::model::Edition) -> Vec<String> {
        self.vendor.default_images(edition)
    }

    fn release_source(&self) -> Option<crate::vendors::ReleaseSource> {
        self.vendor.release_source()
    }

    fn data_claims(&self, placement: &Placement) -> ClaimMatcher {
        self.vendor.data_claims(placement)
    }

    fn vendor_secrets(&self, placement: &Placement) -> Vec<String> {
        self.vendor.vendor_secrets(placement)
    }

    fn backup_records(&self) -> Option<&'static dyn BackupRecords> {
        self.vendor.backups().map(|b| b as &dyn BackupRecords)
    }

    fn pause_marker(&self, kind: &str) -> Option<serde_json::Value> {
        self.vendor.pause_marker(kind)
    }

    fn placement_for_deletion(&self, wandb: &WeightsAndBiases) -> Result<Placement, ModelError> {
        placement_for_deletion::<D>(wandb)
    }

    fn spec_error(&self, resolution: &Resolution) -> Option<ModelError> {
        resolution.plan::<D>().err()
    }

    fn details<'a>(&self, status: &'a WeightsAndBiasesStatus) -> &'a [StatusDetail] {
        D::status(status).map_or(&[], |s| s.details.as_slice())
    }

    fn readiness(&self, status: &WeightsAndBiasesStatus) -> (bool, State) {
        D::status(status).map_or((false, State::Unknown), |s| (s.ready, s.state))
    }

    fn set_status(&self, status: &mut WeightsAndBiasesStatus, state: State, details: Vec<StatusDetail>) {
        *D::status_mut(status) = Some(ComponentStatus { ready: false, state, details, ..ComponentStatus::default() });
    }

    fn mark_status(&self, status: &mut WeightsAndBiasesStatus, state: State, details: Vec<StatusDetail>) {
        let slot = D::status_mut(status).get_or_insert_with(ComponentStatus::default);
        slot.ready = false;
        slot.state = state;
        slot.details = details;
    }

    fn stamp(&self, next: &mut WeightsAndBiasesStatus, previous: &WeightsAndBiasesStatus, now: &Time) {
        let previous = D::status(previous);
        let Some(next) = D::status_mut(next) else { return };
        let unchanged = previous.is_some_and(|p| {
            let mut p = p.clone();
            p.last_reconciled = None;
            let mut n = next.clone();
            n.last_reconciled = None;
            p == n
        });
        next.last_reconciled = match (unchanged, previous) {
            (true, Some(p)) => p.last_reconciled.clone(),
            _ => Some(now.clone()),
        };
    }
}
