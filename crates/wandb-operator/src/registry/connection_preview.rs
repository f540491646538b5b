//! The connection Secret a managed component will have, worked out without a cluster: its
//! vendor's status from the generated Secrets as they will exist (keys, no values). What
//! `render` prints and what the change plan compares.

use crate::model::{ComponentDescriptor, Placed};
use crate::vendors::connection_secret::{self, ConnectionSecret};
use crate::vendors::{Desired, Observed, VendorError};

use super::VendorOf;

/// The connection Secret of managed component `D` for `config`, whose objects are `desired`.
pub fn managed_connection<D: ComponentDescriptor>(
    vendor: &VendorOf<D>,
    config: &D::Config,
    desired: &Desired,
) -> Result<Option<ConnectionSecret>, VendorError> {
    // The status, and so the connection Secret's keys, name what comes from the generated
    // Secrets (MinIO's access key).
    let mut observed = Observed::default();
    for secret in &desired.secrets {
        let key = secret.key.to_string();
        let body = serde_json::to_value(secret.with_blank_values())
            .map_err(|source| VendorError::Serialize { key, source })?;
        observed.insert(secret.key.clone(), body);
    }
    let status = vendor.observe(config, &observed, false);
    Ok(connection_secret::managed(
        config.placement(),
        &status,
        vendor.connection_extras(config),
        vendor.connection_sources(config),
        vendor.cluster_ca_key(config),
    ))
}
