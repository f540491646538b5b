//! The settings every component shares, merged and validated: storage, image override,
//! resources (user keys over the profile's), replica ranges and namespaces.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

use super::component::Component;
use super::error::ModelError;
use super::quantity::Quantity;
use crate::api::ComponentCommon;

/// Requests and limits as `(resource, quantity)` pairs; empty means "not set".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceProfile {
    /// Requests, e.g. `[("cpu", "500m"), ("memory", "1Gi")]`.
    pub requests: &'static [(&'static str, &'static str)],
    /// Limits.
    pub limits: &'static [(&'static str, &'static str)],
}

impl ResourceProfile {
    /// Nothing set.
    pub const NONE: ResourceProfile = ResourceProfile { requests: &[], limits: &[] };
    /// 500m/1Gi requested, 1 CPU/2Gi limit: the `small` default.
    pub const SMALL: ResourceProfile =
        ResourceProfile::new(&[("cpu", "500m"), ("memory", "1Gi")], &[("cpu", "1000m"), ("memory", "2Gi")]);
    /// 8 CPUs and 30Gi, requested and limit.
    pub const LARGE_30: ResourceProfile =
        ResourceProfile::new(&[("cpu", "8"), ("memory", "30Gi")], &[("cpu", "8"), ("memory", "30Gi")]);
    /// 8 CPUs and 32Gi, requested and limit.
    pub const LARGE_32: ResourceProfile =
        ResourceProfile::new(&[("cpu", "8"), ("memory", "32Gi")], &[("cpu", "8"), ("memory", "32Gi")]);

    /// Requests and limits.
    pub const fn new(
        requests: &'static [(&'static str, &'static str)],
        limits: &'static [(&'static str, &'static str)],
    ) -> Self {
        ResourceProfile { requests, limits }
    }
}

/// Requests and limits after merging the user's keys over the profile's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resources {
    /// Requests by resource name.
    pub requests: BTreeMap<String, Quantity>,
    /// Limits by resource name.
    pub limits: BTreeMap<String, Quantity>,
}

impl Resources {
    /// As Kubernetes `ResourceRequirements`, or `None` when nothing is set.
    pub fn to_requirements(&self) -> Option<ResourceRequirements> {
        if self.requests.is_empty() && self.limits.is_empty() {
            return None;
        }
        let map = |m: &BTreeMap<String, Quantity>| {
            (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), K8sQuantity(v.as_str().to_owned()))).collect())
        };
        Some(ResourceRequirements { requests: map(&self.requests), limits: map(&self.limits), ..Default::default() })
    }
}

/// Whether `value` is a DNS-1123 label (what a namespace name must be).
pub(crate) fn validate_dns_label(value: &str) -> Result<(), String> {
    let bytes = value.as_bytes();
    let valid_chars = bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    let alnum = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if value.is_empty() || value.len() > 63 || !valid_chars || !alnum(bytes.first()) || !alnum(bytes.last()) {
        return Err(format!(
            "{value:?} is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending alphanumeric, at most 63 characters)"
        ));
    }
    Ok(())
}

/// Whether `value` is a DNS-1123 subdomain (what a Secret name must be).
pub(crate) fn validate_dns_subdomain(value: &str) -> Result<(), String> {
    let bytes = value.as_bytes();
    let valid_chars = bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'.');
    let alnum = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if value.is_empty() || value.len() > 253 || !valid_chars || !alnum(bytes.first()) || !alnum(bytes.last()) {
        return Err(format!("{value:?} is not a DNS-1123 subdomain"));
    }
    Ok(())
}

/// The user's storage size, or the profile's; must parse and be greater than zero.
pub fn storage(common: &ComponentCommon, default: &str, component: Component) -> Result<Quantity, ModelError> {
    let field = format!("spec.{}.storageSize", component.key());
    let text = common.storage_size.as_deref().unwrap_or(default);
    let quantity = Quantity::parse(text).map_err(|e| ModelError::invalid(&field, e.to_string()))?;
    if quantity.is_zero() {
        return Err(ModelError::invalid(field, "must be greater than zero"));
    }
    Ok(quantity)
}

/// The user's image override (`config.image`), if any; the vendor picks the image otherwise.
pub fn image_override(common: &ComponentCommon, component: Component) -> Result<Option<String>, ModelError> {
    match common.config.as_ref().and_then(|c| c.image.as_deref()) {
        Some(image) if image.trim().is_empty() || image.chars().any(char::is_whitespace) => Err(ModelError::invalid(
            format!("spec.{}.config.image", component.key()),
            "must be a non-empty image reference without spaces",
        )),
        Some(image) => Ok(Some(image.to_owned())),
        None => Ok(None),
    }
}

/// Merges user resources over the profile key by key (user keys win) and validates the result.
pub fn resources(
    user: Option<&ResourceRequirements>,
    default: &ResourceProfile,
    field: &str,
) -> Result<Resources, ModelError> {
    let seed = |pairs: &[(&str, &str)]| -> Result<BTreeMap<String, Quantity>, ModelError> {
        pairs
            .iter()
            .map(|(k, v)| Quantity::parse(v).map(|q| ((*k).to_owned(), q)))
            .collect::<Result<_, _>>()
            .map_err(|e| ModelError::invalid(field, format!("profile value invalid: {e}")))
    };
    let mut merged = Resources { requests: seed(default.requests)?, limits: seed(default.limits)? };
    if let Some(user) = user {
        if user.claims.as_ref().is_some_and(|c| !c.is_empty()) {
            return Err(ModelError::invalid(format!("{field}.claims"), "resource claims are not supported here"));
        }
        for (kind, user_map, target) in
            [("requests", &user.requests, &mut merged.requests), ("limits", &user.limits, &mut merged.limits)]
        {
            for (key, value) in user_map.iter().flatten() {
                let q = Quantity::parse(&value.0)
                    .map_err(|e| ModelError::invalid(format!("{field}.{kind}.{key}"), e.to_string()))?;
                target.insert(key.clone(), q);
            }
        }
    }
    for (key, request) in &merged.requests {
        if let Some(limit) = merged.limits.get(key)
            && request > limit
        {
            return Err(ModelError::invalid(
                format!("{field}.requests.{key}"),
                format!("request {request} is greater than the limit {limit} (after merging over the size profile)"),
            ));
        }
    }
    Ok(merged)
}

/// The user's resources (`config.resources`), if any.
pub fn user_resources(common: &ComponentCommon) -> Option<&ResourceRequirements> {
    common.config.as_ref().and_then(|c| c.resources.as_ref())
}

/// The user's replica count, or the profile's, within `min..=max`.
pub fn replicas(user: Option<i32>, default: i32, min: i32, max: i32, field: &str) -> Result<i32, ModelError> {
    let value = user.unwrap_or(default);
    if !(min..=max).contains(&value) {
        return Err(ModelError::invalid(field, format!("{value} is out of range {min}..={max}")));
    }
    Ok(value)
}
