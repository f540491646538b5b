//! Repairs the one way our own labels could name the wrong component (issue 17): an operator
//! build before the fix labelled a source Secret it read with the *reading* component's labels
//! when the cache did not hold it yet, so MySQL's backups relabelled MinIO's generated
//! `<cr>-minio-config` as MySQL's. MinIO then reported `NotOwned` for its own Secret, and a
//! purge of MySQL alone would have deleted it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::EventType;
use serde_json::json;
use tracing::info;

use super::cache::is_ours;
use super::context::{Context, Progress};
use super::error::ReconcileError;
use crate::api::WeightsAndBiases;
use crate::model::{Component, Placement};
use crate::vendors::{LABEL_COMPONENT, MANAGER, ObjectKey, object_labels};

/// The other component of the same instance whose label a Secret we generate for `placement`
/// carries, if that is all that is wrong with it. Object names derive from the component
/// (`<cr>-<component>-…`), so a Secret one component generates is never another's: such a
/// label can only be the relabelling's.
pub(crate) fn mislabelled_as(
    key: &ObjectKey,
    labels: &BTreeMap<String, String>,
    placement: &Placement,
    components: &[Component],
) -> Option<Component> {
    if key.kind != "Secret" || !is_ours(labels, &placement.instance, None) {
        return None;
    }
    let label = labels.get(LABEL_COMPONENT)?;
    components.iter().copied().find(|c| c.key() == label && *c != placement.component)
}

/// Puts the component's labels back on its own Secret `key`, which carries `other`'s: its data
/// is untouched (no credential is generated again). A merge patch of the labels only, made
/// against the `resourceVersion` that was read.
pub(crate) async fn repair_label(
    ctx: &Context,
    wandb: &WeightsAndBiases,
    placement: &Placement,
    key: &ObjectKey,
    other: Component,
    resource_version: Option<String>,
    progress: &Progress,
) -> Result<(), ReconcileError> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &key.namespace);
    let patch = json!({"metadata": {"labels": object_labels(placement), "resourceVersion": resource_version}});
    let params = PatchParams { field_manager: Some(MANAGER.to_owned()), ..Default::default() };
    api.patch_metadata(&key.name, &params, &Patch::Merge(patch))
        .await
        .map_err(ReconcileError::api(format!("relabel {key}")))?;
    progress.record();
    info!(secret = %key, was = other.key(), "gave the component's Secret its own label back");
    let note = format!(
        "Secret {}/{} was labelled as {}'s by an earlier operator build; it is {}'s again, its data unchanged",
        key.namespace,
        key.name,
        other.key(),
        placement.component.key()
    );
    ctx.event(wandb, EventType::Normal, "Relabelled", note, Some(key)).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Instance;
    use crate::model::minio::MINIO;
    use crate::model::mysql::MYSQL;
    use crate::vendors::{LABEL_VENDOR_SECRET_OF, vendor_secret_labels};

    fn mislabelled_as(key: &ObjectKey, labels: &BTreeMap<String, String>, placement: &Placement) -> Option<Component> {
        super::mislabelled_as(key, labels, placement, &crate::registry::Registry::default().components())
    }

    fn placement(component: Component) -> Placement {
        let instance = Instance { name: "wandb".into(), namespace: "apps".into(), uid: None };
        Placement { instance, component, namespace: "apps".into(), on_delete: crate::api::OnDelete::Detach }
    }

    #[test]
    fn only_a_secret_of_the_same_instance_labelled_as_a_sibling_is_mislabelled() {
        let minio = placement(MINIO);
        let key = ObjectKey::new("v1", "Secret", "apps", "wandb-minio-config");
        let as_mysql = object_labels(&placement(MYSQL));
        assert_eq!(mislabelled_as(&key, &as_mysql, &minio), Some(MYSQL));
        // Its own label, another kind, another instance, a foreign or a vendor Secret: not a sibling's.
        assert_eq!(mislabelled_as(&key, &object_labels(&minio), &minio), None);
        let tenant = ObjectKey::new("minio.min.io/v2", "Tenant", "apps", "wandb-minio");
        assert_eq!(mislabelled_as(&tenant, &as_mysql, &minio), None);
        let mut other_instance = as_mysql.clone();
        other_instance.insert(crate::vendors::LABEL_INSTANCE.into(), "other".into());
        assert_eq!(mislabelled_as(&key, &other_instance, &minio), None);
        assert_eq!(mislabelled_as(&key, &BTreeMap::new(), &minio), None);
        let vendor = vendor_secret_labels(&placement(MYSQL));
        assert_eq!(vendor.get(LABEL_VENDOR_SECRET_OF).map(String::as_str), Some("mysql"));
        assert_eq!(mislabelled_as(&key, &vendor, &minio), None);
    }
}
