//! The seam between the model and a vendor operator: [`Vendor`], implemented by each vendor
//! for the config of the component it runs, and the backups seam of a vendor that takes them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::access_rule::Rule;
use super::connection_secret::ConnectionSecret;
use super::objects::{ClaimMatcher, Desired, DesiredObject, Observed, VendorError};
use super::release::{Release, ReleaseSource};
use crate::api::{BackupRequestStatus, BackupStatus, ComponentStatus, SecretKeyReference, StatusDetail};
use crate::model::Placement;
use crate::model::mysql_backup::{BackupConfig, RestoreConfig};

/// One component's vendor: the seam between the model and a vendor operator.
pub trait Vendor: Send + Sync {
    /// The validated config this vendor consumes.
    type Config;
    /// The connection keys this vendor reports.
    type Connection;

    /// The vendor operator's name, for messages.
    fn name(&self) -> &'static str;

    /// The objects to create or converge for `config`.
    fn desired(&self, config: &Self::Config) -> Result<Desired, VendorError>;

    /// The kinds this vendor writes (for caches, watches and CRD checks).
    fn kinds(&self) -> Vec<kube::core::ApiResource>;

    /// Kinds the vendor makes on its own, without our labels, that status reads (Percona's
    /// scheduled backups). They are watched without a label selector, and retention never
    /// deletes them: they describe data outside the cluster.
    fn record_kinds(&self) -> Vec<kube::core::ApiResource> {
        Vec::new()
    }

    /// The component's data claims, found by the vendor's naming and labels.
    fn data_claims(&self, placement: &crate::model::Placement) -> ClaimMatcher;

    /// The claims whose size the storage size sets (the status reports their capacity, a
    /// growth checks their StorageClasses): the data claims unless some of them are sized
    /// otherwise (Altinity's Keeper).
    fn storage_claims(&self, placement: &crate::model::Placement) -> ClaimMatcher {
        self.data_claims(placement)
    }

    /// Secrets the vendor makes for the component, by name (a purge deletes them).
    fn vendor_secrets(&self, _placement: &crate::model::Placement) -> Vec<String> {
        Vec::new()
    }

    /// Plain keys the connection Secret holds beyond the status connection keys (e.g. the user
    /// name), for a managed component.
    fn connection_extras(&self, _config: &Self::Config) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// The engine version the objects for `config` ask for (an image tag, or the vendor's
    /// version field): what status reports until the vendor reports what runs.
    fn applied_version(&self, config: &Self::Config) -> Option<String>;

    /// Keys the connection Secret copies from the vendor's Secrets beyond the password (e.g.
    /// the CA clients trust), for a managed component.
    fn connection_sources(&self, _config: &Self::Config) -> Vec<(String, SecretKeyReference)> {
        Vec::new()
    }

    /// The connection Secret's key for the cluster's root CA (ConfigMap `kube-root-ca.crt`),
    /// where the vendor's certificates are signed through the Kubernetes CSR API and clients
    /// must trust that CA (MinIO's auto-cert); `None` otherwise.
    fn cluster_ca_key(&self, _config: &Self::Config) -> Option<&'static str> {
        None
    }

    /// Reads the vendor's status into the component status. `previously_ready` tells whether
    /// the component was `Ready` before, so that a loss of capacity reads as `Degraded`.
    fn observe(
        &self,
        config: &Self::Config,
        observed: &Observed,
        previously_ready: bool,
    ) -> ComponentStatus<Self::Connection>;

    /// Where this vendor's CRDs name the release of the vendor operator, if they do.
    fn release_source(&self) -> Option<ReleaseSource> {
        None
    }

    /// Fits `desired` (built for `config`) to the installed release of the vendor operator
    /// (`None`: not known, the newest we support is assumed), or says which release `config`
    /// needs (`VendorVersionUnsupported`).
    fn fit_release(
        &self,
        _config: &Self::Config,
        _desired: &mut Desired,
        _installed: Option<Release>,
    ) -> Result<(), String> {
        Ok(())
    }

    /// The permissions the operator needs on this vendor's kinds (RBAC rows).
    fn access_rules(&self) -> &'static [Rule];

    /// Every image this vendor's objects can name by default in `edition`, for any size (what
    /// to mirror into an air-gapped registry). Images the vendor operator picks itself are not listed.
    fn default_images(&self, edition: crate::model::Edition) -> Vec<String>;

    /// The vendor's own pause for objects of `kind`: the fragment that, merged into such an
    /// object, stops the vendor operator from reconciling it while it keeps the component
    /// running; `None` where the vendor has none (a pause that stops the component is not one).
    fn pause_marker(&self, _kind: &str) -> Option<Value> {
        None
    }

    /// Whether the vendor operator grows the component's volumes when its storage size grows
    /// (given a StorageClass that allows expansion); `Err` says why it cannot and what to do.
    fn storage_growth(&self) -> Result<(), &'static str> {
        Ok(())
    }

    /// The fragment that turns the vendor's own volume expansion on for objects of `kind`, in
    /// the `installed` release (`None`: the newest we support); merged from the first storage
    /// increase on and kept. `None` where the vendor grows volumes without being told.
    fn expansion_marker(&self, _kind: &str, _installed: Option<Release>) -> Option<Value> {
        None
    }

    /// Whether the vendor has finished acting on `live`'s current spec (ready at its
    /// generation, and running what it names): an upgrade step waits for it before the next
    /// step is applied. `None` where the vendor's status of that kind says nothing usable (the
    /// step then counts as done once applied).
    fn settled(&self, _live: &Value) -> Option<bool> {
        None
    }

    /// Recomputes what the vendor's objects derive from the rest of their spec (Altinity's
    /// `taskID`) after the reconcile changed a body (an upgrade step held back).
    fn rederive(&self, _desired: &mut Desired) {}

    /// The config with which the component's new objects run beside objects of its previous
    /// topology that still exist (`exists` answers from the caches), when the vendor makes
    /// such a move (Redis: a standalone grown into a replication + sentinel pair); `None`:
    /// `config` as it is.
    fn successor(&self, _config: &Self::Config, _exists: &dyn Fn(&super::ObjectKey) -> bool) -> Option<Self::Config> {
        None
    }

    /// What a change of the component from `before` to `after` leaves for the user to do that
    /// its objects do not show (the change plan's notes).
    fn change_notes(&self, _before: &Self::Config, _after: &Self::Config) -> Vec<String> {
        Vec::new()
    }

    /// The vendor's backups of this component, when it takes them.
    fn backups(&self) -> Option<&dyn BackupVendor<Config = Self::Config>> {
        None
    }
}

/// The objects `vendor` wants for `config`, each marked with the config's edition of defaults:
/// what both `render` and the reconciler apply.
pub fn desired_with_edition<V>(vendor: &V, config: &V::Config) -> Result<Desired, VendorError>
where
    V: Vendor + ?Sized,
    V::Config: crate::model::Placed,
{
    let mut desired = vendor.desired(config)?;
    super::meta::stamp_edition(&mut desired, crate::model::Placed::edition(config));
    Ok(desired)
}

/// A component's backup settings, as the backups step reads them.
#[derive(Debug, Clone, Copy)]
pub struct BackupSettings<'a> {
    /// Where the component lives.
    pub placement: &'a Placement,
    /// Scheduled backups, when on.
    pub backup: Option<&'a BackupConfig>,
    /// Why backups are off although the size turns them on.
    pub off_reason: Option<&'a str>,
    /// A restore asked for.
    pub restore: Option<&'a RestoreConfig>,
}

/// The backup records a vendor keeps beside a cluster: what a purge must keep out of harm.
pub trait BackupRecords: Send + Sync {
    /// The kind of one backup.
    fn backup_kind(&self) -> kube::core::ApiResource;
    /// The kind of the cluster a backup record belongs to.
    fn cluster_kind(&self) -> kube::core::ApiResource;
    /// The name of the cluster a backup record belongs to (same namespace).
    fn cluster_of(&self, record: &Value) -> Option<String>;
    /// Finalizers with which the vendor deletes a backup's data along with its record.
    fn data_deleting_finalizers(&self) -> &'static [&'static str];
}

/// Backups and restores of a component: the seam to the vendor that takes them.
pub trait BackupVendor: BackupRecords {
    /// The config of the component backed up.
    type Config;
    /// The backup settings in `config`.
    fn settings<'a>(&self, config: &'a Self::Config) -> BackupSettings<'a>;
    /// The kind of one restore.
    fn restore_kind(&self) -> kube::core::ApiResource;
    /// The credentials Secret the vendor reads for the backup storage, copied from the
    /// storage's own Secret; `None` without backups or credentials.
    fn credentials_secret(&self, config: &Self::Config) -> Option<ConnectionSecret>;
    /// The on-demand backup for a request.
    fn on_demand(&self, config: &Self::Config, request: &str) -> Result<DesiredObject, VendorError>;
    /// The restore asked for in `config`, if any; `Err` says why it cannot be built.
    fn restore(&self, config: &Self::Config) -> Result<Option<DesiredObject>, String>;
    /// The cluster's backup records read into status, with the details they imply.
    fn summarize(
        &self,
        config: &Self::Config,
        records: &[Value],
        previous: Option<&BackupStatus>,
        now: jiff::Timestamp,
    ) -> (BackupStatus, Vec<StatusDetail>);
    /// A one-off object's state.
    fn request_state(&self, request: &str, name: &str, object: Option<&Value>) -> BackupRequestStatus;
}
