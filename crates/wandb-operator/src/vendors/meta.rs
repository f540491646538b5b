//! Names, labels and owner data every object we create carries (PRODUCT §5).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::model::Placement;

/// Field manager used for every server-side apply.
pub const MANAGER: &str = "wandb-operator";
/// `app.kubernetes.io/managed-by`.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// `app.kubernetes.io/part-of`.
pub const LABEL_PART_OF: &str = "app.kubernetes.io/part-of";
/// The owning `WeightsAndBiases`'s name.
pub const LABEL_INSTANCE: &str = "weightsandbiases.apps.wandb.com/name";
/// The owning `WeightsAndBiases`'s namespace.
pub const LABEL_INSTANCE_NAMESPACE: &str = "weightsandbiases.apps.wandb.com/namespace";
/// The component (`mysql`, `redis`, ...).
pub const LABEL_COMPONENT: &str = "weightsandbiases.apps.wandb.com/component";
/// On a Secret a vendor made (Percona's `<name>-secrets`), the component whose vendor made it.
/// Such a Secret is labelled so that it is cached and watched, but never with
/// [`LABEL_COMPONENT`]: it is not one of our generated Secrets, and no ownership check may take
/// it for one.
pub const LABEL_VENDOR_SECRET_OF: &str = "weightsandbiases.apps.wandb.com/vendor-secret-of";

/// The edition of defaults an object was written with (absent on objects of the 2025 edition,
/// which predate it): how a new operator release knows to keep what an existing install runs.
pub const ANNOTATION_EDITION: &str = "apps.wandb.com/defaults-edition";

/// Marks every desired object with `edition` (objects of an edition that predates the
/// annotation are left as they were written).
pub fn stamp_edition(desired: &mut super::objects::Desired, edition: crate::model::Edition) {
    if !edition.annotated() {
        return;
    }
    for object in &mut desired.objects {
        if let Some(metadata) = object.body.get_mut("metadata").and_then(serde_json::Value::as_object_mut) {
            let annotations = metadata.entry("annotations").or_insert_with(|| serde_json::json!({}));
            if let Some(annotations) = annotations.as_object_mut() {
                annotations.insert(ANNOTATION_EDITION.to_owned(), edition.as_str().into());
            }
        }
    }
}

/// The edition an existing object was written with, from its annotation.
pub fn edition_of(object: &serde_json::Value) -> Result<crate::model::Edition, String> {
    let value = object.pointer("/metadata/annotations").and_then(|a| a.get(ANNOTATION_EDITION));
    crate::model::Edition::from_annotation(value.and_then(serde_json::Value::as_str))
}

/// The labels that mark an object as ours.
pub fn labels(placement: &Placement) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_MANAGED_BY.to_owned(), MANAGER.to_owned()),
        (LABEL_PART_OF.to_owned(), "wandb".to_owned()),
        (LABEL_INSTANCE.to_owned(), placement.instance.name.clone()),
        (LABEL_INSTANCE_NAMESPACE.to_owned(), placement.instance.namespace.clone()),
        (LABEL_COMPONENT.to_owned(), placement.component.key().to_owned()),
    ])
}

/// The labels we put on a Secret the component's vendor made: ours for the instance (so that
/// it is cached, watched and purged with the component), without a component label.
pub fn vendor_secret_labels(placement: &Placement) -> BTreeMap<String, String> {
    let mut labels = labels(placement);
    labels.remove(LABEL_COMPONENT);
    labels.insert(LABEL_VENDOR_SECRET_OF.to_owned(), placement.component.key().to_owned());
    labels
}

/// The controller owner reference, when the object shares the instance's namespace and the
/// instance has a UID (it has none when rendering a manifest that was never applied).
pub fn owner_references(placement: &Placement) -> Option<Vec<OwnerReference>> {
    let uid = placement.instance.uid.as_ref()?;
    placement.same_namespace().then(|| {
        vec![OwnerReference {
            api_version: "apps.wandb.com/v2".to_owned(),
            kind: "WeightsAndBiases".to_owned(),
            name: placement.instance.name.clone(),
            uid: uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]
    })
}

/// Metadata for an object named `name` in the component's namespace.
pub fn object_meta(placement: &Placement, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(placement.namespace.clone()),
        labels: Some(labels(placement)),
        owner_references: owner_references(placement),
        ..Default::default()
    }
}

/// The image pull Secrets of `images` as pod references; `None` without any.
pub fn pull_secrets(
    images: &crate::model::ImageSource,
) -> Option<Vec<k8s_openapi::api::core::v1::LocalObjectReference>> {
    (!images.pull_secrets.is_empty()).then(|| {
        images
            .pull_secrets
            .iter()
            .map(|name| k8s_openapi::api::core::v1::LocalObjectReference { name: name.clone() })
            .collect()
    })
}

/// A ReadWriteOnce claim spec requesting `storage`.
pub fn rwo_claim_spec(storage: &str) -> k8s_openapi::api::core::v1::PersistentVolumeClaimSpec {
    use k8s_openapi::api::core::v1::{PersistentVolumeClaimSpec, VolumeResourceRequirements};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    PersistentVolumeClaimSpec {
        access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
        resources: Some(VolumeResourceRequirements {
            requests: Some([("storage".to_owned(), Quantity(storage.to_owned()))].into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An embedded claim template (`metadata.name` + `spec`), as vendor CRDs take it; unlike
/// `PersistentVolumeClaim` it carries no `apiVersion`/`kind`.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug, Default, PartialEq)]
pub struct ClaimTemplate {
    /// Its name (vendors use it as a PVC name prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ClaimTemplateMeta>,
    /// The claim.
    pub spec: k8s_openapi::api::core::v1::PersistentVolumeClaimSpec,
}

/// `metadata` of a [`ClaimTemplate`].
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Clone, Debug, Default, PartialEq)]
pub struct ClaimTemplateMeta {
    /// Name.
    pub name: String,
}

/// The tag of an image reference (`repo/name:tag` → `tag`), without a leading `v`: the version
/// a component runs when its vendor does not report one.
pub(crate) fn image_version(image: &str) -> Option<String> {
    image_tag(image)
}

/// The version a version field's value names (`VersionField`): an image's tag, or the value
/// itself.
pub fn version_of(value: &str) -> String {
    image_tag(value).unwrap_or_else(|| value.to_owned())
}

fn image_tag(image: &str) -> Option<String> {
    let name = image.rsplit('/').next().unwrap_or(image);
    let tag = name.split('@').next().unwrap_or(name).rsplit_once(':')?.1;
    Some(tag.strip_prefix('v').unwrap_or(tag).to_owned()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod image_version_tests {
    use super::image_version;

    #[test]
    fn the_tag_is_the_version() {
        assert_eq!(image_version("quay.io/opstree/redis:v7.0.15").as_deref(), Some("7.0.15"));
        assert_eq!(image_version("percona/percona-xtradb-cluster:8.0").as_deref(), Some("8.0"));
        assert_eq!(image_version("registry:5000/clickhouse/clickhouse-server:25.8").as_deref(), Some("25.8"));
        assert_eq!(image_version("registry:5000/redis"), None);
    }
}
