//! The `WeightsAndBiases` CRD as the API server gets it, and the constants around it.

use super::spec::WeightsAndBiases;

/// The API group of the `WeightsAndBiases` resource.
pub const GROUP: &str = "apps.wandb.com";
/// The finalizer the operator keeps on every `WeightsAndBiases` it manages.
pub const FINALIZER: &str = "apps.wandb.com/cleanup";
/// The annotation that pauses the operator's writes for the whole resource (`"true"`) or for
/// the components it lists (`"mysql,kafka"`); see `docs/operations.md`, "Pause".
pub const PAUSE_ANNOTATION: &str = "apps.wandb.com/pause";
/// Finalizers left by older operator builds; removed so that deletion never hangs on them.
pub const LEGACY_FINALIZERS: [&str; 4] =
    ["db.app.wandb.com", "kafka.app.wandb.com", "minio.app.wandb.com", "clickhouse.app.wandb.com"];

/// The longest `metadata.name` a `WeightsAndBiases` may have: derived names such as
/// `<name>-mysql` must fit the vendors' limits.
pub const MAX_NAME_LENGTH: u64 = 16;

/// The `WeightsAndBiases` CRD as the API server gets it: the derived schema plus a root
/// `metadata.name` restriction (`maxLength`, the one kind of metadata rule a CRD may carry), so
/// the CEL rule on the name can point its error at `.metadata.name` (a real API server accepts a
/// `fieldPath` only when the schema declares that path).
pub fn crd() -> k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
    use kube::CustomResourceExt;
    let mut crd = WeightsAndBiases::crd();
    for version in &mut crd.spec.versions {
        let Some(root) = version.schema.as_mut().and_then(|s| s.open_api_v3_schema.as_mut()) else { continue };
        let name = JSONSchemaProps {
            type_: Some("string".to_owned()),
            max_length: Some(MAX_NAME_LENGTH as i64),
            ..Default::default()
        };
        let metadata = JSONSchemaProps {
            type_: Some("object".to_owned()),
            properties: Some([("name".to_owned(), name)].into()),
            ..Default::default()
        };
        root.properties.get_or_insert_with(Default::default).insert("metadata".to_owned(), metadata);
    }
    crd
}
